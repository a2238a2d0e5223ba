"""What AWS requires of the recovery plan's role, call by call: for every API call a step of the warm standby's
recovery plan makes, the IAM actions (the call's own and the dependent actions AWS checks beside it), the resources
they are checked on, and the KMS permissions a service uses *as the caller* when it encrypts or decrypts for it
(`kms:ViaService`). It is the specification the role's policy (stacks.warm_standby_failover) is proven against:

- tests compare it with the calls the handlers really make (runbooks.recovery_plan, read from their source), both
  ways, and simulate the synthesized policy against every row;
- the permissions document runs the same simulation against the deployed role (iam:SimulatePrincipalPolicy) on the
  readiness schedule and fails readiness naming what is missing, the way ARC's plan evaluation checks its blocks'
  permissions (https://docs.aws.amazon.com/r53recovery/latest/dg/region-switch.plan-evaluation.html).

A generated identifier (a key's ID, a group's UUID, a secret's suffix) cannot be known at synth: REPRESENTATIVE
stands for it, so a row proves the policy's pattern covers every such resource of this deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Service authorization reference pages, by IAM prefix (what each action needs, its resources and conditions).
REFERENCE = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_{}.html"
SERVICE_PAGES = {
    "rds": "amazonrds",
    "ssm": "awssystemsmanager",
    "autoscaling": "amazonec2autoscaling",
    "ec2": "amazonec2",
    "cloudwatch": "amazoncloudwatch",
    "servicequotas": "servicequotas",
    "secretsmanager": "awssecretsmanager",
    "acm": "awscertificatemanager",
    "s3": "amazons3",
    "sns": "amazonsns",
    "iam": "awsidentityandaccessmanagementiam",
    "kms": "awskeymanagementservice",
}
#: Where each service says which KMS permissions it uses as the caller.
KMS_PAGES = {
    "ssm": "https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html",
    "secretsmanager": "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-authz",
    "rds": "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html",
    "sns": "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html",
}
#: Stands for an identifier AWS generates (a key, a group's UUID, a certificate, an access point's alias).
REPRESENTATIVE = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@dataclass(frozen=True)
class PlanCall:
    """One API call of the plan (`service:Operation` as boto3 names it) and what AWS requires of the caller for it.

    `handlers` are the runbooks.recovery_plan functions that make it (or `document` for a step that calls the API
    itself); `resources` is a kind RESOURCE_KINDS resolves; `kms` the KMS actions `via` calls on `key` as the caller;
    `context` the condition keys the request carries; `engine` the database engine whose plan makes it (both when
    empty)."""

    call: str
    handlers: tuple[str, ...]
    actions: tuple[str, ...]
    resources: str
    why: str = ""
    kms: tuple[str, ...] = ()
    via: str = ""
    key: str = ""
    context: tuple[tuple[str, str], ...] = ()
    #: The database engine whose plan makes the call ("" for both).
    engine: str = ""


SWITCH_DATABASE = ("precheck", "promote_target", "check_promoted", "repoint_app", "verify_switch")
REBUILD_DATABASE = (
    "inspect_rebuild",
    "retire_old_writer",
    "check_gone",
    "create_replica",
    "restore_settings",
    "point_at_replica",
    "check_in_sync",
)
PUT_SECURE = ("fence_source", "repoint_app", "move_writes", "point_at_replica")
READ_GROUPS = ("precheck", "scale_target", "fence_source", "check_capacity", "verify_switch")

POSTGRES, AURORA = "postgres", "aurora-postgresql"
#: The handlers that read an Aurora cluster and its place in the global database (runbooks.recovery_plan.cluster).
READ_CLUSTERS = (
    "precheck",
    "promote_target",
    "check_promoted",
    "repoint_app",
    "verify_switch",
    "inspect_rebuild",
    "point_at_replica",
    "check_in_sync",
)
#: AWS's sample policy for a Region switch of Aurora checks these on the global cluster and both clusters
#: (https://docs.aws.amazon.com/r53recovery/latest/dg/security_iam_region_switch_aurora.html).
GLOBAL_SWITCH = "the global cluster and both regions' clusters, as AWS's Region-switch policy for Aurora names them"

PLAN_CALLS: tuple[PlanCall, ...] = (
    PlanCall("rds:DescribeDBInstances", SWITCH_DATABASE + REBUILD_DATABASE, ("rds:DescribeDBInstances",), "databases", engine=POSTGRES),
    PlanCall("rds:PromoteReadReplica", ("promote_target",), ("rds:PromoteReadReplica",), "databases", engine=POSTGRES),
    PlanCall("rds:ListTagsForResource", ("inspect_rebuild",), ("rds:ListTagsForResource",), "databases", engine=POSTGRES),
    PlanCall(
        "rds:ModifyDBInstance",
        ("retire_old_writer", "restore_settings"),
        ("rds:ModifyDBInstance",),
        "databases",
        "lifts deletion protection; restores backup retention and windows",
        engine=POSTGRES,
    ),
    PlanCall(
        "rds:DeleteDBInstance",
        ("retire_old_writer",),
        ("rds:DeleteDBInstance", "rds:CreateDBSnapshot"),
        "databases_and_snapshots",
        "a final snapshot needs rds:CreateDBSnapshot (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html)",
        engine=POSTGRES,
    ),
    PlanCall(
        "rds:CreateDBInstanceReadReplica",
        ("create_replica",),
        ("rds:CreateDBInstanceReadReplica", "rds:AddTagsToResource"),
        "replica_parts",
        "checked on the new instance, the source, the subnet and parameter groups; tags need rds:AddTagsToResource; "
        "an encrypted cross-region replica has RDS use its region's key as the caller",
        kms=("kms:CreateGrant", "kms:DescribeKey"),
        via="rds",
        key="region_keys",
        engine=POSTGRES,
    ),
    PlanCall(
        "rds:CreateDBInstanceReadReplica (monitoring)",
        ("create_replica",),
        ("iam:PassRole",),
        "monitoring_roles",
        "enhanced monitoring passes the monitoring role to RDS",
        context=(("iam:PassedToService", "monitoring.rds.amazonaws.com"),),
        engine=POSTGRES,
    ),
    PlanCall("rds:DescribeDBClusters", READ_CLUSTERS, ("rds:DescribeDBClusters",), "global_database", GLOBAL_SWITCH, engine=AURORA),
    PlanCall("rds:DescribeGlobalClusters", READ_CLUSTERS, ("rds:DescribeGlobalClusters",), "global_database", GLOBAL_SWITCH, engine=AURORA),
    PlanCall(
        "rds:SwitchoverGlobalCluster",
        ("promote_target",),
        ("rds:SwitchoverGlobalCluster",),
        "global_database",
        "a planned move (the source answers): no data lost",
        engine=AURORA,
    ),
    PlanCall(
        "rds:FailoverGlobalCluster",
        ("promote_target",),
        ("rds:FailoverGlobalCluster",),
        "global_database",
        "AllowDataLoss: the source's region is down or its cluster unavailable",
        engine=AURORA,
    ),
    PlanCall(
        "ssm:GetParameter",
        ("precheck", *PUT_SECURE, "verify_switch"),
        ("ssm:GetParameter",),
        "secure_parameters",
        "WithDecryption: Parameter Store decrypts as the caller",
        kms=("kms:Decrypt",),
        via="ssm",
        key="parameter_keys",
    ),
    PlanCall("ssm:GetParameter (access point)", ("route_storage",), ("ssm:GetParameter",), "access_point_parameters", "a String parameter"),
    PlanCall(
        "ssm:DescribeParameters",
        ("fence_source", "repoint_app", "point_at_replica"),
        ("ssm:DescribeParameters",),
        "any",
        "no resource-level permissions",
    ),
    PlanCall(
        "ssm:PutParameter",
        PUT_SECURE,
        ("ssm:PutParameter",),
        "secure_parameters",
        "a Standard SecureString is encrypted by Parameter Store calling kms:Encrypt as the caller",
        kms=("kms:Encrypt",),
        via="ssm",
        key="parameter_keys",
    ),
    PlanCall(
        "autoscaling:DescribeAutoScalingGroups",
        READ_GROUPS,
        ("autoscaling:DescribeAutoScalingGroups",),
        "any",
        "no resource-level permissions",
    ),
    PlanCall(
        "autoscaling:UpdateAutoScalingGroup",
        ("scale_target", "fence_source", "document"),
        ("autoscaling:UpdateAutoScalingGroup",),
        "groups",
    ),
    PlanCall(
        "ec2:DescribeLaunchTemplateVersions", ("precheck",), ("ec2:DescribeLaunchTemplateVersions",), "any", "no resource-level permissions"
    ),
    PlanCall(
        "ec2:DescribeInstanceTypeOfferings", ("precheck",), ("ec2:DescribeInstanceTypeOfferings",), "any", "no resource-level permissions"
    ),
    PlanCall("ec2:DescribeInstanceTypes", ("precheck",), ("ec2:DescribeInstanceTypes",), "any", "no resource-level permissions"),
    PlanCall("service-quotas:GetServiceQuota", ("precheck",), ("servicequotas:GetServiceQuota",), "quotas"),
    PlanCall(
        "cloudwatch:GetMetricStatistics",
        ("precheck", "check_in_sync"),
        ("cloudwatch:GetMetricStatistics",),
        "any",
        "no resource-level permissions",
    ),
    PlanCall(
        "cloudwatch:PutMetricData",
        ("precheck", "move_writes", "document"),
        ("cloudwatch:PutMetricData",),
        "any",
        "no resource; the namespace condition bounds it",
        context=(("cloudwatch:namespace", "{namespace}"),),
    ),
    PlanCall("acm:ListCertificates", ("precheck",), ("acm:ListCertificates",), "any", "no resource-level permissions"),
    PlanCall("acm:DescribeCertificate", ("precheck",), ("acm:DescribeCertificate",), "certificates"),
    PlanCall(
        "secretsmanager:DescribeSecret",
        ("precheck", "take_over_credentials"),
        ("secretsmanager:DescribeSecret",),
        "secrets",
    ),
    PlanCall(
        "secretsmanager:StopReplicationToReplica", ("take_over_credentials",), ("secretsmanager:StopReplicationToReplica",), "secrets"
    ),
    PlanCall(
        "secretsmanager:GetSecretValue",
        ("take_over_credentials",),
        ("secretsmanager:GetSecretValue",),
        "secrets",
        "Secrets Manager decrypts the value as the caller",
        kms=("kms:Decrypt",),
        via="secretsmanager",
        key="region_keys",
    ),
    PlanCall(
        "secretsmanager:PutSecretValue",
        ("take_over_credentials",),
        ("secretsmanager:PutSecretValue",),
        "secrets",
        "a new version: a data key as the caller",
        kms=("kms:GenerateDataKey", "kms:Decrypt"),
        via="secretsmanager",
        key="region_keys",
    ),
    PlanCall(
        "secretsmanager:ReplicateSecretToRegions",
        ("take_over_credentials",),
        ("secretsmanager:ReplicateSecretToRegions",),
        "secrets",
        "encrypts the replica with the replica region's key as the caller "
        "(https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ReplicateSecretToRegions.html)",
        kms=("kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"),
        via="secretsmanager",
        key="region_keys",
    ),
    PlanCall(
        "s3control:GetMultiRegionAccessPointRoutes",
        ("route_storage",),
        ("s3:GetMultiRegionAccessPointRoutes",),
        "access_points",
        "served by the failover control regions, never the access point's home control plane",
    ),
    PlanCall(
        "s3control:SubmitMultiRegionAccessPointRoutes", ("route_storage",), ("s3:SubmitMultiRegionAccessPointRoutes",), "access_points"
    ),
    PlanCall(
        "sns:Publish",
        ("document",),
        ("sns:Publish",),
        "topics",
        "every report and page (aws:executeAwsApi), and aws:approve's notice; the topics are encrypted: SNS uses the key as the publisher",
        kms=("kms:GenerateDataKey", "kms:Decrypt"),
        via="sns",
        key="state_key",
    ),
    PlanCall(
        "iam:SimulatePrincipalPolicy",
        ("check_permissions",),
        ("iam:SimulatePrincipalPolicy",),
        "plan_role",
        "the readiness permission evaluation simulates the role it runs as",
    ),
)


def _resources(plan: Mapping[str, Any], parts: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every resource kind of PLAN_CALLS, as ARNs of this deployment (REPRESENTATIVE for generated identifiers)."""
    partition, account = parts["partition"], parts["account"]

    def arn(service: str, region: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{account}:{resource}"

    regions = plan["regions"]
    databases = [arn("rds", name, f"db:{r['database']}") for name, r in regions.items()]
    clusters = [arn("rds", name, f"cluster:{r['database']}") for name, r in regions.items()]
    snapshots = [arn("rds", name, f"snapshot:{r['database']}-before-rebuild-20260101000000") for name, r in regions.items()]
    parameters = [arn("ssm", name, f"parameter{r['parameter']}") for name, r in regions.items()]
    return {
        "any": ["*"],
        "databases": databases,
        "databases_and_snapshots": databases + snapshots,
        "global_database": [f"arn:{partition}:rds::{account}:global-cluster:{plan['global_cluster']}", *clusters]
        if plan.get("global_cluster")
        else [],
        "replica_parts": databases
        + [arn("rds", name, f"subgrp:{parts['subnet_group']}") for name in regions]
        + [arn("rds", name, f"pg:{parts['parameter_group']}") for name in regions],
        "monitoring_roles": [f"arn:{partition}:iam::{account}:role/{role}" for role in parts["monitoring_roles"]],
        "secure_parameters": [*parameters, arn("ssm", plan["home"], f"parameter{plan['writer_parameter']}")],
        "access_point_parameters": [arn("ssm", name, f"parameter{plan['mrap']['arn_parameter']}") for name in regions]
        if plan["mrap"]
        else [],
        "groups": [
            arn("autoscaling", name, f"autoScalingGroup:{REPRESENTATIVE}:autoScalingGroupName/{group}")
            for name, r in regions.items()
            for group in r["active"]
        ],
        "quotas": [arn("servicequotas", name, f"ec2/{plan['vcpu_quota_code']}") for name in regions],
        "certificates": [arn("acm", name, f"certificate/{REPRESENTATIVE}") for name in regions],
        "secrets": [arn("secretsmanager", name, f"secret:{plan['secret']}-AbC123") for name in regions],
        "access_points": [f"arn:{partition}:s3::{account}:accesspoint/{REPRESENTATIVE[:13]}.mrap"] if plan["mrap"] else [],
        "topics": [plan["topic_arn"], parts["approval_topic"]],
        "plan_role": [parts["plan_role"]],
    }


def _keys(plan: Mapping[str, Any], parts: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """The KMS keys of each key kind, by region: each region's keys (generated IDs), and the plan's own key in its home."""
    home, state_key = plan["home"], plan["state_key"]
    each = {name: [f"arn:{parts['partition']}:kms:{name}:{parts['account']}:key/{REPRESENTATIVE}"] for name in plan["regions"]}
    return {
        "region_keys": each,
        "parameter_keys": {name: keys + ([state_key] if name == home else []) for name, keys in each.items()},
        "state_key": {home: [state_key]},
    }


def permission_checks(plan: Mapping[str, Any], parts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the permissions document simulates: per row, its actions on its resources with its context, and its
    KMS actions on its keys once per region with `kms:ViaService` naming the service there. `parts`: partition,
    account, approval_topic, plan_role, subnet_group, parameter_group, monitoring_roles."""
    resources, keys = _resources(plan, parts), _keys(plan, parts)
    checks: list[dict[str, Any]] = []
    for row in PLAN_CALLS:
        if row.engine and row.engine != plan.get("engine", POSTGRES):
            continue  # the other engine's call
        if not resources[row.resources]:
            continue  # a part this deployment does not have (no access point in the emulator)
        context = {key: value.format(namespace=plan["namespace"]) for key, value in row.context}
        checks.append({"call": row.call, "actions": list(row.actions), "resources": resources[row.resources], "context": context})
        for region, arns in keys[row.key].items() if row.kms else ():
            via = {"kms:ViaService": f"{row.via}.{region}.amazonaws.com"}
            checks.append({"call": f"{row.call} (KMS through {row.via})", "actions": list(row.kms), "resources": arns, "context": via})
    return checks


def markdown_table() -> str:
    """PLAN_CALLS as the README's table: call, steps, IAM actions, KMS as the caller, why."""
    lines = ["| Call | Engine | Made by | IAM actions checked | KMS, as the caller | Note |", "|---|---|---|---|---|---|"]
    for row in PLAN_CALLS:
        kms = f"{', '.join(row.kms)} on {row.key.replace('_', ' ')} via {row.via}" if row.kms else ""
        lines.append(f"| {row.call} | {row.engine or 'both'} | {', '.join(row.handlers)} | {', '.join(row.actions)} | {kms} | {row.why} |")
    return "\n".join(lines)
