/*
 * The image pipeline: guards, decode, code detection, variants. One call of
 * pf_image_process runs on one worker thread and touches nothing but its
 * arguments and the read-only context; libvips runs single-threaded per call
 * (parallelism comes from the worker pool, which scales better for whole
 * photos than vips' tile threads).
 *
 * Guarantees: nothing is decoded before the byte limit, the loader allow-list
 * and the header's pixel count have been checked; truncated or corrupt data
 * is refused, never half-decoded; outputs are sRGB JPEGs (and, when asked,
 * WebPs of the same pixels) with no metadata.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/image_int.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static char init_msg[256];
static const char *init_argv0;

/* libvips reports per-image trouble (truncation, bad chunks) as GLib
 * warnings on stderr; the pipeline reports it through pf_error instead. */
static void drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
}

static void init_vips(void)
{
	static const char *const allowed[] = {"VipsForeignLoadJpeg", "VipsForeignLoadPng",
	                                      "VipsForeignLoadWebp", "VipsForeignLoadTiff"};

	if (VIPS_INIT(init_argv0 ? init_argv0 : "photofinish")) {
		snprintf(init_msg, sizeof(init_msg), "cannot initialise libvips: %s",
		         vips_error_buffer());
		vips_error_clear();
		init_rc = PF_EIO;
		return;
	}
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
	                  drop_log, NULL);
	/* Only the four photo formats may ever be decoded: everything else is
	 * blocked at the operation level too, not just refused by our sniffing. */
	vips_block_untrusted_set(TRUE);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		vips_operation_block_set(allowed[i], FALSE);
	/* The operation cache would keep whole decoded photos alive. */
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	vips_concurrency_set(1);
	init_rc = 0;
}

