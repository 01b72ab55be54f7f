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

#include "photofinish/error.h"

/* Longest code: codes match ^[A-Z0-9_.-]{1,64}$. */
#define PF_IMAGE_CODE_MAX 64

/* Where the overlay goes on a variant. */
enum pf_image_gravity {
	PF_IMAGE_GRAVITY_CENTRE,
	PF_IMAGE_GRAVITY_NORTH,
	PF_IMAGE_GRAVITY_NORTH_EAST,
	PF_IMAGE_GRAVITY_EAST,
	PF_IMAGE_GRAVITY_SOUTH_EAST,
	PF_IMAGE_GRAVITY_SOUTH,
	PF_IMAGE_GRAVITY_SOUTH_WEST,
	PF_IMAGE_GRAVITY_WEST,
	PF_IMAGE_GRAVITY_NORTH_WEST
};

/* Symbology bits for pf_image_options.symbologies. */
enum pf_image_symbology {
	PF_IMAGE_SYM_QRCODE = 1 << 0,
	PF_IMAGE_SYM_CODE128 = 1 << 1,
	PF_IMAGE_SYM_CODE39 = 1 << 2,
	PF_IMAGE_SYM_CODE93 = 1 << 3,
	PF_IMAGE_SYM_EAN13 = 1 << 4,
	PF_IMAGE_SYM_EAN8 = 1 << 5,
	PF_IMAGE_SYM_UPCA = 1 << 6,
	PF_IMAGE_SYM_UPCE = 1 << 7,
	PF_IMAGE_SYM_I25 = 1 << 8,
	PF_IMAGE_SYM_CODABAR = 1 << 9,
	PF_IMAGE_SYM_DATABAR = 1 << 10
};

/* What the pipeline does, filled by the caller (the daemon and the
 * command-line tool translate their configuration into it). Copied by
 * pf_image_ctx_new; strings need not outlive the call. */
struct pf_image_options {
	int64_t max_input_bytes;  /* larger inputs are refused (too_many_bytes) */
	int64_t max_input_pixels; /* larger frames are refused before decoding */
	unsigned symbologies;     /* enum pf_image_symbology bits; 0 = QR + Code 128 */
	const char *code_pattern; /* POSIX ERE applied to payloads, or NULL */
	int fullsize_max;         /* longest edge of the fullsize variant */
	int thumbnail_max;        /* longest edge of the thumbnail */
	int jpeg_quality;         /* 1-100 */
	bool webp;                /* also encode both variants as WebP */
	enum pf_image_gravity overlay_gravity;
	double overlay_margin;  /* fraction of the variant's width */
	double overlay_width;   /* fraction of the variant's width */
	double overlay_opacity; /* 0-1 */
};

/* Parses a comma list of symbology names ("qrcode, code128"; case and
 * blanks around names ignored) into bits; false on an unknown or no name. */
bool pf_image_symbologies_parse(const char *s, unsigned *out);
/* The name of one symbology bit ("qrcode"), NULL when bit is not one. */
const char *pf_image_symbology_name(unsigned bit);
/* "centre" (or "center"), "north", "north-east", ... "north-west". */
bool pf_image_gravity_parse(const char *s, enum pf_image_gravity *out);
const char *pf_image_gravity_name(enum pf_image_gravity g);

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
	/* The same two variants as WebP (same pixels, overlay included); NULL
	 * when options.webp is off. */
	unsigned char *fullsize_webp;
	size_t fullsize_webp_len;
	unsigned char *thumbnail_webp;
	size_t thumbnail_webp_len;
	char taken_at[40]; /* RFC 3339 from EXIF, "" when absent */
	struct {
		double decode, scan, variants, total;
		double webp; /* the WebP encodes, part of variants */
	} ms;
};

/* Initialises libvips once per process (idempotent, thread-safe) and applies
 * the loader policy (untrusted loaders blocked). */
int pf_image_global_init(const char *argv0, struct pf_error *err);

/* overlay_png may be NULL (no overlay). The bytes are copied/decoded. */
int pf_image_ctx_new(const struct pf_image_options *opts, const void *overlay_png,
                     size_t overlay_len, struct pf_image_ctx **out, struct pf_error *err);
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
