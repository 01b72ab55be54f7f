/*
 * Admin jobs: reprocess, clear, reset and erase, as records in the catalog
 * (catalog_admin.h), so that any task reports any job and a job outlives the
 * task that ran it.
 *
 * The task running a job writes its progress and where it would resume at
 * least every 2 s while it moves and at every phase change; each write is
 * conditioned on the version it read, so a task that lost its job learns it
 * at its next write and stops. Every task looks every stale/2 seconds for a
 * running job not written for `stale` seconds (its task was killed, scaled
 * in or replaced) and takes one over: it resumes the job where it was
 * saved; after 3 takeovers the job is marked interrupted with its counters.
 * A clear or reset raises the catalog's fence for its whole run (no photo
 * can be written meanwhile) and lowers it when it ends, failed or not.
 *
 * The job record is pure (any thread); the runner is loop thread only, with
 * the AWS client's callback contract.
 */
#ifndef PHOTOFINISH_ADMIN_JOBS_H
#define PHOTOFINISH_ADMIN_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

struct event_base;
struct pf_aws;
struct pf_catalog;
struct pf_config;

#include "photofinish/admin_job.h"

struct pf_admin_jobs;

struct pf_admin_jobs_deps {
	struct event_base *base;
	struct pf_aws *aws;
	struct pf_catalog *catalog;
	const struct pf_config *cfg;
	/* erase deletes each photo as an operator's delete does (admin.c) */
	int (*delete_photo)(void *ctx, const char *id, pf_catalog_image_cb cb, void *arg,
	                    struct pf_error *err);
	void *delete_ctx;
	const char *task;  /* this task's id */
	int stale_seconds; /* a running job not written for this long is taken over */
	/* A job changed what these codes answer (n == 0: everything). */
	void (*on_codes_changed)(void *arg, char *const *codes, size_t n);
	void *arg;
};

int pf_admin_jobs_new(const struct pf_admin_jobs_deps *deps, struct pf_admin_jobs **out,
                      struct pf_error *err);
/* Stops running jobs where they are (another task takes them over). */
void pf_admin_jobs_free(struct pf_admin_jobs *jobs);

struct pf_admin_job_request {
	enum pf_admin_job_kind kind;
	const char *prefix; /* reprocess: within the ingress prefix; NULL: all of it */
	const char *code;   /* erase: normalised */
	const char *by;
	const char *client;
};

/* job is borrowed for the callback (NULL on error). */
typedef void (*pf_admin_job_cb)(const struct pf_admin_job *job, const struct pf_error *err,
                                void *arg);

/* Starts a job: the callback runs once it is recorded. PF_ETOOBIG when this
 * task runs PF_ADMIN_JOB_MAX_RUNNING jobs; PF_ECONFLICT (clear, reset) when
 * another clear or reset holds the fence. */
int pf_admin_jobs_start(struct pf_admin_jobs *jobs, const struct pf_admin_job_request *req,
                        pf_admin_job_cb cb, void *arg, struct pf_error *err);
/* A job from the catalog (NULL, err->code 0: no such job). */
int pf_admin_jobs_get(struct pf_admin_jobs *jobs, const char *id, pf_admin_job_cb cb, void *arg,
                      struct pf_error *err);
typedef void (*pf_admin_jobs_list_cb)(const struct pf_admin_job *list, size_t n,
                                      const struct pf_error *err, void *arg);
/* The most recent jobs of every task, newest first. */
int pf_admin_jobs_list(struct pf_admin_jobs *jobs, int limit, pf_admin_jobs_list_cb cb, void *arg,
                       struct pf_error *err);

#endif
