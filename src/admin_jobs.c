/*
 * Admin jobs kept in the catalog, taken over when their task goes away.
 * The record helpers are pure; the runner is loop thread only.
 *
 * A run is one job this task is running: one AWS call at a time, each
 * step's callback updating the counters and the position, then (every 2 s
 * or at a phase change) a versioned write of the record before the next
 * step. Phases:
 *   reprocess  counting (list the ingress bucket: total) → queueing (list
 *              again, one SQS message per photo)
 *   clear      catalog (photo items) → variants (processed bucket)
 *   reset      originals (ingress bucket) → catalog → variants
 *   erase      counting (the code's photos) → photos (delete each) → claims
 *              (its pending claims rejected)
 */
#include "photofinish/admin_jobs.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "photofinish/admin_audit.h"
#include "photofinish/aws/s3.h"
#include "photofinish/aws/sqs.h"
#include "photofinish/catalog.h"
#include "photofinish/catalog_claims.h"
#include "photofinish/config.h"
#include "photofinish/consumer.h"
#include "photofinish/events.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

/* Progress is written at least this often while a job moves. */
#define SAVE_INTERVAL_MS 2000
/* Jobs stay in the catalog this long (DynamoDB TTL). */
#define JOB_TTL_SECONDS (30 * 24 * 3600)
#define LIST_PAGE 1000
#define ERASE_PAGE 25
/* Jobs looked at per takeover round. */
#define TAKEOVER_SCAN 50

static char *xdup(const char *s)
{
	return s ? pf_xstrdup(s) : NULL;
}

/* ---- the runner -------------------------------------------------------------- */

struct run;

struct pf_admin_jobs {
	struct pf_admin_jobs_deps d;
	struct run *runs;
	struct event *takeover;
	bool scanning;
};

struct run {
	struct pf_admin_jobs *jobs; /* NULL once the runner went away: the run only ends */
	struct pf_admin_job job;
	int64_t version;
	int64_t saved_mono;
	char saved_phase[16];
	bool fence; /* clear/reset: the fence is up for this job */
	/* a reprocess page being queued: event bodies, sent 10 at a time */
	char **bodies;
	size_t nbodies, sent;
	char *next_position; /* the page's continuation, adopted once it is done */
	int64_t page_listed, page_skipped;
	/* erase: the page of photos being deleted */
	char (*ids)[PF_CATALOG_ID_LEN + 1];
	size_t nids, deleting, deleted_in_page;
	/* erase: the page's pending claims of the code, being rejected */
	struct pf_catalog_claim *claims;
	size_t nclaims, rejecting;
	struct run *next;
};

static void run_next(struct run *run);
static void run_finish(struct run *run, enum pf_admin_job_state state, const char *error);

static void run_unlink(struct run *run)
{
	if (!run->jobs)
		return;
	for (struct run **p = &run->jobs->runs; *p; p = &(*p)->next) {
		if (*p == run) {
			*p = run->next;
			break;
		}
	}
}

static void run_free_page(struct run *run)
{
	free(run->claims);
	run->claims = NULL;
	run->nclaims = run->rejecting = 0;
	for (size_t i = 0; i < run->nbodies; i++)
		free(run->bodies[i]);
	free(run->bodies);
	run->bodies = NULL;
	run->nbodies = run->sent = 0;
	free(run->next_position);
	run->next_position = NULL;
	free(run->ids);
	run->ids = NULL;
	run->nids = run->deleting = run->deleted_in_page = 0;
}

static void run_free(struct run *run)
{
	run_unlink(run);
	run_free_page(run);
	pf_admin_job_free(&run->job);
	free(run);
}

static size_t running_here(const struct pf_admin_jobs *jobs)
{
	size_t n = 0;

	for (const struct run *r = jobs->runs; r; r = r->next)
		n++;
	return n;
}

static bool runs_here(const struct pf_admin_jobs *jobs, const char *id)
{
	for (const struct run *r = jobs->runs; r; r = r->next) {
		if (!strcmp(r->job.id, id))
			return true;
	}
	return false;
}

/* The stored record of the run's job, version bumped. */
static struct pf_catalog_job record_of(struct run *run, char **text)
{
	json_t *doc = pf_admin_job_json(&run->job, pf_now_ms(), true);
	struct pf_catalog_job rec = {0};

	*text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	snprintf(rec.id, sizeof(rec.id), "%s", run->job.id);
	rec.version = run->version + 1;
	rec.running = run->job.state == PF_ADMIN_JOB_RUNNING;
	rec.updated_ms = run->job.updated_ms;
	rec.doc = *text;
	return rec;
}

