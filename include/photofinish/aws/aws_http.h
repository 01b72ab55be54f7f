/*
 * AWS HTTP transport: one client (struct pf_aws) per process that owns a
 * single curl multi handle driven by the libevent loop, the endpoints, the
 * credentials provider, the retry quota and the clock-skew offset. Every
 * S3/SQS/DynamoDB request goes through pf_aws_send; the credential
 * endpoints use the unsigned path (pf_aws_send_unsigned).
 *
 * Loop thread only: every function here, and every callback, runs on the
 * thread that runs the event_base given to pf_aws_new.
 *
 * Guarantees:
 * - Async contract: when a function taking a callback returns an error the
 *   callback never runs; otherwise it runs exactly once, on the loop thread,
 *   never from inside the call that started the request.
 * - Retries follow the AWS SDKs' "standard" mode: at most max_attempts
 *   attempts (default 3), full-jitter exponential backoff (base 100 ms,
 *   500 ms for throttling, capped at 20 s), a retry quota of 500 tokens
 *   (retry cost 5, 10 after a timeout or connection error; a success refunds
 *   what it spent, or 1 token when it needed no retry). Throttling and
 *   transient errors, 500/502/503/504 and network errors are retried.
 * - Clock skew: when AWS refuses a signature because our clock is more than
 *   4 minutes off (RequestTimeTooSkewed, RequestExpired,
 *   InvalidSignatureException, SignatureDoesNotMatch), the offset from the
 *   response Date header is stored, the request re-signed and retried.
 * - TLS peer and host verification stay on; connections are kept alive and
 *   reused; response bodies are capped per request (PF_ETOOBIG).
 * - Request bodies are sent from the caller's memory without a copy.
 * - Credentials, signatures and presigned URLs never reach a log line.
 */
#ifndef PHOTOFINISH_AWS_AWS_HTTP_H
#define PHOTOFINISH_AWS_AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/aws/endpoints.h"
#include "photofinish/error.h"

struct event_base;
struct pf_aws;
struct pf_credentials_provider;

/* Defaults used when the matching option is 0. */
#define PF_AWS_DEFAULT_MAX_ATTEMPTS 3
#define PF_AWS_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define PF_AWS_DEFAULT_TIMEOUT_MS 120000
#define PF_AWS_DEFAULT_LOW_SPEED_BYTES 1024 /* bytes/s ... */
#define PF_AWS_DEFAULT_LOW_SPEED_SECONDS 30 /* ... sustained this long aborts */
#define PF_AWS_DEFAULT_MAX_RESPONSE_BYTES (16 * 1024 * 1024)

/* What a finished call did, for metrics. */
enum pf_aws_outcome {
	PF_AWS_OUTCOME_SUCCESS = 0,  /* 2xx */
	PF_AWS_OUTCOME_CLIENT_ERROR, /* 4xx other than throttling: our request was refused */
	PF_AWS_OUTCOME_THROTTLED,    /* throttling code after the last attempt */
	PF_AWS_OUTCOME_SERVER_ERROR, /* 5xx after the last attempt */
	PF_AWS_OUTCOME_NETWORK,      /* connection error or timeout after the last attempt */
	PF_AWS_OUTCOME_OTHER,        /* too big, cancelled, no credentials, ... */
	PF_AWS_OUTCOME_COUNT
};

/* "success", "client_error", "throttled", "server_error", "network", "other". */
const char *pf_aws_outcome_name(enum pf_aws_outcome outcome);

/* One finished call (all its attempts), handed to pf_aws_options.on_call. */
struct pf_aws_call_info {
	enum pf_aws_service service; /* meaningless for unsigned requests (see unsigned_request) */
	bool unsigned_request;       /* a credential endpoint, not an AWS service */
	const char *operation;       /* "GetObject", "ReceiveMessage", ... */
	enum pf_aws_outcome outcome;
	int http_status;          /* of the last attempt, 0 if none */
	int attempts;             /* >= 1 */
	int64_t duration_ms;      /* from pf_aws_send to the callback, backoff included */
	const char *service_code; /* error code of the last attempt, "" on success */
};

/* Running totals since pf_aws_new (per service; unsigned calls excluded). */
struct pf_aws_counters {
	uint64_t calls[PF_AWS_SERVICE_COUNT][PF_AWS_OUTCOME_COUNT];
	uint64_t attempts[PF_AWS_SERVICE_COUNT];
	uint64_t retries[PF_AWS_SERVICE_COUNT];
	uint64_t throttled_attempts[PF_AWS_SERVICE_COUNT];
	uint64_t clock_skew_corrections;
	int retry_quota; /* tokens left, 0..500 */
};

struct pf_aws_options {
	/* Region and endpoint overrides; required. */
	const char *region;
	const char *endpoint_url;
	const char *endpoint_url_s3;
	const char *endpoint_url_sqs;
	const char *endpoint_url_dynamodb;
	bool s3_force_path_style;
	/* Environment for the credentials chain ("NAME=value", NULL-terminated);
	 * NULL means the process environment. Copied by pf_aws_new. */
	char *const *envp;
	/* 0 means the PF_AWS_DEFAULT_* value. */
	int max_attempts; /* 1 disables retries */
	long connect_timeout_ms;
	long timeout_ms; /* whole attempt, transfer included */
	long low_speed_bytes;
	long low_speed_seconds;
	/* Test hooks: the CA bundle to trust instead of the system one (TLS
	 * verification stays on), and backoff without jitter (always the
	 * exponential ceiling) so tests can observe the schedule. */
	const char *ca_file;
	bool no_jitter;
	/* Called on the loop thread after every finished call, before the
	 * caller's callback; for /metrics. May be NULL. */
	void (*on_call)(const struct pf_aws_call_info *info, void *arg);
	void *on_call_arg;
};

