# Inputs of one race's stack. Only race_id, region, image_tag and the network
# (create_vpc, or vpc_id + subnets) have to be set; everything else has a default
# sized for a mid-size race (tens of thousands of photos).

# --- identity ---------------------------------------------------------------

variable "race_id" {
  description = "Short identifier of the race (3-32 chars, a-z 0-9 and '-'). Every resource name is derived from it."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.race_id))
    error_message = "The race_id must match ^[a-z0-9-]{3,32}$ and start and end with a letter or digit (it becomes part of S3 bucket and load balancer names)."
  }
}

variable "region" {
  description = "AWS region of the whole stack, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The region must look like eu-west-1."
  }
}

variable "tags" {
  description = "Extra tags put on every resource (race and application tags are always added)."
  type        = map(string)
  default     = {}
}

# --- network ----------------------------------------------------------------

variable "create_vpc" {
  description = "Create a small two-AZ VPC (public subnets only, no NAT gateway, S3 and DynamoDB gateway endpoints). When false, vpc_id and public_subnet_ids are required."
  type        = bool
  default     = false
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC created when create_vpc = true."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "The vpc_cidr must be an IPv4 CIDR block."
  }
}

variable "availability_zones" {
  description = "Two or more AZs for the created VPC. Empty = the first two available AZs of the region."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "Existing VPC to deploy into (create_vpc = false)."
  type        = string
  default     = null

  validation {
    condition     = var.create_vpc || var.vpc_id != null
    error_message = "Set vpc_id (and public_subnet_ids) or set create_vpc = true."
  }
}

variable "public_subnet_ids" {
  description = "Existing public subnets (two or more AZs) for the load balancer (create_vpc = false)."
  type        = list(string)
  default     = []

  validation {
    condition     = var.create_vpc || length(var.public_subnet_ids) >= 2
    error_message = "The load balancer needs at least two public subnets in different AZs."
  }
}

variable "service_subnet_ids" {
  description = "Existing subnets for the ECS tasks (create_vpc = false). Empty = public_subnet_ids. Private subnets need a NAT gateway or VPC endpoints for ECR, Logs, Secrets Manager, SQS, S3 and DynamoDB."
  type        = list(string)
  default     = []
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (needed in public subnets without NAT). Null = true with create_vpc, false otherwise."
  type        = bool
  default     = null
}

variable "allowed_ingress_cidrs" {
  description = "IPv4 ranges allowed to reach the load balancer on ports 80/443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

# --- public entry point -------------------------------------------------------

variable "certificate_arn" {
  description = "ACM certificate (same region) for the HTTPS listener. Null = plain HTTP on port 80 only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "The certificate_arn must be an ACM certificate ARN."
  }
}

variable "domain_name" {
  description = "Host name the gallery is served under (covered by certificate_arn). Null = the load balancer's DNS name."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Hosted zone in which to create an alias record for domain_name. Null = manage DNS elsewhere."
  type        = string
  default     = null

  validation {
    condition     = var.route53_zone_id == null || var.domain_name != null
    error_message = "The route53_zone_id needs domain_name."
  }
}

variable "admin_allowed_cidrs" {
  description = "Source ranges (at most 4) allowed to reach photofinishd's /admin/* API through the load balancer. Empty = the admin API stays inside the VPC. Needs certificate_arn: the bearer token never travels over plain HTTP."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.admin_allowed_cidrs) <= 4
    error_message = "At most 4 admin_allowed_cidrs (a load balancer rule holds 5 condition values, one is the path)."
  }

  validation {
    condition     = length(var.admin_allowed_cidrs) == 0 || var.certificate_arn != null
    error_message = "Exposing /admin/* requires certificate_arn (HTTPS)."
  }
}

variable "admin_cidrs" {
  description = "Source ranges (at most 4, together with admin_allowed_cidrs) allowed to reach the console (/console*, /session) and /admin/* through the load balancer. Empty = none of it is reachable from the internet. Needs certificate_arn."
  type        = list(string)
  default     = []

  validation {
    condition     = length(distinct(concat(var.admin_cidrs, var.admin_allowed_cidrs))) <= 4
    error_message = "At most 4 admin_cidrs and admin_allowed_cidrs together (a load balancer rule holds 5 condition values, one is the path)."
  }

  validation {
    condition     = length(var.admin_cidrs) == 0 || var.certificate_arn != null
    error_message = "Exposing the console and /admin/* requires certificate_arn (HTTPS)."
  }
}

variable "upload_cidrs" {
  description = "Source ranges (at most 4) from which photographers reach the console (/console*, /session) and /uploads/*; the ingress bucket then allows the console's origin by CORS. Empty = not reachable from the internet. Needs certificate_arn."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.upload_cidrs) <= 4
    error_message = "At most 4 upload_cidrs (a load balancer rule holds 5 condition values, one is the path)."
  }

  validation {
    condition     = length(var.upload_cidrs) == 0 || var.certificate_arn != null
    error_message = "Exposing uploads requires certificate_arn (HTTPS)."
  }
}

