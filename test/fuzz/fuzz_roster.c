/*
 * libFuzzer target for the roster CSV parser and "did you mean" over what
 * outside input. Checks: no crash/leak/UB; codes added after any CSV are
 * found, and suggestions never name the typed code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/roster.h"
#include "photofinish/suggest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pf_roster *r = pf_roster_new();
	struct pf_suggest_index *idx = pf_suggest_index_new();
	struct pf_suggestion out[PF_SUGGEST_MAX];
	struct pf_error err;
	char typed[PF_SUGGEST_CODE_MAX + 1];
	size_t n, tn = size < 8 ? size : 8;

	/* Whatever the CSV held (or was refused for), a list added after it is
	 * found. */
	pf_roster_add_csv(r, (const char *)data, size, &err);
	pf_roster_add_list(r, "10423,ab-7", &err);
	pf_roster_freeze(r);
	check(pf_roster_has(r, "10423") && pf_roster_has(r, "AB-7"));
	pf_suggest_index_add(idx, "10423", 3);
	pf_suggest_index_add(idx, "AB-7", 1);
	/* The first bytes, kept to the code alphabet, typed as a code. */
	for (size_t i = 0; i < tn; i++)
		typed[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-"[data[i] % 39];
	typed[tn] = '\0';
	pf_suggest_index_freeze(idx);
	n = pf_suggest(idx, typed, NULL, NULL, out, PF_SUGGEST_MAX);
	for (size_t i = 0; i < n; i++)
		check(strcmp(out[i].code, typed) != 0);
	pf_suggest_index_free(idx);
	pf_roster_free(r);
	return 0;
}
