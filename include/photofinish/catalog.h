/*
 * The catalog: what the daemon knows about every photo, in one DynamoDB
 * table (pk/sk strings). Layout (see docs/architecture.md):
 *
 *   IMAGE#<id>  / IMAGE                   the image item (source, variants,
 *                                          codes, status, version)
 *   CODE#<code> / <sort time>#<id>        one entry per participant code
 *   UNMATCHED   / <sort time>#<id>        photos with no code
 *   FAILED      / <processed time>#<id>   photos refused by the pipeline
 *
 * <id> is stable for a source object (a hash of bucket and key), so
 * reprocessing overwrites instead of duplicating. Every write of an image
 * and its entries is one TransactWriteItems conditioned on the version the
 * writer read, so two writers never leave stale entries behind.
 *
 * Item building and parsing are pure (any thread); the operations run on the
 * loop thread with the AWS client's callback contract.
 */
#ifndef PHOTOFINISH_CATALOG_H
#define PHOTOFINISH_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

struct pf_aws;
struct pf_catalog;

#define PF_CATALOG_ID_LEN 32
/* Codes recorded per photo; more would not fit one transaction (100 items). */
#define PF_CATALOG_MAX_CODES 40

enum pf_catalog_status { PF_IMAGE_PROCESSED, PF_IMAGE_FAILED, PF_IMAGE_DELETED };

struct pf_catalog_image {
	char id[PF_CATALOG_ID_LEN + 1];
	enum pf_catalog_status status;
	int64_t version; /* 0 before the first write */
	char *bucket;
	char *key;
	char *etag;
	int64_t size;
	char *sequencer; /* padded, "" when unknown */
	char *reason;    /* failed: stable reason code */
	char *message;   /* failed: human explanation */
	char **codes;
	size_t ncodes;
	bool codes_manual; /* set by an operator, kept across reprocessing of the same bytes */
	char *fullsize_key;
	char *thumbnail_key;
	int width, height, thumbnail_width, thumbnail_height;
	char *taken_at;     /* RFC 3339 or NULL */
	char *sort_time;    /* taken_at, else the upload time: orders entries */
	char *processed_at; /* RFC 3339 */
};

/* The stable id of a source object: hex of the first 128 bits of
 * SHA-256(bucket "/" key). */
void pf_catalog_image_id(const char *bucket, const char *key, char out[PF_CATALOG_ID_LEN + 1]);

void pf_catalog_image_free(struct pf_catalog_image *img);
/* Deep copy. */
void pf_catalog_image_copy(struct pf_catalog_image *dst, const struct pf_catalog_image *src);

/* The image item as a DynamoDB attribute map (new reference). */
json_t *pf_catalog_image_item(const struct pf_catalog_image *img);
/* Parses an image item; PF_EINVAL when it is not one. */
int pf_catalog_image_from_item(const json_t *item, struct pf_catalog_image *out,
                               struct pf_error *err);

/* The TransactItems that move the catalog from old (NULL: no image item
 * yet) to img: the image item conditioned on old's version, deletes of old
 * entries img no longer has, puts of img's entries. img->version must be
 * old's + 1. New reference. */
json_t *pf_catalog_transact_items(const char *table, const struct pf_catalog_image *img,
                                  const struct pf_catalog_image *old);

/* Cursor encoding for participant pages: opaque base64url of the sort key. */
char *pf_catalog_cursor_encode(const char *sk);
/* Returns the sort key or NULL when the cursor is malformed. */
char *pf_catalog_cursor_decode(const char *cursor);

int pf_catalog_new(struct pf_aws *aws, const char *table, struct pf_catalog **out,
                   struct pf_error *err);
void pf_catalog_free(struct pf_catalog *cat);

/* img is NULL (with err->code 0) when there is no image item. Borrowed for
 * the callback; copy what you keep. */
typedef void (*pf_catalog_image_cb)(const struct pf_catalog_image *img, const struct pf_error *err,
                                    void *arg);
int pf_catalog_get(struct pf_catalog *cat, const char *id, pf_catalog_image_cb cb, void *arg,
                   struct pf_error *err);

typedef void (*pf_catalog_done_cb)(const struct pf_error *err, void *arg);
/* Writes img (see pf_catalog_transact_items). PF_ECONFLICT when another
 * writer changed the image since old was read: read again and retry. */
int pf_catalog_write(struct pf_catalog *cat, const struct pf_catalog_image *img,
                     const struct pf_catalog_image *old, pf_catalog_done_cb cb, void *arg,
                     struct pf_error *err);

/* One page of a listing: entries (array of attribute maps, borrowed) and the
 * cursor for the next page (NULL on the last). */
typedef void (*pf_catalog_page_cb)(json_t *entries, const char *next_cursor,
                                   const struct pf_error *err, void *arg);
/* Lists entries under pk ("CODE#10423", "UNMATCHED", "FAILED") oldest first,
 * at most limit, after cursor (NULL for the first page). */
int pf_catalog_list(struct pf_catalog *cat, const char *pk, int limit, const char *cursor,
                    pf_catalog_page_cb cb, void *arg, struct pf_error *err);

#endif
