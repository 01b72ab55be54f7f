/* Unit tests for the AWS transport's pure parts: retry classification,
 * backoff bounds, the retry quota, error parsing (S3 XML, JSON protocol),
 * HTTP dates, and endpoint/URL building. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/aws_int.h"
#include "photofinish/aws/endpoints.h"

static void test_throttling_codes(void **state)
{
	static const char *const codes[] = {
	    "Throttling",
	    "ThrottlingException",
	    "ThrottledException",
	    "RequestThrottledException",
	    "TooManyRequestsException",
	    "ProvisionedThroughputExceededException",
	    "TransactionInProgressException",
	    "RequestLimitExceeded",
	    "BandwidthLimitExceeded",
	    "LimitExceededException",
	    "RequestThrottled",
	    "SlowDown",
	    "PriorRequestNotComplete",
	    "EC2ThrottledException",
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_true(pf_aws__is_throttling_code(codes[i]));
		assert_int_equal(pf_aws__classify(400, codes[i]), PF_AWS__ERR_THROTTLING);
		assert_int_equal(pf_aws__classify(503, codes[i]), PF_AWS__ERR_THROTTLING);
	}
	assert_int_equal(pf_aws__classify(429, ""), PF_AWS__ERR_THROTTLING);
	assert_false(pf_aws__is_throttling_code("throttling"));
	assert_false(pf_aws__is_throttling_code(""));
	assert_false(pf_aws__is_throttling_code(NULL));
}

static void test_transient_and_client(void **state)
{
	assert_int_equal(pf_aws__classify(200, ""), PF_AWS__ERR_NONE);
	assert_int_equal(pf_aws__classify(204, "InternalError"), PF_AWS__ERR_NONE);
	assert_int_equal(pf_aws__classify(400, "RequestTimeout"), PF_AWS__ERR_TRANSIENT);
	assert_int_equal(pf_aws__classify(400, "RequestTimeoutException"), PF_AWS__ERR_TRANSIENT);
	assert_int_equal(pf_aws__classify(200, "InternalError"), PF_AWS__ERR_NONE);
	assert_int_equal(pf_aws__classify(500, "InternalError"), PF_AWS__ERR_TRANSIENT);
	assert_int_equal(pf_aws__classify(500, ""), PF_AWS__ERR_TRANSIENT);
	assert_int_equal(pf_aws__classify(502, ""), PF_AWS__ERR_TRANSIENT);
	assert_int_equal(pf_aws__classify(503, "ServiceUnavailable"), PF_AWS__ERR_TRANSIENT);
	assert_int_equal(pf_aws__classify(504, ""), PF_AWS__ERR_TRANSIENT);
	assert_int_equal(pf_aws__classify(501, "NotImplemented"), PF_AWS__ERR_CLIENT);
	assert_int_equal(pf_aws__classify(400, "ValidationException"), PF_AWS__ERR_CLIENT);
	assert_int_equal(pf_aws__classify(403, "AccessDenied"), PF_AWS__ERR_CLIENT);
	assert_int_equal(pf_aws__classify(404, "NoSuchKey"), PF_AWS__ERR_CLIENT);
	assert_int_equal(pf_aws__classify(403, "RequestTimeTooSkewed"), PF_AWS__ERR_CLOCK_SKEW);
	assert_int_equal(pf_aws__classify(400, "RequestExpired"), PF_AWS__ERR_CLOCK_SKEW);
	assert_int_equal(pf_aws__classify(400, "InvalidSignatureException"),
	                 PF_AWS__ERR_CLOCK_SKEW);
	assert_int_equal(pf_aws__classify(403, "SignatureDoesNotMatch"), PF_AWS__ERR_CLOCK_SKEW);
}

static void test_backoff_bounds(void **state)
{
	/* full jitter: [0, min(base * 2^(n-1), 20 s)] */
	assert_int_equal(pf_aws__backoff_ms(1, false, 1.0), 100);
	assert_int_equal(pf_aws__backoff_ms(2, false, 1.0), 200);
	assert_int_equal(pf_aws__backoff_ms(3, false, 1.0), 400);
	assert_int_equal(pf_aws__backoff_ms(1, true, 1.0), 500);
	assert_int_equal(pf_aws__backoff_ms(2, true, 1.0), 1000);
	assert_int_equal(pf_aws__backoff_ms(1, false, 0.0), 0);
	assert_int_equal(pf_aws__backoff_ms(2, false, 0.5), 100);
	assert_int_equal(pf_aws__backoff_ms(20, false, 1.0), 20000);
	assert_int_equal(pf_aws__backoff_ms(1000, true, 1.0), 20000);
	assert_int_equal(pf_aws__backoff_ms(0, false, 1.0), 100);
	assert_int_equal(pf_aws__backoff_ms(1, false, 7.0), 100);
	assert_int_equal(pf_aws__backoff_ms(1, false, -1.0), 0);
	for (int n = 1; n < 40; n++)
		for (double r = 0.0; r <= 1.0; r += 0.125) {
			int64_t d = pf_aws__backoff_ms(n, n % 2, r);

			assert_true(d >= 0 && d <= 20000);
		}
}

