/*
 * Admin job records: the API's JSON and the stored form. Pure; any thread.
 */
#include "photofinish/admin_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "photofinish/util.h"

static const char *const kind_names[] = {
    [PF_ADMIN_JOB_REPROCESS] = "reprocess",
    [PF_ADMIN_JOB_CLEAR] = "clear",
    [PF_ADMIN_JOB_RESET] = "reset",
    [PF_ADMIN_JOB_ERASE] = "erase",
};

static const char *const state_names[] = {
    [PF_ADMIN_JOB_RUNNING] = "running",
    [PF_ADMIN_JOB_DONE] = "done",
    [PF_ADMIN_JOB_FAILED] = "failed",
    [PF_ADMIN_JOB_INTERRUPTED] = "interrupted",
};

/* ---- the record (pure) ----------------------------------------------------- */

const char *pf_admin_job_kind_name(enum pf_admin_job_kind kind)
{
	return kind_names[kind];
}

const char *pf_admin_job_state_name(enum pf_admin_job_state state)
{
	return state_names[state];
}

void pf_admin_job_free(struct pf_admin_job *job)
{
	if (!job)
		return;
	free(job->by);
	free(job->client);
	free(job->task);
	free(job->prefix);
	free(job->code);
	free(job->position);
	free(job->error);
	memset(job, 0, sizeof(*job));
}

static char *dup_or_null(const char *s)
{
	return s ? pf_xstrdup(s) : NULL;
}

void pf_admin_job_copy(struct pf_admin_job *dst, const struct pf_admin_job *src)
{
	*dst = *src;
	dst->by = dup_or_null(src->by);
	dst->client = dup_or_null(src->client);
	dst->task = dup_or_null(src->task);
	dst->prefix = dup_or_null(src->prefix);
	dst->code = dup_or_null(src->code);
	dst->position = dup_or_null(src->position);
	dst->error = dup_or_null(src->error);
}

int64_t pf_admin_job_done(const struct pf_admin_job *job)
{
	switch (job->kind) {
	case PF_ADMIN_JOB_REPROCESS:
		return job->queued;
	case PF_ADMIN_JOB_ERASE:
		return job->photos_deleted;
	default:
		return job->originals_deleted + job->items_deleted + job->objects_deleted;
	}
}

void pf_admin_job_make_id(enum pf_admin_job_kind kind, int64_t now_ms, const unsigned char rnd[3],
                          char out[PF_CATALOG_JOB_ID_MAX + 1])
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	char when[24];

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, PF_CATALOG_JOB_ID_MAX + 1, "%s-%s-%02x%02x%02x", when, kind_names[kind],
	         rnd[0], rnd[1], rnd[2]);
}

static void set_time(json_t *doc, const char *name, int64_t ms)
{
	char when[32];

	if (ms <= 0) {
		json_object_set_new(doc, name, json_null());
		return;
	}
	pf_format_rfc3339_ms(ms, when);
	json_object_set_new(doc, name, json_string(when));
}

static void set_count(json_t *doc, const char *name, int64_t n)
{
	json_object_set_new(doc, name, json_integer(n));
}

