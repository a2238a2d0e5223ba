"""CKV_HADR_3: an RDS read replica is cross-region (its source is an RDS DB instance ARN), encrypted with a KMS key of
its own region, and keeps backups for at least 7 days so it is ready to be promoted. An Aurora global database's
secondary cluster (`source_region` set) joins a global cluster, is encrypted with its own `kms_key_id`, and keeps
backups as long, so it is ready to take the writes
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-attaching.html).

A cross-region replica names its source by ARN and takes a KMS key of the replica's region
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.XRgn.html): a literal key ARN in the source's
region means the replica sits in the source's region (or cannot be created), so it fails.
"""

from hadr_common import MIN_RETENTION_DAYS, HadrCheck, arn_region, as_int, attr, result

from checkov.common.models.enums import CheckResult


class RdsCrossRegionReplica(HadrCheck):
    check_id = "CKV_HADR_3"
    description = "Ensure an RDS read replica is cross-region, KMS-encrypted and keeps backups for promotion"
    resource_types = ("aws_db_instance", "aws_rds_cluster")

    def scan_resource_conf(self, conf):
        if attr(conf, "cluster_identifier") is not None or attr(conf, "engine") in ("aurora-postgresql", "aurora-mysql"):
            if not attr(conf, "source_region"):
                return CheckResult.UNKNOWN  # the writer's cluster: CKV_HADR_2
            retention = as_int(attr(conf, "backup_retention_period")) or 0
            key_region = arn_region(attr(conf, "kms_key_id"))
            own_key = bool(attr(conf, "kms_key_id")) and key_region != attr(conf, "source_region")
            return result(bool(attr(conf, "global_cluster_identifier")) and own_key and retention >= MIN_RETENTION_DAYS)
        source = attr(conf, "replicate_source_db")
        if not source:
            return CheckResult.UNKNOWN  # a primary: CKV_HADR_2
        retention = as_int(attr(conf, "backup_retention_period")) or 0
        key = attr(conf, "kms_key_id")
        db_instance = str(source).split(":")[2:6:3] == ["rds", "db"]  # arn:aws:rds:<region>:<account>:db:<name>
        source_region = arn_region(source) if db_instance else None
        key_region = arn_region(key)
        other_region = source_region is not None and (key_region is None or key_region != source_region)
        return result(other_region and bool(key) and retention >= MIN_RETENTION_DAYS)


check = RdsCrossRegionReplica()
