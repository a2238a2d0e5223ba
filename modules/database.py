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
from pathlib import Path
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret, SecretsmanagerSecretReplica
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import SecretsmanagerSecretRotation
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.base import RegionalStack, ephemeral_resource
from modules.config import DatabaseSettings
from modules.errors import InputError
from modules.function import PrivateFunction
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.suppressions import suppress

POSTGRES_PORT = 5432
#: Server parameters of every instance and cluster: TLS only; connections, schema changes and slow statements logged.
SERVER_PARAMETERS: Mapping[str, str] = {
    "rds.force_ssl": "1",
    "log_connections": "1",
    "log_statement": "ddl",
    "log_min_duration_statement": "1000",
}


#: Characters RDS does not take in a master password ("/", "@", '"', space); the backslash and "'" complicate shells.
#: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (MasterUserPassword)
PASSWORD_EXCLUDED = "/@\" '\\"  # noqa: S105 - characters left out of passwords, not a password
#: PostgreSQL master passwords are 8 to 128 printable ASCII characters (same page).
PASSWORD_LENGTH = 40


class MasterSecret(Construct):
    """The database's master credentials in a Secrets Manager secret we own: encrypted with `key`, replicated by
    Secrets Manager to each region of `replica_keys` (a read-only copy there, promotable with
    StopReplicationToReplica in a regional outage), and seeded once with a random password that never enters the
    Terraform state (an ephemeral GetRandomPassword written through a write-only argument).

    A read replica cannot be created from an instance whose password RDS manages (RDS User Guide,
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations),
    so this secret replaces `manage_master_user_password`. Rotation: `MasterPasswordRotation` in the writer's region.
    Replicas: https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html.
    Default: a 7-day recovery window on deletion.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EncryptionKey,
        replica_keys: Mapping[str, EncryptionKey],
        username: str = "app_admin",
    ) -> None:
        super().__init__(scope, id)
        here = RegionalStack.of(self).env_for(key.provider).region
        if here in replica_keys:
            raise InputError.single(f"{self.node.path}.replica_keys", sorted(replica_keys), f"expected regions other than {here}")
        self.name = name
        password = ephemeral_resource(
            self,
            "password",
            "aws_secretsmanager_random_password",
            {"password_length": PASSWORD_LENGTH, "exclude_characters": PASSWORD_EXCLUDED, "require_each_included_type": True},
        )
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=name,
            description=f"Master credentials of the database (replicated to {', '.join(sorted(replica_keys))})",
            kms_key_id=key.key_arn,
            recovery_window_in_days=7,
            replica=[SecretsmanagerSecretReplica(region=region, kms_key_id=replica.key_arn) for region, replica in replica_keys.items()],
            tags={"Name": name},
            provider=key.provider,
        )
        suppress(
            self.secret,
            "CKV2_AWS_57",
            "rotated by MasterPasswordRotation next to the database, in the writer's regional stack (checkov sees one stack)",
        )
        self._first_version(username, password, key)

    def _first_version(self, username: str, password: str, key: EncryptionKey) -> SecretsmanagerSecretVersion:
        """The first value: `username` and the generated `password`, written once (write-only, never in state)."""
        return SecretsmanagerSecretVersion(
            self,
            "initial",
            secret_id=self.secret.id,
            secret_string_wo=f'${{jsonencode({{"username" = "{username}", "password" = {password}.random_password}})}}',
            secret_string_wo_version=1,
            provider=key.provider,
        )


def master_password_from(scope: Construct, secret_name: str) -> str:
    """A write-only expression for the master password held in the secret `secret_name` (read, never stored)."""
    version = ephemeral_resource(scope, "master-secret", "aws_secretsmanager_secret_version", {"secret_id": secret_name})
    return f"${{jsondecode({version}.secret_string).password}}"


def subnet_group_name(name_prefix: str) -> str:
    """The database subnet group: the same name in both regions (a cross-region replica names it, so does a re-seed)."""
    return f"{name_prefix}-db"


def parameter_group_name(name_prefix: str, engine_version: str) -> str:
    """The parameter group of `engine_version`'s family."""
    return f"{name_prefix}-{postgres_family(engine_version)}"


def postgres_family(engine_version: str) -> str:
    """The parameter-group family of a PostgreSQL version: "16.4" -> "postgres16"."""
    return f"postgres{engine_version.split('.', maxsplit=1)[0]}"


