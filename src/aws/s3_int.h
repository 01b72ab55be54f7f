/*
 * Private to src/aws: S3's pure response parsers and request builders
 * (s3.c), shared with the unit tests and the fuzz targets. Any thread.
 */
#ifndef PHOTOFINISH_SRC_AWS_S3_INT_H
#define PHOTOFINISH_SRC_AWS_S3_INT_H

#include <stddef.h>

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

#endif
