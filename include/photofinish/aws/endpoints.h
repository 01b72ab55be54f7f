/*
 * Endpoints: where each AWS request goes. Regional defaults
 * (https://<service>.<region>.amazonaws.com), AWS_ENDPOINT_URL and the
 * per-service AWS_ENDPOINT_URL_S3/_SQS/_DYNAMODB overrides, and S3 bucket
 * addressing (virtual-hosted normally; path-style when an endpoint is
 * overridden or the bucket name has dots, which a wildcard certificate
 * cannot cover).
 * Pure: no I/O, no globals; the object is read-only once built, so any thread.
 */
#ifndef PHOTOFINISH_AWS_ENDPOINTS_H
#define PHOTOFINISH_AWS_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "photofinish/error.h"

/* The services photofinish talks to; also the index for per-service stats. */
enum pf_aws_service {
	PF_AWS_S3 = 0,
	PF_AWS_SQS = 1,
	PF_AWS_DYNAMODB = 2,
	PF_AWS_SERVICE_COUNT = 3
};

/* "s3", "sqs", "dynamodb": the SigV4 signing name and the metrics label. */
const char *pf_aws_service_name(enum pf_aws_service service);

struct pf_endpoints_options {
	const char *region;                /* required, e.g. "eu-west-1" */
	const char *endpoint_url;          /* AWS_ENDPOINT_URL or NULL */
	const char *endpoint_url_s3;       /* AWS_ENDPOINT_URL_S3 or NULL (wins over the above) */
	const char *endpoint_url_sqs;      /* AWS_ENDPOINT_URL_SQS or NULL */
	const char *endpoint_url_dynamodb; /* AWS_ENDPOINT_URL_DYNAMODB or NULL */
	bool s3_force_path_style;          /* path-style S3 even against AWS */
};

struct pf_endpoints;

/* Where one request goes. Strings are owned by the struct. */
struct pf_endpoint_url {
	char *url;  /* complete URL: scheme://host[:port]/path[?query] */
	char *host; /* value of the Host header (with :port when not the default) */
	char *path; /* the path as sent and signed (encoded once), starts with '/' */
};

/* Validates the options (region syntax, URLs are http(s)://host[:port][/base])
 * and builds the table. Returns 0 or PF_EINVAL. */
int pf_endpoints_new(const struct pf_endpoints_options *opts, struct pf_endpoints **out,
                     struct pf_error *err);
void pf_endpoints_free(struct pf_endpoints *ep);

const char *pf_endpoints_region(const struct pf_endpoints *ep);

/* True when requests for bucket use path-style addressing (/bucket/key). */
bool pf_endpoints_s3_path_style(const struct pf_endpoints *ep, const char *bucket);

/* Builds the URL for a request. For S3 with a bucket, key is the raw object
 * key (URI-encoded here exactly once, '/' kept) or NULL for a bucket-level
 * request; for the other services bucket and key are NULL and the path is
 * the endpoint's base path. query is the already-encoded query string
 * without '?', or NULL. Returns 0 or PF_EINVAL (bad bucket name). */
int pf_endpoints_url(const struct pf_endpoints *ep, enum pf_aws_service service, const char *bucket,
                     const char *key, const char *query, struct pf_endpoint_url *out,
                     struct pf_error *err);
void pf_endpoint_url_free(struct pf_endpoint_url *u);

/* True when bucket is a valid S3 bucket name (3..63 of [a-z0-9.-], starts
 * and ends with a letter or digit, not an IP address). */
bool pf_endpoints_bucket_is_valid(const char *bucket);

#endif
