/*
 * What the runners' surface adds around participant lookups: "did you
 * mean" suggestions from an in-process copy of the catalog's code index,
 * the race's roster (registered codes; the object re-read every 60 s), and
 * per-client rate limits on lookups that find nothing (guessing codes one
 * after another) and on claims; and the routes GET /photos,
 * GET /photographers, POST /claims. Loop thread only.
 *
 * The code index copy is read whole from the catalog (at most
 * PF_SUGGEST_MAX_CODES codes of 80 bytes: 16 MB) when a lookup that found
 * nothing needs it and the copy is older than CODES_REFRESH_MS; lookups
 * arriving while it is read wait for it; one lookup then costs about
 * 50 us (every one-edit neighbour by binary search). A failed read leaves the old copy (or
 * none: no suggestions) and is retried by the next lookup after
 * CODES_RETRY_MS, so a catalog outage never turns into a read per request.
 */
#include "api_int.h"

#include <event2/event.h>
#include <event2/http.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/catalog.h"
#include "photofinish/catalog_claims.h"
#include "photofinish/catalog_index.h"
#include "photofinish/codec.h"
#include "photofinish/config.h"
#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/aws/s3.h"
#include "photofinish/ratelimit.h"
#include "photofinish/roster.h"
#include "photofinish/suggest.h"
#include "photofinish/util.h"

#define CODES_REFRESH_MS 15000
#define CODES_RETRY_MS 5000
/* Lookups that find nothing: a burst of 10, then one per 6 s per client. */
#define MISS_BURST 10
#define MISS_REFILL_MS 6000
/* Clients remembered per limit; the least recently seen are forgotten. */
#define RATE_CLIENTS 100000
/* Claims: a burst of 5, then one per 120 s per client. */
#define CLAIM_BURST 5
#define CLAIM_REFILL_MS 120000

/* The roster object is read again this often. */
#define ROSTER_REFRESH_S 60
/* Codes GET /admin/unregistered lists at most. */
#define MAX_UNREGISTERED 10000

struct waiter {
	struct pf_api_request *r;
	bool unregistered; /* GET /admin/unregistered, not suggestions */
	json_t *doc;
	char code[PF_SUGGEST_CODE_MAX + 1];
	pf_api__doc_cb done;
	struct waiter *next;
};

struct pf_api__runner {
	struct pf_suggest_index *codes; /* NULL until first read */
	int64_t codes_read_ms;          /* monotonic; when the copy was read (or last tried) */
	bool reading;
	struct waiter *waiters;
	struct pf_ratelimit *misses;
	struct pf_ratelimit *claims;
	/* The roster: NULL while none is configured or none could be read yet. */
	struct pf_api *api;
	struct pf_roster *roster;
	char *roster_bucket, *roster_key;
	struct event *roster_timer;
	bool roster_reading;
};

static void roster_read(struct pf_api__runner *rn);

/* The roster from the list setting and, when given, the object's text. */
static struct pf_roster *roster_build(const struct pf_config *cfg, const char *csv, size_t len,
                                      struct pf_error *err)
{
	struct pf_roster *r = pf_roster_new();

	if ((cfg->roster_codes && pf_roster_add_list(r, cfg->roster_codes, err) < 0) ||
	    (csv && pf_roster_add_csv(r, csv, len, err) < 0)) {
		pf_roster_free(r);
		return NULL;
	}
	pf_roster_freeze(r);
	return r;
}

static void on_roster_object(struct pf_s3_get_result *res, const struct pf_error *err, void *arg)
{
	struct pf_api__runner *rn = arg;
	struct pf_roster *r;
	struct pf_error e = *err;

	rn->roster_reading = false;
	r = e.code || !res ? NULL
	                   : roster_build(rn->api->d.cfg, (const char *)res->body, res->len, &e);
	if (!r) {
		/* The last roster read stays in use; the next read may work. */
		pf_warn("roster not read", PF_LS("roster", rn->api->d.cfg->roster),
		        PF_LS("error", e.message));
		return;
	}
	if (!rn->roster || pf_roster_count(rn->roster) != pf_roster_count(r))
		pf_info("roster read", PF_LS("roster", rn->api->d.cfg->roster),
		        PF_LI("codes", (int64_t)pf_roster_count(r)));
	pf_roster_free(rn->roster);
	rn->roster = r;
}

