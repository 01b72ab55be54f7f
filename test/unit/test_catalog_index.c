/* Unit tests for the catalog's indexes: photographers of keys, the time
 * listings' entries in a photo's transaction (within DynamoDB's 100 items),
 * and what a write changes in the code index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "catalog_int.h"
#include "photofinish/catalog_index.h"
#include "photofinish/util.h"

static void fill(struct pf_catalog_image *img, size_t ncodes, const char *photographer)
{
	memset(img, 0, sizeof(*img));
	pf_catalog_image_id("b", "alice/IMG_1.jpg", img->id);
	img->status = PF_IMAGE_PROCESSED;
	img->version = 1;
	img->bucket = pf_xstrdup("b");
	img->key = pf_xstrdup("alice/IMG_1.jpg");
	img->codes = pf_xcalloc(ncodes + 1, sizeof(char *));
	for (size_t i = 0; i < ncodes; i++)
		img->codes[img->ncodes++] = pf_xasprintf("C%zu", i);
	img->fullsize_key = pf_xstrdup("fullsize/x.jpg");
	img->thumbnail_key = pf_xstrdup("thumbnail/x.jpg");
	img->sort_time = pf_xstrdup("2026-05-03T09:14:07Z");
	img->processed_at = pf_xstrdup("2026-05-03T10:00:00.000Z");
	img->photographer = photographer ? pf_xstrdup(photographer) : NULL;
}

static bool touches(const json_t *items, const char *op, const char *pk)
{
	size_t i;
	json_t *it;

	json_array_foreach(items, i, it)
	{
		json_t *o = json_object_get(it, op);
		json_t *k = json_object_get(o, !strcmp(op, "Put") ? "Item" : "Key");

		if (o &&
		    !strcmp(json_string_value(json_object_get(json_object_get(k, "pk"), "S")), pk))
			return true;
	}
	return false;
}

static void test_photographer_of(void **state)
{
	char *p;

	p = pf_catalog_photographer_of("race/alice/IMG_1.jpg", "race/");
	assert_string_equal(p, "alice");
	free(p);
	p = pf_catalog_photographer_of("race/IMG_1.jpg", "race/");
	assert_string_equal(p, "");
	free(p);
	p = pf_catalog_photographer_of("bob/day 1/IMG_1.jpg", NULL);
	assert_string_equal(p, "bob");
	free(p);
	assert_null(pf_catalog_photographer_of("other/alice/x.jpg", "race/"));
	assert_true(pf_catalog_photographer_is_valid("alice"));
	assert_true(pf_catalog_photographer_is_valid("cam-2_b"));
	assert_false(pf_catalog_photographer_is_valid(""));
	assert_false(pf_catalog_photographer_is_valid("Alice"));
	assert_false(pf_catalog_photographer_is_valid("-a"));
	assert_false(pf_catalog_photographer_is_valid("a/b"));
	assert_false(pf_catalog_photographer_is_valid("abcdefghijabcdefghijabcdefghijabcdefghijk"));
}

static void test_time_listings_in_the_transaction(void **state)
{
	struct pf_catalog_image old, img;
	json_t *items;

	fill(&old, 2, "alice");
	fill(&img, 2, "bob");
	img.version = 2;
	items = pf_catalog_transact_items("t", &img, &old);
	/* PHOTOS stays (same sort key): only put; the photographer's moves. */
	assert_true(touches(items, "Put", "PHOTOS"));
	assert_false(touches(items, "Delete", "PHOTOS"));
	assert_true(touches(items, "Delete", "PHOTOS#alice"));
	assert_true(touches(items, "Put", "PHOTOS#bob"));
	json_decref(items);
	pf_catalog_image_free(&old);
	pf_catalog_image_free(&img);
}

static void test_forty_codes_fit_one_transaction(void **state)
{
	struct pf_catalog_image old, img;
	json_t *items;

	/* The worst case: every entry of the old version deleted (other sort
	 * time), every one of the new put. */
	fill(&old, PF_CATALOG_MAX_CODES, "alice");
	fill(&img, PF_CATALOG_MAX_CODES, "bob");
	free(img.sort_time);
	img.sort_time = pf_xstrdup("2026-05-03T09:20:00Z");
	img.version = 2;
	items = pf_catalog_transact_items("t", &img, &old);
	assert_int_equal(json_array_size(items), 1 + 43 + 43 + 1);
	assert_true(json_array_size(items) <= 100);
	json_decref(items);
	pf_catalog_image_free(&old);
	pf_catalog_image_free(&img);
}

