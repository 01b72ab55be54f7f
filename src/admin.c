/*
 * Operator actions over the catalog, S3 and SQS. Loop thread only.
 * Reprocessing goes through the queue (one synthetic S3 event per object),
 * so every task shares the work and the usual guarantees apply; clearing a
 * race deletes the catalog and the processed bucket but never the originals.
 */
#include "photofinish/admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/s3.h"
#include "photofinish/aws/sqs.h"
#include "photofinish/config.h"
#include "photofinish/consumer.h"
#include "photofinish/events.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

/* Jobs kept for their progress to be read, and how many may run at once. */
#define MAX_JOBS 32
#define MAX_RUNNING_JOBS 4

enum job_kind { JOB_REPROCESS, JOB_CLEAR };
enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };

struct job {
	struct pf_admin *admin;
	char id[24];
	enum job_kind kind;
	enum job_state state;
	char error[512];
	int64_t started_ms, finished_ms;
	/* reprocess */
	int64_t listed, queued, skipped;
	/* clear */
	int64_t items_deleted, objects_deleted;
	/* paging */
	char *token;
	char *clear_from; /* where the catalog's next clearing step starts */
	bool objects_phase;
	/* the batch being sent (reprocess) */
	char *bodies[PF_SQS_MAX_BATCH];
	size_t nbodies;
};

struct pf_admin {
	struct pf_admin_deps d;
	struct job *jobs[MAX_JOBS];
	size_t njobs;
	unsigned next_job;
	bool closing;
};

int pf_admin_new(const struct pf_admin_deps *deps, struct pf_admin **out, struct pf_error *err)
{
	struct pf_admin *admin = pf_xcalloc(1, sizeof(*admin));

	admin->d = *deps;
	*out = admin;
	return 0;
}

static void job_free(struct job *job)
{
	free(job->token);
	free(job->clear_from);
	for (size_t i = 0; i < job->nbodies; i++)
		free(job->bodies[i]);
	free(job);
}

void pf_admin_free(struct pf_admin *admin)
{
	if (!admin)
		return;
	for (size_t i = 0; i < admin->njobs; i++) {
		/* A running job is owned by its request in flight, which the AWS
		 * client cancels; it frees itself then. */
		if (admin->jobs[i]->state == JOB_RUNNING)
			admin->jobs[i]->admin = NULL;
		else
			job_free(admin->jobs[i]);
	}
	free(admin);
}

json_t *pf_admin_image_json(const struct pf_catalog_image *img)
{
	static const char *const status[] = {"processed", "failed", "deleted"};
	json_t *codes = json_array();

	for (size_t i = 0; i < img->ncodes; i++)
		json_array_append_new(codes, json_string(img->codes[i]));
	return json_pack("{s:s,s:s,s:I,s:s?,s:s?,s:s?,s:I,s:o,s:s,s:s?,s:s?,s:i,s:i,s:i,s:i,s:s?,"
	                 "s:s?,s:s?,s:s?}",
	                 "id", img->id, "status", status[img->status], "version",
	                 (json_int_t)img->version, "bucket", img->bucket, "key", img->key, "etag",
	                 img->etag, "size", (json_int_t)img->size, "codes", codes, "codesSource",
	                 img->codes_manual ? "manual" : "detected", "fullsizeKey",
	                 img->fullsize_key, "thumbnailKey", img->thumbnail_key, "width", img->width,
	                 "height", img->height, "thumbnailWidth", img->thumbnail_width,
	                 "thumbnailHeight", img->thumbnail_height, "takenAt", img->taken_at,
	                 "processedAt", img->processed_at, "reason", img->reason, "message",
	                 img->message);
}

/* ---- single-photo actions ----------------------------------------------- */

struct action {
	struct pf_admin *admin;
	pf_admin_image_cb cb;
	void *arg;
	bool delete;
	char **codes;
	size_t ncodes;
	struct pf_catalog_image old;
	struct pf_catalog_image img;
};

static void action_finish(struct action *a, const struct pf_error *err)
{
	a->cb(err->code ? NULL : &a->img, err, a->arg);
	for (size_t i = 0; i < a->ncodes; i++)
		free(a->codes[i]);
	free(a->codes);
	pf_catalog_image_free(&a->old);
	pf_catalog_image_free(&a->img);
	free(a);
}

