/* Unit tests for the catalog's storage format: items, entries, transactions, cursors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "catalog_int.h"
#include "photofinish/util.h"

static void fill(struct pf_catalog_image *img, const char *const *codes, size_t n)
{
	memset(img, 0, sizeof(*img));
	pf_catalog_image_id("race-ingress", "day 1/IMG_0001.jpg", img->id);
	img->status = PF_IMAGE_PROCESSED;
	img->version = 1;
	img->bucket = pf_xstrdup("race-ingress");
	img->key = pf_xstrdup("day 1/IMG_0001.jpg");
	img->etag = pf_xstrdup("abc");
	img->size = 1234;
	img->sequencer = pf_xstrdup("0000000000000000000000000000000A");
	img->codes = pf_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		img->codes[img->ncodes++] = pf_xstrdup(codes[i]);
	img->fullsize_key = pf_xstrdup("fullsize/x.jpg");
	img->thumbnail_key = pf_xstrdup("thumbnail/x.jpg");
	img->width = 2000;
	img->height = 1333;
	img->thumbnail_width = 500;
	img->thumbnail_height = 333;
	img->taken_at = pf_xstrdup("2026-05-03T09:14:07Z");
	img->sort_time = pf_xstrdup("2026-05-03T09:14:07Z");
	img->processed_at = pf_xstrdup("2026-05-03T10:00:00.000Z");
}

static const char *s_of(const json_t *item, const char *name)
{
	return json_string_value(json_object_get(json_object_get(item, name), "S"));
}

static void test_id_is_stable_and_distinct(void **state)
{
	char a[PF_CATALOG_ID_LEN + 1], b[PF_CATALOG_ID_LEN + 1], c[PF_CATALOG_ID_LEN + 1];

	pf_catalog_image_id("bucket", "a/b.jpg", a);
	pf_catalog_image_id("bucket", "a/b.jpg", b);
	pf_catalog_image_id("bucket", "a/b.jpG", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 32);
	/* SHA-256("bucket/a/b.jpg"), first 128 bits */
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
}

static void test_item_fields(void **state)
{
	const char *codes[] = {"10423", "20577"};
	struct pf_catalog_image img, back;
	struct pf_error err;
	json_t *item;
	char pk[64];

	fill(&img, codes, 2);
	img.codes_manual = true;
	item = pf_catalog_image_item(&img);
	snprintf(pk, sizeof(pk), "IMAGE#%s", img.id);
	assert_string_equal(s_of(item, "pk"), pk);
	assert_string_equal(s_of(item, "sk"), "IMAGE");
	assert_string_equal(s_of(item, "status"), "processed");
	assert_string_equal(s_of(item, "codesSource"), "manual");
	assert_int_equal(pf_catalog_image_from_item(item, &back, &err), 0);
	assert_string_equal(back.id, img.id);
	assert_int_equal(back.ncodes, 2);
	assert_string_equal(back.codes[1], "20577");
	assert_true(back.codes_manual);
	assert_int_equal(back.width, 2000);
	assert_int_equal(back.version, 1);
	assert_string_equal(back.sequencer, img.sequencer);
	json_decref(item);
	pf_catalog_image_free(&back);
	pf_catalog_image_free(&img);

	item = json_pack("{s:{s:s}}", "pk", "S", "IMAGE#short");
	assert_int_equal(pf_catalog_image_from_item(item, &back, &err), PF_EINVAL);
	pf_catalog_image_free(&back);
	json_decref(item);
}

/* Collects "Put pk sk" / "Delete pk sk" lines of a transaction. */
static char *describe(json_t *items)
{
	struct pf_buf b;
	size_t i;
	json_t *op;

	pf_buf_init(&b);
	json_array_foreach(items, i, op)
	{
		json_t *put = json_object_get(op, "Put");
		json_t *del = json_object_get(op, "Delete");
		json_t *check = json_object_get(op, "ConditionCheck");

		if (check)
			pf_buf_appendf(
			    &b, "Check %s %s %s|", s_of(json_object_get(check, "Key"), "pk"),
			    s_of(json_object_get(check, "Key"), "sk"),
			    json_string_value(json_object_get(check, "ConditionExpression")));
		else if (put)
			pf_buf_appendf(&b, "Put %s %s|", s_of(json_object_get(put, "Item"), "pk"),
			               s_of(json_object_get(put, "Item"), "sk"));
		else
			pf_buf_appendf(&b, "Delete %s %s|", s_of(json_object_get(del, "Key"), "pk"),
			               s_of(json_object_get(del, "Key"), "sk"));
	}
	return pf_buf_steal(&b, NULL);
}

