"""Warm-standby three-tier architecture (seed 001, with seeds 002 and 003): the regional stacks.

Deploy order: state-bootstrap, warm-standby-<primary>, warm-standby-<standby>, warm-standby-global. The standby
names the primary database by its deterministic ARN, so it plans and applies while the primary region is down.
"""

from __future__ import annotations

import json
from pathlib import Path

from cdktf import Fn, TerraformOutput, TerraformVariable, TerraformVariableValidationConfig
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginGroup,
    CloudfrontDistributionOriginGroupMember,
)
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import CloudfrontResponseHeadersPolicy
from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.ec2_instance_state import Ec2InstanceState
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.instance import Instance
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from cdktf_cdktf_provider_aws.s3_control_multi_region_access_point import (
    S3ControlMultiRegionAccessPoint,
    S3ControlMultiRegionAccessPointDetails,
    S3ControlMultiRegionAccessPointDetailsRegion,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.alarms import metric_alarm
from modules.base import RegionalStack
from modules.certificate import DnsValidatedCertificate
from modules.compute import LoadBalancedTier, OriginVerification, TierSize, hardened_launch_template, instance_role
from modules.config import DeploymentConfig, ScalingSize, WarmStandby, WarmStandbyRegion
from modules.function import PrivateFunction
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.storage import LogDeliveryBucket, SecureBucket
from modules.suppressions import suppress
from stacks.foundation import GlobalFoundationStack, RegionalFoundationStack
from stacks.naming import WARM_STANDBY, app_host, failover_function_name, origin_host

STORAGE_STACK = f"{WARM_STANDBY}-storage"
FAILOVER_SOURCE = Path(__file__).resolve().parent.parent / "lambda" / "failover"
ORIGIN_HEADER = "X-Origin-Verify"
ORIGIN_SECRET_VARIABLE = "origin_verify_secret"  # noqa: S105 - the variable name, not its value
APP_PORT = 8080
DB_PORT = 5432


def database_identifier(config: DeploymentConfig, *, replica: bool) -> str:
    return f"{config.name_prefix}-{WARM_STANDBY}-db" + ("-replica" if replica else "")


def database_parameter(config: DeploymentConfig) -> str:
    """SSM parameter the app tier reads to find its writer (host, port, secret, writable)."""
    return f"/{config.name_prefix}/{WARM_STANDBY}/database"


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


#: checkov reads an aws_vpc_security_group_ingress_rule without cidr_ipv4 as open to 0.0.0.0/0.
SSH_FROM_GROUP_REASON = "false positive: the source is the break-glass security group (referenced_security_group_id), no CIDR"


class WarmStandbyRegionStack(RegionalFoundationStack):
    """One region: the security-group chain, web and app tiers, the database, break-glass access; in the standby
    also the failover function and what triggers it."""

    def __init__(
        self, scope: Construct, *, config: DeploymentConfig, arch: WarmStandby, settings: WarmStandbyRegion, peer_region: str
    ) -> None:
        is_primary = settings is arch.primary
        database_arn = RegionalStack.env_of(config, settings.region).arn("rds", f"db:{database_identifier(config, replica=not is_primary)}")
        super().__init__(
            scope,
            config=config,
            architecture=WARM_STANDBY,
            arch=arch,
            settings=settings,
            peer_region=peer_region,
            backup_resource_arns=[database_arn],
        )
        region = settings.region
        self.is_primary = is_primary
        name = self.resource_prefix
        short = f"{config.name_prefix}-ws-{region}"
        self.certificate = DnsValidatedCertificate(
            self,
            "certificate",
            domain_names=[origin_host(region, arch.domain_name), app_host(region, arch.domain_name)],
            hosted_zone_id=arch.hosted_zone_id,
        )
        self._security_groups(name)
        self._database(config, arch, peer_region)
        role = instance_role(
            self,
            "instance-role",
            name=f"{name}-instance",
            statements=[
                {"Sid": "FindTheWriter", "Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": [self.parameter.arn]},
                {
                    "Sid": "ReadDatabaseCredentials",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": [self.env.arn("secretsmanager", "secret:rds!db-*")],  # RDS-managed secrets of this region
                },
                {"Sid": "DecryptCredentials", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [self.key.key_arn]},
            ],
        )
        secret = origin_secret(self)
        self.alb_logs = LogDeliveryBucket(
            self, "alb-logs", bucket_name=f"{short}-alb-logs-{config.account_id}", load_balancer_logs_from=(region, config.account_id)
        )
        self.web = LoadBalancedTier(
            self,
            "web",
            name=f"{short}-web",
            network=self.network,
            alb_tier="public",
            instance_tier="public",
            internet_facing=True,
            certificate_arn=self.certificate.certificate_arn,
            alb_security_group_ids=[self.groups["web-alb"].id, self.groups["web-alb-health"].id],
            instance_security_group_id=self.groups["web"].id,
            size=_size(settings.web),
            key=self.key,
            instance_role=role,
            instance_port=APP_PORT,
            health_check_path=arch.health_check.path,
            origin_verification=OriginVerification(ORIGIN_HEADER, secret.string_value),
            access_logs=self.alb_logs,
        )
        self.app = LoadBalancedTier(
            self,
            "app",
            name=f"{short}-app",
            network=self.network,
            alb_tier="app",
            instance_tier="app",
            internet_facing=False,
            certificate_arn=self.certificate.certificate_arn,
            alb_security_group_ids=[self.groups["app-alb"].id],
            instance_security_group_id=self.groups["app"].id,
            size=_size(settings.app),
            key=self.key,
            instance_role=role,
            instance_port=APP_PORT,
            health_check_path=arch.health_check.path,
            access_logs=self.alb_logs,
        )
        for tier, host in ((self.web, origin_host(region, arch.domain_name)), (self.app, app_host(region, arch.domain_name))):
            Route53Record(
                self,
                f"{tier.node.id}-alias",
                zone_id=arch.hosted_zone_id,
                name=host,
                type="A",
                alias={"name": tier.alb_dns_name, "zone_id": tier.alb_zone_id, "evaluate_target_health": True},
            )
        self._break_glass(name, role)
        self._alarms(name)
        if self.is_primary:
            # AWS Health issues of this region arrive on this region's bus; the failover listens in the standby.
            health_issue = {"source": ["aws.health"], "detail-type": ["AWS Health Event"], "detail": {"eventTypeCategory": ["issue"]}}
            forward_events(self, "forward-health", name=f"{name}-health-to-{peer_region}", pattern=health_issue, target_region=peer_region)
        else:
            self._failover(config, arch)
        TerraformOutput(self, "web_alb_dns_name", value=self.web.alb_dns_name)
        TerraformOutput(self, "origin_host", value=origin_host(region, arch.domain_name))
        TerraformOutput(self, "database_parameter", value=self.parameter.name)
        TerraformOutput(self, "auto_scaling_groups", value=[self.web.group_name, self.app.group_name])

    # --- parts ---

    def _security_groups(self, name: str) -> None:
        """CloudFront -> web ALB -> web -> app ALB -> app -> database; break-glass -> SSH to web and app.

        Route 53 health checkers reach the web ALB too (its second group), for the health path only.
        """
        self.groups = {
            role: SecurityGroup(
                self,
                f"sg-{role}",
                name=f"{name}-{role}",
                description=f"{name}: {role} (chain member)",
                vpc_id=self.network.vpc_id,
                tags={"Name": f"{name}-{role}"},
            )
            for role in ("web-alb", "web-alb-health", "web", "app-alb", "app", "db", "break-glass")
        }
        cloudfront = DataAwsEc2ManagedPrefixList(self, "cloudfront-origin-facing", name="com.amazonaws.global.cloudfront.origin-facing")
        # A group of its own: the two lists' weights (55 + 25) exceed the 60 rules one group may hold.
        health_checkers = DataAwsEc2ManagedPrefixList(
            self, "route53-health-checkers", name=f"com.amazonaws.{self.env.region}.route53-healthchecks"
        )
        endpoints = self.network.endpoint_security_group_id
        s3 = self.network.gateway_prefix_list_id("s3")
        # (source, destination, port); a destination given as ("prefix", id) / ("sg", id) for outside the chain
        chain = [
            (("prefix", cloudfront.id, "cloudfront"), "web-alb", 443),
            (("prefix", health_checkers.id, "route53-health-checkers"), "web-alb-health", 443),
            ("web-alb", "web", APP_PORT),
            ("web", "app-alb", 443),
            ("app-alb", "app", APP_PORT),
            ("app", "db", DB_PORT),
            ("break-glass", "web", 22),
            ("break-glass", "app", 22),
        ]
        for source, destination, port in chain:
            if isinstance(source, tuple):
                _, prefix_list, label = source
                VpcSecurityGroupIngressRule(
                    self, f"in-{destination}-from-{label}", security_group_id=self.groups[destination].id,
                    description=f"HTTPS from {label} addresses", ip_protocol="tcp", from_port=port, to_port=port,
                    prefix_list_id=prefix_list, tags={"Name": f"{name}-{destination}-from-{label}"},
                )  # fmt: skip
                continue
            ingress = VpcSecurityGroupIngressRule(
                self, f"in-{destination}-from-{source}", security_group_id=self.groups[destination].id,
                description=f"{port}/tcp from {source}", ip_protocol="tcp", from_port=port, to_port=port,
                referenced_security_group_id=self.groups[source].id, tags={"Name": f"{name}-{destination}-from-{source}"},
            )  # fmt: skip
            if port == 22:
                suppress(ingress, "CKV_AWS_24", SSH_FROM_GROUP_REASON)
            VpcSecurityGroupEgressRule(
                self, f"out-{source}-to-{destination}", security_group_id=self.groups[source].id,
                description=f"{port}/tcp to {destination}", ip_protocol="tcp", from_port=port, to_port=port,
                referenced_security_group_id=self.groups[destination].id, tags={"Name": f"{name}-{source}-to-{destination}"},
            )  # fmt: skip
        for role in ("web", "app", "break-glass"):  # instances: Session Manager and package repositories over HTTPS
            for target, kind, value in (("endpoints", "referenced_security_group_id", endpoints), ("s3", "prefix_list_id", s3)):
                VpcSecurityGroupEgressRule(
                    self, f"out-{role}-to-{target}", security_group_id=self.groups[role].id,
                    description=f"HTTPS to the {target} endpoints", ip_protocol="tcp", from_port=443, to_port=443,
                    tags={"Name": f"{name}-{role}-to-{target}"}, **{kind: value},
                )  # fmt: skip

    def _database(self, config: DeploymentConfig, arch: WarmStandby, peer_region: str) -> None:
        database = arch.database
        family = f"postgres{database.engine_version.split('.')[0]}"
        # The same subnet group name in both regions: a cross-region replica names it, and so does a re-seed.
        subnet_group = DbSubnetGroup(
            self,
            "db-subnets",
            name=f"{config.name_prefix}-{WARM_STANDBY}-db",
            subnet_ids=self.network.subnet_ids("data"),
            description="Isolated data subnets",
            tags={"Name": f"{config.name_prefix}-{WARM_STANDBY}-db"},
        )
        parameters = DbParameterGroup(
            self,
            "db-parameters",
            name=f"{config.name_prefix}-{WARM_STANDBY}-{family}",
            family=family,
            parameter=[
                DbParameterGroupParameter(name="rds.force_ssl", value="1"),
                DbParameterGroupParameter(name="log_connections", value="1"),
                DbParameterGroupParameter(name="log_min_duration_statement", value="1000"),
            ],
            tags={"Name": f"{config.name_prefix}-{WARM_STANDBY}-{family}"},
        )
        monitoring = ServiceRole(
            self,
            "db-monitoring-role",
            name=f"{self.resource_prefix}-rds-monitoring",
            service="monitoring.rds.amazonaws.com",
            managed_policy_arns=[f"arn:{self.env.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
        )
        common = {
            "instance_class": database.instance_class,
            "multi_az": True,
            "storage_encrypted": True,
            "kms_key_id": self.key.key_arn,
            "db_subnet_group_name": subnet_group.name,
            "parameter_group_name": parameters.name,
            "vpc_security_group_ids": [self.groups["db"].id],
            "publicly_accessible": False,
            "backup_retention_period": database.backup_retention_days,
            "deletion_protection": True,
            "auto_minor_version_upgrade": True,
            "copy_tags_to_snapshot": True,
            "iam_database_authentication_enabled": True,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": self.key.key_arn,
            "performance_insights_retention_period": 7,
            "monitoring_interval": 60,
            "monitoring_role_arn": monitoring.role_arn,
            "enabled_cloudwatch_logs_exports": ["postgresql", "upgrade"],
            "skip_final_snapshot": False,
        }
        if self.is_primary:
            identifier = database_identifier(config, replica=False)
            self.database = DbInstance(
                self,
                "db",
                identifier=identifier,
                engine="postgres",
                engine_version=database.engine_version,
                allocated_storage=database.allocated_storage_gb,
                max_allocated_storage=database.allocated_storage_gb * 4,
                storage_type="gp3",
                username="app_admin",
                manage_master_user_password=True,
                master_user_secret_kms_key_id=self.key.key_arn,
                backup_window="03:00-04:00",
                maintenance_window="sun:04:30-sun:05:30",
                final_snapshot_identifier=f"{identifier}-final",
                tags={"Name": identifier},
                **common,
            )
            value = Fn.jsonencode(
                {
                    "host": self.database.address,
                    "port": self.database.port,
                    "writable": True,
                    "secret_arn": self.database.master_user_secret.get(0).secret_arn,
                }
            )
        else:
            identifier = database_identifier(config, replica=True)
            source = self.env.arn("rds", f"db:{database_identifier(config, replica=False)}", region=peer_region)
            self.database = DbInstance(
                self,
                "db",
                identifier=identifier,
                replicate_source_db=source,
                final_snapshot_identifier=f"{identifier}-final",
                tags={"Name": identifier},
                **common,
            )
            value = Fn.jsonencode({"host": self.database.address, "port": self.database.port, "writable": False, "secret_arn": None})
        self.parameter = SsmParameter(
            self,
            "db-parameter",
            name=database_parameter(config),
            type="SecureString",
            key_id=self.key.key_arn,
            value=value,
            description="Where the app tier finds its database writer; the failover function rewrites it",
            # The failover function owns the value once it has run; Terraform must not point the app back.
            lifecycle={"ignore_changes": ["value"]},
            tags={"Name": database_parameter(config)},
        )

    def _alarms(self, name: str) -> None:
        """Edge errors at the web ALB, and the database's health (replica lag in the standby: the RPO)."""
        topic = self.alarms.topic_arn
        metric_alarm(
            self, "alarm-web-5xx", name=f"{name}-web-5xx", description="Web ALB answered more than 10 5xx in 5 minutes",
            namespace="AWS/ApplicationELB", metric_name="HTTPCode_ELB_5XX_Count",
            dimensions={"LoadBalancer": self.web.load_balancer.arn_suffix}, threshold=10, evaluation_periods=1, period_seconds=300,
            topic_arn=topic,
        )  # fmt: skip
        database = {"DBInstanceIdentifier": self.database.identifier}
        metric_alarm(
            self, "alarm-db-cpu", name=f"{name}-db-cpu", description="Database CPU above 80 % for 15 minutes",
            namespace="AWS/RDS", metric_name="CPUUtilization", dimensions=database, statistic="Average", threshold=80,
            evaluation_periods=3, period_seconds=300, topic_arn=topic,
        )  # fmt: skip
        metric_alarm(
            self, "alarm-db-storage", name=f"{name}-db-free-storage", description="Database free storage below 5 GiB",
            namespace="AWS/RDS", metric_name="FreeStorageSpace", dimensions=database, statistic="Minimum",
            threshold=5 * 1024**3, comparison_operator="LessThanThreshold", evaluation_periods=1, period_seconds=300, topic_arn=topic,
        )  # fmt: skip
        if not self.is_primary:
            metric_alarm(
                self, "alarm-replica-lag", name=f"{name}-db-replica-lag", description="Replica more than 300 s behind (the RPO)",
                namespace="AWS/RDS", metric_name="ReplicaLag", dimensions=database, statistic="Maximum", threshold=300,
                evaluation_periods=3, period_seconds=60, topic_arn=topic,
            )  # fmt: skip

    def _break_glass(self, name: str, role: ServiceRole) -> None:
        """The only SSH path, reached through Session Manager; created stopped (start it for an incident)."""
        profile = IamInstanceProfile(
            self, "break-glass-profile", name=f"{name}-break-glass", role=role.role_name, tags={"Name": f"{name}-break-glass"}
        )
        template = hardened_launch_template(
            self,
            "break-glass-template",
            name=f"{name}-break-glass",
            instance_type="t3.micro",
            instance_profile_arn=profile.arn,
            security_group_id=self.groups["break-glass"].id,
            key=self.key,
        )
        # From the template, not an `ami` argument: EC2 resolves the SSM parameter, and Terraform would otherwise
        # see the resolved AMI as drift and replace the instance on every apply.
        self.break_glass = Instance(
            self,
            "break-glass",
            launch_template={"id": template.id, "version": "$Latest"},
            subnet_id=self.network.subnet_ids("app")[0],
            associate_public_ip_address=False,
            # Repeated from the template so the hardening is visible on the instance itself (and to scanners).
            iam_instance_profile=profile.name,
            monitoring=None if self.emulated else True,  # the emulator has no MonitorInstances; the template asks too
            ebs_optimized=True,
            metadata_options={"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1},
            # No root_block_device here: with an SSM-resolved AMI the provider then calls DescribeImages with the
            # "resolve:ssm:" string and fails (terraform-provider-aws issue 43488); the template encrypts the volume.
            tags={"Name": f"{name}-break-glass"},
        )
        suppress(
            self.break_glass,
            "CKV_AWS_8",
            "the launch template encrypts the root volume with the stack's KMS key; checkov does not follow the template",
        )
        Ec2InstanceState(self, "break-glass-stopped", instance_id=self.break_glass.id, state="stopped")

    def _failover(self, config: DeploymentConfig, arch: WarmStandby) -> None:
        primary_region = arch.primary.region
        capacity = {
            tier.name: {"min": size.min_size, "desired": size.desired_capacity, "max": size.max_size}
            for tier, size in ((self.web, arch.primary.web), (self.app, arch.primary.app))
        }
        groups = [self.env.arn("autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{tier.name}") for tier in (self.web, self.app)]
        self.failover = PrivateFunction(
            self,
            "failover-function",
            function_name=failover_function_name(config, self.env.region),
            source_dir=FAILOVER_SOURCE,
            handler="handler.handler",
            network=None,
            outside_vpc_reason="failover control plane: calls only AWS APIs; must not depend on the VPC, NAT or endpoints it repairs",
            key=self.key,
            memory_mb=256,
            timeout_seconds=900,
            reserved_concurrency=1,  # one failover at a time
            log_retention_days=arch.log_retention_days,
            environment={
                "REPLICA_ID": database_identifier(config, replica=True),
                "PARAMETER_NAME": database_parameter(config),
                "ASG_CAPACITY": json.dumps(capacity, sort_keys=True),
                "PRIMARY_REGION": primary_region,
                "TOPIC_ARN": self.alarms.topic_arn,
                "SECRET_KMS_KEY_ID": self.key.key_arn,
                "ACCOUNT_ID": config.account_id,
                "MRAP_NAME": "" if self.emulated else access_point_name(config),  # no access point in the emulator
                "STANDBY_BUCKET": assets_bucket(config, self.env.region),
                "PRIMARY_BUCKET": assets_bucket(config, primary_region),
            },
            statements=[
                {
                    "Sid": "PromoteTheReplica",
                    "Effect": "Allow",
                    "Action": ["rds:DescribeDBInstances", "rds:PromoteReadReplica", "rds:ModifyDBInstance"],
                    "Resource": [self.database.arn],
                },
                {
                    "Sid": "EncryptTheNewSecretAndParameter",
                    "Effect": "Allow",
                    "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
                    "Resource": [self.key.key_arn],
                },
                {
                    "Sid": "LetRdsCreateTheSecret",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
                    "Resource": [self.env.arn("secretsmanager", "secret:rds!db-*")],
                },
                {
                    "Sid": "RepointTheApp",
                    "Effect": "Allow",
                    "Action": ["ssm:GetParameter", "ssm:PutParameter"],
                    "Resource": [self.parameter.arn],
                },
                {"Sid": "ScaleTheStandby", "Effect": "Allow", "Action": ["autoscaling:UpdateAutoScalingGroup"], "Resource": groups},
                {
                    "Sid": "DescribeGroups",
                    "Effect": "Allow",
                    "Action": ["autoscaling:DescribeAutoScalingGroups"],
                    "Resource": "*",  # no resource-level permissions for Describe
                },
                {"Sid": "Announce", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [self.alarms.topic_arn]},
                {
                    "Sid": "RouteTheAccessPoint",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetMultiRegionAccessPoint",
                        "s3:GetMultiRegionAccessPointRoutes",
                        "s3:SubmitMultiRegionAccessPointRoutes",
                    ],
                    "Resource": [f"arn:{self.env.partition}:s3::{config.account_id}:accesspoint/*"],
                },
            ],
        )
        rule = CloudwatchEventRule(
            self,
            "failover-trigger",
            name=f"{self.resource_prefix}-failover-trigger",
            description=f"Primary health-check alarm (forwarded from us-east-1) or an AWS Health issue in {primary_region}",
            event_pattern=json.dumps(
                {
                    "$or": [
                        {
                            "source": ["aws.cloudwatch"],
                            "detail-type": ["CloudWatch Alarm State Change"],
                            "detail": {
                                "alarmName": [f"{config.name_prefix}-{WARM_STANDBY}-{primary_region}-unhealthy"],
                                "state": {"value": ["ALARM"]},
                            },
                        },
                        {
                            "source": ["aws.health"],
                            "detail-type": ["AWS Health Event"],
                            "detail": {"eventTypeCategory": ["issue"]},
                            "region": [primary_region],
                        },
                    ]
                }
            ),
            tags={"Name": f"{self.resource_prefix}-failover-trigger"},
        )
        CloudwatchEventTarget(self, "failover-target", rule=rule.name, arn=self.failover.function_arn, target_id="failover")
        LambdaPermission(
            self,
            "failover-invoke",
            statement_id="AllowEventBridge",
            action="lambda:InvokeFunction",
            function_name=self.failover.function.function_name,
            principal="events.amazonaws.com",
            source_arn=rule.arn,
        )
        TerraformOutput(self, "failover_function_name", value=self.failover.function.function_name)


#: AWS managed CloudFront policies (IDs are global constants).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
MANAGED_SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
FAILOVER_STATUS_CODES = [500, 502, 503, 504]
#: Paths whose requests write; CloudFront fails over only reads (GET, HEAD, OPTIONS) through an origin group.
WRITE_PATH = "/api/*"
READ_METHODS = ["GET", "HEAD", "OPTIONS"]


def security_headers_policy(scope: Construct, id: str, *, name: str) -> CloudfrontResponseHeadersPolicy:
    """Security headers on every response: HSTS for two years with subdomains and preload, nosniff, frames denied,
    a strict referrer policy; origin values are overridden."""
    return CloudfrontResponseHeadersPolicy(
        scope,
        id,
        name=name,
        comment="HSTS, nosniff, no framing, strict referrer",
        security_headers_config={
            "strict_transport_security": {
                "access_control_max_age_sec": 63072000,
                "include_subdomains": True,
                "preload": True,
                "override": True,
            },
            "content_type_options": {"override": True},
            "frame_options": {"frame_option": "DENY", "override": True},
            "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": True},
        },
    )


class WarmStandbyGlobalStack(GlobalFoundationStack):
    """CloudFront with origin failover (primary ALB -> standby ALB), its certificate and logs, the DNS name,
    and the forwarding of the primary's health alarm to the standby's failover trigger."""

    def __init__(self, scope: Construct, *, config: DeploymentConfig, arch: WarmStandby) -> None:
        super().__init__(scope, config=config, architecture=WARM_STANDBY, arch=arch)
        prefix = f"{config.name_prefix}-{WARM_STANDBY}"
        primary, standby = arch.primary.region, arch.standby.region
        self.certificate = DnsValidatedCertificate(self, "certificate", domain_names=[arch.domain_name], hosted_zone_id=arch.hosted_zone_id)
        self.logs = LogDeliveryBucket(self, "cdn-logs", bucket_name=f"{prefix}-cdn-logs-{config.account_id}", acl_delivery=True)
        secret = origin_secret(self)
        edge = arch.cloudfront

        def origin(region: str) -> CloudfrontDistributionOrigin:
            return CloudfrontDistributionOrigin(
                origin_id=region,
                domain_name=origin_host(region, arch.domain_name),
                connection_attempts=edge.connection_attempts,
                connection_timeout=edge.connection_timeout_seconds,
                custom_header=[CloudfrontDistributionOriginCustomHeader(name=ORIGIN_HEADER, value=secret.string_value)],
                custom_origin_config={
                    "http_port": 80,
                    "https_port": 443,
                    "origin_protocol_policy": "https-only",
                    "origin_ssl_protocols": ["TLSv1.2"],
                    "origin_read_timeout": edge.read_timeout_seconds,
                    "origin_keepalive_timeout": 5,
                },
            )

        # The emulator has no response headers policies: there, AWS's managed SecurityHeadersPolicy stands in.
        self.security_headers = (
            None if self.emulated else security_headers_policy(self, "security-headers", name=f"{prefix}-security-headers")
        )
        headers_policy_id = MANAGED_SECURITY_HEADERS if self.security_headers is None else self.security_headers.id
        geo = edge.geo_restriction
        behavior = {
            "viewer_protocol_policy": "https-only",
            "cached_methods": ["GET", "HEAD"],
            "cache_policy_id": CACHING_DISABLED,
            "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST_HEADER,
            "response_headers_policy_id": headers_policy_id,
            "compress": True,
        }
        # The emulator refuses an origin group as the default target: there, an ordered "*" behavior (after the
        # write path) sends every read to the group, which routes exactly as the default would.
        reads = primary if self.emulated else "failover"
        emulated_reads = (
            [
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern="*", target_origin_id="failover", allowed_methods=READ_METHODS, **behavior
                )
            ]
            if self.emulated
            else []
        )
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"{prefix}: {primary} with failover to {standby}",
            aliases=[arch.domain_name],
            origin=[origin(primary), origin(standby)],
            origin_group=[
                CloudfrontDistributionOriginGroup(
                    origin_id="failover",
                    failover_criteria={"status_codes": FAILOVER_STATUS_CODES},
                    member=[
                        CloudfrontDistributionOriginGroupMember(origin_id=primary),
                        CloudfrontDistributionOriginGroupMember(origin_id=standby),
                    ],
                )
            ],
            default_cache_behavior={"target_origin_id": reads, "allowed_methods": READ_METHODS, **behavior},
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=WRITE_PATH,
                    target_origin_id=primary,
                    allowed_methods=["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
                    **behavior,
                ),
                *emulated_reads,
            ],
            viewer_certificate={
                "acm_certificate_arn": self.certificate.certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            },
            web_acl_id=self.web_acl.web_acl_arn,
            logging_config={"bucket": self.logs.bucket.bucket_domain_name, "include_cookies": False, "prefix": "cloudfront/"},
            restrictions={
                "geo_restriction": (
                    {"restriction_type": geo.restriction_type, "locations": list(geo.locations)} if geo else {"restriction_type": "none"}
                )
            },
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class="PriceClass_All",
            tags={"Name": prefix},
        )
        suppress(self.distribution, "CKV2_AWS_46", "no S3 origin (both origins are ALBs); checkov counts the log bucket as one")
        suppress(self.distribution, "CKV_AWS_305", "the origins are the application, which serves '/' itself; no index object")
        if geo is None:
            suppress(self.distribution, "CKV_AWS_374", "worldwide audience: warm_standby.cloudfront.geo_restriction is not set")
        for record_type in ("A", "AAAA"):
            Route53Record(
                self,
                f"alias-{record_type.lower()}",
                zone_id=arch.hosted_zone_id,
                name=arch.domain_name,
                type=record_type,
                alias={"name": self.distribution.domain_name, "zone_id": self.distribution.hosted_zone_id, "evaluate_target_health": False},
            )
        self._forward_primary_alarm(prefix, primary, standby)
        TerraformOutput(self, "distribution_domain_name", value=self.distribution.domain_name)
        TerraformOutput(self, "url", value=f"https://{arch.domain_name}")

    def _forward_primary_alarm(self, prefix: str, primary: str, standby: str) -> None:
        """Route 53 health alarms live in us-east-1; the standby's failover trigger listens on its own bus."""
        alarm = {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [f"{prefix}-{primary}-unhealthy"], "state": {"value": ["ALARM"]}},
        }
        forward_events(self, "forward-primary-alarm", name=f"{prefix}-primary-alarm-to-{standby}", pattern=alarm, target_region=standby)


