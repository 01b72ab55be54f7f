terraform {
  # Variable validations refer to other variables (1.9+). The offline test suites
  # in tests/ use mock providers with override_during (1.11+).
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # aws_iam_role_policies_exclusive / aws_iam_role_policy_attachments_exclusive
      # appeared in 5.69; the 6.x line renamed attributes this stack uses.
      version = ">= 5.69.0, < 6.0.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
