/*
 * S3 over the AWS transport: request building for the REST API and the
 * XML response parsers (on the bounded tree of xml.c). The parsers are
 * pure and shared with the unit tests and fuzz targets through s3_int.h.
 *
 * Loop thread only (the parsers: any thread). Guarantees: keys are encoded
 * exactly once; bodies are never copied (PUT bodies stay in the caller's
 * memory, GET bodies are received once into a buffer sized from
 * Content-Length); a DOCTYPE or an element nested deeper than 32 levels is
 * refused instead of parsed; presigned URLs are never logged.
 */
#include "photofinish/aws/s3.h"

#include <event2/event.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/retry_int.h"
#include "aws/s3_int.h"
#include "aws/xml_int.h"
#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/credentials_provider.h"
#include "photofinish/aws/endpoints.h"
#include "photofinish/codec.h"
#include "photofinish/util.h"

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"
#define S3_DELETE_BATCH 1000
#define S3_SMALL_RESPONSE (8 * 1024 * 1024)

/* An S3 timestamp ("2009-10-12T17:50:30.000Z"); 0 when absent or not one. */
static int64_t parse_timestamp(const char *s)
{
	int64_t t;

	return s && pf_codec_parse_rfc3339(s, strlen(s), &t) ? t : 0;
}

/* ---- pure parsers ---- */

void pf_s3__list_page_free(struct pf_s3_list_page *page)
{
	if (!page)
		return;
	for (size_t i = 0; i < page->nobjects; i++) {
		free(page->objects[i].key);
		free(page->objects[i].etag);
	}
	free(page->objects);
	for (size_t i = 0; i < page->nprefixes; i++)
		free(page->common_prefixes[i]);
	free(page->common_prefixes);
	free(page->next_continuation_token);
	memset(page, 0, sizeof(*page));
}

int pf_s3__parse_list(const char *xml, size_t len, struct pf_s3_list_page *page,
                      struct pf_error *err)
{
	struct pf_aws__xml *root = pf_aws__xml_parse(xml, len);
	size_t nobj = 0, npre = 0;
	const char *t;
	int rc = 0;

	memset(page, 0, sizeof(*page));
	if (!root || strcmp(root->name, "ListBucketResult") != 0) {
		rc = pf_error_set(err, PF_EAWS,
		                  "s3 ListObjectsV2: response is not a ListBucketResult");
		goto out;
	}
	for (struct pf_aws__xml *c = root->child; c; c = c->next) {
		if (strcmp(c->name, "Contents") == 0)
			nobj++;
		else if (strcmp(c->name, "CommonPrefixes") == 0)
			npre++;
	}
	page->objects = pf_xcalloc(nobj ? nobj : 1, sizeof(*page->objects));
	page->common_prefixes = pf_xcalloc(npre ? npre : 1, sizeof(*page->common_prefixes));
	for (struct pf_aws__xml *c = root->child; c; c = c->next) {
		if (strcmp(c->name, "Contents") == 0) {
			struct pf_s3_object *o = &page->objects[page->nobjects];
			int64_t size = 0;

			if (!pf_aws__xml_text(c, "Key")) {
				rc = pf_error_set(err, PF_EAWS,
				                  "s3 ListObjectsV2: object without Key");
				goto out;
			}
			o->key = pf_aws__xml_dup(c, "Key");
			t = pf_aws__xml_text(c, "Size");
			if (t && !pf_parse_int64(t, 0, INT64_MAX, &size))
				size = -1;
			o->size = size;
			o->etag = pf_aws__xml_dup(c, "ETag");
			o->last_modified = parse_timestamp(pf_aws__xml_text(c, "LastModified"));
			page->nobjects++;
		} else if (strcmp(c->name, "CommonPrefixes") == 0 &&
		           pf_aws__xml_text(c, "Prefix")) {
			page->common_prefixes[page->nprefixes++] = pf_aws__xml_dup(c, "Prefix");
		}
	}
	t = pf_aws__xml_text(root, "IsTruncated");
	page->is_truncated = t && strcmp(t, "true") == 0;
	t = pf_aws__xml_text(root, "NextContinuationToken");
	if (page->is_truncated && t && *t)
		page->next_continuation_token = pf_xstrdup(t);
	if (page->is_truncated && !page->next_continuation_token) {
		rc = pf_error_set(err, PF_EAWS,
		                  "s3 ListObjectsV2: truncated page without NextContinuationToken");
		goto out;
	}
out:
	if (rc < 0)
		pf_s3__list_page_free(page);
	pf_aws__xml_free(root);
	return rc;
}

