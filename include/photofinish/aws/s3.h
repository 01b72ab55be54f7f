/*
 * S3 operations over the AWS transport (REST/XML protocol): GetObject into
 * memory with a byte limit, HeadObject, PutObject, DeleteObject,
 * DeleteObjects (batches of 1000 with Content-MD5), ListObjectsV2 pages,
 * multipart uploads (create, parts, ListParts, complete, abort,
 * ListMultipartUploads), and presigned URLs for any method (pure), such as
 * the UploadPart URLs a browser PUTs part bytes to.
 *
 * Loop thread only; callbacks follow the transport's async contract (on
 * error the callback never runs; otherwise exactly once, on the loop
 * thread). Object keys are raw (not encoded) everywhere: they are encoded
 * exactly once on the way out, slashes kept. Payloads are signed
 * (x-amz-content-sha256 is the real SHA-256 of the body). Bodies are never
 * copied: a PUT body is sent from the caller's memory and a GET body is
 * received into one buffer sized from Content-Length.
 */
#ifndef PHOTOFINISH_AWS_S3_H
#define PHOTOFINISH_AWS_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/aws/sigv4.h"
#include "photofinish/error.h"

struct pf_aws;
struct pf_endpoints;

/* Metadata of an object (GetObject, HeadObject). Strings may be NULL. */
struct pf_s3_object_info {
	int64_t content_length; /* -1 when unknown */
	char *etag;             /* as sent, with quotes */
	char *content_type;
	char *cache_control;
	int64_t last_modified; /* seconds since the epoch, 0 when unknown */
};

/* GetObject result. body is NUL-terminated (not counted in len); the
 * callback may take it (set body = NULL), everything else is freed after
 * the callback returns. */
struct pf_s3_get_result {
	char *body;
	size_t len;
	struct pf_s3_object_info info;
};

/* res is NULL when err->code != 0. A body over max_bytes fails with
 * PF_ETOOBIG (from Content-Length, before the body is transferred);
 * a missing key or bucket with PF_ENOTFOUND. */
typedef void (*pf_s3_get_cb)(struct pf_s3_get_result *res, const struct pf_error *err, void *arg);
int pf_s3_get_object(struct pf_aws *aws, const char *bucket, const char *key, size_t max_bytes,
                     pf_s3_get_cb cb, void *arg, struct pf_error *err);

/* info is NULL when err->code != 0; PF_ENOTFOUND when there is no such key. */
typedef void (*pf_s3_head_cb)(const struct pf_s3_object_info *info, const struct pf_error *err,
                              void *arg);
int pf_s3_head_object(struct pf_aws *aws, const char *bucket, const char *key, pf_s3_head_cb cb,
                      void *arg, struct pf_error *err);

struct pf_s3_put_options {
	const char *content_type;  /* NULL: application/octet-stream */
	const char *cache_control; /* NULL: none */
};

/* etag (with quotes) is NULL when err->code != 0 or when S3 sent none. */
typedef void (*pf_s3_put_cb)(const char *etag, const struct pf_error *err, void *arg);

/* Uploads body (borrowed, unchanged until the callback runs) as key. */
int pf_s3_put_object(struct pf_aws *aws, const char *bucket, const char *key, const void *body,
                     size_t len, const struct pf_s3_put_options *opts, pf_s3_put_cb cb, void *arg,
                     struct pf_error *err);

/* Completion of an operation without a result. */
typedef void (*pf_s3_done_cb)(const struct pf_error *err, void *arg);

/* Deleting a missing key succeeds (as in S3). */
int pf_s3_delete_object(struct pf_aws *aws, const char *bucket, const char *key, pf_s3_done_cb cb,
                        void *arg, struct pf_error *err);

struct pf_s3_delete_error {
	char *key;
	char *code; /* e.g. "AccessDenied" */
	char *message;
};

struct pf_s3_delete_result {
	size_t ndeleted; /* keys S3 confirmed (quiet mode reports only errors) */
	struct pf_s3_delete_error *errors;
	size_t nerrors;
};

