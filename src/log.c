/*
 * JSON-lines logger. Any thread: the level is an atomic, a line is built in a
 * private buffer and written with one write(2) under a mutex so lines from
 * different threads never interleave.
 */
#define _POSIX_C_SOURCE 200809L
#include "photofinish/log.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

/* Process-wide logger settings: documented global state (set once at start-up). */
static atomic_int log_min_level = PF_LOG_INFO;
static atomic_int log_fd = 1;
static pthread_mutex_t log_write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void pf_log_set_level(enum pf_log_level level)
{
	atomic_store(&log_min_level, (int)level);
}

bool pf_log_enabled(enum pf_log_level level)
{
	return (int)level >= atomic_load(&log_min_level);
}

bool pf_log_level_parse(const char *s, enum pf_log_level *out)
{
	if (!s)
		return false;
	if (!strcasecmp(s, "debug"))
		*out = PF_LOG_DEBUG;
	else if (!strcasecmp(s, "info"))
		*out = PF_LOG_INFO;
	else if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning"))
		*out = PF_LOG_WARN;
	else if (!strcasecmp(s, "error"))
		*out = PF_LOG_ERROR;
	else
		return false;
	return true;
}

const char *pf_log_level_name(enum pf_log_level level)
{
	if ((int)level < 0 || (int)level > PF_LOG_ERROR)
		return "info";
	return level_names[level];
}

void pf_log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
}

void pf_json_append_string(struct pf_buf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	pf_buf_append(b, "\"", 1);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		switch (c) {
		case '"':
			pf_buf_append(b, "\\\"", 2);
			i++;
			continue;
		case '\\':
			pf_buf_append(b, "\\\\", 2);
			i++;
			continue;
		case '\n':
			pf_buf_append(b, "\\n", 2);
			i++;
			continue;
		case '\r':
			pf_buf_append(b, "\\r", 2);
			i++;
			continue;
		case '\t':
			pf_buf_append(b, "\\t", 2);
			i++;
			continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7F) {
			pf_buf_appendf(b, "\\u%04x", c);
			i++;
			continue;
		}
		n = pf_codec_utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			pf_buf_append(b, "\\ufffd", 6);
			i++;
			continue;
		}
		pf_buf_append(b, s + i, n);
		i += n;
	}
	pf_buf_append(b, "\"", 1);
}

static void append_key(struct pf_buf *b, const char *key)
{
	pf_buf_append(b, ",", 1);
	pf_json_append_string(b, key ? key : "", key ? strlen(key) : 0);
	pf_buf_append(b, ":", 1);
}

char *pf_log_format(int64_t epoch_ms, enum pf_log_level level, const char *msg,
                    const struct pf_log_field *fields, size_t nfields)
{
	struct pf_buf b;
	char ts[32];

	pf_buf_init(&b);
	pf_format_rfc3339_ms(epoch_ms, ts);
	pf_buf_appendf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts,
	               pf_log_level_name(level));
	pf_json_append_string(&b, msg ? msg : "", msg ? strlen(msg) : 0);
	for (size_t i = 0; i < nfields; i++) {
		const struct pf_log_field *f = &fields[i];

		/* Reserved keys would make the line ambiguous for log tooling. */
		if (f->key &&
		    (!strcmp(f->key, "ts") || !strcmp(f->key, "level") || !strcmp(f->key, "msg")))
			continue;
		append_key(&b, f->key);
		switch (f->type) {
		case PF_LF_STR:
			if (f->v.s)
				pf_json_append_string(&b, f->v.s, strlen(f->v.s));
			else
				pf_buf_append_str(&b, "null");
			break;
		case PF_LF_INT:
			pf_buf_appendf(&b, "%lld", f->v.i);
			break;
		case PF_LF_DBL:
			if (isfinite(f->v.d))
				pf_buf_appendf(&b, "%.3f", f->v.d);
			else
				pf_buf_append_str(&b, "null");
			break;
		case PF_LF_BOOL:
			pf_buf_append_str(&b, f->v.b ? "true" : "false");
			break;
		case PF_LF_RAW:
			pf_buf_append_str(&b, f->v.s && *f->v.s ? f->v.s : "null");
			break;
		}
	}
	pf_buf_append(&b, "}\n", 2);
	return pf_buf_steal(&b, NULL);
}

void pf_log_write(enum pf_log_level level, const char *msg, const struct pf_log_field *fields,
                  size_t nfields)
{
	char *line;
	size_t len, off = 0;
	int fd;

	if (!pf_log_enabled(level))
		return;
	line = pf_log_format(pf_now_ms(), level, msg, fields, nfields);
	len = strlen(line);
	fd = atomic_load(&log_fd);
	pthread_mutex_lock(&log_write_lock);
	while (off < len) {
		ssize_t n = write(fd, line + off, len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
	pthread_mutex_unlock(&log_write_lock);
	free(line);
}
