/*
 * Unit tests for the image pipeline's pure parts (payload to code, code
 * normalisation, the code set, overlay geometry, EXIF dates, option names)
 * and for pf_image_process on small inputs: every refusal reason, codes from
 * the committed fixtures, variant sizes, progressive fullsize and baseline
 * thumbnail (read from the JPEG frame marker), overlay, orientation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/image_int.h"
#include "photofinish/config.h"
#include "photofinish/error.h"
#include "photofinish/image.h"
#include "photofinish/util.h"

#ifndef FIXTURES
#define FIXTURES "test/images"
#endif

static bool to_code(const char *pattern, const char *payload, char out[PF_IMAGE_CODE_MAX + 1])
{
	regex_t re;
	bool ok;

	if (!pattern)
		return pf_image__payload_to_code(NULL, payload, strlen(payload), out);
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED), 0);
	ok = pf_image__payload_to_code(&re, payload, strlen(payload), out);
	regfree(&re);
	return ok;
}

static void test_payload_without_pattern(void **state)
{
	char code[PF_IMAGE_CODE_MAX + 1];

	assert_true(to_code(NULL, "10423", code));
	assert_string_equal(code, "10423");
	assert_true(to_code(NULL, "  a7-19\r\n", code));
	assert_string_equal(code, "A7-19");
	assert_true(to_code(NULL, "run_2024.b", code));
	assert_string_equal(code, "RUN_2024.B");
	/* Characters outside the code alphabet reject the payload. */
	assert_false(to_code(NULL, "https://race.example/p/10423", code));
	assert_false(to_code(NULL, "10 423", code));
	assert_false(to_code(NULL, "", code));
	assert_false(to_code(NULL, "   ", code));
	assert_false(to_code(NULL, "caf\xc3\xa9", code));
}

static void test_payload_with_pattern(void **state)
{
	char code[PF_IMAGE_CODE_MAX + 1];

	/* First capture group. */
	assert_true(
	    to_code("^https://race\\.example/p/([0-9]+)$", "https://race.example/p/10423", code));
	assert_string_equal(code, "10423");
	/* Payloads that do not match are dropped. */
	assert_false(
	    to_code("^https://race\\.example/p/([0-9]+)$", "https://evil.example/p/1", code));
	assert_false(to_code("^https://race\\.example/p/([0-9]+)$", "10423", code));
	/* No group: the whole match. */
	assert_true(to_code("[0-9]{3,6}", "bib 10423 ok", code));
	assert_string_equal(code, "10423");
	/* The extracted part is trimmed and upper-cased, then validated. */
	assert_true(to_code("id=([a-z0-9 ]+)", "id= ab12 ", code));
	assert_string_equal(code, "AB12");
	assert_false(to_code("id=(.*)", "id=a/b", code));
	/* The trailing newline some printers add does not defeat an anchor. */
	assert_true(to_code("([0-9]{3,6})$", "https://race.example/p/555\n", code));
	assert_string_equal(code, "555");
	/* An optional group that did not take part: the whole match. */
	assert_true(to_code("(x)?[0-9]+", "77", code));
	assert_string_equal(code, "77");
}

static void test_payload_limits(void **state)
{
	char code[PF_IMAGE_CODE_MAX + 1];
	char long_code[80];
	char binary[] = {'1', '2', '\0', '3'};

	memset(long_code, 'A', 64);
	long_code[64] = '\0';
	assert_true(to_code(NULL, long_code, code));
	assert_int_equal(strlen(code), 64);
	long_code[64] = 'B';
	long_code[65] = '\0';
	assert_false(to_code(NULL, long_code, code));
	/* Embedded NUL: binary payload, never a code. */
	assert_false(pf_image__payload_to_code(NULL, binary, sizeof(binary), code));
	assert_false(pf_image__payload_to_code(NULL, NULL, 0, code));
}

static void test_code_normalise(void **state)
{
	char code[PF_IMAGE_CODE_MAX + 1];

	assert_true(pf_image_code_normalise(" x-1 ", code));
	assert_string_equal(code, "X-1");
	assert_false(pf_image_code_normalise("a/b", code));
	assert_false(pf_image_code_normalise("", code));
	assert_false(pf_image_code_normalise(NULL, code));
}

static void test_codes_set_sorted_unique(void **state)
{
	struct pf_image__codes set = {0};
	const char *in[] = {"300", "100", "B", "200", "100", "A", "300", "10"};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		pf_image__codes_add(&set, in[i]);
	assert_int_equal(set.n, 6);
	assert_string_equal(set.v[0], "10");
	assert_string_equal(set.v[1], "100");
	assert_string_equal(set.v[2], "200");
	assert_string_equal(set.v[3], "300");
	assert_string_equal(set.v[4], "A");
	assert_string_equal(set.v[5], "B");
	pf_image__codes_free(&set);
	assert_null(set.v);
}

