/* Unit tests for the S3 XML parsers and builders: ListObjectsV2 results,
 * DeleteObjects results and requests, ListParts and ListMultipartUploads
 * results, error documents, hostile XML; and presigned URLs against the
 * Amazon S3 API reference example and a URL made by the AWS SDK for
 * JavaScript v3 presigner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/util.h"

#include "aws/s3_int.h"
#include "aws/xml_int.h"
#include "photofinish/aws/endpoints.h"

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

/* The ListParts example of the Amazon S3 API reference (one page of two). */
static const char parts_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Bucket>example-bucket</Bucket><Key>example-object</Key>"
    "<UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>"
    "<Initiator><ID>arn:aws:iam::111122223333:user/some-user-11116a31-17b5-4fb7-9df5-b288870f11xx"
    "</ID><DisplayName>umat-user-11116a31-17b5-4fb7-9df5-b288870f11xx</DisplayName></Initiator>"
    "<StorageClass>STANDARD</StorageClass><PartNumberMarker>1</PartNumberMarker>"
    "<NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts>"
    "<IsTruncated>true</IsTruncated>"
    "<Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified>"
    "<ETag>\"7778aef83f66abc1fa1e8477f296d394\"</ETag><Size>10485760</Size></Part>"
    "<Part><PartNumber>3</PartNumber><LastModified>2010-11-10T20:48:33.000Z</LastModified>"
    "<ETag>\"aaaa18db4cc2f85cedef654fccc4a4x8\"</ETag><Size>10485760</Size></Part>"
    "</ListPartsResult>";

static void test_parts(void **state)
{
	struct pf_s3_parts_page page;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3__parse_parts(parts_xml, strlen(parts_xml), &page, &e), 0);
	assert_int_equal(page.nparts, 2);
	assert_int_equal(page.parts[0].part_number, 2);
	assert_int_equal(page.parts[0].size, 10485760);
	assert_string_equal(page.parts[0].etag, "\"7778aef83f66abc1fa1e8477f296d394\"");
	assert_int_equal(page.parts[0].last_modified, 1289422114);
	assert_int_equal(page.parts[1].part_number, 3);
	assert_true(page.is_truncated);
	assert_int_equal(page.next_part_number_marker, 3);
	pf_s3__parts_page_free(&page);
}

static void test_parts_refused(void **state)
{
	static const char *const bad[] = {
	    "<ListPartsResult><IsTruncated>true</IsTruncated></ListPartsResult>",
	    "<ListPartsResult><Part><PartNumber>2</PartNumber><ETag>a</ETag><Size>1</Size></Part>"
	    "<Part><PartNumber>2</PartNumber><ETag>b</ETag><Size>1</Size></Part></ListPartsResult>",
	    "<ListPartsResult><Part><PartNumber>3</PartNumber><ETag>a</ETag><Size>1</Size></Part>"
	    "<Part><PartNumber>1</PartNumber><ETag>b</ETag><Size>1</Size></Part></ListPartsResult>",
	    "<ListPartsResult><Part><PartNumber>0</PartNumber><ETag>a</ETag><Size>1</Size></Part>"
	    "</ListPartsResult>",
	    "<ListPartsResult><Part><PartNumber>10001</PartNumber><ETag>a</ETag><Size>1</Size>"
	    "</Part></ListPartsResult>",
	    "<ListPartsResult><Part><PartNumber>1</PartNumber><Size>1</Size></Part>"
	    "</ListPartsResult>",
	    "<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>a</ETag><Size>-1</Size></Part>"
	    "</ListPartsResult>",
	    "<ListPartsResult><Part><PartNumber>x</PartNumber><ETag>a</ETag><Size>1</Size></Part>"
	    "</ListPartsResult>",
	    "<Error><Code>NoSuchUpload</Code></Error>",
	    "",
	};
	static const char empty[] = "<ListPartsResult><IsTruncated>false</IsTruncated>"
	                            "</ListPartsResult>";
	struct pf_s3_parts_page page;
	struct pf_error e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(pf_s3__parse_parts(bad[i], strlen(bad[i]), &page, &e), PF_EAWS);
		assert_int_equal(page.nparts, 0);
	}
	assert_int_equal(pf_s3__parse_parts(empty, strlen(empty), &page, &e), 0);
	assert_int_equal(page.nparts, 0);
	assert_false(page.is_truncated);
	pf_s3__parts_page_free(&page);
}

