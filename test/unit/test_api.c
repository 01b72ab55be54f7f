/* Unit tests for the API's pure parts: participant code normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/api.h"

static void expect_code(const char *in, const char *out)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", in);
	if (!out) {
		if (pf_api_normalize_code(buf))
			fail_msg("\"%s\" accepted as \"%s\"", in, buf);
		return;
	}
	if (!pf_api_normalize_code(buf))
		fail_msg("\"%s\" refused", in);
	assert_string_equal(buf, out);
}

static void test_normalize_code(void **state)
{
	expect_code("10423", "10423");
	expect_code("  ab-7 ", "AB-7");
	expect_code("\t x_y.z\n", "X_Y.Z");
	expect_code("A", "A");
	expect_code("1234567890123456789012345678901234567890123456789012345678901234",
	            "1234567890123456789012345678901234567890123456789012345678901234");
	expect_code("12345678901234567890123456789012345678901234567890123456789012345", NULL);
	expect_code("", NULL);
	expect_code("   ", NULL);
	expect_code("10 423", NULL);
	expect_code("a/b", NULL);
	expect_code("é", NULL);
	expect_code("%00", NULL);
	expect_code(".", NULL);
	expect_code("..", NULL);
	expect_code("...", NULL);
	expect_code(".5", ".5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
