"""CKV_HADR_8: S3 versioning is Enabled (replication and point-in-time restores of objects need it)."""

from hadr_common import HadrCheck, attr, block, result


class S3VersioningEnabled(HadrCheck):
    check_id = "CKV_HADR_8"
    description = "Ensure S3 bucket versioning is enabled"
    resource_types = ("aws_s3_bucket_versioning",)

    def scan_resource_conf(self, conf):
        return result(attr(block(conf, "versioning_configuration"), "status") == "Enabled")


check = S3VersioningEnabled()
