/* Unit tests for the small helpers of util.c that have no other user in
 * the tests: bounded copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/util.h"

static void test_copy_truncated(void **state)
{
	char small[4];
	char big[16];

	memset(small, 'x', sizeof(small));
	pf_copy_truncated(small, sizeof(small), "abcdef", 6);
	assert_string_equal(small, "abc");
	pf_copy_truncated(big, sizeof(big), "abcdef", 3);
	assert_string_equal(big, "abc");
	pf_copy_truncated(big, sizeof(big), "ab\0cd", 5);
	assert_memory_equal(big, "ab\0cd", 6);
	pf_copy_truncated(big, sizeof(big), NULL, 0);
	assert_string_equal(big, "");
	pf_copy_truncated(small, 1, "abc", 3);
	assert_string_equal(small, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
