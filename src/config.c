/*
 * Configuration table and parser. Runs once at start-up on the main thread;
 * the table below is the single source for parsing, --help, --check-config
 * and docs/configuration.md.
 */
#define _POSIX_C_SOURCE 200809L
#include "photofinish/config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "photofinish/aws/aws_http.h"
#include "photofinish/error.h"
#include "photofinish/log.h"
#include "photofinish/roster.h"
#include "photofinish/util.h"

extern char **environ;

enum setting_kind {
	K_STR,     /* free text, non-empty */
	K_BUCKET,  /* S3 bucket name */
	K_NAME,    /* DynamoDB table name */
	K_URL,     /* http(s) URL */
	K_INT,     /* int in [min, max] */
	K_INT64,   /* int64 in [min, max] */
	K_DBL,     /* double in [min, max] */
	K_SECRET,  /* text never printed */
	K_LISTEN,  /* host:port */
	K_LEVEL,   /* log level */
	K_SYMS,    /* symbology list */
	K_REGEX,   /* POSIX ERE with at most one meaningful group */
	K_GRAVITY, /* overlay gravity */
	K_OVERLAY, /* path or s3://bucket/key */
	K_PREFIX,  /* key prefix, may be empty */
	K_ORIGINS, /* CORS origins */
	K_REGION,  /* AWS region */
	K_TOKENS,  /* name:secret,... never printed */
	K_S3URI,   /* s3://bucket/key */
	K_CODES    /* comma-separated participant codes */
};

/* Who needs a setting: a bit per enum pf_config_mode. */
#define M_DAEMON (1u << PF_CONFIG_DAEMON)
#define M_PROCESS (1u << PF_CONFIG_PROCESS)
#define M_CLIENT (1u << PF_CONFIG_CLIENT)
#define M_ALL (M_DAEMON | M_PROCESS | M_CLIENT)
#define M_AWS (M_DAEMON | M_CLIENT)

struct setting {
	const char *env;
	const char *flag;
	enum setting_kind kind;
	size_t offset;
	double min, max;
	const char *def; /* default as text, NULL = unset */
	unsigned used_by;
	unsigned required_by;
	const char *help;
};

#define OFF(f) offsetof(struct pf_config, f)

