/*
 * Operator actions: fix a photo's codes by hand, delete one photo, reprocess
 * the whole ingress bucket, clear a race. Long actions run as background jobs
 * whose progress can be read. Loop thread only; callbacks follow the AWS
 * client's contract (on error the callback never runs, otherwise once).
 */
#ifndef PHOTOFINISH_ADMIN_H
#define PHOTOFINISH_ADMIN_H

#include <jansson.h>
#include <stddef.h>

#include "photofinish/catalog.h"
#include "photofinish/error.h"

struct pf_aws;
struct pf_config;
struct pf_admin;

struct pf_admin_deps {
	struct pf_aws *aws;
	struct pf_catalog *catalog;
	const struct pf_config *cfg;
	/* A write changed what these codes answer (n == 0: everything). */
	void (*on_codes_changed)(void *arg, char *const *codes, size_t n);
	void *arg;
};

int pf_admin_new(const struct pf_admin_deps *deps, struct pf_admin **out, struct pf_error *err);
void pf_admin_free(struct pf_admin *admin);

/* img is the image after the action (NULL on error). */
typedef void (*pf_admin_image_cb)(const struct pf_catalog_image *img, const struct pf_error *err,
                                  void *arg);

/* Replaces a processed photo's codes (normalised, validated, deduplicated by
 * the caller) and marks them manual, so reprocessing the same bytes keeps
 * them. PF_ENOTFOUND: no such photo; PF_EINVAL: not a processed photo. */
int pf_admin_set_codes(struct pf_admin *admin, const char *id, char *const *codes, size_t n,
                       pf_admin_image_cb cb, void *arg, struct pf_error *err);

/* Deletes a photo: its variants, its catalog entries (a tombstone remains)
 * and its original in the ingress bucket, so a reprocess cannot bring it back. */
int pf_admin_delete_image(struct pf_admin *admin, const char *id, pf_admin_image_cb cb, void *arg,
                          struct pf_error *err);

/* Starts a background job; returns its description (new reference), or
 * NULL when 4 jobs are running already. */
json_t *pf_admin_start_reprocess(struct pf_admin *admin);
json_t *pf_admin_start_clear(struct pf_admin *admin);
/* A job's progress (new reference), NULL when unknown. */
json_t *pf_admin_job(struct pf_admin *admin, const char *id);

/* An image item as the admin API shows it (new reference). */
json_t *pf_admin_image_json(const struct pf_catalog_image *img);

#endif
