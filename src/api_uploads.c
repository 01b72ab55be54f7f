/*
 * The photographers' upload surface (/uploads): for an upload session or
 * a photographer's credential as a bearer token, with every key under
 * <ingress prefix><photographer>/ and nowhere else. The daemon never sees
 * the bytes: it starts multipart uploads and answers presigned UploadPart
 * URLs the browser PUTs parts to, then completes the upload from the parts
 * S3 lists; or, for a file of one part asked as "single", answers one
 * presigned PutObject URL for exactly its size, as photofinish upload sends
 * such a file (no upload to create, complete or abort). The batch routes
 * start or complete up to MAX_BATCH files in one request, so that a page
 * sending a folder spends its round trips on bytes, not on the daemon.
 * Each request re-checks that the credential is still valid (as read at
 * most 30 s ago). Loop thread only.
 */
#include "api_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "photofinish/aws/s3.h"
#include "photofinish/catalog.h"
#include "photofinish/catalog_credentials.h"
#include "photofinish/codec.h"
#include "photofinish/config.h"
#include "photofinish/log.h"
#include "photofinish/session.h"
#include "photofinish/util.h"

#define MAX_PATH 512
#define MAX_UPLOAD_ID 1024
#define MAX_CURSOR 1024
#define MAX_SIZE (200LL * 1024 * 1024)
/* S3's smallest part (but the last) is 5 MiB; 8 MiB keeps a 200 MiB file
 * at 25 parts a browser can send several at a time. */
#define PART_SIZE (8LL * 1024 * 1024)
#define MAX_PARTS ((int)((MAX_SIZE + PART_SIZE - 1) / PART_SIZE))
/* A file up to this size is one part (partSize is then this size and the
 * part "the rest"), as photofinish upload sends it in one PutObject: a
 * browser sends a whole file straight from disk, but a slice of one
 * through its blob store, at several times the CPU. */
#define ONE_PART_MAX (16LL * 1024 * 1024)
#define URL_SECONDS 3600
#define MAX_STATUS_PATHS 100
/* Files per batch request: 32 paths and upload ids of the longest kind
 * still fit the 64 KiB body limit. */
#define MAX_BATCH 32
#define CREDENTIALS_MAX_AGE_MS 30000

/* ---- admission -------------------------------------------------------------- */

static bool uploads_admit(struct pf_api_request *r)
{
	const char *auth = pf_api__header(r, "Authorization");
	struct pf_session s;
	int rc;

	pf_api__client_address(r, r->client);
	pf_api__private_headers(r);
	if (auth) {
		const char *secret = strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;

		if (!secret || strlen(secret) > 512) {
			pf_api__reply_error(
			    r, 401, "unauthorized",
			    "send Authorization: Bearer <a photographer's credential>");
			return false;
		}
		if (!pf_api__signin_allowed(r))
			return false;
		r->held = pf_xmalloc(65);
		pf_session_secret_hash(secret, r->held);
		return true;
	}
	rc = pf_api__session_admit(r, &s);
	if (rc < 0)
		return false;
	if (rc == 0) {
		pf_api__reply_error(r, 401, "unauthorized",
		                    "sign in with a photographer's credential (POST /session)");
		return false;
	}
	if (s.role != PF_SESSION_UPLOAD) {
		pf_api__reply_error(r, 403, "forbidden",
		                    "uploads are for a photographer's session, not an operator's");
		return false;
	}
	snprintf(r->photographer, sizeof(r->photographer), "%s", s.photographer);
	r->by_session = true;
	r->held = pf_xasprintf("%lld", (long long)s.credential_created_ms);
	return true;
}

