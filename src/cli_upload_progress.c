/*
 * photofinish upload, progress: a bar on a terminal, JSON lines otherwise,
 * and the summary. Main thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli_upload_int.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

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
void pf_upload__draw_bar(struct uploader *u)
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
void pf_upload__clear_bar(struct uploader *u)
{
	if (u->bar_drawn) {
		fputs("\r\033[K", stderr);
		u->bar_drawn = false;
	}
}

void pf_upload__on_tick(evutil_socket_t fd, short what, void *arg)
{
	pf_upload__draw_bar(arg);
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

void pf_upload__report_file(struct uploader *u, const struct upload_file *f,
                            enum upload_status status, const char *error)
{
	if (status == UPLOAD_FAILED) {
		if (u->progress)
			pf_upload__clear_bar(u);
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
		pf_upload__draw_bar(u);
	}
}

void pf_upload__report_summary(struct uploader *u)
{
	int64_t elapsed = pf_monotonic_ms() - u->started_ms;

	if (u->progress) {
		char sent[32], took[32];

		pf_upload__draw_bar(u);
		pf_upload__clear_bar(u);
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
