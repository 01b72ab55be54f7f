/*
 * AWS credentials, pure part: environment variables, the shared
 * credentials/config INI files, the container/IMDS JSON, and the rules for
 * which credential endpoints may be contacted. Any thread; only the
 * shared-file and token-file readers touch the file system (blocking).
 * Guarantees: secrets never reach an error message (not even through a JSON
 * parser's "near '...'" text); every value returned is header-safe; sizes
 * from outside are bounded before parsing.
 */
#include "photofinish/aws/credentials.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

#define MAX_KEY_ID 256
#define MAX_SECRET 1024
#define MAX_TOKEN (16 * 1024)
#define MAX_IMDS_TOKEN 4096
#define MAX_PROFILE_NAME 128

/* ---- the credentials object ------------------------------------------------- */

static void wipe_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void pf_credentials_free(struct pf_credentials *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	free(c);
}

struct pf_credentials *pf_credentials_dup(const struct pf_credentials *c)
{
	struct pf_credentials *d = pf_xcalloc(1, sizeof(*d));

	d->access_key_id = pf_xstrdup(c->access_key_id);
	d->secret_access_key = pf_xstrdup(c->secret_access_key);
	d->session_token = c->session_token ? pf_xstrdup(c->session_token) : NULL;
	d->expiration = c->expiration;
	memcpy(d->source, c->source, sizeof(d->source));
	return d;
}

void pf_credentials_to_sigv4(const struct pf_credentials *c, struct pf_sigv4_credentials *out)
{
	out->access_key_id = c->access_key_id;
	out->secret_access_key = c->secret_access_key;
	out->session_token = c->session_token;
}

bool pf_credentials_is_expiring(const struct pf_credentials *c, int64_t now, int64_t margin)
{
	return c->expiration != 0 && now + margin >= c->expiration;
}

/* Visible ASCII only: each value ends up in an HTTP header or signature. */
static bool is_visible(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || n >= max)
			return false;
	}
	return n > 0;
}

static bool is_key_id(const char *s)
{
	if (!is_visible(s, MAX_KEY_ID))
		return false;
	return strpbrk(s, "/,;=") == NULL;
}

/* what names the source of the values in messages ("AWS_ACCESS_KEY_ID",
 * "profile 'x' aws_access_key_id"); never the values. */
static int build(const char *key_id, const char *secret, const char *token, int64_t expiration,
                 const char *source, const char *key_name, const char *secret_name,
                 const char *token_name, struct pf_credentials **out, struct pf_error *err)
{
	struct pf_credentials *c;

	if (!is_key_id(key_id))
		return pf_error_set(err, PF_EINVAL,
		                    "%s is empty, too long, or has whitespace, control characters "
		                    "or one of / , ; =",
		                    key_name);
	if (!is_visible(secret, MAX_SECRET))
		return pf_error_set(
		    err, PF_EINVAL,
		    "%s is empty, too long, or has whitespace or control characters", secret_name);
	if (token && *token && !is_visible(token, MAX_TOKEN))
		return pf_error_set(err, PF_EINVAL,
		                    "%s is too long or has whitespace or control characters",
		                    token_name);
	c = pf_xcalloc(1, sizeof(*c));
	c->access_key_id = pf_xstrdup(key_id);
	c->secret_access_key = pf_xstrdup(secret);
	c->session_token = token && *token ? pf_xstrdup(token) : NULL;
	c->expiration = expiration;
	snprintf(c->source, sizeof(c->source), "%s", source ? source : "");
	*out = c;
	return 0;
}

/* ---- environment -------------------------------------------------------------- */

/* First "NAME=value" for name; empty values count as unset. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (char *const *e = envp; e && *e; e++) {
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return (*e)[n + 1] ? *e + n + 1 : NULL;
	}
	return NULL;
}

int pf_credentials_from_env(char *const *envp, struct pf_credentials **out, struct pf_error *err)
{
	const char *id = env_get(envp, "AWS_ACCESS_KEY_ID");
	const char *secret = env_get(envp, "AWS_SECRET_ACCESS_KEY");

	*out = NULL;
	if (!id && !secret)
		return pf_error_set(err, PF_ENOTFOUND,
		                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
	if (!id || !secret)
		return pf_error_set(err, PF_EINVAL, "%s is set but %s is not",
		                    id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		                    id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	return build(id, secret, env_get(envp, "AWS_SESSION_TOKEN"), 0, "environment",
	             "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", out, err);
}

/* ---- shared files --------------------------------------------------------------- */

