"""CKV_HADR_3: an RDS read replica is cross-region (its source is an ARN), encrypted with a KMS key of its own
region, and keeps backups for at least 7 days so it is ready to be promoted."""

from hadr_common import MIN_RETENTION_DAYS, HadrCheck, as_int, attr, result

from checkov.common.models.enums import CheckResult


class RdsCrossRegionReplica(HadrCheck):
    check_id = "CKV_HADR_3"
    description = "Ensure an RDS read replica is cross-region, KMS-encrypted and keeps backups for promotion"
    resource_types = ("aws_db_instance",)

    def scan_resource_conf(self, conf):
        source = attr(conf, "replicate_source_db")
        if not source:
            return CheckResult.UNKNOWN  # a primary: CKV_HADR_2
        retention = as_int(attr(conf, "backup_retention_period")) or 0
        return result(str(source).startswith("arn:") and bool(attr(conf, "kms_key_id")) and retention >= MIN_RETENTION_DAYS)


check = RdsCrossRegionReplica()
