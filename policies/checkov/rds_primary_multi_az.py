"""CKV_HADR_2: an RDS primary is Multi-AZ and keeps automated backups for at least 7 days; an Aurora cluster that is
not a global database's secondary keeps them as long (Aurora's storage spans three zones, and a reader takes over:
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html)."""

from hadr_common import MIN_RETENTION_DAYS, HadrCheck, as_bool, as_int, attr, result

from checkov.common.models.enums import CheckResult


class RdsPrimaryMultiAz(HadrCheck):
    check_id = "CKV_HADR_2"
    description = "Ensure an RDS primary is Multi-AZ with backup retention of at least 7 days"
    resource_types = ("aws_db_instance", "aws_rds_cluster")

    def scan_resource_conf(self, conf):
        if attr(conf, "cluster_identifier") is not None or attr(conf, "engine") in ("aurora-postgresql", "aurora-mysql"):
            if attr(conf, "source_region"):
                return CheckResult.UNKNOWN  # a global database's secondary: CKV_HADR_3
            return result((as_int(attr(conf, "backup_retention_period")) or 0) >= MIN_RETENTION_DAYS)
        if attr(conf, "replicate_source_db"):
            return CheckResult.UNKNOWN  # a replica: CKV_HADR_3
        retention = as_int(attr(conf, "backup_retention_period")) or 0
        return result(as_bool(attr(conf, "multi_az")) and retention >= MIN_RETENTION_DAYS)


check = RdsPrimaryMultiAz()
