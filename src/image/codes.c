/*
 * Payload to participant code: the extraction pattern, normalisation and
 * validation, and the sorted set of codes found on one photo. Pure (no I/O,
 * no globals), so any thread may call it; the compiled pattern is read-only
 * and regexec on a shared regex_t is thread-safe in glibc.
 */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "photofinish/util.h"

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_code_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Trims, upper-cases and validates s[0..len) into out. */
static bool normalise(const char *s, size_t len, char out[PF_IMAGE_CODE_MAX + 1])
{
	while (len && is_space((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && is_space((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len > PF_IMAGE_CODE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		if (!is_code_char(c))
			return false;
		out[i] = (char)c;
	}
	out[len] = '\0';
	/* "." and ".." cannot be looked up: browsers drop them from URL paths. */
	return strspn(out, ".") != len;
}

bool pf_image_code_normalise(const char *in, char out[PF_IMAGE_CODE_MAX + 1])
{
	if (!in)
		return false;
	return normalise(in, strlen(in), out);
}

bool pf_image__payload_to_code(const regex_t *pattern, const char *payload, size_t len,
                               char out[PF_IMAGE_CODE_MAX + 1])
{
	regmatch_t m[2];
	char *text;
	bool ok = false;

	if (!payload || len == 0 || memchr(payload, '\0', len))
		return false;
	/* Long payloads cannot hold a short code worth trusting and would make
	 * the regex work on attacker-sized input. */
	if (len > 4096)
		return false;
	while (len && is_space((unsigned char)*payload)) {
		payload++;
		len--;
	}
	while (len && is_space((unsigned char)payload[len - 1]))
		len--;
	if (!pattern)
		return normalise(payload, len, out);

	text = pf_xstrndup(payload, len);
	if (regexec(pattern, text, 2, m, 0) != 0)
		goto out_free_text;
	if (pattern->re_nsub >= 1 && m[1].rm_so >= 0)
		ok = normalise(text + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so), out);
	else
		ok = normalise(text + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so), out);
out_free_text:
	free(text);
	return ok;
}

void pf_image__codes_add(struct pf_image__codes *set, const char *code)
{
	size_t lo = 0, hi = set->n;

	/* Binary search for the insertion point; a photo holds a handful of codes. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(set->v[mid], code);

		if (c == 0)
			return;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 4;
		set->v = pf_xrealloc(set->v, set->cap * sizeof(*set->v));
	}
	memmove(set->v + lo + 1, set->v + lo, (set->n - lo) * sizeof(*set->v));
	set->v[lo] = pf_xstrdup(code);
	set->n++;
}

void pf_image__codes_free(struct pf_image__codes *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}
