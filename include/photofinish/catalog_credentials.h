/*
 * Photographers' upload credentials in the catalog: one item per
 * photographer (creating again replaces it), holding the SHA-256 of the
 * secret, never the secret, with its creation and expiry times and the
 * operator who created it. DynamoDB's TTL removes an item once it has
 * expired; readers check the expiry themselves as TTL deletes late.
 *
 * Loop thread only, with the AWS client's callback contract: when an
 * operation returns an error its callback never runs, otherwise it runs
 * exactly once.
 */
#ifndef PHOTOFINISH_CATALOG_CREDENTIALS_H
#define PHOTOFINISH_CATALOG_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/catalog.h"
#include "photofinish/error.h"

/* Credentials read at most (one per photographer). */
#define PF_CATALOG_MAX_CREDENTIALS 1000

struct pf_catalog_credential {
	char photographer[41];
	char hash[65]; /* hex SHA-256 of the secret */
	int64_t created_ms;
	int64_t expires_ms;
	char by[65]; /* who created it */
};

/* Stores c, replacing the photographer's credential if any. */
int pf_catalog_credential_put(struct pf_catalog *cat, const struct pf_catalog_credential *c,
                              pf_catalog_done_cb cb, void *arg, struct pf_error *err);

/* Every stored credential (expired ones too: the caller decides), sorted
 * by photographer. Borrowed for the callback. */
typedef void (*pf_catalog_credentials_cb)(const struct pf_catalog_credential *list, size_t n,
                                          const struct pf_error *err, void *arg);
int pf_catalog_credential_list(struct pf_catalog *cat, pf_catalog_credentials_cb cb, void *arg,
                               struct pf_error *err);

/* Deletes the photographer's credential; the callback's err is
 * PF_ENOTFOUND when there was none. */
int pf_catalog_credential_delete(struct pf_catalog *cat, const char *photographer,
                                 pf_catalog_done_cb cb, void *arg, struct pf_error *err);

#endif