/* What one file says about one profile. Values point into a private copy. */
struct ini_profile {
	bool found;
	char *key_id, *secret, *token;
	const char *unsupported; /* first key naming a method we do not implement */
};

static void ini_profile_free(struct ini_profile *p)
{
	free(p->key_id);
	wipe_free(p->secret);
	wipe_free(p->token);
	memset(p, 0, sizeof(*p));
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

static bool span_eq(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && strncasecmp(s, word, n) == 0;
}

/* Does the section header between s and e name profile? In the config file
 * a profile is "[profile name]", except the default, which may also be
 * "[default]". */
static bool section_matches(const char *s, const char *e, const char *profile, bool config_file)
{
	trim(&s, &e);
	if (config_file) {
		if (strcmp(profile, "default") == 0 && (size_t)(e - s) == 7 &&
		    memcmp(s, "default", 7) == 0)
			return true;
		if ((size_t)(e - s) < 8 || memcmp(s, "profile", 7) != 0 || !is_space(s[7]))
			return false;
		s += 8;
		trim(&s, &e);
	}
	return (size_t)(e - s) == strlen(profile) && memcmp(s, profile, (size_t)(e - s)) == 0;
}

static const char *const unsupported_keys[] = {
    "role_arn",       "credential_process",      "sso_session",       "sso_start_url",
    "sso_account_id", "web_identity_token_file", "credential_source",
};

static void set_value(char **slot, const char *s, const char *e)
{
	wipe_free(*slot);
	*slot = pf_xstrndup(s, (size_t)(e - s));
}

/* One pass over the file. Malformed lines are refused wherever they are, as
 * the AWS CLI does, so a typo is reported rather than silently ignored; the
 * message gives the line number, never its text. */
static int ini_scan(const char *text, size_t len, const char *profile, bool config_file,
                    const char *what, struct ini_profile *p, struct pf_error *err)
{
	const char *pos = text, *end = text + len;
	bool in_section = false, any_section = false;
	char **last = NULL; /* value the previous property line set, if ours */
	int line = 0;

	if (memchr(text, '\0', len))
		return pf_error_set(err, PF_EINVAL, "%s contains a NUL byte", what);
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos += 3;
	while (pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		const char *s = pos, *e = nl ? nl : end;
		bool indented;

		pos = nl ? nl + 1 : end;
		line++;
		if (e > s && e[-1] == '\r')
			e--;
		indented = s < e && is_space(*s);
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (indented && any_section) {
			/* A sub-property (s3 =\n  max_concurrency = 4) or a
			 * continuation; neither may extend a credential. */
			if (last)
				return pf_error_set(
				    err, PF_EINVAL,
				    "%s line %d: a credential value continues on an "
				    "indented line, which is not supported",
				    what, line);
			continue;
		}
		last = NULL;
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(e - s));
			const char *after;

			if (!close)
				return pf_error_set(err, PF_EINVAL,
				                    "%s line %d: section header without ']'", what,
				                    line);
			after = close + 1;
			trim(&after, &e);
			if (after < e && *after != '#' && *after != ';')
				return pf_error_set(err, PF_EINVAL,
				                    "%s line %d: text after a section header", what,
				                    line);
			any_section = true;
			in_section = section_matches(s + 1, close, profile, config_file);
			p->found |= in_section;
			continue;
		}
		const char *eq = memchr(s, '=', (size_t)(e - s));
		const char *ks = s, *ke, *vs, *ve = e;

		if (!eq || eq == s || !any_section)
			return pf_error_set(err, PF_EINVAL,
			                    "%s line %d: expected \"[section]\" or \"key = value\"",
			                    what, line);
		if (!in_section)
			continue;
		ke = eq;
		vs = eq + 1;
		trim(&ks, &ke);
		/* An inline comment needs whitespace before it: secrets may
		 * contain neither, but '#' inside a URL value is legitimate. */
		for (const char *c = vs + 1; c < ve; c++) {
			if ((*c == '#' || *c == ';') && is_space(c[-1])) {
				ve = c;
				break;
			}
		}
		trim(&vs, &ve);
		if (span_eq(ks, ke, "aws_access_key_id"))
			last = &p->key_id;
		else if (span_eq(ks, ke, "aws_secret_access_key"))
			last = &p->secret;
		else if (span_eq(ks, ke, "aws_session_token"))
			last = &p->token;
		if (last) {
			set_value(last, vs, ve);
			continue;
		}
		for (size_t i = 0; i < sizeof(unsupported_keys) / sizeof(unsupported_keys[0]);
		     i++) {
			if (span_eq(ks, ke, unsupported_keys[i]) && !p->unsupported)
				p->unsupported = unsupported_keys[i];
		}
	}
	return 0;
}

