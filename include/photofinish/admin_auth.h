/*
 * Who may use the admin API: the configured named tokens. A request's
 * bearer secret is compared with every token's in constant time (SHA-256 of
 * both, CRYPTO_memcmp, no early exit), so neither the time taken nor the
 * secret's length tells a caller how close it came. Only digests are kept.
 * Pure; any thread once built.
 */
#ifndef PHOTOFINISH_ADMIN_AUTH_H
#define PHOTOFINISH_ADMIN_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "photofinish/config.h"

struct pf_admin_auth;

/* From the configuration's token list (none: the admin API is off). */
void pf_admin_auth_new(const struct pf_config *cfg, struct pf_admin_auth **out);
void pf_admin_auth_free(struct pf_admin_auth *auth);

/* Whether any token is configured. */
bool pf_admin_auth_is_enabled(const struct pf_admin_auth *auth);

/* The name of the token an Authorization header value ("Bearer <secret>")
 * carries, or NULL when it carries none of them (or no header: NULL). The
 * name stays owned by auth. */
const char *pf_admin_auth_check(const struct pf_admin_auth *auth, const char *authorization);

/* The SHA-256 of the secret of the token of this name into out; false when
 * there is no such token (an admin session's binding is made from it). */
bool pf_admin_auth_digest(const struct pf_admin_auth *auth, const char *name,
                          unsigned char out[32]);

#endif
