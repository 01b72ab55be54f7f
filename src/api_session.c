/*
 * Console sessions: POST/GET/DELETE /session, the signed cookie's
 * admission with its CSRF and Origin checks, the photographers'
 * credentials as last read (shared by sign-in, /admin and /uploads, read
 * again after at most 30 s so a revocation reaches every task), and the
 * limit on failed sign-ins per client. Loop thread only.
 */
#include "api_int.h"

#include <event2/http.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "photofinish/admin_auth.h"
#include "photofinish/catalog_credentials.h"
#include "photofinish/log.h"
#include "photofinish/session.h"
#include "photofinish/util.h"

#define COOKIE "pf_session"
/* Failed sign-ins: a burst of 10 per client, then one per 6 s. */
#define SIGNIN_BURST 10
#define SIGNIN_REFILL_MS 6000
#define LIMITER_SLOTS 1024
#define MAX_CREDENTIAL_TEXT 512

/* ---- who is asking -------------------------------------------------------- */

void pf_api__private_headers(struct pf_api_request *r)
{
	pf_api__set_header(r, "Content-Security-Policy",
	                   "default-src 'none'; frame-ancestors 'none'");
	pf_api__set_header(r, "X-Content-Type-Options", "nosniff");
	pf_api__set_header(r, "Referrer-Policy", "no-referrer");
}

/* ---- failed sign-ins ------------------------------------------------------ */

struct slot {
	char client[64];
	double tokens;
	int64_t at_ms;
};

struct pf_api__limiter {
	struct slot slots[LIMITER_SLOTS];
};

static struct slot *slot_of(struct pf_api__limiter *l, const char *client, int64_t now)
{
	struct slot *oldest = &l->slots[0];

	for (size_t i = 0; i < LIMITER_SLOTS; i++) {
		struct slot *s = &l->slots[i];

		if (s->at_ms && !strcmp(s->client, client)) {
			s->tokens += (double)(now - s->at_ms) / SIGNIN_REFILL_MS;
			if (s->tokens > SIGNIN_BURST)
				s->tokens = SIGNIN_BURST;
			s->at_ms = now;
			return s;
		}
		if (s->at_ms < oldest->at_ms)
			oldest = s;
	}
	/* The least recently seen client's slot is taken over: a flood of
	 * addresses forgets old ones instead of growing. */
	snprintf(oldest->client, sizeof(oldest->client), "%s", client);
	oldest->tokens = SIGNIN_BURST;
	oldest->at_ms = now;
	return oldest;
}

/* Seconds until the client may try again; 0 when it may now. */
int pf_api__signin_wait(struct pf_api *api, const char *client)
{
	struct slot *s = slot_of(api->signin_limit, client, pf_monotonic_ms());

	if (s->tokens >= 1)
		return 0;
	return (int)((1 - s->tokens) * SIGNIN_REFILL_MS / 1000) + 1;
}

bool pf_api__signin_allowed(struct pf_api_request *r)
{
	int wait = pf_api__signin_wait(r->api, r->client);
	char after[16];

	if (wait <= 0)
		return true;
	snprintf(after, sizeof(after), "%d", wait);
	pf_api__set_header(r, "Retry-After", after);
	pf_api__reply_error(r, 429, "rate_limited",
	                    "too many failed sign-ins from this address; wait and try again");
	return false;
}

void pf_api__signin_failed(struct pf_api *api, const char *client)
{
	struct slot *s = slot_of(api->signin_limit, client, pf_monotonic_ms());

	s->tokens = s->tokens >= 1 ? s->tokens - 1 : 0;
}

/* ---- the credentials as last read ----------------------------------------- */

struct waiter {
	struct pf_api_request *r;
	pf_api__credentials_cb cb;
	struct waiter *next;
};

struct pf_api__credentials {
	struct pf_api *api;
	struct pf_catalog_credential *list;
	size_t n;
	int64_t read_ms; /* monotonic; 0: never */
	bool reading;
	/* Bumped by every change made here: a read that began before one may
	 * miss it, so its answer is not kept and the read is made again. */
	unsigned generation, read_generation;
	struct waiter *waiters;
};

static void on_credentials(const struct pf_catalog_credential *list, size_t n,
                           const struct pf_error *err, void *arg);

static void start_read(struct pf_api__credentials *c)
{
	struct pf_error err;

	c->reading = true;
	c->read_generation = c->generation;
	if (pf_catalog_credential_list(c->api->d.catalog, on_credentials, c, &err) < 0)
		on_credentials(NULL, 0, &err, c);
}