static void test_transaction_first_write(void **state)
{
	const char *codes[] = {"10423", "20577"};
	struct pf_catalog_image img;
	json_t *items;
	char *text, *want;

	fill(&img, codes, 2);
	items = pf_catalog_transact_items("tbl", &img, NULL);
	text = describe(items);
	/* Every entry, the photo's name entry, the time listings, then the
	 * clearing fence's check. */
	want = pf_xasprintf("Put IMAGE#%s IMAGE|Put CODE#10423 2026-05-03T09:14:07Z#%s|"
	                    "Put CODE#20577 2026-05-03T09:14:07Z#%s|"
	                    "Put NAME#img_0001.jpg 2026-05-03T09:14:07Z#%s|"
	                    "Put PHOTOS 2026-05-03T09:14:07Z#%s|"
	                    "Check FENCE FENCE attribute_not_exists(pk)|",
	                    img.id, img.id, img.id, img.id, img.id);
	assert_string_equal(text, want);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_array_get(items, 0), "Put"),
	                                      "ConditionExpression")),
	    "attribute_not_exists(pk)");
	free(text);
	free(want);
	json_decref(items);
	pf_catalog_image_free(&img);
}

static void test_transaction_changed_codes(void **state)
{
	const char *old_codes[] = {"10423", "20577"};
	const char *new_codes[] = {"20577", "30000"};
	struct pf_catalog_image old, img;
	json_t *items, *cond;
	char *text, *want;

	fill(&old, old_codes, 2);
	fill(&img, new_codes, 2);
	img.version = 2;
	items = pf_catalog_transact_items("tbl", &img, &old);
	text = describe(items);
	/* The kept entry is only put (a transaction may not touch an item twice). */
	want = pf_xasprintf("Put IMAGE#%s IMAGE|Delete CODE#10423 2026-05-03T09:14:07Z#%s|"
	                    "Put CODE#20577 2026-05-03T09:14:07Z#%s|"
	                    "Put CODE#30000 2026-05-03T09:14:07Z#%s|"
	                    "Put NAME#img_0001.jpg 2026-05-03T09:14:07Z#%s|"
	                    "Put PHOTOS 2026-05-03T09:14:07Z#%s|"
	                    "Check FENCE FENCE attribute_not_exists(pk)|",
	                    img.id, img.id, img.id, img.id, img.id, img.id);
	assert_string_equal(text, want);
	cond = json_object_get(json_array_get(items, 0), "Put");
	assert_string_equal(json_string_value(json_object_get(cond, "ConditionExpression")),
	                    "#v = :v");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(cond, "ExpressionAttributeValues"), ":v"), "N")),
	    "1");
	free(text);
	free(want);
	json_decref(items);
	pf_catalog_image_free(&old);
	pf_catalog_image_free(&img);
}

static void test_transaction_unmatched_failed_deleted(void **state)
{
	const char *codes[] = {"10423"};
	struct pf_catalog_image old, img;
	json_t *items;
	char *text, *want;

	/* no codes → UNMATCHED */
	fill(&img, NULL, 0);
	items = pf_catalog_transact_items("tbl", &img, NULL);
	text = describe(items);
	want = pf_xasprintf("Put IMAGE#%s IMAGE|Put UNMATCHED 2026-05-03T09:14:07Z#%s|"
	                    "Put NAME#img_0001.jpg 2026-05-03T09:14:07Z#%s|"
	                    "Put PHOTOS 2026-05-03T09:14:07Z#%s|"
	                    "Check FENCE FENCE attribute_not_exists(pk)|",
	                    img.id, img.id, img.id, img.id);
	assert_string_equal(text, want);
	free(text);
	free(want);
	json_decref(items);
	pf_catalog_image_free(&img);

	/* processed → deleted: every entry goes, the image item stays as a tombstone */
	fill(&old, codes, 1);
	fill(&img, NULL, 0);
	img.status = PF_IMAGE_DELETED;
	img.version = 2;
	items = pf_catalog_transact_items("tbl", &img, &old);
	text = describe(items);
	want = pf_xasprintf("Put IMAGE#%s IMAGE|Delete CODE#10423 2026-05-03T09:14:07Z#%s|"
	                    "Delete NAME#img_0001.jpg 2026-05-03T09:14:07Z#%s|"
	                    "Delete PHOTOS 2026-05-03T09:14:07Z#%s|"
	                    "Check FENCE FENCE attribute_not_exists(pk)|",
	                    img.id, img.id, img.id, img.id);
	assert_string_equal(text, want);
	free(text);
	free(want);
	json_decref(items);
	pf_catalog_image_free(&img);

	/* failed → listed under FAILED by processing time */
	fill(&img, NULL, 0);
	img.status = PF_IMAGE_FAILED;
	img.version = 2;
	items = pf_catalog_transact_items("tbl", &img, &old);
	text = describe(items);
	want = pf_xasprintf("Put IMAGE#%s IMAGE|Delete CODE#10423 2026-05-03T09:14:07Z#%s|"
	                    "Delete PHOTOS 2026-05-03T09:14:07Z#%s|"
	                    "Put FAILED 2026-05-03T10:00:00.000Z#%s|"
	                    "Put NAME#img_0001.jpg 2026-05-03T09:14:07Z#%s|"
	                    "Check FENCE FENCE attribute_not_exists(pk)|",
	                    img.id, img.id, img.id, img.id, img.id);
	assert_string_equal(text, want);
	free(text);
	free(want);
	json_decref(items);
	pf_catalog_image_free(&img);
	pf_catalog_image_free(&old);
}

