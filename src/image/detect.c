/*
 * Code detection, two complementary passes. The whole frame: zbar on the
 * frame itself when it is small (up to ~2 MP), else on 1/4 and 1/8 box
 * reductions made while decoding (close-ups: modules of 12-80 px become
 * ordinary there). The regions: a cheap block contrast map over the
 * full-resolution frame finds where small codes may be, and zbar reads
 * those regions only, at full resolution (turned upright, enlarged, reduced
 * or smoothed when that is what they need, blob by blob: a blob no decoded
 * symbol lies in is retried even when its region read another code; last,
 * a blob still unread whose paper shows a fold's shading step is unfolded
 * about that crease and read for QR codes). The
 * weak regions: a second map, on the 1/4 plane, marks what the first misses
 * because it is blurred or printed grey; those are read at half size after
 * a local contrast stretch. Worker threads; each call owns its zbar
 * scanner.
 *
 * Why a contrast map: printed codes are dense black-on-white edges in a
 * small area; the map costs one pass over every second row and column (a few
 * ms for 24 MP) and typically leaves a few percent of the frame for zbar,
 * whose cost is proportional to the pixels it scans.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zbar.h>

#include "image/image_int.h"
#include "photofinish/util.h"

/* Tunables, measured with bench/run (docs/benchmarks.md). */
#define BLOCK 16          /* map cell, full-resolution pixels */
#define EDGE_STEP 80      /* grey difference over 2 px counted as an edge */
#define EDGE_MIN_FRAC 15  /* % of samples in a cell that are edges */
#define RANGE_MIN 120     /* max - min grey within a cell */
#define MIN_CELLS 4       /* smaller blobs cannot hold a readable code */
#define PAD 48            /* px around a blob: a 12 px module QR code's quiet zone */
#define SMALL_REGION 320  /* regions up to this size are retried enlarged */
#define LARGE_REGION 600  /* regions from this size are retried at half size */
#define WEAK_STEP 40      /* grey difference over 4 px: a weak cell (blur, grey print) */
#define WEAK_RANGE 60     /* max - min grey within a weak cell */
#define WEAK_MIN_CELLS 24 /* a weak blob: at least this many weak cells, */
#define WEAK_FILL 30      /* filling this % of its box, at most 1/4 of the frame */
#define STRETCH_TILE 32   /* px of the (halved) weak region */
#define STRETCH_MIN 32    /* grey levels */
#define STRONG 1          /* map cell values */
#define WEAK 2
#define NOISY 11 /* noise_level() from which failed regions are retried smoothed */
/* The whole frame is read too: at its original size up to
 * PF_IMAGE__WHOLE_MAX_PX (about 2 MP: 1920 x 1080 and 1800 x 1200 included),
 * larger ones at 1/4 and 1/8 of their width and height, where modules of
 * 12-80 px become ordinary and the pass is cheap. Either way, whatever zbar
 * reads on the whole frame so defined, the scanner reads too
 * (bench/wholeframe.py). Scan-line density of the 1/4 and 1/8 passes: */
#define WHOLE_DENSITY 2

static const struct {
	unsigned bit;
	zbar_symbol_type_t type;
} zbar_types[] = {
    {PF_IMAGE_SYM_QRCODE, ZBAR_QRCODE},   {PF_IMAGE_SYM_CODE128, ZBAR_CODE128},
    {PF_IMAGE_SYM_CODE39, ZBAR_CODE39},   {PF_IMAGE_SYM_CODE93, ZBAR_CODE93},
    {PF_IMAGE_SYM_EAN13, ZBAR_EAN13},     {PF_IMAGE_SYM_EAN8, ZBAR_EAN8},
    {PF_IMAGE_SYM_UPCA, ZBAR_UPCA},       {PF_IMAGE_SYM_UPCE, ZBAR_UPCE},
    {PF_IMAGE_SYM_I25, ZBAR_I25},         {PF_IMAGE_SYM_CODABAR, ZBAR_CODABAR},
    {PF_IMAGE_SYM_DATABAR, ZBAR_DATABAR},
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
	if (symbologies & PF_IMAGE_SYM_DATABAR)
		zbar_image_scanner_set_config(sc, ZBAR_DATABAR_EXP, ZBAR_CFG_ENABLE, 1);
	return sc;
}

/* Where a buffer handed to zbar lies in the frame: frame = A * buffer + t
 * (crops, enlargements, halvings and turns compose). */
struct affine {
	double xx, xy, tx, yx, yy, ty;
};

/* outer after inner. */
static struct affine affine_then(const struct affine *outer, const struct affine *inner)
{
	struct affine r;

	r.xx = outer->xx * inner->xx + outer->xy * inner->yx;
	r.xy = outer->xx * inner->xy + outer->xy * inner->yy;
	r.tx = outer->xx * inner->tx + outer->xy * inner->ty + outer->tx;
	r.yx = outer->yx * inner->xx + outer->yy * inner->yx;
	r.yy = outer->yx * inner->xy + outer->yy * inner->yy;
	r.ty = outer->yx * inner->tx + outer->yy * inner->ty + outer->ty;
	return r;
}

/* A buffer k times the size of the frame's pixels from (x, y). */
static struct affine affine_scaled(double x, double y, double k)
{
	return (struct affine){1 / k, 0, x, 0, 1 / k, y};
}

/* Centres of the symbols zbar decoded, in frame pixels: which candidate
 * blobs of a region were read and which still want retries. */
struct hits {
	double *xy;
	size_t n, cap;
};

static void hits_add(struct hits *h, double x, double y)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		h->xy = pf_xrealloc(h->xy, h->cap * 2 * sizeof(*h->xy));
	}
	h->xy[2 * h->n] = x;
	h->xy[2 * h->n + 1] = y;
	h->n++;
}

/* Scans one Y800 buffer; returns how many symbols zbar decoded (valid code
 * or not) and, when hits is given, records their centres through at. */
