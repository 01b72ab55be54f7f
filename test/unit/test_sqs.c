/* Unit tests for the SQS and DynamoDB JSON response parsers: messages,
 * batch results matched to entries, transaction cancellation reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/dynamodb_int.h"
#include "aws/sqs_int.h"

static void test_messages(void **state)
{
	static const char body[] =
	    "{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"r1\",\"MD5OfBody\":\"x\","
	    "\"Body\":\"hello\",\"Attributes\":{\"ApproximateReceiveCount\":\"3\","
	    "\"SentTimestamp\":\"1700000000123\"},\"MessageAttributes\":{\"a\":{\"DataType\":"
	    "\"String\",\"StringValue\":\"v\"}}},{\"ReceiptHandle\":\"r2\",\"Body\":\"\"}]}";
	struct pf_sqs_message *m;
	size_t n;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_sqs__parse_messages(body, strlen(body), &m, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].message_id, "m1");
	assert_string_equal(m[0].receipt_handle, "r1");
	assert_string_equal(m[0].body, "hello");
	assert_int_equal(m[0].receive_count, 3);
	assert_int_equal(m[0].sent_timestamp, 1700000000123LL);
	assert_non_null(m[0].message_attributes);
	assert_null(m[1].message_id);
	assert_int_equal(m[1].receive_count, 0);
	assert_non_null(m[1].attributes);
	pf_sqs__messages_free(m, n);

	assert_int_equal(pf_sqs__parse_messages("{}", 2, &m, &n, &e), 0);
	assert_int_equal(n, 0);
	pf_sqs__messages_free(m, n);
	assert_int_equal(pf_sqs__parse_messages("", 0, &m, &n, &e), 0);
	pf_sqs__messages_free(m, n);
}

static void test_messages_malformed(void **state)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"Messages\":{}}",
	    "{\"Messages\":[{\"Body\":\"x\"}]}",
	    "{\"Messages\":[1]}",
	    "{\"Messages\":[{\"ReceiptHandle\":\"r\",\"Body\":3}]}",
	    "{",
	};
	struct pf_sqs_message *m;
	size_t n;
	struct pf_error e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(pf_sqs__parse_messages(bad[i], strlen(bad[i]), &m, &n, &e),
		                 PF_EAWS);
		assert_null(m);
	}
}

static void test_batch(void **state)
{
	static const char body[] =
	    "{\"Successful\":[{\"Id\":\"a\",\"MessageId\":\"mid\"},{\"Id\":\"c\"}],"
	    "\"Failed\":[{\"Id\":\"b\",\"SenderFault\":true,\"Code\":\"ReceiptHandleIsInvalid\","
	    "\"Message\":\"bad\"}]}";
	const char *ids[] = {"a", "b", "c", "d"};
	struct pf_sqs_batch_result r;
	json_t *doc;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_sqs__parse_batch(body, strlen(body), ids, 4, &doc, &r, &e), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.nfailed, 2);
	assert_true(r.entries[0].ok);
	assert_string_equal(r.entries[0].message_id, "mid");
	assert_false(r.entries[1].ok);
	assert_true(r.entries[1].sender_fault);
	assert_string_equal(r.entries[1].code, "ReceiptHandleIsInvalid");
	assert_true(r.entries[2].ok);
	/* an entry SQS did not mention is a failure, never silently done */
	assert_false(r.entries[3].ok);
	assert_string_equal(r.entries[3].code, "MissingFromResponse");
	free(r.entries);
	json_decref(doc);
	assert_int_equal(pf_sqs__parse_batch("nope", 4, ids, 4, &doc, &r, &e), PF_EAWS);
	assert_null(doc);
}

static void test_cancellation(void **state)
{
	json_error_t je;
	json_t *doc = json_loads(
	    "{\"__type\":\"com.amazonaws.dynamodb.v20120810#TransactionCanceledException\","
	    "\"CancellationReasons\":[{\"Code\":\"None\"},{\"Code\":\"ConditionalCheckFailed\","
	    "\"Message\":\"The conditional request failed\"}]}",
	    0, &je);
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	pf_dynamodb__cancellation_error(doc, &e);
	assert_int_equal(e.code, PF_ECONFLICT);
	assert_false(e.retryable);
	assert_string_equal(e.message,
	                    "dynamodb: transaction cancelled: item 1: ConditionalCheckFailed");
	json_decref(doc);

	doc = json_loads("{\"CancellationReasons\":[{\"Code\":\"TransactionConflict\"}]}", 0, &je);
	memset(&e, 0, sizeof(e));
	pf_dynamodb__cancellation_error(doc, &e);
	assert_int_equal(e.code, PF_EAWS);
	assert_true(e.retryable);
	json_decref(doc);

	memset(&e, 0, sizeof(e));
	pf_dynamodb__cancellation_error(NULL, &e);
	assert_int_equal(e.code, PF_EAWS);
	assert_string_equal(e.message, "dynamodb: transaction cancelled: no reasons given");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages),
	    cmocka_unit_test(test_messages_malformed),
	    cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_cancellation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