static void test_uploads(void **state)
{
	static const char xml[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Bucket>bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
	    "<NextKeyMarker>my-movie.m2ts</NextKeyMarker>"
	    "<NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</"
	    "NextUploadIdMarker>"
	    "<MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated>"
	    "<Upload><Key>my-divisor</Key>"
	    "<UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>"
	    "<StorageClass>REDUCED_REDUNDANCY</StorageClass>"
	    "<Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>"
	    "<Upload><Key>my &amp; movie.m2ts</Key><UploadId>VXBsb2FkIElE</UploadId></Upload>"
	    "</ListMultipartUploadsResult>";
	static const char no_marker[] =
	    "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated>"
	    "</ListMultipartUploadsResult>";
	static const char no_id[] = "<ListMultipartUploadsResult><Upload><Key>k</Key></Upload>"
	                            "</ListMultipartUploadsResult>";
	struct pf_s3_uploads_page page;
	struct pf_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3__parse_uploads(xml, strlen(xml), &page, &e), 0);
	assert_int_equal(page.nuploads, 2);
	assert_string_equal(page.uploads[0].key, "my-divisor");
	assert_string_equal(page.uploads[0].upload_id,
	                    "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
	assert_int_equal(page.uploads[0].initiated, 1289422113);
	assert_string_equal(page.uploads[1].key, "my & movie.m2ts");
	assert_int_equal(page.uploads[1].initiated, 0);
	assert_true(page.is_truncated);
	assert_string_equal(page.next_key_marker, "my-movie.m2ts");
	assert_string_equal(page.next_upload_id_marker,
	                    "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
	pf_s3__uploads_page_free(&page);
	assert_int_equal(pf_s3__parse_uploads(no_marker, strlen(no_marker), &page, &e), PF_EAWS);
	assert_int_equal(pf_s3__parse_uploads(no_id, strlen(no_id), &page, &e), PF_EAWS);
	assert_int_equal(pf_s3__parse_uploads(parts_xml, strlen(parts_xml), &page, &e), PF_EAWS);
}

#define DOC_KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define DOC_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DOC_TIME 1369353600 /* 20130524T000000Z */

/* Amazon S3 API reference, "Authenticating Requests: Using Query Parameters
 * (AWS Signature Version 4)": GET examplebucket/test.txt for 86400 s. */
static void test_presign_aws_docs_example(void **state)
{
	static const char expected[] =
	    "https://examplebucket.s3.amazonaws.com/test.txt"
	    "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
	    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
	    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
	struct pf_sigv4_credentials creds = {DOC_KEY_ID, DOC_SECRET, NULL};
	struct pf_error e;
	char *query = NULL, *url;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3__presign_query("us-east-1", &creds, DOC_TIME, "GET",
	                                      "examplebucket.s3.amazonaws.com", "/test.txt", NULL,
	                                      86400, 0, &query, &e),
	                 0);
	url = pf_xasprintf("https://examplebucket.s3.amazonaws.com/test.txt?%s", query);
	assert_string_equal(url, expected);
	free(url);
	free(query);
}

static struct pf_endpoints *endpoints(const char *region, const char *s3_url)
{
	struct pf_endpoints_options o = {.region = region, .endpoint_url_s3 = s3_url};
	struct pf_endpoints *ep = NULL;
	struct pf_error e;

	assert_int_equal(pf_endpoints_new(&o, &ep, &e), 0);
	return ep;
}

/* The UploadPart URL @aws-sdk/s3-request-presigner 3.1169.0 (getSignedUrl
 * of an UploadPartCommand, checksums off) made for these inputs at the
 * docs' time; it adds X-Amz-Content-Sha256 and x-id to the query, so they
 * are given as extra parameters here. */
static void test_presign_matches_sdk_upload_part(void **state)
{
	static const char expected[] =
	    "https://examplebucket.s3.us-east-1.amazonaws.com/a%20b/%C3%BC%2B.jpg"
	    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD"
	    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
	    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
	    "&partNumber=3&uploadId=abc%2Fdef%2B%3D&x-id=UploadPart"
	    "&X-Amz-Signature=2f1f2096cae88255865c1ed54d8cce42b76546b4c5d6fc79af01453eaff6cc76";
	struct pf_sigv4_credentials creds = {DOC_KEY_ID, DOC_SECRET, NULL};
	struct pf_s3_query_param q[] = {{"partNumber", "3"},
	                                {"uploadId", "abc/def+="},
	                                {"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"},
	                                {"x-id", "UploadPart"}};
	struct pf_s3_presign_request req = {"PUT", "examplebucket", "a b/ü+.jpg", q, 4, 3600, 0};
	struct pf_endpoints *ep = endpoints("us-east-1", NULL);
	struct pf_error e;
	char *url;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3_presign_url_at(ep, &creds, DOC_TIME, &req, &url, &e), 0);
	assert_string_equal(url, expected);
	free(url);
	pf_endpoints_free(ep);
}

