/*
 * aws_driver: runs one AWS client operation (S3, SQS, DynamoDB or the
 * credentials chain) per invocation against whatever endpoints the
 * environment names, and prints one JSON object on stdout: the result, the
 * typed error if any, the per-call stats and the peak RSS. The integration
 * tests drive the library through it. Logs go to stderr.
 *
 *   aws_driver <op> [args...]       (see usage())
 *
 * Environment: AWS_REGION, AWS_ENDPOINT_URL[_S3|_SQS|_DYNAMODB], the
 * credentials chain's variables, and for tests PF_AWS_NO_JITTER=1,
 * PF_AWS_MAX_ATTEMPTS=n, PF_AWS_TIMEOUT_MS=n, PF_LOG_LEVEL=debug.
 * Exit status: 0 success, 2 the operation failed, 1 usage error.
 */
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/credentials_provider.h"
#include "photofinish/aws/dynamodb.h"
#include "photofinish/aws/s3.h"
#include "photofinish/aws/sigv4.h"
#include "photofinish/codec.h"
#include "photofinish/aws/sqs.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

static struct pf_aws *aws;
static json_t *out;   /* the result object */
static json_t *calls; /* one entry per finished call */
static int pending;
static bool failed;
/* what the operations keep alive until exit (bodies must outlive the calls) */
static void *keep[64];
static size_t nkeep;

static void *keep_until_exit(void *p)
{
	if (nkeep < sizeof(keep) / sizeof(keep[0]))
		keep[nkeep++] = p;
	return p;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: aws_driver OP ARGS\n"
	        "  get BUCKET KEY [--max N] [--repeat N]   head BUCKET KEY\n"
	        "  put BUCKET KEY (--file F | --data S) [--content-type T] [--cache-control C]\n"
	        "  delete BUCKET KEY   delete-objects BUCKET (--keys-file F | KEY...)\n"
	        "  list BUCKET [--prefix P] [--delimiter D] [--max-keys N] [--all]\n"
	        "  presign BUCKET KEY [--expires S]\n"
	        "  presign-url METHOD BUCKET KEY|- [--query NAME=VALUE]... [--expires S]\n"
	        "              [--content-length N]\n"
	        "              [--time EPOCH (pure: credentials from AWS_* variables)]\n"
	        "  mp-create BUCKET KEY [--content-type T] [--presign-parts N] [--expires S]\n"
	        "  mp-list-parts BUCKET KEY UPLOAD-ID [--max-parts N] [--marker N] [--all [--max N]]\n"
	        "  mp-complete-listed BUCKET KEY UPLOAD-ID [--expect-parts N] [--expect-size N]\n"
	        "  mp-abort BUCKET KEY UPLOAD-ID\n"
	        "  mp-list-uploads BUCKET [--prefix P] [--max-uploads N] [--key-marker K]\n"
	        "                  [--upload-id-marker U]\n"
	        "  multipart BUCKET KEY --file F [--part-size N] [--abort]\n"
	        "  sqs-receive QUEUE [--max N] [--wait S] [--visibility S]\n"
	        "  sqs-delete-batch|sqs-visibility-batch|sqs-send-batch QUEUE JSON-ENTRIES\n"
	        "  sqs-visibility QUEUE RECEIPT SECONDS   sqs-attributes QUEUE [NAME...]\n"
	        "  ddb OP JSON   ddb-put TABLE ITEM [EXTRA]   ddb-get TABLE KEY [EXTRA]\n"
	        "  ddb-update TABLE KEY EXPR [EXTRA]   ddb-delete TABLE KEY [EXTRA]\n"
	        "  ddb-query|ddb-scan TABLE PARAMS [--all] [--max N]\n"
	        "  ddb-batch-write REQUEST-ITEMS   ddb-transact TRANSACT-ITEMS [EXTRA]\n"
	        "  creds   creds-refresh\n");
	exit(1);
}

static json_t *error_json(const struct pf_error *e)
{
	return json_pack("{s:s, s:i, s:i, s:b, s:s, s:s, s:s}", "code", pf_error_code_name(e->code),
	                 "errno", e->code, "http_status", e->http_status, "retryable", e->retryable,
	                 "service_code", e->service_code, "request_id", e->request_id, "message",
	                 e->message);
}

/* Records a failure; returns true when err is one. */
static bool check(const struct pf_error *err)
{
	if (!err->code)
		return false;
	failed = true;
	json_object_set_new(out, "error", error_json(err));
	return true;
}

static void done(void)
{
	pending--;
}

static void on_call(const struct pf_aws_call_info *info, void *arg)
{
	json_array_append_new(
	    calls,
	    json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:s}", "service",
	              info->unsigned_request ? "credentials" : pf_aws_service_name(info->service),
	              "operation", info->operation, "outcome", pf_aws_outcome_name(info->outcome),
	              "http_status", info->http_status, "attempts", info->attempts, "duration_ms",
	              (json_int_t)info->duration_ms, "service_code", info->service_code));
}

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