int pf_image_global_init(const char *argv0, struct pf_error *err)
{
	init_argv0 = argv0;
	pthread_once(&init_once, init_vips);
	if (init_rc)
		return pf_error_set(err, init_rc, "%s", init_msg);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Takes libvips' error text (one line) and clears it. */
static void vips_reason(char *buf, size_t size)
{
	char *text = vips_error_buffer_copy();
	char *nl;

	if (!text || !*text) {
		snprintf(buf, size, "unknown error");
	} else {
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		snprintf(buf, size, "%s", text);
	}
	g_free(text);
}

static int refuse(struct pf_error *err, int code, const char *reason, const char *fmt,
                  const char *arg)
{
	pf_error_set(err, code, fmt, arg);
	snprintf(err->service_code, sizeof(err->service_code), "%s", reason);
	err->retryable = false;
	return code;
}

/* Allowed loaders by the name vips_foreign_find_load_buffer returns. */
static bool loader_allowed(const char *name)
{
	static const char *const ok[] = {"jpegload_buffer",           "pngload_buffer",
	                                 "webpload_buffer",           "tiffload_buffer",
	                                 "VipsForeignLoadJpegBuffer", "VipsForeignLoadPngBuffer",
	                                 "VipsForeignLoadWebpBuffer", "VipsForeignLoadTiffBuffer"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (!strcmp(name, ok[i]))
			return true;
	}
	return false;
}

/* Names a format from its first bytes for the refusal message. */
static const char *sniff_format(const unsigned char *p, size_t len)
{
	if (len >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
		return "GIF";
	if (len >= 5 && !memcmp(p, "%PDF-", 5))
		return "PDF";
	if (len >= 12 && !memcmp(p + 4, "ftyp", 4))
		return "HEIF/AVIF or video";
	if (len >= 2 && p[0] == 'B' && p[1] == 'M')
		return "BMP";
	for (size_t i = 0; i < len && i < 512; i++) {
		if (p[i] == '<' && i + 4 < len &&
		    (!memcmp(p + i, "<svg", 4) || (i + 5 < len && !memcmp(p + i, "<?xml", 5))))
			return "SVG/XML";
	}
	return NULL;
}

/* To 8 bits per band before anything is kept in memory: 16-bit PNG/TIFF
 * would double the decoded size for no visible gain. */
static int to_uchar(VipsImage *in, VipsImage **out)
{
	switch (in->BandFmt) {
	case VIPS_FORMAT_UCHAR:
		g_object_ref(in);
		*out = in;
		return 0;
	case VIPS_FORMAT_USHORT:
	case VIPS_FORMAT_SHORT:
		return vips_cast(in, out, VIPS_FORMAT_UCHAR, "shift", TRUE, NULL);
	default:
		if (in->Type == VIPS_INTERPRETATION_scRGB || in->Type == VIPS_INTERPRETATION_XYZ ||
		    in->Type == VIPS_INTERPRETATION_LAB)
			return vips_colourspace(in, out, VIPS_INTERPRETATION_sRGB, NULL);
		return vips_cast(in, out, VIPS_FORMAT_UCHAR, NULL);
	}
}

static bool is_cmyk(const VipsImage *im)
{
	return im->Type == VIPS_INTERPRETATION_CMYK && im->Bands >= 4;
}

/* sRGB, 3 bands, uchar, alpha flattened on white. CMYK and ICC-tagged input
 * goes through lcms (CMYK without a profile through libvips' built-in CMYK
 * profile) so colours survive, not just channels. */
static int to_srgb(VipsImage *in, VipsImage **out)
{
	VipsObject *scope = VIPS_OBJECT(vips_image_new());
	VipsImage **t = (VipsImage **)vips_object_local_array(scope, 5);
	VipsImage *cur = in;
	bool has_icc = vips_image_get_typeof(in, VIPS_META_ICC_NAME) != 0;
	int rc = -1;

	if (has_icc || is_cmyk(in)) {
		if (vips_icc_transform(cur, &t[0], "srgb", "embedded", TRUE, "input_profile",
		                       is_cmyk(in) ? "cmyk" : "srgb", NULL) == 0) {
			cur = t[0];
		} else {
			/* A broken embedded profile: fall back to plain conversion. */
			vips_error_clear();
		}
	}
	if (cur->Type != VIPS_INTERPRETATION_sRGB || cur->Bands < 3) {
		if (vips_colourspace(cur, &t[1], VIPS_INTERPRETATION_sRGB, NULL))
			goto out_unref;
		cur = t[1];
	}
	if (cur->Bands > 3) {
		if (vips_image_hasalpha(cur) && cur->Bands == 4) {
			VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);

			rc = vips_flatten(cur, &t[2], "background", white, NULL);
			vips_area_unref(VIPS_AREA(white));
			if (rc)
				goto out_unref;
			rc = -1;
		} else if (vips_extract_band(cur, &t[2], 0, "n", 3, NULL)) {
			goto out_unref;
		}
		cur = t[2];
	}
	if (vips_cast(cur, &t[3], VIPS_FORMAT_UCHAR, NULL))
		goto out_unref;
	if (vips_copy(t[3], out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL))
		goto out_unref;
	rc = 0;
out_unref:
	g_object_unref(scope);
	return rc;
}

/* One row of decoded pixels to grey. CMYK is approximated (ink coverage):
 * the scanner needs contrast, not colour accuracy. */
static void row_to_grey(const unsigned char *src, int w, int bands, bool cmyk, unsigned char *dst)
{
	if (bands < 3) {
		for (int x = 0; x < w; x++)
			dst[x] = src[x * bands];
	} else if (cmyk) {
		for (int x = 0; x < w; x++) {
			const unsigned char *p = src + x * bands;
			int ink = (77 * p[0] + 150 * p[1] + 29 * p[2]) / 256 + p[3];

			dst[x] = (unsigned char)(ink > 255 ? 0 : 255 - ink);
		}
	} else {
		for (int x = 0; x < w; x++) {
			const unsigned char *p = src + x * bands;

			dst[x] = (unsigned char)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8);
		}
	}
}