static const struct setting settings[] = {
    {"PHOTOFINISH_INGRESS_BUCKET", "ingress-bucket", K_BUCKET, OFF(ingress_bucket), 0, 0, NULL,
     M_AWS, M_DAEMON, "S3 bucket photographers upload originals to (MediaIngress)."},
    {"PHOTOFINISH_PROCESSED_BUCKET", "processed-bucket", K_BUCKET, OFF(processed_bucket), 0, 0,
     NULL, M_AWS, M_DAEMON, "S3 bucket the fullsize and thumbnail variants are written to."},
    {"PHOTOFINISH_TABLE", "table", K_NAME, OFF(table), 0, 0, NULL, M_AWS, M_DAEMON,
     "DynamoDB table holding the catalog (string partition and sort keys)."},
    {"PHOTOFINISH_QUEUE_URL", "queue-url", K_URL, OFF(queue_url), 0, 0, NULL, M_AWS, M_DAEMON,
     "SQS queue URL receiving the ingress bucket's event notifications."},
    {"PHOTOFINISH_INGRESS_PREFIX", "ingress-prefix", K_PREFIX, OFF(ingress_prefix), 0, 0, "", M_AWS,
     0, "Only keys under this prefix are processed (empty: all keys)."},
    {"AWS_REGION", "region", K_REGION, OFF(region), 0, 0, NULL, M_AWS, M_AWS,
     "AWS region (AWS_DEFAULT_REGION is read when AWS_REGION is unset)."},
    {"AWS_ENDPOINT_URL", "endpoint-url", K_URL, OFF(endpoint_url), 0, 0, NULL, M_AWS, 0,
     "Endpoint override for every AWS service."},
    {"AWS_ENDPOINT_URL_S3", "endpoint-url-s3", K_URL, OFF(endpoint_url_s3), 0, 0, NULL, M_AWS, 0,
     "Endpoint override for S3 (path-style addressing is then used)."},
    {"AWS_ENDPOINT_URL_SQS", "endpoint-url-sqs", K_URL, OFF(endpoint_url_sqs), 0, 0, NULL, M_AWS, 0,
     "Endpoint override for SQS."},
    {"AWS_ENDPOINT_URL_DYNAMODB", "endpoint-url-dynamodb", K_URL, OFF(endpoint_url_dynamodb), 0, 0,
     NULL, M_AWS, 0, "Endpoint override for DynamoDB."},
    {"PHOTOFINISH_LISTEN", "listen", K_LISTEN, OFF(listen), 0, 0, "0.0.0.0:8080", M_DAEMON, 0,
     "Address the HTTP API listens on (host:port)."},
    {"PHOTOFINISH_WORKERS", "workers", K_INT, OFF(workers), 1, 256, NULL, M_DAEMON | M_PROCESS, 0,
     "Image worker threads (default: online CPUs)."},
    {"PHOTOFINISH_MAX_INFLIGHT", "max-inflight", K_INT, OFF(max_inflight), 1, 1024, NULL, M_DAEMON,
     0, "Messages held at once (default: 2 x workers)."},
    {"PHOTOFINISH_VISIBILITY_TIMEOUT", "visibility-timeout", K_INT, OFF(visibility_timeout), 10,
     43200, "120", M_DAEMON, 0,
     "Seconds a received message stays hidden; extended by a heartbeat for long jobs."},
    {"PHOTOFINISH_DRAIN_SECONDS", "drain-seconds", K_INT, OFF(drain_seconds), 0, 3600, "25",
     M_DAEMON, 0, "On SIGTERM, seconds to finish in-flight photos before releasing them."},
    {"PHOTOFINISH_PUBLIC_MEDIA_URL", "public-media-url", K_URL, OFF(public_media_url), 0, 0, NULL,
     M_DAEMON, 0,
     "Public/CDN base URL of the processed bucket; presigned URLs are used when unset."},
    {"PHOTOFINISH_URL_TTL", "url-ttl", K_INT, OFF(url_ttl), 60, 604800, "3600", M_DAEMON, 0,
     "Seconds presigned image URLs stay valid."},
    {"PHOTOFINISH_CORS_ORIGINS", "cors-origins", K_ORIGINS, OFF(cors_origins), 0, 0, NULL, M_DAEMON,
     0, "Comma-separated origins allowed by CORS, or *; none when unset."},
    {"PHOTOFINISH_MAX_CONNECTIONS", "max-connections", K_INT, OFF(max_connections), 16, 1000000,
     "4096", M_DAEMON, 0,
     "API connections open at once; beyond it new ones get a 503 and are closed."},
    {"PHOTOFINISH_CACHE_TTL", "cache-ttl", K_INT, OFF(cache_ttl), 0, 3600, "10", M_DAEMON, 0,
     "Seconds a participant answer is served from the in-process cache (0: off)."},
    {"PHOTOFINISH_ROSTER", "roster", K_S3URI, OFF(roster), 0, 0, NULL, M_DAEMON, 0,
     "The race's roster: s3://bucket/key of a CSV whose first column is a participant code "
     "(read at start and every 60 s). Lookups then say whether a code is registered and "
     "suggestions keep to it."},
    {"PHOTOFINISH_ROSTER_CODES", "roster-codes", K_CODES, OFF(roster_codes), 0, 0, NULL, M_DAEMON,
     0, "Roster codes given directly, comma-separated (added to PHOTOFINISH_ROSTER's)."},
    {"PHOTOFINISH_TRUST_FORWARDED_FOR", "trust-forwarded-for", K_INT, OFF(trust_forwarded_for), 0,
     1, "0", M_DAEMON, 0,
     "1: rate limits count a client by the last X-Forwarded-For entry (set only behind a proxy "
     "that sets it, like the gallery); 0: by the connection's peer address."},
    {"PHOTOFINISH_ADMIN_TOKEN", "admin-token", K_SECRET, OFF(admin_token), 16, 4096, NULL, M_AWS, 0,
     "Bearer token for /admin (at least 16 characters), named \"admin\" in the audit trail. The "
     "admin API is off when no admin token is set."},
    {"PHOTOFINISH_ADMIN_TOKENS", "admin-tokens", K_TOKENS, OFF(admin_tokens), 0, 0, NULL, M_DAEMON,
     0,
     "Named admin tokens, name:secret,name:secret (names of A-Z a-z 0-9 _ . @ -, secrets of at "
     "least 16 characters); the name is who acted in the audit trail."},
    {"PHOTOFINISH_ADMIN_TOKENS_FILE", "admin-tokens-file", K_STR, OFF(admin_tokens_file), 0, 0,
     NULL, M_DAEMON, 0,
     "File of named admin tokens, one name:secret a line (# comments), read at start."},
    {"PHOTOFINISH_JOB_STALE_SECONDS", "job-stale-seconds", K_INT, OFF(job_stale_seconds), 4, 3600,
     "60", M_DAEMON, 0,
     "An admin job whose task has not saved its progress for this long is taken over by "
     "another task (checked every half of it)."},
    {"PHOTOFINISH_SESSION_KEY", "session-key", K_SECRET, OFF(session_key), 32, 4096, NULL, M_DAEMON,
     0,
     "Key (at least 32 characters) signing console sessions; every task of a race must share "
     "it. Unset: derived from the admin token secrets, so rotating a token ends all sessions."},
    {"PHOTOFINISH_CONSOLE_DIR", "console-dir", K_STR, OFF(console_dir), 0, 0, NULL, M_DAEMON, 0,
     "Directory of the built console (console/dist) served at /console/; not served when unset."},
    {"PHOTOFINISH_LOG_LEVEL", "log-level", K_LEVEL, OFF(log_level), 0, 0, "info", M_ALL, 0,
     "debug, info, warn or error."},
    {"PHOTOFINISH_MAX_INPUT_BYTES", "max-input-bytes", K_INT64, OFF(max_input_bytes), 1024,
     2147483648.0, "67108864", M_DAEMON | M_PROCESS, 0, "Largest original accepted, in bytes."},
    {"PHOTOFINISH_MAX_INPUT_PIXELS", "max-input-pixels", K_INT64, OFF(max_input_pixels), 1,
     1000000000.0, "100000000", M_DAEMON | M_PROCESS, 0,
     "Largest original accepted, in pixels (width x height, read from the header)."},
    {"PHOTOFINISH_SYMBOLOGIES", "symbologies", K_SYMS, OFF(symbologies), 0, 0, "qrcode,code128",
     M_DAEMON | M_PROCESS, 0,
     "Code types to detect: qrcode, code128, code39, code93, ean13, ean8, upca, upce, i25, "
     "codabar, databar."},
    {"PHOTOFINISH_CODE_PATTERN", "code-pattern", K_REGEX, OFF(code_pattern), 0, 0, NULL,
     M_DAEMON | M_PROCESS, 0,
     "POSIX extended regex applied to each payload; the first group (else the match) is the "
     "code."},
    {"PHOTOFINISH_FULLSIZE_MAX", "fullsize-max", K_INT, OFF(fullsize_max), 64, 10000, "2000",
     M_DAEMON | M_PROCESS, 0, "Fullsize variant fits in this many pixels square."},
    {"PHOTOFINISH_THUMBNAIL_MAX", "thumbnail-max", K_INT, OFF(thumbnail_max), 16, 4000, "500",
     M_DAEMON | M_PROCESS, 0, "Thumbnail variant fits in this many pixels square."},
    {"PHOTOFINISH_JPEG_QUALITY", "jpeg-quality", K_INT, OFF(jpeg_quality), 1, 100, "82",
     M_DAEMON | M_PROCESS, 0, "JPEG quality of both variants (1-100)."},
    {"PHOTOFINISH_WEBP", "webp", K_INT, OFF(webp), 0, 1, "1", M_DAEMON | M_PROCESS, 0,
     "1: both variants are also written as WebP (quality 80), next to the JPEGs; 0: JPEG only. "
     "photofinish process writes WebP only when this is set (to 1)."},
    {"PHOTOFINISH_OVERLAY", "overlay", K_OVERLAY, OFF(overlay), 0, 0, NULL, M_DAEMON | M_PROCESS, 0,
     "Logo overlay: a PNG with alpha, as a file path or s3://bucket/key."},
    {"PHOTOFINISH_OVERLAY_GRAVITY", "overlay-gravity", K_GRAVITY, OFF(overlay_gravity), 0, 0,
     "south-east", M_DAEMON | M_PROCESS, 0,
     "Overlay position: centre, north, north-east, east, south-east, south, south-west, west, "
     "north-west."},
    {"PHOTOFINISH_OVERLAY_MARGIN", "overlay-margin", K_DBL, OFF(overlay_margin), 0, 0.5, "0.02",
     M_DAEMON | M_PROCESS, 0, "Overlay margin from the edges, as a fraction of the width."},
    {"PHOTOFINISH_OVERLAY_WIDTH", "overlay-width", K_DBL, OFF(overlay_width), 0.01, 1, "0.2",
     M_DAEMON | M_PROCESS, 0, "Overlay width as a fraction of the variant's width."},
    {"PHOTOFINISH_OVERLAY_OPACITY", "overlay-opacity", K_DBL, OFF(overlay_opacity), 0, 1, "1.0",
     M_DAEMON | M_PROCESS, 0, "Overlay opacity (0-1)."},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static bool is_bucket_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return s[0] != '-' && s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.';
}

