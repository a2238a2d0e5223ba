"""The warm standby's failover machinery in the standby region: the recovery plan (SSM Automation), the roles that
run and approve it, the readiness evaluation, the writer latch and the write record CloudFront's writes follow.

Why SSM Automation and not Step Functions: the plan needs a human approval that one CLI command gives
(`aws:approve` + `send-automation-signal`), bounded waits without a function held open (`aws:loop` and
`aws:sleep`), and an execution report of every step with its start, end and outputs, which SSM keeps for each
execution. Step Functions has the waits and the report, but an approval there is a callback token we would
have to deliver and guard ourselves. The drills already run SSM documents, and the same documents run in the
emulator through tools.automation with IAM enforced.

Why writes move through DNS: CloudFront's API lives in us-east-1, the example's primary region, so changing a
behavior's origin during that region's outage may be impossible. The write behavior's origin is instead
`origin-writer.<domain>`, a Route 53 failover record whose PRIMARY (the primary's origin) and SECONDARY (the
standby's) answer according to health checks that follow a CloudWatch alarm in the standby region on the
PrimaryIsWriter metric, which the plan publishes (Route 53 answers DNS from its data plane; health checks of a
CloudWatch alarm read the alarm's metric:
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html#health-checks-creating-values-cloudwatch).
With no data the checks keep their last status, so writes stay where they were when nobody publishes.
"""

from __future__ import annotations

from typing import Any

from cdktf import TerraformOutput
from constructs import Construct

from modules.alarms import AlarmTopic, metric_alarm
from modules.base import AwsEnv, RegionalStack
from modules.config import DeploymentConfig, WarmStandby
from modules.database import parameter_group_name, subnet_group_name
from modules.drills import runbook_document
from modules.iam import OperatorRole, ServiceRole
from modules.kms import EncryptionKey
from modules.recovery import LatchedRecord, ScheduledAutomation, owned_parameter
from stacks import failover_plan
from stacks.naming import (
    WARM_STANDBY,
    access_point_parameter,
    assets_bucket,
    credentials_key_alias,
    database_identifier,
    database_monitoring_role,
    database_parameter,
    global_cluster_identifier,
    group_names,
    health_parameter_name,
    latch_alarm_name,
    master_secret_name,
    origin_host,
    permissions_document_name,
    plan_role_name,
    readiness_alarm_name,
    rebuild_document_name,
    switch_document_name,
    writer_host,
    writer_parameter_name,
)
from stacks.plan_permissions import permission_checks

#: Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs
#: (https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html).
VCPU_QUOTA_CODE = "L-1216C47A"
#: The S3 Control regions that answer Multi-Region Access Point routing calls (the failover control endpoints;
#: https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html). The
#: access point's own control plane (GetMultiRegionAccessPoint) answers in us-west-2 only, so the plan never calls it
#: (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_GetMultiRegionAccessPoint.html).
MRAP_CONTROL_REGIONS = ["us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1"]


