/*
 * DynamoDB over the AWS transport, JSON protocol. Requests are jansson
 * values (never pasted strings); the helpers add TableName, follow
 * pagination, resend UnprocessedItems with backoff and turn a cancelled
 * transaction into a typed error with its reasons.
 *
 * Loop thread only (the cancellation parser: any thread). Guarantees: a
 * request value is always consumed (stolen) even when the call fails;
 * item contents never reach a log line.
 */
#include "photofinish/aws/dynamodb.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb_int.h"
#include "aws/retry_int.h"
#include "photofinish/aws/aws_http.h"
#include "photofinish/codec.h"
#include "photofinish/util.h"

#define DDB_RESPONSE_LIMIT (16 * 1024 * 1024)
#define DDB_BATCH_WRITE_MAX 25
#define DDB_BATCH_WRITE_ROUNDS 8

/* ---- pure ---- */

void pf_dynamodb__cancellation_error(json_t *doc, struct pf_error *err)
{
	json_t *reasons = json_object_get(doc, "CancellationReasons");
	struct pf_buf b;
	bool conflict = false;
	bool retryable = false;
	size_t nfailed = 0;

	pf_buf_init(&b);
	for (size_t i = 0; i < json_array_size(reasons); i++) {
		const char *code =
		    json_string_value(json_object_get(json_array_get(reasons, i), "Code"));

		if (!code || strcmp(code, "None") == 0)
			continue;
		if (strcmp(code, "ConditionalCheckFailed") == 0)
			conflict = true;
		if (strcmp(code, "TransactionConflict") == 0 ||
		    strcmp(code, "ThrottlingError") == 0 ||
		    strcmp(code, "ProvisionedThroughputExceeded") == 0)
			retryable = true;
		if (nfailed++ < 8)
			pf_buf_appendf(&b, "%s item %zu: %.40s", nfailed > 1 ? "," : "", i, code);
	}
	err->code = conflict ? PF_ECONFLICT : PF_EAWS;
	err->retryable = !conflict && retryable;
	snprintf(err->message, sizeof(err->message), "dynamodb: transaction cancelled:%s",
	         b.data ? b.data : " no reasons given");
	pf_buf_free(&b);
}

/* ---- operations ---- */

enum op_kind { OP_PLAIN, OP_GET, OP_TRANSACT, OP_PAGE, OP_ALL, OP_BATCH };

struct op {
	struct pf_aws *aws;
	enum op_kind kind;
	void *arg;
	pf_dynamodb_cb cb;
	pf_dynamodb_page_cb page_cb;
	char *operation;
	/* OP_ALL: pagination */
	json_t *params; /* request without ExclusiveStartKey */
	json_t *items;
	size_t max_items;
	size_t pages;
	/* OP_BATCH */
	json_t *pending;  /* array of [table, request] not yet sent */
	json_t *current;  /* RequestItems in flight */
	json_t *leftover; /* RequestItems given up on */
	int round;
	struct event *timer;
	struct pf_codec_jitter jitter;
};

static void op_free(struct op *o)
{
	if (!o)
		return;
	json_decref(o->params);
	json_decref(o->items);
	json_decref(o->pending);
	json_decref(o->current);
	json_decref(o->leftover);
	if (o->timer)
		event_free(o->timer);
	free(o->operation);
	free(o);
}

static struct op *op_new(struct pf_aws *aws, enum op_kind kind, const char *operation, void *arg)
{
	struct op *o = pf_xcalloc(1, sizeof(*o));

	o->aws = aws;
	o->kind = kind;
	o->arg = arg;
	o->operation = pf_xstrdup(operation);
	return o;
}

static void on_response(struct pf_aws_response *r, const struct pf_error *err, void *arg);

