/*
 * The worker pool: libuv's thread pool embedded in the libevent loop. CPU-bound
 * work (decode, scan, resize, encode) runs on the pool's threads; completion
 * callbacks run on the loop thread. A job owns its input and returns owning
 * its output; the submitter keeps no reference while it runs.
 * pf_pool_* functions are called on the loop thread only.
 */
#ifndef PHOTOFINISH_POOL_H
#define PHOTOFINISH_POOL_H

#include "photofinish/error.h"

struct event_base;
struct pf_pool;

/* Runs on a worker thread: pixels only, no libevent, no curl, no logging of
 * shared state beyond pf_log (which is thread-safe). */
typedef void (*pf_pool_work_fn)(void *job);
/* Runs on the loop thread after work finished (status 0) or was cancelled
 * before starting (status PF_ECANCELED). Exactly once per accepted submit. */
typedef void (*pf_pool_done_fn)(void *job, int status);

/* Creates the pool with `workers` threads attached to base. libuv's pool size
 * is process-wide and fixed at first use (UV_THREADPOOL_SIZE), so only the
 * first pool created in a process decides it. */
int pf_pool_new(struct event_base *base, int workers, struct pf_pool **out, struct pf_error *err);

/* Queues job. If it returns an error, neither callback runs. */
int pf_pool_submit(struct pf_pool *pool, void *job, pf_pool_work_fn work, pf_pool_done_fn done,
                   struct pf_error *err);

/* Jobs submitted and not yet completed. */
int pf_pool_pending(const struct pf_pool *pool);

/* Frees the pool; no job may be pending. */
void pf_pool_free(struct pf_pool *pool);

#endif
