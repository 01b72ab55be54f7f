/*
 * "Did you mean" over a frozen, sorted index of codes with photos (see
 * suggest.h). Pure; one thread at a time per index.
 */
#include "photofinish/suggest.h"

#include <stdlib.h>
#include <string.h>

#include "photofinish/util.h"

/* Every character a normalised code may hold. */
static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-";

struct pf_suggest_index {
	struct pf_suggestion *codes;
	size_t n, cap;
	size_t dropped;
	bool frozen;
};

struct pf_suggest_index *pf_suggest_index_new(void)
{
	return pf_xcalloc(1, sizeof(struct pf_suggest_index));
}

void pf_suggest_index_free(struct pf_suggest_index *idx)
{
	if (!idx)
		return;
	free(idx->codes);
	free(idx);
}

bool pf_suggest_index_add(struct pf_suggest_index *idx, const char *code, int64_t photos)
{
	size_t len = strlen(code);

	if (len == 0 || len > PF_SUGGEST_CODE_MAX || photos < 1)
		return false;
	if (idx->n >= PF_SUGGEST_MAX_CODES) {
		idx->dropped++;
		return false;
	}
	if (idx->n == idx->cap) {
		idx->cap = idx->cap ? idx->cap * 2 : 64;
		idx->codes = pf_xrealloc(idx->codes, idx->cap * sizeof(*idx->codes));
	}
	memcpy(idx->codes[idx->n].code, code, len + 1);
	idx->codes[idx->n++].photos = photos;
	idx->frozen = false;
	return true;
}

static int by_code(const void *a, const void *b)
{
	return strcmp(((const struct pf_suggestion *)a)->code,
	              ((const struct pf_suggestion *)b)->code);
}

void pf_suggest_index_freeze(struct pf_suggest_index *idx)
{
	size_t w = 0;

	if (idx->n)
		qsort(idx->codes, idx->n, sizeof(*idx->codes), by_code);
	for (size_t i = 0; i < idx->n; i++) {
		if (w > 0 && !strcmp(idx->codes[w - 1].code, idx->codes[i].code)) {
			if (idx->codes[i].photos > idx->codes[w - 1].photos)
				idx->codes[w - 1].photos = idx->codes[i].photos;
			continue;
		}
		idx->codes[w++] = idx->codes[i];
	}
	idx->n = w;
	idx->frozen = true;
}

size_t pf_suggest_index_count(const struct pf_suggest_index *idx)
{
	return idx->n;
}

size_t pf_suggest_index_dropped(const struct pf_suggest_index *idx)
{
	return idx->dropped;
}

const struct pf_suggestion *pf_suggest_index_at(const struct pf_suggest_index *idx, size_t i)
{
	return i < idx->n ? &idx->codes[i] : NULL;
}

static const struct pf_suggestion *find(const struct pf_suggest_index *idx, const char *code)
{
	size_t lo = 0, hi = idx->frozen ? idx->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(idx->codes[mid].code, code);

		if (c == 0)
			return &idx->codes[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int64_t pf_suggest_index_photos(const struct pf_suggest_index *idx, const char *code)
{
	const struct pf_suggestion *s = find(idx, code);

	return s ? s->photos : 0;
}

/* Whether a ranks before b: more photos, then the smaller code. */
static bool ranks_before(const struct pf_suggestion *a, const struct pf_suggestion *b)
{
	if (a->photos != b->photos)
		return a->photos > b->photos;
	return strcmp(a->code, b->code) < 0;
}

/* The best max candidates so far, kept sorted (out holds *n). */
struct best {
	const struct pf_suggest_index *idx;
	const char *typed;
	pf_suggest_filter filter;
	void *filter_arg;
	struct pf_suggestion *out;
	size_t n, max;
};

static void consider(struct best *b, const char *cand)
{
	const struct pf_suggestion *s;
	size_t pos;

	if (!strcmp(cand, b->typed))
		return;
	s = find(b->idx, cand);
	if (!s)
		return;
	/* Several edits can reach one code (deleting either A of AAB gives
	 * AB): keep it once. */
	for (size_t i = 0; i < b->n; i++) {
		if (!strcmp(b->out[i].code, s->code))
			return;
	}
	if (b->n == b->max && !ranks_before(s, &b->out[b->n - 1]))
		return;
	if (b->filter && !b->filter(s->code, b->filter_arg))
		return;
	pos = b->n < b->max ? b->n++ : b->max - 1;
	while (pos > 0 && ranks_before(s, &b->out[pos - 1])) {
		b->out[pos] = b->out[pos - 1];
		pos--;
	}
	b->out[pos] = *s;
}

size_t pf_suggest(const struct pf_suggest_index *idx, const char *code, pf_suggest_filter filter,
                  void *filter_arg, struct pf_suggestion *out, size_t max)
{
	size_t len = strlen(code);
	char cand[PF_SUGGEST_CODE_MAX + 2];
	struct best b = {.idx = idx,
	                 .typed = code,
	                 .filter = filter,
	                 .filter_arg = filter_arg,
	                 .out = out,
	                 .max = max > PF_SUGGEST_MAX ? PF_SUGGEST_MAX : max};

	if (b.max == 0 || len == 0 || len > PF_SUGGEST_CODE_MAX || !idx->frozen || idx->n == 0)
		return 0;
	/* Substitutions. */
	for (size_t i = 0; i < len; i++) {
		memcpy(cand, code, len + 1);
		for (const char *a = alphabet; *a; a++) {
			if (*a == code[i])
				continue;
			cand[i] = *a;
			consider(&b, cand);
		}
	}
	/* Insertions (a code one longer than the longest is never in the index). */
	for (size_t i = 0; len < PF_SUGGEST_CODE_MAX && i <= len; i++) {
		memcpy(cand, code, i);
		memcpy(cand + i + 1, code + i, len - i + 1);
		for (const char *a = alphabet; *a; a++) {
			cand[i] = *a;
			consider(&b, cand);
		}
	}
	/* Deletions. */
	for (size_t i = 0; len > 1 && i < len; i++) {
		memcpy(cand, code, i);
		memcpy(cand + i, code + i + 1, len - i);
		consider(&b, cand);
	}
	/* Swaps of adjacent characters. */
	for (size_t i = 0; i + 1 < len; i++) {
		if (code[i] == code[i + 1])
			continue;
		memcpy(cand, code, len + 1);
		cand[i] = code[i + 1];
		cand[i + 1] = code[i];
		consider(&b, cand);
	}
	return b.n;
}
