/*
 * The audit trail: a log line and a catalog entry per admin action. Loop
 * thread only.
 */
#include "photofinish/admin_audit.h"

#include <stdlib.h>

#include "photofinish/catalog_admin.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

json_t *pf_admin_audit_entry(int64_t now_ms, const char *who, const char *client,
                             const char *action, const char *outcome)
{
	char at[32];

	pf_format_rfc3339_ms(now_ms, at);
	return json_pack("{s:s,s:s,s:s?,s:s,s:s}", "at", at, "who", who ? who : "-", "client",
	                 client, "action", action, "outcome", outcome);
}

static const char *field(const json_t *entry, const char *name)
{
	return json_string_value(json_object_get(entry, name));
}

static void on_stored(const struct pf_error *err, void *arg)
{
	char *text = arg;

	if (err->code)
		pf_warn("audit entry not stored; the log line is the record",
		        PF_LS("error", err->message), PF_LJ("entry", text));
	free(text);
}

void pf_admin_audit_record(struct pf_catalog *cat, json_t *entry)
{
	char *codes = json_object_get(entry, "codes")
	                  ? json_dumps(json_object_get(entry, "codes"), JSON_COMPACT)
	                  : NULL;
	const json_t *count = json_object_get(entry, "count");
	char *text = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
	struct pf_error err;
	int64_t at_ms = pf_now_ms();

	pf_info("admin action", PF_LS("who", field(entry, "who")),
	        PF_LS("client", field(entry, "client")), PF_LS("action", field(entry, "action")),
	        PF_LS("outcome", field(entry, "outcome")), PF_LS("photo", field(entry, "photo")),
	        PF_LS("key", field(entry, "key")), PF_LJ("codes", codes ? codes : "null"),
	        PF_LS("prefix", field(entry, "prefix")), PF_LS("job", field(entry, "job")),
	        PF_LS("code", field(entry, "code")),
	        PF_LS("photographer", field(entry, "photographer")),
	        PF_LI("count", json_is_integer(count) ? json_integer_value(count) : -1),
	        PF_LS("error", field(entry, "error")));
	free(codes);
	if (!text || pf_catalog_audit_add(cat, at_ms, text, on_stored, text, &err) < 0) {
		pf_warn("audit entry not stored; the log line is the record",
		        PF_LS("error", text ? err.message : "cannot serialise the entry"));
		free(text);
	}
	json_decref(entry);
}
