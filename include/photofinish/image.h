/*
 * The image pipeline: guards, code detection, orientation, colour, overlay,
 * variants. pf_image_process runs on worker threads only and touches nothing
 * but its arguments and the read-only context.
 */
#ifndef PHOTOFINISH_IMAGE_H
#define PHOTOFINISH_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/config.h"
#include "photofinish/error.h"

/* Longest code: codes match ^[A-Z0-9_.-]{1,64}$. */
#define PF_IMAGE_CODE_MAX 64

/* Read-only after creation; shared by all workers (the overlay is decoded
 * once, the code pattern compiled once). */
struct pf_image_ctx;

struct pf_image_result {
	char **codes; /* normalised, validated, deduplicated, sorted */
	size_t ncodes;
	unsigned char *fullsize_jpeg;
	size_t fullsize_len;
	int width, height; /* fullsize variant */
	unsigned char *thumbnail_jpeg;
	size_t thumbnail_len;
	int thumbnail_width, thumbnail_height;
	char taken_at[40]; /* RFC 3339 from EXIF, "" when absent */
	struct {
		double decode, scan, variants, total;
	} ms;
};

/* Initialises libvips once per process (idempotent, thread-safe) and applies
 * the loader policy (untrusted loaders blocked). */
int pf_image_global_init(const char *argv0, struct pf_error *err);

/* overlay_png may be NULL (no overlay). The bytes are copied/decoded. */
int pf_image_ctx_new(const struct pf_config *cfg, const void *overlay_png, size_t overlay_len,
                     struct pf_image_ctx **out, struct pf_error *err);
void pf_image_ctx_free(struct pf_image_ctx *ctx);

/* Processes one photo. On refusal returns PF_EIMAGE or PF_ETOOBIG with
 * err->service_code holding a stable reason ("too_many_bytes",
 * "too_many_pixels", "unsupported_format", "corrupt", "empty", ...) and
 * err->message a human explanation; err->retryable is false for refusals. */
int pf_image_process(const struct pf_image_ctx *ctx, const void *bytes, size_t len,
                     struct pf_image_result *out, struct pf_error *err);

void pf_image_result_free(struct pf_image_result *r);

/* Normalises a participant code as the pipeline does (trim, upper-case) and
 * validates it against ^[A-Z0-9_.-]{1,64}$; false when invalid. For codes
 * that come from elsewhere (admin edits, API paths). Pure; any thread. */
bool pf_image_code_normalise(const char *in, char out[PF_IMAGE_CODE_MAX + 1]);

#endif
