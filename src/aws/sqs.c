/*
 * SQS over the AWS transport, JSON protocol. Requests are jansson values
 * serialised once; responses are parsed by the pure functions shared with
 * the unit tests and fuzz targets (sqs_int.h).
 *
 * Loop thread only (parsers: any thread). Guarantees: batch results come
 * back per entry in the caller's order, an entry missing from SQS's answer
 * counts as failed (never silently as done); message bodies and receipt
 * handles are never logged.
 */
#include "photofinish/aws/sqs.h"

#include <stdlib.h>
#include <string.h>

#include "aws/sqs_int.h"
#include "photofinish/aws/aws_http.h"
#include "photofinish/util.h"

#define SQS_RESPONSE_LIMIT (8 * 1024 * 1024)

/* ---- pure parsers ---- */

static char *dup_member(json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s ? pf_xstrdup(s) : NULL;
}

void pf_sqs__messages_free(struct pf_sqs_message *msgs, size_t n)
{
	if (!msgs)
		return;
	for (size_t i = 0; i < n; i++) {
		free(msgs[i].message_id);
		free(msgs[i].receipt_handle);
		free(msgs[i].body);
		free(msgs[i].md5_of_body);
		json_decref(msgs[i].attributes);
		json_decref(msgs[i].message_attributes);
	}
	free(msgs);
}

static json_t *load_object(const char *body, size_t len)
{
	json_t *doc;
	json_error_t jerr;

	if (!body || len == 0)
		return json_object();
	doc = json_loadb(body, len, 0, &jerr);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int pf_sqs__parse_messages(const char *body, size_t len, struct pf_sqs_message **out, size_t *nout,
                           struct pf_error *err)
{
	json_t *doc = load_object(body, len);
	json_t *arr;
	struct pf_sqs_message *msgs = NULL;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (!doc)
		return pf_error_set(err, PF_EAWS,
		                    "sqs ReceiveMessage: response is not a JSON object");
	arr = json_object_get(doc, "Messages");
	if (arr && !json_is_array(arr)) {
		rc = pf_error_set(err, PF_EAWS, "sqs ReceiveMessage: Messages is not an array");
		goto out;
	}
	msgs = pf_xcalloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof(*msgs));
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *m = json_array_get(arr, i);
		struct pf_sqs_message *msg = &msgs[n];
		json_t *attrs;
		const char *v;
		int64_t num;

		if (!json_is_object(m) || !json_is_string(json_object_get(m, "ReceiptHandle")) ||
		    !json_is_string(json_object_get(m, "Body"))) {
			rc = pf_error_set(
			    err, PF_EAWS,
			    "sqs ReceiveMessage: message without ReceiptHandle or Body");
			goto out;
		}
		n++;
		msg->message_id = dup_member(m, "MessageId");
		msg->receipt_handle = dup_member(m, "ReceiptHandle");
		msg->body = dup_member(m, "Body");
		msg->md5_of_body = dup_member(m, "MD5OfBody");
		attrs = json_object_get(m, "Attributes");
		msg->attributes = json_is_object(attrs) ? json_incref(attrs) : json_object();
		v = json_string_value(json_object_get(msg->attributes, "ApproximateReceiveCount"));
		if (v && pf_parse_int64(v, 0, INT32_MAX, &num))
			msg->receive_count = (int)num;
		v = json_string_value(json_object_get(msg->attributes, "SentTimestamp"));
		if (v && pf_parse_int64(v, 0, INT64_MAX, &num))
			msg->sent_timestamp = num;
		attrs = json_object_get(m, "MessageAttributes");
		msg->message_attributes = json_is_object(attrs) ? json_incref(attrs) : NULL;
	}
	*out = msgs;
	*nout = n;
	msgs = NULL;
out:
	pf_sqs__messages_free(msgs, n);
	json_decref(doc);
	return rc;
}

static json_t *find_entry(json_t *arr, const char *id)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *e = json_array_get(arr, i);
		const char *eid = json_string_value(json_object_get(e, "Id"));

		if (eid && strcmp(eid, id) == 0)
			return e;
	}
	return NULL;
}