static void on_credentials(const struct pf_catalog_credential *list, size_t n,
                           const struct pf_error *err, void *arg)
{
	struct pf_api__credentials *c = arg;
	struct waiter *w;

	c->reading = false;
	if (!err->code && c->read_generation != c->generation) {
		start_read(c);
		return;
	}
	w = c->waiters;
	c->waiters = NULL;
	if (!err->code) {
		free(c->list);
		c->list = pf_xcalloc(n ? n : 1, sizeof(*list));
		if (n)
			memcpy(c->list, list, n * sizeof(*list));
		c->n = n;
		c->read_ms = pf_monotonic_ms();
	}
	while (w) {
		struct waiter *next = w->next;

		w->cb(w->r, err->code ? NULL : c->list, err->code ? 0 : c->n, err);
		free(w);
		w = next;
	}
}

void pf_api__credentials(struct pf_api_request *r, int64_t max_age_ms, pf_api__credentials_cb cb)
{
	struct pf_api__credentials *c = r->api->creds;
	struct waiter *w;

	if (c->read_ms && pf_monotonic_ms() - c->read_ms <= max_age_ms && !c->reading) {
		cb(r, c->list, c->n, &(struct pf_error){0});
		return;
	}
	/* One read at a time; everyone who asks meanwhile gets its answer. */
	w = pf_xcalloc(1, sizeof(*w));
	w->r = r;
	w->cb = cb;
	w->next = c->waiters;
	c->waiters = w;
	if (!c->reading)
		start_read(c);
}

void pf_api__credentials_forget(struct pf_api *api)
{
	api->creds->read_ms = 0;
	api->creds->generation++;
}

bool pf_api__admin_session_stands(struct pf_api *api, const struct pf_session *s)
{
	unsigned char digest[32];
	char binding[PF_SESSION_BINDING_LEN + 1];

	if (s->role != PF_SESSION_ADMIN || !pf_admin_auth_digest(api->auth, s->who, digest))
		return false;
	pf_session_admin_binding(api->session_key, digest, binding);
	return CRYPTO_memcmp(binding, s->binding, PF_SESSION_BINDING_LEN) == 0;
}

void pf_api__sessions_init(struct pf_api *api)
{
	api->sessions = pf_session_key(api->d.cfg, api->session_key);
	if (api->sessions && !api->d.cfg->session_key)
		pf_warn("console sessions are signed with a key derived from the admin tokens; "
		        "set PHOTOFINISH_SESSION_KEY (32+ random characters) shared by every task");
	api->creds = pf_xcalloc(1, sizeof(*api->creds));
	api->creds->api = api;
	api->signin_limit = pf_xcalloc(1, sizeof(*api->signin_limit));
}

void pf_api__sessions_free(struct pf_api *api)
{
	if (api->creds) {
		/* Waiters' requests are ended by the server's shutdown. */
		for (struct waiter *w = api->creds->waiters, *next; w; w = next) {
			next = w->next;
			free(w);
		}
		free(api->creds->list);
		free(api->creds);
	}
	free(api->signin_limit);
	OPENSSL_cleanse(api->session_key, sizeof(api->session_key));
}

/* ---- the cookie ----------------------------------------------------------- */

/* The pf_session cookie's value (copied into out); false when absent. */
static bool cookie_value(const struct pf_api_request *r, char *out, size_t cap)
{
	const char *h = pf_api__header(r, "Cookie");

	while (h && *h) {
		const char *end = strchr(h, ';');
		size_t n = end ? (size_t)(end - h) : strlen(h);

		while (n && *h == ' ') {
			h++;
			n--;
		}
		if (n > strlen(COOKIE) && !strncmp(h, COOKIE "=", strlen(COOKIE) + 1)) {
			n -= strlen(COOKIE) + 1;
			if (n >= cap)
				return false;
			memcpy(out, h + strlen(COOKIE) + 1, n);
			out[n] = '\0';
			return true;
		}
		h = end ? end + 1 : NULL;
	}
	return false;
}

/* Whether the request comes from this site: no Origin (or one naming the
 * Host it was sent to) and no Sec-Fetch-Site saying another site. */
static bool same_origin(const struct pf_api_request *r)
{
	const char *origin = pf_api__header(r, "Origin");
	const char *site = pf_api__header(r, "Sec-Fetch-Site");
	const char *host = pf_api__header(r, "Host");

	if (site && strcasecmp(site, "same-origin") && strcasecmp(site, "none"))
		return false;
	if (!origin)
		return true;
	if (!strncasecmp(origin, "https://", 8))
		origin += 8;
	else if (!strncasecmp(origin, "http://", 7))
		origin += 7;
	else
		return false;
	return host && !strcasecmp(origin, host);
}

static bool is_read(const struct pf_api_request *r)
{
	return r->method == PF_METHOD_GET || r->method == PF_METHOD_HEAD;
}

