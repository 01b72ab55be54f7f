/*
 * S3 event notifications as they reach the queue, both ways: parses an SQS
 * message body (a direct S3 event, an SNS envelope around one, or an
 * EventBridge "Object Created"/"Object Deleted" event) into a list of
 * object events, and formats an object event as the direct S3 event S3
 * itself would send (for requests the daemon queues, like reprocessing).
 * Pure: JSON text in, events out and back; any thread.
 */
#ifndef PHOTOFINISH_EVENTS_H
#define PHOTOFINISH_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

/* The largest SQS message body (256 KiB); longer bodies are refused. */
#define PF_EVENTS_MAX_BODY (256 * 1024)
/* S3 sends one record per message today; this bounds what a sender can make us do. */
#define PF_EVENTS_MAX_RECORDS 100

enum pf_event_kind {
	PF_EVENT_CREATED,
	PF_EVENT_REMOVED,
	PF_EVENT_TEST /* s3:TestEvent: nothing to do */
};

struct pf_object_event {
	enum pf_event_kind kind;
	char *bucket;
	char *key;        /* decoded (S3 events carry keys URL-encoded with '+' for space) */
	int64_t size;     /* -1 when unknown (removals) */
	char *etag;       /* without quotes; NULL when unknown */
	char *sequencer;  /* left-padded with zeros to PF_EVENTS_SEQUENCER_LEN; "" when absent */
	char *event_time; /* RFC 3339 as sent, or NULL */
	char *event_name; /* e.g. "ObjectCreated:Put" */
	/* Set by the admin reprocess job ("photofinish":{"reprocess":true} in
	 * the record): process again even when the catalog has this version. */
	bool force;
};

#define PF_EVENTS_SEQUENCER_LEN 32

struct pf_event_list {
	struct pf_object_event *events;
	size_t count;
};

/* Parses body. Returns 0 with the events (possibly only a TEST event), or
 * PF_EINVAL / PF_ETOOBIG with a message saying what is wrong with it. */
int pf_events_parse(const char *body, size_t len, struct pf_event_list *out, struct pf_error *err);

void pf_event_list_free(struct pf_event_list *list);

/* The message body of a direct S3 notification with one record for ev
 * (kind created or removed; key decoded, etag without quotes; NULL/"" fields
 * are left out), which pf_events_parse reads back as ev. New string. */
char *pf_events_format(const struct pf_object_event *ev);

/* An ETag without its surrounding quotes (S3 sends them quoted in headers
 * and listings, bare in events), at most 128 characters. NULL for NULL. */
char *pf_events_bare_etag(const char *etag);

/* Decodes an S3 event key: '+' is a space, %XX a byte. Returns NULL when
 * the encoding is malformed or decodes to a NUL byte or invalid UTF-8. */
char *pf_events_decode_key(const char *encoded);

/* Compares two padded sequencers: <0, 0, >0. */
int pf_events_sequencer_cmp(const char *a, const char *b);

#endif
