/*
 * Photographers' upload credentials in the race's table:
 *
 *   pk          sk              item
 *   CREDENTIAL  <photographer>  hash (hex SHA-256 of the secret), createdMs,
 *                               expiresMs, by, expiresAt (TTL, seconds)
 *
 * A clear deletes photo items only; these stay. Loop thread for the
 * operations; the item helpers are pure.
 */
#include "photofinish/catalog_credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/dynamodb.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

#include "catalog_int.h"

#define PK "CREDENTIAL"

static bool get_n(const json_t *item, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(json_object_get(item, name), "N");

	return json_is_string(v) && pf_parse_int64(json_string_value(v), INT64_MIN, INT64_MAX, out);
}

static bool copy(const char *v, char *out, size_t cap)
{
	if (!v || strlen(v) >= cap)
		return false;
	memcpy(out, v, strlen(v) + 1);
	return true;
}

json_t *pf_catalog_credential_item(const struct pf_catalog_credential *c)
{
	json_t *item = pf_catalog__key(PK, c->photographer);

	pf_catalog__set_s(item, "hash", c->hash);
	pf_catalog__set_n(item, "createdMs", c->created_ms);
	pf_catalog__set_n(item, "expiresMs", c->expires_ms);
	pf_catalog__set_s(item, "by", c->by);
	/* DynamoDB's TTL removes it some time after it expired. */
	pf_catalog__set_n(item, "expiresAt", c->expires_ms / 1000 + 1);
	return item;
}

int pf_catalog_credential_from_item(const json_t *item, struct pf_catalog_credential *out)
{
	const char *hash = pf_catalog__get_s(item, "hash");

	memset(out, 0, sizeof(*out));
	if (!copy(pf_catalog__get_s(item, "sk"), out->photographer, sizeof(out->photographer)) ||
	    !hash || strlen(hash) != 64 || !copy(hash, out->hash, sizeof(out->hash)) ||
	    !get_n(item, "createdMs", &out->created_ms) ||
	    !get_n(item, "expiresMs", &out->expires_ms))
		return PF_EINVAL;
	if (!copy(pf_catalog__get_s(item, "by"), out->by, sizeof(out->by)))
		snprintf(out->by, sizeof(out->by), "-");
	return 0;
}

struct ctx {
	pf_catalog_done_cb done;
	pf_catalog_credentials_cb list;
	void *arg;
};

static struct ctx *ctx_new(void *arg)
{
	struct ctx *c = pf_xcalloc(1, sizeof(*c));

	c->arg = arg;
	return c;
}

static void on_done(json_t *response, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;

	c->done(err, c->arg);
	free(c);
}

int pf_catalog_credential_put(struct pf_catalog *cat, const struct pf_catalog_credential *cred,
                              pf_catalog_done_cb cb, void *arg, struct pf_error *err)
{
	struct ctx *c;
	int rc;

	if (!*cred->photographer || strlen(cred->hash) != 64)
		return pf_error_set(err, PF_EINVAL, "not a credential");
	c = ctx_new(arg);
	c->done = cb;
	rc = pf_dynamodb_put_item(pf_catalog__aws(cat), pf_catalog__table(cat),
	                          pf_catalog_credential_item(cred), NULL, on_done, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_list(json_t *items, json_t *last_evaluated_key, json_t *page,
                    const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_catalog_credential *list;
	size_t n = 0, i;
	json_t *item;

	if (err->code) {
		c->list(NULL, 0, err, c->arg);
		free(c);
		return;
	}
	/* Credentials past the cap cannot sign in: an operator must hear of it. */
	if (last_evaluated_key && !json_is_null(last_evaluated_key))
		pf_warn("more photographers' credentials than are read; those past the first "
		        "cannot sign in: revoke unused ones",
		        PF_LI("read", (int64_t)json_array_size(items)));
	list = pf_xcalloc(json_array_size(items) + 1, sizeof(*list));
	json_array_foreach(items, i, item)
	{
		/* A malformed record is left out rather than hiding the others. */
		if (pf_catalog_credential_from_item(item, &list[n]) == 0)
			n++;
	}
	c->list(list, n, err, c->arg);
	free(list);
	free(c);
}

int pf_catalog_credential_list(struct pf_catalog *cat, pf_catalog_credentials_cb cb, void *arg,
                               struct pf_error *err)
{
	struct ctx *c = ctx_new(arg);
	int rc;

	c->list = cb;
	rc = pf_dynamodb_query_all(pf_catalog__aws(cat), pf_catalog__table(cat),
	                           json_pack("{s:s,s:{s:{s:s}},s:b}", "KeyConditionExpression",
	                                     "pk = :pk", "ExpressionAttributeValues", ":pk", "S",
	                                     PK, "ConsistentRead", 1),
	                           PF_CATALOG_MAX_CREDENTIALS, on_list, c, err);
	if (rc < 0)
		free(c);
	return rc;
}

static void on_deleted(json_t *response, const struct pf_error *err, void *arg)
{
	struct ctx *c = arg;
	struct pf_error e;

	if (!err->code && !json_object_get(response, "Attributes")) {
		pf_error_set(&e, PF_ENOTFOUND, "no credential for this photographer");
		c->done(&e, c->arg);
	} else {
		c->done(err, c->arg);
	}
	free(c);
}

int pf_catalog_credential_delete(struct pf_catalog *cat, const char *photographer,
                                 pf_catalog_done_cb cb, void *arg, struct pf_error *err)
{
	struct ctx *c = ctx_new(arg);
	int rc;

	c->done = cb;
	rc = pf_dynamodb_delete_item(
	    pf_catalog__aws(cat), pf_catalog__table(cat), pf_catalog__key(PK, photographer),
	    json_pack("{s:s}", "ReturnValues", "ALL_OLD"), on_deleted, c, err);
	if (rc < 0)
		free(c);
	return rc;
}
