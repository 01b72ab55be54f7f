# Task definitions, services, Service Connect and autoscaling.

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

run "daemon_container" {
  command = plan

  assert {
    condition     = length(jsondecode(aws_ecs_task_definition.daemon.container_definitions)) == 1
    error_message = "One container per photofinishd task."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pf-spring-10k/photofinishd:v1"
    error_message = "The daemon image comes from its ECR repository with image_tag."
  }
  assert {
    condition = {
      for e in jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].environment : e.name => e.value
      } == {
      AWS_REGION                      = "eu-west-1"
      PHOTOFINISH_INGRESS_BUCKET      = "pf-spring-10k-ingress-123456789012"
      PHOTOFINISH_PROCESSED_BUCKET    = "pf-spring-10k-processed-123456789012"
      PHOTOFINISH_TABLE               = "pf-spring-10k-processed-image-metadata"
      PHOTOFINISH_QUEUE_URL           = "https://sqs.eu-west-1.amazonaws.com/123456789012/pf-spring-10k-ingest"
      PHOTOFINISH_LISTEN              = "0.0.0.0:8080"
      PHOTOFINISH_WORKERS             = "2"
      PHOTOFINISH_LOG_LEVEL           = "info"
      PHOTOFINISH_VISIBILITY_TIMEOUT  = "120"
      PHOTOFINISH_DRAIN_SECONDS       = "25"
      PHOTOFINISH_TRUST_FORWARDED_FOR = "1"
    }
    error_message = "The daemon's environment must wire this race's resources (and no presigned-URL base without the CDN)."
  }
  assert {
    condition = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].secrets == [{
      name      = "PHOTOFINISH_ADMIN_TOKEN"
      valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mock-AbCdEf"
      }, {
      name      = "PHOTOFINISH_SESSION_KEY"
      valueFrom = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mock-AbCdEf"
    }]
    error_message = "The admin token and the session key must come from Secrets Manager as PHOTOFINISH_ADMIN_TOKEN and PHOTOFINISH_SESSION_KEY (no PHOTOFINISH_ADMIN_TOKENS unless a secret is given)."
  }
  assert {
    condition     = !strcontains(aws_ecs_task_definition.daemon.container_definitions, "mock-random-password")
    error_message = "The admin token value must never appear in the task definition."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].stopTimeout == 30
    error_message = "stopTimeout must be 30 s."
  }
  assert {
    condition     = tonumber({ for e in jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].environment : e.name => e.value }.PHOTOFINISH_DRAIN_SECONDS) < jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].stopTimeout
    error_message = "The daemon must finish draining before ECS sends SIGKILL."
  }
  # What docker/photofinishd.Dockerfile provides (make test-images checks the image).
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].user == "10001:10001"
    error_message = "The daemon runs as the image's non-root user 10001:10001."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].readonlyRootFilesystem == true
    error_message = "The daemon's root filesystem is read-only."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].mountPoints == [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }] && [for v in aws_ecs_task_definition.daemon.volume : v.name] == ["tmp"]
    error_message = "The daemon gets a writable /tmp from a task volume, nothing else."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].linuxParameters.initProcessEnabled == true
    error_message = "An init process forwards SIGTERM and reaps children."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].healthCheck.command == ["CMD-SHELL", "curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1"]
    error_message = "The health check is the image's HEALTHCHECK (curl on /healthz, port 8080)."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].logConfiguration.logDriver == "awslogs" && jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].logConfiguration.options["awslogs-group"] == "/ecs/pf-spring-10k/photofinishd" && jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].logConfiguration.options["awslogs-region"] == "eu-west-1"
    error_message = "Daemon logs go to its log group through awslogs."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].portMappings[0].containerPort == 8080 && jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].portMappings[0].name == "http"
    error_message = "The daemon publishes port 8080 as \"http\" (Service Connect)."
  }
  assert {
    condition     = strcontains(jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].healthCheck.command[1], "http://127.0.0.1:8080/healthz")
    error_message = "The container health check probes /healthz."
  }
  assert {
    condition     = aws_ecs_task_definition.daemon.requires_compatibilities == toset(["FARGATE"]) && aws_ecs_task_definition.daemon.network_mode == "awsvpc"
    error_message = "Fargate, awsvpc."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this["photofinishd"].retention_in_days == 30 && aws_cloudwatch_log_group.this["gallery"].retention_in_days == 30
    error_message = "Log groups keep 30 days by default."
  }
}

run "daemon_settings_are_passed_and_checked" {
  command = plan

  variables {
    daemon_settings = {
      PHOTOFINISH_SYMBOLOGIES = "qrcode,code128"
      PHOTOFINISH_URL_TTL     = "3600"
    }
    daemon_workers = 3
    log_level      = "debug"
  }

  assert {
    condition     = local.daemon_environment.PHOTOFINISH_SYMBOLOGIES == "qrcode,code128" && local.daemon_environment.PHOTOFINISH_URL_TTL == "3600"
    error_message = "daemon_settings must reach the container."
  }
  assert {
    condition     = local.daemon_environment.PHOTOFINISH_WORKERS == "3" && local.daemon_environment.PHOTOFINISH_LOG_LEVEL == "debug"
    error_message = "daemon_workers and log_level must reach the container."
  }
}

