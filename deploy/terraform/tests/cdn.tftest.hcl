# CloudFront is optional: absent by default (presigned URLs), and with
# enable_cdn its domain becomes PHOTOFINISH_PUBLIC_MEDIA_URL and the bucket
# policy admits exactly that distribution.

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

run "no_cdn_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudfront_distribution.media) == 0 && length(aws_cloudfront_origin_access_control.media) == 0
    error_message = "No CloudFront distribution unless enable_cdn = true."
  }
  assert {
    condition     = !contains([for e in jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].environment : e.name], "PHOTOFINISH_PUBLIC_MEDIA_URL")
    error_message = "Without a CDN the daemon hands out presigned URLs (no PHOTOFINISH_PUBLIC_MEDIA_URL)."
  }
  assert {
    condition     = length(jsondecode(aws_s3_bucket_policy.this["processed"].policy).Statement) == 1
    error_message = "Without a CDN nobody but the daemon reads ProcessedMedia."
  }
  assert {
    condition     = output.media_cdn_url == null
    error_message = "No CDN URL output."
  }
}

run "cdn_enabled" {
  command = plan

  variables {
    enable_cdn = true
  }

  assert {
    condition     = length(aws_cloudfront_distribution.media) == 1
    error_message = "enable_cdn must create the distribution."
  }
  assert {
    condition     = one(aws_cloudfront_distribution.media[0].origin).domain_name == "pf-spring-10k-processed-123456789012.s3.eu-west-1.amazonaws.com" && one(aws_cloudfront_distribution.media[0].origin).origin_access_control_id == aws_cloudfront_origin_access_control.media[0].id
    error_message = "The distribution reads ProcessedMedia through origin access control."
  }
  assert {
    condition     = one(aws_cloudfront_distribution.media[0].default_cache_behavior).viewer_protocol_policy == "redirect-to-https"
    error_message = "Media is served over HTTPS."
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].environment : e.name => e.value }.PHOTOFINISH_PUBLIC_MEDIA_URL == "https://dmock123456.cloudfront.net"
    error_message = "PHOTOFINISH_PUBLIC_MEDIA_URL must be the distribution's domain."
  }
  assert {
    condition = [for s in jsondecode(aws_s3_bucket_policy.this["processed"].policy).Statement : s if s.Effect == "Allow"] == [{
      Sid       = "AllowCloudFrontRead"
      Effect    = "Allow"
      Principal = { Service = "cloudfront.amazonaws.com" }
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::pf-spring-10k-processed-123456789012/*"
      Condition = { StringEquals = { "AWS:SourceArn" = "arn:aws:cloudfront::123456789012:distribution/EMOCKDIST" } }
    }]
    error_message = "ProcessedMedia admits reads by this distribution only."
  }
  assert {
    condition     = length([for s in jsondecode(aws_s3_bucket_policy.this["ingress"].policy).Statement : s if s.Effect == "Allow"]) == 0
    error_message = "MediaIngress is never exposed to the CDN."
  }
  assert {
    condition     = output.media_cdn_url == "https://dmock123456.cloudfront.net"
    error_message = "The CDN URL is an output."
  }
}
