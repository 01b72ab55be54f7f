output "gallery_url" {
  description = "Public URL of the gallery."
  value       = local.gallery_url
}

output "load_balancer_dns_name" {
  description = "DNS name of the load balancer (point domain_name at it when DNS is managed elsewhere)."
  value       = aws_lb.main.dns_name
}

output "ingress_bucket" {
  description = "MediaIngress bucket: upload originals here."
  value       = aws_s3_bucket.ingress.bucket
}

output "processed_bucket" {
  description = "ProcessedMedia bucket."
  value       = aws_s3_bucket.processed.bucket
}

output "queue_url" {
  description = "Ingest queue URL."
  value       = aws_sqs_queue.ingest.url
}

output "dead_letter_queue_url" {
  description = "Dead-letter queue URL."
  value       = aws_sqs_queue.dlq.url
}

output "table_name" {
  description = "ProcessedImageMetadata table."
  value       = aws_dynamodb_table.metadata.name
}

output "daemon_repository_url" {
  description = "ECR repository of the photofinishd image."
  value       = aws_ecr_repository.this[local.daemon_name].repository_url
}

output "gallery_repository_url" {
  description = "ECR repository of the gallery image."
  value       = aws_ecr_repository.this[local.gallery_name].repository_url
}

output "cluster_name" {
  description = "ECS cluster."
  value       = aws_ecs_cluster.main.name
}

output "log_groups" {
  description = "CloudWatch log groups by service."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "admin_token_secret_arn" {
  description = "Secrets Manager secret holding the admin bearer token."
  value       = local.admin_token_secret_arn
}

output "media_cdn_url" {
  description = "CloudFront base URL of ProcessedMedia (null without enable_cdn)."
  value       = var.enable_cdn ? "https://${aws_cloudfront_distribution.media[0].domain_name}" : null
}
