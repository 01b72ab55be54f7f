/*
 * Private to photofinish upload (src/cli_upload*.c): the run's state and
 * what its parts call in each other. cli_upload.c is the command (options,
 * signals, the loop), cli_upload_discovery.c finds the photos,
 * cli_upload_jobs.c uploads them (HeadObject, PutObject or multipart),
 * cli_upload_progress.c reports. Main thread only.
 */
#ifndef PHOTOFINISH_SRC_CLI_UPLOAD_INT_H
#define PHOTOFINISH_SRC_CLI_UPLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "photofinish/error.h"

struct pf_aws;

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

/* ---- discovery (cli_upload_discovery.c) ---- */

/* The Content-Type for an image suffix, or NULL when the name is not a photo. */
const char *pf_upload__content_type(const char *name);
/* Adds what one command-line argument names (a file, or a tree walked in
 * name order). Returns 0, or -1 (with a message on stderr) when the
 * argument itself is unusable. */
int pf_upload__collect(struct upload_list *list, const char *prefix, const char *arg);
/* Refuses keys that are too long or that two files share. Returns the
 * number of problems printed on stderr. */
int pf_upload__check_keys(const struct upload_list *list);
void pf_upload__list_free(struct upload_list *list);

/* ---- progress (cli_upload_progress.c) ---- */

/* The bar on stderr, redrawn in place; clear takes it off its line. */
void pf_upload__draw_bar(struct uploader *u);
void pf_upload__clear_bar(struct uploader *u);
/* Timer callback: redraws the bar (arg: the uploader). */
void pf_upload__on_tick(evutil_socket_t fd, short what, void *arg);
/* One finished file: a JSON line on stdout, or the bar (and failures on stderr). */
void pf_upload__report_file(struct uploader *u, const struct upload_file *f,
                            enum upload_status status, const char *error);
void pf_upload__report_summary(struct uploader *u);

/* ---- jobs (cli_upload_jobs.c) ---- */

/* Starts uploads until --parallel are in flight or no file is left. */
void pf_upload__pump(struct uploader *u);

#endif