/* Turns what the files said into credentials or the right refusal. */
static int profile_result(struct ini_profile *p, const char *profile, bool explicit_profile,
                          struct pf_credentials **out, struct pf_error *err)
{
	char key_name[MAX_PROFILE_NAME + 48], secret_name[MAX_PROFILE_NAME + 48],
	    token_name[MAX_PROFILE_NAME + 48];
	bool has_id = p->key_id && *p->key_id, has_secret = p->secret && *p->secret;

	if (!p->found)
		return pf_error_set(err, explicit_profile ? PF_EINVAL : PF_ENOTFOUND,
		                    "profile '%s' is not in the shared credentials or config file",
		                    profile);
	if (!has_id && !has_secret) {
		if (p->unsupported)
			return pf_error_set(err, PF_EINVAL,
			                    "profile '%s' uses %s, which is not supported; use "
			                    "static keys, the environment, or a container or "
			                    "instance role",
			                    profile, p->unsupported);
		return pf_error_set(err, explicit_profile ? PF_EINVAL : PF_ENOTFOUND,
		                    "profile '%s' has no aws_access_key_id or "
		                    "aws_secret_access_key",
		                    profile);
	}
	if (!has_id || !has_secret)
		return pf_error_set(err, PF_EINVAL, "profile '%s' has %s but no %s", profile,
		                    has_id ? "aws_access_key_id" : "aws_secret_access_key",
		                    has_id ? "aws_secret_access_key" : "aws_access_key_id");
	snprintf(key_name, sizeof(key_name), "profile '%s' aws_access_key_id", profile);
	snprintf(secret_name, sizeof(secret_name), "profile '%s' aws_secret_access_key", profile);
	snprintf(token_name, sizeof(token_name), "profile '%s' aws_session_token", profile);
	return build(p->key_id, p->secret, p->token, 0, "shared-file", key_name, secret_name,
	             token_name, out, err);
}

static bool is_profile_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_PROFILE_NAME)
		return false;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '[' || *s == ']')
			return false;
	}
	return true;
}

int pf_credentials_parse_profile(const char *text, size_t len, const char *profile,
                                 bool config_file, struct pf_credentials **out,
                                 struct pf_error *err)
{
	struct ini_profile p = {0};
	int rc;

	*out = NULL;
	if (!profile || !is_profile_name(profile))
		return pf_error_set(err, PF_EINVAL,
		                    "profile name is empty, too long or has control "
		                    "characters or brackets");
	if (len > PF_CREDENTIALS_MAX_FILE)
		return pf_error_set(err, PF_ETOOBIG, "credentials text is over %d bytes",
		                    PF_CREDENTIALS_MAX_FILE);
	if (!text)
		return pf_error_set(err, PF_EINVAL, "no credentials text given");
	rc = ini_scan(text, len, profile, config_file,
	              config_file ? "config file" : "credentials file", &p, err);
	if (rc == 0)
		rc = profile_result(&p, profile, false, out, err);
	ini_profile_free(&p);
	return rc;
}

