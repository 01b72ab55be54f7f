/*
 * The race's roster: the codes of registered participants, from a CSV
 * (first column; a header whose first column is "code" or "bib" is
 * skipped) and/or a comma-separated list. Codes are normalised as the
 * pipeline does. A lookup of a code without photos then says whether it is
 * a registered participant, suggestions keep to the roster, and operators
 * see codes with photos that are on no roster. Pure; one thread at a time.
 */
#ifndef PHOTOFINISH_ROSTER_H
#define PHOTOFINISH_ROSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "photofinish/error.h"

/* Codes a roster holds at most. */
#define PF_ROSTER_MAX_CODES 200000
/* Bytes of a roster CSV at most. */
#define PF_ROSTER_MAX_BYTES (16 * 1024 * 1024)

struct pf_roster;

struct pf_roster *pf_roster_new(void);
void pf_roster_free(struct pf_roster *r);
/* Adds the codes of a comma-separated list; PF_EINVAL naming the first
 * entry that is not a code (nothing is added then). */
int pf_roster_add_list(struct pf_roster *r, const char *list, struct pf_error *err);
/* Adds the first column of every CSV line (quoted or not); lines whose
 * first column is empty are skipped, as is a header line. PF_EINVAL when
 * a line's first column is not a code (naming the line), PF_ETOOBIG past
 * PF_ROSTER_MAX_BYTES or PF_ROSTER_MAX_CODES. */
int pf_roster_add_csv(struct pf_roster *r, const char *text, size_t len, struct pf_error *err);
/* Sorts and deduplicates; lookups need a frozen roster. */
void pf_roster_freeze(struct pf_roster *r);
bool pf_roster_has(const struct pf_roster *r, const char *code);
size_t pf_roster_count(const struct pf_roster *r);

/* Splits "s3://bucket/key" into new strings; false when it is not one. */
bool pf_roster_parse_s3_uri(const char *uri, char **bucket, char **key);

#endif
