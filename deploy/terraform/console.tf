# The console (/console*, /session) and the photographers' upload surface
# (/uploads/*), served by photofinishd. Nothing of them is reachable from
# the internet unless admin_cidrs or upload_cidrs name source ranges: the
# load balancer then forwards those paths to the daemon from those ranges
# only (over HTTPS: the session cookie is Secure). Operators get the console,
# /session and /admin/* (rule "admin" in alb.tf); photographers the console,
# /session and /uploads/*. Browsers PUT upload parts straight to the ingress
# bucket with presigned URLs, so the bucket allows the console's origin by
# CORS. The session signing key comes from Secrets Manager so that every
# task accepts every session.

locals {
  # admin_allowed_cidrs is the earlier name of admin_cidrs; both count.
  admin_cidrs    = distinct(concat(var.admin_cidrs, var.admin_allowed_cidrs))
  console_origin = local.gallery_url

  # One path per rule: a rule holds 5 condition values, up to 4 are ranges.
  console_rules = merge(
    length(local.admin_cidrs) > 0 ? {
      admin-console = { priority = 21, path = "/console*", cidrs = local.admin_cidrs }
      admin-session = { priority = 22, path = "/session", cidrs = local.admin_cidrs }
    } : {},
    length(var.upload_cidrs) > 0 ? {
      upload-uploads = { priority = 30, path = "/uploads/*", cidrs = var.upload_cidrs }
      upload-console = { priority = 31, path = "/console*", cidrs = var.upload_cidrs }
      upload-session = { priority = 32, path = "/session", cidrs = var.upload_cidrs }
    } : {},
  )
}

resource "aws_lb_listener_rule" "console" {
  for_each = local.console_rules

  listener_arn = aws_lb_listener.https[0].arn
  priority     = each.value.priority

  condition {
    path_pattern {
      values = [each.value.path]
    }
  }

  condition {
    source_ip {
      values = each.value.cidrs
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.daemon.arn
  }
}

resource "aws_s3_bucket_cors_configuration" "ingress" {
  count = length(var.upload_cidrs) > 0 ? 1 : 0

  bucket = aws_s3_bucket.ingress.id

  cors_rule {
    allowed_origins = [local.console_origin]
    allowed_methods = ["PUT"]
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }
}

# The key signing console sessions (PHOTOFINISH_SESSION_KEY). Rotating it
# ends every session; tokens and credentials stay valid.
resource "aws_secretsmanager_secret" "session_key" {
  count = var.session_key_secret_arn == null ? 1 : 0

  name                    = "${local.name}/session-key"
  description             = "photofinish ${var.race_id}: key signing console sessions"
  recovery_window_in_days = 7
}

data "aws_secretsmanager_random_password" "session_key" {
  count = var.session_key_secret_arn == null ? 1 : 0

  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "session_key" {
  count = var.session_key_secret_arn == null ? 1 : 0

  secret_id     = aws_secretsmanager_secret.session_key[0].id
  secret_string = data.aws_secretsmanager_random_password.session_key[0].random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

locals {
  session_key_secret_arn = var.session_key_secret_arn != null ? var.session_key_secret_arn : aws_secretsmanager_secret.session_key[0].arn
  # Secrets the daemon reads, for its task's execution role.
  daemon_secret_arns = compact([local.admin_token_secret_arn, local.session_key_secret_arn, var.admin_tokens_secret_arn])
}
