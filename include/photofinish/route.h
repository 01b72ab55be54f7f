/*
 * Route tables for the HTTP API: each surface declares its routes as one
 * table of {methods, pattern, handler}; matching a request's method and path
 * against a table is pure (strings in, route and parameters out) so it is
 * unit-tested without a server. Any thread.
 *
 * Patterns are literal segments and parameters: "/admin/images/{id}/codes".
 * "{name}" matches one non-empty segment; "{name*}" (last segment only)
 * matches the rest of the path, slashes included, possibly empty.
 * Parameter values are raw (still percent-encoded).
 */
#ifndef PHOTOFINISH_ROUTE_H
#define PHOTOFINISH_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum {
	PF_METHOD_GET = 1 << 0,
	PF_METHOD_HEAD = 1 << 1,
	PF_METHOD_POST = 1 << 2,
	PF_METHOD_PUT = 1 << 3,
	PF_METHOD_DELETE = 1 << 4,
	PF_METHOD_PATCH = 1 << 5,
	PF_METHOD_OPTIONS = 1 << 6,
};

#define PF_ROUTE_MAX_PARAMS 4
#define PF_ROUTE_MAX_PARAM_LEN 1024

/* A request being answered; the API defines it, routes only carry it. */
struct pf_api_request;

struct pf_route {
	unsigned methods; /* PF_METHOD_* mask */
	const char *pattern;
	void (*handler)(struct pf_api_request *req);
};

struct pf_route_params {
	size_t n;
	struct {
		const char *name; /* points into the pattern, name_len bytes */
		size_t name_len;
		const char *value; /* points into the path, len bytes */
		size_t len;
	} p[PF_ROUTE_MAX_PARAMS];
};

/* The route of routes[0..n) matching method (a PF_METHOD_*, or a mask for
 * any of several) and path, the
 * first in table order, with its parameters; NULL when none does. *allowed
 * is then the methods of routes whose pattern matched path (0: no such
 * path, else the method is wrong). */
const struct pf_route *pf_route_match(const struct pf_route *routes, size_t n, unsigned method,
                                      const char *path, struct pf_route_params *params,
                                      unsigned *allowed);

/* Copies parameter name into out (NUL-terminated); false when there is no
 * such parameter or it does not fit. */
bool pf_route_param(const struct pf_route_params *params, const char *name, char *out, size_t size);

/* A pattern as metrics and logs name it: "{code*}" reads "{code}". */
void pf_route_label(const char *pattern, char *out, size_t size);

/* "GET, HEAD, OPTIONS": methods for an Allow header, into out. */
void pf_route_methods_text(unsigned methods, char *out, size_t size);

#endif
