"""CKV_HADR_9: S3 replication rules are enabled, replicate delete markers and re-encrypt with a KMS key of the
destination region (that the bucket is replicated at all is checkov's CKV_AWS_144)."""

from hadr_common import HadrCheck, attr, block, blocks, result


class S3ReplicationComplete(HadrCheck):
    check_id = "CKV_HADR_9"
    description = "Ensure S3 replication rules are enabled, replicate delete markers and re-encrypt with a KMS key"
    resource_types = ("aws_s3_bucket_replication_configuration",)

    def scan_resource_conf(self, conf):
        rules = blocks(conf, "rule")

        def complete(rule):
            destination = block(rule, "destination")
            return (
                attr(rule, "status") == "Enabled"
                and attr(block(rule, "delete_marker_replication"), "status") == "Enabled"
                and bool(attr(destination, "bucket"))
                and bool(attr(block(destination, "encryption_configuration"), "replica_kms_key_id"))
            )

        return result(bool(rules) and all(complete(rule) for rule in rules))


check = S3ReplicationComplete()
