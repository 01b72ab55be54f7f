/*
 * Endpoints: maps (service, bucket, key, query) to the URL, Host header and
 * signed path of a request. Regional AWS defaults unless AWS_ENDPOINT_URL or
 * a per-service override is set; S3 buckets are virtual-hosted against AWS
 * and path-style against overrides (emulators, gateways) or when the bucket
 * name has dots (a *.s3 wildcard certificate cannot match them).
 * Pure and read-only after construction: any thread.
 */
#include "photofinish/aws/endpoints.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

struct endpoint {
	char *scheme;    /* "https" or "http" */
	char *authority; /* host[:port] as given */
	char *base_path; /* "" or "/base" without a trailing slash */
	bool overridden;
};

struct pf_endpoints {
	char *region;
	char *dns_suffix;
	bool force_path_style;
	struct endpoint svc[PF_AWS_SERVICE_COUNT];
};

const char *pf_aws_service_name(enum pf_aws_service service)
{
	switch (service) {
	case PF_AWS_S3:
		return "s3";
	case PF_AWS_SQS:
		return "sqs";
	case PF_AWS_DYNAMODB:
		return "dynamodb";
	default:
		return "unknown";
	}
}

static bool region_is_valid(const char *r)
{
	size_t n = strlen(r);

	if (n < 2 || n > 40 || r[0] == '-' || r[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r[i];

		if (!(islower(c) || isdigit(c) || c == '-'))
			return false;
	}
	return true;
}

static bool authority_is_valid(const char *a, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		/* host names, IPv4, [IPv6] and :port; nothing that could smuggle
		 * userinfo ('@') or a path into the Host header */
		if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
		      c == '_'))
			return false;
	}
	return true;
}

static int parse_override(const char *url, struct endpoint *e, struct pf_error *err)
{
	const char *p = url;
	const char *slash;
	size_t blen;

	if (strncmp(p, "https://", 8) == 0) {
		e->scheme = pf_xstrdup("https");
		p += 8;
	} else if (strncmp(p, "http://", 7) == 0) {
		e->scheme = pf_xstrdup("http");
		p += 7;
	} else {
		return pf_error_set(err, PF_EINVAL,
		                    "endpoint URL %.200s: must start with http:// or https://",
		                    url);
	}
	slash = strchr(p, '/');
	if (!authority_is_valid(p, slash ? (size_t)(slash - p) : strlen(p)))
		return pf_error_set(err, PF_EINVAL, "endpoint URL %.200s: bad host", url);
	e->authority = slash ? pf_xstrndup(p, (size_t)(slash - p)) : pf_xstrdup(p);
	if (!slash) {
		e->base_path = pf_xstrdup("");
	} else {
		if (strpbrk(slash, "?#"))
			return pf_error_set(err, PF_EINVAL,
			                    "endpoint URL %.200s: no query or fragment allowed",
			                    url);
		blen = strlen(slash);
		while (blen > 0 && slash[blen - 1] == '/')
			blen--;
		e->base_path = pf_xstrndup(slash, blen);
	}
	e->overridden = true;
	return 0;
}

static const char *first_set(const char *a, const char *b)
{
	if (a && *a)
		return a;
	if (b && *b)
		return b;
	return NULL;
}

int pf_endpoints_new(const struct pf_endpoints_options *opts, struct pf_endpoints **out,
                     struct pf_error *err)
{
	struct pf_endpoints *ep;
	const char *overrides[PF_AWS_SERVICE_COUNT];
	int rc = 0;

