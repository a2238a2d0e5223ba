"""Active/active serverless architecture (seed 000): the data stack, each region's API, and the global stack.

Deploy order: state-bootstrap, active-active-data, active-active-<primary>, active-active-<secondary>,
active-active-global. The regional stacks reference the table and its keys by deterministic name and alias,
never through another stack's state, so either region can be planned and applied alone.
"""

from __future__ import annotations

from pathlib import Path

from cdktf import TerraformOutput
from constructs import Construct

from modules.alarms import metric_alarm
from modules.api import ApiGatewayLogging, RegionalRestApi
from modules.base import RegionalStack
from modules.config import ActiveActive, DeploymentConfig, RegionSettings
from modules.function import PrivateFunction
from modules.global_table import GlobalTable, Replica, table_arn
from modules.kms import EncryptionKey
from modules.resilience import resiliency_policy
from stacks.active_active_drills import ActiveActiveDrills
from stacks.foundation import GlobalFoundationStack, RegionalFoundationStack
from stacks.naming import ACTIVE_ACTIVE, DATA_STACK, regional_host, table_key_alias, table_name

API_SOURCE = Path(__file__).resolve().parent.parent / "lambda" / "api"
#: Alarm thresholds: any error or throttle in 5 minutes; p99 API latency over 2 s; replication over 1 minute.
API_P99_LATENCY_MS = 2000
REPLICATION_LATENCY_MS = 60_000


class ActiveActiveDataStack(RegionalStack):
    """The DynamoDB global table: created in the primary region with a replica in the secondary.

    The table's keys live here too, one per region. A global table spans both regions by nature, so this is the
    one stack that needs both; the regional stacks do not depend on it.
    """

    def __init__(self, scope: Construct, *, config: DeploymentConfig, arch: ActiveActive) -> None:
        primary, secondary = arch.primary.region, arch.secondary.region
        super().__init__(scope, DATA_STACK, config=config, region=primary, extra_tags={"Architecture": ACTIVE_ACTIVE})
        secondary_provider = self.aws_provider(secondary, alias="secondary")
        alias = table_key_alias(config)
        self.keys = {
            primary: EncryptionKey(self, "key-primary", alias=alias, description=f"{table_name(config)} in {primary}"),
            secondary: EncryptionKey(
                self, "key-secondary", alias=alias, description=f"{table_name(config)} in {secondary}", provider=secondary_provider
            ),
        }
        self.table = GlobalTable(
            self, "table", table_name=table_name(config), key=self.keys[primary], replicas=[Replica(secondary, self.keys[secondary])]
        )
        TerraformOutput(self, "table_name", value=self.table.table_name)
        TerraformOutput(self, "table_arns", value=[self.table.arn_in(region) for region in (primary, secondary)])
        TerraformOutput(self, "stream_arn", value=self.table.table.stream_arn)