run "roster_codes_reach_the_daemon" {
  command = plan

  variables {
    roster_codes = ["10423", " ab-7 ", "555"]
  }

  assert {
    condition     = local.daemon_environment.PHOTOFINISH_ROSTER_CODES == "10423,ab-7,555"
    error_message = "roster_codes must reach the daemon as PHOTOFINISH_ROSTER_CODES."
  }
}

run "roster_codes_are_codes" {
  command = plan

  variables {
    roster_codes = ["10423", "not a code"]
  }

  expect_failures = [var.roster_codes]
}

run "managed_settings_cannot_be_overridden" {
  command = plan

  variables {
    daemon_settings = { PHOTOFINISH_TABLE = "someone-elses-table" }
  }

  expect_failures = [var.daemon_settings]
}

run "unknown_settings_are_refused" {
  command = plan

  variables {
    daemon_settings = { PHOTOFINISH_TYPO = "1" }
  }

  expect_failures = [var.daemon_settings]
}

run "gallery_reaches_daemon_through_service_connect" {
  command = plan

  variables {
    gallery_environment = { GALLERY_RACE_NAME = "Spring 10K" }
  }

  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].environment : e.name => e.value }.PHOTOFINISH_API_URL == "http://photofinishd:8080"
    error_message = "The gallery calls the daemon at its Service Connect name."
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].environment : e.name => e.value }.GALLERY_RACE_NAME == "Spring 10K"
    error_message = "GALLERY_* theming must reach the gallery."
  }
  assert {
    condition     = { for e in jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].environment : e.name => e.value }.ADDRESS_HEADER == "X-Forwarded-For" && { for e in jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].environment : e.name => e.value }.XFF_DEPTH == "1"
    error_message = "The gallery takes the runner's address from the load balancer's X-Forwarded-For entry, so the daemon's limits count runners."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].image == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pf-spring-10k/gallery:v1"
    error_message = "The gallery image comes from its ECR repository."
  }
  assert {
    condition     = length([for e in jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].environment : e if startswith(e.name, "PHOTOFINISH_") && e.name != "PHOTOFINISH_API_URL"]) == 0
    error_message = "The gallery gets none of the daemon's settings."
  }
  assert {
    condition     = !contains(keys(jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0]), "secrets")
    error_message = "The gallery gets no secrets."
  }
  assert {
    condition     = one(one(aws_ecs_service.daemon.service_connect_configuration).service).discovery_name == "photofinishd" && one(one(one(aws_ecs_service.daemon.service_connect_configuration).service).client_alias).dns_name == "photofinishd" && one(one(one(aws_ecs_service.daemon.service_connect_configuration).service).client_alias).port == 8080
    error_message = "The daemon service publishes photofinishd:8080."
  }
  assert {
    condition     = one(aws_ecs_service.gallery.service_connect_configuration).enabled && length(one(aws_ecs_service.gallery.service_connect_configuration).service) == 0
    error_message = "The gallery is a Service Connect client only."
  }
  assert {
    condition     = one(aws_ecs_service.daemon.service_connect_configuration).namespace == aws_service_discovery_http_namespace.main.arn && one(aws_ecs_service.gallery.service_connect_configuration).namespace == aws_service_discovery_http_namespace.main.arn
    error_message = "Both services share the race's namespace."
  }
}

run "gallery_container" {
  command = plan

  # What docker/gallery.Dockerfile provides (make test-images checks the image).
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].user == "10001:10001"
    error_message = "The gallery runs as the image's non-root user 10001:10001."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].portMappings[0].containerPort == 3000 && { for e in jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].environment : e.name => e.value }.PORT == "3000"
    error_message = "The gallery listens on the image's port 3000."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].readonlyRootFilesystem == true && jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].mountPoints == [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }] && [for v in aws_ecs_task_definition.gallery.volume : v.name] == ["tmp"]
    error_message = "The gallery's root filesystem is read-only, with a writable /tmp."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].healthCheck.command[0] == "CMD" && jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].healthCheck.command[1] == "node" && strcontains(jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].healthCheck.command[3], "http://127.0.0.1:3000/healthz")
    error_message = "The gallery's health check is the image's (node fetching /healthz)."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].stopTimeout == 30 && tonumber({ for e in jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].environment : e.name => e.value }.SHUTDOWN_TIMEOUT) < 30
    error_message = "The gallery finishes open requests (SHUTDOWN_TIMEOUT) before ECS sends SIGKILL."
  }
  assert {
    condition     = jsondecode(aws_ecs_task_definition.gallery.container_definitions)[0].linuxParameters.initProcessEnabled == true
    error_message = "An init process forwards SIGTERM to node."
  }
}

