/*
 * The pure parts of `photofinish admin`, the operators' command-line client
 * of the daemon's admin API: argument parsing, confirmation checks, tables
 * for people and progress lines for jobs. No I/O here (the HTTP side is in
 * cli_admin.c), so all of it is unit-tested. Any thread.
 */
#ifndef PHOTOFINISH_ADMINCTL_H
#define PHOTOFINISH_ADMINCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

struct pf_buf;

/* Exit statuses of `photofinish admin` (documented in its --help and docs/operations.md). */
#define PF_ADMINCTL_EXIT_OK 0     /* done; for watch: the job finished */
#define PF_ADMINCTL_EXIT_FAILED 1 /* the daemon refused or failed, not found, declined */
#define PF_ADMINCTL_EXIT_USAGE 2  /* bad arguments or configuration, missing confirmation */

/* Bounds on what the command line may ask for. */
#define PF_ADMINCTL_MAX_TARGETS 1000 /* photos per delete */
#define PF_ADMINCTL_MAX_CODES 40     /* codes per photo, as the catalog keeps */
#define PF_ADMINCTL_MAX_ARG 1024     /* bytes of one key, code or prefix */
#define PF_ADMINCTL_MAX_LIMIT 500
#define PF_ADMINCTL_DEFAULT_TIMEOUT 30
#define PF_ADMINCTL_MAX_CLOCK_OFFSET 604800 /* seconds, 7 days, as the daemon takes */

enum pf_adminctl_cmd {
	PF_ADMINCTL_NONE,
	PF_ADMINCTL_STATUS,
	PF_ADMINCTL_UNMATCHED,
	PF_ADMINCTL_FAILED,
	PF_ADMINCTL_SHOW,
	PF_ADMINCTL_CODES,
	PF_ADMINCTL_DELETE,
	PF_ADMINCTL_REPROCESS,
	PF_ADMINCTL_CLEAR,
	PF_ADMINCTL_JOBS,
	PF_ADMINCTL_WATCH,
	PF_ADMINCTL_ERASE,
	PF_ADMINCTL_AUDIT,
	PF_ADMINCTL_CREDENTIALS, /* credentials create|list|revoke */
	PF_ADMINCTL_CLOCK,       /* clock PHOTOGRAPHER SECONDS */
	PF_ADMINCTL_CLAIMS       /* claims [list|approve ID|reject ID] */
};

/* What `codes` does: replace the list, edit it, or empty it. */
enum pf_adminctl_codes_mode {
	PF_ADMINCTL_CODES_SET,
	PF_ADMINCTL_CODES_EDIT,
	PF_ADMINCTL_CODES_NONE
};

/* A parsed command line. Strings point into argv. */
struct pf_adminctl_args {
	enum pf_adminctl_cmd cmd;
	bool help;
	const char *url;        /* --url; NULL: PHOTOFINISH_ADMIN_URL or the default */
	const char *token_file; /* --token-file; NULL: PHOTOFINISH_ADMIN_TOKEN(_FILE) */
	bool json;              /* --json: machine-readable output */
	int timeout_s;          /* --timeout: per request */
	int limit;              /* --limit for listings; 0: the server's default */
	bool all;               /* --all: follow cursors (bounded) */
	const char *prefix;     /* reprocess --prefix */
	bool originals;         /* clear --originals */
	const char *confirm;    /* --yes-i-mean-it=NAME */
	bool yes;               /* delete --yes */
	bool watch;             /* --watch: follow the job a command started */
	/* show/codes: the photo; watch: the job; erase: the code */
	const char *target;
	/* delete: the photos; codes: the new list (SET) */
	const char **targets;
	size_t ntargets;
	enum pf_adminctl_codes_mode codes_mode;
	const char **add, **remove; /* codes EDIT */
	size_t nadd, nremove;
	/* credentials: what to do ("create", "list", "revoke"; in target the
	 * photographer) and create --days (0: the daemon's default, 14) */
	const char *action;
	int days;
	/* clock: the camera clock offset in seconds (target: the photographer) */
	int64_t offset_s;
	bool have_offset;
	/* claims list --state: pending (NULL), approved or rejected */
	const char *state;
};

