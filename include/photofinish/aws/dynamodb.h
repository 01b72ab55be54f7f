/*
 * DynamoDB operations over the AWS transport (JSON protocol: POST /,
 * X-Amz-Target: DynamoDB_20120810.<Op>, application/x-amz-json-1.0).
 * Requests are jansson values (build them with json_pack; expression values
 * always through ExpressionAttributeValues, never pasted into expressions).
 * pf_dynamodb_call sends any operation; the typed helpers add TableName,
 * pagination, UnprocessedItems retries and cancellation reasons.
 *
 * Loop thread only; callbacks follow the transport's async contract.
 * Errors map as: ConditionalCheckFailedException and a TransactWriteItems
 * cancelled by a ConditionalCheckFailed reason → PF_ECONFLICT;
 * ResourceNotFoundException → PF_ENOTFOUND; others PF_EAWS with the code.
 */
#ifndef PHOTOFINISH_AWS_DYNAMODB_H
#define PHOTOFINISH_AWS_DYNAMODB_H

#include <jansson.h>
#include <stddef.h>

#include "photofinish/error.h"

struct pf_aws;

/* On success response is the parsed response object; on an AWS error it is
 * the parsed error document (e.g. with CancellationReasons) or NULL. It is
 * borrowed for the callback (json_incref to keep). */
typedef void (*pf_dynamodb_cb)(json_t *response, const struct pf_error *err, void *arg);

/* Sends operation op ("PutItem", ...) with request as the body. request is
 * stolen (decref'd even on error). */
int pf_dynamodb_call(struct pf_aws *aws, const char *op, json_t *request, pf_dynamodb_cb cb,
                     void *arg, struct pf_error *err);

/* In the typed helpers `extra` (stolen, may be NULL) is an object merged
 * into the request: ConditionExpression, ExpressionAttributeNames/Values,
 * ReturnValues, ProjectionExpression, ConsistentRead, ... */

/* item stolen. cb's response is the PutItem response. */
int pf_dynamodb_put_item(struct pf_aws *aws, const char *table, json_t *item, json_t *extra,
                         pf_dynamodb_cb cb, void *arg, struct pf_error *err);

/* key stolen. cb's response is the Item object, or NULL with err->code == 0
 * when there is no such item. */
int pf_dynamodb_get_item(struct pf_aws *aws, const char *table, json_t *key, json_t *extra,
                         pf_dynamodb_cb cb, void *arg, struct pf_error *err);

/* key stolen; update_expression required (values in extra). */
int pf_dynamodb_update_item(struct pf_aws *aws, const char *table, json_t *key,
                            const char *update_expression, json_t *extra, pf_dynamodb_cb cb,
                            void *arg, struct pf_error *err);

int pf_dynamodb_delete_item(struct pf_aws *aws, const char *table, json_t *key, json_t *extra,
                            pf_dynamodb_cb cb, void *arg, struct pf_error *err);

/* One Query or Scan page: Items (array, borrowed) and LastEvaluatedKey
 * (NULL on the last page; pass it back as exclusive_start_key). page is the
 * whole response (Count, ScannedCount, ...). On error items is NULL. */
typedef void (*pf_dynamodb_page_cb)(json_t *items, json_t *last_evaluated_key, json_t *page,
                                    const struct pf_error *err, void *arg);

/* params (stolen) holds KeyConditionExpression, ExpressionAttributeValues,
 * Limit, ScanIndexForward, ...; exclusive_start_key (borrowed, may be NULL)
 * continues after a previous page. */
int pf_dynamodb_query(struct pf_aws *aws, const char *table, json_t *params,
                      json_t *exclusive_start_key, pf_dynamodb_page_cb cb, void *arg,
                      struct pf_error *err);
int pf_dynamodb_scan(struct pf_aws *aws, const char *table, json_t *params,
                     json_t *exclusive_start_key, pf_dynamodb_page_cb cb, void *arg,
                     struct pf_error *err);

/* Every page, followed until LastEvaluatedKey is absent or max_items items
 * were collected (0: no limit). cb runs once with all items (array,
 * borrowed) and last_evaluated_key set when max_items cut it short; page
 * is a summary object {"Pages": n, "Count": n}. */
int pf_dynamodb_query_all(struct pf_aws *aws, const char *table, json_t *params, size_t max_items,
                          pf_dynamodb_page_cb cb, void *arg, struct pf_error *err);
int pf_dynamodb_scan_all(struct pf_aws *aws, const char *table, json_t *params, size_t max_items,
                         pf_dynamodb_page_cb cb, void *arg, struct pf_error *err);

/* BatchWriteItem for any number of requests: request_items (stolen) is the
 * RequestItems map {"table": [{"PutRequest": {...}} | {"DeleteRequest":
 * {...}}, ...]}. Sent in chunks of 25; UnprocessedItems are resent with
 * backoff (up to 8 rounds per chunk). cb's response is NULL when everything
 * was written; otherwise err is PF_EAWS (retryable) and response holds the
 * still unprocessed RequestItems map. */
int pf_dynamodb_batch_write(struct pf_aws *aws, json_t *request_items, pf_dynamodb_cb cb, void *arg,
                            struct pf_error *err);

/* TransactWriteItems: transact_items (stolen) is the TransactItems array;
 * extra as above (ClientRequestToken, ...). On TransactionCanceledException
 * err is PF_ECONFLICT when a reason is ConditionalCheckFailed (else
 * PF_EAWS), err->message lists the reasons, and response is the error
 * document with CancellationReasons. */
int pf_dynamodb_transact_write(struct pf_aws *aws, json_t *transact_items, json_t *extra,
                               pf_dynamodb_cb cb, void *arg, struct pf_error *err);

#endif
