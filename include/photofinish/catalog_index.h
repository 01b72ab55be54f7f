/*
 * The catalog's indexes for runners and operators, kept beside the photos
 * by every photo write (see pf_catalog_write):
 *
 *   - the code index: every code with its number of photos, which "did you
 *     mean" reads whole (pk CODES, sk <code>, photos; ADD after each write);
 *   - per-photographer counts (pk COUNTS, sk PHOTOGRAPHER#<name>: processed,
 *     unmatched, failed; ADD after each write like the race's counts);
 *   - the time-ordered listings of processed photos, written in the photo's
 *     own transaction (PHOTOS and PHOTOS#<photographer>, sk <sort time>#<id>),
 *     read with pf_catalog_list_photos.
 *
 * A clear deletes all of them with the photos. The photographer of a photo
 * is the first segment of its key after the ingress prefix ("" when the key
 * has no folder). Loop thread for the operations (the AWS client's callback
 * contract); the pure helpers run on any thread.
 */
#ifndef PHOTOFINISH_CATALOG_INDEX_H
#define PHOTOFINISH_CATALOG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/catalog.h"
#include "photofinish/error.h"

/* The longest photographer name kept in an index. */
#define PF_CATALOG_PHOTOGRAPHER_MAX 64
/* Photographers listed at most. */
#define PF_CATALOG_MAX_PHOTOGRAPHERS 1000

/* The photographer of key under prefix (NULL: none), a new string; NULL when
 * key is not under prefix or its first segment is longer than
 * PF_CATALOG_PHOTOGRAPHER_MAX. Pure. */
char *pf_catalog_photographer_of(const char *key, const char *prefix);
/* Whether name is one operators can address ([a-z0-9][a-z0-9_-]{0,39}). Pure. */
bool pf_catalog_photographer_is_valid(const char *name);

/* One code of the code index. */
struct pf_catalog_code_count {
	const char *code;
	int64_t photos;
};

/* The whole code index (codes with photos > 0), at most max codes; more is
 * true when some were left out. Borrowed for the callback. */
typedef void (*pf_catalog_codes_cb)(const struct pf_catalog_code_count *codes, size_t n, bool more,
                                    const struct pf_error *err, void *arg);
int pf_catalog_codes_list(struct pf_catalog *cat, size_t max, pf_catalog_codes_cb cb, void *arg,
                          struct pf_error *err);

/* One photographer's counts. */
struct pf_catalog_photographer_counts {
	const char *name;
	struct pf_catalog_counts counts;
};
typedef void (*pf_catalog_photographers_cb)(const struct pf_catalog_photographer_counts *list,
                                            size_t n, const struct pf_error *err, void *arg);
/* Every photographer with counts, by name. Borrowed for the callback. */
int pf_catalog_photographers_list(struct pf_catalog *cat, pf_catalog_photographers_cb cb, void *arg,
                                  struct pf_error *err);

/* A time window over the processed photos, all of them or one
 * photographer's: from <= sort time < to (RFC 3339 text compares as time
 * when both sides are in the catalog's form). */
struct pf_catalog_photos_query {
	const char *photographer; /* NULL: every photographer */
	const char *from, *to;
	bool descending;
};
/* A page of the window; PF_EINVAL when the cursor is malformed. */
int pf_catalog_list_photos(struct pf_catalog *cat, const struct pf_catalog_photos_query *q,
                           const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                           void *arg, struct pf_error *err);

/* Camera clock offsets per photographer (pk CLOCK, sk <name>, offsetSeconds):
 * operators' settings, which a clear keeps. */
#define PF_CATALOG_MAX_CLOCK_OFFSET (7 * 86400)
struct pf_catalog_clock {
	const char *name;
	int64_t offset_s;
};
/* Stores name's offset (|offset_s| <= PF_CATALOG_MAX_CLOCK_OFFSET). */
int pf_catalog_clock_put(struct pf_catalog *cat, const char *name, int64_t offset_s,
                         pf_catalog_done_cb cb, void *arg, struct pf_error *err);
/* Every stored offset, by name (a consistent read). Borrowed for the callback. */
typedef void (*pf_catalog_clocks_cb)(const struct pf_catalog_clock *clocks, size_t n,
                                     const struct pf_error *err, void *arg);
int pf_catalog_clocks_list(struct pf_catalog *cat, pf_catalog_clocks_cb cb, void *arg,
                           struct pf_error *err);

/* taken_at (RFC 3339 as the pipeline writes it: the camera's wall clock,
 * then Z or its zone) moved by offset_s: *taken_out keeps the zone,
 * *sort_out is the wall clock as Z (what time listings compare). False
 * when taken_at is not in that form. Pure. */
bool pf_catalog_corrected_time(const char *taken_at, int64_t offset_s, char taken_out[40],
                               char sort_out[40]);

#endif
