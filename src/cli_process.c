/*
 * photofinish process [options] FILE...: the daemon's image pipeline on local
 * files, without AWS. The main thread runs a libevent loop that reads inputs,
 * writes outputs and prints results; the pixels go to the same worker pool
 * the daemon uses. At most 2 x workers inputs are held in memory at once, and
 * results are printed one JSON line per input, in input order.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "photofinish/cli.h"
#include "photofinish/config.h"
#include "photofinish/error.h"
#include "photofinish/image.h"
#include "photofinish/log.h"
#include "photofinish/pool.h"
#include "photofinish/util.h"

struct run {
	struct pf_config cfg;
	struct pf_image_ctx *ctx;
	struct pf_pool *pool;
	struct event_base *base;
	const char *outdir;
	char **files;
	int nfiles;
	int next;     /* next input to start */
	int inflight; /* inputs held in memory */
	int limit;
	char **lines; /* finished result lines, printed in input order */
	int printed;
	int failed;
};

struct job {
	struct run *run;
	int index;
	unsigned char *bytes;
	size_t len;
	int rc;
	struct pf_image_result res;
	struct pf_error err;
};

static const char *const image_flags[] = {
    "workers",       "max-input-bytes", "max-input-pixels", "symbologies",
    "code-pattern",  "fullsize-max",    "thumbnail-max",    "jpeg-quality",
    "webp",          "overlay",         "overlay-gravity",  "overlay-margin",
    "overlay-width", "overlay-opacity", "log-level",
};

static void usage(FILE *out)
{
	const struct pf_config_setting_info *s = pf_config_settings();

	fputs("Usage: photofinish process [OPTIONS] FILE...\n"
	      "Runs the image pipeline on local files: finds participant codes, writes\n"
	      "DIR/<name>.full.jpg and DIR/<name>.thumb.jpg (with --webp 1 also\n"
	      "DIR/<name>.full.webp and DIR/<name>.thumb.webp), and prints one JSON line per\n"
	      "input (in input order). Exit status: 0 all processed, 1 some input refused\n"
	      "or failed, 2 usage or configuration error.\n"
	      "\n"
	      "  -o, --output DIR           where the variants are written (default: .)\n"
	      "  -h, --help                 this text\n"
	      "\n"
	      "Settings (flag, or the environment variable below it):\n",
	      out);
	for (; s->env; s++) {
		for (size_t i = 0; i < sizeof(image_flags) / sizeof(image_flags[0]); i++) {
			if (strcmp(s->flag, image_flags[i]))
				continue;
			fprintf(out, "  --%-24s %s\n  %-26s %s", s->flag, s->help, "", s->env);
			/* The daemon's default is on; here WebP is written when asked. */
			if (!strcmp(s->flag, "webp"))
				fputs(" (default here: 0)", out);
			else if (s->default_text && *s->default_text)
				fprintf(out, " (default: %s)", s->default_text);
			fputs("\n", out);
		}
	}
}

/* Reads a whole file, refusing more than max bytes without reading them. */
static int read_file(const char *path, int64_t max, unsigned char **out, size_t *out_len,
                     struct pf_error *err)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t len = 0;
	int fd, rc = 0;

	*out = NULL;
	*out_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pf_error_set(err, PF_EIO, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = pf_error_set(err, PF_EIO, "not a regular file");
		goto out_close;
	}
	if (st.st_size > max) {
		rc = pf_error_set(err, PF_ETOOBIG,
		                  "the file is too large (%lld bytes, the limit is %lld)",
		                  (long long)st.st_size, (long long)max);
		snprintf(err->service_code, sizeof(err->service_code), "too_many_bytes");
		goto out_close;
	}
	buf = pf_xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pf_error_set(err, PF_EIO, "cannot read: %s", strerror(errno));
			free(buf);
			goto out_close;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*out_len = len;
out_close:
	close(fd);
	return rc;
}

