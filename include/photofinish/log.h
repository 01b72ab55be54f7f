/*
 * Structured logging: one JSON object per line on stdout with `ts` (RFC 3339
 * UTC, ms), `level`, `msg` and the caller's fields. Every string is escaped
 * (control characters, quotes, invalid UTF-8 replaced by U+FFFD), so anything
 * may be passed. Safe from any thread: a line is written with one write(2)
 * under a mutex. Never pass secrets, signatures or presigned URLs.
 */
#ifndef PHOTOFINISH_LOG_H
#define PHOTOFINISH_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pf_log_level { PF_LOG_DEBUG = 0, PF_LOG_INFO = 1, PF_LOG_WARN = 2, PF_LOG_ERROR = 3 };

enum pf_log_field_type { PF_LF_STR, PF_LF_INT, PF_LF_DBL, PF_LF_BOOL, PF_LF_RAW };

struct pf_log_field {
	const char *key;
	enum pf_log_field_type type;
	union {
		const char *s; /* PF_LF_STR (NULL → null), PF_LF_RAW: pre-serialised JSON */
		long long i;
		double d;
		bool b;
	} v;
};

#define PF_LS(k, val) ((struct pf_log_field){.key = (k), .type = PF_LF_STR, .v.s = (val)})
#define PF_LI(k, val)                                                                              \
	((struct pf_log_field){.key = (k), .type = PF_LF_INT, .v.i = (long long)(val)})
#define PF_LD(k, val) ((struct pf_log_field){.key = (k), .type = PF_LF_DBL, .v.d = (double)(val)})
#define PF_LB(k, val) ((struct pf_log_field){.key = (k), .type = PF_LF_BOOL, .v.b = (val)})
/* val must be valid JSON text (e.g. from json_dumps). */
#define PF_LJ(k, val) ((struct pf_log_field){.key = (k), .type = PF_LF_RAW, .v.s = (val)})

/* Sets the minimum level written. */
void pf_log_set_level(enum pf_log_level level);
bool pf_log_enabled(enum pf_log_level level);
/* Parses "debug", "info", "warn"/"warning", "error". */
bool pf_log_level_parse(const char *s, enum pf_log_level *out);
const char *pf_log_level_name(enum pf_log_level level);

/* Redirects output to fd (default 1); used by tests. */
void pf_log_set_fd(int fd);

/* Formats one line (with trailing newline) into a malloc'd string; the core
 * of pf_log_write, exposed for tests. */
char *pf_log_format(int64_t epoch_ms, enum pf_log_level level, const char *msg,
                    const struct pf_log_field *fields, size_t nfields);

void pf_log_write(enum pf_log_level level, const char *msg, const struct pf_log_field *fields,
                  size_t nfields);

/* Appends s as a JSON string literal (quoted, escaped) to a malloc'd buffer
 * helper; used by other writers that must never emit invalid JSON. */
struct pf_buf;
void pf_json_append_string(struct pf_buf *b, const char *s, size_t len);

#define PF_LOG_FIELDS_(...) ((const struct pf_log_field[]){__VA_ARGS__})
#define PF_LOG_NFIELDS_(...) (sizeof(PF_LOG_FIELDS_(__VA_ARGS__)) / sizeof(struct pf_log_field))

/* pf_log(PF_LOG_INFO, "image processed", PF_LS("key", key), PF_LI("ms", ms)); */
#define pf_log(level, msg, ...)                                                                    \
	do {                                                                                       \
		if (pf_log_enabled(level))                                                         \
			pf_log_write((level), (msg), PF_LOG_FIELDS_(__VA_ARGS__),                  \
			             PF_LOG_NFIELDS_(__VA_ARGS__));                                \
	} while (0)

#define pf_debug(msg, ...) pf_log(PF_LOG_DEBUG, msg, __VA_ARGS__)
#define pf_info(msg, ...) pf_log(PF_LOG_INFO, msg, __VA_ARGS__)
#define pf_warn(msg, ...) pf_log(PF_LOG_WARN, msg, __VA_ARGS__)
#define pf_error_log(msg, ...) pf_log(PF_LOG_ERROR, msg, __VA_ARGS__)

#endif