static void test_presign_addressing_and_token(void **state)
{
	struct pf_sigv4_credentials creds = {DOC_KEY_ID, DOC_SECRET, "tok/en+="};
	struct pf_s3_query_param q[] = {{"uploads", NULL}};
	struct pf_s3_presign_request req = {"POST", "photos", "race/a.jpg", q, 1, 60, 0};
	struct pf_endpoints *local = endpoints("eu-west-1", "http://127.0.0.1:4566");
	struct pf_endpoints *aws = endpoints("eu-west-1", NULL);
	struct pf_error e;
	char *url;

	memset(&e, 0, sizeof(e));
	/* an endpoint override is addressed path-style, as the client does */
	assert_int_equal(pf_s3_presign_url_at(local, &creds, DOC_TIME, &req, &url, &e), 0);
	assert_true(strncmp(url, "http://127.0.0.1:4566/photos/race/a.jpg?", 40) == 0);
	assert_non_null(strstr(url, "X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-SignedHeaders=host"
	                            "&uploads=&X-Amz-Signature="));
	assert_non_null(strstr(url, "%2Feu-west-1%2Fs3%2F"));
	free(url);
	/* against AWS: virtual-hosted; a dotted bucket stays path-style */
	req.query = NULL;
	req.nquery = 0;
	req.method = "GET";
	assert_int_equal(pf_s3_presign_url_at(aws, &creds, DOC_TIME, &req, &url, &e), 0);
	assert_true(
	    strncmp(url, "https://photos.s3.eu-west-1.amazonaws.com/race/a.jpg?X-Amz-", 59) == 0);
	free(url);
	req.bucket = "my.photos";
	assert_int_equal(pf_s3_presign_url_at(aws, &creds, DOC_TIME, &req, &url, &e), 0);
	assert_true(strncmp(url, "https://s3.eu-west-1.amazonaws.com/my.photos/race/a.jpg?", 56) ==
	            0);
	free(url);
	/* a bucket-level URL */
	req.key = NULL;
	assert_int_equal(pf_s3_presign_url_at(aws, &creds, DOC_TIME, &req, &url, &e), 0);
	assert_true(strncmp(url, "https://s3.eu-west-1.amazonaws.com/my.photos?X-Amz-", 51) == 0 ||
	            strncmp(url, "https://s3.eu-west-1.amazonaws.com/my.photos/?X-Amz-", 52) == 0);
	free(url);
	pf_endpoints_free(local);
	pf_endpoints_free(aws);
}

/* A signed length is one more signed header: another length, another URL. */
static void test_presign_signs_length(void **state)
{
	struct pf_sigv4_credentials creds = {DOC_KEY_ID, DOC_SECRET, NULL};
	struct pf_s3_presign_request req = {"PUT", "photos", "race/a.jpg", NULL, 0, 3600, 5123456};
	struct pf_endpoints *ep = endpoints("eu-west-1", NULL);
	struct pf_error e;
	char *url, *other;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pf_s3_presign_url_at(ep, &creds, DOC_TIME, &req, &url, &e), 0);
	assert_non_null(strstr(url, "&X-Amz-SignedHeaders=content-length%3Bhost&X-Amz-Signature="));
	req.content_length = 5123457;
	assert_int_equal(pf_s3_presign_url_at(ep, &creds, DOC_TIME, &req, &other, &e), 0);
	assert_string_not_equal(strstr(url, "X-Amz-Signature="), strstr(other, "X-Amz-Signature="));
	free(other);
	/* 0: only the host is signed, as before */
	req.content_length = 0;
	assert_int_equal(pf_s3_presign_url_at(ep, &creds, DOC_TIME, &req, &other, &e), 0);
	assert_non_null(strstr(other, "&X-Amz-SignedHeaders=host&X-Amz-Signature="));
	free(other);
	free(url);
	pf_endpoints_free(ep);
}