static void on_uploader(struct pf_api_request *r, const struct pf_catalog_credential *list,
                        size_t n, const struct pf_error *err)
{
	int64_t now = pf_now_ms();
	const struct pf_catalog_credential *found = NULL;

	if (err->code) {
		pf_warn("upload request failed", PF_LS("error", err->message));
		pf_api__reply_error(r, 503, "unavailable", "AWS could not be reached; try again");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bool match;

		if (r->by_session) {
			char created[32];

			snprintf(created, sizeof(created), "%lld", (long long)list[i].created_ms);
			match = !strcmp(list[i].photographer, r->photographer) &&
			        !strcmp(created, r->held);
		} else {
			/* Every credential is compared, whichever matched. */
			match = pf_session_hash_equal(list[i].hash, r->held);
		}
		if (match && list[i].expires_ms > now)
			found = &list[i];
	}
	if (!found) {
		/* A guessed secret counts as a failed sign-in. */
		if (!r->by_session)
			pf_api__signin_failed(r->api, r->client);
		pf_warn("upload request refused", PF_LS("client", r->client),
		        PF_LS("route", r->route));
		pf_api__reply_error(r, 401, "unauthorized",
		                    "the credential is not valid (revoked or expired)");
		return;
	}
	snprintf(r->photographer, sizeof(r->photographer), "%s", found->photographer);
	r->then(r);
}

/* Runs then once the credential is known to be valid (waits for AWS). */
static void with_uploader(struct pf_api_request *r, void (*then)(struct pf_api_request *r))
{
	r->then = then;
	if (pf_api__wait(r))
		pf_api__credentials(r, CREDENTIALS_MAX_AGE_MS, on_uploader);
}

/* ---- paths and keys ---------------------------------------------------------- */

/* Whether p is a relative path a photographer may upload to: 1 to 512
 * bytes of UTF-8 without control characters, no leading '/', no empty,
 * "." or ".." segment. */
static bool path_is_valid(const char *p)
{
	size_t n = p ? strlen(p) : 0;
	const char *seg;

	if (n == 0 || n > MAX_PATH || p[0] == '/')
		return false;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = pf_codec_utf8_decode((const unsigned char *)p + i, n - i, &cp);

		if (len == 0 || cp < 0x20 || cp == 0x7f)
			return false;
		i += len;
	}
	for (seg = p;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (!end)
			return true;
		seg = end + 1;
	}
}

/* The photographer's key prefix: <ingress prefix><photographer>/. */
static char *key_prefix(const struct pf_api_request *r)
{
	const char *ingress = r->api->d.cfg->ingress_prefix ? r->api->d.cfg->ingress_prefix : "";

	return pf_xasprintf("%s%s/", ingress, r->photographer);
}

static char *key_of(const struct pf_api_request *r, const char *path)
{
	char *prefix = key_prefix(r);
	char *key = pf_xasprintf("%s%s", prefix, path);

	free(prefix);
	return key;
}

/* The answer an S3 failure gets: its HTTP status, code and message. */
static int s3_error_answer(const struct pf_api_request *r, const struct pf_error *err,
                           const char **code, const char **message)
{
	switch (err->code) {
	case PF_ENOTFOUND:
		*code = "not_found";
		*message = "no such upload (it was completed or aborted)";
		return 404;
	case PF_ECONFLICT:
		*code = "conflict";
		*message = "the upload's parts are incomplete (a part is missing, or none has "
		           "arrived yet)";
		return 409;
	case PF_EINVAL:
		*code = "invalid_body";
		*message = err->message;
		return 400;
	default:
		pf_warn("upload request failed", PF_LS("route", r->route),
		        PF_LS("error", err->message));
		*code = "unavailable";
		*message = "AWS could not be reached; try again";
		return 503;
	}
}

static void reply_s3_error(struct pf_api_request *r, const struct pf_error *err)
{
	const char *code, *message;
	int status = s3_error_answer(r, err, &code, &message);

	pf_api__reply_error(r, status, code, message);
}

/* The body's "path" (valid) and, when wanted, "uploadId"; NULL (a 400
 * sent) when either is wrong. doc stays the caller's. */