/* Reads at most limit bytes of path. PF_ENOTFOUND when it does not exist. */
static int read_limited(const char *path, size_t limit, char **data, size_t *len,
                        struct pf_error *err)
{
	struct pf_buf b;
	char chunk[8192];
	int fd, rc = 0;
	ssize_t n;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return pf_error_set(err, PF_ENOTFOUND, "%s does not exist", path);
		return pf_error_set(err, PF_EIO, "cannot open %s: %s", path, strerror(errno));
	}
	pf_buf_init(&b);
	/* Read rather than trust st_size: /proc and pipes report 0. */
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pf_error_set(err, PF_EIO, "cannot read %s: %s", path, strerror(errno));
			goto out_close;
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > limit) {
			rc = pf_error_set(err, PF_ETOOBIG, "%s is over %zu bytes; refusing it",
			                  path, limit);
			goto out_close;
		}
		pf_buf_append(&b, chunk, (size_t)n);
	}
	*data = pf_buf_steal(&b, len);
out_close:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fd);
	if (rc && b.data) {
		OPENSSL_cleanse(b.data, b.len);
		pf_buf_free(&b);
	}
	return rc;
}

static char *file_path(char *const *envp, const char *var, const char *dflt)
{
	const char *v = env_get(envp, var);
	const char *home = env_get(envp, "HOME");

	if (v && strncmp(v, "~/", 2) == 0)
		return home ? pf_xasprintf("%s/%s", home, v + 2) : NULL;
	if (v)
		return pf_xstrdup(v);
	return home ? pf_xasprintf("%s/%s", home, dflt) : NULL;
}

/* Reads and scans one file into p; a missing file is no error. */
static int scan_file(const char *path, const char *profile, bool config_file, struct ini_profile *p,
                     struct pf_error *err)
{
	char *data;
	size_t len;
	int rc;

	if (!path)
		return 0;
	rc = read_limited(path, PF_CREDENTIALS_MAX_FILE, &data, &len, err);
	if (rc == PF_ENOTFOUND) {
		pf_error_clear(err);
		return 0;
	}
	if (rc)
		return rc;
	rc = ini_scan(data, len, profile, config_file, path, p, err);
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

int pf_credentials_from_shared_files(char *const *envp, struct pf_credentials **out,
                                     struct pf_error *err)
{
	const char *env_profile = env_get(envp, "AWS_PROFILE");
	const char *profile = env_profile ? env_profile : "default";
	char *cred_path = file_path(envp, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	char *conf_path = file_path(envp, "AWS_CONFIG_FILE", ".aws/config");
	struct ini_profile cred = {0}, conf = {0};
	int rc;

	*out = NULL;
	if (!is_profile_name(profile)) {
		rc = pf_error_set(err, PF_EINVAL,
		                  "AWS_PROFILE is too long or has control characters or brackets");
		goto out;
	}
	rc = scan_file(cred_path, profile, false, &cred, err);
	if (rc == 0)
		rc = scan_file(conf_path, profile, true, &conf, err);
	if (rc)
		goto out;
	/* The credentials file wins key by key, as in the AWS CLI. */
	cred.found |= conf.found;
	if (!cred.key_id) {
		cred.key_id = conf.key_id;
		conf.key_id = NULL;
	}
	if (!cred.secret) {
		cred.secret = conf.secret;
		conf.secret = NULL;
	}
	if (!cred.token) {
		cred.token = conf.token;
		conf.token = NULL;
	}
	if (!cred.unsupported)
		cred.unsupported = conf.unsupported;
	rc = profile_result(&cred, profile, env_profile != NULL, out, err);
out:
	ini_profile_free(&cred);
	ini_profile_free(&conf);
	free(cred_path);
	free(conf_path);
	return rc;
}

/* ---- container and IMDS JSON ------------------------------------------------------- */

static const char *json_str(json_t *obj, const char *key, bool *wrong_type)
{
	json_t *v = json_object_get(obj, key);

	if (v && !json_is_string(v))
		*wrong_type = true;
	return json_string_value(v);
}

int pf_credentials_parse_container_json(const char *json, size_t len, const char *source,
                                        struct pf_credentials **out, struct pf_error *err)
{
	json_error_t jerr;
	json_t *root;
	const char *id, *secret, *token, *exp, *code;
	bool wrong = false;
	int64_t expiration = 0;
	int rc;

