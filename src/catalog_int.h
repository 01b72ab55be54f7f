/*
 * What only the catalog's files share: the storage format. Items are
 * DynamoDB attribute maps built and read here and nowhere else; unit tests
 * and fuzz targets use these pure builders directly. Any thread.
 *
 *   pk           sk                      item
 *   IMAGE#<id>   IMAGE                   the image item (source, variants,
 *                                        codes, status, version)
 *   CODE#<code>  <sort time>#<id>        one entry per participant code
 *   UNMATCHED    <sort time>#<id>        photos with no code
 *   FAILED       <processed time>#<id>   photos refused by the pipeline
 *   NAME#<name>  <sort time>#<id>        a photo by its key's last segment
 *   JOB, AUDIT, FENCE, COUNTS            the operators' records (catalog_admin.c)
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
/* The partition key of an image item (pk of size 8 + id). */
void pf_catalog__image_pk(const char *id, char pk[8 + PF_CATALOG_ID_LEN]);

/* The image item as an attribute map (new reference). */
json_t *pf_catalog_image_item(const struct pf_catalog_image *img);
/* Parses an image item; PF_EINVAL when it is not one. */
int pf_catalog_image_from_item(const json_t *item, struct pf_catalog_image *out,
                               struct pf_error *err);
/* Parses a listing entry item into the fields a listing row has (see
 * struct pf_catalog_page); PF_EINVAL when it has no valid id. */
int pf_catalog_entry_from_item(const json_t *item, struct pf_catalog_image *out,
                               struct pf_error *err);

/* The TransactItems that move the catalog from old (NULL: no image item
 * yet) to img (see pf_catalog_write). New reference. */
json_t *pf_catalog_transact_items(const char *table, const struct pf_catalog_image *img,
                                  const struct pf_catalog_image *old);

/* Cursors: opaque base64url of an entry's sort key. */
char *pf_catalog_cursor_encode(const char *sk);
/* Returns the sort key or NULL when the cursor is malformed. */
char *pf_catalog_cursor_decode(const char *cursor);

/* The partition of a photo's name entry ("NAME#" + the key's last segment,
 * lower-cased). New string. */
char *pf_catalog__name_pk(const char *key);

/* What a photo write changes in the code index and the photographers'
 * counts (catalog_index.c): computed with the transaction, applied once it
 * committed (pf_catalog__index_apply frees it). */
struct pf_catalog__index_delta;
struct pf_catalog__index_delta *pf_catalog__index_delta_new(const struct pf_catalog_image *old,
                                                            const struct pf_catalog_image *img);
/* The code changes (code, +1/-1) of a delta, at most max; for tests. */
size_t pf_catalog__index_delta_codes(const struct pf_catalog__index_delta *d, const char **codes,
                                     int64_t *by, size_t max);
void pf_catalog__index_delta_free(struct pf_catalog__index_delta *d);
void pf_catalog__index_apply(struct pf_catalog *cat, struct pf_catalog__index_delta *d);

/* A page of pk's entries whose sort key lies between from and to (both
 * NULL: all), ascending or not; the listings' common query (catalog.c). */
int pf_catalog__list_window(struct pf_catalog *cat, const char *pk, const char *from,
                            const char *to, bool descending,
                            const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                            void *arg, struct pf_error *err);

/* Counts a counter update after a photo write starting (+1) or ending (-1). */
void pf_catalog__background(struct pf_catalog *cat, int delta);
/* Credential items (catalog_credentials.c): pk CREDENTIAL, sk the
 * photographer; hash, createdMs, expiresMs, by, expiresAt (TTL seconds). */
struct pf_catalog_credential;
json_t *pf_catalog_credential_item(const struct pf_catalog_credential *c);
/* PF_EINVAL when item is not a well-formed credential. */
int pf_catalog_credential_from_item(const json_t *item, struct pf_catalog_credential *out);

/* The AWS client and table a catalog works on (for the other catalog files). */
struct pf_aws *pf_catalog__aws(const struct pf_catalog *cat);
const char *pf_catalog__table(const struct pf_catalog *cat);

#endif
