"""RDS PostgreSQL: a Multi-AZ primary, or its cross-region read replica, and the SSM parameter that tells the
app tier where its writer is.

Rules from the RDS User Guide this construct encodes:
- A cross-region replica names its source by ARN and needs a subnet group in its own region
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.XRgn.html).
- Parameter-group families are per engine major version ("postgres16"); the family must match the engine
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/parameter-groups-overview.html).
- Backups of 7+ days are required for a source of read replicas (any retention > 0 enables them;
  https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.base import RegionalStack
from modules.config import DatabaseSettings
from modules.errors import InputError
from modules.iam import ServiceRole
from modules.kms import EncryptionKey

POSTGRES_PORT = 5432
#: Server parameters of every instance: TLS only, connections and slow statements logged.
SERVER_PARAMETERS: Mapping[str, str] = {"rds.force_ssl": "1", "log_connections": "1", "log_min_duration_statement": "1000"}


def postgres_family(engine_version: str) -> str:
    """The parameter-group family of a PostgreSQL version: "16.4" -> "postgres16"."""
    return f"postgres{engine_version.split('.', maxsplit=1)[0]}"


class PostgresDatabase(Construct):
    """A PostgreSQL instance, Multi-AZ, encrypted with `key`, TLS only, with its subnet group (`<name_prefix>-db`),
    parameter group (`<name_prefix>-postgres<major>`),
    enhanced-monitoring role and a SecureString parameter `writer_parameter_name` holding
    {host, port, writable, secret_arn} for the app tier.

    Default: a primary (RDS keeps the master password in Secrets Manager under `key`). With `replicate_source_arn`
    it is a read replica of that instance (same settings, no credentials of its own; `writable` false).
    Default: deletion protection, a final snapshot, IAM authentication, Performance Insights (7 days), 60 s
    enhanced monitoring, PostgreSQL and upgrade logs to CloudWatch, minor-version upgrades.
    The parameter's value belongs to the failover once written: Terraform ignores later changes to it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        identifier: str,
        settings: DatabaseSettings,
        subnet_ids: list[str],
        security_group_id: str,
        key: EncryptionKey,
        name_prefix: str,
        monitoring_role_name: str,
        writer_parameter_name: str,
        replicate_source_arn: str | None = None,
        master_username: str = "app_admin",
    ) -> None:
        super().__init__(scope, id)
        if len(subnet_ids) < 2:
            raise InputError.single(f"{self.node.path}.subnet_ids", subnet_ids, "expected subnets in at least 2 AZs (Multi-AZ)")
        self.is_replica = replicate_source_arn is not None
        common = self._instance_settings(
            identifier=identifier,
            settings=settings,
            subnet_ids=subnet_ids,
            security_group_id=security_group_id,
            key=key,
            name_prefix=name_prefix,
            monitoring_role_name=monitoring_role_name,
        )
        secret_arn = self._instance(common, settings, key, replicate_source_arn, master_username)
        writer = {"host": self.instance.address, "port": self.instance.port, "writable": not self.is_replica, "secret_arn": secret_arn}
        self.writer_parameter = SsmParameter(
            self,
            "writer-parameter",
            name=writer_parameter_name,
            type="SecureString",
            key_id=key.key_arn,
            value=Fn.jsonencode(writer),
            description="Where the app tier finds its database writer; the failover function rewrites it",
            # The failover function owns the value once it has run; Terraform must not point the app back.
            lifecycle={"ignore_changes": ["value"]},
            tags={"Name": writer_parameter_name},
        )

    def _instance_settings(
        self,
        *,
        identifier: str,
        settings: DatabaseSettings,
        subnet_ids: list[str],
        security_group_id: str,
        key: EncryptionKey,
        name_prefix: str,
        monitoring_role_name: str,
    ) -> dict[str, Any]:
        """Subnet group, parameter group and monitoring role; the instance arguments a primary and a replica share."""
        env = RegionalStack.of(self).env
        family = postgres_family(settings.engine_version)
        # The same subnet group name in both regions: a cross-region replica names it, and so does a re-seed.
        subnets = DbSubnetGroup(
            self,
            "subnets",
            name=f"{name_prefix}-db",
            subnet_ids=subnet_ids,
            description="Isolated data subnets",
            tags={"Name": f"{name_prefix}-db"},
        )
        parameters = DbParameterGroup(
            self,
            "parameters",
            name=f"{name_prefix}-{family}",
            family=family,
            parameter=[DbParameterGroupParameter(name=name, value=value) for name, value in SERVER_PARAMETERS.items()],
            tags={"Name": f"{name_prefix}-{family}"},
        )
        monitoring = ServiceRole(
            self,
            "monitoring-role",
            name=monitoring_role_name,
            service="monitoring.rds.amazonaws.com",
            managed_policy_arns=[f"arn:{env.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
        )
        common: dict[str, Any] = {
            "identifier": identifier,
            "instance_class": settings.instance_class,
            "multi_az": True,
            "storage_encrypted": True,
            "kms_key_id": key.key_arn,
            "db_subnet_group_name": subnets.name,
            "parameter_group_name": parameters.name,
            "vpc_security_group_ids": [security_group_id],
            "publicly_accessible": False,
            "backup_retention_period": settings.backup_retention_days,
            "deletion_protection": True,
            "auto_minor_version_upgrade": True,
            "copy_tags_to_snapshot": True,
            "iam_database_authentication_enabled": True,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": key.key_arn,
            "performance_insights_retention_period": 7,
            "monitoring_interval": 60,
            "monitoring_role_arn": monitoring.role_arn,
            "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
            "skip_final_snapshot": False,
            "final_snapshot_identifier": f"{identifier}-final",
            "tags": {"Name": identifier},
        }
        return common

    def _instance(
        self, common: dict[str, Any], settings: DatabaseSettings, key: EncryptionKey, replicate_source_arn: str | None, master_username: str
    ) -> str | None:
        """The instance: a primary with an RDS-managed master secret, or a replica; returns the secret's ARN (None)."""
        if replicate_source_arn is None:
            self.instance = DbInstance(
                self,
                "instance",
                engine="postgres",
                engine_version=settings.engine_version,
                allocated_storage=settings.allocated_storage_gb,
                max_allocated_storage=settings.allocated_storage_gb * 4,
                storage_type="gp3",
                username=master_username,
                manage_master_user_password=True,
                master_user_secret_kms_key_id=key.key_arn,
                backup_window="03:00-04:00",
                maintenance_window="sun:04:30-sun:05:30",
                **common,
            )
            secret_arn: str | None = self.instance.master_user_secret.get(0).secret_arn
        else:
            self.instance = DbInstance(self, "instance", replicate_source_db=replicate_source_arn, **common)
            secret_arn = None
        return secret_arn

    @property
    def arn(self) -> str:
        return self.instance.arn

    @property
    def identifier(self) -> str:
        return self.instance.identifier

    @property
    def writer_parameter_arn(self) -> str:
        return self.writer_parameter.arn
