/*
 * Operator actions: fix a photo's codes by hand, delete one photo; and the
 * owner of the long ones, run as jobs any task reports (admin_jobs.h:
 * reprocess, clear, reset, erase). Loop thread only; callbacks follow the
 * AWS client's contract (on error the callback never runs, otherwise once).
 */
#ifndef PHOTOFINISH_ADMIN_H
#define PHOTOFINISH_ADMIN_H

#include <jansson.h>
#include <stddef.h>

#include "photofinish/catalog.h"
#include "photofinish/error.h"

struct event_base;
struct pf_aws;
struct pf_config;
struct pf_admin;
struct pf_admin_jobs;

struct pf_admin_deps {
	struct event_base *base; /* the jobs' takeover timer */
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

/* Adds codes to a processed photo's and takes remove[] away (both
 * normalised by the caller), in one write conditioned on the version read,
 * so two operators' edits never lose one another's; marked manual. */
int pf_admin_edit_codes(struct pf_admin *admin, const char *id, char *const *add, size_t nadd,
                        char *const *remove, size_t nremove, pf_admin_image_cb cb, void *arg,
                        struct pf_error *err);

/* This task's id (random, 16 hex digits). */
const char *pf_admin_task(const struct pf_admin *admin);
/* The jobs (admin_jobs.h). */
struct pf_admin_jobs *pf_admin_jobs(struct pf_admin *admin);

/* An image item as the admin API shows it (new reference). */
json_t *pf_admin_image_json(const struct pf_catalog_image *img);

#endif
