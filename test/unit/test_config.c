/* Unit tests for configuration parsing: defaults, env, flags, every bad value class. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/aws/aws_http.h"
#include "photofinish/config.h"
#include "photofinish/error.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

static char *base_env[] = {
    "PHOTOFINISH_INGRESS_BUCKET=race-ingress",
    "PHOTOFINISH_PROCESSED_BUCKET=race-processed",
    "PHOTOFINISH_TABLE=race-table",
    "PHOTOFINISH_QUEUE_URL=http://127.0.0.1:4566/000000000000/race-queue",
    "AWS_REGION=eu-west-1",
    NULL,
};

/* Loads base_env plus extra (NULL-terminated), returns rc; problems kept in *out. */
static int load_with(char **extra, int argc, char **argv, struct pf_config *cfg,
                     struct pf_buf *problems)
{
	char *env[64];
	size_t n = 0;

	/* Extra first: the first occurrence of a name wins, as with getenv. */
	for (char **e = extra; e && *e; e++)
		env[n++] = *e;
	for (char **e = base_env; *e; e++)
		env[n++] = *e;
	env[n] = NULL;
	pf_buf_init(problems);
	return pf_config_load_env(cfg, PF_CONFIG_DAEMON, env, argv ? &argc : NULL, argv, false,
	                          problems);
}

