/*
 * The HTTP API on evhttp. Loop thread only. A participant request is
 * answered from the cache when fresh, else from one DynamoDB Query; the
 * request may outlive its connection, so a pending lookup checks that its
 * connection is still open before replying.
 */
#include "photofinish/api.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin.h"
#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/s3.h"
#include "photofinish/aws/sigv4.h"
#include "photofinish/catalog.h"
#include "photofinish/config.h"
#include "photofinish/conn_gate.h"
#include "photofinish/image.h"
#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/util.h"

#define MAX_HEADERS_BYTES 8192
#define MAX_BODY_BYTES 65536
#define CONNECTION_TIMEOUT_SECONDS 30
#define MAX_PENDING_LOOKUPS 256
#define CACHE_MAX_ENTRIES 4096
/* Bytes of cached answers; a forged variety of limits and cursors cannot grow it past this. */
#define CACHE_MAX_BYTES (64 * 1024 * 1024)
#define DEFAULT_LIMIT 100
#define MAX_LIMIT 500

struct cache_entry {
	char *lookup; /* code \n limit \n cursor */
	char *code;
	char *body;
	size_t len;
	char etag[20];
	int64_t expires_ms;
	struct cache_entry *next;
};

struct pf_api {
	struct pf_api_deps d;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct pf_conn_gate *gate;
	int pending_lookups;
	struct cache_entry *cache; /* most recent first */
	size_t cache_size;
	size_t cache_bytes;
	/* Bumped by every invalidation: a lookup that started before one must
	 * not cache what it read. */
	uint64_t cache_generation;
};

struct lookup {
	struct pf_api *api;
	struct evhttp_request *req; /* NULL once the connection went away */
	char code[65];
	char *cache_key;
	int64_t t_start;
	uint64_t generation;
};

/* ---- helpers ----------------------------------------------------------- */

bool pf_api_normalize_code(char *code)
{
	char out[PF_IMAGE_CODE_MAX + 1];

	/* One rule for codes everywhere: the pipeline's. */
	if (strlen(code) > 256 || !pf_image_code_normalise(code, out))
		return false;
	memcpy(code, out, strlen(out) + 1);
	return true;
}

static void etag_of(const char *body, size_t len, char out[20])
{
	char hex[65];

	pf_sigv4_sha256_hex(body, len, hex);
	snprintf(out, 20, "\"%.16s\"", hex);
}

static void record(struct pf_api *api, const char *route, int status, int64_t t_start)
{
	char labels[96];
	int64_t ms = pf_monotonic_ms() - t_start;

	snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%d\"", route, status);
	pf_metrics_inc(api->d.metrics, "photofinish_api_requests_total",
	               "API requests by route and status.", labels, 1);
	snprintf(labels, sizeof(labels), "route=\"%s\"", route);
	pf_metrics_observe(api->d.metrics, "photofinish_api_request_seconds",
	                   "API request latency by route.", labels, (double)ms / 1000.0);
	pf_info("api request", PF_LS("route", route), PF_LI("status", status), PF_LI("ms", ms));
}

static void add_cors(struct pf_api *api, struct evhttp_request *req)
{
	const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
	const char *allowed = api->d.cfg->cors_origins;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	if (!origin || !allowed)
		return;
	if (strcmp(allowed, "*") == 0) {
		evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
		return;
	}
	for (const char *p = allowed; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		while (n && *p == ' ') {
			p++;
			n--;
		}
		if (n == strlen(origin) && !strncmp(p, origin, n)) {
			evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
			evhttp_add_header(out, "Vary", "Origin");
			return;
		}
		if (!end)
			break;
		p = end + 1;
	}
}

static void send_json(struct pf_api *api, struct evhttp_request *req, int status, const char *body,
                      size_t len, const char *route, int64_t t_start)
{
	struct evbuffer *buf = evbuffer_new();
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Content-Type", "application/json");
	add_cors(api, req);
	evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
	record(api, route, status, t_start);
}

static void send_error(struct pf_api *api, struct evhttp_request *req, int status, const char *code,
                       const char *message, const char *route, int64_t t_start)
{
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	char *body = json_dumps(j, JSON_COMPACT);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	send_json(api, req, status, body, strlen(body), route, t_start);
	free(body);
	json_decref(j);
}

