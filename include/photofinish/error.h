/*
 * Errors: every fallible action returns 0 or a negative PF_E* code and fills a
 * caller-owned struct pf_error with what a human needs to act on it.
 * Pure data; safe on any thread.
 */
#ifndef PHOTOFINISH_ERROR_H
#define PHOTOFINISH_ERROR_H

#include <stdbool.h>
#include <stddef.h>

enum pf_error_code {
	PF_OK = 0,
	PF_EINVAL = -1,    /* bad input from outside (config, request, event, image) */
	PF_ENOMEM = -2,    /* an allocation the caller asked to be checked failed */
	PF_EIO = -3,       /* local file or socket error */
	PF_ETOOBIG = -4,   /* a size limit was exceeded */
	PF_EAWS = -5,      /* AWS answered with an error (see service_code/http_status) */
	PF_ENET = -6,      /* network error or timeout talking to a peer */
	PF_EIMAGE = -7,    /* the image was refused (see reason) */
	PF_ENOTFOUND = -8, /* the thing asked for does not exist */
	PF_ECONFLICT = -9, /* a condition failed (stale write, concurrent change) */
	PF_ECANCELED = -10 /* the operation was cancelled (shutdown) */
};

struct pf_error {
	int code;              /* enum pf_error_code */
	int http_status;       /* HTTP status from a peer, 0 if none */
	bool retryable;        /* trying again later may succeed */
	char service_code[64]; /* e.g. "SlowDown", "ThrottlingException", or an image reason */
	char request_id[128];  /* AWS request id when known */
	char message[512];     /* human-readable, actionable */
};

/* Clears err (if not NULL). */
void pf_error_clear(struct pf_error *err);

/* Sets code and a printf-style message; returns code so callers can
 * `return pf_error_set(err, PF_EINVAL, "...")`. err may be NULL. */
int pf_error_set(struct pf_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context ("reading overlay: ..."). */
void pf_error_prefix(struct pf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Short stable name for a code ("invalid", "too_big", ...). */
const char *pf_error_code_name(int code);

#endif
