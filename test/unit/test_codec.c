/*
 * Unit tests for the shared codecs: SHA-256 hex against FIPS 180 vectors,
 * percent-encoding, hex digits, decimal fields, RFC 3339 and HTTP dates
 * (valid and refused forms, length honoured) and the jitter generator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

static void test_sha256_hex(void **state)
{
	char hex[65];

	pf_codec_sha256_hex("", 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	pf_codec_sha256_hex(NULL, 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	pf_codec_sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* length is honoured, not the NUL */
	pf_codec_sha256_hex("abcdef", 3, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_uri_encode(void **state)
{
	struct pf_buf b;
	char *e;

	e = pf_codec_uri_encode("a b/c~d\xe1", 8, true);
	assert_string_equal(e, "a%20b/c~d%E1");
	free(e);
	e = pf_codec_uri_encode("a/b", 3, false);
	assert_string_equal(e, "a%2Fb");
	free(e);
	e = pf_codec_uri_encode("AZaz09-_.~!*'()+=&%", 19, false);
	assert_string_equal(e, "AZaz09-_.~%21%2A%27%28%29%2B%3D%26%25");
	free(e);
	e = pf_codec_uri_encode("x\0y", 3, false);
	assert_string_equal(e, "x%00y");
	free(e);
	e = pf_codec_uri_encode("", 0, false);
	assert_string_equal(e, "");
	free(e);

	pf_buf_init(&b);
	pf_buf_append_str(&b, "k=");
	pf_codec_uri_encode_append(&b, "a b", 3, false);
	assert_string_equal(b.data, "k=a%20b");
	pf_buf_free(&b);
}

static void test_hex_encode(void **state)
{
	static const unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff};
	char out[9];

	memset(out, 'x', sizeof(out));
	pf_codec_hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "000fa5ff");
	pf_codec_hex_encode(in, 0, out);
	assert_string_equal(out, "");
}

static void test_hex_digit(void **state)
{
	assert_int_equal(pf_codec_hex_digit('0'), 0);
	assert_int_equal(pf_codec_hex_digit('9'), 9);
	assert_int_equal(pf_codec_hex_digit('a'), 10);
	assert_int_equal(pf_codec_hex_digit('F'), 15);
	assert_int_equal(pf_codec_hex_digit('g'), -1);
	assert_int_equal(pf_codec_hex_digit('G'), -1);
	assert_int_equal(pf_codec_hex_digit('/'), -1);
	assert_int_equal(pf_codec_hex_digit(':'), -1);
	assert_int_equal(pf_codec_hex_digit('\0'), -1);
	assert_int_equal(pf_codec_hex_digit(0xe1), -1);
}

static void test_digits(void **state)
{
	int v = -1;

	assert_true(pf_codec_digits("2024x", 4, &v));
	assert_int_equal(v, 2024);
	assert_true(pf_codec_digits("007", 3, &v));
	assert_int_equal(v, 7);
	assert_false(pf_codec_digits("20a4", 4, &v));
	assert_false(pf_codec_digits(" 1", 2, &v));
	assert_false(pf_codec_digits("-1", 2, &v));
	assert_false(pf_codec_digits("1", 0, &v));
	assert_false(pf_codec_digits("1234567890", 10, &v));
	assert_true(pf_codec_digits("999999999", 9, &v));
	assert_int_equal(v, 999999999);
}

