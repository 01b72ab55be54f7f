/*
 * The catalog's operations over DynamoDB (and, for removals, the processed
 * bucket). Loop thread only; every callback follows the AWS client's
 * contract. The storage format lives in catalog_item.c.
 */
#include "catalog_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/dynamodb.h"
#include "photofinish/aws/s3.h"
#include "photofinish/codec.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

/* Items deleted per clearing step: one Scan page, four BatchWriteItem calls. */
#define CLEAR_PAGE_ITEMS 100

struct pf_catalog {
	struct pf_aws *aws;
	char *table;
	size_t background; /* counter updates after photo writes still in flight */
};

int pf_catalog_new(struct pf_aws *aws, const char *table, struct pf_catalog **out,
                   struct pf_error *err)
{
	struct pf_catalog *cat = pf_xcalloc(1, sizeof(*cat));

	cat->aws = aws;
	cat->table = pf_xstrdup(table);
	*out = cat;
	return 0;
}

void pf_catalog_free(struct pf_catalog *cat)
{
	if (!cat)
		return;
	free(cat->table);
	free(cat);
}

/* ---- one image ------------------------------------------------------------ */

struct get_ctx {
	pf_catalog_image_cb cb;
	void *arg;
};

static void on_get(json_t *item, const struct pf_error *err, void *arg)
{
	struct get_ctx *ctx = arg;
	struct pf_catalog_image img;
	struct pf_error perr;

	if (err->code || !item) {
		ctx->cb(NULL, err, ctx->arg);
	} else if (pf_catalog_image_from_item(item, &img, &perr) < 0) {
		ctx->cb(NULL, &perr, ctx->arg);
	} else {
		ctx->cb(&img, err, ctx->arg);
		pf_catalog_image_free(&img);
	}
	free(ctx);
}

int pf_catalog_get(struct pf_catalog *cat, const char *id, pf_catalog_image_cb cb, void *arg,
                   struct pf_error *err)
{
	struct get_ctx *ctx = pf_xmalloc(sizeof(*ctx));
	char pk[8 + PF_CATALOG_ID_LEN];
	int rc;

	pf_catalog__image_pk(id, pk);
	ctx->cb = cb;
	ctx->arg = arg;
	rc = pf_dynamodb_get_item(cat->aws, cat->table, pf_catalog__key(pk, "IMAGE"),
	                          json_pack("{s:b}", "ConsistentRead", 1), on_get, ctx, err);
	if (rc < 0)
		free(ctx);
	return rc;
}

/* ---- many images (a status display) ------------------------------------------- */

#define GET_MANY_REQUESTS 3

struct get_many_ctx {
	struct pf_catalog *cat;
	pf_catalog_images_cb cb;
	void *arg;
	size_t n;
	char (*ids)[PF_CATALOG_ID_LEN + 1];
	struct pf_catalog_image *found; /* found[i] read for ids[i] when have[i] */
	bool *have;
	int requests;
};

static void get_many_free(struct get_many_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n; i++)
		if (ctx->have[i])
			pf_catalog_image_free(&ctx->found[i]);
	free(ctx->found);
	free(ctx->have);
	free(ctx->ids);
	free(ctx);
}

static void get_many_finish(struct get_many_ctx *ctx, const struct pf_error *err)
{
	const struct pf_catalog_image **imgs = NULL;

	if (!err->code) {
		imgs = pf_xcalloc(ctx->n, sizeof(*imgs));
		for (size_t i = 0; i < ctx->n; i++) {
			/* A repeated id gets the image read for its first place. */
			for (size_t j = 0; j <= i && !imgs[i]; j++)
				if (ctx->have[j] && !strcmp(ctx->ids[j], ctx->ids[i]))
					imgs[i] = &ctx->found[j];
		}
	}
	ctx->cb(imgs, ctx->n, err, ctx->arg);
	free(imgs);
	get_many_free(ctx);
}

static int get_many_send(struct get_many_ctx *ctx, json_t *request_items, struct pf_error *err);

