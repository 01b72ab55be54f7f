/*
 * The operators' surface: /admin routes behind a bearer token, one table,
 * each route a handler over the admin module and the catalog. Loop thread
 * only.
 */
#include "api_int.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin.h"
#include "photofinish/admin_audit.h"
#include "photofinish/admin_auth.h"
#include "photofinish/admin_jobs.h"
#include "photofinish/catalog.h"
#include "photofinish/catalog_admin.h"
#include "photofinish/image.h"
#include "photofinish/config.h"
#include "photofinish/log.h"
#include "photofinish/session.h"
#include "photofinish/util.h"

/* Job ids are short ("reprocess-3-41234"); a longer one names no job. */
#define MAX_JOB_ID 64

static bool admin_admit(struct pf_api_request *r)
{
	struct pf_api *api = r->api;

	if (!pf_admin_auth_is_enabled(api->auth) || !api->d.admin) {
		pf_api__reply_error(r, 404, "not_found",
		                    "the admin API is off (set PHOTOFINISH_ADMIN_TOKENS or "
		                    "PHOTOFINISH_ADMIN_TOKEN)");
		return false;
	}
	/* The audit trail names the operator's address, not the load balancer's. */
	pf_api__client_address(r, r->client);
	r->who = pf_admin_auth_check(api->auth, pf_api__header(r, "Authorization"));
	if (r->who)
		return true;
	if (!pf_api__header(r, "Authorization")) {
		struct pf_session s;
		int rc = pf_api__session_admit(r, &s);

		if (rc < 0)
			return false;
		/* An admin session stands only while its token is configured with
		 * the secret that opened it. */
		if (rc > 0 && pf_api__admin_session_stands(api, &s)) {
			snprintf(r->who_buf, sizeof(r->who_buf), "%s", s.who);
			r->who = r->who_buf;
			r->by_session = true;
			return true;
		}
		if (rc > 0 && s.role == PF_SESSION_UPLOAD) {
			pf_warn("admin request refused", PF_LS("client", r->client),
			        PF_LS("route", r->route), PF_LS("who", s.who));
			pf_api__reply_error(r, 403, "forbidden",
			                    "an upload session cannot use the admin API");
			return false;
		}
	}
	pf_warn("admin request refused", PF_LS("client", r->client), PF_LS("route", r->route));
	pf_api__set_header(r, "WWW-Authenticate", "Bearer");
	pf_api__reply_error(r, 401, "unauthorized",
	                    "send Authorization: Bearer <an admin token's secret>");
	return false;
}

static void reply_aws_error(struct pf_api_request *r, const struct pf_error *err)
{
	switch (err->code) {
	case PF_ENOTFOUND:
		pf_api__reply_error(r, 404, "not_found", err->message);
		break;
	case PF_EINVAL:
		pf_api__reply_error(r, 400, "invalid_body", err->message);
		break;
	case PF_ECONFLICT:
		pf_api__reply_error(r, 409, "conflict", err->message);
		break;
	case PF_EAWS:
		if (pf_catalog_is_fenced(err)) {
			pf_api__reply_error(
			    r, 409, "conflict",
			    "a clear or reset is running; try again when it is done");
			break;
		}
		/* fall through */
	default:
		pf_warn("admin request failed", PF_LS("route", r->route),
		        PF_LS("error", err->message));
		pf_api__reply_error(r, 503, "unavailable", "AWS could not be reached; try again");
	}
}

/* The {id} of an image route; false (404 sent) when it cannot name a photo. */
static bool image_id(struct pf_api_request *r, char id[PF_CATALOG_ID_LEN + 1])
{
	if (pf_route_param(&r->params, "id", id, PF_CATALOG_ID_LEN + 1) &&
	    pf_catalog_id_is_valid(id))
		return true;
	pf_api__reply_error(r, 404, "not_found", "no such photo");
	return false;
}

/* ---- one photo ------------------------------------------------------------ */

static void on_image(const struct pf_catalog_image *img, const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;

	if (err->code)
		reply_aws_error(r, err);
	else
		pf_api__reply_doc(r, 200, pf_admin_image_json(img));
}

/* A deleted photo's tombstone is not a photo. */
static void on_get_image(const struct pf_catalog_image *img, const struct pf_error *err, void *arg)
{
	if (!err->code && (!img || img->status == PF_IMAGE_DELETED))
		pf_api__reply_error(arg, 404, "not_found", "no such photo");
	else
		on_image(img, err, arg);
}

