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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

void pf_s3__parts_page_free(struct pf_s3_parts_page *page)
{
	if (!page)
		return;
	for (size_t i = 0; i < page->nparts; i++)
		free(page->parts[i].etag);
	free(page->parts);
	memset(page, 0, sizeof(*page));
}

int pf_s3__parse_parts(const char *xml, size_t len, struct pf_s3_parts_page *page,
                       struct pf_error *err)
{
	struct pf_aws__xml *root = pf_aws__xml_parse(xml, len);
	size_t n = 0;
	int64_t v;
	const char *t;
	int rc = 0;

	memset(page, 0, sizeof(*page));
	if (!root || strcmp(root->name, "ListPartsResult") != 0) {
		rc = pf_error_set(err, PF_EAWS, "s3 ListParts: response is not a ListPartsResult");
		goto out;
	}
	for (struct pf_aws__xml *c = root->child; c; c = c->next)
		if (strcmp(c->name, "Part") == 0)
			n++;
	page->parts = pf_xcalloc(n ? n : 1, sizeof(*page->parts));
	for (struct pf_aws__xml *c = root->child; c; c = c->next) {
		struct pf_s3_part *p;

		if (strcmp(c->name, "Part") != 0)
			continue;
		p = &page->parts[page->nparts];
		t = pf_aws__xml_text(c, "PartNumber");
		if (!t || !pf_parse_int64(t, 1, 10000, &v) ||
		    (page->nparts && v <= page->parts[page->nparts - 1].part_number)) {
			rc = pf_error_set(err, PF_EAWS,
			                  "s3 ListParts: part number missing, outside 1..10000 or "
			                  "not ascending");
			goto out;
		}
		p->part_number = (int)v;
		t = pf_aws__xml_text(c, "Size");
		if (!t || !pf_parse_int64(t, 0, INT64_MAX, &p->size) ||
		    !pf_aws__xml_text(c, "ETag")) {
			rc =
			    pf_error_set(err, PF_EAWS, "s3 ListParts: part %d without Size or ETag",
			                 p->part_number);
			goto out;
		}
		p->etag = pf_aws__xml_dup(c, "ETag");
		p->last_modified = parse_timestamp(pf_aws__xml_text(c, "LastModified"));
		page->nparts++;
	}
	t = pf_aws__xml_text(root, "IsTruncated");
	page->is_truncated = t && strcmp(t, "true") == 0;
	if (page->is_truncated) {
		t = pf_aws__xml_text(root, "NextPartNumberMarker");
		if (!t || !pf_parse_int64(t, 1, 10000, &v)) {
			rc = pf_error_set(
			    err, PF_EAWS,
			    "s3 ListParts: truncated page without NextPartNumberMarker");
			goto out;
		}
		page->next_part_number_marker = (int)v;
	}
out:
	if (rc < 0)
		pf_s3__parts_page_free(page);
	pf_aws__xml_free(root);
	return rc;
}

void pf_s3__uploads_page_free(struct pf_s3_uploads_page *page)
{
	if (!page)
		return;
	for (size_t i = 0; i < page->nuploads; i++) {
		free(page->uploads[i].key);
		free(page->uploads[i].upload_id);
	}
	free(page->uploads);
	free(page->next_key_marker);
	free(page->next_upload_id_marker);
	memset(page, 0, sizeof(*page));
}

int pf_s3__parse_uploads(const char *xml, size_t len, struct pf_s3_uploads_page *page,
                         struct pf_error *err)
{
	struct pf_aws__xml *root = pf_aws__xml_parse(xml, len);
	size_t n = 0;
	const char *t;
	int rc = 0;

