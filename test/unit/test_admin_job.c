/* Unit tests for admin job records: ids, the API's JSON, the stored form read back, staleness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/admin_job.h"
#include "photofinish/util.h"

/* 2026-05-03T10:15:22.120Z */
#define T0 1777803322120LL

static void test_ids_sort_by_start(void **state)
{
	const unsigned char rnd[3] = {0x3f, 0x9a, 0x1c};
	char a[PF_CATALOG_JOB_ID_MAX + 1], b[PF_CATALOG_JOB_ID_MAX + 1];

	pf_admin_job_make_id(PF_ADMIN_JOB_REPROCESS, T0, rnd, a);
	assert_string_equal(a, "20260503T101522Z-reprocess-3f9a1c");
	assert_true(pf_catalog_job_id_is_valid(a));
	pf_admin_job_make_id(PF_ADMIN_JOB_CLEAR, T0 + 1000, rnd, b);
	assert_true(strcmp(a, b) < 0);
}

static struct pf_admin_job sample(void)
{
	struct pf_admin_job job = {0};

	snprintf(job.id, sizeof(job.id), "20260503T101522Z-reset-000001");
	job.kind = PF_ADMIN_JOB_RESET;
	job.state = PF_ADMIN_JOB_RUNNING;
	snprintf(job.phase, sizeof(job.phase), "catalog");
	job.by = pf_xstrdup("alice");
	job.client = pf_xstrdup("10.0.3.7");
	job.task = pf_xstrdup("7c1e0000aaaa");
	job.attempts = 2;
	job.started_ms = T0;
	job.updated_ms = T0 + 12000;
	job.total = -1;
	job.originals_deleted = 40;
	job.items_deleted = 300;
	job.position = pf_xstrdup("opaque-position");
	return job;
}

static void test_api_json(void **state)
{
	struct pf_admin_job job = sample();
	json_t *doc = pf_admin_job_json(&job, T0 + 15500, false);

	assert_string_equal(json_string_value(json_object_get(doc, "kind")), "reset");
	assert_string_equal(json_string_value(json_object_get(doc, "state")), "running");
	assert_string_equal(json_string_value(json_object_get(doc, "phase")), "catalog");
	assert_int_equal(json_integer_value(json_object_get(doc, "done")), 340);
	assert_true(json_is_null(json_object_get(doc, "total")));
	assert_int_equal(json_integer_value(json_object_get(doc, "seconds")), 15);
	assert_int_equal(json_integer_value(json_object_get(doc, "originalsDeleted")), 40);
	assert_string_equal(json_string_value(json_object_get(doc, "startedAt")),
	                    "2026-05-03T10:15:22.120Z");
	assert_true(json_is_null(json_object_get(doc, "finishedAt")));
	/* What only the runner needs stays out of the API. */
	assert_null(json_object_get(doc, "position"));
	assert_null(json_object_get(doc, "client"));
	assert_null(json_object_get(doc, "listed"));
	json_decref(doc);
	pf_admin_job_free(&job);
}

static void test_stored_round_trip(void **state)
{
	struct pf_admin_job job = sample(), back;
	json_t *doc = pf_admin_job_json(&job, T0 + 15500, true);
	char *text = json_dumps(doc, JSON_COMPACT);
	struct pf_error err;

	assert_int_equal(pf_admin_job_parse(text, &back, &err), 0);
	assert_string_equal(back.id, job.id);
	assert_int_equal(back.kind, PF_ADMIN_JOB_RESET);
	assert_int_equal(back.state, PF_ADMIN_JOB_RUNNING);
	assert_string_equal(back.phase, "catalog");
	assert_string_equal(back.by, "alice");
	assert_string_equal(back.client, "10.0.3.7");
	assert_string_equal(back.position, "opaque-position");
	assert_int_equal(back.attempts, 2);
	assert_int_equal(back.started_ms, T0);
	assert_int_equal(back.updated_ms, T0 + 12000);
	assert_int_equal(back.total, -1);
	assert_int_equal(back.items_deleted, 300);
	assert_int_equal(back.originals_deleted, 40);
	assert_null(back.error);
	pf_admin_job_free(&back);
	free(text);
	json_decref(doc);

	assert_int_equal(pf_admin_job_parse(
	                     "{\"id\":\"x\",\"kind\":\"nuke\",\"state\":\"running\"}", &back, &err),
	                 PF_EINVAL);
	assert_int_equal(pf_admin_job_parse("not json", &back, &err), PF_EINVAL);
	assert_int_equal(
	    pf_admin_job_parse("{\"id\":\"../x\",\"kind\":\"clear\",\"state\":\"done\"}", &back,
	                       &err),
	    PF_EINVAL);
	pf_admin_job_free(&job);
}

static void test_staleness(void **state)
{
	struct pf_admin_job job = sample();

	assert_false(pf_admin_job_is_stale(&job, job.updated_ms + 60000, 60000));
	assert_true(pf_admin_job_is_stale(&job, job.updated_ms + 60001, 60000));
	job.state = PF_ADMIN_JOB_DONE;
	assert_false(pf_admin_job_is_stale(&job, job.updated_ms + 600000, 60000));
	pf_admin_job_free(&job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ids_sort_by_start),
	    cmocka_unit_test(test_api_json),
	    cmocka_unit_test(test_stored_round_trip),
	    cmocka_unit_test(test_staleness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