static int64_t num(const char *s, int64_t dflt)
{
	int64_t v;

	if (!s)
		return dflt;
	if (!pf_parse_int64(s, INT64_MIN, INT64_MAX, &v)) {
		fprintf(stderr, "aws_driver: not a number: %s\n", s);
		exit(1);
	}
	return v;
}

static json_t *parse_json(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j) {
		fprintf(stderr, "aws_driver: bad JSON argument: %s\n", e.text);
		exit(1);
	}
	return j;
}

/* Reads a whole file into one exactly-sized buffer (no growth copies). */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f || fstat(fileno(f), &st) < 0) {
		fprintf(stderr, "aws_driver: cannot read %s\n", path);
		exit(1);
	}
	buf = pf_xmalloc((size_t)st.st_size + 1);
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "aws_driver: short read on %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

static void set_sha(json_t *o, const void *data, size_t len)
{
	char hex[65];

	pf_codec_sha256_hex(data, len, hex);
	json_object_set_new(o, "sha256", json_string(hex));
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void start_failed(const struct pf_error *err)
{
	check(err);
	pending = 0;
}

/* ---- S3 ---- */

static void on_get(struct pf_s3_get_result *res, const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "len", json_integer((json_int_t)res->len));
	json_object_set_new(out, "etag", jstr(res->info.etag));
	json_object_set_new(out, "content_type", jstr(res->info.content_type));
	json_object_set_new(out, "cache_control", jstr(res->info.cache_control));
	set_sha(out, res->body, res->len);
	if (res->len <= 4096)
		json_object_set_new(out, "body", json_stringn(res->body, res->len));
}

static void on_head(const struct pf_s3_object_info *info, const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "content_length", json_integer(info->content_length));
	json_object_set_new(out, "etag", jstr(info->etag));
	json_object_set_new(out, "content_type", jstr(info->content_type));
	json_object_set_new(out, "cache_control", jstr(info->cache_control));
	json_object_set_new(out, "last_modified", json_integer(info->last_modified));
}

static void on_put(const char *etag, const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "etag", jstr(etag));
}

static void on_s3_done(const struct pf_error *err, void *arg)
{
	done();
	check(err);
}

static void on_delete_objects(const struct pf_s3_delete_result *res, const struct pf_error *err,
                              void *arg)
{
	json_t *errs = json_array();

	done();
	for (size_t i = 0; i < res->nerrors; i++)
		json_array_append_new(errs, json_pack("{s:s, s:s, s:s}", "key", res->errors[i].key,
		                                      "code", res->errors[i].code, "message",
		                                      res->errors[i].message));
	json_object_set_new(out, "deleted", json_integer((json_int_t)res->ndeleted));
	json_object_set_new(out, "errors", errs);
	check(err);
}

struct list_state {
	char *bucket;
	struct pf_s3_list_options opts;
	char *token;
	bool all;
	int pages;
	json_t *keys;
	json_t *prefixes;
};

static void on_list(const struct pf_s3_list_page *page, const struct pf_error *err, void *arg)
{
	struct list_state *ls = arg;
	struct pf_error e;

	if (check(err)) {
		done();
		return;
	}
	ls->pages++;
	for (size_t i = 0; i < page->nobjects; i++)
		json_array_append_new(ls->keys,
		                      json_pack("{s:s, s:I, s:s*}", "key", page->objects[i].key,
		                                "size", (json_int_t)page->objects[i].size, "etag",
		                                page->objects[i].etag));
	for (size_t i = 0; i < page->nprefixes; i++)
		json_array_append_new(ls->prefixes, json_string(page->common_prefixes[i]));
	free(ls->token);
	ls->token =
	    page->next_continuation_token ? pf_xstrdup(page->next_continuation_token) : NULL;
	if (ls->all && ls->token) {
		ls->opts.continuation_token = ls->token;
		pf_error_clear(&e);
		if (pf_s3_list_objects(aws, ls->bucket, &ls->opts, on_list, ls, &e) < 0) {
			check(&e);
			done();
		}
		return;
	}
	json_object_set_new(out, "next_continuation_token", jstr(ls->token));
	json_object_set_new(out, "is_truncated", json_boolean(page->is_truncated));
	done();
}

struct mp_state {
	char *bucket, *key, *upload_id;
	char *data;
	size_t len, part_size, off;
	int part;
	struct pf_s3_completed_part *parts;
	char **etags;
	bool abort_instead;
};

static void mp_next(struct mp_state *m);

static void on_mp_done(const char *etag, const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "etag", jstr(etag));
}

static void on_mp_aborted(const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "aborted", json_true());
}

static void on_part(const char *etag, const struct pf_error *err, void *arg)
{
	struct mp_state *m = arg;

	if (check(err)) {
		done();
		return;
	}
	m->etags[m->part - 1] = keep_until_exit(pf_xstrdup(etag ? etag : ""));
	m->parts[m->part - 1].part_number = m->part;
	m->parts[m->part - 1].etag = m->etags[m->part - 1];
	mp_next(m);
}