/* ---- cache ------------------------------------------------------------- */

static void cache_entry_free(struct pf_api *api, struct cache_entry *e)
{
	api->cache_size--;
	api->cache_bytes -= e->len;
	free(e->lookup);
	free(e->code);
	free(e->body);
	free(e);
}

static struct cache_entry *cache_find(struct pf_api *api, const char *lookup)
{
	int64_t now = pf_monotonic_ms();

	for (struct cache_entry **p = &api->cache; *p; p = &(*p)->next) {
		struct cache_entry *e = *p;

		if (strcmp(e->lookup, lookup))
			continue;
		if (e->expires_ms <= now) {
			*p = e->next;
			cache_entry_free(api, e);
			return NULL;
		}
		/* Move to front: hot participants stay cheap to find. */
		*p = e->next;
		e->next = api->cache;
		api->cache = e;
		return e;
	}
	return NULL;
}

static void cache_put(struct pf_api *api, const char *lookup, const char *code, const char *body,
                      size_t len, const char *etag)
{
	struct cache_entry *e;

	if (api->d.cfg->cache_ttl <= 0 || len > CACHE_MAX_BYTES / 16)
		return;
	while (api->cache &&
	       (api->cache_size >= CACHE_MAX_ENTRIES || api->cache_bytes + len > CACHE_MAX_BYTES)) {
		/* Drop the least recently used (the tail). */
		struct cache_entry **p = &api->cache;

		while ((*p)->next)
			p = &(*p)->next;
		cache_entry_free(api, *p);
		*p = NULL;
	}
	e = pf_xcalloc(1, sizeof(*e));
	e->lookup = pf_xstrdup(lookup);
	e->code = pf_xstrdup(code);
	e->body = pf_xstrndup(body, len);
	e->len = len;
	memcpy(e->etag, etag, sizeof(e->etag));
	e->expires_ms = pf_monotonic_ms() + (int64_t)api->d.cfg->cache_ttl * 1000;
	e->next = api->cache;
	api->cache = e;
	api->cache_size++;
	api->cache_bytes += len;
}

void pf_api_invalidate(struct pf_api *api, char *const *codes, size_t n)
{
	api->cache_generation++;
	for (struct cache_entry **p = &api->cache; *p;) {
		struct cache_entry *e = *p;
		bool hit = false;

		hit = n == 0; /* nothing named: everything (a race was cleared) */
		for (size_t i = 0; i < n && !hit; i++)
			hit = !strcmp(e->code, codes[i]);
		if (hit) {
			*p = e->next;
			cache_entry_free(api, e);
		} else {
			p = &e->next;
		}
	}
}

/* ---- participants ------------------------------------------------------ */

static void reply_participant(struct pf_api *api, struct evhttp_request *req, const char *body,
                              size_t len, const char *etag, int64_t t_start)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *inm =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	char cc[64];

	/* Short: presigned URLs inside expire and new photos keep arriving. */
	snprintf(cc, sizeof(cc), "public, max-age=%d", api->d.cfg->cache_ttl);
	evhttp_add_header(out, "Cache-Control", cc);
	evhttp_add_header(out, "ETag", etag);
	if (inm && strstr(inm, etag)) {
		add_cors(api, req);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		record(api, "/participants/{code}", 304, t_start);
		return;
	}
	send_json(api, req, 200, body, len, "/participants/{code}", t_start);
}

static char *media_url(struct pf_api *api, const char *key, struct pf_error *err)
{
	char *url = NULL;

	if (!key)
		return NULL;
	if (api->d.cfg->public_media_url) {
		char *enc = pf_sigv4_uri_encode(key, strlen(key), true);

		url = pf_xasprintf("%s/%s", api->d.cfg->public_media_url, enc);
		free(enc);
		return url;
	}
	if (pf_s3_presign_get(api->d.aws, api->d.cfg->processed_bucket, key, api->d.cfg->url_ttl,
	                      &url, err) < 0)
		return NULL;
	return url;
}