static void test_cursor(void **state)
{
	const char *sk = "2026-05-03T09:14:07Z#0123456789abcdef0123456789abcdef";
	char *c = pf_catalog_cursor_encode(sk);
	char *back = pf_catalog_cursor_decode(c);

	assert_null(strpbrk(c, "+/="));
	assert_non_null(back);
	assert_string_equal(back, sk);
	free(back);
	free(c);
	assert_null(pf_catalog_cursor_decode(""));
	assert_null(pf_catalog_cursor_decode("%%%"));
	assert_null(pf_catalog_cursor_decode("bm90LWEtY3Vyc29y")); /* "not-a-cursor" */
	c = pf_catalog_cursor_encode("x\x01y#0123456789abcdef0123456789abcdef");
	assert_null(pf_catalog_cursor_decode(c)); /* control characters */
	free(c);
}

/* Entries read back typed: the photo entries a transaction writes and the
 * failed one, with what a listing shows of each. */
static void test_entries_read_back(void **state)
{
	const char *codes[] = {"10423", "20577"};
	struct pf_catalog_image img, e;
	struct pf_error err;
	json_t *items, *item;

	fill(&img, codes, 2);
	items = pf_catalog_transact_items("tbl", &img, NULL);
	item = json_object_get(json_object_get(json_array_get(items, 1), "Put"), "Item");
	assert_int_equal(pf_catalog_entry_from_item(item, &e, &err), 0);
	assert_string_equal(e.id, img.id);
	assert_int_equal(e.status, PF_IMAGE_PROCESSED);
	assert_string_equal(e.key, "day 1/IMG_0001.jpg");
	assert_string_equal(e.fullsize_key, "fullsize/x.jpg");
	assert_string_equal(e.thumbnail_key, "thumbnail/x.jpg");
	assert_int_equal(e.width, 2000);
	assert_int_equal(e.thumbnail_height, 333);
	assert_string_equal(e.taken_at, "2026-05-03T09:14:07Z");
	assert_int_equal(e.ncodes, 2);
	assert_string_equal(e.codes[0], "10423");
	assert_null(e.reason);
	pf_catalog_image_free(&e);
	json_decref(items);

	img.status = PF_IMAGE_FAILED;
	img.reason = pf_xstrdup("not_an_image");
	img.message = pf_xstrdup("the bytes are not a photo");
	items = pf_catalog_transact_items("tbl", &img, NULL);
	item = json_object_get(json_object_get(json_array_get(items, 1), "Put"), "Item");
	assert_int_equal(pf_catalog_entry_from_item(item, &e, &err), 0);
	assert_int_equal(e.status, PF_IMAGE_FAILED);
	assert_string_equal(e.reason, "not_an_image");
	assert_string_equal(e.message, "the bytes are not a photo");
	assert_string_equal(e.processed_at, "2026-05-03T10:00:00.000Z");
	assert_null(e.fullsize_key);
	pf_catalog_image_free(&e);
	json_decref(items);
	pf_catalog_image_free(&img);

	item = json_pack("{s:{s:s}}", "id", "S", "not-an-id");
	assert_int_equal(pf_catalog_entry_from_item(item, &e, &err), PF_EINVAL);
	json_decref(item);
}

static void test_tombstone(void **state)
{
	const char *codes[] = {"10423"};
	struct pf_catalog_image img;

	fill(&img, codes, 1);
	img.codes_manual = true;
	pf_catalog_image_make_tombstone(&img);
	assert_int_equal(img.status, PF_IMAGE_DELETED);
	assert_int_equal(img.ncodes, 0);
	assert_false(img.codes_manual);
	assert_null(img.fullsize_key);
	assert_null(img.thumbnail_key);
	/* what orders later events against it stays */
	assert_string_equal(img.sequencer, "0000000000000000000000000000000A");
	assert_string_equal(img.sort_time, "2026-05-03T09:14:07Z");
	assert_string_equal(img.key, "day 1/IMG_0001.jpg");
	pf_catalog_image_free(&img);
}

