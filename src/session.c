/*
 * Console sign-in, pure: credential secrets and their digests, the signed
 * session cookie and its CSRF token. Any thread.
 */
#include "photofinish/session.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

#define MAC_LEN 32
/* Bytes of a session's JSON at most (names are short). */
#define MAX_PAYLOAD 512

bool pf_session_photographer_is_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 1 || n > PF_PHOTOGRAPHER_MAX)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int pf_session_new_secret(char out[PF_SESSION_SECRET_LEN + 1], struct pf_error *err)
{
	unsigned char raw[32];
	char *s;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return pf_error_set(err, PF_EIO, "no randomness for a credential");
	s = pf_codec_base64url(raw, sizeof(raw));
	OPENSSL_cleanse(raw, sizeof(raw));
	memcpy(out, s, PF_SESSION_SECRET_LEN + 1);
	OPENSSL_cleanse(s, strlen(s));
	free(s);
	return 0;
}

void pf_session_secret_hash(const char *secret, char out[65])
{
	pf_codec_sha256_hex(secret, strlen(secret), out);
}

bool pf_session_hash_equal(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

static void hmac(const unsigned char key[PF_SESSION_KEY_LEN], const void *data, size_t n,
                 unsigned char out[MAC_LEN])
{
	unsigned int len = MAC_LEN;

	HMAC(EVP_sha256(), key, PF_SESSION_KEY_LEN, data, n, out, &len);
}

bool pf_session_key(const struct pf_config *cfg, unsigned char key[PF_SESSION_KEY_LEN])
{
	static const unsigned char label[] = "photofinish session key v1";
	unsigned int len = PF_SESSION_KEY_LEN;
	struct pf_buf b;

	if (cfg->session_key) {
		/* Any length of key text: its HMAC under a fixed label is the key. */
		HMAC(EVP_sha256(), cfg->session_key, (int)strlen(cfg->session_key), label,
		     sizeof(label) - 1, key, &len);
		return true;
	}
	if (cfg->nadmin_tokens == 0)
		return false;
	pf_buf_init(&b);
	for (size_t i = 0; i < cfg->nadmin_tokens; i++) {
		const char *s = cfg->admin_token_list[i].secret;

		/* Length-prefixed so that no two token lists give one key. */
		pf_buf_appendf(&b, "%zu:", strlen(s));
		pf_buf_append_str(&b, s);
	}
	/* Slow on purpose: an admin token may be a phrase a person chose, and
	 * every signed-in photographer can test guesses of it offline against
	 * their own cookie's MAC. Once per process start. */
	PKCS5_PBKDF2_HMAC(b.data, (int)b.len, label, sizeof(label) - 1, PF_SESSION_KDF_ROUNDS,
	                  EVP_sha256(), PF_SESSION_KEY_LEN, key);
	OPENSSL_cleanse(b.data, b.len);
	pf_buf_free(&b);
	return true;
}

void pf_session_admin_binding(const unsigned char key[PF_SESSION_KEY_LEN],
                              const unsigned char secret_digest[32],
                              char out[PF_SESSION_BINDING_LEN + 1])
{
	unsigned char text[5 + 32], mac[MAC_LEN];
	char *s;

	memcpy(text, "admin", 5);
	memcpy(text + 5, secret_digest, 32);
	hmac(key, text, sizeof(text), mac);
	s = pf_codec_base64url(mac, 16);
	memcpy(out, s, PF_SESSION_BINDING_LEN + 1);
	free(s);
}

int pf_session_new_id(struct pf_session *s, struct pf_error *err)
{
	unsigned char raw[16];
	char *id;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return pf_error_set(err, PF_EIO, "no randomness for a session");
	id = pf_codec_base64url(raw, sizeof(raw));
	snprintf(s->id, sizeof(s->id), "%s", id);
	free(id);
	return 0;
}

char *pf_session_encode(const unsigned char key[PF_SESSION_KEY_LEN], const struct pf_session *s)
{
	json_t *doc = json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "v", 1, "sid", s->id, "role",
	                        s->role == PF_SESSION_ADMIN ? "admin" : "upload", "who", s->who,
	                        "ph", s->photographer, "exp", (json_int_t)s->expires, "cc",
	                        (json_int_t)s->credential_created_ms, "tb", s->binding);
	char *payload = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char mac[MAC_LEN];
	char *p64, *m64, *out;

	json_decref(doc);
	hmac(key, payload, strlen(payload), mac);
	p64 = pf_codec_base64url((const unsigned char *)payload, strlen(payload));
	m64 = pf_codec_base64url(mac, sizeof(mac));
	out = pf_xasprintf("%s.%s", p64, m64);
	free(payload);
	free(p64);
	free(m64);
	return out;
}

