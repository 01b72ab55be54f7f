/*
 * S3 event notifications: parsing and formatting. Pure; any thread.
 * Everything in a body is outside input: sizes and counts are bounded and
 * every field is type-checked.
 */
#include "photofinish/events.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

static bool is_valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			len = 3;
		else if (c >= 0xF0 && c <= 0xF4)
			len = 4;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		}
		i += len;
	}
	return true;
}

char *pf_events_decode_key(const char *encoded)
{
	size_t n = strlen(encoded);
	char *out = pf_xmalloc(n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = encoded[i];

		if (c == '+') {
			out[o++] = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				goto fail;
			hi = pf_codec_hex_digit(encoded[i + 1]);
			lo = pf_codec_hex_digit(encoded[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto fail;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	if (o == 0 || o > 1024 || !is_valid_utf8((const unsigned char *)out, o))
		goto fail;
	return out;
fail:
	free(out);
	return NULL;
}

static char *pad_sequencer(const char *seq)
{
	size_t n = seq ? strlen(seq) : 0;
	char *out;

	if (n == 0)
		return pf_xstrdup("");
	if (n > PF_EVENTS_SEQUENCER_LEN)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (pf_codec_hex_digit(seq[i]) < 0)
			return NULL;
	}
	out = pf_xmalloc(PF_EVENTS_SEQUENCER_LEN + 1);
	memset(out, '0', PF_EVENTS_SEQUENCER_LEN - n);
	for (size_t i = 0; i < n; i++) {
		char c = seq[i];

		out[PF_EVENTS_SEQUENCER_LEN - n + i] = (c >= 'a' && c <= 'f') ? (char)(c - 32) : c;
	}
	out[PF_EVENTS_SEQUENCER_LEN] = '\0';
	return out;
}

int pf_events_sequencer_cmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static void event_free(struct pf_object_event *e)
{
	free(e->bucket);
	free(e->key);
	free(e->etag);
	free(e->sequencer);
	free(e->event_time);
	free(e->event_name);
	memset(e, 0, sizeof(*e));
}

void pf_event_list_free(struct pf_event_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->count; i++)
		event_free(&list->events[i]);
	free(list->events);
	list->events = NULL;
	list->count = 0;
}

char *pf_events_bare_etag(const char *etag)
{
	size_t n = etag ? strlen(etag) : 0;

	if (!etag)
		return NULL;
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
		etag++;
		n -= 2;
	}
	return pf_xstrndup(etag, n > 128 ? 128 : n);
}

static const char *str_field(const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static struct pf_object_event *push(struct pf_event_list *list)
{
	struct pf_object_event *e;

	list->events = pf_xrealloc(list->events, (list->count + 1) * sizeof(*list->events));
	e = &list->events[list->count++];
	memset(e, 0, sizeof(*e));
	e->size = -1;
	return e;
}

static int fill_common(struct pf_object_event *e, const char *bucket, const char *key_decoded,
                       const json_t *object, const char *what, struct pf_error *err)
{
	const json_t *size = json_object_get(object, "size");
	const char *etag = str_field(object, "eTag");
	const char *seq = str_field(object, "sequencer");

	e->key = (char *)key_decoded; /* owned by e from here, also on error */
	if (!bucket || !*bucket || strlen(bucket) > 63)
		return pf_error_set(err, PF_EINVAL, "%s has no valid bucket name", what);
	e->bucket = pf_xstrdup(bucket);
	if (json_is_integer(size) && json_integer_value(size) >= 0)
		e->size = json_integer_value(size);
	if (!etag)
		etag = str_field(object, "etag");
	if (etag && *etag)
		e->etag = pf_events_bare_etag(etag);
	e->sequencer = pad_sequencer(seq);
	if (!e->sequencer)
		return pf_error_set(err, PF_EINVAL, "%s has a malformed sequencer", what);
	return 0;
}

/* A direct S3 notification: {"Records":[{"eventSource":"aws:s3",...}]}. */
static int parse_s3_records(const json_t *records, struct pf_event_list *out, struct pf_error *err)
{
	size_t i;
	const json_t *rec;

	if (json_array_size(records) == 0)
		return pf_error_set(err, PF_EINVAL, "Records is empty");
	if (json_array_size(records) > PF_EVENTS_MAX_RECORDS)
		return pf_error_set(err, PF_ETOOBIG, "more than %d records in one message",
		                    PF_EVENTS_MAX_RECORDS);
	json_array_foreach(records, i, rec)
	{
		const char *name = str_field(rec, "eventName");
		const char *source = str_field(rec, "eventSource");
		const json_t *s3 = json_object_get(rec, "s3");
		const json_t *bucket = json_object_get(s3, "bucket");
		const json_t *object = json_object_get(s3, "object");
		const char *key = str_field(object, "key");
		struct pf_object_event *e;
		char *decoded;
		int rc;

		if (!json_is_object(rec) || !name || !json_is_object(s3) || !json_is_object(object))
			return pf_error_set(
			    err, PF_EINVAL,
			    "record %zu is not an S3 event (eventName, s3.object missing)", i);
		if (source && strcmp(source, "aws:s3") != 0)
			return pf_error_set(err, PF_EINVAL, "record %zu has eventSource %.64s", i,
			                    source);
		if (!key)
			return pf_error_set(err, PF_EINVAL, "record %zu has no s3.object.key", i);
		decoded = pf_events_decode_key(key);
		if (!decoded)
			return pf_error_set(err, PF_EINVAL,
			                    "record %zu has a malformed URL-encoded key", i);
		e = push(out);
		if (!strncmp(name, "ObjectCreated:", 14))
			e->kind = PF_EVENT_CREATED;
		else if (!strncmp(name, "ObjectRemoved:", 14))
			e->kind = PF_EVENT_REMOVED;
		else {
			free(decoded);
			return pf_error_set(err, PF_EINVAL,
			                    "record %zu has unsupported eventName %.64s", i, name);
		}
		e->event_name = pf_xstrndup(name, strlen(name) > 64 ? 64 : strlen(name));
		e->force =
		    json_is_true(json_object_get(json_object_get(rec, "photofinish"), "reprocess"));
		if (str_field(rec, "eventTime"))
			e->event_time = pf_xstrndup(str_field(rec, "eventTime"), 40);
		rc = fill_common(e, str_field(bucket, "name"), decoded, object, "record", err);
		if (rc)
			return rc;
	}
	return 0;
}

/* EventBridge: {"detail-type":"Object Created","source":"aws.s3","detail":{...}}.
 * Keys in EventBridge events are not URL-encoded. */
static int parse_eventbridge(const json_t *root, struct pf_event_list *out, struct pf_error *err)
{
	const char *type = str_field(root, "detail-type");
	const json_t *detail = json_object_get(root, "detail");
	const json_t *object = json_object_get(detail, "object");
	const char *key = str_field(object, "key");
	struct pf_object_event *e;
	size_t klen;

	if (!json_is_object(detail) || !json_is_object(object) || !key)
		return pf_error_set(err, PF_EINVAL, "EventBridge event without detail.object.key");
	klen = strlen(key);
	if (klen == 0 || klen > 1024 || !is_valid_utf8((const unsigned char *)key, klen))
		return pf_error_set(err, PF_EINVAL, "EventBridge event with an invalid key");
	e = push(out);
	if (!strcmp(type, "Object Created"))
		e->kind = PF_EVENT_CREATED;
	else if (!strcmp(type, "Object Deleted"))
		e->kind = PF_EVENT_REMOVED;
	else
		return pf_error_set(err, PF_EINVAL, "unsupported EventBridge detail-type %.64s",
		                    type);
	e->event_name = pf_xstrdup(type);
	if (str_field(root, "time"))
		e->event_time = pf_xstrndup(str_field(root, "time"), 40);
	return fill_common(e, str_field(json_object_get(detail, "bucket"), "name"), pf_xstrdup(key),
	                   object, "EventBridge event", err);
}

static int parse_root(const json_t *root, int depth, struct pf_event_list *out,
                      struct pf_error *err)
{
	const json_t *records;
	const char *event, *type, *message;

	if (!json_is_object(root))
		return pf_error_set(err, PF_EINVAL, "message body is not a JSON object");

	records = json_object_get(root, "Records");
	if (json_is_array(records)) {
		/* SNS delivers {"Records":[{"EventSource":"aws:sns","Sns":{"Message":"..."}}]}
		 * when the queue is subscribed through Lambda-style envelopes. */
		const json_t *first = json_array_get(records, 0);
		const json_t *sns = json_object_get(first, "Sns");

		if (json_is_object(sns) && depth == 0 && json_array_size(records) == 1)
			return parse_root(sns, depth + 1, out, err);
		return parse_s3_records(records, out, err);
	}

	event = str_field(root, "Event");
	if (event && !strcmp(event, "s3:TestEvent")) {
		struct pf_object_event *e = push(out);

		e->kind = PF_EVENT_TEST;
		return 0;
	}

	type = str_field(root, "Type");
	message = str_field(root, "Message");
	/* depth 1: the Sns object of an SNS-in-Records envelope. */
	if (type && !strcmp(type, "Notification") && message && depth <= 1) {
		json_error_t jerr;
		json_t *inner = json_loadb(message, strlen(message), JSON_REJECT_DUPLICATES, &jerr);
		int rc;

		if (!inner)
			return pf_error_set(err, PF_EINVAL,
			                    "SNS envelope's Message is not JSON (%.100s)",
			                    jerr.text);
		rc = parse_root(inner, depth + 1, out, err);
		json_decref(inner);
		return rc;
	}

	if (str_field(root, "detail-type") && json_is_object(json_object_get(root, "detail")))
		return parse_eventbridge(root, out, err);

	return pf_error_set(err, PF_EINVAL,
	                    "message is neither an S3 event, an SNS envelope nor an EventBridge "
	                    "event");
}

int pf_events_parse(const char *body, size_t len, struct pf_event_list *out, struct pf_error *err)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	out->events = NULL;
	out->count = 0;
	if (len > PF_EVENTS_MAX_BODY)
		return pf_error_set(err, PF_ETOOBIG, "message body is %zu bytes (limit %d)", len,
		                    PF_EVENTS_MAX_BODY);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return pf_error_set(err, PF_EINVAL, "message body is not JSON: %.100s at %d:%d",
		                    jerr.text, jerr.line, jerr.column);
	rc = parse_root(root, 0, out, err);
	json_decref(root);
	if (rc)
		pf_event_list_free(out);
	return rc;
}

char *pf_events_format(const struct pf_object_event *ev)
{
	char *enc = pf_codec_uri_encode(ev->key, strlen(ev->key), true);
	json_t *object = json_pack("{s:s}", "key", enc);
	json_t *rec, *root;
	char *body;

	if (ev->size >= 0)
		json_object_set_new(object, "size", json_integer(ev->size));
	if (ev->etag)
		json_object_set_new(object, "eTag", json_string(ev->etag));
	if (ev->sequencer && *ev->sequencer)
		json_object_set_new(object, "sequencer", json_string(ev->sequencer));
	rec = json_pack("{s:s,s:s,s:s,s:{s:s,s:{s:s},s:o}}", "eventVersion", "2.1", "eventSource",
	                "aws:s3", "eventName",
	                ev->event_name                 ? ev->event_name
	                : ev->kind == PF_EVENT_REMOVED ? "ObjectRemoved:Delete"
	                                               : "ObjectCreated:Put",
	                "s3", "s3SchemaVersion", "1.0", "bucket", "name", ev->bucket, "object",
	                object);
	if (ev->event_time)
		json_object_set_new(rec, "eventTime", json_string(ev->event_time));
	if (ev->force)
		json_object_set_new(rec, "photofinish", json_pack("{s:b}", "reprocess", 1));
	root = json_pack("{s:[o]}", "Records", rec);
	body = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	free(enc);
	return body;
}
