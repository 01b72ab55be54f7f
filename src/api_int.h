/*
 * What the API's files share: the server, the one struct for a request in
 * flight, replies, and each surface's route table. Loop thread only.
 *
 * A request's life: api.c matches it against a surface's table and calls
 * the route's handler with a struct pf_api_request. The handler answers
 * exactly once, now or later, through one of the pf_api__reply_* calls,
 * which also end the request (free it). A handler that waits for AWS calls
 * pf_api__wait first; the request may then outlive its connection, and a
 * reply to a closed connection is dropped. Route parameters point into the
 * request line: copy them before waiting.
 */
#ifndef PHOTOFINISH_API_INT_H
#define PHOTOFINISH_API_INT_H

#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "photofinish/api.h"
#include "photofinish/route.h"

struct evhttp_request;
struct pf_admin_auth;
struct pf_cache;
struct pf_conn_gate;
struct pf_catalog_image;
struct pf_catalog_page;

#define PF_API_DEFAULT_LIMIT 100

struct pf_api {
	struct pf_api_deps d;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct pf_conn_gate *gate;  /* refuses connections past the cap */
	struct pf_cache *cache;     /* participant answers */
	struct pf_admin_auth *auth; /* admin tokens */
	int waiting;                /* requests waiting for AWS */
	struct pf_api__runner *runner; /* suggestions, rate limits (api_runner.c) */
	/* Console sessions (api_session.c): the signing key (none: sessions
	 * off), the photographers' credentials as last read, failed sign-ins. */
	bool sessions;
	unsigned char session_key[32];
	struct pf_api__credentials *creds;
	struct pf_api__limiter *signin_limit;
	char *console_csp; /* the console's Content-Security-Policy */
};

struct pf_api_request {
	struct pf_api *api;
	struct evhttp_request *req; /* NULL once the connection went away */
	char route[64];             /* the matched route's label (metrics, logs) */
	unsigned method;            /* PF_METHOD_* */
	int64_t t_start;
	struct evkeyvalq query;
	struct pf_route_params params;
	bool waiting; /* counted in api->waiting */
	/* Admin requests: the token's name (owned by api->auth) and the peer. */
	const char *who;
	char client[64];
	/* Console sessions: who (when admitted by a session, r->who points
	 * here) and, on /uploads, the photographer the request acts for. */
	char who_buf[65];
	char photographer[41];
	bool by_session;
	char *held; /* text a handler keeps while it waits (freed at the end) */
	void (*then)(struct pf_api_request *r); /* a handler's next step once admitted */
	void *state;                    /* the handler's, freed with state_free at the end */
	void (*state_free)(void *state);
	/* A cacheable answer: where it is kept, its tag, and the cache
	 * generation when the request started (see pf_cache_generation). */
	char *cache_key;
	char *cache_tag;
	uint64_t cache_generation;
};

/* A surface: the paths under prefix, answered from one route table. */
struct pf_api__surface {
	const char *prefix;
	const struct pf_route *routes;
	size_t nroutes;
	const char *other_route; /* metrics label when no route matched */
	/* Whether the request may use this surface; when not, it replied. */
	bool (*admit)(struct pf_api_request *r);
	bool preflight; /* answers CORS preflight requests for its routes */
	const char *not_found;
	const char *wrong_method;
};

extern const struct pf_api__surface pf_api__admin_surface;
extern const struct pf_api__surface pf_api__session_surface; /* api_session.c */
extern const struct pf_api__surface pf_api__uploads_surface; /* api_uploads.c */
extern const struct pf_api__surface pf_api__console_surface; /* api_console.c */

/* ---- console sessions (api_session.c) ---- */
struct pf_catalog_credential;
struct pf_session;
struct pf_error;
/* Sets up sessions, the credentials cache and the sign-in limiter. */
void pf_api__sessions_init(struct pf_api *api);
void pf_api__sessions_free(struct pf_api *api);
/* Whether an admin session still stands: its token is configured with the
 * secret that opened it. */
bool pf_api__admin_session_stands(struct pf_api *api, const struct pf_session *s);
/* A valid session cookie of r into s: 1 when there is one (and, for a
 * request other than GET/HEAD, its CSRF token and Origin are right), 0 when
 * there is none, -1 when it was refused (403 sent). */
int pf_api__session_admit(struct pf_api_request *r, struct pf_session *s);
/* Failed sign-ins (and wrong upload credentials) per client: whether r's
 * client may try now (false: a 429 with Retry-After sent); count a failure. */
int pf_api__signin_wait(struct pf_api *api, const char *client);
bool pf_api__signin_allowed(struct pf_api_request *r);
void pf_api__signin_failed(struct pf_api *api, const char *client);
/* No-store, nosniff, a CSP allowing nothing, no referrer: for answers of
 * /session and /uploads. */
void pf_api__private_headers(struct pf_api_request *r);
/* The photographers' credentials, read again when older than max_age_ms
 * (a request that waits: call pf_api__wait first). */
typedef void (*pf_api__credentials_cb)(struct pf_api_request *r,
                                       const struct pf_catalog_credential *list, size_t n,
                                       const struct pf_error *err);
