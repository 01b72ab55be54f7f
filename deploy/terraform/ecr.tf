# Image repositories of this race's stack. Tags are immutable: every release is
# pushed under a new tag and rolled out with -var image_tag=....

resource "aws_ecr_repository" "this" {
  for_each = toset([local.daemon_name, local.gallery_name])

  name                 = "${local.name}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_destroy

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the 20 most recent images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 20
      }
      action = { type = "expire" }
    }]
  })
}

locals {
  daemon_image  = "${aws_ecr_repository.this[local.daemon_name].repository_url}:${var.image_tag}"
  gallery_image = "${aws_ecr_repository.this[local.gallery_name].repository_url}:${coalesce(var.gallery_image_tag, var.image_tag)}"
}
