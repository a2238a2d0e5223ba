"""Seed 000's chaos experiments (FIS) and recovery runbooks (SSM Automation) for the active/active architecture.

Experiments live in the global stack (us-east-1) next to the Route 53 health-check alarms they stop on: an
experiment against one region stops as soon as the *other* region's health check fails, because by then it is
hurting more than the region it was meant to take out. Runbook steps act on the regions through region-aware
API calls, so they also run when the region they repair is the one that is down.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.fis_experiment_template import (
    FisExperimentTemplate,
    FisExperimentTemplateAction,
    FisExperimentTemplateActionParameter,
    FisExperimentTemplateStopCondition,
)
from cdktf_cdktf_provider_aws.ssm_document import SsmDocument
from constructs import Construct

from modules.base import RegionalStack
from modules.config import ActiveActive, DeploymentConfig
from modules.health_check import HealthCheck
from modules.iam import ServiceRole
from stacks import runbooks
from stacks.naming import ACTIVE_ACTIVE, vault_name

#: How long an injected fault lasts before the document reverts it (ISO 8601 duration).
DEFAULT_FAULT_DURATION = "PT10M"
DENY_TABLE_ACCESS = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Sid": "ChaosDenyTableAccess", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]},
    separators=(",", ":"),
)


def _parameter(description: str, default: str | None = None) -> dict[str, str]:
    parameter = {"type": "String", "description": description}
    if default is not None:
        parameter["default"] = default
    return parameter


def _automation(description: str, parameters: dict[str, dict[str, str]], steps: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "schemaVersion": "0.3",
            "description": description,
            "assumeRole": "{{ AutomationAssumeRole }}",
            "parameters": {"AutomationAssumeRole": _parameter("Role the automation runs as"), **parameters},
            "mainSteps": steps,
        },
        indent=1,
    )


def _fault_then_revert(name: str, fault: dict[str, Any], revert: dict[str, Any]) -> list[dict[str, Any]]:
    """Inject, hold for {{ Duration }}, revert; a cancelled or failed hold still reverts."""
    return [
        {**fault, "name": f"inject{name}", "onFailure": f"step:revert{name}", "onCancel": f"step:revert{name}"},
        {
            "name": "hold",
            "action": "aws:sleep",
            "inputs": {"Duration": "{{ Duration }}"},
            "onFailure": f"step:revert{name}",
            "onCancel": f"step:revert{name}",
        },
        {**revert, "name": f"revert{name}", "isEnd": True},
    ]


class ActiveActiveDrills(Construct):
    """SSM Automation documents for the faults and the recoveries, and one FIS template per scenario."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        arch: ActiveActive,
        health_checks: dict[str, HealthCheck],
        table_name: str,
        table_key_alias: str,
    ) -> None:
        super().__init__(scope, id)
        env = RegionalStack.of(self).env
        prefix = f"{config.name_prefix}-{ACTIVE_ACTIVE}"
        primary, secondary = arch.primary.region, arch.secondary.region
        regions = (primary, secondary)
        function_roles = {region: f"arn:{env.partition}:iam::{env.account_id}:role/{prefix}-{region}-api-function" for region in regions}
        table_arns = {region: env.arn("dynamodb", f"table/{table_name}", region=region) for region in regions}
        drill_tables = {region: env.arn("dynamodb", f"table/{table_name}-*-drill", region=region) for region in regions}
        backup_roles = {
            region: f"arn:{env.partition}:iam::{env.account_id}:role/{vault_name(config, ACTIVE_ACTIVE, region)}-backup"
            for region in regions
        }

        documents: dict[str, SsmDocument] = {}

        def document(key: str, description: str, parameters: dict[str, dict[str, str]], steps: list[dict[str, Any]]) -> None:
            documents[key] = SsmDocument(
                self,
                f"doc-{key}",
                name=f"{prefix}-{key}",
                document_type="Automation",
                document_format="JSON",
                content=_automation(description, parameters, steps),
                tags={"Name": f"{prefix}-{key}"},
            )

        document(
            "inject-lambda-access-denial",
            "Chaos: deny the API function's role all DynamoDB access for {{ Duration }}, then remove the deny.",
            {"RoleName": _parameter("The API function's role"), "Duration": _parameter("How long", DEFAULT_FAULT_DURATION)},
            _fault_then_revert(
                "Deny",
                {
                    "action": "aws:executeAwsApi",
                    "inputs": {
                        "Service": "iam",
                        "Api": "PutRolePolicy",
                        "RoleName": "{{ RoleName }}",
                        "PolicyName": "chaos-deny-table-access",
                        "PolicyDocument": DENY_TABLE_ACCESS,
                    },
                },
                {
                    "action": "aws:executeAwsApi",
                    "inputs": {
                        "Service": "iam",
                        "Api": "DeleteRolePolicy",
                        "RoleName": "{{ RoleName }}",
                        "PolicyName": "chaos-deny-table-access",
                    },
                },
            ),
        )
        document(
            "fail-health-check",
            "Chaos: invert a Route 53 health check for {{ Duration }} so its region drops out of DNS, then restore it.",
            {"HealthCheckId": _parameter("Health check to fail"), "Duration": _parameter("How long", DEFAULT_FAULT_DURATION)},
            _fault_then_revert(
                "Inversion",
                {
                    "action": "aws:executeAwsApi",
                    "inputs": {"Service": "route53", "Api": "UpdateHealthCheck", "HealthCheckId": "{{ HealthCheckId }}", "Inverted": True},
                },
                {
                    "action": "aws:executeAwsApi",
                    "inputs": {"Service": "route53", "Api": "UpdateHealthCheck", "HealthCheckId": "{{ HealthCheckId }}", "Inverted": False},
                },
            ),
        )
        table_parameters = {
            "TableName": _parameter("Global table", table_name),
            "SourceRegion": _parameter("Region that issues the change"),
        }
        document(
            "delete-table-replica",
            "Chaos: delete the global table's replica in ReplicaRegion.",
            {**table_parameters, "ReplicaRegion": _parameter("Replica to delete")},
            [
                runbooks.script_step(
                    "deleteReplica", runbooks.delete_replica, _payload("TableName", "SourceRegion", "ReplicaRegion"), {"Changed": "Boolean"}
                )
            ],
        )
        document(
            "recreate-table-replica",
            "Runbook: re-create the global table's replica in ReplicaRegion and wait until it is ACTIVE.",
            {
                **table_parameters,
                "ReplicaRegion": _parameter("Replica to re-create"),
                "KmsKeyAlias": _parameter("Key alias", f"alias/{table_key_alias}"),
            },
            [
                runbooks.script_step(
                    "recreateReplica",
                    runbooks.recreate_replica,
                    _payload("TableName", "SourceRegion", "ReplicaRegion", "KmsKeyAlias"),
                    {"ReplicaStatus": "String"},
                )
            ],
        )
        document(
            "restore-table-pitr",
            "Runbook: restore the table to a point in time (latest when RestoreDateTime is empty) into TargetTableName.",
            {
                "Region": _parameter("Region of the replica to restore from"),
                "SourceTableName": _parameter("Table", table_name),
                "TargetTableName": _parameter("New table name"),
                "RestoreDateTime": _parameter("ISO 8601 time, empty for the latest restorable time", ""),
                "KmsKeyAlias": _parameter("Key alias", f"alias/{table_key_alias}"),
            },
            [
                runbooks.script_step(
                    "restorePointInTime",
                    runbooks.restore_point_in_time,
                    _payload("Region", "SourceTableName", "TargetTableName", "RestoreDateTime", "KmsKeyAlias"),
                    {"TargetTableArn": "String", "ItemCount": "Integer"},
                )
            ],
        )
        document(
            "restore-table-backup",
            "Runbook: restore an AWS Backup recovery point of the table (the latest when RecoveryPointArn is empty).",
            {
                "Region": _parameter("Region of the backup vault"),
                "TableArn": _parameter("Table replica ARN in that region"),
                "RecoveryPointArn": _parameter("Recovery point, empty for the latest", ""),
                "TargetTableName": _parameter("New table name"),
                "IamRoleArn": _parameter("Role AWS Backup restores with"),
            },
            [
                runbooks.script_step(
                    "restoreBackup",
                    runbooks.restore_backup,
                    _payload("Region", "TableArn", "RecoveryPointArn", "TargetTableName", "IamRoleArn"),
                    {"RestoreJobId": "String", "Status": "String"},
                )
            ],
        )
        document(
            "delete-drill-table",
            "Drill clean-up: delete a restored table whose name ends in -drill.",
            {"Region": _parameter("Region"), "TableName": _parameter("Drill table")},
            [
                runbooks.script_step(
                    "deleteDrillTable", runbooks.delete_drill_table, _payload("Region", "TableName"), {"Deleted": "Boolean"}
                )
            ],
        )

        self.automation_role = ServiceRole(
            self,
            "automation-role",
            name=f"{prefix}-drill-automation",
            service="ssm.amazonaws.com",
            statements=[
                {
                    "Sid": "InjectDenyIntoFunctionRoles",
                    "Effect": "Allow",
                    "Action": ["iam:PutRolePolicy", "iam:DeleteRolePolicy"],
                    "Resource": list(function_roles.values()),
                },
                {
                    "Sid": "InvertHealthChecks",
                    "Effect": "Allow",
                    "Action": ["route53:UpdateHealthCheck", "route53:GetHealthCheck"],
                    "Resource": [f"arn:{env.partition}:route53:::healthcheck/{check.health_check_id}" for check in health_checks.values()],
                },
                {
                    "Sid": "ManageReplicasAndRestores",
                    "Effect": "Allow",
                    "Action": [
                        "dynamodb:DescribeTable",
                        "dynamodb:UpdateTable",
                        "dynamodb:CreateTableReplica",
                        "dynamodb:DeleteTableReplica",
                        "dynamodb:RestoreTableToPointInTime",
                        "dynamodb:Scan",
                        "dynamodb:Query",
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:BatchWriteItem",
                    ],
                    "Resource": [*table_arns.values(), *drill_tables.values()],
                },
                {
                    "Sid": "DeleteOnlyDrillTables",
                    "Effect": "Allow",
                    "Action": ["dynamodb:DeleteTable"],
                    "Resource": list(drill_tables.values()),
                },
                {
                    "Sid": "TableKeysThroughDynamoDb",
                    "Effect": "Allow",
                    "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": [env.arn("kms", "key/*", region=region) for region in regions],
                    "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{table_key_alias}"}},
                },
                {
                    "Sid": "RestoreRecoveryPoints",
                    "Effect": "Allow",
                    "Action": ["backup:StartRestoreJob"],
                    "Resource": [env.arn("backup", "recovery-point:*", region=region) for region in regions],
                },
                {
                    "Sid": "FollowRestoreJobs",
                    "Effect": "Allow",
                    "Action": ["backup:DescribeRestoreJob", "backup:ListRecoveryPointsByResource"],
                    "Resource": "*",  # neither action supports resource-level permissions
                },
                {"Sid": "PassBackupRole", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": list(backup_roles.values())},
            ],
        )
        self.experiment_role = ServiceRole(
            self,
            "experiment-role",
            name=f"{prefix}-drill-experiments",
            service="fis.amazonaws.com",
            statements=[
                {
                    "Sid": "StartDrillAutomations",
                    "Effect": "Allow",
                    "Action": ["ssm:StartAutomationExecution"],
                    "Resource": [env.arn("ssm", f"automation-definition/{doc.name}:$DEFAULT") for doc in documents.values()],
                },
                {
                    "Sid": "FollowDrillAutomations",
                    "Effect": "Allow",
                    "Action": ["ssm:GetAutomationExecution", "ssm:StopAutomationExecution"],
                    "Resource": [env.arn("ssm", "automation-execution/*")],
                },
                {"Sid": "PassAutomationRole", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": [self.automation_role.role_arn]},
            ],
        )

        def run(key: str, parameters: dict[str, str]) -> list[FisExperimentTemplateActionParameter]:
            return [
                FisExperimentTemplateActionParameter(key="documentArn", value=documents[key].arn),
                FisExperimentTemplateActionParameter(
                    key="documentParameters", value=json.dumps({"AutomationAssumeRole": self.automation_role.role_arn, **parameters})
                ),
                FisExperimentTemplateActionParameter(key="maxDuration", value="PT2H"),
            ]

        self.experiments: dict[str, FisExperimentTemplate] = {}

        def experiment(key: str, description: str, stop_on_region: str, steps: list[tuple[str, str, dict[str, str]]]) -> None:
            actions = []
            for index, (name, document_key, parameters) in enumerate(steps):
                actions.append(
                    FisExperimentTemplateAction(
                        name=name,
                        action_id="aws:ssm:start-automation-execution",
                        parameter=run(document_key, parameters),
                        start_after=[steps[index - 1][0]] if index else None,
                    )
                )
            self.experiments[key] = FisExperimentTemplate(
                self,
                f"experiment-{key}",
                description=description,
                role_arn=self.experiment_role.role_arn,
                action=actions,
                stop_condition=[
                    FisExperimentTemplateStopCondition(source="aws:cloudwatch:alarm", value=health_checks[stop_on_region].alarm_arn)
                ],
                tags={"Name": f"{prefix}-{key}"},
            )

        for region, peer in ((primary, secondary), (secondary, primary)):
            experiment(
                f"lambda-access-denial-{region}",
                f"Deny the {region} API function its table; Route 53 must shift traffic to {peer}",
                peer,
                [("denyTableAccess", "inject-lambda-access-denial", {"RoleName": function_roles[region].rsplit("/", 1)[1]})],
            )
            experiment(
                f"health-check-failure-{region}",
                f"Fail the {region} health check; weighted routing must answer with {peer} only",
                peer,
                [("failHealthCheck", "fail-health-check", {"HealthCheckId": health_checks[region].health_check_id})],
            )
        experiment(
            f"table-replica-deletion-{secondary}",
            f"Delete the table's {secondary} replica, then re-create it (table re-creation runbook)",
            primary,
            [
                ("deleteReplica", "delete-table-replica", {"SourceRegion": primary, "ReplicaRegion": secondary}),
                ("recreateReplica", "recreate-table-replica", {"SourceRegion": primary, "ReplicaRegion": secondary}),
            ],
        )
        pitr_target = f"{table_name}-pitr-drill"
        experiment(
            "point-in-time-restore",
            f"Restore the {primary} replica to the latest restorable time into {pitr_target}, count its items, delete it",
            secondary,
            [
                ("restore", "restore-table-pitr", {"Region": primary, "TargetTableName": pitr_target}),
                ("cleanUp", "delete-drill-table", {"Region": primary, "TableName": pitr_target}),
            ],
        )
        backup_target = f"{table_name}-backup-drill"
        experiment(
            "backup-restore",
            f"Restore the latest {primary} AWS Backup recovery point into {backup_target}, then delete it",
            secondary,
            [
                (
                    "restore",
                    "restore-table-backup",
                    {
                        "Region": primary,
                        "TableArn": table_arns[primary],
                        "TargetTableName": backup_target,
                        "IamRoleArn": backup_roles[primary],
                    },
                ),
                ("cleanUp", "delete-drill-table", {"Region": primary, "TableName": backup_target}),
            ],
        )
        TerraformOutput(scope, "experiment_template_ids", value={key: template.id for key, template in self.experiments.items()})
        TerraformOutput(scope, "runbook_documents", value={key: doc.name for key, doc in documents.items()})


def _payload(*names: str) -> dict[str, str]:
    return {name: f"{{{{ {name} }}}}" for name in names}
