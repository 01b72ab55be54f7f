/*
 * libFuzzer target for the queue-message parser (S3 events, SNS envelopes,
 * EventBridge) and the participant cursor decoder: arbitrary bytes from the
 * queue or a URL. Checks: no crash/leak/UB, failures are PF_EINVAL or
 * PF_ETOOBIG with a message, every parsed object event has a bucket, a
 * non-empty key without NUL and a 32-digit (or empty) sequencer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "photofinish/events.h"
#include "photofinish/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pf_event_list list;
	struct pf_error err;
	char *text = pf_xstrndup((const char *)data, size);
	char *sk;
	int rc;

	pf_error_clear(&err);
	rc = pf_events_parse((const char *)data, size, &list, &err);
	if (rc < 0) {
		check(rc == PF_EINVAL || rc == PF_ETOOBIG);
		check(err.message[0] != '\0');
		check(list.count == 0);
	}
	for (size_t i = 0; i < list.count; i++) {
		const struct pf_object_event *e = &list.events[i];

		if (e->kind == PF_EVENT_TEST)
			continue;
		check(e->bucket && *e->bucket);
		check(e->key && *e->key);
		check(e->sequencer && (strlen(e->sequencer) == 0 ||
		                       strlen(e->sequencer) == PF_EVENTS_SEQUENCER_LEN));
	}
	pf_event_list_free(&list);

	sk = pf_catalog_cursor_decode(text);
	if (sk) {
		char *again = pf_catalog_cursor_encode(sk);
		char *back = pf_catalog_cursor_decode(again);

		check(back && !strcmp(back, sk));
		free(again);
		free(back);
		free(sk);
	}
	free(text);
	return 0;
}