static int scan_buffer(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                       const unsigned char *px, int w, int h, struct pf_image__codes *set,
                       const struct affine *at, struct hits *hits)
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
			unsigned npts = zbar_symbol_get_loc_size(s);

			found++;
			if (pf_image__payload_to_code(ctx->has_pattern ? &ctx->pattern : NULL,
			                              zbar_symbol_get_data(s),
			                              zbar_symbol_get_data_length(s), code))
				pf_image__codes_add(set, code);
			if (hits && at && npts) {
				double x = 0, y = 0;

				for (unsigned i = 0; i < npts; i++) {
					x += zbar_symbol_get_loc_x(s, i);
					y += zbar_symbol_get_loc_y(s, i);
				}
				x /= npts;
				y /= npts;
				hits_add(hits, at->xx * x + at->xy * y + at->tx,
				         at->yx * x + at->yy * y + at->ty);
			}
		}
	}
	zbar_image_destroy(img);
	return found;
}

/* Box averages of the frame over 4 x 4 and 8 x 8 pixels, rounded like
 * Pillow's Image.reduce (so the bench's whole-frame baseline sees the same
 * pixels), made while the frame is decoded: each block row is summed while
 * its four rows are still in cache (a separate pass over a 24 MP plane costs
 * several ms of memory traffic). */
struct pf_image__reduce {
	unsigned short *col; /* 4-row column sums, 4 * w4 */
	unsigned int *s4;    /* 4 x 4 sums of the current block row, w4 */
	unsigned int *s8;    /* 8 x 8 sums being gathered, w8 */
};

void pf_image__reduce_begin(struct pf_image__grey *g)
{
	int w4 = g->w / 4, h4 = g->h / 4, w8 = g->w / 8, h8 = g->h / 8;

	g->q4 = g->q8 = NULL;
	g->reduce = NULL;
	/* A sliver (100000 x 30) has no 1/8 plane worth reading. */
	if ((long long)g->w * g->h <= PF_IMAGE__WHOLE_MAX_PX || w8 < 8 || h8 < 8)
		return;
	g->q4 = pf_xmalloc((size_t)w4 * h4);
	g->q8 = pf_xmalloc((size_t)w8 * h8);
	g->reduce = pf_xmalloc(sizeof(*g->reduce));
	g->reduce->col = pf_xmalloc((size_t)4 * w4 * sizeof(*g->reduce->col));
	g->reduce->s4 = pf_xmalloc((size_t)w4 * sizeof(*g->reduce->s4));
	g->reduce->s8 = pf_xcalloc((size_t)w8, sizeof(*g->reduce->s8));
}

static void reduce_free(struct pf_image__grey *g)
{
	if (!g->reduce)
		return;
	free(g->reduce->col);
	free(g->reduce->s4);
	free(g->reduce->s8);
	free(g->reduce);
	g->reduce = NULL;
}

void pf_image__reduce_row(struct pf_image__grey *g, int y)
{
	struct pf_image__reduce *r = g->reduce;
	int w4 = g->w / 4, w8 = g->w / 8, y4 = y / 4;
	const unsigned char *r3, *r2, *r1, *r0;
	unsigned char *o;

	if (!r || (y & 3) != 3 || y4 >= g->h / 4)
		return;
	r3 = g->px + (size_t)y * g->w;
	r2 = r3 - g->w;
	r1 = r2 - g->w;
	r0 = r1 - g->w;
	o = g->q4 + (size_t)y4 * w4;
	/* Column sums first (contiguous, vectorised), then across. */
	for (int x = 0; x < 4 * w4; x++)
		r->col[x] = (unsigned short)(r0[x] + r1[x] + r2[x] + r3[x]);
	for (int x = 0; x < w4; x++) {
		unsigned int s = (unsigned int)r->col[4 * x] + r->col[4 * x + 1] +
		                 r->col[4 * x + 2] + r->col[4 * x + 3];

		r->s4[x] = s;
		o[x] = (unsigned char)((s + 8) >> 4);
	}
	if (y4 / 2 >= g->h / 8)
		return;
	for (int x = 0; x < w8; x++)
		r->s8[x] += r->s4[2 * x] + r->s4[2 * x + 1];
	if (y4 & 1) {
		o = g->q8 + (size_t)(y4 / 2) * w8;
		for (int x = 0; x < w8; x++) {
			o[x] = (unsigned char)((r->s8[x] + 32) >> 6);
			r->s8[x] = 0;
		}
	}
}

void pf_image__grey_release(struct pf_image__grey *g)
{
	reduce_free(g);
	free(g->q4);
	free(g->q8);
	g->q4 = g->q8 = NULL;
}

/* zbar on the whole frame: at its original size when small, else at 1/4
 * and 1/8 (see PF_IMAGE__WHOLE_MAX_PX). */
static void scan_whole(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                       const struct pf_image__grey *g, struct pf_image__codes *set,
                       struct pf_image__scan_stats *stats)
{
	struct pf_image__grey own = *g;
	int w4 = g->w / 4, h4 = g->h / 4, w8 = g->w / 8, h8 = g->h / 8;

	if ((long long)g->w * g->h <= PF_IMAGE__WHOLE_MAX_PX) {
		stats->scanned_px += (long long)g->w * g->h;
		stats->whole_px += (long long)g->w * g->h;
		if (scan_buffer(ctx, sc, g->px, g->w, g->h, set, NULL, NULL))
			stats->read_whole++;
		return;
	}
	if (!g->q4) {
		/* Planes not made while decoding (a caller of pf_image__scan
		 * with a bare frame): make them now. */
		pf_image__reduce_begin(&own);
		for (int y = 0; y < g->h; y++)
			pf_image__reduce_row(&own, y);
		reduce_free(&own);
		if (!own.q4)
			return;
	}
	/* Every second row and column: a code worth reading at this scale
	 * spans dozens of scan lines, and this halves zbar's time. */
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_X_DENSITY, WHOLE_DENSITY);
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, WHOLE_DENSITY);
	stats->scanned_px += ((long long)w4 * h4 + (long long)w8 * h8) / WHOLE_DENSITY;
	stats->whole_px += ((long long)w4 * h4 + (long long)w8 * h8) / WHOLE_DENSITY;
	if (scan_buffer(ctx, sc, own.q4, w4, h4, set, NULL, NULL) +
	    scan_buffer(ctx, sc, own.q8, w8, h8, set, NULL, NULL))
		stats->read_whole++;
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_X_DENSITY, 1);
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_Y_DENSITY, 1);
	if (!g->q4)
		pf_image__grey_release(&own);
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

