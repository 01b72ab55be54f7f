/*
 * Runners' claims in the catalog's table (layout in catalog_claims.h): the
 * claim item and its listing entry in its state's queue, always changed
 * together in one transaction. Loop thread for the operations; the helpers
 * are pure.
 */
#include "photofinish/catalog_claims.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/dynamodb.h"
#include "photofinish/util.h"

#include "catalog_int.h"

static const char *const state_names[] = {
    [PF_CLAIM_PENDING] = "pending",
    [PF_CLAIM_APPROVED] = "approved",
    [PF_CLAIM_REJECTED] = "rejected",
};

const char *pf_catalog_claim_state_name(enum pf_claim_state s)
{
	return state_names[s];
}

bool pf_catalog_claim_state_parse(const char *name, enum pf_claim_state *out)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
		if (name && !strcmp(name, state_names[i])) {
			*out = (enum pf_claim_state)i;
			return true;
		}
	}
	return false;
}

void pf_catalog_claim_id(const char *photo, const char *code, char out[PF_CATALOG_CLAIM_ID_LEN + 1])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *text = pf_xasprintf("claim\n%s\n%s", photo, code);

	EVP_Digest(text, strlen(text), digest, &len, EVP_sha256(), NULL);
	free(text);
	for (int i = 0; i < PF_CATALOG_CLAIM_ID_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static char *claim_pk(const char *id)
{
	return pf_xasprintf("CLAIM#%s", id);
}

static char *queue_pk(enum pf_claim_state s)
{
	return pf_xasprintf("CLAIMS#%s", state_names[s]);
}

static char *queue_sk(const struct pf_catalog_claim *c)
{
	return pf_xasprintf("%s#%s", c->at, c->id);
}

static void set_fields(json_t *item, const struct pf_catalog_claim *c)
{
	pf_catalog__set_s(item, "id", c->id);
	pf_catalog__set_s(item, "photo", c->photo);
	pf_catalog__set_s(item, "code", c->code);
	pf_catalog__set_s(item, "state", state_names[c->state]);
	pf_catalog__set_s(item, "at", c->at);
}

static json_t *claim_item(const struct pf_catalog_claim *c)
{
	char *pk = claim_pk(c->id);
	json_t *item = pf_catalog__key(pk, "CLAIM");

	free(pk);
	set_fields(item, c);
	return item;
}

static json_t *queue_item(const struct pf_catalog_claim *c)
{
	char *pk = queue_pk(c->state), *sk = queue_sk(c);
	json_t *item = pf_catalog__key(pk, sk);

	free(pk);
	free(sk);
	set_fields(item, c);
	return item;
}

static bool copy_field(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size)
		return false;
	memcpy(dst, src, strlen(src) + 1);
	return true;
}

static bool claim_from_item(const json_t *item, struct pf_catalog_claim *out)
{
	memset(out, 0, sizeof(*out));
	return copy_field(out->id, sizeof(out->id), pf_catalog__get_s(item, "id")) &&
	       copy_field(out->photo, sizeof(out->photo), pf_catalog__get_s(item, "photo")) &&
	       copy_field(out->code, sizeof(out->code), pf_catalog__get_s(item, "code")) &&
	       copy_field(out->at, sizeof(out->at), pf_catalog__get_s(item, "at")) &&
	       pf_catalog_claim_state_parse(pf_catalog__get_s(item, "state"), &out->state);
}

struct ctx {
	struct pf_catalog *cat;
	struct pf_catalog_claim claim;
	pf_catalog_claim_cb cb;
	pf_catalog_claims_cb list;
	void *arg;
	int limit;
};

static void on_got(json_t *item, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_catalog_claim claim;

	if (err->code || !item) {
		c->cb(NULL, false, err, c->arg);
	} else if (!claim_from_item(item, &claim)) {
		struct pf_error e;

		pf_error_set(&e, PF_EINVAL, "the claim record is malformed");
		c->cb(NULL, false, &e, c->arg);
	} else {
		c->cb(&claim, false, err, c->arg);
	}
	free(c);
}

static int get_claim(struct ctx *c, const char *id, struct pf_error *err)
{
	char *pk = claim_pk(id);
	int rc = pf_dynamodb_get_item(pf_catalog__aws(c->cat), pf_catalog__table(c->cat),
	                              pf_catalog__key(pk, "CLAIM"),
	                              json_pack("{s:b}", "ConsistentRead", 1), on_got, c, err);

	free(pk);
	return rc;
}

int pf_catalog_claim_get(struct pf_catalog *cat, const char *id, pf_catalog_claim_cb cb, void *arg,
                         struct pf_error *err)
{
	struct ctx *c;
	int rc;

