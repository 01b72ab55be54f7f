/*
 * Configuration: every setting comes from an environment variable with a
 * matching command-line flag (flags win). Parsing collects every problem, one
 * line each, naming the variable and what is wrong. Loop thread at start-up;
 * the resulting struct is read-only afterwards and may be read from any thread.
 */
#ifndef PHOTOFINISH_CONFIG_H
#define PHOTOFINISH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/image.h"

struct pf_aws_options;
struct pf_buf;

/* One named admin token: the name is what the audit trail records as who
 * acted; the secret is never printed. */
struct pf_config_admin_token {
	char *name;
	char *secret;
};

#define PF_CONFIG_MAX_ADMIN_TOKENS 64

/* Which program is reading the configuration: decides what is required. */
enum pf_config_mode {
	PF_CONFIG_DAEMON,  /* photofinishd: AWS resources required */
	PF_CONFIG_PROCESS, /* photofinish process: image settings only */
	PF_CONFIG_CLIENT   /* photofinish upload/admin: AWS settings, resources optional */
};

struct pf_config {
	/* AWS resources */
	char *ingress_bucket;
	char *processed_bucket;
	char *table;
	char *queue_url;
	char *ingress_prefix;
	char *region;
	char *endpoint_url;          /* AWS_ENDPOINT_URL */
	char *endpoint_url_s3;       /* AWS_ENDPOINT_URL_S3 */
	char *endpoint_url_sqs;      /* AWS_ENDPOINT_URL_SQS */
	char *endpoint_url_dynamodb; /* AWS_ENDPOINT_URL_DYNAMODB */

	/* daemon */
	char *listen;      /* host:port */
	char *listen_host; /* parsed from listen */
	int listen_port;   /* parsed from listen */
	int workers;
	int max_inflight;
	int visibility_timeout; /* seconds a received message stays invisible per extension */
	int drain_seconds;
	int url_ttl;             /* seconds presigned URLs stay valid */
	int cache_ttl;           /* seconds the participant cache keeps an answer */
	int trust_forwarded_for; /* 1: a client is X-Forwarded-For's last entry */
	char *roster;            /* s3://bucket/key of the roster CSV, or NULL */
	char *roster_codes;      /* comma-separated roster codes, or NULL */
	int max_connections;     /* API connections open at once; more are refused */
	char *public_media_url;
	char *cors_origins; /* comma-separated origins or "*" */
	char *admin_token;  /* secret: never printed */
	char *admin_tokens; /* "name:secret,..." as given; secret: never printed */
	char *admin_tokens_file;
	int job_stale_seconds; /* a running admin job not saved for this long is taken over */
	char *session_key;     /* console session signing key text; secret: never printed */
	char *console_dir;     /* the console's built files (served at /console/) */
	/* Every admin token, from the three settings above ("admin" names the
	 * single PHOTOFINISH_ADMIN_TOKEN); filled by pf_config_load in daemon mode. */
	struct pf_config_admin_token *admin_token_list;
	size_t nadmin_tokens;
	int log_level; /* enum pf_log_level */

	/* image pipeline */
	int64_t max_input_bytes;
	int64_t max_input_pixels;
	unsigned symbologies; /* enum pf_image_symbology bits */
	char *code_pattern;   /* POSIX ERE or NULL */
	int fullsize_max;
	int thumbnail_max;
	int jpeg_quality;
	int webp;      /* 1: WebP variants beside the JPEGs; 0: JPEG only */
	char *overlay; /* file path or s3://bucket/key, or NULL */
	enum pf_image_gravity overlay_gravity;
	double overlay_margin;
	double overlay_width;
	double overlay_opacity;
};

/* Describes one setting, for --help, docs and the drift check with deploy/. */
struct pf_config_setting_info {
	const char *env;
	const char *flag;
	const char *default_text;
	const char *help;
};

/* Fills cfg with defaults, then environment, then flags from argv (only the
 * long options the table knows; "--name=value" or "--name value").
 * Unknown flags are problems unless allow_unknown, in which case argv is
 * compacted to the arguments not consumed and *argc updated.
 * Returns 0, or PF_EINVAL with every problem appended to problems (one
 * "NAME: what is wrong" line each). */
int pf_config_load(struct pf_config *cfg, enum pf_config_mode mode, int *argc, char **argv,
                   bool allow_unknown, struct pf_buf *problems);

/* Loads from explicit environment pairs ("NAME=value", NULL-terminated); for tests. */
int pf_config_load_env(struct pf_config *cfg, enum pf_config_mode mode, char *const *envp,
                       int *argc, char **argv, bool allow_unknown, struct pf_buf *problems);

void pf_config_free(struct pf_config *cfg);

/* The effective configuration as a JSON object keyed by variable name,
 * secrets redacted. Caller frees. */
char *pf_config_to_json(const struct pf_config *cfg);

/* Settings table, terminated by an entry with env == NULL. */
const struct pf_config_setting_info *pf_config_settings(void);

/* Writes the settings table as help text. */
void pf_config_print_help(struct pf_buf *out);

/* The AWS client's options for this configuration: region and endpoint
 * URLs (strings stay owned by cfg), defaults for the rest. */
void pf_config_aws_options(const struct pf_config *cfg, struct pf_aws_options *opts);

/* The image pipeline's options for this configuration (code_pattern stays
 * owned by cfg). */
void pf_config_image_options(const struct pf_config *cfg, struct pf_image_options *opts);

#endif