json_t *pf_admin_job_json(const struct pf_admin_job *job, int64_t now_ms, bool stored)
{
	int64_t end = job->finished_ms ? job->finished_ms : now_ms;
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s?,s:s?,s:i}", "id", job->id, "kind",
	                        kind_names[job->kind], "state", state_names[job->state], "phase",
	                        job->phase, "done", (json_int_t)pf_admin_job_done(job), "by",
	                        job->by, "task", job->task, "attempts", job->attempts);

	json_object_set_new(doc, "total", job->total >= 0 ? json_integer(job->total) : json_null());
	set_time(doc, "startedAt", job->started_ms);
	set_time(doc, "updatedAt", job->updated_ms);
	set_time(doc, "finishedAt", job->finished_ms);
	set_count(doc, "seconds", end > job->started_ms ? (end - job->started_ms) / 1000 : 0);
	switch (job->kind) {
	case PF_ADMIN_JOB_REPROCESS:
		set_count(doc, "listed", job->listed);
		set_count(doc, "queued", job->queued);
		set_count(doc, "skipped", job->skipped);
		if (job->prefix)
			json_object_set_new(doc, "prefix", json_string(job->prefix));
		break;
	case PF_ADMIN_JOB_ERASE:
		json_object_set_new(doc, "code", json_string(job->code ? job->code : ""));
		set_count(doc, "photosDeleted", job->photos_deleted);
		break;
	case PF_ADMIN_JOB_RESET:
		set_count(doc, "originalsDeleted", job->originals_deleted);
		/* fall through */
	case PF_ADMIN_JOB_CLEAR:
		set_count(doc, "itemsDeleted", job->items_deleted);
		set_count(doc, "objectsDeleted", job->objects_deleted);
		break;
	}
	if (job->error)
		json_object_set_new(doc, "error", json_string(job->error));
	if (stored) {
		json_object_set_new(doc, "startedMs", json_integer(job->started_ms));
		json_object_set_new(doc, "updatedMs", json_integer(job->updated_ms));
		json_object_set_new(doc, "finishedMs", json_integer(job->finished_ms));
		if (job->client)
			json_object_set_new(doc, "client", json_string(job->client));
		if (job->position)
			json_object_set_new(doc, "position", json_string(job->position));
		/* Kept whatever the kind, so a record reads back whole. */
		set_count(doc, "listed", job->listed);
		set_count(doc, "queued", job->queued);
		set_count(doc, "skipped", job->skipped);
		set_count(doc, "itemsDeleted", job->items_deleted);
		set_count(doc, "objectsDeleted", job->objects_deleted);
		set_count(doc, "originalsDeleted", job->originals_deleted);
		set_count(doc, "photosDeleted", job->photos_deleted);
	}
	return doc;
}

static int64_t get_int(const json_t *doc, const char *name)
{
	const json_t *v = json_object_get(doc, name);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static char *get_str(const json_t *doc, const char *name)
{
	const char *s = json_string_value(json_object_get(doc, name));

	return s ? pf_xstrdup(s) : NULL;
}

static bool lookup(const char *const *names, size_t n, const char *s, int *out)
{
	for (size_t i = 0; s && i < n; i++) {
		if (!strcmp(names[i], s)) {
			*out = (int)i;
			return true;
		}
	}
	return false;
}

int pf_admin_job_parse(const char *text, struct pf_admin_job *out, struct pf_error *err)
{
	json_t *doc = json_loads(text, 0, NULL);
	const char *id = json_string_value(json_object_get(doc, "id"));
	const char *phase = json_string_value(json_object_get(doc, "phase"));
	const json_t *total = json_object_get(doc, "total");
	int kind, state;

	memset(out, 0, sizeof(*out));
	if (!id || !pf_catalog_job_id_is_valid(id) ||
	    !lookup(kind_names, 4, json_string_value(json_object_get(doc, "kind")), &kind) ||
	    !lookup(state_names, 4, json_string_value(json_object_get(doc, "state")), &state)) {
		json_decref(doc);
		return pf_error_set(err, PF_EINVAL, "not a job record");
	}
	snprintf(out->id, sizeof(out->id), "%s", id);
	out->kind = (enum pf_admin_job_kind)kind;
	out->state = (enum pf_admin_job_state)state;
	snprintf(out->phase, sizeof(out->phase), "%s", phase ? phase : "");
	out->by = get_str(doc, "by");
	out->client = get_str(doc, "client");
	out->task = get_str(doc, "task");
	out->attempts = (int)get_int(doc, "attempts");
	out->started_ms = get_int(doc, "startedMs");
	out->updated_ms = get_int(doc, "updatedMs");
	out->finished_ms = get_int(doc, "finishedMs");
	out->total = json_is_integer(total) ? (int64_t)json_integer_value(total) : -1;
	out->listed = get_int(doc, "listed");
	out->queued = get_int(doc, "queued");
	out->skipped = get_int(doc, "skipped");
	out->items_deleted = get_int(doc, "itemsDeleted");
	out->objects_deleted = get_int(doc, "objectsDeleted");
	out->originals_deleted = get_int(doc, "originalsDeleted");
	out->photos_deleted = get_int(doc, "photosDeleted");
	out->prefix = get_str(doc, "prefix");
	out->code = get_str(doc, "code");
	out->position = get_str(doc, "position");
	out->error = get_str(doc, "error");
	json_decref(doc);
	return 0;
}

bool pf_admin_job_is_stale(const struct pf_admin_job *job, int64_t now_ms, int64_t stale_ms)
{
	return job->state == PF_ADMIN_JOB_RUNNING && now_ms - job->updated_ms > stale_ms;
}
