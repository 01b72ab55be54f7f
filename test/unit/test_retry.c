/* Unit tests for the AWS retry and error code (retry.c): retry
 * classification, backoff bounds, the retry quota, error documents (S3 XML,
 * JSON protocols, headers, status alone) and the typed errors they become. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/retry_int.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_throttling_codes), cmocka_unit_test(test_transient_and_client),
	    cmocka_unit_test(test_backoff_bounds),   cmocka_unit_test(test_quota),
	    cmocka_unit_test(test_s3_error_xml),     cmocka_unit_test(test_json_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