/* Adds one source row into the k-wide column sums of a box reduction. */
static void box_row(const unsigned char *src, int sw, int k, int bands, unsigned int *acc)
{
	for (int sx = 0; sx < sw; sx++) {
		const unsigned char *p = src + (size_t)sx * k * bands;
		unsigned int *a = acc + (size_t)sx * bands;

		for (int dx = 0; dx < k; dx++)
			for (int b = 0; b < bands; b++)
				a[b] += p[dx * bands + b];
	}
}

/* box_row for the common RGB case, which the compiler can unroll. */
static void box_row3(const unsigned char *src, int sw, int k, unsigned int *acc)
{
	if (k == 3) {
		/* 6000 -> 2000 px, the common case: unrolled. */
		for (int sx = 0; sx < sw; sx++) {
			const unsigned char *p = src + (size_t)sx * 9;

			acc[3 * sx] += (unsigned int)p[0] + p[3] + p[6];
			acc[3 * sx + 1] += (unsigned int)p[1] + p[4] + p[7];
			acc[3 * sx + 2] += (unsigned int)p[2] + p[5] + p[8];
		}
		return;
	}
	for (int sx = 0; sx < sw; sx++) {
		const unsigned char *p = src + (size_t)sx * k * 3;
		unsigned int r = 0, g = 0, b = 0;

		for (int dx = 0; dx < k; dx++) {
			r += p[3 * dx];
			g += p[3 * dx + 1];
			b += p[3 * dx + 2];
		}
		acc[3 * sx] += r;
		acc[3 * sx + 1] += g;
		acc[3 * sx + 2] += b;
	}
}

/* Per-worker-thread scratch planes, reused from photo to photo: a 24 MP photo
 * needs ~42 MB of them, and fresh pages cost ~30 ms of page faults per photo.
 * Planes above SCRATCH_KEEP are not kept, so one huge photo does not pin its
 * memory for the life of the thread. */
#define SCRATCH_KEEP ((size_t)64 << 20)

struct scratch {
	unsigned char *p;
	size_t cap;
};

/* One per thread that ran the pipeline, linked from a global list so memory
 * checkers see the planes as reachable, and freed when the thread exits. */
struct scratch_set {
	struct scratch slot[2];
	struct scratch_set *prev, *next;
};

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch_set *scratch_sets;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_set_free(void *arg)
{
	struct scratch_set *set = arg;

	pthread_mutex_lock(&scratch_lock);
	if (set->prev)
		set->prev->next = set->next;
	else
		scratch_sets = set->next;
	if (set->next)
		set->next->prev = set->prev;
	pthread_mutex_unlock(&scratch_lock);
	free(set->slot[0].p);
	free(set->slot[1].p);
	free(set);
}

static void scratch_key_init(void)
{
	if (pthread_key_create(&scratch_key, scratch_set_free))
		abort();
}

static struct scratch *scratch_slot(int slot)
{
	struct scratch_set *set;

	pthread_once(&scratch_once, scratch_key_init);
	set = pthread_getspecific(scratch_key);
	if (!set) {
		set = pf_xcalloc(1, sizeof(*set));
		pthread_mutex_lock(&scratch_lock);
		set->next = scratch_sets;
		if (scratch_sets)
			scratch_sets->prev = set;
		scratch_sets = set;
		pthread_mutex_unlock(&scratch_lock);
		if (pthread_setspecific(scratch_key, set))
			abort();
	}
	return &set->slot[slot];
}

static void scratch_take(int slot, size_t n, struct scratch *out)
{
	struct scratch *s = scratch_slot(slot);

	if (s->p && s->cap >= n) {
		*out = *s;
	} else {
		free(s->p);
		out->p = pf_xmalloc(n);
		out->cap = n;
	}
	s->p = NULL;
	s->cap = 0;
}

static void scratch_give(int slot, struct scratch *buf)
{
	struct scratch *s;

	if (!buf->p)
		return;
	s = scratch_slot(slot);
	if (buf->cap <= SCRATCH_KEEP && !s->p) {
		*s = *buf;
	} else {
		free(buf->p);
	}
	buf->p = NULL;
	buf->cap = 0;
}

