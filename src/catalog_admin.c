/*
 * The operators' records in the catalog's table. Layout (beside the photos'
 * items, see catalog.h):
 *
 *   pk       sk                       item
 *   JOB      <job id>                 a job: version, running, updatedMs,
 *                                     doc (JSON text), expiresAt (TTL)
 *   AUDIT    <at>#<32 hex>            an audit entry: doc (JSON text)
 *   FENCE    FENCE                    the clearing fence: job, since
 *   COUNTS   COUNTS                   processed, unmatched, failed
 *
 * A clear deletes photo items only; these partitions stay. Loop thread for
 * the operations; the delta helper is pure.
 */
#include "photofinish/catalog_admin.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/dynamodb.h"
#include "photofinish/util.h"

#include "catalog_int.h"

void pf_catalog_job_free(struct pf_catalog_job *job)
{
	if (!job)
		return;
	free(job->doc);
	memset(job, 0, sizeof(*job));
}

bool pf_catalog_job_id_is_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= PF_CATALOG_JOB_ID_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static bool get_n(const json_t *item, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(json_object_get(item, name), "N");

	return json_is_string(v) && pf_parse_int64(json_string_value(v), INT64_MIN, INT64_MAX, out);
}

/* A call's context: which callback and what it reads. */
struct ctx {
	struct pf_catalog *cat;
	pf_catalog_admin_done_cb done; /* same shape as pf_catalog_done_cb */
	pf_catalog_job_cb job;
	pf_catalog_jobs_cb jobs;
	pf_catalog_audit_cb audit;
	pf_catalog_counts_cb counts;
	pf_catalog_fence_cb fence;
	void *arg;
	int limit;
};

static struct ctx *ctx_new(struct pf_catalog *cat, void *arg)
{
	struct ctx *c = pf_xcalloc(1, sizeof(*c));

	c->cat = cat;
	c->arg = arg;
	return c;
}

static void on_done(json_t *response, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;

	c->done(err, c->arg);
	free(c);
}

/* ---- jobs ---------------------------------------------------------------- */

static int job_from_item(const json_t *item, struct pf_catalog_job *out)
{
	const char *id = pf_catalog__get_s(item, "sk");
	const char *doc = pf_catalog__get_s(item, "doc");
	const char *running = pf_catalog__get_s(item, "state");

	memset(out, 0, sizeof(*out));
	if (!id || !pf_catalog_job_id_is_valid(id) || !doc || strlen(doc) > PF_CATALOG_MAX_DOC)
		return PF_EINVAL;
	snprintf(out->id, sizeof(out->id), "%s", id);
	if (!get_n(item, "version", &out->version))
		out->version = 0;
	if (!get_n(item, "updatedMs", &out->updated_ms))
		out->updated_ms = 0;
	out->running = running && !strcmp(running, "running");
	out->doc = pf_xstrdup(doc);
	return 0;
}