void pf_s3__delete_result_free(struct pf_s3_delete_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nerrors; i++) {
		free(res->errors[i].key);
		free(res->errors[i].code);
		free(res->errors[i].message);
	}
	free(res->errors);
	memset(res, 0, sizeof(*res));
}

int pf_s3__parse_delete_result(const char *xml, size_t len, struct pf_s3_delete_result *res,
                               struct pf_error *err)
{
	struct pf_aws__xml *root = pf_aws__xml_parse(xml, len);
	size_t nerr = 0;
	int rc = 0;

	if (!root || strcmp(root->name, "DeleteResult") != 0) {
		rc = pf_error_set(err, PF_EAWS, "s3 DeleteObjects: response is not a DeleteResult");
		goto out;
	}
	for (struct pf_aws__xml *c = root->child; c; c = c->next)
		if (strcmp(c->name, "Error") == 0)
			nerr++;
	if (nerr)
		res->errors =
		    pf_xrealloc(res->errors, (res->nerrors + nerr) * sizeof(*res->errors));
	for (struct pf_aws__xml *c = root->child; c; c = c->next) {
		if (strcmp(c->name, "Deleted") == 0) {
			res->ndeleted++;
		} else if (strcmp(c->name, "Error") == 0) {
			struct pf_s3_delete_error *e = &res->errors[res->nerrors++];

			e->key = pf_xstrdup(pf_aws__xml_text(c, "Key") ? pf_aws__xml_text(c, "Key")
			                                               : "");
			e->code = pf_xstrdup(
			    pf_aws__xml_text(c, "Code") ? pf_aws__xml_text(c, "Code") : "");
			e->message = pf_xstrdup(
			    pf_aws__xml_text(c, "Message") ? pf_aws__xml_text(c, "Message") : "");
		}
	}
out:
	pf_aws__xml_free(root);
	return rc;
}

static void xml_escape(struct pf_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			pf_buf_append_str(b, "&amp;");
			break;
		case '<':
			pf_buf_append_str(b, "&lt;");
			break;
		case '>':
			pf_buf_append_str(b, "&gt;");
			break;
		case '"':
			pf_buf_append_str(b, "&quot;");
			break;
		case '\'':
			pf_buf_append_str(b, "&apos;");
			break;
		case '\r':
			pf_buf_append_str(b, "&#13;");
			break;
		case '\n':
			pf_buf_append_str(b, "&#10;");
			break;
		default:
			pf_buf_append(b, s, 1);
		}
	}
}

char *pf_s3__delete_request_xml(const char *const *keys, size_t n, size_t *len)
{
	struct pf_buf b;

	pf_buf_init(&b);
	pf_buf_append_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	                      "<Delete xmlns=\"" S3_XMLNS "\"><Quiet>false</Quiet>");
	for (size_t i = 0; i < n; i++) {
		pf_buf_append_str(&b, "<Object><Key>");
		xml_escape(&b, keys[i]);
		pf_buf_append_str(&b, "</Key></Object>");
	}
	pf_buf_append_str(&b, "</Delete>");
	return pf_buf_steal(&b, len);
}

/* ---- operations ---- */

struct op {
	struct pf_aws *aws;
	void *arg;
	union {
		pf_s3_get_cb get;
		pf_s3_head_cb head;
		pf_s3_put_cb put;
		pf_s3_done_cb done;
		pf_s3_delete_objects_cb del;
		pf_s3_list_cb list;
		pf_s3_create_multipart_cb create;
	} cb;
	/* DeleteObjects */
	char *bucket;
	char **keys;
	size_t nkeys;
	size_t next;
	struct pf_s3_delete_result result;
};