/* 2 x 2 box average of a plane. */
static unsigned char *halve(const unsigned char *px, int w, int h)
{
	int hw = w / 2, hh = h / 2;
	unsigned char *out = pf_xmalloc((size_t)hw * hh + 1);

	for (int y = 0; y < hh; y++) {
		const unsigned char *r0 = px + (size_t)2 * y * w, *r1 = r0 + w;

		for (int x = 0; x < hw; x++)
			out[(size_t)y * hw + x] = (unsigned char)((r0[2 * x] + r0[2 * x + 1] +
			                                           r1[2 * x] + r1[2 * x + 1] + 2) >>
			                                          2);
	}
	return out;
}

/* Dominant gradient direction of a plane (structure tensor over strong
 * edges): *angle in radians, returns the coherence in [0, 1] — near 1 for
 * parallel bars, near 0 for a QR code's two orthogonal edge families. */
static double edge_orientation(const unsigned char *px, int w, int h, double *angle)
{
	double txx = 0, tyy = 0, txy = 0, sum;

	/* Per cell, so that a tilted barcode's cells (all edges parallel) are
	 * told apart from the digits and texture around it: only coherent
	 * cells vote. */
	for (int cy = 1; cy + BLOCK < h; cy += BLOCK) {
		for (int cx = 1; cx + BLOCK < w; cx += BLOCK) {
			double sxx = 0, syy = 0, sxy = 0, e, c;

			for (int y = cy; y < cy + BLOCK; y += 2) {
				const unsigned char *r = px + (size_t)y * w;

				for (int x = cx; x < cx + BLOCK; x++) {
					int gx = r[x + 1] - r[x - 1], gy = r[x + w] - r[x - w];

					if (gx * gx + gy * gy < 60 * 60)
						continue;
					sxx += (double)gx * gx;
					syy += (double)gy * gy;
					sxy += (double)gx * gy;
				}
			}
			e = sxx + syy;
			if (e <= 0)
				continue;
			c = sqrt((sxx - syy) * (sxx - syy) + 4 * sxy * sxy) / e;
			if (c < 0.8)
				continue;
			txx += sxx;
			tyy += syy;
			txy += sxy;
		}
	}
	sum = txx + tyy;
	*angle = 0.5 * atan2(2 * txy, txx - tyy);
	return sum > 0 ? sqrt((txx - tyy) * (txx - tyy) + 4 * txy * txy) / sum : 0;
}

/* Rotates a plane by -angle about its centre (bilinear, white outside) into
 * a new buffer large enough for the whole input. */
static unsigned char *rotate(const unsigned char *px, int w, int h, double angle, int *ow, int *oh)
{
	double c = cos(angle), s = sin(angle);
	int nw = (int)ceil(fabs(w * c) + fabs(h * s)), nh = (int)ceil(fabs(w * s) + fabs(h * c));
	double cx = w / 2.0, cy = h / 2.0, ncx = nw / 2.0, ncy = nh / 2.0;
	unsigned char *out = pf_xmalloc((size_t)nw * nh);

	for (int y = 0; y < nh; y++) {
		for (int x = 0; x < nw; x++) {
			/* Output (x, y) comes from the input point turned back by +angle. */
			double dx = x + 0.5 - ncx, dy = y + 0.5 - ncy;
			double sx = c * dx - s * dy + cx - 0.5, sy = s * dx + c * dy + cy - 0.5;
			int x0 = (int)floor(sx), y0 = (int)floor(sy);
			double fx = sx - x0, fy = sy - y0;
			unsigned char *o = out + (size_t)y * nw + x;

			if (x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h) {
				*o = 255;
				continue;
			}
			{
				const unsigned char *p = px + (size_t)y0 * w + x0;
				double top = p[0] + fx * (p[1] - p[0]);
				double bot = p[w] + fx * (p[w + 1] - p[w]);

				*o = (unsigned char)(top + fy * (bot - top) + 0.5);
			}
		}
	}
	*ow = nw;
	*oh = nh;
	return out;
}

/* The frame's usable grey range (0.5th to 99.5th percentile, sampled) over
 * 200 levels, at most 1: an underexposed photo's bib shows less contrast,
 * so the map's thresholds shrink with it (down to a quarter). */
static double exposure(const struct pf_image__grey *g)
{
	unsigned long hist[256] = {0}, n = 0, acc = 0;
	int lo = 0, hi = 255;
	double f;

	for (int y = 0; y < g->h; y += 8) {
		const unsigned char *r = g->px + (size_t)y * g->w;

		for (int x = 0; x < g->w; x += 8) {
			hist[r[x]]++;
			n++;
		}
	}
	for (lo = 0; lo < 255 && (acc += hist[lo]) < n / 200; lo++)
		;
	acc = 0;
	for (hi = 255; hi > 0 && (acc += hist[hi]) < n / 200; hi--)
		;
	/* A normally exposed frame spans well over 200 levels: full thresholds. */
	f = (hi - lo) / 200.0;
	return f < 0.25 ? 0.25 : (f > 1 ? 1 : f);
}

/* Marks map cells that look like printed code: many strong edges and a wide
 * grey range, scaled by the frame's exposure (f). Samples every second row
 * and column. */
static void contrast_map(const struct pf_image__grey *g, double f, unsigned char *map, int mw,
                         int mh)
{
	int need = (BLOCK / 2) * (BLOCK / 2) * EDGE_MIN_FRAC / 100;
	int step = (int)(EDGE_STEP * f + 0.5), range = (int)(RANGE_MIN * f + 0.5);

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

					edges += (dx >= step) | (dy >= step);
					if (v < lo)
						lo = v;
					if (v > hi)
						hi = v;
				}
			}
			map[by * mw + bx] = edges >= need && hi - lo >= range ? STRONG : 0;
		}
	}
}

/* Marks the unmarked cells that look like a blurred or grey-printed code:
 * the same test with weaker edges measured over 4 px, on the 1/4 plane when
 * there is one (a 4 x 4 block per cell, each step between neighbours spans
 * 4 px: ~1/16 of the strong map's cost), else on every second pixel of the
 * frame. Noise (as noise_level() measures it on the frame) raises the step:
 * sensor noise alone makes differences of ~1.4 sigma (the level is ~1.65
 * sigma), a box average over 4 x 4 divides it by 4. */
