/*
 * "Did you mean": the codes that have photos and are one edit away from a
 * code that has none. The index is a sorted copy of (code, photos) pairs
 * (the catalog's CODES partition); a lookup builds every one-edit
 * neighbour of the typed code (substitution, insertion, deletion, swap of
 * two adjacent characters) over the code alphabet [A-Z0-9_.-] and looks
 * each up by binary search, so its cost does not grow with the index.
 * Pure; one thread at a time per index.
 */
#ifndef PHOTOFINISH_SUGGEST_H
#define PHOTOFINISH_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Suggestions one answer gives at most. */
#define PF_SUGGEST_MAX 5
/* Codes an index holds at most; the rest are left out (counted in dropped). */
#define PF_SUGGEST_MAX_CODES 200000
/* The longest code (see pf_image_code_normalise). */
#define PF_SUGGEST_CODE_MAX 64

struct pf_suggest_index;

struct pf_suggestion {
	char code[PF_SUGGEST_CODE_MAX + 1];
	int64_t photos;
};

/* An empty index; codes are added then frozen. */
struct pf_suggest_index *pf_suggest_index_new(void);
void pf_suggest_index_free(struct pf_suggest_index *idx);
/* Adds a code with its photo count; codes longer than PF_SUGGEST_CODE_MAX,
 * counts below 1 and codes past PF_SUGGEST_MAX_CODES are left out (false). */
bool pf_suggest_index_add(struct pf_suggest_index *idx, const char *code, int64_t photos);
/* Sorts; lookups need a frozen index. A code added twice keeps the larger count. */
void pf_suggest_index_freeze(struct pf_suggest_index *idx);
size_t pf_suggest_index_count(const struct pf_suggest_index *idx);
/* Codes add refused because the index was full. */
size_t pf_suggest_index_dropped(const struct pf_suggest_index *idx);
/* The photos of code, 0 when it has none. */
int64_t pf_suggest_index_photos(const struct pf_suggest_index *idx, const char *code);
/* The i-th code in order (i < count). */
const struct pf_suggestion *pf_suggest_index_at(const struct pf_suggest_index *idx, size_t i);

/* Whether a candidate may be suggested (e.g. it is on the roster). */
typedef bool (*pf_suggest_filter)(const char *code, void *arg);

/* Up to max (<= PF_SUGGEST_MAX) codes one edit away from code that have
 * photos and pass filter (NULL: all), by photos descending then code;
 * code itself is never one. Returns how many were written to out. */
size_t pf_suggest(const struct pf_suggest_index *idx, const char *code, pf_suggest_filter filter,
                  void *filter_arg, struct pf_suggestion *out, size_t max);

#endif
