# Least privilege: the daemon's task role grants exactly the listed actions on
# exactly this race's bucket objects, queue and table; the gallery's grants
# nothing; no action is a wildcard, no resource is "*".

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

run "daemon_task_role_grants_exactly_what_it_needs" {
  command = plan

  assert {
    condition     = aws_iam_role_policy.daemon_task.role == aws_iam_role.daemon_task.id
    error_message = "The policy must be attached to the daemon task role."
  }
  assert {
    condition     = aws_ecs_task_definition.daemon.task_role_arn == "arn:aws:iam::123456789012:role/pf-spring-10k-photofinishd-task"
    error_message = "photofinishd must run with the daemon task role."
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.daemon_task.policy).Statement :
    s.Effect == "Allow" && toset(keys(s)) == toset(["Sid", "Effect", "Action", "Resource"])])
    error_message = "Only plain Allow statements (no NotAction/NotResource/Condition tricks)."
  }
  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.daemon_task.policy).Statement :
      [for a in s.Action : [for r in s.Resource : "${a} ${r}"]]
      ])) == toset([
      "s3:GetObject arn:aws:s3:::pf-spring-10k-ingress-123456789012/*",
      "s3:DeleteObject arn:aws:s3:::pf-spring-10k-ingress-123456789012/*",
      "s3:ListBucket arn:aws:s3:::pf-spring-10k-ingress-123456789012",
      "s3:PutObject arn:aws:s3:::pf-spring-10k-processed-123456789012/*",
      "s3:DeleteObject arn:aws:s3:::pf-spring-10k-processed-123456789012/*",
      "s3:GetObject arn:aws:s3:::pf-spring-10k-processed-123456789012/*",
      "sqs:ReceiveMessage arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest",
      "sqs:DeleteMessage arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest",
      "sqs:ChangeMessageVisibility arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest",
      "sqs:GetQueueAttributes arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest",
      "sqs:SendMessage arn:aws:sqs:eu-west-1:123456789012:pf-spring-10k-ingest",
      "dynamodb:GetItem arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:PutItem arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:UpdateItem arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:DeleteItem arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:ConditionCheckItem arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:Query arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:Scan arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:BatchGetItem arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
      "dynamodb:BatchWriteItem arn:aws:dynamodb:eu-west-1:123456789012:table/pf-spring-10k-processed-image-metadata",
    ])
    error_message = "The daemon task role must grant exactly the listed (action, resource) pairs."
  }
  assert {
    condition = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.daemon_task.policy).Statement :
    [for a in s.Action : !strcontains(a, "*")]]))
    error_message = "No wildcard actions."
  }
  assert {
    # The only wildcard allowed is "all keys" of this race's two buckets.
    condition = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.daemon_task.policy).Statement :
      [for r in s.Resource : !strcontains(r, "*") || contains([
        "arn:aws:s3:::pf-spring-10k-ingress-123456789012/*",
        "arn:aws:s3:::pf-spring-10k-processed-123456789012/*",
    ], r)]]))
    error_message = "No wildcard resources other than the objects of this race's buckets."
  }
  assert {
    condition     = aws_iam_role_policies_exclusive.daemon_task.policy_names == toset(["photofinishd"]) && length(aws_iam_role_policy_attachments_exclusive.daemon_task.policy_arns) == 0
    error_message = "The daemon task role must carry this one inline policy and no managed policy."
  }
}

run "gallery_task_role_has_no_permissions" {
  command = plan

  assert {
    condition     = aws_ecs_task_definition.gallery.task_role_arn == "arn:aws:iam::123456789012:role/pf-spring-10k-gallery-task"
    error_message = "The gallery must run with its own task role."
  }
  assert {
    condition     = length(aws_iam_role_policies_exclusive.gallery_task.policy_names) == 0
    error_message = "The gallery task role must have no inline policy (enforced as an empty exclusive set)."
  }
  assert {
    condition     = length(aws_iam_role_policy_attachments_exclusive.gallery_task.policy_arns) == 0
    error_message = "The gallery task role must have no managed policy (enforced as an empty exclusive set)."
  }
  assert {
    condition     = aws_iam_role_policies_exclusive.gallery_task.role_name == aws_iam_role.gallery_task.name && aws_iam_role_policy_attachments_exclusive.gallery_task.role_name == aws_iam_role.gallery_task.name
    error_message = "The exclusive sets must target the gallery task role."
  }
}

