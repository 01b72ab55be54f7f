/*
 * The audit trail: every admin action is one JSON log line at info
 * (msg "admin action") and one entry in the catalog, listed newest first by
 * GET /admin/audit. An entry says who (the admin token's name), from where
 * (the client's address), what, on which photo(s) or code, and the outcome;
 * an erasure keeps the code and the count, never the photos. Loop thread.
 */
#ifndef PHOTOFINISH_ADMIN_AUDIT_H
#define PHOTOFINISH_ADMIN_AUDIT_H

#include <jansson.h>
#include <stdint.h>

struct pf_catalog;

/* A new entry at now: {"at","who","client","action","outcome"} (new
 * reference); add "photo", "key", "codes", "prefix", "job", "code",
 * "count", "error" as they apply. */
json_t *pf_admin_audit_entry(int64_t now_ms, const char *who, const char *client,
                             const char *action, const char *outcome);

/* Logs entry and stores it (stolen). A store that fails is logged (warn):
 * the log line stays the record. */
void pf_admin_audit_record(struct pf_catalog *cat, json_t *entry);

#endif
