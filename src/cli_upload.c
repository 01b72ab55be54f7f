/*
 * photofinish upload: photos from local files and directory trees to the
 * ingress bucket, where their S3 event notifications start the pipeline.
 *
 * Main thread only: one libevent loop drives up to --parallel uploads at once
 * through the asynchronous AWS client. Guarantees: a file is read only when
 * its upload starts, and a multipart upload holds one part in memory, so at
 * most --parallel parts or small files are in memory at a time; an object
 * already in the bucket with the same size is skipped (unless --force), so an
 * interrupted run can simply be started again; a multipart upload that fails
 * is aborted so that no orphaned parts are left to pay for.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/s3.h"
#include "photofinish/cli.h"
#include "photofinish/config.h"
#include "photofinish/error.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

#define UPLOAD_PART_SIZE ((int64_t)16 * 1024 * 1024)
#define UPLOAD_MAX_PARTS 10000
#define UPLOAD_MAX_KEY 1024
#define UPLOAD_MAX_DEPTH 128
#define UPLOAD_DEFAULT_PARALLEL 4
#define UPLOAD_MAX_PARALLEL 64
#define UPLOAD_PROGRESS_MS 250

/* One photo found on disk. */
struct upload_file {
	char *path; /* as opened: the argument joined with the relative path */
	char *key;  /* object key: prefix + relative path with '/' separators */
	int64_t size;
};

struct upload_list {
	struct upload_file *files;
	size_t n, cap;
	size_t ignored; /* files without an image suffix inside walked directories */
};

enum upload_status { UPLOAD_UPLOADED, UPLOAD_SKIPPED, UPLOAD_FAILED };

struct uploader {
	struct pf_aws *aws;
	const char *bucket;
	struct upload_list *list;
	size_t next;     /* index of the next file to start */
	int active;      /* uploads in flight */
	int remaining;   /* files not finished yet; pf_aws_wait runs until 0 */
	int parallel;    /* most uploads in flight */
	bool force;      /* upload even when an object of the same size exists */
	bool progress;   /* progress bar on stderr instead of JSON lines on stdout */
	bool pumping;    /* inside pump(): a finishing upload must not recurse */
	bool bar_drawn;  /* the bar is on the terminal's current line */
	bool closing;    /* pf_aws_free is cancelling what is left: report nothing */
	int interrupted; /* the signal that asked us to stop, 0 if none */
	size_t uploaded, skipped, failed;
	int64_t bytes_total;  /* of every file found */
	int64_t bytes_done;   /* uploaded or skipped so far (parts count as they finish) */
	int64_t bytes_sent;   /* uploaded so far: the transfer rate */
	int64_t started_ms;   /* monotonic */
	struct event *ticker; /* redraws the bar so the rate and ETA stay fresh */
	struct event *sigint, *sigterm;
};

/* One file being uploaded: a HeadObject, then a PutObject or a multipart upload. */
struct upload_job {
	struct uploader *u;
	struct upload_file *f;
	int fd;
	char *buf;       /* the body in flight: the whole file or one part */
	size_t buf_len;  /* bytes of buf in use */
	char *upload_id; /* multipart only */
	char **etags;    /* multipart only: one per part */
	int nparts;
	int parts_done;
	struct pf_error failure; /* kept while a failed multipart upload is aborted */
};

static void pump(struct uploader *u);
static void job_fail(struct upload_job *job, const struct pf_error *err);