static bool copy_field(const json_t *doc, const char *name, char *out, size_t cap)
{
	const char *v = json_string_value(json_object_get(doc, name));

	if (!v || strlen(v) >= cap)
		return false;
	memcpy(out, v, strlen(v) + 1);
	return true;
}

bool pf_session_decode(const unsigned char key[PF_SESSION_KEY_LEN], const char *value, int64_t now,
                       struct pf_session *out)
{
	unsigned char payload[MAX_PAYLOAD + 1], mac[MAC_LEN + 2], want[MAC_LEN];
	char p64[PF_SESSION_MAX_COOKIE + 1];
	const char *dot;
	int plen, mlen;
	json_t *doc = NULL;
	const char *role;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (!value || strlen(value) > PF_SESSION_MAX_COOKIE)
		return false;
	dot = strchr(value, '.');
	if (!dot || (size_t)(dot - value) >= sizeof(p64))
		return false;
	memcpy(p64, value, (size_t)(dot - value));
	p64[dot - value] = '\0';
	plen = pf_codec_base64url_decode(p64, payload, MAX_PAYLOAD);
	mlen = pf_codec_base64url_decode(dot + 1, mac, sizeof(mac));
	if (plen <= 0 || mlen != MAC_LEN)
		return false;
	/* The signature first: nothing of a forged payload is parsed. */
	hmac(key, payload, (size_t)plen, want);
	if (CRYPTO_memcmp(want, mac, MAC_LEN) != 0)
		return false;
	doc = json_loadb((const char *)payload, (size_t)plen, 0, NULL);
	role = json_string_value(json_object_get(doc, "role"));
	if (!json_is_object(doc) || json_integer_value(json_object_get(doc, "v")) != 1 || !role ||
	    !copy_field(doc, "sid", out->id, sizeof(out->id)) ||
	    !copy_field(doc, "who", out->who, sizeof(out->who)) ||
	    !copy_field(doc, "ph", out->photographer, sizeof(out->photographer)) ||
	    !copy_field(doc, "tb", out->binding, sizeof(out->binding)) ||
	    !json_is_integer(json_object_get(doc, "exp")))
		goto out_free_doc;
	out->role = !strcmp(role, "admin")    ? PF_SESSION_ADMIN
	            : !strcmp(role, "upload") ? PF_SESSION_UPLOAD
	                                      : 0;
	out->expires = json_integer_value(json_object_get(doc, "exp"));
	out->credential_created_ms = json_integer_value(json_object_get(doc, "cc"));
	ok = out->role != 0 && out->expires > now &&
	     (out->role == PF_SESSION_ADMIN ? strlen(out->binding) == PF_SESSION_BINDING_LEN
	                                    : pf_session_photographer_is_valid(out->photographer));
out_free_doc:
	json_decref(doc);
	if (!ok)
		memset(out, 0, sizeof(*out));
	return ok;
}

void pf_session_csrf(const unsigned char key[PF_SESSION_KEY_LEN], const char *id,
                     char out[PF_SESSION_CSRF_LEN + 1])
{
	unsigned char mac[MAC_LEN];
	char *text = pf_xasprintf("csrf%s", id);
	char *s;

	hmac(key, text, strlen(text), mac);
	s = pf_codec_base64url(mac, sizeof(mac));
	memcpy(out, s, PF_SESSION_CSRF_LEN + 1);
	free(s);
	free(text);
}

bool pf_session_csrf_is_valid(const unsigned char key[PF_SESSION_KEY_LEN], const char *id,
                              const char *given)
{
	char want[PF_SESSION_CSRF_LEN + 1];

	if (!given || strlen(given) != PF_SESSION_CSRF_LEN)
		return false;
	pf_session_csrf(key, id, want);
	return CRYPTO_memcmp(want, given, PF_SESSION_CSRF_LEN) == 0;
}
