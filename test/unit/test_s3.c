/* Unit tests for the S3 XML parsers and builders: ListObjectsV2 results,
 * DeleteObjects results and requests, error documents, hostile XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws/s3_int.h"
#include "aws/xml_int.h"

static const char list_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bucket</Name><Prefix>photos/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>photos/a &amp; b.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>photos/ü.jpg</Key><Size>0</Size></Contents>"
    "<CommonPrefixes><Prefix>photos/2024/</Prefix></CommonPrefixes>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "</ListBucketResult>";

static void test_list(void **state)
{
	struct pf_s3_list_page page;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3__parse_list(list_xml, strlen(list_xml), &page, &e), 0);
	assert_int_equal(page.nobjects, 2);
	assert_string_equal(page.objects[0].key, "photos/a & b.jpg");
	assert_int_equal(page.objects[0].size, 434234);
	assert_string_equal(page.objects[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
	assert_int_equal(page.objects[0].last_modified, 1255369830);
	assert_string_equal(page.objects[1].key, "photos/ü.jpg");
	assert_null(page.objects[1].etag);
	assert_int_equal(page.nprefixes, 1);
	assert_string_equal(page.common_prefixes[0], "photos/2024/");
	assert_true(page.is_truncated);
	assert_string_equal(page.next_continuation_token,
	                    "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	pf_s3__list_page_free(&page);
}

static void test_list_last_page_and_errors(void **state)
{
	static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
	                           "</ListBucketResult>";
	static const char no_token[] = "<ListBucketResult><IsTruncated>true</IsTruncated>"
	                               "</ListBucketResult>";
	static const char no_key[] = "<ListBucketResult><Contents><Size>1</Size></Contents>"
	                             "</ListBucketResult>";
	static const char *const bad[] = {
	    "",
	    "<Error><Code>X</Code></Error>",
	    "<ListBucketResult>",
	    "not xml",
	    "<!DOCTYPE x [<!ENTITY a \"b\">]><ListBucketResult>&a;</ListBucketResult>",
	};
	struct pf_s3_list_page page;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3__parse_list(last, strlen(last), &page, &e), 0);
	assert_int_equal(page.nobjects, 0);
	assert_false(page.is_truncated);
	assert_null(page.next_continuation_token);
	pf_s3__list_page_free(&page);
	assert_int_equal(pf_s3__parse_list(no_token, strlen(no_token), &page, &e), PF_EAWS);
	assert_int_equal(pf_s3__parse_list(no_key, strlen(no_key), &page, &e), PF_EAWS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pf_s3__parse_list(bad[i], strlen(bad[i]), &page, &e), PF_EAWS);
}

static void test_deep_nesting_refused(void **state)
{
	char xml[4096];
	size_t n = 0;
	struct pf_s3_list_page page;
	struct pf_error e;

	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(xml + n, sizeof(xml) - n, "<a>");
	assert_int_equal(pf_s3__parse_list(xml, n, &page, &e), PF_EAWS);
}

static void test_delete_result(void **state)
{
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Deleted><Key>sample1.txt</Key></Deleted>"
	    "<Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message>"
	    "</Error><Deleted><Key>b</Key><DeleteMarker>true</DeleteMarker></Deleted>"
	    "</DeleteResult>";
	struct pf_s3_delete_result res;
	struct pf_error e;

	memset(&res, 0, sizeof(res));
	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3__parse_delete_result(xml, strlen(xml), &res, &e), 0);
	/* a second batch accumulates */
	assert_int_equal(pf_s3__parse_delete_result(xml, strlen(xml), &res, &e), 0);
	assert_int_equal(res.ndeleted, 4);
	assert_int_equal(res.nerrors, 2);
	assert_string_equal(res.errors[1].key, "sample2.txt");
	assert_string_equal(res.errors[1].code, "AccessDenied");
	assert_string_equal(res.errors[1].message, "Access Denied");
	assert_int_equal(pf_s3__parse_delete_result("<Error/>", 8, &res, &e), PF_EAWS);
	pf_s3__delete_result_free(&res);
}

static void test_delete_request(void **state)
{
	const char *keys[] = {"a & b", "<x>\"'", "plain/ü"};
	size_t len;
	char *xml = pf_s3__delete_request_xml(keys, 3, &len);

	assert_int_equal(len, strlen(xml));
	assert_non_null(strstr(xml, "<Object><Key>a &amp; b</Key></Object>"));
	assert_non_null(strstr(xml, "<Key>&lt;x&gt;&quot;&apos;</Key>"));
	assert_non_null(strstr(xml, "<Key>plain/ü</Key>"));
	assert_non_null(strstr(xml, "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"));
	free(xml);
}

static void test_error_and_find(void **state)
{
	static const char err[] = "<Error><Code>InternalError</Code><Message>We encountered an "
	                          "internal error.</Message><RequestId>R</RequestId></Error>";
	static const char init[] =
	    "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
	    "<UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>";
	char code[64], msg[128], rid[32];
	char *out;

	assert_true(pf_aws__xml_parse_error(err, strlen(err), code, sizeof(code), msg, sizeof(msg),
	                                    rid, sizeof(rid)));
	assert_string_equal(code, "InternalError");
	assert_string_equal(rid, "R");
	assert_false(pf_aws__xml_parse_error(init, strlen(init), code, sizeof(code), msg,
	                                     sizeof(msg), rid, sizeof(rid)));
	/* truncated to the buffer, never overflowing */
	assert_true(pf_aws__xml_parse_error(err, strlen(err), code, 4, msg, 8, rid, sizeof(rid)));
	assert_string_equal(code, "Int");
	assert_string_equal(msg, "We enco");
	assert_true(pf_aws__xml_find_text(init, strlen(init), "UploadId", &out));
	assert_string_equal(out, "VXBsb2FkIElE");
	free(out);
	assert_false(pf_aws__xml_find_text(init, strlen(init), "ETag", &out));
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_list_last_page_and_errors),
	    cmocka_unit_test(test_deep_nesting_refused),
	    cmocka_unit_test(test_delete_result),
	    cmocka_unit_test(test_delete_request),
	    cmocka_unit_test(test_error_and_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