variable "enable_cdn" {
  description = "Put a CloudFront distribution (origin access control) in front of ProcessedMedia and serve photo URLs from it instead of presigned S3 URLs."
  type        = bool
  default     = false
}

variable "cdn_price_class" {
  description = "CloudFront price class (PriceClass_100 = North America + Europe edges)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cdn_price_class)
    error_message = "The cdn_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

# --- images -------------------------------------------------------------------

variable "image_tag" {
  description = "Tag of the photofinishd image in this stack's ECR repository (tags are immutable: push a new tag per release)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "The image_tag must be a valid Docker tag."
  }
}

variable "gallery_image_tag" {
  description = "Tag of the gallery image. Null = image_tag."
  type        = string
  default     = null
}

variable "cpu_architecture" {
  description = "CPU architecture the images were built for: X86_64 or ARM64 (Graviton, cheaper)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "The cpu_architecture must be X86_64 or ARM64."
  }
}

# --- photofinishd -------------------------------------------------------------

variable "daemon_cpu" {
  description = "Fargate CPU units per photofinishd task (1024 = 1 vCPU)."
  type        = number
  default     = 2048

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.daemon_cpu)
    error_message = "The daemon_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "daemon_memory" {
  description = "Fargate memory (MiB) per photofinishd task; a 24 MP decode needs roughly 150 MiB per worker."
  type        = number
  default     = 4096
}

variable "daemon_workers" {
  description = "Image worker threads per task (PHOTOFINISH_WORKERS). Null = one per vCPU."
  type        = number
  default     = null

  validation {
    condition     = coalesce(var.daemon_workers, 1) >= 1 && coalesce(var.daemon_workers, 1) <= 256 && floor(coalesce(var.daemon_workers, 1)) == coalesce(var.daemon_workers, 1)
    error_message = "The daemon_workers must be a whole number from 1 to 256."
  }
}

variable "daemon_min_tasks" {
  description = "Minimum photofinishd tasks (at least 1: it also answers the gallery's lookups)."
  type        = number
  default     = 1

  validation {
    condition     = var.daemon_min_tasks >= 1
    error_message = "The daemon_min_tasks must be at least 1."
  }
}

variable "daemon_max_tasks" {
  description = "Maximum photofinishd tasks when the queue backs up."
  type        = number
  default     = 10

  validation {
    condition     = var.daemon_max_tasks >= var.daemon_min_tasks
    error_message = "The daemon_max_tasks must be >= daemon_min_tasks."
  }
}

variable "daemon_target_backlog_per_task" {
  description = "Target queue messages per running task (autoscaling). About (acceptable delay in s) x (photos per second one task handles)."
  type        = number
  default     = 20

  validation {
    condition     = var.daemon_target_backlog_per_task > 0
    error_message = "The daemon_target_backlog_per_task must be positive."
  }
}

variable "daemon_use_fargate_spot" {
  description = "Run photofinishd tasks on Fargate Spot (about 70% cheaper; interrupted tasks drain on SIGTERM and their messages reappear)."
  type        = bool
  default     = false
}

variable "log_level" {
  description = "PHOTOFINISH_LOG_LEVEL."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "The log_level must be debug, info, warn or error."
  }
}

variable "queue_visibility_timeout" {
  description = "Visibility timeout (s) of the ingest queue, also given to the daemon (PHOTOFINISH_VISIBILITY_TIMEOUT). Sized for download + pipeline + upload of one photo with margin; the daemon extends it for long jobs."
  type        = number
  default     = 120

  validation {
    condition     = var.queue_visibility_timeout >= 30 && var.queue_visibility_timeout <= 43200
    error_message = "The queue_visibility_timeout must be between 30 and 43200 seconds."
  }
}

variable "drain_seconds" {
  description = "PHOTOFINISH_DRAIN_SECONDS: time given to in-flight work on SIGTERM; must stay below the container stopTimeout (30 s)."
  type        = number
  default     = 25

  validation {
    condition     = var.drain_seconds >= 1 && var.drain_seconds < 30
    error_message = "The drain_seconds must be between 1 and 29 (ECS stops the container after 30 s)."
  }
}

variable "ingress_prefix" {
  description = "Only keys under this prefix of MediaIngress are processed (S3 notification filter and PHOTOFINISH_INGRESS_PREFIX). Empty = the whole bucket."
  type        = string
  default     = ""
}