static const char *body_path(struct pf_api_request *r, const json_t *doc, const char **upload_id)
{
	const char *path = json_string_value(json_object_get(doc, "path"));

	if (!path_is_valid(path)) {
		pf_api__reply_error(r, 400, "invalid_path",
		                    "path is a relative path of 1 to 512 bytes without control "
		                    "characters, empty, '.' or '..' segments");
		return NULL;
	}
	if (upload_id) {
		*upload_id = json_string_value(json_object_get(doc, "uploadId"));
		if (!*upload_id || !**upload_id || strlen(*upload_id) > MAX_UPLOAD_ID) {
			pf_api__reply_error(r, 400, "invalid_body",
			                    "send {\"path\":...,\"uploadId\":...} as POST "
			                    "/uploads/files answered");
			return NULL;
		}
	}
	return path;
}

/* ---- GET /uploads/objects ------------------------------------------------------ */

static void on_objects(const struct pf_s3_list_page *page, const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;
	size_t skip = strlen(r->held);
	json_t *objects;

	if (err->code) {
		/* S3 refuses a continuation token it did not make with a 400. */
		if (err->http_status == 400 && pf_api__query(r, "cursor"))
			pf_api__reply_error(r, 400, "invalid_cursor",
			                    "cursor is not one this API returned");
		else
			reply_s3_error(r, err);
		return;
	}
	objects = json_array();
	for (size_t i = 0; i < page->nobjects; i++) {
		const struct pf_s3_object *o = &page->objects[i];

		if (strlen(o->key) > skip)
			json_array_append_new(objects, json_pack("{s:s,s:I}", "path", o->key + skip,
			                                         "size", (json_int_t)o->size));
	}
	pf_api__reply_doc(r, 200,
	                  json_pack("{s:o,s:s?}", "objects", objects, "nextCursor",
	                            page->is_truncated ? page->next_continuation_token : NULL));
}

static void list_objects(struct pf_api_request *r)
{
	struct pf_s3_list_options opts = {.continuation_token = pf_api__query(r, "cursor"),
	                                  .max_keys = 1000};
	struct pf_error err;

	/* held becomes the key prefix the listing strips. */
	free(r->held);
	r->held = key_prefix(r);
	opts.prefix = r->held;
	if (pf_s3_list_objects(r->api->d.aws, r->api->d.cfg->ingress_bucket, &opts, on_objects, r,
	                       &err) < 0)
		reply_s3_error(r, &err);
}

static void get_objects(struct pf_api_request *r)
{
	const char *cursor = pf_api__query(r, "cursor");

	if (cursor && (!*cursor || strlen(cursor) > MAX_CURSOR)) {
		pf_api__reply_error(r, 400, "invalid_cursor",
		                    "cursor is not one this API returned");
		return;
	}
	with_uploader(r, list_objects);
}

/* ---- POST /uploads/files, /uploads/batch/files ------------------------------------- */

static const char *const image_types[] = {"image/jpeg", "image/png", "image/tiff", "image/webp"};

struct batch;

/* One file being started, completed or aborted: alone (batch NULL, the
 * request's state) or as one of a batch request's files. */
struct started {
	struct pf_api_request *r;
	struct batch *batch;
	char *path;
	char *key;
	int64_t size;
	const char *type;
	bool single; /* one presigned PutObject wanted, if the file is one part */
	char *upload_id;
	json_t *answer; /* a batch file's answer, once known */
};

struct batch {
	struct started files[MAX_BATCH];
	size_t n, pending;
};

static void started_clear(struct started *st)
{
	free(st->path);
	free(st->key);
	free(st->upload_id);
	json_decref(st->answer);
}

static void started_free(void *arg)
{
	struct started *st = arg;

	if (!st)
		return;
	started_clear(st);
	free(st);
}

static void batch_free(void *arg)
{
	struct batch *b = arg;

	for (size_t i = 0; b && i < b->n; i++)
		started_clear(&b->files[i]);
	free(b);
}

static struct started *started_new(struct pf_api_request *r, const char *path)
{
	struct started *st = pf_xcalloc(1, sizeof(*st));

	st->r = r;
	st->path = pf_xstrdup(path);
	r->state = st;
	r->state_free = started_free;
	return st;
}