int pf_sqs__parse_batch(const char *body, size_t len, const char *const *ids, size_t n,
                        json_t **docp, struct pf_sqs_batch_result *res, struct pf_error *err)
{
	json_t *doc = load_object(body, len);
	json_t *ok, *failed;

	memset(res, 0, sizeof(*res));
	*docp = NULL;
	if (!doc)
		return pf_error_set(err, PF_EAWS, "sqs batch: response is not a JSON object");
	ok = json_object_get(doc, "Successful");
	failed = json_object_get(doc, "Failed");
	res->entries = pf_xcalloc(n ? n : 1, sizeof(*res->entries));
	res->n = n;
	for (size_t i = 0; i < n; i++) {
		struct pf_sqs_batch_entry_result *r = &res->entries[i];
		json_t *f = find_entry(failed, ids[i]);
		json_t *s = f ? NULL : find_entry(ok, ids[i]);

		r->id = ids[i];
		if (s) {
			r->ok = true;
			r->message_id = json_string_value(json_object_get(s, "MessageId"));
			continue;
		}
		res->nfailed++;
		if (f) {
			r->code = json_string_value(json_object_get(f, "Code"));
			r->message = json_string_value(json_object_get(f, "Message"));
			r->sender_fault = json_is_true(json_object_get(f, "SenderFault"));
		}
		if (!r->code)
			r->code = "MissingFromResponse";
		if (!r->message)
			r->message = "SQS did not report this entry";
	}
	*docp = doc;
	return 0;
}

/* ---- operations ---- */

struct op {
	void *arg;
	union {
		pf_sqs_receive_cb receive;
		pf_sqs_batch_cb batch;
		pf_sqs_done_cb done;
		pf_sqs_attributes_cb attributes;
	} cb;
	char **ids;
	size_t nids;
};

static void op_free(struct op *o)
{
	for (size_t i = 0; i < o->nids; i++)
		free(o->ids[i]);
	free(o->ids);
	free(o);
}

/* Sends one operation; call NULL means the client's timeout and attempts. */
static int sqs_send(struct pf_aws *aws, const char *op_name, json_t *request,
                    const struct pf_sqs_call_options *call, pf_aws_done_cb cb, struct op *o,
                    struct pf_error *err)
{
	char target[64];
	struct pf_aws_header h[2];
	struct pf_aws_request req = {
	    .service = PF_AWS_SQS,
	    .operation = op_name,
	    .method = "POST",
	    .headers = h,
	    .nheaders = 2,
	    .free_body = true,
	    .max_response_bytes = SQS_RESPONSE_LIMIT,
	    .timeout_ms = call ? call->timeout_ms : 0,
	    .max_attempts = call ? call->max_attempts : 0,
	};
	char *body;
	int rc;

	snprintf(target, sizeof(target), "AmazonSQS.%s", op_name);
	h[0].name = "X-Amz-Target";
	h[0].value = target;
	h[1].name = "Content-Type";
	h[1].value = "application/x-amz-json-1.0";
	body = request ? json_dumps(request, JSON_COMPACT) : NULL;
	json_decref(request);
	if (!body) {
		op_free(o);
		return pf_error_set(err, PF_EINVAL, "sqs %s: request could not be serialised",
		                    op_name);
	}
	req.body = body;
	req.body_len = strlen(body);
	rc = pf_aws_send(aws, &req, cb, o, err);
	if (rc < 0)
		op_free(o);
	return rc;
}

static int check_queue(const char *queue_url, struct pf_error *err)
{
	if (!queue_url || (strncmp(queue_url, "https://", 8) && strncmp(queue_url, "http://", 7)))
		return pf_error_set(err, PF_EINVAL, "SQS queue URL must be http(s)://...");
	return 0;
}

static void on_receive(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_sqs_message *msgs = NULL;
	size_t n = 0;
	struct pf_error e;

	pf_error_clear(&e);
	if (err->code)
		o->cb.receive(NULL, 0, err, o->arg);
	else if (pf_sqs__parse_messages(r->body, r->body_len, &msgs, &n, &e) < 0)
		o->cb.receive(NULL, 0, &e, o->arg);
	else
		o->cb.receive(msgs, n, &e, o->arg);
	pf_sqs__messages_free(msgs, n);
	op_free(o);
}

