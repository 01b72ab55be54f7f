/*
 * Internals shared by the files of the image pipeline (src/image/). Pure
 * helpers here are I/O-free so the unit tests and the fuzzer can call them
 * directly. Everything runs on worker threads except pf_image__ctx setup.
 */
#ifndef PHOTOFINISH_IMAGE_INT_H
#define PHOTOFINISH_IMAGE_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include <vips/vips.h>

#include "photofinish/error.h"
#include "photofinish/image.h"

struct pf_image_ctx {
	struct pf_image_options opts; /* code_pattern NULL: compiled into pattern */
	bool has_pattern;
	regex_t pattern;
	VipsImage *overlay; /* sRGB uchar with alpha (4 bands), or NULL */
};

/* --- codes.c: payload -> code (pure) ---------------------------------- */

/* A growing, sorted, deduplicated set of codes. */
struct pf_image__codes {
	char **v;
	size_t n, cap;
};

/* Maps one decoded payload to a code: trims it, applies pattern (the first
 * capture group, else the whole match; NULL = the whole payload), trims and
 * upper-cases the result and validates it. Returns false when the payload
 * yields no valid code (no match, bad characters, binary data). */
bool pf_image__payload_to_code(const regex_t *pattern, const char *payload, size_t len,
                               char out[PF_IMAGE_CODE_MAX + 1]);

/* Adds a code (already normalised) keeping the set sorted and unique. */
void pf_image__codes_add(struct pf_image__codes *set, const char *code);
void pf_image__codes_free(struct pf_image__codes *set);

/* --- overlay.c ------------------------------------------------------- */

struct pf_image__rect {
	int x, y, w, h;
};

/* Where the overlay goes on a variant of vw x vh: scaled to width_frac of
 * the variant's width (aspect kept), kept margin_frac x vw from the edges
 * named by gravity and shrunk to fit inside the margins. Returns false when
 * the result would be empty (nothing to draw). */
bool pf_image__overlay_geometry(int vw, int vh, int ow, int oh, enum pf_image_gravity gravity,
                                double margin_frac, double width_frac, struct pf_image__rect *out);

/* Composites ctx->overlay on in (sRGB uchar, 3 bands); *out is a new image
 * (a reference to in when there is no overlay). */
int pf_image__apply_overlay(const struct pf_image_ctx *ctx, VipsImage *in, VipsImage **out);

/* --- exif.c ---------------------------------------------------------- */

/* Parses EXIF "YYYY:MM:DD HH:MM:SS" (+ optional "+HH:MM" offset) into
 * RFC 3339; false when the text is not a plausible date. */
bool pf_image__exif_to_rfc3339(const char *datetime, const char *offset, char out[40]);

/* Reads DateTimeOriginal/OffsetTimeOriginal from the header into out ("" when absent). */
void pf_image__taken_at(VipsImage *header, char out[40]);

/* --- webp.c ---------------------------------------------------------- */

/* Rewrites a WebP file in place as the simple format (RIFF, "WEBP", one
 * "VP8 " or "VP8L" chunk), dropping VP8X and metadata chunks (EXIF, XMP,
 * ICCP); returns the new length. Anything else (alpha, animation, an
 * unparsable file) is left as it is and len returned. Pure. */
size_t pf_image__webp_simple(unsigned char *buf, size_t len);

/* --- detect.c -------------------------------------------------------- */

/* Frames up to this many pixels are read whole at their original size by
 * the scanner; larger ones whole at 1/4 and 1/8 (detect.c). */
#define PF_IMAGE__WHOLE_MAX_PX 2200000

struct pf_image__reduce;

struct pf_image__grey {
	unsigned char *px; /* row-major, stride == w */
	int w, h;
	/* Box averages over 4 x 4 and 8 x 8 pixels (w/4 x h/4, w/8 x h/8;
	 * partial blocks dropped), made while decoding frames above
	 * PF_IMAGE__WHOLE_MAX_PX (NULL otherwise; the scanner then makes them
	 * itself if it needs them). */
	unsigned char *q4, *q8;
	struct pf_image__reduce *reduce; /* state while the planes are made */
};

/* Making q4 and q8 row by row while the frame is written: begin once w and h
 * are set (does nothing for small frames), row after each row y of px is
 * complete (rows in order), release when the planes are no longer needed. */
void pf_image__reduce_begin(struct pf_image__grey *g);
void pf_image__reduce_row(struct pf_image__grey *g, int y);
void pf_image__grey_release(struct pf_image__grey *g);

/* Scan statistics, for tests and benchmarks. */
struct pf_image__scan_stats {
	int regions;          /* candidate regions scanned */
	long long scanned_px; /* pixels handed to zbar, of which: */
	long long whole_px;   /* in the whole-frame passes */
	long long turned_px;  /* in regions turned upright */
	long long retry_px;   /* in regions read again enlarged or reduced */
	long long weak_px;    /* in weak regions (at half size) */
	long long fold_px;    /* in unread regions unfolded about a guessed crease */
	int read_plain;       /* regions read as they are */
	int read_turned;      /* regions read after turning a tilted barcode upright */
	int read_enlarged;    /* regions read after enlarging */
	int read_reduced;     /* regions read at half size */
	int read_smoothed;    /* regions read after smoothing (noisy frames) */
	int read_whole;       /* whole-frame passes that read a symbol */
	int read_weak;        /* weak-region reads (as is or turned) that read a symbol */
	int read_unfolded;    /* regions read after unfolding */
};

/* Finds codes in a full-resolution greyscale frame: the whole frame (small
 * frames) or its 1/4 and 1/8 planes, candidate regions from a cheap block
 * contrast map, each scanned at full resolution (and enlarged when small,
 * or unfolded about a crease when a fold's shading shows in an unread one),
 * and weak regions (blurred or grey-printed codes) at half size. Adds
 * normalised codes to set. */
int pf_image__scan(const struct pf_image_ctx *ctx, const struct pf_image__grey *g,
                   struct pf_image__codes *set, struct pf_image__scan_stats *stats,
                   struct pf_error *err);

#endif
