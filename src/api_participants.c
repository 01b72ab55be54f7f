/*
 * GET /participants/{code}: a page of a participant's photos with URLs to
 * their variants, answered from the response cache when fresh, else from
 * one catalog listing. Loop thread only.
 */
#include "api_int.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/s3.h"
#include "photofinish/codec.h"
#include "photofinish/cache.h"
#include "photofinish/catalog.h"
#include "photofinish/catalog_index.h"
#include "photofinish/config.h"
#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/util.h"

/* The longest code before trimming (see pf_api_normalize_code), encoded. */
#define MAX_RAW_CODE (3 * 256)

static char *media_url(struct pf_api *api, const char *key, struct pf_error *err)
{
	char *url = NULL;

	if (!key)
		return NULL;
	if (api->d.cfg->public_media_url) {
		char *enc = pf_codec_uri_encode(key, strlen(key), true);

		url = pf_xasprintf("%s/%s", api->d.cfg->public_media_url, enc);
		free(enc);
		return url;
	}
	if (pf_s3_presign_get(api->d.aws, api->d.cfg->processed_bucket, key, api->d.cfg->url_ttl,
	                      &url, err) < 0)
		return NULL;
	return url;
}

/* Whose photo: recorded with it, else from its key (photos written before
 * the catalog kept it). */
static json_t *photographer_json(struct pf_api *api, const struct pf_catalog_image *e)
{
	char *name;
	json_t *j;

	if (e->photographer)
		return json_string(e->photographer);
	name = pf_catalog_photographer_of(e->key, api->d.cfg->ingress_prefix);
	j = json_string(name ? name : "");
	free(name);
	return j;
}

/* thumbnailWebpUrl and fullsizeWebpUrl: null for photos processed before
 * WebP variants were made (or with PHOTOFINISH_WEBP=0). */
static int add_webp_urls(struct pf_api *api, const struct pf_catalog_image *e, json_t *img,
                         struct pf_error *err)
{
	char *thumb = NULL, *full = NULL;

	if (e->thumbnail_webp_key && e->fullsize_webp_key) {
		thumb = media_url(api, e->thumbnail_webp_key, err);
		full = thumb ? media_url(api, e->fullsize_webp_key, err) : NULL;
		if (!thumb || !full) {
			free(thumb);
			free(full);
			return -1;
		}
	}
	json_object_set_new(img, "thumbnailWebpUrl", thumb ? json_string(thumb) : json_null());
	json_object_set_new(img, "fullsizeWebpUrl", full ? json_string(full) : json_null());
	free(thumb);
	free(full);
	return 0;
}

json_t *pf_api__photo_json(struct pf_api *api, const struct pf_catalog_image *e,
                           struct pf_error *err)
{
	json_t *codes = json_array();
	char *thumb = media_url(api, e->thumbnail_key, err);
	char *full = thumb ? media_url(api, e->fullsize_key, err) : NULL;
	json_t *img;

	if (!thumb || !full) {
		free(thumb);
		free(full);
		json_decref(codes);
		return NULL;
	}
	for (size_t i = 0; i < e->ncodes; i++)
		json_array_append_new(codes, json_string(e->codes[i]));
	img = json_pack("{s:s,s:s?,s:s,s:s,s:i,s:i,s:i,s:i,s:o}", "id", e->id, "takenAt",
	                e->taken_at, "thumbnailUrl", thumb, "fullsizeUrl", full, "width", e->width,
	                "height", e->height, "thumbnailWidth", e->thumbnail_width,
	                "thumbnailHeight", e->thumbnail_height, "codes", codes);
	if (img && !json_object_get(img, "takenAt"))
		json_object_set_new(img, "takenAt", json_null());
	if (img)
		json_object_set_new(img, "photographer", photographer_json(api, e));
	free(thumb);
	free(full);
	if (img && add_webp_urls(api, e, img, err) < 0) {
		json_decref(img);
		return NULL;
	}
	return img;
}

json_t *pf_api__photos_json(struct pf_api_request *r, const struct pf_catalog_page *page)
{
	json_t *images = json_array();
	struct pf_error err;

	pf_error_clear(&err);
	for (size_t i = 0; i < page->count; i++) {
		json_t *img = pf_api__photo_json(r->api, &page->entries[i], &err);

		if (!img) {
			json_decref(images);
			pf_warn("cannot build image URLs", PF_LS("error", err.message));
			pf_api__reply_error(
			    r, 503, "unavailable",
			    "image URLs cannot be signed right now; try again shortly");
			return NULL;
		}
		json_array_append_new(images, img);
	}
	return images;
}

static void etag_of(const char *body, size_t len, char out[20])
{
	char hex[65];

	pf_codec_sha256_hex(body, len, hex);
	snprintf(out, 20, "\"%.16s\"", hex);
}

