# Network: either the caller's VPC and subnets, or (create_vpc = true) a small VPC
# with two public subnets. Tasks then get public IPs instead of a NAT gateway
# (saves ~35 USD/month); their security groups admit only the load balancer and
# the gallery. S3 and DynamoDB traffic stays on free gateway endpoints.

data "aws_availability_zones" "available" {
  count = var.create_vpc && length(var.availability_zones) == 0 ? 1 : 0
  state = "available"
}

locals {
  azs = var.create_vpc ? (
    length(var.availability_zones) > 0 ? var.availability_zones : slice(data.aws_availability_zones.available[0].names, 0, 2)
  ) : []

  vpc_id             = var.create_vpc ? aws_vpc.main[0].id : var.vpc_id
  public_subnet_ids  = var.create_vpc ? aws_subnet.public[*].id : var.public_subnet_ids
  service_subnet_ids = var.create_vpc ? aws_subnet.public[*].id : (length(var.service_subnet_ids) > 0 ? var.service_subnet_ids : var.public_subnet_ids)
  assign_public_ip   = var.assign_public_ip != null ? var.assign_public_ip : var.create_vpc
}

resource "aws_vpc" "main" {
  count = var.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.name }
}

resource "aws_internet_gateway" "main" {
  count = var.create_vpc ? 1 : 0

  vpc_id = aws_vpc.main[0].id
  tags   = { Name = local.name }
}

resource "aws_subnet" "public" {
  count = length(local.azs)

  vpc_id                  = aws_vpc.main[0].id
  availability_zone       = local.azs[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  map_public_ip_on_launch = false

  tags = { Name = "${local.name}-public-${local.azs[count.index]}" }
}

resource "aws_route_table" "public" {
  count = var.create_vpc ? 1 : 0

  vpc_id = aws_vpc.main[0].id
  tags   = { Name = "${local.name}-public" }
}

resource "aws_route" "internet" {
  count = var.create_vpc ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main[0].id
}

resource "aws_route_table_association" "public" {
  count = length(local.azs)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_vpc_endpoint" "gateway" {
  for_each = var.create_vpc ? toset(["s3", "dynamodb"]) : toset([])

  vpc_id            = aws_vpc.main[0].id
  service_name      = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.public[0].id]

  tags = { Name = "${local.name}-${each.key}" }
}

# --- security groups ------------------------------------------------------------

resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "photofinish ${var.race_id}: public load balancer"
  vpc_id      = local.vpc_id
}

resource "aws_security_group" "daemon" {
  name        = "${local.name}-photofinishd"
  description = "photofinish ${var.race_id}: photofinishd tasks"
  vpc_id      = local.vpc_id
}

resource "aws_security_group" "gallery" {
  name        = "${local.name}-gallery"
  description = "photofinish ${var.race_id}: gallery tasks"
  vpc_id      = local.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each = toset(var.allowed_ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each = local.https ? toset(var.allowed_ingress_cidrs) : toset([])

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "alb_to_gallery" {
  security_group_id            = aws_security_group.alb.id
  description                  = "to gallery tasks"
  ip_protocol                  = "tcp"
  from_port                    = local.gallery_port
  to_port                      = local.gallery_port
  referenced_security_group_id = aws_security_group.gallery.id
}

resource "aws_vpc_security_group_egress_rule" "alb_to_daemon" {
  security_group_id            = aws_security_group.alb.id
  description                  = "to photofinishd tasks"
  ip_protocol                  = "tcp"
  from_port                    = local.daemon_port
  to_port                      = local.daemon_port
  referenced_security_group_id = aws_security_group.daemon.id
}

resource "aws_vpc_security_group_ingress_rule" "daemon_from_alb" {
  security_group_id            = aws_security_group.daemon.id
  description                  = "from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.daemon_port
  to_port                      = local.daemon_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_ingress_rule" "daemon_from_gallery" {
  security_group_id            = aws_security_group.daemon.id
  description                  = "from gallery tasks (Service Connect)"
  ip_protocol                  = "tcp"
  from_port                    = local.daemon_port
  to_port                      = local.daemon_port
  referenced_security_group_id = aws_security_group.gallery.id
}

resource "aws_vpc_security_group_ingress_rule" "gallery_from_alb" {
  security_group_id            = aws_security_group.gallery.id
  description                  = "from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.gallery_port
  to_port                      = local.gallery_port
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "gallery_to_daemon" {
  security_group_id            = aws_security_group.gallery.id
  description                  = "to photofinishd (Service Connect)"
  ip_protocol                  = "tcp"
  from_port                    = local.daemon_port
  to_port                      = local.daemon_port
  referenced_security_group_id = aws_security_group.daemon.id
}

# Both services talk HTTPS to AWS APIs (ECR, Logs, Secrets Manager, SQS, S3,
# DynamoDB); nothing else leaves the tasks.
resource "aws_vpc_security_group_egress_rule" "https_out" {
  for_each = {
    daemon  = aws_security_group.daemon.id
    gallery = aws_security_group.gallery.id
  }

  security_group_id = each.value
  description       = "HTTPS to AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