static json_t *image_json(struct pf_api *api, const json_t *entry, struct pf_error *err)
{
#define S(name) json_string_value(json_object_get(json_object_get(entry, name), "S"))
#define N(name) json_string_value(json_object_get(json_object_get(entry, name), "N"))
	const json_t *codes = json_object_get(json_object_get(entry, "codes"), "L");
	json_t *out_codes = json_array();
	char *thumb = media_url(api, S("thumbnailKey"), err);
	char *full = thumb ? media_url(api, S("fullsizeKey"), err) : NULL;
	json_t *img;
	size_t i;
	const json_t *c;
	int64_t w = 0, h = 0, tw = 0, th = 0;

	if (!thumb || !full) {
		free(thumb);
		free(full);
		json_decref(out_codes);
		return NULL;
	}
	json_array_foreach(codes, i, c)
	{
		const char *s = json_string_value(json_object_get(c, "S"));

		if (s)
			json_array_append_new(out_codes, json_string(s));
	}
	pf_parse_int64(N("width") ? N("width") : "0", 0, 100000, &w);
	pf_parse_int64(N("height") ? N("height") : "0", 0, 100000, &h);
	pf_parse_int64(N("thumbnailWidth") ? N("thumbnailWidth") : "0", 0, 100000, &tw);
	pf_parse_int64(N("thumbnailHeight") ? N("thumbnailHeight") : "0", 0, 100000, &th);
	img = json_pack("{s:s?,s:s?,s:s,s:s,s:I,s:I,s:I,s:I,s:o}", "id", S("id"), "takenAt",
	                S("takenAt"), "thumbnailUrl", thumb, "fullsizeUrl", full, "width",
	                (json_int_t)w, "height", (json_int_t)h, "thumbnailWidth", (json_int_t)tw,
	                "thumbnailHeight", (json_int_t)th, "codes", out_codes);
	if (img && !json_object_get(img, "takenAt"))
		json_object_set_new(img, "takenAt", json_null());
	free(thumb);
	free(full);
	return img;
#undef S
#undef N
}

static void on_connection_closed(struct evhttp_connection *conn, void *arg)
{
	struct lookup *l = arg;

	l->req = NULL;
}

static void on_participant_page(json_t *entries, const char *next_cursor,
                                const struct pf_error *err, void *arg)
{
	struct lookup *l = arg;
	struct pf_api *api = l->api;
	json_t *images, *doc;
	char *body = NULL;
	char etag[20];
	size_t i;
	const json_t *e;
	struct pf_error uerr;

	api->pending_lookups--;
	if (!l->req)
		goto out;
	evhttp_connection_set_closecb(evhttp_request_get_connection(l->req), NULL, NULL);
	if (err->code) {
		pf_warn("participant lookup failed", PF_LS("code", l->code),
		        PF_LS("error", err->message));
		send_error(api, l->req, 503, "unavailable",
		           "the photo catalog is unavailable right now; try again shortly",
		           "/participants/{code}", l->t_start);
		goto out;
	}
	images = json_array();
	pf_error_clear(&uerr);
	json_array_foreach(entries, i, e)
	{
		json_t *img = image_json(api, e, &uerr);

		if (!img) {
			json_decref(images);
			pf_warn("cannot build image URLs", PF_LS("error", uerr.message));
			send_error(api, l->req, 503, "unavailable",
			           "image URLs cannot be signed right now; try again shortly",
			           "/participants/{code}", l->t_start);
			goto out;
		}
		json_array_append_new(images, img);
	}
	doc = json_pack("{s:s,s:o,s:s?}", "participant", l->code, "images", images, "nextCursor",
	                next_cursor);
	if (!json_object_get(doc, "nextCursor"))
		json_object_set_new(doc, "nextCursor", json_null());
	body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	etag_of(body, strlen(body), etag);
	if (l->generation == api->cache_generation)
		cache_put(api, l->cache_key, l->code, body, strlen(body), etag);
	reply_participant(api, l->req, body, strlen(body), etag, l->t_start);
out:
	free(body);
	free(l->cache_key);
	free(l);
}