static struct op *op_new(struct pf_aws *aws, void *arg)
{
	struct op *o = pf_xcalloc(1, sizeof(*o));

	o->aws = aws;
	o->arg = arg;
	return o;
}

static void op_free(struct op *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nkeys; i++)
		free(o->keys[i]);
	free(o->keys);
	free(o->bucket);
	pf_s3__delete_result_free(&o->result);
	free(o);
}

static int send_op(struct pf_aws *aws, const struct pf_aws_request *req, pf_aws_done_cb cb,
                   struct op *o, struct pf_error *err)
{
	int rc = pf_aws_send(aws, req, cb, o, err);

	if (rc < 0)
		op_free(o);
	return rc;
}

static int check_names(const char *bucket, const char *key, struct pf_error *err)
{
	if (!bucket || !pf_endpoints_bucket_is_valid(bucket))
		return pf_error_set(err, PF_EINVAL, "S3 bucket name %.70s is not valid",
		                    bucket ? bucket : "(none)");
	if (key && (!*key || strlen(key) > 1024))
		return pf_error_set(err, PF_EINVAL, "S3 key must be 1..1024 bytes");
	return 0;
}

static void query_param(struct pf_buf *q, const char *name, const char *value)
{
	char *enc;

	if (!value)
		return;
	enc = pf_codec_uri_encode(value, strlen(value), false);
	pf_buf_appendf(q, "%s%s=%s", q->len ? "&" : "", name, enc);
	free(enc);
}

static char *upload_query(const char *upload_id, int part_number)
{
	struct pf_buf q;
	char num[16];

	pf_buf_init(&q);
	if (part_number > 0) {
		snprintf(num, sizeof(num), "%d", part_number);
		query_param(&q, "partNumber", num);
	}
	query_param(&q, "uploadId", upload_id);
	return pf_buf_steal(&q, NULL);
}

/* The fields every object request sets. */
static struct pf_aws_request object_request(const char *operation, const char *method,
                                            const char *bucket, const char *key)
{
	struct pf_aws_request req;

	memset(&req, 0, sizeof(req));
	req.service = PF_AWS_S3;
	req.operation = operation;
	req.method = method;
	req.bucket = bucket;
	req.key = key;
	req.max_response_bytes = S3_SMALL_RESPONSE;
	return req;
}

/* The op that carries the caller's callback for an object request, once
 * the names are valid; NULL (err filled) when one is not. */
static struct op *object_op(struct pf_aws *aws, const char *bucket, const char *key, void *arg,
                            struct pf_error *err)
{
	if (check_names(bucket, key ? key : "", err) < 0)
		return NULL;
	return op_new(aws, arg);
}

/* Sends a multipart request with its uploadId (and partNumber) query. */
static int send_upload_op(struct pf_aws *aws, struct pf_aws_request *req, const char *upload_id,
                          int part_number, pf_aws_done_cb cb, struct op *o, struct pf_error *err)
{
	char *q = upload_query(upload_id, part_number);
	int rc;

	req->query = q;
	rc = send_op(aws, req, cb, o, err);
	free(q);
	return rc;
}

static void info_from(const struct pf_aws_response *r, struct pf_s3_object_info *info)
{
	const char *v;
	int64_t n;

	memset(info, 0, sizeof(*info));
	info->content_length = -1;
	v = pf_aws_response_header(r, "content-length");
	if (v && pf_parse_int64(v, 0, INT64_MAX, &n))
		info->content_length = n;
	v = pf_aws_response_header(r, "etag");
	info->etag = v ? pf_xstrdup(v) : NULL;
	v = pf_aws_response_header(r, "content-type");
	info->content_type = v ? pf_xstrdup(v) : NULL;
	v = pf_aws_response_header(r, "cache-control");
	info->cache_control = v ? pf_xstrdup(v) : NULL;
	v = pf_aws_response_header(r, "last-modified");
	if (!v || !pf_codec_parse_http_date(v, &info->last_modified))
		info->last_modified = 0;
}

static void info_free(struct pf_s3_object_info *info)
{
	free(info->etag);
	free(info->content_type);
	free(info->cache_control);
}

