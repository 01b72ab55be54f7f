/*
 * Private to src/aws: the pure retry and error code of retry.c, shared by
 * the transport, the unit tests and the fuzz targets. No I/O, no globals:
 * safe on any thread.
 */
#ifndef PHOTOFINISH_SRC_AWS_RETRY_INT_H
#define PHOTOFINISH_SRC_AWS_RETRY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/aws/endpoints.h"
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

#endif
