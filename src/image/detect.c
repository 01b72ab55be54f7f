/*
 * Code detection: finds where codes may be with a cheap block contrast map
 * over the full-resolution greyscale frame, then runs zbar on those regions
 * only, at full resolution (and enlarged when the region is small, where
 * zbar's edge finder misses 2-3 px modules). Worker threads; each call owns
 * its zbar scanner.
 *
 * Why a contrast map: printed codes are dense black-on-white edges in a
 * small area; the map costs one pass over every second row and column (a few
 * ms for 24 MP) and typically leaves a few percent of the frame for zbar,
 * whose cost is proportional to the pixels it scans.
 */
#include <stdlib.h>
#include <string.h>

#include <zbar.h>

#include "image/image_int.h"
#include "photofinish/util.h"

/* Tunables, measured with bench/run (docs/benchmarks.md). */
#define BLOCK 16         /* map cell, full-resolution pixels */
#define EDGE_STEP 40     /* grey difference over 2 px counted as an edge */
#define EDGE_MIN_FRAC 10 /* % of samples in a cell that are edges */
#define RANGE_MIN 80     /* max - min grey within a cell */
#define MIN_CELLS 4      /* smaller blobs cannot hold a readable code */
#define PAD 40           /* px around a blob: quiet zone and blur */
#define SMALL_REGION 700 /* regions up to this size are retried enlarged */

static const struct {
	unsigned bit;
	zbar_symbol_type_t type;
} zbar_types[] = {
    {PF_SYM_QRCODE, ZBAR_QRCODE},   {PF_SYM_CODE128, ZBAR_CODE128}, {PF_SYM_CODE39, ZBAR_CODE39},
    {PF_SYM_CODE93, ZBAR_CODE93},   {PF_SYM_EAN13, ZBAR_EAN13},     {PF_SYM_EAN8, ZBAR_EAN8},
    {PF_SYM_UPCA, ZBAR_UPCA},       {PF_SYM_UPCE, ZBAR_UPCE},       {PF_SYM_I25, ZBAR_I25},
    {PF_SYM_CODABAR, ZBAR_CODABAR}, {PF_SYM_DATABAR, ZBAR_DATABAR},
};

static zbar_image_scanner_t *scanner_new(unsigned symbologies)
{
	zbar_image_scanner_t *sc = zbar_image_scanner_create();

	if (!sc)
		return NULL;
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	for (size_t i = 0; i < sizeof(zbar_types) / sizeof(zbar_types[0]); i++) {
		if (symbologies & zbar_types[i].bit)
			zbar_image_scanner_set_config(sc, zbar_types[i].type, ZBAR_CFG_ENABLE, 1);
	}
	if (symbologies & PF_SYM_DATABAR)
		zbar_image_scanner_set_config(sc, ZBAR_DATABAR_EXP, ZBAR_CFG_ENABLE, 1);
	return sc;
}

/* Scans one Y800 buffer; returns how many symbols zbar decoded (valid code or not). */
static int scan_buffer(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                       const unsigned char *px, int w, int h, struct pf_image__codes *set)
{
	zbar_image_t *img = zbar_image_create();
	int found = 0;

	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, (unsigned)w, (unsigned)h);
	zbar_image_set_data(img, px, (unsigned long)w * (unsigned long)h, NULL);
	if (zbar_scan_image(sc, img) > 0) {
		for (const zbar_symbol_t *s = zbar_image_first_symbol(img); s;
		     s = zbar_symbol_next(s)) {
			char code[PF_IMAGE_CODE_MAX + 1];

			found++;
			if (pf_image__payload_to_code(ctx->has_pattern ? &ctx->pattern : NULL,
			                              zbar_symbol_get_data(s),
			                              zbar_symbol_get_data_length(s), code))
				pf_image__codes_add(set, code);
		}
	}
	zbar_image_destroy(img);
	return found;
}

int pf_image__scan_full(const struct pf_image_ctx *ctx, const struct pf_image__grey *g,
                        struct pf_image__codes *set, struct pf_error *err)
{
	zbar_image_scanner_t *sc = scanner_new(ctx->symbologies);

