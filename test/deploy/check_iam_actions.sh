#!/usr/bin/env bash
# Every DynamoDB and SQS operation photofinishd sends is granted to its task
# role in deploy/terraform/iam.tf. The local stack checks no IAM, so an
# operation the role may not make would fail only in production.
# Operations are read from the sources: the DynamoDB client's helpers and
# direct pf_dynamodb_call()s, the SQS client's requests. IAM names a batch
# SQS request by its single action (DeleteMessageBatch: sqs:DeleteMessage),
# and TransactWriteItems by each item's own (PutItem, UpdateItem, ...).
#   check_iam_actions.sh [repository root]
# EXTRA_OPS="dynamodb:Foo" adds operations (to see a missing grant reported).
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}

dynamodb=$(grep -ohE '(helper|paged|op_new|pf_dynamodb_call)\([^"]*"[A-Z][A-Za-z]+"' "$root"/src/*.c "$root"/src/aws/dynamodb.c |
	grep -oE '"[A-Za-z]+"$' | tr -d '"' | grep -vx TransactWriteItems | sort -u)
sqs=$( {
	grep -ohE 'sqs_send\(aws, "[A-Za-z]+"' "$root/src/aws/sqs.c" | grep -oE '"[A-Za-z]+"$'
	grep -ohE '"[A-Z][A-Za-z]+Batch"' "$root/src/aws/sqs.c"
} | tr -d '"' | sed 's/Batch$//' | sort -u)

if [ "$(echo "$dynamodb" | wc -w)" -lt 5 ] || [ "$(echo "$sqs" | wc -w)" -lt 3 ]; then
	echo "check_iam_actions: found too few operations in src/ (dynamodb: $(echo $dynamodb), sqs: $(echo $sqs)); has the AWS client changed shape?"
	exit 2
fi

# The daemon task role's statements, nothing else of iam.tf.
policy=$(sed -n '/daemon_task_statements = concat(/,/daemon_task_policy = {/p' "$root/deploy/terraform/iam.tf")
missing=0
for action in $(printf 'dynamodb:%s\n' $dynamodb) $(printf 'sqs:%s\n' $sqs) ${EXTRA_OPS:-}; do
	if ! grep -qF "\"$action\"" <<<"$policy"; then
		echo "check_iam_actions: photofinishd sends $action, which the daemon task role (deploy/terraform/iam.tf) does not grant"
		missing=1
	fi
done
[ $missing -eq 0 ] && echo "check_iam_actions: $(echo $dynamodb $sqs | wc -w) operations, all granted: $(echo $dynamodb | sed 's/[^ ]*/dynamodb:&/g') $(echo $sqs | sed 's/[^ ]*/sqs:&/g')"
exit $missing
