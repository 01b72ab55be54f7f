# ECS on Fargate: photofinishd (queue consumer + participant API) and the
# gallery. The gallery reaches the daemon through ECS Service Connect: the
# daemon's port is published in the cluster's Cloud Map namespace as
# "photofinishd:8080", and the gallery's Service Connect proxy resolves that name
# and balances over healthy daemon tasks, so PHOTOFINISH_API_URL is simply
# http://photofinishd:8080 and never leaves the VPC.

resource "aws_service_discovery_http_namespace" "main" {
  name        = "${local.name}.internal"
  description = "photofinish ${var.race_id}: Service Connect namespace"
}

resource "aws_ecs_cluster" "main" {
  name = local.name

  # Container Insights provides RunningTaskCount, the denominator of the
  # backlog-per-task autoscaling metric.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  service_connect_defaults {
    namespace = aws_service_discovery_http_namespace.main.arn
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

locals {
  # photofinishd's environment. Names must be ones the daemon knows
  # (test/deploy/check_env_names.sh compares them with `photofinishd --help`).
  daemon_environment = merge(
    var.daemon_settings,
    # photofinishd-env:begin
    {
      AWS_REGION                     = var.region
      PHOTOFINISH_INGRESS_BUCKET     = aws_s3_bucket.ingress.bucket
      PHOTOFINISH_PROCESSED_BUCKET   = aws_s3_bucket.processed.bucket
      PHOTOFINISH_TABLE              = aws_dynamodb_table.metadata.name
      PHOTOFINISH_QUEUE_URL          = aws_sqs_queue.ingest.url
      PHOTOFINISH_LISTEN             = "0.0.0.0:${local.daemon_port}"
      PHOTOFINISH_WORKERS            = tostring(coalesce(var.daemon_workers, max(1, floor(var.daemon_cpu / 1024))))
      PHOTOFINISH_LOG_LEVEL          = var.log_level
      PHOTOFINISH_VISIBILITY_TIMEOUT = tostring(var.queue_visibility_timeout)
      PHOTOFINISH_DRAIN_SECONDS      = tostring(var.drain_seconds)
      # Only the gallery reaches the API (inside the VPC) and it passes the
      # runner's address on: rate limits count runners, not the gallery.
      PHOTOFINISH_TRUST_FORWARDED_FOR = "1"
    },
    var.ingress_prefix != "" ? { PHOTOFINISH_INGRESS_PREFIX = var.ingress_prefix } : {},
    var.enable_cdn ? { PHOTOFINISH_PUBLIC_MEDIA_URL = "https://${aws_cloudfront_distribution.media[0].domain_name}" } : {},
    var.overlay_s3_uri != null ? { PHOTOFINISH_OVERLAY = var.overlay_s3_uri } : {},
    length(var.roster_codes) > 0 ? { PHOTOFINISH_ROSTER_CODES = join(",", [for c in var.roster_codes : trimspace(c)]) } : {},
    # photofinishd-env:end
  )

  daemon_secrets = {
    # photofinishd-env:begin
    PHOTOFINISH_ADMIN_TOKEN  = local.admin_token_secret_arn
    PHOTOFINISH_SESSION_KEY  = local.session_key_secret_arn
    PHOTOFINISH_ADMIN_TOKENS = var.admin_tokens_secret_arn
    # photofinishd-env:end
  }

  daemon_container = {
    name      = local.daemon_name
    image     = local.daemon_image
    essential = true

    portMappings = [{
      name          = "http"
      containerPort = local.daemon_port
      protocol      = "tcp"
      appProtocol   = "http"
    }]

    environment = [for k in sort(keys(local.daemon_environment)) : { name = k, value = local.daemon_environment[k] }]
    secrets     = [for k in sort(keys(local.daemon_secrets)) : { name = k, valueFrom = local.daemon_secrets[k] } if local.daemon_secrets[k] != null]

    # What docker/photofinishd.Dockerfile provides, repeated because ECS reads
    # neither USER nor HEALTHCHECK from the image (make test-images runs the
    # image this way). SIGTERM, then SIGKILL after stopTimeout: the daemon
    # drains within drain_seconds (validated to stay below it).
    user        = local.image_user
    stopTimeout = local.stop_timeout

    readonlyRootFilesystem = true
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    linuxParameters        = { initProcessEnabled = true }

    healthCheck = {
      command     = ["CMD-SHELL", "curl -fsS -o /dev/null http://127.0.0.1:${local.daemon_port}/healthz || exit 1"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 20
    }

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this[local.daemon_name].name
        awslogs-region        = var.region
        awslogs-stream-prefix = local.daemon_name
        mode                  = "non-blocking"
        max-buffer-size       = "4m"
      }
    }
  }

  gallery_environment = merge(var.gallery_environment, {
    PHOTOFINISH_API_URL = local.api_url
    ORIGIN              = local.gallery_url # adapter-node: absolute URL of the site
    PORT                = tostring(local.gallery_port)
    SHUTDOWN_TIMEOUT    = tostring(local.stop_timeout - 5)
    # Behind the load balancer every request comes from it: the runner is the
    # address it appends to X-Forwarded-For, which the gallery passes on to the
    # daemon's per-client limits. Without these, all runners would share one.
    ADDRESS_HEADER = "X-Forwarded-For"
    XFF_DEPTH      = "1"
  })

  gallery_container = {
    name      = local.gallery_name
    image     = local.gallery_image
    essential = true

    portMappings = [{
      name          = "http"
      containerPort = local.gallery_port
      protocol      = "tcp"
      appProtocol   = "http"
    }]

    environment = [for k in sort(keys(local.gallery_environment)) : { name = k, value = local.gallery_environment[k] }]

    # What docker/gallery.Dockerfile provides (see the daemon's container).
    # The server finishes open requests on SIGTERM within SHUTDOWN_TIMEOUT.
    user                   = local.image_user
    stopTimeout            = local.stop_timeout
    readonlyRootFilesystem = true
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    linuxParameters        = { initProcessEnabled = true }

    healthCheck = {
      command     = ["CMD", "node", "-e", "fetch('http://127.0.0.1:${local.gallery_port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 10
    }

    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this[local.gallery_name].name
        awslogs-region        = var.region
        awslogs-stream-prefix = local.gallery_name
        mode                  = "non-blocking"
        max-buffer-size       = "4m"
      }
    }
  }
}

