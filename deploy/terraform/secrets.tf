# The admin API's bearer token, injected into photofinishd as the
# PHOTOFINISH_ADMIN_TOKEN secret. Unless an existing secret is given, the stack
# creates one with a random value on first apply; rotating it later
# (put-secret-value + a new deployment) is not undone by terraform.

resource "aws_secretsmanager_secret" "admin_token" {
  count = var.admin_token_secret_arn == null ? 1 : 0

  name                    = "${local.name}/admin-token"
  description             = "photofinish ${var.race_id}: bearer token of the photofinishd admin API"
  recovery_window_in_days = 7
}

data "aws_secretsmanager_random_password" "admin_token" {
  count = var.admin_token_secret_arn == null ? 1 : 0

  password_length     = 48
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "admin_token" {
  count = var.admin_token_secret_arn == null ? 1 : 0

  secret_id     = aws_secretsmanager_secret.admin_token[0].id
  secret_string = data.aws_secretsmanager_random_password.admin_token[0].random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

locals {
  admin_token_secret_arn = var.admin_token_secret_arn != null ? var.admin_token_secret_arn : aws_secretsmanager_secret.admin_token[0].arn
}