static void handle_participant(struct pf_api *api, struct evhttp_request *req, const char *raw,
                               const struct evkeyvalq *query, int64_t t_start)
{
	char *decoded = evhttp_uridecode(raw, 0, NULL);
	const char *limit_s = evhttp_find_header(query, "limit");
	const char *cursor = evhttp_find_header(query, "cursor");
	int64_t limit = DEFAULT_LIMIT;
	struct cache_entry *hit;
	struct lookup *l;
	char *lookup_key, *pk;
	struct pf_error err;
	const char *route = "/participants/{code}";

	if (!decoded || !pf_api_normalize_code(decoded)) {
		send_error(api, req, 400, "invalid_code",
		           "a participant code is 1 to 64 letters, digits, '_', '.' or '-'", route,
		           t_start);
		free(decoded);
		return;
	}
	if (limit_s && !pf_parse_int64(limit_s, 1, MAX_LIMIT, &limit)) {
		send_error(api, req, 400, "invalid_limit",
		           "limit must be a whole number from 1 to 500", route, t_start);
		free(decoded);
		return;
	}
	if (cursor) {
		char *sk = pf_catalog_cursor_decode(cursor);

		if (!sk) {
			send_error(api, req, 400, "invalid_cursor",
			           "cursor is not one this API returned", route, t_start);
			free(decoded);
			return;
		}
		free(sk);
	}
	lookup_key = pf_xasprintf("%s\n%lld\n%s", decoded, (long long)limit, cursor ? cursor : "");
	hit = cache_find(api, lookup_key);
	if (hit) {
		pf_metrics_inc(api->d.metrics, "photofinish_api_cache_total",
		               "Participant lookups by cache result.", "result=\"hit\"", 1);
		reply_participant(api, req, hit->body, hit->len, hit->etag, t_start);
		free(lookup_key);
		free(decoded);
		return;
	}
	pf_metrics_inc(api->d.metrics, "photofinish_api_cache_total",
	               "Participant lookups by cache result.", "result=\"miss\"", 1);
	if (api->pending_lookups >= MAX_PENDING_LOOKUPS) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		send_error(api, req, 503, "busy", "too many lookups in progress; try again", route,
		           t_start);
		free(lookup_key);
		free(decoded);
		return;
	}
	l = pf_xcalloc(1, sizeof(*l));
	l->api = api;
	l->req = req;
	snprintf(l->code, sizeof(l->code), "%s", decoded);
	l->cache_key = lookup_key;
	l->t_start = t_start;
	l->generation = api->cache_generation;
	pk = pf_xasprintf("CODE#%s", decoded);
	free(decoded);
	if (pf_catalog_list(api->d.catalog, pk, (int)limit, cursor, on_participant_page, l, &err) <
	    0) {
		send_error(api, req, 503, "unavailable", "the photo catalog is unavailable", route,
		           t_start);
		free(l->cache_key);
		free(l);
		free(pk);
		return;
	}
	free(pk);
	api->pending_lookups++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_connection_closed, l);
}

/* ---- admin --------------------------------------------------------------- */

/* An admin request waiting for AWS; req is NULL once its connection closed. */
struct pending {
	struct pf_api *api;
	struct evhttp_request *req;
	const char *route;
	int64_t t_start;
};

static void on_pending_closed(struct evhttp_connection *conn, void *arg)
{
	((struct pending *)arg)->req = NULL;
}

static struct pending *pending_new(struct pf_api *api, struct evhttp_request *req,
                                   const char *route, int64_t t_start)
{
	struct pending *p = pf_xcalloc(1, sizeof(*p));

	p->api = api;
	p->req = req;
	p->route = route;
	p->t_start = t_start;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_pending_closed, p);
	return p;
}

/* Detaches from the connection; returns the request to answer, or NULL. */
static struct evhttp_request *pending_take(struct pending *p)
{
	struct evhttp_request *req = p->req;

	if (req)
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
	return req;
}

static void send_doc(struct pf_api *api, struct evhttp_request *req, int status, json_t *doc,
                     const char *route, int64_t t_start)
{
	char *body = json_dumps(doc, JSON_COMPACT);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	send_json(api, req, status, body, strlen(body), route, t_start);
	free(body);
	json_decref(doc);
}

static void send_job(struct pf_api *api, struct evhttp_request *req, json_t *job, const char *route,
                     int64_t t_start)
{
	if (!job) {
		send_error(api, req, 503, "busy",
		           "4 admin jobs are running; wait for one to finish", route, t_start);
		return;
	}
	send_doc(api, req, 202, job, route, t_start);
}