/* The decode: pulls the sequential image top to bottom in strips, writing the
 * full-resolution grey plane for the scanner and a k x k box-averaged colour
 * copy for the variants. The full-resolution colour frame is never held in
 * memory (72 MB for 24 MP), and the pixels are touched once. */
static int decode(VipsImage *in, int k, struct pf_image__grey *g, struct scratch *grey_buf,
                  VipsImage **small, struct scratch *small_buf)
{
	int w = in->Xsize, h = in->Ysize, bands = in->Bands;
	int sw = w / k, sh = h / k, strip = k * ((64 + k - 1) / k);
	bool cmyk = is_cmyk(in);
	VipsRegion *reg = vips_region_new(in);
	unsigned int *acc = pf_xcalloc((size_t)sw * bands, sizeof(*acc));
	unsigned char *out;
	int rc = -1;

	scratch_take(0, (size_t)w * h, grey_buf);
	scratch_take(1, (size_t)sw * sh * bands + 1, small_buf);
	out = small_buf->p;
	g->w = w;
	g->h = h;
	g->px = grey_buf->p;
	pf_image__reduce_begin(g);
	for (int y0 = 0; y0 < h; y0 += strip) {
		VipsRect r = {0, y0, w, y0 + strip > h ? h - y0 : strip};

		if (vips_region_prepare(reg, &r))
			goto out_free;
		for (int y = y0; y < y0 + r.height; y++) {
			const unsigned char *src =
			    (const unsigned char *)VIPS_REGION_ADDR(reg, 0, y);

			row_to_grey(src, w, bands, cmyk, g->px + (size_t)y * w);
			pf_image__reduce_row(g, y);
			if (y / k >= sh)
				continue;
			if (bands == 3)
				box_row3(src, sw, k, acc);
			else
				box_row(src, sw, k, bands, acc);
			if ((y + 1) % k == 0) {
				unsigned char *o = out + (size_t)(y / k) * sw * bands;
				unsigned int n = (unsigned int)(k * k);
				/* Division by n as a multiply: exact while the sum
				 * stays below 2^32 / n (k <= 64: sums < 2^20). */
				uint64_t inv = ((UINT64_C(1) << 32) + n - 1) / n;

				for (size_t i = 0; i < (size_t)sw * bands; i++) {
					o[i] = k <= 64
					           ? (unsigned char)(((acc[i] + n / 2) * inv) >> 32)
					           : (unsigned char)((acc[i] + n / 2) / n);
					acc[i] = 0;
				}
			}
		}
	}
	/* No copy: small_buf outlives the image (see pf_image_process). */
	*small = vips_image_new_from_memory(out, (size_t)sw * sh * bands, sw, sh, bands,
	                                    VIPS_FORMAT_UCHAR);
	if (!*small)
		goto out_free;
	(*small)->Type = in->Type;
	/* What the variants still need from the header: colour and orientation. */
	if (vips_image_get_typeof(in, VIPS_META_ICC_NAME)) {
		const void *icc;
		size_t icc_len;

		if (!vips_image_get_blob(in, VIPS_META_ICC_NAME, &icc, &icc_len))
			vips_image_set_blob_copy(*small, VIPS_META_ICC_NAME, icc, icc_len);
	}
	vips_image_set_int(*small, VIPS_META_ORIENTATION, vips_image_get_orientation(in));
	rc = 0;
out_free:
	if (rc) {
		scratch_give(0, grey_buf);
		scratch_give(1, small_buf);
		g->px = NULL;
	}
	free(acc);
	g_object_unref(reg);
	return rc;
}

static int save_jpeg(const struct pf_image_ctx *ctx, VipsImage *im, bool progressive,
                     unsigned char **out, size_t *out_len)
{
	void *buf = NULL;
	size_t len = 0;

	if (vips_jpegsave_buffer(im, &buf, &len, "Q", ctx->opts.jpeg_quality, "optimize_coding",
	                         TRUE, "interlace", progressive, "strip", TRUE, NULL))
		return -1;
	/* Hand back plain malloc memory so owners can free() it. */
	*out = pf_xmalloc(len);
	memcpy(*out, buf, len);
	*out_len = len;
	g_free(buf);
	return 0;
}