static struct batch *batch_new(struct pf_api_request *r)
{
	struct batch *b = pf_xcalloc(1, sizeof(*b));

	r->state = b;
	r->state_free = batch_free;
	return b;
}

static struct started *batch_add(struct batch *b, struct pf_api_request *r, const char *path)
{
	struct started *st = &b->files[b->n++];

	st->r = r;
	st->batch = b;
	st->path = pf_xstrdup(path);
	return st;
}

/* The batch's answer, in the order asked, once its last file is done. */
static void batch_file_done(struct started *st)
{
	struct batch *b = st->batch;
	json_t *files;

	if (--b->pending > 0)
		return;
	files = json_array();
	for (size_t i = 0; i < b->n; i++)
		json_array_append(files, b->files[i].answer);
	pf_api__reply_doc(st->r, 200, json_pack("{s:o}", "files", files));
}

/* A file's success: the answer alone, or its place in the batch. */
static void started_ok(struct started *st, int status, json_t *answer)
{
	if (!st->batch) {
		pf_api__reply_doc(st->r, status, answer);
		return;
	}
	st->answer = answer;
	batch_file_done(st);
}

/* A file's failure: an error answer alone, or {"path","error"} in the batch
 * with the status the single route would have answered. */
static void started_fail(struct started *st, int status, const char *code, const char *message)
{
	if (!st->batch) {
		pf_api__reply_error(st->r, status, code, message);
		return;
	}
	st->answer = json_pack("{s:s,s:{s:i,s:s,s:s}}", "path", st->path, "error", "status", status,
	                       "code", code, "message", message);
	batch_file_done(st);
}

static void started_s3_fail(struct started *st, const struct pf_error *err)
{
	const char *code, *message;
	int status = s3_error_answer(st->r, err, &code, &message);

	started_fail(st, status, code, message);
}

static void on_aborted_quietly(const struct pf_error *err, void *arg)
{
	if (err->code)
		pf_warn("abandoned upload not aborted", PF_LS("error", err->message));
}

static void on_upload_created(const char *upload_id, const struct pf_error *err, void *arg)
{
	struct started *st = arg;
	struct pf_api_request *r = st->r;
	const char *bucket = r->api->d.cfg->ingress_bucket;
	int64_t part_size = st->size <= ONE_PART_MAX ? ONE_PART_MAX : PART_SIZE;
	int nparts = (int)((st->size + part_size - 1) / part_size);
	int64_t expires = INT64_MAX;
	json_t *parts;
	char at[32];
	struct pf_error e;

	if (err->code) {
		started_s3_fail(st, err);
		return;
	}
	parts = json_array();
	for (int n = 1; n <= nparts; n++) {
		char *url = NULL;
		int64_t exp = 0;
		int64_t from = (int64_t)(n - 1) * part_size;
		/* Each part's length is signed: a URL takes no more than its part. */
		int64_t length = st->size - from < part_size ? st->size - from : part_size;

		if (pf_s3_presign_upload_part(r->api->d.aws, bucket, st->key, upload_id, n, length,
		                              URL_SECONDS, &url, &exp, &e) < 0) {
			json_decref(parts);
			if (pf_s3_abort_multipart_upload(r->api->d.aws, bucket, st->key, upload_id,
			                                 on_aborted_quietly, NULL, &e) < 0)
				pf_warn("abandoned upload not aborted", PF_LS("error", e.message));
			started_fail(st, 503, "unavailable",
			             "cannot sign upload URLs yet; try again");
			return;
		}
		if (exp < expires)
			expires = exp;
		json_array_append_new(parts, json_pack("{s:i,s:s}", "partNumber", n, "url", url));
		OPENSSL_cleanse(url, strlen(url));
		free(url);
	}
	pf_format_rfc3339_ms(expires * 1000, at);
	pf_info("upload started", PF_LS("photographer", r->photographer), PF_LS("key", st->key),
	        PF_LI("size", st->size), PF_LI("parts", nparts));
	started_ok(st, 201,
	           json_pack("{s:s,s:s,s:s,s:I,s:o,s:s}", "path", st->path, "key", st->key,
	                     "uploadId", upload_id, "partSize", (json_int_t)part_size, "parts",
	                     parts, "expiresAt", at));
}

