/*
 * Credentials provider: walks the chain (environment → shared files → ECS
 * container endpoint → EC2 IMDSv2) with the pure parsers of credentials.c,
 * fetching over the transport's unsigned path, and caches the result.
 *
 * Loop thread only. Guarantees: at most one refresh runs at a time and
 * everyone asking meanwhile is answered by it; temporary credentials are
 * refreshed PF_CREDENTIALS_REFRESH_AHEAD_MS before they expire while the
 * old ones keep signing; a failed background refresh is retried no sooner
 * than 30 s later; callbacks never run from inside the call that asked;
 * no secret (keys, session token, authorization token) reaches a log line.
 */
#include "photofinish/aws/credentials_provider.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/credentials.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

#define MIN_VALIDITY_S 60
#define RETRY_AFTER_FAILURE_S 30
#define CONTAINER_TIMEOUT_MS 5000
#define IMDS_TIMEOUT_MS 1000
#define CREDENTIALS_RESPONSE_LIMIT (PF_CREDENTIALS_MAX_JSON)

extern char **environ;

struct waiter {
	pf_credentials_cb cb;
	void *arg;
	struct waiter *next;
};

struct pf_credentials_provider {
	struct pf_credentials_transport t;
	char **env;
	struct pf_credentials *creds;
	struct waiter *waiters;
	struct event *deliver;
	bool refreshing;
	int64_t next_background_refresh;
	struct pf_error failure; /* of the last refresh that found nothing usable */
	/* IMDS state of the refresh in flight */
	char *imds_base;
	char *imds_token;
};

static void refresh_start(struct pf_credentials_provider *p);

static char **env_copy(char *const *envp)
{
	size_t n = 0;
	char **out;

	if (!envp)
		envp = environ;
	while (envp && envp[n])
		n++;
	out = pf_xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = pf_xstrdup(envp[i]);
	return out;
}

static int64_t now_s(const struct pf_credentials_provider *p)
{
	return p->t.now(p->t.ctx);
}

static bool usable(const struct pf_credentials_provider *p)
{
	return p->creds &&
	       (p->creds->expiration == 0 || p->creds->expiration - now_s(p) > MIN_VALIDITY_S);
}

static void schedule_delivery(struct pf_credentials_provider *p)
{
	static const struct timeval zero = {0, 0};

	evtimer_add(p->deliver, &zero);
}

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct pf_credentials_provider *p = arg;
	struct waiter *w = p->waiters;
	struct pf_sigv4_credentials sc;
	struct pf_error e;
	bool ok = usable(p);

	if (!ok && p->refreshing)
		return; /* the refresh in flight will answer */
	p->waiters = NULL;
	pf_error_clear(&e);
	if (ok) {
		pf_credentials_to_sigv4(p->creds, &sc);
	} else if (p->failure.code) {
		e = p->failure;
	} else {
		pf_error_set(&e, PF_EAWS, "no AWS credentials available");
	}
	while (w) {
		struct waiter *next = w->next;

		/* each callback gets its own copy of the borrowed view */
		if (ok)
			pf_credentials_to_sigv4(p->creds, &sc);
		w->cb(ok ? &sc : NULL, &e, w->arg);
		free(w);
		w = next;
	}
}

static void refresh_done(struct pf_credentials_provider *p, struct pf_credentials *c,
                         const struct pf_error *err)
{
	p->refreshing = false;
	free(p->imds_token);
	p->imds_token = NULL;
	free(p->imds_base);
	p->imds_base = NULL;
	if (c) {
		pf_credentials_free(p->creds);
		p->creds = c;
		pf_error_clear(&p->failure);
		pf_info("aws credentials loaded", PF_LS("source", c->source),
		        PF_LI("expiration", c->expiration));
	} else if (usable(p)) {
		p->next_background_refresh = now_s(p) + RETRY_AFTER_FAILURE_S;
		pf_warn("aws credentials refresh failed; keeping the current ones",
		        PF_LS("error", err->message), PF_LI("expiration", p->creds->expiration));
	} else {
		p->failure = *err;
		pf_warn("aws credentials unavailable", PF_LS("error", err->message));
	}
	schedule_delivery(p);
}

static void fail(struct pf_credentials_provider *p, const struct pf_error *err, const char *what)
{
	struct pf_error e = *err;

	if (what)
		pf_error_prefix(&e, "%s", what);
	refresh_done(p, NULL, &e);
}

static void on_json_credentials(struct pf_credentials_provider *p, const char *body, size_t len,
                                const struct pf_error *err, const char *source, const char *what)
{
	struct pf_credentials *c = NULL;
	struct pf_error e;

	if (err->code) {
		fail(p, err, what);
		return;
	}
	pf_error_clear(&e);
	if (pf_credentials_parse_container_json(body, len, source, &c, &e) < 0) {
		fail(p, &e, what);
		return;
	}
	refresh_done(p, c, &e);
}