static void reply_participant(struct pf_api_request *r, const char *body, size_t len,
                              const char *etag)
{
	const char *inm = pf_api__header(r, "If-None-Match");
	char cc[64];

	/* Short: presigned URLs inside expire and new photos keep arriving. */
	snprintf(cc, sizeof(cc), "public, max-age=%d", r->api->d.cfg->cache_ttl);
	pf_api__set_header(r, "Cache-Control", cc);
	pf_api__set_header(r, "ETag", etag);
	if (inm && strstr(inm, etag)) {
		pf_api__reply_empty(r, 304, "Not Modified");
		return;
	}
	pf_api__reply_json(r, 200, body, len);
}

/* Whether a cached answer found nothing (answers are built below, compact). */
static bool is_empty_answer(const char *body, size_t len)
{
	static const char none[] = "\"images\":[]";

	return len < 65536 && memmem(body, len, none, sizeof(none) - 1) != NULL;
}

/* Answers with doc (stolen), keeping it in the cache while fresh. */
static void send_participant(struct pf_api_request *r, json_t *doc)
{
	struct pf_api *api = r->api;
	char *body = json_dumps(doc, JSON_COMPACT);
	char etag[20];

	json_decref(doc);
	etag_of(body, strlen(body), etag);
	/* An invalidation since the lookup started: what was read may be stale. */
	if (api->d.cfg->cache_ttl > 0 && r->cache_generation == pf_cache_generation(api->cache))
		pf_cache_put(api->cache, r->cache_key, r->cache_tag, body, strlen(body), etag,
		             pf_monotonic_ms() + (int64_t)api->d.cfg->cache_ttl * 1000);
	reply_participant(r, body, strlen(body), etag);
	free(body);
}

static void on_participant_page(const struct pf_catalog_page *page, const struct pf_error *err,
                                void *arg)
{
	struct pf_api_request *r = arg;
	struct pf_api *api = r->api;
	json_t *images, *doc;

	if (err->code) {
		pf_warn("participant lookup failed", PF_LS("code", r->cache_tag),
		        PF_LS("error", err->message));
		pf_api__reply_error(
		    r, 503, "unavailable",
		    "the photo catalog is unavailable right now; try again shortly");
		return;
	}
	images = pf_api__photos_json(r, page);
	if (!images)
		return;
	/* Guessing codes finds nothing again and again: limited per client. */
	if (page->count == 0 && !pf_api__miss_allowed(r, r->cache_tag)) {
		json_decref(images);
		return;
	}
	doc = json_pack("{s:s,s:o,s:s?}", "participant", r->cache_tag, "images", images,
	                "nextCursor", page->next_cursor);
	if (!json_object_get(doc, "nextCursor"))
		json_object_set_new(doc, "nextCursor", json_null());
	json_object_set_new(doc, "registered", pf_api__registered_json(api, r->cache_tag));
	if (page->count == 0 && !pf_api__query(r, "cursor")) {
		pf_api__add_suggestions(r, r->cache_tag, doc, send_participant);
		return;
	}
	json_object_set_new(doc, "suggestions", json_array());
	send_participant(r, doc);
}

void pf_api__get_participant(struct pf_api_request *r)
{
	struct pf_api *api = r->api;
	char raw[MAX_RAW_CODE + 1];
	char *code = NULL;
	struct pf_catalog_page_options opts = {0};
	struct pf_cache_hit hit;
	struct pf_error err;

	if (pf_route_param(&r->params, "code", raw, sizeof(raw)))
		code = evhttp_uridecode(raw, 0, NULL);
	if (!code || !pf_api_normalize_code(code)) {
		pf_api__reply_error(
		    r, 400, "invalid_code",
		    "a participant code is 1 to 64 letters, digits, '_', '.' or '-'");
		free(code);
		return;
	}
	if (!pf_api__limit(r, &opts.limit)) {
		free(code);
		return;
	}
	opts.cursor = pf_api__query(r, "cursor");
	if (opts.cursor && !pf_catalog_cursor_is_valid(opts.cursor)) {
		pf_api__reply_error(r, 400, "invalid_cursor",
		                    "cursor is not one this API returned");
		free(code);
		return;
	}
	r->cache_tag = code;
	r->cache_key = pf_xasprintf("%s\n%d\n%s", code, opts.limit, opts.cursor ? opts.cursor : "");
	if (pf_cache_get(api->cache, r->cache_key, pf_monotonic_ms(), &hit)) {
		pf_metrics_inc(api->d.metrics, "photofinish_api_cache_total",
		               "Participant lookups by cache result.", "result=\"hit\"", 1);
		if (is_empty_answer(hit.body, hit.len) && !pf_api__miss_allowed(r, code))
			return;
		reply_participant(r, hit.body, hit.len, hit.etag);
		return;
	}
	pf_metrics_inc(api->d.metrics, "photofinish_api_cache_total",
	               "Participant lookups by cache result.", "result=\"miss\"", 1);
	if (!pf_api__wait(r))
		return;
	r->cache_generation = pf_cache_generation(api->cache);
	if (pf_catalog_list_code(api->d.catalog, code, &opts, on_participant_page, r, &err) < 0)
		pf_api__reply_error(r, 503, "unavailable", "the photo catalog is unavailable");
}
