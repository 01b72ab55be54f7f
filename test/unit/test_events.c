/* Unit tests for S3 event parsing: every envelope, key decoding, malformed bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/events.h"
#include "photofinish/util.h"

static const char *s3_event =
    "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"awsRegion\":"
    "\"us-east-1\",\"eventTime\":\"2026-05-03T09:14:07.120Z\",\"eventName\":"
    "\"ObjectCreated:Put\",\"s3\":{\"s3SchemaVersion\":\"1.0\",\"bucket\":{\"name\":"
    "\"race-ingress\"},\"object\":{\"key\":\"race+day/IMG%2B1+%C3%A9.jpg\",\"size\":1234,"
    "\"eTag\":\"0123abcd\",\"sequencer\":\"0055AED6DCD90281E5\"}}}]}";

static int parse(const char *body, struct pf_event_list *list, struct pf_error *err)
{
	pf_error_clear(err);
	return pf_events_parse(body, strlen(body), list, err);
}

static void test_direct_s3_event(void **state)
{
	struct pf_event_list list;
	struct pf_error err;

	assert_int_equal(parse(s3_event, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.events[0].kind, PF_EVENT_CREATED);
	assert_string_equal(list.events[0].bucket, "race-ingress");
	assert_string_equal(list.events[0].key, "race day/IMG+1 é.jpg");
	assert_int_equal(list.events[0].size, 1234);
	assert_string_equal(list.events[0].etag, "0123abcd");
	assert_string_equal(list.events[0].sequencer, "000000000000000055AED6DCD90281E5");
	pf_event_list_free(&list);
}

static void test_sns_envelope(void **state)
{
	struct pf_buf b;
	struct pf_event_list list;
	struct pf_error err;

	pf_buf_init(&b);
	pf_buf_append_str(&b, "{\"Type\":\"Notification\",\"MessageId\":\"x\",\"Message\":\"");
	for (const char *p = s3_event; *p; p++) {
		if (*p == '"')
			pf_buf_append_str(&b, "\\\"");
		else
			pf_buf_append(&b, p, 1);
	}
	pf_buf_append_str(&b, "\"}");
	assert_int_equal(parse(b.data, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.events[0].key, "race day/IMG+1 é.jpg");
	pf_event_list_free(&list);

	/* The same envelope as SNS delivers it inside Records[].Sns. */
	{
		char *wrapped = pf_xasprintf("{\"Records\":[{\"EventSource\":\"aws:sns\","
		                             "\"Sns\":%s}]}",
		                             b.data);

		assert_int_equal(parse(wrapped, &list, &err), 0);
		assert_int_equal(list.count, 1);
		assert_string_equal(list.events[0].bucket, "race-ingress");
		pf_event_list_free(&list);
		free(wrapped);
	}
	pf_buf_free(&b);
}

static void test_eventbridge(void **state)
{
	const char *created = "{\"version\":\"0\",\"detail-type\":\"Object Created\",\"source\":"
	                      "\"aws.s3\",\"time\":\"2026-05-03T09:14:07Z\",\"detail\":{\"bucket\":"
	                      "{\"name\":\"race-ingress\"},\"object\":{\"key\":\"a b+c.jpg\","
	                      "\"size\":5,\"etag\":\"ee\",\"sequencer\":\"0A\"}}}";
	const char *deleted = "{\"detail-type\":\"Object Deleted\",\"source\":\"aws.s3\","
	                      "\"detail\":{\"bucket\":{\"name\":\"race-ingress\"},\"object\":"
	                      "{\"key\":\"a.jpg\",\"sequencer\":\"0B\"}}}";
	struct pf_event_list list;
	struct pf_error err;

	assert_int_equal(parse(created, &list, &err), 0);
	assert_int_equal(list.events[0].kind, PF_EVENT_CREATED);
	/* EventBridge keys are not URL-encoded. */
	assert_string_equal(list.events[0].key, "a b+c.jpg");
	pf_event_list_free(&list);
	assert_int_equal(parse(deleted, &list, &err), 0);
	assert_int_equal(list.events[0].kind, PF_EVENT_REMOVED);
	assert_int_equal(list.events[0].size, -1);
	assert_null(list.events[0].etag);
	pf_event_list_free(&list);
}

static void test_test_event(void **state)
{
	struct pf_event_list list;
	struct pf_error err;

	assert_int_equal(parse("{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Time\":"
	                       "\"2026-05-03T09:14:07Z\",\"Bucket\":\"race-ingress\"}",
	                       &list, &err),
	                 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.events[0].kind, PF_EVENT_TEST);
	pf_event_list_free(&list);
}

static void test_removed_and_several_records(void **state)
{
	const char *body =
	    "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectRemoved:Delete\","
	    "\"s3\":{\"bucket\":{\"name\":\"bkt\"},\"object\":{\"key\":\"x.jpg\",\"sequencer\":"
	    "\"01\"}}},{\"eventSource\":\"aws:s3\",\"eventName\":"
	    "\"ObjectCreated:CompleteMultipartUpload\",\"s3\":{\"bucket\":{\"name\":\"bkt\"},"
	    "\"object\":{\"key\":\"y.jpg\",\"size\":9}}}]}";
	struct pf_event_list list;
	struct pf_error err;

	assert_int_equal(parse(body, &list, &err), 0);
	assert_int_equal(list.count, 2);
	assert_int_equal(list.events[0].kind, PF_EVENT_REMOVED);
	assert_int_equal(list.events[1].kind, PF_EVENT_CREATED);
	assert_string_equal(list.events[1].sequencer, "");
	pf_event_list_free(&list);
}

