"""The roles the active/active runbooks run as: one per kind of runbook, each with only what its documents call.

- faults: attach and detach one known deny policy on the API function roles (`iam:PolicyARN` condition, so no
  other policy can be attached), invert the health checks. No data access.
- restores: point-in-time and backup restores into `-drill` tables, which alone it may write and delete. It may
  not change the live table (no UpdateTable, DeleteTable or replica calls on it).
- replicas: the replica-deletion experiment. Deleting and re-creating a replica is an UpdateTable of the live
  table by definition, so this role has it, and nothing on items beyond what adding a replica requires.
- operations: read-only verification of the global table, and the API functions' reserved concurrency.
- recovery: the data-loss runbook. It replaces the live table, so it may delete it; FIS cannot pass it (the
  experiment role passes only the first three), and the runbook asks for an approval before the delete.
KMS use is limited to the table's key alias and to requests DynamoDB makes on the role's behalf (`kms:ViaService`,
https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service). The IAM
actions each DynamoDB call needs: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html
and, for replicas, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Construct

from modules.base import AwsEnv
from modules.iam import ServiceRole

#: Item-level actions a restore or a new replica writes the target table with.
TABLE_WRITES = [
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]
REPLICATION_SERVICE = "replication.dynamodb.amazonaws.com"


@dataclass(frozen=True)
class DrillTargets:
    """What the runbooks act on, by ARN."""

    env: AwsEnv
    regions: Sequence[str]
    table_name: str
    key_alias: str
    function_roles: Sequence[str]
    deny_policy_arn: str
    health_check_arns: Sequence[str]
    backup_roles: Sequence[str]
    functions: Sequence[str]

    def tables(self, suffix: str = "") -> list[str]:
        return [self.env.arn("dynamodb", f"table/{self.table_name}{suffix}", region=region) for region in self.regions]

    def backups(self, suffix: str = "") -> list[str]:
        return [self.env.arn("dynamodb", f"table/{self.table_name}{suffix}/backup/*", region=region) for region in self.regions]

    def key_through_dynamodb(self, actions: Sequence[str]) -> dict[str, Any]:
        return {
            "Sid": "TableKeyThroughDynamoDb",
            "Effect": "Allow",
            "Action": list(actions),
            "Resource": [self.env.arn("kms", "key/*", region=region) for region in self.regions],
            "Condition": {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{self.key_alias}"},
                "StringEquals": {"kms:ViaService": [f"dynamodb.{region}.amazonaws.com" for region in self.regions]},
            },
        }

    def replication_role(self) -> dict[str, Any]:
        """Adding a replica may create DynamoDB's replication service-linked role, and only that one."""
        return {
            "Sid": "ReplicationServiceLinkedRole",
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": [
                f"arn:{self.env.partition}:iam::{self.env.account_id}:role/aws-service-role/{REPLICATION_SERVICE}/AWSServiceRoleForDynamoDBReplication"
            ],
            "Condition": {"StringEquals": {"iam:AWSServiceName": REPLICATION_SERVICE}},
        }


def _role(scope: Construct, id: str, name: str, statements: Sequence[Mapping[str, Any]]) -> ServiceRole:
    return ServiceRole(scope, id, name=name, service="ssm.amazonaws.com", statements=statements)


def fault_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "fault-role",
        name,
        [
            {
                "Sid": "AttachOnlyTheDenyPolicy",
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                "Resource": list(targets.function_roles),
                "Condition": {"ArnEquals": {"iam:PolicyARN": targets.deny_policy_arn}},
            },
            {
                "Sid": "InvertHealthChecks",
                "Effect": "Allow",
                "Action": ["route53:UpdateHealthCheck", "route53:GetHealthCheck"],
                "Resource": list(targets.health_check_arns),
            },
        ],
    )


def restore_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "restore-role",
        name,
        [
            {
                "Sid": "RestoreFromTheLiveTable",
                "Effect": "Allow",
                "Action": ["dynamodb:RestoreTableToPointInTime", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"],
                "Resource": targets.tables(),
            },
            {
                "Sid": "WriteCheckAndDeleteDrillCopies",
                "Effect": "Allow",
                "Action": ["dynamodb:DescribeTable", "dynamodb:DeleteTable", *TABLE_WRITES],
                "Resource": targets.tables("-*-drill"),
            },
            {
                "Sid": "RestoreRecoveryPoints",
                "Effect": "Allow",
                "Action": ["backup:StartRestoreJob"],
                "Resource": [targets.env.arn("backup", "recovery-point:*", region=region) for region in targets.regions],
            },
            {
                "Sid": "FollowRestoreJobs",
                "Effect": "Allow",
                "Action": ["backup:DescribeRestoreJob", "backup:ListRecoveryPointsByResource"],
                "Resource": "*",  # neither action supports resource-level permissions
            },
            {
                "Sid": "PassBackupRoleToBackup",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": list(targets.backup_roles),
                "Condition": {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            },
            targets.key_through_dynamodb(["kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant"]),
        ],
    )


def replica_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "replica-role",
        name,
        [
            {
                "Sid": "DeleteAndRecreateReplicas",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeTable",
                    "dynamodb:UpdateTable",
                    "dynamodb:CreateTableReplica",
                    "dynamodb:DeleteTableReplica",
                    "dynamodb:UpdateContinuousBackups",
                    "dynamodb:DescribeContinuousBackups",
                    *TABLE_WRITES,
                ],
                "Resource": targets.tables(),
            },
            targets.replication_role(),
            targets.key_through_dynamodb(["kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant"]),
        ],
    )


def recovery_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "recovery-role",
        name,
        [
            {
                "Sid": "ReplaceTheLiveTableWithAVerifiedCopy",
                "Effect": "Allow",
                "Action": [
                    "dynamodb:DescribeTable",
                    "dynamodb:UpdateTable",
                    "dynamodb:DeleteTable",
                    "dynamodb:RestoreTableToPointInTime",
                    "dynamodb:RestoreTableFromBackup",
                    "dynamodb:CreateBackup",
                    "dynamodb:ListTagsOfResource",
                    "dynamodb:TagResource",
                    "dynamodb:UpdateContinuousBackups",
                    "dynamodb:DescribeContinuousBackups",
                    "dynamodb:CreateTableReplica",
                    "dynamodb:DeleteTableReplica",
                    *TABLE_WRITES,
                ],
                "Resource": [*targets.tables(), *targets.tables("-recovery")],
            },
            {
                "Sid": "BackupsOfTheTableAndCopy",
                "Effect": "Allow",
                "Action": ["dynamodb:DescribeBackup", "dynamodb:RestoreTableFromBackup"],
                "Resource": [*targets.backups(), *targets.backups("-recovery")],
            },
            {
                "Sid": "FindBackups",
                "Effect": "Allow",
                "Action": ["dynamodb:ListBackups"],
                "Resource": "*",  # ListBackups supports no resource-level permissions
            },
            targets.replication_role(),
            targets.key_through_dynamodb(["kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant"]),
        ],
    )


def operations_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "operations-role",
        name,
        [
            {
                "Sid": "ReadTheGlobalTable",
                "Effect": "Allow",
                "Action": ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"],
                "Resource": targets.tables(),
            },
            {
                "Sid": "ApiFunctionConcurrency",
                "Effect": "Allow",
                "Action": ["lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency"],
                "Resource": list(targets.functions),
            },
        ],
    )
