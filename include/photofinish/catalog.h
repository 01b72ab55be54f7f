/*
 * The catalog: what the daemon knows about every photo. Only the catalog
 * knows how it is stored (one DynamoDB table, its keys, item shapes and
 * attribute encoding; see docs/architecture.md); everyone else reads and
 * writes typed values: images, listing entries, pages with opaque cursors.
 *
 * A photo's id is stable for a source object (a hash of bucket and key), so
 * reprocessing overwrites instead of duplicating. Every write of an image
 * and its entries is one transaction conditioned on the version the writer
 * read, so two writers never leave stale entries behind.
 *
 * The value helpers are pure (any thread); the operations run on the loop
 * thread with the AWS client's callback contract: when an operation returns
 * an error its callback never runs, otherwise it runs exactly once.
 */
#ifndef PHOTOFINISH_CATALOG_H
#define PHOTOFINISH_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

struct pf_aws;
struct pf_catalog;

#define PF_CATALOG_ID_LEN 32
/* Codes recorded per photo; more would not fit one transaction (100 items). */
#define PF_CATALOG_MAX_CODES 40
/* The most entries one page may ask for. */
#define PF_CATALOG_MAX_PAGE 500

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
	/* The same variants as WebP; NULL for photos processed without them. */
	char *fullsize_webp_key;
	char *thumbnail_webp_key;
	int width, height, thumbnail_width, thumbnail_height;
	char *taken_at;     /* RFC 3339 or NULL */
	char *sort_time;    /* taken_at, else the upload time: orders entries */
	char *processed_at; /* RFC 3339 */
	char *photographer; /* the key's first segment under the ingress prefix; NULL: unknown */
};

/* One page of a listing, borrowed for the callback. Each row holds what a
 * reader shows without reading the image item: for a photo (a code's or an
 * unmatched one) status processed, id, key, variant keys (WebP ones when it
 * has them) and sizes,
 * taken_at and codes; for a failed photo status failed, id, key, reason,
 * message and processed_at. Other fields are unset. next_cursor is NULL on
 * the last page: a cursor never leads to an empty page. */
struct pf_catalog_page {
	const struct pf_catalog_image *entries;
	size_t count;
	const char *next_cursor;
};

/* What page of a listing to read. */
struct pf_catalog_page_options {
	int limit;          /* 1 to PF_CATALOG_MAX_PAGE */
	const char *cursor; /* from a previous page; NULL for the first */
};

/* The stable id of a source object: hex of the first 128 bits of
 * SHA-256(bucket "/" key). */
void pf_catalog_image_id(const char *bucket, const char *key, char out[PF_CATALOG_ID_LEN + 1]);
/* Whether id has the shape of an image id (32 lower-case hex digits). */
bool pf_catalog_id_is_valid(const char *id);

void pf_catalog_image_free(struct pf_catalog_image *img);
/* Deep copy. */
void pf_catalog_image_copy(struct pf_catalog_image *dst, const struct pf_catalog_image *src);
/* Turns img into the tombstone of a removed photo: status deleted, no codes
 * (so nothing manual either), no variants. The rest (source, sequencer,
 * sort time) stays so later events are still ordered against it. */
void pf_catalog_image_make_tombstone(struct pf_catalog_image *img);

/* The most variant objects one photo has: fullsize and thumbnail, as JPEG
 * and as WebP. */
#define PF_CATALOG_MAX_VARIANTS 4
/* The keys of img's variant objects that are set (JPEGs first); returns how
 * many. The pointers are img's. */
size_t pf_catalog_image_variant_keys(const struct pf_catalog_image *img,
                                     const char *keys[PF_CATALOG_MAX_VARIANTS]);

/* Whether cursor is one a listing could have returned (shape only). */
bool pf_catalog_cursor_is_valid(const char *cursor);

int pf_catalog_new(struct pf_aws *aws, const char *table, struct pf_catalog **out,
                   struct pf_error *err);
void pf_catalog_free(struct pf_catalog *cat);

/* img is NULL (with err->code 0) when there is no image item. Borrowed for
 * the callback; copy what you keep. */
typedef void (*pf_catalog_image_cb)(const struct pf_catalog_image *img, const struct pf_error *err,
                                    void *arg);
int pf_catalog_get(struct pf_catalog *cat, const char *id, pf_catalog_image_cb cb, void *arg,
                   struct pf_error *err);

/* The most ids pf_catalog_get_many reads at once (BatchGetItem's limit). */
#define PF_CATALOG_GET_MANY_MAX 100
/* imgs[i] is the image of ids[i], NULL when there is none; all borrowed for
 * the callback. imgs is NULL when err->code is set. */