static void test_overlay_geometry_gravity(void **state)
{
	struct pf_image__rect r;

	/* 2000x1333 variant, 600x180 logo, 20 % wide, 2 % margin (40 px). */
	assert_true(pf_image__overlay_geometry(2000, 1333, 600, 180, PF_IMAGE_GRAVITY_SOUTH_EAST,
	                                       0.02, 0.2, &r));
	assert_int_equal(r.w, 400);
	assert_int_equal(r.h, 120);
	assert_int_equal(r.x, 2000 - 400 - 40);
	assert_int_equal(r.y, 1333 - 120 - 40);

	assert_true(pf_image__overlay_geometry(2000, 1333, 600, 180, PF_IMAGE_GRAVITY_NORTH_WEST,
	                                       0.02, 0.2, &r));
	assert_int_equal(r.x, 40);
	assert_int_equal(r.y, 40);

	assert_true(pf_image__overlay_geometry(2000, 1333, 600, 180, PF_IMAGE_GRAVITY_CENTRE, 0.02,
	                                       0.2, &r));
	assert_int_equal(r.x, 800);
	assert_int_equal(r.y, (1333 - 120) / 2);

	assert_true(pf_image__overlay_geometry(2000, 1333, 600, 180, PF_IMAGE_GRAVITY_NORTH, 0.02,
	                                       0.2, &r));
	assert_int_equal(r.x, 800);
	assert_int_equal(r.y, 40);

	assert_true(
	    pf_image__overlay_geometry(2000, 1333, 600, 180, PF_IMAGE_GRAVITY_EAST, 0.02, 0.2, &r));
	assert_int_equal(r.x, 1560);
	assert_int_equal(r.y, (1333 - 120) / 2);

	assert_true(pf_image__overlay_geometry(2000, 1333, 600, 180, PF_IMAGE_GRAVITY_SOUTH_WEST,
	                                       0.0, 0.2, &r));
	assert_int_equal(r.x, 0);
	assert_int_equal(r.y, 1333 - 120);
}

static void test_overlay_geometry_fits(void **state)
{
	struct pf_image__rect r;

	/* A tall logo on a wide, short variant is limited by the height. */
	assert_true(pf_image__overlay_geometry(500, 100, 100, 400, PF_IMAGE_GRAVITY_SOUTH_EAST,
	                                       0.02, 0.5, &r));
	assert_int_equal(r.h, 100 - 2 * 10);
	assert_int_equal(r.w, 20);
	assert_true(r.x + r.w <= 500 - 10);
	assert_true(r.y >= 10);
	/* Full width with a margin shrinks to the room left. */
	assert_true(pf_image__overlay_geometry(1000, 1000, 100, 100, PF_IMAGE_GRAVITY_CENTRE, 0.1,
	                                       1.0, &r));
	assert_int_equal(r.w, 800);
	assert_int_equal(r.h, 800);
	assert_int_equal(r.x, 100);
	/* Nothing to draw. */
	assert_false(
	    pf_image__overlay_geometry(0, 100, 10, 10, PF_IMAGE_GRAVITY_CENTRE, 0, 0.2, &r));
	assert_false(
	    pf_image__overlay_geometry(100, 100, 0, 10, PF_IMAGE_GRAVITY_CENTRE, 0, 0.2, &r));
	assert_false(
	    pf_image__overlay_geometry(100, 100, 10, 10, PF_IMAGE_GRAVITY_CENTRE, 0.5, 0.2, &r));
	assert_false(
	    pf_image__overlay_geometry(2, 2, 1000, 1, PF_IMAGE_GRAVITY_CENTRE, 0, 0.01, &r));
}

static void test_exif_dates(void **state)
{
	char out[40];

	assert_true(pf_image__exif_to_rfc3339("2024:04:14 09:31:07", "+02:00", out));
	assert_string_equal(out, "2024-04-14T09:31:07+02:00");
	assert_true(pf_image__exif_to_rfc3339("2024:04:14 09:31:07", NULL, out));
	assert_string_equal(out, "2024-04-14T09:31:07Z");
	assert_true(pf_image__exif_to_rfc3339("2024:04:14 09:31:07", "-05:30", out));
	assert_string_equal(out, "2024-04-14T09:31:07-05:30");
	/* A malformed offset is ignored, not propagated. */
	assert_true(pf_image__exif_to_rfc3339("2024:04:14 09:31:07", "2h", out));
	assert_string_equal(out, "2024-04-14T09:31:07Z");
	/* Unset camera clocks. */
	assert_false(pf_image__exif_to_rfc3339("0000:00:00 00:00:00", NULL, out));
	assert_string_equal(out, "");
	assert_false(pf_image__exif_to_rfc3339("    :  :     :  :  ", NULL, out));
	assert_false(pf_image__exif_to_rfc3339("2024-04-14T09:31:07", NULL, out));
	assert_false(pf_image__exif_to_rfc3339("2024:13:14 09:31:07", NULL, out));
	assert_false(pf_image__exif_to_rfc3339(NULL, NULL, out));
}