static void mp_next(struct mp_state *m)
{
	struct pf_error e;
	size_t n = m->len - m->off;

	pf_error_clear(&e);
	if (m->off >= m->len && m->part > 0) {
		json_object_set_new(out, "parts", json_integer(m->part));
		if (m->abort_instead) {
			if (pf_s3_abort_multipart_upload(aws, m->bucket, m->key, m->upload_id,
			                                 on_mp_aborted, m, &e) < 0)
				goto fail;
		} else if (pf_s3_complete_multipart_upload(aws, m->bucket, m->key, m->upload_id,
		                                           m->parts, (size_t)m->part, on_mp_done, m,
		                                           &e) < 0) {
			goto fail;
		}
		return;
	}
	if (n > m->part_size)
		n = m->part_size;
	m->part++;
	if (pf_s3_upload_part(aws, m->bucket, m->key, m->upload_id, m->part, m->data + m->off, n,
	                      on_part, m, &e) < 0)
		goto fail;
	m->off += n;
	return;
fail:
	check(&e);
	done();
}

static void on_mp_created(const char *upload_id, const struct pf_error *err, void *arg)
{
	struct mp_state *m = arg;

	if (check(err)) {
		done();
		return;
	}
	m->upload_id = keep_until_exit(pf_xstrdup(upload_id));
	json_object_set_new(out, "upload_id", json_string(upload_id));
	mp_next(m);
}

/* ---- multipart for presigned uploads ---- */

struct mpc_state {
	char *bucket, *key;
	int presign_parts;
	int64_t expires;
};

static void on_mpc_created(const char *upload_id, const struct pf_error *err, void *arg)
{
	struct mpc_state *m = arg;
	json_t *urls = json_array();
	struct pf_error e;
	int64_t at = 0;

	done();
	json_object_set_new(out, "urls", urls);
	if (check(err))
		return;
	json_object_set_new(out, "upload_id", json_string(upload_id));
	for (int i = 1; i <= m->presign_parts; i++) {
		char *url = NULL;

		pf_error_clear(&e);
		if (pf_s3_presign_upload_part(aws, m->bucket, m->key, upload_id, i, 0, m->expires,
		                              &url, &at, &e) < 0) {
			check(&e);
			return;
		}
		json_array_append_new(urls, json_string(url));
		free(url);
	}
	json_object_set_new(out, "expires_at", json_integer(at));
}

static json_t *parts_json(const struct pf_s3_parts_page *page)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < page->nparts; i++)
		json_array_append_new(arr, json_pack("{s:i, s:I, s:s, s:I}", "part_number",
		                                     page->parts[i].part_number, "size",
		                                     (json_int_t)page->parts[i].size, "etag",
		                                     page->parts[i].etag, "last_modified",
		                                     (json_int_t)page->parts[i].last_modified));
	return arr;
}

static void on_parts(const struct pf_s3_parts_page *page, const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "parts", parts_json(page));
	json_object_set_new(out, "is_truncated", json_boolean(page->is_truncated));
	json_object_set_new(out, "next_part_number_marker",
	                    json_integer(page->next_part_number_marker));
}

static void on_complete_listed(const struct pf_s3_completed_upload *res,
                               const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "etag", jstr(res->etag));
	json_object_set_new(out, "size", json_integer(res->size));
	json_object_set_new(out, "nparts", json_integer(res->nparts));
}

static void on_uploads(const struct pf_s3_uploads_page *page, const struct pf_error *err,
                       void *arg)
{
	json_t *arr = json_array();

	done();
	json_object_set_new(out, "uploads", arr);
	if (check(err))
		return;
	for (size_t i = 0; i < page->nuploads; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "key", page->uploads[i].key,
		                                     "upload_id", page->uploads[i].upload_id,
		                                     "initiated",
		                                     (json_int_t)page->uploads[i].initiated));
	json_object_set_new(out, "is_truncated", json_boolean(page->is_truncated));
	json_object_set_new(out, "next_key_marker", jstr(page->next_key_marker));
	json_object_set_new(out, "next_upload_id_marker", jstr(page->next_upload_id_marker));
}

/* --query NAME=VALUE arguments (NAME alone: an empty value). */
static size_t presign_query(int argc, char **argv, struct pf_s3_query_param *q, size_t max)
{
	size_t n = 0;

	for (int i = 0; i < argc - 1; i++) {
		char *eq;

		if (strcmp(argv[i], "--query") != 0 || n >= max)
			continue;
		q[n].name = argv[i + 1];
		eq = strchr(argv[i + 1], '=');
		q[n].value = NULL;
		if (eq) {
			*eq = '\0';
			q[n].value = eq + 1;
		}
		n++;
	}
	return n;
}

/* presign-url: pure with --time (the AWS_* credentials variables), else
 * with the chain's credentials once loaded (see main). */