static void on_get(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_s3_get_result res;

	if (err->code) {
		o->cb.get(NULL, err, o->arg);
		op_free(o);
		return;
	}
	memset(&res, 0, sizeof(res));
	info_from(r, &res.info);
	res.body = r->body ? r->body : pf_xcalloc(1, 1);
	res.len = r->body_len;
	r->body = NULL;
	o->cb.get(&res, err, o->arg);
	free(res.body);
	info_free(&res.info);
	op_free(o);
}

int pf_s3_get_object(struct pf_aws *aws, const char *bucket, const char *key, size_t max_bytes,
                     pf_s3_get_cb cb, void *arg, struct pf_error *err)
{
	struct pf_aws_request req = object_request("GetObject", "GET", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);

	if (!o)
		return err->code;
	req.max_response_bytes = max_bytes ? max_bytes : PF_AWS_DEFAULT_MAX_RESPONSE_BYTES;
	o->cb.get = cb;
	return send_op(aws, &req, on_get, o, err);
}

static void on_head(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_s3_object_info info;

	if (err->code) {
		o->cb.head(NULL, err, o->arg);
		op_free(o);
		return;
	}
	info_from(r, &info);
	o->cb.head(&info, err, o->arg);
	info_free(&info);
	op_free(o);
}

int pf_s3_head_object(struct pf_aws *aws, const char *bucket, const char *key, pf_s3_head_cb cb,
                      void *arg, struct pf_error *err)
{
	struct pf_aws_request req = object_request("HeadObject", "HEAD", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);

	if (!o)
		return err->code;
	o->cb.head = cb;
	return send_op(aws, &req, on_head, o, err);
}

static void on_put(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;

	o->cb.put(err->code ? NULL : pf_aws_response_header(r, "etag"), err, o->arg);
	op_free(o);
}

static size_t put_headers(const struct pf_s3_put_options *opts, struct pf_aws_header h[2])
{
	size_t n = 0;

	h[n].name = "Content-Type";
	h[n++].value = opts && opts->content_type ? opts->content_type : "application/octet-stream";
	if (opts && opts->cache_control) {
		h[n].name = "Cache-Control";
		h[n++].value = opts->cache_control;
	}
	return n;
}

int pf_s3_put_object(struct pf_aws *aws, const char *bucket, const char *key, const void *body,
                     size_t len, const struct pf_s3_put_options *opts, pf_s3_put_cb cb, void *arg,
                     struct pf_error *err)
{
	struct pf_aws_header h[2];
	struct pf_aws_request req = object_request("PutObject", "PUT", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);

	if (!o)
		return err->code;
	req.headers = h;
	req.nheaders = put_headers(opts, h);
	req.body = body;
	req.body_len = len;
	o->cb.put = cb;
	return send_op(aws, &req, on_put, o, err);
}

static void on_done(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;

	o->cb.done(err, o->arg);
	op_free(o);
}

int pf_s3_delete_object(struct pf_aws *aws, const char *bucket, const char *key, pf_s3_done_cb cb,
                        void *arg, struct pf_error *err)
{
	struct pf_aws_request req = object_request("DeleteObject", "DELETE", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);

	if (!o)
		return err->code;
	o->cb.done = cb;
	return send_op(aws, &req, on_done, o, err);
}

