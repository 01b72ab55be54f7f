/*
 * libFuzzer target for the DynamoDB response handling: the JSON-protocol
 * error document (with the x-amzn-ErrorType header fallback) and
 * TransactionCanceledException reasons. Checks: no crash/leak/UB; the
 * error is always typed (PF_EAWS, PF_ENOTFOUND or PF_ECONFLICT), a
 * conflict is never retryable, and messages stay NUL-terminated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb_int.h"
#include "aws/retry_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct pf_error e;
	json_error_t je;
	json_t *doc;

	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_DYNAMODB, false, 400, body, size, "rid",
	                    "ValidationException:http://x", NULL, &e);
	check(e.code == PF_EAWS || e.code == PF_ENOTFOUND || e.code == PF_ECONFLICT);
	check(e.service_code[0] != '\0');
	check(strlen(e.message) < sizeof(e.message));

	doc = json_loadb(body, size, 0, &je);
	memset(&e, 0, sizeof(e));
	pf_dynamodb__cancellation_error(doc, &e);
	check(e.code == PF_EAWS || e.code == PF_ECONFLICT);
	check(!(e.code == PF_ECONFLICT && e.retryable));
	check(strlen(e.message) < sizeof(e.message));
	json_decref(doc);
	return 0;
}
