/*
 * The consumer's jobs: one per S3 event of a held message. Loop thread
 * only; the only work leaving it is pf_image_process on the pool, which gets
 * a job owning its input bytes and hands back a result the job then owns.
 *
 * A job reads the image item, drops stale and duplicate events, downloads
 * the original, runs the pipeline, uploads both variants (as JPEG, and as
 * WebP when the pipeline made them) and writes the catalog (or records the
 * photo as failed, or removes it), then tells its message whether it must be
 * retried.
 */
#include "consumer_int.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/s3.h"
#include "photofinish/catalog.h"
#include "photofinish/catalog_admin.h"
#include "photofinish/catalog_index.h"
#include "photofinish/config.h"
#include "photofinish/events.h"
#include "photofinish/image.h"
#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/pool.h"
#include "photofinish/roster.h"
#include "photofinish/util.h"

#define VARIANT_CACHE_CONTROL "public, max-age=31536000, immutable"
#define MAX_CATALOG_ATTEMPTS 3
/* While a clear's fence is up, a photo waiting to be written looks again this often. */
#define FENCE_POLL_MS 2000

struct job {
	struct pf_consumer__msg *msg;
	struct pf_object_event ev;
	char id[PF_CATALOG_ID_LEN + 1];
	const struct pf_image_ctx *image; /* read-only, shared by workers */
	int attempt;
	bool force; /* reprocess even when the catalog already has this version */
	bool has_old;
	struct pf_catalog_image old;
	struct pf_catalog_image img;
	/* download and pipeline */
	char *body;
	size_t len;
	int image_rc;
	struct pf_error image_err;
	struct pf_image_result result;
	int puts_pending;
	bool put_failed;
	struct pf_error put_err;
	int64_t t_start, t_downloaded, t_processed;
	const char *outcome;
	struct event *fence_timer; /* waiting for a clear's fence to come down */
	/* Variants an attempt uploaded before losing its write to another
	 * writer: deleted at the end unless the catalog then points at them. */
	char *leftover[PF_CATALOG_MAX_VARIANTS];
};

static void job_begin(struct job *job);

static void job_free(struct job *job)
{
	free(job->ev.bucket);
	free(job->ev.key);
	free(job->ev.etag);
	free(job->ev.sequencer);
	free(job->ev.event_time);
	free(job->ev.event_name);
	pf_catalog_image_free(&job->old);
	pf_catalog_image_free(&job->img);
	free(job->body);
	pf_image_result_free(&job->result);
	if (job->fence_timer)
		event_free(job->fence_timer);
	for (size_t i = 0; i < PF_CATALOG_MAX_VARIANTS; i++)
		free(job->leftover[i]);
	free(job);
}