int pf_api__session_admit(struct pf_api_request *r, struct pf_session *s)
{
	char value[PF_SESSION_MAX_COOKIE + 1];

	if (!r->api->sessions || !cookie_value(r, value, sizeof(value)) ||
	    !pf_session_decode(r->api->session_key, value, pf_now_ms() / 1000, s))
		return 0;
	if (is_read(r))
		return 1;
	if (!same_origin(r)) {
		pf_warn("cross-site request refused", PF_LS("client", r->client),
		        PF_LS("route", r->route));
		pf_api__reply_error(r, 403, "forbidden", "requests from another site are refused");
		return -1;
	}
	if (!pf_session_csrf_is_valid(r->api->session_key, s->id,
	                              pf_api__header(r, "X-CSRF-Token"))) {
		pf_api__reply_error(r, 403, "csrf_required",
		                    "send X-CSRF-Token with the csrf value of GET /session");
		return -1;
	}
	return 1;
}

static json_t *session_json(struct pf_api *api, const struct pf_session *s)
{
	char csrf[PF_SESSION_CSRF_LEN + 1], at[32];

	pf_session_csrf(api->session_key, s->id, csrf);
	pf_format_rfc3339_ms(s->expires * 1000, at);
	return json_pack("{s:s,s:s,s:s?,s:s,s:s}", "who", s->who, "role",
	                 s->role == PF_SESSION_ADMIN ? "admin" : "upload", "photographer",
	                 s->role == PF_SESSION_UPLOAD ? s->photographer : NULL, "csrf", csrf,
	                 "expiresAt", at);
}

/* With now_s > 0 (the time the session's expiry was reckoned from), also
 * sets the cookie, its Max-Age counted from then. */
static void reply_session(struct pf_api_request *r, const struct pf_session *s, int64_t now_s)
{
	json_t *doc = session_json(r->api, s);

	if (!json_object_get(doc, "photographer"))
		json_object_set_new(doc, "photographer", json_null());
	if (now_s > 0) {
		char *value = pf_session_encode(r->api->session_key, s);
		int64_t age = s->expires - now_s;
		char *cookie =
		    pf_xasprintf(COOKIE "=%s; HttpOnly; Secure; SameSite=Strict; Path=/; "
		                        "Max-Age=%lld",
		                 value, (long long)(age > 0 ? age : 0));

		pf_api__set_header(r, "Set-Cookie", cookie);
		free(cookie);
		free(value);
	}
	pf_api__reply_doc(r, 200, doc);
}

/* ---- routes --------------------------------------------------------------- */

static void refuse_signin(struct pf_api_request *r)
{
	pf_api__signin_failed(r->api, r->client);
	pf_warn("sign-in refused", PF_LS("client", r->client));
	pf_api__reply_error(r, 401, "unauthorized", "that credential is not valid");
}

static void on_signin_credentials(struct pf_api_request *r,
                                  const struct pf_catalog_credential *list, size_t n,
                                  const struct pf_error *err)
{
	const char *hash = r->held; /* the secret's digest */
	const struct pf_catalog_credential *found = NULL;
	int64_t now_ms = pf_now_ms();
	struct pf_session s = {0};
	struct pf_error e;

	if (err->code) {
		pf_warn("sign-in failed", PF_LS("error", err->message));
		pf_api__reply_error(r, 503, "unavailable", "AWS could not be reached; try again");
		return;
	}
	/* Every credential is compared, whichever matched. */
	for (size_t i = 0; i < n; i++) {
		bool match = pf_session_hash_equal(list[i].hash, hash);

		if (match && list[i].expires_ms > now_ms)
			found = &list[i];
	}
	if (!found) {
		refuse_signin(r);
		return;
	}
	if (pf_session_new_id(&s, &e) < 0) {
		pf_api__reply_error(r, 503, "unavailable", e.message);
		return;
	}
	s.role = PF_SESSION_UPLOAD;
	snprintf(s.who, sizeof(s.who), "%s", found->photographer);
	snprintf(s.photographer, sizeof(s.photographer), "%s", found->photographer);
	s.credential_created_ms = found->created_ms;
	s.expires = now_ms / 1000 + PF_SESSION_MAX_SECONDS;
	if (s.expires > found->expires_ms / 1000)
		s.expires = found->expires_ms / 1000;
	pf_info("session opened", PF_LS("who", s.who), PF_LS("role", "upload"),
	        PF_LS("client", r->client));
	reply_session(r, &s, now_ms / 1000);
}

