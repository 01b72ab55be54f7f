/*
 * Operator actions on one photo (fix its codes, delete it everywhere) and
 * the owner of the admin jobs (admin_jobs.h: reprocess, clear, reset,
 * erase). Loop thread only.
 */
#include "photofinish/admin.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin_jobs.h"
#include "photofinish/aws/s3.h"
#include "photofinish/config.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

struct pf_admin {
	struct pf_admin_deps d;
	struct pf_admin_jobs *jobs;
	char task[17]; /* this task's id: who runs a job */
};

static int delete_photo(void *ctx, const char *id, pf_catalog_image_cb cb, void *arg,
                        struct pf_error *err);

int pf_admin_new(const struct pf_admin_deps *deps, struct pf_admin **out, struct pf_error *err)
{
	struct pf_admin *admin = pf_xcalloc(1, sizeof(*admin));
	unsigned char rnd[8];
	struct pf_admin_jobs_deps jd;

	admin->d = *deps;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		free(admin);
		return pf_error_set(err, PF_EIO, "no randomness for the task id");
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(admin->task + 2 * i, 3, "%02x", rnd[i]);
	jd = (struct pf_admin_jobs_deps){.base = deps->base,
	                                 .aws = deps->aws,
	                                 .catalog = deps->catalog,
	                                 .cfg = deps->cfg,
	                                 .delete_photo = delete_photo,
	                                 .delete_ctx = admin,
	                                 .task = admin->task,
	                                 .stale_seconds = deps->cfg->job_stale_seconds,
	                                 .on_codes_changed = deps->on_codes_changed,
	                                 .arg = deps->arg};
	if (pf_admin_jobs_new(&jd, &admin->jobs, err) < 0) {
		free(admin);
		return err->code;
	}
	*out = admin;
	return 0;
}

void pf_admin_free(struct pf_admin *admin)
{
	if (!admin)
		return;
	pf_admin_jobs_free(admin->jobs);
	free(admin);
}

const char *pf_admin_task(const struct pf_admin *admin)
{
	return admin->task;
}

struct pf_admin_jobs *pf_admin_jobs(struct pf_admin *admin)
{
	return admin->jobs;
}

json_t *pf_admin_image_json(const struct pf_catalog_image *img)
{
	static const char *const status[] = {"processed", "failed", "deleted"};
	json_t *codes = json_array();
	json_t *doc;

	for (size_t i = 0; i < img->ncodes; i++)
		json_array_append_new(codes, json_string(img->codes[i]));
	doc = json_pack("{s:s,s:s,s:I,s:s?,s:s?,s:s?,s:I,s:o,s:s,s:s?,s:s?,s:i,s:i,s:i,s:i,s:s?,"
	                "s:s?,s:s?,s:s?}",
	                "id", img->id, "status", status[img->status], "version",
	                (json_int_t)img->version, "bucket", img->bucket, "key", img->key, "etag",
	                img->etag, "size", (json_int_t)img->size, "codes", codes, "codesSource",
	                img->codes_manual ? "manual" : "detected", "fullsizeKey", img->fullsize_key,
	                "thumbnailKey", img->thumbnail_key, "width", img->width, "height",
	                img->height, "thumbnailWidth", img->thumbnail_width, "thumbnailHeight",
	                img->thumbnail_height, "takenAt", img->taken_at, "processedAt",
	                img->processed_at, "reason", img->reason, "message", img->message);
	/* null for photos processed without WebP variants. */
	json_object_set_new(doc, "fullsizeWebpKey",
	                    img->fullsize_webp_key ? json_string(img->fullsize_webp_key)
	                                           : json_null());
	json_object_set_new(doc, "thumbnailWebpKey",
	                    img->thumbnail_webp_key ? json_string(img->thumbnail_webp_key)
	                                            : json_null());
	return doc;
}

/* ---- single-photo actions ----------------------------------------------- */

struct action {
	struct pf_admin *admin;
	pf_admin_image_cb cb;
	void *arg;
	bool delete;
	bool edit;  /* codes are added, remove[] taken away */
	bool quiet; /* part of an erasure: the photo is not named in the log */
	char **codes;
	size_t ncodes;
	char **remove;
	size_t nremove;
	struct pf_catalog_image old;
	struct pf_catalog_image img;
};

