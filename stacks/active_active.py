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
from modules.api import API_STAGE, ApiGatewayLogging, RegionalRestApi
from modules.base import RegionalStack
from modules.canary import CanaryCheck
from modules.certificate import ValidationRecords
from modules.config import HEALTH_CONCURRENCY, ActiveActive, DeploymentConfig, RegionSettings, ResiliencePolicy
from modules.dashboard import Graph, Section
from modules.function import PrivateFunction
from modules.global_table import GlobalTable, Replica, table_arn
from modules.kms import EncryptionKey
from modules.moves import Handover, add_removed_blocks
from modules.resilience import resiliency_policy
from stacks.active_active_drills import ActiveActiveDrills
from stacks.foundation import GlobalFoundationStack, RegionalFoundationStack
from stacks.naming import ACTIVE_ACTIVE, DATA_STACK, regional_host, table_key_alias, table_name

API_SOURCE = Path(__file__).resolve().parent.parent / "lambda" / "api"
#: The health path's own capacity. Route 53 sends one request per checker per interval, from about 15 checkers
#: (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html):
#: at a 10 s interval that is under 2 requests/s, so 20/s with bursts of 40 and 5 executions leave wide margins.
HEALTH_THROTTLING = (20, 40)
#: The item the canary reads in each region (it need not exist: 404 counts as working).
CANARY_ITEM = "canary-probe"
#: Up to 0.2 each regional stack declared the shared name's validation record; the data stack owns it now.
SHARED_NAME_RECORD_HANDOVER = [Handover("aws_route53_record", "api/certificate/validation-0", DATA_STACK)]
#: Alarm thresholds: any error or throttle in 5 minutes; p99 API latency over 2 s. Replication: from the policy.
API_P99_LATENCY_MS = 2000


def replication_alarm(policy: ResiliencePolicy) -> dict[str, float | int | str]:
    """The replication-latency alarm that watches the policy's region RPO: any 1-minute maximum above it.

    Writes not yet replicated when a region is lost are the data a regional failover loses, so the region RPO
    bounds DynamoDB's ReplicationLatency (milliseconds, per receiving region,
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html#ReplicationLatency).
    An average over minutes would hide a breach of a seconds-long RPO, so the maximum of each minute is compared.
    """
    return {
        "threshold": policy.region.rpo_seconds * 1000,
        "statistic": "Maximum",
        "period_seconds": 60,
        "evaluation_periods": 1,
    }


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
        # Both regions certify the shared API name: its validation record lives here, once (see ValidationRecords).
        self.validation_records = ValidationRecords(
            self, "api-validation-records", domain_names=[arch.domain_name], hosted_zone_id=arch.hosted_zone_id
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
        account_trail: bool = False,
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
            account_trail=account_trail,
        )
        name = self.resource_prefix
        self._functions(name, config, arch, region, table)
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
            throttling_rate_limit=arch.traffic.peak_requests_per_second,
            throttling_burst_limit=2 * arch.traffic.peak_requests_per_second,
            health_function=self.health_function,
            health_throttling=HEALTH_THROTTLING,
            validated_elsewhere=[arch.domain_name],
        )
        self.web_acl.associate("api-waf", self.api.stage_arn)
        self._alarms(name, config, peer_region, arch.resilience_policy)
        self.add_canary(config, self._canary_checks(arch, region))
        TerraformOutput(self, "api_function_name", value=self.function.function.function_name)
        TerraformOutput(self, "api_stage_arn", value=self.api.stage_arn)
        TerraformOutput(self, "api_regional_url", value=f"https://{regional_host(region, arch.domain_name)}")
        TerraformOutput(self, "health_function_name", value=self.health_function.function_name)
        add_removed_blocks(self, SHARED_NAME_RECORD_HANDOVER)

    def _canary_checks(self, arch: ActiveActive, region: str) -> list[CanaryCheck]:
        """The health path by this region's name and by the global name (unsigned, as Route 53 probes it), and an
        item read by this region's name, signed as an IAM-authorized caller signs it (SigV4 for this region: a
        regional name always reaches this region; the global name may answer from either, which only SigV4A
        signs for, and the canary runtime's botocore lacks the CRT that SigV4A needs)."""
        health, regional = arch.health_check.path, regional_host(region, arch.domain_name)
        item = f"/items/{CANARY_ITEM}"
        signed = arch.api.authorization == "AWS_IAM"
        return [
            CanaryCheck("regional-health", f"https://{regional}{health}"),
            CanaryCheck("global-health", f"https://{arch.domain_name}{health}"),
            CanaryCheck(
                "regional-item-read",
                f"https://{regional}{item}",
                expect=(200, 404),  # the probe item need not exist; 403 (signing) or 5xx (function, table) fail
                sign=region if signed else None,
                invoke_arn=f"{self.api.rest_api.execution_arn}/{self.api.stage.stage_name}/GET{item}" if signed else None,
            ),
        ]

    def _functions(self, name: str, config: DeploymentConfig, arch: ActiveActive, region: str, table: str) -> None:
        """The API function (items in this region's replica) and its health twin."""
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
            invocation="synchronous",
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
        # Health traffic has capacity of its own: same code, role and network, so it fails on the same faults.
        self.health_function = self.function.twin(
            "health",
            function_name=f"{name}-api-health",
            handler="handler.handler",
            reserved_concurrency=HEALTH_CONCURRENCY,
            timeout_seconds=arch.lambda_function.timeout_seconds,
        )

    def _alarms(self, name: str, config: DeploymentConfig, peer_region: str, policy: ResiliencePolicy) -> None:
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
        replication = replication_alarm(policy)
        metric_alarm(
            self,
            "alarm-replication-latency",
            name=f"{name}-table-replication-latency",
            description=(
                f"Replication of {table_name(config)} to {peer_region} took over {replication['threshold']} ms in a minute:"
                " the region RPO of the resilience policy"
            ),
            namespace="AWS/DynamoDB",
            metric_name="ReplicationLatency",
            dimensions={"TableName": table_name(config), "ReceivingRegion": peer_region},
            topic_arn=topic,
            **replication,  # type: ignore[arg-type]
        )


