/*
 * libFuzzer target for the S3 XML response parsers: ListObjectsV2 results,
 * DeleteObjects results, ListParts and ListMultipartUploads results, error
 * documents and the element finder, all on
 * the same arbitrary bytes (what a hostile or broken endpoint could send).
 * Beyond "no crash, no leak, no UB": results are self-consistent (counts
 * match arrays, a truncated page has a token, strings are NUL-terminated
 * within their buffers) and failures are PF_EAWS only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/retry_int.h"
#include "aws/s3_int.h"
#include "aws/xml_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	struct pf_s3_list_page page;
	struct pf_s3_delete_result del;
	struct pf_s3_parts_page parts;
	struct pf_s3_uploads_page uploads;
	struct pf_error e;
	char code[64], msg[128], rid[32];
	char *out = NULL;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = pf_s3__parse_list(xml, size, &page, &e);
	check(rc == 0 || rc == PF_EAWS);
	if (rc == 0) {
		for (size_t i = 0; i < page.nobjects; i++)
			check(page.objects[i].key != NULL);
		for (size_t i = 0; i < page.nprefixes; i++)
			check(page.common_prefixes[i] != NULL);
		check(!page.is_truncated || page.next_continuation_token != NULL);
		pf_s3__list_page_free(&page);
	}

	rc = pf_s3__parse_parts(xml, size, &parts, &e);
	check(rc == 0 || rc == PF_EAWS);
	if (rc == 0) {
		for (size_t i = 0; i < parts.nparts; i++)
			check(parts.parts[i].etag && parts.parts[i].part_number >= 1 &&
			      parts.parts[i].part_number <= 10000 && parts.parts[i].size >= 0 &&
			      (i == 0 ||
			       parts.parts[i].part_number > parts.parts[i - 1].part_number));
		check(!parts.is_truncated || parts.next_part_number_marker >= 1);
		pf_s3__parts_page_free(&parts);
	}

	rc = pf_s3__parse_uploads(xml, size, &uploads, &e);
	check(rc == 0 || rc == PF_EAWS);
	if (rc == 0) {
		for (size_t i = 0; i < uploads.nuploads; i++)
			check(uploads.uploads[i].key && uploads.uploads[i].upload_id);
		check(!uploads.is_truncated || uploads.next_key_marker != NULL);
		pf_s3__uploads_page_free(&uploads);
	}

	memset(&del, 0, sizeof(del));
	rc = pf_s3__parse_delete_result(xml, size, &del, &e);
	check(rc == 0 || rc == PF_EAWS);
	for (size_t i = 0; i < del.nerrors; i++)
		check(del.errors[i].key && del.errors[i].code && del.errors[i].message);
	pf_s3__delete_result_free(&del);

	if (pf_aws__xml_parse_error(xml, size, code, sizeof(code), msg, sizeof(msg), rid,
	                            sizeof(rid)))
		check(code[0] != '\0');
	check(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg) &&
	      strlen(rid) < sizeof(rid));

	if (pf_aws__xml_find_text(xml, size, "UploadId", &out))
		check(out != NULL);
	free(out);

	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_S3, false, 500, xml, size, NULL, NULL, NULL, &e);
	check(e.code == PF_EAWS || e.code == PF_ENOTFOUND || e.code == PF_ECONFLICT);
	check(strlen(e.message) < sizeof(e.message));
	return 0;
}