static void weak_map(const struct pf_image__grey *g, double f, int noise, unsigned char *map,
                     int mw, int mh)
{
	const unsigned char *px = g->q4 ? g->q4 : g->px;
	int w = g->q4 ? g->w / 4 : g->w, h = g->q4 ? g->h / 4 : g->h;
	int cell = g->q4 ? BLOCK / 4 : BLOCK, d = g->q4 ? 1 : 4, s = g->q4 ? 1 : 2;
	int n = (cell / s) * (cell / s), need = (n * EDGE_MIN_FRAC + 99) / 100;
	int wstep = (int)(WEAK_STEP * f + 0.5), wrange = (int)(WEAK_RANGE * f + 0.5);
	int nstep = g->q4 ? noise / 2 : 2 * noise;

	if (wstep < nstep)
		wstep = nstep;
	for (int by = 0; by < mh; by++) {
		for (int bx = 0; bx < mw; bx++) {
			int edges = 0, lo = 255, hi = 0;
			int x0 = bx * cell, y0 = by * cell, x1 = x0 + cell, y1 = y0 + cell;

			if (map[by * mw + bx])
				continue;
			if (x1 > w - d)
				x1 = w - d;
			if (y1 > h - d)
				y1 = h - d;
			for (int y = y0; y < y1; y += s) {
				const unsigned char *r = px + (size_t)y * w,
				                    *rd = r + (size_t)d * w;

				for (int x = x0; x < x1; x += s) {
					int v = r[x];

					edges += (abs(r[x + d] - v) >= wstep) |
					         (abs(rd[x] - v) >= wstep);
					if (v < lo)
						lo = v;
					if (v > hi)
						hi = v;
				}
			}
			if (edges >= need && hi - lo >= wrange)
				map[by * mw + bx] = WEAK;
		}
	}
}

