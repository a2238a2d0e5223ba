"""Foundation stacks of both architectures, composed from the shared modules.

Each region gets a stack of its own and a global stack (us-east-1) holds what Route 53 and CloudFront need.
A regional stack reads nothing from the other region: cross-region references (the peer's backup vault, the
regional host names that health checks probe) are deterministic names built from the configuration, so the
surviving region can be planned and applied while the other one is down.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput
from constructs import Construct

from modules.account_security import AccountSecurity
from modules.alarms import AlarmTopic
from modules.audit import AuditTrail, ConfigRecorder, trail_delivery_statements, trail_key_statements
from modules.backup import BackupPlan, BackupRegionSettings, backup_vault_arn
from modules.base import RegionalStack
from modules.budget import BUDGETS, CostBudget
from modules.canary import Canary, CanaryCheck
from modules.compute import amazon_linux_buckets, auto_scaling_service_role
from modules.config import (
    ACCESS_POINT_ENDPOINT,
    THREE_TIER_ENDPOINTS,
    ActiveActive,
    DeploymentConfig,
    RegionSettings,
    WarmStandby,
    WarmStandbyRegion,
)
from modules.dashboard import AlarmRef, Dashboard, Graph, Section, alarms_of
from modules.health_check import HealthCheck, RecordEndpoint, RoutedRecords
from modules.kms import EncryptionKey
from modules.network import PRIVATE_ONLY, THREE_TIER, DnsFirewall, Network
from modules.storage import LogDeliveryBucket
from modules.waf import SERVERLESS_API_RULE_GROUPS, WEB_APP_RULE_GROUPS, WebAcl
from stacks.naming import (
    account_trail_name,
    canary_bucket_name,
    canary_name,
    dashboard_name,
    global_stack_name,
    origin_host,
    regional_host,
    regional_stack_name,
    vault_name,
)

GLOBAL_REGION = "us-east-1"
#: Interface endpoints the private Lambda functions and their operations need, plus EC2 as seed 000 lists it.
SERVERLESS_ENDPOINTS = ("logs", "monitoring", "sqs", "sns", "kms", "xray", "ssm", "ec2")


#: Who publishes to a stack's alarm topic (and so uses its key): alarms, EventBridge rules, and in the global stack
#: the budget's alerts.
ALARM_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


def observability_key(
    stack: RegionalStack,
    name: str,
    *,
    volume_launch_roles: Sequence[str] = (),
    publishers: Sequence[str] = ALARM_PUBLISHERS,
    trail: str | None = None,
) -> EncryptionKey:
    """The stack's key for log groups, the alarm topic (SNS and its `publishers`), backups, audit logs (the account
    `trail`'s, when this stack holds it) and canary artifacts (and the instances' volumes)."""
    return EncryptionKey(
        stack,
        "key",
        alias=name,
        description=f"{name}: logs, alarms, backups, audit",
        allow_cloudwatch_logs=True,
        service_principals=("sns.amazonaws.com", *publishers),
        volume_launch_roles=volume_launch_roles,
        extra_statements=trail_key_statements(stack.env, trail) if trail else (),
    )


class RegionalFoundationStack(RegionalStack):
    """Key, network, alarm topic, backup plan of one region of one architecture; with `account_security`, the
    account's once-per-region settings too (the security services, AWS Backup's region settings)."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: DeploymentConfig,
        architecture: str,
        arch: ActiveActive | WarmStandby,
        settings: RegionSettings,
        peer_region: str,
        backup_resource_arns: Sequence[str] = (),
        account_security: bool = True,
        account_trail: bool = False,
    ) -> None:
        region = settings.region
        super().__init__(
            scope,
            regional_stack_name(architecture, region),
            config=config,
            region=region,
            extra_tags={"Architecture": architecture},
        )
        name = self.resource_prefix = f"{config.name_prefix}-{architecture}-{region}"
        self.peer_region = peer_region
        # Instances launch with volumes encrypted by the stack key: their Auto Scaling role must exist before it.
        self.auto_scaling_role = (
            auto_scaling_service_role(self, "auto-scaling-role", suffix=f"{config.name_prefix}-{region}")
            if isinstance(settings, WarmStandbyRegion)
            else None
        )
        trail = account_trail_name(config) if account_security and account_trail and config.account_security.cloudtrail else None
        self.key = observability_key(
            self, name, volume_launch_roles=[self.auto_scaling_role.arn] if self.auto_scaling_role else [], trail=trail
        )
        self._network(name, arch, settings)
        self.alarms = AlarmTopic(self, "alarms", name=f"{name}-alarms", key=self.key, email=arch.alarm_email)
        self.architecture, self.arch = architecture, arch
        if account_security:  # once per region: stacks.app gives it to the first regional stack there
            AccountSecurity(self, "account-security", name=name, topic_arn=self.alarms.topic_arn, settings=config.account_security)
            if not self.emulated:  # moto has no AWS Backup region settings
                BackupRegionSettings(self, "backup-region-settings")
            self._audit(config, arch, trail, account_wide=account_trail)
        self.backup = BackupPlan(
            self,
            "backup",
            name=vault_name(config, architecture, region),
            key=self.key,
            copy_to_vault_arn=backup_vault_arn(self.env, peer_region, vault_name(config, architecture, peer_region)),
            resource_arns=backup_resource_arns,
        )
        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)
        for tier in self.network.subnets:
            TerraformOutput(self, f"{tier}_subnet_ids", value=self.network.subnet_ids(tier))
        TerraformOutput(self, "kms_key_arn", value=self.key.key_arn)
        TerraformOutput(self, "alarm_topic_arn", value=self.alarms.topic_arn)
        TerraformOutput(self, "backup_vault_arn", value=self.backup.vault_arn)

    def _audit(self, config: DeploymentConfig, arch: ActiveActive | WarmStandby, trail: str | None, account_wide: bool) -> None:
        """The region's audit bucket, Config recorder and rules, and the account's trail and the recording of global
        resource types when this stack holds the account-wide pieces."""
        settings = config.account_security
        if not (trail or settings.config_recorder):
            return
        bucket_name = f"{config.name_prefix}-audit-{self.env.region}-{config.account_id}"
        bucket = LogDeliveryBucket(
            self,
            "audit-logs",
            bucket_name=bucket_name,
            key=self.key,
            retention_days=arch.log_retention_days,
            delivery_statements=trail_delivery_statements(self.env.arn("s3", bucket_name, region="", account=False), self.env, trail)
            if trail
            else (),
        )
        if trail:
            self.trail = AuditTrail(
                self, "account-trail", name=trail, key=self.key, bucket=bucket, log_retention_days=arch.log_retention_days
            )
            TerraformOutput(self, "account_trail_arn", value=self.trail.arn)
        if settings.config_recorder:
            ConfigRecorder(
                self, "config", name=f"{config.name_prefix}-{self.env.region}", key=self.key, bucket=bucket, global_resources=account_wide
            )  # fmt: skip

    def add_canary(self, config: DeploymentConfig, checks: Sequence[CanaryCheck]) -> Canary | None:
        """The region's canary over `checks`, with its encrypted artifacts bucket, unless the configuration turns
        canaries off."""
        settings = self.arch.operations.canaries
        if not settings.enabled:
            return None
        bucket = LogDeliveryBucket(
            self,
            "canary-artifacts",
            bucket_name=canary_bucket_name(config, self.architecture, self.env.region),
            key=self.key,
            retention_days=settings.artifact_retention_days,
        )
        self.canary = Canary(
            self,
            "canary",
            name=canary_name(config, self.architecture, self.env.region),
            checks=checks,
            settings=settings,
            bucket=bucket,
            key=self.key,
            topic_arn=self.alarms.topic_arn,
        )
        TerraformOutput(self, "canary_name", value=self.canary.name)
        return self.canary

    def _network(self, name: str, arch: ActiveActive | WarmStandby, settings: RegionSettings) -> None:
        """The warm standby's three tiers (NAT, endpoints for its instances), or active/active's private tier with the
        functions' endpoints, DNS Firewall and the API's WAF."""
        region = settings.region
        if isinstance(settings, WarmStandbyRegion):
            self.network = Network(
                self,
                "network",
                name=name,
                cidr=settings.vpc_cidr,
                az_count=settings.az_count,
                availability_zones=settings.availability_zones,
                tiers=THREE_TIER,
                nat_gateways=settings.nat_gateways,
                log_key=self.key,
                flow_log_retention_days=arch.log_retention_days,
                gateway_endpoints=("s3",),
                # The emulator has no Multi-Region Access Point (see WarmStandbyStorageStack), nor its endpoint.
                interface_endpoints=THREE_TIER_ENDPOINTS + (() if self.emulated else (ACCESS_POINT_ENDPOINT,)),
                aws_owned_buckets=amazon_linux_buckets(region),
                endpoint_tier="app",
            )
        else:
            self.network = Network(
                self,
                "network",
                name=name,
                cidr=settings.vpc_cidr,
                az_count=settings.az_count,
                availability_zones=settings.availability_zones,
                tiers=PRIVATE_ONLY,
                log_key=self.key,
                flow_log_retention_days=arch.log_retention_days,
                interface_endpoints=SERVERLESS_ENDPOINTS,
                dns_firewall=None if self.emulated else DnsFirewall(),  # the emulator has no Resolver DNS Firewall
            )
            groups, health = SERVERLESS_API_RULE_GROUPS, arch.health_check.path  # Route 53's checkers send from AWS's addresses
            self.web_acl = WebAcl(self, "waf", name=f"{name}-api", log_key=self.key, managed_rule_groups=groups, health_path=health)
            TerraformOutput(self, "web_acl_arn", value=self.web_acl.web_acl_arn)