/* A one-part file asked as single: one presigned PutObject of exactly its
 * size. Nothing is created in the bucket until the PUT arrives, so there is
 * nothing to complete or abort; the page resumes it by listing. */
static void sign_single(struct started *st)
{
	struct pf_api_request *r = st->r;
	char *url = NULL;
	int64_t expires = 0;
	char at[32];
	struct pf_error e;

	if (pf_s3_presign_put_object(r->api->d.aws, r->api->d.cfg->ingress_bucket, st->key,
	                             st->size, URL_SECONDS, &url, &expires, &e) < 0) {
		started_fail(st, 503, "unavailable", "cannot sign upload URLs yet; try again");
		return;
	}
	pf_format_rfc3339_ms(expires * 1000, at);
	pf_info("upload signed", PF_LS("photographer", r->photographer), PF_LS("key", st->key),
	        PF_LI("size", st->size));
	started_ok(st, 200,
	           json_pack("{s:s,s:s,s:s,s:s}", "path", st->path, "key", st->key, "url", url,
	                     "expiresAt", at));
	OPENSSL_cleanse(url, strlen(url));
	free(url);
}

static void start_one(struct started *st)
{
	struct pf_api_request *r = st->r;
	struct pf_s3_put_options opts = {.content_type = st->type};
	struct pf_error err;

	st->key = key_of(r, st->path);
	if (st->single && st->size <= ONE_PART_MAX) {
		sign_single(st);
		return;
	}
	if (pf_s3_create_multipart_upload(r->api->d.aws, r->api->d.cfg->ingress_bucket, st->key,
	                                  &opts, on_upload_created, st, &err) < 0)
		started_s3_fail(st, &err);
}

static void start_upload(struct pf_api_request *r)
{
	start_one(r->state);
}

/* Whether one file's {"path","size","type"[,"single"]} is right (else a
 * 400 sent); fills path, size, type and single. */
static bool file_spec(struct pf_api_request *r, const json_t *doc, const char **path, int64_t *size,
                      const char **type, bool *single)
{
	const char *t = json_string_value(json_object_get(doc, "type"));
	const json_t *sz = json_object_get(doc, "size");
	const json_t *one = json_object_get(doc, "single");
	size_t i;

	*path = body_path(r, doc, NULL);
	if (!*path)
		return false;
	if (!json_is_integer(sz) || json_integer_value(sz) < 1 ||
	    json_integer_value(sz) > MAX_SIZE) {
		pf_api__reply_error(r, 400, "invalid_body", "size must be 1 to 209715200 bytes");
		return false;
	}
	for (i = 0; i < sizeof(image_types) / sizeof(image_types[0]); i++)
		if (t && !strcmp(t, image_types[i]))
			break;
	if (i == sizeof(image_types) / sizeof(image_types[0])) {
		pf_api__reply_error(r, 400, "invalid_body",
		                    "type must be image/jpeg, image/png, image/tiff or image/webp");
		return false;
	}
	if (one && !json_is_boolean(one)) {
		pf_api__reply_error(r, 400, "invalid_body", "single must be true or false");
		return false;
	}
	*size = json_integer_value(sz);
	*type = image_types[i];
	*single = json_is_true(one);
	return true;
}

static void post_files(struct pf_api_request *r)
{
	json_t *doc = pf_api__read_body(r);
	const char *path, *type;
	int64_t size;
	bool single;
	struct started *st;

	if (!doc)
		return;
	if (file_spec(r, doc, &path, &size, &type, &single)) {
		st = started_new(r, path);
		st->size = size;
		st->type = type;
		st->single = single;
		with_uploader(r, start_upload);
	}
	json_decref(doc);
}

/* The batch body's "files": an array of 1 to MAX_BATCH objects, else NULL
 * (a 400 sent). */