static void test_option_names(void **state)
{
	unsigned bits = 0;
	enum pf_image_gravity g = PF_IMAGE_GRAVITY_SOUTH;

	assert_true(pf_image_symbologies_parse("QRCode, code39", &bits));
	assert_int_equal(bits, PF_IMAGE_SYM_QRCODE | PF_IMAGE_SYM_CODE39);
	assert_true(pf_image_symbologies_parse(" databar ", &bits));
	assert_int_equal(bits, PF_IMAGE_SYM_DATABAR);
	assert_false(pf_image_symbologies_parse("", &bits));
	assert_false(pf_image_symbologies_parse("qrcode,pdf417", &bits));
	assert_false(pf_image_symbologies_parse(NULL, &bits));
	assert_string_equal(pf_image_symbology_name(PF_IMAGE_SYM_CODE128), "code128");
	assert_string_equal(pf_image_symbology_name(PF_IMAGE_SYM_DATABAR), "databar");
	assert_null(pf_image_symbology_name(PF_IMAGE_SYM_QRCODE | PF_IMAGE_SYM_CODE128));
	assert_null(pf_image_symbology_name(0));
	assert_true(pf_image_gravity_parse("north-west", &g));
	assert_int_equal(g, PF_IMAGE_GRAVITY_NORTH_WEST);
	assert_true(pf_image_gravity_parse("CENTER", &g));
	assert_int_equal(g, PF_IMAGE_GRAVITY_CENTRE);
	assert_false(pf_image_gravity_parse("up", &g));
	assert_false(pf_image_gravity_parse(NULL, &g));
	assert_int_equal(g, PF_IMAGE_GRAVITY_CENTRE);
	assert_string_equal(pf_image_gravity_name(PF_IMAGE_GRAVITY_SOUTH_EAST), "south-east");
	assert_string_equal(pf_image_gravity_name(PF_IMAGE_GRAVITY_CENTRE), "centre");
	for (int i = PF_IMAGE_GRAVITY_CENTRE; i <= PF_IMAGE_GRAVITY_NORTH_WEST; i++) {
		assert_true(
		    pf_image_gravity_parse(pf_image_gravity_name((enum pf_image_gravity)i), &g));
		assert_int_equal(g, i);
	}
}

/* --- pf_image_process ------------------------------------------------- */

/* The pipeline's options as the daemon fills them from its defaults. */
static struct pf_config loaded;
static struct pf_image_options cfg;

static int setup_cfg(void **state)
{
	struct pf_buf problems;
	char *env[] = {NULL};

	pf_buf_init(&problems);
	assert_int_equal(
	    pf_config_load_env(&loaded, PF_CONFIG_PROCESS, env, NULL, NULL, false, &problems), 0);
	pf_buf_free(&problems);
	pf_config_image_options(&loaded, &cfg);
	return 0;
}

static int teardown_cfg(void **state)
{
	pf_config_free(&loaded);
	return 0;
}

static unsigned char *slurp(const char *name, size_t *len)
{
	char *path = pf_xasprintf("%s/%s", FIXTURES, name);
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = pf_xmalloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(path);
	*len = (size_t)n;
	return buf;
}

/* A fixture's first band as 8-bit grey pixels (g_free them), w x h. */
static unsigned char *fixture_grey(const char *name, int *w, int *h)
{
	size_t len, n;
	unsigned char *png = slurp(name, &len), *px;
	VipsImage *im = vips_image_new_from_buffer(png, len, "", NULL), *grey = NULL;

	assert_non_null(im);
	assert_int_equal(vips_extract_band(im, &grey, 0, NULL), 0);
	px = vips_image_write_to_memory(grey, &n);
	*w = vips_image_get_width(grey);
	*h = vips_image_get_height(grey);
	assert_int_equal(n, (size_t)*w * *h);
	g_object_unref(grey);
	g_object_unref(im);
	free(png);
	return px;
}

/* Encodes a synthetic picture with libvips (format by suffix, e.g. ".png[bitdepth=16]"). */
static unsigned char *make_image(int w, int h, int bands, const char *suffix, size_t *len)
{
	VipsImage *im = NULL, *cast = NULL;
	void *buf = NULL;

	assert_int_equal(vips_xyz(&im, w, h, NULL), 0);
	assert_int_equal(vips_cast(im, &cast, VIPS_FORMAT_UCHAR, NULL), 0);
	g_object_unref(im);
	if (bands == 3) {
		VipsImage *rgb = NULL;

		assert_int_equal(vips_bandjoin_const1(cast, &rgb, 128, NULL), 0);
		g_object_unref(cast);
		cast = rgb;
		assert_int_equal(vips_bandjoin_const1(cast, &rgb, 200, NULL), 0);
		g_object_unref(cast);
		cast = rgb;
		cast->Type = VIPS_INTERPRETATION_sRGB;
	}
	if (strstr(suffix, "bitdepth=16")) {
		VipsImage *deep = NULL;

		/* Save real 16-bit pixels (8-bit ones saved as 16 overrun libpng's rows). */
		assert_int_equal(vips_linear1(cast, &deep, 257.0, 0.0, NULL), 0);
		g_object_unref(cast);
		assert_int_equal(vips_cast(deep, &cast, VIPS_FORMAT_USHORT, NULL), 0);
		g_object_unref(deep);
		cast->Type = bands == 3 ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_GREY16;
	}
	assert_int_equal(vips_image_write_to_buffer(cast, suffix, &buf, len, NULL), 0);
	g_object_unref(cast);
	return buf;
}

static int process(struct pf_image_ctx *ctx, const void *bytes, size_t len,
                   struct pf_image_result *res, struct pf_error *err)
{
	pf_error_clear(err);
	return pf_image_process(ctx, bytes, len, res, err);
}