typedef void (*pf_catalog_images_cb)(const struct pf_catalog_image *const *imgs, size_t n,
                                     const struct pf_error *err, void *arg);
/* Reads the images of 1 to PF_CATALOG_GET_MANY_MAX ids (repeats allowed) in
 * one BatchGetItem, eventually consistent: for showing a status, not for a
 * read before a write. Keys DynamoDB leaves unprocessed are asked again, at
 * most 3 requests in all, then the read fails as retryable. */
int pf_catalog_get_many(struct pf_catalog *cat, const char *const *ids, size_t n,
                        pf_catalog_images_cb cb, void *arg, struct pf_error *err);

typedef void (*pf_catalog_done_cb)(const struct pf_error *err, void *arg);
/* Moves the catalog from old (NULL: no image item yet) to img: the image
 * item conditioned on old's version, entries img no longer has deleted, its
 * current entries written. img->version must be old's + 1. PF_ECONFLICT
 * when another writer changed the image since old was read: read again and
 * retry. */
int pf_catalog_write(struct pf_catalog *cat, const struct pf_catalog_image *img,
                     const struct pf_catalog_image *old, pf_catalog_done_cb cb, void *arg,
                     struct pf_error *err);

/* Removes a photo: deletes old's variants (NULL: no image item yet, nothing
 * to delete) from processed_bucket, then writes img made a tombstone (see
 * pf_catalog_image_make_tombstone) as pf_catalog_write does. When S3 refuses
 * the catalog is left as it was (PF_EAWS): removing again is safe. */
int pf_catalog_delete_photo(struct pf_catalog *cat, const char *processed_bucket,
                            const struct pf_catalog_image *img, const struct pf_catalog_image *old,
                            pf_catalog_done_cb cb, void *arg, struct pf_error *err);

/* Listings, oldest first. PF_EINVAL when the cursor is malformed. */
typedef void (*pf_catalog_page_cb)(const struct pf_catalog_page *page, const struct pf_error *err,
                                   void *arg);
/* Whether a write failed because a clear or reset holds the fence
 * (catalog_admin.h): retryable once it is lowered. */
bool pf_catalog_is_fenced(const struct pf_error *err);

/* The photos whose key's last segment is name (compared lower-cased): the
 * file name a photographer gives. PF_EINVAL when name is empty or has '/'. */
int pf_catalog_list_name(struct pf_catalog *cat, const char *name,
                         const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                         void *arg, struct pf_error *err);
/* The photos tagged with code (normalised). */
int pf_catalog_list_code(struct pf_catalog *cat, const char *code,
                         const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                         void *arg, struct pf_error *err);
/* Processed photos without a code: the manual-tagging queue. */
int pf_catalog_list_unmatched(struct pf_catalog *cat, const struct pf_catalog_page_options *opts,
                              pf_catalog_page_cb cb, void *arg, struct pf_error *err);
/* Photos the pipeline refused, by processing time. */
int pf_catalog_list_failed(struct pf_catalog *cat, const struct pf_catalog_page_options *opts,
                           pf_catalog_page_cb cb, void *arg, struct pf_error *err);

/* Clearing a race, one step at a time so a job can report progress and
 * stop: deletes up to one page of items (every kind) and says how many and
 * where the next step starts (an opaque token; NULL when nothing is left).
 * Pass NULL for the first step. */
typedef void (*pf_catalog_clear_cb)(size_t deleted, const char *next, const struct pf_error *err,
                                    void *arg);
int pf_catalog_clear_step(struct pf_catalog *cat, const char *from, pf_catalog_clear_cb cb,
                          void *arg, struct pf_error *err);

/* Photos by status, kept by the catalog's writes. */
struct pf_catalog_counts {
	int64_t processed; /* unmatched ones included */
	int64_t unmatched;
	int64_t failed;
};

/* The change a write from old (NULL: none) to img makes to the counts. Pure. */
void pf_catalog_counts_delta(const struct pf_catalog_image *old, const struct pf_catalog_image *img,
                             struct pf_catalog_counts *delta);
/* Adds delta (nothing is sent when it is all zero: cb runs at once). */
int pf_catalog_counts_add(struct pf_catalog *cat, const struct pf_catalog_counts *delta,
                          pf_catalog_done_cb cb, void *arg, struct pf_error *err);
typedef void (*pf_catalog_counts_cb)(const struct pf_catalog_counts *counts,
                                     const struct pf_error *err, void *arg);
int pf_catalog_counts_get(struct pf_catalog *cat, pf_catalog_counts_cb cb, void *arg,
                          struct pf_error *err);
/* Counter updates (counts, code index) that follow photo writes and are
 * still in flight: a draining daemon waits for them so none is cut off. */
size_t pf_catalog_background(const struct pf_catalog *cat);

#endif
