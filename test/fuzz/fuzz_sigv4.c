/*
 * libFuzzer target for SigV4: arbitrary method, path, query, header names
 * and values, body and options go through both the header signer and the
 * presigner. Beyond "no crash, no leak, no UB" it checks what callers rely
 * on: only 0 or PF_EINVAL, output that is deterministic and header/URL
 * safe, S3 paths that are idempotent once encoded, and no secret or token
 * in an error message. The same input also goes through the percent
 * encoder and the date parsers of codec.h.
 *
 * Input layout: byte 0 = option bits, bytes 1-4 = time, bytes 5-7 =
 * expires; the rest is NUL-separated: method, path, query, then header
 * name/value pairs, and whatever follows the last NUL is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/sigv4.h"
#include "photofinish/codec.h"
#include "photofinish/util.h"

#define SECRET "FUZZSECRETwJalrXUtnFEMI/K7MDENG"
#define TOKEN "FUZZTOKEN/Zm9v+YmFy=="
#define MAX_HEADERS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

static bool only(const char *s, const char *extra)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("-_.~%", c) || strchr(extra, c)))
			return false;
	}
	return true;
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++) {
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	}
	return true;
}

/* The canonical path is the second line of the canonical request. */
static char *canonical_path(const struct pf_sigv4_signed *s)
{
	const char *p = strchr(s->canonical_request, '\n') + 1;

	return pf_xstrndup(p, strcspn(p, "\n"));
}