void pf_api__credentials(struct pf_api_request *r, int64_t max_age_ms, pf_api__credentials_cb cb);
/* Forgets the cached credentials (after a change). */
void pf_api__credentials_forget(struct pf_api *api);
/* Admin routes for credentials (api_credentials.c). */
void pf_api__post_credential(struct pf_api_request *r);
void pf_api__get_credentials(struct pf_api_request *r);
void pf_api__delete_credential(struct pf_api_request *r);
/* A reply with any content type (static files); body may be NULL. */
void pf_api__reply_bytes(struct pf_api_request *r, int status, const char *content_type,
                         const void *body, size_t len);

/* Participants (api_participants.c). */
void pf_api__get_participant(struct pf_api_request *r);
/* A listed photo as runners see it, with URLs to its variants; NULL (err
 * set) when URLs cannot be made. */
json_t *pf_api__photo_json(struct pf_api *api, const struct pf_catalog_image *e,
                           struct pf_error *err);
/* The page's photos as runners see them; NULL when a URL cannot be made,
 * the 503 then already sent to r. */
json_t *pf_api__photos_json(struct pf_api_request *r, const struct pf_catalog_page *page);

/* Runners' features (api_runner.c). */
struct pf_api__runner *pf_api__runner_new(struct pf_api *api);
void pf_api__runner_free(struct pf_api__runner *rn);
/* Who is asking, for every per-client limit and the audit trail: the peer,
 * or the last X-Forwarded-For entry when PHOTOFINISH_TRUST_FORWARDED_FOR is
 * 1; an IPv6 client as its /64. */
void pf_api__client_address(const struct pf_api_request *r, char out[64]);
/* Spends one of the client's tokens for a lookup of code that found
 * nothing (none when it is the code the client last missed); false when it
 * has none left, a 429 with Retry-After then sent. */
bool pf_api__miss_allowed(struct pf_api_request *r, const char *code);
/* Adds "suggestions" for code to doc (reading the code index first when
 * its copy is stale), then calls done with r and doc (doc then owned by
 * done). r must be waiting (pf_api__wait). */
typedef void (*pf_api__doc_cb)(struct pf_api_request *r, json_t *doc);
void pf_api__add_suggestions(struct pf_api_request *r, const char *code, json_t *doc,
                             pf_api__doc_cb done);
/* "registered" of a lookup: whether code is on the roster, null without one. */
json_t *pf_api__registered_json(struct pf_api *api, const char *code);
/* GET /admin/unregistered: codes with photos on no roster. */
void pf_api__get_unregistered(struct pf_api_request *r);
/* Adds "roster" ({"codes":N} or null) to an admin status document. */
void pf_api__runner_status(struct pf_api *api, json_t *doc);

/* GET /photos, GET /photographers, POST /claims (api_runner.c). */
void pf_api__get_photos(struct pf_api_request *r);
void pf_api__get_photographers(struct pf_api_request *r);
void pf_api__post_claim(struct pf_api_request *r);
struct pf_catalog_claim;
/* A claim as both surfaces show it. */
json_t *pf_api__claim_json(const struct pf_catalog_claim *c);

/* The admin routes for runners' features (api_admin_runner.c), and what
 * they share with api_admin.c. */
void pf_api__admin_audit(struct pf_api_request *r, const char *action, const char *outcome,
                         json_t *fields);
void pf_api__admin_reply_aws_error(struct pf_api_request *r, const struct pf_error *err);
/* Adds photographers (counts, clock offsets) and the roster to the status
 * document doc (stolen), then answers. */
void pf_api__admin_status_runners(struct pf_api_request *r, json_t *doc);
void pf_api__put_clock(struct pf_api_request *r);
void pf_api__get_claims(struct pf_api_request *r);
void pf_api__approve_claim(struct pf_api_request *r);
void pf_api__reject_claim(struct pf_api_request *r);

/* Request helpers. */
const char *pf_api__header(const struct pf_api_request *r, const char *name);
void pf_api__set_header(struct pf_api_request *r, const char *name, const char *value);
const char *pf_api__query(const struct pf_api_request *r, const char *name);
/* The limit query parameter (default PF_API_DEFAULT_LIMIT); false when it
 * is malformed, a 400 then sent. */
bool pf_api__limit(struct pf_api_request *r, int *limit);
/* Bytes of the request's body. */
size_t pf_api__body_length(const struct pf_api_request *r);
/* The body as a JSON object; NULL when it is not one, a 400 then sent. */
json_t *pf_api__read_body(struct pf_api_request *r);
/* Marks r as waiting for AWS; false when too many are, a 503 then sent. */
bool pf_api__wait(struct pf_api_request *r);

/* Replies; each ends the request. */
void pf_api__reply_json(struct pf_api_request *r, int status, const char *body, size_t len);
/* doc is stolen; Cache-Control: no-store. */
void pf_api__reply_doc(struct pf_api_request *r, int status, json_t *doc);
void pf_api__reply_error(struct pf_api_request *r, int status, const char *code,
                         const char *message);
void pf_api__reply_empty(struct pf_api_request *r, int status, const char *reason);

#endif
