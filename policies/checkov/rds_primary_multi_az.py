"""CKV_HADR_2: an RDS primary is Multi-AZ and keeps automated backups for at least 7 days."""

from hadr_common import MIN_RETENTION_DAYS, HadrCheck, as_bool, as_int, attr, result

from checkov.common.models.enums import CheckResult


class RdsPrimaryMultiAz(HadrCheck):
    check_id = "CKV_HADR_2"
    description = "Ensure an RDS primary is Multi-AZ with backup retention of at least 7 days"
    resource_types = ("aws_db_instance",)

    def scan_resource_conf(self, conf):
        if attr(conf, "replicate_source_db"):
            return CheckResult.UNKNOWN  # a replica: CKV_HADR_3
        retention = as_int(attr(conf, "backup_retention_period")) or 0
        return result(as_bool(attr(conf, "multi_az")) and retention >= MIN_RETENTION_DAYS)


check = RdsPrimaryMultiAz()
