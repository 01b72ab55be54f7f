/*
 * SQS operations over the AWS transport (JSON protocol: POST /,
 * X-Amz-Target: AmazonSQS.<Op>, application/x-amz-json-1.0):
 * ReceiveMessage (long poll), DeleteMessageBatch, ChangeMessageVisibility
 * (+Batch), SendMessageBatch, GetQueueAttributes.
 *
 * Loop thread only; callbacks follow the transport's async contract.
 * Batch calls report partial failures per entry: err->code == 0 means the
 * call worked, and each entry says whether it did.
 */
#ifndef PHOTOFINISH_AWS_SQS_H
#define PHOTOFINISH_AWS_SQS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

struct pf_aws;

/* SQS's per-call limit on batch entries and received messages. */
#define PF_SQS_MAX_BATCH 10

struct pf_sqs_message {
	char *message_id;
	char *receipt_handle;
	char *body;
	char *md5_of_body;
	int receive_count;          /* ApproximateReceiveCount, 0 when absent */
	int64_t sent_timestamp;     /* SentTimestamp, ms since the epoch, 0 when absent */
	json_t *attributes;         /* all system attributes (object of strings), never NULL */
	json_t *message_attributes; /* MessageAttributes as sent by SQS, or NULL */
};

/* Per-call overrides of the client's transport settings; 0 means the
 * client's (pf_aws_options). */
struct pf_sqs_call_options {
	long timeout_ms;  /* each attempt, transfer included */
	int max_attempts; /* 1 disables retries */
};

struct pf_sqs_receive_options {
	int max_messages;       /* 1..10; 0: 10 */
	int wait_seconds;       /* long poll 0..20 */
	int visibility_timeout; /* seconds; < 0: the queue's default */
};

/* msgs valid during the callback; it may take any char * (set it NULL) or
 * json_incref an attribute object. msgs is NULL and n 0 when err->code != 0. */
typedef void (*pf_sqs_receive_cb)(struct pf_sqs_message *msgs, size_t n, const struct pf_error *err,
                                  void *arg);
int pf_sqs_receive_message(struct pf_aws *aws, const char *queue_url,
                           const struct pf_sqs_receive_options *opts, pf_sqs_receive_cb cb,
                           void *arg, struct pf_error *err);

/* One batch entry's input (ids unique within the batch, [A-Za-z0-9_-]{1,80}). */
struct pf_sqs_batch_entry {
	const char *id;
	const char *receipt_handle; /* Delete/ChangeMessageVisibility */
	int visibility_timeout;     /* ChangeMessageVisibilityBatch */
	const char *body;           /* SendMessageBatch */
	int delay_seconds;          /* SendMessageBatch, 0..900 */
};

/* One batch entry's outcome, in the order of the input entries. */
struct pf_sqs_batch_entry_result {
	const char *id;
	bool ok;
	const char *code;       /* failure code, NULL when ok */
	const char *message;    /* failure message, NULL when ok */
	bool sender_fault;      /* failure caused by the request (not worth retrying) */
	const char *message_id; /* SendMessageBatch success */
};

struct pf_sqs_batch_result {
	struct pf_sqs_batch_entry_result *entries;
	size_t n;
	size_t nfailed;
};

/* res is NULL when err->code != 0 (the whole call failed). */
typedef void (*pf_sqs_batch_cb)(const struct pf_sqs_batch_result *res, const struct pf_error *err,
                                void *arg);

/* 1..10 entries (copied). */
int pf_sqs_delete_message_batch(struct pf_aws *aws, const char *queue_url,
                                const struct pf_sqs_batch_entry *entries, size_t n,
                                pf_sqs_batch_cb cb, void *arg, struct pf_error *err);
int pf_sqs_change_message_visibility_batch(struct pf_aws *aws, const char *queue_url,
                                           const struct pf_sqs_batch_entry *entries, size_t n,
                                           pf_sqs_batch_cb cb, void *arg, struct pf_error *err);
int pf_sqs_send_message_batch(struct pf_aws *aws, const char *queue_url,
                              const struct pf_sqs_batch_entry *entries, size_t n,
                              pf_sqs_batch_cb cb, void *arg, struct pf_error *err);

typedef void (*pf_sqs_done_cb)(const struct pf_error *err, void *arg);

/* visibility_timeout 0..43200 seconds (0 releases the message now). */
int pf_sqs_change_message_visibility(struct pf_aws *aws, const char *queue_url,
                                     const char *receipt_handle, int visibility_timeout,
                                     pf_sqs_done_cb cb, void *arg, struct pf_error *err);

/* attributes: object of attribute name → string value, borrowed for the
 * callback (json_incref to keep); NULL when err->code != 0. */
typedef void (*pf_sqs_attributes_cb)(json_t *attributes, const struct pf_error *err, void *arg);

/* names: attribute names (e.g. "ApproximateNumberOfMessages"), or NULL/0
 * for "All". call may be NULL (the client's timeout and attempts). */
int pf_sqs_get_queue_attributes(struct pf_aws *aws, const char *queue_url, const char *const *names,
                                size_t nnames, const struct pf_sqs_call_options *call,
                                pf_sqs_attributes_cb cb, void *arg, struct pf_error *err);

#endif
