/*
 * What only the catalog's files share: the storage format's helpers.
 * Items are DynamoDB attribute maps built and read in src/catalog*.c and
 * nowhere else. Any thread (the pure helpers); the accessors on the loop
 * thread.
 */
#ifndef PHOTOFINISH_CATALOG_INT_H
#define PHOTOFINISH_CATALOG_INT_H

#include <jansson.h>

#include "photofinish/catalog.h"

/* Attribute values: {"S": value} and {"N": "123"}; set_s skips NULL. */
void pf_catalog__set_s(json_t *item, const char *name, const char *value);
void pf_catalog__set_n(json_t *item, const char *name, int64_t value);
/* NULL when absent or not a string attribute. */
const char *pf_catalog__get_s(const json_t *item, const char *name);
/* The primary key {"pk": {"S": pk}, "sk": {"S": sk}} (new reference). */
json_t *pf_catalog__key(const char *pk, const char *sk);

/* The AWS client and table a catalog works on. */
struct pf_aws *pf_catalog__aws(const struct pf_catalog *cat);
const char *pf_catalog__table(const struct pf_catalog *cat);

#endif