/* ---- who acted, and the audit trail -------------------------------------- */

static void audit(struct pf_api_request *r, const char *action, const char *outcome, json_t *fields)
{
	json_t *entry = pf_admin_audit_entry(pf_now_ms(), r->who, r->client, action, outcome);

	if (fields) {
		json_object_update(entry, fields);
		json_decref(fields);
	}
	pf_admin_audit_record(r->api->d.catalog, entry);
}

static json_t *codes_array(const struct pf_catalog_image *img)
{
	json_t *a = json_array();

	for (size_t i = 0; img && i < img->ncodes; i++)
		json_array_append_new(a, json_string(img->codes[i]));
	return a;
}

/* An action on one photo ended: audited, then answered. */
struct photo_action {
	struct pf_api_request *r;
	const char *action;
	char id[PF_CATALOG_ID_LEN + 1];
};

static void on_photo_action(const struct pf_catalog_image *img, const struct pf_error *err,
                            void *arg)
{
	struct photo_action *pa = arg;
	json_t *fields = json_pack("{s:s}", "photo", pa->id);

	if (img && img->key)
		json_object_set_new(fields, "key", json_string(img->key));
	if (!err->code && strcmp(pa->action, "photo.delete"))
		json_object_set_new(fields, "codes", codes_array(img));
	if (err->code)
		json_object_set_new(fields, "error", json_string(err->message));
	audit(pa->r, pa->action, err->code ? "failed" : "ok", fields);
	on_image(img, err, pa->r);
	free(pa);
}

static struct photo_action *photo_action(struct pf_api_request *r, const char *action,
                                         const char *id)
{
	struct photo_action *pa = pf_xcalloc(1, sizeof(*pa));

	pa->r = r;
	pa->action = action;
	snprintf(pa->id, sizeof(pa->id), "%s", id);
	return pa;
}

static void get_image(struct pf_api_request *r)
{
	char id[PF_CATALOG_ID_LEN + 1];
	struct pf_error err;

	if (!image_id(r, id) || !pf_api__wait(r))
		return;
	if (pf_catalog_get(r->api->d.catalog, id, on_get_image, r, &err) < 0)
		reply_aws_error(r, &err);
}

static void delete_image(struct pf_api_request *r)
{
	char id[PF_CATALOG_ID_LEN + 1];
	struct pf_error err;

	struct photo_action *pa;

	if (!image_id(r, id) || !pf_api__wait(r))
		return;
	pa = photo_action(r, "photo.delete", id);
	if (pf_admin_delete_image(r->api->d.admin, id, on_photo_action, pa, &err) < 0) {
		free(pa);
		reply_aws_error(r, &err);
	}
}

/* A JSON array of codes, normalised, deduplicated and sorted; false (a 400
 * sent) when one is not a code. */
static bool parse_codes(struct pf_api_request *r, const json_t *list, char **codes, size_t *n)
{
	size_t i;
	json_t *c;

	*n = 0;
	json_array_foreach(list, i, c)
	{
		char *code = json_is_string(c) ? pf_xstrdup(json_string_value(c)) : NULL;
		bool dup = false;

		if (!code || strlen(code) > 64 || !pf_api_normalize_code(code)) {
			free(code);
			for (size_t k = 0; k < *n; k++)
				free(codes[k]);
			*n = 0;
			pf_api__reply_error(r, 400, "invalid_code",
			                    "codes are 1 to 64 letters, digits, '_', '.' or '-'");
			return false;
		}
		for (size_t k = 0; k < *n && !dup; k++)
			dup = !strcmp(codes[k], code);
		if (dup)
			free(code);
		else
			codes[(*n)++] = code;
	}
	for (size_t a = 1; a < *n; a++)
		for (size_t b = a; b > 0 && strcmp(codes[b - 1], codes[b]) > 0; b--) {
			char *t = codes[b];

			codes[b] = codes[b - 1];
			codes[b - 1] = t;
		}
	return true;
}

/* The codes of a PUT body, normalised, deduplicated and sorted like
 * detected codes; false when the body is wrong (a 400 sent). */