static void action_finish(struct action *a, const struct pf_error *err)
{
	a->cb(err->code ? NULL : &a->img, err, a->arg);
	for (size_t i = 0; i < a->ncodes; i++)
		free(a->codes[i]);
	free(a->codes);
	for (size_t i = 0; i < a->nremove; i++)
		free(a->remove[i]);
	free(a->remove);
	pf_catalog_image_free(&a->old);
	pf_catalog_image_free(&a->img);
	free(a);
}

static void notify(struct pf_admin *admin, const struct pf_catalog_image *img)
{
	if (admin->d.on_codes_changed && img->ncodes)
		admin->d.on_codes_changed(admin->d.arg, img->codes, img->ncodes);
}

static void on_source_deleted(const struct pf_error *err, void *arg)
{
	struct action *a = arg;

	if (err->code)
		pf_warn("photo deleted but its original could not be",
		        PF_LS("key", a->quiet ? NULL : a->img.key), PF_LS("error", err->message));
	/* An erasure's audit keeps the code and the count, not the photos. */
	if (!a->quiet)
		pf_info("photo deleted by an operator", PF_LS("id", a->img.id),
		        PF_LS("key", a->img.key));
	action_finish(a, &(struct pf_error){0});
}

static void on_action_written(const struct pf_error *err, void *arg)
{
	struct action *a = arg;
	struct pf_error e;

	if (err->code) {
		struct pf_error c = *err;

		if (c.code == PF_ECONFLICT)
			pf_error_set(&c, PF_ECONFLICT, "the photo changed meanwhile; try again");
		action_finish(a, &c);
		return;
	}
	notify(a->admin, &a->old);
	notify(a->admin, &a->img);
	if (!a->delete) {
		pf_info("codes set by an operator", PF_LS("id", a->img.id),
		        PF_LS("key", a->img.key), PF_LI("codes", a->img.ncodes));
		action_finish(a, err);
		return;
	}
	if (!a->img.bucket || !a->img.key ||
	    pf_s3_delete_object(a->admin->d.aws, a->img.bucket, a->img.key, on_source_deleted, a,
	                        &e) < 0)
		on_source_deleted(&(struct pf_error){0}, a);
}

/* Writes the action's image (a tombstone for a delete) over the one read. */
static void write_action(struct action *a)
{
	struct pf_admin *admin = a->admin;
	struct pf_error err;
	char now[32];
	int rc;

	pf_format_rfc3339_ms(pf_now_ms(), now);
	a->img.version = a->old.version + 1;
	free(a->img.processed_at);
	a->img.processed_at = pf_xstrdup(now);
	if (a->delete) {
		pf_catalog_image_make_tombstone(&a->img);
		rc = pf_catalog_delete_photo(admin->d.catalog, admin->d.cfg->processed_bucket,
		                             &a->img, &a->old, on_action_written, a, &err);
	} else {
		rc = pf_catalog_write(admin->d.catalog, &a->img, &a->old, on_action_written, a,
		                      &err);
	}
	if (rc < 0)
		action_finish(a, &err);
}