	*out = NULL;
	if (!opts->region || !region_is_valid(opts->region))
		return pf_error_set(err, PF_EINVAL, "AWS region %.64s is not valid",
		                    opts->region ? opts->region : "(none)");
	ep = pf_xcalloc(1, sizeof(*ep));
	ep->region = pf_xstrdup(opts->region);
	ep->dns_suffix =
	    pf_xstrdup(strncmp(opts->region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com");
	ep->force_path_style = opts->s3_force_path_style;
	overrides[PF_AWS_S3] = first_set(opts->endpoint_url_s3, opts->endpoint_url);
	overrides[PF_AWS_SQS] = first_set(opts->endpoint_url_sqs, opts->endpoint_url);
	overrides[PF_AWS_DYNAMODB] = first_set(opts->endpoint_url_dynamodb, opts->endpoint_url);
	for (int s = 0; s < PF_AWS_SERVICE_COUNT; s++) {
		struct endpoint *e = &ep->svc[s];

		if (overrides[s]) {
			rc = parse_override(overrides[s], e, err);
			if (rc < 0)
				goto out_free;
			continue;
		}
		e->scheme = pf_xstrdup("https");
		e->authority = pf_xasprintf("%s.%s.%s", pf_aws_service_name((enum pf_aws_service)s),
		                            ep->region, ep->dns_suffix);
		e->base_path = pf_xstrdup("");
	}
	*out = ep;
	return 0;

out_free:
	pf_endpoints_free(ep);
	return rc;
}

void pf_endpoints_free(struct pf_endpoints *ep)
{
	if (!ep)
		return;
	for (int s = 0; s < PF_AWS_SERVICE_COUNT; s++) {
		free(ep->svc[s].scheme);
		free(ep->svc[s].authority);
		free(ep->svc[s].base_path);
	}
	free(ep->region);
	free(ep->dns_suffix);
	free(ep);
}

const char *pf_endpoints_region(const struct pf_endpoints *ep)
{
	return ep->region;
}

bool pf_endpoints_bucket_is_valid(const char *b)
{
	size_t n = b ? strlen(b) : 0;
	bool all_digits_dots = true;

	if (n < 3 || n > 63)
		return false;
	if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!(islower(c) || isdigit(c) || c == '.' || c == '-'))
			return false;
		if (c == '.' && (b[i + 1] == '.' || b[i + 1] == '-' || (i > 0 && b[i - 1] == '-')))
			return false;
		if (!(isdigit(c) || c == '.'))
			all_digits_dots = false;
	}
	/* looks like an IPv4 address */
	return !all_digits_dots;
}

bool pf_endpoints_s3_path_style(const struct pf_endpoints *ep, const char *bucket)
{
	return ep->force_path_style || ep->svc[PF_AWS_S3].overridden || strchr(bucket, '.') != NULL;
}

int pf_endpoints_url(const struct pf_endpoints *ep, enum pf_aws_service service, const char *bucket,
                     const char *key, const char *query, struct pf_endpoint_url *out,
                     struct pf_error *err)
{
	const struct endpoint *e;
	struct pf_buf path;
	char *enc;

	memset(out, 0, sizeof(*out));
	if ((int)service < 0 || service >= PF_AWS_SERVICE_COUNT)
		return pf_error_set(err, PF_EINVAL, "unknown AWS service");
	e = &ep->svc[service];
	pf_buf_init(&path);
	pf_buf_append_str(&path, e->base_path);
	if (service == PF_AWS_S3 && bucket) {
		if (!pf_endpoints_bucket_is_valid(bucket)) {
			pf_buf_free(&path);
			return pf_error_set(err, PF_EINVAL, "S3 bucket name %.70s is not valid",
			                    bucket);
		}
		if (pf_endpoints_s3_path_style(ep, bucket)) {
			out->host = pf_xstrdup(e->authority);
			pf_buf_appendf(&path, "/%s", bucket);
		} else {
			out->host = pf_xasprintf("%s.%s", bucket, e->authority);
		}
		if (key) {
			enc = pf_codec_uri_encode(key, strlen(key), true);
			pf_buf_appendf(&path, "/%s", enc);
			free(enc);
		}
	} else {
		out->host = pf_xstrdup(e->authority);
	}
	if (path.len == 0)
		pf_buf_append_str(&path, "/");
	out->path = pf_buf_steal(&path, NULL);
	out->url = pf_xasprintf("%s://%s%s%s%s", e->scheme, out->host, out->path,
	                        query && *query ? "?" : "", query && *query ? query : "");
	return 0;
}

void pf_endpoint_url_free(struct pf_endpoint_url *u)
{
	if (!u)
		return;
	free(u->url);
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}
