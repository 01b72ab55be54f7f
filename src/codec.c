/*
 * Small shared codecs: hashing, percent-encoding, hex, dates, jitter. Pure;
 * any thread. Dates are parsed by hand rather than with strptime so the
 * result never depends on the process locale or time zone.
 */
#include "photofinish/codec.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "photofinish/util.h"

static const char hex_upper[] = "0123456789ABCDEF";
static const char hex_lower[] = "0123456789abcdef";

void pf_codec_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/* Only an allocation failure inside OpenSSL can make this fail; treat
	 * it as one. */
	if (!EVP_Digest(data ? data : "", len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		abort();
	pf_codec_hex_encode(md, 32, out);
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

void pf_codec_uri_encode_append(struct pf_buf *b, const char *s, size_t len, bool keep_slash)
{
	pf_buf_reserve(b, len * 3);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			pf_buf_append(b, &s[i], 1);
		} else {
			char enc[3] = {'%', hex_upper[c >> 4], hex_upper[c & 0xf]};

			pf_buf_append(b, enc, sizeof(enc));
		}
	}
}

char *pf_codec_uri_encode(const char *s, size_t len, bool keep_slash)
{
	struct pf_buf b;

	pf_buf_init(&b);
	pf_codec_uri_encode_append(&b, s, len, keep_slash);
	return pf_buf_steal(&b, NULL);
}

void pf_codec_hex_encode(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_lower[in[i] >> 4];
		out[2 * i + 1] = hex_lower[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int pf_codec_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool pf_codec_digits(const char *s, int n, int *out)
{
	int v = 0;

	if (n < 1 || n > 9)
		return false;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int64_t pf_codec_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int pf_codec_days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && leap ? 29 : dim[m - 1];
}

/* Seconds since the epoch of a validated civil date and time. */
static bool civil_to_epoch(int Y, int M, int D, int h, int m, int s, int64_t *out)
{
	if (M < 1 || M > 12 || D < 1 || D > pf_codec_days_in_month(Y, M) || h > 23 || m > 59 ||
	    s > 60)
		return false;
	*out = pf_codec_days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + s;
	return true;
}

bool pf_codec_parse_rfc3339(const char *s, size_t len, int64_t *out)
{
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	size_t i = 19;
	int64_t t;

	if (!s || len < 20)
		return false;
	if (!pf_codec_digits(s, 4, &Y) || s[4] != '-' || !pf_codec_digits(s + 5, 2, &M) ||
	    s[7] != '-' || !pf_codec_digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !pf_codec_digits(s + 11, 2, &h) ||
	    s[13] != ':' || !pf_codec_digits(s + 14, 2, &m) || s[16] != ':' ||
	    !pf_codec_digits(s + 17, 2, &sec))
		return false;
	if (!civil_to_epoch(Y, M, D, h, m, sec, &t))
		return false;
	if (s[i] == '.') {
		size_t start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return false;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 <= len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '+' ? 1 : -1;
		if (!pf_codec_digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !pf_codec_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		i += 6;
	} else {
		return false;
	}
	if (i != len)
		return false;
	*out = t - sign * (oh * 3600 + om * 60);
	return true;
}

/* Index of the three-letter name at s in names (12 or 7 entries), or -1. */
static int name_index(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strncmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

bool pf_codec_parse_http_date(const char *s, int64_t *out)
{
	static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int Y, M, D, h, m, sec;

	/* "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 bytes */
	if (!s || strlen(s) != 29)
		return false;
	if (name_index(s, days, 7) < 0 || s[3] != ',' || s[4] != ' ' ||
	    !pf_codec_digits(s + 5, 2, &D) || s[7] != ' ' || s[11] != ' ' ||
	    !pf_codec_digits(s + 12, 4, &Y) || s[16] != ' ' || !pf_codec_digits(s + 17, 2, &h) ||
	    s[19] != ':' || !pf_codec_digits(s + 20, 2, &m) || s[22] != ':' ||
	    !pf_codec_digits(s + 23, 2, &sec) || strcmp(s + 25, " GMT") != 0)
		return false;
	M = name_index(s + 8, months, 12) + 1;
	return M > 0 && civil_to_epoch(Y, M, D, h, m, sec, out);
}

void pf_codec_jitter_init(struct pf_codec_jitter *j, uint64_t seed)
{
	j->state = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

double pf_codec_jitter_next(struct pf_codec_jitter *j)
{
	uint64_t x = j->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	j->state = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / (double)(1ULL << 53);
}

size_t pf_codec_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v;

	if (avail == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, v = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, v = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, v = c & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

char *pf_codec_base64url(const unsigned char *in, size_t n)
{
	unsigned char *out = pf_xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock(out, in, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return (char *)out;
}

int pf_codec_base64url_decode(const char *in, unsigned char *out, size_t cap)
{
	size_t n = in ? strlen(in) : 0, padded = (n + 3) / 4 * 4;
	char *b64;
	unsigned char *tmp;
	int len = -1;

	if (n == 0 || n % 4 == 1 || padded / 4 * 3 > cap + 2)
		return -1;
	b64 = pf_xmalloc(padded + 1);
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		           (c >= '0' && c <= '9')))
			goto out_free_b64;
		b64[i] = c;
	}
	for (size_t i = n; i < padded; i++)
		b64[i] = '=';
	tmp = pf_xmalloc(padded / 4 * 3 + 1);
	len = EVP_DecodeBlock(tmp, (const unsigned char *)b64, (int)padded);
	if (len >= 0) {
		/* EVP_DecodeBlock counts the padding's bytes as zeros. */
		len -= (int)(padded - n);
		if (len < 0 || (size_t)len > cap)
			len = -1;
		else
			memcpy(out, tmp, (size_t)len);
	}
	free(tmp);
out_free_b64:
	free(b64);
	return len;
}