static bool read_codes(struct pf_api_request *r, char **codes, size_t *n)
{
	json_t *doc = pf_api__read_body(r);
	json_t *list = json_object_get(doc, "codes");
	bool ok;

	*n = 0;
	if (!doc)
		return false;
	if (!json_is_array(list) || json_array_size(list) > PF_CATALOG_MAX_CODES) {
		pf_api__reply_error(r, 400, "invalid_body",
		                    "send {\"codes\":[\"10423\", ...]} with at most 40 codes");
		json_decref(doc);
		return false;
	}
	ok = parse_codes(r, list, codes, n);
	json_decref(doc);
	return ok;
}

static void put_codes(struct pf_api_request *r)
{
	char id[PF_CATALOG_ID_LEN + 1] = "";
	char *codes[PF_CATALOG_MAX_CODES];
	size_t n;
	struct pf_error err;

	/* A malformed id is the admin module's "no such photo", after the body. */
	if (!pf_route_param(&r->params, "id", id, sizeof(id)))
		id[0] = '\0';
	if (!read_codes(r, codes, &n))
		return;
	if (pf_api__wait(r)) {
		struct photo_action *pa = photo_action(r, "codes.set", id);

		if (pf_admin_set_codes(r->api->d.admin, id, codes, n, on_photo_action, pa, &err) <
		    0) {
			free(pa);
			reply_aws_error(r, &err);
		}
	}
	for (size_t k = 0; k < n; k++)
		free(codes[k]);
}

/* ---- listings ------------------------------------------------------------- */

static void on_listing(const struct pf_catalog_page *page, const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;
	json_t *images;

	if (err->code) {
		reply_aws_error(r, err);
		return;
	}
	images = json_array();
	for (size_t i = 0; i < page->count; i++) {
		const struct pf_catalog_image *e = &page->entries[i];
		struct pf_error uerr;
		json_t *img =
		    e->status == PF_IMAGE_FAILED ? NULL : pf_api__photo_json(r->api, e, &uerr);
		json_t *row = json_pack("{s:s,s:s?,s:s?,s:s?}", "id", e->id, "key", e->key,
		                        "reason", e->reason, "message", e->message);

		if (img)
			json_object_update(row, img);
		json_decref(img);
		json_array_append_new(images, row);
	}
	pf_api__reply_doc(
	    r, 200, json_pack("{s:o,s:s?}", "images", images, "nextCursor", page->next_cursor));
}

typedef int (*list_fn)(struct pf_catalog *cat, const struct pf_catalog_page_options *opts,
                       pf_catalog_page_cb cb, void *arg, struct pf_error *err);

static void list(struct pf_api_request *r, list_fn fn)
{
	struct pf_catalog_page_options opts = {.cursor = pf_api__query(r, "cursor")};
	struct pf_error err;

	if (!pf_api__limit(r, &opts.limit) || !pf_api__wait(r))
		return;
	if (fn(r->api->d.catalog, &opts, on_listing, r, &err) == 0)
		return;
	if (err.code == PF_EINVAL)
		pf_api__reply_error(r, 400, "invalid_cursor",
		                    "cursor is not one this API returned");
	else
		reply_aws_error(r, &err);
}

static void get_unmatched(struct pf_api_request *r)
{
	list(r, pf_catalog_list_unmatched);
}

static void get_failed(struct pf_api_request *r)
{
	list(r, pf_catalog_list_failed);
}

/* ---- status ---------------------------------------------------------------- */

struct status {
	struct pf_api_request *r;
	struct pf_catalog_counts counts;
};

static void on_status_jobs(const struct pf_admin_job *jobs, size_t n, const struct pf_error *err,
                           void *arg)
{
	struct status *st = arg;
	struct pf_api_request *r = st->r;
	struct pf_api *api = r->api;
	const char *why = api->d.not_ready_reason ? api->d.not_ready_reason(api->d.arg) : NULL;
	int64_t visible = -1, inflight = -1;
	size_t running = 0;
	json_t *doc;

	if (err->code) {
		reply_aws_error(r, err);
		free(st);
		return;
	}
	for (size_t i = 0; i < n; i++)
		running += jobs[i].state == PF_ADMIN_JOB_RUNNING;
	if (api->d.queue_depth)
		api->d.queue_depth(api->d.arg, &visible, &inflight);
	doc = json_pack(
	    "{s:s,s:s,s:s,s:b,s:s?,s:{s:o,s:o},s:{s:I,s:I,s:I},s:{s:I},s:s}", "race",
	    api->d.cfg->table, "ingressBucket", api->d.cfg->ingress_bucket, "processedBucket",
	    api->d.cfg->processed_bucket, "ready", why == NULL, "reason", why, "queue", "visible",
	    visible >= 0 ? json_integer(visible) : json_null(), "inFlight",
	    inflight >= 0 ? json_integer(inflight) : json_null(), "counts", "processed",
	    (json_int_t)st->counts.processed, "unmatched", (json_int_t)st->counts.unmatched,
	    "failed", (json_int_t)st->counts.failed, "jobs", "running", (json_int_t)running, "task",
	    pf_admin_task(api->d.admin));
	if (!json_object_get(doc, "reason"))
		json_object_set_new(doc, "reason", json_null());
	pf_api__admin_status_runners(r, doc);
	free(st);
}

