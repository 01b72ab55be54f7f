/*
 * AWS credentials: the pure half of the provider chain. Reading the
 * environment and the shared credentials/config files, parsing the JSON the
 * ECS/EKS container endpoint and EC2 IMDS return, and deciding which
 * container and IMDS URLs may be asked at all. No network I/O and no clock:
 * the asynchronous fetch and refresh live in the provider, which calls these.
 *
 * Any thread. pf_credentials_from_shared_files() and
 * pf_credentials_read_auth_token_file() read small local files with
 * blocking calls; everything else touches no file.
 *
 * Guarantees: no secret (secret access key, session token, container
 * authorization token) ever appears in an error message; every value handed
 * back has been checked to be safe in an HTTP header; outside-controlled
 * sizes are bounded (files 1 MiB, JSON 64 KiB) and refused with PF_ETOOBIG.
 *
 * Return codes shared by the constructors: 0 with *out set; PF_ENOTFOUND
 * when this source has nothing to offer (the chain moves on to the next);
 * PF_EINVAL when it is configured but wrong (the chain should stop and
 * report, as the AWS SDKs do); PF_ETOOBIG; PF_EIO for unreadable files.
 */
#ifndef PHOTOFINISH_AWS_CREDENTIALS_H
#define PHOTOFINISH_AWS_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/aws/sigv4.h"
#include "photofinish/error.h"

#define PF_CREDENTIALS_MAX_FILE (1024 * 1024)
#define PF_CREDENTIALS_MAX_JSON (64 * 1024)

/* Host the ECS agent serves AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on. */
#define PF_CREDENTIALS_ECS_ENDPOINT "http://169.254.170.2"

/* EC2 instance metadata (IMDSv2): PUT the token path with the TTL header,
 * then GET the role path, then GET the role path + role name, each with
 * the token header. */
#define PF_CREDENTIALS_IMDS_ENDPOINT_IPV4 "http://169.254.169.254"
#define PF_CREDENTIALS_IMDS_ENDPOINT_IPV6 "http://[fd00:ec2::254]"
#define PF_CREDENTIALS_IMDS_TOKEN_PATH "/latest/api/token"
#define PF_CREDENTIALS_IMDS_TOKEN_TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds"
#define PF_CREDENTIALS_IMDS_TOKEN_HEADER "X-aws-ec2-metadata-token"
#define PF_CREDENTIALS_IMDS_TOKEN_TTL_SECONDS 21600
#define PF_CREDENTIALS_IMDS_ROLE_PATH "/latest/meta-data/iam/security-credentials/"

struct pf_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	int64_t expiration;  /* seconds since the epoch; 0 when they do not expire */
	/* Where they came from, for logs: "environment", "shared-file", "ecs",
	 * "imds" or what the caller passed to the JSON parser. */
	char source[16];
};

/* Wipes the secrets and frees c. NULL is fine. */
void pf_credentials_free(struct pf_credentials *c);

/* A deep copy (for handing to another thread). */
struct pf_credentials *pf_credentials_dup(const struct pf_credentials *c);

/* Borrowed view for pf_sigv4_*; valid while c lives. */
void pf_credentials_to_sigv4(const struct pf_credentials *c, struct pf_sigv4_credentials *out);

/* True when c expires within margin seconds of now (never for expiration 0). */
bool pf_credentials_is_expiring(const struct pf_credentials *c, int64_t now, int64_t margin);

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optional AWS_SESSION_TOKEN
 * from envp ("NAME=value" strings, NULL-terminated, first match wins, empty
 * means unset). PF_ENOTFOUND when neither key is set; PF_EINVAL when only
 * one is or a value is not header-safe. */
int pf_credentials_from_env(char *const *envp, struct pf_credentials **out, struct pf_error *err);