static bool is_table_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

static bool is_http_url(const char *s)
{
	const char *host;

	if (!strncmp(s, "https://", 8))
		host = s + 8;
	else if (!strncmp(s, "http://", 7))
		host = s + 7;
	else
		return false;
	if (!*host || *host == '/' || *host == ':')
		return false;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
			return false;
	}
	return true;
}

static bool is_region(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static bool parse_listen(const char *s, char **host, int *port)
{
	const char *colon = strrchr(s, ':');
	int64_t p;
	size_t hlen;

	if (!colon)
		return false;
	if (!pf_parse_int64(colon + 1, 0, 65535, &p))
		return false;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		*host = pf_xstrndup(s + 1, hlen - 2);
	} else {
		if (hlen == 0 || memchr(s, ']', hlen))
			return false;
		*host = pf_xstrndup(s, hlen);
	}
	*port = (int)p;
	return true;
}

static bool is_origin_list(const char *s)
{
	char *copy, *save = NULL, *tok;
	bool ok = true;

	if (!strcmp(s, "*"))
		return true;
	copy = pf_xstrdup(s);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!is_http_url(tok) || strchr(tok + 8, '/')) {
			ok = false;
			break;
		}
	}
	free(copy);
	return ok;
}

static void problem(struct pf_buf *problems, const char *env, const char *fmt, const char *value)
{
	pf_buf_appendf(problems, "%s: ", env);
	pf_buf_appendf(problems, fmt, value);
	pf_buf_append_str(problems, "\n");
}