static void expect_problem(char *var_eq_value, const char *needle)
{
	char *extra[] = {var_eq_value, NULL};
	struct pf_config cfg;
	struct pf_buf problems;
	int rc = load_with(extra, 0, NULL, &cfg, &problems);

	assert_int_equal(rc, PF_EINVAL);
	assert_non_null(problems.data);
	if (!strstr(problems.data, needle))
		fail_msg("expected \"%s\" in problems for %s, got: %s", needle, var_eq_value,
		         problems.data);
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_defaults(void **state)
{
	struct pf_config cfg;
	struct pf_buf problems;

	assert_int_equal(load_with(NULL, 0, NULL, &cfg, &problems), 0);
	assert_string_equal(cfg.listen, "0.0.0.0:8080");
	assert_string_equal(cfg.listen_host, "0.0.0.0");
	assert_int_equal(cfg.listen_port, 8080);
	assert_true(cfg.workers >= 1);
	assert_int_equal(cfg.max_inflight, cfg.workers * 2);
	assert_int_equal(cfg.max_input_bytes, 64 * 1024 * 1024);
	assert_int_equal(cfg.max_input_pixels, 100000000);
	assert_int_equal(cfg.symbologies, PF_IMAGE_SYM_QRCODE | PF_IMAGE_SYM_CODE128);
	assert_int_equal(cfg.fullsize_max, 2000);
	assert_int_equal(cfg.thumbnail_max, 500);
	assert_int_equal(cfg.jpeg_quality, 82);
	assert_int_equal(cfg.overlay_gravity, PF_IMAGE_GRAVITY_SOUTH_EAST);
	assert_true(cfg.overlay_margin > 0.0199 && cfg.overlay_margin < 0.0201);
	assert_true(cfg.overlay_width > 0.199 && cfg.overlay_width < 0.201);
	assert_int_equal(cfg.url_ttl, 3600);
	assert_int_equal(cfg.cache_ttl, 10);
	assert_int_equal(cfg.drain_seconds, 25);
	assert_int_equal(cfg.log_level, PF_LOG_INFO);
	assert_null(cfg.admin_token);
	assert_string_equal(cfg.region, "eu-west-1");
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_flags_win_over_env(void **state)
{
	char *extra[] = {"PHOTOFINISH_WORKERS=3", "PHOTOFINISH_LISTEN=127.0.0.1:9000", NULL};
	char *argv[] = {"photofinishd", "--workers", "5", "--listen=[::1]:8081", NULL};
	struct pf_config cfg;
	struct pf_buf problems;

	assert_int_equal(load_with(extra, 4, argv, &cfg, &problems), 0);
	assert_int_equal(cfg.workers, 5);
	assert_int_equal(cfg.max_inflight, 10);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 8081);
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_missing_required(void **state)
{
	char *env[] = {"AWS_REGION=eu-west-1", NULL};
	struct pf_config cfg;
	struct pf_buf problems;

	pf_buf_init(&problems);
	assert_int_equal(
	    pf_config_load_env(&cfg, PF_CONFIG_DAEMON, env, NULL, NULL, false, &problems),
	    PF_EINVAL);
	assert_non_null(strstr(problems.data, "PHOTOFINISH_INGRESS_BUCKET: is required"));
	assert_non_null(strstr(problems.data, "PHOTOFINISH_PROCESSED_BUCKET: is required"));
	assert_non_null(strstr(problems.data, "PHOTOFINISH_TABLE: is required"));
	assert_non_null(strstr(problems.data, "PHOTOFINISH_QUEUE_URL: is required"));
	pf_buf_free(&problems);
	pf_config_free(&cfg);

	/* The process command needs none of the AWS settings. */
	pf_buf_init(&problems);
	assert_int_equal(pf_config_load_env(&cfg, PF_CONFIG_PROCESS, (char *[]){NULL}, NULL, NULL,
	                                    false, &problems),
	                 0);
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_bad_values(void **state)
{
	/* numbers: not a number, trailing junk, out of range, negative, overflow */
	expect_problem("PHOTOFINISH_WORKERS=abc",
	               "PHOTOFINISH_WORKERS: \"abc\" is not a whole number");
	expect_problem("PHOTOFINISH_WORKERS=4x", "PHOTOFINISH_WORKERS: \"4x\"");
	expect_problem("PHOTOFINISH_WORKERS=0", "from 1 to 256");
	expect_problem("PHOTOFINISH_WORKERS=-2", "PHOTOFINISH_WORKERS");
	expect_problem("PHOTOFINISH_MAX_INPUT_BYTES=99999999999999999999999", "MAX_INPUT_BYTES");
	expect_problem("PHOTOFINISH_JPEG_QUALITY=101", "PHOTOFINISH_JPEG_QUALITY");
	expect_problem("PHOTOFINISH_URL_TTL=604801", "PHOTOFINISH_URL_TTL");
	/* decimals */
	expect_problem("PHOTOFINISH_OVERLAY_OPACITY=1.5", "PHOTOFINISH_OVERLAY_OPACITY");
	expect_problem("PHOTOFINISH_OVERLAY_MARGIN=nan", "PHOTOFINISH_OVERLAY_MARGIN");
	expect_problem("PHOTOFINISH_OVERLAY_WIDTH=0.2.1", "PHOTOFINISH_OVERLAY_WIDTH");
	/* enumerations */
	expect_problem("PHOTOFINISH_LOG_LEVEL=verbose", "PHOTOFINISH_LOG_LEVEL");
	expect_problem("PHOTOFINISH_OVERLAY_GRAVITY=top", "PHOTOFINISH_OVERLAY_GRAVITY");
	expect_problem("PHOTOFINISH_SYMBOLOGIES=qrcode,datamatrix", "PHOTOFINISH_SYMBOLOGIES");
	expect_problem("PHOTOFINISH_SYMBOLOGIES=,", "PHOTOFINISH_SYMBOLOGIES");
	/* names, URLs, addresses, patterns */
	expect_problem("PHOTOFINISH_INGRESS_BUCKET=Bad_Bucket", "not a valid S3 bucket name");
	expect_problem("PHOTOFINISH_TABLE=a b", "not a valid DynamoDB table name");
	expect_problem("PHOTOFINISH_QUEUE_URL=ftp://x/y", "not an http:// or https:// URL");
	expect_problem("AWS_ENDPOINT_URL_S3=localhost:4566", "AWS_ENDPOINT_URL_S3");
	expect_problem("AWS_REGION=EU WEST", "AWS_REGION");
	expect_problem("PHOTOFINISH_LISTEN=8080", "PHOTOFINISH_LISTEN");
	expect_problem("PHOTOFINISH_LISTEN=0.0.0.0:70000", "PHOTOFINISH_LISTEN");
	expect_problem("PHOTOFINISH_CODE_PATTERN=([0-9]+", "not a valid extended regex");
	expect_problem("PHOTOFINISH_OVERLAY=s3://bucket", "s3://bucket/key");
	expect_problem("PHOTOFINISH_CORS_ORIGINS=gallery.example.com", "PHOTOFINISH_CORS_ORIGINS");
	expect_problem("PHOTOFINISH_ADMIN_TOKEN=short", "shorter than 16");
	/* cross-field */
	expect_problem("PHOTOFINISH_THUMBNAIL_MAX=3000", "larger than PHOTOFINISH_FULLSIZE_MAX");
}

static void test_every_problem_reported(void **state)
{
	char *extra[] = {"PHOTOFINISH_WORKERS=x", "PHOTOFINISH_JPEG_QUALITY=0",
	                 "PHOTOFINISH_LOG_LEVEL=loud", NULL};
	struct pf_config cfg;
	struct pf_buf problems;
	int lines = 0;

	assert_int_equal(load_with(extra, 0, NULL, &cfg, &problems), PF_EINVAL);
	for (const char *p = problems.data; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_unknown_and_valueless_flags(void **state)
{
	char *argv[] = {"photofinishd", "--no-such-thing", "--workers", NULL};
	struct pf_config cfg;
	struct pf_buf problems;

	assert_int_equal(load_with(NULL, 3, argv, &cfg, &problems), PF_EINVAL);
	assert_non_null(strstr(problems.data, "--no-such-thing: unknown option"));
	assert_non_null(strstr(problems.data, "--workers: needs a value"));
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_json_redacts_secrets(void **state)
{
	char *extra[] = {"PHOTOFINISH_ADMIN_TOKEN=super-secret-token-value", NULL};
	struct pf_config cfg;
	struct pf_buf problems;
	char *json;

	assert_int_equal(load_with(extra, 0, NULL, &cfg, &problems), 0);
	json = pf_config_to_json(&cfg);
	assert_null(strstr(json, "super-secret"));
	assert_non_null(strstr(json, "\"PHOTOFINISH_ADMIN_TOKEN\":\"(redacted)\""));
	assert_non_null(strstr(json, "\"PHOTOFINISH_SYMBOLOGIES\":\"qrcode,code128\""));
	assert_non_null(strstr(json, "\"PHOTOFINISH_INGRESS_BUCKET\":\"race-ingress\""));
	free(json);
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_region_fallback_and_empty_means_unset(void **state)
{
	char *env[] = {"AWS_DEFAULT_REGION=ap-southeast-2", "PHOTOFINISH_WORKERS=", NULL};
	struct pf_config cfg;
	struct pf_buf problems;

	pf_buf_init(&problems);
	assert_int_equal(
	    pf_config_load_env(&cfg, PF_CONFIG_CLIENT, env, NULL, NULL, false, &problems), 0);
	assert_string_equal(cfg.region, "ap-southeast-2");
	pf_buf_free(&problems);
	pf_config_free(&cfg);
}

static void test_library_options(void **state)
{
	struct pf_config cfg;
	struct pf_buf problems;
	struct pf_aws_options aws;
	struct pf_image_options img;
	char *env[] = {"AWS_REGION=eu-west-1",
	               "AWS_ENDPOINT_URL_S3=http://127.0.0.1:1",
	               "PHOTOFINISH_SYMBOLOGIES=QRCode, code39",
	               "PHOTOFINISH_OVERLAY_GRAVITY=north-west",
	               "PHOTOFINISH_CODE_PATTERN=^([0-9]+)$",
	               "PHOTOFINISH_JPEG_QUALITY=77",
	               NULL};
	char *bad[] = {"PHOTOFINISH_SYMBOLOGIES=qrcode,pdf417", "PHOTOFINISH_OVERLAY_GRAVITY=up",
	               NULL};
	char *json;

	/* Settings text becomes the image pipeline's and the AWS client's options. */
	pf_buf_init(&problems);
	assert_int_equal(
	    pf_config_load_env(&cfg, PF_CONFIG_PROCESS, env, NULL, NULL, false, &problems), 0);
	pf_config_image_options(&cfg, &img);
	assert_int_equal(img.symbologies, PF_IMAGE_SYM_QRCODE | PF_IMAGE_SYM_CODE39);
	assert_int_equal(img.overlay_gravity, PF_IMAGE_GRAVITY_NORTH_WEST);
	assert_string_equal(img.code_pattern, "^([0-9]+)$");
	assert_int_equal(img.jpeg_quality, 77);
	assert_int_equal(img.fullsize_max, 2000);
	assert_int_equal(img.thumbnail_max, 500);
	assert_int_equal(img.max_input_bytes, cfg.max_input_bytes);
	assert_int_equal(img.max_input_pixels, cfg.max_input_pixels);
	assert_true(img.overlay_width == cfg.overlay_width);
	json = pf_config_to_json(&cfg);
	assert_non_null(strstr(json, "\"qrcode,code39\""));
	assert_non_null(strstr(json, "\"north-west\""));
	free(json);
	pf_config_free(&cfg);

	assert_int_equal(
	    pf_config_load_env(&cfg, PF_CONFIG_CLIENT, env, NULL, NULL, false, &problems), 0);
	pf_config_aws_options(&cfg, &aws);
	assert_string_equal(aws.region, "eu-west-1");
	assert_string_equal(aws.endpoint_url_s3, "http://127.0.0.1:1");
	assert_null(aws.endpoint_url_sqs);
	assert_int_equal(aws.max_attempts, 0);
	pf_config_free(&cfg);

	assert_int_equal(
	    pf_config_load_env(&cfg, PF_CONFIG_PROCESS, bad, NULL, NULL, false, &problems),
	    PF_EINVAL);
	assert_non_null(strstr(problems.data, "PHOTOFINISH_SYMBOLOGIES"));
	assert_non_null(strstr(problems.data, "PHOTOFINISH_OVERLAY_GRAVITY"));
	pf_config_free(&cfg);
	pf_buf_free(&problems);
}

/* The daemon writes WebP unless told not to; photofinish process only when
 * asked; anything but 0 or 1 is refused. */
static void test_webp_switch(void **state)
{
	struct pf_config cfg;
	struct pf_buf problems;
	struct pf_image_options img;
	char *off[] = {"PHOTOFINISH_WEBP=0", NULL};
	char *on[] = {"PHOTOFINISH_WEBP=1", NULL};
	char *argv[] = {"photofinish", "--webp", "1", "a.jpg", NULL};
	int argc = 4;

	assert_int_equal(load_with(NULL, 0, NULL, &cfg, &problems), 0);
	pf_config_image_options(&cfg, &img);
	assert_true(img.webp);
	pf_config_free(&cfg);
	pf_buf_free(&problems);
	assert_int_equal(load_with(off, 0, NULL, &cfg, &problems), 0);
	pf_config_image_options(&cfg, &img);
	assert_false(img.webp);
	pf_config_free(&cfg);
	pf_buf_free(&problems);
	expect_problem("PHOTOFINISH_WEBP=yes", "PHOTOFINISH_WEBP");
	expect_problem("PHOTOFINISH_WEBP=2", "PHOTOFINISH_WEBP");

	pf_buf_init(&problems);
	assert_int_equal(pf_config_load_env(&cfg, PF_CONFIG_PROCESS, (char *[]){NULL}, NULL, NULL,
	                                    false, &problems),
	                 0);
	pf_config_image_options(&cfg, &img);
	assert_false(img.webp);
	pf_config_free(&cfg);
	assert_int_equal(
	    pf_config_load_env(&cfg, PF_CONFIG_PROCESS, on, NULL, NULL, false, &problems), 0);
	pf_config_image_options(&cfg, &img);
	assert_true(img.webp);
	pf_config_free(&cfg);
	assert_int_equal(pf_config_load_env(&cfg, PF_CONFIG_PROCESS, (char *[]){NULL}, &argc, argv,
	                                    false, &problems),
	                 0);
	pf_config_image_options(&cfg, &img);
	assert_true(img.webp);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "a.jpg");
	pf_config_free(&cfg);
	pf_buf_free(&problems);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_flags_win_over_env),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_every_problem_reported),
	    cmocka_unit_test(test_unknown_and_valueless_flags),
	    cmocka_unit_test(test_json_redacts_secrets),
	    cmocka_unit_test(test_region_fallback_and_empty_means_unset),
	    cmocka_unit_test(test_library_options),
	    cmocka_unit_test(test_webp_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
