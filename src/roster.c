/*
 * The race's roster (see roster.h): a sorted array of normalised codes.
 * Pure; one thread at a time.
 */
#include "photofinish/roster.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "photofinish/image.h"
#include "photofinish/util.h"

struct pf_roster {
	char **codes;
	size_t n, cap;
	bool frozen;
};

struct pf_roster *pf_roster_new(void)
{
	return pf_xcalloc(1, sizeof(struct pf_roster));
}

void pf_roster_free(struct pf_roster *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->codes[i]);
	free(r->codes);
	free(r);
}

static void push(struct pf_roster *r, const char *code)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->codes = pf_xrealloc(r->codes, r->cap * sizeof(*r->codes));
	}
	r->codes[r->n++] = pf_xstrdup(code);
	r->frozen = false;
}

/* The field [s, s + n) as a normalised code; false when it is not one. */
static bool field_code(const char *s, size_t n, char out[PF_IMAGE_CODE_MAX + 1])
{
	char buf[4 * PF_IMAGE_CODE_MAX + 1];

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return pf_image_code_normalise(buf, out);
}

int pf_roster_add_list(struct pf_roster *r, const char *list, struct pf_error *err)
{
	size_t count = 0, start = r->n;

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		char code[PF_IMAGE_CODE_MAX + 1];

		if (!field_code(p, n, code)) {
			for (size_t i = start; i < r->n; i++)
				free(r->codes[i]);
			r->n = start;
			return pf_error_set(err, PF_EINVAL, "roster entry %zu is not a code",
			                    count + 1);
		}
		if (r->n >= PF_ROSTER_MAX_CODES)
			return pf_error_set(err, PF_ETOOBIG, "a roster holds at most %d codes",
			                    PF_ROSTER_MAX_CODES);
		push(r, code);
		count++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* A header names its first column; codes are never these words. */
static bool is_header(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '"')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '"'))
		n--;
	return (n == 4 && !strncasecmp(s, "code", 4)) || (n == 3 && !strncasecmp(s, "bib", 3));
}

int pf_roster_add_csv(struct pf_roster *r, const char *text, size_t len, struct pf_error *err)
{
	size_t line = 0;
	const char *p = text, *end = text + len;

	if (len > PF_ROSTER_MAX_BYTES)
		return pf_error_set(err, PF_ETOOBIG, "the roster is larger than %d bytes",
		                    PF_ROSTER_MAX_BYTES);
	/* Spreadsheets often start the file with a byte order mark. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		p += 3;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *stop = eol ? eol : end;
		const char *f = p, *fe;
		char code[PF_IMAGE_CODE_MAX + 1];

		line++;
		if (f < stop && *f == '"') {
			f++;
			fe = memchr(f, '"', (size_t)(stop - f));
			if (!fe)
				return pf_error_set(err, PF_EINVAL,
				                    "roster line %zu: unclosed quote", line);
		} else {
			fe = f;
			while (fe < stop && *fe != ',' && *fe != ';' && *fe != '\r')
				fe++;
		}
		if (line == 1 && is_header(p, (size_t)(fe - p))) {
			/* skipped */
		} else if (fe > f) {
			if (!field_code(f, (size_t)(fe - f), code))
				return pf_error_set(
				    err, PF_EINVAL,
				    "roster line %zu: the first column is not a code", line);
			if (r->n >= PF_ROSTER_MAX_CODES)
				return pf_error_set(err, PF_ETOOBIG,
				                    "a roster holds at most %d codes",
				                    PF_ROSTER_MAX_CODES);
			push(r, code);
		}
		p = eol ? eol + 1 : end;
	}
	return 0;
}

static int by_code(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pf_roster_freeze(struct pf_roster *r)
{
	size_t w = 0;

	if (r->n)
		qsort(r->codes, r->n, sizeof(*r->codes), by_code);
	for (size_t i = 0; i < r->n; i++) {
		if (w > 0 && !strcmp(r->codes[w - 1], r->codes[i])) {
			free(r->codes[i]);
			continue;
		}
		r->codes[w++] = r->codes[i];
	}
	r->n = w;
	r->frozen = true;
}

bool pf_roster_has(const struct pf_roster *r, const char *code)
{
	const char *key = code;

	return r->frozen && r->n &&
	       bsearch(&key, r->codes, r->n, sizeof(*r->codes), by_code) != NULL;
}

size_t pf_roster_count(const struct pf_roster *r)
{
	return r->n;
}

bool pf_roster_parse_s3_uri(const char *uri, char **bucket, char **key)
{
	const char *slash;

	*bucket = *key = NULL;
	if (!uri || strncmp(uri, "s3://", 5) != 0)
		return false;
	slash = strchr(uri + 5, '/');
	if (!slash || slash == uri + 5 || !slash[1] || slash - uri - 5 > 63)
		return false;
	*bucket = pf_xstrndup(uri + 5, (size_t)(slash - uri - 5));
	*key = pf_xstrdup(slash + 1);
	return true;
}