int pf_sqs_receive_message(struct pf_aws *aws, const char *queue_url,
                           const struct pf_sqs_receive_options *opts, pf_sqs_receive_cb cb,
                           void *arg, struct pf_error *err)
{
	int max = opts && opts->max_messages ? opts->max_messages : PF_SQS_MAX_BATCH;
	int wait = opts ? opts->wait_seconds : 0;
	struct pf_sqs_call_options call = {0};
	json_t *req;
	struct op *o;
	int rc = check_queue(queue_url, err);

	if (rc < 0)
		return rc;
	if (max < 1 || max > PF_SQS_MAX_BATCH || wait < 0 || wait > 20 ||
	    (opts && opts->visibility_timeout > 43200))
		return pf_error_set(
		    err, PF_EINVAL,
		    "SQS ReceiveMessage: 1..10 messages, wait 0..20 s, visibility <= 43200 s");
	req = json_pack("{s:s, s:i, s:i, s:[s], s:[s], s:[s]}", "QueueUrl", queue_url,
	                "MaxNumberOfMessages", max, "WaitTimeSeconds", wait,
	                "MessageSystemAttributeNames", "All", "AttributeNames", "All",
	                "MessageAttributeNames", "All");
	if (req && opts && opts->visibility_timeout >= 0)
		json_object_set_new(req, "VisibilityTimeout",
		                    json_integer(opts->visibility_timeout));
	o = pf_xcalloc(1, sizeof(*o));
	o->arg = arg;
	o->cb.receive = cb;
	/* the long poll itself must not count against the attempt timeout */
	call.timeout_ms = (long)wait * 1000 + 30000;
	return sqs_send(aws, "ReceiveMessage", req, &call, on_receive, o, err);
}

static void on_batch(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_sqs_batch_result res;
	json_t *doc = NULL;
	struct pf_error e;

	pf_error_clear(&e);
	if (err->code) {
		o->cb.batch(NULL, err, o->arg);
	} else if (pf_sqs__parse_batch(r->body, r->body_len, (const char *const *)o->ids, o->nids,
	                               &doc, &res, &e) < 0) {
		o->cb.batch(NULL, &e, o->arg);
	} else {
		o->cb.batch(&res, &e, o->arg);
		free(res.entries);
	}
	json_decref(doc);
	op_free(o);
}

static bool id_is_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n < 1 || n > 80)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

enum batch_kind { BATCH_DELETE, BATCH_VISIBILITY, BATCH_SEND };

static int batch_call(struct pf_aws *aws, enum batch_kind kind, const char *queue_url,
                      const struct pf_sqs_batch_entry *entries, size_t n, pf_sqs_batch_cb cb,
                      void *arg, struct pf_error *err)
{
	static const char *const ops[] = {"DeleteMessageBatch", "ChangeMessageVisibilityBatch",
	                                  "SendMessageBatch"};
	json_t *arr;
	json_t *req;
	struct op *o;
	int rc = check_queue(queue_url, err);

	if (rc < 0)
		return rc;
	if (n < 1 || n > PF_SQS_MAX_BATCH)
		return pf_error_set(err, PF_EINVAL, "SQS %s: 1..10 entries", ops[kind]);
	for (size_t i = 0; i < n; i++) {
		if (!id_is_valid(entries[i].id))
			return pf_error_set(err, PF_EINVAL,
			                    "SQS %s: entry id must be [A-Za-z0-9_-]{1,80}",
			                    ops[kind]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(entries[i].id, entries[j].id) == 0)
				return pf_error_set(err, PF_EINVAL, "SQS %s: duplicate entry id",
				                    ops[kind]);
		if (kind == BATCH_SEND ? !entries[i].body : !entries[i].receipt_handle)
			return pf_error_set(err, PF_EINVAL, "SQS %s: entry %s incomplete",
			                    ops[kind], entries[i].id);
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct pf_sqs_batch_entry *e = &entries[i];
		json_t *j = NULL;

		switch (kind) {
		case BATCH_DELETE:
			j = json_pack("{s:s, s:s}", "Id", e->id, "ReceiptHandle",
			              e->receipt_handle);
			break;
		case BATCH_VISIBILITY:
			j = json_pack("{s:s, s:s, s:i}", "Id", e->id, "ReceiptHandle",
			              e->receipt_handle, "VisibilityTimeout",
			              e->visibility_timeout);
			break;
		case BATCH_SEND:
			j = json_pack("{s:s, s:s}", "Id", e->id, "MessageBody", e->body);
			if (j && e->delay_seconds > 0)
				json_object_set_new(j, "DelaySeconds",
				                    json_integer(e->delay_seconds));
			break;
		}
		if (!j) {
			json_decref(arr);
			return pf_error_set(err, PF_EINVAL, "SQS %s: entry %s is not valid UTF-8",
			                    ops[kind], e->id);
		}
		json_array_append_new(arr, j);
	}
	req = json_pack("{s:s, s:o}", "QueueUrl", queue_url, "Entries", arr);
	o = pf_xcalloc(1, sizeof(*o));
	o->arg = arg;
	o->cb.batch = cb;
	o->ids = pf_xcalloc(n, sizeof(*o->ids));
	for (size_t i = 0; i < n; i++)
		o->ids[i] = pf_xstrdup(entries[i].id);
	o->nids = n;
	return sqs_send(aws, ops[kind], req, NULL, on_batch, o, err);
}

