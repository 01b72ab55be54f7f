/* Unit tests for the consumer's pure decisions: which keys, how long to wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "photofinish/consumer.h"

static void test_key_is_wanted(void **state)
{
	assert_true(pf_consumer_key_is_wanted("IMG_0001.JPG", NULL));
	assert_true(pf_consumer_key_is_wanted("a/b c.jpeg", ""));
	assert_true(pf_consumer_key_is_wanted("x.png", NULL));
	assert_true(pf_consumer_key_is_wanted("x.WebP", NULL));
	assert_true(pf_consumer_key_is_wanted("x.tif", NULL));
	assert_true(pf_consumer_key_is_wanted("x.tiff", NULL));
	assert_false(pf_consumer_key_is_wanted("x.gif", NULL));
	assert_false(pf_consumer_key_is_wanted("notes.txt", NULL));
	assert_false(pf_consumer_key_is_wanted(".jpg", NULL));
	assert_false(pf_consumer_key_is_wanted("jpg", NULL));
	assert_true(pf_consumer_key_is_wanted("race/2026/a.jpg", "race/"));
	assert_false(pf_consumer_key_is_wanted("other/a.jpg", "race/"));
}

static void test_retry_visibility_grows_and_is_capped(void **state)
{
	assert_int_equal(pf_consumer_retry_visibility(0), 15);
	assert_int_equal(pf_consumer_retry_visibility(1), 15);
	assert_int_equal(pf_consumer_retry_visibility(2), 30);
	assert_int_equal(pf_consumer_retry_visibility(3), 60);
	assert_int_equal(pf_consumer_retry_visibility(7), 900);
	assert_int_equal(pf_consumer_retry_visibility(1000000), 900);
}

static void expect_key(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

/* The JPEG and WebP keys of one version differ only in the extension; the
 * tag rule is the same for both. */
static void test_variant_keys(void **state)
{
	const char *id = "0123456789abcdef0123456789abcdef";

	expect_key(pf_consumer_variant_key(id, "5d41402abc4b2a76b9719d911017c592", "00AB",
	                                   "fullsize", "jpg"),
	           "fullsize/0123456789abcdef0123456789abcdef-5d41402abc4b2a76.jpg");
	expect_key(pf_consumer_variant_key(id, "5d41402abc4b2a76b9719d911017c592", "00AB",
	                                   "thumbnail", "webp"),
	           "thumbnail/0123456789abcdef0123456789abcdef-5d41402abc4b2a76.webp");
	/* A multipart ETag's dash is dropped; no ETag: the sequencer. */
	expect_key(pf_consumer_variant_key(id, "9b2cf535f27731c9-2", "00AB", "fullsize", "webp"),
	           "fullsize/0123456789abcdef0123456789abcdef-9b2cf535f27731c9.webp");
	expect_key(
	    pf_consumer_variant_key(id, "", "0000000000000000000000000000000A", "fullsize", "webp"),
	    "fullsize/0123456789abcdef0123456789abcdef-0000000000000000.webp");
	expect_key(pf_consumer_variant_key(id, NULL, NULL, "thumbnail", "webp"),
	           "thumbnail/0123456789abcdef0123456789abcdef.webp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_is_wanted),
	    cmocka_unit_test(test_retry_visibility_grows_and_is_capped),
	    cmocka_unit_test(test_variant_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
