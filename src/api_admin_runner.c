/*
 * The operators' side of the runners' features: photographers in the
 * status (counts and camera clock offsets) and setting a photographer's
 * clock offset, which reprocesses their photos so stored capture times
 * are corrected; the queue of runners' claims, approved (the code added to
 * the photo as an operator's edit) or rejected. Loop thread only.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin.h"
#include "photofinish/admin_job.h"
#include "photofinish/admin_jobs.h"
#include "photofinish/catalog_claims.h"
#include "photofinish/catalog_index.h"
#include "photofinish/config.h"
#include "photofinish/log.h"
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
	bool stored; /* the offset is saved; only the reprocess did not start */
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
		struct pf_error told = *err;

		/* New uploads use a saved offset at once: say so, and what is left. */
		if (cc->stored)
			snprintf(
			    told.message, sizeof(told.message),
			    "the offset is saved and new uploads use it, but reprocessing the "
			    "photos already taken could not start (%.300s): set it again later",
			    err->message);
		json_object_set_new(fields, "error", json_string(told.message));
		pf_api__admin_audit(r, "photographer.clock", "failed", fields);
		if (err->code == PF_ETOOBIG)
			pf_api__reply_error(r, 503, "busy", told.message);
		else
			pf_api__admin_reply_aws_error(r, &told);
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
	cc->stored = true;
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

/* ---- claims ------------------------------------------------------------------ */

#define CLAIMS_DEFAULT_LIMIT 20

/* A page of claims, each with its photo's record (read one by one). */
struct claims_page {
	struct pf_api_request *r;
	struct pf_catalog_claim *claims;
	size_t n, next;
	json_t *rows;
	char *cursor;
};

static void claims_page_free(struct claims_page *cp)
{
	free(cp->claims);
	json_decref(cp->rows);
	free(cp->cursor);
	free(cp);
}

static void claims_next(struct claims_page *cp);

static void on_claim_image(const struct pf_catalog_image *img, const struct pf_error *err,
                           void *arg)
{
	struct claims_page *cp = arg;
	json_t *row;

	if (err->code) {
		pf_api__admin_reply_aws_error(cp->r, err);
		claims_page_free(cp);
		return;
	}
	row = pf_api__claim_json(&cp->claims[cp->next++]);
	json_object_set_new(row, "image",
	                    img && img->status != PF_IMAGE_DELETED ? pf_admin_image_json(img)
	                                                           : json_null());
	json_array_append_new(cp->rows, row);
	claims_next(cp);
}

static void claims_next(struct claims_page *cp)
{
	struct pf_error err;

	if (cp->next == cp->n) {
		pf_api__reply_doc(
		    cp->r, 200,
		    json_pack("{s:O,s:s?}", "claims", cp->rows, "nextCursor", cp->cursor));
		claims_page_free(cp);
		return;
	}
	if (pf_catalog_get(cp->r->api->d.catalog, cp->claims[cp->next].photo, on_claim_image, cp,
	                   &err) < 0) {
		pf_api__admin_reply_aws_error(cp->r, &err);
		claims_page_free(cp);
	}
}

static void on_claims(const struct pf_catalog_claim *claims, size_t n, const char *next_cursor,
                      const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;
	struct claims_page *cp;

	if (err->code) {
		pf_api__admin_reply_aws_error(r, err);
		return;
	}
	cp = pf_xcalloc(1, sizeof(*cp));
	cp->r = r;
	cp->claims = pf_xcalloc(n + 1, sizeof(*cp->claims));
	memcpy(cp->claims, claims, n * sizeof(*claims));
	cp->n = n;
	cp->rows = json_array();
	cp->cursor = next_cursor ? pf_xstrdup(next_cursor) : NULL;
	claims_next(cp);
}

void pf_api__get_claims(struct pf_api_request *r)
{
	const char *state_s = pf_api__query(r, "state");
	const char *limit_s = pf_api__query(r, "limit");
	const char *cursor = pf_api__query(r, "cursor");
	enum pf_claim_state state = PF_CLAIM_PENDING;
	int64_t limit = CLAIMS_DEFAULT_LIMIT;
	struct pf_error err;

	if (state_s && !pf_catalog_claim_state_parse(state_s, &state)) {
		pf_api__reply_error(r, 400, "bad_request",
		                    "state is pending, approved or rejected");
		return;
	}
	if (limit_s && !pf_parse_int64(limit_s, 1, PF_CATALOG_MAX_CLAIMS_PAGE, &limit)) {
		pf_api__reply_error(r, 400, "invalid_limit",
		                    "limit must be a whole number from 1 to 100");
		return;
	}
	if (cursor && !pf_catalog_cursor_is_valid(cursor)) {
		pf_api__reply_error(r, 400, "invalid_cursor",
		                    "cursor is not one this API returned");
		return;
	}
	if (!pf_api__wait(r))
		return;
	if (pf_catalog_claims_list(r->api->d.catalog, state, (int)limit, cursor, on_claims, r,
	                           &err) < 0)
		pf_api__admin_reply_aws_error(r, &err);
}

/* Approving or rejecting one claim. */
struct decision {
	struct pf_api_request *r;
	enum pf_claim_state to;
	struct pf_catalog_claim claim;
	char id[PF_CATALOG_CLAIM_ID_LEN + 1];
	bool added;           /* this approval put the code on the photo */
	struct pf_error lost; /* why the approval lost, while its code is taken back */
};