/* The profile AWS_PROFILE (default "default") from AWS_SHARED_CREDENTIALS_FILE
 * (default ~/.aws/credentials, sections "[name]") and AWS_CONFIG_FILE
 * (default ~/.aws/config, sections "[profile name]", or "[default]"); HOME
 * comes from envp and a leading "~/" is expanded. A key in the credentials
 * file wins over the same key in the config file. Missing files count as
 * empty. PF_ENOTFOUND when the default profile has no keys anywhere;
 * PF_EINVAL when AWS_PROFILE names a profile that does not exist, when a
 * profile has only one of the two keys, or relies on something other than
 * static keys (role_arn, credential_process, sso_*, web identity), which is
 * not supported. Blocking file reads. */
int pf_credentials_from_shared_files(char *const *envp, struct pf_credentials **out,
                                     struct pf_error *err);

/* The INI half of the above, on text already in memory: the profile's keys
 * from one file (config_file selects "[profile name]" sections). Comments
 * start with '#' or ';' (inline after whitespace); keys are
 * case-insensitive; indented lines (sub-properties) are ignored. */
int pf_credentials_parse_profile(const char *text, size_t len, const char *profile,
                                 bool config_file, struct pf_credentials **out,
                                 struct pf_error *err);

/* The JSON of the ECS/EKS container endpoint or of IMDS
 * (AccessKeyId, SecretAccessKey, Token, Expiration in RFC 3339; IMDS also
 * sends Code, which must be "Success"). source is copied into the result
 * ("ecs", "imds"). Token and Expiration may be absent; a present Expiration
 * that does not parse is PF_EINVAL. */
int pf_credentials_parse_container_json(const char *json, size_t len, const char *source,
                                        struct pf_credentials **out, struct pf_error *err);

/* Checks AWS_CONTAINER_CREDENTIALS_FULL_URI: https to any host; http only to
 * loopback (127.0.0.0/8, [::1], localhost), the ECS host 169.254.170.2 and
 * the EKS Pod Identity hosts 169.254.170.23 and [fd00:ec2::23]. Host names
 * are compared literally, never resolved. No user info allowed. */
int pf_credentials_check_full_uri(const char *uri, struct pf_error *err);

struct pf_credentials_container_endpoint {
	char *url;
	/* Authorization header value: read auth_token_file before every request
	 * (EKS rotates it) when set, else use auth_token; both may be NULL. */
	char *auth_token;
	char *auth_token_file;
};

/* Where the container credentials are: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * (appended to PF_CREDENTIALS_ECS_ENDPOINT; wins when both are set) or
 * AWS_CONTAINER_CREDENTIALS_FULL_URI (checked as above), plus
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE / AWS_CONTAINER_AUTHORIZATION_TOKEN.
 * PF_ENOTFOUND when neither URI variable is set. */
int pf_credentials_container_endpoint(char *const *envp,
                                      struct pf_credentials_container_endpoint *out,
                                      struct pf_error *err);
void pf_credentials_container_endpoint_free(struct pf_credentials_container_endpoint *ep);

/* An authorization token as read from a file or the environment: surrounding
 * whitespace trimmed; empty, over 16 KiB, or containing control characters
 * (header injection) is refused. */
int pf_credentials_check_auth_token(const char *s, size_t len, char **out, struct pf_error *err);

/* Reads and checks AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE. Blocking. */
int pf_credentials_read_auth_token_file(const char *path, char **out, struct pf_error *err);

/* The IMDS base URL: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the IPv4 or IPv6
 * endpoint per AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE ("IPv4" default).
 * PF_ENOTFOUND when AWS_EC2_METADATA_DISABLED is "true". No trailing '/'. */
int pf_credentials_imds_endpoint(char *const *envp, char **base_url, struct pf_error *err);

/* base_url + path, with exactly one '/' between them. */
char *pf_credentials_imds_url(const char *base_url, const char *path);

/* The token PUT answer: visible ASCII, 1..4096 bytes, trailing newline
 * dropped. */
int pf_credentials_imds_check_token(const char *body, size_t len, char **token,
                                    struct pf_error *err);

/* The role list answer: the first role name, checked against IAM's role
 * name rules (1..64 of A-Z a-z 0-9 + = , . @ _ -) so that it is safe in a
 * path. PF_ENOTFOUND when the instance has no role. */
int pf_credentials_imds_parse_role(const char *body, size_t len, char **role, struct pf_error *err);

#endif