static void check_signed(const struct pf_sigv4_signed *s, bool presign)
{
	const char *c;

	check(s->canonical_request != NULL && s->string_to_sign != NULL);
	check(is_hex64(s->signature));
	check(strncmp(s->string_to_sign, "AWS4-HMAC-SHA256\n", 17) == 0);
	/* Only newlines separate the canonical request; nothing a header value
	 * brought in may add another control byte. */
	for (c = s->canonical_request; *c; c++)
		check(*c == '\n' || ((unsigned char)*c >= 0x20 && *c != 0x7f));
	if (presign) {
		/* The parameter itself: at the start or after '&', not inside
		 * an encoded name that happens to contain the same text. */
		const char *sig = !strncmp(s->query, "X-Amz-Signature=", 16)
		                      ? s->query
		                      : strstr(s->query, "&X-Amz-Signature=");

		if (sig && *sig == '&')
			sig++;

		check(s->query != NULL && only(s->query, "=&"));
		/* The caller's own parameters may sort after it. */
		check(sig != NULL && strncmp(sig + 16, s->signature, 64) == 0 &&
		      (sig[16 + 64] == '\0' || sig[16 + 64] == '&'));
		check(s->nadd_headers == 0);
	} else {
		check(s->query == NULL && s->nadd_headers >= 2);
		for (size_t i = 0; i < s->nadd_headers; i++) {
			for (c = s->add_headers[i].value; *c; c++)
				check((unsigned char)*c >= 0x20 && *c != 0x7f);
		}
		check(strstr(s->add_headers[0].value, s->signature) != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pf_sigv4_header headers[MAX_HEADERS + 1];
	struct pf_sigv4_credentials creds = {"AKIDEXAMPLE", SECRET, NULL};
	struct pf_sigv4_params params = {.region = "us-east-1", .service = "service"};
	struct pf_sigv4_request req = {0};
	struct pf_sigv4_signed s, again;
	struct pf_error err;
	const char *fields[3 + 2 * MAX_HEADERS];
	size_t nfields = 0, nh = 0;
	char *buf, *p, *end;
	uint8_t flags;

	if (size < 8)
		return 0;
	flags = data[0];
	params.time = (int64_t)((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
	                        (uint32_t)data[3] << 8 | data[4]);
	params.expires = (int64_t)((uint32_t)data[5] << 16 | (uint32_t)data[6] << 8 | data[7]);
	params.s3 = flags & 1;
	params.add_content_sha256 = flags & 2;
	params.omit_session_token = flags & 4;
	params.no_path_normalize = flags & 8;
	if (flags & 16)
		creds.session_token = TOKEN;
	if (flags & 64)
		params.service = "s3";

	/* A private NUL-terminated copy so that fields can point into it. */
	buf = pf_xmalloc(size - 8 + 1);
	memcpy(buf, data + 8, size - 8);
	buf[size - 8] = '\0';
	p = buf;
	end = buf + (size - 8);
	while (p < end && nfields < sizeof(fields) / sizeof(fields[0])) {
		size_t n = strlen(p);

		if (p + n >= end)
			break; /* no NUL after it: this is the body */
		fields[nfields++] = p;
		p += n + 1;
	}
	req.method = nfields > 0 ? fields[0] : "GET";
	req.path = nfields > 1 ? fields[1] : "/";
	req.query = nfields > 2 ? fields[2] : NULL;
	/* Most inputs should get past the Host check to reach the canonicaliser. */
	if (flags & 32)
		headers[nh++] = (struct pf_sigv4_header){"Host", "example.amazonaws.com"};
	for (size_t i = 3; i + 1 < nfields && nh < MAX_HEADERS; i += 2)
		headers[nh++] = (struct pf_sigv4_header){fields[i], fields[i + 1]};
	req.headers = headers;
	req.nheaders = nh;
	req.body = p;
	req.body_len = (size_t)(end - p);
	if (flags & 128)
		req.payload_hash = PF_SIGV4_UNSIGNED_PAYLOAD;

	for (int presign = 0; presign < 2; presign++) {
		int rc;

		pf_error_clear(&err);
		rc = presign ? pf_sigv4_presign(&req, &params, &creds, &s, &err)
		             : pf_sigv4_sign_headers(&req, &params, &creds, &s, &err);
		check(rc == 0 || rc == PF_EINVAL);
		if (rc != 0) {
			check(err.code == PF_EINVAL && err.message[0] != '\0');
			check(strstr(err.message, "FUZZSECRET") == NULL);
			check(strstr(err.message, "FUZZTOKEN") == NULL);
			check(s.canonical_request == NULL && s.query == NULL &&
			      s.nadd_headers == 0);
			continue;
		}
		check_signed(&s, presign);

		/* Same input, same signature: no hidden state. */
		check((presign ? pf_sigv4_presign(&req, &params, &creds, &again, NULL)
		               : pf_sigv4_sign_headers(&req, &params, &creds, &again, NULL)) == 0);
		check(strcmp(s.signature, again.signature) == 0);
		check(strcmp(s.canonical_request, again.canonical_request) == 0);
		pf_sigv4_signed_free(&again);

		/* S3 paths are encoded once: feeding the canonical path back in
		 * must give it back unchanged. */
		if (params.s3) {
			struct pf_sigv4_request req2 = req;
			char *path = canonical_path(&s), *path2;

			check(path[0] == '/' && only(path, "/"));
			req2.path = path;
			check((presign ? pf_sigv4_presign(&req2, &params, &creds, &again, NULL)
			               : pf_sigv4_sign_headers(&req2, &params, &creds, &again,
			                                       NULL)) == 0);
			path2 = canonical_path(&again);
			check(strcmp(path, path2) == 0);
			free(path2);
			free(path);
			pf_sigv4_signed_free(&again);
		}
		pf_sigv4_signed_free(&s);
	}

	/* The encoder on its own: only unreserved bytes and %XX come out. */
	{
		char *e = pf_codec_uri_encode((const char *)data, size, flags & 1);

		check(only(e, (flags & 1) ? "/" : ""));
		free(e);
	}

	/* The date parsers (codec.h) read only what they are given and, when
	 * they accept, give a time a four-digit year can express. */
	{
		char *text = pf_xstrndup((const char *)data, size);
		int64_t t = 0;

		if (pf_codec_parse_rfc3339((const char *)data, size, &t))
			check(t > INT64_C(-62200000000) && t < INT64_C(253402387200));
		if (pf_codec_parse_http_date(text, &t))
			check(t > INT64_C(-62200000000) && t < INT64_C(253402387200));
		free(text);
	}
	free(buf);
	return 0;
}