static void on_get_many(json_t *response, const struct pf_error *err, void *arg)
{
	struct get_many_ctx *ctx = arg;
	const char *table = ctx->cat->table;
	const json_t *items = json_object_get(json_object_get(response, "Responses"), table);
	const json_t *left = json_object_get(json_object_get(response, "UnprocessedKeys"), table);
	const json_t *item;
	struct pf_error e;
	size_t k;

	if (err->code) {
		get_many_finish(ctx, err);
		return;
	}
	json_array_foreach(items, k, item)
	{
		struct pf_catalog_image img;
		size_t i;

		if (pf_catalog_image_from_item(item, &img, &e) < 0) {
			get_many_finish(ctx, &e);
			return;
		}
		for (i = 0; i < ctx->n && (ctx->have[i] || strcmp(ctx->ids[i], img.id)); i++)
			;
		if (i == ctx->n) {
			pf_catalog_image_free(&img); /* not asked for, or read twice */
			continue;
		}
		ctx->found[i] = img;
		ctx->have[i] = true;
	}
	if (json_array_size(json_object_get(left, "Keys"))) {
		if (ctx->requests >= GET_MANY_REQUESTS) {
			pf_error_set(&e, PF_EAWS,
			             "DynamoDB left %zu photos unread after %d requests; try again",
			             json_array_size(json_object_get(left, "Keys")),
			             GET_MANY_REQUESTS);
			e.retryable = true;
			get_many_finish(ctx, &e);
			return;
		}
		if (get_many_send(ctx, json_pack("{s:O}", table, left), &e) < 0)
			get_many_finish(ctx, &e);
		return;
	}
	pf_error_clear(&e);
	get_many_finish(ctx, &e);
}

static int get_many_send(struct get_many_ctx *ctx, json_t *request_items, struct pf_error *err)
{
	ctx->requests++;
	return pf_dynamodb_call(ctx->cat->aws, "BatchGetItem",
	                        json_pack("{s:o}", "RequestItems", request_items), on_get_many, ctx,
	                        err);
}

int pf_catalog_get_many(struct pf_catalog *cat, const char *const *ids, size_t n,
                        pf_catalog_images_cb cb, void *arg, struct pf_error *err)
{
	struct get_many_ctx *ctx;
	json_t *keys;

	if (n < 1 || n > PF_CATALOG_GET_MANY_MAX) {
		pf_error_set(err, PF_EINVAL, "read 1 to %d photos at once, not %zu",
		             PF_CATALOG_GET_MANY_MAX, n);
		return -1;
	}
	ctx = pf_xcalloc(1, sizeof(*ctx));
	ctx->cat = cat;
	ctx->cb = cb;
	ctx->arg = arg;
	ctx->n = n;
	ctx->ids = pf_xcalloc(n, sizeof(*ctx->ids));
	ctx->found = pf_xcalloc(n, sizeof(*ctx->found));
	ctx->have = pf_xcalloc(n, sizeof(*ctx->have));
	keys = json_array();
	for (size_t i = 0; i < n; i++) {
		char pk[8 + PF_CATALOG_ID_LEN];
		size_t j;

		snprintf(ctx->ids[i], sizeof(ctx->ids[i]), "%s", ids[i]);
		/* BatchGetItem refuses a request that names a key twice. */
		for (j = 0; j < i && strcmp(ctx->ids[j], ctx->ids[i]); j++)
			;
		if (j < i)
			continue;
		pf_catalog__image_pk(ctx->ids[i], pk);
		json_array_append_new(keys, pf_catalog__key(pk, "IMAGE"));
	}
	if (get_many_send(ctx, json_pack("{s:{s:o}}", cat->table, "Keys", keys), err) < 0) {
		get_many_free(ctx);
		return -1;
	}
	return 0;
}

struct done_ctx {
	pf_catalog_done_cb cb;
	void *arg;
	struct pf_catalog *cat;
	struct pf_catalog_counts delta;        /* what the write changes in the counts */
	struct pf_catalog__index_delta *index; /* and in the code index */
};

bool pf_catalog_is_fenced(const struct pf_error *err)
{
	return err->code == PF_EAWS && !strcmp(err->service_code, "CatalogFenced");
}

static void on_counted(const struct pf_error *err, void *arg)
{
	pf_catalog__background(arg, -1);
	if (err->code)
		pf_warn("photo counts not updated", PF_LS("error", err->message));
}