class GlobalFoundationStack(RegionalStack):
    """Health checks of each region (with alarms) and, per architecture, its global entry point pieces."""

    def __init__(
        self, scope: Construct, *, config: DeploymentConfig, architecture: str, arch: ActiveActive | WarmStandby, budget: bool = False
    ) -> None:
        super().__init__(
            scope,
            global_stack_name(architecture),
            config=config,
            region=GLOBAL_REGION,
            extra_tags={"Architecture": architecture},
        )
        name = f"{config.name_prefix}-{architecture}-global"
        self.config, self.architecture, self.arch = config, architecture, arch
        publishers = (*ALARM_PUBLISHERS, BUDGETS) if budget and config.budget else ALARM_PUBLISHERS
        self.key = observability_key(self, name, publishers=publishers)
        self.alarms = AlarmTopic(self, "alarms", name=f"{name}-alarms", key=self.key, email=arch.alarm_email, publishers=publishers)
        # once per deployment: stacks.app gives it to the first global stack; the emulator has no
        # DescribeSubscribersForNotification, which the provider reads the budget's notifications with
        if budget and config.budget and not self.emulated:
            CostBudget(
                self, "budget", name=f"{config.name_prefix}-monthly", deployment=config.name_prefix, settings=config.budget,
                topic_arn=self.alarms.topic_arn,
            )  # fmt: skip
        self.health_checks: dict[str, HealthCheck] = {}
        for settings in arch.regions:
            self.health_checks[settings.region] = HealthCheck(
                self,
                f"health-{settings.region}",
                name=f"{config.name_prefix}-{architecture}-{settings.region}",
                fqdn=(regional_host if isinstance(arch, ActiveActive) else origin_host)(settings.region, arch.domain_name),
                alarm_topic_arn=self.alarms.topic_arn,
                resource_path=arch.health_check.path,
                request_interval_seconds=arch.health_check.request_interval_seconds,
                failure_threshold=arch.health_check.failure_threshold,
                # The warm standby's alarm is a failover signal: no data is no signal. One failing minute is enough:
                # the health check itself already needed `failure_threshold` failures in a row to fail.
                **({} if isinstance(arch, ActiveActive) else {"missing_data": "notBreaching"}),
            )
            TerraformOutput(
                self, f"health_check_id_{settings.region.replace('-', '_')}", value=self.health_checks[settings.region].health_check_id
            )
        if isinstance(arch, ActiveActive):
            # Equal weights: both regions serve; a region whose health check fails drops out of the answers.
            RoutedRecords(
                self,
                "api-records",
                zone_id=arch.hosted_zone_id,
                name=arch.domain_name,
                routing="weighted",
                endpoints=[
                    RecordEndpoint(
                        set_identifier=settings.region,
                        health_check_id=self.health_checks[settings.region].health_check_id,
                        cname=regional_host(settings.region, arch.domain_name),
                        weight=100,
                    )
                    for settings in arch.regions
                ],
            )
        else:
            self.web_acl = WebAcl(
                self,
                "waf",
                name=f"{name}-edge",
                log_key=self.key,
                managed_rule_groups=WEB_APP_RULE_GROUPS,
                waf_scope="CLOUDFRONT",
            )
            TerraformOutput(self, "cloudfront_web_acl_arn", value=self.web_acl.web_acl_arn)
        TerraformOutput(self, "alarm_topic_arn", value=self.alarms.topic_arn)

    def failover_signals(self) -> list[AlarmRef]:
        """The alarms whose state moves traffic or starts the recovery plan (the dashboard's first list)."""
        return [AlarmRef(check.alarm.alarm_name_input, GLOBAL_REGION) for check in self.health_checks.values()]

    def dashboard_graphs(self) -> list[Section]:
        """The architecture's own graphs (replication against the RPO, readiness), after the alarm graphs."""
        return []

    def canary_graphs(self) -> list[Graph]:
        """Each serving region's canary success rate (CloudWatchSynthetics SuccessPercent), when canaries are on."""
        if not self.arch.operations.canaries.enabled:
            return []
        return [
            Graph(
                "Canaries: runs that passed (%)",
                self.arch.regions[0].region,
                [
                    [
                        "CloudWatchSynthetics",
                        "SuccessPercent",
                        "CanaryName",
                        canary_name(self.config, self.architecture, s.region),
                        {"region": s.region, "label": s.region},
                    ]
                    for s in self.arch.regions
                ],
                period_seconds=self.arch.operations.canaries.interval_minutes * 60,
            )
        ]

    def add_dashboard(self, stacks: Sequence[RegionalStack]) -> Dashboard | None:
        """The architecture's dashboard, drawn from the alarms that `stacks` (every stack of the architecture) hold:
        the failover signals and every alarm listed, each alarm graphed with its threshold, region by region."""
        if not self.arch.operations.dashboard:
            return None
        alarms = alarms_of(stacks)
        policy = self.arch.resilience_policy.region
        regions = [GLOBAL_REGION, *(settings.region for settings in self.arch.regions if settings.region != GLOBAL_REGION)]
        header = "\n".join(
            [
                f"# {self.config.name_prefix} {self.architecture}",
                f"Region objectives of the resilience policy: **RTO {policy.rto_seconds} s, RPO {policy.rpo_seconds} s**"
                f" (the RPO is drawn on every replication graph). Regions: {', '.join(s.region for s in self.arch.regions)}.",
                "Generated by cdktf from the deployed stacks (modules/dashboard.py): change the code, not this page.",
                "A dashboard is global: a region's outage blanks that region's widgets only. Runbook: README, Operations.",
            ]
        )
        health = Graph(
            "Route 53 health checks (1 = healthy)",
            GLOBAL_REGION,
            [
                ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", check.health_check_id, {"label": region}]
                for region, check in self.health_checks.items()
            ],
            stat="Minimum",
        )
        sections = [
            Section(
                "Failover",
                alarm_lists=[("Failover signals", self.failover_signals()), ("Every alarm", alarms)],
                graphs=[health],
            ),
            *self.dashboard_graphs(),
            *(
                Section(f"Alarms in {region}", alarm_graphs=[alarm for alarm in alarms if alarm.region == region])
                for region in regions
                if any(alarm.region == region for alarm in alarms)
            ),
        ]
        self.dashboard = Dashboard(self, "dashboard", name=dashboard_name(self.config, self.architecture), header=header, sections=sections)
        TerraformOutput(self, "dashboard_name", value=self.dashboard.name)
        return self.dashboard