	if (!sc)
		return pf_error_set(err, PF_ENOMEM, "cannot create a zbar scanner");
	scan_buffer(ctx, sc, g->px, g->w, g->h, set);
	zbar_image_scanner_destroy(sc);
	return 0;
}

struct box {
	int x0, y0, x1, y1; /* pixels, half-open */
};

/* Copies g[b] into a tight buffer, enlarged by an integer factor with bilinear
 * interpolation (zbar wants one contiguous plane). */
static unsigned char *crop(const struct pf_image__grey *g, const struct box *b, int scale, int *ow,
                           int *oh)
{
	int w = b->x1 - b->x0, h = b->y1 - b->y0;
	unsigned char *out;

	*ow = w * scale;
	*oh = h * scale;
	out = pf_xmalloc((size_t)*ow * (size_t)*oh);
	if (scale == 1) {
		for (int y = 0; y < h; y++)
			memcpy(out + (size_t)y * w, g->px + (size_t)(b->y0 + y) * g->w + b->x0,
			       (size_t)w);
		return out;
	}
	for (int y = 0; y < *oh; y++) {
		/* Sample positions at pixel centres: (dst + 0.5) / scale - 0.5, in 1/256. */
		int sy = ((2 * y + 1) * 128) / scale - 128;
		int y0 = sy >> 8, fy = sy & 255;
		const unsigned char *r0, *r1;
		unsigned char *o = out + (size_t)y * *ow;

		if (sy < 0) {
			y0 = 0;
			fy = 0;
		}
		if (y0 >= h - 1) {
			y0 = h - 1;
			fy = 0;
		}
		r0 = g->px + (size_t)(b->y0 + y0) * g->w + b->x0;
		r1 = fy ? r0 + g->w : r0;
		for (int x = 0; x < *ow; x++) {
			int sx = ((2 * x + 1) * 128) / scale - 128;
			int x0 = sx >> 8, fx = sx & 255, x1;
			int top, bot;

			if (sx < 0) {
				x0 = 0;
				fx = 0;
			}
			x1 = x0 + 1 < w ? x0 + 1 : x0;
			top = r0[x0] * (256 - fx) + r0[x1] * fx;
			bot = r1[x0] * (256 - fx) + r1[x1] * fx;
			o[x] = (unsigned char)((top * (256 - fy) + bot * fy + 32768) >> 16);
		}
	}
	return out;
}

/* Marks map cells that look like printed code: many strong edges and a wide
 * grey range. Samples every second row and column. */
static void contrast_map(const struct pf_image__grey *g, unsigned char *map, int mw, int mh)
{
	int need = (BLOCK / 2) * (BLOCK / 2) * EDGE_MIN_FRAC / 100;

	for (int by = 0; by < mh; by++) {
		for (int bx = 0; bx < mw; bx++) {
			int edges = 0, lo = 255, hi = 0;
			int x0 = bx * BLOCK, y0 = by * BLOCK;
			int x1 = x0 + BLOCK, y1 = y0 + BLOCK;

			if (x1 > g->w - 2)
				x1 = g->w - 2;
			if (y1 > g->h - 2)
				y1 = g->h - 2;
			for (int y = y0; y < y1; y += 2) {
				const unsigned char *r = g->px + (size_t)y * g->w;
				const unsigned char *r2 = r + 2 * (size_t)g->w;

				for (int x = x0; x < x1; x += 2) {
					int v = r[x];
					int dx = abs(r[x + 2] - v), dy = abs(r2[x] - v);

					edges += (dx >= EDGE_STEP) | (dy >= EDGE_STEP);
					if (v < lo)
						lo = v;
					if (v > hi)
						hi = v;
				}
			}
			map[by * mw + bx] = edges >= need && hi - lo >= RANGE_MIN;
		}
	}
}

/* Connected blobs of marked cells (8-neighbourhood, after a one-cell dilation
 * so a code's cells join up) as padded pixel boxes. */
static size_t blobs(const unsigned char *map, int mw, int mh, const struct pf_image__grey *g,
                    struct box **out)
{
	size_t ncells = (size_t)mw * mh, nboxes = 0, cap = 0;
	unsigned char *dil = pf_xcalloc(ncells, 1);
	int *stack = pf_xmalloc(ncells * sizeof(*stack));
	struct box *boxes = NULL;