/* Applies one textual value; returns false (and records why) if it is bad. */
static bool apply(struct pf_config *cfg, const struct setting *s, const char *value,
                  struct pf_buf *problems)
{
	char *base = (char *)cfg;
	char **strp = (char **)(base + s->offset);
	int64_t i64;
	double d;

	switch (s->kind) {
	case K_STR:
	case K_SECRET:
	case K_BUCKET:
	case K_NAME:
	case K_URL:
	case K_OVERLAY:
	case K_PREFIX:
	case K_ORIGINS:
	case K_REGION:
	case K_REGEX:
	case K_TOKENS:
	case K_S3URI:
	case K_CODES:
		if (s->kind != K_PREFIX && !*value) {
			problem(problems, s->env, "is empty%s", "");
			return false;
		}
		if (strlen(value) > (s->kind == K_TOKENS || s->kind == K_CODES ? 65536 : 4096)) {
			problem(problems, s->env, "is too long%s", "");
			return false;
		}
		if (s->kind == K_BUCKET && !is_bucket_name(value)) {
			problem(problems, s->env,
			        "\"%s\" is not a valid S3 bucket name (3-63 of a-z 0-9 . -)",
			        value);
			return false;
		}
		if (s->kind == K_NAME && !is_table_name(value)) {
			problem(problems, s->env,
			        "\"%s\" is not a valid DynamoDB table name (3-255 of A-Z a-z 0-9 _ "
			        ". -)",
			        value);
			return false;
		}
		if (s->kind == K_URL && !is_http_url(value)) {
			problem(problems, s->env, "\"%s\" is not an http:// or https:// URL",
			        value);
			return false;
		}
		if (s->kind == K_REGION && !is_region(value)) {
			problem(problems, s->env, "\"%s\" is not an AWS region name like eu-west-1",
			        value);
			return false;
		}
		if (s->kind == K_ORIGINS && !is_origin_list(value)) {
			problem(problems, s->env,
			        "\"%s\" must be * or a comma-separated list of origins like "
			        "https://gallery.example.com",
			        value);
			return false;
		}
		if (s->kind == K_OVERLAY && !strncmp(value, "s3://", 5)) {
			const char *slash = strchr(value + 5, '/');
			char *bucket =
			    slash ? pf_xstrndup(value + 5, (size_t)(slash - value - 5)) : NULL;
			bool ok = bucket && is_bucket_name(bucket) && slash[1];

			free(bucket);
			if (!ok) {
				problem(problems, s->env,
				        "\"%s\" must be a file path or s3://bucket/key", value);
				return false;
			}
		}
		if (s->kind == K_S3URI) {
			char *bucket, *key;
			bool ok =
			    pf_roster_parse_s3_uri(value, &bucket, &key) && is_bucket_name(bucket);

			free(bucket);
			free(key);
			if (!ok) {
				problem(problems, s->env, "\"%s\" must be s3://bucket/key", value);
				return false;
			}
		}
		if (s->kind == K_CODES) {
			struct pf_roster *r = pf_roster_new();
			struct pf_error e;
			bool ok = pf_roster_add_list(r, value, &e) == 0;

			pf_roster_free(r);
			if (!ok) {
				problem(problems, s->env, "%s (codes are 1 to 64 of A-Z 0-9 _ . -)",
				        e.message);
				return false;
			}
		}
		if (s->kind == K_SECRET && (strlen(value) < (size_t)s->min)) {
			pf_buf_appendf(problems, "%s: is shorter than %d characters\n", s->env,
			               (int)s->min);
			return false;
		}
		if (s->kind == K_REGEX) {
			regex_t re;
			int rc = regcomp(&re, value, REG_EXTENDED);

			if (rc != 0) {
				char msg[256];

				regerror(rc, &re, msg, sizeof(msg));
				pf_buf_appendf(problems,
				               "%s: \"%s\" is not a valid extended regex: %s\n",
				               s->env, value, msg);
				return false;
			}
			regfree(&re);
		}
		free(*strp);
		*strp = pf_xstrdup(value);
		return true;
	case K_INT:
	case K_INT64:
		if (!pf_parse_int64(value, (int64_t)s->min, (int64_t)s->max, &i64)) {
			pf_buf_appendf(problems,
			               "%s: \"%s\" is not a whole number from %.0f to %.0f\n",
			               s->env, value, s->min, s->max);
			return false;
		}
		if (s->kind == K_INT)
			*(int *)(base + s->offset) = (int)i64;
		else
			*(int64_t *)(base + s->offset) = i64;
		return true;
	case K_DBL:
		if (!pf_parse_double(value, s->min, s->max, &d)) {
			pf_buf_appendf(problems, "%s: \"%s\" is not a number from %g to %g\n",
			               s->env, value, s->min, s->max);
			return false;
		}
		memcpy(base + s->offset, &d, sizeof(d));
		return true;
	case K_LISTEN: {
		char *host = NULL;
		int port = 0;

		if (!parse_listen(value, &host, &port)) {
			problem(problems, s->env,
			        "\"%s\" is not host:port (e.g. 0.0.0.0:8080 or [::]:8080)", value);
			return false;
		}
		free(cfg->listen);
		free(cfg->listen_host);
		cfg->listen = pf_xstrdup(value);
		cfg->listen_host = host;
		cfg->listen_port = port;
		return true;
	}
	case K_LEVEL: {
		enum pf_log_level lvl;

		if (!pf_log_level_parse(value, &lvl)) {
			problem(problems, s->env, "\"%s\" is not one of debug, info, warn, error",
			        value);
			return false;
		}
		cfg->log_level = (int)lvl;
		return true;
	}
	case K_SYMS:
		if (!pf_image_symbologies_parse(value, &cfg->symbologies)) {
			problem(
			    problems, s->env,
			    "\"%s\" is not a comma list of qrcode, code128, code39, code93, ean13, "
			    "ean8, upca, upce, i25, codabar, databar",
			    value);
			return false;
		}
		return true;
	case K_GRAVITY:
		if (!pf_image_gravity_parse(value, &cfg->overlay_gravity)) {
			problem(problems, s->env,
			        "\"%s\" is not one of centre, north, north-east, east, south-east, "
			        "south, south-west, west, north-west",
			        value);
			return false;
		}
		return true;
	}
	return false;
}