static void on_status_counts(const struct pf_catalog_counts *counts, const struct pf_error *err,
                             void *arg)
{
	struct status *st = arg;
	struct pf_error e;

	if (err->code) {
		reply_aws_error(st->r, err);
		free(st);
		return;
	}
	st->counts = *counts;
	if (pf_admin_jobs_list(pf_admin_jobs(st->r->api->d.admin), PF_CATALOG_MAX_JOBS,
	                       on_status_jobs, st, &e) < 0) {
		reply_aws_error(st->r, &e);
		free(st);
	}
}

static void get_status(struct pf_api_request *r)
{
	struct status *st;
	struct pf_error err;

	if (!pf_api__wait(r))
		return;
	st = pf_xcalloc(1, sizeof(*st));
	st->r = r;
	if (pf_catalog_counts_get(r->api->d.catalog, on_status_counts, st, &err) < 0) {
		free(st);
		reply_aws_error(r, &err);
	}
}

/* ---- photos by key ------------------------------------------------------ */

#define MAX_BY_KEY 20

/* Candidates: the key as given, the key under the ingress prefix, then
 * photos whose file name it is. */
struct by_key {
	struct pf_api_request *r;
	char *ids[2];
	size_t nids, next;
	json_t *images;
	char *name;
};

static void by_key_free(struct by_key *bk)
{
	for (size_t i = 0; i < bk->nids; i++)
		free(bk->ids[i]);
	json_decref(bk->images);
	free(bk->name);
	free(bk);
}

static void by_key_next(struct by_key *bk);

static void on_by_name(const struct pf_catalog_page *page, const struct pf_error *err, void *arg)
{
	struct by_key *bk = arg;

	if (err->code) {
		reply_aws_error(bk->r, err);
		by_key_free(bk);
		return;
	}
	for (size_t i = 0; i < page->count && json_array_size(bk->images) < MAX_BY_KEY; i++)
		json_array_append_new(bk->images, pf_admin_image_json(&page->entries[i]));
	pf_api__reply_doc(bk->r, 200, json_pack("{s:O}", "images", bk->images));
	by_key_free(bk);
}

static void on_by_key(const struct pf_catalog_image *img, const struct pf_error *err, void *arg)
{
	struct by_key *bk = arg;

	if (err->code) {
		reply_aws_error(bk->r, err);
		by_key_free(bk);
		return;
	}
	if (img && img->status != PF_IMAGE_DELETED) {
		pf_api__reply_doc(bk->r, 200,
		                  json_pack("{s:[o]}", "images", pf_admin_image_json(img)));
		by_key_free(bk);
		return;
	}
	by_key_next(bk);
}

static void by_key_next(struct by_key *bk)
{
	struct pf_catalog_page_options opts = {.limit = MAX_BY_KEY};
	struct pf_error err;
	int rc;

	if (bk->next < bk->nids)
		rc =
		    pf_catalog_get(bk->r->api->d.catalog, bk->ids[bk->next++], on_by_key, bk, &err);
	else
		rc = pf_catalog_list_name(bk->r->api->d.catalog, bk->name, &opts, on_by_name, bk,
		                          &err);
	if (rc < 0) {
		reply_aws_error(bk->r, &err);
		by_key_free(bk);
	}
}