static int compare_codes(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The photo's codes with the action's added and its remove[] taken away,
 * into a->codes (sorted, without duplicates). */
static int edit_codes(struct action *a, struct pf_error *err)
{
	char **out = pf_xcalloc(a->img.ncodes + a->ncodes + 1, sizeof(char *));
	size_t n = 0;

	for (size_t pass = 0; pass < 2; pass++) {
		char *const *from = pass ? a->codes : a->img.codes;
		size_t count = pass ? a->ncodes : a->img.ncodes;

		for (size_t i = 0; i < count; i++) {
			bool skip = false;

			for (size_t k = 0; k < a->nremove && !skip; k++)
				skip = !strcmp(from[i], a->remove[k]);
			for (size_t k = 0; k < n && !skip; k++)
				skip = !strcmp(from[i], out[k]);
			if (!skip)
				out[n++] = pf_xstrdup(from[i]);
		}
	}
	for (size_t i = 0; i < a->ncodes; i++)
		free(a->codes[i]);
	free(a->codes);
	a->codes = out;
	a->ncodes = n;
	if (n > PF_CATALOG_MAX_CODES)
		return pf_error_set(err, PF_EINVAL, "a photo keeps at most %d codes",
		                    PF_CATALOG_MAX_CODES);
	qsort(out, n, sizeof(char *), compare_codes);
	return 0;
}

static void on_action_read(const struct pf_catalog_image *img, const struct pf_error *err,
                           void *arg)
{
	struct action *a = arg;
	struct pf_error e;

	if (err->code) {
		action_finish(a, err);
		return;
	}
	if (!img || img->status == PF_IMAGE_DELETED) {
		pf_error_set(&e, PF_ENOTFOUND, "no such photo");
		action_finish(a, &e);
		return;
	}
	pf_catalog_image_copy(&a->old, img);
	pf_catalog_image_copy(&a->img, img);
	if (a->delete) {
		write_action(a);
		return;
	}
	if (img->status != PF_IMAGE_PROCESSED) {
		pf_error_set(&e, PF_EINVAL,
		             "the photo was not processed (%s); fix the original instead",
		             img->reason ? img->reason : "failed");
		action_finish(a, &e);
		return;
	}
	if (a->edit && edit_codes(a, &e) < 0) {
		action_finish(a, &e);
		return;
	}
	for (size_t i = 0; i < a->img.ncodes; i++)
		free(a->img.codes[i]);
	free(a->img.codes);
	a->img.codes = a->codes;
	a->img.ncodes = a->ncodes;
	a->codes = NULL;
	a->ncodes = 0;
	a->img.codes_manual = true;
	write_action(a);
}

static int start_action(struct pf_admin *admin, const char *id, bool delete, char *const *codes,
                        size_t n, char *const *remove, size_t nremove, bool edit, bool quiet,
                        pf_admin_image_cb cb, void *arg, struct pf_error *err)
{
	struct action *a;
	int rc;

	if (!pf_catalog_id_is_valid(id))
		return pf_error_set(err, PF_ENOTFOUND, "no such photo");
	if (n > PF_CATALOG_MAX_CODES || nremove > PF_CATALOG_MAX_CODES)
		return pf_error_set(err, PF_EINVAL, "at most %d codes per photo",
		                    PF_CATALOG_MAX_CODES);
	a = pf_xcalloc(1, sizeof(*a));
	a->admin = admin;
	a->cb = cb;
	a->arg = arg;
	a->delete = delete;
	a->edit = edit;
	a->quiet = quiet;
	a->codes = pf_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		a->codes[a->ncodes++] = pf_xstrdup(codes[i]);
	a->remove = pf_xcalloc(nremove + 1, sizeof(char *));
	for (size_t i = 0; i < nremove; i++)
		a->remove[a->nremove++] = pf_xstrdup(remove[i]);
	rc = pf_catalog_get(admin->d.catalog, id, on_action_read, a, err);
	if (rc < 0) {
		for (size_t i = 0; i < a->ncodes; i++)
			free(a->codes[i]);
		free(a->codes);
		for (size_t i = 0; i < a->nremove; i++)
			free(a->remove[i]);
		free(a->remove);
		free(a);
	}
	return rc;
}

int pf_admin_set_codes(struct pf_admin *admin, const char *id, char *const *codes, size_t n,
                       pf_admin_image_cb cb, void *arg, struct pf_error *err)
{
	return start_action(admin, id, false, codes, n, NULL, 0, false, false, cb, arg, err);
}

int pf_admin_edit_codes(struct pf_admin *admin, const char *id, char *const *add, size_t nadd,
                        char *const *remove, size_t nremove, pf_admin_image_cb cb, void *arg,
                        struct pf_error *err)
{
	return start_action(admin, id, false, add, nadd, remove, nremove, true, false, cb, arg,
	                    err);
}

int pf_admin_delete_image(struct pf_admin *admin, const char *id, pf_admin_image_cb cb, void *arg,
                          struct pf_error *err)
{
	return start_action(admin, id, true, NULL, 0, NULL, 0, false, false, cb, arg, err);
}

/* An erasure's delete of one photo (admin_jobs.c). */
static int delete_photo(void *ctx, const char *id, pf_catalog_image_cb cb, void *arg,
                        struct pf_error *err)
{
	return start_action(ctx, id, true, NULL, 0, NULL, 0, false, true, cb, arg, err);
}