/* ---- admin tokens ---- */

static bool is_token_name(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '@' || c == '-'))
			return false;
	}
	return true;
}

/* Adds one "name:secret" (len bytes at s) from where; problems never quote
 * the secret. */
static void add_admin_token(struct pf_config *cfg, const char *where, size_t entry, const char *s,
                            size_t len, struct pf_buf *problems)
{
	const char *colon = memchr(s, ':', len);
	size_t nlen, slen;

	if (!colon) {
		pf_buf_appendf(problems, "%s: entry %zu is not name:secret\n", where, entry);
		return;
	}
	nlen = (size_t)(colon - s);
	slen = len - nlen - 1;
	if (!is_token_name(s, nlen)) {
		pf_buf_appendf(problems,
		               "%s: entry %zu: the name must be 1-64 of A-Z a-z 0-9 _ . @ -\n",
		               where, entry);
		return;
	}
	if (slen < 16 || slen > 4096) {
		pf_buf_appendf(problems,
		               "%s: entry %zu (%.*s): the secret must be 16 to 4096 characters\n",
		               where, entry, (int)nlen, s);
		return;
	}
	for (size_t i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)colon[1 + i];

		if (c <= ' ' || c >= 0x7f) {
			pf_buf_appendf(
			    problems,
			    "%s: entry %zu (%.*s): the secret has a blank or a non-printable "
			    "character\n",
			    where, entry, (int)nlen, s);
			return;
		}
	}
	for (size_t i = 0; i < cfg->nadmin_tokens; i++) {
		const struct pf_config_admin_token *t = &cfg->admin_token_list[i];

		if (strlen(t->name) == nlen && !memcmp(t->name, s, nlen)) {
			pf_buf_appendf(problems, "%s: entry %zu: the name %.*s is given twice\n",
			               where, entry, (int)nlen, s);
			return;
		}
		/* One secret, two names: the audit could not tell who acted. */
		if (strlen(t->secret) == slen && !memcmp(t->secret, colon + 1, slen)) {
			pf_buf_appendf(problems, "%s: entry %zu (%.*s): the same secret as %s\n",
			               where, entry, (int)nlen, s, t->name);
			return;
		}
	}
	if (cfg->nadmin_tokens == PF_CONFIG_MAX_ADMIN_TOKENS) {
		pf_buf_appendf(problems, "%s: more than %d admin tokens\n", where,
		               PF_CONFIG_MAX_ADMIN_TOKENS);
		return;
	}
	cfg->admin_token_list = pf_xrealloc(
	    cfg->admin_token_list, (cfg->nadmin_tokens + 1) * sizeof(*cfg->admin_token_list));
	cfg->admin_token_list[cfg->nadmin_tokens].name = pf_xstrndup(s, nlen);
	cfg->admin_token_list[cfg->nadmin_tokens].secret = pf_xstrndup(colon + 1, slen);
	cfg->nadmin_tokens++;
}

