# ProcessedImageMetadata: the catalog of images, participant entries and the
# unmatched queue, and the operators' jobs and audit trail, all in one table
# keyed by pk/sk strings. Encrypted at rest
# with the AWS owned key (the default, no KMS charges).

resource "aws_dynamodb_table" "metadata" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  # Admin job records carry expiresAt (epoch seconds): DynamoDB deletes them
  # some time after. Photo items never carry it.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  tags = { Role = "ProcessedImageMetadata" }
}
