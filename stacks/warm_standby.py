"""Warm-standby three-tier architecture (seed 001, with seeds 002 and 003): the regional, global and storage stacks.

Deploy order: state-bootstrap, warm-standby-storage, warm-standby-<primary>, warm-standby-<standby>,
warm-standby-global. The standby names the primary database by its deterministic ARN, so it plans and applies
while the primary region is down. Every resource comes from a module; this file only composes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdktf import TerraformOutput, TerraformVariable, TerraformVariableValidationConfig
from constructs import Construct

from modules.alarms import metric_alarm
from modules.aurora import AuroraGlobalCluster, AuroraRegionalCluster
from modules.base import RegionalStack
from modules.break_glass import BreakGlassInstance
from modules.canary import CanaryCheck
from modules.cdn import Origin, OriginFailoverDistribution
from modules.certificate import DnsValidatedCertificate, ValidationRecords
from modules.compute import DnsAlias, LoadBalancedTier, OriginVerification, TierSize, instance_role
from modules.config import DeploymentConfig, ScalingSize, WarmStandby, WarmStandbyRegion
from modules.dashboard import AlarmRef, Graph, Section
from modules.database import POSTGRES_PORT, MasterPasswordRotation, MasterSecret, PostgresDatabase, secret_key_statement
from modules.drills import zone_outage_experiment
from modules.events import EventForwarding, FunctionTrigger
from modules.function import PrivateFunction
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.moves import PathMove, add_moved_blocks
from modules.multi_region_bucket import ArnParameters, BucketSite, MultiRegionBucket
from modules.security_groups import Egress, Link, PrefixListSource, SecurityGroupChain
from modules.storage import LogDeliveryBucket, replication_rule_id
from stacks import failover_plan
from stacks.foundation import GLOBAL_REGION, GlobalFoundationStack, RegionalFoundationStack
from stacks.naming import (
    WARM_STANDBY,
    access_point_name,
    access_point_parameter,
    app_host,
    assets_bucket,
    credentials_key_alias,
    database_identifier,
    database_monitoring_role,
    database_parameter,
    database_resource,
    failover_function_name,
    global_cluster_identifier,
    group_names,
    health_parameter_name,
    latch_alarm_name,
    master_secret_name,
    origin_host,
    probe_alarm_name,
    readiness_alarm_name,
    switch_document_name,
    writer_host,
    writer_parameter_name,
)
from stacks.warm_standby_failover import RecoveryPlan, publish_metrics

STORAGE_STACK = f"{WARM_STANDBY}-storage"
FAILOVER_SOURCE = Path(__file__).resolve().parent.parent / "lambda" / "failover"
ROTATION_SOURCE = Path(__file__).resolve().parent.parent / "lambda" / "rotate_master"
ORIGIN_HEADER = "X-Origin-Verify"
ORIGIN_SECRET_VARIABLE = "origin_verify_secret"  # noqa: S105 - the variable name, not its value
APP_PORT = 8080
#: Aurora: the primary's writer and a reader in another zone (the zone failover's target); the standby's one
#: instance takes over the writes without waiting for a launch.
AURORA_PRIMARY_INSTANCES, AURORA_SECONDARY_INSTANCES = 2, 1
#: The replication alarms page at this share of the region RPO: the rest is the operators' time to act before the
#: objective is lost (the assessment counts the threshold as the RPO bound).
LAG_ALARM_SHARE = 0.5
#: The decision makes a few calls with short timeouts; the recovery plan (SSM Automation) does the failover.
DECISION_TIMEOUT_SECONDS = 60
#: Paths whose requests write; CloudFront fails over only reads (GET, HEAD, OPTIONS) through an origin group, so
#: these go to the writer origin, a DNS failover record that the recovery plan moves.
WRITE_PATH = "/api/*"
#: The chain, in the order requests flow: CloudFront -> web ALB -> web -> app ALB -> app -> database; break-glass
#: -> SSH to web and app. Route 53 health checkers reach the web ALB through a group of their own: the two prefix
#: lists' weights (55 + 25) exceed the 60 rules one group may hold.
CHAIN_MEMBERS = ("web-alb", "web-alb-health", "web", "app-alb", "app", "db", "break-glass")
#: Instances reach Session Manager (interface endpoints) and package repositories (S3) over HTTPS.
INSTANCE_MEMBERS = ("web", "app", "break-glass")


#: 0.2.0 moved the inline resources into modules; these keep every existing object at its new address.
#: The RDS instance's moves; a deployment with the Aurora engine never had the old addresses.
DATABASE_MOVES = (
    PathMove("database/subnets", "db-subnets"),
    PathMove("database/parameters", "db-parameters"),
    PathMove("database/monitoring-role", "db-monitoring-role"),
    PathMove("database/instance", "db"),
    PathMove("database/writer-parameter", "db-parameter"),
)
REGION_MOVES = (
    PathMove("security-groups", ""),
    PathMove("web/alias", "web-alias"),
    PathMove("app/alias", "app-alias"),
    PathMove("break-glass/profile", "break-glass-profile"),
    PathMove("break-glass/template", "break-glass-template"),
    PathMove("break-glass/instance", "break-glass"),
    PathMove("break-glass/stopped", "break-glass-stopped"),
)
PRIMARY_MOVES = (
    PathMove("forward-health/role", "forward-health-role"),
    PathMove("forward-health/rule", "forward-health"),
    PathMove("forward-health/target", "forward-health-target"),
)
STANDBY_MOVES = (
    PathMove("failover-trigger/rule", "failover-trigger"),
    PathMove("failover-trigger/target", "failover-target"),
    PathMove("failover-trigger/permission", "failover-invoke"),
)
GLOBAL_MOVES = (
    PathMove("cdn", ""),
    PathMove("forward-primary-alarm/role", "forward-primary-alarm-role"),
    PathMove("forward-primary-alarm/rule", "forward-primary-alarm"),
    PathMove("forward-primary-alarm/target", "forward-primary-alarm-target"),
)
STORAGE_MOVES = (PathMove("assets", ""),)


def origin_secret(scope: Construct) -> TerraformVariable:
    """The shared secret CloudFront sends to the origins; supplied at deploy time (TF_VAR_origin_verify_secret)."""
    return TerraformVariable(
        scope,
        ORIGIN_SECRET_VARIABLE,
        type="string",
        sensitive=True,
        nullable=False,
        description=f"Value of the {ORIGIN_HEADER} header CloudFront adds and the web ALBs require (32+ characters)",
        validation=[
            TerraformVariableValidationConfig(
                condition=f"${{length(var.{ORIGIN_SECRET_VARIABLE}) >= 32}}",
                error_message=f"{ORIGIN_SECRET_VARIABLE}: expected at least 32 characters",
            )
        ],
    )


def _size(size: ScalingSize) -> TierSize:
    return TierSize(size.instance_type, size.min_size, size.desired_capacity, size.max_size)


def unhealthy_alarm_name(config: DeploymentConfig, region: str) -> str:
    """The global stack's health-check alarm of `region`'s origin (HealthCheck names it `<name>-unhealthy`)."""
    return f"{config.name_prefix}-{WARM_STANDBY}-{region}-unhealthy"


#: The AWS Health services the warm standby's primary runs on (Health's service codes).
FAILOVER_HEALTH_SERVICES = ["EC2", "EBS", "ELASTICLOADBALANCING", "RDS"]


def health_issue(region: str) -> dict[str, Any]:
    """Open AWS Health issues of the services the primary runs on, in `region`: not every service's issue, and not
    again when it closes. `detail.eventRegion` is the region affected; the event's own `region` is only where it was
    delivered (https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html)."""
    return {
        "source": ["aws.health"],
        "detail-type": ["AWS Health Event"],
        "detail": {
            "eventTypeCategory": ["issue"],
            "service": FAILOVER_HEALTH_SERVICES,
            "statusCode": ["open"],
            "eventRegion": [region],
        },
    }


class WarmStandbyRegionStack(RegionalFoundationStack):
    """One region: the security-group chain, web and app tiers, the database, break-glass access; in the standby
    also the failover function and what triggers it."""

    def __init__(
        self,
        scope: Construct,
        *,
        config: DeploymentConfig,
        arch: WarmStandby,
        settings: WarmStandbyRegion,
        peer_region: str,
        account_security: bool = True,
        account_trail: bool = False,
    ) -> None:
        is_primary = settings is arch.primary
        database_arn = RegionalStack.env_of(config, settings.region).arn("rds", database_resource(config, replica=not is_primary))
        super().__init__(
            scope,
            config=config,
            architecture=WARM_STANDBY,
            arch=arch,
            settings=settings,
            peer_region=peer_region,
            backup_resource_arns=[database_arn],
            account_security=account_security,
            account_trail=account_trail,
        )
        region = settings.region
        self.is_primary = is_primary
        name = self.resource_prefix
        self.certificate = DnsValidatedCertificate(
            self,
            "certificate",
            domain_names=[origin_host(region, arch.domain_name), app_host(region, arch.domain_name), writer_host(arch.domain_name)],
            hosted_zone_id=arch.hosted_zone_id,
            validated_elsewhere=[writer_host(arch.domain_name)],  # both regions certify it: its record is in the storage stack
        )
        self.security = self._security_groups(name)
        self._database(config, arch, peer_region)
        self._tiers(config, arch, settings)
        self.break_glass = BreakGlassInstance(
            self,
            "break-glass",
            name=f"{name}-break-glass",
            subnet_id=self.network.subnet_ids("app")[0],
            security_group_id=self.security.group_id("break-glass"),
            role=self.instance_role,
            key=self.key,
            ssh_target_names=[self.web.name, self.app.name],
        )
        rpo = arch.resilience_policy.region.rpo_seconds
        self._alarms(name, rpo)
        self._assets_alarm(name, config, rpo, peer_region)
        health = arch.health_check.path
        self.add_canary(
            config,
            [  # the health path through CloudFront (origin group, ALB, instances, database) and at this region's origin
                CanaryCheck("site-health", f"https://{arch.domain_name}{health}"),
                CanaryCheck("origin-health", f"https://{origin_host(region, arch.domain_name)}{health}"),
            ],
        )
        if self.is_primary:
            self._zone_outage(config, name)
            # AWS Health issues of this region arrive on this region's bus; the failover listens in the standby.
            EventForwarding(
                self, "forward-health", name=f"{name}-health-to-{peer_region}", pattern=health_issue(region), target_region=peer_region
            )
        else:
            self._failover(config, arch)
        TerraformOutput(self, "web_alb_dns_name", value=self.web.alb_dns_name)
        TerraformOutput(self, "origin_host", value=origin_host(region, arch.domain_name))
        TerraformOutput(self, "database_parameter", value=self.database.writer_parameter.name)
        TerraformOutput(self, "auto_scaling_groups", value=[self.web.group_name, self.app.group_name])
        TerraformOutput(self, "break_glass_instance_id", value=self.break_glass.instance_id)
        TerraformOutput(self, "break_glass_operator_policy_arn", value=self.break_glass.operator_policy_arn)
        database_moves = () if arch.database.aurora else DATABASE_MOVES
        add_moved_blocks(self, REGION_MOVES + database_moves + (PRIMARY_MOVES if is_primary else STANDBY_MOVES))

    def _zone_outage(self, config: DeploymentConfig, name: str) -> None:
        """Seed 002's Availability Zone failure in the primary: the first zone's subnets (every tier) cut off for 10
        minutes while the database fails over to its Multi-AZ standby; it stops when the web tier answers 5xx,
        which one zone's loss must not cause. The role has AWS's managed policy for the network action (it may
        only touch network ACLs FIS creates and tags) and may fail this database over only (a reboot with failover,
        or an Aurora cluster's failover to its reader)."""
        aurora = isinstance(self.database, AuroraRegionalCluster)
        role = ServiceRole(
            self,
            "zone-outage-role",
            name=f"{name}-zone-outage",
            service="fis.amazonaws.com",
            managed_policy_arns=[f"arn:{self.env.partition}:iam::aws:policy/service-role/AWSFaultInjectionSimulatorNetworkAccess"],
            statements=[
                {
                    "Sid": "FailTheDatabaseOver",
                    "Effect": "Allow",
                    "Action": ["rds:FailoverDBCluster", "rds:DescribeDBClusters"]
                    if aurora
                    else ["rds:RebootDBInstance", "rds:DescribeDBInstances"],
                    "Resource": [self.database.arn],
                },
                {
                    "Sid": "ResolveTargets",
                    "Effect": "Allow",
                    "Action": ["tag:GetResources"],
                    "Resource": "*",  # no resource-level permissions; FIS lists what it targets
                },
            ],
        )
        zone_outage_experiment(
            self,
            "zone-outage",
            name=f"{name}-az-outage",
            description=f"{name}: one Availability Zone down (network cut, database failover); stops on web 5xx",
            role_arn=role.role_arn,
            subnet_arns=[subnets[0].arn for subnets in self.network.subnets.values()],
            database_arns=[] if aurora else [self.database.arn],
            cluster_arns=[self.database.arn] if aurora else [],
            stop_alarm_arn=self.web_errors.arn,
        )

    def _database(self, config: DeploymentConfig, arch: WarmStandby, peer_region: str) -> None:
        """The primary (password from the master secret), or the replica of the peer's; the rotation function."""
        is_primary, name = self.is_primary, self.resource_prefix
        if arch.database.aurora:
            self.database = self._aurora(config, arch, peer_region)
        else:
            self.database = self._postgres(config, arch, peer_region)
        self.rotation = MasterPasswordRotation(
            self,
            "rotation",
            function_name=f"{name}-rotate-db",
            source_dir=ROTATION_SOURCE,
            secret_name=master_secret_name(config),
            secret_key_alias=credentials_key_alias(config),
            database=self.database,
            key=self.key,
            log_retention_days=arch.log_retention_days,
            schedule_days=30 if is_primary else None,
        )

    def _aurora(self, config: DeploymentConfig, arch: WarmStandby, peer_region: str) -> AuroraRegionalCluster:
        """The primary's global cluster and writer cluster (writer and reader in two zones), or the standby's secondary
        cluster (one instance, ready to take over without a launch)."""
        global_identifier = global_cluster_identifier(config)
        if self.is_primary:
            global_identifier = AuroraGlobalCluster(
                self, "global-database", identifier=global_identifier, settings=arch.database
            ).cluster.id
        return AuroraRegionalCluster(
            self,
            "database",
            global_cluster_identifier=global_identifier,
            availability_zones=self.network.availability_zones,
            instance_count=AURORA_PRIMARY_INSTANCES if self.is_primary else AURORA_SECONDARY_INSTANCES,
            source_region=None if self.is_primary else peer_region,
            **self._database_settings(config, arch),
        )

    def _postgres(self, config: DeploymentConfig, arch: WarmStandby, peer_region: str) -> PostgresDatabase:
        """The RDS instance: the primary, or the cross-region read replica of the peer's."""
        source = self.env.arn("rds", f"db:{database_identifier(config, replica=False)}", region=peer_region)
        return PostgresDatabase(
            self, "database", replicate_source_arn=None if self.is_primary else source, **self._database_settings(config, arch)
        )

    def _database_settings(self, config: DeploymentConfig, arch: WarmStandby) -> dict[str, Any]:
        """What either engine's database of this region takes: identity, network, key, names and the master secret."""
        return {
            "identifier": database_identifier(config, replica=not self.is_primary),
            "settings": arch.database,
            "subnet_ids": self.network.subnet_ids("data"),
            "security_group_id": self.security.group_id("db"),
            "key": self.key,
            "name_prefix": f"{config.name_prefix}-{WARM_STANDBY}",
            "monitoring_role_name": database_monitoring_role(config, self.env.region),
            "writer_parameter_name": database_parameter(config),
            "master_secret_name": master_secret_name(config),
        }

    def _security_groups(self, name: str) -> SecurityGroupChain:
        """CloudFront -> web ALB -> web -> app ALB -> app -> database; break-glass -> SSH to web and app."""
        links = [
            Link(PrefixListSource("com.amazonaws.global.cloudfront.origin-facing", "cloudfront"), "web-alb", 443),
            Link(
                PrefixListSource(f"com.amazonaws.{self.env.region}.route53-healthchecks", "route53-health-checkers"), "web-alb-health", 443
            ),
            Link("web-alb", "web", APP_PORT),
            Link("web", "app-alb", 443),
            Link("app-alb", "app", APP_PORT),
            Link("app", "db", POSTGRES_PORT),
            Link("break-glass", "web", 22),
            Link("break-glass", "app", 22),
        ]
        endpoints = self.network.endpoint_security_group_id
        s3 = self.network.gateway_prefix_list_id("s3")
        egress = [
            rule
            for member in INSTANCE_MEMBERS
            for rule in (Egress(member, "endpoints", security_group_id=endpoints), Egress(member, "s3", prefix_list_id=s3))
        ]
        return SecurityGroupChain(
            self, "security-groups", name=name, vpc_id=self.network.vpc_id, members=CHAIN_MEMBERS, links=links, egress=egress
        )

    def _tiers(self, config: DeploymentConfig, arch: WarmStandby, settings: WarmStandbyRegion) -> None:
        """The instance role, the internet-facing web tier (behind CloudFront only) and the internal app tier."""
        region, name = settings.region, self.resource_prefix
        short = f"{config.name_prefix}-ws-{region}"
        self.instance_role = instance_role(
            self,
            "instance-role",
            name=f"{name}-instance",
            statements=[
                {
                    "Sid": "FindTheWriter",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter"],
                    "Resource": [self.database.writer_parameter_arn],
                },
                {
                    "Sid": "ReadDatabaseCredentials",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": [self.env.arn("secretsmanager", f"secret:{master_secret_name(config)}-??????")],
                },
                secret_key_statement("DecryptCredentials", region, self.env.arn("kms", "key/*"), credentials_key_alias(config)),
                {"Sid": "DecryptTheWriterParameter", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [self.key.key_arn]},
                *self._assets_statements(config, arch),
            ],
        )
        self.alb_logs = LogDeliveryBucket(
            self, "alb-logs", bucket_name=f"{short}-alb-logs-{config.account_id}", load_balancer_logs_from=(region, config.account_id)
        )
        common: dict[str, Any] = {
            "network": self.network,
            "certificate_arn": self.certificate.certificate_arn,
            "key": self.key,
            "instance_role": self.instance_role,
            "instance_port": APP_PORT,
            "health_check_path": arch.health_check.path,
            "access_logs": self.alb_logs,
            "service_linked_role_arn": self.auto_scaling_role.arn if self.auto_scaling_role else None,
        }
        self.web = LoadBalancedTier(
            self,
            "web",
            name=f"{short}-web",
            alb_tier="public",
            instance_tier="public",
            internet_facing=True,
            alb_security_group_ids=[self.security.group_id("web-alb"), self.security.group_id("web-alb-health")],
            instance_security_group_id=self.security.group_id("web"),
            size=_size(settings.web),
            origin_verification=OriginVerification(ORIGIN_HEADER, origin_secret(self).string_value),
            dns_alias=DnsAlias(arch.hosted_zone_id, origin_host(region, arch.domain_name)),
            **common,
        )
        self.app = LoadBalancedTier(
            self,
            "app",
            name=f"{short}-app",
            alb_tier="app",
            instance_tier="app",
            internet_facing=False,
            alb_security_group_ids=[self.security.group_id("app-alb")],
            instance_security_group_id=self.security.group_id("app"),
            size=_size(settings.app),
            dns_alias=DnsAlias(arch.hosted_zone_id, app_host(region, arch.domain_name)),
            **common,
        )

    def _assets_statements(self, config: DeploymentConfig, arch: WarmStandby) -> list[dict[str, Any]]:
        """Objects through the Multi-Region Access Point: a request needs the permission on the access point and on
        the bucket it is routed to (either region), and the bucket's key through S3 in that region."""
        regions = [settings.region for settings in arch.regions]
        return [
            {
                "Sid": "AssetsThroughTheAccessPoint",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [
                    f"arn:{self.env.partition}:s3::{config.account_id}:accesspoint/*/object/*",  # its alias is generated
                    *(f"arn:{self.env.partition}:s3:::{assets_bucket(config, region)}/*" for region in regions),
                ],
            },
            {
                "Sid": "AssetsKeysThroughS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [self.env.arn("kms", "key/*", region=region) for region in regions],
                "Condition": {
                    "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{access_point_name(config)}"},
                    "StringEquals": {"kms:ViaService": [f"s3.{region}.amazonaws.com" for region in regions]},
                },
            },
        ]

    def _alarms(self, name: str, rpo_seconds: int) -> None:
        """Edge errors at the web ALB, and the database's health (replica lag in the standby: the RPO)."""
        topic = self.alarms.topic_arn
        self.web_errors = metric_alarm(
            self, "alarm-web-5xx", name=f"{name}-web-5xx", description="Web ALB answered more than 10 5xx in 5 minutes",
            namespace="AWS/ApplicationELB", metric_name="HTTPCode_ELB_5XX_Count",
            dimensions={"LoadBalancer": self.web.load_balancer.arn_suffix}, threshold=10, evaluation_periods=1, period_seconds=300,
            topic_arn=topic,
        )  # fmt: skip
        aurora = isinstance(self.database, AuroraRegionalCluster)
        database = {"DBClusterIdentifier" if aurora else "DBInstanceIdentifier": self.database.identifier}
        metric_alarm(
            self, "alarm-db-cpu", name=f"{name}-db-cpu", description="Database CPU above 80 % for 15 minutes",
            namespace="AWS/RDS", metric_name="CPUUtilization", dimensions=database, statistic="Average", threshold=80,
            evaluation_periods=3, period_seconds=300, topic_arn=topic,
        )  # fmt: skip
        if not aurora:  # Aurora's storage grows by itself
            metric_alarm(
                self, "alarm-db-storage", name=f"{name}-db-free-storage", description="Database free storage below 5 GiB",
                namespace="AWS/RDS", metric_name="FreeStorageSpace", dimensions=database, statistic="Minimum",
                threshold=5 * 1024**3, comparison_operator="LessThanThreshold", evaluation_periods=1, period_seconds=300, topic_arn=topic,
            )  # fmt: skip
        if self.is_primary:
            return
        lag_seconds = int(rpo_seconds * LAG_ALARM_SHARE)
        description = f"Replica more than {lag_seconds} s behind (half the region RPO of {rpo_seconds} s)"
        if aurora:  # reported in the secondary's region only, in milliseconds (aurora-global-database-disaster-recovery.html)
            metric_alarm(
                self, "alarm-replica-lag", name=f"{name}-db-replica-lag", description=description,
                namespace="AWS/RDS", metric_name="AuroraGlobalDBRPOLag", dimensions=database, statistic="Maximum",
                threshold=lag_seconds * 1000, evaluation_periods=1, period_seconds=60, topic_arn=topic,
            )  # fmt: skip
        else:
            metric_alarm(
                self, "alarm-replica-lag", name=f"{name}-db-replica-lag", description=description,
                namespace="AWS/RDS", metric_name="ReplicaLag", dimensions=database, statistic="Maximum", threshold=lag_seconds,
                evaluation_periods=1, period_seconds=60, topic_arn=topic,
            )  # fmt: skip

    def _assets_alarm(self, name: str, config: DeploymentConfig, rpo_seconds: int, peer_region: str) -> None:
        """This region's assets replicating to the peer more than the region RPO behind (ReplicationLatency: the most
        seconds the destination is behind the source for the rule,
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html), the way the replica-lag alarm
        watches the database, at the same share of the RPO: RTC alone promises 15 minutes for 99.99% of objects,
        three times a 5-minute RPO."""
        region = self.env.region
        lag_seconds = int(rpo_seconds * LAG_ALARM_SHARE)
        metric_alarm(
            self, "alarm-assets-replication", name=f"{name}-assets-replication-latency",
            description=f"Assets replicating to {peer_region} more than {lag_seconds} s behind (half the region RPO of {rpo_seconds} s)",
            namespace="AWS/S3", metric_name="ReplicationLatency",
            dimensions={
                "SourceBucket": assets_bucket(config, region),
                "DestinationBucket": assets_bucket(config, peer_region),
                "RuleId": replication_rule_id(peer_region),
            },
            statistic="Maximum", threshold=lag_seconds, evaluation_periods=1, period_seconds=60, topic_arn=self.alarms.topic_arn,
        )  # fmt: skip

    def _failover(self, config: DeploymentConfig, arch: WarmStandby) -> None:
        """The recovery plan, and the decision function (outside the VPC it decides about) with what runs it: the
        signal alarms, open AWS Health issues of the primary, and a one-minute schedule that probes."""
        primary_region = arch.primary.region
        self.recovery_plan = RecoveryPlan(self, "recovery-plan", config=config, arch=arch, topic_arn=self.alarms.topic_arn, key=self.key)
        probe = metric_alarm(
            self, "alarm-primary-probe", name=probe_alarm_name(config),
            description=f"The probe from {self.env.region} finds the primary's database or web tier down",
            namespace=failover_plan.WRITER_NAMESPACE, metric_name="PrimaryProbe",
            dimensions={"Deployment": self.recovery_plan.plan["deployment"]},
            statistic="Maximum", threshold=1, comparison_operator="LessThanThreshold",
            evaluation_periods=arch.failover.signal_seconds // 60, period_seconds=60, topic_arn=self.alarms.topic_arn,
        )  # fmt: skip
        self.failover = PrivateFunction(
            self,
            "failover-function",
            function_name=failover_function_name(config, self.env.region),
            source_dir=FAILOVER_SOURCE,
            handler="handler.handler",
            network=None,
            outside_vpc_reason="failover decision: calls only AWS APIs; must not depend on the VPC, NAT or endpoints it decides about",
            key=self.key,
            memory_mb=256,
            timeout_seconds=DECISION_TIMEOUT_SECONDS,
            reserved_concurrency=1,  # one decision at a time: a second would not see the first's execution yet
            log_retention_days=arch.log_retention_days,
            environment={
                "DOCUMENT_NAME": switch_document_name(config),
                "PRIMARY_REGION": primary_region,
                "MODE": arch.failover.mode,
                "SIGNAL_SECONDS": str(arch.failover.signal_seconds),
                "ROUTE53_ALARM": unhealthy_alarm_name(config, primary_region),
                "PROBE_ALARM": probe_alarm_name(config),
                "WRITER_PARAMETER": writer_parameter_name(config),
                "HEALTH_PARAMETER": health_parameter_name(config),
                "PRIMARY_DATABASE": database_identifier(config, replica=False),
                "PRIMARY_DATABASE_KIND": "cluster" if arch.database.aurora else "instance",
                "PRIMARY_WEB_GROUP": group_names(config, primary_region)["web"],
                "NAMESPACE": failover_plan.WRITER_NAMESPACE,
                "DEPLOYMENT": self.recovery_plan.plan["deployment"],
                "STATE_KEY_ID": self.key.key_arn,
                "TOPIC_ARN": self.alarms.topic_arn,
            },
            statements=self._failover_statements(config, arch, probe.arn),
        )
        signals = [unhealthy_alarm_name(config, primary_region), probe_alarm_name(config)]
        FunctionTrigger(
            self,
            "failover-trigger",
            name=f"{self.resource_prefix}-failover-trigger",
            description=f"Signal alarms into ALARM, or AWS Health issues of the primary's services in {primary_region}",
            pattern={
                "$or": [
                    {
                        "source": ["aws.cloudwatch"],
                        "detail-type": ["CloudWatch Alarm State Change"],
                        "detail": {"alarmName": signals, "state": {"value": ["ALARM"]}},
                    },
                    health_issue(primary_region),
                ]
            },
            function=self.failover,
            target_id="failover",
        )
        FunctionTrigger(
            self,
            "failover-probe",
            name=f"{self.resource_prefix}-failover-probe",
            description="Probe the primary from the standby region and decide, every minute",
            schedule="rate(1 minute)",
            function=self.failover,
            target_id="probe",
        )
        TerraformOutput(self, "failover_function_name", value=self.failover.function.function_name)

    def _failover_statements(self, config: DeploymentConfig, arch: WarmStandby, probe_alarm_arn: str) -> list[dict[str, Any]]:
        """Least privilege for the decision: read the signals, probe the primary, start the one document, page."""
        primary = arch.primary.region
        plan = self.recovery_plan
        return [
            {
                "Sid": "ReadTheSignals",
                "Effect": "Allow",
                "Action": ["cloudwatch:DescribeAlarms"],
                "Resource": [
                    probe_alarm_arn,
                    self.env.arn("cloudwatch", f"alarm:{unhealthy_alarm_name(config, primary)}", region="us-east-1"),
                ],
            },
            publish_metrics("PublishTheProbeAndTheLatch"),
            {
                "Sid": "ProbeThePrimaryDatabase",
                "Effect": "Allow",
                "Action": ["rds:DescribeDBClusters" if arch.database.aurora else "rds:DescribeDBInstances"],
                "Resource": [self.env.arn("rds", database_resource(config, replica=False), region=primary)],
            },
            {
                "Sid": "ProbeThePrimaryTiers",
                "Effect": "Allow",
                "Action": ["autoscaling:DescribeAutoScalingGroups", "ssm:DescribeAutomationExecutions"],
                "Resource": "*",  # no resource-level permissions for these
            },
            {
                "Sid": "TheLatchAndTheHealthRecord",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:PutParameter"],
                "Resource": [plan.writer_parameter.arn, plan.health_parameter.arn],
            },
            {
                "Sid": "ReadTheLastSwitch",
                "Effect": "Allow",
                "Action": ["ssm:GetAutomationExecution"],
                "Resource": [self.env.arn("ssm", "automation-execution/*")],
            },
            {
                "Sid": "StartThePlan",
                "Effect": "Allow",
                "Action": ["ssm:StartAutomationExecution"],
                "Resource": [self.env.arn("ssm", f"automation-definition/{switch_document_name(config)}:*")],
            },
            {
                "Sid": "RunAsThePlanRole",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [plan.role.role_arn],
                "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            },
            {"Sid": "Page", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [self.alarms.topic_arn]},
            {
                "Sid": "PageAndStateEncrypted",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
                "Resource": [self.key.key_arn],
            },
        ]


class WarmStandbyGlobalStack(GlobalFoundationStack):
    """CloudFront with origin failover (primary ALB -> standby ALB), its certificate and logs, the DNS name,
    and the forwarding of the primary's health alarm to the standby's failover trigger."""

    def __init__(self, scope: Construct, *, config: DeploymentConfig, arch: WarmStandby, budget: bool = False) -> None:
        super().__init__(scope, config=config, architecture=WARM_STANDBY, arch=arch, budget=budget)
        prefix = f"{config.name_prefix}-{WARM_STANDBY}"
        primary, standby = arch.primary.region, arch.standby.region
        self.certificate = DnsValidatedCertificate(self, "certificate", domain_names=[arch.domain_name], hosted_zone_id=arch.hosted_zone_id)
        self.logs = LogDeliveryBucket(self, "cdn-logs", bucket_name=f"{prefix}-cdn-logs-{config.account_id}", acl_delivery=True)
        self.cdn = OriginFailoverDistribution(
            self,
            "cdn",
            name=prefix,
            domain_name=arch.domain_name,
            hosted_zone_id=arch.hosted_zone_id,
            primary=Origin(primary, origin_host(primary, arch.domain_name)),
            standby=Origin(standby, origin_host(standby, arch.domain_name)),
            certificate_arn=self.certificate.certificate_arn,
            web_acl_arn=self.web_acl.web_acl_arn,
            logs=self.logs,
            origin_verification=OriginVerification(ORIGIN_HEADER, origin_secret(self).string_value),
            settings=arch.cloudfront,
            write_path=WRITE_PATH,
            writer=Origin("writer", writer_host(arch.domain_name)),  # a Route 53 failover record: see warm_standby_failover
        )
        # Route 53 health alarms live in us-east-1; the standby's failover trigger listens on its own bus.
        alarm = {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [unhealthy_alarm_name(config, primary)], "state": {"value": ["ALARM"]}},
        }
        EventForwarding(self, "forward-primary-alarm", name=f"{prefix}-primary-alarm-to-{standby}", pattern=alarm, target_region=standby)
        TerraformOutput(self, "distribution_domain_name", value=self.cdn.domain_name)
        TerraformOutput(self, "url", value=f"https://{arch.domain_name}")
        add_moved_blocks(self, GLOBAL_MOVES)

    def failover_signals(self) -> list[AlarmRef]:
        """The signals the decision function reads (the primary's health alarm, the probe), the readiness alarm that
        says whether the standby could take over, the writer latch, and the standby's own health."""
        config, primary, standby = self.config, self.arch.primary.region, self.arch.standby.region
        return [
            AlarmRef(unhealthy_alarm_name(config, primary), GLOBAL_REGION),
            AlarmRef(probe_alarm_name(config), standby),
            AlarmRef(readiness_alarm_name(config), standby),
            AlarmRef(latch_alarm_name(config), standby),
            AlarmRef(unhealthy_alarm_name(config, standby), GLOBAL_REGION),
        ]

    def dashboard_graphs(self) -> list[Section]:
        """Requests at the edge, the replica's lag against the RPO, and readiness."""
        config, arch = self.config, self.arch
        standby = arch.standby.region
        rpo = [(f"region RPO {arch.resilience_policy.region.rpo_seconds} s", arch.resilience_policy.region.rpo_seconds)]
        edge = Graph(
            "CloudFront: requests and 5xx error rate (%)",
            GLOBAL_REGION,
            [
                ["AWS/CloudFront", "Requests", "Region", "Global", "DistributionId", self.cdn.distribution.id, {"stat": "Sum"}],
                ["AWS/CloudFront", "5xxErrorRate", "Region", "Global", "DistributionId", self.cdn.distribution.id, {"yAxis": "right"}],
            ],
        )
        replica = database_identifier(config, replica=True)
        lag = (
            Graph(
                f"Global database replication lag in {standby} (ms)",
                standby,
                [["AWS/RDS", "AuroraGlobalDBRPOLag", "DBClusterIdentifier", replica]],
                stat="Maximum",
                annotations=[(f"region RPO {seconds} s", seconds * 1000) for _, seconds in rpo],
            )
            if arch.database.aurora
            else Graph(
                f"Database replica lag in {standby} (s)",
                standby,
                [["AWS/RDS", "ReplicaLag", "DBInstanceIdentifier", replica]],
                stat="Maximum",
                annotations=rpo,
            )
        )
        ready = Graph(
            f"Standby readiness in {standby} (1 = can take over)",
            standby,
            [
                [
                    failover_plan.WRITER_NAMESPACE,
                    failover_plan.READY_METRIC,
                    "Deployment",
                    f"{config.name_prefix}-{WARM_STANDBY}",
                    "TargetRegion",
                    standby,
                ]
            ],
            stat="Minimum",
            period_seconds=arch.failover.readiness_interval_minutes * 60,
        )
        # The assets' replication latency is graphed with its alarm (threshold: the region RPO), region by region.
        return [Section("Edge, replication and readiness", graphs=[edge, lag, ready, *self.canary_graphs()])]


class WarmStandbyStorageStack(RegionalStack):
    """The assets buckets of both regions, replicating to each other within 15 minutes (RTC), behind one
    S3 Multi-Region Access Point; and the database's master secret, replicated to the standby. Like a global
    table, this spans both regions by nature and deploys before the regional stacks; no regional stack depends
    on its state (they name the secret), and the failover moves the access point's routing with S3 Control."""

    def __init__(self, scope: Construct, *, config: DeploymentConfig, arch: WarmStandby) -> None:
        primary, standby = arch.primary.region, arch.standby.region
        super().__init__(scope, STORAGE_STACK, config=config, region=primary, extra_tags={"Architecture": WARM_STANDBY})
        providers = {primary: None, standby: self.aws_provider(standby, alias="standby")}
        self.assets = MultiRegionBucket(
            self,
            "assets",
            name=access_point_name(config),
            sites=[
                BucketSite(
                    label=label,
                    bucket_name=assets_bucket(config, region),
                    log_bucket_name=f"{config.name_prefix}-ws-assets-logs-{region}-{config.account_id}",
                    provider=providers[region],
                )
                for label, region in (("primary", primary), ("standby", standby))
            ],
        )
        if self.assets.access_point is not None:
            TerraformOutput(self, "access_point_alias", value=self.assets.access_point.alias)
            TerraformOutput(self, "access_point_arn", value=self.assets.access_point.arn)
            # The host name the app uses (SigV4A signing; TLS 1.2): reached through the VPC's s3-global endpoint.
            TerraformOutput(self, "access_point_host", value=f"{self.assets.access_point.alias}.accesspoint.s3-global.amazonaws.com")
            ArnParameters(
                self,
                "access-point-arn",
                name=access_point_parameter(config),
                arn=self.assets.access_point.arn,
                description="ARN of the assets Multi-Region Access Point, for the recovery plan's storage step",
                providers=list(providers.values()),
            )
        TerraformOutput(self, "buckets", value={region: bucket.bucket_name for region, bucket in self.assets.buckets.items()})
        keys = {
            region: EncryptionKey(
                self,
                f"credentials-key-{label}",
                alias=credentials_key_alias(config),
                description=f"database credentials in {region}",
                provider=providers[region],
            )
            for label, region in (("primary", primary), ("standby", standby))
        }
        self.master_secret = MasterSecret(
            self, "master-secret", name=master_secret_name(config), key=keys[primary], replica_keys={standby: keys[standby]}
        )
        TerraformOutput(self, "master_secret_name", value=self.master_secret.name)
        # Both regional certificates include the writer origin's name: its validation record lives here, once.
        ValidationRecords(self, "writer-validation", domain_names=[writer_host(arch.domain_name)], hosted_zone_id=arch.hosted_zone_id)
        add_moved_blocks(self, STORAGE_MOVES)