	*out = NULL;
	if (!json)
		return pf_error_set(err, PF_EINVAL, "credentials response is empty");
	if (len > PF_CREDENTIALS_MAX_JSON)
		return pf_error_set(err, PF_ETOOBIG, "credentials response is over %d bytes",
		                    PF_CREDENTIALS_MAX_JSON);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	/* jerr.text may quote the input, which holds secrets: position only. */
	if (!root)
		return pf_error_set(err, PF_EINVAL,
		                    "credentials response is not valid JSON (line %d, column %d)",
		                    jerr.line, jerr.column);
	if (!json_is_object(root)) {
		rc = pf_error_set(err, PF_EINVAL, "credentials response is not a JSON object");
		goto out;
	}
	code = json_str(root, "Code", &wrong);
	if (wrong || (code && strcmp(code, "Success") != 0)) {
		rc = pf_error_set(err, PF_EINVAL, "credentials response Code is not \"Success\"");
		if (code && err && is_visible(code, sizeof(err->service_code) - 1))
			snprintf(err->service_code, sizeof(err->service_code), "%s", code);
		goto out;
	}
	id = json_str(root, "AccessKeyId", &wrong);
	secret = json_str(root, "SecretAccessKey", &wrong);
	token = json_str(root, "Token", &wrong);
	exp = json_str(root, "Expiration", &wrong);
	if (wrong) {
		rc = pf_error_set(err, PF_EINVAL,
		                  "credentials response has a non-string AccessKeyId, "
		                  "SecretAccessKey, Token or Expiration");
		goto out;
	}
	if (!id || !secret) {
		rc = pf_error_set(err, PF_EINVAL, "credentials response lacks %s",
		                  !id ? "AccessKeyId" : "SecretAccessKey");
		goto out;
	}
	if (exp && !pf_codec_parse_rfc3339(exp, strlen(exp), &expiration)) {
		rc = pf_error_set(err, PF_EINVAL,
		                  "credentials response Expiration is not an RFC 3339 time");
		goto out;
	}
	if (exp && expiration <= 0) {
		rc = pf_error_set(err, PF_EINVAL,
		                  "credentials response Expiration is before 1970-01-01");
		goto out;
	}
	rc = build(id, secret, token, expiration, source, "AccessKeyId", "SecretAccessKey", "Token",
	           out, err);
out:
	json_decref(root);
	return rc;
}

/* ---- container endpoint rules ------------------------------------------------------ */

static bool has_ctl_or_space(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '\\')
			return true;
	}
	return false;
}

/* Hosts a plain-http credentials URL may name: the credentials would cross
 * the network in clear text anywhere else. */
static bool http_host_allowed(const char *host, bool bracketed)
{
	struct in_addr a4;
	struct in6_addr a6, allowed;

	if (bracketed) {
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		if (memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0)
			return true;
		return inet_pton(AF_INET6, "fd00:ec2::23", &allowed) == 1 &&
		       memcmp(&a6, &allowed, sizeof(a6)) == 0;
	}
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) != 1)
		return false;
	if ((ntohl(a4.s_addr) >> 24) == 127)
		return true;
	return strcmp(host, "169.254.170.2") == 0 || strcmp(host, "169.254.170.23") == 0;
}

