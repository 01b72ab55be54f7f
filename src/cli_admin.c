/*
 * photofinish admin: the operators' client of a daemon's admin API.
 *
 * A short-lived process, one request at a time, so it uses libcurl's easy
 * interface directly (the daemon's event loop rules do not apply here).
 * Guarantees: the token never comes from argv (the process list shows argv
 * to every user), is sent only to the URL given (redirects are not
 * followed) and is never printed; every answer is bounded in size; text
 * from the daemon is shown with control characters replaced, so a hostile
 * object key cannot drive the operator's terminal; destructive commands ask
 * for their confirmation before any request that destroys.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "photofinish/adminctl.h"
#include "photofinish/cli.h"
#include "photofinish/error.h"
#include "photofinish/util.h"

#ifndef PF_VERSION
#define PF_VERSION "0.0.0"
#endif

#define DEFAULT_URL "http://127.0.0.1:8080"
/* Largest answer read from the daemon: a page of 500 rows is far smaller. */
#define MAX_RESPONSE_BYTES (8 * 1024 * 1024)
#define MAX_TOKEN_FILE_BYTES 8192
/* --all follows cursors up to this many rows. */
#define MAX_ALL_ROWS 100000
#define WATCH_INTERVAL_MS 1000
/* watch keeps polling through this many failed polls in a row (a task
 * being replaced behind the load balancer answers 502/503 for a while). */
#define WATCH_MAX_FAILURES 60
#define ME "photofinish admin"

struct client {
	CURL *curl;
	char *base;  /* URL without a trailing '/' */
	char *auth;  /* "Authorization: Bearer ..." */
	bool json;   /* --json */
	int timeout; /* seconds per request */
};

/* An answer: status and the parsed body (NULL when not JSON). */
struct answer {
	long status;
	json_t *doc;
};

static void usage(FILE *out)
{
	fputs(
	    "Usage: photofinish admin [OPTIONS] COMMAND [ARGS]...\n"
	    "Operates a race through a photofinishd admin API.\n"
	    "\n"
	    "Commands:\n"
	    "  status                      queue depth, photos processed/failed/unmatched, ready\n"
	    "  unmatched [--limit N] [--all]  photos without a code (the tagging queue)\n"
	    "  failed [--limit N] [--all]  photos the pipeline refused, with the reason\n"
	    "  show ID|KEY                 one photo's record\n"
	    "  codes ID|KEY CODE...        replace a photo's codes (kept across reprocessing)\n"
	    "  codes ID|KEY --add CODE... [--remove CODE...]   edit them\n"
	    "  codes ID|KEY --none         remove every code (the photo becomes unmatched)\n"
	    "  delete ID|KEY... [--yes]    delete photos everywhere: variants, records, originals\n"
	    "  reprocess [--prefix P] [--watch]   queue every original again\n"
	    "  clear [--originals] [--yes-i-mean-it=RACE] [--watch]\n"
	    "                              delete every record and variant of the race; with\n"
	    "                              --originals the uploaded originals too\n"
	    "  erase CODE [--yes-i-mean-it=CODE] [--watch]\n"
	    "                              delete every photo tagged with a participant's code\n"
	    "  jobs [--limit N]            recent jobs of every task\n"
	    "  watch JOB                   follow a job until it ends\n"
	    "  audit [--limit N] [--all]   who did what, newest first\n"
	    "  credentials create NAME [--days N]   a photographer's upload credential\n"
	    "                              (1-90 days, default 14); the secret is shown once\n"
	    "  credentials list            photographers' credentials (never their secrets)\n"
	    "  credentials revoke NAME     revoke one; its sessions end within 30 s\n"
	    "  clock NAME SECONDS [--watch]   a photographer's camera clock offset (positive\n"
	    "                              when the camera was behind; |SECONDS| <= 604800);\n"
	    "                              reprocesses their photos to correct capture times\n"
	    "  claims [list] [--state S] [--limit N]   runners' \"this is me\" claims (pending,\n"
	    "                              approved or rejected)\n"
	    "  claims approve|reject ID    decide one: approve adds the code to the photo\n"
	    "\n"
	    "Options:\n"
	    "  --url URL          the daemon (PHOTOFINISH_ADMIN_URL, default " DEFAULT_URL ")\n"
	    "  --token-file PATH  file whose first line is the admin token\n"
	    "                     (PHOTOFINISH_ADMIN_TOKEN_FILE; else PHOTOFINISH_ADMIN_TOKEN)\n"
	    "  --json             the daemon's JSON, one document per line, for scripts\n"
	    "  --timeout SECONDS  per request, 1-3600 (default 30)\n"
	    "  --help             this text\n"
	    "\n"
	    "A KEY (the object key, or the file name a photographer gives) is looked up in the\n"
	    "catalog; several photos with that name are listed and nothing is done.\n"
	    "The token is never taken from the command line, where every user of the machine\n"
	    "could read it. Destructive commands ask on the terminal: delete asks y/N, clear\n"
	    "asks for the race name, erase for the code; without a terminal they need --yes or\n"
	    "--yes-i-mean-it=NAME and refuse otherwise.\n"
	    "watch draws a progress bar on a terminal and prints a plain line per change\n"
	    "otherwise.\n"
	    "\n"
	    "Exit status: 0 done (watch: the job finished); 1 the daemon refused or failed,\n"
	    "nothing matched, the job failed or was interrupted, or the operator declined;\n"
	    "2 bad arguments or configuration, or a confirmation missing or not matching.\n",
	    out);
}

