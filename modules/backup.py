"""AWS Backup: a KMS-encrypted vault, daily and weekly rules, a copy to another region, and a selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.backup_plan import BackupPlan as BackupPlanResource
from cdktf_cdktf_provider_aws.backup_plan import BackupPlanRule, BackupPlanRuleCopyAction
from cdktf_cdktf_provider_aws.backup_region_settings import BackupRegionSettings as BackupRegionSettingsResource
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection, BackupSelectionSelectionTag
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from constructs import Construct

from modules.base import AwsEnv, RegionalStack
from modules.errors import InputError, Problem
from modules.iam import ServiceRole
from modules.kms import EncryptionKey

#: AWS Backup requires recovery points to stay in cold storage for at least 90 days.
MIN_DAYS_IN_COLD_STORAGE = 90
#: The resource types these stacks back up (a DynamoDB table, an RDS instance; Aurora for the global database).
BACKED_UP_TYPES = ("DynamoDB", "RDS", "Aurora")


@dataclass(frozen=True)
class BackupRule:
    """One schedule and how long its recovery points live.

    Default: start within 60 minutes, complete within 180; no cold storage.
    """

    name: str
    schedule: str
    delete_after_days: int
    cold_storage_after_days: int | None = None
    start_window_minutes: int = 60
    completion_window_minutes: int = 180


#: Seed 002's schedules. Its daily rule moved points to cold storage after 7 days and deleted them after 30, which
#: AWS Backup rejects (90 days minimum in cold storage), so the daily rule keeps 35 days warm instead.
DAILY = BackupRule("daily", "cron(0 5 ? * * *)", delete_after_days=35)
WEEKLY = BackupRule("weekly", "cron(0 5 ? * SUN *)", delete_after_days=365, cold_storage_after_days=30, completion_window_minutes=240)


def backup_vault_arn(env: AwsEnv, region: str, vault_name: str) -> str:
    """Deterministic ARN of a vault in another region of the same account (no cross-region lookup)."""
    return env.arn("backup", f"backup-vault:{vault_name}", region=region)


class BackupPlan(Construct):
    """A vault encrypted with `key`, a plan with `rules`, and a selection of what to back up.

    Default: daily and weekly rules; no copy unless `copy_to_vault_arn` is given (copies keep the rule's lifecycle);
    selection by the tag `BackupPlan=<name>` unless `resource_arns` or `selection_tags` say otherwise.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EncryptionKey,
        rules: Sequence[BackupRule] = (DAILY, WEEKLY),
        copy_to_vault_arn: str | None = None,
        resource_arns: Sequence[str] = (),
        selection_tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._validate(rules, copy_to_vault_arn)
        env = RegionalStack.of(self).env
        self.vault_name = name
        self.vault = BackupVault(self, "vault", name=name, kms_key_arn=key.key_arn, tags={"Name": name})
        plan_rules = []
        for rule in rules:
            lifecycle: dict[str, object] = {"delete_after": rule.delete_after_days}
            if rule.cold_storage_after_days is not None:
                lifecycle["cold_storage_after"] = rule.cold_storage_after_days
                lifecycle["opt_in_to_archive_for_supported_resources"] = True
            copies = (
                [BackupPlanRuleCopyAction(destination_vault_arn=copy_to_vault_arn, lifecycle=dict(lifecycle))]
                if copy_to_vault_arn
                else None
            )
            plan_rules.append(
                BackupPlanRule(
                    rule_name=rule.name,
                    target_vault_name=self.vault.name,
                    schedule=rule.schedule,
                    start_window=rule.start_window_minutes,
                    completion_window=rule.completion_window_minutes,
                    lifecycle=lifecycle,
                    copy_action=copies,
                )
            )
        self.plan = BackupPlanResource(self, "plan", name=name, rule=plan_rules, tags={"Name": name})
        self.role = ServiceRole(
            self,
            "role",
            name=f"{name}-backup",
            service="backup.amazonaws.com",
            managed_policy_arns=[
                f"arn:{env.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
                f"arn:{env.partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
            ],
        )
        tags = dict(selection_tags) if selection_tags is not None else ({} if resource_arns else {"BackupPlan": name})
        self.selection_tags = tags
        # The emulator implements no backup selections; everything else of the plan deploys there.
        self.selection = (
            None
            if RegionalStack.of(self).emulated
            else BackupSelection(
                self,
                "selection",
                name=f"{name}-selection",
                plan_id=self.plan.id,
                iam_role_arn=self.role.role_arn,
                resources=list(resource_arns) or None,
                selection_tag=[BackupSelectionSelectionTag(type="STRINGEQUALS", key=key_, value=value) for key_, value in tags.items()]
                or None,
            )
        )

    @property
    def vault_arn(self) -> str:
        return self.vault.arn

    @property
    def plan_id(self) -> str:
        return self.plan.id

    def _validate(self, rules: Sequence[BackupRule], copy_to_vault_arn: str | None) -> None:
        path = self.node.path
        problems: list[Problem] = []
        if not rules or len({rule.name for rule in rules}) != len(rules):
            problems.append(Problem(f"{path}.rules", [rule.name for rule in rules], "expected at least one rule, distinct names"))
        for rule in rules:
            where = f"{path}.rules[{rule.name}]"
            if not (rule.schedule.startswith("cron(") or rule.schedule.startswith("rate(")):
                problems.append(Problem(f"{where}.schedule", rule.schedule, "expected a cron(...) or rate(...) expression"))
            if rule.delete_after_days < 1:
                problems.append(Problem(f"{where}.delete_after_days", rule.delete_after_days, "expected at least 1 day"))
            cold = rule.cold_storage_after_days
            if cold is not None and rule.delete_after_days < cold + MIN_DAYS_IN_COLD_STORAGE:
                problems.append(
                    Problem(
                        f"{where}.delete_after_days",
                        rule.delete_after_days,
                        f"expected at least cold_storage_after_days + {MIN_DAYS_IN_COLD_STORAGE} ({cold + MIN_DAYS_IN_COLD_STORAGE})",
                    )
                )
            if rule.completion_window_minutes < rule.start_window_minutes + 60:
                problems.append(
                    Problem(
                        f"{where}.completion_window_minutes", rule.completion_window_minutes, "expected at least start_window_minutes + 60"
                    )
                )
        if copy_to_vault_arn is not None and ":backup-vault:" not in copy_to_vault_arn:
            problems.append(Problem(f"{path}.copy_to_vault_arn", copy_to_vault_arn, "expected a backup vault ARN"))
        if problems:
            raise InputError(problems)


class BackupRegionSettings(Construct):
    """The account's AWS Backup settings in this region, pinned rather than left to the account's history: the
    resource types these stacks back up are opted in, and DynamoDB gets AWS Backup's advanced features (full
    management: recovery points are AWS Backup's, `arn:aws:backup:...`, restored only through AWS Backup with
    `dynamodb:RestoreTableFromAwsBackup`; cross-region copies and cold storage need them). Accounts whose first
    vault predates November 2021 have them off unless someone opted in
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html,
    https://docs.aws.amazon.com/aws-backup/latest/devguide/API_UpdateRegionSettings.html). One per account and
    region: stacks.app places it with the other once-per-region settings.

    The opt-in map is set at creation and then left to the account (ignore_changes): it lists every resource type
    AWS Backup supports in the region, which differ by region and grow, and other workloads' types are not ours to
    decide; so is EFS's full management. DynamoDB's full management is held (a change shows in the plan).
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.settings = BackupRegionSettingsResource(
            self,
            "settings",
            resource_type_opt_in_preference=dict.fromkeys(BACKED_UP_TYPES, True),
            resource_type_management_preference={"DynamoDB": True},
            lifecycle={"ignore_changes": ["resource_type_opt_in_preference", 'resource_type_management_preference["EFS"]']},
        )