	memset(page, 0, sizeof(*page));
	if (!root || strcmp(root->name, "ListMultipartUploadsResult") != 0) {
		rc = pf_error_set(err, PF_EAWS,
		                  "s3 ListMultipartUploads: response is not a "
		                  "ListMultipartUploadsResult");
		goto out;
	}
	for (struct pf_aws__xml *c = root->child; c; c = c->next)
		if (strcmp(c->name, "Upload") == 0)
			n++;
	page->uploads = pf_xcalloc(n ? n : 1, sizeof(*page->uploads));
	for (struct pf_aws__xml *c = root->child; c; c = c->next) {
		struct pf_s3_upload *u;

		if (strcmp(c->name, "Upload") != 0)
			continue;
		if (!pf_aws__xml_text(c, "Key") || !pf_aws__xml_text(c, "UploadId") ||
		    !*pf_aws__xml_text(c, "UploadId")) {
			rc =
			    pf_error_set(err, PF_EAWS,
			                 "s3 ListMultipartUploads: upload without Key or UploadId");
			goto out;
		}
		u = &page->uploads[page->nuploads++];
		u->key = pf_aws__xml_dup(c, "Key");
		u->upload_id = pf_aws__xml_dup(c, "UploadId");
		u->initiated = parse_timestamp(pf_aws__xml_text(c, "Initiated"));
	}
	t = pf_aws__xml_text(root, "IsTruncated");
	page->is_truncated = t && strcmp(t, "true") == 0;
	if (page->is_truncated) {
		t = pf_aws__xml_text(root, "NextKeyMarker");
		if (!t || !*t) {
			rc = pf_error_set(err, PF_EAWS,
			                  "s3 ListMultipartUploads: truncated page without "
			                  "NextKeyMarker");
			goto out;
		}
		page->next_key_marker = pf_xstrdup(t);
		t = pf_aws__xml_text(root, "NextUploadIdMarker");
		if (t && *t)
			page->next_upload_id_marker = pf_xstrdup(t);
	}
out:
	if (rc < 0)
		pf_s3__uploads_page_free(page);
	pf_aws__xml_free(root);
	return rc;
}

/* ---- presigning (pure) ---- */

static bool is_signing_param(const char *name)
{
	static const char *const reserved[] = {
	    "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",      "X-Amz-Expires",
	    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	return false;
}

int pf_s3__presign_params(const struct pf_s3_query_param *params, size_t n, char **out,
                          struct pf_error *err)
{
	struct pf_buf q;

	*out = NULL;
	if (n > PF_S3_PRESIGN_MAX_QUERY || (n && !params))
		return pf_error_set(err, PF_EINVAL, "a presigned URL takes at most %d parameters",
		                    PF_S3_PRESIGN_MAX_QUERY);
	for (size_t i = 0; i < n; i++) {
		const char *name = params[i].name;
		const char *value = params[i].value ? params[i].value : "";

		if (!name || !*name || strlen(name) > 128 || strlen(value) > 2048)
			return pf_error_set(
			    err, PF_EINVAL,
			    "presign parameter names must be 1..128 bytes and values "
			    "at most 2048");
		for (const char *c = name; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return pf_error_set(
				    err, PF_EINVAL,
				    "presign parameter name with a control character");
		if (is_signing_param(name))
			return pf_error_set(err, PF_EINVAL,
			                    "presign parameter %.40s is added by the signer", name);
	}
	pf_buf_init(&q);
	for (size_t i = 0; i < n; i++) {
		const char *value = params[i].value ? params[i].value : "";

		if (q.len)
			pf_buf_append_str(&q, "&");
		pf_codec_uri_encode_append(&q, params[i].name, strlen(params[i].name), false);
		pf_buf_append_str(&q, "=");
		pf_codec_uri_encode_append(&q, value, strlen(value), false);
	}
	*out = pf_buf_steal(&q, NULL);
	return 0;
}

static bool is_presign_method(const char *m)
{
	static const char *const methods[] = {"GET", "HEAD", "PUT", "POST", "DELETE"};

	for (size_t i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i]) == 0)
			return true;
	return false;
}

int pf_s3__presign_query(const char *region, const struct pf_sigv4_credentials *creds, int64_t now,
                         const char *method, const char *host, const char *path, const char *query,
                         int64_t expires_seconds, int64_t content_length, char **out,
                         struct pf_error *err)
{
	char length[24];
	struct pf_sigv4_header h[2] = {{"Host", host}, {"Content-Length", length}};
	struct pf_sigv4_request req;
	struct pf_sigv4_params params;
	struct pf_sigv4_signed sig;
	int rc;