typedef void (*saved_fn)(struct run *run, const struct pf_error *err);

struct save_ctx {
	struct run *run;
	saved_fn then;
	char *text;
};

static void on_saved(const struct pf_error *err, void *arg)
{
	struct save_ctx *s = arg;
	struct run *run = s->run;

	free(s->text);
	if (!err->code) {
		run->version++;
		run->saved_mono = pf_monotonic_ms();
		snprintf(run->saved_phase, sizeof(run->saved_phase), "%s", run->job.phase);
	}
	s->then(run, err);
	free(s);
}

/* Writes the record, then calls then (with the write's error). */
static void run_save(struct run *run, saved_fn then)
{
	struct save_ctx *s = pf_xcalloc(1, sizeof(*s));
	struct pf_catalog_job rec;
	struct pf_error err;

	s->run = run;
	s->then = then;
	run->job.updated_ms = pf_now_ms();
	rec = record_of(run, &s->text);
	if (pf_catalog_job_put(run->jobs->d.catalog, &rec, pf_now_ms() / 1000 + JOB_TTL_SECONDS,
	                       on_saved, s, &err) < 0) {
		free(s->text);
		free(s);
		then(run, &err);
	}
}

/* Whether a callback arrived after the runner went away or was cancelled
 * by shutdown: then the run only ends, and the job stays running in the
 * catalog for another task to take over. */
static bool run_stops(struct run *run, const struct pf_error *err)
{
	if (run->jobs && !(err && err->code == PF_ECANCELED))
		return false;
	run_free(run);
	return true;
}

static void after_save(struct run *run, const struct pf_error *err)
{
	if (run_stops(run, err))
		return;
	if (err->code == PF_ECONFLICT) {
		/* Another task took the job over (this one was thought gone). */
		pf_warn("admin job lost to another task", PF_LS("job", run->job.id));
		run_free(run);
		return;
	}
	if (err->code)
		pf_warn("admin job progress not saved", PF_LS("job", run->job.id),
		        PF_LS("error", err->message));
	run_next(run);
}

/* After a step: fail on its error, else save when due and go on. */
static void step_done(struct run *run, const struct pf_error *err)
{
	if (run_stops(run, err))
		return;
	if (err && err->code) {
		run_finish(run, PF_ADMIN_JOB_FAILED, err->message);
		return;
	}
	if (strcmp(run->saved_phase, run->job.phase) ||
	    pf_monotonic_ms() - run->saved_mono >= SAVE_INTERVAL_MS)
		run_save(run, after_save);
	else
		run_next(run);
}

/* At the start of a step's callback: true when the run stops here (it went
 * away, or the step failed and the run ended with its error). */
static bool step_failed(struct run *run, const struct pf_error *err)
{
	if (run_stops(run, err))
		return true;
	if (err->code) {
		step_done(run, err);
		return true;
	}
	return false;
}

static void set_phase(struct run *run, const char *phase)
{
	snprintf(run->job.phase, sizeof(run->job.phase), "%s", phase);
	free(run->job.position);
	run->job.position = NULL;
}

static void take_position(struct run *run, const char *next)
{
	free(run->job.position);
	run->job.position = next ? pf_xstrdup(next) : NULL;
}

/* ---- ending ---- */

static void on_final_saved(struct run *run, const struct pf_error *err)
{
	json_t *entry;
	char action[32];

	if (err->code && run->jobs)
		pf_warn("admin job end not saved", PF_LS("job", run->job.id),
		        PF_LS("error", err->message));
	if (run->jobs) {
		snprintf(action, sizeof(action), "%s.finished",
		         pf_admin_job_kind_name(run->job.kind));
		entry = pf_admin_audit_entry(pf_now_ms(), run->job.by, run->job.client, action,
		                             pf_admin_job_state_name(run->job.state));
		json_object_set_new(entry, "job", json_string(run->job.id));
		if (run->job.kind == PF_ADMIN_JOB_ERASE) {
			json_object_set_new(entry, "code", json_string(run->job.code));
			json_object_set_new(entry, "count", json_integer(run->job.photos_deleted));
		} else {
			json_object_set_new(entry, "count",
			                    json_integer(pf_admin_job_done(&run->job)));
		}
		if (run->job.error)
			json_object_set_new(entry, "error", json_string(run->job.error));
		pf_admin_audit_record(run->jobs->d.catalog, entry);
		pf_log(run->job.state == PF_ADMIN_JOB_DONE ? PF_LOG_INFO : PF_LOG_WARN,
		       "admin job finished", PF_LS("job", run->job.id),
		       PF_LS("kind", pf_admin_job_kind_name(run->job.kind)),
		       PF_LS("state", pf_admin_job_state_name(run->job.state)),
		       PF_LS("error", run->job.error));
		if (run->job.kind != PF_ADMIN_JOB_REPROCESS && run->jobs->d.on_codes_changed)
			run->jobs->d.on_codes_changed(run->jobs->d.arg, NULL, 0);
	}
	run_free(run);
}

