/*
 * Named admin tokens, compared in constant time. Pure; any thread.
 */
#include "photofinish/admin_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "photofinish/util.h"

#define DIGEST_LEN 32

struct token {
	char *name;
	unsigned char digest[DIGEST_LEN];
};

struct pf_admin_auth {
	struct token *tokens;
	size_t n;
};

static void sha256(const char *s, size_t n, unsigned char out[DIGEST_LEN])
{
	unsigned int len = DIGEST_LEN;

	EVP_Digest(s, n, out, &len, EVP_sha256(), NULL);
}

void pf_admin_auth_new(const struct pf_config *cfg, struct pf_admin_auth **out)
{
	struct pf_admin_auth *auth = pf_xcalloc(1, sizeof(*auth));

	auth->n = cfg->nadmin_tokens;
	auth->tokens = pf_xcalloc(auth->n ? auth->n : 1, sizeof(*auth->tokens));
	for (size_t i = 0; i < auth->n; i++) {
		const struct pf_config_admin_token *t = &cfg->admin_token_list[i];

		auth->tokens[i].name = pf_xstrdup(t->name);
		sha256(t->secret, strlen(t->secret), auth->tokens[i].digest);
	}
	*out = auth;
}

void pf_admin_auth_free(struct pf_admin_auth *auth)
{
	if (!auth)
		return;
	for (size_t i = 0; i < auth->n; i++)
		free(auth->tokens[i].name);
	free(auth->tokens);
	free(auth);
}

bool pf_admin_auth_is_enabled(const struct pf_admin_auth *auth)
{
	return auth && auth->n > 0;
}

const char *pf_admin_auth_check(const struct pf_admin_auth *auth, const char *authorization)
{
	unsigned char digest[DIGEST_LEN];
	size_t found = SIZE_MAX;
	const char *secret;

	if (!auth || !authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	secret = authorization + 7;
	while (*secret == ' ')
		secret++;
	sha256(secret, strlen(secret), digest);
	/* Every token is compared whatever matched before: the time taken does
	 * not depend on which one (if any) matched. Secrets are distinct, so at
	 * most one matches. */
	for (size_t i = 0; i < auth->n; i++) {
		size_t match = (size_t)0 - (size_t)(CRYPTO_memcmp(digest, auth->tokens[i].digest,
		                                                  DIGEST_LEN) == 0);

		found = (found & ~match) | (i & match);
	}
	OPENSSL_cleanse(digest, sizeof(digest));
	return found == SIZE_MAX ? NULL : auth->tokens[found].name;
}

bool pf_admin_auth_digest(const struct pf_admin_auth *auth, const char *name, unsigned char out[32])
{
	for (size_t i = 0; auth && name && i < auth->n; i++) {
		if (!strcmp(auth->tokens[i].name, name)) {
			memcpy(out, auth->tokens[i].digest, DIGEST_LEN);
			return true;
		}
	}
	return false;
}