static void on_write(json_t *response, const struct pf_error *err, void *arg)
{
	struct done_ctx *ctx = arg;
	const json_t *reasons = json_object_get(response, "CancellationReasons");
	const char *last = json_string_value(
	    json_object_get(json_array_get(reasons, json_array_size(reasons) - 1), "Code"));
	struct pf_error e;

	if (err->code == PF_ECONFLICT && last && !strcmp(last, "ConditionalCheckFailed")) {
		/* The fence (the last item) failed: a clear is running. */
		pf_error_set(&e, PF_EAWS,
		             "a clear or reset of the race is running; the photo waits");
		snprintf(e.service_code, sizeof(e.service_code), "CatalogFenced");
		e.retryable = true;
		ctx->cb(&e, ctx->arg);
		pf_catalog__index_delta_free(ctx->index);
		free(ctx);
		return;
	}
	if (!err->code) {
		pf_catalog__background(ctx->cat, 1);
		if (pf_catalog_counts_add(ctx->cat, &ctx->delta, on_counted, ctx->cat, &e) < 0)
			on_counted(&e, ctx->cat);
	}
	if (!err->code)
		pf_catalog__index_apply(ctx->cat, ctx->index);
	else
		pf_catalog__index_delta_free(ctx->index);
	ctx->cb(err, ctx->arg);
	free(ctx);
}

int pf_catalog_write(struct pf_catalog *cat, const struct pf_catalog_image *img,
                     const struct pf_catalog_image *old, pf_catalog_done_cb cb, void *arg,
                     struct pf_error *err)
{
	struct done_ctx *ctx = pf_xmalloc(sizeof(*ctx));
	json_t *items;
	char *text;
	char token[65];
	int rc;

	ctx->cb = cb;
	ctx->arg = arg;
	ctx->cat = cat;
	pf_catalog_counts_delta(old, img, &ctx->delta);
	ctx->index = pf_catalog__index_delta_new(old, img);
	items = pf_catalog_transact_items(cat->table, img, old);
	/* The same token for the same items: a transport retry of a write that
	 * did commit succeeds instead of failing its own condition. */
	text = json_dumps(items, JSON_COMPACT | JSON_SORT_KEYS);
	pf_codec_sha256_hex(text, strlen(text), token);
	token[32] = '\0';
	free(text);
	rc = pf_dynamodb_transact_write(
	    cat->aws, items, json_pack("{s:s}", "ClientRequestToken", token), on_write, ctx, err);
	if (rc < 0) {
		pf_catalog__index_delta_free(ctx->index);
		free(ctx);
	}
	return rc;
}

/* ---- removing a photo ----------------------------------------------------- */

struct delete_ctx {
	struct pf_catalog *cat;
	struct pf_catalog_image img;
	struct pf_catalog_image old;
	bool has_old;
	pf_catalog_done_cb cb;
	void *arg;
};

static void delete_ctx_free(struct delete_ctx *ctx)
{
	pf_catalog_image_free(&ctx->img);
	pf_catalog_image_free(&ctx->old);
	free(ctx);
}

static void on_tombstone_written(const struct pf_error *err, void *arg)
{
	struct delete_ctx *ctx = arg;

	ctx->cb(err, ctx->arg);
	delete_ctx_free(ctx);
}

static void on_variants_deleted(const struct pf_s3_delete_result *res, const struct pf_error *err,
                                void *arg)
{
	struct delete_ctx *ctx = arg;
	struct pf_error e = *err;

	if (!e.code && res->nerrors)
		pf_error_set(&e, PF_EAWS, "S3 refused to delete %zu variants", res->nerrors);
	if (!e.code && pf_catalog_write(ctx->cat, &ctx->img, ctx->has_old ? &ctx->old : NULL,
	                                on_tombstone_written, ctx, &e) == 0)
		return;
	ctx->cb(&e, ctx->arg);
	delete_ctx_free(ctx);
}

int pf_catalog_delete_photo(struct pf_catalog *cat, const char *processed_bucket,
                            const struct pf_catalog_image *img, const struct pf_catalog_image *old,
                            pf_catalog_done_cb cb, void *arg, struct pf_error *err)
{
	struct delete_ctx *ctx = pf_xcalloc(1, sizeof(*ctx));
	const char *keys[PF_CATALOG_MAX_VARIANTS];
	size_t n = 0;
	int rc;

	ctx->cat = cat;
	ctx->cb = cb;
	ctx->arg = arg;
	pf_catalog_image_copy(&ctx->img, img);
	pf_catalog_image_make_tombstone(&ctx->img);
	if (old) {
		ctx->has_old = true;
		pf_catalog_image_copy(&ctx->old, old);
		/* ctx->old owns copies that live as long as the request. */
		n = pf_catalog_image_variant_keys(&ctx->old, keys);
	}
	rc = pf_s3_delete_objects(cat->aws, processed_bucket, keys, n, on_variants_deleted, ctx,
	                          err);
	if (rc < 0)
		delete_ctx_free(ctx);
	return rc;
}