/* Sends o->operation with request (stolen). On error o is left to the caller. */
static int ddb_send(struct op *o, json_t *request, struct pf_error *err)
{
	char target[96];
	struct pf_aws_header h[2];
	struct pf_aws_request req = {
	    .service = PF_AWS_DYNAMODB,
	    .operation = o->operation,
	    .method = "POST",
	    .headers = h,
	    .nheaders = 2,
	    .free_body = true,
	    .max_response_bytes = DDB_RESPONSE_LIMIT,
	};
	char *body;

	snprintf(target, sizeof(target), "DynamoDB_20120810.%s", o->operation);
	h[0].name = "X-Amz-Target";
	h[0].value = target;
	h[1].name = "Content-Type";
	h[1].value = "application/x-amz-json-1.0";
	body = json_is_object(request) ? json_dumps(request, JSON_COMPACT) : NULL;
	json_decref(request);
	if (!body)
		return pf_error_set(err, PF_EINVAL, "dynamodb %s: request must be a JSON object",
		                    o->operation);
	req.body = body;
	req.body_len = strlen(body);
	return pf_aws_send(o->aws, &req, on_response, o, err);
}

static int start(struct op *o, json_t *request, struct pf_error *err)
{
	int rc = ddb_send(o, request, err);

	if (rc < 0)
		op_free(o);
	return rc;
}

static bool op_is_valid(const char *op)
{
	size_t n = op ? strlen(op) : 0;

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((op[i] >= 'a' && op[i] <= 'z') || (op[i] >= 'A' && op[i] <= 'Z')))
			return false;
	return true;
}

int pf_dynamodb_call(struct pf_aws *aws, const char *op, json_t *request, pf_dynamodb_cb cb,
                     void *arg, struct pf_error *err)
{
	if (!op_is_valid(op)) {
		json_decref(request);
		return pf_error_set(err, PF_EINVAL, "dynamodb: bad operation name");
	}
	struct op *o = op_new(aws, OP_PLAIN, op, arg);

	o->cb = cb;
	return start(o, request, err);
}

/* Builds {TableName, <name>: value} + extra; steals value and extra. */
static json_t *with_table(const char *table, const char *name, json_t *value, json_t *extra)
{
	json_t *req = json_object();

	if (extra && json_is_object(extra))
		json_object_update(req, extra);
	json_decref(extra);
	if (table)
		json_object_set_new(req, "TableName", json_string(table));
	if (name)
		json_object_set_new(req, name, value ? value : json_null());
	return req;
}

static int helper(struct pf_aws *aws, enum op_kind kind, const char *op, const char *table,
                  const char *name, json_t *value, json_t *extra, pf_dynamodb_cb cb, void *arg,
                  struct pf_error *err)
{
	struct op *o;

	if (!table || !*table || !json_is_object(value) || (extra && !json_is_object(extra))) {
		json_decref(value);
		json_decref(extra);
		return pf_error_set(err, PF_EINVAL,
		                    "dynamodb %s: table and an object value required", op);
	}
	o = op_new(aws, kind, op, arg);
	o->cb = cb;
	return start(o, with_table(table, name, value, extra), err);
}

int pf_dynamodb_put_item(struct pf_aws *aws, const char *table, json_t *item, json_t *extra,
                         pf_dynamodb_cb cb, void *arg, struct pf_error *err)
{
	return helper(aws, OP_PLAIN, "PutItem", table, "Item", item, extra, cb, arg, err);
}

int pf_dynamodb_get_item(struct pf_aws *aws, const char *table, json_t *key, json_t *extra,
                         pf_dynamodb_cb cb, void *arg, struct pf_error *err)
{
	return helper(aws, OP_GET, "GetItem", table, "Key", key, extra, cb, arg, err);
}

int pf_dynamodb_update_item(struct pf_aws *aws, const char *table, json_t *key,
                            const char *update_expression, json_t *extra, pf_dynamodb_cb cb,
                            void *arg, struct pf_error *err)
{
	if (!update_expression) {
		json_decref(key);
		json_decref(extra);
		return pf_error_set(err, PF_EINVAL,
		                    "dynamodb UpdateItem: update expression required");
	}
	if (!extra)
		extra = json_object();
	if (json_is_object(extra))
		json_object_set_new(extra, "UpdateExpression", json_string(update_expression));
	return helper(aws, OP_PLAIN, "UpdateItem", table, "Key", key, extra, cb, arg, err);
}