	if (strlen(id) != PF_CATALOG_CLAIM_ID_LEN || !pf_catalog_id_is_valid(id))
		return pf_error_set(err, PF_ENOTFOUND, "no such claim");
	c = pf_xcalloc(1, sizeof(*c));
	c->cat = cat;
	c->cb = cb;
	c->arg = arg;
	rc = get_claim(c, id, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_added(json_t *response, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_error e;

	if (err->code == PF_ECONFLICT) {
		/* Claimed before: answer that claim, whatever became of it. */
		if (get_claim(c, c->claim.id, &e) < 0) {
			c->cb(NULL, false, &e, c->arg);
			free(c);
		}
		return;
	}
	c->cb(err->code ? NULL : &c->claim, !err->code, err, c->arg);
	free(c);
}

int pf_catalog_claim_add(struct pf_catalog *cat, const char *photo, const char *code, int64_t at_ms,
                         pf_catalog_claim_cb cb, void *arg, struct pf_error *err)
{
	struct ctx *c;
	json_t *items;
	int rc;

	if (!pf_catalog_id_is_valid(photo) || !*code || strlen(code) > 64)
		return pf_error_set(err, PF_EINVAL, "a claim names a photo id and a code");
	c = pf_xcalloc(1, sizeof(*c));
	c->cat = cat;
	c->cb = cb;
	c->arg = arg;
	pf_catalog_claim_id(photo, code, c->claim.id);
	memcpy(c->claim.photo, photo, PF_CATALOG_ID_LEN + 1);
	memcpy(c->claim.code, code, strlen(code) + 1);
	c->claim.state = PF_CLAIM_PENDING;
	pf_format_rfc3339_ms(at_ms, c->claim.at);
	items = json_pack("[{s:{s:s,s:o,s:s}},{s:{s:s,s:o}}]", "Put", "TableName",
	                  pf_catalog__table(cat), "Item", claim_item(&c->claim),
	                  "ConditionExpression", "attribute_not_exists(pk)", "Put", "TableName",
	                  pf_catalog__table(cat), "Item", queue_item(&c->claim));
	rc = pf_dynamodb_transact_write(pf_catalog__aws(cat), items, NULL, on_added, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_decided(json_t *response, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;

	if (err->code == PF_ECONFLICT) {
		struct pf_error e;

		pf_error_set(&e, PF_ECONFLICT, "the claim was decided meanwhile");
		c->cb(NULL, false, &e, c->arg);
	} else {
		c->cb(err->code ? NULL : &c->claim, false, err, c->arg);
	}
	free(c);
}

int pf_catalog_claim_decide(struct pf_catalog *cat, const struct pf_catalog_claim *claim,
                            enum pf_claim_state state, pf_catalog_claim_cb cb, void *arg,
                            struct pf_error *err)
{
	struct ctx *c;
	json_t *items;
	char *old_pk, *old_sk;
	int rc;

	if (claim->state != PF_CLAIM_PENDING || state == PF_CLAIM_PENDING)
		return pf_error_set(err, PF_ECONFLICT, "only a pending claim can be decided");
	c = pf_xcalloc(1, sizeof(*c));
	c->cat = cat;
	c->cb = cb;
	c->arg = arg;
	c->claim = *claim;
	c->claim.state = state;
	old_pk = queue_pk(PF_CLAIM_PENDING);
	old_sk = queue_sk(claim);
	items =
	    json_pack("[{s:{s:s,s:o,s:s,s:{s:s},s:{s:{s:s}}}},{s:{s:s,s:o}},{s:{s:s,s:o}}]", "Put",
	              "TableName", pf_catalog__table(cat), "Item", claim_item(&c->claim),
	              "ConditionExpression", "#s = :pending", "ExpressionAttributeNames", "#s",
	              "state", "ExpressionAttributeValues", ":pending", "S", "pending", "Delete",
	              "TableName", pf_catalog__table(cat), "Key", pf_catalog__key(old_pk, old_sk),
	              "Put", "TableName", pf_catalog__table(cat), "Item", queue_item(&c->claim));
	free(old_pk);
	free(old_sk);
	rc = pf_dynamodb_transact_write(pf_catalog__aws(cat), items, NULL, on_decided, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_claims_page(json_t *items, json_t *last_evaluated_key, json_t *page,
                           const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_catalog_claim *claims;
	size_t n = 0, i;
	json_t *item;
	char *cursor = NULL;
	const char *last_sk = NULL;

	if (err->code) {
		c->list(NULL, 0, NULL, err, c->arg);
		free(c);
		return;
	}
	claims = pf_xcalloc(json_array_size(items) + 1, sizeof(*claims));
	json_array_foreach(items, i, item)
	{
		/* One more than asked says whether another page exists. */
		if (i == (size_t)c->limit)
			break;
		last_sk = pf_catalog__get_s(item, "sk");
		if (claim_from_item(item, &claims[n]))
			n++;
	}
	if (json_array_size(items) > (size_t)c->limit && last_sk)
		cursor = pf_catalog_cursor_encode(last_sk);
	c->list(claims, n, cursor, err, c->arg);
	free(cursor);
	free(claims);
	free(c);
}

int pf_catalog_claims_list(struct pf_catalog *cat, enum pf_claim_state state, int limit,
                           const char *cursor, pf_catalog_claims_cb cb, void *arg,
                           struct pf_error *err)
{
	char *pk;
	json_t *start = NULL;
	struct ctx *c;
	int rc;

	if (limit < 1 || limit > PF_CATALOG_MAX_CLAIMS_PAGE)
		return pf_error_set(err, PF_EINVAL, "limit must be 1 to %d",
		                    PF_CATALOG_MAX_CLAIMS_PAGE);
	pk = queue_pk(state);
	if (cursor) {
		char *sk = pf_catalog_cursor_decode(cursor);

		if (!sk) {
			free(pk);
			return pf_error_set(err, PF_EINVAL, "cursor is malformed");
		}
		start = pf_catalog__key(pk, sk);
		free(sk);
	}
	c = pf_xcalloc(1, sizeof(*c));
	c->cat = cat;
	c->list = cb;
	c->arg = arg;
	c->limit = limit;
	rc = pf_dynamodb_query(pf_catalog__aws(cat), pf_catalog__table(cat),
	                       json_pack("{s:s,s:{s:{s:s}},s:i,s:b}", "KeyConditionExpression",
	                                 "pk = :pk", "ExpressionAttributeValues", ":pk", "S", pk,
	                                 "Limit", limit + 1, "ScanIndexForward", 0),
	                       start, on_claims_page, c, err);
	json_decref(start);
	free(pk);
	if (rc < 0)
		free(c);
	return rc;
}
