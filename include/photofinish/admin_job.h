/*
 * An admin job's record: reprocess, clear, reset or erase, what it has done
 * and where it would resume, as the catalog stores it (catalog_admin.h, as
 * JSON text) and as the admin API shows it. Pure; any thread. The runner is
 * admin_jobs.h.
 */
#ifndef PHOTOFINISH_ADMIN_JOB_H
#define PHOTOFINISH_ADMIN_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/catalog_admin.h"
#include "photofinish/error.h"

enum pf_admin_job_kind {
	PF_ADMIN_JOB_REPROCESS,
	PF_ADMIN_JOB_CLEAR,
	PF_ADMIN_JOB_RESET,
	PF_ADMIN_JOB_ERASE
};

enum pf_admin_job_state {
	PF_ADMIN_JOB_RUNNING,
	PF_ADMIN_JOB_DONE,
	PF_ADMIN_JOB_FAILED,
	PF_ADMIN_JOB_INTERRUPTED
};

/* Takeovers after which a job is marked interrupted. */
#define PF_ADMIN_JOB_MAX_ATTEMPTS 3
/* Jobs one task runs at once. */
#define PF_ADMIN_JOB_MAX_RUNNING 4

struct pf_admin_job {
	char id[PF_CATALOG_JOB_ID_MAX + 1];
	enum pf_admin_job_kind kind;
	enum pf_admin_job_state state;
	char phase[16];
	char *by;     /* the admin token's name */
	char *client; /* the address the request came from */
	char *task;   /* the task running it (or that ran it last) */
	int attempts;
	int64_t started_ms, updated_ms, finished_ms; /* epoch ms; finished 0 while running */
	int64_t total;                               /* -1 while unknown */
	int64_t listed, queued, skipped;
	int64_t items_deleted, objects_deleted, originals_deleted, photos_deleted;
	char *prefix;   /* reprocess */
	char *code;     /* erase */
	char *position; /* where the current phase resumes; NULL: its start */
	char *error;
};

void pf_admin_job_free(struct pf_admin_job *job);
void pf_admin_job_copy(struct pf_admin_job *dst, const struct pf_admin_job *src);
const char *pf_admin_job_kind_name(enum pf_admin_job_kind kind);
const char *pf_admin_job_state_name(enum pf_admin_job_state state);
/* How far it got, for progress bars: queued, deleted objects/items/photos. */
int64_t pf_admin_job_done(const struct pf_admin_job *job);
/* "<yyyymmddThhmmssZ>-<kind>-<6 hex>": sorts by start time. */
void pf_admin_job_make_id(enum pf_admin_job_kind kind, int64_t now_ms, const unsigned char rnd[3],
                          char out[PF_CATALOG_JOB_ID_MAX + 1]);
/* The job as the admin API shows it (new reference); stored adds what only
 * the runner needs (position). */
json_t *pf_admin_job_json(const struct pf_admin_job *job, int64_t now_ms, bool stored);
/* Reads a stored job; PF_EINVAL when it is not one. */
int pf_admin_job_parse(const char *doc, struct pf_admin_job *out, struct pf_error *err);
/* Whether a running job has gone unwritten for longer than stale_ms. */
bool pf_admin_job_is_stale(const struct pf_admin_job *job, int64_t now_ms, int64_t stale_ms);

#endif
