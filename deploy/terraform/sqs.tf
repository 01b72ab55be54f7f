# Ingest queue fed by MediaIngress notifications, and its dead-letter queue.
# SSE-SQS (SQS-managed keys) is compatible with S3 notifications; a KMS key
# would need a key policy for S3.

resource "aws_sqs_queue" "dlq" {
  name                      = local.dlq_name
  message_retention_seconds = 1209600 # 14 days, the maximum, to leave time to look
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "ingest" {
  name                       = local.queue_name
  visibility_timeout_seconds = var.queue_visibility_timeout
  receive_wait_time_seconds  = 20     # long polling
  message_retention_seconds  = 345600 # 4 days
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.ingest.arn]
  })
}

locals {
  ingest_queue_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowMediaIngressNotifications"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.ingest.arn
      Condition = {
        ArnEquals    = { "aws:SourceArn" = aws_s3_bucket.ingress.arn }
        StringEquals = { "aws:SourceAccount" = local.account_id }
      }
    }]
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  queue_url = aws_sqs_queue.ingest.id
  policy    = jsonencode(local.ingest_queue_policy)
}
