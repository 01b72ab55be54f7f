/*
 * Private to src/aws: SQS's pure response parsers (sqs.c), shared with the
 * unit tests and the fuzz targets. Any thread.
 */
#ifndef PHOTOFINISH_SRC_AWS_SQS_INT_H
#define PHOTOFINISH_SRC_AWS_SQS_INT_H

#include <jansson.h>
#include <stddef.h>

#include "photofinish/aws/sqs.h"
#include "photofinish/error.h"

/* ReceiveMessage response → messages (caller frees with messages_free). */
int pf_sqs__parse_messages(const char *body, size_t len, struct pf_sqs_message **msgs, size_t *n,
                           struct pf_error *err);
void pf_sqs__messages_free(struct pf_sqs_message *msgs, size_t n);

/* A *Batch response's Successful/Failed lists, matched to the request's
 * ids (in order). The result borrows strings from *doc (caller decrefs). */
int pf_sqs__parse_batch(const char *body, size_t len, const char *const *ids, size_t n,
                        json_t **doc, struct pf_sqs_batch_result *res, struct pf_error *err);

#endif
