/* Unit tests for the per-client token buckets: burst, refill, Retry-After, LRU bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/ratelimit.h"

static void test_burst_then_refill(void **state)
{
	struct pf_ratelimit *rl = pf_ratelimit_new(10, 6000, 100);
	int64_t retry = 0;

	for (int i = 0; i < 10; i++)
		assert_true(pf_ratelimit_take(rl, "1.2.3.4", 1000, &retry));
	assert_false(pf_ratelimit_take(rl, "1.2.3.4", 1000, &retry));
	assert_int_equal(retry, 6);
	assert_false(pf_ratelimit_take(rl, "1.2.3.4", 5500, &retry));
	assert_int_equal(retry, 2); /* 1.5 s left, rounded up */
	assert_true(pf_ratelimit_take(rl, "1.2.3.4", 7000, &retry));
	assert_false(pf_ratelimit_take(rl, "1.2.3.4", 7000, &retry));
	/* Another client has its own bucket. */
	assert_true(pf_ratelimit_take(rl, "5.6.7.8", 7000, &retry));
	/* Idle long enough, the whole burst is back, no more. */
	for (int i = 0; i < 10; i++)
		assert_true(pf_ratelimit_take(rl, "1.2.3.4", 1000000, &retry));
	assert_false(pf_ratelimit_take(rl, "1.2.3.4", 1000000, &retry));
	pf_ratelimit_free(rl);
}

static void test_frequent_small_waits_still_refill(void **state)
{
	struct pf_ratelimit *rl = pf_ratelimit_new(1, 6000, 10);
	int64_t retry;

	assert_true(pf_ratelimit_take(rl, "a", 0, &retry));
	for (int64_t t = 1; t < 6000; t += 7)
		assert_false(pf_ratelimit_take(rl, "a", t, &retry));
	assert_true(pf_ratelimit_take(rl, "a", 6000, &retry));
	pf_ratelimit_free(rl);
}

static void test_has_does_not_spend(void **state)
{
	struct pf_ratelimit *rl = pf_ratelimit_new(2, 1000, 10);
	int64_t retry = 0;

	assert_true(pf_ratelimit_has(rl, "a", 0, &retry));
	assert_true(pf_ratelimit_has(rl, "a", 0, &retry));
	assert_true(pf_ratelimit_take(rl, "a", 0, &retry));
	assert_true(pf_ratelimit_take(rl, "a", 0, &retry));
	assert_false(pf_ratelimit_has(rl, "a", 0, &retry));
	assert_int_equal(retry, 1);
	pf_ratelimit_free(rl);
}

static void test_bounded_least_recent_goes(void **state)
{
	struct pf_ratelimit *rl = pf_ratelimit_new(1, 60000, 3);
	int64_t retry;

	assert_true(pf_ratelimit_take(rl, "a", 0, &retry));
	assert_true(pf_ratelimit_take(rl, "b", 0, &retry));
	assert_true(pf_ratelimit_take(rl, "c", 0, &retry));
	assert_false(pf_ratelimit_take(rl, "a", 1, &retry)); /* a is now the most recent */
	assert_true(pf_ratelimit_take(rl, "d", 2, &retry));  /* evicts b */
	assert_int_equal(pf_ratelimit_count(rl), 3);
	assert_false(pf_ratelimit_take(rl, "a", 3, &retry)); /* still known */
	assert_false(pf_ratelimit_take(rl, "c", 3, &retry));
	assert_true(pf_ratelimit_take(rl, "b", 4, &retry)); /* forgotten: a full bucket */
	for (int i = 0; i < 1000; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		pf_ratelimit_take(rl, key, 5, &retry);
	}
	assert_int_equal(pf_ratelimit_count(rl), 3);
	pf_ratelimit_free(rl);
}

static void test_same_item_again_is_free(void **state)
{
	struct pf_ratelimit *rl = pf_ratelimit_new(2, 60000, 10);
	uint64_t a = pf_ratelimit_item("10432"), b = pf_ratelimit_item("10433");
	int64_t retry;

	assert_int_not_equal(a, b);
	assert_true(pf_ratelimit_take_item(rl, "c", a, 0, &retry));
	for (int i = 0; i < 100; i++) /* polling the same code */
		assert_true(pf_ratelimit_take_item(rl, "c", a, i, &retry));
	assert_true(pf_ratelimit_take_item(rl, "c", b, 200, &retry));
	assert_false(pf_ratelimit_take_item(rl, "c", a, 300, &retry)); /* a is not the last */
	assert_true(pf_ratelimit_take_item(rl, "c", b, 300, &retry));  /* b still is */
	assert_int_not_equal(pf_ratelimit_item(""), 0);
	pf_ratelimit_free(rl);
}

static void test_long_keys_cut(void **state)
{
	struct pf_ratelimit *rl = pf_ratelimit_new(1, 60000, 3);
	char a[200], b[200];
	int64_t retry;

	memset(a, 'x', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	memcpy(b, a, sizeof(b));
	b[150] = 'y'; /* differs only past the kept length */
	assert_true(pf_ratelimit_take(rl, a, 0, &retry));
	assert_false(pf_ratelimit_take(rl, b, 0, &retry));
	pf_ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_refill),
	    cmocka_unit_test(test_frequent_small_waits_still_refill),
	    cmocka_unit_test(test_has_does_not_spend),
	    cmocka_unit_test(test_bounded_least_recent_goes),
	    cmocka_unit_test(test_same_item_again_is_free),
	    cmocka_unit_test(test_long_keys_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