static void roster_read(struct pf_api__runner *rn)
{
	struct pf_error err;

	if (rn->roster_reading)
		return;
	rn->roster_reading = true;
	if (pf_s3_get_object(rn->api->d.aws, rn->roster_bucket, rn->roster_key, PF_ROSTER_MAX_BYTES,
	                     on_roster_object, rn, &err) < 0)
		on_roster_object(NULL, &err, rn);
}

static void on_roster_timer(evutil_socket_t fd, short what, void *arg)
{
	roster_read(arg);
}

struct pf_api__runner *pf_api__runner_new(struct pf_api *api)
{
	struct pf_api__runner *rn = pf_xcalloc(1, sizeof(*rn));
	const struct pf_config *cfg = api->d.cfg;

	rn->api = api;
	rn->misses = pf_ratelimit_new(MISS_BURST, MISS_REFILL_MS, RATE_CLIENTS);
	rn->claims = pf_ratelimit_new(CLAIM_BURST, CLAIM_REFILL_MS, RATE_CLIENTS);
	rn->codes_read_ms = INT64_MIN / 2;
	if (cfg->roster &&
	    pf_roster_parse_s3_uri(cfg->roster, &rn->roster_bucket, &rn->roster_key)) {
		struct timeval every = {ROSTER_REFRESH_S, 0};

		rn->roster_timer = event_new(api->d.base, -1, EV_PERSIST, on_roster_timer, rn);
		event_add(rn->roster_timer, &every);
		roster_read(rn);
	} else if (cfg->roster_codes) {
		struct pf_error err;

		/* The setting was validated with the configuration. */
		rn->roster = roster_build(cfg, NULL, 0, &err);
	}
	return rn;
}

void pf_api__runner_free(struct pf_api__runner *rn)
{
	if (!rn)
		return;
	/* Waiters belong to requests the server frees with itself. */
	for (struct waiter *w = rn->waiters, *next; w; w = next) {
		next = w->next;
		json_decref(w->doc);
		free(w);
	}
	pf_suggest_index_free(rn->codes);
	pf_ratelimit_free(rn->misses);
	pf_ratelimit_free(rn->claims);
	if (rn->roster_timer)
		event_free(rn->roster_timer);
	pf_roster_free(rn->roster);
	free(rn->roster_bucket);
	free(rn->roster_key);
	free(rn);
}

/* ---- who is asking ---------------------------------------------------------- */

/* One client per IPv6 /64: a single host commonly holds a whole /64, and
 * counting its addresses apart would give it 2^64 buckets. An IPv4-mapped
 * address counts as the IPv4 address. */
static void client_key(char out[64])
{
	unsigned char a[16];

	if (!strchr(out, ':') || inet_pton(AF_INET6, out, a) != 1)
		return;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
		inet_ntop(AF_INET, a + 12, out, 64);
		return;
	}
	memset(a + 8, 0, 8);
	/* At most 45 characters of address, then the prefix length. */
	if (inet_ntop(AF_INET6, a, out, 60))
		memcpy(out + strlen(out), "/64", 4);
}

void pf_api__client_address(const struct pf_api_request *r, char out[64])
{
	struct evhttp_connection *conn = r->req ? evhttp_request_get_connection(r->req) : NULL;
	const char *xff =
	    r->api->d.cfg->trust_forwarded_for ? pf_api__header(r, "X-Forwarded-For") : NULL;
	char *peer = NULL;
	ev_uint16_t port = 0;

	out[0] = '\0';
	if (xff) {
		/* The last entry is the one the trusted proxy added or passed on. */
		const char *last = strrchr(xff, ',');
		size_t n;

		last = last ? last + 1 : xff;
		while (*last == ' ' || *last == '\t')
			last++;
		n = strcspn(last, " \t");
		if (n > 0 && n < 64) {
			memcpy(out, last, n);
			out[n] = '\0';
			client_key(out);
			return;
		}
	}
	if (conn)
		evhttp_connection_get_peer(conn, &peer, &port);
	snprintf(out, 64, "%s", peer ? peer : "");
	client_key(out);
}