static void get_images_by_key(struct pf_api_request *r)
{
	const struct pf_config *cfg = r->api->d.cfg;
	const char *key = pf_api__query(r, "key");
	const char *prefix = cfg->ingress_prefix ? cfg->ingress_prefix : "";
	const char *slash;
	struct by_key *bk;
	char id[PF_CATALOG_ID_LEN + 1];

	if (!key || !*key || strlen(key) > 1024) {
		pf_api__reply_error(r, 400, "bad_request", "give ?key= (1 to 1024 bytes)");
		return;
	}
	if (!pf_api__wait(r))
		return;
	bk = pf_xcalloc(1, sizeof(*bk));
	bk->r = r;
	bk->images = json_array();
	pf_catalog_image_id(cfg->ingress_bucket, key, id);
	bk->ids[bk->nids++] = pf_xstrdup(id);
	if (*prefix && strncmp(key, prefix, strlen(prefix))) {
		char *full = pf_xasprintf("%s%s", prefix, key);

		pf_catalog_image_id(cfg->ingress_bucket, full, id);
		bk->ids[bk->nids++] = pf_xstrdup(id);
		free(full);
	}
	slash = strrchr(key, '/');
	bk->name = pf_xstrdup(slash ? slash + 1 : key);
	by_key_next(bk);
}

/* ---- codes ------------------------------------------------------------------ */

static void patch_codes(struct pf_api_request *r)
{
	char id[PF_CATALOG_ID_LEN + 1] = "";
	char *add[PF_CATALOG_MAX_CODES], *remove[PF_CATALOG_MAX_CODES];
	size_t nadd = 0, nremove = 0;
	json_t *doc = pf_api__read_body(r);
	const json_t *a = json_object_get(doc, "add"), *d = json_object_get(doc, "remove");
	struct pf_error err;

	if (!doc)
		return;
	if (!pf_route_param(&r->params, "id", id, sizeof(id)))
		id[0] = '\0';
	if ((a && (!json_is_array(a) || json_array_size(a) > PF_CATALOG_MAX_CODES)) ||
	    (d && (!json_is_array(d) || json_array_size(d) > PF_CATALOG_MAX_CODES)) || (!a && !d)) {
		pf_api__reply_error(
		    r, 400, "invalid_body",
		    "send {\"add\":[...],\"remove\":[...]} with at most 40 codes each");
		json_decref(doc);
		return;
	}
	if (!parse_codes(r, a, add, &nadd) || !parse_codes(r, d, remove, &nremove)) {
		for (size_t k = 0; k < nadd; k++)
			free(add[k]);
		json_decref(doc);
		return;
	}
	json_decref(doc);
	if (pf_api__wait(r)) {
		struct photo_action *pa = photo_action(r, "codes.edit", id);

		if (pf_admin_edit_codes(r->api->d.admin, id, add, nadd, remove, nremove,
		                        on_photo_action, pa, &err) < 0) {
			free(pa);
			reply_aws_error(r, &err);
		}
	}
	for (size_t k = 0; k < nadd; k++)
		free(add[k]);
	for (size_t k = 0; k < nremove; k++)
		free(remove[k]);
}

/* GET /admin/codes/{code}: what an erasure would touch. */
#define MAX_COUNTED 10000

struct code_count {
	struct pf_api_request *r;
	char code[PF_IMAGE_CODE_MAX + 1];
	int64_t photos, shared;
	char *cursor;
};

static void count_next(struct code_count *cc);

static void on_code_page(const struct pf_catalog_page *page, const struct pf_error *err, void *arg)
{
	struct code_count *cc = arg;

	if (err->code) {
		reply_aws_error(cc->r, err);
		free(cc->cursor);
		free(cc);
		return;
	}
	for (size_t i = 0; i < page->count; i++) {
		cc->photos++;
		cc->shared += page->entries[i].ncodes > 1;
	}
	free(cc->cursor);
	cc->cursor = page->next_cursor ? pf_xstrdup(page->next_cursor) : NULL;
	if (cc->cursor && cc->photos < MAX_COUNTED) {
		count_next(cc);
		return;
	}
	pf_api__reply_doc(cc->r, 200,
	                  json_pack("{s:s,s:I,s:I,s:b}", "code", cc->code, "photos",
	                            (json_int_t)cc->photos, "shared", (json_int_t)cc->shared,
	                            "more", cc->cursor != NULL));
	free(cc->cursor);
	free(cc);
}

