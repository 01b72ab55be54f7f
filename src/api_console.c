/*
 * The console: the built single-page app in PHOTOFINISH_CONSOLE_DIR, served
 * at /console/ on the daemon's own origin, so the session cookie and its
 * CSRF token work without CORS. Files are read whole (at most 16 MiB each)
 * from under that directory only: decoded paths with empty, "." or ".."
 * segments, dot files, backslashes or control characters are refused, and
 * the resolved path must stay inside the directory. A path that names no
 * file and has no extension is the app's own route: index.html answers it.
 * Every answer carries a strict Content-Security-Policy. Loop thread only.
 */
#include "api_int.h"

#include <errno.h>
#include <event2/http.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/endpoints.h"
#include "photofinish/codec.h"
#include "photofinish/config.h"
#include "photofinish/util.h"

#define MAX_FILE_BYTES (16 * 1024 * 1024)
#define MAX_PATH_BYTES 1024
#define PREFIX "/console/"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *content_type(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && !strcmp(path + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/* scheme://host[:port] of a URL, appended to b after a space. */
static void append_origin(struct pf_buf *b, const char *url)
{
	const char *host = url ? strstr(url, "://") : NULL;
	const char *end;

	if (!host)
		return;
	end = strchr(host + 3, '/');
	pf_buf_appendf(b, " %.*s", (int)(end ? end - url : (ptrdiff_t)strlen(url)), url);
}

static void append_bucket_origin(struct pf_buf *b, struct pf_aws *aws, const char *bucket)
{
	struct pf_endpoint_url u = {0};
	struct pf_error err;

	if (aws && bucket &&
	    pf_endpoints_url(pf_aws_endpoints(aws), PF_AWS_S3, bucket, "x", NULL, &u, &err) == 0)
		append_origin(b, u.url);
	pf_endpoint_url_free(&u);
}

/* The policy: the app's own files only, images also from where the photo
 * URLs point, and uploads straight to the ingress bucket. */
static const char *csp(struct pf_api *api)
{
	const struct pf_config *cfg = api->d.cfg;
	struct pf_buf b;

	if (api->console_csp)
		return api->console_csp;
	pf_buf_init(&b);
	pf_buf_append_str(&b, "default-src 'self'; script-src 'self'; style-src 'self'; "
	                      "img-src 'self' data: blob:");
	if (cfg->public_media_url)
		append_origin(&b, cfg->public_media_url);
	else
		append_bucket_origin(&b, api->d.aws, cfg->processed_bucket);
	pf_buf_append_str(&b, "; connect-src 'self'");
	append_bucket_origin(&b, api->d.aws, cfg->ingress_bucket);
	pf_buf_append_str(&b, "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
	                      "object-src 'none'");
	api->console_csp = pf_xstrdup(b.data);
	pf_buf_free(&b);
	return api->console_csp;
}

static void headers(struct pf_api_request *r)
{
	pf_api__set_header(r, "Content-Security-Policy", csp(r->api));
	pf_api__set_header(r, "X-Content-Type-Options", "nosniff");
	pf_api__set_header(r, "Referrer-Policy", "no-referrer");
	pf_api__set_header(r, "X-Frame-Options", "DENY");
}

/* Whether a decoded relative path may name a file of the app. */
static bool path_is_safe(const char *p, size_t len)
{
	const char *seg = p;

	if (len > MAX_PATH_BYTES || strlen(p) != len)
		return false; /* an encoded NUL */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
			return false;
	while (*seg) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		/* Empty segments (except a final '/'), ".", ".." and dot files. */
		if ((n == 0 && end) || (n > 0 && seg[0] == '.'))
			return false;
		if (!end)
			break;
		seg = end + 1;
	}
	return true;
}

/* Reads path when it is a regular file inside root; NULL otherwise
 * (*missing set when there is no such file). */