static void post_session(struct pf_api_request *r)
{
	json_t *doc;
	const char *secret;
	char *bearer;
	const char *who;

	if (!same_origin(r)) {
		pf_api__reply_error(r, 403, "forbidden", "requests from another site are refused");
		return;
	}
	if (!pf_api__signin_allowed(r))
		return;
	doc = pf_api__read_body(r);
	if (!doc)
		return;
	secret = json_string_value(json_object_get(doc, "credential"));
	if (!secret || !*secret || strlen(secret) > MAX_CREDENTIAL_TEXT) {
		json_decref(doc);
		pf_api__reply_error(r, 400, "invalid_body", "send {\"credential\":\"<secret>\"}");
		return;
	}
	bearer = pf_xasprintf("Bearer %s", secret);
	who = pf_admin_auth_check(r->api->auth, bearer);
	OPENSSL_cleanse(bearer, strlen(bearer));
	free(bearer);
	if (who) {
		struct pf_session s = {.role = PF_SESSION_ADMIN};
		int64_t now_s = pf_now_ms() / 1000;
		struct pf_error e;

		json_decref(doc);
		if (pf_session_new_id(&s, &e) < 0) {
			pf_api__reply_error(r, 503, "unavailable", e.message);
			return;
		}
		snprintf(s.who, sizeof(s.who), "%s", who);
		{
			unsigned char digest[32];

			pf_admin_auth_digest(r->api->auth, who, digest);
			pf_session_admin_binding(r->api->session_key, digest, s.binding);
		}
		s.expires = now_s + PF_SESSION_MAX_SECONDS;
		pf_info("session opened", PF_LS("who", s.who), PF_LS("role", "admin"),
		        PF_LS("client", r->client));
		reply_session(r, &s, now_s);
		return;
	}
	/* A photographer's credential: looked up fresh, so one created a
	 * moment ago on another task works at once. */
	r->held = pf_xmalloc(65);
	pf_session_secret_hash(secret, r->held);
	json_decref(doc);
	if (!pf_api__wait(r))
		return;
	pf_api__credentials(r, 0, on_signin_credentials);
}

static void on_session_credentials(struct pf_api_request *r,
                                   const struct pf_catalog_credential *list, size_t n,
                                   const struct pf_error *err);

static void get_session(struct pf_api_request *r)
{
	struct pf_session s;

	if (pf_api__session_admit(r, &s) <= 0) {
		pf_api__reply_error(r, 401, "unauthorized", "not signed in");
		return;
	}
	if (s.role == PF_SESSION_ADMIN) {
		if (pf_api__admin_session_stands(r->api, &s))
			reply_session(r, &s, 0);
		else
			pf_api__reply_error(r, 401, "unauthorized",
			                    "that admin token was removed or its secret replaced");
		return;
	}
	snprintf(r->photographer, sizeof(r->photographer), "%s", s.photographer);
	r->held = pf_session_encode(r->api->session_key, &s);
	if (pf_api__wait(r))
		pf_api__credentials(r, 30000, on_session_credentials);
}

static void on_session_credentials(struct pf_api_request *r,
                                   const struct pf_catalog_credential *list, size_t n,
                                   const struct pf_error *err)
{
	struct pf_session s;

	if (err->code) {
		pf_api__reply_error(r, 503, "unavailable", "AWS could not be reached; try again");
		return;
	}
	pf_session_decode(r->api->session_key, r->held, pf_now_ms() / 1000, &s);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(list[i].photographer, s.photographer) &&
		    list[i].created_ms == s.credential_created_ms &&
		    list[i].expires_ms > pf_now_ms()) {
			reply_session(r, &s, 0);
			return;
		}
	}
	pf_api__reply_error(r, 401, "unauthorized", "the credential was revoked or has expired");
}

static void delete_session(struct pf_api_request *r)
{
	struct pf_session s;

	if (pf_api__session_admit(r, &s) < 0)
		return;
	pf_api__set_header(r, "Set-Cookie",
	                   COOKIE "=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0");
	pf_api__set_header(r, "Cache-Control", "no-store");
	pf_api__reply_empty(r, 204, "No Content");
}

static bool session_admit(struct pf_api_request *r)
{
	/* Behind a load balancer the sign-in limit counts clients, not it. */
	pf_api__client_address(r, r->client);
	pf_api__private_headers(r);
	if (r->api->sessions && r->api->d.admin)
		return true;
	pf_api__reply_error(r, 404, "not_found",
	                    "sessions are off (set PHOTOFINISH_ADMIN_TOKENS or "
	                    "PHOTOFINISH_SESSION_KEY)");
	return false;
}

static const struct pf_route session_routes[] = {
    {PF_METHOD_POST, "/session", post_session},
    {PF_METHOD_GET | PF_METHOD_HEAD, "/session", get_session},
    {PF_METHOD_DELETE, "/session", delete_session},
};

const struct pf_api__surface pf_api__session_surface = {
    .prefix = "/session",
    .routes = session_routes,
    .nroutes = sizeof(session_routes) / sizeof(session_routes[0]),
    .other_route = "/session",
    .admit = session_admit,
    .not_found = "no such route",
    .wrong_method = "wrong method for /session",
};