static void usage(FILE *out)
{
	fputs(
	    "Usage: photofinish upload [OPTIONS] DIR|FILE...\n"
	    "Uploads photos (.jpg .jpeg .png .webp .tif .tiff) to the ingress bucket. Directories\n"
	    "are walked recursively (hidden files and directories are skipped); a key is the\n"
	    "path relative to the directory given, or the file name for a file given.\n"
	    "Objects already in the bucket with the same size are skipped, so an interrupted\n"
	    "run can be started again. Files over 16 MiB go up in 16 MiB parts.\n"
	    "\n"
	    "Options:\n"
	    "  --ingress-bucket NAME  bucket to upload to (PHOTOFINISH_INGRESS_BUCKET)\n"
	    "  --prefix PREFIX        key prefix, e.g. \"2024-city-marathon/\"\n"
	    "                         (PHOTOFINISH_INGRESS_PREFIX, --ingress-prefix)\n"
	    "  --parallel N           concurrent uploads, 1-64 (default 4)\n"
	    "  --force                upload even when an object of the same size exists\n"
	    "  --json                 JSON lines on stdout even when stderr is a terminal\n"
	    "  --region REGION        AWS region (AWS_REGION)\n"
	    "  --endpoint-url URL     endpoint override (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3)\n"
	    "  --help                 this text\n"
	    "\n"
	    "Credentials come from the standard AWS chain. When stderr is a terminal a progress\n"
	    "bar is drawn there; otherwise one JSON line per file is written to stdout\n"
	    "({\"file\",\"key\",\"bytes\",\"status\":\"uploaded\"|\"skipped\"|\"failed\",\"error\"}"
	    ")\n"
	    "followed by a summary line.\n"
	    "The first Ctrl-C lets uploads in flight finish (multipart ones are aborted) and\n"
	    "starts no more; run the command again to send the rest.\n"
	    "Exit status: 0 when every photo was uploaded or skipped, 1 when any failed,\n"
	    "2 for usage or configuration errors, 130 when interrupted.\n",
	    out);
}

/* ------------------------------------------------------------ discovery -- */

/* The Content-Type for an image suffix, or NULL when the name is not a photo. */
static const char *photo_content_type(const char *name)
{
	static const struct {
		const char *suffix;
		const char *type;
	} types[] = {
	    {".jpg", "image/jpeg"},  {".jpeg", "image/jpeg"}, {".png", "image/png"},
	    {".webp", "image/webp"}, {".tif", "image/tiff"},  {".tiff", "image/tiff"},
	};
	const char *dot = strrchr(name, '.');

	if (!dot || dot == name)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcasecmp(dot, types[i].suffix))
			return types[i].type;
	}
	return NULL;
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	if (n > 0 && dir[n - 1] == '/')
		return pf_xasprintf("%s%s", dir, name);
	return pf_xasprintf("%s/%s", dir, name);
}

static void list_add(struct upload_list *list, char *path, char *key, int64_t size)
{
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 64;
		list->files = pf_xrealloc(list->files, list->cap * sizeof(*list->files));
	}
	list->files[list->n].path = path;
	list->files[list->n].key = key;
	list->files[list->n].size = size;
	list->n++;
}

static void list_free(struct upload_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->files[i].path);
		free(list->files[i].key);
	}
	free(list->files);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories from the walk's root down to the one being read: a
 * directory that is its own ancestor (through a symlink) is a loop. */
struct walk_stack {
	dev_t dev[UPLOAD_MAX_DEPTH];
	ino_t ino[UPLOAD_MAX_DEPTH];
	int depth;
};

/* Adds the photos under dir (rel is their key prefix relative to the root,
 * "" or ending in '/'), in name order so runs are reproducible. Problems
 * with single entries are warnings: the rest of the tree still goes up. */
