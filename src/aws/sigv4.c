/*
 * AWS Signature Version 4 (AWS4-HMAC-SHA256): builds the canonical request,
 * the string to sign and the signature for header signing and presigned
 * URLs. Pure: no I/O, no clock, no shared state, so any thread may call it
 * and the published test suites and the fuzzer drive it directly.
 * Guarantees: input is validated before anything is hashed, so a request
 * that would be ambiguous on the wire (control characters, header
 * injection, reserved X-Amz-* names supplied twice) is refused with
 * PF_EINVAL; no error message ever contains a secret, a token or a
 * signature; derived key material is wiped before returning.
 */
#include "photofinish/aws/sigv4.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_EXPIRES 604800
/* 9999-12-31T23:59:59Z: the last instant a four-digit year can express. */
#define MAX_TIME INT64_C(253402300799)

struct canon_header {
	char *name;  /* lower case */
	char *value; /* trimmed, folded, inner whitespace collapsed */
	size_t order;
};

struct canon_param {
	char *name; /* decoded then re-encoded per RFC 3986 */
	char *value;
};

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 9110 token characters: what a method or header name may contain. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Percent-decodes s. A '%' not followed by two hex digits stays literal and
 * is re-encoded as %25, so every byte sent is still covered by the
 * signature. */
static void append_decoded(struct pf_buf *b, const char *s, size_t len)
{
	pf_buf_reserve(b, len);
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len) {
			hi = pf_codec_hex_digit((unsigned char)s[i + 1]);
			lo = pf_codec_hex_digit((unsigned char)s[i + 2]);
			if (hi >= 0 && lo >= 0) {
				char c = (char)(hi << 4 | lo);

				pf_buf_append(b, &c, 1);
				i += 2;
				continue;
			}
		}
		pf_buf_append(b, &s[i], 1);
	}
}

static void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                        unsigned char out[32])
{
	size_t outlen = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, data, len, out, 32,
	               &outlen) ||
	    outlen != 32)
		abort();
}

void pf_sigv4_amz_date(int64_t time, char out[17])
{
	time_t t = (time_t)(time < 0 ? 0 : time > MAX_TIME ? MAX_TIME : time);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		snprintf(out, 17, "19700101T000000Z");
}

/* ---- validation ------------------------------------------------------- */

static bool is_scope_part(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Visible ASCII without the separators of the Authorization header. */
static bool is_access_key_id(const char *s)
{
	if (!s || !*s || strlen(s) > 256)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',' || c == ';' || c == '=')
			return false;
	}
	return true;
}

/* A session token goes into a header or query value verbatim: visible ASCII only. */
static bool is_token(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

static bool has_token(const struct pf_sigv4_credentials *creds)
{
	return creds->session_token && *creds->session_token;
}

static int check_common(const struct pf_sigv4_request *req, const struct pf_sigv4_params *params,
                        const struct pf_sigv4_credentials *creds, bool presign,
                        struct pf_error *err)
{
	if (!req || !params || !creds)
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: request, params and credentials are required");
	if (!req->method || !*req->method)
		return pf_error_set(err, PF_EINVAL, "sigv4: method is empty");
	for (const char *p = req->method; *p; p++) {
		if (!is_tchar((unsigned char)*p))
			return pf_error_set(
			    err, PF_EINVAL,
			    "sigv4: method contains a character not allowed in a token");
	}
	if (!is_scope_part(params->region))
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: region must be 1-64 characters of A-Z a-z 0-9 - _ .");
	if (!is_scope_part(params->service))
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: service must be 1-64 characters of A-Z a-z 0-9 - _ .");
	if (params->time < 0 || params->time > MAX_TIME)
		return pf_error_set(err, PF_EINVAL, "sigv4: signing time %lld is out of range",
		                    (long long)params->time);
	if (!is_access_key_id(creds->access_key_id))
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: access key id is missing or has characters not allowed "
		                    "in a credential scope");
	if (!creds->secret_access_key || !*creds->secret_access_key)
		return pf_error_set(err, PF_EINVAL, "sigv4: secret access key is missing");
	if (creds->session_token && !is_token(creds->session_token))
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: session token contains whitespace or non-ASCII bytes");
	if (presign && (params->expires < 1 || params->expires > MAX_EXPIRES))
		return pf_error_set(err, PF_EINVAL, "sigv4: expires %lld is outside 1..%d seconds",
		                    (long long)params->expires, MAX_EXPIRES);
	if (req->nheaders && !req->headers)
		return pf_error_set(err, PF_EINVAL, "sigv4: %zu headers announced but none given",
		                    req->nheaders);
	if (!req->payload_hash && !req->body && req->body_len)
		return pf_error_set(err, PF_EINVAL, "sigv4: body length given without a body");
	if (req->payload_hash) {
		size_t n = strlen(req->payload_hash);

		if (n == 0 || n > 128)
			return pf_error_set(err, PF_EINVAL,
			                    "sigv4: payload hash is empty or too long");
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)req->payload_hash[i];

			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '-'))
				return pf_error_set(err, PF_EINVAL,
				                    "sigv4: payload hash must be hex or a literal "
				                    "such as UNSIGNED-PAYLOAD");
		}
	}
	return 0;
}