static const json_t *batch_files(struct pf_api_request *r, const json_t *doc, const char *shape)
{
	const json_t *files = json_object_get(doc, "files");
	char msg[160];

	if (!json_is_array(files) || json_array_size(files) < 1 ||
	    json_array_size(files) > MAX_BATCH) {
		snprintf(msg, sizeof(msg), "send {\"files\":[%s, ...]} with 1 to %d files", shape,
		         MAX_BATCH);
		pf_api__reply_error(r, 400, "invalid_body", msg);
		return NULL;
	}
	for (size_t i = 0; i < json_array_size(files); i++) {
		if (!json_is_object(json_array_get(files, i))) {
			snprintf(msg, sizeof(msg), "every file is an object %s", shape);
			pf_api__reply_error(r, 400, "invalid_body", msg);
			return NULL;
		}
	}
	return files;
}

static void start_batch(struct pf_api_request *r)
{
	struct batch *b = r->state;

	/* One more until every file is started, so that none answers early. */
	b->pending = b->n + 1;
	for (size_t i = 0; i < b->n; i++)
		start_one(&b->files[i]);
	batch_file_done(&b->files[0]);
}

static void post_batch_files(struct pf_api_request *r)
{
	json_t *doc = pf_api__read_body(r);
	const json_t *files;
	struct batch *b;

	if (!doc)
		return;
	files = batch_files(r, doc, "{\"path\",\"size\",\"type\"}");
	if (!files)
		goto out_free_doc;
	b = batch_new(r);
	for (size_t i = 0; i < json_array_size(files); i++) {
		const char *path, *type;
		int64_t size;
		bool single;
		struct started *st;

		/* A wrong file refuses the whole batch: the page checks the same
		 * before it asks. */
		if (!file_spec(r, json_array_get(files, i), &path, &size, &type, &single))
			goto out_free_doc;
		st = batch_add(b, r, path);
		st->size = size;
		st->type = type;
		st->single = single;
	}
	with_uploader(r, start_batch);
out_free_doc:
	json_decref(doc);
}

/* ---- completing and aborting: /uploads/files/complete, /abort, /uploads/batch/complete */

static void on_completed(const struct pf_s3_completed_upload *res, const struct pf_error *err,
                         void *arg)
{
	struct started *st = arg;

	if (err->code) {
		started_s3_fail(st, err);
		return;
	}
	pf_info("upload completed", PF_LS("photographer", st->r->photographer),
	        PF_LS("key", st->key), PF_LI("size", res->size), PF_LI("parts", res->nparts));
	started_ok(st, 200,
	           json_pack("{s:s,s:I}", "path", st->path, "size", (json_int_t)res->size));
}

/* The parts as S3 holds them: a part's URL does not bind its size, so the
 * total is checked here before the object exists. */
static void on_parts(const struct pf_s3_parts_page *page, const struct pf_error *err, void *arg)
{
	struct started *st = arg;
	struct pf_api_request *r = st->r;
	struct pf_s3_complete_listed_options opts = {.max_parts = MAX_PARTS};
	struct pf_error e;

	if (err->code == PF_ETOOBIG) {
		started_fail(st, 400, "invalid_body",
		             "the upload has more parts than it was given");
		return;
	}
	if (err->code) {
		started_s3_fail(st, err);
		return;
	}
	for (size_t i = 0; i < page->nparts; i++)
		opts.expect_size += page->parts[i].size;
	if (opts.expect_size > MAX_SIZE) {
		pf_warn("oversized upload aborted", PF_LS("photographer", r->photographer),
		        PF_LS("key", st->key), PF_LI("size", opts.expect_size));
		if (pf_s3_abort_multipart_upload(r->api->d.aws, r->api->d.cfg->ingress_bucket,
		                                 st->key, st->upload_id, on_aborted_quietly, NULL,
		                                 &e) < 0)
			pf_warn("abandoned upload not aborted", PF_LS("error", e.message));
		started_fail(st, 400, "invalid_body",
		             "the parts add up to more than 200 MiB; the upload was aborted");
		return;
	}
	if (page->nparts == 0) {
		started_s3_fail(st, &(struct pf_error){.code = PF_ECONFLICT});
		return;
	}
	/* Exactly parts 1..n, adding up to what was listed: nothing changed
	 * in between. */
	opts.expect_parts = (int)page->nparts;
	if (pf_s3_complete_multipart_upload_listed(r->api->d.aws, r->api->d.cfg->ingress_bucket,
	                                           st->key, st->upload_id, &opts, on_completed, st,
	                                           &e) < 0)
		started_s3_fail(st, &e);
}

