/*
 * libFuzzer target for the console's session cookie: arbitrary bytes as a
 * cookie value, and a valid cookie with one byte changed. Checks: no
 * crash/leak/UB; nothing but a cookie signed with the key decodes, and
 * what decodes is well formed (a role, a valid photographer for an upload
 * session, an expiry after now).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/session.h"
#include "photofinish/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char key[PF_SESSION_KEY_LEN] = "fuzz-key-fuzz-key-fuzz-key-fuzz";

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = pf_xstrndup((const char *)data, size);
	struct pf_session s = {.role = PF_SESSION_UPLOAD, .expires = 2000000000};
	struct pf_session out;
	char *valid;

	if (pf_session_decode(key, text, 1000, &out)) {
		check(out.role == PF_SESSION_ADMIN || out.role == PF_SESSION_UPLOAD);
		check(out.expires > 1000);
		check(out.role == PF_SESSION_ADMIN ||
		      pf_session_photographer_is_valid(out.photographer));
	}
	/* A real cookie with one byte flipped never passes. */
	memcpy(s.id, "fuzzfuzzfuzzfuzzfuzzfu", PF_SESSION_ID_LEN + 1);
	memcpy(s.who, "alice", 6);
	memcpy(s.photographer, "alice", 6);
	valid = pf_session_encode(key, &s);
	if (size >= 2) {
		size_t at = ((size_t)data[0] << 8 | data[1]) % strlen(valid);
		char was = valid[at];

		valid[at] = (char)(data[size - 1] ? data[size - 1] : 1);
		if (valid[at] != was)
			check(!pf_session_decode(key, valid, 1000, &out) ||
			      /* base64 padding bits may differ without changing the bytes */
			      !strcmp(out.photographer, "alice"));
	}
	free(valid);
	free(text);
	return 0;
}
