/* Unit tests for "did you mean": one-edit neighbours, ranking, filter, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/suggest.h"

static struct pf_suggest_index *make(void)
{
	struct pf_suggest_index *idx = pf_suggest_index_new();

	pf_suggest_index_add(idx, "10423", 5);   /* swap of 10432 */
	pf_suggest_index_add(idx, "10433", 2);   /* substitution */
	pf_suggest_index_add(idx, "1043", 7);    /* deletion */
	pf_suggest_index_add(idx, "10432", 1);   /* insertion from 1043 / 10432 deletion */
	pf_suggest_index_add(idx, "104325", 2);  /* insertion */
	pf_suggest_index_add(idx, "99999", 100); /* far away */
	pf_suggest_index_add(idx, "10342", 9);   /* swap */
	pf_suggest_index_freeze(idx);
	return idx;
}

static void test_neighbours_ranked(void **state)
{
	struct pf_suggest_index *idx = make();
	struct pf_suggestion out[PF_SUGGEST_MAX];
	size_t n = pf_suggest(idx, "10432", NULL, NULL, out, PF_SUGGEST_MAX);

	/* 10342 (swap, 9), 1043 (deletion, 7), 10423 (swap, 5), then 10433 and
	 * 104325 tie at 2: by code. 10432 is the typed code itself, never one. */
	assert_int_equal(n, 5);
	assert_string_equal(out[0].code, "10342");
	assert_int_equal(out[0].photos, 9);
	assert_string_equal(out[1].code, "1043");
	assert_string_equal(out[2].code, "10423");
	assert_string_equal(out[3].code, "104325");
	assert_string_equal(out[4].code, "10433");
	pf_suggest_index_free(idx);
}

static void test_never_the_code_itself(void **state)
{
	struct pf_suggest_index *idx = make();
	struct pf_suggestion out[PF_SUGGEST_MAX];
	size_t n = pf_suggest(idx, "10432", NULL, NULL, out, PF_SUGGEST_MAX);

	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(out[i].code, "10432");
	assert_int_equal(pf_suggest_index_photos(idx, "10432"), 1);
	assert_int_equal(pf_suggest_index_photos(idx, "nope"), 0);
	pf_suggest_index_free(idx);
}

static void test_each_edit_kind(void **state)
{
	struct pf_suggest_index *idx = pf_suggest_index_new();
	struct pf_suggestion out[PF_SUGGEST_MAX];

	pf_suggest_index_add(idx, "AB", 1);
	pf_suggest_index_freeze(idx);
	assert_int_equal(pf_suggest(idx, "AC", NULL, NULL, out, 5), 1);  /* substitution */
	assert_int_equal(pf_suggest(idx, "A", NULL, NULL, out, 5), 1);   /* insertion at end */
	assert_int_equal(pf_suggest(idx, "B", NULL, NULL, out, 5), 1);   /* insertion at start */
	assert_int_equal(pf_suggest(idx, "AXB", NULL, NULL, out, 5), 1); /* deletion */
	assert_int_equal(pf_suggest(idx, "BA", NULL, NULL, out, 5), 1);  /* swap */
	assert_int_equal(pf_suggest(idx, "BC", NULL, NULL, out, 5), 0);  /* two edits */
	assert_int_equal(pf_suggest(idx, "CDAB", NULL, NULL, out, 5), 0);
	assert_int_equal(pf_suggest(idx, "", NULL, NULL, out, 5), 0);
	assert_string_equal(out[0].code, "AB");
	pf_suggest_index_free(idx);
}

static void test_duplicates_kept_once(void **state)
{
	struct pf_suggest_index *idx = pf_suggest_index_new();
	struct pf_suggestion out[PF_SUGGEST_MAX];

	pf_suggest_index_add(idx, "AB", 1);
	pf_suggest_index_add(idx, "AB", 3);
	pf_suggest_index_freeze(idx);
	assert_int_equal(pf_suggest_index_count(idx), 1);
	/* AAB reaches AB by deleting either A. */
	assert_int_equal(pf_suggest(idx, "AAB", NULL, NULL, out, 5), 1);
	assert_int_equal(out[0].photos, 3);
	pf_suggest_index_free(idx);
}

static bool only_even(const char *code, void *arg)
{
	(*(int *)arg)++;
	return (code[strlen(code) - 1] - '0') % 2 == 0;
}

static void test_filter_and_max(void **state)
{
	struct pf_suggest_index *idx = pf_suggest_index_new();
	struct pf_suggestion out[PF_SUGGEST_MAX];
	int calls = 0;
	size_t n;

	for (int d = 0; d <= 9; d++) {
		char code[8];

		snprintf(code, sizeof(code), "12%d", d);
		pf_suggest_index_add(idx, code, 10 + d);
	}
	pf_suggest_index_freeze(idx);
	n = pf_suggest(idx, "12X", only_even, &calls, out, PF_SUGGEST_MAX);
	assert_int_equal(n, 5);
	assert_string_equal(out[0].code, "128");
	assert_string_equal(out[4].code, "120");
	assert_true(calls >= 5);
	assert_int_equal(pf_suggest(idx, "12X", NULL, NULL, out, 2), 2);
	assert_string_equal(out[0].code, "129");
	assert_string_equal(out[1].code, "128");
	assert_int_equal(pf_suggest(idx, "12X", NULL, NULL, out, 0), 0);
	pf_suggest_index_free(idx);
}

static void test_bounds(void **state)
{
	struct pf_suggest_index *idx = pf_suggest_index_new();
	char longest[PF_SUGGEST_CODE_MAX + 2];
	struct pf_suggestion out[PF_SUGGEST_MAX];

	memset(longest, 'A', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_false(pf_suggest_index_add(idx, longest, 1)); /* 65 characters */
	assert_false(pf_suggest_index_add(idx, "X", 0));     /* no photos */
	longest[PF_SUGGEST_CODE_MAX] = '\0';
	assert_true(pf_suggest_index_add(idx, longest, 1));
	for (int i = 0; i < PF_SUGGEST_MAX_CODES; i++) {
		char code[16];

		snprintf(code, sizeof(code), "%d", i);
		pf_suggest_index_add(idx, code, 1);
	}
	assert_int_equal(pf_suggest_index_count(idx), PF_SUGGEST_MAX_CODES);
	assert_int_equal(pf_suggest_index_dropped(idx), 1);
	pf_suggest_index_freeze(idx);
	/* A 64-character code: insertions would pass the longest code. */
	longest[0] = 'B';
	assert_int_equal(pf_suggest(idx, longest, NULL, NULL, out, 5), 1);
	pf_suggest_index_free(idx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_neighbours_ranked), cmocka_unit_test(test_never_the_code_itself),
	    cmocka_unit_test(test_each_edit_kind),    cmocka_unit_test(test_duplicates_kept_once),
	    cmocka_unit_test(test_filter_and_max),    cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
