/*
 * Private to src/aws: S3's pure response parsers and request builders
 * (s3.c), shared with the unit tests and the fuzz targets. Any thread.
 */
#ifndef PHOTOFINISH_SRC_AWS_S3_INT_H
#define PHOTOFINISH_SRC_AWS_S3_INT_H

#include <stddef.h>
#include <stdint.h>

#include "photofinish/aws/s3.h"
#include "photofinish/error.h"

/* ListBucketResult (ListObjectsV2) into page (zeroed first). */
int pf_s3__parse_list(const char *xml, size_t len, struct pf_s3_list_page *page,
                      struct pf_error *err);
void pf_s3__list_page_free(struct pf_s3_list_page *page);

/* DeleteResult: appends errors to res and counts Deleted entries. */
int pf_s3__parse_delete_result(const char *xml, size_t len, struct pf_s3_delete_result *res,
                               struct pf_error *err);
void pf_s3__delete_result_free(struct pf_s3_delete_result *res);

/* The <Delete> request document for keys (quiet mode), XML-escaped. */
char *pf_s3__delete_request_xml(const char *const *keys, size_t n, size_t *len);

/* ListPartsResult into page (zeroed first): part numbers 1..10000 strictly
 * ascending, sizes >= 0, every part with an ETag. */
int pf_s3__parse_parts(const char *xml, size_t len, struct pf_s3_parts_page *page,
                       struct pf_error *err);
void pf_s3__parts_page_free(struct pf_s3_parts_page *page);

/* ListMultipartUploadsResult into page (zeroed first). */
int pf_s3__parse_uploads(const char *xml, size_t len, struct pf_s3_uploads_page *page,
                         struct pf_error *err);
void pf_s3__uploads_page_free(struct pf_s3_uploads_page *page);

/* The encoded query string ("a=1&b=2", no '?') of presign parameters, in
 * the order given; NULL params with n 0 give "". Refuses more than
 * PF_S3_PRESIGN_MAX_QUERY, empty or control-character names, and the
 * X-Amz-* names the signer adds. *out is malloc'd. */
int pf_s3__presign_params(const struct pf_s3_query_param *params, size_t n, char **out,
                          struct pf_error *err);

/* The signed query string (without '?') of a presigned S3 request to host
 * and path (encoded once, as on the wire) with query (encoded, may be NULL):
 * host (and content_length when > 0) signed, UNSIGNED-PAYLOAD. *out is
 * malloc'd. */
int pf_s3__presign_query(const char *region, const struct pf_sigv4_credentials *creds, int64_t now,
                         const char *method, const char *host, const char *path, const char *query,
                         int64_t expires_seconds, int64_t content_length, char **out,
                         struct pf_error *err);

#endif
