/* Unit tests for the Prometheus exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/metrics.h"
#include "photofinish/util.h"

static void test_render(void **state)
{
	struct pf_metrics *m;
	struct pf_buf out;

	pf_metrics_new(&m);
	pf_metrics_inc(m, "pf_things_total", "Things.", "kind=\"a\"", 2);
	pf_metrics_inc(m, "pf_things_total", "Things.", "kind=\"b\"", 1);
	pf_metrics_inc(m, "pf_things_total", "Things.", "kind=\"a\"", 3);
	pf_metrics_set(m, "pf_level", "Level.", NULL, 7);
	pf_metrics_observe(m, "pf_seconds", "Time.", "stage=\"x\"", 0.003);
	pf_metrics_observe(m, "pf_seconds", "Time.", "stage=\"x\"", 2);
	pf_buf_init(&out);
	pf_metrics_render(m, &out);
	assert_non_null(strstr(out.data,
	                       "# HELP pf_things_total Things.\n# TYPE pf_things_total counter\n"
	                       "pf_things_total{kind=\"a\"} 5\npf_things_total{kind=\"b\"} 1\n"));
	assert_non_null(strstr(out.data, "# TYPE pf_level gauge\npf_level 7\n"));
	assert_non_null(strstr(out.data, "pf_seconds_bucket{stage=\"x\",le=\"0.001\"} 0\n"));
	assert_non_null(strstr(out.data, "pf_seconds_bucket{stage=\"x\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(out.data, "pf_seconds_bucket{stage=\"x\",le=\"2.5\"} 2\n"));
	assert_non_null(strstr(out.data, "pf_seconds_bucket{stage=\"x\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(out.data, "pf_seconds_sum{stage=\"x\"} 2.003000\n"));
	assert_non_null(strstr(out.data, "pf_seconds_count{stage=\"x\"} 2\n"));
	/* One HELP per metric name. */
	assert_null(
	    strstr(strstr(out.data, "# HELP pf_things_total") + 1, "# HELP pf_things_total"));
	pf_buf_free(&out);
	pf_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