/* ---------------------------------------------------------------- token -- */

static char *read_token_file(const char *path, struct pf_error *err)
{
	char buf[MAX_TOKEN_FILE_BYTES + 1];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char *token;

	if (fd < 0) {
		pf_error_set(err, PF_EIO, "cannot open the token file %s: %s", path,
		             strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pf_error_set(err, PF_EIO, "the token file %s is not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & 0077)
		fprintf(stderr,
		        ME ": warning: the token file %s can be read by others (chmod 600)\n",
		        path);
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	token = pf_adminctl_token_from_text(buf, len, err);
	if (!token)
		pf_error_prefix(err, "%s: ", path);
	memset(buf, 0, sizeof(buf));
	return token;
}

static char *load_token(const struct pf_adminctl_args *a, struct pf_error *err)
{
	const char *file = a->token_file ? a->token_file : getenv("PHOTOFINISH_ADMIN_TOKEN_FILE");
	const char *env = getenv("PHOTOFINISH_ADMIN_TOKEN");

	if (file && *file)
		return read_token_file(file, err);
	if (env && *env)
		return pf_adminctl_token_from_text(env, strlen(env), err);
	pf_error_set(err, PF_EINVAL,
	             "no admin token: set PHOTOFINISH_ADMIN_TOKEN or give --token-file");
	return NULL;
}

/* ----------------------------------------------------------------- HTTP -- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct pf_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > MAX_RESPONSE_BYTES)
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	pf_buf_append(b, data, n);
	return n;
}

static char *escape(struct client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *out = pf_xstrdup(e ? e : "");

	curl_free(e);
	return out;
}

/* One request. Network failures and bodies over the bound are errors;
 * any HTTP status is an answer. */
static int request(struct client *c, const char *method, const char *path, const json_t *body,
                   struct answer *ans, struct pf_error *err)
{
	struct curl_slist *headers = NULL;
	struct pf_buf resp;
	char *url = pf_xasprintf("%s%s", c->base, path);
	char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
	char curl_err[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	int status = 0;

	pf_buf_init(&resp);
	memset(ans, 0, sizeof(*ans));
	curl_easy_reset(c->curl);
	headers = curl_slist_append(headers, c->auth);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (payload)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)c->timeout);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "photofinish-admin/" PF_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, curl_err);
	if (payload) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	} else if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	}
	rc = curl_easy_perform(c->curl);
	if (rc == CURLE_WRITE_ERROR) {
		status = pf_error_set(err, PF_ETOOBIG, "the daemon's answer is over %d MiB",
		                      MAX_RESPONSE_BYTES / (1024 * 1024));
		goto out;
	}
	if (rc != CURLE_OK) {
		status = pf_error_set(err, PF_ENET, "%s: %s", c->base,
		                      *curl_err ? curl_err : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &ans->status);
	if (resp.len)
		ans->doc = json_loadb(resp.data, resp.len, 0, NULL);
out:
	curl_slist_free_all(headers);
	free(payload);
	free(url);
	pf_buf_free(&resp);
	return status;
}

/* The daemon's error message for a non-2xx answer, into err. */
static int answer_error(const struct answer *ans, struct pf_error *err)
{
	const json_t *e = json_object_get(ans->doc, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	struct pf_buf b;

	pf_buf_init(&b);
	pf_adminctl_sanitize(&b, msg ? msg : "no explanation given", 400);
	if (ans->status == 401)
		pf_error_set(err, PF_EINVAL, "the daemon refused the admin token (401)");
	else
		pf_error_set(err, ans->status == 404 ? PF_ENOTFOUND : PF_EAWS, "%ld %s: %s",
		             ans->status, code ? code : "error", b.data ? b.data : "");
	err->http_status = (int)ans->status;
	pf_buf_free(&b);
	return err->code;
}

/* A request that must answer 2xx with a JSON object; *doc is a new reference. */
static int call(struct client *c, const char *method, const char *path, const json_t *body,
                json_t **doc, struct pf_error *err)
{
	struct answer ans;

	*doc = NULL;
	if (request(c, method, path, body, &ans, err) < 0)
		return err->code;
	if (ans.status < 200 || ans.status > 299) {
		answer_error(&ans, err);
		json_decref(ans.doc);
		return err->code;
	}
	if (!json_is_object(ans.doc)) {
		json_decref(ans.doc);
		return pf_error_set(err, PF_EINVAL, "the daemon's answer to %s is not JSON", path);
	}
	*doc = ans.doc;
	return 0;
}

/* -------------------------------------------------------------- output -- */

static void print_json(const json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
	}
	free(s);
	fflush(stdout);
}

