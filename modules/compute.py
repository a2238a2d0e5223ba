"""An Application Load Balancer in front of an Auto Scaling group, built from a hardened launch template."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.autoscaling_group import AutoscalingGroup, AutoscalingGroupTag
from cdktf_cdktf_provider_aws.autoscaling_policy import AutoscalingPolicy
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_service_linked_role import IamServiceLinkedRole
from cdktf_cdktf_provider_aws.launch_template import LaunchTemplate, LaunchTemplateBlockDeviceMappings, LaunchTemplateTagSpecifications
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_listener_rule import LbListenerRule, LbListenerRuleAction, LbListenerRuleCondition
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from constructs import Construct

from modules.base import RegionalStack
from modules.errors import InputError, Problem
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.network import Network
from modules.storage import LogDeliveryBucket
from modules.suppressions import suppress

#: Amazon Linux 2023 for an architecture, resolved by EC2 at launch from the public SSM parameter (no lookup at
#: plan time): https://docs.aws.amazon.com/linux/al2023/ug/ec2.html
AL2023_AMI = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}"
#: The processor letter that follows an instance family's generation: g is AWS Graviton (arm64); a (AMD), i (Intel)
#: or none are x86_64. a1 is the first Graviton family. https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
GRAVITON_FAMILY = re.compile(r"^(a1|[a-z]+\d+g[a-z0-9-]*)$")


def architecture_of(instance_type: str) -> str:
    """The CPU architecture an instance type runs, as AMI names spell it: "arm64" for Graviton, else "x86_64"."""
    return "arm64" if GRAVITON_FAMILY.match(instance_type.split(".", 1)[0]) else "x86_64"


TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class TierSize:
    """Instance type and group bounds."""

    instance_type: str
    min_size: int
    desired_capacity: int
    max_size: int


@dataclass(frozen=True)
class DnsAlias:
    """An A record `name` in the hosted zone `zone_id` that aliases the load balancer."""

    zone_id: str
    name: str


@dataclass(frozen=True)
class OriginVerification:
    """A header only the CDN sends: requests without it get 403 from the listener."""

    header_name: str
    header_value: str


def health_server_user_data(port: int, path: str) -> str:
    """A minimal service answering `path` on `port`, so ELB health checks pass until the app is deployed."""
    script = f"""#!/bin/bash
set -euo pipefail
cat > /usr/local/bin/health-server.py <<'PY'
import http.server
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "{path}"
        self.send_response(200 if ok else 404)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"not found")
