/*
 * Small allocation and buffer helpers. Small allocations that fail abort: a
 * daemon that cannot allocate a few bytes cannot do anything useful. Sizes an
 * outsider controls are checked by callers before they get here.
 * Safe on any thread.
 */
#ifndef PHOTOFINISH_UTIL_H
#define PHOTOFINISH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *pf_xmalloc(size_t n);
void *pf_xcalloc(size_t count, size_t size);
void *pf_xrealloc(void *p, size_t n);
char *pf_xstrdup(const char *s);
/* At most n bytes of s (stopping at a NUL), NUL-terminated. */
char *pf_xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string. */
char *pf_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies at most n bytes of src into dst, truncated to size - 1 bytes and
 * NUL-terminated (size > 0; src may be NULL when n is 0). */
void pf_copy_truncated(char *dst, size_t size, const char *src, size_t n);

/* A growable byte buffer; data is always NUL-terminated for convenience. */
struct pf_buf {
	char *data;
	size_t len;
	size_t cap;
};

void pf_buf_init(struct pf_buf *b);
void pf_buf_free(struct pf_buf *b);
void pf_buf_reserve(struct pf_buf *b, size_t extra);
void pf_buf_append(struct pf_buf *b, const void *data, size_t n);
void pf_buf_append_str(struct pf_buf *b, const char *s);
void pf_buf_appendf(struct pf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (who frees them) and resets b. */
char *pf_buf_steal(struct pf_buf *b, size_t *len);

/* Wall clock in milliseconds since the epoch and a monotonic clock in ms. */
int64_t pf_now_ms(void);
int64_t pf_monotonic_ms(void);

/* Formats ms since the epoch as RFC 3339 UTC with milliseconds into out (>= 25 bytes). */
void pf_format_rfc3339_ms(int64_t epoch_ms, char out[32]);

/* Strict decimal parse of the whole string into [min, max]. */
bool pf_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Strict parse of the whole string as a finite double in [min, max]. */
bool pf_parse_double(const char *s, double min, double max, double *out);

#endif
