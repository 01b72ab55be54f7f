/*
 * Route matching: a segment-by-segment walk of pattern and path. Pure.
 */
#include "photofinish/route.h"

#include <stdio.h>
#include <string.h>

/* Whether path matches pattern; fills params. */
static bool match_one(const char *pattern, const char *path, struct pf_route_params *params)
{
	params->n = 0;
	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *close = strchr(pattern, '}');
			bool rest = close && close > pattern + 1 && close[-1] == '*';
			size_t len = rest ? strlen(path) : strcspn(path, "/");

			if (!close || params->n == PF_ROUTE_MAX_PARAMS ||
			    len > PF_ROUTE_MAX_PARAM_LEN || (len == 0 && !rest))
				return false;
			params->p[params->n].name = pattern + 1;
			params->p[params->n].name_len =
			    (size_t)(close - pattern - 1) - (rest ? 1 : 0);
			params->p[params->n].value = path;
			params->p[params->n].len = len;
			params->n++;
			pattern = close + 1;
			path += len;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	/* "{name*}" may match nothing at the very end. */
	if (!*path && pattern[0] == '{' && strstr(pattern, "*}") && !strchr(pattern, '/') &&
	    params->n < PF_ROUTE_MAX_PARAMS) {
		const char *close = strchr(pattern, '}');

		params->p[params->n].name = pattern + 1;
		params->p[params->n].name_len = (size_t)(close - pattern - 2);
		params->p[params->n].value = path;
		params->p[params->n].len = 0;
		params->n++;
		pattern = close + 1;
	}
	return !*pattern && !*path;
}

const struct pf_route *pf_route_match(const struct pf_route *routes, size_t n, unsigned method,
                                      const char *path, struct pf_route_params *params,
                                      unsigned *allowed)
{
	struct pf_route_params scratch;

	*allowed = 0;
	for (size_t i = 0; i < n; i++) {
		if (!match_one(routes[i].pattern, path, &scratch))
			continue;
		if (routes[i].methods & method) {
			*params = scratch;
			return &routes[i];
		}
		*allowed |= routes[i].methods;
	}
	return NULL;
}

bool pf_route_param(const struct pf_route_params *params, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < params->n; i++) {
		if (params->p[i].name_len != n || memcmp(params->p[i].name, name, n))
			continue;
		if (params->p[i].len >= size)
			return false;
		memcpy(out, params->p[i].value, params->p[i].len);
		out[params->p[i].len] = '\0';
		return true;
	}
	return false;
}

void pf_route_methods_text(unsigned methods, char *out, size_t size)
{
	static const char *const names[] = {"GET",    "HEAD",  "POST",   "PUT",
	                                    "DELETE", "PATCH", "OPTIONS"};
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int w;

		if (!(methods & (1u << i)))
			continue;
		w = snprintf(out + used, size - used, "%s%s", used ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= size - used) {
			out[used] = '\0'; /* whole names only */
			return;
		}
		used += (size_t)w;
	}
}

void pf_route_label(const char *pattern, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = pattern; *p && o + 1 < size; p++) {
		if (!(p[0] == '*' && p[1] == '}'))
			out[o++] = *p;
	}
	out[o] = '\0';
}