/* res is always non-NULL: with err->code != 0 it holds what the batches
 * before the failure achieved. Per-key failures are in res->errors with
 * err->code == 0 (the call itself worked). */
typedef void (*pf_s3_delete_objects_cb)(const struct pf_s3_delete_result *res,
                                        const struct pf_error *err, void *arg);

/* Deletes keys (copied) in sequential batches of up to 1000. nkeys 0 is
 * fine (the callback still runs once). */
int pf_s3_delete_objects(struct pf_aws *aws, const char *bucket, const char *const *keys,
                         size_t nkeys, pf_s3_delete_objects_cb cb, void *arg, struct pf_error *err);

struct pf_s3_object {
	char *key;
	int64_t size;
	char *etag;
	int64_t last_modified; /* seconds since the epoch */
};

/* One ListObjectsV2 page. */
struct pf_s3_list_page {
	struct pf_s3_object *objects;
	size_t nobjects;
	char **common_prefixes; /* with a delimiter */
	size_t nprefixes;
	bool is_truncated;
	char *next_continuation_token; /* NULL on the last page */
};

struct pf_s3_list_options {
	const char *prefix;             /* NULL: all keys */
	const char *delimiter;          /* NULL: none */
	const char *continuation_token; /* from the previous page, NULL for the first */
	const char *start_after;        /* NULL: from the start */
	int max_keys;                   /* 1..1000; 0: 1000 */
};

/* page is NULL when err->code != 0; it is freed after the callback. */
typedef void (*pf_s3_list_cb)(const struct pf_s3_list_page *page, const struct pf_error *err,
                              void *arg);
int pf_s3_list_objects(struct pf_aws *aws, const char *bucket,
                       const struct pf_s3_list_options *opts, pf_s3_list_cb cb, void *arg,
                       struct pf_error *err);

/* Multipart upload (for large files from the upload CLI). */
typedef void (*pf_s3_create_multipart_cb)(const char *upload_id, const struct pf_error *err,
                                          void *arg);
int pf_s3_create_multipart_upload(struct pf_aws *aws, const char *bucket, const char *key,
                                  const struct pf_s3_put_options *opts,
                                  pf_s3_create_multipart_cb cb, void *arg, struct pf_error *err);

/* part_number 1..10000; body borrowed as for PutObject; cb gets the part's ETag. */
int pf_s3_upload_part(struct pf_aws *aws, const char *bucket, const char *key,
                      const char *upload_id, int part_number, const void *body, size_t len,
                      pf_s3_put_cb cb, void *arg, struct pf_error *err);

struct pf_s3_completed_part {
	int part_number;
	const char *etag;
};

/* parts in ascending part order (copied); cb gets the object's ETag. S3 can
 * answer 200 with an error document: that is reported as an error. */
int pf_s3_complete_multipart_upload(struct pf_aws *aws, const char *bucket, const char *key,
                                    const char *upload_id, const struct pf_s3_completed_part *parts,
                                    size_t nparts, pf_s3_put_cb cb, void *arg,
                                    struct pf_error *err);

int pf_s3_abort_multipart_upload(struct pf_aws *aws, const char *bucket, const char *key,
                                 const char *upload_id, pf_s3_done_cb cb, void *arg,
                                 struct pf_error *err);

/* One part of a multipart upload as ListParts reports it. */
struct pf_s3_part {
	int part_number;
	int64_t size;
	char *etag;            /* with quotes */
	int64_t last_modified; /* seconds since the epoch, 0 when unknown */
};

/* One ListParts page. */
struct pf_s3_parts_page {
	struct pf_s3_part *parts; /* ascending part numbers */
	size_t nparts;
	bool is_truncated;
	int next_part_number_marker; /* for the next page when is_truncated */
};

struct pf_s3_list_parts_options {
	int max_parts;          /* 1..1000; 0: 1000 */
	int part_number_marker; /* list parts after this one; 0: from the start */
};