static const char *str(const json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

/* An integer or a string field as text ("-" when absent). */
static const char *text_of(const json_t *obj, const char *name, char buf[32])
{
	const json_t *v = json_object_get(obj, name);

	if (json_is_integer(v)) {
		snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "yes" : "no";
	return json_is_string(v) ? json_string_value(v) : "-";
}

/* One "label  value" line, the value sanitised. */
static void kv(const char *label, const char *value)
{
	struct pf_buf b;

	pf_buf_init(&b);
	pf_adminctl_sanitize(&b, value ? value : "-", 300);
	printf("%-12s %s\n", label, b.data ? b.data : "");
	pf_buf_free(&b);
}

static char *codes_text(const json_t *codes)
{
	struct pf_buf b;
	size_t i;
	const json_t *c;

	pf_buf_init(&b);
	json_array_foreach(codes, i, c)
	{
		if (i)
			pf_buf_append_str(&b, ", ");
		pf_buf_append_str(&b, json_is_string(c) ? json_string_value(c) : "?");
	}
	return b.data ? pf_buf_steal(&b, NULL) : pf_xstrdup("(none)");
}

static void print_table(struct pf_adminctl_table *t)
{
	struct pf_buf out;

	pf_buf_init(&out);
	pf_adminctl_table_render(t, &out);
	fwrite(out.data, 1, out.len, stdout);
	pf_buf_free(&out);
}

static void print_image(const json_t *img)
{
	char *codes = codes_text(json_object_get(img, "codes"));
	char *both;
	char line[160], b1[32], b2[32], b3[32];

	kv("id", str(img, "id"));
	kv("key", str(img, "key"));
	kv("status", str(img, "status"));
	both =
	    pf_xasprintf("%s (%s)", codes, str(img, "codesSource") ? str(img, "codesSource") : "-");
	kv("codes", both);
	free(both);
	kv("taken", str(img, "takenAt"));
	kv("processed", str(img, "processedAt"));
	snprintf(line, sizeof(line), "%sx%s px, %s bytes", text_of(img, "width", b1),
	         text_of(img, "height", b2), text_of(img, "size", b3));
	kv("size", line);
	if (str(img, "reason")) {
		kv("reason", str(img, "reason"));
		kv("message", str(img, "message"));
	}
	if (str(img, "fullsizeKey"))
		kv("fullsize", str(img, "fullsizeKey"));
	if (str(img, "thumbnailKey"))
		kv("thumbnail", str(img, "thumbnailKey"));
	if (str(img, "fullsizeWebpKey"))
		kv("webp full", str(img, "fullsizeWebpKey"));
	if (str(img, "thumbnailWebpKey"))
		kv("webp thumb", str(img, "thumbnailWebpKey"));
	free(codes);
}

/* --------------------------------------------------------- confirmation -- */

/* Reads one answer from the terminal; false when there is none. */
static bool ask(const char *prompt, char *line, size_t n)
{
	fputs(prompt, stderr);
	fflush(stderr);
	if (!fgets(line, (int)n, stdin))
		return false;
	return true;
}

/*
 * A confirmation: `given` (from --yes-i-mean-it) must equal expected; without
 * it the operator types it on a terminal. Returns 0 when confirmed, else the
 * exit status (2: missing or wrong on the command line, 1: declined).
 */
static int confirm_name(const char *given, const char *expected, const char *what)
{
	char line[1100];

	if (given) {
		if (pf_adminctl_confirmed(given, expected))
			return 0;
		fprintf(stderr, ME ": --yes-i-mean-it=%s does not match %s \"%s\"; nothing done\n",
		        given, what, expected);
		return PF_ADMINCTL_EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
		        ME ": this needs a confirmation: run it on a terminal, or pass "
		           "--yes-i-mean-it=%s; nothing done\n",
		        expected);
		return PF_ADMINCTL_EXIT_USAGE;
	}
	{
		char *prompt = pf_xasprintf("Type %s \"%s\" to confirm: ", what, expected);
		bool got = ask(prompt, line, sizeof(line));

		free(prompt);
		if (got && pf_adminctl_confirmed(line, expected))
			return 0;
	}
	fputs(ME ": not confirmed; nothing done\n", stderr);
	return PF_ADMINCTL_EXIT_FAILED;
}

/* ------------------------------------------------------------ commands -- */

static int fail(const struct pf_error *err)
{
	fprintf(stderr, ME ": %s\n", err->message);
	return err->code == PF_EINVAL && err->http_status == 0 ? PF_ADMINCTL_EXIT_USAGE
	                                                       : PF_ADMINCTL_EXIT_FAILED;
}

static int cmd_status(struct client *c)
{
	struct pf_error err;
	json_t *doc;
	const json_t *q, *n, *j;
	char b1[32], b2[32], b3[32], line[200];

	if (call(c, "GET", "/admin/status", NULL, &doc, &err) < 0)
		return fail(&err);
	if (c->json) {
		print_json(doc);
		json_decref(doc);
		return 0;
	}
	q = json_object_get(doc, "queue");
	n = json_object_get(doc, "counts");
	j = json_object_get(doc, "jobs");
	kv("race", str(doc, "race"));
	if (json_is_true(json_object_get(doc, "ready")))
		kv("ready", "yes");
	else {
		snprintf(line, sizeof(line), "no: %s",
		         str(doc, "reason") ? str(doc, "reason") : "?");
		kv("ready", line);
	}
	snprintf(line, sizeof(line), "%s waiting, %s in flight", text_of(q, "visible", b1),
	         text_of(q, "inFlight", b2));
	kv("queue", line);
	snprintf(line, sizeof(line), "%s processed, %s unmatched, %s failed",
	         text_of(n, "processed", b1), text_of(n, "unmatched", b2),
	         text_of(n, "failed", b3));
	kv("photos", line);
	snprintf(line, sizeof(line), "%s running", text_of(j, "running", b1));
	kv("jobs", line);
	kv("originals", str(doc, "ingressBucket"));
	kv("variants", str(doc, "processedBucket"));
	kv("task", str(doc, "task"));
	json_decref(doc);
	return 0;
}

/* unmatched / failed / audit: pages, one table (or JSON lines per page). */
static int cmd_listing(struct client *c, const struct pf_adminctl_args *a)
{
	static const char *const unmatched_h[] = {"ID", "KEY", "TAKEN"};
	static const char *const failed_h[] = {"ID", "KEY", "REASON", "MESSAGE"};
	static const char *const audit_h[] = {"AT", "WHO", "ACTION", "TARGET", "OUTCOME"};
	const char *route = a->cmd == PF_ADMINCTL_FAILED  ? "failed"
	                    : a->cmd == PF_ADMINCTL_AUDIT ? "audit"
	                                                  : "unmatched";
	const char *list_name = a->cmd == PF_ADMINCTL_AUDIT ? "entries" : "images";
	struct pf_adminctl_table t;
	char *cursor = NULL;
	size_t rows = 0;
	int status = 0;

	if (a->cmd == PF_ADMINCTL_FAILED)
		pf_adminctl_table_init(&t, 4, failed_h);
	else if (a->cmd == PF_ADMINCTL_AUDIT)
		pf_adminctl_table_init(&t, 5, audit_h);
	else
		pf_adminctl_table_init(&t, 3, unmatched_h);
	do {
		struct pf_error err;
		char *path, *enc = cursor ? escape(c, cursor) : NULL;
		char lim[32] = "";
		json_t *doc;
		const json_t *list, *row;
		size_t i;

		if (a->limit)
			snprintf(lim, sizeof(lim), "limit=%d", a->limit);
		path = pf_xasprintf("/admin/%s?%s%s%s", route, lim, enc && *lim ? "&" : "",
		                    enc ? "cursor=" : "");
		if (enc) {
			char *p2 = pf_xasprintf("%s%s", path, enc);

			free(path);
			path = p2;
		}
		free(enc);
		free(cursor);
		cursor = NULL;
		if (call(c, "GET", path, NULL, &doc, &err) < 0) {
			free(path);
			status = fail(&err);
			break;
		}
		free(path);
		list = json_object_get(doc, list_name);
		if (c->json)
			print_json(doc);
		json_array_foreach(list, i, row)
		{
			if (a->cmd == PF_ADMINCTL_FAILED) {
				const char *r[] = {str(row, "id"), str(row, "key"),
				                   str(row, "reason"), str(row, "message")};

				pf_adminctl_table_add(&t, r);
			} else if (a->cmd == PF_ADMINCTL_AUDIT) {
				char *target = NULL;
				char cnt[32];

				if (str(row, "code"))
					target =
					    pf_xasprintf("code %s (%s photos)", str(row, "code"),
					                 text_of(row, "count", cnt));
				else if (str(row, "key"))
					target = pf_xasprintf("%s", str(row, "key"));
				else if (str(row, "photo"))
					target = pf_xasprintf("%s", str(row, "photo"));
				else if (str(row, "job"))
					target = pf_xasprintf("job %s", str(row, "job"));
				{
					const char *r[] = {str(row, "at"), str(row, "who"),
					                   str(row, "action"), target,
					                   str(row, "outcome")};

					pf_adminctl_table_add(&t, r);
				}
				free(target);
			} else {
				const char *r[] = {str(row, "id"), str(row, "key"),
				                   str(row, "takenAt")};

				pf_adminctl_table_add(&t, r);
			}
			rows++;
		}
		if (a->all && str(doc, "nextCursor") && rows < MAX_ALL_ROWS)
			cursor = pf_xstrdup(str(doc, "nextCursor"));
		else if (!c->json && str(doc, "nextCursor") && !a->all)
			fprintf(stderr, "(more: use --all or a larger --limit)\n");
		json_decref(doc);
	} while (cursor);
	free(cursor);
	if (!c->json && status == 0) {
		print_table(&t);
		if (rows >= MAX_ALL_ROWS)
			fprintf(stderr, "(stopped at %d rows)\n", MAX_ALL_ROWS);
	}
	pf_adminctl_table_free(&t);
	return status;
}

/* The id of the photo an operator named by id or key. 1: not resolved (told). */
static int resolve_photo(struct client *c, const char *target, char id[33])
{
	struct pf_error err;
	json_t *doc;
	const json_t *images;
	const char *only;
	char *enc, *path;
	int rc;

	if (pf_adminctl_is_photo_id(target)) {
		memcpy(id, target, 33);
		return 0;
	}
	enc = escape(c, target);
	path = pf_xasprintf("/admin/images?key=%s", enc);
	free(enc);
	rc = call(c, "GET", path, NULL, &doc, &err);
	free(path);
	if (rc < 0) {
		fail(&err);
		return 1;
	}
	images = json_object_get(doc, "images");
	only = json_array_size(images) == 1 ? str(json_array_get(images, 0), "id") : NULL;
	if (only && pf_adminctl_is_photo_id(only)) {
		memcpy(id, only, 33);
		json_decref(doc);
		return 0;
	}
	if (json_array_size(images) == 0) {
		struct pf_buf b;

		pf_buf_init(&b);
		pf_adminctl_sanitize(&b, target, 200);
		fprintf(stderr, ME ": no photo has the key or file name \"%s\"\n", b.data);
		pf_buf_free(&b);
	} else {
		static const char *const h[] = {"ID", "KEY", "STATUS"};
		struct pf_adminctl_table t;
		size_t i;
		const json_t *img;

		fprintf(stderr,
		        ME ": %zu photos are called that; give the id of the one you mean:\n",
		        json_array_size(images));
		pf_adminctl_table_init(&t, 3, h);
		json_array_foreach(images, i, img)
		{
			const char *r[] = {str(img, "id"), str(img, "key"), str(img, "status")};

			pf_adminctl_table_add(&t, r);
		}
		{
			struct pf_buf out;

			pf_buf_init(&out);
			pf_adminctl_table_render(&t, &out);
			fwrite(out.data, 1, out.len, stderr);
			pf_buf_free(&out);
		}
		pf_adminctl_table_free(&t);
	}
	json_decref(doc);
	return 1;
}

static int cmd_show(struct client *c, const struct pf_adminctl_args *a)
{
	struct pf_error err;
	char id[33], path[64];
	json_t *doc;

	if (resolve_photo(c, a->target, id))
		return PF_ADMINCTL_EXIT_FAILED;
	snprintf(path, sizeof(path), "/admin/images/%s", id);
	if (call(c, "GET", path, NULL, &doc, &err) < 0)
		return fail(&err);
	if (c->json)
		print_json(doc);
	else
		print_image(doc);
	json_decref(doc);
	return 0;
}

static json_t *string_array(const char *const *v, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	return arr;
}

static int cmd_codes(struct client *c, const struct pf_adminctl_args *a)
{
	struct pf_error err;
	char id[33], path[80];
	json_t *body, *doc;
	int rc;

	if (resolve_photo(c, a->target, id))
		return PF_ADMINCTL_EXIT_FAILED;
	snprintf(path, sizeof(path), "/admin/images/%s/codes", id);
	if (a->codes_mode == PF_ADMINCTL_CODES_EDIT)
		body = json_pack("{s:o,s:o}", "add", string_array(a->add, a->nadd), "remove",
		                 string_array(a->remove, a->nremove));
	else
		body = json_pack("{s:o}", "codes", string_array(a->targets, a->ntargets));
	rc = call(c, a->codes_mode == PF_ADMINCTL_CODES_EDIT ? "PATCH" : "PUT", path, body, &doc,
	          &err);
	json_decref(body);
	if (rc < 0)
		return fail(&err);
	if (c->json) {
		print_json(doc);
	} else {
		char *codes = codes_text(json_object_get(doc, "codes"));

		kv("id", str(doc, "id"));
		kv("key", str(doc, "key"));
		kv("codes", codes);
		free(codes);
	}
	json_decref(doc);
	return 0;
}

static int cmd_delete(struct client *c, const struct pf_adminctl_args *a)
{
	char(*ids)[33] = pf_xcalloc(a->ntargets, sizeof(*ids));
	int status = 0;
	size_t failed = 0;

	/* Every name resolves before anything is deleted. */
	for (size_t i = 0; i < a->ntargets; i++) {
		if (resolve_photo(c, a->targets[i], ids[i])) {
			free(ids);
			return PF_ADMINCTL_EXIT_FAILED;
		}
	}
	if (!a->yes) {
		char line[64];

		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr,
			        ME
			        ": delete removes %zu photo(s) everywhere, originals included; run "
			        "it on a terminal or pass --yes; nothing done\n",
			        a->ntargets);
			free(ids);
			return PF_ADMINCTL_EXIT_USAGE;
		}
		fprintf(
		    stderr,
		    "Delete %zu photo(s) everywhere: variants, catalog records and the originals "
		    "in the ingress bucket? This cannot be undone.\n",
		    a->ntargets);
		if (!ask("Delete? [y/N] ", line, sizeof(line)) ||
		    (strcmp(line, "y\n") && strcmp(line, "yes\n") && strcmp(line, "y") &&
		     strcmp(line, "yes"))) {
			fputs(ME ": not confirmed; nothing done\n", stderr);
			free(ids);
			return PF_ADMINCTL_EXIT_FAILED;
		}
	}
	for (size_t i = 0; i < a->ntargets; i++) {
		struct pf_error err;
		char path[64];
		json_t *doc;

		snprintf(path, sizeof(path), "/admin/images/%s", ids[i]);
		if (call(c, "DELETE", path, NULL, &doc, &err) < 0) {
			fprintf(stderr, ME ": %s: %s\n", ids[i], err.message);
			failed++;
			continue;
		}
		if (c->json)
			print_json(doc);
		else
			printf("deleted %s %s\n", ids[i], str(doc, "key") ? str(doc, "key") : "");
		json_decref(doc);
	}
	free(ids);
	if (failed)
		status = PF_ADMINCTL_EXIT_FAILED;
	return status;
}

