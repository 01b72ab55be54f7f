/*
 * Private to src/aws: what the transport, the service modules, the unit
 * tests and the fuzz targets share. Pure functions here do no I/O and touch
 * no globals, so they are safe on any thread; the rest is loop thread only.
 */
#ifndef PHOTOFINISH_SRC_AWS_AWS_INT_H
#define PHOTOFINISH_SRC_AWS_AWS_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/credentials_provider.h"
#include "photofinish/aws/s3.h"
#include "photofinish/aws/sqs.h"
#include "photofinish/error.h"

/* Standard retry mode constants (as in the AWS SDKs). */
#define PF_AWS__BASE_DELAY_MS 100
#define PF_AWS__THROTTLE_BASE_DELAY_MS 500
#define PF_AWS__MAX_BACKOFF_MS 20000
#define PF_AWS__QUOTA_MAX 500
#define PF_AWS__RETRY_COST 5
#define PF_AWS__TIMEOUT_RETRY_COST 10
#define PF_AWS__NO_RETRY_INCREMENT 1
/* Clock skew larger than this is corrected from the response Date. */
#define PF_AWS__MAX_SKEW_S (4 * 60)

enum pf_aws__error_kind {
	PF_AWS__ERR_NONE = 0,   /* success */
	PF_AWS__ERR_THROTTLING, /* retry with the throttling backoff */
	PF_AWS__ERR_TRANSIENT,  /* retry */
	PF_AWS__ERR_CLOCK_SKEW, /* retry only once the clock offset was corrected */
	PF_AWS__ERR_CLIENT      /* do not retry */
};

bool pf_aws__is_throttling_code(const char *code);
bool pf_aws__is_transient_code(const char *code);
bool pf_aws__is_clock_skew_code(const char *code);
/* Classifies an HTTP response (status 2xx → NONE) by status and error code. */
enum pf_aws__error_kind pf_aws__classify(int http_status, const char *code);

/* Full-jitter backoff before retry number `retry` (1 = the first retry):
 * random01 * min(base * 2^(retry-1), 20 s), random01 in [0, 1]. */
int64_t pf_aws__backoff_ms(int retry, bool throttling, double random01);

/* The retry quota. acquire returns the cost taken, or -1 when the quota
 * cannot pay for the retry; release refunds after a success. */
struct pf_aws__quota {
	int tokens;
};
void pf_aws__quota_init(struct pf_aws__quota *q);
int pf_aws__quota_acquire(struct pf_aws__quota *q, bool timeout_error);
void pf_aws__quota_release(struct pf_aws__quota *q, int last_cost);

/* The PF_E* code for an AWS error code and status (PF_ENOTFOUND,
 * PF_ECONFLICT, else PF_EAWS). */
int pf_aws__error_code_for(const char *service_code, int http_status);

/* Fills err (code, http_status, retryable, service_code, message,
 * request_id) from an error response: S3 XML, JSON (__type/code/message,
 * x-amzn-ErrorType, x-amzn-query-error) or, without a usable body, the
 * status. request_id and error_type headers may be NULL. */
void pf_aws__parse_error(enum pf_aws_service service, bool is_unsigned, int http_status,
                         const char *body, size_t len, const char *request_id,
                         const char *error_type_header, const char *query_error_header,
                         struct pf_error *err);

/* JSON-protocol error document: code ("__type" after '#', or "code") and
 * message. Returns false when body is not such a document. */
bool pf_aws__parse_json_error(const char *body, size_t len, char *code, size_t code_size,
                              char *message, size_t message_size);

/* S3 error document <Error><Code/><Message/><RequestId/></Error>. */
bool pf_s3__parse_error_xml(const char *xml, size_t len, char *code, size_t code_size,
                            char *message, size_t message_size, char *request_id,
                            size_t request_id_size);

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

/* Text of the first element named `name` (at any depth) in a document;
 * *out malloc'd. Returns false when absent or not well-formed. */
bool pf_s3__xml_find_text(const char *xml, size_t len, const char *name, char **out);

/* ReceiveMessage response → messages (caller frees with messages_free). */
int pf_sqs__parse_messages(const char *body, size_t len, struct pf_sqs_message **msgs, size_t *n,
                           struct pf_error *err);
void pf_sqs__messages_free(struct pf_sqs_message *msgs, size_t n);

/* A *Batch response's Successful/Failed lists, matched to the request's
 * ids (in order). The result borrows strings from *doc (caller decrefs). */
int pf_sqs__parse_batch(const char *body, size_t len, const char *const *ids, size_t n,
                        json_t **doc, struct pf_sqs_batch_result *res, struct pf_error *err);

/* TransactionCanceledException document → err (PF_ECONFLICT when a reason
 * is ConditionalCheckFailed, message listing the reasons). */
void pf_dynamodb__cancellation_error(json_t *doc, struct pf_error *err);

/* Drops a waiter registered with pf_credentials_provider_get without
 * calling it (the transport cancelling a request at pf_aws_free). */
void pf_credentials_provider__forget(struct pf_credentials_provider *p, pf_credentials_cb cb,
                                     void *arg);

/* Transport internals the service modules use. */
struct pf_aws_request;
bool pf_aws__is_freeing(const struct pf_aws *aws);

#endif