/*
 * WebP beside the JPEG: lossy at quality 80, about a third fewer bytes than
 * the JPEG at 82 (the thumbnail at the same luma PSNR, the fullsize ~1 dB
 * below). Effort buys bytes with CPU: the thumbnail, sent 48 to a page, gets
 * effort 4 (tens of ms); the fullsize effort 2, a third of effort 4's time
 * for ~4 % more bytes. docs/image-pipeline.md has the measurements. Encoded
 * from the very pixels the JPEG is, so both show the same photo; the EXIF
 * chunk libvips adds even with "strip" is cut out (webp.c).
 */
#define WEBP_QUALITY 80
#define WEBP_EFFORT_FULLSIZE 2
#define WEBP_EFFORT_THUMBNAIL 4

static int save_webp(VipsImage *im, int effort, unsigned char **out, size_t *out_len)
{
	void *buf = NULL;
	size_t len = 0;

	if (vips_webpsave_buffer(im, &buf, &len, "Q", WEBP_QUALITY, "effort", effort, "strip", TRUE,
	                         NULL))
		return -1;
	*out = pf_xmalloc(len);
	memcpy(*out, buf, len);
	*out_len = pf_image__webp_simple(*out, len);
	g_free(buf);
	return 0;
}

/* Both encodes of one variant (the fullsize's JPEG is progressive, the
 * thumbnail's baseline); the WebP one only when asked, timed apart. */
static int save_variant(const struct pf_image_ctx *ctx, VipsImage *im, bool fullsize,
                        unsigned char **jpeg, size_t *jpeg_len, unsigned char **webp,
                        size_t *webp_len, double *webp_ms)
{
	double t;

	if (save_jpeg(ctx, im, fullsize, jpeg, jpeg_len))
		return -1;
	if (!ctx->opts.webp)
		return 0;
	t = now_ms();
	if (save_webp(im, fullsize ? WEBP_EFFORT_FULLSIZE : WEBP_EFFORT_THUMBNAIL, webp, webp_len))
		return -1;
	*webp_ms += now_ms() - t;
	return 0;
}

static double fit_scale(int w, int h, int max)
{
	int longest = w > h ? w : h;

	return longest > max ? (double)max / longest : 1.0;
}

/* The integer part of a reduction by scale, done by box averaging. */
static int box_factor(double scale)
{
	int k = (int)(1.0 / scale + 1e-6);

	return k < 1 ? 1 : k;
}

/* k x k box average of an 8-bit memory image (edge remainder dropped). */
static VipsImage *box_reduce(VipsImage *in, int k)
{
	int bands = in->Bands, sw = in->Xsize / k, sh = in->Ysize / k;
	size_t row = (size_t)sw * bands;
	unsigned int *acc = pf_xcalloc(row, sizeof(*acc));
	unsigned char *out = pf_xmalloc(row * sh + 1);
	unsigned int n = (unsigned int)(k * k);
	VipsImage *im;

	for (int y = 0; y < sh * k; y++) {
		const unsigned char *src = (const unsigned char *)VIPS_IMAGE_ADDR(in, 0, y);

		if (bands == 3)
			box_row3(src, sw, k, acc);
		else
			box_row(src, sw, k, bands, acc);
		if ((y + 1) % k == 0) {
			unsigned char *o = out + (size_t)(y / k) * row;

			for (size_t i = 0; i < row; i++) {
				o[i] = (unsigned char)((acc[i] + n / 2) / n);
				acc[i] = 0;
			}
		}
	}
	im = vips_image_new_from_memory_copy(out, row * sh, sw, sh, bands, VIPS_FORMAT_UCHAR);
	if (im)
		im->Type = in->Type;
	free(out);
	free(acc);
	return im;
}