/* Entries separated by sep; with lines (a file), blank lines and # comments
 * are skipped and surrounding blanks trimmed. */
static void parse_admin_tokens(struct pf_config *cfg, const char *where, const char *text,
                               size_t len, char sep, struct pf_buf *problems)
{
	size_t entry = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *e = memchr(p, sep, (size_t)(end - p));
		const char *stop = e ? e : end;
		const char *a = p, *b = stop;

		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
			b--;
		entry++;
		if (b > a && !(sep == '\n' && *a == '#'))
			add_admin_token(cfg, where, entry, a, (size_t)(b - a), problems);
		else if (sep != '\n')
			pf_buf_appendf(problems, "%s: entry %zu is empty\n", where, entry);
		p = stop + 1;
	}
}

#define MAX_TOKENS_FILE_BYTES 65536

static void read_admin_tokens_file(struct pf_config *cfg, struct pf_buf *problems)
{
	const char *path = cfg->admin_tokens_file;
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;

	if (!f) {
		pf_buf_appendf(problems, "PHOTOFINISH_ADMIN_TOKENS_FILE: cannot read %s\n", path);
		return;
	}
	text = pf_xmalloc(MAX_TOKENS_FILE_BYTES + 1);
	n = fread(text, 1, MAX_TOKENS_FILE_BYTES + 1, f);
	fclose(f);
	if (n > MAX_TOKENS_FILE_BYTES)
		pf_buf_appendf(problems, "PHOTOFINISH_ADMIN_TOKENS_FILE: %s is over 64 KiB\n",
		               path);
	else
		parse_admin_tokens(cfg, "PHOTOFINISH_ADMIN_TOKENS_FILE", text, n, '\n', problems);
	explicit_bzero(text, MAX_TOKENS_FILE_BYTES + 1);
	free(text);
}

/* Every admin token, one list: PHOTOFINISH_ADMIN_TOKEN (named "admin"),
 * PHOTOFINISH_ADMIN_TOKENS, then the file's. */
static void collect_admin_tokens(struct pf_config *cfg, struct pf_buf *problems)
{
	if (cfg->admin_token) {
		char *entry = pf_xasprintf("admin:%s", cfg->admin_token);

		add_admin_token(cfg, "PHOTOFINISH_ADMIN_TOKEN", 1, entry, strlen(entry), problems);
		explicit_bzero(entry, strlen(entry));
		free(entry);
	}
	if (cfg->admin_tokens)
		parse_admin_tokens(cfg, "PHOTOFINISH_ADMIN_TOKENS", cfg->admin_tokens,
		                   strlen(cfg->admin_tokens), ',', problems);
	if (cfg->admin_tokens_file)
		read_admin_tokens_file(cfg, problems);
}

