"""Seed 000's chaos experiments (FIS) and recovery runbooks (SSM Automation) for the active/active architecture.

Experiments live in the global stack (us-east-1) next to the Route 53 health-check alarms they stop on: an
experiment against one region stops as soon as the *other* region's health check fails, because by then it is
hurting more than the region it was meant to take out. Runbook steps act on the regions through region-aware
API calls, so they also run when the region they repair is the one that is down.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.automation_steps import script_step, wait_step
from modules.base import RegionalStack
from modules.config import ActiveActive, DeploymentConfig
from modules.drills import (
    AutomationRun,
    Experiment,
    Parameters,
    RunbookDocument,
    Step,
    automation_experiment,
    fault_then_revert,
    parameter,
    payload,
    runbook_document,
)
from modules.health_check import HealthCheck
from modules.iam import ServiceRole, managed_policy
from runbooks import tables
from stacks import drill_roles, recover_table, repair_table
from stacks.naming import ACTIVE_ACTIVE, vault_name
from stacks.recover_table import VERIFIED

#: The roles FIS may pass to SSM; the recovery role is not one of them.
EXPERIMENT_ROLES = ("faults", "restores", "replicas")
#: How long an injected fault lasts before the document reverts it (ISO 8601 duration).
DEFAULT_FAULT_DURATION = "PT10M"
#: The fault the access-denial drill attaches to a function role: every DynamoDB call denied.
DENY_TABLE_ACCESS = [{"Sid": "ChaosDenyTableAccess", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]


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
        env = self.env = RegionalStack.of(self).env
        self.prefix = prefix = f"{config.name_prefix}-{ACTIVE_ACTIVE}"
        self.primary, self.secondary = arch.primary.region, arch.secondary.region
        regions = (self.primary, self.secondary)
        self.table_name, self.table_key_alias, self.health_checks = table_name, table_key_alias, health_checks
        self.function_roles = {
            region: f"arn:{env.partition}:iam::{env.account_id}:role/{prefix}-{region}-api-function" for region in regions
        }
        self.table_arns = {region: env.arn("dynamodb", f"table/{table_name}", region=region) for region in regions}
        self.backup_roles = {
            region: f"arn:{env.partition}:iam::{env.account_id}:role/{vault_name(config, ACTIVE_ACTIVE, region)}-backup"
            for region in regions
        }
        self.deny_policy = managed_policy(
            self,
            "deny-table-access",
            name=f"{prefix}-chaos-deny-table-access",
            description="Chaos: attached to an API function role by the access-denial drill, detached after it",
            statements=DENY_TABLE_ACCESS,
        )
        self.documents: dict[str, RunbookDocument] = {}
        self.regions = regions
        self.functions = [env.arn("lambda", f"function:{prefix}-{region}-api", region=region) for region in regions]
        self.reserved_concurrency = arch.lambda_function.reserved_concurrency
        self._fault_documents()
        self._table_documents()
        self._operations_documents(arch.traffic.required_concurrency)
        targets = drill_roles.DrillTargets(
            env=env,
            regions=regions,
            table_name=table_name,
            key_alias=table_key_alias,
            function_roles=list(self.function_roles.values()),
            deny_policy_arn=self.deny_policy.arn,
            health_check_arns=[f"arn:{env.partition}:route53:::healthcheck/{check.health_check_id}" for check in health_checks.values()],
            backup_roles=list(self.backup_roles.values()),
            functions=self.functions,
        )
        self.roles = {
            "faults": drill_roles.fault_role(self, f"{prefix}-drill-faults", targets),
            "restores": drill_roles.restore_role(self, f"{prefix}-drill-restores", targets),
            "replicas": drill_roles.replica_role(self, f"{prefix}-drill-replicas", targets),
            "repair": drill_roles.repair_role(self, f"{prefix}-repair", targets),
            "recovery": drill_roles.recovery_role(self, f"{prefix}-recovery", targets),
            "operations": drill_roles.operations_role(self, f"{prefix}-operations", targets),
        }
        self.experiment_role = self._experiment_role()
        self.experiments: dict[str, Experiment] = {}
        self._fault_experiments()
        self._recovery_experiments()
        TerraformOutput(scope, "experiment_template_ids", value={key: template.id for key, template in self.experiments.items()})
        TerraformOutput(scope, "runbook_documents", value={key: doc.name for key, doc in self.documents.items()})
        TerraformOutput(scope, "runbook_roles", value={key: role.role_arn for key, role in self.roles.items()})

    def _document(self, key: str, description: str, parameters: Parameters, steps: list[Step]) -> None:
        self.documents[key] = runbook_document(
            self, f"doc-{key}", name=f"{self.prefix}-{key}", description=description, parameters=parameters, steps=steps
        )

    def _fault_documents(self) -> None:
        """Faults that revert themselves: a deny on the function role, an inverted health check."""
        self._document(
            "inject-lambda-access-denial",
            "Chaos: attach the deny-table-access policy to the API function's role for {{ Duration }}, then detach it.",
            {
                "RoleName": parameter("The API function's role"),
                "PolicyArn": parameter("The deny policy", self.deny_policy.arn),
                "Duration": parameter("How long", DEFAULT_FAULT_DURATION),
            },
            fault_then_revert(
                "Deny",
                {
                    "action": "aws:executeAwsApi",
                    "inputs": {"Service": "iam", "Api": "AttachRolePolicy", "RoleName": "{{ RoleName }}", "PolicyArn": "{{ PolicyArn }}"},
                },
                {
                    "action": "aws:executeAwsApi",
                    "inputs": {"Service": "iam", "Api": "DetachRolePolicy", "RoleName": "{{ RoleName }}", "PolicyArn": "{{ PolicyArn }}"},
                },
            ),
        )
        self._document(
            "fail-health-check",
            "Chaos: invert a Route 53 health check for {{ Duration }} so its region drops out of DNS, then restore it.",
            {"HealthCheckId": parameter("Health check to fail"), "Duration": parameter("How long", DEFAULT_FAULT_DURATION)},
            fault_then_revert(
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

    def _table_documents(self) -> None:
        """Replica deletion and re-creation, point-in-time and backup restores, drill clean-up, and the recovery."""
        self._replica_documents()
        self._restore_documents()
        self._document(
            "repair-table",
            "Recovery from data loss, the default (seed 000's software failure): put back, item by item through the live"
            " global table, what a damage window changed, keeping what was written since; no outage, the history kept."
            " Re-run with the same parameters to resume.",
            repair_table.parameters(self.table_name, self.table_key_alias, self.backup_roles[self.primary]),
            repair_table.steps(),
        )
        self._document(
            "recover-table",
            "Recovery from data loss (seed 000's software failure): restore a verified copy, then, once approved, replace"
            " the live table with it under the same name and rebuild the global table. The live table is untouched"
            " until the copy verifies; a failed verification discards the copy.",
            recover_table.parameters(
                self.table_name, self.table_key_alias, self.backup_roles[self.primary], self.functions, self.reserved_concurrency
            ),
            recover_table.steps(),
        )

    def _operations_documents(self, required_concurrency: int) -> None:
        """Seed 000's catalogue, the parts that are safe to automate: verify the global table, set concurrency."""
        self._document(
            "verify-global-table",
            "Check (read-only): every region holds an ACTIVE, deletion-protected, point-in-time-recoverable, KMS-encrypted replica.",
            {
                "TableName": parameter("Global table", self.table_name),
                "Regions": parameter("Comma-separated regions", ",".join(self.regions)),
            },
            [
                script_step(
                    "verify",
                    tables.verify_global_table,
                    payload("TableName", "Regions"),
                    {"Verified": "Boolean", "ItemCountEstimates": "String"},
                )
            ],
        )
        self._document(
            "set-function-concurrency",
            "Incident lever: set the API function's reserved concurrency in Region (never below what the configured peak needs).",
            {
                "Region": parameter("Region of the function"),
                "FunctionName": parameter("The API function (<prefix>-<region>-api)"),
                "Concurrency": parameter("Reserved concurrent executions"),
                "MinimumConcurrency": parameter("Floor: one region's share of the configured peak", str(required_concurrency)),
            },
            [
                script_step(
                    "setConcurrency",
                    tables.set_function_concurrency,
                    payload("Region", "FunctionName", "Concurrency", "MinimumConcurrency"),
                    {"Previous": "Integer", "Current": "Integer"},
                )
            ],
        )

    def _replica_documents(self) -> None:
        table = {"TableName": parameter("Global table", self.table_name), "SourceRegion": parameter("Region that issues the change")}
        replica = {"TableName": "{{ TableName }}", "SourceRegion": "{{ SourceRegion }}", "ReplicaRegion": "{{ ReplicaRegion }}"}
        self._document(
            "delete-table-replica",
            "Chaos: lift the deletion protection of the global table's replica in ReplicaRegion, delete it, wait until it is gone.",
            {**table, "ReplicaRegion": parameter("Replica to delete")},
            [
                script_step("deleteReplica", tables.delete_replica, replica, {"Changed": "Boolean"}),
                wait_step("waitReplicaGone", tables.check_replica, {**replica, "Desired": "ABSENT"}, what="replica deletion"),
            ],
        )
        self._document(
            "recreate-table-replica",
            "Runbook: re-create the global table's replica in ReplicaRegion, wait until it is ACTIVE, then turn on its"
            " deletion protection and point-in-time recovery and give it the table's tags.",
            {
                **table,
                "ReplicaRegion": parameter("Replica to re-create"),
                "KmsKeyAlias": parameter("Key alias", f"alias/{self.table_key_alias}"),
            },
            recover_table.replica_steps(replica),
        )

    def _restore_documents(self) -> None:
        restore = {
            "Region": parameter("Region of the replica to restore from"),
            "TargetTableName": parameter("New table name (ends in -drill)"),
            "MinimumItems": parameter("Fewest items the restored table must hold", "0"),
        }
        target = {"Region": "{{ Region }}", "TableName": "{{ TargetTableName }}"}
        verify = script_step(
            "verifyRestore", tables.verify_table, {**target, "MinimumItems": "{{ MinimumItems }}"}, VERIFIED, timeout_seconds=300
        )
        self._document(
            "restore-table-pitr",
            "Runbook: restore the table to a point in time (latest when RestoreDateTime is empty) into TargetTableName, wait, count.",
            {
                **restore,
                "SourceTableName": parameter("Table", self.table_name),
                "RestoreDateTime": parameter("ISO 8601 time, empty for the latest restorable time", ""),
                "KmsKeyAlias": parameter("Key alias", f"alias/{self.table_key_alias}"),
            },
            [
                script_step(
                    "restorePointInTime",
                    tables.restore_point_in_time,
                    payload("Region", "SourceTableName", "TargetTableName", "RestoreDateTime", "KmsKeyAlias"),
                    {"TargetTableArn": "String"},
                ),
                wait_step("waitRestored", tables.check_table, {**target, "Desired": "ACTIVE"}, what="point-in-time restore"),
                verify,
            ],
        )
        self._document(
            "restore-table-backup",
            "Runbook: restore an AWS Backup recovery point of the table (the latest when RecoveryPointArn is empty), encrypted"
            " with the table's key, wait, count.",
            {
                **restore,
                "TableArn": parameter("Table replica ARN in that region"),
                "RecoveryPointArn": parameter("Recovery point, empty for the latest", ""),
                "IamRoleArn": parameter("Role AWS Backup restores with"),
                "KmsKeyAlias": parameter("Key alias the restored table is encrypted with", f"alias/{self.table_key_alias}"),
            },
            [
                script_step(
                    "restoreBackup",
                    tables.restore_backup,
                    payload("Region", "TableArn", "RecoveryPointArn", "TargetTableName", "IamRoleArn", "KmsKeyAlias"),
                    {"RestoreJobId": "String", "RecoveryPointArn": "String"},
                ),
                wait_step(
                    "waitRestoreJob",
                    tables.check_restore_job,
                    {"Region": "{{ Region }}", "RestoreJobId": "{{ restoreBackup.RestoreJobId }}"},
                    what="backup restore job",
                ),
                verify,
            ],
        )
        self._document(
            "delete-drill-table",
            "Drill clean-up: delete a restored table whose name ends in -drill or -recovery.",
            {"Region": parameter("Region"), "TableName": parameter("Drill table")},
            [script_step("deleteDrillTable", tables.delete_scratch_table, payload("Region", "TableName"), {"Deleted": "Boolean"})],
        )

    def _experiment_role(self) -> ServiceRole:
        """What FIS does: start and follow our documents, passing the drill roles (never the recovery role)."""
        return ServiceRole(
            self,
            "experiment-role",
            name=f"{self.prefix}-drill-experiments",
            service="fis.amazonaws.com",
            statements=[
                {
                    "Sid": "StartDrillAutomations",
                    "Effect": "Allow",
                    "Action": ["ssm:StartAutomationExecution"],
                    "Resource": [self.env.arn("ssm", f"automation-definition/{doc.name}:$DEFAULT") for doc in self.documents.values()],
                },
                {
                    "Sid": "FollowDrillAutomations",
                    "Effect": "Allow",
                    "Action": ["ssm:GetAutomationExecution", "ssm:StopAutomationExecution"],
                    "Resource": [self.env.arn("ssm", "automation-execution/*")],
                },
                {
                    "Sid": "PassDrillRolesToSsm",
                    "Effect": "Allow",
                    "Action": ["iam:PassRole"],
                    "Resource": [self.roles[kind].role_arn for kind in EXPERIMENT_ROLES],
                    "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
                },
            ],
        )

    def _experiment(
        self, key: str, description: str, stop_on_region: str, runs: list[tuple[str, str, dict[str, str]]], *, role: str
    ) -> None:
        self.experiments[key] = automation_experiment(
            self,
            f"experiment-{key}",
            name=f"{self.prefix}-{key}",
            description=description,
            role_arn=self.experiment_role.role_arn,
            automation_role_arn=self.roles[role].role_arn,
            runs=[AutomationRun(name, self.documents[document], parameters) for name, document, parameters in runs],
            stop_alarm_arn=self.health_checks[stop_on_region].alarm_arn,
        )

    def _fault_experiments(self) -> None:
        """Per region: deny its function the table, and fail its health check; each stops on the peer's alarm."""
        for region, peer in ((self.primary, self.secondary), (self.secondary, self.primary)):
            self._experiment(
                f"lambda-access-denial-{region}",
                f"Deny the {region} API function its table; Route 53 must shift traffic to {peer}",
                peer,
                [("denyTableAccess", "inject-lambda-access-denial", {"RoleName": self.function_roles[region].rsplit("/", 1)[1]})],
                role="faults",
            )
            self._experiment(
                f"health-check-failure-{region}",
                f"Fail the {region} health check; weighted routing must answer with {peer} only",
                peer,
                [("failHealthCheck", "fail-health-check", {"HealthCheckId": self.health_checks[region].health_check_id})],
                role="faults",
            )

    def _recovery_experiments(self) -> None:
        """Replica deletion and re-creation, a point-in-time restore and a backup restore, each cleaned up."""
        primary, secondary, table_name = self.primary, self.secondary, self.table_name
        self._experiment(
            f"table-replica-deletion-{secondary}",
            f"Delete the table's {secondary} replica, then re-create it (table re-creation runbook)",
            primary,
            [
                ("deleteReplica", "delete-table-replica", {"SourceRegion": primary, "ReplicaRegion": secondary}),
                ("recreateReplica", "recreate-table-replica", {"SourceRegion": primary, "ReplicaRegion": secondary}),
            ],
            role="replicas",
        )
        pitr_target = f"{table_name}-pitr-drill"
        self._experiment(
            "point-in-time-restore",
            f"Restore the {primary} replica to the latest restorable time into {pitr_target}, count its items, delete it",
            secondary,
            [
                ("restore", "restore-table-pitr", {"Region": primary, "TargetTableName": pitr_target}),
                ("cleanUp", "delete-drill-table", {"Region": primary, "TableName": pitr_target}),
            ],
            role="restores",
        )
        backup_target = f"{table_name}-backup-drill"
        restore = {
            "Region": primary,
            "TableArn": self.table_arns[primary],
            "TargetTableName": backup_target,
            "IamRoleArn": self.backup_roles[primary],
        }
        self._experiment(
            "backup-restore",
            f"Restore the latest {primary} AWS Backup recovery point into {backup_target}, then delete it",
            secondary,
            [
                ("restore", "restore-table-backup", restore),
                ("cleanUp", "delete-drill-table", {"Region": primary, "TableName": backup_target}),
            ],
            role="restores",
        )
