"""Aurora PostgreSQL global database: the global cluster, and one regional cluster per region (the primary's writer
and reader, or the standby's secondary), with the SSM parameter that tells the app tier where its writer is.

Rules from the Aurora User Guide this module encodes:
- A global database's clusters take memory-optimized classes and the same major.minor version; the config checks
  both (modules.config.DatabaseSettings;
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html).
- A secondary cluster names no master user, password or database (it takes the primary's), and, encrypted, a KMS
  key of its own region with the primary's region as `source_region`
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-attaching.html).
- RDS-managed master secrets are not offered for clusters of a global database
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html), so the master secret is
  ours (modules.database.MasterSecret), as for the RDS replica.
- rds.global_db_rpo (20 s or more) blocks commits while every secondary lags further; with two regions AWS advises
  leaving it at its default in the secondary's parameter group, so a failover does not leave commits waiting for a
  region that is gone (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html).
- Replication lag is reported in the secondary region only, as AuroraGlobalDBRPOLag in milliseconds (same page).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import RdsClusterParameterGroup, RdsClusterParameterGroupParameter
from cdktf_cdktf_provider_aws.rds_global_cluster import RdsGlobalCluster
from constructs import Construct

from modules.config import DatabaseSettings
from modules.database import SERVER_PARAMETERS, RegionalDatabase, master_password_from
from modules.errors import InputError
from modules.kms import EncryptionKey
from modules.suppressions import suppress

AURORA_ENGINE = "aurora-postgresql"


def aurora_family(engine_version: str) -> str:
    """The cluster parameter-group family of an Aurora PostgreSQL version: "16.4" -> "aurora-postgresql16"."""
    return f"{AURORA_ENGINE}{engine_version.split('.', maxsplit=1)[0]}"


def cluster_parameter_group_name(name_prefix: str, engine_version: str) -> str:
    """The cluster parameter group of `engine_version`'s family (the same name in both regions)."""
    return f"{name_prefix}-{aurora_family(engine_version)}"


def instance_identifiers(cluster_identifier: str, count: int) -> list[str]:
    """The cluster's instances: `<cluster>-1` (the writer where the cluster writes), `<cluster>-2`, ..."""
    return [f"{cluster_identifier}-{number}" for number in range(1, count + 1)]


class AuroraGlobalCluster(Construct):
    """The global cluster: engine, version and encryption that every regional cluster joins; deletion protection."""

    def __init__(self, scope: Construct, id: str, *, identifier: str, settings: DatabaseSettings) -> None:
        super().__init__(scope, id)
        self.identifier = identifier
        self.cluster = RdsGlobalCluster(
            self,
            "cluster",
            global_cluster_identifier=identifier,
            engine=AURORA_ENGINE,
            engine_version=settings.engine_version,
            storage_encrypted=True,
            deletion_protection=True,
            tags={"Name": identifier},
        )


