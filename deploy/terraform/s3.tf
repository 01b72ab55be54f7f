# MediaIngress (originals uploaded by photographers) and ProcessedMedia (the
# 2000px and 500px variants written by photofinishd). Both private, encrypted,
# TLS only. Every create/delete in MediaIngress is announced on the ingest queue.

resource "aws_s3_bucket" "ingress" {
  bucket        = local.ingress_bucket_name
  force_destroy = var.force_destroy
  tags          = { Role = "MediaIngress" }
}

resource "aws_s3_bucket" "processed" {
  bucket        = local.processed_bucket_name
  force_destroy = var.force_destroy
  tags          = { Role = "ProcessedMedia" }
}

locals {
  buckets = {
    ingress   = aws_s3_bucket.ingress
    processed = aws_s3_bucket.processed
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# SSE-S3: works with CloudFront origin access control and S3 event notifications
# to an SSE-SQS queue without KMS key policies.
resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = each.value.id
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

locals {
  deny_insecure_transport = {
    for k, b in local.buckets : k => {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = { AWS = "*" }
      Action    = "s3:*"
      Resource  = [b.arn, "${b.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
  }

  # Read access for the CloudFront distribution only (origin access control).
  cdn_read_statement = var.enable_cdn ? [{
    Sid       = "AllowCloudFrontRead"
    Effect    = "Allow"
    Principal = { Service = "cloudfront.amazonaws.com" }
    Action    = "s3:GetObject"
    Resource  = "${aws_s3_bucket.processed.arn}/*"
    Condition = { StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.media[0].arn } }
  }] : []

  bucket_policies = {
    ingress = {
      Version   = "2012-10-17"
      Statement = [local.deny_insecure_transport.ingress]
    }
    processed = {
      Version   = "2012-10-17"
      Statement = concat([local.deny_insecure_transport.processed], local.cdn_read_statement)
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets

  bucket = each.value.id
  policy = jsonencode(local.bucket_policies[each.key])

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# S3 checks at creation time that it may send to the queue: the queue policy
# must exist first.
resource "aws_s3_bucket_notification" "ingress" {
  bucket = aws_s3_bucket.ingress.id

  queue {
    id            = "photofinish-ingest"
    queue_arn     = aws_sqs_queue.ingest.arn
    events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    filter_prefix = var.ingress_prefix != "" ? var.ingress_prefix : null
  }

  depends_on = [aws_sqs_queue_policy.ingest]
}