static void expect_refusal(struct pf_image_ctx *ctx, const void *bytes, size_t len,
                           const char *reason)
{
	struct pf_image_result res;
	struct pf_error err;
	int rc = process(ctx, bytes, len, &res, &err);

	assert_true(rc == PF_EIMAGE || rc == PF_ETOOBIG);
	assert_string_equal(err.service_code, reason);
	assert_false(err.retryable);
	assert_true(strlen(err.message) > 0);
	assert_null(res.fullsize_jpeg);
	assert_int_equal(res.ncodes, 0);
}

static void test_refusals(void **state)
{
	struct pf_image_ctx *ctx;
	struct pf_error err;
	unsigned char *jpeg;
	size_t jpeg_len;
	static const char svg[] =
	    "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"10\" height=\"10\"><rect width=\"10\" height=\"10\"/></svg>";
	static const char pdf[] = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
	static const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 1,   0,   1, 0, 0x80, 0,
	                                    0,   0,   0,   0,   255, 255, 255, ',', 0, 0, 0,    0,
	                                    1,   0,   1,   0,   0,   2,   2,   'D', 1, 0, ';'};
	static const char text[] = "this is not a picture, just text in a file named photo.jpg\n";

	assert_int_equal(pf_image_ctx_new(&cfg, NULL, 0, &ctx, &err), 0);
	expect_refusal(ctx, "", 0, "empty");
	expect_refusal(ctx, NULL, 0, "empty");
	expect_refusal(ctx, svg, sizeof(svg) - 1, "unsupported_format");
	expect_refusal(ctx, pdf, sizeof(pdf) - 1, "unsupported_format");
	expect_refusal(ctx, gif, sizeof(gif), "unsupported_format");
	expect_refusal(ctx, text, sizeof(text) - 1, "unsupported_format");

	jpeg = make_image(640, 480, 3, ".jpg", &jpeg_len);
	/* Truncated: refused, not half-decoded. */
	expect_refusal(ctx, jpeg, jpeg_len / 2, "corrupt");
	expect_refusal(ctx, jpeg, 200, "corrupt");
	/* A JPEG with its middle overwritten. */
	memset(jpeg + jpeg_len / 3, 0xff, jpeg_len / 3);
	{
		struct pf_image_result res;
		int rc = process(ctx, jpeg, jpeg_len, &res, &err);

		/* libjpeg may resynchronise on some damage; never crash, and a
		 * refusal says so. */
		if (rc)
			assert_string_equal(err.service_code, "corrupt");
		pf_image_result_free(&res);
	}
	g_free(jpeg);
	pf_image_ctx_free(ctx);
}