static int terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Polls a job until it ends: a bar on a terminal, plain lines otherwise. */
static int watch_job(struct client *c, const char *job_id)
{
	bool bar = !c->json && isatty(STDOUT_FILENO);
	char *enc = escape(c, job_id);
	char *path = pf_xasprintf("/admin/jobs/%s", enc);
	struct pf_adminctl_progress last = {0};
	int failures = 0;
	int status;

	free(enc);
	for (;;) {
		struct pf_adminctl_progress p;
		struct pf_error err;
		json_t *doc;
		struct pf_buf line;

		if (call(c, "GET", path, NULL, &doc, &err) < 0) {
			/* A job that is not there will not appear; anything else may pass. */
			if (err.code == PF_ENOTFOUND || err.http_status == 401 ||
			    ++failures > WATCH_MAX_FAILURES) {
				if (bar)
					fputs("\n", stdout);
				status = fail(&err);
				break;
			}
			sleep_ms(WATCH_INTERVAL_MS);
			continue;
		}
		failures = 0;
		if (pf_adminctl_progress_from_job(doc, &p, &err) < 0) {
			json_decref(doc);
			status = fail(&err);
			break;
		}
		pf_buf_init(&line);
		if (c->json) {
			if (memcmp(&p, &last, sizeof(p)))
				print_json(doc);
		} else if (bar) {
			pf_buf_append_str(&line, "\r");
			pf_adminctl_progress_bar(&line, &p, terminal_width());
			pf_buf_append_str(&line, "\033[K");
			fwrite(line.data, 1, line.len, stdout);
			fflush(stdout);
		} else if (p.done != last.done || strcmp(p.state, last.state) ||
		           strcmp(p.phase, last.phase) || pf_adminctl_progress_finished(&p)) {
			pf_adminctl_progress_line(&line, &p);
			fwrite(line.data, 1, line.len, stdout);
			fflush(stdout);
		}
		pf_buf_free(&line);
		json_decref(doc);
		last = p;
		if (pf_adminctl_progress_finished(&p)) {
			if (bar) {
				fputs("\n", stdout);
				if (*p.error)
					fprintf(stdout, "%s: %s\n", p.state, p.error);
			}
			status =
			    strcmp(p.state, "done") ? PF_ADMINCTL_EXIT_FAILED : PF_ADMINCTL_EXIT_OK;
			break;
		}
		sleep_ms(WATCH_INTERVAL_MS);
	}
	free(path);
	return status;
}