static const char *env_lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (char *const *e = envp; e && *e; e++) {
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return *e + n + 1;
	}
	return NULL;
}

static const struct setting *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (strlen(settings[i].flag) == len && !strncmp(settings[i].flag, name, len))
			return &settings[i];
	}
	return NULL;
}

int pf_config_load_env(struct pf_config *cfg, enum pf_config_mode mode, char *const *envp,
                       int *argc, char **argv, bool allow_unknown, struct pf_buf *problems)
{
	unsigned mode_bit = 1u << mode;
	bool set[NSETTINGS] = {false};
	size_t before = problems->len;
	int out = 1;

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (settings[i].def)
			apply(cfg, &settings[i], settings[i].def, problems);
	}

	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *v = env_lookup(envp, settings[i].env);

		if (!v && !strcmp(settings[i].env, "AWS_REGION"))
			v = env_lookup(envp, "AWS_DEFAULT_REGION");
		if (!v)
			continue;
		/* An empty variable means "unset", as ECS task definitions often pass "". */
		if (!*v && settings[i].kind != K_PREFIX)
			continue;
		if ((settings[i].used_by & mode_bit) && apply(cfg, &settings[i], v, problems))
			set[i] = true;
	}

	for (int i = 1; argc && i < *argc; i++) {
		const char *arg = argv[i];
		const char *name, *eq, *value;
		const struct setting *s;
		size_t nlen;

		if (strncmp(arg, "--", 2) || !arg[2]) {
			argv[out++] = argv[i];
			continue;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		s = find_flag(name, nlen);
		if (!s || !(s->used_by & mode_bit)) {
			if (!allow_unknown)
				pf_buf_appendf(problems, "--%.*s: unknown option\n", (int)nlen,
				               name);
			argv[out++] = argv[i];
			continue;
		}
		if (eq) {
			value = eq + 1;
		} else if (i + 1 < *argc) {
			value = argv[++i];
		} else {
			pf_buf_appendf(problems, "--%s: needs a value\n", s->flag);
			continue;
		}
		if (apply(cfg, s, value, problems))
			set[s - settings] = true;
	}
	if (argc) {
		argv[out] = NULL;
		*argc = out;
	}

	for (size_t i = 0; i < NSETTINGS; i++) {
		if ((settings[i].required_by & mode_bit) && !set[i])
			pf_buf_appendf(problems, "%s: is required (or --%s)\n", settings[i].env,
			               settings[i].flag);
	}

	if (cfg->workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg->workers = n < 1 ? 1 : (n > 256 ? 256 : (int)n);
	}
	if (cfg->max_inflight == 0)
		cfg->max_inflight = cfg->workers * 2;
	/* Local runs are asked for WebP; the daemon writes it unless told not to. */
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (mode == PF_CONFIG_PROCESS && !set[i] && settings[i].offset == OFF(webp))
			cfg->webp = 0;
	}
	if (cfg->thumbnail_max > cfg->fullsize_max)
		pf_buf_appendf(
		    problems,
		    "PHOTOFINISH_THUMBNAIL_MAX: %d is larger than PHOTOFINISH_FULLSIZE_MAX "
		    "(%d)\n",
		    cfg->thumbnail_max, cfg->fullsize_max);
	if (mode == PF_CONFIG_DAEMON)
		collect_admin_tokens(cfg, problems);
	if (cfg->public_media_url) {
		size_t n = strlen(cfg->public_media_url);

		while (n > 0 && cfg->public_media_url[n - 1] == '/')
			cfg->public_media_url[--n] = '\0';
	}
	return problems->len == before ? 0 : PF_EINVAL;
}

int pf_config_load(struct pf_config *cfg, enum pf_config_mode mode, int *argc, char **argv,
                   bool allow_unknown, struct pf_buf *problems)
{
	return pf_config_load_env(cfg, mode, environ, argc, argv, allow_unknown, problems);
}

void pf_config_free(struct pf_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < NSETTINGS; i++) {
		switch (settings[i].kind) {
		case K_INT:
		case K_INT64:
		case K_DBL:
		case K_LEVEL:
		case K_SYMS:
		case K_GRAVITY:
		case K_LISTEN:
			break;
		default: {
			char **p = (char **)((char *)cfg + settings[i].offset);

			free(*p);
			*p = NULL;
		}
		}
	}
	free(cfg->listen);
	free(cfg->listen_host);
	for (size_t i = 0; i < cfg->nadmin_tokens; i++) {
		free(cfg->admin_token_list[i].name);
		explicit_bzero(cfg->admin_token_list[i].secret,
		               strlen(cfg->admin_token_list[i].secret));
		free(cfg->admin_token_list[i].secret);
	}
	free(cfg->admin_token_list);
	memset(cfg, 0, sizeof(*cfg));
}