/* Resizes a memory image by scale (< 1): box for the integer part, Lanczos 3
 * for the rest. Several times cheaper than Lanczos all the way, and area
 * averaging is what photos want when shrinking by whole factors. */
static int shrink(VipsImage *in, double scale, VipsImage **out)
{
	int k = box_factor(scale);
	VipsImage *boxed;
	int rc;

	if (k < 2 || in->BandFmt != VIPS_FORMAT_UCHAR || in->Xsize / k < 1 || in->Ysize / k < 1)
		return vips_resize(in, out, scale, "kernel", VIPS_KERNEL_LANCZOS3, NULL);
	boxed = box_reduce(in, k);
	if (!boxed)
		return -1;
	if (scale * k > 0.999) {
		*out = boxed;
		return 0;
	}
	rc = vips_resize(boxed, out, scale * k, "kernel", VIPS_KERNEL_LANCZOS3, NULL);
	g_object_unref(boxed);
	return rc;
}

/* Builds both variants from the reduced frame: fullsize (resized by scale,
 * sRGB, rotated upright), then the thumbnail from the fullsize. */
static int make_variants(const struct pf_image_ctx *ctx, VipsImage *full, double scale,
                         struct pf_image_result *out, struct pf_error *err)
{
	VipsObject *scope = VIPS_OBJECT(vips_image_new());
	VipsImage **t = (VipsImage **)vips_object_local_array(scope, 8);
	char why[256];
	double s;
	int rc = PF_EIMAGE;

	s = scale;
	if (s < 0.999) {
		if (vips_resize(full, &t[0], s, "kernel", VIPS_KERNEL_LANCZOS3, NULL))
			goto out_fail;
	} else {
		t[0] = full;
		g_object_ref(full);
	}
	if (to_srgb(t[0], &t[1]) || vips_autorot(t[1], &t[2], NULL))
		goto out_fail;
	/* Materialised once: the fullsize encode and the thumbnail both read it. */
	t[3] = vips_image_copy_memory(t[2]);
	if (!t[3])
		goto out_fail;
	out->width = t[3]->Xsize;
	out->height = t[3]->Ysize;
	if (pf_image__apply_overlay(ctx, t[3], &t[4]) ||
	    save_variant(ctx, t[4], true, &out->fullsize_jpeg, &out->fullsize_len,
	                 &out->fullsize_webp, &out->fullsize_webp_len, &out->ms.webp))
		goto out_fail;

	s = fit_scale(t[3]->Xsize, t[3]->Ysize, ctx->opts.thumbnail_max);
	if (s < 1.0) {
		if (shrink(t[3], s, &t[5]))
			goto out_fail;
	} else {
		t[5] = t[3];
		g_object_ref(t[3]);
	}
	if (pf_image__apply_overlay(ctx, t[5], &t[6]) ||
	    save_variant(ctx, t[6], false, &out->thumbnail_jpeg, &out->thumbnail_len,
	                 &out->thumbnail_webp, &out->thumbnail_webp_len, &out->ms.webp))
		goto out_fail;
	out->thumbnail_width = t[6]->Xsize;
	out->thumbnail_height = t[6]->Ysize;
	rc = 0;
	goto out_unref;
out_fail:
	vips_reason(why, sizeof(why));
	refuse(err, PF_EIMAGE, "corrupt", "the image could not be converted: %s", why);
out_unref:
	g_object_unref(scope);
	return rc;
}

