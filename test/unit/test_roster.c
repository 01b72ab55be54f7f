/* Unit tests for the roster: CSV and list parsing, normalisation, lookups, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/roster.h"

static void test_csv(void **state)
{
	static const char csv[] = "\xef\xbb\xbf"
	                          "Bib,Name,Club\r\n"
	                          "10423,Ada,Runners\r\n"
	                          "\"ab-7\",\"Lovelace, Ada\"\n"
	                          "\n"
	                          ",no code\n"
	                          "10423;dup\n"
	                          "  555  ";
	struct pf_roster *r = pf_roster_new();
	struct pf_error err;

	assert_int_equal(pf_roster_add_csv(r, csv, sizeof(csv) - 1, &err), 0);
	pf_roster_freeze(r);
	assert_int_equal(pf_roster_count(r), 3);
	assert_true(pf_roster_has(r, "10423"));
	assert_true(pf_roster_has(r, "AB-7"));
	assert_true(pf_roster_has(r, "555"));
	assert_false(pf_roster_has(r, "BIB"));
	assert_false(pf_roster_has(r, "10432"));
	pf_roster_free(r);
}

static void test_csv_refused(void **state)
{
	struct pf_roster *r = pf_roster_new();
	struct pf_error err;

	assert_int_equal(pf_roster_add_csv(r, "1\nno way,x\n", 11, &err), PF_EINVAL);
	assert_non_null(strstr(err.message, "line 2"));
	assert_int_equal(pf_roster_add_csv(r, "\"open\n", 6, &err), PF_EINVAL);
	assert_int_equal(pf_roster_add_csv(r, "x", PF_ROSTER_MAX_BYTES + 1, &err), PF_ETOOBIG);
	pf_roster_free(r);
}

static void test_list(void **state)
{
	struct pf_roster *r = pf_roster_new();
	struct pf_error err;

	assert_int_equal(pf_roster_add_list(r, "10423, ab-7 ,555", &err), 0);
	assert_int_equal(pf_roster_add_list(r, "1,bad code,2", &err), PF_EINVAL);
	assert_non_null(strstr(err.message, "entry 2"));
	pf_roster_freeze(r);
	assert_int_equal(pf_roster_count(r), 3); /* nothing of the refused list */
	assert_true(pf_roster_has(r, "AB-7"));
	assert_false(pf_roster_has(r, "1"));
	pf_roster_free(r);
}

static void test_bounded(void **state)
{
	struct pf_roster *r = pf_roster_new();
	size_t len = (size_t)(PF_ROSTER_MAX_CODES + 1) * 8;
	char *csv = malloc(len + 1);
	size_t n = 0;
	struct pf_error err;

	for (int i = 0; i <= PF_ROSTER_MAX_CODES; i++)
		n += (size_t)snprintf(csv + n, len + 1 - n, "%07d\n", i);
	assert_int_equal(pf_roster_add_csv(r, csv, n, &err), PF_ETOOBIG);
	free(csv);
	pf_roster_free(r);
}

static void test_s3_uri(void **state)
{
	char *b, *k;

	assert_true(pf_roster_parse_s3_uri("s3://race-in/roster/codes.csv", &b, &k));
	assert_string_equal(b, "race-in");
	assert_string_equal(k, "roster/codes.csv");
	free(b);
	free(k);
	assert_false(pf_roster_parse_s3_uri("s3://bucket/", &b, &k));
	assert_false(pf_roster_parse_s3_uri("s3:///key", &b, &k));
	assert_false(pf_roster_parse_s3_uri("/tmp/roster.csv", &b, &k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv),    cmocka_unit_test(test_csv_refused),
	    cmocka_unit_test(test_list),   cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_s3_uri),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