/* ---- path --------------------------------------------------------------- */

static int check_path(const char *path, struct pf_error *err)
{
	if (!path || path[0] != '/')
		return pf_error_set(err, PF_EINVAL, "sigv4: path must start with '/'");
	for (const char *p = path; *p; p++) {
		if (is_ctl((unsigned char)*p))
			return pf_error_set(err, PF_EINVAL,
			                    "sigv4: path contains a control character");
		if (*p == '?' || *p == '#')
			return pf_error_set(err, PF_EINVAL,
			                    "sigv4: path contains '%c'; pass the query separately",
			                    *p);
	}
	return 0;
}

/* RFC 3986 dot-segment removal plus collapsing empty segments ("//"), the
 * generic SigV4 rule. A trailing slash survives, as does the one implied by
 * a final "." or "..". */
static char *normalize_path(const char *path)
{
	size_t len = strlen(path);
	const char **seg = pf_xmalloc((len / 2 + 2) * sizeof(*seg));
	size_t *seglen = pf_xmalloc((len / 2 + 2) * sizeof(*seglen));
	size_t nseg = 0;
	bool trailing = false;
	struct pf_buf b;
	const char *p = path;

	while (*p) {
		const char *start, *end;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p) {
			trailing = true;
			break;
		}
		start = p;
		end = strchr(p, '/');
		if (!end)
			end = p + strlen(p);
		n = (size_t)(end - start);
		p = end;
		trailing = false;
		if (n == 1 && start[0] == '.') {
			trailing = true;
		} else if (n == 2 && start[0] == '.' && start[1] == '.') {
			if (nseg)
				nseg--;
			trailing = true;
		} else {
			seg[nseg] = start;
			seglen[nseg] = n;
			nseg++;
		}
	}
	pf_buf_init(&b);
	for (size_t i = 0; i < nseg; i++) {
		pf_buf_append(&b, "/", 1);
		pf_buf_append(&b, seg[i], seglen[i]);
	}
	if (nseg == 0 || trailing)
		pf_buf_append(&b, "/", 1);
	free(seg);
	free(seglen);
	return pf_buf_steal(&b, NULL);
}

/* S3: the path was encoded once by the caller and is signed as sent. Bytes
 * that should have been encoded but were not are encoded here (S3 decodes
 * and re-encodes the path the same way), escapes get upper-case hex, and
 * nothing else changes: no dot segments removed, no slashes collapsed. */
static void append_s3_path(struct pf_buf *b, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c == '%' && i + 2 < len &&
		    pf_codec_hex_digit((unsigned char)path[i + 1]) >= 0 &&
		    pf_codec_hex_digit((unsigned char)path[i + 2]) >= 0) {
			char enc[3] = {'%', (char)toupper((unsigned char)path[i + 1]),
			               (char)toupper((unsigned char)path[i + 2])};

			pf_buf_append(b, enc, sizeof(enc));
			i += 2;
		} else {
			pf_codec_uri_encode_append(b, &path[i], 1, true);
		}
	}
}

static void append_canonical_path(struct pf_buf *b, const char *path,
                                  const struct pf_sigv4_params *params)
{
	char *norm;

	if (params->s3) {
		append_s3_path(b, path);
		return;
	}
	if (params->no_path_normalize) {
		pf_codec_uri_encode_append(b, path, strlen(path), true);
		return;
	}
	norm = normalize_path(path);
	pf_codec_uri_encode_append(b, norm, strlen(norm), true);
	free(norm);
}

