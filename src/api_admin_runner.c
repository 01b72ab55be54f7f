/*
 * The operators' side of the runners' features: photographers in the
 * status (counts and camera clock offsets) and setting a photographer's
 * clock offset, which reprocesses their photos so stored capture times
 * are corrected. Loop thread only.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin.h"
#include "photofinish/admin_job.h"
#include "photofinish/admin_jobs.h"
#include "photofinish/catalog_index.h"
#include "photofinish/config.h"
#include "photofinish/util.h"

/* ---- status ------------------------------------------------------------------ */

struct status_more {
	struct pf_api_request *r;
	json_t *doc;
	json_t *photographers; /* name -> {...} */
};

static void status_more_free(struct status_more *sm)
{
	json_decref(sm->doc);
	json_decref(sm->photographers);
	free(sm);
}

static json_t *photographer_row(struct status_more *sm, const char *name)
{
	json_t *row = json_object_get(sm->photographers, name);

	if (!row) {
		row = json_pack("{s:s,s:i,s:i,s:i,s:i}", "name", name, "processed", 0, "unmatched",
		                0, "failed", 0, "offsetSeconds", 0);
		json_object_set_new(sm->photographers, name, row);
	}
	return row;
}

static void on_status_clocks(const struct pf_catalog_clock *clocks, size_t n,
                             const struct pf_error *err, void *arg)
{
	struct status_more *sm = arg;
	json_t *list = json_array();
	const char *name;
	json_t *row;

	if (err->code) {
		json_decref(list);
		pf_api__admin_reply_aws_error(sm->r, err);
		status_more_free(sm);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_object_set_new(photographer_row(sm, clocks[i].name), "offsetSeconds",
		                    json_integer(clocks[i].offset_s));
	/* Objects iterate in insertion order; the answer is by name. */
	json_object_foreach(sm->photographers, name, row) json_array_append(list, row);
	for (size_t a = 1; a < json_array_size(list); a++)
		for (size_t b = a; b > 0; b--) {
			json_t *x = json_array_get(list, b - 1), *y = json_array_get(list, b);

			if (strcmp(json_string_value(json_object_get(x, "name")),
			           json_string_value(json_object_get(y, "name"))) <= 0)
				break;
			json_incref(x);
			json_array_set(list, b - 1, y);
			json_array_set_new(list, b, x);
		}
	json_object_set_new(sm->doc, "photographers", list);
	if (!json_object_get(sm->doc, "roster"))
		json_object_set_new(sm->doc, "roster", json_null());
	pf_api__reply_doc(sm->r, 200, json_incref(sm->doc));
	status_more_free(sm);
}

static void on_status_photographers(const struct pf_catalog_photographer_counts *list, size_t n,
                                    const struct pf_error *err, void *arg)
{
	struct status_more *sm = arg;
	struct pf_error e;

	if (err->code) {
		pf_api__admin_reply_aws_error(sm->r, err);
		status_more_free(sm);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *row = photographer_row(sm, list[i].name);

		json_object_set_new(row, "processed", json_integer(list[i].counts.processed));
		json_object_set_new(row, "unmatched", json_integer(list[i].counts.unmatched));
		json_object_set_new(row, "failed", json_integer(list[i].counts.failed));
	}
	if (pf_catalog_clocks_list(sm->r->api->d.catalog, on_status_clocks, sm, &e) < 0) {
		pf_api__admin_reply_aws_error(sm->r, &e);
		status_more_free(sm);
	}
}

void pf_api__admin_status_runners(struct pf_api_request *r, json_t *doc)
{
	struct status_more *sm = pf_xcalloc(1, sizeof(*sm));
	struct pf_error err;

	sm->r = r;
	sm->doc = doc;
	sm->photographers = json_object();
	pf_api__runner_status(r->api, doc);
	if (pf_catalog_photographers_list(r->api->d.catalog, on_status_photographers, sm, &err) <
	    0) {
		pf_api__admin_reply_aws_error(r, &err);
		status_more_free(sm);
	}
}

/* ---- clock offsets ----------------------------------------------------------- */

struct clock_change {
	struct pf_api_request *r;
	char name[48];
	int64_t offset_s;
	char *prefix;
};

static void clock_change_free(struct clock_change *cc)
{
	free(cc->prefix);
	free(cc);
}

static void on_clock_job(const struct pf_admin_job *job, const struct pf_error *err, void *arg)
{
	struct clock_change *cc = arg;
	struct pf_api_request *r = cc->r;
	json_t *fields = json_pack("{s:s,s:I,s:s}", "photographer", cc->name, "offsetSeconds",
	                           (json_int_t)cc->offset_s, "prefix", cc->prefix);

	if (err->code || !job) {
		json_object_set_new(fields, "error", json_string(err->message));
		pf_api__admin_audit(r, "photographer.clock", "failed", fields);
		if (err->code == PF_ETOOBIG)
			pf_api__reply_error(r, 503, "busy", err->message);
		else
			pf_api__admin_reply_aws_error(r, err);
		clock_change_free(cc);
		return;
	}
	json_object_set_new(fields, "job", json_string(job->id));
	pf_api__admin_audit(r, "photographer.clock", "ok", fields);
	pf_api__reply_doc(r, 202,
	                  json_pack("{s:s,s:I,s:o}", "photographer", cc->name, "offsetSeconds",
	                            (json_int_t)cc->offset_s, "job",
	                            pf_admin_job_json(job, pf_now_ms(), false)));
	clock_change_free(cc);
}

static void on_clock_stored(const struct pf_error *err, void *arg)
{
	struct clock_change *cc = arg;
	struct pf_api_request *r = cc->r;
	struct pf_admin_job_request req = {.kind = PF_ADMIN_JOB_REPROCESS,
	                                   .prefix = cc->prefix,
	                                   .by = r->who,
	                                   .client = r->client};
	struct pf_error e;

	if (err->code) {
		on_clock_job(NULL, err, cc);
		return;
	}
	/* Stored capture times are corrected by processing the photos again. */
	if (pf_admin_jobs_start(pf_admin_jobs(r->api->d.admin), &req, on_clock_job, cc, &e) < 0)
		on_clock_job(NULL, &e, cc);
}

void pf_api__put_clock(struct pf_api_request *r)
{
	const char *ingress = r->api->d.cfg->ingress_prefix ? r->api->d.cfg->ingress_prefix : "";
	struct clock_change *cc = pf_xcalloc(1, sizeof(*cc));
	json_t *doc;
	const json_t *off;
	struct pf_error err;

	cc->r = r;
	if (!pf_route_param(&r->params, "name", cc->name, sizeof(cc->name)) ||
	    !pf_catalog_photographer_is_valid(cc->name)) {
		pf_api__reply_error(r, 400, "invalid_photographer",
		                    "a photographer is 1 to 40 of a-z 0-9 _ - (starting with a "
		                    "letter or digit)");
		clock_change_free(cc);
		return;
	}
	doc = pf_api__read_body(r);
	if (!doc) {
		clock_change_free(cc);
		return;
	}
	off = json_object_get(doc, "offsetSeconds");
	if (!json_is_integer(off) || json_integer_value(off) < -PF_CATALOG_MAX_CLOCK_OFFSET ||
	    json_integer_value(off) > PF_CATALOG_MAX_CLOCK_OFFSET) {
		pf_api__reply_error(r, 400, "invalid_body",
		                    "send {\"offsetSeconds\": N}, a whole number of seconds the "
		                    "camera's clock is behind (positive) or ahead, at most 7 days");
		json_decref(doc);
		clock_change_free(cc);
		return;
	}
	cc->offset_s = json_integer_value(off);
	json_decref(doc);
	cc->prefix = pf_xasprintf("%s%s/", ingress, cc->name);
	if (!pf_api__wait(r)) {
		clock_change_free(cc);
		return;
	}
	if (pf_catalog_clock_put(r->api->d.catalog, cc->name, cc->offset_s, on_clock_stored, cc,
	                         &err) < 0)
		on_clock_job(NULL, &err, cc);
}