static void reply_limited(struct pf_api_request *r, int64_t retry_after_s, const char *message)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)retry_after_s);
	pf_api__set_header(r, "Retry-After", s);
	pf_metrics_inc(r->api->d.metrics, "photofinish_api_rate_limited_total",
	               "Requests refused by a per-client rate limit.", NULL, 1);
	pf_api__reply_error(r, 429, "rate_limited", message);
}

bool pf_api__miss_allowed(struct pf_api_request *r, const char *code)
{
	char client[64];
	int64_t retry = 0;

	pf_api__client_address(r, client);
	/* Asking again for the same code (a page polling for a runner's first
	 * photo) reveals nothing new: only different codes count. */
	if (pf_ratelimit_take_item(r->api->runner->misses, client, pf_ratelimit_item(code),
	                           pf_monotonic_ms(), &retry))
		return true;
	reply_limited(r, retry,
	              "too many lookups of codes without photos from this address; try again "
	              "later");
	return false;
}

/* ---- did you mean ------------------------------------------------------------- */

static bool on_roster(const char *code, void *arg)
{
	return pf_roster_has(arg, code);
}

json_t *pf_api__registered_json(struct pf_api *api, const char *code)
{
	const struct pf_roster *r = api->runner->roster;

	return r ? json_boolean(pf_roster_has(r, code)) : json_null();
}

/* Codes on no roster are kept out of suggestions (a misread bib, a test). */
static json_t *suggestions_json(const struct pf_suggest_index *idx, const struct pf_roster *roster,
                                const char *code)
{
	struct pf_suggestion out[PF_SUGGEST_MAX];
	size_t n = idx ? pf_suggest(idx, code, roster ? on_roster : NULL, (void *)roster, out,
	                            PF_SUGGEST_MAX)
	               : 0;
	json_t *list = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_pack("{s:s,s:I}", "code", out[i].code, "photos",
		                                      (json_int_t)out[i].photos));
	return list;
}

static void answer_unregistered(struct pf_api__runner *rn, struct pf_api_request *r)
{
	json_t *list;
	size_t n = rn->codes ? pf_suggest_index_count(rn->codes) : 0;

	/* Never read (the catalog unreachable so far): not "all registered". */
	if (rn->roster && !rn->codes) {
		pf_api__reply_error(r, 503, "unavailable",
		                    "the code index cannot be read right now; try again shortly");
		return;
	}
	list = json_array();
	for (size_t i = 0; rn->roster && i < n && json_array_size(list) < MAX_UNREGISTERED; i++) {
		const struct pf_suggestion *s = pf_suggest_index_at(rn->codes, i);

		if (!pf_roster_has(rn->roster, s->code))
			json_array_append_new(list, json_pack("{s:s,s:I}", "code", s->code,
			                                      "photos", (json_int_t)s->photos));
	}
	pf_api__reply_doc(r, 200, json_pack("{s:o}", "codes", list));
}

static void answer(struct pf_api__runner *rn, struct waiter *w)
{
	if (w->unregistered) {
		answer_unregistered(rn, w->r);
	} else {
		json_object_set_new(w->doc, "suggestions",
		                    suggestions_json(rn->codes, rn->roster, w->code));
		w->done(w->r, w->doc);
	}
	free(w);
}

