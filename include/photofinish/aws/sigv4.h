/*
 * AWS Signature Version 4: header signing and presigned (query) URLs.
 * Pure functions: strings in, strings out; no I/O, no clock, no globals, so
 * they are trivially testable against the published suites and fuzzable.
 * Any thread.
 */
#ifndef PHOTOFINISH_AWS_SIGV4_H
#define PHOTOFINISH_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

#define PF_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct pf_sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL when not temporary credentials */
};

struct pf_sigv4_header {
	const char *name;  /* any case; canonicalised to lower case */
	const char *value; /* trimmed and inner whitespace collapsed when signed */
};

struct pf_sigv4_request {
	const char *method;
	/* Path exactly as it goes on the wire (already percent-encoded once by
	 * the caller for S3), without the query string. Must start with '/';
	 * control characters, '?' and '#' are refused. */
	const char *path;
	/* Raw query string without '?', as on the wire; NULL or "" when none. */
	const char *query;
	/* Every header given is signed. Must include Host; must not include
	 * Authorization, X-Amz-Date or X-Amz-Security-Token (the signer adds
	 * them), nor X-Amz-Content-SHA256 when the signer adds it (header
	 * signing with s3 or add_content_sha256): those are refused. */
	const struct pf_sigv4_header *headers;
	size_t nheaders;
	/* Hex SHA-256 of the payload, or PF_SIGV4_UNSIGNED_PAYLOAD. When NULL,
	 * it is computed from body/body_len. */
	const char *payload_hash;
	const void *body;
	size_t body_len;
};

struct pf_sigv4_params {
	const char *region;
	const char *service;
	int64_t time; /* seconds since the epoch (the signing time) */
	/* S3 rules: path used as given (encoded once, never normalised) and the
	 * x-amz-content-sha256 header always added and signed. Generic rules
	 * (false): the path is normalised (dot segments, duplicate slashes) and
	 * each segment is encoded again. */
	bool s3;
	/* Sign and add x-amz-content-sha256 even for non-S3 services. */
	bool add_content_sha256;
	/* Presigning only: seconds the URL stays valid, 1..604800. */
	int64_t expires;
	/* Add X-Amz-Security-Token after signing instead of signing it (a few
	 * services require that). Meant for presigning; header signing honours
	 * it too (the token header is returned but not in SignedHeaders). */
	bool omit_session_token;
	/* Generic rules only: keep dot segments and duplicate slashes, still
	 * encoding each segment again. No AWS service photofinish calls needs
	 * it; it exists for the aws-c-auth "normalize": false cases. */
	bool no_path_normalize;
};

/* What signing produced. Every string is owned by the struct. */
struct pf_sigv4_signed {
	char *canonical_request;
	char *string_to_sign;
	char signature[65];
	/* Header signing: the headers to add to the request (name/value pairs):
	 * Authorization, X-Amz-Date, and X-Amz-Security-Token and
	 * X-Amz-Content-SHA256 when applicable. */
	struct {
		char *name;
		char *value;
	} add_headers[4];
	size_t nadd_headers;
	/* Presigning: the complete query string (original parameters plus the
	 * X-Amz-* ones and X-Amz-Signature), without '?'. */
	char *query;
};

/* Signs req with Authorization header semantics. Returns 0 or PF_EINVAL. */
int pf_sigv4_sign_headers(const struct pf_sigv4_request *req, const struct pf_sigv4_params *params,
                          const struct pf_sigv4_credentials *creds, struct pf_sigv4_signed *out,
                          struct pf_error *err);

/* Presigns req (query-string auth). Returns 0 or PF_EINVAL. */
int pf_sigv4_presign(const struct pf_sigv4_request *req, const struct pf_sigv4_params *params,
                     const struct pf_sigv4_credentials *creds, struct pf_sigv4_signed *out,
                     struct pf_error *err);

void pf_sigv4_signed_free(struct pf_sigv4_signed *s);

/* Formats the signing time as YYYYMMDD'T'HHMMSS'Z' (17 bytes with NUL). */
void pf_sigv4_amz_date(int64_t time, char out[17]);

#endif