	*out = NULL;
	if (!is_presign_method(method))
		return pf_error_set(err, PF_EINVAL,
		                    "presigned URL method must be GET, HEAD, PUT, POST or DELETE");
	if (expires_seconds < 1 || expires_seconds > PF_S3_PRESIGN_MAX_EXPIRES)
		return pf_error_set(err, PF_EINVAL, "presigned URL lifetime must be 1..%d s",
		                    PF_S3_PRESIGN_MAX_EXPIRES);
	if (content_length < 0)
		return pf_error_set(err, PF_EINVAL,
		                    "presigned content length must not be negative");
	snprintf(length, sizeof(length), "%lld", (long long)content_length);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = query;
	req.headers = h;
	req.nheaders = content_length > 0 ? 2 : 1;
	req.payload_hash = PF_SIGV4_UNSIGNED_PAYLOAD;
	memset(&params, 0, sizeof(params));
	params.region = region;
	params.service = "s3";
	params.time = now;
	params.s3 = true;
	params.expires = expires_seconds;
	rc = pf_sigv4_presign(&req, &params, creds, &sig, err);
	if (rc < 0)
		return rc;
	*out = sig.query;
	sig.query = NULL;
	pf_sigv4_signed_free(&sig);
	return 0;
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
		pf_s3_list_parts_cb parts;
		pf_s3_complete_listed_cb complete;
		pf_s3_list_uploads_cb uploads;
	} cb;
	/* ListParts (every page) and CompleteMultipartUpload from them */
	char *key;
	char *upload_id;
	struct pf_s3_parts_page all;
	size_t cap;
	int max_parts;
	int marker;         /* the last NextPartNumberMarker followed */
	bool then_complete; /* CompleteMultipartUpload once every part is listed */
	struct pf_s3_complete_listed_options expect;
	int64_t total_size;
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
	free(o->key);
	free(o->upload_id);
	pf_s3__parts_page_free(&o->all);
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

static void on_list_parts(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_s3_parts_page page;
	struct pf_error e;

	pf_error_clear(&e);
	if (err->code) {
		o->cb.parts(NULL, err, o->arg);
	} else if (pf_s3__parse_parts(r->body, r->body_len, &page, &e) < 0) {
		o->cb.parts(NULL, &e, o->arg);
	} else {
		o->cb.parts(&page, &e, o->arg);
		pf_s3__parts_page_free(&page);
	}
	op_free(o);
}

/* Sends one ListParts request for o (bucket, key, upload_id set). */
static int send_list_parts(struct op *o, int max_parts, int marker, pf_aws_done_cb cb,
                           struct pf_error *err)
{
	struct pf_aws_request req = object_request("ListParts", "GET", o->bucket, o->key);
	struct pf_buf q;
	char num[16];
	int rc;

	pf_buf_init(&q);
	if (max_parts > 0) {
		snprintf(num, sizeof(num), "%d", max_parts);
		query_param(&q, "max-parts", num);
	}
	if (marker > 0) {
		snprintf(num, sizeof(num), "%d", marker);
		query_param(&q, "part-number-marker", num);
	}
	query_param(&q, "uploadId", o->upload_id);
	req.query = q.data;
	rc = pf_aws_send(o->aws, &req, cb, o, err);
	pf_buf_free(&q);
	return rc;
}

/* The op of a call on one multipart upload, its names copied; NULL (err
 * filled) when they are not valid. */
static struct op *upload_op(struct pf_aws *aws, const char *bucket, const char *key,
                            const char *upload_id, const char *what, void *arg,
                            struct pf_error *err)
{
	struct op *o;

	if (check_names(bucket, key ? key : "", err) < 0)
		return NULL;
	if (!upload_id || !*upload_id || strlen(upload_id) > 1024) {
		pf_error_set(err, PF_EINVAL, "S3 %s: an upload id of 1..1024 bytes is required",
		             what);
		return NULL;
	}
	o = op_new(aws, arg);
	o->bucket = pf_xstrdup(bucket);
	o->key = pf_xstrdup(key);
	o->upload_id = pf_xstrdup(upload_id);
	return o;
}

