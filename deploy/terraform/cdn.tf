# Optional CloudFront distribution in front of ProcessedMedia. The bucket stays
# private: CloudFront signs its requests (origin access control) and the bucket
# policy admits this distribution only (s3.tf). Photo URLs then become
# https://<distribution>/<key> instead of presigned S3 URLs; they no longer
# expire, and are cached at the edge.

resource "aws_cloudfront_origin_access_control" "media" {
  count = var.enable_cdn ? 1 : 0

  name                              = "${local.name}-processed-media"
  description                       = "photofinish ${var.race_id}: ProcessedMedia"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_distribution" "media" {
  count = var.enable_cdn ? 1 : 0

  enabled         = true
  comment         = "photofinish ${var.race_id}: ProcessedMedia"
  price_class     = var.cdn_price_class
  http_version    = "http2and3"
  is_ipv6_enabled = true

  origin {
    origin_id                = "processed-media"
    domain_name              = aws_s3_bucket.processed.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.media[0].id
  }

  default_cache_behavior {
    target_origin_id       = "processed-media"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    compress               = false # JPEG does not compress further
    # AWS managed policy "Managed-CachingOptimized".
    cache_policy_id = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = true
  }
}
