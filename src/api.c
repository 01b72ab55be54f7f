/*
 * The HTTP server on evhttp: limits, CORS, routing from one table per
 * surface, the request in flight and its replies, and the small routes
 * (health, readiness, metrics). Participant lookups live in
 * api_participants.c and the operators' routes in api_admin.c. Loop thread
 * only.
 */
#include "api_int.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin_auth.h"
#include "photofinish/cache.h"
#include "photofinish/config.h"
#include "photofinish/conn_gate.h"
#include "photofinish/image.h"
#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/util.h"

#define MAX_HEADERS_BYTES 8192
#define MAX_BODY_BYTES 65536
#define CONNECTION_TIMEOUT_SECONDS 30
/* Requests waiting for AWS at once; more are refused with 503 + Retry-After. */
#define MAX_WAITING_REQUESTS 256
#define CACHE_MAX_ENTRIES 4096
/* Bytes of cached answers; a forged variety of limits and cursors cannot grow it past this. */
#define CACHE_MAX_BYTES (64 * 1024 * 1024)
#define MAX_LIMIT 500

bool pf_api_normalize_code(char *code)
{
	char out[PF_IMAGE_CODE_MAX + 1];

	/* One rule for codes everywhere: the pipeline's. */
	if (strlen(code) > 256 || !pf_image_code_normalise(code, out))
		return false;
	memcpy(code, out, strlen(out) + 1);
	return true;
}

/* ---- the request in flight ------------------------------------------------ */

static void on_connection_closed(struct evhttp_connection *conn, void *arg)
{
	((struct pf_api_request *)arg)->req = NULL;
}