/* ---- listings ------------------------------------------------------------- */

struct page_ctx {
	pf_catalog_page_cb cb;
	void *arg;
	int limit;
};

static void on_page(json_t *items, json_t *last_evaluated_key, json_t *page,
                    const struct pf_error *err, void *arg)
{
	struct page_ctx *ctx = arg;
	struct pf_catalog_image *entries = NULL;
	struct pf_catalog_page out = {0};
	struct pf_error perr = *err;
	char *cursor = NULL;
	const char *sk = pf_catalog__get_s(last_evaluated_key, "sk");
	size_t n = err->code ? 0 : json_array_size(items);

	/* One item more than asked was requested: it only says whether another
	 * page exists, so a reader never follows a cursor to an empty page. */
	if (n > (size_t)ctx->limit) {
		n = (size_t)ctx->limit;
		sk = pf_catalog__get_s(json_array_get(items, n - 1), "sk");
	}
	entries = pf_xcalloc(n + 1, sizeof(*entries));
	for (size_t i = 0; i < n && !perr.code; i++) {
		if (pf_catalog_entry_from_item(json_array_get(items, i), &entries[i], &perr) == 0)
			out.count++;
	}
	if (!perr.code && sk)
		cursor = pf_catalog_cursor_encode(sk);
	out.entries = entries;
	out.next_cursor = cursor;
	ctx->cb(perr.code ? NULL : &out, &perr, ctx->arg);
	for (size_t i = 0; i < out.count; i++)
		pf_catalog_image_free(&entries[i]);
	free(entries);
	free(cursor);
	free(ctx);
}

/* A page of the entries under pk, oldest first. */
static int list_partition(struct pf_catalog *cat, const char *pk,
                          const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                          void *arg, struct pf_error *err)
{
	return pf_catalog__list_window(cat, pk, NULL, NULL, false, opts, cb, arg, err);
}

int pf_catalog__list_window(struct pf_catalog *cat, const char *pk, const char *from,
                            const char *to, bool descending,
                            const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                            void *arg, struct pf_error *err)
{
	struct page_ctx *ctx;
	json_t *start = NULL, *params;
	int rc;

	if (opts->limit < 1 || opts->limit > PF_CATALOG_MAX_PAGE)
		return pf_error_set(err, PF_EINVAL, "a page holds 1 to %d entries",
		                    PF_CATALOG_MAX_PAGE);
	if (opts->cursor) {
		char *sk = pf_catalog_cursor_decode(opts->cursor);

		if (!sk)
			return pf_error_set(err, PF_EINVAL, "cursor is malformed");
		start = pf_catalog__key(pk, sk);
		free(sk);
	}
	if (from && to)
		params =
		    json_pack("{s:s,s:{s:{s:s},s:{s:s},s:{s:s}},s:i,s:b}", "KeyConditionExpression",
		              "pk = :pk AND sk BETWEEN :from AND :to", "ExpressionAttributeValues",
		              ":pk", "S", pk, ":from", "S", from, ":to", "S", to, "Limit",
		              opts->limit + 1, "ScanIndexForward", !descending);
	else
		params = json_pack("{s:s,s:{s:{s:s}},s:i,s:b}", "KeyConditionExpression",
		                   "pk = :pk", "ExpressionAttributeValues", ":pk", "S", pk, "Limit",
		                   opts->limit + 1, "ScanIndexForward", !descending);
	ctx = pf_xcalloc(1, sizeof(*ctx));
	ctx->cb = cb;
	ctx->arg = arg;
	ctx->limit = opts->limit;
	rc = pf_dynamodb_query(cat->aws, cat->table, params, start, on_page, ctx, err);
	json_decref(start);
	if (rc < 0)
		free(ctx);
	return rc;
}

int pf_catalog_list_name(struct pf_catalog *cat, const char *name,
                         const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                         void *arg, struct pf_error *err)
{
	char *pk;
	int rc;

	if (!*name || strlen(name) > 1024 || strchr(name, '/'))
		return pf_error_set(err, PF_EINVAL, "a file name is 1 to 1024 bytes without '/'");
	pk = pf_catalog__name_pk(name);
	rc = list_partition(cat, pk, opts, cb, arg, err);
	free(pk);
	return rc;
}

