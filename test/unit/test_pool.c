/*
 * Unit tests for the worker pool: jobs run on worker threads, done runs
 * exactly once per job on the loop thread, never inside submit, pending
 * counts, and jobs run in parallel when there are several workers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "photofinish/error.h"
#include "photofinish/pool.h"
#include "photofinish/util.h"

#define NJOBS 40

struct state {
	struct event_base *base;
	struct pf_pool *pool;
	pthread_t loop_thread;
	int done;
	int in_submit;
	int running, max_running;
	pthread_mutex_t lock;
};

struct job {
	struct state *st;
	int value;
	int result;
	bool worker_was_loop;
	int done_calls;
};

static struct job jobs[NJOBS];

static void work(void *arg)
{
	struct job *j = arg;
	struct timespec ts = {0, 20 * 1000 * 1000};

	pthread_mutex_lock(&j->st->lock);
	j->st->running++;
	if (j->st->running > j->st->max_running)
		j->st->max_running = j->st->running;
	pthread_mutex_unlock(&j->st->lock);
	j->worker_was_loop = pthread_equal(pthread_self(), j->st->loop_thread);
	j->result = j->value * 2;
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&j->st->lock);
	j->st->running--;
	pthread_mutex_unlock(&j->st->lock);
}

static void done(void *arg, int status)
{
	struct job *j = arg;

	assert_int_equal(status, 0);
	assert_true(pthread_equal(pthread_self(), j->st->loop_thread));
	assert_int_equal(j->st->in_submit, 0);
	j->done_calls++;
	j->st->done++;
	if (j->st->done == NJOBS)
		event_base_loopbreak(j->st->base);
}

static void test_pool_runs_every_job_once(void **unused)
{
	struct state st = {0};
	struct pf_error err;

	pthread_mutex_init(&st.lock, NULL);
	st.base = event_base_new();
	st.loop_thread = pthread_self();
	assert_non_null(st.base);
	assert_int_equal(pf_pool_new(st.base, 2, &st.pool, &err), 0);
	for (int i = 0; i < NJOBS; i++) {
		jobs[i].st = &st;
		jobs[i].value = i;
		st.in_submit = 1;
		assert_int_equal(pf_pool_submit(st.pool, &jobs[i], work, done, &err), 0);
		st.in_submit = 0;
	}
	assert_int_equal(pf_pool_pending(st.pool), NJOBS);
	event_base_dispatch(st.base);
	assert_int_equal(st.done, NJOBS);
	assert_int_equal(pf_pool_pending(st.pool), 0);
	for (int i = 0; i < NJOBS; i++) {
		assert_int_equal(jobs[i].done_calls, 1);
		assert_int_equal(jobs[i].result, 2 * i);
		assert_false(jobs[i].worker_was_loop);
	}
	/* Two workers: jobs overlapped. */
	assert_int_equal(st.max_running, 2);
	pf_pool_free(st.pool);
	event_base_free(st.base);
	pthread_mutex_destroy(&st.lock);
}

struct chain {
	struct event_base *base;
	struct pf_pool *pool;
	int left;
};

static void chain_work(void *arg)
{
}

/* A done callback that submits the next job: the common refill pattern. */
static void chain_done(void *arg, int status)
{
	struct chain *c = arg;
	struct pf_error err;

	if (--c->left == 0) {
		event_base_loopbreak(c->base);
		return;
	}
	assert_int_equal(pf_pool_submit(c->pool, c, chain_work, chain_done, &err), 0);
}

static void test_pool_submit_from_done(void **unused)
{
	struct chain c = {0};
	struct pf_error err;

	c.base = event_base_new();
	c.left = 25;
	assert_int_equal(pf_pool_new(c.base, 2, &c.pool, &err), 0);
	assert_int_equal(pf_pool_submit(c.pool, &c, chain_work, chain_done, &err), 0);
	event_base_dispatch(c.base);
	assert_int_equal(c.left, 0);
	assert_int_equal(pf_pool_pending(c.pool), 0);
	pf_pool_free(c.pool);
	event_base_free(c.base);
}

static void test_pool_bad_workers(void **unused)
{
	struct event_base *base = event_base_new();
	struct pf_pool *pool = (struct pf_pool *)1;
	struct pf_error err;

	pf_error_clear(&err);
	assert_int_equal(pf_pool_new(base, 0, &pool, &err), PF_EINVAL);
	assert_null(pool);
	assert_true(strlen(err.message) > 0);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pool_runs_every_job_once),
	    cmocka_unit_test(test_pool_submit_from_done),
	    cmocka_unit_test(test_pool_bad_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
