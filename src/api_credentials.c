/*
 * /admin/credentials: operators create, list and revoke photographers'
 * upload credentials. A secret is shown once, in the answer that created
 * it, and never logged or stored (only its SHA-256 is). Every change is
 * audited. Loop thread only.
 */
#include "api_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/admin_audit.h"
#include "photofinish/catalog_credentials.h"
#include "photofinish/log.h"
#include "photofinish/session.h"
#include "photofinish/util.h"

#define DAY_MS (86400LL * 1000)
#define MAX_DAYS 90

static void audit(struct pf_api_request *r, const char *action, const char *photographer,
                  const struct pf_error *err)
{
	json_t *entry = pf_admin_audit_entry(pf_now_ms(), r->who, r->client, action,
	                                     err && err->code ? "failed" : "ok");

	json_object_set_new(entry, "photographer", json_string(photographer));
	if (err && err->code)
		json_object_set_new(entry, "error", json_string(err->message));
	pf_admin_audit_record(r->api->d.catalog, entry);
}

static void reply_failed(struct pf_api_request *r, const struct pf_error *err)
{
	if (err->code == PF_ENOTFOUND) {
		pf_api__reply_error(r, 404, "not_found", "no credential for this photographer");
		return;
	}
	pf_warn("credential request failed", PF_LS("route", r->route),
	        PF_LS("error", err->message));
	pf_api__reply_error(r, 503, "unavailable", "AWS could not be reached; try again");
}

static void format_ms(int64_t ms, char out[32])
{
	pf_format_rfc3339_ms(ms, out);
}

/* A created credential waiting for its write. */
struct created {
	struct pf_api_request *r;
	struct pf_catalog_credential cred;
	char secret[PF_SESSION_SECRET_LEN + 1];
};

static void on_created(const struct pf_error *err, void *arg)
{
	struct created *c = arg;
	struct pf_api_request *r = c->r;
	char at[32];

	pf_api__credentials_forget(r->api);
	audit(r, "credential.create", c->cred.photographer, err);
	if (err->code) {
		reply_failed(r, err);
	} else {
		format_ms(c->cred.expires_ms, at);
		pf_api__reply_doc(r, 201,
		                  json_pack("{s:s,s:s,s:s}", "photographer", c->cred.photographer,
		                            "secret", c->secret, "expiresAt", at));
	}
	OPENSSL_cleanse(c->secret, sizeof(c->secret));
	free(c);
}

void pf_api__post_credential(struct pf_api_request *r)
{
	json_t *doc = pf_api__read_body(r);
	const char *name = json_string_value(json_object_get(doc, "photographer"));
	const json_t *days = json_object_get(doc, "expiresInDays");
	struct created *c;
	struct pf_error err;

	if (!doc)
		return;
	if (!pf_session_photographer_is_valid(name)) {
		pf_api__reply_error(r, 400, "invalid_body",
		                    "photographer must be 1 to 40 of a-z 0-9 _ - (starting with a "
		                    "letter or digit)");
		goto out_free_doc;
	}
	if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
	             json_integer_value(days) > MAX_DAYS)) {
		pf_api__reply_error(r, 400, "invalid_body",
		                    "expiresInDays must be a whole number from 1 to 90");
		goto out_free_doc;
	}
	c = pf_xcalloc(1, sizeof(*c));
	c->r = r;
	snprintf(c->cred.photographer, sizeof(c->cred.photographer), "%s", name);
	snprintf(c->cred.by, sizeof(c->cred.by), "%s", r->who ? r->who : "-");
	c->cred.created_ms = pf_now_ms();
	c->cred.expires_ms =
	    c->cred.created_ms + (days ? (int64_t)json_integer_value(days) : 14) * DAY_MS;
	if (pf_session_new_secret(c->secret, &err) < 0) {
		free(c);
		pf_api__reply_error(r, 503, "unavailable", err.message);
		goto out_free_doc;
	}
	pf_session_secret_hash(c->secret, c->cred.hash);
	if (!pf_api__wait(r)) {
		OPENSSL_cleanse(c->secret, sizeof(c->secret));
		free(c);
		goto out_free_doc;
	}
	if (pf_catalog_credential_put(r->api->d.catalog, &c->cred, on_created, c, &err) < 0)
		on_created(&err, c);
out_free_doc:
	json_decref(doc);
}

static void on_list(struct pf_api_request *r, const struct pf_catalog_credential *list, size_t n,
                    const struct pf_error *err)
{
	int64_t now = pf_now_ms();
	json_t *rows;

	if (err->code) {
		reply_failed(r, err);
		return;
	}
	rows = json_array();
	for (size_t i = 0; i < n; i++) {
		char created[32], expires[32];

		format_ms(list[i].created_ms, created);
		format_ms(list[i].expires_ms, expires);
		json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:s,s:b}", "photographer",
		                                      list[i].photographer, "createdAt", created,
		                                      "expiresAt", expires, "by", list[i].by,
		                                      "expired", list[i].expires_ms <= now));
	}
	pf_api__reply_doc(r, 200, json_pack("{s:o}", "credentials", rows));
}

void pf_api__get_credentials(struct pf_api_request *r)
{
	if (pf_api__wait(r))
		pf_api__credentials(r, 0, on_list);
}

static void on_revoked(const struct pf_error *err, void *arg)
{
	struct pf_api_request *r = arg;

	pf_api__credentials_forget(r->api);
	audit(r, "credential.revoke", r->photographer, err);
	if (err->code)
		reply_failed(r, err);
	else
		pf_api__reply_doc(
		    r, 200, json_pack("{s:s,s:b}", "photographer", r->photographer, "revoked", 1));
}

void pf_api__delete_credential(struct pf_api_request *r)
{
	struct pf_error err;

	if (!pf_route_param(&r->params, "photographer", r->photographer, sizeof(r->photographer)) ||
	    !pf_session_photographer_is_valid(r->photographer)) {
		pf_api__reply_error(r, 404, "not_found", "no credential for this photographer");
		return;
	}
	if (!pf_api__wait(r))
		return;
	if (pf_catalog_credential_delete(r->api->d.catalog, r->photographer, on_revoked, r, &err) <
	    0)
		on_revoked(&err, r);
}