static void count_next(struct code_count *cc)
{
	struct pf_catalog_page_options opts = {.limit = PF_CATALOG_MAX_PAGE, .cursor = cc->cursor};
	struct pf_error err;

	if (pf_catalog_list_code(cc->r->api->d.catalog, cc->code, &opts, on_code_page, cc, &err) <
	    0) {
		reply_aws_error(cc->r, &err);
		free(cc->cursor);
		free(cc);
	}
}

/* A code from a request, normalised into out; false (a 400 sent) when it is not one. */
static bool code_param(struct pf_api_request *r, const char *value, char out[PF_IMAGE_CODE_MAX + 1])
{
	char buf[4 * PF_IMAGE_CODE_MAX + 1];
	size_t n = value ? strlen(value) : 0;

	if (n > 0 && n < sizeof(buf)) {
		memcpy(buf, value, n + 1);
		if (pf_api_normalize_code(buf) && strlen(buf) <= PF_IMAGE_CODE_MAX) {
			memcpy(out, buf, strlen(buf) + 1);
			return true;
		}
	}
	pf_api__reply_error(r, 400, "invalid_code",
	                    "a participant code is 1 to 64 letters, digits, '_', '.' or '-'");
	return false;
}

static void get_code(struct pf_api_request *r)
{
	char raw[PF_IMAGE_CODE_MAX * 4 + 1];
	struct code_count *cc;

	if (!pf_route_param(&r->params, "code", raw, sizeof(raw)))
		raw[0] = '\0';
	cc = pf_xcalloc(1, sizeof(*cc));
	cc->r = r;
	if (!code_param(r, raw, cc->code) || !pf_api__wait(r)) {
		free(cc);
		return;
	}
	count_next(cc);
}

/* ---- jobs ------------------------------------------------------------------ */

static void on_job_started(const struct pf_admin_job *job, const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;
	json_t *fields;

	if (err->code || !job) {
		if (err->code == PF_ETOOBIG) {
			pf_api__reply_error(r, 503, "busy", err->message);
			return;
		}
		reply_aws_error(r, err);
		return;
	}
	fields = json_pack("{s:s}", "job", job->id);
	if (job->prefix)
		json_object_set_new(fields, "prefix", json_string(job->prefix));
	if (job->code)
		json_object_set_new(fields, "code", json_string(job->code));
	audit(r, pf_admin_job_kind_name(job->kind), "started", fields);
	pf_api__reply_doc(r, 202, pf_admin_job_json(job, pf_now_ms(), false));
}

static void start_job(struct pf_api_request *r, const struct pf_admin_job_request *req)
{
	struct pf_error err;

	if (!pf_api__wait(r))
		return;
	if (pf_admin_jobs_start(pf_admin_jobs(r->api->d.admin), req, on_job_started, r, &err) < 0)
		on_job_started(NULL, &err, r);
}

static void post_reprocess(struct pf_api_request *r)
{
	const char *ingress = r->api->d.cfg->ingress_prefix ? r->api->d.cfg->ingress_prefix : "";
	struct pf_admin_job_request req = {
	    .kind = PF_ADMIN_JOB_REPROCESS, .by = r->who, .client = r->client};
	json_t *doc = NULL;
	const json_t *prefix;

	/* An empty body is {}: reprocess everything. */
	if (pf_api__body_length(r) > 0) {
		doc = pf_api__read_body(r);
		if (!doc)
			return;
	}
	prefix = json_object_get(doc, "prefix");
	if (prefix && (!json_is_string(prefix) || json_string_length(prefix) > 1024 ||
	               strncmp(json_string_value(prefix), ingress, strlen(ingress)) != 0)) {
		char *msg = pf_xasprintf("prefix must be a string under the ingress prefix \"%s\"",
		                         ingress);

		pf_api__reply_error(r, 400, "invalid_body", msg);
		free(msg);
		json_decref(doc);
		return;
	}
	req.prefix = prefix ? json_string_value(prefix) : NULL;
	start_job(r, &req);
	json_decref(doc);
}