static void test_presign_refused(void **state)
{
	struct pf_sigv4_credentials creds = {DOC_KEY_ID, DOC_SECRET, NULL};
	struct pf_s3_query_param sig[] = {{"X-Amz-Signature", "00"}};
	struct pf_s3_query_param lower[] = {{"x-amz-expires", "5"}};
	struct pf_s3_query_param ctl[] = {{"a\nb", "1"}};
	struct pf_s3_query_param empty[] = {{"", "1"}};
	struct pf_s3_query_param many[PF_S3_PRESIGN_MAX_QUERY + 1];
	struct pf_endpoints *ep = endpoints("eu-west-1", NULL);
	struct {
		struct pf_s3_presign_request req;
		const char *needle;
	} cases[] = {
	    {{"GET", "photos", "k", NULL, 0, 0, 0}, "lifetime"},
	    {{"GET", "photos", "k", NULL, 0, PF_S3_PRESIGN_MAX_EXPIRES + 1, 0}, "lifetime"},
	    {{"PATCH", "photos", "k", NULL, 0, 60, 0}, "method"},
	    {{NULL, "photos", "k", NULL, 0, 60, 0}, "method"},
	    {{"GET", "Bad_Bucket", "k", NULL, 0, 60, 0}, "bucket"},
	    {{"GET", "photos", "", NULL, 0, 60, 0}, "key"},
	    {{"GET", "photos", "k", sig, 1, 60, 0}, "signer"},
	    {{"GET", "photos", "k", lower, 1, 60, 0}, "signer"},
	    {{"GET", "photos", "k", ctl, 1, 60, 0}, "control"},
	    {{"GET", "photos", "k", empty, 1, 60, 0}, "names"},
	    {{"GET", "photos", "k", many, PF_S3_PRESIGN_MAX_QUERY + 1, 60, 0}, "at most"},
	    {{"PUT", "photos", "k", NULL, 0, 60, -1}, "length"},
	};
	struct pf_error e;
	char *url;

	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = (struct pf_s3_query_param){"p", "v"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		url = (char *)"unchanged";
		assert_int_equal(
		    pf_s3_presign_url_at(ep, &creds, DOC_TIME, &cases[i].req, &url, &e), PF_EINVAL);
		assert_null(url);
		if (!strstr(e.message, cases[i].needle))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.message, cases[i].needle);
	}
	/* the limits themselves are fine */
	cases[0].req.expires_seconds = PF_S3_PRESIGN_MAX_EXPIRES;
	assert_int_equal(pf_s3_presign_url_at(ep, &creds, DOC_TIME, &cases[0].req, &url, &e), 0);
	assert_non_null(strstr(url, "X-Amz-Expires=604800"));
	free(url);
	cases[0].req.expires_seconds = 1;
	cases[0].req.query = many;
	cases[0].req.nquery = PF_S3_PRESIGN_MAX_QUERY;
	assert_int_equal(pf_s3_presign_url_at(ep, &creds, DOC_TIME, &cases[0].req, &url, &e), 0);
	free(url);
	pf_endpoints_free(ep);
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
	    cmocka_unit_test(test_parts),
	    cmocka_unit_test(test_parts_refused),
	    cmocka_unit_test(test_uploads),
	    cmocka_unit_test(test_presign_aws_docs_example),
	    cmocka_unit_test(test_presign_matches_sdk_upload_part),
	    cmocka_unit_test(test_presign_addressing_and_token),
	    cmocka_unit_test(test_presign_signs_length),
	    cmocka_unit_test(test_presign_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