static void walk_dir(struct upload_list *list, const char *prefix, const char *dir, const char *rel,
                     struct walk_stack *stack)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "photofinish upload: skipping %s: %s\n", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		/* Hidden entries are editors' and cameras' housekeeping (.DS_Store, .thumbnails).
		 */
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = pf_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = pf_xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), compare_names);

	for (size_t i = 0; i < n; i++) {
		char *path = path_join(dir, names[i]);
		struct stat st;

		/* stat, not lstat: symlinks are followed, loops are caught below. */
		if (stat(path, &st) < 0) {
			fprintf(stderr, "photofinish upload: skipping %s: %s\n", path,
			        strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			bool loop = false;

			for (int k = 0; k < stack->depth; k++) {
				if (stack->dev[k] == st.st_dev && stack->ino[k] == st.st_ino)
					loop = true;
			}
			if (loop) {
				fprintf(stderr,
				        "photofinish upload: skipping %s: symlink loop (it leads "
				        "back to a directory above it)\n",
				        path);
			} else if (stack->depth == UPLOAD_MAX_DEPTH) {
				fprintf(stderr,
				        "photofinish upload: skipping %s: nested more than %d "
				        "directories deep\n",
				        path, UPLOAD_MAX_DEPTH);
			} else {
				char *sub = pf_xasprintf("%s%s/", rel, names[i]);

				stack->dev[stack->depth] = st.st_dev;
				stack->ino[stack->depth] = st.st_ino;
				stack->depth++;
				walk_dir(list, prefix, path, sub, stack);
				stack->depth--;
				free(sub);
			}
		} else if (S_ISREG(st.st_mode) && photo_content_type(names[i])) {
			list_add(list, path, pf_xasprintf("%s%s%s", prefix, rel, names[i]),
			         st.st_size);
			path = NULL;
		} else if (S_ISREG(st.st_mode)) {
			list->ignored++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

/* Adds what one command-line argument names. Returns 0, or -1 (with a
 * message on stderr) when the argument itself is unusable. */
static int collect_arg(struct upload_list *list, const char *prefix, const char *arg)
{
	struct stat st;
	const char *base;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "photofinish upload: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		struct walk_stack stack = {.depth = 1};

		stack.dev[0] = st.st_dev;
		stack.ino[0] = st.st_ino;
		walk_dir(list, prefix, arg, "", &stack);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "photofinish upload: %s: not a regular file or directory\n", arg);
		return -1;
	}
	base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	if (!photo_content_type(base)) {
		fprintf(stderr,
		        "photofinish upload: %s: not a photo (expected .jpg .jpeg .png .webp .tif "
		        ".tiff)\n",
		        arg);
		return -1;
	}
	list_add(list, pf_xstrdup(arg), pf_xasprintf("%s%s", prefix, base), st.st_size);
	return 0;
}

static int compare_files_by_key(const void *a, const void *b)
{
	const struct upload_file *x = *(const struct upload_file *const *)a;
	const struct upload_file *y = *(const struct upload_file *const *)b;

	return strcmp(x->key, y->key);
}

/* Two files with the same key would overwrite each other (two cameras both
 * writing IMG_0001.JPG): refuse the run rather than lose a photo. Also
 * checks the S3 key length. Returns the number of problems printed. */
static int check_keys(const struct upload_list *list)
{
	struct upload_file **sorted;
	int problems = 0;

	if (list->n == 0)
		return 0;
	sorted = pf_xmalloc(list->n * sizeof(*sorted));
	for (size_t i = 0; i < list->n; i++)
		sorted[i] = &list->files[i];
	qsort(sorted, list->n, sizeof(*sorted), compare_files_by_key);
	for (size_t i = 0; i < list->n; i++) {
		if (strlen(sorted[i]->key) > UPLOAD_MAX_KEY) {
			fprintf(stderr,
			        "photofinish upload: %s: the key would be longer than %d bytes\n",
			        sorted[i]->path, UPLOAD_MAX_KEY);
			problems++;
		}
		if (i > 0 && !strcmp(sorted[i - 1]->key, sorted[i]->key)) {
			fprintf(stderr,
			        "photofinish upload: %s and %s would both be uploaded as \"%s\"; "
			        "upload them in separate runs with different --prefix values\n",
			        sorted[i - 1]->path, sorted[i]->path, sorted[i]->key);
			problems++;
		}
	}
	free(sorted);
	return problems;
}

/* ------------------------------------------------------------- progress -- */

static void format_bytes(int64_t n, char out[32])
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(out, 32, "%" PRId64 " B", n);
	else
		snprintf(out, 32, "%.1f %s", v, units[u]);
}

static void format_duration(int64_t seconds, char out[32])
{
	if (seconds >= 3600)
		snprintf(out, 32, "%" PRId64 ":%02d:%02d", seconds / 3600, (int)(seconds / 60 % 60),
		         (int)(seconds % 60));
	else
		snprintf(out, 32, "%d:%02d", (int)(seconds / 60), (int)(seconds % 60));
}