/* A job was started (202): tell, and follow it when asked. */
static int started(struct client *c, json_t *job, bool watch)
{
	const char *id = str(job, "id");
	int status = 0;

	if (!id || !pf_adminctl_is_job_id(id)) {
		fputs(ME ": the daemon's answer carries no job id\n", stderr);
		return PF_ADMINCTL_EXIT_FAILED;
	}
	if (c->json)
		print_json(job);
	else if (!watch)
		printf("started %s job %s\nfollow it with: photofinish admin watch %s\n",
		       str(job, "kind") ? str(job, "kind") : "a", id, id);
	if (watch) {
		char *keep = pf_xstrdup(id);

		status = watch_job(c, keep);
		free(keep);
	}
	return status;
}

/* POSTs body (taken) to a route that starts a job and reports the job. */
static int start_job(struct client *c, const char *path, json_t *body, bool watch)
{
	struct pf_error err;
	json_t *job;
	int rc = call(c, "POST", path, body, &job, &err);

	json_decref(body);
	if (rc < 0)
		return fail(&err);
	rc = started(c, job, watch);
	json_decref(job);
	return rc;
}

static int cmd_reprocess(struct client *c, const struct pf_adminctl_args *a)
{
	json_t *body = a->prefix ? json_pack("{s:s}", "prefix", a->prefix) : json_object();

	return start_job(c, "/admin/reprocess", body, a->watch);
}