static void test_calendar(void **state)
{
	assert_int_equal(pf_codec_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(pf_codec_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(pf_codec_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(pf_codec_days_in_month(2024, 2), 29);
	assert_int_equal(pf_codec_days_in_month(2023, 2), 28);
	assert_int_equal(pf_codec_days_in_month(1900, 2), 28);
	assert_int_equal(pf_codec_days_in_month(2000, 2), 29);
	assert_int_equal(pf_codec_days_in_month(2024, 4), 30);
	assert_int_equal(pf_codec_days_in_month(2024, 12), 31);
	assert_int_equal(pf_codec_days_in_month(2024, 13), 0);
	assert_int_equal(pf_codec_days_in_month(2024, 0), 0);
}

static void test_rfc3339(void **state)
{
	static const struct {
		const char *s;
		int64_t want;
	} ok[] = {
	    {"1970-01-01T00:00:00Z", 0},
	    {"2024-05-01T12:34:56Z", 1714566896},
	    {"2024-05-01t12:34:56z", 1714566896},
	    {"2024-05-01 12:34:56Z", 1714566896},
	    {"2024-05-01T12:34:56.999999Z", 1714566896},
	    {"2024-05-01T14:34:56+02:00", 1714566896},
	    {"2024-05-01T07:04:56-05:30", 1714566896},
	    {"2024-02-29T00:00:00Z", 1709164800},
	    {"2000-02-29T00:00:00Z", 951782400},
	    {"2016-12-31T23:59:60Z", 1483228800},
	    {"2009-10-12T17:50:30.000Z", 1255369830}, /* S3 LastModified */
	};
	static const char *const bad[] = {
	    "",
	    "2024-05-01",
	    "2024-05-01T12:34:56",
	    "2024-05-01T12:34:56+0200",
	    "2024-05-01T12:34:56.Z",
	    "2024-13-01T00:00:00Z",
	    "2023-02-29T00:00:00Z",
	    "1900-02-29T00:00:00Z",
	    "2024-04-31T00:00:00Z",
	    "2024-05-01T24:00:00Z",
	    "2024-05-01T12:60:00Z",
	    "2024-05-01T12:00:61Z",
	    "2024-05-01T12:00:00+24:00",
	    "2024-05-01T12:00:00ZZ",
	    "2024-5-01T12:00:00Z",
	    "+024-05-01T12:00:00Z",
	    "2024-00-01T00:00:00Z",
	    "2024-05-00T00:00:00Z",
	};
	int64_t t;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (!pf_codec_parse_rfc3339(ok[i].s, strlen(ok[i].s), &t) || t != ok[i].want)
			fail_msg("%s: expected %lld", ok[i].s, (long long)ok[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pf_codec_parse_rfc3339(bad[i], strlen(bad[i]), &t))
			fail_msg("%s accepted", bad[i]);
	}
	assert_false(pf_codec_parse_rfc3339(NULL, 0, &t));
	/* Length is honoured: no reading past it. */
	assert_false(pf_codec_parse_rfc3339("2024-05-01T12:34:56Z", 19, &t));
}

static void test_http_date(void **state)
{
	static const char *const bad[] = {
	    "",
	    "Sunday, 06-Nov-94 08:49:37 GMT",
	    "Sun Nov  6 08:49:37 1994",
	    "Sun, 06 Nov 1994 08:49:37 GMT junk",
	    "Sun, 06 Nov 1994 08:49:37 UTC",
	    "Sun, 06 Nox 1994 08:49:37 GMT",
	    "Xyz, 06 Nov 1994 08:49:37 GMT",
	    "Sun, 31 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 24:49:37 GMT",
	    "Sun,  6 Nov 1994 08:49:37 GMT",
	    "Sun, 06 Nov 1994 08:49:37 GM",
	};
	int64_t t = 0;

	assert_true(pf_codec_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
	assert_int_equal(t, 784111777);
	assert_true(pf_codec_parse_http_date("Thu, 29 Feb 2024 23:59:59 GMT", &t));
	assert_int_equal(t, 1709251199);
	assert_true(pf_codec_parse_http_date("Mon, 01 Jan 2024 00:00:00 GMT", &t));
	assert_int_equal(t, 1704067200);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pf_codec_parse_http_date(bad[i], &t))
			fail_msg("%s accepted", bad[i]);
	}
	assert_false(pf_codec_parse_http_date(NULL, &t));
}

static void test_utf8_decode(void **state)
{
	uint32_t cp = 0;

	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 0x41);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xe2\x80\xa6", 3, &cp), 3);
	assert_int_equal(cp, 0x2026);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xf0\x9f\x8f\x83", 4, &cp),
	                 4);
	assert_int_equal(cp, 0x1F3C3);
	/* Truncated by the caller's bound, overlong, surrogate, past U+10FFFF, stray byte. */
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xe2\x80\xa6", 2, &cp), 0);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xc0\xaf", 2, &cp), 0);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xe0\x80\xaf", 3, &cp), 0);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp),
	                 0);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"\x80", 1, &cp), 0);
	assert_int_equal(pf_codec_utf8_decode((const unsigned char *)"x", 0, &cp), 0);
}

static void test_jitter(void **state)
{
	struct pf_codec_jitter a, b, z;
	double sum = 0, lo = 1, hi = 0;
	bool differs = false;

	pf_codec_jitter_init(&a, 42);
	pf_codec_jitter_init(&b, 42);
	for (int i = 0; i < 10000; i++) {
		double x = pf_codec_jitter_next(&a);

		assert_true(x >= 0.0 && x < 1.0);
		/* the same seed gives the same sequence */
		assert_true(x == pf_codec_jitter_next(&b));
		sum += x;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	/* spread over the interval, mean near 1/2 */
	assert_true(lo < 0.01 && hi > 0.99);
	assert_true(sum / 10000 > 0.45 && sum / 10000 < 0.55);

	/* a zero seed still moves (xorshift would stay at 0 forever) */
	pf_codec_jitter_init(&z, 0);
	assert_true(z.state != 0);
	assert_true(pf_codec_jitter_next(&z) != pf_codec_jitter_next(&z));

	/* another seed, another sequence */
	pf_codec_jitter_init(&a, 42);
	pf_codec_jitter_init(&b, 43);
	for (int i = 0; i < 4; i++)
		differs |= pf_codec_jitter_next(&a) != pf_codec_jitter_next(&b);
	assert_true(differs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_hex), cmocka_unit_test(test_uri_encode),
	    cmocka_unit_test(test_hex_encode), cmocka_unit_test(test_hex_digit),
	    cmocka_unit_test(test_digits),     cmocka_unit_test(test_calendar),
	    cmocka_unit_test(test_rfc3339),    cmocka_unit_test(test_http_date),
	    cmocka_unit_test(test_jitter),     cmocka_unit_test(test_utf8_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