int pf_sqs_delete_message_batch(struct pf_aws *aws, const char *queue_url,
                                const struct pf_sqs_batch_entry *entries, size_t n,
                                pf_sqs_batch_cb cb, void *arg, struct pf_error *err)
{
	return batch_call(aws, BATCH_DELETE, queue_url, entries, n, cb, arg, err);
}

int pf_sqs_change_message_visibility_batch(struct pf_aws *aws, const char *queue_url,
                                           const struct pf_sqs_batch_entry *entries, size_t n,
                                           pf_sqs_batch_cb cb, void *arg, struct pf_error *err)
{
	return batch_call(aws, BATCH_VISIBILITY, queue_url, entries, n, cb, arg, err);
}

int pf_sqs_send_message_batch(struct pf_aws *aws, const char *queue_url,
                              const struct pf_sqs_batch_entry *entries, size_t n,
                              pf_sqs_batch_cb cb, void *arg, struct pf_error *err)
{
	return batch_call(aws, BATCH_SEND, queue_url, entries, n, cb, arg, err);
}

static void on_done(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;

	o->cb.done(err, o->arg);
	op_free(o);
}

int pf_sqs_change_message_visibility(struct pf_aws *aws, const char *queue_url,
                                     const char *receipt_handle, int visibility_timeout,
                                     pf_sqs_done_cb cb, void *arg, struct pf_error *err)
{
	json_t *req;
	struct op *o;
	int rc = check_queue(queue_url, err);

	if (rc < 0)
		return rc;
	if (!receipt_handle || visibility_timeout < 0 || visibility_timeout > 43200)
		return pf_error_set(
		    err, PF_EINVAL,
		    "SQS ChangeMessageVisibility: receipt handle and 0..43200 s required");
	req = json_pack("{s:s, s:s, s:i}", "QueueUrl", queue_url, "ReceiptHandle", receipt_handle,
	                "VisibilityTimeout", visibility_timeout);
	o = pf_xcalloc(1, sizeof(*o));
	o->arg = arg;
	o->cb.done = cb;
	return sqs_send(aws, "ChangeMessageVisibility", req, NULL, on_done, o, err);
}

static void on_attributes(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	json_t *doc;
	json_t *attrs;
	struct pf_error e;

	pf_error_clear(&e);
	if (err->code) {
		o->cb.attributes(NULL, err, o->arg);
		op_free(o);
		return;
	}
	doc = load_object(r->body, r->body_len);
	attrs = json_object_get(doc, "Attributes");
	if (!doc || (attrs && !json_is_object(attrs))) {
		pf_error_set(&e, PF_EAWS, "sqs GetQueueAttributes: malformed response");
		o->cb.attributes(NULL, &e, o->arg);
	} else {
		attrs = attrs ? json_incref(attrs) : json_object();
		o->cb.attributes(attrs, &e, o->arg);
		json_decref(attrs);
	}
	json_decref(doc);
	op_free(o);
}

int pf_sqs_get_queue_attributes(struct pf_aws *aws, const char *queue_url, const char *const *names,
                                size_t nnames, const struct pf_sqs_call_options *call,
                                pf_sqs_attributes_cb cb, void *arg, struct pf_error *err)
{
	json_t *arr = json_array();
	json_t *req;
	struct op *o;
	int rc = check_queue(queue_url, err);

	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	if (!names || nnames == 0)
		json_array_append_new(arr, json_string("All"));
	for (size_t i = 0; names && i < nnames; i++)
		json_array_append_new(arr, json_string(names[i]));
	req = json_pack("{s:s, s:o}", "QueueUrl", queue_url, "AttributeNames", arr);
	o = pf_xcalloc(1, sizeof(*o));
	o->arg = arg;
	o->cb.attributes = cb;
	return sqs_send(aws, "GetQueueAttributes", req, call, on_attributes, o, err);
}