variable "roster_codes" {
  description = "The race's roster: participant codes (PHOTOFINISH_ROSTER_CODES). Lookups then say whether a code is registered, suggestions keep to the roster and operators see codes with photos that are on no roster. Empty = no roster from here (a CSV can still be given as daemon_settings PHOTOFINISH_ROSTER)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.roster_codes : can(regex("^\\s*[A-Za-z0-9_.-]{1,64}\\s*$", c))])
    error_message = "Each roster code must be 1 to 64 of A-Z a-z 0-9 _ . - (as the daemon normalises codes)."
  }
}

variable "overlay_s3_uri" {
  description = "Optional watermark PNG as s3://bucket/key (PHOTOFINISH_OVERLAY). The daemon role gets s3:GetObject on exactly that object."
  type        = string
  default     = null

  validation {
    condition     = var.overlay_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+", var.overlay_s3_uri))
    error_message = "The overlay_s3_uri must look like s3://bucket/key.png."
  }
}

variable "daemon_settings" {
  description = "Further photofinishd settings, e.g. { PHOTOFINISH_SYMBOLOGIES = \"qrcode,code128\" }. Settings the stack wires itself (buckets, table, queue, listen address, workers, media URL, visibility, drain, log level, admin token, overlay) cannot be set here."
  type        = map(string)
  default     = {}

  validation {
    # photofinishd-env:begin (names the daemon documents in --help)
    condition = alltrue([for k in keys(var.daemon_settings) : contains([
      "PHOTOFINISH_MAX_INPUT_BYTES",
      "PHOTOFINISH_MAX_INPUT_PIXELS",
      "PHOTOFINISH_SYMBOLOGIES",
      "PHOTOFINISH_CODE_PATTERN",
      "PHOTOFINISH_FULLSIZE_MAX",
      "PHOTOFINISH_THUMBNAIL_MAX",
      "PHOTOFINISH_JPEG_QUALITY",
      "PHOTOFINISH_WEBP",
      "PHOTOFINISH_OVERLAY_GRAVITY",
      "PHOTOFINISH_OVERLAY_MARGIN",
      "PHOTOFINISH_OVERLAY_WIDTH",
      "PHOTOFINISH_OVERLAY_OPACITY",
      "PHOTOFINISH_MAX_INFLIGHT",
      "PHOTOFINISH_URL_TTL",
      "PHOTOFINISH_CORS_ORIGINS",
      "PHOTOFINISH_CACHE_TTL",
      "PHOTOFINISH_ROSTER",
    ], k)])
    # photofinishd-env:end
    error_message = "The daemon_settings keys must be photofinishd settings not managed by the stack (see the variable description and docs/deploy.md)."
  }
}

variable "admin_token_secret_arn" {
  description = "Existing Secrets Manager secret holding the admin bearer token. Null = the stack creates a secret with a random token."
  type        = string
  default     = null
}

variable "session_key_secret_arn" {
  description = "Existing Secrets Manager secret holding the console session key (PHOTOFINISH_SESSION_KEY, at least 32 characters). Null = the stack creates one with a random key."
  type        = string
  default     = null
}

variable "admin_tokens_secret_arn" {
  description = "Optional Secrets Manager secret holding named admin tokens, name:secret,name:secret (PHOTOFINISH_ADMIN_TOKENS), one per operator so the audit trail names who acted."
  type        = string
  default     = null
}

# --- gallery ------------------------------------------------------------------

variable "gallery_cpu" {
  description = "Fargate CPU units per gallery task."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.gallery_cpu)
    error_message = "The gallery_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "gallery_memory" {
  description = "Fargate memory (MiB) per gallery task."
  type        = number
  default     = 1024
}

variable "gallery_min_tasks" {
  description = "Minimum gallery tasks."
  type        = number
  default     = 1

  validation {
    condition     = var.gallery_min_tasks >= 1
    error_message = "The gallery_min_tasks must be at least 1."
  }
}

variable "gallery_max_tasks" {
  description = "Maximum gallery tasks (CPU target tracking)."
  type        = number
  default     = 4

  validation {
    condition     = var.gallery_max_tasks >= var.gallery_min_tasks
    error_message = "The gallery_max_tasks must be >= gallery_min_tasks."
  }
}

variable "gallery_target_cpu" {
  description = "Average CPU utilisation (%) the gallery service is scaled to."
  type        = number
  default     = 60
}

variable "gallery_health_check_path" {
  description = "Health check path of the gallery container on port 3000."
  type        = string
  default     = "/healthz"
}

variable "gallery_environment" {
  description = "Theming of the gallery: GALLERY_* variables (e.g. GALLERY_RACE_NAME)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.gallery_environment) : can(regex("^GALLERY_[A-Z0-9_]+$", k))])
    error_message = "The gallery_environment keys must be GALLERY_* names."
  }
}

# --- data, logs, alarms ---------------------------------------------------------

variable "deletion_protection" {
  description = "DynamoDB deletion protection. Set to false (and apply) before destroying the stack."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets and ECR repositories. Keep false during a race."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of both services."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified by the alarms."
  type        = list(string)
  default     = []
}
