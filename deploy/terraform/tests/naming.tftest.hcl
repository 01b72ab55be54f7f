# Every name derives from race_id; bad race ids are refused; the 32-character
# limit of load balancer names holds for the longest allowed id.

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

run "names_derive_from_race_id" {
  command = plan

  assert {
    condition     = aws_s3_bucket.ingress.bucket == "pf-spring-10k-ingress-123456789012"
    error_message = "MediaIngress bucket name must be pf-<race_id>-ingress-<account>."
  }
  assert {
    condition     = aws_s3_bucket.processed.bucket == "pf-spring-10k-processed-123456789012"
    error_message = "ProcessedMedia bucket name must be pf-<race_id>-processed-<account>."
  }
  assert {
    condition     = aws_sqs_queue.ingest.name == "pf-spring-10k-ingest" && aws_sqs_queue.dlq.name == "pf-spring-10k-ingest-dlq"
    error_message = "Queue names must derive from race_id."
  }
  assert {
    condition     = aws_dynamodb_table.metadata.name == "pf-spring-10k-processed-image-metadata"
    error_message = "Table name must derive from race_id."
  }
  assert {
    condition     = aws_ecs_cluster.main.name == "pf-spring-10k"
    error_message = "Cluster name must be pf-<race_id>."
  }
  assert {
    condition     = toset([for r in aws_ecr_repository.this : r.name]) == toset(["pf-spring-10k/photofinishd", "pf-spring-10k/gallery"])
    error_message = "ECR repositories must be pf-<race_id>/photofinishd and pf-<race_id>/gallery."
  }
  assert {
    condition     = aws_lb.main.name == "pf-spring-10k" && aws_lb_target_group.gallery.name == "pf-spring-10k-web" && aws_lb_target_group.daemon.name == "pf-spring-10k-api"
    error_message = "Load balancer and target group names must derive from race_id."
  }
  assert {
    condition     = alltrue([for r in [aws_iam_role.execution, aws_iam_role.daemon_task, aws_iam_role.gallery_task] : startswith(r.name, "pf-spring-10k-")])
    error_message = "Role names must start with pf-<race_id>-."
  }
  assert {
    condition     = toset([for g in aws_cloudwatch_log_group.this : g.name]) == toset(["/ecs/pf-spring-10k/photofinishd", "/ecs/pf-spring-10k/gallery"])
    error_message = "Log groups must be /ecs/pf-<race_id>/<service>."
  }
  assert {
    condition     = aws_ecs_task_definition.daemon.family == "pf-spring-10k-photofinishd" && aws_ecs_task_definition.gallery.family == "pf-spring-10k-gallery"
    error_message = "Task definition families must derive from race_id."
  }
  assert {
    condition     = aws_secretsmanager_secret.admin_token[0].name == "pf-spring-10k/admin-token"
    error_message = "The admin token secret name must derive from race_id."
  }
  assert {
    condition     = local.tags.Race == "spring-10k"
    error_message = "Every resource must be tagged with the race."
  }
}

run "longest_race_id_fits_load_balancer_limits" {
  command = plan

  variables {
    race_id = "a-very-long-race-identifier-2025"
  }

  assert {
    condition     = length(var.race_id) == 32
    error_message = "This run must use a 32-character race_id."
  }
  assert {
    condition     = length(aws_lb.main.name) <= 32 && length(aws_lb_target_group.gallery.name) <= 32 && length(aws_lb_target_group.daemon.name) <= 32
    error_message = "Load balancer and target group names must stay within 32 characters."
  }
  assert {
    condition     = startswith(aws_lb.main.name, "pf-a-very-long-rac") && !endswith(aws_lb.main.name, "-")
    error_message = "A shortened load balancer name must still start with the race_id."
  }
  assert {
    condition     = length(aws_s3_bucket.ingress.bucket) <= 63 && length(aws_s3_bucket.processed.bucket) <= 63
    error_message = "Bucket names must stay within 63 characters."
  }
  assert {
    condition     = length(aws_iam_role.daemon_task.name) <= 64 && length(aws_iam_role.execution.name) <= 64
    error_message = "Role names must stay within 64 characters."
  }
}

run "race_id_with_uppercase_is_refused" {
  command = plan

  variables {
    race_id = "Spring10K"
  }

  expect_failures = [var.race_id]
}

run "race_id_too_short_is_refused" {
  command = plan

  variables {
    race_id = "ab"
  }

  expect_failures = [var.race_id]
}

run "race_id_too_long_is_refused" {
  command = plan

  variables {
    race_id = "a-very-long-race-identifier-20255"
  }

  expect_failures = [var.race_id]
}

run "race_id_ending_in_hyphen_is_refused" {
  command = plan

  variables {
    race_id = "spring-10k-"
  }

  expect_failures = [var.race_id]
}
