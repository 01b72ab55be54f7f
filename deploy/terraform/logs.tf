# One log group per service; both write JSON lines through the awslogs driver.

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset([local.daemon_name, local.gallery_name])

  name              = "/ecs/${local.name}/${each.key}"
  retention_in_days = var.log_retention_days
}