static void expect_refused(const char *body, const char *needle)
{
	struct pf_event_list list;
	struct pf_error err;

	assert_true(parse(body, &list, &err) < 0);
	assert_int_equal(list.count, 0);
	if (!strstr(err.message, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, err.message);
}

static void test_malformed(void **state)
{
	char *junk = pf_xmalloc(PF_EVENTS_MAX_BODY + 2);

	expect_refused("not json", "not JSON");
	expect_refused("[1,2]", "not a JSON object");
	expect_refused("{}", "neither");
	expect_refused("{\"Records\":[]}", "empty");
	expect_refused("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\"}]}", "not an S3 event");
	expect_refused("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
	               "{\"name\":\"b\"},\"object\":{}}}]}",
	               "no s3.object.key");
	expect_refused("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
	               "{\"name\":\"bkt\"},\"object\":{\"key\":\"a%2\"}}}]}",
	               "malformed URL-encoded key");
	expect_refused("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
	               "{\"name\":\"bkt\"},\"object\":{\"key\":\"a%00b\"}}}]}",
	               "malformed URL-encoded key");
	expect_refused("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
	               "{\"name\":\"bkt\"},\"object\":{\"key\":\"%FF\"}}}]}",
	               "malformed URL-encoded key");
	expect_refused("{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
	               "{\"name\":\"bkt\"},\"object\":{\"key\":\"k\",\"sequencer\":\"zz\"}}}]}",
	               "sequencer");
	expect_refused("{\"Records\":[{\"eventName\":\"ObjectRestore:Post\",\"s3\":{\"bucket\":"
	               "{\"name\":\"bkt\"},\"object\":{\"key\":\"k\"}}}]}",
	               "unsupported eventName");
	expect_refused("{\"Type\":\"Notification\",\"Message\":\"nope\"}", "not JSON");
	memset(junk, 'x', PF_EVENTS_MAX_BODY + 1);
	junk[PF_EVENTS_MAX_BODY + 1] = '\0';
	expect_refused(junk, "limit");
	free(junk);
}

static void test_sequencer_order(void **state)
{
	struct pf_event_list a, b;
	struct pf_error err;
	const char *fmt = "{\"Records\":[{\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
	                  "{\"name\":\"bkt\"},\"object\":{\"key\":\"k\",\"sequencer\":\"%s\"}}}]}";
	char *x = pf_xasprintf(fmt, "FF");
	char *y = pf_xasprintf(fmt, "0100");

	assert_int_equal(parse(x, &a, &err), 0);
	assert_int_equal(parse(y, &b, &err), 0);
	/* Shorter sequencers compare as if left-padded with zeros. */
	assert_true(pf_events_sequencer_cmp(a.events[0].sequencer, b.events[0].sequencer) < 0);
	pf_event_list_free(&a);
	pf_event_list_free(&b);
	free(x);
	free(y);
}

/* What pf_events_format writes, pf_events_parse reads back unchanged. */
static void test_format_round_trip(void **state)
{
	struct pf_object_event ev = {.kind = PF_EVENT_CREATED,
	                             .bucket = "race-ingress",
	                             .key = "race day/IMG+1 é%.jpg",
	                             .size = 1234,
	                             .etag = "0123abcd",
	                             .sequencer = "",
	                             .event_time = "2026-05-03T09:14:07.120Z",
	                             .force = true};
	struct pf_event_list list;
	struct pf_error err;
	char *body = pf_events_format(&ev);

	assert_int_equal(parse(body, &list, &err), 0);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.events[0].kind, PF_EVENT_CREATED);
	assert_string_equal(list.events[0].bucket, ev.bucket);
	assert_string_equal(list.events[0].key, ev.key);
	assert_int_equal(list.events[0].size, 1234);
	assert_string_equal(list.events[0].etag, "0123abcd");
	assert_string_equal(list.events[0].sequencer, "");
	assert_string_equal(list.events[0].event_time, ev.event_time);
	assert_string_equal(list.events[0].event_name, "ObjectCreated:Put");
	assert_true(list.events[0].force);
	pf_event_list_free(&list);
	free(body);

	/* a removal with a sequencer, not forced, size unknown */
	ev.kind = PF_EVENT_REMOVED;
	ev.size = -1;
	ev.etag = NULL;
	ev.event_time = NULL;
	ev.sequencer = "0055AED6DCD90281E5";
	ev.force = false;
	body = pf_events_format(&ev);
	assert_int_equal(parse(body, &list, &err), 0);
	assert_int_equal(list.events[0].kind, PF_EVENT_REMOVED);
	assert_string_equal(list.events[0].event_name, "ObjectRemoved:Delete");
	assert_int_equal(list.events[0].size, -1);
	assert_null(list.events[0].etag);
	assert_null(list.events[0].event_time);
	assert_string_equal(list.events[0].sequencer, "000000000000000055AED6DCD90281E5");
	assert_false(list.events[0].force);
	pf_event_list_free(&list);
	free(body);
}

static void test_bare_etag(void **state)
{
	char *e;

	assert_null(pf_events_bare_etag(NULL));
	e = pf_events_bare_etag("\"abc\"");
	assert_string_equal(e, "abc");
	free(e);
	e = pf_events_bare_etag("abc");
	assert_string_equal(e, "abc");
	free(e);
	e = pf_events_bare_etag("\"");
	assert_string_equal(e, "\"");
	free(e);
	e = pf_events_bare_etag("");
	assert_string_equal(e, "");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_direct_s3_event),
	    cmocka_unit_test(test_sns_envelope),
	    cmocka_unit_test(test_eventbridge),
	    cmocka_unit_test(test_test_event),
	    cmocka_unit_test(test_removed_and_several_records),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_sequencer_order),
	    cmocka_unit_test(test_format_round_trip),
	    cmocka_unit_test(test_bare_etag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