static void send_aws_error(struct pf_api *api, struct evhttp_request *req,
                           const struct pf_error *err, const char *route, int64_t t_start)
{
	switch (err->code) {
	case PF_ENOTFOUND:
		send_error(api, req, 404, "not_found", err->message, route, t_start);
		break;
	case PF_EINVAL:
		send_error(api, req, 400, "invalid_body", err->message, route, t_start);
		break;
	case PF_ECONFLICT:
		send_error(api, req, 409, "conflict", err->message, route, t_start);
		break;
	default:
		pf_warn("admin request failed", PF_LS("route", route),
		        PF_LS("error", err->message));
		send_error(api, req, 503, "unavailable", "AWS could not be reached; try again",
		           route, t_start);
	}
}

static void on_admin_image(const struct pf_catalog_image *img, const struct pf_error *err,
                           void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = pending_take(p);

	if (req && err->code)
		send_aws_error(p->api, req, err, p->route, p->t_start);
	else if (req)
		send_doc(p->api, req, 200, pf_admin_image_json(img), p->route, p->t_start);
	free(p);
}

/* GET of one photo: a deleted photo's tombstone is not a photo. */
static void on_admin_get(const struct pf_catalog_image *img, const struct pf_error *err, void *arg)
{
	struct pending *p = arg;

	if (!err->code && (!img || img->status == PF_IMAGE_DELETED)) {
		struct evhttp_request *req = pending_take(p);

		if (req)
			send_error(p->api, req, 404, "not_found", "no such photo", p->route,
			           p->t_start);
		free(p);
		return;
	}
	on_admin_image(img, err, arg);
}

static void on_admin_listing(json_t *entries, const char *next_cursor, const struct pf_error *err,
                             void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = pending_take(p);
	json_t *images;
	size_t i;
	const json_t *e;

	if (!req)
		goto out;
	if (err->code) {
		send_aws_error(p->api, req, err, p->route, p->t_start);
		goto out;
	}
	images = json_array();
	json_array_foreach(entries, i, e)
	{
		struct pf_error uerr;
		json_t *img = json_object_get(e, "reason") ? NULL : image_json(p->api, e, &uerr);
		json_t *row = json_pack(
		    "{s:s?,s:s?,s:s?,s:s?}", "id",
		    json_string_value(json_object_get(json_object_get(e, "id"), "S")), "key",
		    json_string_value(json_object_get(json_object_get(e, "key"), "S")), "reason",
		    json_string_value(json_object_get(json_object_get(e, "reason"), "S")),
		    "message",
		    json_string_value(json_object_get(json_object_get(e, "message"), "S")));

		if (img)
			json_object_update(row, img);
		json_decref(img);
		json_array_append_new(images, row);
	}
	send_doc(p->api, req, 200,
	         json_pack("{s:o,s:s?}", "images", images, "nextCursor", next_cursor), p->route,
	         p->t_start);
out:
	free(p);
}

static bool admin_authorised(struct pf_api *api, struct evhttp_request *req)
{
	const char *auth =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	const char *token = api->d.cfg->admin_token;
	size_t n = strlen(token);

	return auth && !strncmp(auth, "Bearer ", 7) && strlen(auth + 7) == n &&
	       CRYPTO_memcmp(auth + 7, token, n) == 0;
}

/* The request body as JSON; NULL (and a 400 sent) when it is not. */
static json_t *read_body(struct pf_api *api, struct evhttp_request *req, const char *route,
                         int64_t t_start)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_t *doc = NULL;

	if (len > 0 && len <= MAX_BODY_BYTES) {
		char *text = pf_xmalloc(len + 1);

		evbuffer_copyout(in, text, len);
		doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
		free(text);
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		send_error(api, req, 400, "invalid_body", "the body must be a JSON object", route,
		           t_start);
		return NULL;
	}
	return doc;
}