/* Creates the client on base (which must outlive it). Returns 0, or
 * PF_EINVAL for bad options (unknown region syntax, bad endpoint URL). */
int pf_aws_new(struct event_base *base, const struct pf_aws_options *opts, struct pf_aws **out,
               struct pf_error *err);

/* Cancels every request still in flight (each callback runs once with
 * PF_ECANCELED, from inside this call) and frees the client. NULL is fine.
 * Not from inside one of the client's callbacks. */
void pf_aws_free(struct pf_aws *aws);

struct event_base *pf_aws_base(const struct pf_aws *aws);
const struct pf_endpoints *pf_aws_endpoints(const struct pf_aws *aws);
struct pf_credentials_provider *pf_aws_credentials(const struct pf_aws *aws);

/* Wall-clock seconds corrected by the clock-skew offset learnt from AWS:
 * the time to sign with (also for presigned URLs). */
int64_t pf_aws_now(const struct pf_aws *aws);
/* Server time minus local time, in seconds (0 until a skew was corrected). */
int64_t pf_aws_clock_offset(const struct pf_aws *aws);

void pf_aws_get_counters(const struct pf_aws *aws, struct pf_aws_counters *out);

/* Requests started and not yet completed (callbacks not yet run). */
size_t pf_aws_pending(const struct pf_aws *aws);

/* For command-line tools: runs the event loop until *counter <= 0 (when
 * counter is NULL: until no request is pending). Returns 0, or PF_EIO if
 * the loop stopped with work outstanding. Not for the daemon. */
int pf_aws_wait(struct pf_aws *aws, const int *counter);

/* A header to send. Both strings are copied when the request starts. */
struct pf_aws_header {
	const char *name;
	const char *value;
};

/* One AWS request. Strings are copied when it starts; the body is not. */
struct pf_aws_request {
	enum pf_aws_service service;
	const char *operation; /* for stats and logs, e.g. "PutObject" */
	const char *method;    /* "GET", "PUT", "POST", "HEAD", "DELETE" */
	const char *bucket;    /* S3: bucket (addressing) or NULL */
	const char *key;       /* S3: raw object key (encoded once by the endpoints) or NULL */
	const char *query;     /* encoded query string without '?', or NULL */
	const struct pf_aws_header *headers; /* besides Host, X-Amz-*, Authorization */
	size_t nheaders;
	/* The body, sent from this memory without a copy; it must stay valid
	 * and unchanged until the callback runs. With free_body the transport
	 * free()s it after the callback instead. */
	const void *body;
	size_t body_len;
	bool free_body;
	/* Hex SHA-256 of the body when the caller already has it; else it is
	 * computed once (S3 signs the payload; the other services too). */
	const char *payload_sha256;
	/* Response body limit; 0 means PF_AWS_DEFAULT_MAX_RESPONSE_BYTES. A
	 * larger Content-Length aborts the transfer before the body arrives. */
	size_t max_response_bytes;
	/* Attempt timeout override (e.g. long polls); 0 means the client's. */
	long timeout_ms;
	/* Attempts override (e.g. 1 for a metadata probe); 0 means the client's. */
	int max_attempts;
};

/* One response header (the last attempt's). */
struct pf_aws_response_header {
	char *name; /* lower case */
	char *value;
};

/* What came back: the last attempt. Owned by the transport and freed after
 * the callback returns; the callback may take body (set body = NULL). */
struct pf_aws_response {
	int status; /* HTTP status, 0 when no response arrived */
	char *body; /* NUL-terminated (not counted in body_len); may be NULL if empty */
	size_t body_len;
	struct pf_aws_response_header *headers;
	size_t nheaders;
	int attempts;
};

/* Case-insensitive lookup of a response header; NULL when absent. */
const char *pf_aws_response_header(const struct pf_aws_response *resp, const char *name);

/* err->code is 0 on success (2xx). Otherwise a typed error: PF_EAWS with
 * service_code/http_status/request_id/retryable filled from the response
 * (PF_ENOTFOUND for NoSuchKey/NoSuchBucket/NotFound/ResourceNotFoundException/
 * QueueDoesNotExist, PF_ECONFLICT for ConditionalCheckFailedException/
 * PreconditionFailed), PF_ENET for network errors and timeouts, PF_ETOOBIG
 * when the body exceeded the limit, PF_ECANCELED at pf_aws_free. resp is
 * never NULL; on an AWS error its body is the error document. */
typedef void (*pf_aws_done_cb)(struct pf_aws_response *resp, const struct pf_error *err, void *arg);

/* Signs (SigV4, with credentials from the chain, waiting for a refresh in
 * flight) and sends req, retrying per the standard mode. Returns 0, or
 * PF_EINVAL for a malformed request (bad bucket name, missing fields); on
 * error the callback never runs and a free_body body is freed. */
int pf_aws_send(struct pf_aws *aws, const struct pf_aws_request *req, pf_aws_done_cb cb, void *arg,
                struct pf_error *err);

/* An unsigned request to an absolute http(s) URL (credential endpoints:
 * ECS container, IMDS). Same transport, timeouts, retries and callback
 * contract; req->service, bucket, key and query are ignored. */
int pf_aws_send_unsigned(struct pf_aws *aws, const char *url, const struct pf_aws_request *req,
                         pf_aws_done_cb cb, void *arg, struct pf_error *err);

#endif
