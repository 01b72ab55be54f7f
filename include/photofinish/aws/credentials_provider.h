/*
 * Credentials provider: the asynchronous credentials chain the transport
 * signs with. Order: environment (AWS_ACCESS_KEY_ID...) → shared files
 * (AWS_PROFILE, ~/.aws/credentials and config) → ECS container endpoint
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]) → EC2 IMDSv2 (unless
 * AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT
 * overrides the address). Parsing lives in credentials.c; this module does
 * the I/O and the caching.
 *
 * Loop thread only. Guarantees: temporary credentials are refreshed 5
 * minutes before they expire, in the background, at most one refresh at a
 * time; callers asking during a refresh wait for it (and are answered
 * together); the loop never blocks on the network. Secrets never reach a
 * log line or an error message.
 */
#ifndef PHOTOFINISH_AWS_CREDENTIALS_PROVIDER_H
#define PHOTOFINISH_AWS_CREDENTIALS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/aws/sigv4.h"
#include "photofinish/error.h"

struct event_base;
struct pf_credentials_provider;

/* Refresh this long before a temporary credential expires. */
#define PF_CREDENTIALS_REFRESH_AHEAD_MS (5 * 60 * 1000)

/* creds is valid only during the callback (copy what you keep); NULL when
 * err->code != 0 (no source had credentials, or the endpoint failed). */
typedef void (*pf_credentials_cb)(const struct pf_sigv4_credentials *creds,
                                  const struct pf_error *err, void *arg);

/* One header of a credential-endpoint request. */
struct pf_credentials_header {
	const char *name;
	const char *value;
};

/* A request to a credential endpoint (ECS container, IMDS). */
struct pf_credentials_fetch {
	const char *operation; /* for stats and logs: "imds-token", ... */
	const char *method;    /* "GET", "PUT" */
	const char *url;       /* absolute http(s) URL */
	const struct pf_credentials_header *headers;
	size_t nheaders; /* at most PF_CREDENTIALS_MAX_HEADERS */
	size_t max_response_bytes;
	long timeout_ms;
};
#define PF_CREDENTIALS_MAX_HEADERS 4

/* body (NUL-terminated, "" when empty) is valid during the callback only. */
typedef void (*pf_credentials_fetch_cb)(const char *body, size_t len, const struct pf_error *err,
                                        void *arg);

/* What the provider needs from the transport that owns it: the loop, the
 * clock requests are signed with, and unsigned HTTP. An interface, so that
 * the transport depends on the provider and never the other way round
 * (aws_http.c fills one in pf_aws_new). */
struct pf_credentials_transport {
	struct event_base *base;
	void *ctx; /* passed to every function below */
	/* Seconds since the epoch, corrected for clock skew. */
	int64_t (*now)(void *ctx);
	/* True once the transport is shutting down: new waiters are refused. */
	bool (*closing)(void *ctx);
	/* Sends req; the async contract of pf_aws_send_unsigned (on error cb
	 * never runs; otherwise exactly once, later, on the loop thread). */
	int (*fetch)(void *ctx, const struct pf_credentials_fetch *req, pf_credentials_fetch_cb cb,
	             void *arg, struct pf_error *err);
};

/* Creates the provider; envp ("NAME=value", NULL-terminated, NULL for the
 * process environment) is copied, and so is *transport, whose context must
 * outlive the provider. */
int pf_credentials_provider_new(const struct pf_credentials_transport *transport, char *const *envp,
                                struct pf_credentials_provider **out, struct pf_error *err);

/* Fails every waiting callback with PF_ECANCELED and frees; NULL is fine. */
void pf_credentials_provider_free(struct pf_credentials_provider *p);

/* Asks for credentials. Returns 0 (cb runs once later, on the loop thread,
 * never from inside this call) or an error (cb never runs). */
int pf_credentials_provider_get(struct pf_credentials_provider *p, pf_credentials_cb cb, void *arg,
                                struct pf_error *err);

/* Drops every waiter registered with (cb, arg) without calling it: for a
 * caller that is going away (the transport cancelling a request). */
void pf_credentials_provider_cancel(struct pf_credentials_provider *p, pf_credentials_cb cb,
                                    void *arg);

/* The cached credentials when they are usable now (static, or valid for at
 * least another minute); starts a background refresh when they are within
 * PF_CREDENTIALS_REFRESH_AHEAD_MS of expiring. The pointers stay valid
 * until the next call into the provider or a return to the loop. */
bool pf_credentials_provider_peek(struct pf_credentials_provider *p,
                                  struct pf_sigv4_credentials *out);

/* Where the current credentials came from: "environment", "shared-file",
 * "ecs", "imds", or NULL before the first successful load. */
const char *pf_credentials_provider_source(const struct pf_credentials_provider *p);

/* Expiry of the cached credentials in ms since the epoch, 0 if they do not
 * expire or none are cached. */
int64_t pf_credentials_provider_expiration(const struct pf_credentials_provider *p);

#endif