static void on_fence_lowered(const struct pf_error *err, void *arg)
{
	struct run *run = arg;

	if (err->code)
		pf_error_log("the clearing fence could not be lowered; photos wait until it is",
		             PF_LS("job", run->job.id), PF_LS("error", err->message));
	if (run->jobs)
		run_save(run, on_final_saved);
	else
		run_free(run);
}

static void run_finish(struct run *run, enum pf_admin_job_state state, const char *error)
{
	struct pf_error err;

	run->job.state = state;
	run->job.finished_ms = pf_now_ms();
	free(run->job.error);
	run->job.error = error ? pf_xstrdup(error) : NULL;
	/* Photos may be written again whatever became of the clear. */
	if (run->fence) {
		run->fence = false;
		if (pf_catalog_fence_lower(run->jobs->d.catalog, run->job.id, on_fence_lowered, run,
		                           &err) == 0)
			return;
		on_fence_lowered(&err, run);
		return;
	}
	run_save(run, on_final_saved);
}

/* ---- reprocess ---- */

static const char *reprocess_prefix(const struct run *run)
{
	const char *p = run->job.prefix ? run->job.prefix : run->jobs->d.cfg->ingress_prefix;

	return p && *p ? p : NULL;
}

static void on_counted(const struct pf_s3_list_page *page, const struct pf_error *err, void *arg)
{
	struct run *run = arg;

	if (!err->code && run->jobs) {
		if (run->job.total < 0)
			run->job.total = 0;
		for (size_t i = 0; i < page->nobjects; i++)
			run->job.total += pf_consumer_key_is_wanted(
			    page->objects[i].key, run->jobs->d.cfg->ingress_prefix);
		take_position(run, page->next_continuation_token);
		if (!page->next_continuation_token)
			set_phase(run, "queueing");
	}
	step_done(run, err);
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

static void send_batch(struct run *run);

static void after_batch_save(struct run *run, const struct pf_error *err)
{
	if (run_stops(run, err))
		return;
	if (err->code == PF_ECONFLICT) {
		pf_warn("admin job lost to another task", PF_LS("job", run->job.id));
		run_free(run);
		return;
	}
	send_batch(run);
}

static void page_queued(struct run *run)
{
	run->job.listed += run->page_listed;
	run->job.skipped += run->page_skipped;
	take_position(run, run->next_position);
	if (!run->next_position) {
		run_free_page(run);
		run_finish(run, PF_ADMIN_JOB_DONE, NULL);
		return;
	}
	run_free_page(run);
	step_done(run, NULL);
}

static void on_batch_sent(const struct pf_sqs_batch_result *res, const struct pf_error *err,
                          void *arg)
{
	struct run *run = arg;

	if (step_failed(run, err))
		return;
	run->job.queued += (int64_t)(res->n - res->nfailed);
	run->page_skipped += (int64_t)res->nfailed;
	/* Progress shows while a long page is queued. */
	if (pf_monotonic_ms() - run->saved_mono >= SAVE_INTERVAL_MS) {
		run_save(run, after_batch_save);
		return;
	}
	send_batch(run);
}

static void send_batch(struct run *run)
{
	struct pf_sqs_batch_entry entries[PF_SQS_MAX_BATCH];
	char ids[PF_SQS_MAX_BATCH][8];
	size_t n = 0;
	struct pf_error err;

	if (run_stops(run, NULL))
		return;
	if (run->sent == run->nbodies) {
		page_queued(run);
		return;
	}
	while (n < PF_SQS_MAX_BATCH && run->sent + n < run->nbodies) {
		snprintf(ids[n], sizeof(ids[n]), "m%zu", n);
		entries[n] =
		    (struct pf_sqs_batch_entry){.id = ids[n], .body = run->bodies[run->sent + n]};
		n++;
	}
	run->sent += n;
	if (pf_sqs_send_message_batch(run->jobs->d.aws, run->jobs->d.cfg->queue_url, entries, n,
	                              on_batch_sent, run, &err) < 0)
		step_done(run, &err);
}

static void on_reprocess_page(const struct pf_s3_list_page *page, const struct pf_error *err,
                              void *arg)
{
	struct run *run = arg;
	const struct pf_config *cfg;

	if (step_failed(run, err))
		return;
	cfg = run->jobs->d.cfg;
	run->bodies = pf_xcalloc(page->nobjects + 1, sizeof(char *));
	run->page_listed = (int64_t)page->nobjects;
	run->page_skipped = 0;
	for (size_t i = 0; i < page->nobjects; i++) {
		if (pf_consumer_key_is_wanted(page->objects[i].key, cfg->ingress_prefix))
			run->bodies[run->nbodies++] = reprocess_event(cfg, &page->objects[i]);
		else
			run->page_skipped++;
	}
	run->next_position =
	    page->next_continuation_token ? pf_xstrdup(page->next_continuation_token) : NULL;
	send_batch(run);
}

/* ---- clear / reset ---- */

static void on_deleted_objects(const struct pf_s3_delete_result *res, const struct pf_error *err,
                               void *arg)
{
	struct run *run = arg;
	struct pf_error e;

	if (run_stops(run, err))
		return;
	if (!strcmp(run->job.phase, "originals"))
		run->job.originals_deleted += (int64_t)res->ndeleted;
	else
		run->job.objects_deleted += (int64_t)res->ndeleted;
	if (!err->code && res->nerrors) {
		pf_error_set(&e, PF_EAWS, "S3 refused to delete %zu objects (first: %s)",
		             res->nerrors, res->errors[0].code ? res->errors[0].code : "?");
		step_done(run, &e);
		return;
	}
	step_done(run, err);
}

/* A page of what is left in the bucket: deleted, then the next page from
 * the start again (deleted keys are gone from listings); an empty page ends
 * the phase. */
static void on_bucket_page(const struct pf_s3_list_page *page, const struct pf_error *err,
                           void *arg)
{
	struct run *run = arg;
	bool originals;
	const char **keys;
	struct pf_error e;

	if (step_failed(run, err))
		return;
	originals = !strcmp(run->job.phase, "originals");
	if (page->nobjects == 0) {
		if (originals) {
			set_phase(run, "catalog");
			step_done(run, NULL);
		} else {
			run_finish(run, PF_ADMIN_JOB_DONE, NULL);
		}
		return;
	}
	keys = pf_xcalloc(page->nobjects + 1, sizeof(char *));
	for (size_t i = 0; i < page->nobjects; i++)
		keys[i] = page->objects[i].key;
	if (pf_s3_delete_objects(run->jobs->d.aws,
	                         originals ? run->jobs->d.cfg->ingress_bucket
	                                   : run->jobs->d.cfg->processed_bucket,
	                         keys, page->nobjects, on_deleted_objects, run, &e) < 0)
		step_done(run, &e);
	free(keys);
}

static void on_items_cleared(size_t deleted, const char *next, const struct pf_error *err,
                             void *arg)
{
	struct run *run = arg;

	if (!err->code && run->jobs) {
		run->job.items_deleted += (int64_t)deleted;
		if (next)
			take_position(run, next);
		else
			set_phase(run, "variants");
	}
	step_done(run, err);
}

/* ---- erase ---- */

static void on_code_counted(const struct pf_catalog_page *page, const struct pf_error *err,
                            void *arg)
{
	struct run *run = arg;

	if (!err->code && run->jobs) {
		if (run->job.total < 0)
			run->job.total = 0;
		run->job.total += (int64_t)page->count;
		take_position(run, page->next_cursor);
		if (!page->next_cursor)
			set_phase(run, "photos");
	}
	step_done(run, err);
}

static void delete_next_photo(struct run *run);

static void on_photo_deleted(const struct pf_catalog_image *img, const struct pf_error *err,
                             void *arg)
{
	struct run *run = arg;

	if (run_stops(run, err))
		return;
	/* Gone already (deleted meanwhile) is what was wanted. */
	if (err->code && err->code != PF_ENOTFOUND) {
		step_done(run, err);
		return;
	}
	if (!err->code) {
		run->job.photos_deleted++;
		run->deleted_in_page++;
	}
	delete_next_photo(run);
}

static void delete_next_photo(struct run *run)
{
	struct pf_error err;

	if (run->deleting == run->nids) {
		bool progress = run->deleted_in_page > 0;

		run_free_page(run);
		if (!progress) {
			/* The same entries again with nothing deleted: they would
			 * come back forever. */
			pf_error_set(&err, PF_EAWS,
			             "photos tagged %s are listed but cannot be deleted",
			             run->job.code);
			step_done(run, &err);
			return;
		}
		step_done(run, NULL);
		return;
	}
	if (run->jobs->d.delete_photo(run->jobs->d.delete_ctx, run->ids[run->deleting++],
	                              on_photo_deleted, run, &err) < 0) {
		if (err.code == PF_ENOTFOUND) {
			delete_next_photo(run);
			return;
		}
		step_done(run, &err);
	}
}

static void on_erase_page(const struct pf_catalog_page *page, const struct pf_error *err, void *arg)
{
	struct run *run = arg;

	if (step_failed(run, err))
		return;
	if (page->count == 0) {
		set_phase(run, "claims");
		step_done(run, NULL);
		return;
	}
	run->ids = pf_xcalloc(page->count, sizeof(*run->ids));
	for (size_t i = 0; i < page->count; i++)
		memcpy(run->ids[i], page->entries[i].id, PF_CATALOG_ID_LEN + 1);
	run->nids = page->count;
	run->deleting = run->deleted_in_page = 0;
	delete_next_photo(run);
}

/* Runners' pending claims of the erased code are rejected: approved later,
 * one would put the code back on a photo after the erasure. */
static void reject_next_claim(struct run *run);

static void on_claim_rejected(const struct pf_catalog_claim *claim, bool created,
                              const struct pf_error *err, void *arg)
{
	struct run *run = arg;

	if (run_stops(run, err))
		return;
	/* Decided meanwhile (approved or rejected by an operator): as it is. */
	if (err->code && err->code != PF_ECONFLICT && err->code != PF_ENOTFOUND) {
		step_done(run, err);
		return;
	}
	reject_next_claim(run);
}

static void reject_next_claim(struct run *run)
{
	struct pf_error err;

	if (run->rejecting == run->nclaims) {
		char *next = run->next_position;

		run->next_position = NULL;
		run_free_page(run);
		take_position(run, next);
		free(next);
		if (!run->job.position) {
			run_finish(run, PF_ADMIN_JOB_DONE, NULL);
			return;
		}
		step_done(run, NULL);
		return;
	}
	if (pf_catalog_claim_decide(run->jobs->d.catalog, &run->claims[run->rejecting++],
	                            PF_CLAIM_REJECTED, on_claim_rejected, run, &err) < 0)
		step_done(run, &err);
}

static void on_claims_page(const struct pf_catalog_claim *claims, size_t n, const char *next_cursor,
                           const struct pf_error *err, void *arg)
{
	struct run *run = arg;

	if (step_failed(run, err))
		return;
	run->claims = pf_xcalloc(n + 1, sizeof(*run->claims));
	for (size_t i = 0; i < n; i++)
		if (!strcmp(claims[i].code, run->job.code))
			run->claims[run->nclaims++] = claims[i];
	run->next_position = next_cursor ? pf_xstrdup(next_cursor) : NULL;
	run->rejecting = 0;
	reject_next_claim(run);
}

/* ---- stepping ---- */

static void run_next(struct run *run)
{
	struct pf_admin_jobs *jobs = run->jobs;
	const struct pf_config *cfg = jobs->d.cfg;
	const char *phase = run->job.phase;
	struct pf_error err;
	int rc;

	if (!strcmp(phase, "counting") && run->job.kind == PF_ADMIN_JOB_REPROCESS) {
		struct pf_s3_list_options o = {.prefix = reprocess_prefix(run),
		                               .continuation_token = run->job.position,
		                               .max_keys = LIST_PAGE};

		rc =
		    pf_s3_list_objects(jobs->d.aws, cfg->ingress_bucket, &o, on_counted, run, &err);
	} else if (!strcmp(phase, "queueing")) {
		struct pf_s3_list_options o = {.prefix = reprocess_prefix(run),
		                               .continuation_token = run->job.position,
		                               .max_keys = LIST_PAGE};

		rc = pf_s3_list_objects(jobs->d.aws, cfg->ingress_bucket, &o, on_reprocess_page,
		                        run, &err);
	} else if (!strcmp(phase, "originals") || !strcmp(phase, "variants")) {
		bool originals = !strcmp(phase, "originals");
		struct pf_s3_list_options o = {.prefix = originals && cfg->ingress_prefix &&
		                                                 *cfg->ingress_prefix
		                                             ? cfg->ingress_prefix
		                                             : NULL,
		                               .max_keys = LIST_PAGE};

		rc = pf_s3_list_objects(jobs->d.aws,
		                        originals ? cfg->ingress_bucket : cfg->processed_bucket, &o,
		                        on_bucket_page, run, &err);
	} else if (!strcmp(phase, "catalog")) {
		rc = pf_catalog_clear_step(jobs->d.catalog, run->job.position, on_items_cleared,
		                           run, &err);
	} else if (!strcmp(phase, "counting")) {
		struct pf_catalog_page_options o = {.limit = PF_CATALOG_MAX_PAGE,
		                                    .cursor = run->job.position};

		rc = pf_catalog_list_code(jobs->d.catalog, run->job.code, &o, on_code_counted, run,
		                          &err);
	} else if (!strcmp(phase, "claims")) {
		rc = pf_catalog_claims_list(jobs->d.catalog, PF_CLAIM_PENDING,
		                            PF_CATALOG_MAX_CLAIMS_PAGE, run->job.position,
		                            on_claims_page, run, &err);
	} else if (!strcmp(phase, "photos")) {
		struct pf_catalog_page_options o = {.limit = ERASE_PAGE};

		rc = pf_catalog_list_code(jobs->d.catalog, run->job.code, &o, on_erase_page, run,
		                          &err);
	} else {
		rc = pf_error_set(&err, PF_EINVAL, "unknown phase \"%s\"", phase);
	}
	if (rc < 0)
		run_finish(run, PF_ADMIN_JOB_FAILED, err.message);
}

static const char *first_phase(enum pf_admin_job_kind kind)
{
	switch (kind) {
	case PF_ADMIN_JOB_REPROCESS:
	case PF_ADMIN_JOB_ERASE:
		return "counting";
	case PF_ADMIN_JOB_CLEAR:
		return "catalog";
	default:
		return "originals";
	}
}

static bool needs_fence(enum pf_admin_job_kind kind)
{
	return kind == PF_ADMIN_JOB_CLEAR || kind == PF_ADMIN_JOB_RESET;
}

/* ---- starting ---- */

struct start_ctx {
	struct run *run;
	pf_admin_job_cb cb;
	void *arg;
};

static void start_fail(struct start_ctx *s, const struct pf_error *err)
{
	s->cb(NULL, err, s->arg);
	run_free(s->run);
	free(s);
}

static void ignore_done(const struct pf_error *err, void *arg)
{
}

static void on_start_saved(const struct pf_error *err, void *arg)
{
	struct start_ctx *s = arg;
	struct run *run = s->run;

	if (!run->jobs) {
		struct pf_error e;

		pf_error_set(&e, PF_ECANCELED, "the daemon is stopping");
		start_fail(s, &e);
		return;
	}
	if (err->code) {
		struct pf_error e = *err;

		/* A fence raised for nothing would hold photos back. */
		if (run->fence)
			pf_catalog_fence_lower(run->jobs->d.catalog, run->job.id, ignore_done, NULL,
			                       &e);
		start_fail(s, err);
		return;
	}
	run->version = 1;
	run->saved_mono = pf_monotonic_ms();
	snprintf(run->saved_phase, sizeof(run->saved_phase), "%s", run->job.phase);
	s->cb(&run->job, err, s->arg);
	free(s);
	pf_info("admin job started", PF_LS("job", run->job.id),
	        PF_LS("kind", pf_admin_job_kind_name(run->job.kind)), PF_LS("by", run->job.by));
	run_next(run);
}

static void save_first(struct start_ctx *s)
{
	struct pf_catalog_job rec;
	char *text;
	struct pf_error err;
	struct run *run = s->run;

	run->version = 0;
	rec = record_of(run, &text);
	if (pf_catalog_job_put(run->jobs->d.catalog, &rec, pf_now_ms() / 1000 + JOB_TTL_SECONDS,
	                       on_start_saved, s, &err) < 0)
		on_start_saved(&err, s);
	free(text);
}

static void on_fence_raised(const struct pf_error *err, void *arg)
{
	struct start_ctx *s = arg;

	if (err->code) {
		struct pf_error e = *err;

		if (e.code == PF_ECONFLICT)
			pf_error_set(
			    &e, PF_ECONFLICT,
			    "another clear or reset is running; see photofinish admin jobs");
		start_fail(s, &e);
		return;
	}
	s->run->fence = true;
	save_first(s);
}

static struct run *run_new(struct pf_admin_jobs *jobs)
{
	struct run *run = pf_xcalloc(1, sizeof(*run));

	run->jobs = jobs;
	run->next = jobs->runs;
	jobs->runs = run;
	return run;
}

int pf_admin_jobs_start(struct pf_admin_jobs *jobs, const struct pf_admin_job_request *req,
                        pf_admin_job_cb cb, void *arg, struct pf_error *err)
{
	unsigned char rnd[3];
	struct start_ctx *s;
	struct run *run;
	int64_t now = pf_now_ms();

	if (running_here(jobs) >= PF_ADMIN_JOB_MAX_RUNNING)
		return pf_error_set(
		    err, PF_ETOOBIG,
		    "%d admin jobs are running on this task; wait for one to finish",
		    PF_ADMIN_JOB_MAX_RUNNING);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return pf_error_set(err, PF_EIO, "no randomness for a job id");
	run = run_new(jobs);
	pf_admin_job_make_id(req->kind, now, rnd, run->job.id);
	run->job.kind = req->kind;
	run->job.state = PF_ADMIN_JOB_RUNNING;
	snprintf(run->job.phase, sizeof(run->job.phase), "%s", first_phase(req->kind));
	run->job.by = xdup(req->by);
	run->job.client = xdup(req->client);
	run->job.task = pf_xstrdup(jobs->d.task);
	run->job.attempts = 1;
	run->job.started_ms = run->job.updated_ms = now;
	run->job.total = -1;
	run->job.prefix = xdup(req->prefix);
	run->job.code = xdup(req->code);
	s = pf_xcalloc(1, sizeof(*s));
	s->run = run;
	s->cb = cb;
	s->arg = arg;
	if (needs_fence(req->kind)) {
		if (pf_catalog_fence_raise(jobs->d.catalog, run->job.id, on_fence_raised, s, err) <
		    0) {
			run_free(run);
			free(s);
			return err->code;
		}
		return 0;
	}
	save_first(s);
	return 0;
}

/* ---- reading ---- */

struct read_ctx {
	pf_admin_job_cb cb;
	pf_admin_jobs_list_cb list_cb;
	void *arg;
};

static void on_job_read(const struct pf_catalog_job *rec, const struct pf_error *err, void *arg)
{
	struct read_ctx *r = arg;
	struct pf_admin_job job;
	struct pf_error perr;

	if (err->code || !rec) {
		r->cb(NULL, err, r->arg);
	} else if (pf_admin_job_parse(rec->doc, &job, &perr) < 0) {
		r->cb(NULL, &perr, r->arg);
	} else {
		r->cb(&job, err, r->arg);
		pf_admin_job_free(&job);
	}
	free(r);
}

int pf_admin_jobs_get(struct pf_admin_jobs *jobs, const char *id, pf_admin_job_cb cb, void *arg,
                      struct pf_error *err)
{
	struct read_ctx *r = pf_xcalloc(1, sizeof(*r));
	int rc;

	r->cb = cb;
	r->arg = arg;
	rc = pf_catalog_job_get(jobs->d.catalog, id, on_job_read, r, err);
	if (rc < 0)
		free(r);
	return rc;
}

static struct pf_admin_job *parse_all(const struct pf_catalog_job *recs, size_t n, size_t *out)
{
	struct pf_admin_job *list = pf_xcalloc(n + 1, sizeof(*list));
	struct pf_error err;

	*out = 0;
	for (size_t i = 0; i < n; i++) {
		if (pf_admin_job_parse(recs[i].doc, &list[*out], &err) == 0)
			(*out)++;
	}
	return list;
}

static void on_jobs_listed(const struct pf_catalog_job *recs, size_t n, const struct pf_error *err,
                           void *arg)
{
	struct read_ctx *r = arg;
	size_t m = 0;
	struct pf_admin_job *list = err->code ? NULL : parse_all(recs, n, &m);

	r->list_cb(list, m, err, r->arg);
	for (size_t i = 0; i < m; i++)
		pf_admin_job_free(&list[i]);
	free(list);
	free(r);
}

int pf_admin_jobs_list(struct pf_admin_jobs *jobs, int limit, pf_admin_jobs_list_cb cb, void *arg,
                       struct pf_error *err)
{
	struct read_ctx *r = pf_xcalloc(1, sizeof(*r));
	int rc;

	r->list_cb = cb;
	r->arg = arg;
	rc = pf_catalog_job_list(jobs->d.catalog, limit, on_jobs_listed, r, err);
	if (rc < 0)
		free(r);
	return rc;
}

/* ---- takeover ---- */

static void on_taken(struct run *run, const struct pf_error *err)
{
	if (run_stops(run, err))
		return;
	if (err->code) {
		/* Another task was faster, or the catalog is unreachable: next round. */
		run_free(run);
		return;
	}
	pf_warn("admin job taken over", PF_LS("job", run->job.id),
	        PF_LS("kind", pf_admin_job_kind_name(run->job.kind)),
	        PF_LI("attempts", run->job.attempts));
	if (run->job.state != PF_ADMIN_JOB_RUNNING) {
		/* Marked interrupted: the fence (if any) comes down, the end is recorded. */
		enum pf_admin_job_state st = run->job.state;
		char *error = run->job.error ? pf_xstrdup(run->job.error) : NULL;

		run->fence = needs_fence(run->job.kind);
		run_finish(run, st, error);
		free(error);
		return;
	}
	run->fence = needs_fence(run->job.kind);
	run_next(run);
}

static void take_over(struct pf_admin_jobs *jobs, const struct pf_catalog_job *rec,
                      const struct pf_admin_job *job)
{
	struct run *run = run_new(jobs);
	char *from = job->task ? pf_xstrdup(job->task) : NULL;

	pf_admin_job_copy(&run->job, job);
	run->version = rec->version;
	run->job.attempts++;
	free(run->job.task);
	run->job.task = pf_xstrdup(jobs->d.task);
	if (run->job.attempts > PF_ADMIN_JOB_MAX_ATTEMPTS) {
		run->job.state = PF_ADMIN_JOB_INTERRUPTED;
		free(run->job.error);
		run->job.error = pf_xasprintf("the tasks running it went away %d times; it got as "
		                              "far as %lld in phase %s",
		                              PF_ADMIN_JOB_MAX_ATTEMPTS,
		                              (long long)pf_admin_job_done(job), job->phase);
		pf_warn("admin job interrupted", PF_LS("job", job->id),
		        PF_LS("kind", pf_admin_job_kind_name(job->kind)), PF_LS("from", from),
		        PF_LI("attempts", run->job.attempts - 1));
	}
	free(from);
	/* The write is conditioned on the version read: one task wins. */
	run_save(run, on_taken);
}

static void on_takeover_scan(const struct pf_catalog_job *recs, size_t n,
                             const struct pf_error *err, void *arg)
{
	struct pf_admin_jobs *jobs = arg;
	int64_t now = pf_now_ms();

	jobs->scanning = false;
	if (err->code)
		return;
	for (size_t i = 0; i < n; i++) {
		struct pf_admin_job job;
		struct pf_error perr;

		if (!recs[i].running || runs_here(jobs, recs[i].id) ||
		    now - recs[i].updated_ms <= (int64_t)jobs->d.stale_seconds * 1000)
			continue;
		if (pf_admin_job_parse(recs[i].doc, &job, &perr) < 0)
			continue;
		/* One at a time, and only with room for it. */
		if (running_here(jobs) < PF_ADMIN_JOB_MAX_RUNNING)
			take_over(jobs, &recs[i], &job);
		pf_admin_job_free(&job);
		break;
	}
}

static void on_takeover_tick(evutil_socket_t fd, short what, void *arg)
{
	struct pf_admin_jobs *jobs = arg;
	struct pf_error err;

	if (jobs->scanning)
		return;
	if (pf_catalog_job_list(jobs->d.catalog, TAKEOVER_SCAN, on_takeover_scan, jobs, &err) == 0)
		jobs->scanning = true;
}

int pf_admin_jobs_new(const struct pf_admin_jobs_deps *deps, struct pf_admin_jobs **out,
                      struct pf_error *err)
{
	struct pf_admin_jobs *jobs = pf_xcalloc(1, sizeof(*jobs));
	struct timeval tv;

	jobs->d = *deps;
	if (jobs->d.stale_seconds < 2)
		jobs->d.stale_seconds = 60;
	tv.tv_sec = jobs->d.stale_seconds / 2;
	tv.tv_usec = 0;
	if (deps->base) {
		jobs->takeover = event_new(deps->base, -1, EV_PERSIST, on_takeover_tick, jobs);
		if (!jobs->takeover) {
			free(jobs);
			return pf_error_set(err, PF_EIO, "cannot create the job takeover timer");
		}
		event_add(jobs->takeover, &tv);
	}
	*out = jobs;
	return 0;
}

void pf_admin_jobs_free(struct pf_admin_jobs *jobs)
{
	if (!jobs)
		return;
	if (jobs->takeover)
		event_free(jobs->takeover);
	/* Runs are owned by their AWS call in flight, which the AWS client
	 * cancels; each frees itself then. */
	for (struct run *r = jobs->runs; r; r = r->next)
		r->jobs = NULL;
	free(jobs);
}