static int cmd_clear(struct client *c, const struct pf_adminctl_args *a)
{
	struct pf_error err;
	json_t *st, *body;
	const char *race, *ingress, *processed;
	char n1[32], n2[32], n3[32];
	const json_t *counts;
	int rc;

	/* The names to confirm come from the daemon: what it would destroy. */
	if (call(c, "GET", "/admin/status", NULL, &st, &err) < 0)
		return fail(&err);
	race = str(st, "race");
	ingress = str(st, "ingressBucket");
	processed = str(st, "processedBucket");
	counts = json_object_get(st, "counts");
	if (!race || !ingress || !processed) {
		json_decref(st);
		fputs(ME ": the daemon's status does not name the race and its buckets\n", stderr);
		return PF_ADMINCTL_EXIT_FAILED;
	}
	fprintf(stderr, "This deletes, for race \"%s\":\n", race);
	fprintf(stderr,
	        "  - every photo record in table %s (%s processed, %s unmatched, %s failed; the "
	        "jobs and the audit trail stay)\n",
	        race, text_of(counts, "processed", n1), text_of(counts, "unmatched", n2),
	        text_of(counts, "failed", n3));
	fprintf(stderr, "  - every variant in the processed bucket %s\n", processed);
	if (a->originals)
		fprintf(stderr,
		        "  - EVERY ORIGINAL in the ingress bucket %s: photographers must upload "
		        "again\n",
		        ingress);
	else
		fprintf(stderr, "The originals in %s stay; `reprocess` rebuilds everything.\n",
		        ingress);
	rc = confirm_name(a->confirm, race, "the race name");
	if (rc) {
		json_decref(st);
		return rc;
	}
	body = a->originals ? json_pack("{s:s,s:b,s:s}", "confirm", race, "originals", 1,
	                                "confirmOriginals", ingress)
	                    : json_pack("{s:s}", "confirm", race);
	json_decref(st);
	return start_job(c, "/admin/clear", body, a->watch);
}

static int cmd_erase(struct client *c, const struct pf_adminctl_args *a)
{
	struct pf_error err;
	char *enc = escape(c, a->target);
	char *path = pf_xasprintf("/admin/codes/%s", enc);
	json_t *info, *body;
	const char *code;
	char n1[32], n2[32];
	int rc;

	free(enc);
	rc = call(c, "GET", path, NULL, &info, &err);
	free(path);
	if (rc < 0)
		return fail(&err);
	code = str(info, "code");
	if (!code) {
		json_decref(info);
		fputs(ME ": the daemon's answer names no code\n", stderr);
		return PF_ADMINCTL_EXIT_FAILED;
	}
	if (json_integer_value(json_object_get(info, "photos")) == 0) {
		printf("no photo is tagged %s; nothing to erase\n", code);
		json_decref(info);
		return 0;
	}
	fprintf(stderr,
	        "This deletes %s photo(s) tagged %s everywhere (variants, records, originals);\n"
	        "%s of them also show other participants, whose pages lose them too.\n",
	        text_of(info, "photos", n1), code, text_of(info, "shared", n2));
	rc = confirm_name(a->confirm, code, "the code");
	if (rc) {
		json_decref(info);
		return rc;
	}
	body = json_pack("{s:s,s:s}", "code", code, "confirm", code);
	json_decref(info);
	return start_job(c, "/admin/erase", body, a->watch);
}