static void post_clear(struct pf_api_request *r)
{
	const struct pf_config *cfg = r->api->d.cfg;
	json_t *doc = pf_api__read_body(r);
	const char *confirm = json_string_value(json_object_get(doc, "confirm"));
	const json_t *originals = json_object_get(doc, "originals");
	const char *confirm_originals = json_string_value(json_object_get(doc, "confirmOriginals"));
	bool reset = json_is_true(originals);
	struct pf_admin_job_request req = {.kind = reset ? PF_ADMIN_JOB_RESET : PF_ADMIN_JOB_CLEAR,
	                                   .by = r->who,
	                                   .client = r->client};

	if (!doc)
		return;
	if (!confirm || strcmp(confirm, cfg->table) != 0 ||
	    (reset && (!confirm_originals || strcmp(confirm_originals, cfg->ingress_bucket)))) {
		char *msg =
		    reset ? pf_xasprintf(
		                "a reset deletes every photo record of race %s, every variant "
		                "in %s and EVERY ORIGINAL in %s; send "
		                "{\"confirm\":\"%s\",\"originals\":true,"
		                "\"confirmOriginals\":\"%s\"}",
		                cfg->table, cfg->processed_bucket, cfg->ingress_bucket, cfg->table,
		                cfg->ingress_bucket)
		          : pf_xasprintf("clearing deletes every photo record of race %s and every "
		                         "variant in %s (the originals in %s stay); send "
		                         "{\"confirm\":\"%s\"}",
		                         cfg->table, cfg->processed_bucket, cfg->ingress_bucket,
		                         cfg->table);

		audit(r, reset ? "reset" : "clear", "failed",
		      json_pack("{s:s}", "error", "confirmation missing or wrong"));
		pf_api__reply_error(r, 400, "confirmation_required", msg);
		free(msg);
		json_decref(doc);
		return;
	}
	json_decref(doc);
	start_job(r, &req);
}

static void post_erase(struct pf_api_request *r)
{
	json_t *doc = pf_api__read_body(r);
	const char *code = json_string_value(json_object_get(doc, "code"));
	const char *confirm = json_string_value(json_object_get(doc, "confirm"));
	char norm[PF_IMAGE_CODE_MAX + 1], conf[PF_IMAGE_CODE_MAX + 1];
	struct pf_admin_job_request req = {
	    .kind = PF_ADMIN_JOB_ERASE, .by = r->who, .client = r->client};

	if (!doc)
		return;
	if (!code_param(r, code, norm)) {
		json_decref(doc);
		return;
	}
	conf[0] = '\0';
	if (confirm && strlen(confirm) <= PF_IMAGE_CODE_MAX)
		memcpy(conf, confirm, strlen(confirm) + 1);
	if (!*conf || !pf_api_normalize_code(conf) || strcmp(conf, norm) != 0) {
		char *msg = pf_xasprintf("erasing deletes every photo tagged %s everywhere; send "
		                         "{\"code\":\"%s\",\"confirm\":\"%s\"}",
		                         norm, norm, norm);

		audit(
		    r, "erase", "failed",
		    json_pack("{s:s,s:s}", "code", norm, "error", "confirmation missing or wrong"));
		pf_api__reply_error(r, 400, "confirmation_required", msg);
		free(msg);
		json_decref(doc);
		return;
	}
	json_decref(doc);
	req.code = norm;
	start_job(r, &req);
}

static void on_job(const struct pf_admin_job *job, const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;

	if (err->code)
		reply_aws_error(r, err);
	else if (!job)
		pf_api__reply_error(r, 404, "not_found", "no such job");
	else
		pf_api__reply_doc(r, 200, pf_admin_job_json(job, pf_now_ms(), false));
}

static void get_job(struct pf_api_request *r)
{
	char id[PF_CATALOG_JOB_ID_MAX + 1];
	struct pf_error err;

	if (!pf_route_param(&r->params, "id", id, sizeof(id)) || !pf_catalog_job_id_is_valid(id)) {
		pf_api__reply_error(r, 404, "not_found", "no such job");
		return;
	}
	if (!pf_api__wait(r))
		return;
	if (pf_admin_jobs_get(pf_admin_jobs(r->api->d.admin), id, on_job, r, &err) < 0)
		reply_aws_error(r, &err);
}

static void on_jobs(const struct pf_admin_job *jobs, size_t n, const struct pf_error *err,
                    void *arg)
{
	struct pf_api_request *r = arg;
	json_t *list;

	if (err->code) {
		reply_aws_error(r, err);
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, pf_admin_job_json(&jobs[i], pf_now_ms(), false));
	pf_api__reply_doc(r, 200, json_pack("{s:o}", "jobs", list));
}