	for (int y = 0; y < mh; y++) {
		for (int x = 0; x < mw; x++) {
			if (!map[y * mw + x])
				continue;
			for (int dy = -1; dy <= 1; dy++) {
				for (int dx = -1; dx <= 1; dx++) {
					int yy = y + dy, xx = x + dx;

					if (yy >= 0 && yy < mh && xx >= 0 && xx < mw)
						dil[yy * mw + xx] |= 1;
				}
			}
		}
	}
	for (size_t i = 0; i < ncells; i++) {
		int bx0, by0, bx1, by1, core = 0;
		size_t sp = 0;

		if (dil[i] != 1)
			continue;
		dil[i] = 2;
		stack[sp++] = (int)i;
		bx0 = bx1 = (int)(i % mw);
		by0 = by1 = (int)(i / mw);
		while (sp) {
			int c = stack[--sp], cx = c % mw, cy = c / mw;

			core += map[c];
			if (cx < bx0)
				bx0 = cx;
			if (cx > bx1)
				bx1 = cx;
			if (cy < by0)
				by0 = cy;
			if (cy > by1)
				by1 = cy;
			for (int dy = -1; dy <= 1; dy++) {
				for (int dx = -1; dx <= 1; dx++) {
					int yy = cy + dy, xx = cx + dx;

					if (yy < 0 || yy >= mh || xx < 0 || xx >= mw ||
					    dil[yy * mw + xx] != 1)
						continue;
					dil[yy * mw + xx] = 2;
					stack[sp++] = yy * mw + xx;
				}
			}
		}
		if (core < MIN_CELLS)
			continue;
		if (nboxes == cap) {
			cap = cap ? cap * 2 : 16;
			boxes = pf_xrealloc(boxes, cap * sizeof(*boxes));
		}
		boxes[nboxes].x0 = bx0 * BLOCK - PAD < 0 ? 0 : bx0 * BLOCK - PAD;
		boxes[nboxes].y0 = by0 * BLOCK - PAD < 0 ? 0 : by0 * BLOCK - PAD;
		boxes[nboxes].x1 = (bx1 + 1) * BLOCK + PAD > g->w ? g->w : (bx1 + 1) * BLOCK + PAD;
		boxes[nboxes].y1 = (by1 + 1) * BLOCK + PAD > g->h ? g->h : (by1 + 1) * BLOCK + PAD;
		nboxes++;
	}
	free(stack);
	free(dil);
	*out = boxes;
	return nboxes;
}

int pf_image__scan(const struct pf_image_ctx *ctx, const struct pf_image__grey *g,
                   struct pf_image__codes *set, struct pf_image__scan_stats *stats,
                   struct pf_error *err)
{
	int mw = g->w / BLOCK, mh = g->h / BLOCK;
	zbar_image_scanner_t *sc;
	unsigned char *map;
	struct box *boxes = NULL;
	size_t nboxes;

	memset(stats, 0, sizeof(*stats));
	/* Frames too small for a map are cheap to scan whole. */
	if (mw < 4 || mh < 4)
		return pf_image__scan_full(ctx, g, set, err);
	sc = scanner_new(ctx->symbologies);
	if (!sc)
		return pf_error_set(err, PF_ENOMEM, "cannot create a zbar scanner");
	map = pf_xmalloc((size_t)mw * mh);
	contrast_map(g, map, mw, mh);
	nboxes = blobs(map, mw, mh, g, &boxes);
	for (size_t i = 0; i < nboxes; i++) {
		const struct box *b = &boxes[i];
		int w = b->x1 - b->x0, h = b->y1 - b->y0, cw, ch;
		unsigned char *px = crop(g, b, 1, &cw, &ch);
		int found = scan_buffer(ctx, sc, px, cw, ch, set);

		stats->regions++;
		stats->scanned_px += (long long)cw * ch;
		free(px);
		if (found || w > SMALL_REGION || h > SMALL_REGION)
			continue;
		px = crop(g, b, 2, &cw, &ch);
		scan_buffer(ctx, sc, px, cw, ch, set);
		stats->scanned_px += (long long)cw * ch;
		free(px);
	}
	free(boxes);
	free(map);
	zbar_image_scanner_destroy(sc);
	return 0;
}