static void test_code_index_delta(void **state)
{
	struct pf_catalog_image old, img;
	struct pf_catalog__index_delta *d;
	const char *codes[2 * PF_CATALOG_MAX_CODES];
	int64_t by[2 * PF_CATALOG_MAX_CODES];
	size_t n;

	fill(&old, 2, "alice"); /* C0 C1 */
	fill(&img, 3, "alice"); /* C0 C1 C2 */
	free(img.codes[0]);
	img.codes[0] = pf_xstrdup("X"); /* X C1 C2 */
	d = pf_catalog__index_delta_new(&old, &img);
	n = pf_catalog__index_delta_codes(d, codes, by, 2 * PF_CATALOG_MAX_CODES);
	assert_int_equal(n, 3);
	assert_string_equal(codes[0], "C0");
	assert_int_equal(by[0], -1);
	assert_string_equal(codes[1], "X");
	assert_int_equal(by[1], 1);
	assert_string_equal(codes[2], "C2");
	assert_int_equal(by[2], 1);
	pf_catalog__index_delta_free(d);

	/* A first write adds every code; a removal takes every one away. */
	d = pf_catalog__index_delta_new(NULL, &old);
	assert_int_equal(pf_catalog__index_delta_codes(d, codes, by, 10), 2);
	assert_int_equal(by[0], 1);
	pf_catalog__index_delta_free(d);
	img.status = PF_IMAGE_DELETED;
	d = pf_catalog__index_delta_new(&old, &img);
	assert_int_equal(pf_catalog__index_delta_codes(d, codes, by, 10), 2);
	assert_int_equal(by[0], -1);
	assert_int_equal(by[1], -1);
	pf_catalog__index_delta_free(d);
	/* A photo written before the index existed was never counted: its
	 * reprocessing counts every code, an edit of it counts nothing. */
	free(old.photographer);
	old.photographer = NULL;
	img.status = PF_IMAGE_PROCESSED;
	d = pf_catalog__index_delta_new(&old, &img);
	assert_int_equal(pf_catalog__index_delta_codes(d, codes, by, 10), 3);
	assert_int_equal(by[0] + by[1] + by[2], 3);
	pf_catalog__index_delta_free(d);
	free(img.photographer);
	img.photographer = NULL;
	d = pf_catalog__index_delta_new(&old, &img);
	assert_int_equal(pf_catalog__index_delta_codes(d, codes, by, 10), 0);
	pf_catalog__index_delta_free(d);
	img.photographer = pf_xstrdup("alice");
	/* A failed photo has no codes to count. */
	img.status = PF_IMAGE_FAILED;
	d = pf_catalog__index_delta_new(NULL, &img);
	assert_int_equal(pf_catalog__index_delta_codes(d, codes, by, 10), 0);
	pf_catalog__index_delta_free(d);
	pf_catalog_image_free(&old);
	pf_catalog_image_free(&img);
}

static void test_corrected_time(void **state)
{
	char taken[40], sort[40];

	assert_true(pf_catalog_corrected_time("2026-05-03T09:14:07Z", 3600, taken, sort));
	assert_string_equal(taken, "2026-05-03T10:14:07Z");
	assert_string_equal(sort, "2026-05-03T10:14:07Z");
	/* The camera's zone stays in takenAt; the sort time is the wall clock as Z. */
	assert_true(pf_catalog_corrected_time("2026-05-03T09:14:07+02:00", 0, taken, sort));
	assert_string_equal(taken, "2026-05-03T09:14:07+02:00");
	assert_string_equal(sort, "2026-05-03T09:14:07Z");
	assert_true(pf_catalog_corrected_time("2026-12-31T23:30:00Z", 3600, taken, sort));
	assert_string_equal(sort, "2027-01-01T00:30:00Z");
	assert_true(pf_catalog_corrected_time("2028-03-01T00:10:00Z", -1200, taken, sort));
	assert_string_equal(sort, "2028-02-29T23:50:00Z");
	assert_true(pf_catalog_corrected_time("2026-05-03T09:14:07Z", -604800, taken, sort));
	assert_string_equal(sort, "2026-04-26T09:14:07Z");
	assert_false(pf_catalog_corrected_time("yesterday at nine", 0, taken, sort));
	assert_false(pf_catalog_corrected_time("2026-13-03T09:14:07Z", 0, taken, sort));
	assert_false(pf_catalog_corrected_time(NULL, 0, taken, sort));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_photographer_of),
	    cmocka_unit_test(test_time_listings_in_the_transaction),
	    cmocka_unit_test(test_forty_codes_fit_one_transaction),
	    cmocka_unit_test(test_code_index_delta),
	    cmocka_unit_test(test_corrected_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