static void test_quota(void **state)
{
	struct pf_aws__quota q;
	int taken = 0;

	pf_aws__quota_init(&q);
	assert_int_equal(q.tokens, 500);
	assert_int_equal(pf_aws__quota_acquire(&q, false), 5);
	assert_int_equal(pf_aws__quota_acquire(&q, true), 10);
	assert_int_equal(q.tokens, 485);
	pf_aws__quota_release(&q, 10);
	assert_int_equal(q.tokens, 495);
	pf_aws__quota_release(&q, 0); /* success without retry: +1 */
	assert_int_equal(q.tokens, 496);
	pf_aws__quota_release(&q, 0);
	pf_aws__quota_release(&q, 10);
	assert_int_equal(q.tokens, 500); /* capped */
	while (pf_aws__quota_acquire(&q, false) > 0)
		taken++;
	assert_int_equal(taken, 100);
	assert_int_equal(q.tokens, 0);
	assert_int_equal(pf_aws__quota_acquire(&q, true), -1);
}

static void test_s3_error_xml(void **state)
{
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
	    "<Message>The specified key does not exist.</Message><Key>a/b.jpg</Key>"
	    "<RequestId>4442587FB7D0A2F9</RequestId><HostId>xyz</HostId></Error>";
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_S3, false, 404, xml, strlen(xml), NULL, NULL, NULL, &e);
	assert_int_equal(e.code, PF_ENOTFOUND);
	assert_int_equal(e.http_status, 404);
	assert_string_equal(e.service_code, "NoSuchKey");
	assert_string_equal(e.request_id, "4442587FB7D0A2F9");
	assert_false(e.retryable);
	assert_string_equal(e.message, "s3: HTTP 404 NoSuchKey: The specified key does not exist.");

	/* the header request id wins; SlowDown is retryable */
	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_S3, false, 503,
	                    "<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>", 61,
	                    "HDR-ID", NULL, NULL, &e);
	assert_int_equal(e.code, PF_EAWS);
	assert_string_equal(e.service_code, "SlowDown");
	assert_string_equal(e.request_id, "HDR-ID");
	assert_true(e.retryable);

	/* no body (HEAD): typed from the status */
	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_S3, false, 404, NULL, 0, NULL, NULL, NULL, &e);
	assert_int_equal(e.code, PF_ENOTFOUND);
	assert_string_equal(e.service_code, "NotFound");
	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_S3, false, 412, "", 0, NULL, NULL, NULL, &e);
	assert_int_equal(e.code, PF_ECONFLICT);

	/* garbage body */
	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_S3, false, 500, "<html>oops", 10, NULL, NULL, NULL, &e);
	assert_string_equal(e.service_code, "InternalError");
	assert_true(e.retryable);
}

static void test_json_errors(void **state)
{
	static const char ddb[] = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
	                          "ConditionalCheckFailedException\",\"message\":\"The conditional "
	                          "request failed\"}";
	static const char sqs[] = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
	                          "\"message\":\"The specified queue does not exist.\"}";
	struct pf_error e;
	char code[64], msg[128];

	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_DYNAMODB, false, 400, ddb, strlen(ddb), "RID", NULL, NULL, &e);
	assert_int_equal(e.code, PF_ECONFLICT);
	assert_string_equal(e.service_code, "ConditionalCheckFailedException");
	assert_string_equal(e.request_id, "RID");
	assert_false(e.retryable);

	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_SQS, false, 400, sqs, strlen(sqs), NULL, NULL,
	                    "AWS.SimpleQueueService.NonExistentQueue;Sender", &e);
	assert_int_equal(e.code, PF_ENOTFOUND);
	assert_string_equal(e.service_code, "QueueDoesNotExist");

	/* header-only code */
	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_DYNAMODB, false, 400, "not json", 8, NULL,
	                    "ThrottlingException:http://internal.amazon.com/", NULL, &e);
	assert_string_equal(e.service_code, "ThrottlingException");
	assert_true(e.retryable);

	/* "code" field and "Message" casing */
	static const char coded[] = "{\"code\":\"X:y\",\"Message\":\"m\"}";

	assert_true(
	    pf_aws__parse_json_error(coded, strlen(coded), code, sizeof(code), msg, sizeof(msg)));
	assert_string_equal(code, "X");
	assert_string_equal(msg, "m");
	assert_false(pf_aws__parse_json_error("[]", 2, code, sizeof(code), msg, sizeof(msg)));
	assert_false(pf_aws__parse_json_error(NULL, 0, code, sizeof(code), msg, sizeof(msg)));

	/* unsigned (credential endpoint): status only */
	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_S3, true, 401, "{}", 2, NULL, NULL, NULL, &e);
	assert_int_equal(e.code, PF_EAWS);
	assert_int_equal(e.http_status, 401);
}

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
	    cmocka_unit_test(test_throttling_codes),   cmocka_unit_test(test_transient_and_client),
	    cmocka_unit_test(test_backoff_bounds),     cmocka_unit_test(test_quota),
	    cmocka_unit_test(test_s3_error_xml),       cmocka_unit_test(test_json_errors),
	    cmocka_unit_test(test_endpoints_defaults), cmocka_unit_test(test_endpoints_overrides),
	    cmocka_unit_test(test_endpoints_refused),  cmocka_unit_test(test_bucket_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