/* page is NULL when err->code != 0; it is freed after the callback. A
 * missing (completed or aborted) upload fails with PF_ENOTFOUND. */
typedef void (*pf_s3_list_parts_cb)(const struct pf_s3_parts_page *page, const struct pf_error *err,
                                    void *arg);

/* One ListParts page of upload_id. opts may be NULL. */
int pf_s3_list_parts(struct pf_aws *aws, const char *bucket, const char *key, const char *upload_id,
                     const struct pf_s3_list_parts_options *opts, pf_s3_list_parts_cb cb, void *arg,
                     struct pf_error *err);

/* Every part of upload_id, page after page (sequentially), at most
 * max_parts of them (1..10000; 0: 10000): more fails with PF_ETOOBIG, so a
 * hostile or runaway upload cannot grow the list without bound. The page
 * given to cb holds all parts (is_truncated false). */
int pf_s3_list_all_parts(struct pf_aws *aws, const char *bucket, const char *key,
                         const char *upload_id, int max_parts, pf_s3_list_parts_cb cb, void *arg,
                         struct pf_error *err);

/* What CompleteMultipartUpload from the listed parts produced. */
struct pf_s3_completed_upload {
	const char *etag; /* the object's ETag (with quotes); NULL when S3 sent none */
	int64_t size;     /* sum of the listed part sizes: the object's size */
	int nparts;
};

struct pf_s3_complete_listed_options {
	/* When > 0: the parts must be exactly 1..expect_parts, else the call
	 * fails with PF_ECONFLICT before completing (the upload stays open). */
	int expect_parts;
	/* When > 0: the parts' sizes must add up to this, else PF_ECONFLICT.
	 * (0: not checked, so a zeroed struct asks for nothing.) */
	int64_t expect_size;
	/* Bound for the listing (see pf_s3_list_all_parts); 0: 10000. */
	int max_parts;
};

/* res is NULL when err->code != 0. */
typedef void (*pf_s3_complete_listed_cb)(const struct pf_s3_completed_upload *res,
                                         const struct pf_error *err, void *arg);

/* Completes upload_id from the parts S3 has (ListParts, every page), so a
 * caller whose parts were uploaded by someone else (a browser PUTting to
 * presigned URLs) never needs their ETags. No parts at all fails with
 * PF_ECONFLICT. opts may be NULL (no expectations). */
int pf_s3_complete_multipart_upload_listed(struct pf_aws *aws, const char *bucket, const char *key,
                                           const char *upload_id,
                                           const struct pf_s3_complete_listed_options *opts,
                                           pf_s3_complete_listed_cb cb, void *arg,
                                           struct pf_error *err);

/* One in-progress multipart upload (ListMultipartUploads). */
struct pf_s3_upload {
	char *key;
	char *upload_id;
	int64_t initiated; /* seconds since the epoch, 0 when unknown */
};

struct pf_s3_uploads_page {
	struct pf_s3_upload *uploads;
	size_t nuploads;
	bool is_truncated;
	char *next_key_marker;       /* NULL on the last page */
	char *next_upload_id_marker; /* NULL on the last page */
};

struct pf_s3_list_uploads_options {
	const char *prefix;           /* NULL: all keys */
	const char *key_marker;       /* from the previous page, NULL for the first */
	const char *upload_id_marker; /* from the previous page, NULL for the first */
	int max_uploads;              /* 1..1000; 0: 1000 */
};

/* page is NULL when err->code != 0; it is freed after the callback. */
typedef void (*pf_s3_list_uploads_cb)(const struct pf_s3_uploads_page *page,
                                      const struct pf_error *err, void *arg);

/* One ListMultipartUploads page. opts may be NULL. */
int pf_s3_list_multipart_uploads(struct pf_aws *aws, const char *bucket,
                                 const struct pf_s3_list_uploads_options *opts,
                                 pf_s3_list_uploads_cb cb, void *arg, struct pf_error *err);

/* One extra query parameter of a presigned URL, raw (encoded here). A NULL
 * value gives "name=" (subresources such as "uploads"). */