static bool boxes_touch(const struct box *a, const struct box *b)
{
	return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* Merges overlapping boxes until none overlap: the pieces of one wide-module
 * barcode (whose wide bars leave gaps in the map) become one region, and no
 * pixel is scanned twice. */
static size_t merge_boxes(struct box *b, size_t n)
{
	bool merged = true;

	while (merged) {
		merged = false;
		for (size_t i = 0; i < n; i++) {
			for (size_t j = i + 1; j < n; j++) {
				if (!boxes_touch(&b[i], &b[j]))
					continue;
				b[i].x0 = b[j].x0 < b[i].x0 ? b[j].x0 : b[i].x0;
				b[i].y0 = b[j].y0 < b[i].y0 ? b[j].y0 : b[i].y0;
				b[i].x1 = b[j].x1 > b[i].x1 ? b[j].x1 : b[i].x1;
				b[i].y1 = b[j].y1 > b[i].y1 ? b[j].y1 : b[i].y1;
				b[j] = b[--n];
				merged = true;
				j = i;
			}
		}
	}
	return n;
}

/* Connected blobs of marked cells (8-neighbourhood, after a one-cell dilation
 * so a code's cells join up) as padded pixel boxes. */
static size_t blobs(const unsigned char *map, int mw, int mh, unsigned char level,
                    const struct pf_image__grey *g, struct box **out, struct box **raw,
                    size_t *nraw)
{
	size_t ncells = (size_t)mw * mh, nboxes = 0, cap = 0;
	unsigned char *dil = pf_xcalloc(ncells, 1);
	int *stack = pf_xmalloc(ncells * sizeof(*stack));
	struct box *boxes = NULL;

	for (int y = 0; y < mh; y++) {
		for (int x = 0; x < mw; x++) {
			if (map[y * mw + x] != level)
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
		int bx0, by0, bx1, by1, core = 0, pad;
		size_t sp = 0;

		if (dil[i] != 1)
			continue;
		dil[i] = 2;
		stack[sp++] = (int)i;
		bx0 = bx1 = (int)(i % mw);
		by0 = by1 = (int)(i / mw);
		while (sp) {
			int c = stack[--sp], cx = c % mw, cy = c / mw;

			core += map[c] == level;
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
		if (core < (level == STRONG ? MIN_CELLS : WEAK_MIN_CELLS))
			continue;
		/* A weak blob is a compact patch of a code (blurred or grey-printed
		 * modules fill most of its box), not a sprawl of texture. */
		if (level == WEAK &&
		    (core * 100 < WEAK_FILL * (bx1 - bx0 + 1) * (by1 - by0 + 1) ||
		     (long long)(bx1 - bx0 + 1) * (by1 - by0 + 1) * 4 > (long long)mw * mh))
			continue;
		if (nboxes == cap) {
			cap = cap ? cap * 2 : 16;
			boxes = pf_xrealloc(boxes, cap * sizeof(*boxes));
		}
		/* Big modules leave edge-free cells inside the code: pad big blobs more. */
		pad = PAD + (bx1 - bx0 + by1 - by0 + 2) * BLOCK / 16;
		boxes[nboxes].x0 = bx0 * BLOCK - pad < 0 ? 0 : bx0 * BLOCK - pad;
		boxes[nboxes].y0 = by0 * BLOCK - pad < 0 ? 0 : by0 * BLOCK - pad;
		boxes[nboxes].x1 = (bx1 + 1) * BLOCK + pad > g->w ? g->w : (bx1 + 1) * BLOCK + pad;
		boxes[nboxes].y1 = (by1 + 1) * BLOCK + pad > g->h ? g->h : (by1 + 1) * BLOCK + pad;
		nboxes++;
	}
	free(stack);
	free(dil);
	*out = boxes;
	*raw = NULL;
	*nraw = nboxes;
	if (nboxes) {
		*raw = pf_xmalloc(nboxes * sizeof(**raw));
		memcpy(*raw, boxes, nboxes * sizeof(**raw));
	}
	return merge_boxes(boxes, nboxes);
}

/* 3 x 3 box average of a plane (edges copied): takes the edge off sensor
 * noise, which breaks zbar's bar widths on high-ISO photos. */
static unsigned char *smooth3(const unsigned char *px, int w, int h)
{
	unsigned char *out = pf_xmalloc((size_t)w * h);

	memcpy(out, px, (size_t)w * h);
	for (int y = 1; y < h - 1; y++) {
		const unsigned char *a = px + (size_t)(y - 1) * w, *m = a + w, *c = m + w;
		unsigned char *o = out + (size_t)y * w;

		for (int x = 1; x < w - 1; x++) {
			unsigned int s = (unsigned int)a[x - 1] + a[x] + a[x + 1] + m[x - 1] +
			                 m[x] + m[x + 1] + c[x - 1] + c[x] + c[x + 1];

			o[x] = (unsigned char)((s * 7282 + 32768) >> 16); /* s / 9 */
		}
	}
	return out;
}

/* Sensor noise of the frame, as the median of |2p - left - right| over
 * sampled pixels (robust to edges: most pixels are not on one); Gaussian
 * noise of sigma s gives about 1.65 s. */
static int noise_level(const struct pf_image__grey *g)
{
	unsigned long hist[1021] = {0}, n = 0, acc = 0;
	int v = 0;

	for (int y = 4; y < g->h; y += 8) {
		const unsigned char *r = g->px + (size_t)y * g->w;

		for (int x = 1; x + 1 < g->w; x += 3) {
			hist[abs(2 * r[x] - r[x - 1] - r[x + 1])]++;
			n++;
		}
	}
	while (v < 1020 && (acc += hist[v]) < n / 2)
		v++;
	return v;
}

/* One candidate box as zbar is shown it: the crop, a smoothed copy on a
 * noisy frame, and the crop turned upright when its edges say it holds a
 * tilted barcode (zbar reads 1-D codes along rows and columns only, and a
 * short, wide barcode tilted by more than ~15 degrees has no row crossing
 * all of it). */
struct view {
	struct box b;
	unsigned char *px, *soft, *rot;
	int w, h, rw, rh;
	struct affine at, rot_at; /* buffer -> frame */
};

static void view_make(const struct pf_image__grey *g, const struct box *b, bool noisy,
                      struct view *v)
{
	double angle, coherence;

	memset(v, 0, sizeof(*v));
	v->b = *b;
	v->px = crop(g, b, 1, &v->w, &v->h);
	v->at = affine_scaled(b->x0, b->y0, 1);
	/* On a noisy frame, noise gradients outvote the bars' in many cells:
	 * the tilt is found on a smoothed copy. */
	if (noisy)
		v->soft = smooth3(v->px, v->w, v->h);
	coherence = edge_orientation(v->soft ? v->soft : v->px, v->w, v->h, &angle);
	if (coherence > 0.35 && fabs(sin(2 * angle)) > 0.12) {
		/* Turn the gradient to the nearer axis. */
		double turn = angle, c, sn;
		struct affine back;

		while (turn > M_PI / 4)
			turn -= M_PI / 2;
		while (turn < -M_PI / 4)
			turn += M_PI / 2;
		v->rot = rotate(v->px, v->w, v->h, turn, &v->rw, &v->rh);
		/* rotate(): output (x, y) samples the crop at R(turn) (p - centre'). */
		c = cos(turn);
		sn = sin(turn);
		back = (struct affine){c,  -sn, v->w / 2.0 - c * v->rw / 2.0 + sn * v->rh / 2.0,
		                       sn, c,   v->h / 2.0 - sn * v->rw / 2.0 - c * v->rh / 2.0};
		v->rot_at = affine_then(&v->at, &back);
	}
}

static void view_free(struct view *v)
{
	free(v->px);
	free(v->soft);
	free(v->rot);
}

/* The turned copy, when there is one. */
static int view_read_turned(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                            const struct view *v, struct pf_image__codes *set, struct hits *hits,
                            struct pf_image__scan_stats *stats)
{
	int read;

	if (!v->rot)
		return 0;
	read = scan_buffer(ctx, sc, v->rot, v->rw, v->rh, set, &v->rot_at, hits);
	if (read)
		stats->read_turned++;
	stats->scanned_px += (long long)v->rw * v->rh;
	stats->turned_px += (long long)v->rw * v->rh;
	return read;
}

/* Retries for a box that looks like a code but from which zbar read
 * nothing: small boxes enlarged 2x (2-3 px modules), others at half size
 * (the turned copy when there is one: very wide bars, and noise averaged
 * out), and on a noisy frame smoothed. */
static int view_retry(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                      const struct pf_image__grey *g, struct view *v, bool noisy,
                      struct pf_image__codes *set, struct hits *hits,
                      struct pf_image__scan_stats *stats)
{
	const unsigned char *src = v->rot ? v->rot : v->px;
	int sw = v->rot ? v->rw : v->w, sh = v->rot ? v->rh : v->h, read = 0;
	const struct affine *sat = v->rot ? &v->rot_at : &v->at;

	if (v->w <= SMALL_REGION && v->h <= SMALL_REGION) {
		int bw, bh;
		unsigned char *big = crop(g, &v->b, 2, &bw, &bh);
		struct affine at = affine_scaled(v->b.x0, v->b.y0, 2);

		read = scan_buffer(ctx, sc, big, bw, bh, set, &at, hits);
		stats->scanned_px += (long long)bw * bh;
		stats->retry_px += (long long)bw * bh;
		free(big);
		if (read)
			stats->read_enlarged++;
	} else if (v->w >= LARGE_REGION || v->h >= LARGE_REGION || v->rot) {
		/* zbar's edge finder loses very wide bars (12 px modules make
		 * 48 px bars); at half size they are ordinary. */
		unsigned char *half = halve(src, sw, sh);
		struct affine two = affine_scaled(0, 0, 0.5), at = affine_then(sat, &two);

		read = scan_buffer(ctx, sc, half, sw / 2, sh / 2, set, &at, hits);
		stats->scanned_px += (long long)(sw / 2) * (sh / 2);
		stats->retry_px += (long long)(sw / 2) * (sh / 2);
		free(half);
		if (read)
			stats->read_reduced++;
	}
	if (!read && noisy) {
		if (v->rot) {
			free(v->soft);
			v->soft = smooth3(v->rot, v->rw, v->rh);
		}
		read = scan_buffer(ctx, sc, v->soft, sw, sh, set, sat, hits);
		if (read)
			stats->read_smoothed++;
		stats->scanned_px += (long long)sw * sh;
		stats->retry_px += (long long)sw * sh;
	}
	return read;
}

/* A bib folded along a vertical crease: the part beyond is turned away from
 * the camera, so it is narrower than the rest (and shaded). A QR code across
 * the crease then has two module pitches, which zbar's sampling grid (one
 * homography from the finder patterns) cannot follow. Copies px with the
 * columns beyond xf (side > 0: right of it, side < 0: left of it) widened by
 * 1 / squeeze (linear interpolation); *ow is the new width. */
static unsigned char *unfold(const unsigned char *px, int w, int h, int xf, double squeeze,
                             int side, int *ow)
{
	int tail = side > 0 ? w - xf : xf, wide = (int)(tail / squeeze);
	int nw = w - tail + wide, *x0 = pf_xmalloc((size_t)nw * sizeof(*x0));
	unsigned char *fx = pf_xmalloc((size_t)nw), *out = pf_xmalloc((size_t)nw * h);

	for (int x = 0; x < nw; x++) {
		double sx;

		if (side > 0)
			sx = x < xf ? x : xf + (x - xf + 0.5) * squeeze - 0.5;
		else
			sx = x >= wide ? x - wide + xf : xf - (wide - x - 0.5) * squeeze - 0.5;
		sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
		x0[x] = (int)sx < w - 1 ? (int)sx : w - 2;
		fx[x] = (unsigned char)((sx - x0[x]) * 255 + 0.5);
	}
	for (int y = 0; y < h; y++) {
		const unsigned char *r = px + (size_t)y * w;
		unsigned char *o = out + (size_t)y * nw;

		for (int x = 0; x < nw; x++)
			o[x] = (unsigned char)((r[x0[x]] * (255 - fx[x]) + r[x0[x] + 1] * fx[x] +
			                        127) /
			                       255);
	}
	free(x0);
	free(fx);
	*ow = nw;
	return out;
}

/* Where a fold's crease runs through a crop, from the shading step it
 * leaves on the paper. The crop's columns are grouped into at most
 * FOLD_CELLS cells; per band of FOLD_BAND rows, each cell's maximum (the
 * paper between the modules) and minimum (the modules) are taken, and the
 * paper level left and right of each cell compared: the bands' steps of
 * at least FOLD_STEP % vote. Returns the median column of the votes (-1: no
 * crease) and in *side which side is darker (turned away). */
#define FOLD_BAND 48
#define FOLD_CELLS 128
#define FOLD_STEP 7
#define FOLD_VOTES 3

static int cmp_uchar(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

static int median(const unsigned char *v, int n, unsigned char *tmp)
{
	memcpy(tmp, v, (size_t)n);
	qsort(tmp, (size_t)n, 1, cmp_uchar);
	return tmp[n / 2];
}

/* Paper level of a run of cell maxima: their median (a cell may lie in a
 * run of dark modules for a whole band) when most of them are near it
 * (flat paper, not background texture), and most cell minima well below it
 * (modules: the crease runs through the code; a bib's edge has background
 * without modules on one side); 0 otherwise. */
static int paper_level(const unsigned char *top, const unsigned char *low, int n,
                       unsigned char *tmp)
{
	int m = median(top, n, tmp), near = 0;

	for (int i = 0; i < n; i++)
		near += abs(top[i] - m) * 100 <= 6 * m;
	if (near * 100 < 60 * n || median(low, n, tmp) * 2 >= m)
		return 0;
	return m;
}

static int find_crease(const unsigned char *px, int w, int h, int *side)
{
	int cw = (w + FOLD_CELLS - 1) / FOLD_CELLS, n = w / cw, d = n / 8, nb = h / FOLD_BAND;
	int nv = 0, right = 0, xs[64];
	unsigned char top[FOLD_CELLS], low[FOLD_CELLS], tmp[FOLD_CELLS];

	if (d < 4)
		return -1;
	if (nb > 64)
		nb = 64;
	/* The middle half of the crop, across and down: the blob itself,
	 * without its padding (where a bib's edge would vote). */
	for (int b = nb / 4; b < nb - nb / 4; b++) {
		double best = 1 - FOLD_STEP / 100.0;
		int bx = -1, bside = 0;

		memset(top, 0, sizeof(top));
		memset(low, 255, sizeof(low));
		for (int y = b * FOLD_BAND; y < (b + 1) * FOLD_BAND; y++) {
			const unsigned char *r = px + (size_t)y * w;

			for (int c = 0; c < n; c++) {
				const unsigned char *p = r + c * cw;
				unsigned char t = top[c], l = low[c];

				for (int i = 0; i < cw; i++) {
					t = p[i] > t ? p[i] : t;
					l = p[i] < l ? p[i] : l;
				}
				top[c] = t;
				low[c] = l;
			}
		}
		for (int c = n / 4; c < n - n / 4; c++) {
			int l, r;
			double q;

			if (c - 1 - d < 0 || c + 1 + d > n)
				continue;
			l = paper_level(top + c - 1 - d, low + c - 1 - d, d, tmp);
			r = paper_level(top + c + 1, low + c + 1, d, tmp);
			if (l < 64 || r < 64)
				continue;
			/* Somewhat shaded on one side: a dark background beside a
			 * bib's edge is a larger step. */
			q = l < r ? (double)l / r : (double)r / l;
			if (q < best && q > 0.65) {
				best = q;
				bx = c * cw + cw / 2;
				bside = r < l ? 1 : -1;
			}
		}
		if (bx >= 0) {
			xs[nv++] = bx;
			right += bside;
		}
	}
	/* A crease runs down most of the code (at least FOLD_VOTES bands and
	 * half of those looked at), on one line, the same side darker: text,
	 * logos and a bib's own edges give scattered single votes. */
	if (nv < FOLD_VOTES || 2 * nv < nb - 2 * (nb / 4) || 2 * abs(right) < nv)
		return -1;
	/* Median of the votes (insertion sort: a few dozen). */
	for (int i = 1; i < nv; i++)
		for (int j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
			int t = xs[j];

			xs[j] = xs[j - 1];
			xs[j - 1] = t;
		}
	if (4 * (xs[nv - 1] - xs[0]) > w)
		return -1;
	*side = right >= 0 ? 1 : -1;
	return xs[nv / 2];
}

/* Last retry for a box that still read nothing and is not a tilted barcode
 * (a QR code, or a barcode zbar already saw upright), when a crease shows:
 * the crop unfolded about it, the darker side widened by two guessed
 * squeezes (a bib folded 30-45 degrees away shows 70-90 % of its width),
 * QR Code only (it carries error correction; a barcode's bars are read one
 * character at a time and a fold costs it little). Crops above
 * FOLD_MAX_PX are unfolded at half size (or less): a big crop is texture,
 * several bibs or big modules, and this pass must stay cheap. */
static const double fold_squeeze[] = {0.85, 0.75};
#define FOLD_MAX_PX (512 * 512)

static int view_unfold(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                       const struct view *v, struct pf_image__codes *set, struct hits *hits,
                       struct pf_image__scan_stats *stats)
{
	int read = 0, xf, side = 0, w = v->w, h = v->h;
	unsigned char *px = NULL;
	struct affine at = v->at;

	if (v->rot || !(ctx->opts.symbologies & PF_IMAGE_SYM_QRCODE) || w < 64 || h < 64)
		return 0;
	xf = find_crease(v->px, w, h, &side);
	if (xf < 0)
		return 0;
	while ((long long)w * h > FOLD_MAX_PX) {
		unsigned char *half = halve(px ? px : v->px, w, h);
		struct affine two = affine_scaled(0, 0, 0.5);

		free(px);
		px = half;
		w /= 2;
		h /= 2;
		xf /= 2;
		at = affine_then(&at, &two);
	}
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	for (size_t i = 0; i < sizeof(fold_squeeze) / sizeof(fold_squeeze[0]) && !read; i++) {
		int uw;
		unsigned char *u = unfold(px ? px : v->px, w, h, xf, fold_squeeze[i], side, &uw);

		/* Where the code lies is only needed roughly (which blob was
		 * read): the unchanged side's mapping, which for a widened left
		 * side starts uw - w columns later in the buffer. */
		struct affine shift = affine_scaled(side < 0 ? w - uw : 0, 0, 1);
		struct affine uat = affine_then(&at, &shift);

		read = scan_buffer(ctx, sc, u, uw, h, set, &uat, hits);
		stats->scanned_px += (long long)uw * h;
		stats->fold_px += (long long)uw * h;
		free(u);
	}
	free(px);
	if (read)
		stats->read_unfolded++;
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 0);
	for (size_t i = 0; i < sizeof(zbar_types) / sizeof(zbar_types[0]); i++) {
		if (ctx->opts.symbologies & zbar_types[i].bit)
			zbar_image_scanner_set_config(sc, zbar_types[i].type, ZBAR_CFG_ENABLE, 1);
	}
	if (ctx->opts.symbologies & PF_IMAGE_SYM_DATABAR)
		zbar_image_scanner_set_config(sc, ZBAR_DATABAR_EXP, ZBAR_CFG_ENABLE, 1);
	return read;
}

static bool box_holds_hit(const struct box *b, const struct hits *h)
{
	for (size_t i = 0; i < h->n; i++) {
		double x = h->xy[2 * i], y = h->xy[2 * i + 1];

		if (x >= b->x0 && x < b->x1 && y >= b->y0 && y < b->y1)
			return true;
	}
	return false;
}

static bool box_inside(const struct box *in, const struct box *out)
{
	return in->x0 >= out->x0 && in->y0 >= out->y0 && in->x1 <= out->x1 && in->y1 <= out->y1;
}

/* Scans one candidate region (merged from one or more blobs): as is, then
 * turned upright if it holds a tilted barcode — tried even when something
 * was read, since a region may hold a bib's QR code next to another bib's
 * tilted barcode. Then each of its blobs that no decoded symbol lies in
 * gets the retries: a region holding two bibs, one of them read, still has
 * a blob that looks like a code and gave nothing. */
static void scan_region(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                        const struct pf_image__grey *g, const struct box *b, const struct box *raw,
                        size_t nraw, bool noisy, struct pf_image__codes *set,
                        struct pf_image__scan_stats *stats)
{
	struct view v;
	struct hits hits = {0};

	view_make(g, b, noisy, &v);
	stats->regions++;
	stats->scanned_px += (long long)v.w * v.h;
	if (scan_buffer(ctx, sc, v.px, v.w, v.h, set, &v.at, &hits))
		stats->read_plain++;
	view_read_turned(ctx, sc, &v, set, &hits, stats);
	for (size_t i = 0; i < nraw; i++) {
		struct view sub;
		struct box r = raw[i];

		if (!box_inside(&r, b) || box_holds_hit(&r, &hits))
			continue;
		if (hits.n == 0 ||
		    (r.x0 == b->x0 && r.y0 == b->y0 && r.x1 == b->x1 && r.y1 == b->y1)) {
			/* Nothing read in the whole region: the region is retried
			 * once as a whole. */
			if (!view_retry(ctx, sc, g, &v, noisy, set, &hits, stats))
				view_unfold(ctx, sc, &v, set, &hits, stats);
			break;
		}
		/* A blob of its own, unread beside a read one: its own tilt. The
		 * region's plain read covered it upright already, so only a
		 * tilted barcode (the usual second bib) is worth more reads. */
		view_make(g, &r, noisy, &sub);
		if (sub.rot && !view_read_turned(ctx, sc, &sub, set, &hits, stats))
			view_retry(ctx, sc, g, &sub, noisy, set, &hits, stats);
		else if (!sub.rot)
			view_unfold(ctx, sc, &sub, set, &hits, stats);
		view_free(&sub);
	}
	free(hits.xy);
	view_free(&v);
}

/* Local contrast stretch: each pixel mapped from its neighbourhood's grey
 * range (minimum and maximum over the 3 x 3 tiles of STRETCH_TILE px around
 * it, interpolated between tile centres) to 0-255. A grey-printed or
 * shaded code then has full-range modules; zbar's edge finder wants steps
 * well above its noise floor. Ranges under STRETCH_MIN are not widened
 * further (flat paper stays flat). */
static void stretch_local(unsigned char *px, int w, int h)
{
	int tw = (w + STRETCH_TILE - 1) / STRETCH_TILE, th = (h + STRETCH_TILE - 1) / STRETCH_TILE;
	unsigned char *lo = pf_xmalloc((size_t)tw * th), *hi = pf_xmalloc((size_t)tw * th);
	unsigned char *lo3 = pf_xmalloc((size_t)tw * th), *hi3 = pf_xmalloc((size_t)tw * th);

	for (int ty = 0; ty < th; ty++) {
		for (int tx = 0; tx < tw; tx++) {
			int l = 255, u = 0;

			for (int y = ty * STRETCH_TILE; y < h && y < (ty + 1) * STRETCH_TILE; y++) {
				const unsigned char *r = px + (size_t)y * w;

				for (int x = tx * STRETCH_TILE;
				     x < w && x < (tx + 1) * STRETCH_TILE; x++) {
					l = r[x] < l ? r[x] : l;
					u = r[x] > u ? r[x] : u;
				}
			}
			lo[ty * tw + tx] = (unsigned char)l;
			hi[ty * tw + tx] = (unsigned char)u;
		}
	}
	for (int ty = 0; ty < th; ty++) {
		for (int tx = 0; tx < tw; tx++) {
			int l = 255, u = 0;

			for (int dy = -1; dy <= 1; dy++) {
				for (int dx = -1; dx <= 1; dx++) {
					int yy = ty + dy, xx = tx + dx;

					if (yy < 0 || yy >= th || xx < 0 || xx >= tw)
						continue;
					l = lo[yy * tw + xx] < l ? lo[yy * tw + xx] : l;
					u = hi[yy * tw + xx] > u ? hi[yy * tw + xx] : u;
				}
			}
			lo3[ty * tw + tx] = (unsigned char)l;
			hi3[ty * tw + tx] = (unsigned char)u;
		}
	}
	for (int y = 0; y < h; y++) {
		/* Position between tile centres, in 1/256. */
		int fy = ((2 * y + 1) * 128) / STRETCH_TILE - 128, ty0, ty1;
		unsigned char *r = px + (size_t)y * w;

		fy = fy < 0 ? 0 : fy;
		ty0 = fy >> 8;
		ty1 = ty0 + 1 < th ? ty0 + 1 : ty0;
		fy &= 255;
		for (int x = 0; x < w; x++) {
			int fx = ((2 * x + 1) * 128) / STRETCH_TILE - 128, tx0, tx1, l, u, v;

			fx = fx < 0 ? 0 : fx;
			tx0 = fx >> 8;
			tx1 = tx0 + 1 < tw ? tx0 + 1 : tx0;
			fx &= 255;
			l = ((lo3[ty0 * tw + tx0] * (256 - fx) + lo3[ty0 * tw + tx1] * fx) *
			         (256 - fy) +
			     (lo3[ty1 * tw + tx0] * (256 - fx) + lo3[ty1 * tw + tx1] * fx) * fy) >>
			    16;
			u = ((hi3[ty0 * tw + tx0] * (256 - fx) + hi3[ty0 * tw + tx1] * fx) *
			         (256 - fy) +
			     (hi3[ty1 * tw + tx0] * (256 - fx) + hi3[ty1 * tw + tx1] * fx) * fy) >>
			    16;
			if (u - l < STRETCH_MIN) {
				l = (l + u - STRETCH_MIN) / 2;
				u = l + STRETCH_MIN;
			}
			v = (r[x] - l) * 255 / (u - l);
			r[x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	free(lo);
	free(hi);
	free(lo3);
	free(hi3);
}

/* Scans a weak region (blurred or grey-printed modules, or texture): at
 * half size, as is and turned, without retries. The codes such a region
 * holds have wide, soft modules, which halving keeps readable (and
 * sharpens); most weak regions are texture, so they get a quarter of the
 * pixels. */
static void scan_weak(const struct pf_image_ctx *ctx, zbar_image_scanner_t *sc,
                      const struct pf_image__grey *g, const struct box *b, bool noisy,
                      struct pf_image__codes *set, struct pf_image__scan_stats *stats)
{
	struct pf_image__grey half = {0};
	struct view v;
	struct box all;
	int cw, ch;
	unsigned char *px = crop(g, b, 1, &cw, &ch);

	half.px = halve(px, cw, ch);
	half.w = cw / 2;
	half.h = ch / 2;
	free(px);
	stretch_local(half.px, half.w, half.h);
	all = (struct box){0, 0, half.w, half.h};
	if (half.w >= 8 && half.h >= 8) {
		view_make(&half, &all, noisy, &v);
		stats->regions++;
		stats->weak_px += (long long)v.w * v.h;
		stats->scanned_px += (long long)v.w * v.h;
		if (scan_buffer(ctx, sc, v.px, v.w, v.h, set, NULL, NULL))
			stats->read_weak++;
		if (view_read_turned(ctx, sc, &v, set, NULL, stats))
			stats->read_weak++;
		view_free(&v);
	}
	free(half.px);
}

int pf_image__scan(const struct pf_image_ctx *ctx, const struct pf_image__grey *g,
                   struct pf_image__codes *set, struct pf_image__scan_stats *stats,
                   struct pf_error *err)
{
	int mw = g->w / BLOCK, mh = g->h / BLOCK;
	zbar_image_scanner_t *sc;
	unsigned char *map;
	struct box *boxes = NULL, *raw = NULL, *weak = NULL, *wraw = NULL;
	size_t nboxes, nraw, nweak, nwraw;
	bool noisy;
	int noise;
	double f;

	memset(stats, 0, sizeof(*stats));
	sc = scanner_new(ctx->opts.symbologies);
	if (!sc)
		return pf_error_set(err, PF_ENOMEM, "cannot create a zbar scanner");
	scan_whole(ctx, sc, g, set, stats);
	/* Frames too small for a map have been read whole. */
	if (mw < 4 || mh < 4) {
		zbar_image_scanner_destroy(sc);
		return 0;
	}
	map = pf_xmalloc((size_t)mw * mh);
	f = exposure(g);
	noise = noise_level(g);
	contrast_map(g, f, map, mw, mh);
	weak_map(g, f, noise, map, mw, mh);
	nboxes = blobs(map, mw, mh, STRONG, g, &boxes, &raw, &nraw);
	nweak = blobs(map, mw, mh, WEAK, g, &weak, &wraw, &nwraw);
	noisy = noise >= NOISY;
	for (size_t i = 0; i < nboxes; i++)
		scan_region(ctx, sc, g, &boxes[i], raw, nraw, noisy, set, stats);
	for (size_t i = 0; i < nweak; i++) {
		bool seen = false;

		for (size_t j = 0; j < nboxes && !seen; j++)
			seen = box_inside(&weak[i], &boxes[j]);
		if (!seen) {
			scan_weak(ctx, sc, g, &weak[i], noisy, set, stats);
		}
	}
	free(wraw);
	free(weak);
	free(raw);
	free(boxes);
	free(map);
	zbar_image_scanner_destroy(sc);
	return 0;
}