static int presign_url(int argc, char **argv, bool pure, struct pf_error *e)
{
	struct pf_s3_query_param q[PF_S3_PRESIGN_MAX_QUERY + 2];
	struct pf_s3_presign_request req;
	struct pf_sigv4_credentials creds;
	char *url = NULL;
	int64_t at = 0;
	int rc;

	memset(&req, 0, sizeof(req));
	req.method = argv[0];
	req.bucket = argv[1];
	req.key = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
	req.query = q;
	req.nquery = presign_query(argc, argv, q, sizeof(q) / sizeof(q[0]));
	req.expires_seconds = num(opt(argc, argv, "--expires"), 900);
	req.content_length = num(opt(argc, argv, "--content-length"), 0);
	if (pure) {
		creds.access_key_id = getenv("AWS_ACCESS_KEY_ID");
		creds.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
		creds.session_token = getenv("AWS_SESSION_TOKEN");
		rc = pf_s3_presign_url_at(pf_aws_endpoints(aws), &creds,
		                          num(opt(argc, argv, "--time"), 0), &req, &url, e);
	} else {
		rc = pf_s3_presign_url(aws, &req, &url, &at, e);
	}
	if (rc < 0)
		return rc;
	json_object_set_new(out, "url", json_string(url));
	if (!pure)
		json_object_set_new(out, "expires_at", json_integer(at));
	free(url);
	return 0;
}

/* ---- SQS ---- */

static void on_receive(struct pf_sqs_message *msgs, size_t n, const struct pf_error *err, void *arg)
{
	json_t *arr = json_array();

	done();
	if (check(err)) {
		json_decref(arr);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
		    arr, json_pack("{s:s*, s:s, s:s, s:s*, s:i, s:I, s:O}", "message_id",
		                   msgs[i].message_id, "receipt_handle", msgs[i].receipt_handle,
		                   "body", msgs[i].body, "md5_of_body", msgs[i].md5_of_body,
		                   "receive_count", msgs[i].receive_count, "sent_timestamp",
		                   (json_int_t)msgs[i].sent_timestamp, "attributes",
		                   msgs[i].attributes));
	json_object_set_new(out, "messages", arr);
}

static void on_batch(const struct pf_sqs_batch_result *res, const struct pf_error *err, void *arg)
{
	json_t *arr = json_array();

	done();
	if (check(err)) {
		json_decref(arr);
		return;
	}
	for (size_t i = 0; i < res->n; i++) {
		const struct pf_sqs_batch_entry_result *r = &res->entries[i];

		json_array_append_new(arr, json_pack("{s:s, s:b, s:s*, s:s*, s:b, s:s*}", "id",
		                                     r->id, "ok", r->ok, "code", r->code, "message",
		                                     r->message, "sender_fault", r->sender_fault,
		                                     "message_id", r->message_id));
	}
	json_object_set_new(out, "entries", arr);
	json_object_set_new(out, "failed", json_integer((json_int_t)res->nfailed));
}

static void on_sqs_done(const struct pf_error *err, void *arg)
{
	done();
	check(err);
}

static void on_attributes(json_t *attributes, const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set(out, "attributes", attributes);
}

static struct pf_sqs_batch_entry *batch_entries(const char *text, size_t *n, json_t **keep)
{
	json_t *arr = parse_json(text);
	struct pf_sqs_batch_entry *e;

	*n = json_array_size(arr);
	e = pf_xcalloc(*n ? *n : 1, sizeof(*e));
	for (size_t i = 0; i < *n; i++) {
		json_t *o = json_array_get(arr, i);

		e[i].id = json_string_value(json_object_get(o, "id"));
		e[i].receipt_handle = json_string_value(json_object_get(o, "receipt_handle"));
		e[i].body = json_string_value(json_object_get(o, "body"));
		e[i].visibility_timeout =
		    (int)json_integer_value(json_object_get(o, "visibility_timeout"));
		e[i].delay_seconds = (int)json_integer_value(json_object_get(o, "delay_seconds"));
	}
	*keep = arr;
	return e;
}

/* ---- DynamoDB ---- */

static void on_ddb(json_t *response, const struct pf_error *err, void *arg)
{
	done();
	if (response)
		json_object_set(out, "response", response);
	check(err);
}

static void on_page(json_t *items, json_t *lek, json_t *page, const struct pf_error *err, void *arg)
{
	done();
	if (check(err))
		return;
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(items)));
	json_object_set(out, "items", items);
	json_object_set(out, "summary", page);
	json_object_set(out, "last_evaluated_key", lek ? lek : json_null());
}

/* Follows pages one by one (the caller's loop), to show LastEvaluatedKey works. */
struct page_state {
	char *table;
	json_t *params;
	bool scan;
	int pages;
	json_t *items;
};

