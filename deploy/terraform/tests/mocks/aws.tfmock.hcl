# Placeholder values the mocked AWS provider returns instead of real ones.
# Data sources get realistic shapes; resources whose ARNs feed other resources'
# ARN-validated arguments get ARN-shaped defaults.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/test"
    user_id    = "AIDATESTTESTTESTTEST"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition          = "aws"
    dns_suffix         = "amazonaws.com"
    reverse_dns_prefix = "com.amazonaws"
  }
}

mock_data "aws_availability_zones" {
  defaults = {
    names    = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    zone_ids = ["euw1-az1", "euw1-az2", "euw1-az3"]
  }
}

mock_data "aws_secretsmanager_random_password" {
  defaults = {
    random_password = "mock-random-password-not-a-secret"
  }
}

# ARN-shaped defaults for every resource type whose ARN is passed on to an
# argument the provider validates as an ARN.

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/mock"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn      = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/mock/0123456789abcdef"
    dns_name = "mock-123456789.eu-west-1.elb.amazonaws.com"
    zone_id  = "Z32O12XQLNTSW2"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mock/0123456789abcdef"
  }
}

mock_resource "aws_lb_listener" {
  defaults = {
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/mock/0123456789abcdef/0123456789abcdef"
  }
}

mock_resource "aws_service_discovery_http_namespace" {
  defaults = {
    arn = "arn:aws:servicediscovery:eu-west-1:123456789012:namespace/ns-mock"
  }
}

mock_resource "aws_ecs_cluster" {
  defaults = {
    arn = "arn:aws:ecs:eu-west-1:123456789012:cluster/mock"
  }
}

mock_resource "aws_ecs_task_definition" {
  defaults = {
    arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/mock:1"
  }
}

mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/mock"
    repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mock"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock"
  }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mock-AbCdEf"
  }
}

mock_resource "aws_cloudfront_origin_access_control" {
  defaults = {
    id = "E2MOCKOAC00001"
  }
}

mock_resource "aws_cloudfront_distribution" {
  defaults = {
    arn         = "arn:aws:cloudfront::123456789012:distribution/EMOCKDIST"
    domain_name = "dmock123456.cloudfront.net"
  }
}

# Distinct ARNs for the resources the IAM and queue policies name, so the tests
# can tell them apart. They match race_id = "spring-10k" in account 123456789012.

override_resource {
  target = aws_s3_bucket.ingress
  values = {
    arn                         = "arn:aws:s3:::pf-spring-10k-ingress-123456789012"
    bucket_regional_domain_name = "pf-spring-10k-ingress-123456789012.s3.eu-west-1.amazonaws.com"
  }
}

override_resource {
  target = aws_s3_bucket.processed
  values = {
    arn                         = "arn:aws:s3:::pf-spring-10k-processed-123456789012"
    bucket_regional_domain_name = "pf-spring-10k-processed-123456789012.s3.eu-west-1.amazonaws.com"
  }
}

override_resource {
  target = aws_sqs_queue.ingest
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/pf-spring-10k-ingest"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/pf-spring-10k-ingest"
  }
}

override_resource {
  target = aws_sqs_queue.dlq
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest-dlq"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/pf-spring-10k-ingest-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/pf-spring-10k-ingest-dlq"
  }
}

override_resource {
  target = aws_dynamodb_table.metadata
  values = {
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata"
  }
}

override_resource {
  target = aws_iam_role.execution
  values = { arn = "arn:aws:iam::123456789012:role/pf-spring-10k-ecs-execution" }
}

override_resource {
  target = aws_iam_role.daemon_task
  values = { arn = "arn:aws:iam::123456789012:role/pf-spring-10k-photofinishd-task" }
}

override_resource {
  target = aws_iam_role.gallery_task
  values = { arn = "arn:aws:iam::123456789012:role/pf-spring-10k-gallery-task" }
}

override_resource {
  target = aws_lb_listener.http
  values = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/pf-spring-10k/0123456789abcdef/00000000000000a0" }
}

override_resource {
  target = aws_lb_listener.https
  values = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/pf-spring-10k/0123456789abcdef/00000000000001bb" }
}

override_resource {
  target = aws_lb_target_group.gallery
  values = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pf-spring-10k-web/00000000000000aa" }
}

override_resource {
  target = aws_lb_target_group.daemon
  values = { arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pf-spring-10k-api/00000000000000bb" }
}

override_resource {
  target = aws_ecr_repository.this["photofinishd"]
  values = {
    arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/photofinishd"
    repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pf-spring-10k/photofinishd"
  }
}

override_resource {
  target = aws_ecr_repository.this["gallery"]
  values = {
    arn            = "arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/gallery"
    repository_url = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pf-spring-10k/gallery"
  }
}

override_resource {
  target = aws_cloudwatch_log_group.this["photofinishd"]
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pf-spring-10k/photofinishd" }
}

override_resource {
  target = aws_cloudwatch_log_group.this["gallery"]
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pf-spring-10k/gallery" }
}