/* A PNG whose IHDR declares w x h: refused from the header alone. */
static unsigned char *png_header(uint32_t w, uint32_t h, size_t *len)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	static const unsigned char idat[23] = {0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54,
	                                       0x78, 0x9c, 0x63, 0x60, 0x80, 0x01, 0x00, 0x00,
	                                       0x0a, 0x00, 0x01, 0x7f, 0x80, 0x74, 0x5e};
	unsigned char *p = pf_xcalloc(1, 96);
	unsigned char ihdr[17] = {'I', 'H', 'D', 'R'};
	uint32_t crc = 0xffffffffu;

	ihdr[4] = (unsigned char)(w >> 24);
	ihdr[5] = (unsigned char)(w >> 16);
	ihdr[6] = (unsigned char)(w >> 8);
	ihdr[7] = (unsigned char)w;
	ihdr[8] = (unsigned char)(h >> 24);
	ihdr[9] = (unsigned char)(h >> 16);
	ihdr[10] = (unsigned char)(h >> 8);
	ihdr[11] = (unsigned char)h;
	ihdr[12] = 8; /* bit depth */
	ihdr[13] = 2; /* RGB */
	for (size_t i = 0; i < sizeof(ihdr); i++) {
		crc ^= ihdr[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	crc ^= 0xffffffffu;
	memcpy(p, sig, 8);
	p[11] = 13;
	memcpy(p + 12, ihdr, sizeof(ihdr));
	p[29] = (unsigned char)(crc >> 24);
	p[30] = (unsigned char)(crc >> 16);
	p[31] = (unsigned char)(crc >> 8);
	p[32] = (unsigned char)crc;
	/* A tiny IDAT (the decoder reads up to the first one for the header). */
	memcpy(p + 33, idat, sizeof(idat));
	/* IEND: zero length (calloc), type, CRC. */
	memcpy(p + 33 + sizeof(idat) + 4, "IEND\xae\x42\x60\x82", 8);
	*len = 33 + sizeof(idat) + 12;
	return p;
}

static void test_limits(void **state)
{
	struct pf_image_options small = cfg;
	struct pf_image_ctx *ctx;
	struct pf_error err;
	unsigned char *png, *jpeg;
	size_t len, jpeg_len;

	assert_int_equal(pf_image_ctx_new(&cfg, NULL, 0, &ctx, &err), 0);
	png = png_header(50000, 50000, &len);
	expect_refusal(ctx, png, len, "too_many_pixels");
	free(png);
	pf_image_ctx_free(ctx);

	jpeg = make_image(320, 240, 3, ".jpg", &jpeg_len);
	small.max_input_bytes = (int64_t)jpeg_len - 1;
	assert_int_equal(pf_image_ctx_new(&small, NULL, 0, &ctx, &err), 0);
	expect_refusal(ctx, jpeg, jpeg_len, "too_many_bytes");
	pf_image_ctx_free(ctx);

	small = cfg;
	small.max_input_pixels = 320 * 240 - 1;
	assert_int_equal(pf_image_ctx_new(&small, NULL, 0, &ctx, &err), 0);
	expect_refusal(ctx, jpeg, jpeg_len, "too_many_pixels");
	pf_image_ctx_free(ctx);
	g_free(jpeg);
}

static void test_codes_from_fixtures(void **state)
{
	struct pf_image_options c = cfg;
	struct pf_image_ctx *ctx;
	struct pf_image_result res;
	struct pf_error err;
	unsigned char *qr, *bar;
	size_t qr_len, bar_len;

	qr = slurp("qr_10423.png", &qr_len);
	bar = slurp("code128_a7-19.png", &bar_len);

	/* Without a pattern the URL is not a valid code; the barcode is. */
	assert_int_equal(pf_image_ctx_new(&c, NULL, 0, &ctx, &err), 0);
	assert_int_equal(process(ctx, qr, qr_len, &res, &err), 0);
	assert_int_equal(res.ncodes, 0);
	pf_image_result_free(&res);
	assert_int_equal(process(ctx, bar, bar_len, &res, &err), 0);
	assert_int_equal(res.ncodes, 1);
	assert_string_equal(res.codes[0], "A7-19");
	pf_image_result_free(&res);
	pf_image_ctx_free(ctx);

	c.code_pattern = "^https://race\\.example/p/([0-9]+)$";
	assert_int_equal(pf_image_ctx_new(&c, NULL, 0, &ctx, &err), 0);
	assert_int_equal(process(ctx, qr, qr_len, &res, &err), 0);
	assert_int_equal(res.ncodes, 1);
	assert_string_equal(res.codes[0], "10423");
	pf_image_result_free(&res);
	/* The barcode does not match the pattern: dropped. */
	assert_int_equal(process(ctx, bar, bar_len, &res, &err), 0);
	assert_int_equal(res.ncodes, 0);
	pf_image_result_free(&res);
	pf_image_ctx_free(ctx);

	/* Only the configured symbologies are read. */
	c = cfg;
	c.symbologies = PF_IMAGE_SYM_CODE128;
	assert_int_equal(pf_image_ctx_new(&c, NULL, 0, &ctx, &err), 0);
	assert_int_equal(process(ctx, qr, qr_len, &res, &err), 0);
	assert_int_equal(res.ncodes, 0);
	pf_image_result_free(&res);
	pf_image_ctx_free(ctx);
	free(qr);
	free(bar);
}

/* A grey-printed, soft barcode (ink 130 on paper 210, blurred: no 2 px step
 * reaches the contrast map's 80 levels) in a frame whose exposure is full
 * (a smooth gradient spans 0-255): the weak map marks it and the weak
 * region read (half size, local contrast stretch) decodes it. */
static void test_scan_weak_code(void **state)
{
	enum { W = 3200, H = 2400, K = 3, X0 = 1000, Y0 = 1200 };
	struct pf_image_ctx *ctx;
	struct pf_image__codes set = {0};
	struct pf_image__scan_stats stats;
	struct pf_image__grey g = {0};
	struct pf_error err;
	unsigned char *code, *tmp;
	int cw, ch;

	(void)state;
	code = fixture_grey("code128_a7-19.png", &cw, &ch);
	g.w = W;
	g.h = H;
	g.px = pf_xmalloc((size_t)W * H);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			g.px[(size_t)y * W + x] = (unsigned char)(x * 255 / (W - 1));
	for (int y = 0; y < ch * K; y++)
		for (int x = 0; x < cw * K; x++)
			g.px[(size_t)(Y0 + y) * W + X0 + x] =
			    code[(size_t)(y / K) * cw + x / K] < 128 ? 130 : 210;
	/* Two 3 x 3 box blurs over the code and its surroundings. */
	tmp = pf_xmalloc((size_t)W * H);
	for (int pass = 0; pass < 2; pass++) {
		memcpy(tmp, g.px, (size_t)W * H);
		for (int y = Y0 - 8; y < Y0 + ch * K + 8; y++)
			for (int x = X0 - 8; x < X0 + cw * K + 8; x++) {
				int s = 0;

				for (int dy = -1; dy <= 1; dy++)
					for (int dx = -1; dx <= 1; dx++)
						s += tmp[(size_t)(y + dy) * W + x + dx];
				g.px[(size_t)y * W + x] = (unsigned char)((s + 4) / 9);
			}
	}
	assert_int_equal(pf_image_ctx_new(&cfg, NULL, 0, &ctx, &err), 0);
	assert_int_equal(pf_image__scan(ctx, &g, &set, &stats, &err), 0);
	assert_true(stats.read_weak >= 1);
	assert_true(stats.weak_px > 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0], "A7-19");
	pf_image__codes_free(&set);
	pf_image_ctx_free(ctx);
	free(tmp);
	free(g.px);
	g_free(code);
}

/* A bib folded along a vertical crease through its QR code: the part
 * beyond the crease turned away from the camera (80 % as wide, shaded to
 * 80 %). zbar reads the flat bib but not the folded one, in the frame or in
 * its candidate region; the unfolding retry finds the crease from the
 * shading step and reads it. */