class ActiveActiveGlobalStack(GlobalFoundationStack):
    """Health checks and weighted records (from the foundation), the Resilience Hub policy, and the DR drills."""

    def __init__(self, scope: Construct, *, config: DeploymentConfig, arch: ActiveActive, budget: bool = False) -> None:
        super().__init__(scope, config=config, architecture=ACTIVE_ACTIVE, arch=arch, budget=budget)
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

    def dashboard_graphs(self) -> list[Section]:
        """Per region: requests and 5xx of the API, the function's errors and throttles, and the table's replication
        to the other region against the policy's RPO; then the canaries."""
        config, arch = self.config, self.arch
        rpo = arch.resilience_policy.region.rpo_seconds
        graphs = []
        for settings, peer in zip(arch.regions, reversed(arch.regions), strict=True):
            region = settings.region
            name = f"{config.name_prefix}-{ACTIVE_ACTIVE}-{region}"
            api = ["ApiName", f"{name}-api", "Stage", API_STAGE]
            graphs += [
                Graph(
                    f"API in {region}: requests and 5xx",
                    region,
                    [["AWS/ApiGateway", "Count", *api], ["AWS/ApiGateway", "5XXError", *api, {"yAxis": "right"}]],
                    stat="Sum",
                ),
                Graph(
                    f"Function in {region}: errors and throttles",
                    region,
                    [["AWS/Lambda", metric, "FunctionName", f"{name}-api"] for metric in ("Errors", "Throttles")],
                    stat="Sum",
                ),
                Graph(
                    f"Table replication {region} to {peer.region} (ms)",
                    region,
                    [["AWS/DynamoDB", "ReplicationLatency", "TableName", table_name(config), "ReceivingRegion", peer.region]],
                    stat="Maximum",
                    annotations=[(f"region RPO {rpo} s", rpo * 1000)],
                ),
            ]
        return [Section("Serving path and replication", graphs=[*graphs, *self.canary_graphs()])]