static void on_container(const char *body, size_t len, const struct pf_error *err, void *arg)
{
	on_json_credentials(arg, body, len, err, "ecs", "container credentials endpoint");
}

static void on_imds_credentials(const char *body, size_t len, const struct pf_error *err, void *arg)
{
	on_json_credentials(arg, body, len, err, "imds", "EC2 instance metadata");
}

static int imds_get(struct pf_credentials_provider *p, const char *path, const char *operation,
                    pf_credentials_fetch_cb cb, struct pf_error *err)
{
	struct pf_credentials_header h = {PF_CREDENTIALS_IMDS_TOKEN_HEADER, p->imds_token};
	char *url = pf_credentials_imds_url(p->imds_base, path);
	struct pf_credentials_fetch req = {
	    .operation = operation,
	    .method = "GET",
	    .url = url,
	    .headers = &h,
	    .nheaders = 1,
	    .max_response_bytes = CREDENTIALS_RESPONSE_LIMIT,
	    .timeout_ms = IMDS_TIMEOUT_MS,
	};
	int rc = p->t.fetch(p->t.ctx, &req, cb, p, err);

	free(url);
	return rc;
}

static void on_imds_role(const char *body, size_t len, const struct pf_error *err, void *arg)
{
	struct pf_credentials_provider *p = arg;
	struct pf_error e;
	char *role = NULL;
	char *path;

	if (err->code) {
		fail(p, err, "EC2 instance metadata");
		return;
	}
	pf_error_clear(&e);
	if (pf_credentials_imds_parse_role(body, len, &role, &e) < 0) {
		fail(p, &e, "EC2 instance metadata");
		return;
	}
	path = pf_xasprintf("%s%s", PF_CREDENTIALS_IMDS_ROLE_PATH, role);
	free(role);
	if (imds_get(p, path, "imds-credentials", on_imds_credentials, &e) < 0)
		fail(p, &e, "EC2 instance metadata");
	free(path);
}

static void on_imds_token(const char *body, size_t len, const struct pf_error *err, void *arg)
{
	struct pf_credentials_provider *p = arg;
	struct pf_error e;

	if (err->code) {
		fail(p, err, "EC2 instance metadata (IMDSv2 token)");
		return;
	}
	pf_error_clear(&e);
	if (pf_credentials_imds_check_token(body, len, &p->imds_token, &e) < 0 ||
	    imds_get(p, PF_CREDENTIALS_IMDS_ROLE_PATH, "imds-role", on_imds_role, &e) < 0)
		fail(p, &e, "EC2 instance metadata");
}

static int start_container(struct pf_credentials_provider *p,
                           const struct pf_credentials_container_endpoint *ep, struct pf_error *err)
{
	struct pf_credentials_header h[2] = {{"Accept", "application/json"},
	                                     {"Authorization", NULL}};
	struct pf_credentials_fetch req = {
	    .operation = "container-credentials",
	    .method = "GET",
	    .url = ep->url,
	    .headers = h,
	    .nheaders = 1,
	    .max_response_bytes = CREDENTIALS_RESPONSE_LIMIT,
	    .timeout_ms = CONTAINER_TIMEOUT_MS,
	};
	char *token = NULL;
	int rc = 0;

	if (ep->auth_token_file) {
		/* re-read each time: EKS rotates the file */
		rc = pf_credentials_read_auth_token_file(ep->auth_token_file, &token, err);
		if (rc < 0)
			return rc;
	} else if (ep->auth_token) {
		token = pf_xstrdup(ep->auth_token);
	}
	if (token) {
		h[1].value = token;
		req.nheaders = 2;
	}
	rc = p->t.fetch(p->t.ctx, &req, on_container, p, err);
	free(token);
	return rc;
}

static int start_imds(struct pf_credentials_provider *p, struct pf_error *err)
{
	char ttl[16];
	struct pf_credentials_header h = {PF_CREDENTIALS_IMDS_TOKEN_TTL_HEADER, ttl};
	struct pf_credentials_fetch req = {
	    .operation = "imds-token",
	    .method = "PUT",
	    .headers = &h,
	    .nheaders = 1,
	    .max_response_bytes = CREDENTIALS_RESPONSE_LIMIT,
	    .timeout_ms = IMDS_TIMEOUT_MS,
	};
	char *url;
	int rc;

	snprintf(ttl, sizeof(ttl), "%d", PF_CREDENTIALS_IMDS_TOKEN_TTL_SECONDS);
	url = pf_credentials_imds_url(p->imds_base, PF_CREDENTIALS_IMDS_TOKEN_PATH);
	req.url = url;
	rc = p->t.fetch(p->t.ctx, &req, on_imds_token, p, err);
	free(url);
	return rc;
}

/* Walks the chain. Local sources answer at once; the HTTP ones continue in
 * their callbacks. Every path ends in exactly one refresh_done. */
