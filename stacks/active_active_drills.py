"""Seed 000's chaos experiments (FIS) and recovery runbooks (SSM Automation) for the active/active architecture.

Experiments live in the global stack (us-east-1) next to the Route 53 health-check alarms they stop on: an
experiment against one region stops as soon as the *other* region's health check fails, because by then it is
hurting more than the region it was meant to take out. Runbook steps act on the regions through region-aware
API calls, so they also run when the region they repair is the one that is down.
"""

from __future__ import annotations

from typing import Any

from cdktf import TerraformOutput
from constructs import Construct

from modules.automation_steps import branch_step, guarded, script_step, wait_step
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
from runbooks import common, tables
from stacks import drill_roles, recover_table, repair_table
from stacks.naming import ACTIVE_ACTIVE, vault_name
from stacks.recover_table import VERIFIED

#: Runbooks an operator runs to recover the EU data: published in each serving region as well as in us-east-1, so
#: that they run in the surviving region (SSM, STS and DynamoDB there) when us-east-1 is out. The experiments and
#: their fault documents stay in us-east-1 only: their stop conditions are the health checks' alarms, on metrics
#: Route 53 publishes in us-east-1 alone, and an experiment during a us-east-1 outage is not a drill anyone wants.
RECOVERY_RUNBOOKS = (
    "repair-table",
    "recover-table",
    "recreate-table-replica",
    "verify-global-table",
    "set-function-concurrency",
    "restore-table-pitr",
    "restore-table-backup",
    "delete-drill-table",
)
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
        self.regional_documents: dict[tuple[str, str], RunbookDocument] = {}
        stack = RegionalStack.of(self)
        self.runbook_providers = {region: stack.aws_provider(region, alias=f"runbooks-{region}") for region in regions}
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
            runbook_regions=[env.region, *regions],
        )
        self.roles = {
            "faults": drill_roles.fault_role(self, f"{prefix}-drill-faults", targets),
            "restores": drill_roles.restore_role(
                self, f"{prefix}-drill-restores", targets, clean_up_document=f"{prefix}-delete-drill-table"
            ),
            "replicas": drill_roles.replica_role(
                self, f"{prefix}-drill-replicas", targets, recreate_document=f"{prefix}-recreate-table-replica"
            ),
            "repair": drill_roles.repair_role(self, f"{prefix}-repair", targets),
            "recovery": drill_roles.recovery_role(self, f"{prefix}-recovery", targets),
            "operations": drill_roles.operations_role(self, f"{prefix}-operations", targets),
        }
        self.operator_policy = self._operator_policy()
        self.experiment_role = self._experiment_role()
        self.experiments: dict[str, Experiment] = {}
        self._fault_experiments()
        self._recovery_experiments()
        TerraformOutput(scope, "experiment_template_ids", value={key: template.id for key, template in self.experiments.items()})
        TerraformOutput(scope, "runbook_documents", value={key: doc.name for key, doc in self.documents.items()})
        TerraformOutput(
            scope,
            "runbook_regions",
            value={key: [env.region, *regions] if key in RECOVERY_RUNBOOKS else [env.region] for key in self.documents},
        )
        TerraformOutput(scope, "runbook_roles", value={key: role.role_arn for key, role in self.roles.items()})
        TerraformOutput(scope, "recovery_operator_policy_arn", value=self.operator_policy.arn)

    def _document(self, key: str, description: str, parameters: Parameters, steps: list[Step]) -> None:
        """The document in us-east-1, beside the experiments; a recovery runbook (RECOVERY_RUNBOOKS) also in each
        serving region, so that the EU data's recovery does not need a third region."""
        name = f"{self.prefix}-{key}"
        self.documents[key] = runbook_document(self, f"doc-{key}", name=name, description=description, parameters=parameters, steps=steps)
        if key in RECOVERY_RUNBOOKS:
            for region, provider in self.runbook_providers.items():
                self.regional_documents[(key, region)] = runbook_document(
                    self, f"doc-{key}-{region}", name=name, description=description, parameters=parameters, steps=steps, provider=provider
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
        self._replica_outage_document(table, replica)

    def _replica_outage_document(self, table: Parameters, replica: dict[str, str]) -> None:
        """The replica experiment's document: out and back, handed to recreate-table-replica when stopped or failed."""
        hand_over = {
            "action": "aws:executeAwsApi",
            "inputs": {
                "Service": "ssm",
                "Api": "StartAutomationExecution",
                "DocumentName": f"{self.prefix}-recreate-table-replica",
                "Parameters": {
                    name: [f"{{{{ {name} }}}}"]
                    for name in ("TableName", "SourceRegion", "ReplicaRegion", "KmsKeyAlias", "AutomationAssumeRole")
                },
            },
            "outputs": [{"Name": "ExecutionId", "Selector": "$.AutomationExecutionId", "Type": "String"}],
        }
        self._document(
            "table-replica-outage",
            "Chaos: delete the global table's replica in ReplicaRegion, then re-create and protect it. Stopped (FIS stops the"
            " experiment) or failed at any step, it starts recreate-table-replica as an execution of its own, which FIS"
            " cannot stop, and which re-creates (or re-protects) the replica.",
            {
                **table,
                "ReplicaRegion": parameter("Replica to take out and bring back"),
                "KmsKeyAlias": parameter("Key alias", f"alias/{self.table_key_alias}"),
            },
            [
                *guarded(
                    [
                        script_step("deleteReplica", tables.delete_replica, replica, {"Changed": "Boolean"}),
                        # FIS ends an action after 2 hours: the two waits stay within 90 minutes, and a slower
                        # re-creation fails the wait here and is handed to recreate-table-replica, which waits longer
                        wait_step(
                            "waitReplicaGone",
                            tables.check_replica,
                            {**replica, "Desired": "ABSENT"},
                            what="replica deletion",
                            max_iterations=40,
                        ),
                        *recover_table.replica_steps(replica, max_iterations=50),
                    ],
                    on_cancel="handOverOnCancel",
                    on_failure="handOverOnFailure",
                    last_ends=True,
                ),
                {**hand_over, "name": "handOverOnCancel", "isEnd": True},
                {**hand_over, "name": "handOverOnFailure"},
                {
                    **script_step(
                        "failOutage",
                        common.fail,
                        {
                            "Message": "the replica outage failed part-way; recreate-table-replica ({{ handOverOnFailure.ExecutionId }})"
                            " puts the replica back"
                        },
                        {},
                        timeout_seconds=60,
                    ),
                    "isEnd": True,
                },
            ],
        )

    def _restore_documents(self) -> None:
        restore = {
            "Region": parameter("Region of the replica to restore from"),
            "TargetTableName": parameter("New table name (ends in -drill)"),
            "MinimumItems": parameter("Fewest items the restored table must hold", "0"),
        }
        restore["CleanUp"] = parameter("Delete the restored table once verified (a drill)", False, kind="Boolean")
        target = {"Region": "{{ Region }}", "TableName": "{{ TargetTableName }}"}
        verify = script_step(
            "verifyRestore", tables.verify_table, {**target, "MinimumItems": "{{ MinimumItems }}"}, VERIFIED, timeout_seconds=300
        )
        self._restore_document(
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
            absent_checks=3,
        )
        self._restore_document(
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
            absent_checks=30,
        )
        self._document(
            "delete-drill-table",
            "Drill clean-up: once a restored table whose name ends in -drill or -recovery can be deleted (not being created;"
            " absent for AbsentChecks looks), delete it.",
            {
                "Region": parameter("Region"),
                "TableName": parameter("Drill table"),
                "AbsentChecks": parameter("Minutes to wait for a table that does not exist yet (a restore job may create it)", "1"),
            },
            [
                wait_step(
                    "waitDeletable", tables.check_deletable, payload("Region", "TableName", "AbsentChecks"), what="a deletable table"
                ),
                script_step("deleteDrillTable", tables.delete_scratch_table, payload("Region", "TableName"), {"Deleted": "Boolean"}),
            ],
        )

    def _restore_document(self, key: str, description: str, parameters: Parameters, steps: list[Step], *, absent_checks: int) -> None:
        """A restore into a -drill table that leaves nothing behind when it is stopped (FIS stops its experiment) or
        fails at any step: it starts delete-drill-table as an execution of its own, which FIS cannot stop. With
        CleanUp (the experiments), the verified table is deleted the same way."""
        hand_over = {
            "action": "aws:executeAwsApi",
            "inputs": {
                "Service": "ssm",
                "Api": "StartAutomationExecution",
                "DocumentName": f"{self.prefix}-delete-drill-table",
                "Parameters": {
                    "Region": ["{{ Region }}"],
                    "TableName": ["{{ TargetTableName }}"],
                    "AbsentChecks": [str(absent_checks)],
                    "AutomationAssumeRole": ["{{ AutomationAssumeRole }}"],
                },
            },
            "outputs": [{"Name": "ExecutionId", "Selector": "$.AutomationExecutionId", "Type": "String"}],
        }
        body = [*steps, branch_step("decideCleanUp", "CleanUp", when_true="handOverCleanUp", otherwise="keepRestored")]
        self._document(
            key,
            f"{description} Stopped or failed at any step, it hands the -drill table to delete-drill-table.",
            parameters,
            [
                *guarded(body, on_cancel="handOverCleanUp", on_failure="handOverOnFailure"),
                {"name": "keepRestored", "action": "aws:sleep", "inputs": {"Duration": "PT0S"}, "isEnd": True},
                {**hand_over, "name": "handOverCleanUp", "isEnd": True},
                {**hand_over, "name": "handOverOnFailure"},
                {
                    **script_step(
                        "failRestore",
                        common.fail,
                        {"Message": "the restore failed; delete-drill-table ({{ handOverOnFailure.ExecutionId }}) removes the table"},
                        {},
                        timeout_seconds=60,
                    ),
                    "isEnd": True,
                },
            ],
        )

    def _operator_policy(self) -> Any:
        """For the people who run a data-loss recovery: start the two recovery runbooks (in every region they are
        published in) and pass their roles to SSM, nothing else. Passing a role that can replace live data needs
        iam:PassRole, which IAM cannot tie to a document (SSM's aws:SourceArn names the execution, not the runbook),
        so the tie is here: holding only this policy, one can start those runbooks and no other document, so the
        roles run only behind their approval step."""
        regions = [self.env.region, *self.regions]
        runbooks = [f"{self.prefix}-{key}" for key in ("repair-table", "recover-table")]
        return managed_policy(
            self,
            "recovery-operators",
            name=f"{self.prefix}-recovery-operators",
            description="Start the data-loss recovery runbooks (repair-table, recover-table) and pass their roles; nothing else",
            statements=[
                drill_roles.allow(
                    "StartTheRecoveryRunbooks",
                    ["ssm:StartAutomationExecution"],
                    [
                        self.env.arn("ssm", f"automation-definition/{name}:$DEFAULT", region=region)
                        for name in runbooks
                        for region in regions
                    ],
                ),
                drill_roles.allow(
                    "FollowApproveOrStopThem",  # approving also needs the approver named in the run's Approvers
                    ["ssm:GetAutomationExecution", "ssm:SendAutomationSignal", "ssm:StopAutomationExecution"],
                    [self.env.arn("ssm", "automation-execution/*", region=region) for region in regions],
                ),
                # no resource-level permissions
                drill_roles.allow("ListTheirSteps", ["ssm:DescribeAutomationStepExecutions"], "*"),
                drill_roles.allow(
                    "PassTheirRolesToSsm",
                    ["iam:PassRole"],
                    [self.roles["repair"].role_arn, self.roles["recovery"].role_arn],
                    {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
                ),
            ],
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
            f"Delete the table's {secondary} replica, then re-create it; stopped at any point, the re-creation runbook finishes",
            primary,
            [("replicaOutage", "table-replica-outage", {"SourceRegion": primary, "ReplicaRegion": secondary})],
            role="replicas",
        )
        pitr_target = f"{table_name}-pitr-drill"
        self._experiment(
            "point-in-time-restore",
            f"Restore the {primary} replica to the latest restorable time into {pitr_target}, count its items, delete it",
            secondary,
            [("restore", "restore-table-pitr", {"Region": primary, "TargetTableName": pitr_target, "CleanUp": "true"})],
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
            [("restore", "restore-table-backup", {**restore, "CleanUp": "true"})],
            role="restores",
        )
