/*
 * The operators' records in the catalog: jobs (so any task reports any job
 * and a job outlives its task), the audit trail, the fence a clear raises
 * against photo writes, and the photo counts (declared in catalog.h, which its writes keep). Stored
 * in the race's table beside the photos; a clear deletes photos only, never these. How they are
 * stored is the catalog's business; the admin module owns what a job or an
 * audit entry says (JSON text, opaque here).
 *
 * Loop thread only, with the AWS client's callback contract: when an
 * operation returns an error its callback never runs, otherwise it runs
 * exactly once. The pure helpers run on any thread.
 */
#ifndef PHOTOFINISH_CATALOG_ADMIN_H
#define PHOTOFINISH_CATALOG_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/catalog.h"
#include "photofinish/error.h"

#define PF_CATALOG_JOB_ID_MAX 64
/* Jobs listed at most at once. */
#define PF_CATALOG_MAX_JOBS 100
/* Bytes of one job's or audit entry's text. */
#define PF_CATALOG_MAX_DOC 16384

/* A job as stored: what takeover needs, and the rest as text. */
struct pf_catalog_job {
	char id[PF_CATALOG_JOB_ID_MAX + 1]; /* sorts by start time */
	int64_t version;                    /* bumped by every write */
	bool running;
	int64_t updated_ms; /* epoch ms of the last write */
	char *doc;          /* the job (JSON text); its shape is the admin module's */
};

void pf_catalog_job_free(struct pf_catalog_job *job);
/* Whether s can be a job id (1-64 of A-Z a-z 0-9 _ . -). */
bool pf_catalog_job_id_is_valid(const char *s);

typedef void (*pf_catalog_admin_done_cb)(const struct pf_error *err, void *arg);

/* Writes a job whose stored version is job->version - 1 (none when
 * job->version is 1). PF_ECONFLICT: another task wrote it meanwhile (it
 * took the job over, or took it first). expires_s: epoch seconds after
 * which DynamoDB's TTL may delete it. */
int pf_catalog_job_put(struct pf_catalog *cat, const struct pf_catalog_job *job, int64_t expires_s,
                       pf_catalog_admin_done_cb cb, void *arg, struct pf_error *err);

/* job is NULL (with err->code 0) when there is none. Borrowed. */
typedef void (*pf_catalog_job_cb)(const struct pf_catalog_job *job, const struct pf_error *err,
                                  void *arg);
int pf_catalog_job_get(struct pf_catalog *cat, const char *id, pf_catalog_job_cb cb, void *arg,
                       struct pf_error *err);

/* The most recent jobs, newest first (at most limit, 1 to PF_CATALOG_MAX_JOBS). Borrowed. */
typedef void (*pf_catalog_jobs_cb)(const struct pf_catalog_job *jobs, size_t n,
                                   const struct pf_error *err, void *arg);
int pf_catalog_job_list(struct pf_catalog *cat, int limit, pf_catalog_jobs_cb cb, void *arg,
                        struct pf_error *err);

/* Appends an audit entry (JSON text) at at_ms. */
int pf_catalog_audit_add(struct pf_catalog *cat, int64_t at_ms, const char *doc,
                         pf_catalog_admin_done_cb cb, void *arg, struct pf_error *err);
/* A page of the audit trail, newest first; next_cursor NULL on the last.
 * PF_EINVAL when the cursor is malformed. Borrowed. */
typedef void (*pf_catalog_audit_cb)(char *const *docs, size_t n, const char *next_cursor,
                                    const struct pf_error *err, void *arg);
int pf_catalog_audit_list(struct pf_catalog *cat, int limit, const char *cursor,
                          pf_catalog_audit_cb cb, void *arg, struct pf_error *err);

/* The fence: while it is up, no photo can be written (every photo write is
 * conditioned on its absence). Raising it again with the same job is
 * allowed (a job taken over); PF_ECONFLICT when another job holds it.
 * Lowering a fence held by another job (or none) changes nothing. */
int pf_catalog_fence_raise(struct pf_catalog *cat, const char *job_id, pf_catalog_admin_done_cb cb,
                           void *arg, struct pf_error *err);
int pf_catalog_fence_lower(struct pf_catalog *cat, const char *job_id, pf_catalog_admin_done_cb cb,
                           void *arg, struct pf_error *err);

/* Whether the fence is up now (a consistent read). */
typedef void (*pf_catalog_fence_cb)(bool up, const struct pf_error *err, void *arg);
int pf_catalog_fence_is_up(struct pf_catalog *cat, pf_catalog_fence_cb cb, void *arg,
                           struct pf_error *err);

#endif