static int terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/* One line, redrawn in place: [#####-----] 12/36 files  45.2 MiB/120.0 MiB  8.1 MiB/s  ETA 0:09 */
static void draw_bar(struct uploader *u)
{
	size_t done = u->uploaded + u->skipped + u->failed;
	int64_t elapsed = pf_monotonic_ms() - u->started_ms;
	double rate = elapsed > 0 ? (double)u->bytes_sent * 1000.0 / (double)elapsed : 0;
	char b_done[32], b_total[32], b_rate[32], eta[32], tail[160];
	int width, bar, filled;
	struct pf_buf line;

	format_bytes(u->bytes_done, b_done);
	format_bytes(u->bytes_total, b_total);
	format_bytes((int64_t)rate, b_rate);
	if (rate > 0 && u->bytes_total > u->bytes_done)
		format_duration((int64_t)((double)(u->bytes_total - u->bytes_done) / rate), eta);
	else
		snprintf(eta, sizeof(eta), "--:--");
	snprintf(tail, sizeof(tail), " %zu/%zu files  %s/%s  %s/s  ETA %s", done, u->list->n,
	         b_done, b_total, b_rate, eta);

	width = terminal_width();
	bar = width - (int)strlen(tail) - 3;
	if (bar > 40)
		bar = 40;
	if (bar < 5)
		bar = 5;
	filled = u->bytes_total > 0
	             ? (int)((double)bar * (double)u->bytes_done / (double)u->bytes_total)
	             : (u->list->n ? (int)((size_t)bar * done / u->list->n) : bar);
	if (filled > bar)
		filled = bar;

	pf_buf_init(&line);
	pf_buf_append_str(&line, "\r[");
	for (int i = 0; i < bar; i++)
		pf_buf_append(&line, i < filled ? "#" : "-", 1);
	pf_buf_append_str(&line, "]");
	pf_buf_append_str(&line, tail);
	pf_buf_append_str(&line, "\033[K");
	fwrite(line.data, 1, line.len, stderr);
	fflush(stderr);
	pf_buf_free(&line);
	u->bar_drawn = true;
}

