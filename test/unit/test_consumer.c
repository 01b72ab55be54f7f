/* Unit tests for the consumer's pure decisions: which keys, how long to wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_is_wanted),
	    cmocka_unit_test(test_retry_visibility_grows_and_is_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