static void test_scan_folded_qr(void **state)
{
	enum { W = 1600, H = 1200, K = 2, CX = 500, CY = 400, CW = 460, CH = 520 };
	const double squeeze = 0.8, shade = 0.8;
	struct pf_image_options c = cfg;
	struct pf_image_ctx *ctx;
	struct pf_image__scan_stats stats;
	struct pf_image__grey g = {0};
	struct pf_error err;
	unsigned char *code, *card;
	int cw, ch, qx, qy, xf;

	(void)state;
	code = fixture_grey("qr_10423.png", &cw, &ch);
	/* The bib: paper with the code enlarged K times, below the middle. */
	card = pf_xmalloc((size_t)CW * CH);
	memset(card, 235, (size_t)CW * CH);
	qx = (CW - cw * K) / 2;
	qy = CH - cw * K - 40;
	for (int y = 0; y < ch * K; y++)
		for (int x = 0; x < cw * K; x++)
			card[(size_t)(qy + y) * CW + qx + x] =
			    code[(size_t)(y / K) * cw + x / K] < 128 ? 25 : 235;
	xf = qx + cw * K * 55 / 100;
	c.code_pattern = "^https://race\\.example/p/([0-9]+)$";
	assert_int_equal(pf_image_ctx_new(&c, NULL, 0, &ctx, &err), 0);
	g.w = W;
	g.h = H;
	g.px = pf_xmalloc((size_t)W * H);
	for (int folded = 0; folded <= 1; folded++) {
		struct pf_image__codes set = {0};
		int ow = folded ? xf + (int)((CW - xf) * squeeze) : CW;

		/* A darker, smooth background. */
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++)
				g.px[(size_t)y * W + x] =
				    (unsigned char)(60 + (x + y) * 40 / (W + H));
		for (int y = 0; y < CH; y++) {
			for (int x = 0; x < ow; x++) {
				double sx =
				    x < xf || !folded ? x : xf + (x - xf + 0.5) / squeeze - 0.5;
				int x0 = (int)sx, x1 = x0 + 1 < CW ? x0 + 1 : x0;
				double f = sx - x0, v;

				v = card[(size_t)y * CW + x0] * (1 - f) +
				    card[(size_t)y * CW + x1] * f;
				if (folded && x >= xf)
					v *= shade;
				g.px[(size_t)(CY + y) * W + CX + x] = (unsigned char)(v + 0.5);
			}
		}
		assert_int_equal(pf_image__scan(ctx, &g, &set, &stats, &err), 0);
		assert_int_equal(set.n, 1);
		assert_string_equal(set.v[0], "10423");
		/* Flat: read without unfolding. Folded: only the unfolding read it. */
		assert_int_equal(stats.read_unfolded, folded);
		assert_true(folded ? stats.fold_px > 0 : stats.fold_px == 0);
		pf_image__codes_free(&set);
	}
	pf_image_ctx_free(ctx);
	free(g.px);
	free(card);
	g_free(code);
}

/* The start-of-frame marker of a JPEG: 0xC0 baseline, 0xC1 extended
 * sequential, 0xC2 progressive, ...; -1 when the markers end (or the scan
 * starts) before one. Walks the segments from SOI. */
static int jpeg_frame_marker(const unsigned char *p, size_t len)
{
	size_t i = 2;

	if (len < 4 || p[0] != 0xFF || p[1] != 0xD8)
		return -1;
	while (i + 1 < len) {
		int m;

		if (p[i] != 0xFF)
			return -1;
		while (i < len && p[i] == 0xFF) /* fill bytes */
			i++;
		if (i >= len)
			return -1;
		m = p[i++];
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
			return m;
		if (m == 0xDA || m == 0xD9)
			return -1;
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
			continue;
		if (i + 2 > len)
			return -1;
		i += ((size_t)p[i] << 8 | p[i + 1]);
	}
	return -1;
}

static bool jpeg_is_progressive(const unsigned char *p, size_t len)
{
	return jpeg_frame_marker(p, len) == 0xC2;
}

static void test_jpeg_marker_check(void **state)
{
	VipsImage *im, *u8 = NULL;
	void *buf = NULL;
	size_t len = 0;
	static const unsigned char junk[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02};
	struct pf_error err;

	assert_int_equal(pf_image_global_init(NULL, &err), 0);
	im = vips_image_new_matrix(64, 48);
	/* The check itself tells the two apart, so the variant test can fail. */
	assert_int_equal(vips_cast_uchar(im, &u8, NULL), 0);
	assert_int_equal(vips_jpegsave_buffer(u8, &buf, &len, "interlace", FALSE, NULL), 0);
	assert_int_equal(jpeg_frame_marker(buf, len), 0xC0);
	assert_false(jpeg_is_progressive(buf, len));
	g_free(buf);
	assert_int_equal(vips_jpegsave_buffer(u8, &buf, &len, "interlace", TRUE, NULL), 0);
	assert_int_equal(jpeg_frame_marker(buf, len), 0xC2);
	assert_true(jpeg_is_progressive(buf, len));
	/* cut before the frame header: no marker, not progressive */
	assert_int_equal(jpeg_frame_marker(buf, 4), -1);
	g_free(buf);
	assert_int_equal(jpeg_frame_marker(junk, sizeof(junk)), -1);
	assert_int_equal(jpeg_frame_marker((const unsigned char *)"\x89PNG", 4), -1);
	g_object_unref(u8);
	g_object_unref(im);
}