static void refresh_start(struct pf_credentials_provider *p)
{
	struct pf_credentials *c = NULL;
	struct pf_credentials_container_endpoint ep;
	struct pf_error e;
	int rc;

	p->refreshing = true;
	pf_error_clear(&e);
	rc = pf_credentials_from_env(p->env, &c, &e);
	if (rc != PF_ENOTFOUND)
		goto out_local;
	pf_error_clear(&e);
	rc = pf_credentials_from_shared_files(p->env, &c, &e);
	if (rc != PF_ENOTFOUND)
		goto out_local;
	pf_error_clear(&e);
	memset(&ep, 0, sizeof(ep));
	rc = pf_credentials_container_endpoint(p->env, &ep, &e);
	if (rc == 0)
		rc = start_container(p, &ep, &e);
	pf_credentials_container_endpoint_free(&ep);
	if (rc == 0)
		return;
	if (rc != PF_ENOTFOUND)
		goto out_local;
	pf_error_clear(&e);
	rc = pf_credentials_imds_endpoint(p->env, &p->imds_base, &e);
	if (rc == 0)
		rc = start_imds(p, &e);
	if (rc == 0)
		return;
	if (rc == PF_ENOTFOUND) {
		pf_error_set(&e, PF_EAWS,
		             "no AWS credentials found (environment, shared files, container "
		             "endpoint; instance metadata disabled)");
		snprintf(e.service_code, sizeof(e.service_code), "NoCredentials");
	}
out_local:
	if (rc == 0)
		refresh_done(p, c, &e);
	else
		refresh_done(p, NULL, &e);
}

int pf_credentials_provider_new(const struct pf_credentials_transport *transport, char *const *envp,
                                struct pf_credentials_provider **out, struct pf_error *err)
{
	struct pf_credentials_provider *p = pf_xcalloc(1, sizeof(*p));

	p->t = *transport;
	p->env = env_copy(envp);
	p->deliver = evtimer_new(transport->base, on_deliver, p);
	if (!p->deliver) {
		pf_credentials_provider_free(p);
		*out = NULL;
		return pf_error_set(err, PF_ENOMEM, "cannot create a timer");
	}
	*out = p;
	return 0;
}

void pf_credentials_provider_free(struct pf_credentials_provider *p)
{
	struct pf_error e;
	struct waiter *w;

	if (!p)
		return;
	pf_error_clear(&e);
	pf_error_set(&e, PF_ECANCELED, "the AWS client is shutting down");
	while ((w = p->waiters) != NULL) {
		p->waiters = w->next;
		w->cb(NULL, &e, w->arg);
		free(w);
	}
	if (p->deliver)
		event_free(p->deliver);
	pf_credentials_free(p->creds);
	for (size_t i = 0; p->env && p->env[i]; i++)
		free(p->env[i]);
	free(p->env);
	free(p->imds_base);
	free(p->imds_token);
	free(p);
}

int pf_credentials_provider_get(struct pf_credentials_provider *p, pf_credentials_cb cb, void *arg,
                                struct pf_error *err)
{
	struct waiter *w;
	struct waiter **tail = &p->waiters;

	if (!cb)
		return pf_error_set(err, PF_EINVAL, "credentials: callback required");
	if (p->t.closing(p->t.ctx))
		return pf_error_set(err, PF_ECANCELED, "the AWS client is shutting down");
	w = pf_xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	while (*tail)
		tail = &(*tail)->next;
	*tail = w;
	if (usable(p))
		schedule_delivery(p);
	else if (!p->refreshing)
		refresh_start(p);
	return 0;
}

bool pf_credentials_provider_peek(struct pf_credentials_provider *p,
                                  struct pf_sigv4_credentials *out)
{
	int64_t now = now_s(p);

	if (!usable(p))
		return false;
	if (p->creds->expiration != 0 && !p->refreshing && now >= p->next_background_refresh &&
	    pf_credentials_is_expiring(p->creds, now, PF_CREDENTIALS_REFRESH_AHEAD_MS / 1000)) {
		/* short-lived credentials must not turn every request into a fetch */
		p->next_background_refresh = now + RETRY_AFTER_FAILURE_S;
		refresh_start(p);
	}
	pf_credentials_to_sigv4(p->creds, out);
	return true;
}

void pf_credentials_provider_cancel(struct pf_credentials_provider *p, pf_credentials_cb cb,
                                    void *arg)
{
	struct waiter **pw = &p->waiters;

	while (*pw) {
		struct waiter *w = *pw;

		if (w->cb == cb && w->arg == arg) {
			*pw = w->next;
			free(w);
		} else {
			pw = &w->next;
		}
	}
}

const char *pf_credentials_provider_source(const struct pf_credentials_provider *p)
{
	return p->creds ? p->creds->source : NULL;
}

int64_t pf_credentials_provider_expiration(const struct pf_credentials_provider *p)
{
	return p->creds && p->creds->expiration ? p->creds->expiration * 1000 : 0;
}
