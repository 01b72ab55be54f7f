/*
 * libFuzzer target for the image pipeline: arbitrary bytes through
 * pf_image_process with small limits (so each input stays fast). Beyond "no
 * crash, no leak, no UB" it checks what callers rely on: a refusal is
 * PF_EIMAGE or PF_ETOOBIG with a reason and a message and no outputs; a
 * success has both JPEGs, sizes within the limits, and codes that are valid,
 * sorted and unique.
 *
 * Without seeds random bytes rarely get past the format sniffing, so two
 * input shapes reach deeper: 'P' + payload drives the payload-to-code
 * function directly; 'S' + w, h, format, bands + (offset, value) pairs
 * encodes a small synthetic picture in that format with libvips, overwrites
 * the given bytes and runs the damaged file through the pipeline (corrupt
 * data inside real JPEG, PNG, WebP and TIFF structures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "photofinish/error.h"
#include "photofinish/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pf_image_ctx *ctx;
static regex_t pattern;

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void init(void)
{
	struct pf_image_options cfg;
	struct pf_error err;
	VipsImage *logo = NULL;
	void *png = NULL;
	size_t png_len = 0;

	check(pf_image_global_init("fuzz_image", &err) == 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_input_bytes = 1 << 20;
	cfg.max_input_pixels = 1 << 20;
	cfg.symbologies = PF_IMAGE_SYM_QRCODE | PF_IMAGE_SYM_CODE128;
	cfg.code_pattern = "([0-9A-Za-z]{1,8})$";
	cfg.fullsize_max = 256;
	cfg.thumbnail_max = 64;
	cfg.jpeg_quality = 50;
	cfg.overlay_gravity = PF_IMAGE_GRAVITY_SOUTH_EAST;
	cfg.overlay_margin = 0.02;
	cfg.overlay_width = 0.2;
	cfg.overlay_opacity = 0.7;
	check(vips_black(&logo, 30, 10, "bands", 4, NULL) == 0);
	check(vips_image_write_to_buffer(logo, ".png", &png, &png_len, NULL) == 0);
	g_object_unref(logo);
	check(pf_image_ctx_new(&cfg, png, png_len, &ctx, &err) == 0);
	g_free(png);
	check(regcomp(&pattern, "^(https://[a-z.]+/p/)?([0-9]+)$", REG_EXTENDED) == 0);
}

static bool valid_code(const char *c)
{
	size_t n = strlen(c);

	if (n < 1 || n > PF_IMAGE_CODE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = c[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

/* Encodes a w x h picture with the given bands in one of the four formats. */
static void *synth(const uint8_t *p, size_t *len)
{
	static const char *const fmts[] = {".jpg", ".png", ".webp", ".tif", ".png[bitdepth=16]"};
	int w = 1 + p[0] % 160, h = 1 + p[1] % 160, bands = 1 + p[3] % 4;
	const char *fmt = fmts[p[2] % 5];
	VipsImage *im = NULL, *t = NULL;
	void *buf = NULL;

	check(vips_xyz(&im, w, h, NULL) == 0);
	check(vips_cast(im, &t, VIPS_FORMAT_UCHAR, NULL) == 0);
	g_object_unref(im);
	im = t;
	while (im->Bands < bands) {
		check(vips_bandjoin_const1(im, &t, 77.0 * im->Bands, NULL) == 0);
		g_object_unref(im);
		im = t;
	}
	if (strstr(fmt, "16")) {
		check(vips_cast(im, &t, VIPS_FORMAT_USHORT, NULL) == 0);
		g_object_unref(im);
		im = t;
	}
	if (vips_image_write_to_buffer(im, fmt, &buf, len, NULL)) {
		vips_error_clear();
		buf = NULL;
	}
	g_object_unref(im);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pf_image_result res;
	struct pf_error err;
	char code[PF_IMAGE_CODE_MAX + 1];
	void *made = NULL;
	int rc;

	if (!ctx)
		init();
	if (size >= 5 && data[0] == 'S') {
		size_t len = 0;

		made = synth(data + 1, &len);
		if (!made)
			return 0;
		for (size_t i = 5; i + 2 < size; i += 3) {
			size_t at = ((size_t)data[i] << 8 | data[i + 1]) % len;

			((uint8_t *)made)[at] = data[i + 2];
		}
		data = made;
		size = len;
	}
	if (size > 0 && data[0] == 'P') {
		if (pf_image__payload_to_code(&pattern, (const char *)data + 1, size - 1, code))
			check(valid_code(code));
		if (pf_image__payload_to_code(NULL, (const char *)data + 1, size - 1, code))
			check(valid_code(code));
	}

	pf_error_clear(&err);
	rc = pf_image_process(ctx, data, size, &res, &err);
	if (rc) {
		check(rc == PF_EIMAGE || rc == PF_ETOOBIG);
		check(err.service_code[0] != '\0');
		check(err.message[0] != '\0');
		check(!err.retryable);
		check(res.fullsize_jpeg == NULL && res.thumbnail_jpeg == NULL && res.ncodes == 0);
		g_free(made);
		return 0;
	}
	check(res.fullsize_jpeg && res.fullsize_len > 0);
	check(res.thumbnail_jpeg && res.thumbnail_len > 0);
	check(res.width > 0 && res.width <= 256 && res.height > 0 && res.height <= 256);
	check(res.thumbnail_width > 0 && res.thumbnail_width <= 64);
	check(res.thumbnail_height > 0 && res.thumbnail_height <= 64);
	for (size_t i = 0; i < res.ncodes; i++) {
		check(valid_code(res.codes[i]));
		if (i)
			check(strcmp(res.codes[i - 1], res.codes[i]) < 0);
	}
	pf_image_result_free(&res);
	g_free(made);
	return 0;
}
