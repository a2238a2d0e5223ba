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
from modules.backup import BackupPlan, BackupRegionSettings, backup_vault_arn
from modules.base import RegionalStack
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
from modules.health_check import HealthCheck, RecordEndpoint, RoutedRecords
from modules.kms import EncryptionKey
from modules.network import PRIVATE_ONLY, THREE_TIER, DnsFirewall, Network
from modules.waf import SERVERLESS_API_RULE_GROUPS, WEB_APP_RULE_GROUPS, WebAcl
from stacks.naming import global_stack_name, origin_host, regional_host, regional_stack_name, vault_name

GLOBAL_REGION = "us-east-1"
#: Interface endpoints the private Lambda functions and their operations need, plus EC2 as seed 000 lists it.
SERVERLESS_ENDPOINTS = ("logs", "monitoring", "sqs", "sns", "kms", "xray", "ssm", "ec2")


def observability_key(stack: RegionalStack, name: str, *, volume_launch_roles: Sequence[str] = ()) -> EncryptionKey:
    """The stack's key for log groups, the alarm topic (SNS, CloudWatch) and backups (and the instances' volumes)."""
    return EncryptionKey(
        stack,
        "key",
        alias=name,
        description=f"{name}: logs, alarms, backups",
        allow_cloudwatch_logs=True,
        service_principals=("sns.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"),
        volume_launch_roles=volume_launch_roles,
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
        self.key = observability_key(self, name, volume_launch_roles=[self.auto_scaling_role.arn] if self.auto_scaling_role else [])
        self._network(name, arch, settings)
        self.alarms = AlarmTopic(self, "alarms", name=f"{name}-alarms", key=self.key, email=arch.alarm_email)
        if account_security:  # once per region: stacks.app gives it to the first regional stack there
            AccountSecurity(self, "account-security", name=name, topic_arn=self.alarms.topic_arn, settings=config.account_security)
            if not self.emulated:  # moto has no AWS Backup region settings
                BackupRegionSettings(self, "backup-region-settings")
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

    def __init__(self, scope: Construct, *, config: DeploymentConfig, architecture: str, arch: ActiveActive | WarmStandby) -> None:
        super().__init__(
            scope,
            global_stack_name(architecture),
            config=config,
            region=GLOBAL_REGION,
            extra_tags={"Architecture": architecture},
        )
        name = f"{config.name_prefix}-{architecture}-global"
        self.key = observability_key(self, name)
        self.alarms = AlarmTopic(self, "alarms", name=f"{name}-alarms", key=self.key, email=arch.alarm_email)
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
                # The warm standby's alarm is a failover signal: sustained, and no data is no signal.
                **({} if isinstance(arch, ActiveActive) else {"alarm_periods": 3, "missing_data": "notBreaching"}),
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