static void on_codes(const struct pf_catalog_code_count *codes, size_t n, bool more,
                     const struct pf_error *err, void *arg)
{
	struct pf_api *api = arg;
	struct pf_api__runner *rn = api->runner;
	struct waiter *w = rn->waiters;

	rn->reading = false;
	rn->waiters = NULL;
	if (err->code) {
		/* Keep the old copy; try again after CODES_RETRY_MS. */
		pf_warn("code index not read", PF_LS("error", err->message));
		rn->codes_read_ms = pf_monotonic_ms() - CODES_REFRESH_MS + CODES_RETRY_MS;
	} else {
		struct pf_suggest_index *idx = pf_suggest_index_new();

		for (size_t i = 0; i < n; i++)
			pf_suggest_index_add(idx, codes[i].code, codes[i].photos);
		pf_suggest_index_freeze(idx);
		if (more)
			pf_warn("code index larger than kept; suggestions use part of it",
			        PF_LI("kept", (int64_t)pf_suggest_index_count(idx)));
		pf_suggest_index_free(rn->codes);
		rn->codes = idx;
		rn->codes_read_ms = pf_monotonic_ms();
	}
	while (w) {
		struct waiter *next = w->next;

		answer(rn, w);
		w = next;
	}
}

/* Answers w once the copy of the code index is fresh enough. */
static void with_codes(struct pf_api *api, struct waiter *w)
{
	struct pf_api__runner *rn = api->runner;
	struct pf_error err;

	if (pf_monotonic_ms() - rn->codes_read_ms < CODES_REFRESH_MS) {
		answer(rn, w);
		return;
	}
	w->next = rn->waiters;
	rn->waiters = w;
	if (rn->reading)
		return;
	rn->reading = true;
	if (pf_catalog_codes_list(api->d.catalog, PF_SUGGEST_MAX_CODES, on_codes, api, &err) < 0)
		on_codes(NULL, 0, false, &err, api);
}

void pf_api__add_suggestions(struct pf_api_request *r, const char *code, json_t *doc,
                             pf_api__doc_cb done)
{
	struct waiter *w = pf_xcalloc(1, sizeof(*w));

	w->r = r;
	w->doc = doc;
	w->done = done;
	snprintf(w->code, sizeof(w->code), "%s", code);
	with_codes(r->api, w);
}

void pf_api__get_unregistered(struct pf_api_request *r)
{
	struct waiter *w;

	if (!pf_api__wait(r))
		return;
	w = pf_xcalloc(1, sizeof(*w));
	w->r = r;
	w->unregistered = true;
	with_codes(r->api, w);
}

/* ---- photos by time --------------------------------------------------------- */

#define PHOTOS_DEFAULT_LIMIT 48
#define PHOTOS_MAX_LIMIT 100
#define MAX_WINDOW_S (6 * 3600)

/* A first folder of an ingress key as pf_catalog_photographer_of gives it. */
static bool folder_name_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n > PF_CATALOG_PHOTOGRAPHER_MAX || strchr(s, '/'))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A time given by a client as the catalog's sort-key prefix
 * ("YYYY-MM-DDTHH:MM:SS", UTC); false when it is not RFC 3339. Sort keys
 * hold whole seconds, so an end with a fraction is rounded up: a photo of
 * 10:00:00 is before "10:00:00.5". */
static bool window_bound(const char *s, bool round_up, int64_t *epoch, char out[32])
{
	char text[32];
	const char *frac;

	if (!s || strlen(s) > 64 || !pf_codec_parse_rfc3339(s, strlen(s), epoch) || *epoch < 0 ||
	    *epoch > 253402300798LL)
		return false;
	frac = strchr(s, '.');
	if (round_up && frac && strspn(frac + 1, "0") < strspn(frac + 1, "0123456789"))
		++*epoch;
	pf_format_rfc3339_ms(*epoch * 1000, text);
	snprintf(out, 32, "%.19s", text);
	return true;
}

static void on_photos_page(const struct pf_catalog_page *page, const struct pf_error *err,
                           void *arg)
{
	struct pf_api_request *r = arg;
	json_t *images;

	if (err->code) {
		pf_warn("photos by time failed", PF_LS("error", err->message));
		pf_api__reply_error(
		    r, 503, "unavailable",
		    "the photo catalog is unavailable right now; try again shortly");
		return;
	}
	images = pf_api__photos_json(r, page);
	if (!images)
		return;
	pf_api__reply_doc(
	    r, 200, json_pack("{s:o,s:s?}", "images", images, "nextCursor", page->next_cursor));
}

