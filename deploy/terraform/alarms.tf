# Alarms worth waking up for during a race. Wire alarm_actions to an SNS topic.

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${local.name}-ingest-dlq-not-empty"
  alarm_description   = "Photos failed ${aws_sqs_queue.ingest.name} 5 times and wait in ${aws_sqs_queue.dlq.name}; see docs/deploy.md (dead letters)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "ingest_age" {
  alarm_name          = "${local.name}-ingest-backlog-old"
  alarm_description   = "The oldest photo in ${aws_sqs_queue.ingest.name} has waited over 15 minutes: processing is stuck or at max_tasks."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.ingest.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 900
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