int pf_image_process(const struct pf_image_ctx *ctx, const void *bytes, size_t len,
                     struct pf_image_result *out, struct pf_error *err)
{
	struct pf_image__codes codes = {0};
	struct pf_image__grey grey = {0};
	struct scratch grey_buf = {0}, small_buf = {0};
	struct pf_image__scan_stats stats;
	VipsImage *header = NULL, *u8 = NULL, *small = NULL;
	const char *loader;
	double t0 = now_ms(), t1, t2, scale;
	int k;
	char why[256];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!bytes || len == 0)
		return refuse(err, PF_EIMAGE, "empty", "the file is empty%s", "");
	if ((int64_t)len > ctx->opts.max_input_bytes) {
		char n[64];

		snprintf(n, sizeof(n), "%zu bytes, the limit is %lld", len,
		         (long long)ctx->opts.max_input_bytes);
		return refuse(err, PF_ETOOBIG, "too_many_bytes", "the file is too large (%s)", n);
	}
	loader = vips_foreign_find_load_buffer(bytes, len);
	if (!loader || !loader_allowed(loader)) {
		const char *kind = sniff_format(bytes, len);

		vips_error_clear();
		if (kind)
			return refuse(err, PF_EIMAGE, "unsupported_format",
			              "%s files are not accepted; send JPEG, PNG, WebP or TIFF",
			              kind);
		return refuse(err, PF_EIMAGE, "unsupported_format",
		              "not a JPEG, PNG, WebP or TIFF image%s", "");
	}
	/* Header only: libvips reads pixels when they are first asked for. */
	header = vips_image_new_from_buffer(bytes, len, "", "access", VIPS_ACCESS_SEQUENTIAL,
	                                    "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	if (!header) {
		vips_reason(why, sizeof(why));
		return refuse(err, PF_EIMAGE, "corrupt", "the image header is unreadable: %s", why);
	}
	if ((int64_t)header->Xsize * header->Ysize > ctx->opts.max_input_pixels) {
		snprintf(why, sizeof(why), "%d x %d pixels, the limit is %lld", header->Xsize,
		         header->Ysize, (long long)ctx->opts.max_input_pixels);
		rc = refuse(err, PF_ETOOBIG, "too_many_pixels", "the image is too large (%s)", why);
		goto out_unref;
	}
	if (header->Bands > 5) {
		snprintf(why, sizeof(why), "%d", header->Bands);
		rc = refuse(err, PF_EIMAGE, "unsupported_format",
		            "images with %s channels are not accepted", why);
		goto out_unref;
	}
	pf_image__taken_at(header, out->taken_at);

	/* The variants are built from a box-reduced copy (area averaging, the
	 * integer part of the reduction); Lanczos does the fractional rest. */
	scale = fit_scale(header->Xsize, header->Ysize, ctx->opts.fullsize_max);
	k = box_factor(scale);
	/* A sliver (1 x 100000) keeps at least one reduced pixel across. */
	if (k > header->Xsize)
		k = header->Xsize;
	if (k > header->Ysize)
		k = header->Ysize;
	if (to_uchar(header, &u8) || decode(u8, k, &grey, &grey_buf, &small, &small_buf))
		goto out_corrupt;
	t1 = now_ms();
	out->ms.decode = t1 - t0;

	rc = pf_image__scan(ctx, &grey, &codes, &stats, err);
	pf_image__grey_release(&grey);
	scratch_give(0, &grey_buf);
	grey.px = NULL;
	if (rc)
		goto out_unref;
	t2 = now_ms();
	out->ms.scan = t2 - t1;

	rc = make_variants(ctx, small, scale * k, out, err);
	if (rc)
		goto out_unref;
	out->ms.variants = now_ms() - t2;
	out->codes = codes.v;
	out->ncodes = codes.n;
	memset(&codes, 0, sizeof(codes));
	out->ms.total = now_ms() - t0;
	rc = 0;
	goto out_unref;

out_corrupt:
	vips_reason(why, sizeof(why));
	rc = refuse(err, PF_EIMAGE, "corrupt", "the image data is truncated or corrupt: %s", why);
out_unref:
	pf_image__codes_free(&codes);
	if (rc)
		pf_image_result_free(out);
	pf_image__grey_release(&grey);
	scratch_give(0, &grey_buf);
	/* The reduced image wraps small_buf without a copy: drop it first. */
	if (small)
		g_object_unref(small);
	scratch_give(1, &small_buf);
	if (u8)
		g_object_unref(u8);
	g_object_unref(header);
	return rc;
}

