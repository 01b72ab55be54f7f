/* Unit tests for console sign-in: secrets, the signed cookie, CSRF tokens,
 * the signing key's derivation, and the credential catalog items. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/catalog_credentials.h"
#include "photofinish/codec.h"
#include "photofinish/session.h"
#include "photofinish/util.h"

#include "catalog_int.h"

static const unsigned char key[PF_SESSION_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static void test_photographer_names(void **state)
{
	assert_true(pf_session_photographer_is_valid("alice"));
	assert_true(pf_session_photographer_is_valid("photographer-a"));
	assert_true(pf_session_photographer_is_valid("0_x"));
	assert_false(pf_session_photographer_is_valid(""));
	assert_false(pf_session_photographer_is_valid(NULL));
	assert_false(pf_session_photographer_is_valid("Alice"));
	assert_false(pf_session_photographer_is_valid("-a"));
	assert_false(pf_session_photographer_is_valid("a/b"));
	assert_false(pf_session_photographer_is_valid("a.b"));
	/* 40 characters at most. */
	assert_true(pf_session_photographer_is_valid("a234567890123456789012345678901234567890"));
	assert_false(pf_session_photographer_is_valid("a2345678901234567890123456789012345678901"));
}

static void test_secrets(void **state)
{
	char a[PF_SESSION_SECRET_LEN + 1], b[PF_SESSION_SECRET_LEN + 1], ha[65], hb[65];
	struct pf_error err;

	assert_int_equal(pf_session_new_secret(a, &err), 0);
	assert_int_equal(pf_session_new_secret(b, &err), 0);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(
	    strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(a, b);
	pf_session_secret_hash(a, ha);
	pf_session_secret_hash(b, hb);
	assert_int_equal(strlen(ha), 64);
	assert_true(pf_session_hash_equal(ha, ha));
	assert_false(pf_session_hash_equal(ha, hb));
	assert_false(pf_session_hash_equal(ha, "abc"));
}

static void test_cookie_round_trip(void **state)
{
	struct pf_session s = {.role = PF_SESSION_UPLOAD,
	                       .expires = 2000000000,
	                       .credential_created_ms = 1700000000123};
	struct pf_session out;
	struct pf_error err;
	unsigned char other[PF_SESSION_KEY_LEN];
	char *v;

	assert_int_equal(pf_session_new_id(&s, &err), 0);
	assert_int_equal(strlen(s.id), PF_SESSION_ID_LEN);
	snprintf(s.who, sizeof(s.who), "%s", "alice");
	snprintf(s.photographer, sizeof(s.photographer), "%s", "alice");
	v = pf_session_encode(key, &s);
	assert_true(pf_session_decode(key, v, 1900000000, &out));
	assert_string_equal(out.id, s.id);
	assert_int_equal(out.role, PF_SESSION_UPLOAD);
	assert_string_equal(out.photographer, "alice");
	assert_int_equal(out.expires, 2000000000);
	assert_int_equal(out.credential_created_ms, 1700000000123);
	/* Expired, wrong key, tampered, truncated, garbage. */
	assert_false(pf_session_decode(key, v, 2000000000, &out));
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	assert_false(pf_session_decode(other, v, 1900000000, &out));
	v[3] = v[3] == 'A' ? 'B' : 'A';
	assert_false(pf_session_decode(key, v, 1900000000, &out));
	v[strlen(v) - 2] = '\0';
	assert_false(pf_session_decode(key, v, 1900000000, &out));
	assert_false(pf_session_decode(key, "", 1900000000, &out));
	assert_false(pf_session_decode(key, ".", 1900000000, &out));
	assert_false(pf_session_decode(key, "abc.def", 1900000000, &out));
	assert_false(pf_session_decode(key, NULL, 1900000000, &out));
	free(v);
}

static void test_admin_binding(void **state)
{
	unsigned char d1[32], d2[32];
	char b1[PF_SESSION_BINDING_LEN + 1], b2[PF_SESSION_BINDING_LEN + 1];
	struct pf_session s = {.role = PF_SESSION_ADMIN, .expires = 2000000000};
	struct pf_session out;
	struct pf_error err;
	char *v;

	memset(d1, 1, sizeof(d1));
	memset(d2, 2, sizeof(d2));
	pf_session_admin_binding(key, d1, b1);
	pf_session_admin_binding(key, d2, b2);
	assert_int_equal(strlen(b1), PF_SESSION_BINDING_LEN);
	assert_string_not_equal(b1, b2); /* another secret: another binding */
	assert_int_equal(pf_session_new_id(&s, &err), 0);
	snprintf(s.who, sizeof(s.who), "%s", "ops");
	/* An admin session without a binding is not one. */
	v = pf_session_encode(key, &s);
	assert_false(pf_session_decode(key, v, 1900000000, &out));
	free(v);
	memcpy(s.binding, b1, sizeof(b1));
	v = pf_session_encode(key, &s);
	assert_true(pf_session_decode(key, v, 1900000000, &out));
	assert_int_equal(out.role, PF_SESSION_ADMIN);
	assert_string_equal(out.binding, b1);
	free(v);
}

static void test_forged_payload_with_valid_shape(void **state)
{
	/* A payload signed with the right key but of the wrong shape is refused. */
	struct pf_session s = {.role = PF_SESSION_UPLOAD, .expires = 2000000000};
	struct pf_session out;
	char *v;

	snprintf(s.id, sizeof(s.id), "%s", "x");
	snprintf(s.who, sizeof(s.who), "%s", "Bad Name");
	snprintf(s.photographer, sizeof(s.photographer), "%s", "Bad Name");
	v = pf_session_encode(key, &s);
	assert_false(pf_session_decode(key, v, 1900000000, &out));
	free(v);
}

static void test_csrf(void **state)
{
	char a[PF_SESSION_CSRF_LEN + 1], b[PF_SESSION_CSRF_LEN + 1];

	pf_session_csrf(key, "session-one", a);
	pf_session_csrf(key, "session-two", b);
	assert_int_equal(strlen(a), PF_SESSION_CSRF_LEN);
	assert_string_not_equal(a, b);
	assert_true(pf_session_csrf_is_valid(key, "session-one", a));
	assert_false(pf_session_csrf_is_valid(key, "session-two", a));
	assert_false(pf_session_csrf_is_valid(key, "session-one", NULL));
	assert_false(pf_session_csrf_is_valid(key, "session-one", "short"));
}

static void test_key_derivation(void **state)
{
	struct pf_config_admin_token t1[] = {{"ops", "secret-one-0123456789"}};
	struct pf_config_admin_token t2[] = {{"ops", "secret-two-0123456789"}};
	struct pf_config cfg = {0};
	unsigned char k1[PF_SESSION_KEY_LEN], k2[PF_SESSION_KEY_LEN], k3[PF_SESSION_KEY_LEN];

	assert_false(pf_session_key(&cfg, k1));
	cfg.admin_token_list = t1;
	cfg.nadmin_tokens = 1;
	assert_true(pf_session_key(&cfg, k1));
	assert_true(pf_session_key(&cfg, k3));
	assert_memory_equal(k1, k3, sizeof(k1)); /* every task agrees */
	cfg.admin_token_list = t2;
	assert_true(pf_session_key(&cfg, k2));
	assert_memory_not_equal(k1, k2, sizeof(k1)); /* rotating a token ends sessions */
	cfg.session_key = "an explicit session key of 32+ characters";
	assert_true(pf_session_key(&cfg, k3));
	assert_memory_not_equal(k2, k3, sizeof(k1));
}

static void test_b64url(void **state)
{
	unsigned char out[8];
	char *s = pf_codec_base64url((const unsigned char *)"\xfb\xff", 2);

	assert_string_equal(s, "-_8");
	assert_int_equal(pf_codec_base64url_decode(s, out, sizeof(out)), 2);
	assert_memory_equal(out, "\xfb\xff", 2);
	assert_int_equal(pf_codec_base64url_decode("a+b=", out, sizeof(out)), -1);
	assert_int_equal(pf_codec_base64url_decode("aaaaaaaaaaaaaaaa", out, 4), -1);
	free(s);
}

static void test_credential_item(void **state)
{
	struct pf_catalog_credential c = {.created_ms = 1000, .expires_ms = 86401000}, out;
	json_t *item;

	snprintf(c.photographer, sizeof(c.photographer), "%s", "alice");
	memset(c.hash, 'a', 64);
	snprintf(c.by, sizeof(c.by), "%s", "ops");
	item = pf_catalog_credential_item(&c);
	assert_string_equal(pf_catalog__get_s(item, "pk"), "CREDENTIAL");
	assert_string_equal(pf_catalog__get_s(item, "sk"), "alice");
	assert_int_equal(pf_catalog_credential_from_item(item, &out), 0);
	assert_string_equal(out.photographer, "alice");
	assert_string_equal(out.hash, c.hash);
	assert_int_equal(out.expires_ms, 86401000);
	assert_string_equal(out.by, "ops");
	json_object_del(item, "hash");
	assert_int_equal(pf_catalog_credential_from_item(item, &out), PF_EINVAL);
	json_decref(item);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_photographer_names),
	    cmocka_unit_test(test_secrets),
	    cmocka_unit_test(test_cookie_round_trip),
	    cmocka_unit_test(test_admin_binding),
	    cmocka_unit_test(test_forged_payload_with_valid_shape),
	    cmocka_unit_test(test_csrf),
	    cmocka_unit_test(test_key_derivation),
	    cmocka_unit_test(test_b64url),
	    cmocka_unit_test(test_credential_item),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