int pf_credentials_check_full_uri(const char *uri, struct pf_error *err)
{
	const char *name = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
	const char *auth, *auth_end, *host_end, *port = NULL;
	char host[256];
	bool https, bracketed = false;
	size_t hlen;

	if (!uri || !*uri || strlen(uri) > 2048)
		return pf_error_set(err, PF_EINVAL, "%s is empty or over 2048 bytes", name);
	if (has_ctl_or_space(uri))
		return pf_error_set(err, PF_EINVAL,
		                    "%s contains whitespace, control characters or '\\'", name);
	if (strncasecmp(uri, "https://", 8) == 0)
		https = true;
	else if (strncasecmp(uri, "http://", 7) == 0)
		https = false;
	else
		return pf_error_set(err, PF_EINVAL, "%s must start with http:// or https://", name);
	auth = uri + (https ? 8 : 7);
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth)))
		return pf_error_set(err, PF_EINVAL, "%s must not contain user information", name);
	if (*auth == '[') {
		host_end = memchr(auth, ']', (size_t)(auth_end - auth));
		if (!host_end)
			return pf_error_set(err, PF_EINVAL, "%s has an unterminated IPv6 address",
			                    name);
		auth++;
		bracketed = true;
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':')
				return pf_error_set(err, PF_EINVAL, "%s has junk after ']'", name);
			port = host_end + 2;
		}
	} else {
		host_end = memchr(auth, ':', (size_t)(auth_end - auth));
		if (host_end)
			port = host_end + 1;
		else
			host_end = auth_end;
	}
	hlen = (size_t)(host_end - auth);
	if (hlen == 0 || hlen >= sizeof(host))
		return pf_error_set(err, PF_EINVAL, "%s has an empty or over-long host", name);
	memcpy(host, auth, hlen);
	host[hlen] = '\0';
	if (port) {
		int64_t p;
		char pbuf[8];
		size_t plen = (size_t)(auth_end - port);

		if (plen == 0 || plen >= sizeof(pbuf))
			return pf_error_set(err, PF_EINVAL, "%s has a bad port", name);
		memcpy(pbuf, port, plen);
		pbuf[plen] = '\0';
		if (pbuf[0] < '0' || pbuf[0] > '9' || !pf_parse_int64(pbuf, 1, 65535, &p))
			return pf_error_set(err, PF_EINVAL, "%s has a bad port", name);
	}
	if (https)
		return 0;
	if (!http_host_allowed(host, bracketed))
		return pf_error_set(err, PF_EINVAL,
		                    "%s uses http to %s; http is allowed only to loopback, "
		                    "169.254.170.2, 169.254.170.23 or [fd00:ec2::23] (use https)",
		                    name, host);
	return 0;
}

