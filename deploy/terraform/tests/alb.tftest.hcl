# Load balancer: health checks, the /participants/* rule, HTTPS only with a
# certificate (and then HTTP redirects), plain HTTP otherwise.

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

run "health_checks_use_healthz" {
  command = plan

  assert {
    condition     = one(aws_lb_target_group.daemon.health_check).path == "/healthz" && one(aws_lb_target_group.daemon.health_check).matcher == "200"
    error_message = "The photofinishd target group must check /healthz."
  }
  assert {
    condition     = one(aws_lb_target_group.gallery.health_check).path == "/healthz"
    error_message = "The gallery target group must check /healthz by default."
  }
  assert {
    condition     = aws_lb_target_group.daemon.port == 8080 && aws_lb_target_group.gallery.port == 3000 && aws_lb_target_group.daemon.target_type == "ip"
    error_message = "Target groups: daemon on 8080, gallery on 3000, IP targets (Fargate)."
  }
}

run "plain_http_without_certificate" {
  command = plan

  assert {
    condition     = length(aws_lb_listener.https) == 0
    error_message = "No HTTPS listener without a certificate."
  }
  assert {
    condition     = aws_lb_listener.http.port == 80 && aws_lb_listener.http.protocol == "HTTP"
    error_message = "HTTP listener on port 80."
  }
  assert {
    condition     = length(aws_lb_listener.http.default_action) == 1 && aws_lb_listener.http.default_action[0].type == "forward" && aws_lb_listener.http.default_action[0].target_group_arn == aws_lb_target_group.gallery.arn
    error_message = "Without a certificate, HTTP forwards to the gallery."
  }
  assert {
    condition     = aws_lb_listener_rule.participants.listener_arn == aws_lb_listener.http.arn
    error_message = "The /participants/* rule must sit on the HTTP listener."
  }
  assert {
    condition     = one(one(aws_lb_listener_rule.participants.condition).path_pattern).values == toset(["/participants/*"])
    error_message = "The daemon rule must match /participants/* only."
  }
  assert {
    condition     = one(aws_lb_listener_rule.participants.action).type == "forward" && one(aws_lb_listener_rule.participants.action).target_group_arn == aws_lb_target_group.daemon.arn
    error_message = "/participants/* must be forwarded to photofinishd."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.alb_https) == 0
    error_message = "Port 443 stays closed without a certificate."
  }
  assert {
    condition     = output.gallery_url == "http://mock-123456789.eu-west-1.elb.amazonaws.com"
    error_message = "The gallery URL is the load balancer over HTTP."
  }
}

run "https_with_certificate_and_redirect" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-0000-4000-8000-123456789abc"
    domain_name     = "photos.spring10k.example"
  }

  assert {
    condition     = length(aws_lb_listener.https) == 1
    error_message = "A certificate must create the HTTPS listener."
  }
  assert {
    condition     = aws_lb_listener.https[0].port == 443 && aws_lb_listener.https[0].protocol == "HTTPS" && aws_lb_listener.https[0].certificate_arn == var.certificate_arn
    error_message = "HTTPS listener on 443 with the given certificate."
  }
  assert {
    condition     = aws_lb_listener.https[0].default_action[0].type == "forward" && aws_lb_listener.https[0].default_action[0].target_group_arn == aws_lb_target_group.gallery.arn
    error_message = "HTTPS forwards to the gallery by default."
  }
  assert {
    condition     = length(aws_lb_listener.http.default_action) == 1 && aws_lb_listener.http.default_action[0].type == "redirect"
    error_message = "With a certificate, HTTP must only redirect."
  }
  assert {
    condition     = one(aws_lb_listener.http.default_action[0].redirect).protocol == "HTTPS" && one(aws_lb_listener.http.default_action[0].redirect).port == "443" && one(aws_lb_listener.http.default_action[0].redirect).status_code == "HTTP_301"
    error_message = "The redirect goes permanently to HTTPS on 443."
  }
  assert {
    condition     = aws_lb_listener_rule.participants.listener_arn == aws_lb_listener.https[0].arn
    error_message = "The /participants/* rule must move to the HTTPS listener."
  }
  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.alb_https) == 1
    error_message = "Port 443 must be open with a certificate."
  }
  assert {
    condition     = output.gallery_url == "https://photos.spring10k.example"
    error_message = "The gallery URL uses the domain over HTTPS."
  }
}

run "certificate_must_be_an_acm_arn" {
  command = plan

  variables {
    certificate_arn = "not-an-arn"
  }

  expect_failures = [var.certificate_arn]
}

run "admin_api_not_routed_by_default" {
  command = plan

  assert {
    condition     = length(aws_lb_listener_rule.admin) == 0
    error_message = "/admin/* must not be reachable from outside by default."
  }
}

run "admin_api_from_allowed_ranges_over_https" {
  command = plan

  variables {
    certificate_arn     = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-0000-4000-8000-123456789abc"
    admin_allowed_cidrs = ["203.0.113.0/24"]
  }

  assert {
    condition     = length(aws_lb_listener_rule.admin) == 1 && aws_lb_listener_rule.admin[0].listener_arn == aws_lb_listener.https[0].arn
    error_message = "The admin rule sits on the HTTPS listener."
  }
  assert {
    condition     = toset(flatten([for c in aws_lb_listener_rule.admin[0].condition : [for s in c.source_ip : s.values]])) == toset(["203.0.113.0/24"]) && toset(flatten([for c in aws_lb_listener_rule.admin[0].condition : [for p in c.path_pattern : p.values]])) == toset(["/admin/*"])
    error_message = "The admin rule matches /admin/* from the allowed ranges only."
  }
  assert {
    condition     = one(aws_lb_listener_rule.admin[0].action).target_group_arn == aws_lb_target_group.daemon.arn
    error_message = "Admin requests go to photofinishd."
  }
}

run "admin_api_needs_https" {
  command = plan

  variables {
    admin_allowed_cidrs = ["203.0.113.0/24"]
  }

  expect_failures = [var.admin_allowed_cidrs]
}