int pf_catalog_list_code(struct pf_catalog *cat, const char *code,
                         const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                         void *arg, struct pf_error *err)
{
	char *pk = pf_xasprintf("CODE#%s", code);
	int rc = list_partition(cat, pk, opts, cb, arg, err);

	free(pk);
	return rc;
}

int pf_catalog_list_unmatched(struct pf_catalog *cat, const struct pf_catalog_page_options *opts,
                              pf_catalog_page_cb cb, void *arg, struct pf_error *err)
{
	return list_partition(cat, "UNMATCHED", opts, cb, arg, err);
}

int pf_catalog_list_failed(struct pf_catalog *cat, const struct pf_catalog_page_options *opts,
                           pf_catalog_page_cb cb, void *arg, struct pf_error *err)
{
	return list_partition(cat, "FAILED", opts, cb, arg, err);
}

/* ---- clearing ------------------------------------------------------------- */

struct clear_ctx {
	struct pf_catalog *cat;
	pf_catalog_clear_cb cb;
	void *arg;
	size_t batch;
	char *next; /* the Scan's LastEvaluatedKey as JSON text */
};

static void clear_finish(struct clear_ctx *ctx, const struct pf_error *err)
{
	ctx->cb(err->code ? 0 : ctx->batch, err->code ? NULL : ctx->next, err, ctx->arg);
	free(ctx->next);
	free(ctx);
}

static void on_items_deleted(json_t *response, const struct pf_error *err, void *arg)
{
	clear_finish(arg, err);
}

static void on_clear_scan(json_t *items, json_t *last_evaluated_key, json_t *page,
                          const struct pf_error *err, void *arg)
{
	struct clear_ctx *ctx = arg;
	json_t *requests;
	size_t i;
	json_t *item;
	struct pf_error e;

	if (err->code) {
		clear_finish(ctx, err);
		return;
	}
	ctx->next = last_evaluated_key ? json_dumps(last_evaluated_key, JSON_COMPACT) : NULL;
	ctx->batch = json_array_size(items);
	if (ctx->batch == 0) {
		clear_finish(ctx, err);
		return;
	}
	requests = json_array();
	json_array_foreach(items, i, item)
	{
		json_array_append_new(requests, json_pack("{s:{s:{s:O,s:O}}}", "DeleteRequest",
		                                          "Key", "pk", json_object_get(item, "pk"),
		                                          "sk", json_object_get(item, "sk")));
	}
	if (pf_dynamodb_batch_write(ctx->cat->aws, json_pack("{s:o}", ctx->cat->table, requests),
	                            on_items_deleted, ctx, &e) < 0)
		clear_finish(ctx, &e);
}

int pf_catalog_clear_step(struct pf_catalog *cat, const char *from, pf_catalog_clear_cb cb,
                          void *arg, struct pf_error *err)
{
	struct clear_ctx *ctx;
	json_t *start = NULL;
	int rc;

	if (from) {
		start = json_loads(from, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(start)) {
			json_decref(start);
			return pf_error_set(err, PF_EINVAL, "not a clearing position");
		}
	}
	ctx = pf_xcalloc(1, sizeof(*ctx));
	ctx->cat = cat;
	ctx->cb = cb;
	ctx->arg = arg;
	/* Photos only: the operators' jobs, audit trail, fence and camera
	 * clock offsets stay. */
	rc = pf_dynamodb_scan(
	    cat->aws, cat->table,
	    json_pack("{s:s,s:s,s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s}},s:i}", "ProjectionExpression",
	              "pk, sk", "FilterExpression", "NOT (pk IN (:job, :audit, :fence, :clock))",
	              "ExpressionAttributeValues", ":job", "S", "JOB", ":audit", "S", "AUDIT",
	              ":fence", "S", "FENCE", ":clock", "S", "CLOCK", "Limit", CLEAR_PAGE_ITEMS),
	    start, on_clear_scan, ctx, err);
	json_decref(start);
	if (rc < 0)
		free(ctx);
	return rc;
}

void pf_catalog__background(struct pf_catalog *cat, int delta)
{
	if (delta < 0 && cat->background > 0)
		cat->background--;
	else if (delta > 0)
		cat->background++;
}

size_t pf_catalog_background(const struct pf_catalog *cat)
{
	return cat->background;
}

struct pf_aws *pf_catalog__aws(const struct pf_catalog *cat)
{
	return cat->aws;
}

const char *pf_catalog__table(const struct pf_catalog *cat)
{
	return cat->table;
}