resource "aws_ecs_task_definition" "daemon" {
  family                   = "${local.name}-${local.daemon_name}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.daemon_cpu
  memory                   = var.daemon_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.daemon_task.arn
  container_definitions    = jsonencode([local.daemon_container])

  volume {
    name = "tmp"
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}

resource "aws_ecs_task_definition" "gallery" {
  family                   = "${local.name}-${local.gallery_name}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.gallery_cpu
  memory                   = var.gallery_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.gallery_task.arn
  container_definitions    = jsonencode([local.gallery_container])

  volume {
    name = "tmp"
  }

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
}

resource "aws_ecs_service" "daemon" {
  name                              = local.daemon_name
  cluster                           = aws_ecs_cluster.main.id
  task_definition                   = aws_ecs_task_definition.daemon.arn
  desired_count                     = var.daemon_min_tasks
  health_check_grace_period_seconds = 30
  enable_ecs_managed_tags           = true
  propagate_tags                    = "SERVICE"

  capacity_provider_strategy {
    capacity_provider = var.daemon_use_fargate_spot ? "FARGATE_SPOT" : "FARGATE"
    weight            = 1
  }

  network_configuration {
    subnets          = local.service_subnet_ids
    security_groups  = [aws_security_group.daemon.id]
    assign_public_ip = local.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.daemon.arn
    container_name   = local.daemon_name
    container_port   = local.daemon_port
  }

  service_connect_configuration {
    enabled   = true
    namespace = aws_service_discovery_http_namespace.main.arn

    service {
      port_name      = "http"
      discovery_name = local.daemon_discovery_name
      client_alias {
        dns_name = local.daemon_discovery_name
        port     = local.daemon_port
      }
    }
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Autoscaling owns the task count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener_rule.participants, aws_ecs_cluster_capacity_providers.main]
}

resource "aws_ecs_service" "gallery" {
  name                              = local.gallery_name
  cluster                           = aws_ecs_cluster.main.id
  task_definition                   = aws_ecs_task_definition.gallery.arn
  desired_count                     = var.gallery_min_tasks
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 30
  enable_ecs_managed_tags           = true
  propagate_tags                    = "SERVICE"

  network_configuration {
    subnets          = local.service_subnet_ids
    security_groups  = [aws_security_group.gallery.id]
    assign_public_ip = local.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.gallery.arn
    container_name   = local.gallery_name
    container_port   = local.gallery_port
  }

  # Client only: gives the gallery the "photofinishd" name.
  service_connect_configuration {
    enabled   = true
    namespace = aws_service_discovery_http_namespace.main.arn
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.http, aws_lb_listener.https]
}