static void test_variants(void **state)
{
	struct pf_image_ctx *ctx;
	struct pf_image_result res;
	struct pf_error err;
	unsigned char *img, *logo;
	size_t len, logo_len;
	VipsImage *out;

	logo = make_image(60, 20, 1, ".png", &logo_len);
	assert_int_equal(pf_image_ctx_new(&cfg, logo, logo_len, &ctx, &err), 0);

	/* Large: both variants reduced to fit, aspect kept. */
	img = make_image(3000, 2000, 3, ".jpg", &len);
	assert_int_equal(process(ctx, img, len, &res, &err), 0);
	assert_int_equal(res.width, 2000);
	assert_int_equal(res.height, 1333);
	assert_int_equal(res.thumbnail_width, 500);
	assert_int_equal(res.thumbnail_height, 333);
	assert_string_equal(res.taken_at, "");
	out = vips_image_new_from_buffer(res.fullsize_jpeg, res.fullsize_len, "", NULL);
	assert_non_null(out);
	assert_int_equal(out->Xsize, 2000);
	assert_int_equal(out->Bands, 3);
	/* Progressive fullsize (it shows while loading), baseline thumbnail, no
	 * metadata left. */
	assert_true(jpeg_is_progressive(res.fullsize_jpeg, res.fullsize_len));
	assert_int_equal(jpeg_frame_marker(res.thumbnail_jpeg, res.thumbnail_len), 0xC0);
	assert_int_equal(vips_image_get_typeof(out, VIPS_META_EXIF_NAME), 0);
	assert_int_equal(vips_image_get_typeof(out, VIPS_META_ICC_NAME), 0);
	g_object_unref(out);
	pf_image_result_free(&res);
	g_free(img);

	/* Small: never upscaled. */
	img = make_image(300, 200, 3, ".png", &len);
	assert_int_equal(process(ctx, img, len, &res, &err), 0);
	assert_int_equal(res.width, 300);
	assert_int_equal(res.height, 200);
	assert_int_equal(res.thumbnail_width, 300);
	pf_image_result_free(&res);
	g_free(img);

	/* 16-bit PNG and greyscale, WebP and TIFF are accepted. */
	img = make_image(800, 600, 3, ".png[bitdepth=16]", &len);
	out = vips_image_new_from_buffer(img, len, "", NULL);
	assert_non_null(out);
	assert_int_equal(out->BandFmt, VIPS_FORMAT_USHORT);
	g_object_unref(out);
	assert_int_equal(process(ctx, img, len, &res, &err), 0);
	assert_int_equal(res.width, 800);
	pf_image_result_free(&res);
	g_free(img);
	img = make_image(800, 600, 1, ".webp", &len);
	assert_int_equal(process(ctx, img, len, &res, &err), 0);
	assert_int_equal(res.thumbnail_width, 500);
	assert_int_equal(res.thumbnail_height, 375);
	pf_image_result_free(&res);
	g_free(img);
	img = make_image(600, 800, 3, ".tif", &len);
	assert_int_equal(process(ctx, img, len, &res, &err), 0);
	assert_int_equal(res.width, 600);
	assert_int_equal(res.thumbnail_height, 500);
	pf_image_result_free(&res);
	g_free(img);

	pf_image_ctx_free(ctx);
	g_free(logo);
}