int pf_s3_list_parts(struct pf_aws *aws, const char *bucket, const char *key, const char *upload_id,
                     const struct pf_s3_list_parts_options *opts, pf_s3_list_parts_cb cb, void *arg,
                     struct pf_error *err)
{
	struct op *o;
	int rc;

	if (opts && (opts->max_parts < 0 || opts->max_parts > 1000 ||
	             opts->part_number_marker < 0 || opts->part_number_marker > 10000))
		return pf_error_set(
		    err, PF_EINVAL,
		    "S3 ListParts: max_parts must be 1..1000 and the marker 0..10000");
	o = upload_op(aws, bucket, key, upload_id, "ListParts", arg, err);
	if (!o)
		return err->code;
	o->cb.parts = cb;
	rc = send_list_parts(o, opts ? opts->max_parts : 0, opts ? opts->part_number_marker : 0,
	                     on_list_parts, err);
	if (rc < 0)
		op_free(o);
	return rc;
}

static void on_all_parts_page(struct pf_aws_response *r, const struct pf_error *err, void *arg);
static void complete_listed(struct op *o);

/* The end of the listing: to the caller, or on to CompleteMultipartUpload. */
static void all_parts_finish(struct op *o, const struct pf_error *err)
{
	if (!err->code && o->then_complete) {
		complete_listed(o);
		return;
	}
	if (o->then_complete)
		o->cb.complete(NULL, err, o->arg);
	else
		o->cb.parts(err->code ? NULL : &o->all, err, o->arg);
	op_free(o);
}

static void on_all_parts_page(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_s3_parts_page page;
	struct pf_error e;
	int last;

	pf_error_clear(&e);
	if (err->code) {
		all_parts_finish(o, err);
		return;
	}
	if (pf_s3__parse_parts(r->body, r->body_len, &page, &e) < 0) {
		all_parts_finish(o, &e);
		return;
	}
	last = o->all.nparts ? o->all.parts[o->all.nparts - 1].part_number : 0;
	if (page.nparts && page.parts[0].part_number <= last) {
		pf_error_set(&e, PF_EAWS, "s3 ListParts: a page repeats parts of the previous one");
		goto fail;
	}
	if (o->all.nparts + page.nparts > (size_t)o->max_parts) {
		pf_error_set(&e, PF_ETOOBIG, "s3 ListParts: the upload has more than %d parts",
		             o->max_parts);
		goto fail;
	}
	if (o->all.nparts + page.nparts > o->cap) {
		o->cap = o->all.nparts + page.nparts;
		o->all.parts = pf_xrealloc(o->all.parts, o->cap * sizeof(*o->all.parts));
	}
	/* the strings move over: page keeps only its array */
	memcpy(o->all.parts + o->all.nparts, page.parts, page.nparts * sizeof(*page.parts));
	o->all.nparts += page.nparts;
	page.nparts = 0;
	if (page.is_truncated) {
		/* a marker that does not move on would loop for ever */
		if (page.next_part_number_marker <= o->marker) {
			pf_error_set(&e, PF_EAWS,
			             "s3 ListParts: NextPartNumberMarker does not advance");
			goto fail;
		}
		o->marker = page.next_part_number_marker;
		if (send_list_parts(o, 0, page.next_part_number_marker, on_all_parts_page, &e) < 0)
			goto fail;
		pf_s3__parts_page_free(&page);
		return;
	}
	pf_s3__parts_page_free(&page);
	all_parts_finish(o, &e);
	return;
fail:
	pf_s3__parts_page_free(&page);
	all_parts_finish(o, &e);
}

static int start_all_parts(struct op *o, int max_parts, struct pf_error *err)
{
	int rc;

	if (max_parts < 0 || max_parts > 10000) {
		op_free(o);
		return pf_error_set(err, PF_EINVAL, "S3 ListParts: max_parts must be 0..10000");
	}
	o->max_parts = max_parts ? max_parts : 10000;
	rc = send_list_parts(o, 0, 0, on_all_parts_page, err);
	if (rc < 0)
		op_free(o);
	return rc;
}

