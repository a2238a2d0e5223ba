"""The roles the active/active runbooks run as: one per kind of runbook, each with only what its documents call.

- faults: attach and detach one known deny policy on the API function roles (`iam:PolicyARN` condition, so no
  other policy can be attached), invert the health checks. No data access.
- restores: point-in-time and backup restores into `-drill` tables, which alone it may write and delete. It may
  not change the live table (no UpdateTable, DeleteTable or replica calls on it).
- replicas: the replica-deletion experiment. Deleting and re-creating a replica is an UpdateTable of the live
  table by definition, so this role has it, and nothing on items beyond what adding a replica requires.
- operations: read-only verification of the global table, and the API functions' reserved concurrency.
- repair: the repair in place. It restores copies and writes items of the live table back; it cannot change the
  table itself. FIS cannot pass it.
- recovery: the delete-and-restore runbook. It replaces the live table, so it may delete it; FIS cannot pass it (the
  experiment role passes only the first three), and the runbook asks for an approval before the delete.
KMS use is limited to the table's key alias and to requests DynamoDB makes on the role's behalf (`kms:ViaService`,
https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service). The IAM
actions each DynamoDB call needs: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html
and, for replicas (CreateTable and DeleteTable in the replica's region besides the replica actions),
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2gt_IAM.html.
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
    #: Where the runbooks are published (us-east-1 and the serving regions).
    runbook_regions: Sequence[str] = ()

    def tables(self, suffix: str = "") -> list[str]:
        return [self.env.arn("dynamodb", f"table/{self.table_name}{suffix}", region=region) for region in self.regions]

    def replica_tables(self) -> list[str]:
        """The table in the regions that hold replicas (all but the first, where the table was created)."""
        return [self.env.arn("dynamodb", f"table/{self.table_name}", region=region) for region in self.regions[1:]]

    def backups(self, suffix: str = "") -> list[str]:
        return [self.env.arn("dynamodb", f"table/{self.table_name}{suffix}/backup/*", region=region) for region in self.regions]

    def key_through_dynamodb(self) -> dict[str, Any]:
        """The table key, for what DynamoDB does with it on the role's behalf (restores, replicas, reads)."""
        return {
            "Sid": "TableKeyThroughDynamoDb",
            "Effect": "Allow",
            "Action": [
                "kms:DescribeKey",
                "kms:Decrypt",
                "kms:Encrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:CreateGrant",
            ],
            "Resource": [self.env.arn("kms", "key/*", region=region) for region in self.regions],
            "Condition": {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{self.key_alias}"},
                "StringEquals": {"kms:ViaService": [f"dynamodb.{region}.amazonaws.com" for region in self.regions]},
            },
        }

    def key_lookup(self) -> dict[str, Any]:
        """Resolve the table key's alias to its ARN (DescribeKey), which an AWS Backup restore's metadata needs."""
        return {
            "Sid": "FindTheTableKey",
            "Effect": "Allow",
            "Action": ["kms:DescribeKey"],
            "Resource": [self.env.arn("kms", "key/*", region=region) for region in self.regions],
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{self.key_alias}"}},
        }

    def backup_restores(self) -> list[dict[str, Any]]:
        """Restore the table's AWS Backup recovery points (as the backup role, which AWS Backup restores with: it
        holds dynamodb:RestoreTableFromAwsBackup, https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html)
        and follow the jobs. Recovery points of a table without the advanced features are DynamoDB backup ARNs."""
        return [
            allow(
                "RestoreRecoveryPoints",
                ["backup:StartRestoreJob"],
                [*(self.env.arn("backup", "recovery-point:*", region=region) for region in self.regions), *self.backups()],
            ),
            # neither action supports resource-level permissions
            allow("FollowRestoreJobs", ["backup:DescribeRestoreJob", "backup:ListRecoveryPointsByResource"], "*"),
            allow(
                "PassBackupRoleToBackup",
                ["iam:PassRole"],
                list(self.backup_roles),
                {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}},
            ),
            self.key_lookup(),
        ]

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


