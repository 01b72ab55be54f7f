/*
 * Small codecs shared by every layer: SHA-256 in hex, RFC 3986 percent
 * encoding, hex digits, fixed-width decimal fields, the date formats AWS and
 * cameras speak (RFC 3339 / ISO 8601 timestamps, RFC 7231 HTTP dates) and a
 * jitter generator for retry backoff. Pure: no I/O, no clock, no globals, so
 * any thread may call them and the tests and fuzzers drive them directly.
 * It depends on util.h and OpenSSL only, so the AWS client, the image
 * pipeline and the daemon can all use it.
 */
#ifndef PHOTOFINISH_CODEC_H
#define PHOTOFINISH_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pf_buf;

/* Lower-case hex SHA-256 of len bytes at data (NULL with len 0 is the
 * empty string). */
void pf_codec_sha256_hex(const void *data, size_t len, char out[65]);

/* RFC 3986 percent-encoding as SigV4 and S3 keys need it: unreserved
 * characters (A-Z a-z 0-9 - _ . ~) kept, every other byte as %XX upper
 * case; '/' kept when keep_slash. Appends to b. */
void pf_codec_uri_encode_append(struct pf_buf *b, const char *s, size_t len, bool keep_slash);
/* The same into a fresh NUL-terminated string (caller frees). */
char *pf_codec_uri_encode(const char *s, size_t len, bool keep_slash);

/* n bytes as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
void pf_codec_hex_encode(const unsigned char *in, size_t n, char *out);

/* base64url without padding (RFC 4648 section 5) of n bytes: a new string. */
char *pf_codec_base64url(const unsigned char *in, size_t n);
/* Its inverse into out (at most cap bytes): the length, or -1 when in
 * (NULL-safe) is empty, not base64url or longer than cap bytes decoded. */
int pf_codec_base64url_decode(const char *in, unsigned char *out, size_t cap);

/* The value of one hex digit (either case), or -1 when c is not one. */
int pf_codec_hex_digit(int c);

/* Length (1..4) of the well-formed UTF-8 sequence at s, reading at most
 * avail bytes, with its code point in *cp; 0 for an invalid, overlong,
 * surrogate or truncated sequence. */
size_t pf_codec_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);

/* Exactly n ASCII digits at s as a decimal number (n <= 9); false when any
 * of them is not a digit. Reads s[0..n-1] only. */
bool pf_codec_digits(const char *s, int n, int *out);

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
int64_t pf_codec_days_from_civil(int64_t y, int m, int d);
/* 28..31; m in 1..12. */
int pf_codec_days_in_month(int y, int m);

/* RFC 3339 / ISO 8601 timestamp "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)"
 * (T may be t or a space, Z may be z) of exactly len bytes into seconds
 * since the epoch. The fraction is dropped; a leap second lands on the
 * next second. */
bool pf_codec_parse_rfc3339(const char *s, size_t len, int64_t *out);

/* RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", the whole
 * NUL-terminated string) into seconds since the epoch. */
bool pf_codec_parse_http_date(const char *s, int64_t *out);

/* xorshift64* numbers for retry jitter: enough to decorrelate clients,
 * not for anything secret. Not shared between threads. */
struct pf_codec_jitter {
	uint64_t state;
};
/* Any seed; 0 is replaced by a fixed non-zero constant. */
void pf_codec_jitter_init(struct pf_codec_jitter *j, uint64_t seed);
/* The next number in [0, 1). */
double pf_codec_jitter_next(struct pf_codec_jitter *j);

#endif