int pf_s3_list_all_parts(struct pf_aws *aws, const char *bucket, const char *key,
                         const char *upload_id, int max_parts, pf_s3_list_parts_cb cb, void *arg,
                         struct pf_error *err)
{
	struct op *o = upload_op(aws, bucket, key, upload_id, "ListParts", arg, err);

	if (!o)
		return err->code;
	o->cb.parts = cb;
	return start_all_parts(o, max_parts, err);
}

static void on_complete_listed(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_s3_completed_upload res;
	struct pf_error e;
	char *etag = NULL;
	char code[64], msg[400], rid[128];

	pf_error_clear(&e);
	if (err->code) {
		o->cb.complete(NULL, err, o->arg);
	} else if (pf_aws__xml_parse_error(r->body, r->body_len, code, sizeof(code), msg,
	                                   sizeof(msg), rid, sizeof(rid))) {
		/* S3 reports some failures as 200 with an error document */
		pf_aws__parse_error(PF_AWS_S3, false, 200, r->body, r->body_len, NULL, NULL, NULL,
		                    &e);
		e.retryable = pf_aws__is_transient_code(code) || pf_aws__is_throttling_code(code);
		o->cb.complete(NULL, &e, o->arg);
	} else {
		pf_aws__xml_find_text(r->body, r->body_len, "ETag", &etag);
		res.etag = etag;
		res.size = o->total_size;
		res.nparts = (int)o->all.nparts;
		o->cb.complete(&res, &e, o->arg);
	}
	free(etag);
	op_free(o);
}

/* The <CompleteMultipartUpload> document of the listed parts. */
static char *complete_xml(const struct pf_s3_part *parts, size_t n, size_t *len)
{
	struct pf_buf b;

	pf_buf_init(&b);
	pf_buf_append_str(&b, "<CompleteMultipartUpload xmlns=\"" S3_XMLNS "\">");
	for (size_t i = 0; i < n; i++) {
		pf_buf_appendf(&b, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].part_number);
		xml_escape(&b, parts[i].etag);
		pf_buf_append_str(&b, "</ETag></Part>");
	}
	pf_buf_append_str(&b, "</CompleteMultipartUpload>");
	return pf_buf_steal(&b, len);
}

static void complete_listed(struct op *o)
{
	struct pf_aws_header h[1] = {{"Content-Type", "application/xml"}};
	struct pf_aws_request req =
	    object_request("CompleteMultipartUpload", "POST", o->bucket, o->key);
	struct pf_error e;
	size_t len;
	char *q;

	pf_error_clear(&e);
	o->total_size = 0;
	for (size_t i = 0; i < o->all.nparts; i++)
		o->total_size += o->all.parts[i].size;
	if (o->all.nparts == 0) {
		pf_error_set(&e, PF_ECONFLICT, "S3 CompleteMultipartUpload: no part was uploaded");
		goto fail;
	}
	if (o->expect.expect_parts > 0 &&
	    (o->all.nparts != (size_t)o->expect.expect_parts ||
	     o->all.parts[o->all.nparts - 1].part_number != o->expect.expect_parts)) {
		pf_error_set(&e, PF_ECONFLICT,
		             "S3 CompleteMultipartUpload: %zu of %d parts uploaded", o->all.nparts,
		             o->expect.expect_parts);
		goto fail;
	}
	if (o->expect.expect_size > 0 && o->total_size != o->expect.expect_size) {
		pf_error_set(&e, PF_ECONFLICT,
		             "S3 CompleteMultipartUpload: the parts hold %lld bytes, not %lld",
		             (long long)o->total_size, (long long)o->expect.expect_size);
		goto fail;
	}
	req.headers = h;
	req.nheaders = 1;
	req.body = complete_xml(o->all.parts, o->all.nparts, &len);
	req.body_len = len;
	req.free_body = true;
	q = upload_query(o->upload_id, 0);
	req.query = q;
	if (pf_aws_send(o->aws, &req, on_complete_listed, o, &e) < 0) {
		free(q);
		goto fail;
	}
	free(q);
	return;
fail:
	o->cb.complete(NULL, &e, o->arg);
	op_free(o);
}

