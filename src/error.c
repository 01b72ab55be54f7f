/* Error struct helpers. Pure; any thread. */
#include "photofinish/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pf_error_clear(struct pf_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

int pf_error_set(struct pf_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void pf_error_prefix(struct pf_error *err, const char *fmt, ...)
{
	char prefix[256];
	char old[sizeof(err->message)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	/* Truncation is acceptable: the message stays readable, only shorter. */
	if (snprintf(err->message, sizeof(err->message), "%.200s: %.300s", prefix, old) < 0)
		err->message[0] = '\0';
}

const char *pf_error_code_name(int code)
{
	switch (code) {
	case PF_OK:
		return "ok";
	case PF_EINVAL:
		return "invalid";
	case PF_ENOMEM:
		return "no_memory";
	case PF_EIO:
		return "io";
	case PF_ETOOBIG:
		return "too_big";
	case PF_EAWS:
		return "aws";
	case PF_ENET:
		return "network";
	case PF_EIMAGE:
		return "image";
	case PF_ENOTFOUND:
		return "not_found";
	case PF_ECONFLICT:
		return "conflict";
	case PF_ECANCELED:
		return "canceled";
	default:
		return "unknown";
	}
}
