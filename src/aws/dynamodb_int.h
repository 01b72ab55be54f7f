/*
 * Private to src/aws: DynamoDB's pure error reading (dynamodb.c), shared
 * with the unit tests and the fuzz targets. Any thread.
 */
#ifndef PHOTOFINISH_SRC_AWS_DYNAMODB_INT_H
#define PHOTOFINISH_SRC_AWS_DYNAMODB_INT_H

#include <jansson.h>

#include "photofinish/error.h"

/* TransactionCanceledException document → err (PF_ECONFLICT when a reason
 * is ConditionalCheckFailed, message listing the reasons). */
void pf_dynamodb__cancellation_error(json_t *doc, struct pf_error *err);

#endif
