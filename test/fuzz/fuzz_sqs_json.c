/*
 * libFuzzer target for the SQS JSON response parsers: ReceiveMessage
 * messages, *Batch results matched to a fixed set of entry ids, and the
 * JSON-protocol error document. Checks: no crash/leak/UB, failures are
 * PF_EAWS only, every parsed message has a receipt handle and a body, and
 * a batch result has exactly one outcome per requested id, in order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/retry_int.h"
#include "aws/sqs_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ids[] = {"a", "b", "0", "id-1"};
	const char *body = (const char *)data;
	struct pf_sqs_message *msgs = NULL;
	struct pf_sqs_batch_result res;
	struct pf_error e;
	json_t *doc = NULL;
	size_t n = 0, failed = 0;
	char code[64], msg[128];
	int rc;

	memset(&e, 0, sizeof(e));
	rc = pf_sqs__parse_messages(body, size, &msgs, &n, &e);
	check(rc == 0 || rc == PF_EAWS);
	for (size_t i = 0; i < n; i++)
		check(msgs[i].receipt_handle && msgs[i].body && msgs[i].attributes &&
		      msgs[i].receive_count >= 0);
	pf_sqs__messages_free(msgs, n);

	rc = pf_sqs__parse_batch(body, size, ids, 4, &doc, &res, &e);
	check(rc == 0 || rc == PF_EAWS);
	if (rc == 0) {
		check(res.n == 4);
		for (size_t i = 0; i < res.n; i++) {
			check(res.entries[i].id == ids[i]);
			if (!res.entries[i].ok) {
				failed++;
				check(res.entries[i].code != NULL);
			}
		}
		check(failed == res.nfailed);
		free(res.entries);
	}
	json_decref(doc);

	pf_aws__parse_json_error(body, size, code, sizeof(code), msg, sizeof(msg));
	check(strlen(code) < sizeof(code) && strlen(msg) < sizeof(msg));
	memset(&e, 0, sizeof(e));
	pf_aws__parse_error(PF_AWS_SQS, false, 400, body, size, NULL, NULL, "X;Sender", &e);
	check(e.code == PF_EAWS || e.code == PF_ENOTFOUND || e.code == PF_ECONFLICT);
	return 0;
}