void pf_api__get_photos(struct pf_api_request *r)
{
	const char *order = pf_api__query(r, "order");
	const char *limit_s = pf_api__query(r, "limit");
	const char *photographer = pf_api__query(r, "photographer");
	char from[32], to[32];
	int64_t t_from, t_to, limit = PHOTOS_DEFAULT_LIMIT;
	struct pf_catalog_photos_query q = {.from = from, .to = to};
	struct pf_catalog_page_options opts = {.cursor = pf_api__query(r, "cursor")};
	struct pf_error err;

	if (!window_bound(pf_api__query(r, "from"), false, &t_from, from) ||
	    !window_bound(pf_api__query(r, "to"), true, &t_to, to) || t_to <= t_from ||
	    t_to - t_from > MAX_WINDOW_S) {
		pf_api__reply_error(r, 400, "invalid_time_window",
		                    "give from and to as RFC 3339 times, to after from and at most "
		                    "6 hours later");
		return;
	}
	if (order && strcmp(order, "asc") && strcmp(order, "desc")) {
		pf_api__reply_error(r, 400, "bad_request", "order is asc or desc");
		return;
	}
	q.descending = order && !strcmp(order, "desc");
	if (limit_s && !pf_parse_int64(limit_s, 1, PHOTOS_MAX_LIMIT, &limit)) {
		pf_api__reply_error(r, 400, "invalid_limit",
		                    "limit must be a whole number from 1 to 100");
		return;
	}
	opts.limit = (int)limit;
	/* An empty name is the photos whose key has no folder; any folder name
	 * GET /photographers lists (upper case, dots, spaces too) filters. */
	if (photographer && !folder_name_is_valid(photographer)) {
		pf_api__reply_error(
		    r, 400, "invalid_photographer",
		    "a photographer is the first folder of a photo's key: at most 64 "
		    "characters, no '/' nor control characters");
		return;
	}
	q.photographer = photographer;
	if (opts.cursor && !pf_catalog_cursor_is_valid(opts.cursor)) {
		pf_api__reply_error(r, 400, "invalid_cursor",
		                    "cursor is not one this API returned");
		return;
	}
	if (!pf_api__wait(r))
		return;
	if (pf_catalog_list_photos(r->api->d.catalog, &q, &opts, on_photos_page, r, &err) == 0)
		return;
	if (err.code == PF_EINVAL)
		pf_api__reply_error(r, 400, "invalid_cursor",
		                    "cursor is not one this API returned for this window");
	else
		pf_api__reply_error(r, 503, "unavailable", "the photo catalog is unavailable");
}

/* ---- photographers ---------------------------------------------------------- */

static void on_photographers(const struct pf_catalog_photographer_counts *list, size_t n,
                             const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;
	json_t *out;

	if (err->code) {
		pf_warn("photographers not listed", PF_LS("error", err->message));
		pf_api__reply_error(
		    r, 503, "unavailable",
		    "the photo catalog is unavailable right now; try again shortly");
		return;
	}
	out = json_array();
	for (size_t i = 0; i < n; i++) {
		if (list[i].counts.processed > 0)
			json_array_append_new(out,
			                      json_pack("{s:s,s:I}", "name", list[i].name, "photos",
			                                (json_int_t)list[i].counts.processed));
	}
	pf_api__reply_doc(r, 200, json_pack("{s:o}", "photographers", out));
}

void pf_api__get_photographers(struct pf_api_request *r)
{
	struct pf_error err;

	if (!pf_api__wait(r))
		return;
	if (pf_catalog_photographers_list(r->api->d.catalog, on_photographers, r, &err) < 0)
		pf_api__reply_error(r, 503, "unavailable", "the photo catalog is unavailable");
}

void pf_api__runner_status(struct pf_api *api, json_t *doc)
{
	const struct pf_roster *r = api->runner->roster;

	json_object_set_new(doc, "roster",
	                    r ? json_pack("{s:I}", "codes", (json_int_t)pf_roster_count(r))
	                      : json_null());
}

