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
 *
 * This file is the command (options, signals, the loop); finding the photos,
 * uploading them and reporting live beside it (cli_upload_int.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cli_upload_int.h"
#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/s3.h"
#include "photofinish/cli.h"
#include "photofinish/config.h"
#include "photofinish/error.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

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
		pf_upload__clear_bar(u);
	fprintf(stderr,
	        "photofinish upload: interrupted: %d in flight will finish (multipart ones are "
	        "aborted), %zu not started; interrupt again to stop at once\n",
	        u->active, unstarted);
}

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
		if (pf_upload__collect(&list, prefix, args.paths[i]) < 0)
			bad++;
	}
	bad += pf_upload__check_keys(&list);
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

		u.ticker = event_new(base, -1, EV_PERSIST, pf_upload__on_tick, &u);
		event_add(u.ticker, &tv);
		pf_upload__draw_bar(&u);
	}
	u.sigint = evsignal_new(base, SIGINT, on_signal, &u);
	u.sigterm = evsignal_new(base, SIGTERM, on_signal, &u);
	event_add(u.sigint, NULL);
	event_add(u.sigterm, NULL);
	pf_upload__pump(&u);
	if (u.remaining > 0 && pf_aws_wait(u.aws, &u.remaining) < 0) {
		pf_upload__clear_bar(&u);
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
	pf_upload__report_summary(&u);
	status = u.interrupted ? 128 + u.interrupted : (u.failed ? 1 : 0);

	u.closing = true;
	pf_aws_free(u.aws);
out_free_base:
	event_base_free(base);
out_free_list:
	pf_upload__list_free(&list);
	free(prefix);
out_free_config:
	free(args.paths);
	pf_config_free(&cfg);
	pf_buf_free(&problems);
	return status;
}