static void admin_set_codes(struct pf_api *api, struct evhttp_request *req, const char *id,
                            const char *route, int64_t t_start)
{
	json_t *doc = read_body(api, req, route, t_start);
	json_t *list = json_object_get(doc, "codes");
	char *codes[PF_CATALOG_MAX_CODES];
	size_t n = 0, i;
	json_t *c;
	struct pf_error err;
	struct pending *p;

	if (!doc)
		return;
	if (!json_is_array(list) || json_array_size(list) > PF_CATALOG_MAX_CODES) {
		send_error(api, req, 400, "invalid_body",
		           "send {\"codes\":[\"10423\", ...]} with at most 40 codes", route,
		           t_start);
		json_decref(doc);
		return;
	}
	json_array_foreach(list, i, c)
	{
		char *code = json_is_string(c) ? pf_xstrdup(json_string_value(c)) : NULL;
		bool dup = false;

		if (!code || strlen(code) > 64 || !pf_api_normalize_code(code)) {
			free(code);
			for (size_t k = 0; k < n; k++)
				free(codes[k]);
			send_error(api, req, 400, "invalid_code",
			           "codes are 1 to 64 letters, digits, '_', '.' or '-'", route,
			           t_start);
			json_decref(doc);
			return;
		}
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(codes[k], code);
		if (dup)
			free(code);
		else
			codes[n++] = code;
	}
	json_decref(doc);
	/* Sorted, like detected codes. */
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(codes[b - 1], codes[b]) > 0; b--) {
			char *t = codes[b];

			codes[b] = codes[b - 1];
			codes[b - 1] = t;
		}
	p = pending_new(api, req, route, t_start);
	if (pf_admin_set_codes(api->d.admin, id, codes, n, on_admin_image, p, &err) < 0) {
		pending_take(p);
		free(p);
		send_aws_error(api, req, &err, route, t_start);
	}
	for (size_t k = 0; k < n; k++)
		free(codes[k]);
}

static void handle_admin(struct pf_api *api, struct evhttp_request *req, const char *path,
                         const struct evkeyvalq *query, int64_t t_start)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *rest = path + 7; /* after "/admin/" */
	const char *route = "/admin";
	struct pf_error err;
	struct pending *p;
	char id[PF_CATALOG_ID_LEN + 1];

	if (!api->d.cfg->admin_token || !api->d.admin) {
		send_error(api, req, 404, "not_found",
		           "the admin API is off (set PHOTOFINISH_ADMIN_TOKEN)", route, t_start);
		return;
	}
	if (!admin_authorised(api, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		                  "Bearer");
		send_error(api, req, 401, "unauthorized",
		           "send Authorization: Bearer <PHOTOFINISH_ADMIN_TOKEN>", route, t_start);
		return;
	}

	if (!strncmp(rest, "images/", 7) && strlen(rest + 7) >= PF_CATALOG_ID_LEN) {
		const char *tail = rest + 7 + PF_CATALOG_ID_LEN;

		memcpy(id, rest + 7, PF_CATALOG_ID_LEN);
		id[PF_CATALOG_ID_LEN] = '\0';
		if (!strcmp(tail, "/codes")) {
			route = "/admin/images/{id}/codes";
			if (cmd != EVHTTP_REQ_PUT)
				goto not_allowed;
			admin_set_codes(api, req, id, route, t_start);
			return;
		}
		if (*tail)
			goto not_found;
		route = "/admin/images/{id}";
		p = pending_new(api, req, route, t_start);
		if (cmd == EVHTTP_REQ_GET) {
			if (strspn(id, "0123456789abcdef") != PF_CATALOG_ID_LEN) {
				pending_take(p);
				free(p);
				goto not_found;
			}
			if (pf_catalog_get(api->d.catalog, id, on_admin_get, p, &err) == 0)
				return;
		} else if (cmd == EVHTTP_REQ_DELETE) {
			if (pf_admin_delete_image(api->d.admin, id, on_admin_image, p, &err) == 0)
				return;
		} else {
			pending_take(p);
			free(p);
			goto not_allowed;
		}
		pending_take(p);
		free(p);
		send_aws_error(api, req, &err, route, t_start);
		return;
	}
	if (!strcmp(rest, "unmatched") || !strcmp(rest, "failed")) {
		const char *limit_s = evhttp_find_header(query, "limit");
		const char *cursor = evhttp_find_header(query, "cursor");
		int64_t limit = DEFAULT_LIMIT;

		route = !strcmp(rest, "failed") ? "/admin/failed" : "/admin/unmatched";
		if (cmd != EVHTTP_REQ_GET)
			goto not_allowed;
		if (limit_s && !pf_parse_int64(limit_s, 1, MAX_LIMIT, &limit)) {
			send_error(api, req, 400, "invalid_limit",
			           "limit must be a whole number from 1 to 500", route, t_start);
			return;
		}
		p = pending_new(api, req, route, t_start);
		if (pf_catalog_list(api->d.catalog,
		                    !strcmp(rest, "failed") ? "FAILED" : "UNMATCHED", (int)limit,
		                    cursor, on_admin_listing, p, &err) < 0) {
			pending_take(p);
			free(p);
			if (err.code == PF_EINVAL)
				send_error(api, req, 400, "invalid_cursor",
				           "cursor is not one this API returned", route, t_start);
			else
				send_aws_error(api, req, &err, route, t_start);
		}
		return;
	}
	if (!strcmp(rest, "reprocess")) {
		route = "/admin/reprocess";
		if (cmd != EVHTTP_REQ_POST)
			goto not_allowed;
		send_job(api, req, pf_admin_start_reprocess(api->d.admin), route, t_start);
		return;
	}
	if (!strcmp(rest, "clear")) {
		json_t *doc;
		const char *confirm;

		route = "/admin/clear";
		if (cmd != EVHTTP_REQ_POST)
			goto not_allowed;
		doc = read_body(api, req, route, t_start);
		if (!doc)
			return;
		confirm = json_string_value(json_object_get(doc, "confirm"));
		if (!confirm || strcmp(confirm, api->d.cfg->table) != 0) {
			char *msg =
			    pf_xasprintf("clearing deletes every photo record and variant of "
			                 "this race; send {\"confirm\":\"%s\"}",
			                 api->d.cfg->table);

			send_error(api, req, 400, "invalid_body", msg, route, t_start);
			free(msg);
			json_decref(doc);
			return;
		}
		json_decref(doc);
		send_job(api, req, pf_admin_start_clear(api->d.admin), route, t_start);
		return;
	}
	if (!strncmp(rest, "jobs/", 5)) {
		json_t *job;

		route = "/admin/jobs/{id}";
		if (cmd != EVHTTP_REQ_GET)
			goto not_allowed;
		job = pf_admin_job(api->d.admin, rest + 5);
		if (!job)
			goto not_found;
		send_doc(api, req, 200, job, route, t_start);
		return;
	}