static void decision_end(struct decision *d, const struct pf_catalog_claim *claim,
                         const struct pf_error *err)
{
	const char *action = d->to == PF_CLAIM_APPROVED ? "claim.approve" : "claim.reject";
	json_t *fields = json_pack("{s:s}", "claim", d->id);

	if (claim)
		json_object_update_new(
		    fields, json_pack("{s:s,s:s}", "photo", claim->photo, "code", claim->code));
	if (err->code)
		json_object_set_new(fields, "error", json_string(err->message));
	pf_api__admin_audit(d->r, action, err->code ? "failed" : "ok", fields);
	if (err->code)
		pf_api__admin_reply_aws_error(d->r, err);
	else
		pf_api__reply_doc(d->r, 200,
		                  json_pack("{s:o}", "claim", pf_api__claim_json(claim)));
	free(d);
}

static void on_code_withdrawn(const struct pf_catalog_image *img, const struct pf_error *err,
                              void *arg)
{
	struct decision *d = arg;

	if (err->code)
		pf_error_log("claim lost, its code not taken back from the photo",
		             PF_LS("claim", d->id), PF_LS("photo", d->claim.photo),
		             PF_LS("code", d->claim.code), PF_LS("error", err->message));
	decision_end(d, &d->claim, &d->lost);
}

static void on_decided(const struct pf_catalog_claim *claim, bool created,
                       const struct pf_error *err, void *arg)
{
	struct decision *d = arg;
	struct pf_error e;
	char *code[1];

	/* Another operator decided the claim between this approval's edit and
	 * its decision: the code it added goes again, so the photo agrees with
	 * the decision that won. */
	if (err->code == PF_ECONFLICT && d->to == PF_CLAIM_APPROVED && d->added) {
		d->lost = *err;
		code[0] = d->claim.code;
		if (pf_admin_edit_codes(d->r->api->d.admin, d->claim.photo, NULL, 0, code, 1,
		                        on_code_withdrawn, d, &e) < 0)
			on_code_withdrawn(NULL, &e, d);
		return;
	}
	decision_end(d, err->code ? &d->claim : claim, err);
}

static void decide(struct decision *d)
{
	struct pf_error err;

	if (pf_catalog_claim_decide(d->r->api->d.catalog, &d->claim, d->to, on_decided, d, &err) <
	    0)
		decision_end(d, &d->claim, &err);
}

static void on_code_added(const struct pf_catalog_image *img, const struct pf_error *err, void *arg)
{
	struct decision *d = arg;

	/* The photo went away since it was claimed: nothing to approve. */
	if (err->code == PF_ENOTFOUND || err->code == PF_EINVAL) {
		struct pf_error e;

		pf_error_set(&e, PF_ECONFLICT, "the claimed photo cannot take the code: %s",
		             err->message);
		decision_end(d, &d->claim, &e);
		return;
	}
	if (err->code) {
		decision_end(d, &d->claim, err);
		return;
	}
	decide(d);
}

/* The claimed photo as it is: a code already on it (an operator's edit) is
 * not this approval's to take back. */
static void on_claim_photo(const struct pf_catalog_image *img, const struct pf_error *err,
                           void *arg)
{
	struct decision *d = arg;
	struct pf_error e;
	char *add[1];

	if (err->code) {
		on_code_added(NULL, err, d);
		return;
	}
	for (size_t i = 0; img && i < img->ncodes; i++) {
		if (!strcmp(img->codes[i], d->claim.code)) {
			decide(d);
			return;
		}
	}
	/* Approving adds the code as an operator's edit would (PATCH add). */
	d->added = true;
	add[0] = d->claim.code;
	if (pf_admin_edit_codes(d->r->api->d.admin, d->claim.photo, add, 1, NULL, 0, on_code_added,
	                        d, &e) < 0)
		on_code_added(NULL, &e, d);
}

static void on_claim_to_decide(const struct pf_catalog_claim *claim, bool created,
                               const struct pf_error *err, void *arg)
{
	struct decision *d = arg;
	struct pf_error e;

	if (!err->code && !claim)
		pf_error_set(&e, PF_ENOTFOUND, "no such claim");
	else if (!err->code && claim->state != PF_CLAIM_PENDING)
		pf_error_set(&e, PF_ECONFLICT, "the claim is %s already",
		             pf_catalog_claim_state_name(claim->state));
	else
		e = *err;
	if (e.code) {
		decision_end(d, claim, &e);
		return;
	}
	d->claim = *claim;
	if (d->to != PF_CLAIM_APPROVED) {
		decide(d);
		return;
	}
	if (pf_catalog_get(d->r->api->d.catalog, d->claim.photo, on_claim_photo, d, &e) < 0)
		on_claim_photo(NULL, &e, d);
}

static void decide_route(struct pf_api_request *r, enum pf_claim_state to)
{
	struct decision *d = pf_xcalloc(1, sizeof(*d));
	struct pf_error err;

	d->r = r;
	d->to = to;
	if (!pf_route_param(&r->params, "id", d->id, sizeof(d->id)) ||
	    !pf_catalog_id_is_valid(d->id)) {
		pf_api__reply_error(r, 404, "not_found", "no such claim");
		free(d);
		return;
	}
	if (!pf_api__wait(r)) {
		free(d);
		return;
	}
	if (pf_catalog_claim_get(r->api->d.catalog, d->id, on_claim_to_decide, d, &err) < 0)
		on_claim_to_decide(NULL, false, &err, d);
}

void pf_api__approve_claim(struct pf_api_request *r)
{
	decide_route(r, PF_CLAIM_APPROVED);
}

void pf_api__reject_claim(struct pf_api_request *r)
{
	decide_route(r, PF_CLAIM_REJECTED);
}