/* ---- claims ------------------------------------------------------------------ */

json_t *pf_api__claim_json(const struct pf_catalog_claim *c)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s}", "id", c->id, "photo", c->photo, "code", c->code,
	                 "state", pf_catalog_claim_state_name(c->state), "at", c->at);
}

struct claim_req {
	struct pf_api_request *r;
	char photo[PF_CATALOG_ID_LEN + 1];
	char code[PF_SUGGEST_CODE_MAX + 1];
};

static void on_claimed(const struct pf_catalog_claim *claim, bool created,
                       const struct pf_error *err, void *arg)
{
	struct claim_req *cr = arg;

	if (err->code || !claim) {
		pf_warn("claim not recorded", PF_LS("error", err->message));
		pf_api__reply_error(cr->r, 503, "unavailable",
		                    "the claim cannot be recorded right now; try again shortly");
	} else {
		if (created)
			pf_info("claim recorded", PF_LS("claim", claim->id),
			        PF_LS("photo", claim->photo), PF_LS("code", claim->code));
		pf_api__reply_doc(cr->r, created ? 202 : 200,
		                  json_pack("{s:o}", "claim", pf_api__claim_json(claim)));
	}
	free(cr);
}

static void on_claimed_photo(const struct pf_catalog_image *img, const struct pf_error *err,
                             void *arg)
{
	struct claim_req *cr = arg;
	struct pf_error e;

	if (err->code) {
		pf_api__reply_error(
		    cr->r, 503, "unavailable",
		    "the photo catalog is unavailable right now; try again shortly");
		free(cr);
		return;
	}
	if (!img || img->status != PF_IMAGE_PROCESSED) {
		pf_api__reply_error(cr->r, 404, "not_found", "no such photo");
		free(cr);
		return;
	}
	if (pf_catalog_claim_add(cr->r->api->d.catalog, cr->photo, cr->code, pf_now_ms(),
	                         on_claimed, cr, &e) < 0)
		on_claimed(NULL, false, &e, cr);
}

void pf_api__post_claim(struct pf_api_request *r)
{
	json_t *doc = pf_api__read_body(r);
	const char *photo = json_string_value(json_object_get(doc, "photo"));
	const char *code = json_string_value(json_object_get(doc, "code"));
	char norm[257];
	struct claim_req *cr;
	char client[64];
	int64_t retry = 0;
	struct pf_error err;

	if (!doc)
		return;
	if (!photo || !pf_catalog_id_is_valid(photo) || !code) {
		pf_api__reply_error(
		    r, 400, "invalid_body",
		    "send {\"photo\":\"<the photo's id>\",\"code\":\"<your code>\"}");
		json_decref(doc);
		return;
	}
	snprintf(norm, sizeof(norm), "%s", code);
	if (strlen(code) >= sizeof(norm) || !pf_api_normalize_code(norm) ||
	    strlen(norm) > PF_SUGGEST_CODE_MAX) {
		pf_api__reply_error(
		    r, 400, "invalid_code",
		    "a participant code is 1 to 64 letters, digits, '_', '.' or '-'");
		json_decref(doc);
		return;
	}
	pf_api__client_address(r, client);
	if (!pf_ratelimit_take(r->api->runner->claims, client, pf_monotonic_ms(), &retry)) {
		json_decref(doc);
		reply_limited(r, retry, "too many claims from this address; try again later");
		return;
	}
	cr = pf_xcalloc(1, sizeof(*cr));
	cr->r = r;
	memcpy(cr->photo, photo, PF_CATALOG_ID_LEN + 1);
	memcpy(cr->code, norm, strlen(norm) + 1); /* normalised: at most 64 */
	json_decref(doc);
	if (!pf_api__wait(r)) {
		free(cr);
		return;
	}
	if (pf_catalog_get(r->api->d.catalog, cr->photo, on_claimed_photo, cr, &err) < 0)
		on_claimed_photo(NULL, &err, cr);
}
