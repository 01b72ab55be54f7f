/*
 * The queue consumer: long-polls SQS while fewer than max_inflight messages
 * are held, turns each S3 event into a job (download → pipeline on the pool
 * → upload variants → catalog write) and deletes a message only after every
 * job of it is durably done. Transient failures leave the message to come
 * back later with growing visibility; refused images are recorded as failed
 * and their message deleted. Loop thread only.
 */
#ifndef PHOTOFINISH_CONSUMER_H
#define PHOTOFINISH_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>

#include "photofinish/error.h"

struct event_base;
struct pf_aws;
struct pf_catalog;
struct pf_config;
struct pf_image_ctx;
struct pf_metrics;
struct pf_pool;
struct pf_consumer;

struct pf_consumer_deps {
	struct event_base *base;
	struct pf_aws *aws;
	struct pf_pool *pool;
	struct pf_catalog *catalog;
	const struct pf_image_ctx *image;
	struct pf_metrics *metrics;
	const struct pf_config *cfg;
	/* Called after a write that changed what these codes answer (for the
	 * API cache). */
	void (*on_codes_changed)(void *arg, char *const *codes, size_t n);
	void *arg;
	/* Called with the outcome of every ReceiveMessage (readiness). */
	void (*on_receive_status)(void *arg, bool ok);
};

int pf_consumer_new(const struct pf_consumer_deps *deps, struct pf_consumer **out,
                    struct pf_error *err);
/* Starts polling. */
void pf_consumer_start(struct pf_consumer *c);
/* Stops receiving; on_drained runs once nothing is held any more. */
void pf_consumer_drain(struct pf_consumer *c, void (*on_drained)(void *arg), void *arg);
/* Makes every held message visible again now (drain deadline); on_drained
 * from pf_consumer_drain then runs once SQS answered. */
void pf_consumer_release_all(struct pf_consumer *c);
int pf_consumer_inflight(const struct pf_consumer *c);
/* Releases (visibility 0) sent and not yet answered. */
int pf_consumer_releases_pending(const struct pf_consumer *c);
void pf_consumer_free(struct pf_consumer *c);

/* Object keys the daemon processes: under prefix and with an image suffix. */
bool pf_consumer_key_is_wanted(const char *key, const char *prefix);

/* The key of one variant object: "<kind>/<id>-<tag>.<ext>" (kind fullsize or
 * thumbnail, ext jpg or webp), the tag being the first 16 letters and digits
 * of etag (else of sequencer; no "-<tag>" when neither has any). A new
 * version of a source gets new keys, so a late job never overwrites what a
 * newer one published. Pure. */
char *pf_consumer_variant_key(const char *id, const char *etag, const char *sequencer,
                              const char *kind, const char *ext);

/* Seconds a message that failed transiently stays invisible, from its
 * ApproximateReceiveCount: 15 s doubling to at most 15 minutes. */
int pf_consumer_retry_visibility(int receive_count);

#endif