class RegionalDatabase(Construct):
    """What the stacks use of the warm standby's database in one region, whichever the engine: `arn` and
    `identifier` (references), `instance_identifier` (the plain string, for environments and ARNs), the writer
    parameter the app tier reads, and what the rotation function needs (`rotation`)."""

    #: The rotation function's variable naming the database, and the RDS actions that set its password.
    ROTATION_VARIABLE = "DB_INSTANCE_ID"
    ROTATION_ACTIONS = ("rds:ModifyDBInstance", "rds:DescribeDBInstances")
    _identifier: str
    writer_parameter: SsmParameter

    @property
    def arn(self) -> str:
        raise NotImplementedError

    @property
    def instance_identifier(self) -> str:
        """The identifier as a plain string (known at synth time), for environments and ARNs."""
        return self._identifier

    @property
    def writer_parameter_arn(self) -> str:
        return self.writer_parameter.arn

    def rotation(self) -> tuple[dict[str, str], list[str]]:
        """What the rotation function needs to set the master password: its environment and RDS actions."""
        return {self.ROTATION_VARIABLE: self._identifier}, list(self.ROTATION_ACTIONS)

    def _subnets_and_monitoring(self, name_prefix: str, subnet_ids: list[str], monitoring_role_name: str) -> tuple[str, str]:
        """The subnet group (`<name_prefix>-db`, the isolated data subnets) and the enhanced-monitoring role: their
        name and ARN."""
        env = RegionalStack.of(self).env
        if len(subnet_ids) < 2:
            raise InputError.single(f"{self.node.path}.subnet_ids", subnet_ids, "expected subnets in at least 2 AZs (Multi-AZ)")
        name = subnet_group_name(name_prefix)
        subnets = DbSubnetGroup(self, "subnets", name=name, subnet_ids=subnet_ids, description="Isolated data subnets", tags={"Name": name})
        monitoring = ServiceRole(
            self,
            "monitoring-role",
            name=monitoring_role_name,
            service="monitoring.rds.amazonaws.com",
            managed_policy_arns=[f"arn:{env.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
        )
        return subnets.name, monitoring.role_arn

    def _writer_parameter(self, name: str, key: EncryptionKey, writer: Mapping[str, Any]) -> SsmParameter:
        """`writer` ({host, port, writable, secret_id}) for the app tier, a SecureString encrypted with `key`. The
        failover function owns the value once it has run: Terraform must not point the app back."""
        return SsmParameter(
            self,
            "writer-parameter",
            name=name,
            type="SecureString",
            key_id=key.key_arn,
            value=Fn.jsonencode(writer),
            description="Where the app tier finds its database writer; the failover function rewrites it",
            lifecycle={"ignore_changes": ["value"]},
            tags={"Name": name},
        )


class PostgresDatabase(RegionalDatabase):
    """A PostgreSQL instance, Multi-AZ, encrypted with `key`, TLS only, with its subnet group (`<name_prefix>-db`),
    parameter group (`<name_prefix>-postgres<major>`),
    enhanced-monitoring role and a SecureString parameter `writer_parameter_name` holding
    {host, port, writable, secret_id} for the app tier.

    Default: a primary whose master password is read (ephemerally, never stored) from the secret
    `master_secret_name` (see `MasterSecret`). With `replicate_source_arn` it is a read replica of that instance
    (same settings; it takes its source's credentials, so the secret's replica in its region still applies).
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
        master_secret_name: str,
        replicate_source_arn: str | None = None,
        master_username: str = "app_admin",
    ) -> None:
        super().__init__(scope, id)
        self._identifier = identifier
        self.master_secret_name = master_secret_name
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
        self._instance(common, settings, replicate_source_arn, master_username)
        writer = {
            "host": self.instance.address,
            "port": self.instance.port,
            "writable": not self.is_replica,
            "secret_id": master_secret_name,
        }
        self.writer_parameter = self._writer_parameter(writer_parameter_name, key, writer)

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
        family = postgres_family(settings.engine_version)
        subnet_group, monitoring_role_arn = self._subnets_and_monitoring(name_prefix, subnet_ids, monitoring_role_name)
        parameter_group = parameter_group_name(name_prefix, settings.engine_version)
        parameters = DbParameterGroup(
            self,
            "parameters",
            name=parameter_group,
            family=family,
            parameter=[DbParameterGroupParameter(name=name, value=value) for name, value in SERVER_PARAMETERS.items()],
            tags={"Name": parameter_group},
        )
        common: dict[str, Any] = {
            "identifier": identifier,
            "instance_class": settings.instance_class,
            "multi_az": True,
            "storage_encrypted": True,
            "kms_key_id": key.key_arn,
            "db_subnet_group_name": subnet_group,
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
            "monitoring_role_arn": monitoring_role_arn,
            "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
            "skip_final_snapshot": False,
            "final_snapshot_identifier": f"{identifier}-final",
            "tags": {"Name": identifier},
        }
        return common

    def _instance(self, common: dict[str, Any], settings: DatabaseSettings, replicate_source_arn: str | None, master_username: str) -> None:
        """The instance: a primary whose master password comes from `master_secret_name`, or a replica of its source."""
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
                password_wo=master_password_from(self, self.master_secret_name),
                password_wo_version=1,
                backup_window="03:00-04:00",
                maintenance_window="sun:04:30-sun:05:30",
                **common,
            )
        else:
            self.instance = DbInstance(self, "instance", replicate_source_db=replicate_source_arn, **common)

    @property
    def arn(self) -> str:
        return self.instance.arn

    @property
    def identifier(self) -> str:
        return self.instance.identifier


class MasterPasswordRotation(Construct):
    """A rotation function (lambda/rotate_master: a new password through RDS's ModifyDBInstance, or ModifyDBCluster
    for an Aurora cluster, so no route to the database is needed) that Secrets Manager may invoke, and the rotation
    schedule of `secret_name`.

    Default: rotate every 30 days; `schedule_days=None` deploys the function only (a replica's region: a replica
    secret cannot rotate; the failover turns rotation on there once it has promoted the secret). The emulator has
    no rotation schedule (moto would run the function in a container).
    Rotation functions: https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function_name: str,
        source_dir: Path,
        secret_name: str,
        secret_key_alias: str,
        database: RegionalDatabase,
        key: EncryptionKey,
        log_retention_days: int,
        schedule_days: int | None = 30,
    ) -> None:
        super().__init__(scope, id)
        if schedule_days is not None and not 1 <= schedule_days <= 1000:
            raise InputError.single(f"{self.node.path}.schedule_days", schedule_days, "expected 1 to 1000 days (Secrets Manager's range)")
        stack = RegionalStack.of(self)
        env = stack.env
        secret_arn = env.arn("secretsmanager", f"secret:{secret_name}-??????")
        target, actions = database.rotation()
        self.function = PrivateFunction(
            self,
            "function",
            function_name=function_name,
            source_dir=source_dir,
            handler="handler.handler",
            network=None,
            outside_vpc_reason="rotation control plane: calls only the Secrets Manager and RDS APIs, never the database",
            key=key,
            timeout_seconds=60,
            reserved_concurrency=1,
            log_retention_days=log_retention_days,
            environment={**target, "PASSWORD_LENGTH": str(PASSWORD_LENGTH), "EXCLUDE_CHARACTERS": PASSWORD_EXCLUDED},
            statements=_rotation_statements(
                secret_arn,
                database.arn,
                actions=actions,
                region=env.region,
                keys=env.arn("kms", "key/*"),
                secret_key_alias=secret_key_alias,
            ),
        )
        LambdaPermission(
            self,
            "secrets-manager-invokes",
            statement_id="AllowSecretsManager",
            action="lambda:InvokeFunction",
            function_name=self.function.function.function_name,
            principal="secretsmanager.amazonaws.com",
            source_account=env.account_id,
        )
        if schedule_days is not None and not stack.emulated:
            SecretsmanagerSecretRotation(
                self,
                "schedule",
                secret_id=secret_name,
                rotation_lambda_arn=self.function.function_arn,
                rotation_rules={"automatically_after_days": schedule_days},
                rotate_immediately=False,
            )


def _rotation_statements(
    secret_arn: str, database_arn: str, *, actions: list[str], region: str, keys: str, secret_key_alias: str
) -> list[dict[str, Any]]:
    """What the rotation function may do: read and stage versions of the secret, get random passwords, set the
    database's password, and use the secret's key through Secrets Manager."""
    return [
        {
            "Sid": "RotateTheMasterSecret",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:DescribeSecret",
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ],
            "Resource": [secret_arn],
        },
        {
            "Sid": "NewPasswords",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetRandomPassword"],
            "Resource": "*",  # GetRandomPassword has no resource
        },
        {
            "Sid": "SetThePassword",
            "Effect": "Allow",
            "Action": actions,
            "Resource": [database_arn],
        },
        secret_key_statement("SecretKeyThroughSecretsManager", region, keys, secret_key_alias, write=True),
    ]


def secret_key_statement(sid: str, region: str, keys: str, alias: str, *, write: bool = False) -> dict[str, Any]:
    """Use of the secret's key (matched by alias) through Secrets Manager in `region` only."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:DescribeKey", *(["kms:GenerateDataKey"] if write else [])],
        "Resource": [keys],
        "Condition": {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{alias}"},
            "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"},
        },
    }