static void content_md5(const void *data, size_t len, char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

static void on_delete_batch(struct pf_aws_response *r, const struct pf_error *err, void *arg);

static int delete_next_batch(struct op *o, struct pf_error *err)
{
	size_t n = o->nkeys - o->next;
	size_t len;
	char md5[32];
	char *xml;
	struct pf_aws_header h[2];
	struct pf_aws_request req = {
	    .service = PF_AWS_S3,
	    .operation = "DeleteObjects",
	    .method = "POST",
	    .bucket = o->bucket,
	    .query = "delete=",
	    .headers = h,
	    .nheaders = 2,
	    .free_body = true,
	    .max_response_bytes = S3_SMALL_RESPONSE,
	};

	if (n > S3_DELETE_BATCH)
		n = S3_DELETE_BATCH;
	xml = pf_s3__delete_request_xml((const char *const *)o->keys + o->next, n, &len);
	content_md5(xml, len, md5);
	h[0].name = "Content-Type";
	h[0].value = "application/xml";
	h[1].name = "Content-MD5";
	h[1].value = md5;
	req.body = xml;
	req.body_len = len;
	o->next += n;
	return pf_aws_send(o->aws, &req, on_delete_batch, o, err);
}

static void delete_finish(struct op *o, const struct pf_error *err)
{
	o->cb.del(&o->result, err, o->arg);
	op_free(o);
}

static void on_delete_batch(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_error e;

	pf_error_clear(&e);
	if (err->code) {
		delete_finish(o, err);
		return;
	}
	if (pf_s3__parse_delete_result(r->body, r->body_len, &o->result, &e) < 0) {
		delete_finish(o, &e);
		return;
	}
	if (o->next < o->nkeys) {
		if (delete_next_batch(o, &e) < 0)
			delete_finish(o, &e);
		return;
	}
	delete_finish(o, &e);
}

static void on_delete_empty(evutil_socket_t fd, short what, void *arg)
{
	struct pf_error e;

	pf_error_clear(&e);
	delete_finish(arg, &e);
}

int pf_s3_delete_objects(struct pf_aws *aws, const char *bucket, const char *const *keys,
                         size_t nkeys, pf_s3_delete_objects_cb cb, void *arg, struct pf_error *err)
{
	static const struct timeval zero = {0, 0};
	struct op *o;
	int rc = check_names(bucket, NULL, err);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nkeys; i++)
		if (check_names(bucket, keys[i], err) < 0)
			return PF_EINVAL;
	o = op_new(aws, arg);
	o->cb.del = cb;
	o->bucket = pf_xstrdup(bucket);
	o->keys = pf_xcalloc(nkeys ? nkeys : 1, sizeof(*o->keys));
	for (size_t i = 0; i < nkeys; i++)
		o->keys[i] = pf_xstrdup(keys[i]);
	o->nkeys = nkeys;
	if (nkeys == 0) {
		/* still answer from the loop, never from inside this call */
		if (event_base_once(pf_aws_base(aws), -1, EV_TIMEOUT, on_delete_empty, o, &zero) <
		    0) {
			op_free(o);
			return pf_error_set(err, PF_ENOMEM, "cannot schedule a callback");
		}
		return 0;
	}
	rc = delete_next_batch(o, err);
	if (rc < 0)
		op_free(o);
	return rc;
}

static void on_list(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_s3_list_page page;
	struct pf_error e;

	pf_error_clear(&e);
	if (err->code) {
		o->cb.list(NULL, err, o->arg);
	} else if (pf_s3__parse_list(r->body, r->body_len, &page, &e) < 0) {
		o->cb.list(NULL, &e, o->arg);
	} else {
		o->cb.list(&page, &e, o->arg);
		pf_s3__list_page_free(&page);
	}
	op_free(o);
}

int pf_s3_list_objects(struct pf_aws *aws, const char *bucket,
                       const struct pf_s3_list_options *opts, pf_s3_list_cb cb, void *arg,
                       struct pf_error *err)
{
	struct pf_aws_request req = {
	    .service = PF_AWS_S3,
	    .operation = "ListObjectsV2",
	    .method = "GET",
	    .bucket = bucket,
	    .max_response_bytes = S3_SMALL_RESPONSE,
	};
	struct pf_buf q;
	char max_keys[16];
	struct op *o;
	int rc = check_names(bucket, NULL, err);

	if (rc < 0)
		return rc;
	if (opts && (opts->max_keys < 0 || opts->max_keys > 1000))
		return pf_error_set(err, PF_EINVAL, "S3 ListObjectsV2: max_keys must be 1..1000");
	pf_buf_init(&q);
	query_param(&q, "list-type", "2");
	if (opts) {
		query_param(&q, "continuation-token", opts->continuation_token);
		query_param(&q, "delimiter", opts->delimiter);
		if (opts->max_keys > 0) {
			snprintf(max_keys, sizeof(max_keys), "%d", opts->max_keys);
			query_param(&q, "max-keys", max_keys);
		}
		query_param(&q, "prefix", opts->prefix);
		query_param(&q, "start-after", opts->start_after);
	}
	req.query = q.data;
	o = op_new(aws, arg);
	o->cb.list = cb;
	rc = send_op(aws, &req, on_list, o, err);
	pf_buf_free(&q);
	return rc;
}