class AuroraRegionalCluster(RegionalDatabase):
    """One region's cluster of the global database `global_cluster_identifier`, encrypted with `key`, TLS only, with
    its subnet group (`<name_prefix>-db`), cluster parameter group, enhanced-monitoring role, `instance_count`
    instances spread over `availability_zones`, and a SecureString parameter `writer_parameter_name` holding
    {host, port, writable, secret_id} for the app tier (the cluster endpoint).

    Default: the primary (`source_region=None`): the master user, its password read (ephemerally, never stored) from
    the secret `master_secret_name`, and rds.global_db_rpo = `settings.global_rpo_seconds` when set. With
    `source_region` it is a secondary cluster: no credentials, the primary's region as its source.
    Default: deletion protection, a final snapshot, IAM authentication, Performance Insights (7 days), 60 s
    enhanced monitoring, PostgreSQL logs to CloudWatch. After a failover or switchover the global database decides
    which cluster writes: Terraform ignores the replication source and the parameter's value once written.
    """

    ROTATION_VARIABLE = "DB_CLUSTER_ID"
    ROTATION_ACTIONS = ("rds:ModifyDBCluster", "rds:DescribeDBClusters")

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        identifier: str,
        global_cluster_identifier: str,
        settings: DatabaseSettings,
        subnet_ids: list[str],
        availability_zones: list[str],
        security_group_id: str,
        key: EncryptionKey,
        name_prefix: str,
        monitoring_role_name: str,
        writer_parameter_name: str,
        master_secret_name: str,
        instance_count: int,
        source_region: str | None = None,
        master_username: str = "app_admin",
    ) -> None:
        super().__init__(scope, id)
        if not 1 <= instance_count <= 16:
            raise InputError.single(
                f"{self.node.path}.instance_count", instance_count, "expected 1 to 16 instances (a global database's cluster)"
            )
        self._identifier = identifier
        self.master_secret_name = master_secret_name
        self.is_secondary = source_region is not None
        subnet_group, monitoring_role_arn = self._subnets_and_monitoring(name_prefix, subnet_ids, monitoring_role_name)
        parameters = self._parameters(name_prefix, settings)
        self.cluster = self._cluster(
            identifier,
            global_cluster_identifier,
            settings,
            subnet_group=subnet_group,
            parameter_group=parameters.name,
            security_group_id=security_group_id,
            key=key,
            source_region=source_region,
            master_username=master_username,
        )
        self.instances = self._instances(
            identifier,
            settings,
            availability_zones=availability_zones,
            key=key,
            monitoring_role_arn=monitoring_role_arn,
            count=instance_count,
        )
        writer = {
            "host": self.cluster.endpoint,
            "port": self.cluster.port,
            "writable": not self.is_secondary,
            "secret_id": master_secret_name,
        }
        self.writer_parameter = self._writer_parameter(writer_parameter_name, key, writer)

    def _cluster(
        self,
        identifier: str,
        global_cluster_identifier: str,
        settings: DatabaseSettings,
        *,
        subnet_group: str,
        parameter_group: str,
        security_group_id: str,
        key: EncryptionKey,
        source_region: str | None,
        master_username: str,
    ) -> RdsCluster:
        """The regional cluster: the primary's with the master user (password from the secret), or a secondary."""
        credentials: dict[str, Any] = (
            {"source_region": source_region}
            if source_region
            else {
                "master_username": master_username,
                "master_password_wo": master_password_from(self, self.master_secret_name),
                "master_password_wo_version": 1,
            }
        )
        cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=identifier,
            engine=AURORA_ENGINE,
            engine_version=settings.engine_version,
            global_cluster_identifier=global_cluster_identifier,
            db_subnet_group_name=subnet_group,
            db_cluster_parameter_group_name=parameter_group,
            vpc_security_group_ids=[security_group_id],
            storage_encrypted=True,
            kms_key_id=key.key_arn,
            backup_retention_period=settings.backup_retention_days,
            preferred_backup_window="03:00-04:00",
            preferred_maintenance_window="sun:04:30-sun:05:30",
            deletion_protection=True,
            copy_tags_to_snapshot=True,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=["postgresql"],
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            # The global database sets the source after a failover or switchover (the provider's advice).
            lifecycle={"ignore_changes": ["replication_source_identifier"]},
            tags={"Name": identifier},
            **credentials,
        )
        suppress(
            cluster,
            "CKV2_AWS_8",
            "in the region's AWS Backup plan by its deterministic ARN (backup_resource_arns of the regional stack);"
            " checkov follows references only",
        )
        return cluster

    def _instances(
        self,
        identifier: str,
        settings: DatabaseSettings,
        *,
        availability_zones: list[str],
        key: EncryptionKey,
        monitoring_role_arn: str,
        count: int,
    ) -> list[RdsClusterInstance]:
        """`count` instances, one per zone in turn (the first is the writer where the cluster writes)."""
        instances = [
            RdsClusterInstance(
                self,
                f"instance-{number}",
                identifier=instance,
                cluster_identifier=self.cluster.cluster_identifier,
                engine=AURORA_ENGINE,
                engine_version=settings.engine_version,
                instance_class=settings.instance_class,
                availability_zone=Fn.element(availability_zones, number - 1),
                publicly_accessible=False,
                # Minor upgrades of a global database's clusters are the operator's (they do not apply automatically).
                auto_minor_version_upgrade=False,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=key.key_arn,
                performance_insights_retention_period=7,
                monitoring_interval=60,
                monitoring_role_arn=monitoring_role_arn,
                promotion_tier=number - 1,
                copy_tags_to_snapshot=True,
                tags={"Name": instance},
            )
            for number, instance in enumerate(instance_identifiers(identifier, count), start=1)
        ]
        for instance in instances:
            suppress(
                instance,
                "CKV_AWS_226",
                "minor upgrades do not apply automatically to a global database's clusters; the operator upgrades every region"
                " (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.html)",
            )
        return instances

    def _parameters(self, name_prefix: str, settings: DatabaseSettings) -> RdsClusterParameterGroup:
        """TLS only, connections and slow statements logged; on the primary, rds.global_db_rpo when configured."""
        values: Mapping[str, str] = dict(SERVER_PARAMETERS)
        if not self.is_secondary and settings.global_rpo_seconds is not None:
            values = {**values, "rds.global_db_rpo": str(settings.global_rpo_seconds)}
        name = cluster_parameter_group_name(name_prefix, settings.engine_version)
        return RdsClusterParameterGroup(
            self,
            "parameters",
            name=name,
            family=aurora_family(settings.engine_version),
            description="TLS only; logs" + ("; commits wait past the global RPO" if "rds.global_db_rpo" in values else ""),
            parameter=[RdsClusterParameterGroupParameter(name=key, value=value) for key, value in values.items()],
            tags={"Name": name},
        )

    @property
    def arn(self) -> str:
        return self.cluster.arn

    @property
    def identifier(self) -> str:
        return self.cluster.cluster_identifier