class ActiveActiveRegionStack(RegionalFoundationStack):
    """One region: private network, the API function, its REST API on the custom domains, WAF and alarms."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: DeploymentConfig,
        arch: ActiveActive,
        settings: RegionSettings,
        peer_region: str,
        account_security: bool = True,
    ) -> None:
        region = settings.region
        table = table_arn(RegionalStack.env_of(config, region), region, table_name(config))
        super().__init__(
            scope,
            config=config,
            architecture=ACTIVE_ACTIVE,
            arch=arch,
            settings=settings,
            peer_region=peer_region,
            backup_resource_arns=[table],
            account_security=account_security,
        )
        name = self.resource_prefix
        self.function = PrivateFunction(
            self,
            "api-function",
            function_name=f"{name}-api",
            source_dir=API_SOURCE,
            handler="handler.handler",
            network=self.network,
            subnet_tier="private",
            key=self.key,
            memory_mb=arch.lambda_function.memory_mb,
            timeout_seconds=arch.lambda_function.timeout_seconds,
            reserved_concurrency=arch.lambda_function.reserved_concurrency,
            log_retention_days=arch.log_retention_days,
            environment={"TABLE_NAME": table_name(config), "LOG_LEVEL": "INFO"},
            statements=[
                {
                    "Sid": "ItemsInThisRegionsReplica",
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                    "Resource": [table],
                },
                {
                    "Sid": "TableKeyThroughDynamoDb",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                    "Resource": [self.env.arn("kms", "key/*")],
                    "Condition": {
                        "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{table_key_alias(config)}"},
                        "StringEquals": {"kms:ViaService": f"dynamodb.{region}.amazonaws.com"},
                    },
                },
            ],
        )
        self.api_logging = ApiGatewayLogging(self, "api-logging", role_name=f"{name}-apigateway-logs")
        self.api = RegionalRestApi(
            self,
            "api",
            name=f"{name}-api",
            function=self.function,
            domain_names=[arch.domain_name, regional_host(region, arch.domain_name)],
            alias_records=[regional_host(region, arch.domain_name)],
            hosted_zone_id=arch.hosted_zone_id,
            authorization=arch.api.authorization,
            public_paths=[arch.health_check.path],
            log_key=self.key,
            log_retention_days=arch.log_retention_days,
            logging=self.api_logging,
        )
        self.web_acl.associate("api-waf", self.api.stage_arn)
        self._alarms(name, config, peer_region)
        TerraformOutput(self, "api_function_name", value=self.function.function.function_name)
        TerraformOutput(self, "api_stage_arn", value=self.api.stage_arn)
        TerraformOutput(self, "api_regional_url", value=f"https://{regional_host(region, arch.domain_name)}")

    def _alarms(self, name: str, config: DeploymentConfig, peer_region: str) -> None:
        topic = self.alarms.topic_arn
        function = {"FunctionName": self.function.function.function_name}
        api = {"ApiName": self.api.api_name, "Stage": self.api.stage.stage_name}
        for metric in ("Errors", "Throttles"):
            metric_alarm(
                self,
                f"alarm-lambda-{metric.lower()}",
                name=f"{name}-api-{metric.lower()}",
                description=f"API function {metric.lower()} in the last 5 minutes",
                namespace="AWS/Lambda",
                metric_name=metric,
                dimensions=function,
                threshold=0,
                topic_arn=topic,
            )
        metric_alarm(
            self,
            "alarm-api-5xx",
            name=f"{name}-api-5xx",
            description="API answered 5xx in the last 5 minutes",
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions=api,
            threshold=0,
            topic_arn=topic,
        )
        metric_alarm(
            self,
            "alarm-api-latency",
            name=f"{name}-api-latency-p99",
            description=f"API p99 latency above {API_P99_LATENCY_MS} ms for 3 of 5 minutes",
            namespace="AWS/ApiGateway",
            metric_name="Latency",
            dimensions=api,
            statistic=None,
            extended_statistic="p99",
            threshold=API_P99_LATENCY_MS,
            datapoints_to_alarm=3,
            topic_arn=topic,
        )
        metric_alarm(
            self,
            "alarm-replication-latency",
            name=f"{name}-table-replication-latency",
            description=f"Replication of {table_name(config)} to {peer_region} slower than {REPLICATION_LATENCY_MS} ms",
            namespace="AWS/DynamoDB",
            metric_name="ReplicationLatency",
            dimensions={"TableName": table_name(config), "ReceivingRegion": peer_region},
            statistic="Average",
            threshold=REPLICATION_LATENCY_MS,
            topic_arn=topic,
        )


class ActiveActiveGlobalStack(GlobalFoundationStack):
    """Health checks and weighted records (from the foundation), the Resilience Hub policy, and the DR drills."""

    def __init__(self, scope: Construct, *, config: DeploymentConfig, arch: ActiveActive) -> None:
        super().__init__(scope, config=config, architecture=ACTIVE_ACTIVE, arch=arch)
        if not self.emulated:  # the emulator creates the policy but cannot delete it
            policy = resiliency_policy(
                self,
                "resiliency-policy",
                name=f"{config.name_prefix}-{ACTIVE_ACTIVE}",
                description=f"{config.name_prefix} active/active: RTO/RPO per failure domain",
                policy=arch.resilience_policy,
            )
            TerraformOutput(self, "resiliency_policy_arn", value=policy.arn)
        self.drills = ActiveActiveDrills(
            self,
            "drills",
            config=config,
            arch=arch,
            health_checks=self.health_checks,
            table_name=table_name(config),
            table_key_alias=table_key_alias(config),
        )