/* Parses argv (argv[0] is "admin"). Options may come anywhere before "--".
 * Returns 0, or PF_EINVAL with a one-line message in err. --help sets help
 * and returns 0 even without a command. */
int pf_adminctl_parse_args(int argc, char **argv, struct pf_adminctl_args *a, struct pf_error *err);
void pf_adminctl_args_free(struct pf_adminctl_args *a);

/* Name of a command as typed ("status", ...). */
const char *pf_adminctl_cmd_name(enum pf_adminctl_cmd cmd);

/* Whether s is a photo id (32 lowercase hex digits) rather than a key. */
bool pf_adminctl_is_photo_id(const char *s);
/* Whether s is a photographer name ([a-z0-9][a-z0-9_-]{0,39}). */
bool pf_adminctl_is_photographer(const char *s);
/* Whether s can be a job id (1-64 of [A-Za-z0-9_.-]). */
bool pf_adminctl_is_job_id(const char *s);

/* Whether what the operator typed (a line, trailing newline and blanks
 * ignored) is exactly the expected name. */
bool pf_adminctl_confirmed(const char *typed, const char *expected);

/* The token in a token file's text: its first line without surrounding
 * blanks; 16 to 4096 printable characters without spaces. Returns a new
 * string, or NULL with the reason in err. */
char *pf_adminctl_token_from_text(const char *text, size_t len, struct pf_error *err);

/* Copies s into out with every control character (C0, DEL, C1) and invalid
 * UTF-8 byte shown as '?', so that a hostile key cannot drive the terminal,
 * cut to at most max_chars characters (the last one an ellipsis when cut).
 * Returns the number of characters written. */
size_t pf_adminctl_sanitize(struct pf_buf *out, const char *s, size_t max_chars);

/* A table for people: columns sized to their widest cell. */
struct pf_adminctl_table {
	size_t ncols;
	const char *const *headers;
	char **cells; /* nrows * ncols, sanitised */
	size_t nrows, cap;
	size_t max_cell; /* characters per cell before cutting (default 60) */
};

void pf_adminctl_table_init(struct pf_adminctl_table *t, size_t ncols, const char *const *headers);
/* Adds a row of ncols strings (NULL shows "-"). */
void pf_adminctl_table_add(struct pf_adminctl_table *t, const char *const *row);
/* Header, then rows; two spaces between columns, no trailing blanks. */
void pf_adminctl_table_render(const struct pf_adminctl_table *t, struct pf_buf *out);
void pf_adminctl_table_free(struct pf_adminctl_table *t);

/* A job's progress as the job JSON of the admin API gives it. */
struct pf_adminctl_progress {
	char id[65];
	char kind[32];
	char state[32];
	char phase[32];
	int64_t done;
	int64_t total; /* -1 when not known (yet) */
	int64_t seconds;
	char error[256];
};

/* Reads a job document (GET /admin/jobs/{id}); PF_EINVAL when it is not one. */
int pf_adminctl_progress_from_job(const json_t *job, struct pf_adminctl_progress *p,
                                  struct pf_error *err);
/* Whether the job is over (any state but running). */
bool pf_adminctl_progress_finished(const struct pf_adminctl_progress *p);
/* A bar for a terminal line of `width` columns, without a newline:
 * "[########------------]  40%  400/1000  reprocess queueing  0:12". With an
 * unknown total the bar is replaced by the count. */
void pf_adminctl_progress_bar(struct pf_buf *out, const struct pf_adminctl_progress *p, int width);
/* A plain line for logs and pipes, with a newline:
 * "reprocess-1 running queueing 400/1000 (40%) 12s". */
void pf_adminctl_progress_line(struct pf_buf *out, const struct pf_adminctl_progress *p);

#endif
