/* Unit tests for the response cache: expiry, LRU bounds, tags, generation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/cache.h"

static struct pf_cache *make(size_t entries, size_t bytes, size_t entry_bytes)
{
	struct pf_cache_limits limits = {entries, bytes, entry_bytes};
	struct pf_cache *cache = NULL;
	struct pf_error err;

	assert_int_equal(pf_cache_new(&limits, &cache, &err), 0);
	return cache;
}

static void put(struct pf_cache *c, const char *key, const char *tag, const char *body,
                int64_t expires)
{
	pf_cache_put(c, key, tag, body, strlen(body), "\"e\"", expires);
}

static void test_hit_and_expiry(void **state)
{
	struct pf_cache *c = make(10, 1000, 100);
	struct pf_cache_hit hit;

	assert_false(pf_cache_get(c, "a", 0, &hit));
	put(c, "a", "A", "body-a", 1000);
	assert_true(pf_cache_get(c, "a", 999, &hit));
	assert_int_equal(hit.len, 6);
	assert_memory_equal(hit.body, "body-a", 6);
	assert_string_equal(hit.etag, "\"e\"");
	assert_false(pf_cache_get(c, "a", 1000, &hit));
	assert_int_equal(pf_cache_count(c), 0); /* the expired answer is gone */
	assert_int_equal(pf_cache_bytes(c), 0);
	pf_cache_free(c);
}

static void test_replaces_same_key(void **state)
{
	struct pf_cache *c = make(10, 1000, 100);
	struct pf_cache_hit hit;

	put(c, "a", "A", "old", 1000);
	put(c, "a", "A", "newer", 1000);
	assert_int_equal(pf_cache_count(c), 1);
	assert_int_equal(pf_cache_bytes(c), 5);
	assert_true(pf_cache_get(c, "a", 0, &hit));
	assert_memory_equal(hit.body, "newer", 5);
	pf_cache_free(c);
}

static void test_least_recently_used_goes_first(void **state)
{
	struct pf_cache *c = make(3, 1000, 100);
	struct pf_cache_hit hit;

	put(c, "a", "A", "1", 1000);
	put(c, "b", "B", "2", 1000);
	put(c, "c", "C", "3", 1000);
	assert_true(pf_cache_get(c, "a", 0, &hit)); /* a is now the most recent */
	put(c, "d", "D", "4", 1000);
	assert_int_equal(pf_cache_count(c), 3);
	assert_false(pf_cache_get(c, "b", 0, &hit));
	assert_true(pf_cache_get(c, "a", 0, &hit));
	assert_true(pf_cache_get(c, "c", 0, &hit));
	assert_true(pf_cache_get(c, "d", 0, &hit));
	pf_cache_free(c);
}

static void test_byte_bounds(void **state)
{
	struct pf_cache *c = make(100, 10, 6);
	struct pf_cache_hit hit;

	put(c, "big", "X", "1234567", 1000); /* over the per-entry bound */
	assert_int_equal(pf_cache_count(c), 0);
	put(c, "a", "A", "12345", 1000);
	put(c, "b", "B", "12345", 1000);
	assert_int_equal(pf_cache_bytes(c), 10);
	put(c, "c", "C", "1", 1000); /* 11 bytes would not fit: a goes */
	assert_false(pf_cache_get(c, "a", 0, &hit));
	assert_true(pf_cache_get(c, "b", 0, &hit));
	assert_int_equal(pf_cache_bytes(c), 6);
	pf_cache_free(c);
}

static void test_invalidate_by_tag_and_all(void **state)
{
	struct pf_cache *c = make(10, 1000, 100);
	struct pf_cache_hit hit;
	char *tags[] = {"10423", "NOPE"};
	uint64_t g0 = pf_cache_generation(c);

	put(c, "10423\n100\n", "10423", "x", 1000);
	put(c, "10423\n1\n", "10423", "y", 1000);
	put(c, "20577\n100\n", "20577", "z", 1000);
	pf_cache_invalidate(c, tags, 2);
	assert_int_equal(pf_cache_generation(c), g0 + 1);
	assert_false(pf_cache_get(c, "10423\n100\n", 0, &hit));
	assert_false(pf_cache_get(c, "10423\n1\n", 0, &hit));
	assert_true(pf_cache_get(c, "20577\n100\n", 0, &hit));
	pf_cache_invalidate(c, NULL, 0);
	assert_int_equal(pf_cache_generation(c), g0 + 2);
	assert_int_equal(pf_cache_count(c), 0);
	pf_cache_free(c);
}

static void test_refuses_inconsistent_limits(void **state)
{
	struct pf_cache_limits limits = {0, 10, 5};
	struct pf_cache *cache = NULL;
	struct pf_error err;

	assert_int_equal(pf_cache_new(&limits, &cache, &err), PF_EINVAL);
	limits = (struct pf_cache_limits){10, 10, 11};
	assert_int_equal(pf_cache_new(&limits, &cache, &err), PF_EINVAL);
	assert_null(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_and_expiry),
	    cmocka_unit_test(test_replaces_same_key),
	    cmocka_unit_test(test_least_recently_used_goes_first),
	    cmocka_unit_test(test_byte_bounds),
	    cmocka_unit_test(test_invalidate_by_tag_and_all),
	    cmocka_unit_test(test_refuses_inconsistent_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