static void complete_one(struct started *st)
{
	struct pf_api_request *r = st->r;
	struct pf_error err;

	st->key = key_of(r, st->path);
	if (pf_s3_list_all_parts(r->api->d.aws, r->api->d.cfg->ingress_bucket, st->key,
	                         st->upload_id, MAX_PARTS, on_parts, st, &err) < 0)
		started_s3_fail(st, &err);
}

static void complete_upload(struct pf_api_request *r)
{
	complete_one(r->state);
}

static void on_aborted(const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;

	/* An upload already gone is aborted as far as the caller cares. */
	if (err->code && err->code != PF_ENOTFOUND && err->http_status != 404) {
		reply_s3_error(r, err);
		return;
	}
	pf_api__set_header(r, "Cache-Control", "no-store");
	pf_api__reply_empty(r, 204, "No Content");
}

static void abort_upload(struct pf_api_request *r)
{
	struct started *st = r->state;
	struct pf_error err;

	st->key = key_of(r, st->path);
	if (pf_s3_abort_multipart_upload(r->api->d.aws, r->api->d.cfg->ingress_bucket, st->key,
	                                 st->upload_id, on_aborted, r, &err) < 0)
		reply_s3_error(r, &err);
}

static void upload_ref(struct pf_api_request *r, void (*then)(struct pf_api_request *r))
{
	json_t *doc = pf_api__read_body(r);
	const char *path, *upload_id = NULL;
	struct started *st;

	if (!doc)
		return;
	path = body_path(r, doc, &upload_id);
	if (path) {
		st = started_new(r, path);
		st->upload_id = pf_xstrdup(upload_id);
		with_uploader(r, then);
	}
	json_decref(doc);
}

static void post_complete(struct pf_api_request *r)
{
	upload_ref(r, complete_upload);
}

static void post_abort(struct pf_api_request *r)
{
	upload_ref(r, abort_upload);
}

static void complete_batch(struct pf_api_request *r)
{
	struct batch *b = r->state;

	b->pending = b->n + 1;
	for (size_t i = 0; i < b->n; i++)
		complete_one(&b->files[i]);
	batch_file_done(&b->files[0]);
}

static void post_batch_complete(struct pf_api_request *r)
{
	json_t *doc = pf_api__read_body(r);
	const json_t *files;
	struct batch *b;

	if (!doc)
		return;
	files = batch_files(r, doc, "{\"path\",\"uploadId\"}");
	if (!files)
		goto out_free_doc;
	b = batch_new(r);
	for (size_t i = 0; i < json_array_size(files); i++) {
		const char *path, *upload_id = NULL;
		struct started *st;

		path = body_path(r, json_array_get(files, i), &upload_id);
		if (!path)
			goto out_free_doc;
		st = batch_add(b, r, path);
		st->upload_id = pf_xstrdup(upload_id);
	}
	with_uploader(r, complete_batch);
out_free_doc:
	json_decref(doc);
}

/* ---- POST /uploads/status ------------------------------------------------------------ */

/* The paths a POST /uploads/status asks about, in its order. */
struct status {
	char *paths[MAX_STATUS_PATHS];
	size_t n;
};

static void status_free(void *arg)
{
	struct status *st = arg;

	for (size_t i = 0; st && i < st->n; i++)
		free(st->paths[i]);
	free(st);
}