static void notify(struct pf_admin *admin, const struct pf_catalog_image *img)
{
	if (admin->d.on_codes_changed && img->ncodes)
		admin->d.on_codes_changed(admin->d.arg, img->codes, img->ncodes);
}

static void on_source_deleted(const struct pf_error *err, void *arg)
{
	struct action *a = arg;

	if (err->code)
		pf_warn("photo deleted but its original could not be", PF_LS("key", a->img.key),
		        PF_LS("error", err->message));
	pf_info("photo deleted by an operator", PF_LS("id", a->img.id), PF_LS("key", a->img.key));
	action_finish(a, &(struct pf_error){0});
}

static void on_action_written(const struct pf_error *err, void *arg)
{
	struct action *a = arg;
	struct pf_error e;

	if (err->code) {
		struct pf_error c = *err;

		if (c.code == PF_ECONFLICT)
			pf_error_set(&c, PF_ECONFLICT, "the photo changed meanwhile; try again");
		action_finish(a, &c);
		return;
	}
	notify(a->admin, &a->old);
	notify(a->admin, &a->img);
	if (!a->delete) {
		pf_info("codes set by an operator", PF_LS("id", a->img.id),
		        PF_LS("key", a->img.key), PF_LI("codes", a->img.ncodes));
		action_finish(a, err);
		return;
	}
	if (!a->img.bucket || !a->img.key ||
	    pf_s3_delete_object(a->admin->d.aws, a->img.bucket, a->img.key, on_source_deleted, a,
	                        &e) < 0)
		on_source_deleted(&(struct pf_error){0}, a);
}

/* Writes the action's image (a tombstone for a delete) over the one read. */
static void write_action(struct action *a)
{
	struct pf_admin *admin = a->admin;
	struct pf_error err;
	char now[32];
	int rc;

	pf_format_rfc3339_ms(pf_now_ms(), now);
	a->img.version = a->old.version + 1;
	free(a->img.processed_at);
	a->img.processed_at = pf_xstrdup(now);
	if (a->delete) {
		pf_catalog_image_make_tombstone(&a->img);
		rc = pf_catalog_delete_photo(admin->d.catalog, admin->d.cfg->processed_bucket,
		                             &a->img, &a->old, on_action_written, a, &err);
	} else {
		rc = pf_catalog_write(admin->d.catalog, &a->img, &a->old, on_action_written, a,
		                      &err);
	}
	if (rc < 0)
		action_finish(a, &err);
}

static void on_action_read(const struct pf_catalog_image *img, const struct pf_error *err,
                           void *arg)
{
	struct action *a = arg;
	struct pf_error e;

	if (err->code) {
		action_finish(a, err);
		return;
	}
	if (!img || img->status == PF_IMAGE_DELETED) {
		pf_error_set(&e, PF_ENOTFOUND, "no such photo");
		action_finish(a, &e);
		return;
	}
	pf_catalog_image_copy(&a->old, img);
	pf_catalog_image_copy(&a->img, img);
	if (a->delete) {
		write_action(a);
		return;
	}
	if (img->status != PF_IMAGE_PROCESSED) {
		pf_error_set(&e, PF_EINVAL,
		             "the photo was not processed (%s); fix the original instead",
		             img->reason ? img->reason : "failed");
		action_finish(a, &e);
		return;
	}
	for (size_t i = 0; i < a->img.ncodes; i++)
		free(a->img.codes[i]);
	free(a->img.codes);
	a->img.codes = a->codes;
	a->img.ncodes = a->ncodes;
	a->codes = NULL;
	a->ncodes = 0;
	a->img.codes_manual = true;
	write_action(a);
}

