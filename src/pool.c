/*
 * The worker pool: libuv's thread pool driven from the libevent loop. A
 * private uv_loop_t exists only to own the pool's completion queue; its
 * backend fd (epoll) is watched by a libevent read event, and uv_run(NOWAIT)
 * then runs the after_work callbacks on the loop thread. All pf_pool_*
 * functions run on the loop thread; work functions run on libuv's threads.
 *
 * Guarantee (libuv's async contract): a submit that returns 0 calls done
 * exactly once, on the loop thread; one that fails calls nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>
#include <uv.h>

#include "photofinish/pool.h"
#include "photofinish/util.h"

struct pf_pool {
	uv_loop_t loop;
	struct event *ev;
	int pending;
};

struct pool_req {
	uv_work_t req;
	struct pf_pool *pool;
	void *job;
	pf_pool_work_fn work;
	pf_pool_done_fn done;
};

/* libuv sizes its pool once per process, at the first uv_queue_work. */
static int pool_size_set;

/* Workers run at a lower priority than the loop thread. With as many
 * workers as vCPUs the pool keeps every core busy, and the loop thread (API
 * answers, all AWS I/O) would wait whole scheduler slices for a core each
 * time it wakes; it needs little CPU, so it gets it at once and the pool
 * keeps the rest. Threads libvips starts from a worker inherit the value. */
#define WORKER_NICE 10

static _Thread_local bool worker_niced;

static void on_work(uv_work_t *req)
{
	struct pool_req *r = (struct pool_req *)req;

	if (!worker_niced) {
		/* On Linux the nice value is per thread (PRIO_PROCESS with a
		 * thread id); lowering one's own priority needs no privilege. */
		id_t tid = (id_t)syscall(SYS_gettid);
		int nice = getpriority(PRIO_PROCESS, tid) + WORKER_NICE;

		(void)setpriority(PRIO_PROCESS, tid, nice > 19 ? 19 : nice);
		worker_niced = true;
	}
	r->work(r->job);
}

static void on_after_work(uv_work_t *req, int status)
{
	struct pool_req *r = (struct pool_req *)req;
	struct pf_pool *pool = r->pool;
	pf_pool_done_fn done = r->done;
	void *job = r->job;

	pool->pending--;
	free(r);
	done(job, status == UV_ECANCELED ? PF_ECANCELED : 0);
}

static void on_backend_ready(evutil_socket_t fd, short what, void *arg)
{
	struct pf_pool *pool = arg;

	uv_run(&pool->loop, UV_RUN_NOWAIT);
}

int pf_pool_new(struct event_base *base, int workers, struct pf_pool **out, struct pf_error *err)
{
	struct pf_pool *pool;
	int rc;

	*out = NULL;
	if (workers < 1 || workers > 1024)
		return pf_error_set(err, PF_EINVAL, "worker count %d is out of range (1-1024)",
		                    workers);
	if (!pool_size_set) {
		char n[16];

		snprintf(n, sizeof(n), "%d", workers);
		setenv("UV_THREADPOOL_SIZE", n, 1);
		pool_size_set = 1;
	}
	pool = pf_xcalloc(1, sizeof(*pool));
	rc = uv_loop_init(&pool->loop);
	if (rc) {
		free(pool);
		return pf_error_set(err, PF_EIO, "cannot create the worker loop: %s",
		                    uv_strerror(rc));
	}
	pool->ev = event_new(base, uv_backend_fd(&pool->loop), EV_READ | EV_PERSIST,
	                     on_backend_ready, pool);
	if (!pool->ev || event_add(pool->ev, NULL)) {
		if (pool->ev)
			event_free(pool->ev);
		uv_loop_close(&pool->loop);
		free(pool);
		return pf_error_set(err, PF_EIO, "cannot watch the worker loop");
	}
	*out = pool;
	return 0;
}

int pf_pool_submit(struct pf_pool *pool, void *job, pf_pool_work_fn work, pf_pool_done_fn done,
                   struct pf_error *err)
{
	struct pool_req *r = pf_xcalloc(1, sizeof(*r));
	int rc;

	r->pool = pool;
	r->job = job;
	r->work = work;
	r->done = done;
	rc = uv_queue_work(&pool->loop, &r->req, on_work, on_after_work);
	if (rc) {
		free(r);
		return pf_error_set(err, PF_EIO, "cannot queue work: %s", uv_strerror(rc));
	}
	pool->pending++;
	/* libuv registers its completion watcher with epoll lazily, inside
	 * uv_run; without one the backend fd never becomes readable. Run it
	 * from the loop's next turn rather than here so done never runs inside
	 * submit (callers may submit from a done callback). */
	event_active(pool->ev, EV_READ, 0);
	return 0;
}

int pf_pool_pending(const struct pf_pool *pool)
{
	return pool->pending;
}

void pf_pool_free(struct pf_pool *pool)
{
	if (!pool)
		return;
	event_free(pool->ev);
	uv_run(&pool->loop, UV_RUN_NOWAIT);
	uv_loop_close(&pool->loop);
	free(pool);
}