not_found:
	send_error(api, req, 404, "not_found", "no such admin route or photo", route, t_start);
	return;
not_allowed:
	send_error(api, req, 405, "method_not_allowed", "wrong method for this admin route", route,
	           t_start);
}

/* ---- routing ----------------------------------------------------------- */

static void handle_metrics(struct pf_api *api, struct evhttp_request *req, int64_t t_start)
{
	struct pf_buf out;
	struct evbuffer *buf = evbuffer_new();

	pf_buf_init(&out);
	/* Count this request before rendering so a scrape sees itself. */
	record(api, "/metrics", 200, t_start);
	pf_metrics_render(api->d.metrics, &out);
	if (api->d.render_metrics)
		api->d.render_metrics(api->d.arg, &out);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "text/plain; version=0.0.4");
	evbuffer_add(buf, out.data ? out.data : "", out.len);
	evhttp_send_reply(req, 200, NULL, buf);
	evbuffer_free(buf);
	pf_buf_free(&out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct pf_api *api = arg;
	int64_t t_start = pf_monotonic_ms();
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query_s = uri ? evhttp_uri_get_query(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq query;
	const char *route;
	bool known;

	if (!path) {
		send_error(api, req, 400, "bad_request", "malformed request target", "other",
		           t_start);
		return;
	}
	if (!strncmp(path, "/admin/", 7)) {
		memset(&query, 0, sizeof(query));
		if (query_s && evhttp_parse_query_str(query_s, &query) < 0) {
			send_error(api, req, 400, "bad_request", "malformed query string", "/admin",
			           t_start);
			return;
		}
		handle_admin(api, req, path, &query, t_start);
		evhttp_clear_headers(&query);
		return;
	}
	if (!strncmp(path, "/participants/", 14))
		route = "/participants/{code}";
	else if (!strcmp(path, "/healthz") || !strcmp(path, "/readyz") || !strcmp(path, "/metrics"))
		route = path;
	else
		route = "other";
	known = strcmp(route, "other") != 0;

	if (known && cmd == EVHTTP_REQ_OPTIONS) {
		struct evkeyvalq *out = evhttp_request_get_output_headers(req);

		add_cors(api, req);
		evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
		evhttp_add_header(out, "Access-Control-Allow-Headers", "If-None-Match");
		evhttp_add_header(out, "Access-Control-Max-Age", "600");
		evhttp_send_reply(req, 204, "No Content", NULL);
		record(api, route, 204, t_start);
		return;
	}
	if (!known) {
		send_error(api, req, 404, "not_found", "no such route", route, t_start);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		                  "GET, HEAD, OPTIONS");
		send_error(api, req, 405, "method_not_allowed", "only GET is supported here", route,
		           t_start);
		return;
	}

	if (!strcmp(route, "/healthz")) {
		static const char ok[] = "{\"status\":\"ok\"}";

		send_json(api, req, 200, ok, sizeof(ok) - 1, route, t_start);
	} else if (!strcmp(route, "/readyz")) {
		const char *why =
		    api->d.not_ready_reason ? api->d.not_ready_reason(api->d.arg) : NULL;

		if (why) {
			json_t *j = json_pack("{s:s,s:s}", "status", "not_ready", "reason", why);
			char *body = json_dumps(j, JSON_COMPACT);

			send_json(api, req, 503, body, strlen(body), route, t_start);
			free(body);
			json_decref(j);
		} else {
			static const char ok[] = "{\"status\":\"ready\"}";

			send_json(api, req, 200, ok, sizeof(ok) - 1, route, t_start);
		}
	} else if (!strcmp(route, "/metrics")) {
		handle_metrics(api, req, t_start);
	} else {
		/* Empty list when there is no query string; parse fills it otherwise. */
		memset(&query, 0, sizeof(query));
		if (query_s && evhttp_parse_query_str(query_s, &query) < 0) {
			send_error(api, req, 400, "bad_request", "malformed query string", route,
			           t_start);
			return;
		}
		handle_participant(api, req, path + 14, &query, t_start);
		evhttp_clear_headers(&query);
	}
}