http.server.ThreadingHTTPServer(("0.0.0.0", {port}), Handler).serve_forever()
PY
cat > /etc/systemd/system/health-server.service <<'UNIT'
[Unit]
Description=placeholder health endpoint
[Service]
ExecStart=/usr/bin/python3 /usr/local/bin/health-server.py
Restart=always
DynamicUser=yes
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable --now health-server.service
"""
    return base64.b64encode(script.encode()).decode()


#: Free addresses an Application Load Balancer needs in each of its subnets.
ALB_ADDRESSES = 8


class LoadBalancedTier(Construct):
    """ALB (HTTPS, TLS 1.2+) -> target group -> Auto Scaling group of hardened instances.

    Default: instances from Amazon Linux 2023 with IMDSv2 required (hop limit 1), encrypted gp3 root volume with
    `key`, no SSH key (Session Manager only), detailed monitoring; ELB health checks on `health_check_path`;
    target tracking on 70 % CPU and on 1000 requests per target; deletion protection on the ALB; invalid headers
    dropped; access logs to `access_logs` when given. An internet-facing ALB also redirects HTTP to HTTPS.
    With `origin_verification`, only requests that carry the header are forwarded, plus GET of the health path
    (health checkers cannot add headers); everything else gets 403. An internet-facing ALB needs `web_acl_arn`
    (associated here) or `origin_verification` (the web ACL then guards the CDN in front of it).
    Default: no DNS record; `dns_alias` adds an A alias record that evaluates the ALB's target health.
    Default: the account's AWSServiceRoleForAutoScaling launches the instances; `service_linked_role_arn` names
    another (one that `key`'s policy lets use the key: see `auto_scaling_service_role`).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        network: Network,
        alb_tier: str,
        instance_tier: str,
        internet_facing: bool,
        certificate_arn: str,
        alb_security_group_ids: Sequence[str],
        instance_security_group_id: str,
        size: TierSize,
        key: EncryptionKey,
        instance_role: ServiceRole,
        instance_port: int = 8080,
        health_check_path: str = "/health",
        origin_verification: OriginVerification | None = None,
        cpu_target_percent: float = 70,
        requests_per_target: int = 1000,
        user_data: str | None = None,
        access_logs: LogDeliveryBucket | None = None,
        web_acl_arn: str | None = None,
        dns_alias: DnsAlias | None = None,
        service_linked_role_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        problems: list[Problem] = []
        if not 0 <= size.min_size <= size.desired_capacity <= size.max_size:
            problems.append(Problem(f"{self.node.path}.size", size, "expected 0 <= min_size <= desired_capacity <= max_size"))
        if len(network.subnet_ids(instance_tier)) < 2:
            problems.append(Problem(f"{self.node.path}.instance_tier", instance_tier, "expected a tier with subnets in at least 2 AZs"))
        if not 0 < cpu_target_percent <= 100:
            problems.append(Problem(f"{self.node.path}.cpu_target_percent", cpu_target_percent, "expected more than 0, at most 100"))
        problems += self._room(network, alb_tier, instance_tier, size)
        if internet_facing and web_acl_arn is None and origin_verification is None:
            problems.append(
                Problem(f"{self.node.path}.web_acl_arn", None, "expected a web ACL, or origin_verification behind a CDN with one")
            )
        if problems:
            raise InputError(problems)
        self.name = name
        self.service_linked_role_arn = service_linked_role_arn
        self._load_balancer(
            network=network,
            alb_tier=alb_tier,
            internet_facing=internet_facing,
            alb_security_group_ids=alb_security_group_ids,
            access_logs=access_logs,
            web_acl_arn=web_acl_arn,
            origin_verification=origin_verification,
        )
        self._target_group(network, instance_port, health_check_path, internet_facing)
        self._listeners(certificate_arn, origin_verification, health_check_path, internet_facing)
        self._group(
            network=network,
            instance_tier=instance_tier,
            size=size,
            key=key,
            instance_role=instance_role,
            instance_security_group_id=instance_security_group_id,
            instance_port=instance_port,
            health_check_path=health_check_path,
            user_data=user_data,
        )
        self._scaling(cpu_target_percent, requests_per_target)
        if dns_alias is not None:
            Route53Record(
                self,
                "alias",
                zone_id=dns_alias.zone_id,
                name=dns_alias.name,
                type="A",
                alias={"name": self.alb_dns_name, "zone_id": self.alb_zone_id, "evaluate_target_health": True},
            )

    def _room(self, network: Network, alb_tier: str, instance_tier: str, size: TierSize) -> list[Problem]:
        """Each subnet must hold the ALB's nodes (8 free addresses,
        https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#subnets-load-balancer)
        and its share of the group at max_size (spread evenly over the AZs); AWS refuses launches past that."""
        azs = max(len(network.subnet_ids(instance_tier)), 1)
        per_subnet = {alb_tier: ALB_ADDRESSES}
        per_subnet[instance_tier] = per_subnet.get(instance_tier, 0) + -(-size.max_size // azs)
        return [
            Problem(
                f"{self.node.path}.size.max_size",
                size.max_size,
                f"expected what fits the {tier} subnets: each needs {needed} addresses (load balancer and instances) and has"
                f" {network.free_addresses(tier)} free: a larger VPC, or fewer instances",
            )
            for tier, needed in per_subnet.items()
            if needed > network.free_addresses(tier)
        ]

    def _load_balancer(
        self,
        *,
        network: Network,
        alb_tier: str,
        internet_facing: bool,
        alb_security_group_ids: Sequence[str],
        access_logs: LogDeliveryBucket | None,
        web_acl_arn: str | None,
        origin_verification: OriginVerification | None,
    ) -> None:
        name = self.name
        self.load_balancer = Lb(
            self,
            "alb",
            name=name,
            load_balancer_type="application",
            internal=not internet_facing,
            subnets=network.subnet_ids(alb_tier),
            security_groups=list(alb_security_group_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=True,
            desync_mitigation_mode="strictest",
            access_logs={"bucket": access_logs.bucket.bucket, "prefix": name, "enabled": True} if access_logs else None,
            tags={"Name": name},
            # The ALB checks at creation that it may write its logs: the bucket policy must exist first.
            depends_on=[access_logs.policy] if access_logs and access_logs.policy else None,
        )
        if web_acl_arn is not None:
            Wafv2WebAclAssociation(self, "waf", resource_arn=self.load_balancer.arn, web_acl_arn=web_acl_arn)
        elif internet_facing:
            suppress(
                self.load_balancer,
                "CKV2_AWS_28",
                "WAF runs on the CDN in front: this ALB forwards only requests with its origin-verify header (else 403)",
            )

    def _target_group(self, network: Network, instance_port: int, health_check_path: str, internet_facing: bool) -> None:
        name = self.name
        self.target_group = LbTargetGroup(
            self,
            "targets",
            name=name,
            port=instance_port,
            protocol="HTTP",
            vpc_id=network.vpc_id,
            deregistration_delay="30",
            health_check={
                "enabled": True,
                "path": health_check_path,
                "port": "traffic-port",
                "protocol": "HTTP",
                "matcher": "200",
                "interval": 30,
                "timeout": 10,
                "healthy_threshold": 3,
                "unhealthy_threshold": 3,
            },
            tags={"Name": name},
        )
        if internet_facing:
            suppress(
                self.target_group,
                "CKV_AWS_378",
                "TLS 1.2+ ends at the ALB; targets in private subnets take HTTP from the ALB's security group only",
            )

    def _listeners(
        self, certificate_arn: str, origin_verification: OriginVerification | None, health_check_path: str, internet_facing: bool
    ) -> None:
        """HTTPS (TLS 1.2+): forward, or 403 unless the origin header (or a health check GET) matches; HTTP redirects."""
        name = self.name
        forward = LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
        deny = LbListenerDefaultAction(
            type="fixed-response", fixed_response={"content_type": "text/plain", "message_body": "Forbidden", "status_code": "403"}
        )
        self.https_listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=certificate_arn,
            default_action=[deny if origin_verification else forward],
            tags={"Name": f"{name}-https"},
        )
        if origin_verification is not None:
            # Route 53 health checkers cannot send the header: they may GET the health path, and nothing else.
            LbListenerRule(
                self,
                "health-checks",
                listener_arn=self.https_listener.arn,
                priority=5,
                action=[LbListenerRuleAction(type="forward", target_group_arn=self.target_group.arn)],
                condition=[
                    LbListenerRuleCondition(path_pattern={"values": [health_check_path]}),
                    LbListenerRuleCondition(http_request_method={"values": ["GET"]}),
                ],
                tags={"Name": f"{name}-health-checks"},
            )
            LbListenerRule(
                self,
                "from-cdn-only",
                listener_arn=self.https_listener.arn,
                priority=10,
                action=[LbListenerRuleAction(type="forward", target_group_arn=self.target_group.arn)],
                condition=[
                    LbListenerRuleCondition(
                        http_header={"http_header_name": origin_verification.header_name, "values": [origin_verification.header_value]}
                    )
                ],
                tags={"Name": f"{name}-from-cdn-only"},
            )
        if internet_facing:
            LbListener(
                self,
                "http-redirect",
                load_balancer_arn=self.load_balancer.arn,
                port=80,
                protocol="HTTP",
                default_action=[
                    LbListenerDefaultAction(type="redirect", redirect={"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"})
                ],
                tags={"Name": f"{name}-http-redirect"},
            )

    def _group(
        self,
        *,
        network: Network,
        instance_tier: str,
        size: TierSize,
        key: EncryptionKey,
        instance_role: ServiceRole,
        instance_security_group_id: str,
        instance_port: int,
        health_check_path: str,
        user_data: str | None,
    ) -> None:
        name = self.name
        profile = IamInstanceProfile(self, "profile", name=name, role=instance_role.role_name, tags={"Name": name})
        self.launch_template = hardened_launch_template(
            self,
            "template",
            name=name,
            instance_type=size.instance_type,
            instance_profile_arn=profile.arn,
            security_group_id=instance_security_group_id,
            key=key,
            user_data=user_data or health_server_user_data(instance_port, health_check_path),
        )
        self.group = AutoscalingGroup(
            self,
            "group",
            name=name,
            vpc_zone_identifier=network.subnet_ids(instance_tier),
            min_size=size.min_size,
            desired_capacity=size.desired_capacity,
            max_size=size.max_size,
            health_check_type="ELB",
            service_linked_role_arn=self.service_linked_role_arn,
            health_check_grace_period=300,
            target_group_arns=[self.target_group.arn],
            launch_template={"id": self.launch_template.id, "version": "$Latest"},
            enabled_metrics=["GroupDesiredCapacity", "GroupInServiceInstances", "GroupMinSize", "GroupMaxSize", "GroupTotalInstances"],
            tag=[AutoscalingGroupTag(key="Name", value=name, propagate_at_launch=True)],
            # Scaling (and a failover) move the desired capacity; Terraform must not pull it back.
            lifecycle={"ignore_changes": ["desired_capacity"]},
        )

    def _scaling(self, cpu_target_percent: float, requests_per_target: int) -> None:
        """Target tracking on average CPU and on requests per target."""
        name = self.name
        AutoscalingPolicy(
            self,
            "cpu-target",
            name=f"{name}-cpu-{int(cpu_target_percent)}",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration={
                "predefined_metric_specification": {"predefined_metric_type": "ASGAverageCPUUtilization"},
                "target_value": cpu_target_percent,
            },
        )
        AutoscalingPolicy(
            self,
            "requests-target",
            name=f"{name}-requests-{requests_per_target}",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration={
                "predefined_metric_specification": {
                    "predefined_metric_type": "ALBRequestCountPerTarget",
                    "resource_label": f"{self.load_balancer.arn_suffix}/{self.target_group.arn_suffix}",
                },
                "target_value": requests_per_target,
            },
        )

    @property
    def alb_dns_name(self) -> str:
        return self.load_balancer.dns_name

    @property
    def alb_zone_id(self) -> str:
        return self.load_balancer.zone_id

    @property
    def group_name(self) -> str:
        return self.group.name


def hardened_launch_template(
    scope: Construct,
    id: str,
    *,
    name: str,
    instance_type: str,
    instance_profile_arn: str,
    security_group_id: str,
    key: EncryptionKey,
    user_data: str | None = None,
) -> LaunchTemplate:
    """Amazon Linux 2023 for `instance_type`'s architecture (arm64 on Graviton, resolved at launch), IMDSv2 only with
    hop limit 1, encrypted gp3 root, no SSH key, detailed monitoring; instances, volumes and interfaces carry the
    stack's tags (the provider's default_tags never reach what a launch template launches, so the budget's
    Deployment tag would miss the instances' cost) and their Name."""
    launched_tags = {**RegionalStack.of(scope).tags, "Name": name}
    return LaunchTemplate(
        scope,
        id,
        name=name,
        image_id=AL2023_AMI.format(architecture=architecture_of(instance_type)),
        instance_type=instance_type,
        update_default_version=True,
        iam_instance_profile={"arn": instance_profile_arn},
        vpc_security_group_ids=[security_group_id],
        metadata_options={
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": 1,
            "instance_metadata_tags": "enabled",
        },
        monitoring={"enabled": True},
        ebs_optimized="true",
        block_device_mappings=[
            LaunchTemplateBlockDeviceMappings(
                device_name="/dev/xvda",
                ebs={
                    "volume_size": 20,
                    "volume_type": "gp3",
                    "encrypted": "true",
                    "kms_key_id": key.key_arn,
                    "delete_on_termination": "true",
                },
            )
        ],
        user_data=user_data,
        tag_specifications=[
            LaunchTemplateTagSpecifications(resource_type=kind, tags=launched_tags) for kind in ("instance", "volume", "network-interface")
        ],
        tags={"Name": name},
    )


#: IAM role names are at most 64 characters; a service-linked role's is its prefix, "_" and the custom suffix.
AUTO_SCALING_ROLE_PREFIX = "AWSServiceRoleForAutoScaling_"


def auto_scaling_service_role(scope: Construct, id: str, *, suffix: str) -> IamServiceLinkedRole:
    """An EC2 Auto Scaling service-linked role of our own (`AWSServiceRoleForAutoScaling_<suffix>`).

    A key policy may name only principals that exist: creating this role in the stack, before the key, lets the
    volume key grant it use on a fresh account, where the default role does not exist until the first group does
    (https://docs.aws.amazon.com/autoscaling/ec2/userguide/autoscaling-service-linked-role.html). Role names are
    unique per account, so the suffix names the region too.
    """
    if len(AUTO_SCALING_ROLE_PREFIX + suffix) > 64 or not re.fullmatch(r"[\w+=,.@-]+", suffix):
        raise InputError.single(
            f"{scope.node.path}/{id}.suffix", suffix, f"expected at most {64 - len(AUTO_SCALING_ROLE_PREFIX)} of letters, digits, +=,.@_-"
        )
    return IamServiceLinkedRole(
        scope,
        id,
        aws_service_name="autoscaling.amazonaws.com",
        custom_suffix=suffix,
        description="EC2 Auto Scaling with our volume key",
        tags={"Name": AUTO_SCALING_ROLE_PREFIX + suffix},
    )


def amazon_linux_buckets(region: str) -> list[str]:
    """AWS-owned buckets an Amazon Linux 2023 instance in `region` reads through an S3 gateway endpoint.

    dnf: the repository mirror list of AL2023 (`/etc/yum.repos.d/amazonlinux.repo`) is
    `https://al2023-repos-<region>-de612dc2.s3.dualstack.<region>.amazonaws.com/...`. SSM Agent and Patch Manager:
    https://docs.aws.amazon.com/systems-manager/latest/userguide/ssm-agent-minimum-s3-permissions.html. CloudWatch
    agent packages: `amazoncloudwatch-agent-<region>`.
    """
    return [
        f"al2023-repos-{region}-de612dc2",
        f"amazon-ssm-{region}",
        f"amazon-ssm-packages-{region}",
        f"{region}-birdwatcher-prod",
        f"aws-ssm-distributor-file-{region}",
        f"aws-ssm-document-attachments-{region}",
        f"patch-baseline-snapshot-{region}",
        f"amazoncloudwatch-agent-{region}",
    ]


def instance_role(scope: Construct, id: str, *, name: str, statements: Sequence[dict] = ()) -> ServiceRole:
    """EC2 role: Session Manager (the only way in) plus what the app needs."""
    env = RegionalStack.of(scope).env
    return ServiceRole(
        scope,
        id,
        name=name,
        service="ec2.amazonaws.com",
        statements=statements,
        managed_policy_arns=[f"arn:{env.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"],
    )