static void append_symbologies(struct pf_buf *b, unsigned bits)
{
	bool first = true;

	pf_buf_append_str(b, "\"");
	for (unsigned bit = 1; bit; bit <<= 1) {
		const char *name = (bits & bit) ? pf_image_symbology_name(bit) : NULL;

		if (name) {
			pf_buf_appendf(b, "%s%s", first ? "" : ",", name);
			first = false;
		}
	}
	pf_buf_append_str(b, "\"");
}

char *pf_config_to_json(const struct pf_config *cfg)
{
	const char *base = (const char *)cfg;
	struct pf_buf b;

	pf_buf_init(&b);
	pf_buf_append_str(&b, "{");
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (i)
			pf_buf_append_str(&b, ",");
		pf_json_append_string(&b, s->env, strlen(s->env));
		pf_buf_append_str(&b, ":");
		switch (s->kind) {
		case K_INT:
			pf_buf_appendf(&b, "%d", *(const int *)(base + s->offset));
			break;
		case K_INT64:
			pf_buf_appendf(&b, "%lld", (long long)*(const int64_t *)(base + s->offset));
			break;
		case K_DBL: {
			double d;

			memcpy(&d, base + s->offset, sizeof(d));
			pf_buf_appendf(&b, "%g", d);
		} break;
		case K_LEVEL:
			pf_buf_appendf(&b, "\"%s\"", pf_log_level_name(cfg->log_level));
			break;
		case K_SYMS:
			append_symbologies(&b, cfg->symbologies);
			break;
		case K_GRAVITY:
			pf_buf_appendf(&b, "\"%s\"", pf_image_gravity_name(cfg->overlay_gravity));
			break;
		case K_LISTEN:
			pf_json_append_string(&b, cfg->listen, strlen(cfg->listen));
			break;
		case K_SECRET:
		case K_TOKENS: {
			const char *v = *(char *const *)(base + s->offset);

			pf_buf_append_str(&b, v ? "\"(redacted)\"" : "null");
			break;
		}
		default: {
			const char *v = *(char *const *)(base + s->offset);

			if (v)
				pf_json_append_string(&b, v, strlen(v));
			else
				pf_buf_append_str(&b, "null");
		}
		}
	}
	pf_buf_append_str(&b, "}");
	return pf_buf_steal(&b, NULL);
}

const struct pf_config_setting_info *pf_config_settings(void)
{
	static struct pf_config_setting_info info[NSETTINGS + 1];

	/* Filled on first use; the table is constant so a race writes equal values. */
	if (!info[0].env) {
		for (size_t i = 0; i < NSETTINGS; i++) {
			info[i].env = settings[i].env;
			info[i].flag = settings[i].flag;
			info[i].default_text = settings[i].def;
			info[i].help = settings[i].help;
		}
	}
	return info;
}

void pf_config_print_help(struct pf_buf *out)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];

		pf_buf_appendf(out, "  --%-24s %s\n  %-26s %s", s->flag, s->env, "", s->help);
		if (s->def && *s->def)
			pf_buf_appendf(out, " Default: %s.", s->def);
		pf_buf_append_str(out, "\n");
	}
}

void pf_config_aws_options(const struct pf_config *cfg, struct pf_aws_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->region = cfg->region;
	opts->endpoint_url = cfg->endpoint_url;
	opts->endpoint_url_s3 = cfg->endpoint_url_s3;
	opts->endpoint_url_sqs = cfg->endpoint_url_sqs;
	opts->endpoint_url_dynamodb = cfg->endpoint_url_dynamodb;
}

void pf_config_image_options(const struct pf_config *cfg, struct pf_image_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->max_input_bytes = cfg->max_input_bytes;
	opts->max_input_pixels = cfg->max_input_pixels;
	opts->symbologies = cfg->symbologies;
	opts->code_pattern = cfg->code_pattern;
	opts->fullsize_max = cfg->fullsize_max;
	opts->thumbnail_max = cfg->thumbnail_max;
	opts->jpeg_quality = cfg->jpeg_quality;
	opts->webp = cfg->webp != 0;
	opts->overlay_gravity = cfg->overlay_gravity;
	opts->overlay_margin = cfg->overlay_margin;
	opts->overlay_width = cfg->overlay_width;
	opts->overlay_opacity = cfg->overlay_opacity;
}