static struct pf_api_request *request_new(struct pf_api *api, struct evhttp_request *req,
                                          int64_t t_start)
{
	struct pf_api_request *r = pf_xcalloc(1, sizeof(*r));

	r->api = api;
	r->req = req;
	r->t_start = t_start;
	/* query stays an empty list (zeroed) unless a route parses one. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_connection_closed, r);
	return r;
}

/* Detaches from the connection; returns the request to answer, or NULL
 * when its connection went away. */
static struct evhttp_request *request_take(struct pf_api_request *r)
{
	struct evhttp_request *req = r->req;

	if (req)
		evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
	r->req = NULL;
	return req;
}

static void request_end(struct pf_api_request *r)
{
	request_take(r);
	if (r->waiting)
		r->api->waiting--;
	evhttp_clear_headers(&r->query);
	free(r->cache_key);
	free(r->cache_tag);
	free(r->held);
	if (r->state_free)
		r->state_free(r->state);
	free(r);
}

const char *pf_api__header(const struct pf_api_request *r, const char *name)
{
	return r->req ? evhttp_find_header(evhttp_request_get_input_headers(r->req), name) : NULL;
}

void pf_api__set_header(struct pf_api_request *r, const char *name, const char *value)
{
	if (r->req)
		evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

const char *pf_api__query(const struct pf_api_request *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

bool pf_api__limit(struct pf_api_request *r, int *limit)
{
	const char *s = pf_api__query(r, "limit");
	int64_t v = PF_API_DEFAULT_LIMIT;

	if (s && !pf_parse_int64(s, 1, MAX_LIMIT, &v)) {
		pf_api__reply_error(r, 400, "invalid_limit",
		                    "limit must be a whole number from 1 to 500");
		return false;
	}
	*limit = (int)v;
	return true;
}

size_t pf_api__body_length(const struct pf_api_request *r)
{
	return r->req ? evbuffer_get_length(evhttp_request_get_input_buffer(r->req)) : 0;
}

json_t *pf_api__read_body(struct pf_api_request *r)
{
	struct evbuffer *in = r->req ? evhttp_request_get_input_buffer(r->req) : NULL;
	size_t len = in ? evbuffer_get_length(in) : 0;
	json_t *doc = NULL;

	if (len > 0 && len <= MAX_BODY_BYTES) {
		char *text = pf_xmalloc(len + 1);

		evbuffer_copyout(in, text, len);
		doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
		free(text);
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		pf_api__reply_error(r, 400, "invalid_body", "the body must be a JSON object");
		return NULL;
	}
	return doc;
}

bool pf_api__wait(struct pf_api_request *r)
{
	if (r->api->waiting >= MAX_WAITING_REQUESTS) {
		pf_api__set_header(r, "Retry-After", "1");
		pf_api__reply_error(r, 503, "busy", "too many requests in progress; try again");
		return false;
	}
	r->waiting = true;
	r->api->waiting++;
	return true;
}

/* ---- replies -------------------------------------------------------------- */

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

static void add_cors(struct pf_api_request *r)
{
	const char *origin = pf_api__header(r, "Origin");
	const char *allowed = r->api->d.cfg->cors_origins;

	if (!origin || !allowed)
		return;
	if (strcmp(allowed, "*") == 0) {
		pf_api__set_header(r, "Access-Control-Allow-Origin", "*");
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
			pf_api__set_header(r, "Access-Control-Allow-Origin", origin);
			pf_api__set_header(r, "Vary", "Origin");
			return;
		}
		if (!end)
			break;
		p = end + 1;
	}
}

/* Sends a reply (body may be NULL), counts it unless counted already, and
 * ends the request. */
static void reply(struct pf_api_request *r, int status, const char *reason,
                  const char *content_type, const char *body, size_t len, bool counted)
{
	struct evhttp_request *req;

	if (content_type)
		pf_api__set_header(r, "Content-Type", content_type);
	add_cors(r);
	req = request_take(r);
	if (req) {
		struct evbuffer *buf = NULL;

		if (body) {
			buf = evbuffer_new();
			evbuffer_add(buf, body, len);
		}
		evhttp_send_reply(req, status, reason, buf);
		if (buf)
			evbuffer_free(buf);
		if (!counted)
			record(r->api, r->route, status, r->t_start);
	}
	request_end(r);
}

void pf_api__reply_json(struct pf_api_request *r, int status, const char *body, size_t len)
{
	reply(r, status, NULL, "application/json", body, len, false);
}

void pf_api__reply_doc(struct pf_api_request *r, int status, json_t *doc)
{
	char *body = json_dumps(doc, JSON_COMPACT);

	pf_api__set_header(r, "Cache-Control", "no-store");
	pf_api__reply_json(r, status, body, strlen(body));
	free(body);
	json_decref(doc);
}

void pf_api__reply_error(struct pf_api_request *r, int status, const char *code,
                         const char *message)
{
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	char *body = json_dumps(j, JSON_COMPACT);

	pf_api__set_header(r, "Cache-Control", "no-store");
	pf_api__reply_json(r, status, body, strlen(body));
	free(body);
	json_decref(j);
}

void pf_api__reply_empty(struct pf_api_request *r, int status, const char *reason)
{
	reply(r, status, reason, NULL, NULL, 0, false);
}

void pf_api__reply_bytes(struct pf_api_request *r, int status, const char *content_type,
                         const void *body, size_t len)
{
	reply(r, status, NULL, content_type, (const char *)body, len, false);
}

/* ---- small routes --------------------------------------------------------- */

static void get_health(struct pf_api_request *r)
{
	static const char ok[] = "{\"status\":\"ok\"}";

	pf_api__reply_json(r, 200, ok, sizeof(ok) - 1);
}

static void get_readiness(struct pf_api_request *r)
{
	struct pf_api *api = r->api;
	const char *why = api->d.not_ready_reason ? api->d.not_ready_reason(api->d.arg) : NULL;
	json_t *j;
	char *body;

	if (!why) {
		static const char ok[] = "{\"status\":\"ready\"}";

		pf_api__reply_json(r, 200, ok, sizeof(ok) - 1);
		return;
	}
	j = json_pack("{s:s,s:s}", "status", "not_ready", "reason", why);
	body = json_dumps(j, JSON_COMPACT);
	pf_api__reply_json(r, 503, body, strlen(body));
	free(body);
	json_decref(j);
}

static void get_metrics(struct pf_api_request *r)
{
	struct pf_api *api = r->api;
	struct pf_buf out;

	pf_buf_init(&out);
	/* Count this request before rendering so a scrape sees itself. */
	record(api, r->route, 200, r->t_start);
	pf_metrics_render(api->d.metrics, &out);
	if (api->d.render_metrics)
		api->d.render_metrics(api->d.arg, &out);
	reply(r, 200, NULL, "text/plain; version=0.0.4", out.data ? out.data : "", out.len, true);
	pf_buf_free(&out);
}

/* ---- routing -------------------------------------------------------------- */

#define GET_HEAD (PF_METHOD_GET | PF_METHOD_HEAD)

/* The runners' and operations' surface: everything not under another. */
static const struct pf_route public_routes[] = {
    {GET_HEAD, "/participants/{code*}", pf_api__get_participant},
    {GET_HEAD, "/photos", pf_api__get_photos},
    {GET_HEAD, "/photographers", pf_api__get_photographers},
    {PF_METHOD_POST, "/claims", pf_api__post_claim},
    {GET_HEAD, "/healthz", get_health},
    {GET_HEAD, "/readyz", get_readiness},
    {GET_HEAD, "/metrics", get_metrics},
};

static const struct pf_api__surface public_surface = {
    .prefix = "/",
    .routes = public_routes,
    .nroutes = sizeof(public_routes) / sizeof(public_routes[0]),
    .other_route = "other",
    .preflight = true,
    .not_found = "no such route",
    .wrong_method = "wrong method for this route",
};

/* Most specific prefix first. */
static const struct pf_api__surface *const surfaces[] = {
    &pf_api__admin_surface, &pf_api__session_surface, &pf_api__uploads_surface,
    &pf_api__console_surface, &public_surface};

static unsigned method_of(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return PF_METHOD_GET;
	case EVHTTP_REQ_HEAD:
		return PF_METHOD_HEAD;
	case EVHTTP_REQ_POST:
		return PF_METHOD_POST;
	case EVHTTP_REQ_PUT:
		return PF_METHOD_PUT;
	case EVHTTP_REQ_DELETE:
		return PF_METHOD_DELETE;
	case EVHTTP_REQ_PATCH:
		return PF_METHOD_PATCH;
	case EVHTTP_REQ_OPTIONS:
		return PF_METHOD_OPTIONS;
	default:
		return 0;
	}
}

static void set_route(struct pf_api_request *r, const char *pattern)
{
	pf_route_label(pattern, r->route, sizeof(r->route));
}

static void preflight(struct pf_api_request *r, unsigned allowed)
{
	char methods[64];

	pf_route_methods_text(allowed | PF_METHOD_OPTIONS, methods, sizeof(methods));
	pf_api__set_header(r, "Access-Control-Allow-Methods", methods);
	pf_api__set_header(r, "Access-Control-Allow-Headers", "If-None-Match, Content-Type");
	pf_api__set_header(r, "Access-Control-Max-Age", "600");
	pf_api__reply_empty(r, 204, "No Content");
}

static void dispatch(struct pf_api_request *r, const struct pf_api__surface *s, const char *path,
                     const char *query)
{
	const struct pf_route *route;
	unsigned allowed;

	set_route(r, s->other_route);
	if (s->admit && !s->admit(r))
		return;
	route = pf_route_match(s->routes, s->nroutes, r->method, path, &r->params, &allowed);
	if (!route && allowed && s->preflight && r->method == PF_METHOD_OPTIONS) {
		struct pf_route_params p;
		unsigned m;

		/* Counted under the route the preflight is for. */
		set_route(r, pf_route_match(s->routes, s->nroutes, allowed, path, &p, &m)->pattern);
		preflight(r, allowed);
		return;
	}
	if (!route && allowed) {
		char methods[64];

		pf_route_methods_text(allowed | (s->preflight ? PF_METHOD_OPTIONS : 0), methods,
		                      sizeof(methods));
		pf_api__set_header(r, "Allow", methods);
		pf_api__reply_error(r, 405, "method_not_allowed", s->wrong_method);
		return;
	}
	if (!route) {
		pf_api__reply_error(r, 404, "not_found", s->not_found);
		return;
	}
	set_route(r, route->pattern);
	if (query && evhttp_parse_query_str(query, &r->query) < 0) {
		pf_api__reply_error(r, 400, "bad_request", "malformed query string");
		return;
	}
	route->handler(r);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct pf_api *api = arg;
	struct pf_api_request *r = request_new(api, req, pf_monotonic_ms());
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	r->method = method_of(evhttp_request_get_command(req));
	set_route(r, "other");
	if (!path) {
		pf_api__reply_error(r, 400, "bad_request", "malformed request target");
		return;
	}
	for (size_t i = 0; i < sizeof(surfaces) / sizeof(surfaces[0]); i++) {
		if (!strncmp(path, surfaces[i]->prefix, strlen(surfaces[i]->prefix))) {
			dispatch(r, surfaces[i], path, evhttp_uri_get_query(uri));
			return;
		}
	}
	pf_api__reply_error(r, 404, "not_found", "no such route");
}

/* ---- the server ----------------------------------------------------------- */

int pf_api_new(const struct pf_api_deps *deps, struct pf_api **out, struct pf_error *err)
{
	struct pf_api *api = pf_xcalloc(1, sizeof(*api));
	struct pf_cache_limits limits = {.max_entries = CACHE_MAX_ENTRIES,
	                                 .max_bytes = CACHE_MAX_BYTES,
	                                 .max_entry_bytes = CACHE_MAX_BYTES / 16};

	api->d = *deps;
	pf_admin_auth_new(deps->cfg, &api->auth);
	pf_api__sessions_init(api);
	if (pf_cache_new(&limits, &api->cache, err) < 0)
		goto fail;
	api->runner = pf_api__runner_new(api);
	api->http = evhttp_new(deps->base);
	if (!api->http) {
		pf_error_set(err, PF_EIO, "cannot create the HTTP server");
		goto fail;
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
		pf_error_set(err, PF_EIO, "cannot listen on %s (address in use or invalid)",
		             deps->cfg->listen);
		goto fail;
	}
	if (pf_conn_gate_new(deps->base, api->http, api->sock, deps->cfg->max_connections,
	                     deps->metrics, &api->gate, err) < 0)
		goto fail;
	*out = api;
	return 0;
fail:
	pf_api_free(api);
	return err->code;
}

void pf_api_invalidate(struct pf_api *api, char *const *codes, size_t n)
{
	pf_cache_invalidate(api->cache, codes, n);
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
	if (api->http)
		evhttp_free(api->http);
	pf_cache_free(api->cache);
	pf_admin_auth_free(api->auth);
	pf_api__runner_free(api->runner);
	pf_api__sessions_free(api);
	free(api->console_csp);
	free(api);
}
