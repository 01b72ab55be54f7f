# The console and the upload surface: not reachable from the internet by
# default; from admin_cidrs / upload_cidrs only over HTTPS; CORS on the
# ingress bucket for the console's origin; the session key from Secrets
# Manager.

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

run "console_not_routed_by_default" {
  command = plan

  assert {
    condition     = length(aws_lb_listener_rule.console) == 0 && length(aws_lb_listener_rule.admin) == 0
    error_message = "The console, /session, /uploads and /admin must not be reachable from outside by default."
  }
  assert {
    condition     = length(aws_s3_bucket_cors_configuration.ingress) == 0
    error_message = "No CORS on the ingress bucket without upload_cidrs."
  }
  assert {
    condition     = aws_secretsmanager_secret.session_key[0].name == "pf-spring-10k/session-key"
    error_message = "The stack creates the session key's secret."
  }
  assert {
    condition     = !strcontains(aws_ecs_task_definition.daemon.container_definitions, "mock-random-password")
    error_message = "The session key's value must never appear in the task definition."
  }
}

run "console_from_allowed_ranges_over_https" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-0000-4000-8000-123456789abc"
    domain_name     = "photos.spring10k.example"
    admin_cidrs     = ["203.0.113.0/24"]
    upload_cidrs    = ["198.51.100.0/24", "192.0.2.0/24"]
  }

  assert {
    condition     = toset(keys(aws_lb_listener_rule.console)) == toset(["admin-console", "admin-session", "upload-uploads", "upload-console", "upload-session"])
    error_message = "Operators get the console and /session, photographers also /uploads/*."
  }
  assert {
    condition = alltrue([for k, r in aws_lb_listener_rule.console :
      r.listener_arn == aws_lb_listener.https[0].arn && one(r.action).target_group_arn == aws_lb_target_group.daemon.arn
    ])
    error_message = "Console rules sit on the HTTPS listener and forward to photofinishd."
  }
  assert {
    condition = (
      toset(flatten([for c in aws_lb_listener_rule.console["upload-uploads"].condition : [for s in c.source_ip : s.values]])) == toset(["198.51.100.0/24", "192.0.2.0/24"]) &&
      toset(flatten([for c in aws_lb_listener_rule.console["upload-uploads"].condition : [for p in c.path_pattern : p.values]])) == toset(["/uploads/*"]) &&
      toset(flatten([for c in aws_lb_listener_rule.console["admin-console"].condition : [for s in c.source_ip : s.values]])) == toset(["203.0.113.0/24"]) &&
      toset(flatten([for c in aws_lb_listener_rule.console["admin-console"].condition : [for p in c.path_pattern : p.values]])) == toset(["/console*"])
    )
    error_message = "Each rule matches its path from its own ranges only."
  }
  assert {
    condition     = length(aws_lb_listener_rule.admin) == 1 && toset(flatten([for c in aws_lb_listener_rule.admin[0].condition : [for s in c.source_ip : s.values]])) == toset(["203.0.113.0/24"])
    error_message = "admin_cidrs also opens /admin/* (and only from those ranges)."
  }
  assert {
    condition     = length(toset([for r in aws_lb_listener_rule.console : r.priority])) == 5 && !contains([for r in aws_lb_listener_rule.console : r.priority], aws_lb_listener_rule.admin[0].priority)
    error_message = "Rule priorities must be distinct."
  }
  assert {
    condition = (
      one(aws_s3_bucket_cors_configuration.ingress[0].cors_rule).allowed_origins == toset(["https://photos.spring10k.example"]) &&
      one(aws_s3_bucket_cors_configuration.ingress[0].cors_rule).allowed_methods == toset(["PUT"]) &&
      one(aws_s3_bucket_cors_configuration.ingress[0].cors_rule).expose_headers == toset(["ETag"])
    )
    error_message = "The ingress bucket allows PUTs from the console's origin only, exposing ETag."
  }
}

run "admin_tokens_from_a_secret" {
  command = plan

  variables {
    admin_tokens_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:race-operators-AbCdEf"
  }

  assert {
    condition     = contains([for s in jsondecode(aws_ecs_task_definition.daemon.container_definitions)[0].secrets : "${s.name}=${s.valueFrom}"], "PHOTOFINISH_ADMIN_TOKENS=arn:aws:secretsmanager:eu-west-1:123456789012:secret:race-operators-AbCdEf")
    error_message = "Named admin tokens come from their secret as PHOTOFINISH_ADMIN_TOKENS."
  }
}

run "uploads_need_https" {
  command = plan

  variables {
    upload_cidrs = ["198.51.100.0/24"]
  }

  expect_failures = [var.upload_cidrs]
}

run "console_needs_https" {
  command = plan

  variables {
    admin_cidrs = ["203.0.113.0/24"]
  }

  expect_failures = [var.admin_cidrs]
}

run "at_most_four_ranges" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-0000-4000-8000-123456789abc"
    upload_cidrs    = ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"]
  }

  expect_failures = [var.upload_cidrs]
}