static int start_action(struct pf_admin *admin, const char *id, bool delete, char *const *codes,
                        size_t n, pf_admin_image_cb cb, void *arg, struct pf_error *err)
{
	struct action *a;
	int rc;

	if (!pf_catalog_id_is_valid(id))
		return pf_error_set(err, PF_ENOTFOUND, "no such photo");
	if (n > PF_CATALOG_MAX_CODES)
		return pf_error_set(err, PF_EINVAL, "at most %d codes per photo",
		                    PF_CATALOG_MAX_CODES);
	a = pf_xcalloc(1, sizeof(*a));
	a->admin = admin;
	a->cb = cb;
	a->arg = arg;
	a->delete = delete;
	a->codes = n ? pf_xcalloc(n, sizeof(char *)) : NULL;
	for (size_t i = 0; i < n; i++)
		a->codes[a->ncodes++] = pf_xstrdup(codes[i]);
	rc = pf_catalog_get(admin->d.catalog, id, on_action_read, a, err);
	if (rc < 0) {
		for (size_t i = 0; i < a->ncodes; i++)
			free(a->codes[i]);
		free(a->codes);
		free(a);
	}
	return rc;
}

int pf_admin_set_codes(struct pf_admin *admin, const char *id, char *const *codes, size_t n,
                       pf_admin_image_cb cb, void *arg, struct pf_error *err)
{
	return start_action(admin, id, false, codes, n, cb, arg, err);
}

int pf_admin_delete_image(struct pf_admin *admin, const char *id, pf_admin_image_cb cb, void *arg,
                          struct pf_error *err)
{
	return start_action(admin, id, true, NULL, 0, cb, arg, err);
}

/* ---- background jobs ----------------------------------------------------- */

static json_t *job_json(const struct job *job)
{
	static const char *const states[] = {"running", "done", "failed"};
	json_t *j =
	    json_pack("{s:s,s:s,s:s,s:I}", "id", job->id, "kind",
	              job->kind == JOB_REPROCESS ? "reprocess" : "clear", "state",
	              states[job->state], "seconds",
	              (json_int_t)(((job->finished_ms ? job->finished_ms : pf_monotonic_ms()) -
	                            job->started_ms) /
	                           1000));

	if (job->kind == JOB_REPROCESS) {
		json_object_set_new(j, "listed", json_integer(job->listed));
		json_object_set_new(j, "queued", json_integer(job->queued));
		json_object_set_new(j, "skipped", json_integer(job->skipped));
	} else {
		json_object_set_new(j, "itemsDeleted", json_integer(job->items_deleted));
		json_object_set_new(j, "objectsDeleted", json_integer(job->objects_deleted));
	}
	if (job->state == JOB_FAILED)
		json_object_set_new(j, "error", json_string(job->error));
	return j;
}

static void job_end(struct job *job, const struct pf_error *err)
{
	job->finished_ms = pf_monotonic_ms();
	job->state = err && err->code ? JOB_FAILED : JOB_DONE;
	if (err && err->code)
		snprintf(job->error, sizeof(job->error), "%s", err->message);
	pf_log(job->state == JOB_DONE ? PF_LOG_INFO : PF_LOG_WARN, "admin job finished",
	       PF_LS("job", job->id),
	       PF_LS("kind", job->kind == JOB_REPROCESS ? "reprocess" : "clear"),
	       PF_LS("state", job->state == JOB_DONE ? "done" : "failed"),
	       PF_LS("error", err && err->code ? err->message : NULL));
	if (!job->admin) /* the admin went away while this ran */
		job_free(job);
}

/* Whether a callback arrived after shutdown began: then the job only ends. */
static bool job_abandoned(struct job *job, const struct pf_error *err)
{
	if (job->admin && err->code != PF_ECANCELED)
		return false;
	job_end(job, err);
	return true;
}

/* Whether the job goes on after a step: false once it ended (the step
 * failed, or shutdown cancelled it). */
static bool job_continues(struct job *job, const struct pf_error *err)
{
	if (job_abandoned(job, err))
		return false;
	if (err->code) {
		job_end(job, err);
		return false;
	}
	return true;
}

/* Keeps where the next listing page starts (NULL: this was the last). */
static void job_take_token(struct job *job, const struct pf_s3_list_page *page)
{
	free(job->token);
	job->token =
	    page->next_continuation_token ? pf_xstrdup(page->next_continuation_token) : NULL;
}

static struct job *job_new(struct pf_admin *admin, enum job_kind kind)
{
	struct job *job;
	size_t running = 0;