static void on_create_multipart(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_error e;
	char *id = NULL;

	pf_error_clear(&e);
	if (err->code) {
		o->cb.create(NULL, err, o->arg);
	} else if (!pf_aws__xml_find_text(r->body, r->body_len, "UploadId", &id) || !*id) {
		pf_error_set(&e, PF_EAWS, "s3 CreateMultipartUpload: no UploadId in the response");
		o->cb.create(NULL, &e, o->arg);
	} else {
		o->cb.create(id, &e, o->arg);
	}
	free(id);
	op_free(o);
}

int pf_s3_create_multipart_upload(struct pf_aws *aws, const char *bucket, const char *key,
                                  const struct pf_s3_put_options *opts,
                                  pf_s3_create_multipart_cb cb, void *arg, struct pf_error *err)
{
	struct pf_aws_header h[2];
	struct pf_aws_request req = object_request("CreateMultipartUpload", "POST", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);

	if (!o)
		return err->code;
	req.query = "uploads=";
	req.headers = h;
	req.nheaders = put_headers(opts, h);
	o->cb.create = cb;
	return send_op(aws, &req, on_create_multipart, o, err);
}

int pf_s3_upload_part(struct pf_aws *aws, const char *bucket, const char *key,
                      const char *upload_id, int part_number, const void *body, size_t len,
                      pf_s3_put_cb cb, void *arg, struct pf_error *err)
{
	struct pf_aws_request req = object_request("UploadPart", "PUT", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);

	if (!o)
		return err->code;
	if (!upload_id || !*upload_id || part_number < 1 || part_number > 10000) {
		op_free(o);
		return pf_error_set(err, PF_EINVAL,
		                    "S3 UploadPart: upload id and part 1..10000 required");
	}
	req.body = body;
	req.body_len = len;
	o->cb.put = cb;
	return send_upload_op(aws, &req, upload_id, part_number, on_put, o, err);
}

static void on_complete(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_error e;
	char *etag = NULL;
	char code[64], msg[400], rid[128];

	pf_error_clear(&e);
	if (err->code) {
		o->cb.put(NULL, err, o->arg);
	} else if (pf_aws__xml_parse_error(r->body, r->body_len, code, sizeof(code), msg,
	                                   sizeof(msg), rid, sizeof(rid))) {
		/* S3 reports some failures as 200 with an error document */
		pf_aws__parse_error(PF_AWS_S3, false, 200, r->body, r->body_len, NULL, NULL, NULL,
		                    &e);
		e.retryable = pf_aws__is_transient_code(code) || pf_aws__is_throttling_code(code);
		o->cb.put(NULL, &e, o->arg);
	} else {
		pf_aws__xml_find_text(r->body, r->body_len, "ETag", &etag);
		o->cb.put(etag, &e, o->arg);
	}
	free(etag);
	op_free(o);
}