struct pf_s3_query_param {
	const char *name;
	const char *value;
};

#define PF_S3_PRESIGN_MAX_QUERY 16
#define PF_S3_PRESIGN_MAX_EXPIRES 604800 /* 7 days, S3's limit */

/* What to presign. The Host header (and, when content_length > 0, the
 * Content-Length) is signed and the payload is UNSIGNED-PAYLOAD, so whoever
 * uses the URL sends the method, the path and the query exactly as given,
 * any body (of exactly content_length bytes when that is set), and no
 * header that needs signing. */
struct pf_s3_presign_request {
	const char *method; /* "GET", "HEAD", "PUT", "POST" or "DELETE" */
	const char *bucket;
	const char *key; /* raw object key; NULL for a bucket-level URL */
	/* e.g. {"partNumber","3"},{"uploadId",id}; 0..PF_S3_PRESIGN_MAX_QUERY.
	 * X-Amz-* signing parameters are refused (the signer adds them). */
	const struct pf_s3_query_param *query;
	size_t nquery;
	int64_t expires_seconds; /* 1..PF_S3_PRESIGN_MAX_EXPIRES */
	/* > 0: signed, so S3 refuses a body of any other length; 0: not signed */
	int64_t content_length;
};

/* A presigned URL (pure: no I/O; the signing time `now` and the credentials
 * are given), addressed as the client addresses the bucket (virtual-hosted,
 * or path-style with an endpoint override or a dotted bucket). A session
 * token is sent as X-Amz-Security-Token and signed. *url is malloc'd; never
 * log it. Returns 0 or PF_EINVAL. */
int pf_s3_presign_url_at(const struct pf_endpoints *ep, const struct pf_sigv4_credentials *creds,
                         int64_t now, const struct pf_s3_presign_request *req, char **url,
                         struct pf_error *err);

/* The same with the client's cached credentials and skew-corrected clock.
 * *expires_at (may be NULL) is when the URL stops working, in seconds
 * since the epoch: the signing time plus expires_seconds, or earlier when
 * temporary credentials expire first. Fails with PF_EAWS (retryable) when
 * no usable credentials are cached yet (see pf_credentials_provider_get). */
int pf_s3_presign_url(struct pf_aws *aws, const struct pf_s3_presign_request *req, char **url,
                      int64_t *expires_at, struct pf_error *err);

/* Shorthand: the presigned UploadPart URL (PUT ?partNumber=&uploadId=) of
 * part_number (1..10000) of upload_id, for a part of exactly content_length
 * bytes when that is > 0 (0: any length); as pf_s3_presign_url. */
int pf_s3_presign_upload_part(struct pf_aws *aws, const char *bucket, const char *key,
                              const char *upload_id, int part_number, int64_t content_length,
                              int64_t expires_seconds, char **url, int64_t *expires_at,
                              struct pf_error *err);

/* Shorthand: the presigned PutObject URL (PUT, no query) of key, for a
 * body of exactly content_length (>= 1) bytes; as pf_s3_presign_url. */
int pf_s3_presign_put_object(struct pf_aws *aws, const char *bucket, const char *key,
                             int64_t content_length, int64_t expires_seconds, char **url,
                             int64_t *expires_at, struct pf_error *err);

/* A presigned GET URL (pure: no I/O; the signing time and credentials are
 * given). expires_seconds 1..604800. *url is malloc'd; never log it. */
int pf_s3_presign_get_url(const struct pf_endpoints *ep, const struct pf_sigv4_credentials *creds,
                          int64_t now, const char *bucket, const char *key, int64_t expires_seconds,
                          char **url, struct pf_error *err);

/* The same with the client's cached credentials and skew-corrected clock.
 * Fails with PF_EAWS (retryable) when no usable credentials are cached yet
 * (see pf_credentials_provider_get to load them first). */
int pf_s3_presign_get(struct pf_aws *aws, const char *bucket, const char *key,
                      int64_t expires_seconds, char **url, struct pf_error *err);

#endif