static bool same_key(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Whether key is one of img's variant objects. */
static bool is_variant_of(const char *key, const struct pf_catalog_image *img)
{
	const char *keys[PF_CATALOG_MAX_VARIANTS];
	size_t n = pf_catalog_image_variant_keys(img, keys);

	for (size_t i = 0; i < n; i++) {
		if (same_key(key, keys[i]))
			return true;
	}
	return false;
}

static void on_leftovers_deleted(const struct pf_s3_delete_result *res, const struct pf_error *err,
                                 void *arg)
{
	if (err->code || res->nerrors)
		pf_warn("could not delete variants of a lost write", PF_LS("error", err->message));
}

/* A lost attempt's variants the catalog does not point at (the event turned
 * out stale, the photo was removed meanwhile) would be left in the bucket. */
static void delete_leftovers(struct job *job)
{
	struct pf_consumer *c = job->msg->c;
	const char *keys[PF_CATALOG_MAX_VARIANTS];
	size_t n = 0;
	struct pf_error err;

	for (size_t i = 0; i < PF_CATALOG_MAX_VARIANTS; i++) {
		const char *k = job->leftover[i];

		if (!k || is_variant_of(k, &job->img) ||
		    (job->has_old && is_variant_of(k, &job->old)))
			continue;
		keys[n++] = k;
	}
	if (n)
		pf_s3_delete_objects(c->d.aws, c->d.cfg->processed_bucket, keys, n,
		                     on_leftovers_deleted, NULL, &err);
}

static void job_done(struct job *job, bool transient, const char *outcome)
{
	struct pf_consumer__msg *m = job->msg;
	struct pf_consumer *c = m->c;
	char labels[64];
	int64_t now = pf_monotonic_ms();

	snprintf(labels, sizeof(labels), "outcome=\"%s\"", outcome);
	pf_metrics_inc(c->d.metrics, "photofinish_images_total",
	               "Photos handled, by outcome (processed, failed, deleted, stale, skipped, "
	               "retry).",
	               labels, 1);
	pf_metrics_observe(c->d.metrics, "photofinish_job_seconds",
	                   "Time from receiving an event to finishing it.", NULL,
	                   (double)(now - job->t_start) / 1000.0);
	pf_log(transient ? PF_LOG_WARN : PF_LOG_INFO, "image handled", PF_LS("key", job->ev.key),
	       PF_LS("id", job->id), PF_LS("outcome", outcome), PF_LS("event", job->ev.event_name),
	       PF_LI("ms", now - job->t_start));
	if (transient)
		m->transient = true;
	delete_leftovers(job);
	job_free(job);
	pf_consumer__msg_work_done(m);
}

static void job_transient(struct job *job, const char *step, const struct pf_error *err)
{
	pf_warn("transient failure, the message will come back", PF_LS("key", job->ev.key),
	        PF_LS("step", step), PF_LS("error", err->message), PF_LS("code", err->service_code),
	        PF_LI("status", err->http_status));
	job_done(job, true, "retry");
}

static void notify_codes(struct job *job)
{
	struct pf_consumer *c = job->msg->c;

	if (!c->d.on_codes_changed)
		return;
	if (job->has_old && job->old.ncodes)
		c->d.on_codes_changed(c->d.arg, job->old.codes, job->old.ncodes);
	if (job->img.ncodes)
		c->d.on_codes_changed(c->d.arg, job->img.codes, job->img.ncodes);
}

static void on_old_variants_deleted(const struct pf_s3_delete_result *res,
                                    const struct pf_error *err, void *arg)
{
	if (err->code || res->nerrors)
		pf_warn("could not delete superseded variants", PF_LS("error", err->message));
}

/* Variants the catalog no longer points at (a new version replaced them). */
static void delete_superseded_variants(struct job *job)
{
	struct pf_consumer *c = job->msg->c;
	const char *old[PF_CATALOG_MAX_VARIANTS], *keys[PF_CATALOG_MAX_VARIANTS];
	size_t nold, n = 0;
	struct pf_error err;

	if (!job->has_old)
		return;
	/* WebP ones too, also when this version has none (PHOTOFINISH_WEBP=0). */
	nold = pf_catalog_image_variant_keys(&job->old, old);
	for (size_t i = 0; i < nold; i++) {
		if (!is_variant_of(old[i], &job->img))
			keys[n++] = old[i];
	}
	if (n)
		pf_s3_delete_objects(c->d.aws, c->d.cfg->processed_bucket, keys, n,
		                     on_old_variants_deleted, NULL, &err);
}

/* The step a catalog write stands for, in logs. */
static const char *catalog_step(const struct job *job)
{
	return job->img.status == PF_IMAGE_DELETED ? "remove" : "catalog";
}

/* Forgets what the job made, so that it can start again from the read. */
static void job_reset(struct job *job)
{
	pf_catalog_image_free(&job->old);
	pf_catalog_image_free(&job->img);
	free(job->body);
	job->body = NULL;
	pf_image_result_free(&job->result);
}

static void on_fence_checked(bool up, const struct pf_error *err, void *arg)
{
	struct job *job = arg;
	struct pf_consumer *c = job->msg->c;
	struct timeval tv = {FENCE_POLL_MS / 1000, (FENCE_POLL_MS % 1000) * 1000};

	if (!err->code && !up) {
		/* From the start: a reset may have deleted the original meanwhile. */
		pf_info("clear finished; the photo goes on", PF_LS("key", job->ev.key));
		job_begin(job);
		return;
	}
	if (err->code == PF_ECANCELED || c->draining) {
		struct pf_error e;

		pf_error_set(&e, PF_EAWS, "a clear of the race is running");
		job_transient(job, "wait for clear", &e);
		return;
	}
	evtimer_add(job->fence_timer, &tv);
}

static void on_fence_timer(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;
	struct pf_error err;

	if (pf_catalog_fence_is_up(job->msg->c->d.catalog, on_fence_checked, job, &err) < 0)
		on_fence_checked(true, &err, job);
}

/*
 * A clear holds the fence: nothing of this photo may stay behind. Its new
 * variants are deleted, and the job holds its message (the heartbeat keeps
 * it hidden) until the fence comes down, then starts again from the read.
 * Holding rather than handing the message back keeps it from reaching the
 * dead-letter queue during a long clear, and fills the task's in-flight
 * slots, so that it stops receiving until the clear is over.
 */
static void wait_for_clear(struct job *job)
{
	struct pf_consumer *c = job->msg->c;
	const char *keys[PF_CATALOG_MAX_VARIANTS];
	size_t n = 0;
	struct pf_error err;
	struct timeval tv = {FENCE_POLL_MS / 1000, (FENCE_POLL_MS % 1000) * 1000};

	pf_info("a clear of the race is running; the photo waits", PF_LS("key", job->ev.key));
	if (job->img.status == PF_IMAGE_PROCESSED)
		n = pf_catalog_image_variant_keys(&job->img, keys);
	if (n)
		pf_s3_delete_objects(c->d.aws, c->d.cfg->processed_bucket, keys, n,
		                     on_old_variants_deleted, NULL, &err);
	job_reset(job);
	if (!job->fence_timer)
		job->fence_timer = evtimer_new(c->d.base, on_fence_timer, job);
	evtimer_add(job->fence_timer, &tv);
}

static void on_catalog_written(const struct pf_error *err, void *arg)
{
	struct job *job = arg;

	if (pf_catalog_is_fenced(err)) {
		wait_for_clear(job);
		return;
	}
	if (err->code == PF_ECONFLICT && job->attempt < MAX_CATALOG_ATTEMPTS) {
		/* Another writer changed this image since we read it: start over
		 * from the read so the sequencer check sees its write. */
		job->attempt++;
		if (job->img.status == PF_IMAGE_PROCESSED) {
			char **made[PF_CATALOG_MAX_VARIANTS] = {
			    &job->img.fullsize_key, &job->img.thumbnail_key,
			    &job->img.fullsize_webp_key, &job->img.thumbnail_webp_key};

			for (size_t i = 0; i < PF_CATALOG_MAX_VARIANTS; i++) {
				char **k = made[i];

				if (*k && !job->leftover[i]) {
					job->leftover[i] = *k;
					*k = NULL;
				}
			}
		}
		job_reset(job);
		job_begin(job);
		return;
	}
	if (err->code) {
		job_transient(job, catalog_step(job), err);
		return;
	}
	delete_superseded_variants(job);
	notify_codes(job);
	job_done(job, false, job->outcome);
}

static void write_catalog(struct job *job)
{
	struct pf_consumer *c = job->msg->c;
	struct pf_error err;
	char now[32];
	int rc;

	pf_format_rfc3339_ms(pf_now_ms(), now);
	job->img.version = job->has_old ? job->old.version + 1 : 1;
	memcpy(job->img.id, job->id, sizeof(job->id));
	if (!job->img.bucket)
		job->img.bucket = pf_xstrdup(job->ev.bucket);
	if (!job->img.key)
		job->img.key = pf_xstrdup(job->ev.key);
	if (!job->img.etag && job->ev.etag)
		job->img.etag = pf_xstrdup(job->ev.etag);
	if (!job->img.sequencer)
		job->img.sequencer = pf_xstrdup(job->ev.sequencer);
	if (!job->img.processed_at)
		job->img.processed_at = pf_xstrdup(now);
	if (!job->img.photographer)
		job->img.photographer =
		    pf_catalog_photographer_of(job->ev.key, c->d.cfg->ingress_prefix);
	job->img.size = job->ev.size;
	if (job->img.status == PF_IMAGE_DELETED)
		rc = pf_catalog_delete_photo(c->d.catalog, c->d.cfg->processed_bucket, &job->img,
		                             job->has_old ? &job->old : NULL, on_catalog_written,
		                             job, &err);
	else
		rc = pf_catalog_write(c->d.catalog, &job->img, job->has_old ? &job->old : NULL,
		                      on_catalog_written, job, &err);
	if (rc < 0)
		job_transient(job, catalog_step(job), &err);
}

static void record_failed(struct job *job, const struct pf_error *why)
{
	job->img.status = PF_IMAGE_FAILED;
	job->img.reason =
	    pf_xstrdup(why->service_code[0] ? why->service_code : pf_error_code_name(why->code));
	job->img.message = pf_xstrdup(why->message);
	job->outcome = "failed";
	pf_warn("photo refused, recorded as failed", PF_LS("key", job->ev.key),
	        PF_LS("reason", job->img.reason), PF_LS("message", why->message));
	write_catalog(job);
}

static void on_variant_put(const char *etag, const struct pf_error *err, void *arg)
{
	struct job *job = arg;

	if (err->code && !job->put_failed) {
		job->put_failed = true;
		job->put_err = *err;
	}
	if (--job->puts_pending > 0)
		return;
	if (job->put_failed) {
		job_transient(job, "upload variants", &job->put_err);
		return;
	}
	write_catalog(job);
}

char *pf_consumer_variant_key(const char *id, const char *etag, const char *sequencer,
                              const char *kind, const char *ext)
{
	char tag[17] = "";
	size_t n = 0;
	const char *src = etag && *etag ? etag : sequencer;

	for (const char *p = src ? src : ""; *p && n < 16; p++) {
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z'))
			tag[n++] = *p;
	}
	tag[n] = '\0';
	return pf_xasprintf("%s/%s%s%s.%s", kind, id, n ? "-" : "", tag, ext);
}

/* Variant keys carry a version tag from the source's ETag, so an older job
 * finishing late can never overwrite what a newer one published. */
static char *variant_key(const struct job *job, const char *kind, const char *ext)
{
	return pf_consumer_variant_key(job->id, job->ev.etag, job->ev.sequencer, kind, ext);
}

/* Uploads the variants the pipeline made (JPEGs, then WebPs when there are
 * any); on_variant_put writes the catalog once all have answered. */
static void upload_variants(struct job *job)
{
	struct pf_consumer *c = job->msg->c;
	const struct pf_image_result *r = &job->result;
	struct {
		const char *key;
		const unsigned char *body;
		size_t len;
		const char *type;
	} v[PF_CATALOG_MAX_VARIANTS] = {
	    {job->img.fullsize_key, r->fullsize_jpeg, r->fullsize_len, "image/jpeg"},
	    {job->img.thumbnail_key, r->thumbnail_jpeg, r->thumbnail_len, "image/jpeg"},
	    {job->img.fullsize_webp_key, r->fullsize_webp, r->fullsize_webp_len, "image/webp"},
	    {job->img.thumbnail_webp_key, r->thumbnail_webp, r->thumbnail_webp_len, "image/webp"}};
	size_t n = job->img.fullsize_webp_key ? 4 : 2;
	struct pf_error err;

	job->puts_pending = (int)n;
	for (size_t i = 0; i < n; i++) {
		struct pf_s3_put_options opts = {.content_type = v[i].type,
		                                 .cache_control = VARIANT_CACHE_CONTROL};

		if (pf_s3_put_object(c->d.aws, c->d.cfg->processed_bucket, v[i].key, v[i].body,
		                     v[i].len, &opts, on_variant_put, job, &err) == 0)
			continue;
		if (i == 0) {
			job_transient(job, "upload variants", &err);
			return;
		}
		/* The i puts sent still answer; the rest never will. */
		job->put_failed = true;
		job->put_err = err;
		job->puts_pending -= (int)(n - i - 1);
		on_variant_put(NULL, &(struct pf_error){0}, job);
		return;
	}
}

static void put_variants(struct job *job)
{
	struct pf_consumer *c = job->msg->c;
	char **codes = job->result.ncodes ? pf_xcalloc(job->result.ncodes, sizeof(char *)) : NULL;
	size_t ncodes = 0;

	job->img.status = PF_IMAGE_PROCESSED;
	job->img.fullsize_key = variant_key(job, "fullsize", "jpg");
	job->img.thumbnail_key = variant_key(job, "thumbnail", "jpg");
	if (job->result.fullsize_webp && job->result.thumbnail_webp) {
		job->img.fullsize_webp_key = variant_key(job, "fullsize", "webp");
		job->img.thumbnail_webp_key = variant_key(job, "thumbnail", "webp");
	}
	job->img.width = job->result.width;
	job->img.height = job->result.height;
	job->img.thumbnail_width = job->result.thumbnail_width;
	job->img.thumbnail_height = job->result.thumbnail_height;
	job->img.photographer = pf_catalog_photographer_of(job->ev.key, c->d.cfg->ingress_prefix);
	if (job->result.taken_at[0]) {
		/* The camera's clock corrected by its photographer's offset; entries
		 * sort by that wall clock read as UTC, so photographers compare. */
		char taken[40], sort[40];

		if (pf_catalog_corrected_time(job->result.taken_at,
		                              pf_consumer__clock_offset(c, job->img.photographer),
		                              taken, sort)) {
			job->img.taken_at = pf_xstrdup(taken);
			job->img.sort_time = pf_xstrdup(sort);
		} else {
			job->img.taken_at = pf_xstrdup(job->result.taken_at);
		}
	}
	/* Photos without a capture time sort by upload time. */
	if (!job->img.sort_time)
		job->img.sort_time = pf_xstrdup(job->img.taken_at    ? job->img.taken_at
		                                : job->ev.event_time ? job->ev.event_time
		                                                     : "0000");
	if (job->has_old && job->old.codes_manual && job->old.etag && job->ev.etag &&
	    !strcmp(job->old.etag, job->ev.etag)) {
		/* An operator fixed this photo's codes; the same bytes again keep them. */
		job->img.codes_manual = true;
		job->img.codes = pf_xcalloc(job->old.ncodes + 1, sizeof(char *));
		for (size_t i = 0; i < job->old.ncodes; i++)
			job->img.codes[job->img.ncodes++] = pf_xstrdup(job->old.codes[i]);
		free(codes);
	} else {
		for (size_t i = 0; i < job->result.ncodes && ncodes < PF_CATALOG_MAX_CODES; i++)
			codes[ncodes++] = pf_xstrdup(job->result.codes[i]);
		job->img.codes = codes;
		job->img.ncodes = ncodes;
	}
	job->outcome = "processed";
	upload_variants(job);
}

static void work_process(void *arg)
{
	struct job *job = arg;

	/* Worker thread: only the job and the read-only image context. */
	pf_error_clear(&job->image_err);
	job->image_rc =
	    pf_image_process(job->image, job->body, job->len, &job->result, &job->image_err);
	free(job->body);
	job->body = NULL;
}

static void observe_stage(struct pf_consumer *c, const char *stage, double ms)
{
	char labels[48];

	snprintf(labels, sizeof(labels), "stage=\"%s\"", stage);
	pf_metrics_observe(
	    c->d.metrics, "photofinish_stage_seconds",
	    "Time per pipeline stage (download, decode, scan, variants, total; webp: the "
	    "WebP encodes, part of variants).",
	    labels, ms / 1000.0);
}

static void after_process(void *arg, int status)
{
	struct job *job = arg;
	struct pf_consumer *c = job->msg->c;

	job->t_processed = pf_monotonic_ms();
	if (status == PF_ECANCELED) {
		struct pf_error e;

		pf_error_set(&e, PF_ECANCELED, "shutting down");
		job_transient(job, "pipeline", &e);
		return;
	}
	if (job->image_rc == 0) {
		observe_stage(c, "decode", job->result.ms.decode);
		observe_stage(c, "scan", job->result.ms.scan);
		observe_stage(c, "variants", job->result.ms.variants);
		observe_stage(c, "total", job->result.ms.total);
		if (job->result.fullsize_webp)
			observe_stage(c, "webp", job->result.ms.webp);
		pf_info(
		    "image processed", PF_LS("key", job->ev.key), PF_LS("id", job->id),
		    PF_LI("codes", job->result.ncodes), PF_LI("bytes", job->len),
		    PF_LI("width", job->result.width), PF_LI("height", job->result.height),
		    PF_LD("decodeMs", job->result.ms.decode), PF_LD("scanMs", job->result.ms.scan),
		    PF_LD("variantsMs", job->result.ms.variants),
		    PF_LD("webpMs", job->result.ms.webp), PF_LD("totalMs", job->result.ms.total),
		    PF_LI("downloadMs", job->t_downloaded - job->t_start));
		put_variants(job);
		return;
	}
	if (job->image_err.code == PF_EIMAGE || job->image_err.code == PF_ETOOBIG ||
	    job->image_err.code == PF_EINVAL) {
		char labels[96];

		snprintf(labels, sizeof(labels), "reason=\"%.64s\"",
		         job->image_err.service_code[0] ? job->image_err.service_code : "invalid");
		pf_metrics_inc(c->d.metrics, "photofinish_images_failed_total",
		               "Photos refused by the pipeline, by reason.", labels, 1);
		record_failed(job, &job->image_err);
		return;
	}
	job_transient(job, "pipeline", &job->image_err);
}

static void on_original(struct pf_s3_get_result *res, const struct pf_error *err, void *arg)
{
	struct job *job = arg;
	struct pf_consumer *c = job->msg->c;
	struct pf_error perr;

	job->t_downloaded = pf_monotonic_ms();
	if (err->code == PF_ENOTFOUND) {
		/* Deleted since the event was sent; its removal event does the rest. */
		pf_info("object is gone, nothing to process", PF_LS("key", job->ev.key));
		job_done(job, false, "skipped");
		return;
	}
	if (err->code == PF_ETOOBIG) {
		struct pf_error why = *err;

		snprintf(why.service_code, sizeof(why.service_code), "too_many_bytes");
		pf_metrics_inc(c->d.metrics, "photofinish_images_failed_total",
		               "Photos refused by the pipeline, by reason.",
		               "reason=\"too_many_bytes\"", 1);
		record_failed(job, &why);
		return;
	}
	if (err->code) {
		job_transient(job, "download", err);
		return;
	}
	observe_stage(c, "download", (double)(job->t_downloaded - job->t_start));
	job->body = res->body;
	job->len = res->len;
	res->body = NULL;
	if (job->ev.size < 0)
		job->ev.size = (int64_t)job->len;
	if (!job->ev.etag && res->info.etag)
		job->ev.etag = pf_events_bare_etag(res->info.etag);
	if (pf_pool_submit(c->d.pool, job, work_process, after_process, &perr) < 0)
		job_transient(job, "pipeline", &perr);
}

static void on_old_image(const struct pf_catalog_image *old, const struct pf_error *err, void *arg)
{
	struct job *job = arg;
	struct pf_consumer *c = job->msg->c;
	struct pf_error e;

	if (err->code) {
		job_transient(job, "catalog read", err);
		return;
	}
	job->has_old = old != NULL;
	if (old)
		pf_catalog_image_copy(&job->old, old);

	if (old && job->ev.sequencer[0] == '\0') {
		/* Reprocessing requests carry no sequencer: they stand for the
		 * current version. */
		free(job->ev.sequencer);
		job->ev.sequencer = pf_xstrdup(old->sequencer);
	}
	if (old && pf_events_sequencer_cmp(job->ev.sequencer, old->sequencer) < 0) {
		pf_info("older event ignored", PF_LS("key", job->ev.key),
		        PF_LS("sequencer", job->ev.sequencer), PF_LS("current", old->sequencer));
		job_done(job, false, "stale");
		return;
	}

	if (job->ev.kind == PF_EVENT_REMOVED) {
		/* The tombstone keeps the old sort time and takes the event's
		 * sequencer, so older events are still recognised as such. */
		job->img.status = PF_IMAGE_DELETED;
		job->img.sort_time = pf_xstrdup(old && old->sort_time ? old->sort_time : "");
		job->outcome = "deleted";
		write_catalog(job);
		return;
	}
	if (old && job->force && old->status == PF_IMAGE_DELETED) {
		/* A reprocess request for a deleted photo: its removal stands. */
		job_done(job, false, "stale");
		return;
	}
	if (old && job->ev.sequencer[0] && !job->force &&
	    pf_events_sequencer_cmp(job->ev.sequencer, old->sequencer) == 0 &&
	    (old->status == PF_IMAGE_DELETED ||
	     (old->etag && job->ev.etag && !strcmp(old->etag, job->ev.etag)))) {
		/* The same event again (a redelivery after a crash, say): its
		 * result is already in the catalog. */
		job_done(job, false, "duplicate");
		return;
	}
	if (pf_s3_get_object(c->d.aws, job->ev.bucket, job->ev.key,
	                     (size_t)c->d.cfg->max_input_bytes, on_original, job, &e) < 0)
		job_transient(job, "download", &e);
}

static void on_clocks_fresh(void *arg, const struct pf_error *err)
{
	struct job *job = arg;
	struct pf_error e;

	if (err->code) {
		job_transient(job, "clock offsets read", err);
		return;
	}
	if (pf_catalog_get(job->msg->c->d.catalog, job->id, on_old_image, job, &e) < 0)
		job_transient(job, "catalog read", &e);
}

static void job_begin(struct job *job)
{
	memset(&job->img, 0, sizeof(job->img));
	job->has_old = false;
	job->put_failed = false;
	job->puts_pending = 0;
	/* A reprocess request may follow a clock change: it needs offsets read
	 * after it arrived. */
	pf_consumer__clocks_when_fresh(job->msg->c, job->force, on_clocks_fresh, job);
}

/* The race's roster may sit in the ingress bucket: it is not a photo. */
static bool is_roster(const struct pf_config *cfg, const struct pf_object_event *ev)
{
	char *bucket, *key;
	bool same;

	if (!cfg->roster || !pf_roster_parse_s3_uri(cfg->roster, &bucket, &key))
		return false;
	same = !strcmp(bucket, ev->bucket) && !strcmp(key, ev->key);
	free(bucket);
	free(key);
	return same;
}

void pf_consumer__start_event(struct pf_consumer__msg *m, struct pf_object_event *ev)
{
	struct pf_consumer *c = m->c;
	struct job *job;

	if (ev->kind == PF_EVENT_TEST)
		return;
	if (strcmp(ev->bucket, c->d.cfg->ingress_bucket) != 0) {
		pf_warn("event for another bucket skipped", PF_LS("bucket", ev->bucket),
		        PF_LS("key", ev->key));
		return;
	}
	if (is_roster(c->d.cfg, ev)) {
		pf_info("roster object skipped", PF_LS("key", ev->key));
		return;
	}
	if (!pf_consumer_key_is_wanted(ev->key, c->d.cfg->ingress_prefix)) {
		pf_info("key skipped: outside the prefix or not an image", PF_LS("key", ev->key),
		        PF_LS("prefix", c->d.cfg->ingress_prefix));
		pf_metrics_inc(c->d.metrics, "photofinish_images_total",
		               "Photos handled, by outcome (processed, failed, deleted, stale, "
		               "skipped, retry).",
		               "outcome=\"skipped\"", 1);
		return;
	}
	job = pf_xcalloc(1, sizeof(*job));
	job->msg = m;
	job->image = c->d.image;
	job->ev = *ev;
	job->force = ev->force;
	memset(ev, 0, sizeof(*ev)); /* the job owns the strings now */
	job->t_start = pf_monotonic_ms();
	pf_catalog_image_id(job->ev.bucket, job->ev.key, job->id);
	m->jobs_pending++;
	job_begin(job);
}