static void test_id_and_cursor_validity(void **state)
{
	char id[PF_CATALOG_ID_LEN + 1];
	char *c;

	pf_catalog_image_id("b", "k.jpg", id);
	assert_true(pf_catalog_id_is_valid(id));
	assert_false(pf_catalog_id_is_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(pf_catalog_id_is_valid("0123456789abcdef0123456789abcde"));
	assert_false(pf_catalog_id_is_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(pf_catalog_id_is_valid(""));
	c = pf_catalog_cursor_encode("2026-05-03T09:14:07Z#0123456789abcdef0123456789abcdef");
	assert_true(pf_catalog_cursor_is_valid(c));
	free(c);
	assert_false(pf_catalog_cursor_is_valid("bm90LWEtY3Vyc29y"));
	assert_false(pf_catalog_cursor_is_valid(""));
}

/* WebP variant keys: in the image item and every listing entry when set,
 * absent (NULL after reading) for photos processed before them; cleared by a
 * tombstone and listed with the JPEGs for deletion. */
static void test_webp_keys(void **state)
{
	const char *codes[] = {"10423"};
	struct pf_catalog_image img, back, e, copy;
	struct pf_error err;
	const char *keys[PF_CATALOG_MAX_VARIANTS];
	json_t *item, *items, *entry;

	fill(&img, codes, 1);
	assert_int_equal(pf_catalog_image_variant_keys(&img, keys), 2);
	assert_string_equal(keys[0], "fullsize/x.jpg");
	assert_string_equal(keys[1], "thumbnail/x.jpg");
	item = pf_catalog_image_item(&img);
	assert_null(json_object_get(item, "fullsizeWebpKey"));
	assert_null(json_object_get(item, "thumbnailWebpKey"));
	assert_int_equal(pf_catalog_image_from_item(item, &back, &err), 0);
	assert_null(back.fullsize_webp_key);
	assert_null(back.thumbnail_webp_key);
	pf_catalog_image_free(&back);
	json_decref(item);

	img.fullsize_webp_key = pf_xstrdup("fullsize/x.webp");
	img.thumbnail_webp_key = pf_xstrdup("thumbnail/x.webp");
	assert_int_equal(pf_catalog_image_variant_keys(&img, keys), 4);
	assert_string_equal(keys[2], "fullsize/x.webp");
	assert_string_equal(keys[3], "thumbnail/x.webp");
	item = pf_catalog_image_item(&img);
	assert_string_equal(s_of(item, "fullsizeWebpKey"), "fullsize/x.webp");
	assert_string_equal(s_of(item, "thumbnailWebpKey"), "thumbnail/x.webp");
	assert_int_equal(pf_catalog_image_from_item(item, &back, &err), 0);
	assert_string_equal(back.fullsize_webp_key, "fullsize/x.webp");
	assert_string_equal(back.thumbnail_webp_key, "thumbnail/x.webp");
	assert_string_equal(back.fullsize_key, "fullsize/x.jpg");
	pf_catalog_image_free(&back);
	json_decref(item);

	/* The code entry and the name entry both carry them. */
	items = pf_catalog_transact_items("tbl", &img, NULL);
	for (size_t i = 1; i <= 2; i++) {
		entry = json_object_get(json_object_get(json_array_get(items, i), "Put"), "Item");
		assert_string_equal(s_of(entry, "thumbnailWebpKey"), "thumbnail/x.webp");
		assert_int_equal(pf_catalog_entry_from_item(entry, &e, &err), 0);
		assert_string_equal(e.fullsize_webp_key, "fullsize/x.webp");
		assert_string_equal(e.thumbnail_webp_key, "thumbnail/x.webp");
		pf_catalog_image_free(&e);
	}
	json_decref(items);

	pf_catalog_image_copy(&copy, &img);
	assert_string_equal(copy.thumbnail_webp_key, "thumbnail/x.webp");
	assert_ptr_not_equal(copy.thumbnail_webp_key, img.thumbnail_webp_key);
	pf_catalog_image_make_tombstone(&copy);
	assert_null(copy.fullsize_webp_key);
	assert_null(copy.thumbnail_webp_key);
	assert_int_equal(pf_catalog_image_variant_keys(&copy, keys), 0);
	item = pf_catalog_image_item(&copy);
	assert_null(json_object_get(item, "fullsizeWebpKey"));
	json_decref(item);
	pf_catalog_image_free(&copy);
	pf_catalog_image_free(&img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id_is_stable_and_distinct),
	    cmocka_unit_test(test_item_fields),
	    cmocka_unit_test(test_transaction_first_write),
	    cmocka_unit_test(test_transaction_changed_codes),
	    cmocka_unit_test(test_transaction_unmatched_failed_deleted),
	    cmocka_unit_test(test_cursor),
	    cmocka_unit_test(test_entries_read_back),
	    cmocka_unit_test(test_tombstone),
	    cmocka_unit_test(test_id_and_cursor_validity),
	    cmocka_unit_test(test_webp_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