int pf_dynamodb_delete_item(struct pf_aws *aws, const char *table, json_t *key, json_t *extra,
                            pf_dynamodb_cb cb, void *arg, struct pf_error *err)
{
	return helper(aws, OP_PLAIN, "DeleteItem", table, "Key", key, extra, cb, arg, err);
}

static int paged(struct pf_aws *aws, const char *op, const char *table, json_t *params,
                 json_t *start_key, bool all, size_t max_items, pf_dynamodb_page_cb cb, void *arg,
                 struct pf_error *err)
{
	struct op *o;
	json_t *req;

	if (!table || !*table || (params && !json_is_object(params)) ||
	    (start_key && !json_is_object(start_key))) {
		json_decref(params);
		return pf_error_set(err, PF_EINVAL, "dynamodb %s: table and object params required",
		                    op);
	}
	req = with_table(table, NULL, NULL, params ? params : json_object());
	if (start_key)
		json_object_set(req, "ExclusiveStartKey", start_key);
	o = op_new(aws, all ? OP_ALL : OP_PAGE, op, arg);
	o->page_cb = cb;
	if (all) {
		o->params = json_deep_copy(req);
		o->items = json_array();
		o->max_items = max_items;
	}
	return start(o, req, err);
}

int pf_dynamodb_query(struct pf_aws *aws, const char *table, json_t *params,
                      json_t *exclusive_start_key, pf_dynamodb_page_cb cb, void *arg,
                      struct pf_error *err)
{
	return paged(aws, "Query", table, params, exclusive_start_key, false, 0, cb, arg, err);
}

int pf_dynamodb_scan(struct pf_aws *aws, const char *table, json_t *params,
                     json_t *exclusive_start_key, pf_dynamodb_page_cb cb, void *arg,
                     struct pf_error *err)
{
	return paged(aws, "Scan", table, params, exclusive_start_key, false, 0, cb, arg, err);
}

int pf_dynamodb_query_all(struct pf_aws *aws, const char *table, json_t *params, size_t max_items,
                          pf_dynamodb_page_cb cb, void *arg, struct pf_error *err)
{
	return paged(aws, "Query", table, params, NULL, true, max_items, cb, arg, err);
}

int pf_dynamodb_scan_all(struct pf_aws *aws, const char *table, json_t *params, size_t max_items,
                         pf_dynamodb_page_cb cb, void *arg, struct pf_error *err)
{
	return paged(aws, "Scan", table, params, NULL, true, max_items, cb, arg, err);
}

int pf_dynamodb_transact_write(struct pf_aws *aws, json_t *transact_items, json_t *extra,
                               pf_dynamodb_cb cb, void *arg, struct pf_error *err)
{
	struct op *o;
	size_t n = json_array_size(transact_items);

	if (!json_is_array(transact_items) || n == 0 || n > 100 ||
	    (extra && !json_is_object(extra))) {
		json_decref(transact_items);
		json_decref(extra);
		return pf_error_set(err, PF_EINVAL,
		                    "dynamodb TransactWriteItems: 1..100 TransactItems required");
	}
	o = op_new(aws, OP_TRANSACT, "TransactWriteItems", arg);
	o->cb = cb;
	return start(o, with_table(NULL, "TransactItems", transact_items, extra), err);
}

/* ---- BatchWriteItem ---- */

static int batch_send_next(struct op *o, struct pf_error *err);

static void batch_finish(struct op *o, const struct pf_error *err)
{
	struct pf_error e;

	if (err->code == 0 && json_object_size(o->leftover) > 0) {
		e = *err;
		pf_error_set(&e, PF_EAWS,
		             "dynamodb BatchWriteItem: items still unprocessed after %d rounds",
		             DDB_BATCH_WRITE_ROUNDS);
		snprintf(e.service_code, sizeof(e.service_code), "UnprocessedItems");
		e.retryable = true;
		o->cb(o->leftover, &e, o->arg);
	} else {
		o->cb(err->code ? o->leftover : NULL, err, o->arg);
	}
	op_free(o);
}

