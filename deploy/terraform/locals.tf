# Names and shared values. Every name derives from race_id:
#   pf-<race_id>                  cluster, queue, table, roles, log groups, repositories
#   pf-<race_id>-ingress-<acct>   S3 buckets (globally unique, hence the account id)
#   pf-<short>                    load balancer and target groups (32-character limit)

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name       = "pf-${var.race_id}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Load balancer and target group names are limited to 32 characters: long race
  # ids are shortened and disambiguated with a hash.
  lb_base = length(var.race_id) <= 22 ? var.race_id : "${trimsuffix(substr(var.race_id, 0, 15), "-")}-${substr(sha1(var.race_id), 0, 6)}"
  lb_name = "pf-${local.lb_base}"

  ingress_bucket_name   = "${local.name}-ingress-${local.account_id}"
  processed_bucket_name = "${local.name}-processed-${local.account_id}"
  queue_name            = "${local.name}-ingest"
  dlq_name              = "${local.name}-ingest-dlq"
  table_name            = "${local.name}-processed-image-metadata"

  daemon_name  = "photofinishd"
  gallery_name = "gallery"
  daemon_port  = 8080
  gallery_port = 3000

  # What both images in docker/ provide: a non-root user (USER 10001:10001).
  # ECS sends SIGTERM, then SIGKILL after stop_timeout seconds (the Fargate
  # maximum is 120); the daemon drains within drain_seconds < stop_timeout.
  image_user   = "10001:10001"
  stop_timeout = 30

  # Service Connect name under which the gallery reaches the daemon.
  daemon_discovery_name = "photofinishd"
  api_url               = "http://${local.daemon_discovery_name}:${local.daemon_port}"

  https = var.certificate_arn != null

  gallery_host = var.domain_name != null ? var.domain_name : aws_lb.main.dns_name
  gallery_url  = "${local.https ? "https" : "http"}://${local.gallery_host}"

  tags = merge(var.tags, {
    Application = "photofinish"
    Race        = var.race_id
    ManagedBy   = "terraform"
  })
}