static void on_manual_page(json_t *items, json_t *lek, json_t *page, const struct pf_error *err,
                           void *arg)
{
	struct page_state *ps = arg;
	struct pf_error e;
	int rc;

	if (check(err)) {
		done();
		return;
	}
	ps->pages++;
	json_array_extend(ps->items, items);
	if (lek) {
		pf_error_clear(&e);
		rc = ps->scan ? pf_dynamodb_scan(aws, ps->table, json_deep_copy(ps->params), lek,
		                                 on_manual_page, ps, &e)
		              : pf_dynamodb_query(aws, ps->table, json_deep_copy(ps->params), lek,
		                                  on_manual_page, ps, &e);
		if (rc < 0) {
			check(&e);
			done();
		}
		return;
	}
	json_object_set_new(out, "pages", json_integer(ps->pages));
	json_object_set_new(out, "count", json_integer((json_int_t)json_array_size(ps->items)));
	json_object_set(out, "items", ps->items);
	done();
}

/* ---- credentials ---- */

static void on_creds(const struct pf_sigv4_credentials *creds, const struct pf_error *err,
                     void *arg)
{
	done();
	if (check(err))
		return;
	/* the key id only: never the secret or the token */
	json_object_set_new(out, "access_key_id", json_string(creds->access_key_id));
	json_object_set_new(out, "has_session_token", json_boolean(creds->session_token != NULL));
	json_object_set_new(out, "source",
	                    jstr(pf_credentials_provider_source(pf_aws_credentials(aws))));
	json_object_set_new(
	    out, "expiration_ms",
	    json_integer(pf_credentials_provider_expiration(pf_aws_credentials(aws))));
}

/* Peak RSS of this program: VmHWM, since ru_maxrss keeps the high-water
 * mark of the process image that exec replaced (the test runner's). */
static long peak_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	struct rusage ru;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	if (kb < 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		kb = ru.ru_maxrss;
	return kb;
}