static void on_status_images(const struct pf_catalog_image *const *imgs, size_t n,
                             const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;
	struct status *st = r->state;
	json_t *files;

	if (err->code) {
		pf_api__reply_error(r, 503, "unavailable", "AWS could not be reached; try again");
		return;
	}
	files = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct pf_catalog_image *img = imgs[i];
		const char *state;

		if (!img || img->status == PF_IMAGE_DELETED)
			state = "waiting";
		else if (img->status == PF_IMAGE_FAILED)
			state = "failed";
		else
			state = img->ncodes ? "processed" : "unmatched";
		json_array_append_new(
		    files,
		    json_pack("{s:s,s:s,s:i}", "path", st->paths[i], "state", state, "codes",
		              img && img->status == PF_IMAGE_PROCESSED ? (int)img->ncodes : 0));
	}
	pf_api__reply_doc(r, 200, json_pack("{s:o}", "files", files));
}

/* One eventually consistent read for all the paths: a page showing how a
 * folder of thousands was processed asks about 100 at a time. */
static void lookup_status(struct pf_api_request *r)
{
	struct status *st = r->state;
	const char *bucket = r->api->d.cfg->ingress_bucket;
	char ids[MAX_STATUS_PATHS][PF_CATALOG_ID_LEN + 1];
	const char *id_list[MAX_STATUS_PATHS];
	struct pf_error err;

	if (st->n == 0) {
		pf_api__reply_doc(r, 200, json_pack("{s:[]}", "files"));
		return;
	}
	for (size_t i = 0; i < st->n; i++) {
		char *key = key_of(r, st->paths[i]);

		/* A photo's id is the hash of where it was uploaded. */
		pf_catalog_image_id(bucket, key, ids[i]);
		id_list[i] = ids[i];
		free(key);
	}
	if (pf_catalog_get_many(r->api->d.catalog, id_list, st->n, on_status_images, r, &err) < 0)
		on_status_images(NULL, 0, &err, r);
}

static void post_status(struct pf_api_request *r)
{
	json_t *doc = pf_api__read_body(r);
	const json_t *paths = json_object_get(doc, "paths"), *p;
	struct status *st;
	size_t i;

	if (!doc)
		return;
	if (!json_is_array(paths) || json_array_size(paths) > MAX_STATUS_PATHS) {
		pf_api__reply_error(r, 400, "invalid_body",
		                    "send {\"paths\":[...]} with at most 100 paths");
		goto out_free_doc;
	}
	json_array_foreach(paths, i, p)
	{
		if (!path_is_valid(json_string_value(p))) {
			pf_api__reply_error(
			    r, 400, "invalid_path",
			    "every path is a relative path of 1 to 512 bytes without "
			    "control characters, empty, '.' or '..' segments");
			goto out_free_doc;
		}
	}
	st = pf_xcalloc(1, sizeof(*st));
	json_array_foreach(paths, i, p) st->paths[st->n++] = pf_xstrdup(json_string_value(p));
	r->state = st;
	r->state_free = status_free;
	with_uploader(r, lookup_status);
out_free_doc:
	json_decref(doc);
}

static const struct pf_route uploads_routes[] = {
    {PF_METHOD_GET, "/uploads/objects", get_objects},
    {PF_METHOD_POST, "/uploads/files", post_files},
    {PF_METHOD_POST, "/uploads/files/complete", post_complete},
    {PF_METHOD_POST, "/uploads/files/abort", post_abort},
    {PF_METHOD_POST, "/uploads/batch/files", post_batch_files},
    {PF_METHOD_POST, "/uploads/batch/complete", post_batch_complete},
    {PF_METHOD_POST, "/uploads/status", post_status},
};

const struct pf_api__surface pf_api__uploads_surface = {
    .prefix = "/uploads/",
    .routes = uploads_routes,
    .nroutes = sizeof(uploads_routes) / sizeof(uploads_routes[0]),
    .other_route = "/uploads",
    .admit = uploads_admit,
    .not_found = "no such upload route",
    .wrong_method = "wrong method for this upload route",
};
