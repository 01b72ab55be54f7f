/*
 * What the consumer's two files share: the consumer and its held messages
 * (consumer.c: receiving, heartbeats, delete or retry) and the per-event
 * jobs that work on them (consumer_job.c: catalog read, download, pipeline,
 * variants, catalog write). Loop thread only.
 */
#ifndef PHOTOFINISH_CONSUMER_INT_H
#define PHOTOFINISH_CONSUMER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "photofinish/consumer.h"

struct event;
struct pf_error;
struct pf_consumer__clocks;
struct pf_object_event;

struct pf_consumer {
	struct pf_consumer_deps d;
	int inflight; /* messages held */
	bool receiving;
	bool draining;
	int receive_failures;
	struct event *retry_timer;
	struct pf_consumer__msg *msgs; /* held messages, doubly linked */
	void (*on_drained)(void *arg);
	void *drained_arg;
	int releases_pending;
	struct pf_consumer__clocks *clocks; /* camera clock offsets (consumer_clock.c) */
};

/* A received message, held until every job of it is done. */
struct pf_consumer__msg {
	struct pf_consumer *c;
	struct pf_consumer__msg *prev, *next;
	char *receipt;
	char *message_id;
	int receive_count;
	int jobs_pending;
	bool transient; /* some job must be retried: keep the message */
	bool released;
	bool finishing; /* its delete or visibility change is in flight */
	struct event *heartbeat;
};

/* Starts a job for ev on m (ev's strings move to it), or skips an event
 * that is not for this daemon. Each job started counts in m->jobs_pending. */
void pf_consumer__start_event(struct pf_consumer__msg *m, struct pf_object_event *ev);

/* One piece of pending work on m ended (a job, a heartbeat, a release):
 * the message finishes (deleted, or kept for a retry) once none is left. */
void pf_consumer__msg_work_done(struct pf_consumer__msg *m);

/* Camera clock offsets (consumer_clock.c). cb runs (maybe at once) once
 * the copy is fresh: at most 10 s old, or when strict read after this
 * call; err set when the catalog could not be read. */
typedef void (*pf_consumer__clocks_cb)(void *arg, const struct pf_error *err);
void pf_consumer__clocks_when_fresh(struct pf_consumer *c, bool strict, pf_consumer__clocks_cb cb,
                                    void *arg);
/* The offset of photographer's camera in seconds (0: none set). */
int64_t pf_consumer__clock_offset(const struct pf_consumer *c, const char *photographer);
void pf_consumer__clocks_free(struct pf_consumer__clocks *k);

#endif