static int run(int argc, char **argv, struct pf_error *e)
{
	const char *op = argv[1];
	int n = argc - 2;
	char **a = argv + 2;

	pending = 1;
	if (strcmp(op, "get") == 0 && n >= 2) {
		int repeat = (int)num(opt(n, a, "--repeat"), 1);

		pending = repeat;
		for (int i = 0; i < repeat; i++)
			if (pf_s3_get_object(aws, a[0], a[1], (size_t)num(opt(n, a, "--max"), 0),
			                     on_get, NULL, e) < 0)
				return -1;
		return 0;
	}
	if (strcmp(op, "head") == 0 && n >= 2)
		return pf_s3_head_object(aws, a[0], a[1], on_head, NULL, e);
	if (strcmp(op, "put") == 0 && n >= 2) {
		struct pf_s3_put_options po = {opt(n, a, "--content-type"),
		                               opt(n, a, "--cache-control")};
		size_t len;
		char *data;

		if (opt(n, a, "--file")) {
			data = read_file(opt(n, a, "--file"), &len);
		} else if (opt(n, a, "--data")) {
			data = pf_xstrdup(opt(n, a, "--data"));
			len = strlen(data);
		} else {
			usage();
			return -1;
		}
		keep_until_exit(data);
		set_sha(out, data, len);
		json_object_set_new(out, "len", json_integer((json_int_t)len));
		/* data stays alive until exit: it is the caller-owned body */
		return pf_s3_put_object(aws, a[0], a[1], data, len, &po, on_put, NULL, e);
	}
	if (strcmp(op, "delete") == 0 && n >= 2)
		return pf_s3_delete_object(aws, a[0], a[1], on_s3_done, NULL, e);
	if (strcmp(op, "delete-objects") == 0 && n >= 1) {
		const char **keys = pf_xcalloc((size_t)n + 1, sizeof(*keys));
		int rc;
		size_t nkeys = 0;

		if (opt(n, a, "--keys-file")) {
			size_t len;
			char *text = read_file(opt(n, a, "--keys-file"), &len);
			char *save = NULL;

			keep_until_exit(text);
			text[len] = '\0';
			keys = pf_xrealloc(keys, (len + 1) * sizeof(*keys));
			for (char *k = strtok_r(text, "\n", &save); k;
			     k = strtok_r(NULL, "\n", &save))
				keys[nkeys++] = k;
		} else {
			for (int i = 1; i < n; i++)
				keys[nkeys++] = a[i];
		}
		rc = pf_s3_delete_objects(aws, a[0], keys, nkeys, on_delete_objects, NULL, e);
		free(keys); /* copied by the call */
		return rc;
	}
	if (strcmp(op, "list") == 0 && n >= 1) {
		struct list_state *ls = keep_until_exit(pf_xcalloc(1, sizeof(*ls)));

		ls->bucket = a[0];
		ls->opts.prefix = opt(n, a, "--prefix");
		ls->opts.delimiter = opt(n, a, "--delimiter");
		ls->opts.start_after = opt(n, a, "--start-after");
		ls->opts.max_keys = (int)num(opt(n, a, "--max-keys"), 0);
		ls->all = flag(n, a, "--all");
		ls->keys = json_array();
		ls->prefixes = json_array();
		json_object_set_new(out, "keys", ls->keys);
		json_object_set_new(out, "prefixes", ls->prefixes);
		json_object_set_new(out, "pages", json_integer(0));
		if (pf_s3_list_objects(aws, ls->bucket, &ls->opts, on_list, ls, e) < 0)
			return -1;
		/* pages is filled at exit */
		out = json_incref(out);
		json_object_set_new(out, "_list_state", json_integer((json_int_t)(intptr_t)ls));
		json_decref(out);
		return 0;
	}
	if (strcmp(op, "presign") == 0 && n >= 2) {
		pending = 1;
		return pf_credentials_provider_get(pf_aws_credentials(aws), on_creds, NULL, e);
	}
	if (strcmp(op, "presign-url") == 0 && n >= 3) {
		if (opt(n, a, "--time")) {
			pending = 0;
			return presign_url(n, a, true, e);
		}
		/* signed in main once the chain's credentials are loaded */
		return pf_credentials_provider_get(pf_aws_credentials(aws), on_creds, NULL, e);
	}
	if (strcmp(op, "mp-create") == 0 && n >= 2) {
		struct mpc_state *m = keep_until_exit(pf_xcalloc(1, sizeof(*m)));
		struct pf_s3_put_options po = {opt(n, a, "--content-type"), NULL};

		m->bucket = a[0];
		m->key = a[1];
		m->presign_parts = (int)num(opt(n, a, "--presign-parts"), 0);
		m->expires = num(opt(n, a, "--expires"), 900);
		return pf_s3_create_multipart_upload(aws, a[0], a[1], &po, on_mpc_created, m, e);
	}
	if (strcmp(op, "mp-list-parts") == 0 && n >= 3) {
		struct pf_s3_list_parts_options lo = {(int)num(opt(n, a, "--max-parts"), 0),
		                                      (int)num(opt(n, a, "--marker"), 0)};

		if (flag(n, a, "--all"))
			return pf_s3_list_all_parts(aws, a[0], a[1], a[2],
			                            (int)num(opt(n, a, "--max"), 0), on_parts, NULL, e);
		return pf_s3_list_parts(aws, a[0], a[1], a[2], &lo, on_parts, NULL, e);
	}
	if (strcmp(op, "mp-complete-listed") == 0 && n >= 3) {
		struct pf_s3_complete_listed_options co = {(int)num(opt(n, a, "--expect-parts"), 0),
		                                           num(opt(n, a, "--expect-size"), 0), 0};

		return pf_s3_complete_multipart_upload_listed(aws, a[0], a[1], a[2], &co,
		                                              on_complete_listed, NULL, e);
	}
	if (strcmp(op, "mp-abort") == 0 && n >= 3)
		return pf_s3_abort_multipart_upload(aws, a[0], a[1], a[2], on_s3_done, NULL, e);
	if (strcmp(op, "mp-list-uploads") == 0 && n >= 1) {
		struct pf_s3_list_uploads_options uo = {
		    opt(n, a, "--prefix"), opt(n, a, "--key-marker"),
		    opt(n, a, "--upload-id-marker"), (int)num(opt(n, a, "--max-uploads"), 0)};

		return pf_s3_list_multipart_uploads(aws, a[0], &uo, on_uploads, NULL, e);
	}
	if (strcmp(op, "multipart") == 0 && n >= 2 && opt(n, a, "--file")) {
		struct mp_state *m = keep_until_exit(pf_xcalloc(1, sizeof(*m)));
		size_t parts;

		m->bucket = a[0];
		m->key = a[1];
		m->data = keep_until_exit(read_file(opt(n, a, "--file"), &m->len));
		m->part_size = (size_t)num(opt(n, a, "--part-size"), 5 * 1024 * 1024);
		m->abort_instead = flag(n, a, "--abort");
		parts = m->len / m->part_size + 2;
		m->parts = keep_until_exit(pf_xcalloc(parts, sizeof(*m->parts)));
		m->etags = keep_until_exit(pf_xcalloc(parts, sizeof(*m->etags)));
		set_sha(out, m->data, m->len);
		return pf_s3_create_multipart_upload(aws, m->bucket, m->key, NULL, on_mp_created, m,
		                                     e);
	}
	if (strcmp(op, "sqs-receive") == 0 && n >= 1) {
		struct pf_sqs_receive_options ro = {(int)num(opt(n, a, "--max"), 10),
		                                    (int)num(opt(n, a, "--wait"), 0),
		                                    (int)num(opt(n, a, "--visibility"), -1)};

		return pf_sqs_receive_message(aws, a[0], &ro, on_receive, NULL, e);
	}
	if ((strcmp(op, "sqs-delete-batch") == 0 || strcmp(op, "sqs-visibility-batch") == 0 ||
	     strcmp(op, "sqs-send-batch") == 0) &&
	    n >= 2) {
		json_t *kept;
		size_t ne;
		struct pf_sqs_batch_entry *entries =
		    keep_until_exit(batch_entries(a[1], &ne, &kept));

		json_object_set_new(out, "_input", kept);
		if (strcmp(op, "sqs-delete-batch") == 0)
			return pf_sqs_delete_message_batch(aws, a[0], entries, ne, on_batch, NULL,
			                                   e);
		if (strcmp(op, "sqs-visibility-batch") == 0)
			return pf_sqs_change_message_visibility_batch(aws, a[0], entries, ne,
			                                              on_batch, NULL, e);
		return pf_sqs_send_message_batch(aws, a[0], entries, ne, on_batch, NULL, e);
	}
	if (strcmp(op, "sqs-visibility") == 0 && n >= 3)
		return pf_sqs_change_message_visibility(aws, a[0], a[1], (int)num(a[2], 0),
		                                        on_sqs_done, NULL, e);
	if (strcmp(op, "sqs-attributes") == 0 && n >= 1) {
		/* names up to the first --option */
		struct pf_sqs_call_options call = {num(opt(n, a, "--timeout-ms"), 0),
		                                   (int)num(opt(n, a, "--attempts"), 0)};
		int nnames = 0;

		while (1 + nnames < n && strncmp(a[1 + nnames], "--", 2) != 0)
			nnames++;
		return pf_sqs_get_queue_attributes(aws, a[0], (const char *const *)a + 1,
		                                   (size_t)nnames, &call, on_attributes, NULL, e);
	}
	if (strcmp(op, "ddb") == 0 && n >= 2)
		return pf_dynamodb_call(aws, a[0], parse_json(a[1]), on_ddb, NULL, e);
	if (strcmp(op, "ddb-put") == 0 && n >= 2)
		return pf_dynamodb_put_item(aws, a[0], parse_json(a[1]),
		                            n >= 3 ? parse_json(a[2]) : NULL, on_ddb, NULL, e);
	if (strcmp(op, "ddb-get") == 0 && n >= 2)
		return pf_dynamodb_get_item(aws, a[0], parse_json(a[1]),
		                            n >= 3 ? parse_json(a[2]) : NULL, on_ddb, NULL, e);
	if (strcmp(op, "ddb-update") == 0 && n >= 3)
		return pf_dynamodb_update_item(aws, a[0], parse_json(a[1]), a[2],
		                               n >= 4 ? parse_json(a[3]) : NULL, on_ddb, NULL, e);
	if (strcmp(op, "ddb-delete") == 0 && n >= 2)
		return pf_dynamodb_delete_item(aws, a[0], parse_json(a[1]),
		                               n >= 3 ? parse_json(a[2]) : NULL, on_ddb, NULL, e);
	if ((strcmp(op, "ddb-query") == 0 || strcmp(op, "ddb-scan") == 0) && n >= 2) {
		bool scan = strcmp(op, "ddb-scan") == 0;
		size_t max = (size_t)num(opt(n, a, "--max"), 0);

		if (flag(n, a, "--all"))
			return scan ? pf_dynamodb_scan_all(aws, a[0], parse_json(a[1]), max,
			                                   on_page, NULL, e)
			            : pf_dynamodb_query_all(aws, a[0], parse_json(a[1]), max,
			                                    on_page, NULL, e);
		if (flag(n, a, "--pages")) {
			struct page_state *ps = keep_until_exit(pf_xcalloc(1, sizeof(*ps)));

			ps->table = a[0];
			ps->params = parse_json(a[1]);
			ps->scan = scan;
			ps->items = json_array();
			json_object_set_new(out, "_items", ps->items);
			json_object_set_new(out, "_params", ps->params);
			return scan ? pf_dynamodb_scan(aws, a[0], json_deep_copy(ps->params), NULL,
			                               on_manual_page, ps, e)
			            : pf_dynamodb_query(aws, a[0], json_deep_copy(ps->params), NULL,
			                                on_manual_page, ps, e);
		}
		return scan
		           ? pf_dynamodb_scan(aws, a[0], parse_json(a[1]), NULL, on_page, NULL, e)
		           : pf_dynamodb_query(aws, a[0], parse_json(a[1]), NULL, on_page, NULL, e);
	}
	if (strcmp(op, "ddb-batch-write") == 0 && n >= 1)
		return pf_dynamodb_batch_write(aws, parse_json(a[0]), on_ddb, NULL, e);
	if (strcmp(op, "ddb-transact") == 0 && n >= 1)
		return pf_dynamodb_transact_write(
		    aws, parse_json(a[0]), n >= 2 ? parse_json(a[1]) : NULL, on_ddb, NULL, e);
	if (strcmp(op, "creds") == 0 || strcmp(op, "creds-refresh") == 0)
		return pf_credentials_provider_get(pf_aws_credentials(aws), on_creds, NULL, e);
	usage();
	return -1;
}