	for (size_t i = 0; i < admin->njobs; i++)
		running += admin->jobs[i]->state == JOB_RUNNING;
	if (running >= MAX_RUNNING_JOBS)
		return NULL;
	job = pf_xcalloc(1, sizeof(*job));

	job->admin = admin;
	job->kind = kind;
	job->state = JOB_RUNNING;
	job->started_ms = pf_monotonic_ms();
	snprintf(job->id, sizeof(job->id), "%s-%u-%lld",
	         kind == JOB_REPROCESS ? "reprocess" : "clear", ++admin->next_job,
	         (long long)(pf_now_ms() % 100000));
	if (admin->njobs == MAX_JOBS) {
		/* Forget the oldest finished job; running ones stay listed. */
		for (size_t i = 0; i < admin->njobs; i++) {
			if (admin->jobs[i]->state != JOB_RUNNING) {
				job_free(admin->jobs[i]);
				memmove(&admin->jobs[i], &admin->jobs[i + 1],
				        (admin->njobs - i - 1) * sizeof(admin->jobs[0]));
				admin->njobs--;
				break;
			}
		}
	}
	/* Room exists: at most MAX_RUNNING_JOBS of MAX_JOBS are running. */
	admin->jobs[admin->njobs++] = job;
	return job;
}

json_t *pf_admin_job(struct pf_admin *admin, const char *id)
{
	for (size_t i = 0; i < admin->njobs; i++) {
		if (!strcmp(admin->jobs[i]->id, id))
			return job_json(admin->jobs[i]);
	}
	return NULL;
}

/* reprocess: list the ingress bucket page by page, one queue message per photo */

static void reprocess_list_next(struct job *job);

static void on_reprocess_sent(const struct pf_sqs_batch_result *res, const struct pf_error *err,
                              void *arg)
{
	struct job *job = arg;

	for (size_t i = 0; i < job->nbodies; i++)
		free(job->bodies[i]);
	job->nbodies = 0;
	if (!job_continues(job, err))
		return;
	job->queued += (int64_t)(res->n - res->nfailed);
	job->skipped += (int64_t)res->nfailed;
	reprocess_list_next(job);
}

/* The S3 event S3 would have sent for o, marked to be processed again. */
static char *reprocess_event(const struct pf_config *cfg, const struct pf_s3_object *o)
{
	char when[32];
	struct pf_object_event ev = {.kind = PF_EVENT_CREATED,
	                             .bucket = cfg->ingress_bucket,
	                             .key = o->key,
	                             .size = o->size,
	                             .event_time = when,
	                             .force = true};
	char *body;

	/* The upload time stands in for the event time, so photos without a
	 * capture time keep their place. */
	pf_format_rfc3339_ms(o->last_modified * 1000, when);
	ev.etag = pf_events_bare_etag(o->etag ? o->etag : "");
	body = pf_events_format(&ev);
	free(ev.etag);
	return body;
}

static void on_reprocess_page(const struct pf_s3_list_page *page, const struct pf_error *err,
                              void *arg)
{
	struct job *job = arg;
	struct pf_admin *admin = job->admin;
	struct pf_sqs_batch_entry entries[PF_SQS_MAX_BATCH];
	char ids[PF_SQS_MAX_BATCH][24];
	struct pf_error e;

	if (!job_continues(job, err))
		return;
	job_take_token(job, page);
	/* Pages are asked for 10 keys at a time: one SendMessageBatch each. */
	for (size_t i = 0; i < page->nobjects && job->nbodies < PF_SQS_MAX_BATCH; i++) {
		job->listed++;
		if (!pf_consumer_key_is_wanted(page->objects[i].key,
		                               admin->d.cfg->ingress_prefix)) {
			job->skipped++;
			continue;
		}
		job->bodies[job->nbodies++] = reprocess_event(admin->d.cfg, &page->objects[i]);
	}
	if (job->nbodies == 0) {
		if (job->token)
			reprocess_list_next(job);
		else
			job_end(job, NULL);
		return;
	}
	for (size_t i = 0; i < job->nbodies; i++) {
		snprintf(ids[i], sizeof(ids[i]), "m%zu", i);
		entries[i] = (struct pf_sqs_batch_entry){.id = ids[i], .body = job->bodies[i]};
	}
	if (pf_sqs_send_message_batch(admin->d.aws, admin->d.cfg->queue_url, entries, job->nbodies,
	                              on_reprocess_sent, job, &e) < 0)
		job_end(job, &e);
}