static int write_file(const char *path, const void *data, size_t len, struct pf_error *err)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return pf_error_set(err, PF_EIO, "cannot write %s: %s", path, strerror(errno));
	if (fwrite(data, 1, len, f) != len) {
		fclose(f);
		return pf_error_set(err, PF_EIO, "cannot write %s: %s", path, strerror(errno));
	}
	if (fclose(f))
		return pf_error_set(err, PF_EIO, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

/* "dir/IMG_0001.JPG" -> "IMG_0001" */
static char *stem(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		return pf_xstrdup(base);
	return pf_xstrndup(base, (size_t)(dot - base));
}

static int write_outputs(struct run *run, const char *file, const struct pf_image_result *res,
                         struct pf_error *err)
{
	char *name = stem(file);
	char *full = pf_xasprintf("%s/%s.full.jpg", run->outdir, name);
	char *thumb = pf_xasprintf("%s/%s.thumb.jpg", run->outdir, name);
	char *full_webp = pf_xasprintf("%s/%s.full.webp", run->outdir, name);
	char *thumb_webp = pf_xasprintf("%s/%s.thumb.webp", run->outdir, name);
	int rc;

	rc = write_file(full, res->fullsize_jpeg, res->fullsize_len, err);
	if (!rc)
		rc = write_file(thumb, res->thumbnail_jpeg, res->thumbnail_len, err);
	if (!rc && res->fullsize_webp)
		rc = write_file(full_webp, res->fullsize_webp, res->fullsize_webp_len, err);
	if (!rc && res->thumbnail_webp)
		rc = write_file(thumb_webp, res->thumbnail_webp, res->thumbnail_webp_len, err);
	if (rc)
		snprintf(err->service_code, sizeof(err->service_code), "write_failed");
	free(thumb_webp);
	free(full_webp);
	free(thumb);
	free(full);
	free(name);
	return rc;
}

static char *error_line(const char *file, const struct pf_error *err)
{
	const char *code =
	    err->service_code[0]
	        ? err->service_code
	        : (err->code == PF_EIO ? "unreadable" : pf_error_code_name(err->code));
	struct pf_buf b;

	pf_buf_init(&b);
	pf_buf_append_str(&b, "{\"file\":");
	pf_json_append_string(&b, file, strlen(file));
	pf_buf_append_str(&b, ",\"error\":{\"code\":");
	pf_json_append_string(&b, code, strlen(code));
	pf_buf_append_str(&b, ",\"message\":");
	pf_json_append_string(&b, err->message, strlen(err->message));
	pf_buf_append_str(&b, "}}\n");
	return pf_buf_steal(&b, NULL);
}

static char *result_line(const char *file, const struct pf_image_result *r)
{
	struct pf_buf b;

	pf_buf_init(&b);
	pf_buf_append_str(&b, "{\"file\":");
	pf_json_append_string(&b, file, strlen(file));
	pf_buf_append_str(&b, ",\"codes\":[");
	for (size_t i = 0; i < r->ncodes; i++) {
		if (i)
			pf_buf_append_str(&b, ",");
		pf_json_append_string(&b, r->codes[i], strlen(r->codes[i]));
	}
	pf_buf_appendf(&b,
	               "],\"width\":%d,\"height\":%d,\"thumbnailWidth\":%d,\"thumbnailHeight\":%d,"
	               "\"takenAt\":",
	               r->width, r->height, r->thumbnail_width, r->thumbnail_height);
	if (r->taken_at[0])
		pf_json_append_string(&b, r->taken_at, strlen(r->taken_at));
	else
		pf_buf_append_str(&b, "null");
	if (r->fullsize_webp)
		pf_buf_appendf(&b,
		               ",\"bytes\":{\"full\":%zu,\"thumb\":%zu,\"fullWebp\":%zu,"
		               "\"thumbWebp\":%zu}",
		               r->fullsize_len, r->thumbnail_len, r->fullsize_webp_len,
		               r->thumbnail_webp_len);
	pf_buf_appendf(&b,
	               ",\"ms\":{\"decode\":%.1f,\"scan\":%.1f,\"variants\":%.1f,\"total\":%.1f",
	               r->ms.decode, r->ms.scan, r->ms.variants, r->ms.total);
	/* Only when asked: lines of JPEG-only runs stay as they were. */
	if (r->fullsize_webp)
		pf_buf_appendf(&b, ",\"webp\":%.1f", r->ms.webp);
	pf_buf_append_str(&b, "}}\n");
	return pf_buf_steal(&b, NULL);
}

static void flush_lines(struct run *run)
{
	while (run->printed < run->nfiles && run->lines[run->printed]) {
		fputs(run->lines[run->printed], stdout);
		free(run->lines[run->printed]);
		run->lines[run->printed] = NULL;
		run->printed++;
	}
	fflush(stdout);
}

static void finish(struct run *run, int index, char *line, bool ok)
{
	run->lines[index] = line;
	if (!ok)
		run->failed++;
	flush_lines(run);
}

static void work(void *arg)
{
	struct job *job = arg;

	job->rc = pf_image_process(job->run->ctx, job->bytes, job->len, &job->res, &job->err);
	/* The input is not needed past this point; release it on the worker. */
	free(job->bytes);
	job->bytes = NULL;
}

static void start_more(struct run *run);

static void done(void *arg, int status)
{
	struct job *job = arg;
	struct run *run = job->run;
	const char *file = run->files[job->index];

	run->inflight--;
	if (status == 0 && job->rc == 0 && write_outputs(run, file, &job->res, &job->err) == 0)
		finish(run, job->index, result_line(file, &job->res), true);
	else
		finish(run, job->index, error_line(file, &job->err), false);
	pf_image_result_free(&job->res);
	free(job->bytes);
	free(job);
	start_more(run);
}

static void start_more(struct run *run)
{
	while (run->inflight < run->limit && run->next < run->nfiles) {
		int index = run->next++;
		struct job *job = pf_xcalloc(1, sizeof(*job));

		job->run = run;
		job->index = index;
		if (read_file(run->files[index], run->cfg.max_input_bytes, &job->bytes, &job->len,
		              &job->err) ||
		    pf_pool_submit(run->pool, job, work, done, &job->err)) {
			finish(run, index, error_line(run->files[index], &job->err), false);
			free(job->bytes);
			free(job);
			continue;
		}
		run->inflight++;
	}
	if (run->inflight == 0 && run->next >= run->nfiles)
		event_base_loopbreak(run->base);
}

static int load_overlay(const struct pf_config *cfg, unsigned char **png, size_t *len)
{
	struct pf_error err;

	*png = NULL;
	*len = 0;
	if (!cfg->overlay)
		return 0;
	if (!strncmp(cfg->overlay, "s3://", 5)) {
		fprintf(stderr, "photofinish process: --overlay must be a local file here\n");
		return -1;
	}
	pf_error_clear(&err);
	if (read_file(cfg->overlay, 64 << 20, png, len, &err)) {
		fprintf(stderr, "photofinish process: overlay %s: %s\n", cfg->overlay, err.message);
		return -1;
	}
	return 0;
}

int pf_cli_process(int argc, char **argv)
{
	struct run run;
	struct pf_buf problems;
	struct pf_error err;
	unsigned char *overlay = NULL;
	size_t overlay_len = 0;
	struct pf_image_options iopts;
	int nfiles = 0, status = 2;
	char **files;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	}
	memset(&run, 0, sizeof(run));
	run.outdir = ".";
	pf_error_clear(&err);
	pf_buf_init(&problems);
	pf_config_load(&run.cfg, PF_CONFIG_PROCESS, &argc, argv, true, &problems);
	files = pf_xcalloc((size_t)argc + 1, sizeof(*files));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			while (++i < argc)
				files[nfiles++] = argv[i];
			break;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			if (i + 1 >= argc)
				pf_buf_appendf(&problems, "%s: needs a directory\n", a);
			else
				run.outdir = argv[++i];
		} else if (!strncmp(a, "--output=", 9)) {
			run.outdir = a + 9;
		} else if (a[0] == '-' && a[1]) {
			pf_buf_appendf(&problems, "%s: unknown option (see --help)\n", a);
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (nfiles == 0)
		pf_buf_append_str(&problems, "no input files (see --help)\n");
	if (problems.len) {
		fprintf(stderr, "photofinish process: invalid arguments:\n%s", problems.data);
		goto out_free;
	}
	pf_log_set_level((enum pf_log_level)run.cfg.log_level);
	if (load_overlay(&run.cfg, &overlay, &overlay_len))
		goto out_free;
	pf_config_image_options(&run.cfg, &iopts);
	if (pf_image_global_init(argv[0], &err) ||
	    pf_image_ctx_new(&iopts, overlay, overlay_len, &run.ctx, &err)) {
		fprintf(stderr, "photofinish process: %s\n", err.message);
		goto out_free;
	}
	run.base = event_base_new();
	if (!run.base || pf_pool_new(run.base, run.cfg.workers, &run.pool, &err)) {
		fprintf(stderr, "photofinish process: %s\n",
		        run.base ? err.message : "cannot create the event loop");
		goto out_free;
	}
	run.files = files;
	run.nfiles = nfiles;
	run.limit = 2 * run.cfg.workers;
	run.lines = pf_xcalloc((size_t)nfiles, sizeof(*run.lines));
	start_more(&run);
	if (run.inflight > 0)
		event_base_dispatch(run.base);
	flush_lines(&run);
	status = run.failed ? 1 : 0;
out_free:
	if (run.pool)
		pf_pool_free(run.pool);
	if (run.base)
		event_base_free(run.base);
	pf_image_ctx_free(run.ctx);
	free(run.lines);
	free(overlay);
	free(files);
	pf_buf_free(&problems);
	pf_config_free(&run.cfg);
	return status;
}