def allow(sid: str, actions: Sequence[str], resources: Sequence[str] | str, condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One Allow statement."""
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": resources if isinstance(resources, str) else list(resources),
    }
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def _role(scope: Construct, id: str, name: str, statements: Sequence[Mapping[str, Any]]) -> ServiceRole:
    return ServiceRole(scope, id, name=name, service="ssm.amazonaws.com", statements=statements)


def fault_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "fault-role",
        name,
        [
            allow(
                "AttachOnlyTheDenyPolicy",
                ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                list(targets.function_roles),
                {"ArnEquals": {"iam:PolicyARN": targets.deny_policy_arn}},
            ),
            allow("InvertHealthChecks", ["route53:UpdateHealthCheck", "route53:GetHealthCheck"], list(targets.health_check_arns)),
        ],
    )


def hand_over(targets: DrillTargets, role_name: str, document: str) -> list[dict[str, Any]]:
    """Start `document` (in any region the runbooks run in) as an execution of its own, passing this role: how a
    stopped or failed drill leaves its repair to a runbook that stopping the experiment cannot stop."""
    own_arn = f"arn:{targets.env.partition}:iam::{targets.env.account_id}:role/{role_name}"
    return [
        allow(
            "HandOverToTheRunbookThatPutsThingsBack",
            ["ssm:StartAutomationExecution"],
            [targets.env.arn("ssm", f"automation-definition/{document}:$DEFAULT", region=region) for region in targets.runbook_regions],
        ),
        allow("PassItselfToThatRunbook", ["iam:PassRole"], [own_arn], {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}),
    ]


def restore_role(scope: Construct, name: str, targets: DrillTargets, *, clean_up_document: str) -> ServiceRole:
    return _role(
        scope,
        "restore-role",
        name,
        [
            *hand_over(targets, name, clean_up_document),
            allow(
                "RestoreFromTheLiveTable",
                ["dynamodb:RestoreTableToPointInTime", "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"],
                targets.tables(),
            ),
            allow(
                "WriteCheckAndDeleteDrillCopies",
                ["dynamodb:DescribeTable", "dynamodb:DeleteTable", *TABLE_WRITES],
                targets.tables("-*-drill"),
            ),
            *targets.backup_restores(),
            targets.key_through_dynamodb(),
        ],
    )


def replica_role(scope: Construct, name: str, targets: DrillTargets, *, recreate_document: str) -> ServiceRole:
    """The replica experiment; a stopped or failed outage hands the re-creation to `recreate_document`."""
    return _role(
        scope,
        "replica-role",
        name,
        [
            *hand_over(targets, name, recreate_document),
            allow(
                "DeleteAndRecreateReplicas",
                [
                    "dynamodb:DescribeTable",
                    "dynamodb:UpdateTable",
                    "dynamodb:CreateTable",  # adding a replica creates the table in the replica's region
                    "dynamodb:CreateTableReplica",
                    "dynamodb:DeleteTableReplica",
                    "dynamodb:UpdateContinuousBackups",
                    "dynamodb:DescribeContinuousBackups",
                    "dynamodb:ListTagsOfResource",  # a new replica gets the table's tags, as Terraform gives them
                    "dynamodb:TagResource",
                    *TABLE_WRITES,
                ],
                targets.tables(),
            ),
            # removing a replica deletes the table in the replica's region; the primary's own table stays out of reach
            allow("DeleteReplicaTables", ["dynamodb:DeleteTable"], targets.replica_tables()),
            targets.replication_role(),
            targets.key_through_dynamodb(),
        ],
    )


def recovery_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "recovery-role",
        name,
        [
            allow(
                "ReplaceTheLiveTableWithAVerifiedCopy",
                [
                    "dynamodb:DescribeTable",
                    "dynamodb:UpdateTable",
                    "dynamodb:CreateTable",  # adding the replica creates the table in the replica's region
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
                [*targets.tables(), *targets.tables("-recovery")],
            ),
            allow(
                "BackupsOfTheTableAndCopy",
                ["dynamodb:DescribeBackup", "dynamodb:RestoreTableFromBackup"],
                [*targets.backups(), *targets.backups("-recovery")],
            ),
            allow("FindBackups", ["dynamodb:ListBackups"], "*"),  # ListBackups supports no resource-level permissions
            allow("StopAndResumeTheApisWrites", ["lambda:PutFunctionConcurrency"], list(targets.functions)),
            *targets.backup_restores(),
            targets.replication_role(),
            targets.key_through_dynamodb(),
        ],
    )


def repair_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    """The repair in place: restore two copies, read them, write items back to the live table. It may not change
    the live table itself (no UpdateTable, DeleteTable or replica calls): what it can do is what the approval says."""
    return _role(
        scope,
        "repair-role",
        name,
        [
            allow(
                "RestoreCopiesOfTheLiveTable",
                ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:RestoreTableToPointInTime"],
                targets.tables(),
            ),
            allow(
                "PutBackWhatTheDamageChanged",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
                targets.tables(),
            ),
            allow(
                "ReadTagAndDeleteTheCopies",
                [
                    "dynamodb:DescribeTable",
                    "dynamodb:DeleteTable",
                    "dynamodb:ListTagsOfResource",
                    "dynamodb:TagResource",
                    "dynamodb:BatchGetItem",
                    *TABLE_WRITES,
                ],
                targets.tables("-*-recovery"),
            ),
            allow("RestoreBackupsIntoCopies", ["dynamodb:DescribeBackup", "dynamodb:RestoreTableFromBackup"], targets.backups()),
            *targets.backup_restores(),
            targets.key_through_dynamodb(),
        ],
    )


def operations_role(scope: Construct, name: str, targets: DrillTargets) -> ServiceRole:
    return _role(
        scope,
        "operations-role",
        name,
        [
            allow("ReadTheGlobalTable", ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups"], targets.tables()),
            allow("ApiFunctionConcurrency", ["lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency"], list(targets.functions)),
        ],
    )