int main(int argc, char **argv)
{
	struct event_base *base;
	struct pf_aws_options opts;
	struct pf_aws_counters counters;
	struct pf_error err;
	enum pf_log_level level = PF_LOG_WARN;
	json_t *stats;
	char *text;
	int rc;

	if (argc < 2)
		usage();
	pf_log_set_fd(2);
	if (getenv("PF_LOG_LEVEL"))
		pf_log_level_parse(getenv("PF_LOG_LEVEL"), &level);
	pf_log_set_level(level);
	base = event_base_new();
	memset(&opts, 0, sizeof(opts));
	opts.region = getenv("AWS_REGION") ? getenv("AWS_REGION") : "us-east-1";
	opts.endpoint_url = getenv("AWS_ENDPOINT_URL");
	opts.endpoint_url_s3 = getenv("AWS_ENDPOINT_URL_S3");
	opts.endpoint_url_sqs = getenv("AWS_ENDPOINT_URL_SQS");
	opts.endpoint_url_dynamodb = getenv("AWS_ENDPOINT_URL_DYNAMODB");
	opts.no_jitter = getenv("PF_AWS_NO_JITTER") && strcmp(getenv("PF_AWS_NO_JITTER"), "1") == 0;
	opts.max_attempts = (int)num(getenv("PF_AWS_MAX_ATTEMPTS"), 0);
	opts.timeout_ms = (long)num(getenv("PF_AWS_TIMEOUT_MS"), 0);
	opts.on_call = on_call;
	out = json_object();
	calls = json_array();
	pf_error_clear(&err);
	if (pf_aws_new(base, &opts, &aws, &err) < 0) {
		fprintf(stderr, "aws_driver: %s\n", err.message);
		return 1;
	}
	if (run(argc, argv, &err) < 0)
		start_failed(&err);
	if (pf_aws_wait(aws, &pending) < 0 && !failed) {
		pf_error_set(&err, PF_EIO, "event loop stopped with work pending");
		check(&err);
	}
	if (strcmp(argv[1], "presign") == 0 && !failed) {
		char *url = NULL;

		pf_error_clear(&err);
		if (pf_s3_presign_get(aws, argv[2], argv[3], num(opt(argc, argv, "--expires"), 900),
		                      &url, &err) < 0)
			check(&err);
		else
			json_object_set_new(out, "url", json_string(url));
		free(url);
	}
	if (strcmp(argv[1], "presign-url") == 0 && !failed && !opt(argc, argv, "--time")) {
		pf_error_clear(&err);
		if (presign_url(argc - 2, argv + 2, false, &err) < 0)
			check(&err);
	}
	if (strcmp(argv[1], "creds-refresh") == 0 && !failed) {
		struct pf_sigv4_credentials c;

		/* signing three times while the credentials are close to expiry
		 * starts one background refresh; wait for it and show the result */
		for (int i = 0; i < 3; i++)
			pf_credentials_provider_peek(pf_aws_credentials(aws), &c);
		pf_aws_wait(aws, NULL);
		if (pf_credentials_provider_peek(pf_aws_credentials(aws), &c))
			json_object_set_new(out, "access_key_id_after",
			                    json_string(c.access_key_id));
	}
	if (json_object_get(out, "_list_state")) {
		struct list_state *ls =
		    (void *)(intptr_t)json_integer_value(json_object_get(out, "_list_state"));

		free(ls->token);
		json_object_set_new(out, "pages", json_integer(ls->pages));
		json_object_set_new(out, "count",
		                    json_integer((json_int_t)json_array_size(ls->keys)));
		json_object_del(out, "_list_state");
	}
	json_object_del(out, "_input");
	json_object_del(out, "_items");
	json_object_del(out, "_params");
	pf_aws_get_counters(aws, &counters);
	stats = json_object();
	for (int s = 0; s < PF_AWS_SERVICE_COUNT; s++)
		json_object_set_new(stats, pf_aws_service_name((enum pf_aws_service)s),
		                    json_pack("{s:I, s:I, s:I}", "attempts",
		                              (json_int_t)counters.attempts[s], "retries",
		                              (json_int_t)counters.retries[s], "throttled",
		                              (json_int_t)counters.throttled_attempts[s]));
	json_object_set_new(stats, "clock_skew_corrections",
	                    json_integer((json_int_t)counters.clock_skew_corrections));
	json_object_set_new(stats, "retry_quota", json_integer(counters.retry_quota));
	json_object_set_new(stats, "clock_offset_s", json_integer(pf_aws_clock_offset(aws)));
	json_object_set_new(out, "stats", stats);
	json_object_set_new(out, "calls", calls);
	pf_aws_free(aws);
	event_base_free(base);
	json_object_set_new(out, "maxrss_kb", json_integer(peak_rss_kb()));
	json_object_set_new(out, "ok", json_boolean(!failed));
	text = json_dumps(out, JSON_COMPACT);
	printf("%s\n", text);
	free(text);
	json_decref(out);
	for (size_t i = 0; i < nkeep; i++)
		free(keep[i]);
	rc = failed ? 2 : 0;
	return rc;
}