run "gallery_environment_must_be_gallery_names" {
  command = plan

  variables {
    gallery_environment = { PHOTOFINISH_API_URL = "http://elsewhere" }
  }

  expect_failures = [var.gallery_environment]
}

run "autoscaling" {
  command = plan

  variables {
    daemon_min_tasks = 2
    daemon_max_tasks = 12
  }

  assert {
    condition     = aws_appautoscaling_target.daemon.min_capacity == 2 && aws_appautoscaling_target.daemon.max_capacity == 12
    error_message = "Daemon task range comes from the inputs."
  }
  assert {
    condition     = aws_appautoscaling_target.daemon.resource_id == "service/pf-spring-10k/photofinishd"
    error_message = "Autoscaling targets the photofinishd service."
  }
  assert {
    condition     = one(aws_appautoscaling_policy.daemon_backlog.target_tracking_scaling_policy_configuration).target_value == 20
    error_message = "Target backlog per task defaults to 20."
  }
  assert {
    condition     = [for m in one(one(aws_appautoscaling_policy.daemon_backlog.target_tracking_scaling_policy_configuration).customized_metric_specification).metrics : m.expression if m.return_data] == ["visible / tasks"]
    error_message = "The scaled metric is queue backlog divided by running tasks."
  }
  assert {
    condition = [for m in one(one(aws_appautoscaling_policy.daemon_backlog.target_tracking_scaling_policy_configuration).customized_metric_specification).metrics :
    one(one(m.metric_stat).metric).dimensions if m.id == "visible"][0] == toset([{ name = "QueueName", value = "pf-spring-10k-ingest" }])
    error_message = "The backlog is read from the ingest queue."
  }
  assert {
    condition     = one(one(aws_appautoscaling_policy.gallery_cpu.target_tracking_scaling_policy_configuration).predefined_metric_specification).predefined_metric_type == "ECSServiceAverageCPUUtilization"
    error_message = "The gallery scales on CPU."
  }
  assert {
    condition     = aws_appautoscaling_target.gallery.resource_id == "service/pf-spring-10k/gallery"
    error_message = "Gallery autoscaling targets the gallery service."
  }
  assert {
    condition     = one([for s in aws_ecs_cluster.main.setting : s.value if s.name == "containerInsights"]) == "enabled"
    error_message = "Container Insights provides RunningTaskCount for the backlog metric."
  }
}

run "existing_vpc" {
  command = plan

  variables {
    create_vpc         = false
    vpc_id             = "vpc-0123456789abcdef0"
    public_subnet_ids  = ["subnet-0aaa", "subnet-0bbb"]
    service_subnet_ids = ["subnet-0ccc", "subnet-0ddd"]
  }

  assert {
    condition     = length(aws_vpc.main) == 0 && length(aws_subnet.public) == 0 && length(aws_vpc_endpoint.gateway) == 0
    error_message = "No network is created in an existing VPC."
  }
  assert {
    condition     = aws_lb.main.subnets == toset(["subnet-0aaa", "subnet-0bbb"])
    error_message = "The load balancer goes into the public subnets."
  }
  assert {
    condition     = one(aws_ecs_service.daemon.network_configuration).subnets == toset(["subnet-0ccc", "subnet-0ddd"]) && !one(aws_ecs_service.daemon.network_configuration).assign_public_ip
    error_message = "Tasks go into the service subnets without public IPs."
  }
  assert {
    condition     = aws_lb_target_group.daemon.vpc_id == "vpc-0123456789abcdef0"
    error_message = "Target groups belong to the given VPC."
  }
}

run "existing_vpc_needs_vpc_id" {
  command = plan

  variables {
    create_vpc        = false
    public_subnet_ids = ["subnet-0aaa", "subnet-0bbb"]
  }

  expect_failures = [var.vpc_id]
}

run "created_vpc" {
  command = plan

  assert {
    condition     = length(aws_subnet.public) == 2 && toset([for s in aws_subnet.public : s.availability_zone]) == toset(["eu-west-1a", "eu-west-1b"])
    error_message = "The created VPC spans two AZs."
  }
  assert {
    condition     = toset(keys(aws_vpc_endpoint.gateway)) == toset(["s3", "dynamodb"])
    error_message = "S3 and DynamoDB traffic uses gateway endpoints."
  }
  assert {
    condition     = one(aws_ecs_service.daemon.network_configuration).assign_public_ip && one(aws_ecs_service.gallery.network_configuration).assign_public_ip
    error_message = "Without NAT, tasks need public IPs."
  }
}

run "fargate_sizes_are_checked" {
  command = plan

  variables {
    daemon_cpu     = 1500
    daemon_workers = 0
  }

  expect_failures = [var.daemon_cpu, var.daemon_workers]
}