static void merge_items(json_t *into, json_t *request_items)
{
	const char *table;
	json_t *reqs;

	json_object_foreach(request_items, table, reqs)
	{
		json_t *arr = json_object_get(into, table);

		if (!arr) {
			arr = json_array();
			json_object_set_new(into, table, arr);
		}
		json_array_extend(arr, reqs);
	}
}

static void batch_timer(evutil_socket_t fd, short what, void *arg)
{
	struct op *o = arg;
	struct pf_error e;
	json_t *req;

	pf_error_clear(&e);
	req = json_pack("{s:O}", "RequestItems", o->current);
	if (ddb_send(o, req, &e) < 0) {
		merge_items(o->leftover, o->current);
		batch_finish(o, &e);
	}
}

static void batch_response(struct op *o, json_t *doc, const struct pf_error *err)
{
	json_t *unprocessed = json_object_get(doc, "UnprocessedItems");
	struct pf_error e;
	struct timeval tv;
	int64_t delay;

	pf_error_clear(&e);
	if (err->code) {
		merge_items(o->leftover, o->current);
		for (size_t i = 0; i < json_array_size(o->pending); i++) {
			json_t *pair = json_array_get(o->pending, i);
			json_t *one = json_object();

			json_object_set_new(one, json_string_value(json_array_get(pair, 0)),
			                    json_pack("[O]", json_array_get(pair, 1)));
			merge_items(o->leftover, one);
			json_decref(one);
		}
		batch_finish(o, err);
		return;
	}
	if (json_object_size(unprocessed) > 0) {
		if (++o->round > DDB_BATCH_WRITE_ROUNDS) {
			merge_items(o->leftover, unprocessed);
		} else {
			json_decref(o->current);
			o->current = json_incref(unprocessed);
			delay =
			    pf_aws__backoff_ms(o->round, true, pf_codec_jitter_next(&o->jitter));
			tv.tv_sec = (time_t)(delay / 1000);
			tv.tv_usec = (suseconds_t)((delay % 1000) * 1000);
			evtimer_add(o->timer, &tv);
			return;
		}
	}
	if (batch_send_next(o, &e) < 0)
		batch_finish(o, &e);
	else if (!o->current)
		batch_finish(o, &e);
}

/* Sends the next chunk of up to 25 requests; o->current is NULL when all were sent. */
static int batch_send_next(struct op *o, struct pf_error *err)
{
	json_t *chunk;
	size_t n = 0;

	json_decref(o->current);
	o->current = NULL;
	o->round = 0;
	if (json_array_size(o->pending) == 0)
		return 0;
	chunk = json_object();
	while (n < DDB_BATCH_WRITE_MAX && json_array_size(o->pending) > 0) {
		json_t *pair = json_array_get(o->pending, 0);
		const char *table = json_string_value(json_array_get(pair, 0));
		json_t *arr = json_object_get(chunk, table);

		if (!arr) {
			arr = json_array();
			json_object_set_new(chunk, table, arr);
		}
		json_array_append(arr, json_array_get(pair, 1));
		json_array_remove(o->pending, 0);
		n++;
	}
	o->current = chunk;
	if (ddb_send(o, json_pack("{s:O}", "RequestItems", chunk), err) < 0) {
		merge_items(o->leftover, chunk);
		json_decref(o->current);
		o->current = NULL;
		return err->code;
	}
	return 0;
}

int pf_dynamodb_batch_write(struct pf_aws *aws, json_t *request_items, pf_dynamodb_cb cb, void *arg,
                            struct pf_error *err)
{
	struct op *o;
	const char *table;
	json_t *reqs;
	int rc;