/* Clears the bar so that a message can take its line. */
static void clear_bar(struct uploader *u)
{
	if (u->bar_drawn) {
		fputs("\r\033[K", stderr);
		u->bar_drawn = false;
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	draw_bar(arg);
}

static const char *status_name(enum upload_status status)
{
	switch (status) {
	case UPLOAD_UPLOADED:
		return "uploaded";
	case UPLOAD_SKIPPED:
		return "skipped";
	default:
		return "failed";
	}
}

/* An AWS error as one line: the message, then the service code and HTTP
 * status when they add something. */
static void describe_error(const struct pf_error *err, char *out, size_t len)
{
	const char *msg = err->message[0] ? err->message : pf_error_code_name(err->code);
	bool code = err->service_code[0] && !strstr(msg, err->service_code);

	if (code && err->http_status)
		snprintf(out, len, "%s (%s, HTTP %d)", msg, err->service_code, err->http_status);
	else if (code)
		snprintf(out, len, "%s (%s)", msg, err->service_code);
	else if (err->http_status && !strstr(msg, "HTTP"))
		snprintf(out, len, "%s (HTTP %d)", msg, err->http_status);
	else
		snprintf(out, len, "%s", msg);
}

static void report_file(struct uploader *u, const struct upload_file *f, enum upload_status status,
                        const char *error)
{
	if (status == UPLOAD_FAILED) {
		if (u->progress)
			clear_bar(u);
		fprintf(stderr, "photofinish upload: %s: %s\n", f->path, error);
	}
	if (!u->progress) {
		struct pf_buf line;

		pf_buf_init(&line);
		pf_buf_append_str(&line, "{\"file\":");
		pf_json_append_string(&line, f->path, strlen(f->path));
		pf_buf_append_str(&line, ",\"key\":");
		pf_json_append_string(&line, f->key, strlen(f->key));
		pf_buf_appendf(&line,
		               ",\"bytes\":%" PRId64 ",\"status\":\"%s\",\"error\":", f->size,
		               status_name(status));
		if (error)
			pf_json_append_string(&line, error, strlen(error));
		else
			pf_buf_append_str(&line, "null");
		pf_buf_append_str(&line, "}\n");
		fwrite(line.data, 1, line.len, stdout);
		fflush(stdout);
		pf_buf_free(&line);
	} else {
		draw_bar(u);
	}
}

static void report_summary(struct uploader *u)
{
	int64_t elapsed = pf_monotonic_ms() - u->started_ms;

	if (u->progress) {
		char sent[32], took[32];

		draw_bar(u);
		clear_bar(u);
		format_bytes(u->bytes_sent, sent);
		format_duration((elapsed + 500) / 1000, took);
		fprintf(stderr,
		        "photofinish upload: %zu uploaded (%s), %zu skipped, %zu failed%s of %zu "
		        "photos in %s\n",
		        u->uploaded, sent, u->skipped, u->failed,
		        u->interrupted ? " (interrupted: run again to send the rest)" : "",
		        u->list->n, took);
		return;
	}
	printf("{\"summary\":true,\"files\":%zu,\"uploaded\":%zu,\"skipped\":%zu,\"failed\":%zu,"
	       "\"not_started\":%zu,\"ignored\":%zu,\"bytes\":%" PRId64
	       ",\"uploaded_bytes\":%" PRId64 ",\"seconds\":%.3f,\"interrupted\":%s}\n",
	       u->list->n, u->uploaded, u->skipped, u->failed,
	       u->list->n - u->uploaded - u->skipped - u->failed, u->list->ignored, u->bytes_total,
	       u->bytes_sent, (double)elapsed / 1000.0, u->interrupted ? "true" : "false");
	fflush(stdout);
}

/* ----------------------------------------------------------------- jobs -- */

static void job_free(struct upload_job *job)
{
	if (job->fd >= 0)
		close(job->fd);
	free(job->buf);
	free(job->upload_id);
	if (job->etags) {
		for (int i = 0; i < job->nparts; i++)
			free(job->etags[i]);
		free(job->etags);
	}
	free(job);
}

/* The end of one file: reported, freed, and its slot handed to the next. */
static void job_finish(struct upload_job *job, enum upload_status status, const char *error)
{
	struct uploader *u = job->u;

	if (u->closing) {
		job_free(job);
		return;
	}
	switch (status) {
	case UPLOAD_UPLOADED:
		u->uploaded++;
		break;
	case UPLOAD_SKIPPED:
		u->skipped++;
		u->bytes_done += job->f->size;
		break;
	case UPLOAD_FAILED:
		u->failed++;
		/* Counted as done so that the bar reaches its end. */
		u->bytes_done += job->f->size - (int64_t)job->parts_done * UPLOAD_PART_SIZE;
		break;
	}
	report_file(u, job->f, status, error);
	job_free(job);
	u->active--;
	u->remaining--;
	pump(u);
}

static void job_fail_msg(struct upload_job *job, int code, const char *what)
{
	struct pf_error err;

	pf_error_clear(&err);
	pf_error_set(&err, code, "%s", what);
	job_fail(job, &err);
}

/* Reads exactly len bytes at offset; the file may have shrunk since it was listed. */
static int read_at(struct upload_job *job, char *buf, size_t len, int64_t offset,
                   struct pf_error *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(job->fd, buf + got, len - got, (off_t)(offset + (int64_t)got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pf_error_set(err, PF_EIO, "reading: %s", strerror(errno));
		if (r == 0)
			return pf_error_set(err, PF_EIO,
			                    "the file changed while it was being uploaded "
			                    "(it is shorter than %" PRId64 " bytes now)",
			                    job->f->size);
		got += (size_t)r;
	}
	return 0;
}

static void on_abort(const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;
	char msg[sizeof(job->failure.message) + 128];

	describe_error(&job->failure, msg, sizeof(msg));
	if (err->code) {
		size_t n = strlen(msg);

		/* Orphaned parts cost storage until a lifecycle rule removes them. */
		snprintf(msg + n, sizeof(msg) - n, "; aborting the multipart upload failed too: %s",
		         err->message);
	}
	job_finish(job, UPLOAD_FAILED, msg);
}

/* A failed file: a multipart upload in progress is aborted first. */
static void job_fail(struct upload_job *job, const struct pf_error *err)
{
	char msg[sizeof(err->message) + 128];
	struct pf_error aerr;

	if (job->u->closing) {
		job_free(job);
		return;
	}
	if (job->upload_id) {
		job->failure = *err;
		if (pf_s3_abort_multipart_upload(job->u->aws, job->u->bucket, job->f->key,
		                                 job->upload_id, on_abort, job, &aerr) == 0)
			return;
	}
	describe_error(err, msg, sizeof(msg));
	job_finish(job, UPLOAD_FAILED, msg);
}

static void on_put(const char *etag, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	job->u->bytes_done += job->f->size;
	job->u->bytes_sent += job->f->size;
	job_finish(job, UPLOAD_UPLOADED, NULL);
}

static void on_complete(const char *etag, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	free(job->upload_id);
	job->upload_id = NULL;
	job_finish(job, UPLOAD_UPLOADED, NULL);
}

static void send_part(struct upload_job *job);

static void on_part(const char *etag, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;
	struct pf_s3_completed_part *parts;
	struct pf_error cerr;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	if (!etag) {
		job_fail_msg(job, PF_EAWS, "S3 answered an UploadPart without an ETag");
		return;
	}
	job->etags[job->parts_done++] = pf_xstrdup(etag);
	job->u->bytes_done += (int64_t)job->buf_len;
	job->u->bytes_sent += (int64_t)job->buf_len;
	if (job->u->progress)
		draw_bar(job->u);
	if (job->parts_done < job->nparts && job->u->interrupted) {
		job_fail_msg(job, PF_ECANCELED, "interrupted");
		return;
	}
	if (job->parts_done < job->nparts) {
		send_part(job);
		return;
	}

	/* Every part is in: the buffer is no longer needed while S3 assembles them. */
	free(job->buf);
	job->buf = NULL;
	parts = pf_xcalloc((size_t)job->nparts, sizeof(*parts));
	for (int i = 0; i < job->nparts; i++) {
		parts[i].part_number = i + 1;
		parts[i].etag = job->etags[i];
	}
	pf_error_clear(&cerr);
	if (pf_s3_complete_multipart_upload(job->u->aws, job->u->bucket, job->f->key,
	                                    job->upload_id, parts, (size_t)job->nparts, on_complete,
	                                    job, &cerr) < 0)
		job_fail(job, &cerr);
	free(parts);
}

/* Reads the next part into the job's one buffer and sends it. */
static void send_part(struct upload_job *job)
{
	int64_t offset = (int64_t)job->parts_done * UPLOAD_PART_SIZE;
	int64_t left = job->f->size - offset;
	struct pf_error err;

	pf_error_clear(&err);
	job->buf_len = (size_t)(left < UPLOAD_PART_SIZE ? left : UPLOAD_PART_SIZE);
	if (read_at(job, job->buf, job->buf_len, offset, &err) < 0 ||
	    pf_s3_upload_part(job->u->aws, job->u->bucket, job->f->key, job->upload_id,
	                      job->parts_done + 1, job->buf, job->buf_len, on_part, job, &err) < 0)
		job_fail(job, &err);
}

static void on_create(const char *upload_id, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	if (!upload_id || !*upload_id) {
		job_fail_msg(job, PF_EAWS, "S3 answered CreateMultipartUpload without an UploadId");
		return;
	}
	job->upload_id = pf_xstrdup(upload_id);
	job->buf = malloc((size_t)UPLOAD_PART_SIZE);
	if (!job->buf) {
		job_fail_msg(job, PF_ENOMEM, "out of memory for a 16 MiB part");
		return;
	}
	send_part(job);
}

/* Opens the file and sends it: in one PutObject up to 16 MiB, else in parts. */
static void job_upload(struct upload_job *job)
{
	struct upload_file *f = job->f;
	struct pf_s3_put_options opts = {.content_type = photo_content_type(f->key)};
	struct stat st;
	struct pf_error err;

	pf_error_clear(&err);
	job->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (job->fd < 0 || fstat(job->fd, &st) < 0) {
		pf_error_set(&err, PF_EIO, "cannot open: %s", strerror(errno));
		goto out_fail;
	}
	if (st.st_size != f->size) {
		/* Rewritten since the walk: the bar's total follows the new size. */
		job->u->bytes_total += st.st_size - f->size;
		f->size = st.st_size;
	}
	if (f->size > UPLOAD_PART_SIZE * UPLOAD_MAX_PARTS) {
		pf_error_set(&err, PF_ETOOBIG, "larger than %d parts of 16 MiB", UPLOAD_MAX_PARTS);
		goto out_fail;
	}

	if (f->size > UPLOAD_PART_SIZE) {
		job->nparts = (int)((f->size + UPLOAD_PART_SIZE - 1) / UPLOAD_PART_SIZE);
		job->etags = pf_xcalloc((size_t)job->nparts, sizeof(*job->etags));
		if (pf_s3_create_multipart_upload(job->u->aws, job->u->bucket, f->key, &opts,
		                                  on_create, job, &err) < 0)
			goto out_fail;
		return;
	}

	job->buf_len = (size_t)f->size;
	job->buf = malloc(job->buf_len ? job->buf_len : 1);
	if (!job->buf) {
		pf_error_set(&err, PF_ENOMEM, "out of memory for %zu bytes", job->buf_len);
		goto out_fail;
	}
	if (read_at(job, job->buf, job->buf_len, 0, &err) < 0)
		goto out_fail;
	if (pf_s3_put_object(job->u->aws, job->u->bucket, f->key, job->buf, job->buf_len, &opts,
	                     on_put, job, &err) < 0)
		goto out_fail;
	return;

out_fail:
	job_fail(job, &err);
}

static void on_head(const struct pf_s3_object_info *info, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (!err->code && info->content_length == job->f->size) {
		job_finish(job, UPLOAD_SKIPPED, NULL);
		return;
	}
	/* Not there, a different size, or not allowed to look (upload-only
	 * credentials get 403 from HeadObject): upload it. */
	if (!err->code || err->code == PF_ENOTFOUND ||
	    (err->code == PF_EAWS && err->http_status == 403)) {
		if (job->u->interrupted)
			job_fail_msg(job, PF_ECANCELED, "interrupted before it was sent");
		else
			job_upload(job);
		return;
	}
	job_fail(job, err);
}

static void job_start(struct uploader *u, struct upload_file *f)
{
	struct upload_job *job = pf_xcalloc(1, sizeof(*job));
	struct pf_error err;

	job->u = u;
	job->f = f;
	job->fd = -1;
	u->active++;
	if (u->force) {
		job_upload(job);
		return;
	}
	pf_error_clear(&err);
	if (pf_s3_head_object(u->aws, u->bucket, f->key, on_head, job, &err) < 0)
		job_fail(job, &err);
}

/* Starts uploads until --parallel are in flight or none is left. */
static void pump(struct uploader *u)
{
	if (u->pumping)
		return;
	u->pumping = true;
	while (u->active < u->parallel && u->next < u->list->n)
		job_start(u, &u->list->files[u->next++]);
	u->pumping = false;
}

/* The first Ctrl-C stops cleanly: nothing new starts, single uploads in
 * flight finish and multipart uploads are aborted after their current part,
 * so that no orphaned parts are left behind. A second one stops at once. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct uploader *u = arg;
	size_t unstarted = u->list->n - u->next;

	if (u->interrupted) {
		signal((int)sig, SIG_DFL);
		raise((int)sig);
		return;
	}
	u->interrupted = (int)sig;
	u->next = u->list->n;
	u->remaining -= (int)unstarted;
	if (u->progress)
		clear_bar(u);
	fprintf(stderr,
	        "photofinish upload: interrupted: %d in flight will finish (multipart ones are "
	        "aborted), %zu not started; interrupt again to stop at once\n",
	        u->active, unstarted);
}

/* -------------------------------------------------------------- command -- */

struct upload_args {
	int parallel;
	bool force;
	bool json;
	const char *prefix; /* --prefix, NULL when not given */
	char **paths;
	int npaths;
};

/* Parses what pf_config_load left: our own options and the paths. Returns
 * 0, 1 for --help, or -1 with a message on stderr. */
static int parse_args(int argc, char **argv, struct upload_args *a)
{
	bool only_paths = false;

	a->parallel = UPLOAD_DEFAULT_PARALLEL;
	a->paths = pf_xcalloc((size_t)argc, sizeof(*a->paths));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = NULL;
		const char *eq;
		size_t nlen;

		if (only_paths || arg[0] != '-' || !strcmp(arg, "-")) {
			a->paths[a->npaths++] = argv[i];
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_paths = true;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return 1;
		if (!strcmp(arg, "--force")) {
			a->force = true;
			continue;
		}
		if (!strcmp(arg, "--json")) {
			a->json = true;
			continue;
		}
		eq = strchr(arg, '=');
		nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		if ((nlen == 10 && !strncmp(arg, "--parallel", nlen)) ||
		    (nlen == 8 && !strncmp(arg, "--prefix", nlen))) {
			if (eq) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				fprintf(stderr, "photofinish upload: %.*s needs a value\n",
				        (int)nlen, arg);
				return -1;
			}
			if (nlen == 8) {
				a->prefix = value;
			} else {
				int64_t n;

				if (!pf_parse_int64(value, 1, UPLOAD_MAX_PARALLEL, &n)) {
					fprintf(stderr,
					        "photofinish upload: --parallel: \"%s\" is not a "
					        "whole number from 1 to %d\n",
					        value, UPLOAD_MAX_PARALLEL);
					return -1;
				}
				a->parallel = (int)n;
			}
			continue;
		}
		fprintf(stderr, "photofinish upload: unknown option %s (see --help)\n", arg);
		return -1;
	}
	return 0;
}

/* The key prefix with a '/' after it, so that "race" gives "race/a.jpg". */
static char *normalise_prefix(const char *prefix)
{
	size_t n;

	while (prefix && *prefix == '/')
		prefix++;
	if (!prefix || !*prefix)
		return pf_xstrdup("");
	n = strlen(prefix);
	return prefix[n - 1] == '/' ? pf_xstrdup(prefix) : pf_xasprintf("%s/", prefix);
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

int pf_cli_upload(int argc, char **argv)
{
	struct pf_config cfg;
	struct pf_buf problems;
	struct upload_args args = {0};
	struct upload_list list = {0};
	struct uploader u = {0};
	struct pf_aws_options opts;
	struct event_base *base = NULL;
	struct pf_error err;
	char *prefix = NULL;
	int status = 2;
	int bad = 0;

	pf_buf_init(&problems);
	pf_error_clear(&err);
	if (wants_help(argc, argv)) {
		usage(stdout);
		memset(&cfg, 0, sizeof(cfg));
		status = 0;
		goto out_free_config;
	}
	if (pf_config_load(&cfg, PF_CONFIG_CLIENT, &argc, argv, true, &problems) < 0) {
		fprintf(stderr, "photofinish upload: invalid configuration:\n%s", problems.data);
		goto out_free_config;
	}
	if (parse_args(argc, argv, &args) < 0)
		goto out_free_config;
	if (!cfg.ingress_bucket) {
		fputs("photofinish upload: PHOTOFINISH_INGRESS_BUCKET: is required (or "
		      "--ingress-bucket)\n",
		      stderr);
		goto out_free_config;
	}
	if (args.npaths == 0) {
		fputs("photofinish upload: nothing to upload: give one or more directories or "
		      "files (see --help)\n",
		      stderr);
		goto out_free_config;
	}

	/* The transport's own log lines must not mix with our JSON lines on stdout,
	 * nor scribble over the progress bar unless asked for. */
	pf_log_set_fd(STDERR_FILENO);
	if (!getenv("PHOTOFINISH_LOG_LEVEL") && cfg.log_level < PF_LOG_WARN)
		cfg.log_level = PF_LOG_WARN;
	pf_log_set_level((enum pf_log_level)cfg.log_level);

	prefix = normalise_prefix(args.prefix ? args.prefix : cfg.ingress_prefix);
	for (int i = 0; i < args.npaths; i++) {
		if (collect_arg(&list, prefix, args.paths[i]) < 0)
			bad++;
	}
	bad += check_keys(&list);
	if (bad)
		goto out_free_list;

	u.list = &list;
	u.bucket = cfg.ingress_bucket;
	u.parallel = args.parallel;
	u.force = args.force;
	u.progress = !args.json && isatty(STDERR_FILENO);
	u.remaining = (int)list.n;
	for (size_t i = 0; i < list.n; i++)
		u.bytes_total += list.files[i].size;

	base = event_base_new();
	if (!base) {
		fputs("photofinish upload: cannot create the event loop\n", stderr);
		goto out_free_list;
	}
	pf_config_aws_options(&cfg, &opts);
	if (pf_aws_new(base, &opts, &u.aws, &err) < 0) {
		fprintf(stderr, "photofinish upload: %s\n", err.message);
		goto out_free_base;
	}

	u.started_ms = pf_monotonic_ms();
	if (u.progress && list.n > 0) {
		struct timeval tv = {0, UPLOAD_PROGRESS_MS * 1000};

		u.ticker = event_new(base, -1, EV_PERSIST, on_tick, &u);
		event_add(u.ticker, &tv);
		draw_bar(&u);
	}
	u.sigint = evsignal_new(base, SIGINT, on_signal, &u);
	u.sigterm = evsignal_new(base, SIGTERM, on_signal, &u);
	event_add(u.sigint, NULL);
	event_add(u.sigterm, NULL);
	pump(&u);
	if (u.remaining > 0 && pf_aws_wait(u.aws, &u.remaining) < 0) {
		clear_bar(&u);
		fprintf(stderr,
		        "photofinish upload: the event loop stopped with %d uploads "
		        "unfinished\n",
		        u.remaining);
		u.failed += (size_t)u.remaining;
	}
	if (u.ticker)
		event_free(u.ticker);
	event_free(u.sigint);
	event_free(u.sigterm);
	report_summary(&u);
	status = u.interrupted ? 128 + u.interrupted : (u.failed ? 1 : 0);

	u.closing = true;
	pf_aws_free(u.aws);
out_free_base:
	event_base_free(base);
out_free_list:
	list_free(&list);
	free(prefix);
out_free_config:
	free(args.paths);
	pf_config_free(&cfg);
	pf_buf_free(&problems);
	return status;
}