int pf_s3_complete_multipart_upload_listed(struct pf_aws *aws, const char *bucket, const char *key,
                                           const char *upload_id,
                                           const struct pf_s3_complete_listed_options *opts,
                                           pf_s3_complete_listed_cb cb, void *arg,
                                           struct pf_error *err)
{
	struct op *o;

	if (opts && (opts->expect_parts < 0 || opts->expect_parts > 10000 || opts->expect_size < 0))
		return pf_error_set(err, PF_EINVAL,
		                    "S3 CompleteMultipartUpload: expect_parts must be 0..10000 and "
		                    "expect_size not negative");
	o = upload_op(aws, bucket, key, upload_id, "CompleteMultipartUpload", arg, err);
	if (!o)
		return err->code;
	o->cb.complete = cb;
	o->then_complete = true;
	if (opts)
		o->expect = *opts;
	return start_all_parts(o, opts ? opts->max_parts : 0, err);
}

static void on_list_uploads(struct pf_aws_response *r, const struct pf_error *err, void *arg)
{
	struct op *o = arg;
	struct pf_s3_uploads_page page;
	struct pf_error e;

	pf_error_clear(&e);
	if (err->code) {
		o->cb.uploads(NULL, err, o->arg);
	} else if (pf_s3__parse_uploads(r->body, r->body_len, &page, &e) < 0) {
		o->cb.uploads(NULL, &e, o->arg);
	} else {
		o->cb.uploads(&page, &e, o->arg);
		pf_s3__uploads_page_free(&page);
	}
	op_free(o);
}

int pf_s3_list_multipart_uploads(struct pf_aws *aws, const char *bucket,
                                 const struct pf_s3_list_uploads_options *opts,
                                 pf_s3_list_uploads_cb cb, void *arg, struct pf_error *err)
{
	struct pf_aws_request req = {
	    .service = PF_AWS_S3,
	    .operation = "ListMultipartUploads",
	    .method = "GET",
	    .bucket = bucket,
	    .max_response_bytes = S3_SMALL_RESPONSE,
	};
	struct pf_buf q;
	char num[16];
	struct op *o;
	int rc = check_names(bucket, NULL, err);

	if (rc < 0)
		return rc;
	if (opts && (opts->max_uploads < 0 || opts->max_uploads > 1000))
		return pf_error_set(err, PF_EINVAL,
		                    "S3 ListMultipartUploads: max_uploads must be 1..1000");
	pf_buf_init(&q);
	if (opts) {
		query_param(&q, "key-marker", opts->key_marker);
		if (opts->max_uploads > 0) {
			snprintf(num, sizeof(num), "%d", opts->max_uploads);
			query_param(&q, "max-uploads", num);
		}
		query_param(&q, "prefix", opts->prefix);
		query_param(&q, "upload-id-marker", opts->upload_id_marker);
	}
	pf_buf_append_str(&q, q.len ? "&uploads=" : "uploads=");
	req.query = q.data;
	o = op_new(aws, arg);
	o->cb.uploads = cb;
	rc = send_op(aws, &req, on_list_uploads, o, err);
	pf_buf_free(&q);
	return rc;
}

int pf_s3_presign_url_at(const struct pf_endpoints *ep, const struct pf_sigv4_credentials *creds,
                         int64_t now, const struct pf_s3_presign_request *req, char **url,
                         struct pf_error *err)
{
	struct pf_endpoint_url u, full;
	char *query = NULL, *signed_query = NULL;
	int rc;

	*url = NULL;
	memset(&u, 0, sizeof(u));
	memset(&full, 0, sizeof(full));
	rc = check_names(req->bucket, req->key, err);
	if (rc < 0)
		return rc;
	rc = pf_s3__presign_params(req->query, req->nquery, &query, err);
	if (rc < 0)
		goto out;
	rc = pf_endpoints_url(ep, PF_AWS_S3, req->bucket, req->key, NULL, &u, err);
	if (rc < 0)
		goto out;
	rc = pf_s3__presign_query(pf_endpoints_region(ep), creds, now, req->method, u.host, u.path,
	                          query, req->expires_seconds, req->content_length, &signed_query,
	                          err);
	if (rc < 0)
		goto out;
	rc = pf_endpoints_url(ep, PF_AWS_S3, req->bucket, req->key, signed_query, &full, err);
	if (rc < 0)
		goto out;
	*url = full.url;
	full.url = NULL;
out:
	free(query);
	free(signed_query);
	pf_endpoint_url_free(&full);
	pf_endpoint_url_free(&u);
	return rc;
}