def publish_metrics(sid: str) -> dict[str, Any]:
    """PutMetricData into the failover's namespace only (the call has no resource; the namespace is the boundary)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["cloudwatch:PutMetricData"],
        "Resource": "*",
        "Condition": {"StringEquals": {"cloudwatch:namespace": failover_plan.WRITER_NAMESPACE}},
    }


def recovery_plan(config: DeploymentConfig, arch: WarmStandby, *, topic_arn: str, state_key_arn: str, emulated: bool) -> dict[str, Any]:
    """The plan's data: regions, names and sizes, from the configuration (the documents' `Plan` default)."""
    primary, standby = arch.primary.region, arch.standby.region
    active = {"web": arch.primary.web, "app": arch.primary.app}

    def region(settings: Any) -> dict[str, Any]:
        groups = group_names(config, settings.region)
        sizes = {"web": settings.web, "app": settings.app}
        env = AwsEnv(config.account_id, settings.region)
        return {
            "database": database_identifier(config, replica=settings is arch.standby),
            "database_key": env.arn("kms", f"alias/{config.name_prefix}-{WARM_STANDBY}-{settings.region}"),
            "parameter": database_parameter(config),
            "active": {groups[t]: {"min": s.min_size, "desired": s.desired_capacity, "max": s.max_size} for t, s in active.items()},
            "resting": {groups[t]: {"min": s.min_size, "desired": s.desired_capacity, "max": s.max_size} for t, s in sizes.items()},
            "app_group": groups["app"],
            "bucket": assets_bucket(config, settings.region),
            "origin_host": origin_host(settings.region, arch.domain_name),
        }

    return {
        "deployment": f"{config.name_prefix}-{WARM_STANDBY}",
        "home": standby,
        "primary": primary,
        "standby": standby,
        "regions": {primary: region(arch.primary), standby: region(arch.standby)},
        "secret": master_secret_name(config),
        "secret_key_alias": f"alias/{credentials_key_alias(config)}",
        "writer_parameter": writer_parameter_name(config),
        "state_key": state_key_arn,
        "namespace": failover_plan.WRITER_NAMESPACE,
        "writer_metric": failover_plan.WRITER_METRIC,
        "ready_metric": failover_plan.READY_METRIC,
        "rpo_seconds": arch.resilience_policy.region.rpo_seconds,
        "vcpu_quota_code": VCPU_QUOTA_CODE,
        "certificate_margin_days": failover_plan.CERTIFICATE_MARGIN_DAYS,
        "backup_retention_days": arch.database.backup_retention_days,
        "engine": arch.database.engine,
        "global_cluster": global_cluster_identifier(config) if arch.database.aurora else None,
        "global_rpo_seconds": arch.database.global_rpo_seconds,
        "topic_arn": topic_arn,
        "mrap": None
        if emulated
        else {"arn_parameter": access_point_parameter(config), "account": config.account_id, "control_regions": MRAP_CONTROL_REGIONS},
    }


class RecoveryPlan(Construct):
    """The region-switch and rebuild-replica documents and the role they run as; the approver role; the readiness
    evaluation (a practice run on a schedule) and its alarm; the writer latch and the write record.

    Attributes: `plan`, `switch_document`, `rebuild_document`, `permissions_document`, `role`, `approver_role`,
    `writer_parameter`, `health_parameter`.
    """

    def __init__(
        self, scope: Construct, id: str, *, config: DeploymentConfig, arch: WarmStandby, topic_arn: str, key: EncryptionKey
    ) -> None:
        super().__init__(scope, id)
        stack = RegionalStack.of(self)
        settings = arch.failover
        key_arn = key.key_arn
        # aws:approve notifies only a topic whose name starts with "Automation"
        # (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-approve.html).
        self.approval_topic = AlarmTopic(
            self, "approvals", name=f"Automation-{config.name_prefix}-ws-failover-approvals", key=key, email=arch.alarm_email, publishers=()
        )
        self.plan = recovery_plan(config, arch, topic_arn=topic_arn, state_key_arn=key_arn, emulated=stack.emulated)
        prefix = f"{config.name_prefix}-{WARM_STANDBY}"
        self.writer_parameter = owned_parameter(
            self, "writer-region", name=writer_parameter_name(config), value=arch.primary.region,
            description="Which region takes the writes; the recovery plan owns the value", key_arn=key_arn,
        )  # fmt: skip
        self.health_parameter = owned_parameter(
            self, "health-issue", name=health_parameter_name(config), value="none",
            description="The last AWS Health issue of the primary's services; the decision function owns the value", key_arn=key_arn,
        )  # fmt: skip
        statements = [*self._database_statements(config, stack.env), *self._statements(config, stack.env, key_arn)]
        self.role = ServiceRole(self, "role", name=plan_role_name(config), service="ssm.amazonaws.com", statements=statements)
        self.approver_role = OperatorRole(
            self, "approver", name=f"{prefix}-failover-approver", statements=self._approver_statements(config, stack.env)
        )
        self._documents(config, arch, stack.env)
        self._readiness(config, prefix, topic_arn, settings.readiness_interval_minutes)
        LatchedRecord(
            self, "writer", name=latch_alarm_name(config), namespace=failover_plan.WRITER_NAMESPACE,
            metric_name=failover_plan.WRITER_METRIC, dimensions={"Deployment": self.plan["deployment"]},
            zone_id=arch.hosted_zone_id, record_name=writer_host(arch.domain_name),
            primary_cname=origin_host(arch.primary.region, arch.domain_name),
            standby_cname=origin_host(arch.standby.region, arch.domain_name), topic_arn=topic_arn,
        )  # fmt: skip
        TerraformOutput(stack, "recovery_plan_document", value=self.switch_document.name)
        TerraformOutput(stack, "rebuild_replica_document", value=self.rebuild_document.name)
        TerraformOutput(stack, "failover_approver_role_arn", value=self.approver_role.role_arn)

    def _documents(self, config: DeploymentConfig, arch: WarmStandby, env: AwsEnv) -> None:
        """The region switch, the rebuild of a replica and the permission evaluation, as Automation documents."""
        settings, prefix = arch.failover, f"{config.name_prefix}-{WARM_STANDBY}"
        approvers = list(settings.approvers) or [self.approver_role.role_arn]
        self.switch_document = runbook_document(
            self,
            "switch",
            name=switch_document_name(config),
            description=f"{prefix}: make TargetRegion the writer (failover to the standby, or the failback's switch)",
            parameters=failover_plan.switch_parameters(self.plan, approvers, self.role.role_arn, settings.approval_timeout_seconds),
            steps=failover_plan.switch_steps(self.plan, self.approval_topic.topic_arn, settings.approval_timeout_seconds),
        )
        self.rebuild_document = runbook_document(
            self,
            "rebuild",
            name=rebuild_document_name(config),
            description=f"{prefix}: rebuild Region's database as a replica of the other region's writer (failback)",
            parameters=failover_plan.rebuild_parameters(self.plan, approvers, self.role.role_arn),
            steps=failover_plan.rebuild_steps(self.plan, self.approval_topic.topic_arn, settings.approval_timeout_seconds),
        )
        self.permissions_document = runbook_document(
            self,
            "permissions",
            name=permissions_document_name(config),
            description=f"{prefix}: would IAM allow every call of the recovery plan to its role? (readiness)",
            parameters=failover_plan.permission_parameters(self.plan, self._checks(config, arch, env), self.role.role_arn),
            steps=failover_plan.permission_steps(self.plan),
        )

    def _plan_role_arn(self, config: DeploymentConfig, env: AwsEnv) -> str:
        return env.arn("iam", f"role/{plan_role_name(config)}", region="")

    def _checks(self, config: DeploymentConfig, arch: WarmStandby, env: AwsEnv) -> list[dict[str, Any]]:
        """What the permissions document simulates (stacks.plan_permissions), with this deployment's names."""
        prefix = f"{config.name_prefix}-{WARM_STANDBY}"  # the databases' name prefix (stacks.warm_standby)
        parts = {
            "partition": env.partition,
            "account": config.account_id,
            "approval_topic": self.approval_topic.topic_arn,
            "plan_role": self._plan_role_arn(config, env),
            "subnet_group": subnet_group_name(prefix),
            "parameter_group": parameter_group_name(prefix, arch.database.engine_version),
            "monitoring_roles": [database_monitoring_role(config, region) for region in self.plan["regions"]],
        }
        return permission_checks(self.plan, parts)

    def _database_statements(self, config: DeploymentConfig, env: AwsEnv) -> list[dict[str, Any]]:
        """Promote, rebuild and read the two databases (by deterministic ARN), with their keys through RDS; Aurora:
        switch or fail over the global database to either region's cluster and read them."""
        regions = list(self.plan["regions"])
        prefix = f"{config.name_prefix}-{WARM_STANDBY}"
        if self.plan["engine"] == "aurora-postgresql":
            switch = {
                # checked on the global cluster and on both clusters (AWS's sample policy for a Region switch of
                # Aurora: https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_aurora.html)
                "Sid": "SwitchTheGlobalDatabase",
                "Effect": "Allow",
                "Action": [
                    "rds:FailoverGlobalCluster",
                    "rds:SwitchoverGlobalCluster",
                    "rds:DescribeGlobalClusters",
                    "rds:DescribeDBClusters",
                ],
                "Resource": [
                    env.arn("rds", f"global-cluster:{self.plan['global_cluster']}", region=""),
                    *(env.arn("rds", f"cluster:{r['database']}", region=name) for name, r in self.plan["regions"].items()),
                ],
            }
            return [switch, self._key_statement(env, regions)]
        return [
            {
                "Sid": "SwitchTheDatabases",
                "Effect": "Allow",
                "Action": [
                    "rds:DescribeDBInstances",
                    "rds:PromoteReadReplica",
                    "rds:ModifyDBInstance",
                    "rds:DeleteDBInstance",
                    "rds:CreateDBInstanceReadReplica",
                    "rds:CreateDBSnapshot",
                    "rds:AddTagsToResource",
                    "rds:ListTagsForResource",
                ],
                "Resource": [
                    *(env.arn("rds", f"db:{r['database']}", region=name) for name, r in self.plan["regions"].items()),
                    *(env.arn("rds", f"snapshot:{r['database']}-before-rebuild-*", region=n) for n, r in self.plan["regions"].items()),
                    *(env.arn("rds", f"subgrp:{prefix}-*", region=name) for name in regions),
                    *(env.arn("rds", f"pg:{prefix}-*", region=name) for name in regions),
                ],
            },
            self._key_statement(env, regions),
            {
                "Sid": "PassTheMonitoringRole",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [env.arn("iam", f"role/{prefix}-*-rds-monitoring", region="")],
                "Condition": {"StringEquals": {"iam:PassedToService": "monitoring.rds.amazonaws.com"}},
            },
        ]

    @staticmethod
    def _key_statement(env: AwsEnv, regions: list[str]) -> dict[str, Any]:
        return {
            # What the services ask of the caller: Parameter Store kms:Encrypt for a Standard SecureString
            # (https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html),
            # ReplicateSecretToRegions kms:Encrypt and kms:GenerateDataKey on the replica's key
            # (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html).
            "Sid": "KeysThroughRdsSsmAndSecretsManager",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": [env.arn("kms", "key/*", region=name) for name in regions],
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": [f"{svc}.{name}.amazonaws.com" for name in regions for svc in ("rds", "ssm", "secretsmanager")]
                }
            },
        }

    def _statements(self, config: DeploymentConfig, env: AwsEnv, key_arn: str) -> list[dict[str, Any]]:
        """Scale and fence the tiers, repoint, move the latch, take over the secret, read the checks, report."""
        own_arn = self._plan_role_arn(config, env)
        regions = list(self.plan["regions"])
        groups = [
            env.arn("autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{group}", region=name)
            for name, r in self.plan["regions"].items()
            for group in r["active"]
        ]
        parameters = [env.arn("ssm", f"parameter{database_parameter(config)}", region=name) for name in regions]
        reads = [
            "autoscaling:DescribeAutoScalingGroups",
            "ec2:DescribeInstanceTypeOfferings",
            "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions",
            "cloudwatch:GetMetricStatistics",
        ]
        return [
            # readiness: the permissions document simulates this role, and only this role
            {"Sid": "EvaluateItsOwnPermissions", "Effect": "Allow", "Action": ["iam:SimulatePrincipalPolicy"], "Resource": [own_arn]},
            {"Sid": "ScaleAndFenceTheTiers", "Effect": "Allow", "Action": ["autoscaling:UpdateAutoScalingGroup"], "Resource": groups},
            {
                "Sid": "ReadWithoutResourceLevelPermissions",
                "Effect": "Allow",
                "Action": [*reads, "ssm:DescribeParameters", "acm:ListCertificates"],
                "Resource": "*",  # these calls have no resource-level permissions
            },
            publish_metrics("PublishTheLatchAndReadiness"),
            {
                "Sid": "ReadTheQuotaAndCertificates",
                "Effect": "Allow",
                "Action": ["servicequotas:GetServiceQuota", "acm:DescribeCertificate"],
                "Resource": [
                    *(env.arn("servicequotas", f"ec2/{VCPU_QUOTA_CODE}", region=name) for name in regions),
                    *(env.arn("acm", "certificate/*", region=name) for name in regions),
                ],
            },
            {
                "Sid": "RepointFenceAndLatch",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:PutParameter"],
                "Resource": [*parameters, env.arn("ssm", f"parameter{writer_parameter_name(config)}")],
            },
            {
                "Sid": "TakeOverAndReuniteTheCredentials",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:StopReplicationToReplica",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:ReplicateSecretToRegions",
                ],
                "Resource": [env.arn("secretsmanager", f"secret:{master_secret_name(config)}-??????", region=name) for name in regions],
            },
            {
                "Sid": "ReportAndAskForApproval",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [self.plan["topic_arn"], self.approval_topic.topic_arn],
            },
            {
                "Sid": "ReportAndLatchEncrypted",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"],
                "Resource": [key_arn],
            },
            {
                "Sid": "RouteTheAccessPoint",
                "Effect": "Allow",
                "Action": ["s3:GetMultiRegionAccessPointRoutes", "s3:SubmitMultiRegionAccessPointRoutes"],
                "Resource": [f"arn:{env.partition}:s3::{config.account_id}:accesspoint/*"],  # its alias is generated
            },
            {
                "Sid": "FindTheAccessPoint",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": [env.arn("ssm", f"parameter{access_point_parameter(config)}", region=name) for name in regions],
            },
        ]

    def _approver_statements(self, config: DeploymentConfig, env: AwsEnv) -> list[dict[str, Any]]:
        """Start, approve, refuse and follow the plan's executions, and nothing else."""
        documents = [env.arn("ssm", f"automation-definition/{n}:*") for n in (switch_document_name(config), rebuild_document_name(config))]
        return [
            {"Sid": "StartThePlan", "Effect": "Allow", "Action": ["ssm:StartAutomationExecution"], "Resource": documents},
            {
                "Sid": "ApproveAndFollow",
                "Effect": "Allow",
                "Action": ["ssm:SendAutomationSignal", "ssm:GetAutomationExecution", "ssm:StopAutomationExecution"],
                "Resource": [env.arn("ssm", "automation-execution/*")],
            },
            {
                "Sid": "ListExecutions",
                "Effect": "Allow",
                "Action": ["ssm:DescribeAutomationExecutions", "ssm:DescribeAutomationStepExecutions"],
                "Resource": "*",  # no resource-level permissions
            },
            {
                "Sid": "RunAsThePlanRole",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": [self.role.role_arn],
                "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
            },
        ]

    def _readiness(self, config: DeploymentConfig, prefix: str, topic_arn: str, minutes: int) -> None:
        """ARC's plan evaluation: every `minutes` a practice run of the switch and the permission evaluation, and an
        alarm when either finds the standby unable to take over, or when none reported (missing data is breaching)."""
        runs = (  # construct id, name suffix, description, document, its parameters
            ("readiness", "readiness", "Practice run of the recovery plan: its pre-checks, no change", switch_document_name(config),
             {"Practice": ["true"], "Reason": ["readiness evaluation"]}),
            ("permission-evaluation", "plan-permissions", "Would IAM allow every call of the plan to its role? No change",
             permissions_document_name(config), {}),
        )  # fmt: skip
        for id, suffix, description, document, parameters in runs:
            ScheduledAutomation(
                self, id, name=f"{prefix}-{suffix}", description=description, schedule=f"rate({minutes} minutes)",
                document_name=document, automation_role_arn=self.role.role_arn, parameters=parameters,
            )  # fmt: skip
        metric_alarm(
            self,
            "readiness-alarm",
            name=readiness_alarm_name(config),
            description="The plan's pre-checks or its permission evaluation find the standby unable to take over (or none reported)",
            namespace=failover_plan.WRITER_NAMESPACE,
            metric_name=failover_plan.READY_METRIC,
            dimensions={"Deployment": self.plan["deployment"], "TargetRegion": self.plan["standby"]},
            statistic="Minimum",
            threshold=1,
            comparison_operator="LessThanThreshold",
            period_seconds=minutes * 60,
            evaluation_periods=1,
            treat_missing_data="breaching",
            topic_arn=topic_arn,
        )
