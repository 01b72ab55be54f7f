/*
 * The operators' surface: /admin routes behind a bearer token, one table,
 * each route a handler over the admin module and the catalog. Loop thread
 * only.
 */
#include "api_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin.h"
#include "photofinish/catalog.h"
#include "photofinish/config.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

/* Job ids are short ("reprocess-3-41234"); a longer one names no job. */
#define MAX_JOB_ID 64

static bool admin_admit(struct pf_api_request *r)
{
	struct pf_api *api = r->api;
	const char *auth = pf_api__header(r, "Authorization");
	const char *token = api->d.cfg->admin_token;
	size_t n;

	if (!token || !api->d.admin) {
		pf_api__reply_error(r, 404, "not_found",
		                    "the admin API is off (set PHOTOFINISH_ADMIN_TOKEN)");
		return false;
	}
	n = strlen(token);
	if (auth && !strncmp(auth, "Bearer ", 7) && strlen(auth + 7) == n &&
	    CRYPTO_memcmp(auth + 7, token, n) == 0)
		return true;
	pf_api__set_header(r, "WWW-Authenticate", "Bearer");
	pf_api__reply_error(r, 401, "unauthorized",
	                    "send Authorization: Bearer <PHOTOFINISH_ADMIN_TOKEN>");
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
	default:
		pf_warn("admin request failed", PF_LS("route", r->route),
		        PF_LS("error", err->message));
		pf_api__reply_error(r, 503, "unavailable", "AWS could not be reached; try again");
	}
}

static void reply_job(struct pf_api_request *r, json_t *job)
{
	if (!job) {
		pf_api__reply_error(r, 503, "busy",
		                    "4 admin jobs are running; wait for one to finish");
		return;
	}
	pf_api__reply_doc(r, 202, job);
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

	if (!image_id(r, id) || !pf_api__wait(r))
		return;
	if (pf_admin_delete_image(r->api->d.admin, id, on_image, r, &err) < 0)
		reply_aws_error(r, &err);
}

/* The codes of a PUT body, normalised, deduplicated and sorted like
 * detected codes; false when the body is wrong (a 400 sent). */
static bool read_codes(struct pf_api_request *r, char **codes, size_t *n)
{
	json_t *doc = pf_api__read_body(r);
	json_t *list = json_object_get(doc, "codes");
	size_t i;
	json_t *c;

	*n = 0;
	if (!doc)
		return false;
	if (!json_is_array(list) || json_array_size(list) > PF_CATALOG_MAX_CODES) {
		pf_api__reply_error(r, 400, "invalid_body",
		                    "send {\"codes\":[\"10423\", ...]} with at most 40 codes");
		json_decref(doc);
		return false;
	}
	json_array_foreach(list, i, c)
	{
		char *code = json_is_string(c) ? pf_xstrdup(json_string_value(c)) : NULL;
		bool dup = false;

		if (!code || strlen(code) > 64 || !pf_api_normalize_code(code)) {
			free(code);
			for (size_t k = 0; k < *n; k++)
				free(codes[k]);
			pf_api__reply_error(r, 400, "invalid_code",
			                    "codes are 1 to 64 letters, digits, '_', '.' or '-'");
			json_decref(doc);
			return false;
		}
		for (size_t k = 0; k < *n && !dup; k++)
			dup = !strcmp(codes[k], code);
		if (dup)
			free(code);
		else
			codes[(*n)++] = code;
	}
	json_decref(doc);
	for (size_t a = 1; a < *n; a++)
		for (size_t b = a; b > 0 && strcmp(codes[b - 1], codes[b]) > 0; b--) {
			char *t = codes[b];

			codes[b] = codes[b - 1];
			codes[b - 1] = t;
		}
	return true;
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
	if (pf_api__wait(r) &&
	    pf_admin_set_codes(r->api->d.admin, id, codes, n, on_image, r, &err) < 0)
		reply_aws_error(r, &err);
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

/* ---- jobs ----------------------------------------------------------------- */

static void post_reprocess(struct pf_api_request *r)
{
	reply_job(r, pf_admin_start_reprocess(r->api->d.admin));
}

static void post_clear(struct pf_api_request *r)
{
	const char *table = r->api->d.cfg->table;
	json_t *doc = pf_api__read_body(r);
	const char *confirm = json_string_value(json_object_get(doc, "confirm"));

	if (!doc)
		return;
	if (!confirm || strcmp(confirm, table) != 0) {
		char *msg = pf_xasprintf("clearing deletes every photo record and variant of "
		                         "this race; send {\"confirm\":\"%s\"}",
		                         table);

		pf_api__reply_error(r, 400, "invalid_body", msg);
		free(msg);
		json_decref(doc);
		return;
	}
	json_decref(doc);
	reply_job(r, pf_admin_start_clear(r->api->d.admin));
}

static void get_job(struct pf_api_request *r)
{
	char id[MAX_JOB_ID];
	json_t *job = pf_route_param(&r->params, "id", id, sizeof(id))
	                  ? pf_admin_job(r->api->d.admin, id)
	                  : NULL;

	if (!job)
		pf_api__reply_error(r, 404, "not_found", "no such admin route or photo");
	else
		pf_api__reply_doc(r, 200, job);
}

static const struct pf_route admin_routes[] = {
    {PF_METHOD_GET, "/admin/images/{id}", get_image},
    {PF_METHOD_DELETE, "/admin/images/{id}", delete_image},
    {PF_METHOD_PUT, "/admin/images/{id}/codes", put_codes},
    {PF_METHOD_GET, "/admin/unmatched", get_unmatched},
    {PF_METHOD_GET, "/admin/failed", get_failed},
    {PF_METHOD_POST, "/admin/reprocess", post_reprocess},
    {PF_METHOD_POST, "/admin/clear", post_clear},
    {PF_METHOD_GET, "/admin/jobs/{id}", get_job},
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
