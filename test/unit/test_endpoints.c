/* Unit tests for the AWS endpoints (endpoints.c): default and overridden
 * endpoints, S3 addressing, URL building and refused names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/aws/endpoints.h"

static struct pf_endpoints *endpoints(const char *region, const char *url, const char *s3)
{
	struct pf_endpoints_options o = {
	    .region = region, .endpoint_url = url, .endpoint_url_s3 = s3};
	struct pf_endpoints *ep = NULL;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_endpoints_new(&o, &ep, &e), 0);
	return ep;
}

static void test_endpoints_defaults(void **state)
{
	struct pf_endpoints *ep = endpoints("eu-west-1", NULL, NULL);
	struct pf_endpoint_url u;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(
	    pf_endpoints_url(ep, PF_AWS_S3, "media-bucket", "race 1/a+b/ü.jpg", NULL, &u, &e), 0);
	assert_string_equal(
	    u.url, "https://media-bucket.s3.eu-west-1.amazonaws.com/race%201/a%2Bb/%C3%BC.jpg");
	assert_string_equal(u.host, "media-bucket.s3.eu-west-1.amazonaws.com");
	assert_string_equal(u.path, "/race%201/a%2Bb/%C3%BC.jpg");
	pf_endpoint_url_free(&u);

	/* dots in the bucket: path-style (no wildcard certificate match) */
	assert_int_equal(pf_endpoints_url(ep, PF_AWS_S3, "media.example.com", "k", "a=b", &u, &e),
	                 0);
	assert_string_equal(u.url, "https://s3.eu-west-1.amazonaws.com/media.example.com/k?a=b");
	pf_endpoint_url_free(&u);

	/* bucket-level */
	assert_int_equal(
	    pf_endpoints_url(ep, PF_AWS_S3, "media-bucket", NULL, "list-type=2", &u, &e), 0);
	assert_string_equal(u.url, "https://media-bucket.s3.eu-west-1.amazonaws.com/?list-type=2");
	pf_endpoint_url_free(&u);

	assert_int_equal(pf_endpoints_url(ep, PF_AWS_SQS, NULL, NULL, NULL, &u, &e), 0);
	assert_string_equal(u.url, "https://sqs.eu-west-1.amazonaws.com/");
	pf_endpoint_url_free(&u);
	assert_int_equal(pf_endpoints_url(ep, PF_AWS_DYNAMODB, NULL, NULL, NULL, &u, &e), 0);
	assert_string_equal(u.url, "https://dynamodb.eu-west-1.amazonaws.com/");
	assert_string_equal(u.host, "dynamodb.eu-west-1.amazonaws.com");
	pf_endpoint_url_free(&u);

	assert_int_equal(pf_endpoints_url(ep, PF_AWS_S3, "Bad_Bucket", "k", NULL, &u, &e),
	                 PF_EINVAL);
	pf_endpoints_free(ep);

	ep = endpoints("cn-north-1", NULL, NULL);
	assert_int_equal(pf_endpoints_url(ep, PF_AWS_SQS, NULL, NULL, NULL, &u, &e), 0);
	assert_string_equal(u.url, "https://sqs.cn-north-1.amazonaws.com.cn/");
	pf_endpoint_url_free(&u);
	pf_endpoints_free(ep);
}

static void test_endpoints_overrides(void **state)
{
	struct pf_endpoints *ep =
	    endpoints("us-east-1", "http://127.0.0.1:4566", "http://s3.local:9000/base/");
	struct pf_endpoint_url u;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_true(pf_endpoints_s3_path_style(ep, "bucket"));
	assert_int_equal(pf_endpoints_url(ep, PF_AWS_S3, "bucket", "a/b c", NULL, &u, &e), 0);
	assert_string_equal(u.url, "http://s3.local:9000/base/bucket/a/b%20c");
	assert_string_equal(u.host, "s3.local:9000");
	assert_string_equal(u.path, "/base/bucket/a/b%20c");
	pf_endpoint_url_free(&u);
	assert_int_equal(pf_endpoints_url(ep, PF_AWS_S3, "bucket", NULL, "delete=", &u, &e), 0);
	assert_string_equal(u.url, "http://s3.local:9000/base/bucket?delete=");
	pf_endpoint_url_free(&u);
	assert_int_equal(pf_endpoints_url(ep, PF_AWS_SQS, NULL, NULL, NULL, &u, &e), 0);
	assert_string_equal(u.url, "http://127.0.0.1:4566/");
	assert_string_equal(u.host, "127.0.0.1:4566");
	pf_endpoint_url_free(&u);
	pf_endpoints_free(ep);
}

static void test_endpoints_refused(void **state)
{
	static const char *const bad_urls[] = {"ftp://x",           "127.0.0.1:4566",
	                                       "http://user@host/", "http://host/?q=1",
	                                       "http://",           "http://a b"};
	struct pf_endpoints_options o = {.region = "us-east-1"};
	struct pf_endpoints *ep;
	struct pf_error e;

	for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		o.endpoint_url = bad_urls[i];
		memset(&e, 0, sizeof(e));
		assert_int_equal(pf_endpoints_new(&o, &ep, &e), PF_EINVAL);
		assert_null(ep);
	}
	o.endpoint_url = NULL;
	o.region = "EU_WEST";
	assert_int_equal(pf_endpoints_new(&o, &ep, &e), PF_EINVAL);
	o.region = NULL;
	assert_int_equal(pf_endpoints_new(&o, &ep, &e), PF_EINVAL);
}

static void test_bucket_names(void **state)
{
	assert_true(pf_endpoints_bucket_is_valid("abc"));
	assert_true(pf_endpoints_bucket_is_valid("my-bucket.2024"));
	assert_false(pf_endpoints_bucket_is_valid("ab"));
	assert_false(pf_endpoints_bucket_is_valid("Abc"));
	assert_false(pf_endpoints_bucket_is_valid("-abc"));
	assert_false(pf_endpoints_bucket_is_valid("abc-"));
	assert_false(pf_endpoints_bucket_is_valid("a..b"));
	assert_false(pf_endpoints_bucket_is_valid("a.-b"));
	assert_false(pf_endpoints_bucket_is_valid("192.168.1.1"));
	assert_false(pf_endpoints_bucket_is_valid("a/b"));
	assert_false(pf_endpoints_bucket_is_valid(NULL));
	assert_false(pf_endpoints_bucket_is_valid(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoints_defaults),
	    cmocka_unit_test(test_endpoints_overrides),
	    cmocka_unit_test(test_endpoints_refused),
	    cmocka_unit_test(test_bucket_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