int pf_credentials_check_auth_token(const char *s, size_t len, char **out, struct pf_error *err)
{
	const char *e = s + len;

	*out = NULL;
	if (len > MAX_TOKEN)
		return pf_error_set(err, PF_ETOOBIG,
		                    "container authorization token is over %d bytes", MAX_TOKEN);
	while (s < e && (is_space(*s) || *s == '\r' || *s == '\n'))
		s++;
	while (e > s && (is_space(e[-1]) || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	if (s == e)
		return pf_error_set(err, PF_EINVAL, "container authorization token is empty");
	for (const char *p = s; p < e; p++) {
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return pf_error_set(err, PF_EINVAL,
			                    "container authorization token contains a control "
			                    "character or line break");
	}
	*out = pf_xstrndup(s, (size_t)(e - s));
	return 0;
}

int pf_credentials_read_auth_token_file(const char *path, char **out, struct pf_error *err)
{
	char *data;
	size_t len;
	int rc;

	*out = NULL;
	rc = read_limited(path, MAX_TOKEN, &data, &len, err);
	if (rc == PF_ENOTFOUND)
		return pf_error_set(err, PF_EIO,
		                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s does "
		                    "not exist",
		                    path);
	if (rc)
		return rc;
	rc = pf_credentials_check_auth_token(data, len, out, err);
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

void pf_credentials_container_endpoint_free(struct pf_credentials_container_endpoint *ep)
{
	if (!ep)
		return;
	free(ep->url);
	wipe_free(ep->auth_token);
	free(ep->auth_token_file);
	memset(ep, 0, sizeof(*ep));
}

int pf_credentials_container_endpoint(char *const *envp,
                                      struct pf_credentials_container_endpoint *out,
                                      struct pf_error *err)
{
	const char *rel = env_get(envp, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get(envp, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *token = env_get(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *token_file = env_get(envp, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	int rc;

	memset(out, 0, sizeof(*out));
	if (rel) {
		if (rel[0] != '/' || strlen(rel) > 2048 || has_ctl_or_space(rel) ||
		    strchr(rel, '#'))
			return pf_error_set(err, PF_EINVAL,
			                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path "
			                    "starting with '/' without whitespace or '#'");
		out->url = pf_xasprintf("%s%s", PF_CREDENTIALS_ECS_ENDPOINT, rel);
	} else if (full) {
		rc = pf_credentials_check_full_uri(full, err);
		if (rc)
			return rc;
		out->url = pf_xstrdup(full);
	} else {
		return pf_error_set(err, PF_ENOTFOUND,
		                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
		                    "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
	}
	if (token_file) {
		out->auth_token_file = pf_xstrdup(token_file);
	} else if (token) {
		rc = pf_credentials_check_auth_token(token, strlen(token), &out->auth_token, err);
		if (rc) {
			pf_error_prefix(err, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
			pf_credentials_container_endpoint_free(out);
			return rc;
		}
	}
	return 0;
}

/* ---- IMDSv2 ------------------------------------------------------------------------ */

int pf_credentials_imds_endpoint(char *const *envp, char **base_url, struct pf_error *err)
{
	const char *disabled = env_get(envp, "AWS_EC2_METADATA_DISABLED");
	const char *endpoint = env_get(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env_get(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	size_t n;

	*base_url = NULL;
	if (disabled && strcasecmp(disabled, "true") == 0)
		return pf_error_set(err, PF_ENOTFOUND,
		                    "IMDS is disabled by AWS_EC2_METADATA_DISABLED");
	if (endpoint) {
		if ((strncasecmp(endpoint, "http://", 7) != 0 &&
		     strncasecmp(endpoint, "https://", 8) != 0) ||
		    strlen(endpoint) > 2048 || has_ctl_or_space(endpoint) ||
		    strpbrk(endpoint, "?#@"))
			return pf_error_set(
			    err, PF_EINVAL,
			    "AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http(s) URL "
			    "without whitespace, query, fragment or user information");
		n = strlen(endpoint);
		while (n > 8 && endpoint[n - 1] == '/')
			n--;
		*base_url = pf_xstrndup(endpoint, n);
		return 0;
	}
	if (!mode || strcasecmp(mode, "IPv4") == 0) {
		*base_url = pf_xstrdup(PF_CREDENTIALS_IMDS_ENDPOINT_IPV4);
		return 0;
	}
	if (strcasecmp(mode, "IPv6") == 0) {
		*base_url = pf_xstrdup(PF_CREDENTIALS_IMDS_ENDPOINT_IPV6);
		return 0;
	}
	return pf_error_set(err, PF_EINVAL,
	                    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6");
}

char *pf_credentials_imds_url(const char *base_url, const char *path)
{
	size_t n = strlen(base_url);

	while (n && base_url[n - 1] == '/')
		n--;
	while (*path == '/')
		path++;
	return pf_xasprintf("%.*s/%s", (int)n, base_url, path);
}

int pf_credentials_imds_check_token(const char *body, size_t len, char **token,
                                    struct pf_error *err)
{
	*token = NULL;
	while (len && (body[len - 1] == '\n' || body[len - 1] == '\r'))
		len--;
	if (len == 0 || len > MAX_IMDS_TOKEN)
		return pf_error_set(err, len ? PF_ETOOBIG : PF_EINVAL,
		                    "IMDS token is empty or over %d bytes", MAX_IMDS_TOKEN);
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)body[i] <= 0x20 || (unsigned char)body[i] >= 0x7f)
			return pf_error_set(err, PF_EINVAL,
			                    "IMDS token contains whitespace or non-ASCII bytes");
	}
	*token = pf_xstrndup(body, len);
	return 0;
}

static bool is_role_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("+=,.@_-", c) != NULL);
}

int pf_credentials_imds_parse_role(const char *body, size_t len, char **role, struct pf_error *err)
{
	const char *s = body, *end = body + len, *e;

	*role = NULL;
	if (len > PF_CREDENTIALS_MAX_JSON)
		return pf_error_set(err, PF_ETOOBIG, "IMDS role list is over %d bytes",
		                    PF_CREDENTIALS_MAX_JSON);
	while (s < end && (is_space(*s) || *s == '\r' || *s == '\n'))
		s++;
	if (s == end)
		return pf_error_set(err, PF_ENOTFOUND, "the instance has no IAM role attached");
	e = s;
	while (e < end && *e != '\n' && *e != '\r')
		e++;
	while (e > s && is_space(e[-1]))
		e--;
	if (e - s > 64)
		return pf_error_set(err, PF_EINVAL, "IMDS role name is over 64 characters");
	for (const char *p = s; p < e; p++) {
		if (!is_role_char(*p))
			return pf_error_set(err, PF_EINVAL,
			                    "IMDS role name has characters IAM does not allow");
	}
	*role = pf_xstrndup(s, (size_t)(e - s));
	return 0;
}