static int cmd_jobs(struct client *c, const struct pf_adminctl_args *a)
{
	static const char *const h[] = {"ID", "KIND", "STATE", "PROGRESS", "BY", "STARTED"};
	struct pf_error err;
	struct pf_adminctl_table t;
	char path[64];
	json_t *doc;
	const json_t *jobs, *j;
	size_t i;

	if (a->limit)
		snprintf(path, sizeof(path), "/admin/jobs?limit=%d", a->limit);
	else
		snprintf(path, sizeof(path), "/admin/jobs");
	if (call(c, "GET", path, NULL, &doc, &err) < 0)
		return fail(&err);
	if (c->json) {
		print_json(doc);
		json_decref(doc);
		return 0;
	}
	jobs = json_object_get(doc, "jobs");
	pf_adminctl_table_init(&t, 6, h);
	json_array_foreach(jobs, i, j)
	{
		struct pf_adminctl_progress p;
		struct pf_buf prog;

		pf_buf_init(&prog);
		if (pf_adminctl_progress_from_job(j, &p, &err) == 0) {
			if (p.total >= 0)
				pf_buf_appendf(&prog, "%" PRId64 "/%" PRId64, p.done, p.total);
			else
				pf_buf_appendf(&prog, "%" PRId64, p.done);
		}
		{
			const char *r[] = {str(j, "id"), str(j, "kind"), str(j, "state"),
			                   prog.data,    str(j, "by"),   str(j, "startedAt")};

			pf_adminctl_table_add(&t, r);
		}
		pf_buf_free(&prog);
	}
	print_table(&t);
	pf_adminctl_table_free(&t);
	json_decref(doc);
	return 0;
}

static int cmd_credentials(struct client *c, const struct pf_adminctl_args *a)
{
	static const char *const h[] = {"PHOTOGRAPHER", "CREATED", "EXPIRES", "BY", "EXPIRED"};
	struct pf_error err;
	struct pf_adminctl_table t;
	json_t *doc = NULL;
	const json_t *rows, *row;
	char buf[32];
	size_t i;
	int rc;

	if (!strcmp(a->action, "create")) {
		json_t *body = json_pack("{s:s}", "photographer", a->target);

		if (a->days)
			json_object_set_new(body, "expiresInDays", json_integer(a->days));
		rc = call(c, "POST", "/admin/credentials", body, &doc, &err);
		json_decref(body);
		if (rc < 0)
			return fail(&err);
		if (c->json) {
			print_json(doc);
		} else {
			kv("photographer", str(doc, "photographer"));
			kv("secret", str(doc, "secret"));
			kv("expires", str(doc, "expiresAt"));
			puts("The secret is shown only now: hand it to the photographer, who signs "
			     "in "
			     "at /console/ with it.");
		}
	} else if (!strcmp(a->action, "revoke")) {
		char *path = pf_xasprintf("/admin/credentials/%s", a->target);

		rc = call(c, "DELETE", path, NULL, &doc, &err);
		free(path);
		if (rc < 0)
			return fail(&err);
		if (c->json)
			print_json(doc);
		else
			kv("revoked", str(doc, "photographer"));
	} else {
		if (call(c, "GET", "/admin/credentials", NULL, &doc, &err) < 0)
			return fail(&err);
		if (c->json) {
			print_json(doc);
			json_decref(doc);
			return 0;
		}
		rows = json_object_get(doc, "credentials");
		pf_adminctl_table_init(&t, 5, h);
		json_array_foreach(rows, i, row)
		{
			const char *r[] = {str(row, "photographer"), str(row, "createdAt"),
			                   str(row, "expiresAt"), str(row, "by"),
			                   text_of(row, "expired", buf)};

			pf_adminctl_table_add(&t, r);
		}
		print_table(&t);
		pf_adminctl_table_free(&t);
	}
	json_decref(doc);
	return 0;
}

/* The offset is stored and a reprocess of the photographer's uploads corrects
 * the capture times already in the catalog. */
static int cmd_clock(struct client *c, const struct pf_adminctl_args *a)
{
	struct pf_error err;
	json_t *body = json_pack("{s:I}", "offsetSeconds", (json_int_t)a->offset_s);
	char *path = pf_xasprintf("/admin/photographers/%s/clock", a->target);
	json_t *doc;
	const char *job_id;
	char buf[32];
	int rc = call(c, "PUT", path, body, &doc, &err);

	free(path);
	json_decref(body);
	if (rc < 0)
		return fail(&err);
	job_id = str(json_object_get(doc, "job"), "id");
	if (!job_id || !pf_adminctl_is_job_id(job_id)) {
		json_decref(doc);
		fputs(ME ": the daemon's answer carries no job id\n", stderr);
		return PF_ADMINCTL_EXIT_FAILED;
	}
	if (c->json) {
		print_json(doc);
	} else {
		kv("photographer", str(doc, "photographer"));
		kv("offset", text_of(doc, "offsetSeconds", buf));
		if (!a->watch)
			printf(
			    "reprocessing their photos: job %s\nfollow it with: photofinish admin "
			    "watch %s\n",
			    job_id, job_id);
	}
	if (a->watch) {
		char *keep = pf_xstrdup(job_id);

		rc = watch_job(c, keep);
		free(keep);
	}
	json_decref(doc);
	return rc;
}