/* ---- query ---------------------------------------------------------------- */

static const char *const reserved_params[] = {
    "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",      "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
};

static void add_param(struct canon_param **params, size_t *n, size_t *cap, const char *name,
                      size_t name_len, const char *value, size_t value_len, bool decode)
{
	struct pf_buf raw, enc;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*params = pf_xrealloc(*params, *cap * sizeof(**params));
	}
	pf_buf_init(&raw);
	pf_buf_init(&enc);
	if (decode) {
		append_decoded(&raw, name, name_len);
		pf_codec_uri_encode_append(&enc, raw.data ? raw.data : "", raw.len, false);
	} else {
		pf_codec_uri_encode_append(&enc, name, name_len, false);
	}
	(*params)[*n].name = pf_buf_steal(&enc, NULL);
	raw.len = 0;
	if (decode) {
		append_decoded(&raw, value, value_len);
		pf_codec_uri_encode_append(&enc, raw.data ? raw.data : "", raw.len, false);
	} else {
		pf_codec_uri_encode_append(&enc, value, value_len, false);
	}
	(*params)[*n].value = pf_buf_steal(&enc, NULL);
	(*n)++;
	pf_buf_free(&raw);
}

static int param_cmp(const void *a, const void *b)
{
	const struct canon_param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

static void free_params(struct canon_param *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

/* Splits the wire query into parameters; with presign, refuses the names
 * the signer itself adds so that a URL never carries two signatures. */
static int parse_query(const char *query, bool presign, struct canon_param **params, size_t *n,
                       size_t *cap, struct pf_error *err)
{
	const char *p = query ? query : "";

	for (const char *q = p; *q; q++) {
		if (is_ctl((unsigned char)*q) || *q == '#')
			return pf_error_set(err, PF_EINVAL,
			                    "sigv4: query contains a control character or '#'");
	}
	while (*p) {
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *vstart = eq ? eq + 1 : end;
		size_t nlen = (size_t)((eq ? eq : end) - p);

		if (end > p) {
			if (presign) {
				struct pf_buf dec;
				bool clash = false;

				pf_buf_init(&dec);
				append_decoded(&dec, p, nlen);
				for (size_t i = 0; dec.data && i < sizeof(reserved_params) /
				                                       sizeof(reserved_params[0]);
				     i++) {
					if (strcasecmp(dec.data, reserved_params[i]) == 0)
						clash = true;
				}
				pf_buf_free(&dec);
				if (clash)
					return pf_error_set(err, PF_EINVAL,
					                    "sigv4: query already has an X-Amz-* "
					                    "parameter that presigning adds");
			}
			add_param(params, n, cap, p, nlen, vstart, (size_t)(end - vstart), true);
		}
		p = amp ? amp + 1 : end;
	}
	return 0;
}

static void append_query(struct pf_buf *b, struct canon_param *params, size_t n)
{
	if (n > 1)
		qsort(params, n, sizeof(*params), param_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			pf_buf_append(b, "&", 1);
		pf_buf_append_str(b, params[i].name);
		pf_buf_append(b, "=", 1);
		pf_buf_append_str(b, params[i].value);
	}
}

/* ---- headers ---------------------------------------------------------------- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims, unfolds obsolete line folding (CRLF or LF followed by SP/HT) and
 * collapses whitespace runs to one space. Any other CR, LF or control byte
 * is refused: on the wire it would end the header or inject another. */
static int canonical_value(const char *v, char **out, const char *name, struct pf_error *err)
{
	struct pf_buf b;
	bool space = false;

	pf_buf_init(&b);
	pf_buf_reserve(&b, strlen(v));
	for (size_t i = 0; v[i]; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\r' && v[i + 1] == '\n' && is_ws(v[i + 2])) {
			i++;
			space = true;
		} else if (c == '\n' && is_ws(v[i + 1])) {
			space = true;
		} else if (is_ws((char)c)) {
			space = true;
		} else if (is_ctl(c)) {
			pf_buf_free(&b);
			return pf_error_set(
			    err, PF_EINVAL,
			    "sigv4: header %.64s value contains a control character or "
			    "a line break not followed by whitespace",
			    name);
		} else {
			if (space && b.len)
				pf_buf_append(&b, " ", 1);
			space = false;
			pf_buf_append(&b, &v[i], 1);
		}
	}
	*out = pf_buf_steal(&b, NULL);
	return 0;
}

static int header_cmp(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void free_headers(struct canon_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* Names the signer adds itself; the caller passing them too would produce
 * two values and a signature over the wrong one. */
static int check_reserved_header(const char *lower, bool presign, bool adds_sha256,
                                 struct pf_error *err)
{
	if (strcmp(lower, "authorization") == 0 || strcmp(lower, "x-amz-date") == 0 ||
	    strcmp(lower, "x-amz-security-token") == 0)
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: header %s is added by the signer; do not pass it",
		                    lower);
	if (!presign && adds_sha256 && strcmp(lower, "x-amz-content-sha256") == 0)
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: header x-amz-content-sha256 is added by the signer; "
		                    "pass payload_hash instead");
	return 0;
}

static int collect_headers(const struct pf_sigv4_request *req, bool presign, bool adds_sha256,
                           struct canon_header *h, size_t *nh, struct pf_error *err)
{
	bool have_host = false;
	int rc;

	for (size_t i = 0; i < req->nheaders; i++) {
		const char *name = req->headers[i].name;
		const char *value = req->headers[i].value;
		size_t n = name ? strlen(name) : 0;
		char *lower;

		if (n == 0 || n > 256)
			return pf_error_set(err, PF_EINVAL,
			                    "sigv4: header %zu has an empty or "
			                    "over-long name",
			                    i);
		for (size_t j = 0; j < n; j++) {
			if (!is_tchar((unsigned char)name[j]))
				return pf_error_set(err, PF_EINVAL,
				                    "sigv4: header %zu name contains a control "
				                    "character, whitespace or separator",
				                    i);
		}
		lower = pf_xstrndup(name, n);
		for (size_t j = 0; j < n; j++) {
			if (lower[j] >= 'A' && lower[j] <= 'Z')
				lower[j] = (char)(lower[j] - 'A' + 'a');
		}
		rc = check_reserved_header(lower, presign, adds_sha256, err);
		if (rc == 0)
			rc = canonical_value(value ? value : "", &h[*nh].value, lower, err);
		if (rc) {
			free(lower);
			return rc;
		}
		if (strcmp(lower, "host") == 0)
			have_host = true;
		h[*nh].name = lower;
		h[*nh].order = *nh;
		(*nh)++;
	}
	if (!have_host)
		return pf_error_set(err, PF_EINVAL, "sigv4: the Host header is required");
	return 0;
}

static void add_header(struct canon_header *h, size_t *nh, const char *name, const char *value)
{
	h[*nh].name = pf_xstrdup(name);
	h[*nh].value = pf_xstrdup(value);
	h[*nh].order = *nh;
	(*nh)++;
}

/* Appends the canonical header block and fills signed with "a;b;c". */
static void append_headers(struct pf_buf *b, struct pf_buf *signed_names, struct canon_header *h,
                           size_t nh)
{
	if (nh > 1)
		qsort(h, nh, sizeof(*h), header_cmp);
	for (size_t i = 0; i < nh; i++) {
		bool same = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;

		if (same) {
			pf_buf_append(b, ",", 1);
		} else {
			if (i > 0)
				pf_buf_append(b, "\n", 1);
			pf_buf_append_str(b, h[i].name);
			pf_buf_append(b, ":", 1);
			if (signed_names->len)
				pf_buf_append(signed_names, ";", 1);
			pf_buf_append_str(signed_names, h[i].name);
		}
		pf_buf_append_str(b, h[i].value);
	}
	if (nh)
		pf_buf_append(b, "\n", 1);
	if (!signed_names->data)
		pf_buf_reserve(signed_names, 0);
}

/* ---- signing ------------------------------------------------------------------ */

static void compute_signature(const char *secret, const char *date8,
                              const struct pf_sigv4_params *params, const char *sts, char out[65])
{
	unsigned char k[32], k2[32];
	char *key0 = pf_xasprintf("AWS4%s", secret);

	hmac_sha256(key0, strlen(key0), date8, 8, k);
	OPENSSL_cleanse(key0, strlen(key0));
	free(key0);
	hmac_sha256(k, sizeof(k), params->region, strlen(params->region), k2);
	hmac_sha256(k2, sizeof(k2), params->service, strlen(params->service), k);
	hmac_sha256(k, sizeof(k), "aws4_request", 12, k2);
	hmac_sha256(k2, sizeof(k2), sts, strlen(sts), k);
	pf_codec_hex_encode(k, sizeof(k), out);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(k2, sizeof(k2));
}

static void set_add_header(struct pf_sigv4_signed *out, const char *name, char *value)
{
	out->add_headers[out->nadd_headers].name = pf_xstrdup(name);
	out->add_headers[out->nadd_headers].value = value;
	out->nadd_headers++;
}

static int sign(const struct pf_sigv4_request *req, const struct pf_sigv4_params *params,
                const struct pf_sigv4_credentials *creds, bool presign, struct pf_sigv4_signed *out,
                struct pf_error *err)
{
	char amz_date[17], date8[9], payload[65], creq_hash[65], *scope = NULL;
	const char *payload_hash;
	bool adds_sha256, sign_token;
	struct canon_header *h = NULL;
	size_t nh = 0;
	struct canon_param *qp = NULL;
	size_t nqp = 0, qcap = 0;
	struct pf_buf creq, signed_names, sts, hblock;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	pf_buf_init(&creq);
	pf_buf_init(&signed_names);
	pf_buf_init(&sts);
	pf_buf_init(&hblock);
	if (!out)
		return pf_error_set(err, PF_EINVAL, "sigv4: no output given");
	rc = check_common(req, params, creds, presign, err);
	if (rc == 0)
		rc = check_path(req->path, err);
	if (rc)
		goto out;

	adds_sha256 = !presign && (params->s3 || params->add_content_sha256);
	sign_token = has_token(creds) && !params->omit_session_token;
	pf_sigv4_amz_date(params->time, amz_date);
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';
	scope = pf_xasprintf("%s/%s/%s/aws4_request", date8, params->region, params->service);

	if (req->payload_hash) {
		payload_hash = req->payload_hash;
	} else if (presign && params->s3) {
		payload_hash = PF_SIGV4_UNSIGNED_PAYLOAD;
	} else {
		pf_codec_sha256_hex(req->body, req->body_len, payload);
		payload_hash = payload;
	}

	h = pf_xcalloc(req->nheaders + 3, sizeof(*h));
	rc = collect_headers(req, presign, adds_sha256, h, &nh, err);
	if (rc)
		goto out;
	if (!presign) {
		add_header(h, &nh, "x-amz-date", amz_date);
		if (sign_token)
			add_header(h, &nh, "x-amz-security-token", creds->session_token);
		if (adds_sha256)
			add_header(h, &nh, "x-amz-content-sha256", payload_hash);
	}

	/* The signed header list is needed inside the canonical query when
	 * presigning, so the header block is built first. */
	append_headers(&hblock, &signed_names, h, nh);

	rc = parse_query(req->query, presign, &qp, &nqp, &qcap, err);
	if (rc)
		goto out;
	if (presign) {
		char *credential = pf_xasprintf("%s/%s", creds->access_key_id, scope);
		char expires[24];

		snprintf(expires, sizeof(expires), "%lld", (long long)params->expires);
		add_param(&qp, &nqp, &qcap, "X-Amz-Algorithm", 15, ALGORITHM, strlen(ALGORITHM),
		          false);
		add_param(&qp, &nqp, &qcap, "X-Amz-Credential", 16, credential, strlen(credential),
		          false);
		add_param(&qp, &nqp, &qcap, "X-Amz-Date", 10, amz_date, 16, false);
		add_param(&qp, &nqp, &qcap, "X-Amz-Expires", 13, expires, strlen(expires), false);
		add_param(&qp, &nqp, &qcap, "X-Amz-SignedHeaders", 19, signed_names.data,
		          signed_names.len, false);
		if (sign_token)
			add_param(&qp, &nqp, &qcap, "X-Amz-Security-Token", 20,
			          creds->session_token, strlen(creds->session_token), false);
		free(credential);
	}

	pf_buf_append_str(&creq, req->method);
	pf_buf_append(&creq, "\n", 1);
	append_canonical_path(&creq, req->path, params);
	pf_buf_append(&creq, "\n", 1);
	append_query(&creq, qp, nqp);
	pf_buf_append(&creq, "\n", 1);
	pf_buf_append(&creq, hblock.data ? hblock.data : "", hblock.len);
	pf_buf_append(&creq, "\n", 1);
	pf_buf_append(&creq, signed_names.data, signed_names.len);
	pf_buf_append(&creq, "\n", 1);
	pf_buf_append_str(&creq, payload_hash);

	pf_codec_sha256_hex(creq.data, creq.len, creq_hash);
	pf_buf_appendf(&sts, "%s\n%s\n%s\n%s", ALGORITHM, amz_date, scope, creq_hash);
	compute_signature(creds->secret_access_key, date8, params, sts.data, out->signature);

	if (presign) {
		struct pf_buf q;

		pf_buf_init(&q);
		append_query(&q, qp, nqp);
		if (has_token(creds) && !sign_token) {
			pf_buf_append_str(&q, "&X-Amz-Security-Token=");
			pf_codec_uri_encode_append(&q, creds->session_token,
			                           strlen(creds->session_token), false);
		}
		pf_buf_append_str(&q, "&X-Amz-Signature=");
		pf_buf_append_str(&q, out->signature);
		out->query = pf_buf_steal(&q, NULL);
	} else {
		set_add_header(out, "Authorization",
		               pf_xasprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		                            ALGORITHM, creds->access_key_id, scope,
		                            signed_names.data, out->signature));
		set_add_header(out, "X-Amz-Date", pf_xstrdup(amz_date));
		if (has_token(creds))
			set_add_header(out, "X-Amz-Security-Token",
			               pf_xstrdup(creds->session_token));
		if (adds_sha256)
			set_add_header(out, "X-Amz-Content-SHA256", pf_xstrdup(payload_hash));
	}
	out->canonical_request = pf_buf_steal(&creq, NULL);
	out->string_to_sign = pf_buf_steal(&sts, NULL);

out:
	free(scope);
	free_headers(h, nh);
	free_params(qp, nqp);
	pf_buf_free(&creq);
	pf_buf_free(&signed_names);
	pf_buf_free(&sts);
	pf_buf_free(&hblock);
	return rc;
}