int pf_s3_complete_multipart_upload(struct pf_aws *aws, const char *bucket, const char *key,
                                    const char *upload_id, const struct pf_s3_completed_part *parts,
                                    size_t nparts, pf_s3_put_cb cb, void *arg, struct pf_error *err)
{
	struct pf_aws_header h[1] = {{"Content-Type", "application/xml"}};
	struct pf_aws_request req = object_request("CompleteMultipartUpload", "POST", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);
	struct pf_buf b;

	if (!o)
		return err->code;
	if (!upload_id || !*upload_id || nparts == 0 || nparts > 10000) {
		op_free(o);
		return pf_error_set(
		    err, PF_EINVAL,
		    "S3 CompleteMultipartUpload: upload id and 1..10000 parts required");
	}
	pf_buf_init(&b);
	pf_buf_append_str(&b, "<CompleteMultipartUpload xmlns=\"" S3_XMLNS "\">");
	for (size_t i = 0; i < nparts; i++) {
		if (!parts[i].etag) {
			pf_buf_free(&b);
			op_free(o);
			return pf_error_set(err, PF_EINVAL,
			                    "S3 CompleteMultipartUpload: part without ETag");
		}
		pf_buf_appendf(&b, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].part_number);
		xml_escape(&b, parts[i].etag);
		pf_buf_append_str(&b, "</ETag></Part>");
	}
	pf_buf_append_str(&b, "</CompleteMultipartUpload>");
	req.headers = h;
	req.nheaders = 1;
	req.body_len = b.len;
	req.body = pf_buf_steal(&b, NULL);
	req.free_body = true;
	o->cb.put = cb;
	return send_upload_op(aws, &req, upload_id, 0, on_complete, o, err);
}

int pf_s3_abort_multipart_upload(struct pf_aws *aws, const char *bucket, const char *key,
                                 const char *upload_id, pf_s3_done_cb cb, void *arg,
                                 struct pf_error *err)
{
	struct pf_aws_request req = object_request("AbortMultipartUpload", "DELETE", bucket, key);
	struct op *o = object_op(aws, bucket, key, arg, err);

	if (!o)
		return err->code;
	if (!upload_id || !*upload_id) {
		op_free(o);
		return pf_error_set(err, PF_EINVAL, "S3 AbortMultipartUpload: upload id required");
	}
	o->cb.done = cb;
	return send_upload_op(aws, &req, upload_id, 0, on_done, o, err);
}

int pf_s3_presign_get_url(const struct pf_endpoints *ep, const struct pf_sigv4_credentials *creds,
                          int64_t now, const char *bucket, const char *key, int64_t expires_seconds,
                          char **url, struct pf_error *err)
{
	struct pf_endpoint_url u, full;
	struct pf_sigv4_header h;
	struct pf_sigv4_request req;
	struct pf_sigv4_params params;
	struct pf_sigv4_signed sig;
	int rc;

	*url = NULL;
	memset(&sig, 0, sizeof(sig));
	memset(&full, 0, sizeof(full));
	rc = check_names(bucket, key ? key : "", err);
	if (rc < 0)
		return rc;
	if (expires_seconds < 1 || expires_seconds > 604800)
		return pf_error_set(err, PF_EINVAL, "presigned URL lifetime must be 1..604800 s");
	rc = pf_endpoints_url(ep, PF_AWS_S3, bucket, key, NULL, &u, err);
	if (rc < 0)
		return rc;
	h.name = "Host";
	h.value = u.host;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = u.path;
	req.headers = &h;
	req.nheaders = 1;
	req.payload_hash = PF_SIGV4_UNSIGNED_PAYLOAD;
	memset(&params, 0, sizeof(params));
	params.region = pf_endpoints_region(ep);
	params.service = "s3";
	params.time = now;
	params.s3 = true;
	params.expires = expires_seconds;
	rc = pf_sigv4_presign(&req, &params, creds, &sig, err);
	if (rc < 0)
		goto out;
	rc = pf_endpoints_url(ep, PF_AWS_S3, bucket, key, sig.query, &full, err);
	if (rc < 0)
		goto out;
	*url = full.url;
	full.url = NULL;
out:
	pf_endpoint_url_free(&full);
	pf_endpoint_url_free(&u);
	pf_sigv4_signed_free(&sig);
	return rc;
}

int pf_s3_presign_get(struct pf_aws *aws, const char *bucket, const char *key,
                      int64_t expires_seconds, char **url, struct pf_error *err)
{
	struct pf_sigv4_credentials creds;

	*url = NULL;
	if (!pf_credentials_provider_peek(pf_aws_credentials(aws), &creds)) {
		pf_error_set(err, PF_EAWS, "no AWS credentials loaded yet to presign with");
		err->retryable = true;
		return PF_EAWS;
	}
	return pf_s3_presign_get_url(pf_aws_endpoints(aws), &creds, pf_aws_now(aws), bucket, key,
	                             expires_seconds, url, err);
}
