/* Unit tests for route matching: literals, parameters, rest parameters,
 * table order, wrong methods and the Allow text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/route.h"

static void h_a(struct pf_api_request *r)
{
}

static void h_b(struct pf_api_request *r)
{
}

static const struct pf_route table[] = {
    {PF_METHOD_GET | PF_METHOD_HEAD, "/healthz", h_a},
    {PF_METHOD_GET | PF_METHOD_HEAD, "/participants/{code*}", h_b},
    {PF_METHOD_GET | PF_METHOD_DELETE, "/admin/images/{id}", h_a},
    {PF_METHOD_PUT, "/admin/images/{id}/codes", h_b},
    {PF_METHOD_GET, "/admin/unmatched", h_a},
    {PF_METHOD_POST, "/admin/unmatched", h_b},
    {PF_METHOD_GET, "/a/{x}/b/{y}", h_a},
};
#define N (sizeof(table) / sizeof(table[0]))

static const struct pf_route *match(unsigned method, const char *path,
                                    struct pf_route_params *params, unsigned *allowed)
{
	return pf_route_match(table, N, method, path, params, allowed);
}

static void test_literal(void **state)
{
	struct pf_route_params p;
	unsigned allowed;

	assert_ptr_equal(match(PF_METHOD_GET, "/healthz", &p, &allowed), &table[0]);
	assert_int_equal(p.n, 0);
	assert_ptr_equal(match(PF_METHOD_HEAD, "/healthz", &p, &allowed), &table[0]);
	assert_null(match(PF_METHOD_GET, "/healthz/", &p, &allowed));
	assert_int_equal(allowed, 0);
	assert_null(match(PF_METHOD_GET, "/health", &p, &allowed));
	assert_null(match(PF_METHOD_GET, "", &p, &allowed));
	assert_null(match(PF_METHOD_GET, "/", &p, &allowed));
}

static void test_parameters(void **state)
{
	struct pf_route_params p;
	unsigned allowed;
	char v[64];

	assert_ptr_equal(match(PF_METHOD_PUT, "/admin/images/abc/codes", &p, &allowed), &table[3]);
	assert_true(pf_route_param(&p, "id", v, sizeof(v)));
	assert_string_equal(v, "abc");
	assert_false(pf_route_param(&p, "i", v, sizeof(v)));
	assert_false(pf_route_param(&p, "code", v, sizeof(v)));
	assert_false(pf_route_param(&p, "id", v, 3)); /* does not fit */

	assert_ptr_equal(match(PF_METHOD_GET, "/a/1/b/two%2F", &p, &allowed), &table[6]);
	assert_true(pf_route_param(&p, "x", v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_true(pf_route_param(&p, "y", v, sizeof(v)));
	assert_string_equal(v, "two%2F");

	/* a parameter is one non-empty segment */
	assert_null(match(PF_METHOD_GET, "/admin/images/", &p, &allowed));
	assert_null(match(PF_METHOD_GET, "/admin/images/a/b", &p, &allowed));
	assert_null(match(PF_METHOD_GET, "/a//b/1", &p, &allowed));
}

static void test_rest_parameter(void **state)
{
	struct pf_route_params p;
	unsigned allowed;
	char v[64];

	assert_ptr_equal(match(PF_METHOD_GET, "/participants/10423", &p, &allowed), &table[1]);
	assert_true(pf_route_param(&p, "code", v, sizeof(v)));
	assert_string_equal(v, "10423");
	assert_ptr_equal(match(PF_METHOD_GET, "/participants/a/b", &p, &allowed), &table[1]);
	assert_true(pf_route_param(&p, "code", v, sizeof(v)));
	assert_string_equal(v, "a/b");
	assert_ptr_equal(match(PF_METHOD_GET, "/participants/", &p, &allowed), &table[1]);
	assert_true(pf_route_param(&p, "code", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_null(match(PF_METHOD_GET, "/participants", &p, &allowed));
}

static void test_wrong_method(void **state)
{
	struct pf_route_params p;
	unsigned allowed;
	char text[64];

	assert_null(match(PF_METHOD_POST, "/admin/images/abc", &p, &allowed));
	assert_int_equal(allowed, PF_METHOD_GET | PF_METHOD_DELETE);
	/* two routes with one pattern: the methods of both */
	assert_ptr_equal(match(PF_METHOD_POST, "/admin/unmatched", &p, &allowed), &table[5]);
	assert_null(match(PF_METHOD_DELETE, "/admin/unmatched", &p, &allowed));
	assert_int_equal(allowed, PF_METHOD_GET | PF_METHOD_POST);
	pf_route_methods_text(PF_METHOD_GET | PF_METHOD_HEAD | PF_METHOD_OPTIONS, text,
	                      sizeof(text));
	assert_string_equal(text, "GET, HEAD, OPTIONS");
	pf_route_methods_text(0, text, sizeof(text));
	assert_string_equal(text, "");
	pf_route_methods_text(PF_METHOD_DELETE | PF_METHOD_PUT, text, 8);
	assert_string_equal(text, "PUT"); /* what fits */
}

static void test_label(void **state)
{
	char label[32];

	pf_route_label("/participants/{code*}", label, sizeof(label));
	assert_string_equal(label, "/participants/{code}");
	pf_route_label("/admin/images/{id}/codes", label, sizeof(label));
	assert_string_equal(label, "/admin/images/{id}/codes");
	pf_route_label("/admin/images/{id}/codes", label, 8);
	assert_string_equal(label, "/admin/");
}

static void test_bounds(void **state)
{
	static const struct pf_route many[] = {
	    {PF_METHOD_GET, "/{a}/{b}/{c}/{d}/{e}", h_a},
	};
	struct pf_route_params p;
	unsigned allowed;
	char long_path[1100];

	assert_null(pf_route_match(many, 1, PF_METHOD_GET, "/1/2/3/4/5", &p, &allowed));
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[0] = '/';
	memcpy(long_path + 1, "a/1/b/", 6);
	long_path[sizeof(long_path) - 1] = '\0';
	assert_null(match(PF_METHOD_GET, long_path, &p, &allowed));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_literal),        cmocka_unit_test(test_parameters),
	    cmocka_unit_test(test_rest_parameter), cmocka_unit_test(test_wrong_method),
	    cmocka_unit_test(test_label),          cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