int pf_sigv4_sign_headers(const struct pf_sigv4_request *req, const struct pf_sigv4_params *params,
                          const struct pf_sigv4_credentials *creds, struct pf_sigv4_signed *out,
                          struct pf_error *err)
{
	return sign(req, params, creds, false, out, err);
}

/* Whether the raw query already has a parameter the presigner adds: a URL
 * with two X-Amz-Signature values is ambiguous for whoever verifies it. */
static bool query_has_auth_param(const char *query)
{
	static const char *const names[] = {
	    "X-Amz-Algorithm=",     "X-Amz-Credential=", "X-Amz-Date=",          "X-Amz-Expires=",
	    "X-Amz-SignedHeaders=", "X-Amz-Signature=",  "X-Amz-Security-Token="};

	for (const char *p = query; p && *p;) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (!strncmp(p, names[i], strlen(names[i])))
				return true;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return false;
}

int pf_sigv4_presign(const struct pf_sigv4_request *req, const struct pf_sigv4_params *params,
                     const struct pf_sigv4_credentials *creds, struct pf_sigv4_signed *out,
                     struct pf_error *err)
{
	if (req && query_has_auth_param(req->query)) {
		memset(out, 0, sizeof(*out));
		return pf_error_set(err, PF_EINVAL,
		                    "sigv4: the query already has an X-Amz-* signing parameter");
	}
	return sign(req, params, creds, true, out, err);
}

void pf_sigv4_signed_free(struct pf_sigv4_signed *s)
{
	if (!s)
		return;
	free(s->canonical_request);
	free(s->string_to_sign);
	for (size_t i = 0; i < s->nadd_headers; i++) {
		free(s->add_headers[i].name);
		free(s->add_headers[i].value);
	}
	free(s->query);
	memset(s, 0, sizeof(*s));
}