int pf_api_new(const struct pf_api_deps *deps, struct pf_api **out, struct pf_error *err)
{
	struct pf_api *api = pf_xcalloc(1, sizeof(*api));

	api->d = *deps;
	api->http = evhttp_new(deps->base);
	if (!api->http) {
		free(api);
		return pf_error_set(err, PF_EIO, "cannot create the HTTP server");
	}
	evhttp_set_max_headers_size(api->http, MAX_HEADERS_BYTES);
	evhttp_set_max_body_size(api->http, MAX_BODY_BYTES);
	evhttp_set_timeout(api->http, CONNECTION_TIMEOUT_SECONDS);
	evhttp_set_allowed_methods(
	    api->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_POST |
	                   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(api->http, on_request, api);
	api->sock = evhttp_bind_socket_with_handle(api->http, deps->cfg->listen_host,
	                                           (ev_uint16_t)deps->cfg->listen_port);
	if (!api->sock) {
		evhttp_free(api->http);
		free(api);
		return pf_error_set(err, PF_EIO, "cannot listen on %s (address in use or invalid)",
		                    deps->cfg->listen);
	}
	if (pf_conn_gate_new(deps->base, api->http, api->sock, deps->cfg->max_connections,
	                     deps->metrics, &api->gate, err) < 0) {
		evhttp_free(api->http);
		free(api);
		return err->code;
	}
	*out = api;
	return 0;
}

void pf_api_stop_accepting(struct pf_api *api)
{
	if (api && api->sock) {
		pf_conn_gate_free(api->gate);
		api->gate = NULL;
		evhttp_del_accept_socket(api->http, api->sock);
		api->sock = NULL;
	}
}

void pf_api_free(struct pf_api *api)
{
	if (!api)
		return;
	pf_conn_gate_free(api->gate);
	evhttp_free(api->http);
	while (api->cache) {
		struct cache_entry *e = api->cache;

		api->cache = e->next;
		cache_entry_free(api, e);
	}
	free(api);
}