static void get_jobs(struct pf_api_request *r)
{
	const char *limit_s = pf_api__query(r, "limit");
	int64_t limit = 20;
	struct pf_error err;

	if (limit_s && !pf_parse_int64(limit_s, 1, PF_CATALOG_MAX_JOBS, &limit)) {
		pf_api__reply_error(r, 400, "invalid_limit",
		                    "limit must be a whole number from 1 to 100");
		return;
	}
	if (!pf_api__wait(r))
		return;
	if (pf_admin_jobs_list(pf_admin_jobs(r->api->d.admin), (int)limit, on_jobs, r, &err) < 0)
		reply_aws_error(r, &err);
}

/* ---- audit ------------------------------------------------------------------ */

static void on_audit(char *const *docs, size_t n, const char *next_cursor,
                     const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;
	json_t *entries;

	if (err->code) {
		reply_aws_error(r, err);
		return;
	}
	entries = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_loads(docs[i], 0, NULL);

		if (json_is_object(e))
			json_array_append_new(entries, e);
		else
			json_decref(e);
	}
	pf_api__reply_doc(r, 200,
	                  json_pack("{s:o,s:s?}", "entries", entries, "nextCursor", next_cursor));
}

static void get_audit(struct pf_api_request *r)
{
	int limit;
	struct pf_error err;

	if (!pf_api__limit(r, &limit) || !pf_api__wait(r))
		return;
	if (pf_catalog_audit_list(r->api->d.catalog, limit, pf_api__query(r, "cursor"), on_audit, r,
	                          &err) == 0)
		return;
	if (err.code == PF_EINVAL)
		pf_api__reply_error(r, 400, "invalid_cursor",
		                    "cursor is not one this API returned");
	else
		reply_aws_error(r, &err);
}

static const struct pf_route admin_routes[] = {
    {PF_METHOD_GET, "/admin/status", get_status},
    {PF_METHOD_GET, "/admin/images", get_images_by_key},
    {PF_METHOD_GET, "/admin/images/{id}", get_image},
    {PF_METHOD_DELETE, "/admin/images/{id}", delete_image},
    {PF_METHOD_PUT, "/admin/images/{id}/codes", put_codes},
    {PF_METHOD_PATCH, "/admin/images/{id}/codes", patch_codes},
    {PF_METHOD_GET, "/admin/unmatched", get_unmatched},
    {PF_METHOD_GET, "/admin/failed", get_failed},
    {PF_METHOD_GET, "/admin/codes/{code}", get_code},
    {PF_METHOD_POST, "/admin/erase", post_erase},
    {PF_METHOD_POST, "/admin/reprocess", post_reprocess},
    {PF_METHOD_POST, "/admin/clear", post_clear},
    {PF_METHOD_GET, "/admin/jobs", get_jobs},
    {PF_METHOD_GET, "/admin/jobs/{id}", get_job},
    {PF_METHOD_GET, "/admin/audit", get_audit},
    {PF_METHOD_PUT, "/admin/photographers/{name}/clock", pf_api__put_clock},
    {PF_METHOD_GET, "/admin/claims", pf_api__get_claims},
    {PF_METHOD_GET, "/admin/unregistered", pf_api__get_unregistered},
    {PF_METHOD_POST, "/admin/claims/{id}/approve", pf_api__approve_claim},
    {PF_METHOD_POST, "/admin/claims/{id}/reject", pf_api__reject_claim},
    {PF_METHOD_POST, "/admin/credentials", pf_api__post_credential},
    {PF_METHOD_GET, "/admin/credentials", pf_api__get_credentials},
    {PF_METHOD_DELETE, "/admin/credentials/{photographer}", pf_api__delete_credential},
};

const struct pf_api__surface pf_api__admin_surface = {
    .prefix = "/admin/",
    .routes = admin_routes,
    .nroutes = sizeof(admin_routes) / sizeof(admin_routes[0]),
    .other_route = "/admin",
    .admit = admin_admit,
    .not_found = "no such admin route or photo",
    .wrong_method = "wrong method for this admin route",
};

/* ---- for the admin routes in other files ------------------------------------ */

void pf_api__admin_audit(struct pf_api_request *r, const char *action, const char *outcome,
                         json_t *fields)
{
	audit(r, action, outcome, fields);
}

void pf_api__admin_reply_aws_error(struct pf_api_request *r, const struct pf_error *err)
{
	reply_aws_error(r, err);
}