def forward_events(stack: RegionalStack, id: str, *, name: str, pattern: dict, target_region: str) -> CloudwatchEventRule:
    """Send the events matching `pattern` on this region's default bus to the default bus of `target_region`."""
    bus = stack.env.arn("events", "event-bus/default", region=target_region)
    role = ServiceRole(
        stack,
        f"{id}-role",
        name=name[:64],
        service="events.amazonaws.com",
        statements=[{"Sid": "PutOnTheTargetBus", "Effect": "Allow", "Action": ["events:PutEvents"], "Resource": [bus]}],
    )
    rule = CloudwatchEventRule(
        stack, id, name=name, description=f"Forward to {target_region}", event_pattern=json.dumps(pattern), tags={"Name": name}
    )
    CloudwatchEventTarget(stack, f"{id}-target", rule=rule.name, arn=bus, role_arn=role.role_arn, target_id="target-bus")
    return rule


def assets_bucket(config: DeploymentConfig, region: str) -> str:
    return f"{config.name_prefix}-ws-assets-{region}-{config.account_id}"


def access_point_name(config: DeploymentConfig) -> str:
    return f"{config.name_prefix}-ws-assets"


class WarmStandbyStorageStack(RegionalStack):
    """The assets buckets of both regions, replicating to each other within 15 minutes (RTC), behind one
    S3 Multi-Region Access Point. Like a global table, this spans both regions by nature; no regional stack
    depends on it, and the failover function moves the access point's routing with the S3 Control API."""

    def __init__(self, scope: Construct, *, config: DeploymentConfig, arch: WarmStandby) -> None:
        primary, standby = arch.primary.region, arch.standby.region
        super().__init__(scope, STORAGE_STACK, config=config, region=primary, extra_tags={"Architecture": WARM_STANDBY})
        standby_provider = self.aws_provider(standby, alias="standby")
        alias = f"{config.name_prefix}-ws-assets"
        keys = {
            primary: EncryptionKey(self, "key-primary", alias=alias, description=f"assets in {primary}"),
            standby: EncryptionKey(self, "key-standby", alias=alias, description=f"assets in {standby}", provider=standby_provider),
        }
        logs = {
            region: LogDeliveryBucket(
                self,
                f"logs-{label}",
                bucket_name=f"{config.name_prefix}-ws-assets-logs-{region}-{config.account_id}",
                server_access_logs=True,
                provider=provider,
            )
            for label, region, provider in (("primary", primary, None), ("standby", standby, standby_provider))
        }
        self.buckets = {
            primary: SecureBucket(
                self, "bucket-primary", bucket_name=assets_bucket(config, primary), key=keys[primary], access_logs=logs[primary]
            ),
            standby: SecureBucket(
                self,
                "bucket-standby",
                bucket_name=assets_bucket(config, standby),
                key=keys[standby],
                access_logs=logs[standby],
                provider=standby_provider,
            ),
        }
        self.buckets[primary].replicate_to("to-standby", self.buckets[standby], role_name=f"{config.name_prefix}-ws-assets-to-{standby}")
        self.buckets[standby].replicate_to("to-primary", self.buckets[primary], role_name=f"{config.name_prefix}-ws-assets-to-{primary}")
        # Never in the emulator: S3 Control prefixes the account ID to the endpoint host and resolves it with DNS.
        self.access_point: S3ControlMultiRegionAccessPoint | None = None
        if not self.emulated:
            self.access_point = S3ControlMultiRegionAccessPoint(
                self,
                "access-point",
                details=S3ControlMultiRegionAccessPointDetails(
                    name=access_point_name(config),
                    region=[S3ControlMultiRegionAccessPointDetailsRegion(bucket=bucket.bucket.bucket) for bucket in self.buckets.values()],
                    public_access_block={
                        "block_public_acls": True,
                        "block_public_policy": True,
                        "ignore_public_acls": True,
                        "restrict_public_buckets": True,
                    },
                ),
            )
            TerraformOutput(self, "access_point_alias", value=self.access_point.alias)
            TerraformOutput(self, "access_point_arn", value=self.access_point.arn)
        TerraformOutput(self, "buckets", value={region: bucket.bucket_name for region, bucket in self.buckets.items()})
