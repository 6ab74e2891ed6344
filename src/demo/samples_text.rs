//! The long texts of the sample traffic (plans, policies, configs), kept apart from the
//! logic in `samples.rs`. `{placeholders}` are filled per sample.

/// A `terraform apply` as a unified diff over three files: a widened security group, a
/// resized database, and a bucket losing its public-access block.
pub const TERRAFORM_DIFF: &str = r#"diff --git a/envs/production/network.tf b/envs/production/network.tf
index 4c1d2e7..9a7f0b3 100644
--- a/envs/production/network.tf
+++ b/envs/production/network.tf
@@ -18,12 +18,12 @@ resource "aws_security_group" "db" {
   vpc_id      = module.vpc.vpc_id
 
   ingress {
-    description = "Postgres from app subnets"
+    description = "Postgres from anywhere (temporary, migration)"
     from_port   = 5432
     to_port     = 5432
     protocol    = "tcp"
-    cidr_blocks = module.vpc.private_subnets_cidr_blocks
+    cidr_blocks = ["0.0.0.0/0"]
   }
 
   egress {
     from_port   = 0
diff --git a/envs/production/database.tf b/envs/production/database.tf
index 77ab310..e02c4d9 100644
--- a/envs/production/database.tf
+++ b/envs/production/database.tf
@@ -3,10 +3,10 @@ resource "aws_db_instance" "orders" {
   identifier              = "orders-prod"
   engine                  = "postgres"
   engine_version          = "16.4"
-  instance_class          = "db.r6g.xlarge"
+  instance_class          = "db.r6g.{db_size}"
   allocated_storage       = 500
   multi_az                = true
-  backup_retention_period = 14
+  backup_retention_period = 7
   deletion_protection     = true
   apply_immediately       = true
 }
diff --git a/envs/production/storage.tf b/envs/production/storage.tf
index 1b2c3d4..0000000 100644
--- a/envs/production/storage.tf
+++ b/envs/production/storage.tf
@@ -9,11 +9,3 @@ resource "aws_s3_bucket" "invoices" {
   bucket = "acme-invoices-prod"
 }
 
-resource "aws_s3_bucket_public_access_block" "invoices" {
-  bucket                  = aws_s3_bucket.invoices.id
-  block_public_acls       = true
-  block_public_policy     = true
-  ignore_public_acls      = true
-  restrict_public_buckets = true
-}
-
"#;

/// An IAM grant as a unified diff of the role's policy document.
pub const IAM_DIFF: &str = r#"--- a/iam/roles/{role}.json
+++ b/iam/roles/{role}.json
@@ -1,14 +1,19 @@
 {
   "Version": "2012-10-17",
   "Statement": [
     {
       "Sid": "ReadDeployArtifacts",
       "Effect": "Allow",
       "Action": ["s3:GetObject", "s3:ListBucket"],
       "Resource": [
         "arn:aws:s3:::acme-deploy-artifacts",
         "arn:aws:s3:::acme-deploy-artifacts/*"
       ]
+    },
+    {
+      "Sid": "BreakGlassAdmin",
+      "Effect": "Allow",
+      "Action": "*",
+      "Resource": "*"
     }
   ]
 }
"#;

/// The checkout service's config before a change.
pub const CONFIG_BEFORE: &str = r#"service: checkout
replicas: 6
http:
  port: 8080
  request_timeout_ms: 2000
payments:
  provider: stripe
  timeout_ms: 4000
  retries: 2
database:
  pool_size: 20
  statement_timeout_ms: 5000
features:
  one_click_checkout: false
  new_tax_engine: false
"#;

/// The same config after the change; `{replicas}` and `{timeout}` vary per sample.
pub const CONFIG_AFTER: &str = r#"service: checkout
replicas: {replicas}
http:
  port: 8080
  request_timeout_ms: 2000
payments:
  provider: stripe
  timeout_ms: {timeout}
  retries: 0
database:
  pool_size: 60
  statement_timeout_ms: 5000
features:
  one_click_checkout: true
  new_tax_engine: false
"#;
