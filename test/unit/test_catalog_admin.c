/* Unit tests for the catalog's operator records: photo count deltas and job ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/catalog_admin.h"

static void expect_delta(const struct pf_catalog_image *old, const struct pf_catalog_image *img,
                         int64_t p, int64_t u, int64_t f)
{
	struct pf_catalog_counts d;

	pf_catalog_counts_delta(old, img, &d);
	assert_int_equal(d.processed, p);
	assert_int_equal(d.unmatched, u);
	assert_int_equal(d.failed, f);
}

static void test_counts_delta(void **state)
{
	char *codes[] = {"10423"};
	struct pf_catalog_image matched = {
	    .status = PF_IMAGE_PROCESSED, .codes = codes, .ncodes = 1};
	struct pf_catalog_image unmatched = {.status = PF_IMAGE_PROCESSED};
	struct pf_catalog_image failed = {.status = PF_IMAGE_FAILED};
	struct pf_catalog_image deleted = {.status = PF_IMAGE_DELETED};

	expect_delta(NULL, &matched, 1, 0, 0);
	expect_delta(NULL, &unmatched, 1, 1, 0);
	expect_delta(NULL, &failed, 0, 0, 1);
	expect_delta(NULL, &deleted, 0, 0, 0);
	/* Reprocessing the same photo changes nothing. */
	expect_delta(&matched, &matched, 0, 0, 0);
	/* Tagged by hand: leaves the unmatched. */
	expect_delta(&unmatched, &matched, 0, -1, 0);
	/* A failed photo re-uploaded and processed. */
	expect_delta(&failed, &unmatched, 1, 1, -1);
	/* Deleted by an operator or removed from the bucket. */
	expect_delta(&matched, &deleted, -1, 0, 0);
	expect_delta(&unmatched, &deleted, -1, -1, 0);
	expect_delta(&failed, &deleted, 0, 0, -1);
}

static void test_job_ids(void **state)
{
	assert_true(pf_catalog_job_id_is_valid("20260503T101522Z-reprocess-3f9a1c"));
	assert_false(pf_catalog_job_id_is_valid(""));
	assert_false(pf_catalog_job_id_is_valid("a/b"));
	assert_false(pf_catalog_job_id_is_valid("a b"));
	assert_false(pf_catalog_job_id_is_valid(
	    "0123456789012345678901234567890123456789012345678901234567890123456789"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_delta),
	    cmocka_unit_test(test_job_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
