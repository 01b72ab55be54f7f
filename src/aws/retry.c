/*
 * The AWS SDKs' "standard" retry mode and error reading, with no I/O: which
 * errors are retried, the full-jitter backoff, the retry quota, and the
 * typed pf_error for an error response (S3 XML, JSON protocols, headers,
 * or the status alone). Pure; any thread. The transport (aws_http.c) keeps
 * the state (quota, clock) and asks these functions what to do.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "aws/retry_int.h"
#include "aws/xml_int.h"

/* ---- classification, backoff, quota (pure) ---- */

static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

static const char *const transient_codes[] = {
    "RequestTimeout",  "RequestTimeoutException", "InternalError",
    "InternalFailure", "ServiceUnavailable",
};

static const char *const clock_skew_codes[] = {
    "RequestTimeTooSkewed",  "RequestExpired", "InvalidSignatureException",
    "SignatureDoesNotMatch", "AuthFailure",    "RequestInTheFuture",
};

static bool code_in(const char *code, const char *const *list, size_t n)
{
	if (!code || !*code)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

bool pf_aws__is_throttling_code(const char *code)
{
	return code_in(code, throttling_codes, NELEM(throttling_codes));
}

bool pf_aws__is_transient_code(const char *code)
{
	return code_in(code, transient_codes, NELEM(transient_codes));
}

bool pf_aws__is_clock_skew_code(const char *code)
{
	return code_in(code, clock_skew_codes, NELEM(clock_skew_codes));
}

enum pf_aws__error_kind pf_aws__classify(int status, const char *code)
{
	if (status >= 200 && status < 300)
		return PF_AWS__ERR_NONE;
	if (pf_aws__is_throttling_code(code) || status == 429)
		return PF_AWS__ERR_THROTTLING;
	if (pf_aws__is_clock_skew_code(code))
		return PF_AWS__ERR_CLOCK_SKEW;
	if (pf_aws__is_transient_code(code) || status == 500 || status == 502 || status == 503 ||
	    status == 504)
		return PF_AWS__ERR_TRANSIENT;
	return PF_AWS__ERR_CLIENT;
}

int64_t pf_aws__backoff_ms(int retry, bool throttling, double random01)
{
	int64_t ceiling = throttling ? PF_AWS__THROTTLE_BASE_DELAY_MS : PF_AWS__BASE_DELAY_MS;

	if (retry < 1)
		retry = 1;
	for (int i = 1; i < retry && ceiling < PF_AWS__MAX_BACKOFF_MS; i++)
		ceiling *= 2;
	if (ceiling > PF_AWS__MAX_BACKOFF_MS)
		ceiling = PF_AWS__MAX_BACKOFF_MS;
	if (!(random01 >= 0.0))
		random01 = 0.0;
	if (random01 > 1.0)
		random01 = 1.0;
	return (int64_t)(random01 * (double)ceiling);
}

void pf_aws__quota_init(struct pf_aws__quota *q)
{
	q->tokens = PF_AWS__QUOTA_MAX;
}

int pf_aws__quota_acquire(struct pf_aws__quota *q, bool timeout_error)
{
	int cost = timeout_error ? PF_AWS__TIMEOUT_RETRY_COST : PF_AWS__RETRY_COST;

	if (q->tokens < cost)
		return -1;
	q->tokens -= cost;
	return cost;
}

void pf_aws__quota_release(struct pf_aws__quota *q, int last_cost)
{
	q->tokens += last_cost > 0 ? last_cost : PF_AWS__NO_RETRY_INCREMENT;
	if (q->tokens > PF_AWS__QUOTA_MAX)
		q->tokens = PF_AWS__QUOTA_MAX;
}

int pf_aws__error_code_for(const char *code, int status)
{
	static const char *const not_found[] = {
	    "NoSuchKey",
	    "NoSuchBucket",
	    "NoSuchUpload",
	    "NotFound",
	    "ResourceNotFoundException",
	    "QueueDoesNotExist",
	    "AWS.SimpleQueueService.NonExistentQueue",
	};
	static const char *const conflict[] = {
	    "ConditionalCheckFailedException",
	    "PreconditionFailed",
	    "TransactionConflictException",
	};

	if (code_in(code, not_found, NELEM(not_found)))
		return PF_ENOTFOUND;
	if (code_in(code, conflict, NELEM(conflict)))
		return PF_ECONFLICT;
	(void)status;
	return PF_EAWS;
}

bool pf_aws__parse_json_error(const char *body, size_t len, char *code, size_t code_size,
                              char *message, size_t message_size)
{
	json_t *doc;
	json_error_t jerr;
	const char *type = NULL;
	const char *msg = NULL;
	const char *p;
	size_t n;

	code[0] = '\0';
	message[0] = '\0';
	if (!body || len == 0)
		return false;
	doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return false;
	}
	type = json_string_value(json_object_get(doc, "__type"));
	if (!type)
		type = json_string_value(json_object_get(doc, "code"));
	if (!type)
		type = json_string_value(json_object_get(doc, "Code"));
	msg = json_string_value(json_object_get(doc, "message"));
	if (!msg)
		msg = json_string_value(json_object_get(doc, "Message"));
	if (type) {
		/* "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" */
		p = strrchr(type, '#');
		p = p ? p + 1 : type;
		n = strcspn(p, ":");
		pf_copy_truncated(code, code_size, p, n);
	}
	if (msg)
		pf_copy_truncated(message, message_size, msg, strlen(msg));
	json_decref(doc);
	return code[0] != '\0';
}