static bool is_webp(const unsigned char *p, size_t len)
{
	return len > 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Builds RIFF/WEBP from chunks given as tag + payload length (payload bytes
 * set to the chunk's index); returns the length. */
static size_t riff(unsigned char *buf, const char *const *tags, const uint32_t *sizes, size_t n)
{
	size_t pos = 12;

	memcpy(buf, "RIFF", 4);
	memcpy(buf + 8, "WEBP", 4);
	for (size_t i = 0; i < n; i++) {
		memcpy(buf + pos, tags[i], 4);
		put32(buf + pos + 4, sizes[i]);
		memset(buf + pos + 8, (int)i + 1, sizes[i] + (sizes[i] & 1));
		pos += 8 + sizes[i] + (sizes[i] & 1);
	}
	put32(buf + 4, (uint32_t)(pos - 8));
	return pos;
}

static void test_webp_simple(void **state)
{
	unsigned char buf[512], want[512];
	const char *ext[] = {"VP8X", "VP8 ", "EXIF"};
	const char *alpha[] = {"VP8X", "ALPH", "VP8 "};
	const char *two[] = {"VP8 ", "VP8 "};
	const char *bare[] = {"VP8X", "EXIF"};
	const char *simple[] = {"VP8 "};
	const uint32_t sizes[] = {10, 37, 186};
	uint32_t one = 37;
	size_t len, n;

	/* Extended header and EXIF dropped; the odd-sized bitstream keeps its pad. */
	len = riff(buf, ext, sizes, 3);
	n = riff(want, simple, &one, 1);
	memset(want + 20, 2, 38);
	assert_int_equal(pf_image__webp_simple(buf, len), n);
	assert_memory_equal(buf, want, n);
	/* Already simple: unchanged. */
	assert_int_equal(pf_image__webp_simple(buf, n), n);
	assert_memory_equal(buf, want, n);
	/* Alpha needs VP8X; two bitstreams or none, a chunk past the end, a RIFF
	 * size that disagrees, something else: all left alone. */
	len = riff(buf, alpha, sizes, 3);
	assert_int_equal(pf_image__webp_simple(buf, len), len);
	len = riff(buf, two, sizes + 1, 2);
	assert_int_equal(pf_image__webp_simple(buf, len), len);
	len = riff(buf, bare, sizes, 2);
	assert_int_equal(pf_image__webp_simple(buf, len), len);
	len = riff(buf, ext, sizes, 3);
	assert_int_equal(pf_image__webp_simple(buf, len - 1), len - 1);
	put32(buf + 4, 100);
	assert_int_equal(pf_image__webp_simple(buf, len), len);
	assert_int_equal(pf_image__webp_simple((unsigned char *)"RIFF", 4), 4);
}

/* Asked for, both variants also come as WebP: same sizes, no metadata;
 * otherwise there are none. */
static void test_webp_variants(void **state)
{
	struct pf_image_options opts = cfg;
	struct pf_image_ctx *ctx;
	struct pf_image_result res;
	struct pf_error err;
	unsigned char *img;
	size_t len;
	VipsImage *out;

	img = make_image(3000, 2000, 3, ".jpg", &len);
	assert_false(cfg.webp); /* photofinish process's default */
	assert_int_equal(pf_image_ctx_new(&cfg, NULL, 0, &ctx, &err), 0);
	assert_int_equal(process(ctx, img, len, &res, &err), 0);
	assert_null(res.fullsize_webp);
	assert_null(res.thumbnail_webp);
	assert_int_equal(res.fullsize_webp_len, 0);
	assert_true(res.ms.webp == 0.0);
	pf_image_result_free(&res);
	pf_image_ctx_free(ctx);

	opts.webp = true;
	assert_int_equal(pf_image_ctx_new(&opts, NULL, 0, &ctx, &err), 0);
	assert_int_equal(process(ctx, img, len, &res, &err), 0);
	assert_non_null(res.fullsize_jpeg);
	assert_true(is_webp(res.fullsize_webp, res.fullsize_webp_len));
	assert_true(is_webp(res.thumbnail_webp, res.thumbnail_webp_len));
	/* Simple format: the bitstream right after the header, nothing else. */
	assert_memory_equal(res.fullsize_webp + 12, "VP8 ", 4);
	assert_memory_equal(res.thumbnail_webp + 12, "VP8 ", 4);
	assert_false(is_webp(res.fullsize_jpeg, res.fullsize_len));
	assert_true(res.ms.webp > 0.0);
	assert_true(res.ms.webp <= res.ms.variants);
	out = vips_image_new_from_buffer(res.fullsize_webp, res.fullsize_webp_len, "", NULL);
	assert_non_null(out);
	assert_int_equal(out->Xsize, 2000);
	assert_int_equal(out->Ysize, 1333);
	assert_int_equal(out->Bands, 3);
	assert_int_equal(vips_image_get_typeof(out, VIPS_META_EXIF_NAME), 0);
	assert_int_equal(vips_image_get_typeof(out, VIPS_META_ICC_NAME), 0);
	g_object_unref(out);
	out = vips_image_new_from_buffer(res.thumbnail_webp, res.thumbnail_webp_len, "", NULL);
	assert_non_null(out);
	assert_int_equal(out->Xsize, res.thumbnail_width);
	assert_int_equal(out->Ysize, res.thumbnail_height);
	g_object_unref(out);
	pf_image_result_free(&res);
	assert_null(res.fullsize_webp);
	pf_image_ctx_free(ctx);
	g_free(img);
}

static void test_overlay_must_be_png(void **state)
{
	struct pf_image_ctx *ctx = NULL;
	struct pf_error err;
	unsigned char *jpeg;
	size_t len;

	jpeg = make_image(60, 20, 3, ".jpg", &len);
	pf_error_clear(&err);
	assert_int_equal(pf_image_ctx_new(&cfg, jpeg, len, &ctx, &err), PF_EINVAL);
	assert_null(ctx);
	assert_non_null(strstr(err.message, "PNG"));
	g_free(jpeg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_option_names),
	    cmocka_unit_test(test_jpeg_marker_check),
	    cmocka_unit_test(test_payload_without_pattern),
	    cmocka_unit_test(test_payload_with_pattern),
	    cmocka_unit_test(test_payload_limits),
	    cmocka_unit_test(test_code_normalise),
	    cmocka_unit_test(test_codes_set_sorted_unique),
	    cmocka_unit_test(test_overlay_geometry_gravity),
	    cmocka_unit_test(test_overlay_geometry_fits),
	    cmocka_unit_test(test_exif_dates),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_codes_from_fixtures),
	    cmocka_unit_test(test_scan_weak_code),
	    cmocka_unit_test(test_scan_folded_qr),
	    cmocka_unit_test(test_variants),
	    cmocka_unit_test(test_webp_simple),
	    cmocka_unit_test(test_webp_variants),
	    cmocka_unit_test(test_overlay_must_be_png),
	};
	struct pf_error err;

	if (pf_image_global_init("test_image", &err)) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	return cmocka_run_group_tests(tests, setup_cfg, teardown_cfg);
}