int pf_s3_presign_url(struct pf_aws *aws, const struct pf_s3_presign_request *req, char **url,
                      int64_t *expires_at, struct pf_error *err)
{
	struct pf_sigv4_credentials creds;
	int64_t now = pf_aws_now(aws);
	int64_t cred_expiry;
	int rc;

	*url = NULL;
	if (!pf_credentials_provider_peek(pf_aws_credentials(aws), &creds)) {
		pf_error_set(err, PF_EAWS, "no AWS credentials loaded yet to presign with");
		err->retryable = true;
		return PF_EAWS;
	}
	rc = pf_s3_presign_url_at(pf_aws_endpoints(aws), &creds, now, req, url, err);
	if (rc < 0)
		return rc;
	if (expires_at) {
		/* S3 refuses a presigned URL once its session credentials expire,
		 * whatever X-Amz-Expires says */
		cred_expiry = pf_credentials_provider_expiration(pf_aws_credentials(aws)) / 1000;
		*expires_at = now + req->expires_seconds;
		if (cred_expiry > 0 && cred_expiry < *expires_at)
			*expires_at = cred_expiry;
	}
	return 0;
}

int pf_s3_presign_upload_part(struct pf_aws *aws, const char *bucket, const char *key,
                              const char *upload_id, int part_number, int64_t content_length,
                              int64_t expires_seconds, char **url, int64_t *expires_at,
                              struct pf_error *err)
{
	char num[16];
	struct pf_s3_query_param q[2] = {{"partNumber", num}, {"uploadId", upload_id}};
	struct pf_s3_presign_request req = {.method = "PUT",
	                                    .bucket = bucket,
	                                    .key = key,
	                                    .query = q,
	                                    .nquery = 2,
	                                    .expires_seconds = expires_seconds,
	                                    .content_length = content_length};

	*url = NULL;
	if (!key || !upload_id || !*upload_id || part_number < 1 || part_number > 10000)
		return pf_error_set(
		    err, PF_EINVAL,
		    "presigned UploadPart: key, upload id and part 1..10000 required");
	snprintf(num, sizeof(num), "%d", part_number);
	return pf_s3_presign_url(aws, &req, url, expires_at, err);
}

int pf_s3_presign_put_object(struct pf_aws *aws, const char *bucket, const char *key,
                             int64_t content_length, int64_t expires_seconds, char **url,
                             int64_t *expires_at, struct pf_error *err)
{
	struct pf_s3_presign_request req = {.method = "PUT",
	                                    .bucket = bucket,
	                                    .key = key,
	                                    .expires_seconds = expires_seconds,
	                                    .content_length = content_length};

	*url = NULL;
	if (!key || !*key || content_length < 1)
		return pf_error_set(err, PF_EINVAL,
		                    "presigned PutObject: a key and a length of 1 byte or more");
	return pf_s3_presign_url(aws, &req, url, expires_at, err);
}

int pf_s3_presign_get_url(const struct pf_endpoints *ep, const struct pf_sigv4_credentials *creds,
                          int64_t now, const char *bucket, const char *key, int64_t expires_seconds,
                          char **url, struct pf_error *err)
{
	struct pf_s3_presign_request req = {.method = "GET",
	                                    .bucket = bucket,
	                                    .key = key ? key : "",
	                                    .expires_seconds = expires_seconds};

	return pf_s3_presign_url_at(ep, creds, now, &req, url, err);
}

int pf_s3_presign_get(struct pf_aws *aws, const char *bucket, const char *key,
                      int64_t expires_seconds, char **url, struct pf_error *err)
{
	struct pf_s3_presign_request req = {.method = "GET",
	                                    .bucket = bucket,
	                                    .key = key ? key : "",
	                                    .expires_seconds = expires_seconds};

	return pf_s3_presign_url(aws, &req, url, NULL, err);
}