static const char *status_code_name(int status)
{
	switch (status) {
	case 301:
		return "PermanentRedirect";
	case 304:
		return "NotModified";
	case 400:
		return "BadRequest";
	case 403:
		return "Forbidden";
	case 404:
		return "NotFound";
	case 412:
		return "PreconditionFailed";
	case 429:
		return "TooManyRequestsException";
	case 500:
		return "InternalError";
	case 503:
		return "ServiceUnavailable";
	default:
		return "";
	}
}

void pf_aws__parse_error(enum pf_aws_service service, bool is_unsigned, int status,
                         const char *body, size_t len, const char *request_id,
                         const char *error_type_header, const char *query_error_header,
                         struct pf_error *err)
{
	char code[64] = "";
	char message[400] = "";
	char xml_request_id[128] = "";

	if (!is_unsigned && service == PF_AWS_S3) {
		pf_aws__xml_parse_error(body, len, code, sizeof(code), message, sizeof(message),
		                        xml_request_id, sizeof(xml_request_id));
	} else if (!is_unsigned) {
		pf_aws__parse_json_error(body, len, code, sizeof(code), message, sizeof(message));
		/* SQS's JSON protocol also names the legacy query code in a header */
		if (!code[0] && query_error_header && *query_error_header)
			pf_copy_truncated(code, sizeof(code), query_error_header,
			                  strcspn(query_error_header, ";"));
		if (!code[0] && error_type_header && *error_type_header)
			pf_copy_truncated(code, sizeof(code), error_type_header,
			                  strcspn(error_type_header, ":"));
	}
	if (!code[0])
		pf_copy_truncated(code, sizeof(code), status_code_name(status),
		                  strlen(status_code_name(status)));
	err->code = is_unsigned ? (status == 404 ? PF_ENOTFOUND : PF_EAWS)
	                        : pf_aws__error_code_for(code, status);
	err->http_status = status;
	pf_copy_truncated(err->service_code, sizeof(err->service_code), code, strlen(code));
	if (request_id && *request_id)
		pf_copy_truncated(err->request_id, sizeof(err->request_id), request_id,
		                  strlen(request_id));
	else
		pf_copy_truncated(err->request_id, sizeof(err->request_id), xml_request_id,
		                  strlen(xml_request_id));
	switch (pf_aws__classify(status, code)) {
	case PF_AWS__ERR_THROTTLING:
	case PF_AWS__ERR_TRANSIENT:
		err->retryable = true;
		break;
	default:
		err->retryable = false;
	}
	snprintf(err->message, sizeof(err->message), "%s: HTTP %d %s%s%s",
	         is_unsigned ? "credentials endpoint" : pf_aws_service_name(service), status,
	         code[0] ? code : "error", message[0] ? ": " : "", message);
}