int pf_catalog_job_put(struct pf_catalog *cat, const struct pf_catalog_job *job, int64_t expires_s,
                       pf_catalog_admin_done_cb cb, void *arg, struct pf_error *err)
{
	json_t *item, *extra;
	struct ctx *c;
	char ver[32];
	int rc;

	if (!pf_catalog_job_id_is_valid(job->id) || job->version < 1 || !job->doc ||
	    strlen(job->doc) > PF_CATALOG_MAX_DOC)
		return pf_error_set(err, PF_EINVAL, "not a job record");
	item = pf_catalog__key("JOB", job->id);
	pf_catalog__set_n(item, "version", job->version);
	pf_catalog__set_s(item, "state", job->running ? "running" : "ended");
	pf_catalog__set_n(item, "updatedMs", job->updated_ms);
	pf_catalog__set_s(item, "doc", job->doc);
	pf_catalog__set_n(item, "expiresAt", expires_s);
	/* Optimistic concurrency: one writer per version, so a task that lost
	 * its job to a takeover learns it at its next write. */
	if (job->version == 1) {
		extra = json_pack("{s:s}", "ConditionExpression", "attribute_not_exists(pk)");
	} else {
		snprintf(ver, sizeof(ver), "%lld", (long long)(job->version - 1));
		extra = json_pack("{s:s,s:{s:s},s:{s:{s:s}}}", "ConditionExpression", "#v = :v",
		                  "ExpressionAttributeNames", "#v", "version",
		                  "ExpressionAttributeValues", ":v", "N", ver);
	}
	c = ctx_new(cat, arg);
	c->done = cb;
	rc = pf_dynamodb_put_item(pf_catalog__aws(cat), pf_catalog__table(cat), item, extra,
	                          on_done, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_job_get(json_t *item, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_catalog_job job;

	if (err->code || !item) {
		c->job(NULL, err, c->arg);
	} else if (job_from_item(item, &job) < 0) {
		struct pf_error e;

		pf_error_set(&e, PF_EINVAL, "the job record is malformed");
		c->job(NULL, &e, c->arg);
	} else {
		c->job(&job, err, c->arg);
		pf_catalog_job_free(&job);
	}
	free(c);
}

int pf_catalog_job_get(struct pf_catalog *cat, const char *id, pf_catalog_job_cb cb, void *arg,
                       struct pf_error *err)
{
	struct ctx *c;
	int rc;

	if (!pf_catalog_job_id_is_valid(id))
		return pf_error_set(err, PF_ENOTFOUND, "no such job");
	c = ctx_new(cat, arg);
	c->job = cb;
	rc = pf_dynamodb_get_item(pf_catalog__aws(cat), pf_catalog__table(cat),
	                          pf_catalog__key("JOB", id),
	                          json_pack("{s:b}", "ConsistentRead", 1), on_job_get, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_job_page(json_t *items, json_t *last_evaluated_key, json_t *page,
                        const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_catalog_job *jobs = NULL;
	size_t n = 0, i;
	json_t *item;

	if (err->code) {
		c->jobs(NULL, 0, err, c->arg);
		free(c);
		return;
	}
	jobs = pf_xcalloc(json_array_size(items) + 1, sizeof(*jobs));
	json_array_foreach(items, i, item)
	{
		/* A malformed record is left out rather than hiding the others. */
		if (job_from_item(item, &jobs[n]) == 0)
			n++;
	}
	c->jobs(jobs, n, err, c->arg);
	for (i = 0; i < n; i++)
		pf_catalog_job_free(&jobs[i]);
	free(jobs);
	free(c);
}

int pf_catalog_job_list(struct pf_catalog *cat, int limit, pf_catalog_jobs_cb cb, void *arg,
                        struct pf_error *err)
{
	struct ctx *c;
	int rc;

	if (limit < 1 || limit > PF_CATALOG_MAX_JOBS)
		return pf_error_set(err, PF_EINVAL, "limit must be 1 to %d", PF_CATALOG_MAX_JOBS);
	c = ctx_new(cat, arg);
	c->jobs = cb;
	rc =
	    pf_dynamodb_query(pf_catalog__aws(cat), pf_catalog__table(cat),
	                      json_pack("{s:s,s:{s:{s:s}},s:i,s:b,s:b}", "KeyConditionExpression",
	                                "pk = :pk", "ExpressionAttributeValues", ":pk", "S", "JOB",
	                                "Limit", limit, "ScanIndexForward", 0, "ConsistentRead", 1),
	                      NULL, on_job_page, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

/* ---- audit --------------------------------------------------------------- */

int pf_catalog_audit_add(struct pf_catalog *cat, int64_t at_ms, const char *doc,
                         pf_catalog_admin_done_cb cb, void *arg, struct pf_error *err)
{
	unsigned char rnd[16];
	char at[32], sk[80];
	size_t len;
	json_t *item;
	struct ctx *c;
	int rc;

	if (!doc || strlen(doc) > PF_CATALOG_MAX_DOC)
		return pf_error_set(err, PF_EINVAL, "audit entry too large");
	/* Entries of one millisecond stay apart; the sort key's shape is a
	 * listing entry's (<time>#<32 hex>), so cursors are the same kind. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return pf_error_set(err, PF_EIO, "no randomness for the audit entry's key");
	pf_format_rfc3339_ms(at_ms, at);
	len = (size_t)snprintf(sk, sizeof(sk), "%s#", at);
	for (size_t i = 0; i < sizeof(rnd); i++)
		len += (size_t)snprintf(sk + len, sizeof(sk) - len, "%02x", rnd[i]);
	item = pf_catalog__key("AUDIT", sk);
	pf_catalog__set_s(item, "doc", doc);
	c = ctx_new(cat, arg);
	c->done = cb;
	rc = pf_dynamodb_put_item(pf_catalog__aws(cat), pf_catalog__table(cat), item, NULL, on_done,
	                          c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_audit_page(json_t *items, json_t *last_evaluated_key, json_t *page,
                          const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	char **docs;
	size_t n = 0, i;
	json_t *item;
	char *cursor = NULL;
	const char *last_sk = NULL;

	if (err->code) {
		c->audit(NULL, 0, NULL, err, c->arg);
		free(c);
		return;
	}
	docs = pf_xcalloc(json_array_size(items) + 1, sizeof(char *));
	json_array_foreach(items, i, item)
	{
		const char *doc = pf_catalog__get_s(item, "doc");

		/* One more than asked says whether another page exists. */
		if (i == (size_t)c->limit)
			break;
		last_sk = pf_catalog__get_s(item, "sk");
		if (doc)
			docs[n++] = (char *)doc;
	}
	if (json_array_size(items) > (size_t)c->limit && last_sk)
		cursor = pf_catalog_cursor_encode(last_sk);
	c->audit(docs, n, cursor, err, c->arg);
	free(cursor);
	free(docs);
	free(c);
}

int pf_catalog_audit_list(struct pf_catalog *cat, int limit, const char *cursor,
                          pf_catalog_audit_cb cb, void *arg, struct pf_error *err)
{
	json_t *start = NULL;
	struct ctx *c;
	int rc;

	if (limit < 1 || limit > 500)
		return pf_error_set(err, PF_EINVAL, "limit must be 1 to 500");
	if (cursor) {
		char *sk = pf_catalog_cursor_decode(cursor);

		if (!sk)
			return pf_error_set(err, PF_EINVAL, "cursor is malformed");
		start = pf_catalog__key("AUDIT", sk);
		free(sk);
	}
	c = ctx_new(cat, arg);
	c->audit = cb;
	c->limit = limit;
	rc = pf_dynamodb_query(pf_catalog__aws(cat), pf_catalog__table(cat),
	                       json_pack("{s:s,s:{s:{s:s}},s:i,s:b}", "KeyConditionExpression",
	                                 "pk = :pk", "ExpressionAttributeValues", ":pk", "S",
	                                 "AUDIT", "Limit", limit + 1, "ScanIndexForward", 0),
	                       start, on_audit_page, c, err);
	json_decref(start);
	if (rc < 0)
		free(c);
	return rc;
}

/* ---- fence --------------------------------------------------------------- */

int pf_catalog_fence_raise(struct pf_catalog *cat, const char *job_id, pf_catalog_admin_done_cb cb,
                           void *arg, struct pf_error *err)
{
	json_t *item = pf_catalog__key("FENCE", "FENCE");
	struct ctx *c;
	int rc;

	pf_catalog__set_s(item, "job", job_id);
	pf_catalog__set_n(item, "since", pf_now_ms());
	c = ctx_new(cat, arg);
	c->done = cb;
	rc = pf_dynamodb_put_item(pf_catalog__aws(cat), pf_catalog__table(cat), item,
	                          json_pack("{s:s,s:{s:s},s:{s:{s:s}}}", "ConditionExpression",
	                                    "attribute_not_exists(pk) OR #j = :j",
	                                    "ExpressionAttributeNames", "#j", "job",
	                                    "ExpressionAttributeValues", ":j", "S", job_id),
	                          on_done, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_lowered(json_t *response, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;

	/* Not ours (or gone already): nothing to lower, which is what was wanted. */
	if (err->code == PF_ECONFLICT)
		c->done(&(struct pf_error){0}, c->arg);
	else
		c->done(err, c->arg);
	free(c);
}

int pf_catalog_fence_lower(struct pf_catalog *cat, const char *job_id, pf_catalog_admin_done_cb cb,
                           void *arg, struct pf_error *err)
{
	struct ctx *c = ctx_new(cat, arg);
	int rc;

	c->done = cb;
	rc = pf_dynamodb_delete_item(pf_catalog__aws(cat), pf_catalog__table(cat),
	                             pf_catalog__key("FENCE", "FENCE"),
	                             json_pack("{s:s,s:{s:s},s:{s:{s:s}}}", "ConditionExpression",
	                                       "#j = :j", "ExpressionAttributeNames", "#j", "job",
	                                       "ExpressionAttributeValues", ":j", "S", job_id),
	                             on_lowered, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_fence_read(json_t *item, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;

	c->fence(!err->code && item != NULL, err, c->arg);
	free(c);
}

int pf_catalog_fence_is_up(struct pf_catalog *cat, pf_catalog_fence_cb cb, void *arg,
                           struct pf_error *err)
{
	struct ctx *c = ctx_new(cat, arg);
	int rc;

	c->fence = cb;
	rc = pf_dynamodb_get_item(pf_catalog__aws(cat), pf_catalog__table(cat),
	                          pf_catalog__key("FENCE", "FENCE"),
	                          json_pack("{s:b}", "ConsistentRead", 1), on_fence_read, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

/* ---- counts -------------------------------------------------------------- */

static void count_image(const struct pf_catalog_image *img, int64_t sign,
                        struct pf_catalog_counts *d)
{
	if (!img)
		return;
	if (img->status == PF_IMAGE_PROCESSED) {
		d->processed += sign;
		if (img->ncodes == 0)
			d->unmatched += sign;
	} else if (img->status == PF_IMAGE_FAILED) {
		d->failed += sign;
	}
}

void pf_catalog_counts_delta(const struct pf_catalog_image *old, const struct pf_catalog_image *img,
                             struct pf_catalog_counts *delta)
{
	memset(delta, 0, sizeof(*delta));
	count_image(old, -1, delta);
	count_image(img, 1, delta);
}

int pf_catalog_counts_add(struct pf_catalog *cat, const struct pf_catalog_counts *delta,
                          pf_catalog_done_cb cb, void *arg, struct pf_error *err)
{
	char p[32], u[32], f[32];
	struct ctx *c;
	int rc;

	if (!delta->processed && !delta->unmatched && !delta->failed) {
		cb(&(struct pf_error){0}, arg);
		return 0;
	}
	snprintf(p, sizeof(p), "%lld", (long long)delta->processed);
	snprintf(u, sizeof(u), "%lld", (long long)delta->unmatched);
	snprintf(f, sizeof(f), "%lld", (long long)delta->failed);
	c = ctx_new(cat, arg);
	c->done = cb;
	rc = pf_dynamodb_update_item(
	    pf_catalog__aws(cat), pf_catalog__table(cat), pf_catalog__key("COUNTS", "COUNTS"),
	    "ADD #p :p, #u :u, #f :f",
	    json_pack("{s:{s:s,s:s,s:s},s:{s:{s:s},s:{s:s},s:{s:s}}}", "ExpressionAttributeNames",
	              "#p", "processed", "#u", "unmatched", "#f", "failed",
	              "ExpressionAttributeValues", ":p", "N", p, ":u", "N", u, ":f", "N", f),
	    on_done, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_counts(json_t *item, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_catalog_counts counts = {0};

	if (!err->code && item) {
		get_n(item, "processed", &counts.processed);
		get_n(item, "unmatched", &counts.unmatched);
		get_n(item, "failed", &counts.failed);
	}
	c->counts(err->code ? NULL : &counts, err, c->arg);
	free(c);
}

int pf_catalog_counts_get(struct pf_catalog *cat, pf_catalog_counts_cb cb, void *arg,
                          struct pf_error *err)
{
	struct ctx *c = ctx_new(cat, arg);
	int rc;

	c->counts = cb;
	rc = pf_dynamodb_get_item(pf_catalog__aws(cat), pf_catalog__table(cat),
	                          pf_catalog__key("COUNTS", "COUNTS"), NULL, on_counts, c, err);
	if (rc < 0)
		free(c);
	return rc;
}
