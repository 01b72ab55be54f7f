/*
 * The HTTP API (evhttp): GET /participants/{code}, /healthz, /readyz,
 * /metrics, and the operators' /admin routes (bearer token). Every error is a JSON body; header,
 * body, connection-time and concurrency limits are enforced. Participant answers are cached
 * in-process for PHOTOFINISH_CACHE_TTL seconds and invalidated by the daemon's own writes. Loop
 * thread only.
 */
#ifndef PHOTOFINISH_API_H
#define PHOTOFINISH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

struct event_base;
struct pf_aws;
struct pf_buf;
struct pf_catalog;
struct pf_config;
struct pf_metrics;
struct pf_admin;
struct pf_api;

struct pf_api_deps {
	struct event_base *base;
	const struct pf_config *cfg;
	struct pf_aws *aws;
	struct pf_catalog *catalog;
	struct pf_metrics *metrics;
	struct pf_admin *admin; /* /admin routes; NULL or no token: off */
	/* NULL when ready, else why not (for /readyz). */
	const char *(*not_ready_reason)(void *arg);
	/* The queue's messages waiting and in flight (-1: not known yet). */
	void (*queue_depth)(void *arg, int64_t *visible, int64_t *in_flight);
	/* Appends the daemon's own gauges to /metrics. */
	void (*render_metrics)(void *arg, struct pf_buf *out);
	void *arg;
};

/* Binds cfg->listen. PF_EIO with the reason when the address is unusable. */
int pf_api_new(const struct pf_api_deps *deps, struct pf_api **out, struct pf_error *err);
/* Forgets cached answers for these codes (n == 0: all of them). */
void pf_api_invalidate(struct pf_api *api, char *const *codes, size_t n);
/* Stops accepting connections (drain); requests in progress finish. */
void pf_api_stop_accepting(struct pf_api *api);
void pf_api_free(struct pf_api *api);

/* Trims and upper-cases code in place; true when it then matches
 * [A-Z0-9_.-]{1,64}. */
bool pf_api_normalize_code(char *code);

#endif
