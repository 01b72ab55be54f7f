# MediaIngress -> queue wiring, the queue policy, the dead-letter queue, the
# buckets' protections and the catalog table.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  race_id    = "spring-10k"
  region     = "eu-west-1"
  image_tag  = "v1"
  create_vpc = true
}

run "ingress_notifications_reach_the_queue" {
  command = plan

  assert {
    condition     = aws_s3_bucket_notification.ingress.bucket == aws_s3_bucket.ingress.id
    error_message = "The notification must be configured on MediaIngress."
  }
  assert {
    condition     = length(aws_s3_bucket_notification.ingress.queue) == 1
    error_message = "Exactly one queue notification is expected."
  }
  assert {
    condition     = one(aws_s3_bucket_notification.ingress.queue).queue_arn == "arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest"
    error_message = "Notifications must go to the ingest queue."
  }
  assert {
    condition     = toset(one(aws_s3_bucket_notification.ingress.queue).events) == toset(["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    error_message = "Both s3:ObjectCreated:* and s3:ObjectRemoved:* must be sent, and nothing else."
  }
  assert {
    condition     = one(aws_s3_bucket_notification.ingress.queue).filter_prefix == null
    error_message = "Without ingress_prefix the whole bucket is watched."
  }
  assert {
    condition     = length(aws_s3_bucket_notification.ingress.topic) == 0 && length(aws_s3_bucket_notification.ingress.lambda_function) == 0
    error_message = "Only the queue receives notifications."
  }
}

run "queue_policy_admits_exactly_the_ingress_bucket" {
  command = plan

  assert {
    condition     = aws_sqs_queue_policy.ingest.queue_url == aws_sqs_queue.ingest.id
    error_message = "The policy must be attached to the ingest queue."
  }
  assert {
    condition     = length(jsondecode(aws_sqs_queue_policy.ingest.policy).Statement) == 1
    error_message = "The queue policy must have exactly one statement."
  }
  assert {
    condition = jsondecode(aws_sqs_queue_policy.ingest.policy).Statement[0] == {
      Sid       = "AllowMediaIngressNotifications"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest"
      Condition = {
        ArnEquals    = { "aws:SourceArn" = "arn:aws:s3:::pf-spring-10k-ingress-123456789012" }
        StringEquals = { "aws:SourceAccount" = "123456789012" }
      }
    }
    error_message = "S3 may send to the queue only on behalf of the MediaIngress bucket (aws:SourceArn) of this account."
  }
}

run "dead_letter_queue_after_five_receives" {
  command = plan

  assert {
    condition     = jsondecode(aws_sqs_queue.ingest.redrive_policy).maxReceiveCount == 5
    error_message = "maxReceiveCount must be 5."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.ingest.redrive_policy).deadLetterTargetArn == aws_sqs_queue.dlq.arn
    error_message = "The redrive target must be the DLQ."
  }
  assert {
    condition     = aws_sqs_queue.ingest.visibility_timeout_seconds == 120 && aws_sqs_queue.ingest.receive_wait_time_seconds == 20
    error_message = "Ingest queue: visibility 120 s and 20 s long polling by default."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_allow_policy.dlq.redrive_allow_policy).sourceQueueArns == [aws_sqs_queue.ingest.arn]
    error_message = "Only the ingest queue may use the DLQ."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_depth.dimensions.QueueName == aws_sqs_queue.dlq.name && aws_cloudwatch_metric_alarm.dlq_depth.metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.dlq_depth.threshold == 0
    error_message = "An alarm must fire as soon as the DLQ holds a message."
  }
}

run "buckets_are_private_encrypted_and_clean_up_uploads" {
  command = plan

  assert {
    condition = alltrue([for b in aws_s3_bucket_public_access_block.this :
    b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets])
    error_message = "Public access must be blocked on both buckets."
  }
  assert {
    condition     = toset(keys(aws_s3_bucket_public_access_block.this)) == toset(["ingress", "processed"])
    error_message = "Both buckets need a public access block."
  }
  assert {
    condition = alltrue([for c in aws_s3_bucket_server_side_encryption_configuration.this :
    one(one(c.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"])
    error_message = "Both buckets must be encrypted (SSE-S3)."
  }
  assert {
    condition = alltrue([for l in aws_s3_bucket_lifecycle_configuration.this :
    one(one(l.rule).abort_incomplete_multipart_upload).days_after_initiation == 7])
    error_message = "Incomplete multipart uploads must be aborted."
  }
  assert {
    condition = alltrue([for k, p in aws_s3_bucket_policy.this :
    jsondecode(p.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false" && jsondecode(p.policy).Statement[0].Effect == "Deny"])
    error_message = "Both buckets must refuse plain HTTP."
  }
  assert {
    condition     = !aws_s3_bucket.ingress.force_destroy && !aws_s3_bucket.processed.force_destroy
    error_message = "Buckets must not be force-destroyable by default."
  }
}

run "ingress_prefix_filters_notifications" {
  command = plan

  variables {
    ingress_prefix = "uploads/"
  }

  assert {
    condition     = one(aws_s3_bucket_notification.ingress.queue).filter_prefix == "uploads/"
    error_message = "ingress_prefix must filter the notifications."
  }
  assert {
    condition     = local.daemon_environment.PHOTOFINISH_INGRESS_PREFIX == "uploads/"
    error_message = "ingress_prefix must reach the daemon."
  }
}

run "catalog_table" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.metadata.hash_key == "pk" && aws_dynamodb_table.metadata.range_key == "sk"
    error_message = "The table is keyed by pk (hash) and sk (range)."
  }
  assert {
    condition     = toset([for a in aws_dynamodb_table.metadata.attribute : "${a.name}:${a.type}"]) == toset(["pk:S", "sk:S"])
    error_message = "pk and sk must be strings, and no other attribute is declared."
  }
  assert {
    condition     = aws_dynamodb_table.metadata.billing_mode == "PAY_PER_REQUEST"
    error_message = "The table must be on-demand."
  }
  assert {
    condition     = one(aws_dynamodb_table.metadata.point_in_time_recovery).enabled
    error_message = "Point-in-time recovery must be on."
  }
  assert {
    condition     = aws_dynamodb_table.metadata.deletion_protection_enabled
    error_message = "Deletion protection is on by default."
  }
  assert {
    condition     = one(aws_dynamodb_table.metadata.ttl).enabled && one(aws_dynamodb_table.metadata.ttl).attribute_name == "expiresAt"
    error_message = "Admin job records expire through TTL on expiresAt."
  }
}

run "deletion_protection_can_be_lifted" {
  command = plan

  variables {
    deletion_protection = false
    force_destroy       = true
  }

  assert {
    condition     = !aws_dynamodb_table.metadata.deletion_protection_enabled
    error_message = "deletion_protection = false must reach the table."
  }
  assert {
    condition     = aws_s3_bucket.ingress.force_destroy && aws_s3_bucket.processed.force_destroy && alltrue([for r in aws_ecr_repository.this : r.force_delete])
    error_message = "force_destroy must reach the buckets and repositories."
  }
}
