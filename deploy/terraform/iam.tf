# Roles of the two services.
#   execution role   used by ECS itself: pull the two images, write the two log
#                    groups, read the admin token secret.
#   daemon task role what photofinishd may do, and nothing else:
#                    - MediaIngress: read objects (+ list, for reprocessing a race;
#                      + delete, for an operator deleting a photo or resetting a race;
#                      with upload_cidrs, + put, list parts and abort under the
#                      ingress prefix: it signs the photographers' uploads)
#                    - ProcessedMedia: write, delete and read objects (reads sign
#                      the presigned URLs handed to browsers)
#                    - its queue: receive, delete, extend visibility, read
#                      attributes (+ send, for reprocessing)
#                    - its table: item reads/writes, Query, Scan, BatchGetItem,
#                      BatchWriteItem.
#                      TransactWriteItems has no IAM action of its own: each
#                      Put/Update/Delete/ConditionCheck inside it is authorised as
#                      PutItem/UpdateItem/DeleteItem/ConditionCheckItem.
#   gallery task role no AWS permissions at all (enforced: no inline or managed
#                    policies may be attached).
# Policies are built with jsonencode so the offline tests can read the exact
# statements.

locals {
  ecs_trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:*" }
      }
    }]
  }

  execution_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # GetAuthorizationToken supports no resource-level permissions.
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        Sid      = "EcrPull"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = sort([for r in aws_ecr_repository.this : r.arn])
      },
      {
        Sid      = "Logs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = sort([for g in aws_cloudwatch_log_group.this : "${g.arn}:log-stream:*"])
      },
      {
        Sid      = "AdminToken"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = local.daemon_secret_arns
      },
    ]
  }

  # s3://bucket/key -> arn:...:s3:::bucket/key
  overlay_object_arn = var.overlay_s3_uri == null ? null : "arn:${local.partition}:s3:::${trimprefix(var.overlay_s3_uri, "s3://")}"

  daemon_task_statements = concat(
    [
      {
        Sid      = "IngressObjects"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject", "s3:GetObject"]
        Resource = ["${aws_s3_bucket.ingress.arn}/*"]
      },
      {
        Sid      = "ListIngress"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [aws_s3_bucket.ingress.arn]
      },
      {
        Sid      = "WriteProcessed"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
        Resource = ["${aws_s3_bucket.processed.arn}/*"]
      },
      {
        Sid    = "ConsumeIngestQueue"
        Effect = "Allow"
        Action = [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:ReceiveMessage",
          "sqs:SendMessage",
        ]
        Resource = [aws_sqs_queue.ingest.arn]
      },
      {
        Sid    = "Catalog"
        Effect = "Allow"
        Action = [
          "dynamodb:BatchGetItem",
          "dynamodb:BatchWriteItem",
          "dynamodb:ConditionCheckItem",
          "dynamodb:DeleteItem",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:Query",
          "dynamodb:Scan",
          "dynamodb:UpdateItem",
        ]
        Resource = [aws_dynamodb_table.metadata.arn]
      },
    ],
    # A presigned URL carries its signer's permissions: the photographers'
    # PUTs and multipart uploads are this role's, under the ingress prefix.
    length(var.upload_cidrs) == 0 ? [] : [{
      Sid      = "SignUploads"
      Effect   = "Allow"
      Action   = ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"]
      Resource = ["${aws_s3_bucket.ingress.arn}/${var.ingress_prefix}*"]
    }],
    local.overlay_object_arn == null ? [] : [{
      Sid      = "ReadOverlay"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = [local.overlay_object_arn]
    }],
  )

  daemon_task_policy = {
    Version   = "2012-10-17"
    Statement = local.daemon_task_statements
  }
}

# --- execution role -----------------------------------------------------------

resource "aws_iam_role" "execution" {
  name               = "${local.name}-ecs-execution"
  description        = "photofinish ${var.race_id}: ECS pulls images, writes logs, reads the admin token"
  assume_role_policy = jsonencode(local.ecs_trust_policy)
}

resource "aws_iam_role_policy" "execution" {
  name   = "ecs-execution"
  role   = aws_iam_role.execution.id
  policy = jsonencode(local.execution_policy)
}

# --- photofinishd task role ---------------------------------------------------

resource "aws_iam_role" "daemon_task" {
  name               = "${local.name}-photofinishd-task"
  description        = "photofinish ${var.race_id}: what photofinishd may do"
  assume_role_policy = jsonencode(local.ecs_trust_policy)
}

resource "aws_iam_role_policy" "daemon_task" {
  name   = "photofinishd"
  role   = aws_iam_role.daemon_task.id
  policy = jsonencode(local.daemon_task_policy)
}

resource "aws_iam_role_policies_exclusive" "daemon_task" {
  role_name    = aws_iam_role.daemon_task.name
  policy_names = [aws_iam_role_policy.daemon_task.name]
}

resource "aws_iam_role_policy_attachments_exclusive" "daemon_task" {
  role_name   = aws_iam_role.daemon_task.name
  policy_arns = []
}

# --- gallery task role: no permissions ----------------------------------------

resource "aws_iam_role" "gallery_task" {
  name               = "${local.name}-gallery-task"
  description        = "photofinish ${var.race_id}: the gallery has no AWS permissions"
  assume_role_policy = jsonencode(local.ecs_trust_policy)
}

resource "aws_iam_role_policies_exclusive" "gallery_task" {
  role_name    = aws_iam_role.gallery_task.name
  policy_names = []
}

resource "aws_iam_role_policy_attachments_exclusive" "gallery_task" {
  role_name   = aws_iam_role.gallery_task.name
  policy_arns = []
}