run "roles_trust_only_ecs_tasks_of_this_account" {
  command = plan

  assert {
    condition = alltrue([for r in [aws_iam_role.execution, aws_iam_role.daemon_task, aws_iam_role.gallery_task] :
      jsondecode(r.assume_role_policy).Statement[0].Principal == { Service = "ecs-tasks.amazonaws.com" } &&
    jsondecode(r.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"])
    error_message = "Task and execution roles must be assumable by ECS tasks of this account only."
  }
}

run "execution_role_is_scoped" {
  command = plan

  assert {
    condition     = aws_ecs_task_definition.daemon.execution_role_arn == "arn:aws:iam::123456789012:role/pf-spring-10k-ecs-execution" && aws_ecs_task_definition.gallery.execution_role_arn == "arn:aws:iam::123456789012:role/pf-spring-10k-ecs-execution"
    error_message = "Both task definitions must use the execution role."
  }
  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.execution.policy).Statement :
      [for a in s.Action : [for r in flatten([s.Resource]) : "${a} ${r}"]]
      ])) == toset([
      "ecr:GetAuthorizationToken *",
      "ecr:BatchCheckLayerAvailability arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/photofinishd",
      "ecr:BatchCheckLayerAvailability arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/gallery",
      "ecr:BatchGetImage arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/photofinishd",
      "ecr:BatchGetImage arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/gallery",
      "ecr:GetDownloadUrlForLayer arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/photofinishd",
      "ecr:GetDownloadUrlForLayer arn:aws:ecr:eu-west-1:123456789012:repository/pf-spring-10k/gallery",
      "logs:CreateLogStream arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pf-spring-10k/photofinishd:log-stream:*",
      "logs:CreateLogStream arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pf-spring-10k/gallery:log-stream:*",
      "logs:PutLogEvents arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pf-spring-10k/photofinishd:log-stream:*",
      "logs:PutLogEvents arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/pf-spring-10k/gallery:log-stream:*",
      "secretsmanager:GetSecretValue arn:aws:secretsmanager:eu-west-1:123456789012:secret:mock-AbCdEf",
    ])
    error_message = "The execution role may pull the two images, write the two log groups and read the admin token; ecr:GetAuthorizationToken is the one action AWS only grants on \"*\"."
  }
}

run "overlay_adds_read_of_exactly_that_object" {
  command = plan

  variables {
    overlay_s3_uri = "s3://race-branding/spring-10k/overlay.png"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.daemon_task.policy).Statement : s if s.Sid == "ReadOverlay"] == [{
      Sid      = "ReadOverlay"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = ["arn:aws:s3:::race-branding/spring-10k/overlay.png"]
    }]
    error_message = "An overlay adds s3:GetObject on exactly that object."
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.daemon_task.policy).Statement) == 6
    error_message = "The overlay statement comes in addition to the five base statements."
  }
  assert {
    condition     = local.daemon_environment.PHOTOFINISH_OVERLAY == "s3://race-branding/spring-10k/overlay.png"
    error_message = "The overlay must reach the daemon."
  }
}

run "uploads_are_signed_with_put_under_the_ingress_prefix" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0b1c2d3e-0000-4000-8000-123456789abc"
    domain_name     = "photos.spring10k.example"
    upload_cidrs    = ["198.51.100.0/24"]
    ingress_prefix  = "race/"
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.daemon_task.policy).Statement : s if s.Sid == "SignUploads"] == [{
      Sid      = "SignUploads"
      Effect   = "Allow"
      Action   = ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"]
      Resource = ["arn:aws:s3:::pf-spring-10k-ingress-123456789012/race/*"]
    }]
    error_message = "With upload_cidrs the daemon signs photographers' PutObject and multipart uploads: put, list parts and abort under the ingress prefix only."
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.daemon_task.policy).Statement) == 6
    error_message = "The upload statement comes in addition to the five base statements."
  }
}