static void reprocess_list_next(struct job *job)
{
	struct pf_s3_list_options opts = {0};
	struct pf_error err;

	if (job->listed > 0 && !job->token) {
		job_end(job, NULL);
		return;
	}
	opts.prefix = job->admin->d.cfg->ingress_prefix && *job->admin->d.cfg->ingress_prefix
	                  ? job->admin->d.cfg->ingress_prefix
	                  : NULL;
	opts.continuation_token = job->token;
	opts.max_keys = PF_SQS_MAX_BATCH;
	if (pf_s3_list_objects(job->admin->d.aws, job->admin->d.cfg->ingress_bucket, &opts,
	                       on_reprocess_page, job, &err) < 0)
		job_end(job, &err);
}

json_t *pf_admin_start_reprocess(struct pf_admin *admin)
{
	struct job *job = job_new(admin, JOB_REPROCESS);

	if (!job)
		return NULL;
	pf_info("admin job started", PF_LS("job", job->id), PF_LS("kind", "reprocess"));
	reprocess_list_next(job);
	return job_json(job);
}

/* clear: every catalog item, then every processed object */

static void clear_next(struct job *job);

static void on_items_deleted(size_t deleted, const char *next, const struct pf_error *err,
                             void *arg)
{
	struct job *job = arg;

	if (!job_continues(job, err))
		return;
	job->items_deleted += (int64_t)deleted;
	free(job->clear_from);
	job->clear_from = next ? pf_xstrdup(next) : NULL;
	if (!next)
		job->objects_phase = true;
	clear_next(job);
}

static void on_objects_deleted(const struct pf_s3_delete_result *res, const struct pf_error *err,
                               void *arg)
{
	struct job *job = arg;

	if (!job_continues(job, err))
		return;
	job->objects_deleted += (int64_t)res->ndeleted;
	if (res->nerrors) {
		struct pf_error e;

		pf_error_set(&e, PF_EAWS, "S3 refused to delete %zu processed objects (first: %s)",
		             res->nerrors, res->errors[0].code ? res->errors[0].code : "?");
		job_end(job, &e);
		return;
	}
	if (!job->token) {
		if (job->admin->d.on_codes_changed)
			job->admin->d.on_codes_changed(job->admin->d.arg, NULL, 0);
		job_end(job, NULL);
		return;
	}
	clear_next(job);
}

static void on_processed_page(const struct pf_s3_list_page *page, const struct pf_error *err,
                              void *arg)
{
	struct job *job = arg;
	const char **keys;
	struct pf_error e;

	if (!job_continues(job, err))
		return;
	job_take_token(job, page);
	keys = pf_xcalloc(page->nobjects + 1, sizeof(char *));
	for (size_t i = 0; i < page->nobjects; i++)
		keys[i] = page->objects[i].key;
	if (pf_s3_delete_objects(job->admin->d.aws, job->admin->d.cfg->processed_bucket, keys,
	                         page->nobjects, on_objects_deleted, job, &e) < 0)
		job_end(job, &e);
	free(keys);
}

static void clear_next(struct job *job)
{
	struct pf_admin *admin = job->admin;
	struct pf_error err;
	int rc;

	if (!job->objects_phase) {
		rc = pf_catalog_clear_step(admin->d.catalog, job->clear_from, on_items_deleted, job,
		                           &err);
	} else {
		struct pf_s3_list_options opts = {.continuation_token = job->token};

		rc = pf_s3_list_objects(admin->d.aws, admin->d.cfg->processed_bucket, &opts,
		                        on_processed_page, job, &err);
	}
	if (rc < 0)
		job_end(job, &err);
}

json_t *pf_admin_start_clear(struct pf_admin *admin)
{
	struct job *job = job_new(admin, JOB_CLEAR);

	if (!job)
		return NULL;
	pf_warn("admin job started", PF_LS("job", job->id), PF_LS("kind", "clear"));
	clear_next(job);
	return job_json(job);
}