static char *read_inside(const char *root, const char *path, size_t *len, bool *missing)
{
	char real[PATH_MAX];
	size_t rn = strlen(root);
	struct stat st;
	char *data = NULL;
	ssize_t got = 0;
	int fd;

	*missing = false;
	if (!realpath(path, real)) {
		*missing = errno == ENOENT || errno == ENOTDIR;
		return NULL;
	}
	/* Symbolic links must not lead out of the directory. */
	if (strncmp(real, root, rn) != 0 || real[rn] != '/')
		return NULL;
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto out_close;
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
		*missing = S_ISDIR(st.st_mode);
		goto out_close;
	}
	data = pf_xmalloc((size_t)st.st_size + 1);
	while ((size_t)got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - (size_t)got);

		if (n <= 0)
			break;
		got += n;
	}
	if ((size_t)got != (size_t)st.st_size) {
		free(data);
		data = NULL;
		goto out_close;
	}
	*len = (size_t)got;
out_close:
	close(fd);
	return data;
}

static void serve(struct pf_api_request *r, const char *root, const char *rel, bool fallback)
{
	char *full = pf_xasprintf("%s/%s", root, *rel ? rel : "index.html");
	const char *last = strrchr(rel, '/');
	bool missing, index;
	size_t len = 0;
	char *data = read_inside(root, full, &len, &missing);
	char digest[65], etag[24];
	const char *inm;

	last = last ? last + 1 : rel;
	if (!data && missing && fallback && !strchr(last, '.')) {
		/* The app's own routes (/console/tagging) are index.html's. */
		free(full);
		serve(r, root, "", false);
		return;
	}
	if (!data) {
		free(full);
		pf_api__reply_error(r, 404, "not_found", "no such file of the console");
		return;
	}
	index = !strcmp(full + strlen(full) - strlen("index.html"), "index.html");
	pf_codec_sha256_hex(data, len, digest);
	snprintf(etag, sizeof(etag), "\"%.16s\"", digest);
	pf_api__set_header(r, "ETag", etag);
	/* Hashed asset names change with their content: cached for good. */
	pf_api__set_header(r, "Cache-Control",
	                   !strncmp(rel, "assets/", 7) && !index
	                       ? "public, max-age=31536000, immutable"
	                       : "no-cache");
	inm = pf_api__header(r, "If-None-Match");
	if (inm && strstr(inm, etag))
		pf_api__reply_empty(r, 304, "Not Modified");
	else
		pf_api__reply_bytes(r, 200, content_type(full), data, len);
	free(data);
	free(full);
}

static void get_console(struct pf_api_request *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	char root[PATH_MAX];
	char *rel;
	size_t len = 0;

	if (!path || strncmp(path, PREFIX, strlen(PREFIX)) != 0) {
		pf_api__set_header(r, "Location", PREFIX);
		pf_api__reply_empty(r, 308, "Permanent Redirect");
		return;
	}
	if (!realpath(r->api->d.cfg->console_dir, root)) {
		pf_api__reply_error(r, 404, "not_found", "the console is not built");
		return;
	}
	rel = evhttp_uridecode(path + strlen(PREFIX), 0, &len);
	if (!rel || !path_is_safe(rel, len)) {
		free(rel);
		pf_api__reply_error(r, 404, "not_found", "no such file of the console");
		return;
	}
	serve(r, root, rel, true);
	free(rel);
}

static bool console_admit(struct pf_api_request *r)
{
	const struct evhttp_uri *uri = r->req ? evhttp_request_get_evhttp_uri(r->req) : NULL;
	const char *path = uri ? evhttp_uri_get_path(uri) : "";

	size_t n = strlen("/console");

	/* "/consolex" is not the console's. */
	if (strncmp(path, "/console", n) != 0 || (path[n] != '\0' && path[n] != '/')) {
		pf_api__reply_error(r, 404, "not_found", "no such route");
		return false;
	}
	if (!r->api->d.cfg->console_dir) {
		pf_api__reply_error(r, 404, "not_found",
		                    "the console is not served (set PHOTOFINISH_CONSOLE_DIR)");
		return false;
	}
	headers(r);
	return true;
}

#define GET_HEAD (PF_METHOD_GET | PF_METHOD_HEAD)

static const struct pf_route console_routes[] = {
    {GET_HEAD, "/console", get_console},
    {GET_HEAD, "/console/{path*}", get_console},
};

const struct pf_api__surface pf_api__console_surface = {
    .prefix = "/console",
    .routes = console_routes,
    .nroutes = sizeof(console_routes) / sizeof(console_routes[0]),
    .other_route = "/console",
    .admit = console_admit,
    .not_found = "no such file of the console",
    .wrong_method = "the console is read with GET",
};
