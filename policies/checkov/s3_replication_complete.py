"""CKV_HADR_9: S3 replication rules are enabled, replicate delete markers, select SSE-KMS encrypted objects and
re-encrypt them with a KMS key of the destination region (that the bucket is replicated at all is checkov's
CKV_AWS_144). Without `source_selection_criteria.sse_kms_encrypted_objects` enabled, S3 does not replicate objects
encrypted with SSE-KMS at all (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html)."""

from hadr_common import HadrCheck, attr, block, blocks, result


class S3ReplicationComplete(HadrCheck):
    check_id = "CKV_HADR_9"
    description = "Ensure S3 replication rules are enabled, replicate delete markers and SSE-KMS objects, and re-encrypt with a KMS key"
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
                and attr(block(block(rule, "source_selection_criteria"), "sse_kms_encrypted_objects"), "status") == "Enabled"
            )

        return result(bool(rules) and all(complete(rule) for rule in rules))


check = S3ReplicationComplete()