	if (!json_is_object(request_items) || json_object_size(request_items) == 0) {
		json_decref(request_items);
		return pf_error_set(err, PF_EINVAL,
		                    "dynamodb BatchWriteItem: RequestItems required");
	}
	o = op_new(aws, OP_BATCH, "BatchWriteItem", arg);
	o->cb = cb;
	o->pending = json_array();
	o->leftover = json_object();
	pf_codec_jitter_init(&o->jitter, (uint64_t)pf_now_ms() * 0x9E3779B97F4A7C15ULL | 1);
	json_object_foreach(request_items, table, reqs)
	{
		if (!json_is_array(reqs)) {
			json_decref(request_items);
			op_free(o);
			return pf_error_set(err, PF_EINVAL,
			                    "dynamodb BatchWriteItem: each table needs an array");
		}
		for (size_t i = 0; i < json_array_size(reqs); i++)
			json_array_append_new(o->pending,
			                      json_pack("[sO]", table, json_array_get(reqs, i)));
	}
	json_decref(request_items);
	o->timer = evtimer_new(pf_aws_base(aws), batch_timer, o);
	if (!o->timer || json_array_size(o->pending) == 0) {
		op_free(o);
		return pf_error_set(err, PF_EINVAL, "dynamodb BatchWriteItem: no requests");
	}
	rc = batch_send_next(o, err);
	if (rc < 0)
		op_free(o);
	return rc;
}

/* ---- responses ---- */

static void page_response(struct op *o, json_t *doc, const struct pf_error *err)
{
	json_t *items = json_object_get(doc, "Items");
	json_t *lek = json_object_get(doc, "LastEvaluatedKey");
	struct pf_error e;
	json_t *summary;
	json_t *req;

	pf_error_clear(&e);
	if (err->code || !json_is_array(items)) {
		if (!err->code)
			pf_error_set(&e, PF_EAWS, "dynamodb %s: response without Items",
			             o->operation);
		o->page_cb(NULL, NULL, doc, err->code ? err : &e, o->arg);
		op_free(o);
		return;
	}
	if (o->kind == OP_PAGE) {
		o->page_cb(items, json_is_object(lek) ? lek : NULL, doc, err, o->arg);
		op_free(o);
		return;
	}
	o->pages++;
	json_array_extend(o->items, items);
	if (o->max_items && json_array_size(o->items) >= o->max_items)
		lek = json_is_object(lek) ? lek : NULL;
	else if (json_is_object(lek)) {
		req = json_deep_copy(o->params);
		json_object_set(req, "ExclusiveStartKey", lek);
		if (ddb_send(o, req, &e) == 0)
			return;
		o->page_cb(NULL, NULL, NULL, &e, o->arg);
		op_free(o);
		return;
	} else {
		lek = NULL;
	}
	summary = json_pack("{s:I, s:I}", "Pages", (json_int_t)o->pages, "Count",
	                    (json_int_t)json_array_size(o->items));
	o->page_cb(o->items, lek, summary, err, o->arg);
	json_decref(summary);
	op_free(o);
}

static void on_response(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	json_error_t jerr;
	json_t *doc = NULL;
	struct pf_error e = *err;

	if (r->body && r->body_len)
		doc = json_loadb(r->body, r->body_len, 0, &jerr);
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
	}
	if (!err->code && !doc)
		pf_error_set(&e, PF_EAWS, "dynamodb %s: response is not a JSON object",
		             o->operation);
	if (e.code && strcmp(e.service_code, "TransactionCanceledException") == 0)
		pf_dynamodb__cancellation_error(doc, &e);

	switch (o->kind) {
	case OP_PAGE:
	case OP_ALL:
		page_response(o, doc, &e);
		break;
	case OP_BATCH:
		batch_response(o, doc, &e);
		break;
	case OP_GET:
		o->cb(e.code ? doc : json_object_get(doc, "Item"), &e, o->arg);
		op_free(o);
		break;
	default:
		o->cb(doc, &e, o->arg);
		op_free(o);
	}
	json_decref(doc);
}
