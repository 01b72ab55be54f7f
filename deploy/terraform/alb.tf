# Public entry point. Everything goes to the gallery except /participants/*,
# which goes straight to photofinishd (the same JSON API the gallery uses).
# /metrics and /readyz are not routed: they stay inside the VPC. /admin/* is
# routed only from admin_cidrs, and only over HTTPS; the console and the
# upload surface are in console.tf.
#
# With certificate_arn: HTTPS on 443 and a permanent redirect on 80.
# Without: plain HTTP on 80.

resource "aws_lb" "main" {
  name                       = local.lb_name
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = local.public_subnet_ids
  idle_timeout               = 60
  drop_invalid_header_fields = true
}

resource "aws_lb_target_group" "gallery" {
  name                 = "${local.lb_name}-web"
  port                 = local.gallery_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = local.vpc_id
  deregistration_delay = 30

  health_check {
    path                = var.gallery_health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_target_group" "daemon" {
  name                 = "${local.lb_name}-api"
  port                 = local.daemon_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = local.vpc_id
  deregistration_delay = var.drain_seconds # a stopping task drains within this

  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  dynamic "default_action" {
    for_each = local.https ? [1] : []
    content {
      type = "redirect"
      redirect {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }
  }

  dynamic "default_action" {
    for_each = local.https ? [] : [1]
    content {
      type             = "forward"
      target_group_arn = aws_lb_target_group.gallery.arn
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.gallery.arn
  }
}

resource "aws_lb_listener_rule" "participants" {
  listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
  priority     = 10

  condition {
    path_pattern {
      values = ["/participants/*"]
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.daemon.arn
  }
}

resource "aws_lb_listener_rule" "admin" {
  count = length(local.admin_cidrs) > 0 ? 1 : 0

  listener_arn = aws_lb_listener.https[0].arn
  priority     = 20

  condition {
    path_pattern {
      values = ["/admin/*"]
    }
  }

  condition {
    source_ip {
      values = local.admin_cidrs
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.daemon.arn
  }
}

resource "aws_route53_record" "gallery" {
  count = var.route53_zone_id != null ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.main.dns_name
    zone_id                = aws_lb.main.zone_id
    evaluate_target_health = false
  }
}
