/*
 * Console sign-in, pure: photographer credential secrets (32 random bytes,
 * base64url, kept only as their SHA-256), and the stateless session cookie.
 *
 * A session is a signed cookie value, base64url(JSON) "." base64url(HMAC-
 * SHA256(key, JSON)): who, role, photographer, expiry, a random session id
 * and, for an upload session, the creation time of the credential it was
 * opened with (so replacing or revoking that credential ends it). Nothing
 * is stored server-side, so every task of a race accepts every session as
 * long as they share the key: PHOTOFINISH_SESSION_KEY, or when it is unset
 * a key derived from the configured admin token secrets (rotating a token
 * then ends every session) through a deliberately slow PBKDF2, because any
 * photographer holds a cookie and its MAC to test guesses of them offline. The CSRF token is
 * HMAC(key, "csrf" + session id). Any thread; no I/O but the random generator.
 */
#ifndef PHOTOFINISH_SESSION_H
#define PHOTOFINISH_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/config.h"
#include "photofinish/error.h"

#define PF_SESSION_KEY_LEN 32
/* base64url of 32 bytes without padding. */
#define PF_SESSION_SECRET_LEN 43
#define PF_SESSION_CSRF_LEN 43
#define PF_SESSION_ID_LEN 22
/* PBKDF2-HMAC-SHA256 rounds when the key is derived from admin tokens. */
#define PF_SESSION_KDF_ROUNDS 200000
/* An admin session's binding to the secret that opened it (base64url of 16 bytes). */
#define PF_SESSION_BINDING_LEN 22
/* Longest cookie value accepted. */
#define PF_SESSION_MAX_COOKIE 1024
/* Twelve hours: the cookie's Max-Age at most. */
#define PF_SESSION_MAX_SECONDS 43200
#define PF_SESSION_NAME_MAX 64
#define PF_PHOTOGRAPHER_MAX 40

enum pf_session_role { PF_SESSION_ADMIN = 1, PF_SESSION_UPLOAD = 2 };

struct pf_session {
	char id[PF_SESSION_ID_LEN + 1];
	enum pf_session_role role;
	char who[PF_SESSION_NAME_MAX + 1];
	char photographer[PF_PHOTOGRAPHER_MAX + 1]; /* upload sessions; "" for admin */
	int64_t expires;                            /* epoch seconds */
	int64_t credential_created_ms;              /* upload sessions */
	/* Admin sessions: pf_session_admin_binding of the token's secret, so a
	 * session ends when its token's secret is replaced, not only removed. */
	char binding[PF_SESSION_BINDING_LEN + 1];
};

/* Whether name is a photographer name: [a-z0-9][a-z0-9_-]{0,39}. */
bool pf_session_photographer_is_valid(const char *name);

/* The binding of an admin session to its token's secret, from the SHA-256
 * digest of that secret (pf_admin_auth_digest). */
void pf_session_admin_binding(const unsigned char key[PF_SESSION_KEY_LEN],
                              const unsigned char secret_digest[32],
                              char out[PF_SESSION_BINDING_LEN + 1]);

/* A new credential secret (43 characters of base64url and a NUL).
 * PF_EIO when the random generator fails. */
int pf_session_new_secret(char out[PF_SESSION_SECRET_LEN + 1], struct pf_error *err);
/* Hex SHA-256 of a secret: what is stored instead of it. */
void pf_session_secret_hash(const char *secret, char out[65]);
/* Constant-time comparison of two hex digests (any length: false when the
 * lengths differ). */
bool pf_session_hash_equal(const char *a, const char *b);

/* The signing key: PHOTOFINISH_SESSION_KEY when set, else derived from the
 * admin token secrets (HMAC-SHA256 over them in configuration order).
 * false when there is neither: sessions are off. */
bool pf_session_key(const struct pf_config *cfg, unsigned char key[PF_SESSION_KEY_LEN]);

/* Fills s->id with a fresh random id. PF_EIO when randomness fails. */
int pf_session_new_id(struct pf_session *s, struct pf_error *err);

/* The cookie value for s (new string). */
char *pf_session_encode(const unsigned char key[PF_SESSION_KEY_LEN], const struct pf_session *s);
/* Parses and verifies a cookie value; false when it is malformed, forged or
 * expired at now (epoch seconds). */
bool pf_session_decode(const unsigned char key[PF_SESSION_KEY_LEN], const char *value, int64_t now,
                       struct pf_session *out);

/* The CSRF token of a session id. */
void pf_session_csrf(const unsigned char key[PF_SESSION_KEY_LEN], const char *id,
                     char out[PF_SESSION_CSRF_LEN + 1]);
/* Whether given is the CSRF token of id (constant time). */
bool pf_session_csrf_is_valid(const unsigned char key[PF_SESSION_KEY_LEN], const char *id,
                              const char *given);

#endif