void pf_image_result_free(struct pf_image_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncodes; i++)
		free(r->codes[i]);
	free(r->codes);
	free(r->fullsize_jpeg);
	free(r->thumbnail_jpeg);
	free(r->fullsize_webp);
	free(r->thumbnail_webp);
	memset(r, 0, sizeof(*r));
}

static int load_overlay(struct pf_image_ctx *ctx, const void *png, size_t len, struct pf_error *err)
{
	VipsObject *scope = VIPS_OBJECT(vips_image_new());
	VipsImage **t = (VipsImage **)vips_object_local_array(scope, 5);
	const char *loader = vips_foreign_find_load_buffer(png, len);
	VipsImage *cur;
	char why[256];
	int rc = PF_EINVAL;

	if (!loader ||
	    (strcmp(loader, "pngload_buffer") && strcmp(loader, "VipsForeignLoadPngBuffer"))) {
		vips_error_clear();
		pf_error_set(err, PF_EINVAL, "the overlay is not a PNG file");
		goto out_unref;
	}
	t[0] = vips_image_new_from_buffer(png, len, "", "fail_on", VIPS_FAIL_ON_ERROR, NULL);
	if (!t[0])
		goto out_vips;
	if ((int64_t)t[0]->Xsize * t[0]->Ysize > ctx->opts.max_input_pixels) {
		pf_error_set(err, PF_EINVAL, "the overlay is too large (%d x %d pixels)",
		             t[0]->Xsize, t[0]->Ysize);
		goto out_unref;
	}
	if (vips_colourspace(t[0], &t[1], VIPS_INTERPRETATION_sRGB, NULL))
		goto out_vips;
	cur = t[1];
	if (!vips_image_hasalpha(cur)) {
		if (vips_bandjoin_const1(cur, &t[2], 255.0, NULL))
			goto out_vips;
		cur = t[2];
	}
	if (vips_cast(cur, &t[3], VIPS_FORMAT_UCHAR, NULL))
		goto out_vips;
	ctx->overlay = vips_image_copy_memory(t[3]);
	if (!ctx->overlay)
		goto out_vips;
	rc = 0;
	goto out_unref;
out_vips:
	vips_reason(why, sizeof(why));
	pf_error_set(err, PF_EINVAL, "the overlay PNG cannot be decoded: %s", why);
out_unref:
	g_object_unref(scope);
	return rc;
}

int pf_image_ctx_new(const struct pf_image_options *opts, const void *overlay_png,
                     size_t overlay_len, struct pf_image_ctx **out, struct pf_error *err)
{
	struct pf_image_ctx *ctx;
	int rc;

	*out = NULL;
	rc = pf_image_global_init(NULL, err);
	if (rc)
		return rc;
	ctx = pf_xcalloc(1, sizeof(*ctx));
	ctx->opts = *opts;
	ctx->opts.code_pattern = NULL;
	if (!ctx->opts.symbologies)
		ctx->opts.symbologies = PF_IMAGE_SYM_QRCODE | PF_IMAGE_SYM_CODE128;
	if (opts->code_pattern && *opts->code_pattern) {
		int r = regcomp(&ctx->pattern, opts->code_pattern, REG_EXTENDED);

		if (r) {
			char msg[128];

			regerror(r, &ctx->pattern, msg, sizeof(msg));
			pf_error_set(err, PF_EINVAL, "the code pattern is not a valid regex: %s",
			             msg);
			free(ctx);
			return PF_EINVAL;
		}
		ctx->has_pattern = true;
	}
	if (overlay_png && overlay_len) {
		rc = load_overlay(ctx, overlay_png, overlay_len, err);
		if (rc) {
			pf_image_ctx_free(ctx);
			return rc;
		}
	}
	*out = ctx;
	return 0;
}

void pf_image_ctx_free(struct pf_image_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->has_pattern)
		regfree(&ctx->pattern);
	if (ctx->overlay)
		g_object_unref(ctx->overlay);
	free(ctx);
}