static int cmd_claims(struct client *c, const struct pf_adminctl_args *a)
{
	static const char *const h[] = {"ID", "CODE", "PHOTO", "KEY", "STATE", "AT"};
	struct pf_error err;
	struct pf_adminctl_table t;
	json_t *doc = NULL;
	const json_t *rows, *row;
	size_t i;

	if (strcmp(a->action, "list")) {
		char *path = pf_xasprintf("/admin/claims/%s/%s", a->target, a->action);
		json_t *body = json_object();
		int rc = call(c, "POST", path, body, &doc, &err);
		const json_t *claim;

		free(path);
		json_decref(body);
		if (rc < 0)
			return fail(&err);
		claim = json_object_get(doc, "claim");
		if (c->json) {
			print_json(doc);
		} else {
			kv("claim", str(claim, "id"));
			kv("code", str(claim, "code"));
			kv("photo", str(claim, "photo"));
			kv("state", str(claim, "state"));
		}
		json_decref(doc);
		return 0;
	}
	{
		char *path =
		    pf_xasprintf("/admin/claims?state=%s&limit=%d", a->state ? a->state : "pending",
		                 a->limit ? a->limit : 100);
		int rc = call(c, "GET", path, NULL, &doc, &err);

		free(path);
		if (rc < 0)
			return fail(&err);
	}
	if (c->json) {
		print_json(doc);
		json_decref(doc);
		return 0;
	}
	rows = json_object_get(doc, "claims");
	pf_adminctl_table_init(&t, 6, h);
	json_array_foreach(rows, i, row)
	{
		const json_t *img = json_object_get(row, "image");
		const char *r[] = {str(row, "id"),  str(row, "code"),  str(row, "photo"),
		                   str(img, "key"), str(row, "state"), str(row, "at")};

		pf_adminctl_table_add(&t, r);
	}
	print_table(&t);
	pf_adminctl_table_free(&t);
	json_decref(doc);
	return 0;
}

static int run(struct client *c, const struct pf_adminctl_args *a)
{
	switch (a->cmd) {
	case PF_ADMINCTL_STATUS:
		return cmd_status(c);
	case PF_ADMINCTL_UNMATCHED:
	case PF_ADMINCTL_FAILED:
	case PF_ADMINCTL_AUDIT:
		return cmd_listing(c, a);
	case PF_ADMINCTL_SHOW:
		return cmd_show(c, a);
	case PF_ADMINCTL_CODES:
		return cmd_codes(c, a);
	case PF_ADMINCTL_DELETE:
		return cmd_delete(c, a);
	case PF_ADMINCTL_REPROCESS:
		return cmd_reprocess(c, a);
	case PF_ADMINCTL_CLEAR:
		return cmd_clear(c, a);
	case PF_ADMINCTL_ERASE:
		return cmd_erase(c, a);
	case PF_ADMINCTL_JOBS:
		return cmd_jobs(c, a);
	case PF_ADMINCTL_WATCH:
		return watch_job(c, a->target);
	case PF_ADMINCTL_CREDENTIALS:
		return cmd_credentials(c, a);
	case PF_ADMINCTL_CLOCK:
		return cmd_clock(c, a);
	case PF_ADMINCTL_CLAIMS:
		return cmd_claims(c, a);
	default:
		return PF_ADMINCTL_EXIT_USAGE;
	}
}

int pf_cli_admin(int argc, char **argv)
{
	struct pf_adminctl_args a;
	struct pf_error err;
	struct client c = {0};
	const char *url;
	char *token = NULL;
	size_t n;
	int status = PF_ADMINCTL_EXIT_USAGE;

	pf_error_clear(&err);
	if (pf_adminctl_parse_args(argc, argv, &a, &err) < 0) {
		fprintf(stderr, ME ": %s\n", err.message);
		return PF_ADMINCTL_EXIT_USAGE;
	}
	if (a.help) {
		usage(stdout);
		pf_adminctl_args_free(&a);
		return 0;
	}
	url = a.url ? a.url : getenv("PHOTOFINISH_ADMIN_URL");
	if (!url || !*url)
		url = DEFAULT_URL;
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		fprintf(stderr, ME ": PHOTOFINISH_ADMIN_URL must start with http:// or https://\n");
		goto out;
	}
	token = load_token(&a, &err);
	if (!token) {
		fprintf(stderr, ME ": %s\n", err.message);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs(ME ": cannot initialise libcurl\n", stderr);
		status = PF_ADMINCTL_EXIT_FAILED;
		goto out;
	}
	c.curl = curl_easy_init();
	if (!c.curl) {
		fputs(ME ": cannot initialise libcurl\n", stderr);
		status = PF_ADMINCTL_EXIT_FAILED;
		goto out_global;
	}
	c.base = pf_xstrdup(url);
	n = strlen(c.base);
	while (n > 0 && c.base[n - 1] == '/')
		c.base[--n] = '\0';
	c.auth = pf_xasprintf("Authorization: Bearer %s", token);
	c.json = a.json;
	c.timeout = a.timeout_s;
	status = run(&c, &a);
	memset(c.auth, 0, strlen(c.auth));
	free(c.auth);
	free(c.base);
	curl_easy_cleanup(c.curl);
out_global:
	curl_global_cleanup();
out:
	if (token)
		memset(token, 0, strlen(token));
	free(token);
	pf_adminctl_args_free(&a);
	return status;
}
