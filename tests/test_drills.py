"""Chaos experiments (FIS) and recovery runbooks (SSM Automation) of the active/active architecture.

The templates and documents are checked as synthesized. The documents are then run, exactly as synthesized, by
tools.automation against moto, as the role their experiment passes, with IAM enforced: a step the role may not
take fails the run. moto enforces actions and explicit denies, not resource scoping or conditions (see
tools.moto_server), so those are checked on the synthesized policies here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stacks.active_active_drills import DENY_TABLE_ACCESS
from tests.conftest import Synthesized, act_as, role_policy, without
from tools.automation import AutomationFailed, Execution, run_document

GLOBAL = "active-active-global"
PREFIX = "hadr-prod-active-active"


@pytest.fixture(scope="module")
def documents(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    docs = synthesized.resources(GLOBAL, "aws_ssm_document").values()
    return {doc["name"].removeprefix(f"{PREFIX}-"): {**doc, "parsed": json.loads(doc["content"])} for doc in docs}


@pytest.fixture(scope="module")
def experiments(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    templates = synthesized.resources(GLOBAL, "aws_fis_experiment_template").values()
    return {t["tags"]["Name"].removeprefix(f"{PREFIX}-"): t for t in templates}


def unique_id(synthesized: Synthesized, resource_type: str, path_suffix: str) -> str:
    return synthesized.one(GLOBAL, resource_type, path_suffix)["//"]["metadata"]["uniqueId"]


def test_runbook_documents_cover_the_seed_scenarios_and_recoveries(documents: dict[str, dict[str, Any]]) -> None:
    assert set(documents) == {
        "inject-lambda-access-denial",
        "fail-health-check",
        "delete-table-replica",
        "recreate-table-replica",
        "table-replica-outage",
        "restore-table-pitr",
        "restore-table-backup",
        "delete-drill-table",
        "repair-table",
        "recover-table",
        "verify-global-table",
        "set-function-concurrency",
    }
    for doc in documents.values():
        assert (doc["document_type"], doc["document_format"]) == ("Automation", "JSON")
        assert doc["parsed"]["schemaVersion"] == "0.3" and doc["parsed"]["assumeRole"] == "{{ AutomationAssumeRole }}"


@pytest.mark.parametrize(("key", "revert"), [("inject-lambda-access-denial", "revertDeny"), ("fail-health-check", "revertInversion")])
def test_injected_faults_revert_after_the_hold_and_on_cancel(documents: dict[str, dict[str, Any]], key: str, revert: str) -> None:
    inject, hold, undo = documents[key]["parsed"]["mainSteps"]
    assert hold["action"] == "aws:sleep" and hold["inputs"]["Duration"] == "{{ Duration }}"
    assert documents[key]["parsed"]["parameters"]["Duration"]["default"] == "PT10M"
    for step in (inject, hold):
        assert (step["onFailure"], step["onCancel"]) == (f"step:{revert}", f"step:{revert}")
    assert undo["name"] == revert and undo["isEnd"] is True
    if key == "fail-health-check":
        assert (inject["inputs"]["Inverted"], undo["inputs"]["Inverted"]) == (True, False)
    else:
        assert (inject["inputs"]["Api"], undo["inputs"]["Api"]) == ("AttachRolePolicy", "DetachRolePolicy")
        assert inject["inputs"]["PolicyArn"] == undo["inputs"]["PolicyArn"] == "{{ PolicyArn }}"


def test_every_experiment_runs_automations_and_stops_on_the_surviving_regions_alarm(
    synthesized: Synthesized, experiments: dict[str, dict[str, Any]]
) -> None:
    assert set(experiments) == {
        "lambda-access-denial-eu-west-1",
        "lambda-access-denial-eu-central-1",
        "health-check-failure-eu-west-1",
        "health-check-failure-eu-central-1",
        "table-replica-deletion-eu-central-1",
        "point-in-time-restore",
        "backup-restore",
    }
    alarm = {
        region: f"${{aws_cloudwatch_metric_alarm.{unique_id(synthesized, 'aws_cloudwatch_metric_alarm', f'health-{region}/alarm')}.arn}}"
        for region in ("eu-west-1", "eu-central-1")
    }
    expected_stop = {
        "lambda-access-denial-eu-west-1": "eu-central-1",
        "lambda-access-denial-eu-central-1": "eu-west-1",
        "health-check-failure-eu-west-1": "eu-central-1",
        "health-check-failure-eu-central-1": "eu-west-1",
        "table-replica-deletion-eu-central-1": "eu-west-1",
        "point-in-time-restore": "eu-central-1",
        "backup-restore": "eu-central-1",
    }
    role_of = {
        "lambda-access-denial-eu-west-1": "fault-role",
        "lambda-access-denial-eu-central-1": "fault-role",
        "health-check-failure-eu-west-1": "fault-role",
        "health-check-failure-eu-central-1": "fault-role",
        "table-replica-deletion-eu-central-1": "replica-role",
        "point-in-time-restore": "restore-role",
        "backup-restore": "restore-role",
    }
    for key, template in experiments.items():
        automation_role = f"${{aws_iam_role.{unique_id(synthesized, 'aws_iam_role', f'drills/{role_of[key]}/role')}.arn}}"
        assert template["stop_condition"] == [{"source": "aws:cloudwatch:alarm", "value": alarm[expected_stop[key]]}], key
        for action in template["action"]:
            assert action["action_id"] == "aws:ssm:start-automation-execution"
            parameters = {p["key"]: p["value"] for p in action["parameter"]}
            assert parameters["documentArn"].startswith("${aws_ssm_document.") and parameters["maxDuration"] == "PT2H"
            assert json.loads(parameters["documentParameters"])["AutomationAssumeRole"] == automation_role


def test_chained_experiments_recover_or_clean_up_after_the_fault(experiments: dict[str, dict[str, Any]]) -> None:
    replica = experiments["table-replica-deletion-eu-central-1"]["action"]
    assert [(a["name"], a.get("start_after")) for a in replica] == [("replicaOutage", None)], "one document: no second action to cancel"
    pitr = experiments["point-in-time-restore"]["action"]
    assert [(a["name"], a.get("start_after")) for a in pitr] == [("restore", None)], "the document cleans up, also when stopped"
    parameters = json.loads({p["key"]: p["value"] for p in pitr[0]["parameter"]}["documentParameters"])
    assert (parameters["TargetTableName"], parameters["CleanUp"]) == ("hadr-prod-items-pitr-drill", "true")


def policy_of(synthesized: Synthesized, role: str) -> dict[str, dict[str, Any]]:
    policy = json.loads(synthesized.one(GLOBAL, "aws_iam_role_policy", f"drills/{role}/policy")["policy"])
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def every_step(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        if step["action"] == "aws:loop":
            yield from every_step(step["inputs"]["Steps"])


def test_no_script_step_runs_longer_than_ssm_allows_and_waits_are_bounded_loops(documents: dict[str, dict[str, Any]]) -> None:
    """aws:executeScript stops at 600 s; waits are aws:loop (at most 100 iterations) of a sleep and a one-shot check."""
    for key, doc in documents.items():
        for step in every_step(doc["parsed"]["mainSteps"]):
            if step["action"] == "aws:executeScript":
                assert 1 <= step["timeoutSeconds"] <= 600, (key, step["name"])
                assert "time.sleep" not in step["inputs"]["Script"], (key, step["name"])
            if step["action"] == "aws:loop":
                inner = [s["action"] for s in step["inputs"]["Steps"]]
                assert inner == ["aws:sleep", "aws:executeScript"] and 1 <= step["inputs"]["MaxIterations"] <= 100, (key, step["name"])
                assert step["inputs"]["LoopCondition"]["BooleanEquals"] is True
    waits = {key: [s["name"] for s in doc["parsed"]["mainSteps"] if s["action"] == "aws:loop"] for key, doc in documents.items()}
    assert waits["recreate-table-replica"] == ["waitReplicaActive"] and waits["restore-table-backup"] == ["waitRestoreJob"]
    assert waits["recover-table"] == [
        "waitLeftoverGone",
        "waitCopy",
        "waitSnapshots",
        "waitReplicaGone",
        "waitLiveGone",
        "waitLive",
        "waitReplicaActive",
    ]


def test_each_experiment_passes_a_role_with_only_what_its_documents_call(synthesized: Synthesized) -> None:
    faults, restores, replicas = (
        policy_of(synthesized, "fault-role"),
        policy_of(synthesized, "restore-role"),
        policy_of(synthesized, "replica-role"),
    )
    deny = synthesized.one(GLOBAL, "aws_iam_policy", "drills/deny-table-access")
    assert json.loads(deny["policy"])["Statement"] == [
        {"Sid": "ChaosDenyTableAccess", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}
    ]
    attach = faults["AttachOnlyTheDenyPolicy"]
    assert attach["Action"] == ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    assert attach["Condition"] == {"ArnEquals": {"iam:PolicyARN": f"${{aws_iam_policy.{deny['//']['metadata']['uniqueId']}.arn}}"}}
    assert attach["Resource"] == [
        f"arn:aws:iam::123456789012:role/{PREFIX}-eu-west-1-api-function",
        f"arn:aws:iam::123456789012:role/{PREFIX}-eu-central-1-api-function",
    ]
    assert not any("dynamodb:" in str(s["Action"]) for s in faults.values())
    live = {
        "arn:aws:dynamodb:eu-west-1:123456789012:table/hadr-prod-items",
        "arn:aws:dynamodb:eu-central-1:123456789012:table/hadr-prod-items",
    }
    for statement in restores.values():
        touches_live = live & set(statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        if touches_live:  # the restore role reads the live table to restore from it, and changes nothing there
            assert set(statement["Action"]) == {
                "dynamodb:RestoreTableToPointInTime",
                "dynamodb:DescribeTable",
                "dynamodb:DescribeContinuousBackups",
            }
    assert restores["WriteCheckAndDeleteDrillCopies"]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/hadr-prod-items-*-drill",
        "arn:aws:dynamodb:eu-central-1:123456789012:table/hadr-prod-items-*-drill",
    ]
    assert restores["PassBackupRoleToBackup"]["Condition"] == {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}}
    for role in (restores, replicas, policy_of(synthesized, "recovery-role")):
        assert role["TableKeyThroughDynamoDb"]["Condition"]["StringEquals"] == {
            "kms:ViaService": ["dynamodb.eu-west-1.amazonaws.com", "dynamodb.eu-central-1.amazonaws.com"]
        }
    assert "dynamodb:CreateTable" in replicas["DeleteAndRecreateReplicas"]["Action"]
    assert replicas["DeleteReplicaTables"] == {
        "Sid": "DeleteReplicaTables",
        "Effect": "Allow",
        "Action": ["dynamodb:DeleteTable"],
        "Resource": ["arn:aws:dynamodb:eu-central-1:123456789012:table/hadr-prod-items"],
    }, "the replica role may delete the replica's table, never the primary's"
    assert replicas["ReplicationServiceLinkedRole"]["Condition"] == {
        "StringEquals": {"iam:AWSServiceName": "replication.dynamodb.amazonaws.com"}
    }
    experiment = json.loads(synthesized.one(GLOBAL, "aws_iam_role_policy", "drills/experiment-role/policy")["policy"])
    passed = {s["Sid"]: s for s in experiment["Statement"]}["PassDrillRolesToSsm"]
    assert passed["Resource"] == [
        f"${{aws_iam_role.{unique_id(synthesized, 'aws_iam_role', f'drills/{role}/role')}.arn}}"
        for role in ("fault-role", "restore-role", "replica-role")
    ], "FIS may not pass the recovery role"
    start = {s["Sid"]: s for s in experiment["Statement"]}["StartDrillAutomations"]
    assert len(start["Resource"]) == 12 and all(":automation-definition/" in arn for arn in start["Resource"])
    repairs = policy_of(synthesized, "repair-role")
    on_live = {action for statement in repairs.values() for action in statement["Action"] if live & set(statement["Resource"])}
    assert on_live == {
        "dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:RestoreTableToPointInTime",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem",
    }, "the repair writes items of the live table and never changes the table itself"  # fmt: skip


# --- the documents, run as SSM runs them, as their roles, with IAM enforced in moto ---

HOME, PEER, TABLE = "eu-west-1", "eu-central-1", "hadr-prod-items"
KEY_ALIAS = "alias/hadr-prod-active-active-table"
BACKUP_ROLE = "arn:aws:iam::123456789012:role/hadr-prod-active-active-eu-west-1-backup"
ONCALL = ["arn:aws:iam::123456789012:role/oncall"]


def synthesized_role(synthesized: Synthesized, role: str) -> dict[str, Any]:
    return role_policy(synthesized, GLOBAL, f"drills/{role}/policy")


def run_as(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], role: str, key: str, parameters: dict[str, Any], **kwargs: Any
) -> Execution:
    """Run document `key` with IAM enforced, as a role with `role`'s synthesized policy (trusting SSM)."""
    return act_as(
        synthesized_role(synthesized, role),
        lambda clients: run_document(documents[key]["parsed"], {"AutomationAssumeRole": "arn:aws:iam::123456789012:role/x", **parameters},
                                     region="us-east-1", clients=clients, **kwargs),
        service="ssm.amazonaws.com",
        region=HOME,
    )  # fmt: skip


@pytest.fixture
def global_table(fake_aws: None, fixups: None) -> Iterator[Any]:
    """The live table in HOME (stream, PITR, deletion protection, CMK) with a protected replica in PEER, 3 items."""
    with mock_aws():
        for region in (HOME, PEER):  # the table key of each region, under its alias
            kms = boto3.client("kms", region_name=region)
            kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        client = boto3.client("dynamodb", region_name=HOME)
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            DeletionProtectionEnabled=True,
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY_ALIAS},
            Tags=[{"Key": "Project", "Value": "hadr"}],
        )
        client.update_continuous_backups(TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for index in range(3):
            client.put_item(TableName=TABLE, Item={"id": {"S": f"item-{index}"}, "state": {"S": "good"}})
        client.update_table(TableName=TABLE, ReplicaUpdates=[{"Create": {"RegionName": PEER, "KMSMasterKeyId": KEY_ALIAS}}])
        peer = boto3.client("dynamodb", region_name=PEER)
        peer.update_table(TableName=TABLE, DeletionProtectionEnabled=True)
        peer.update_continuous_backups(TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        api_functions()
        yield client


def api_functions() -> None:
    """The API function of each region (the delete-and-restore stops and resumes their writes), at the configured 50."""
    iam = boto3.client("iam", region_name="us-east-1")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName="api-function", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for region in (HOME, PEER):
        functions = boto3.client("lambda", region_name=region)
        name = f"{PREFIX}-{region}-api"
        functions.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler", Code={"ZipFile": b"stub"})
        functions.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=50)


def api_concurrency() -> dict[str, int]:
    return {
        region: boto3.client("lambda", region_name=region).get_function_concurrency(FunctionName=f"{PREFIX}-{region}-api")[
            "ReservedConcurrentExecutions"
        ]
        for region in (HOME, PEER)
    }


def replica_settings(region: str) -> tuple[bool, str]:
    client = boto3.client("dynamodb", region_name=region)
    protected = client.describe_table(TableName=TABLE)["Table"]["DeletionProtectionEnabled"]
    backups = client.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    return protected, backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]


def replica_tags(region: str) -> list[dict[str, str]]:
    client = boto3.client("dynamodb", region_name=region)
    return client.list_tags_of_resource(ResourceArn=client.describe_table(TableName=TABLE)["Table"]["TableArn"])["Tags"]


def test_replica_drill_deletes_and_recreates_the_replica_protected_as_the_replica_role(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    replica = {"SourceRegion": HOME, "ReplicaRegion": PEER}
    deleted = run_as(synthesized, documents, "replica-role", "delete-table-replica", replica)
    assert deleted.ran() == ["deleteReplica", "waitReplicaGoneSleep", "waitReplicaGoneCheck", "waitReplicaGone"]
    assert TABLE not in boto3.client("dynamodb", region_name=PEER).list_tables()["TableNames"]
    recreated = run_as(synthesized, documents, "replica-role", "recreate-table-replica", replica)
    assert recreated.outputs["protectReplica.DeletionProtection"] is True
    assert replica_settings(PEER) == (True, "ENABLED"), "the recreated replica is protected and keeps PITR"
    assert replica_tags(PEER) == replica_tags(HOME) == [{"Key": "Project", "Value": "hadr"}], "the replica is tagged as Terraform tags it"
    assert [r["RegionName"] for r in global_table.describe_table(TableName=TABLE)["Table"]["Replicas"]] == [PEER]


def test_restore_drill_runs_as_the_restore_role_which_cannot_change_the_live_table(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    target = "hadr-prod-items-pitr-drill"
    restored = run_as(
        synthesized, documents, "restore-role", "restore-table-pitr", {"Region": HOME, "TargetTableName": target, "MinimumItems": "3"}
    )
    assert (restored.outputs["verifyRestore.Verified"], restored.outputs["verifyRestore.Count"]) == (True, 3)
    deleted = run_as(synthesized, documents, "restore-role", "delete-drill-table", {"Region": HOME, "TableName": target})
    assert deleted.outputs["deleteDrillTable.Deleted"] is True and target not in boto3.client("dynamodb", HOME).list_tables()["TableNames"]
    with pytest.raises(AutomationFailed, match="AccessDenied"):  # the replica chaos, attempted with the restore role
        run_as(synthesized, documents, "restore-role", "delete-table-replica", {"SourceRegion": HOME, "ReplicaRegion": PEER})
    assert replica_settings(PEER)[0] is True


def aws_backup_recovery_point(region: str = HOME) -> str:
    """An AWS Backup recovery point of the table, as the advanced DynamoDB features make it (arn:aws:backup:...)."""
    table_arn = boto3.client("dynamodb", region_name=region).describe_table(TableName=TABLE)["Table"]["TableArn"]
    job = boto3.client("backup", region_name=region).start_backup_job(
        BackupVaultName="vault", ResourceArn=table_arn, IamRoleArn=BACKUP_ROLE
    )
    return job["RecoveryPointArn"]


def key_arn(region: str) -> str:
    return boto3.client("kms", region_name=region).describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]


def test_backup_drill_restores_an_aws_backup_recovery_point_encrypted_with_the_table_key(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    """AWS Backup's advanced DynamoDB features name recovery points arn:aws:backup:...; restoring one without
    encryptionType KMS and the key's ARN would give the copy a DynamoDB-owned key."""
    point = aws_backup_recovery_point()
    target = f"{TABLE}-backup-drill"
    parameters = {"Region": HOME, "TableArn": global_table.describe_table(TableName=TABLE)["Table"]["TableArn"],
                  "TargetTableName": target, "IamRoleArn": BACKUP_ROLE, "MinimumItems": "3"}  # fmt: skip
    restored = run_as(synthesized, documents, "restore-role", "restore-table-backup", parameters)
    assert restored.outputs["restoreBackup.RecoveryPointArn"] == point and point.startswith("arn:aws:backup:eu-west-1:")
    assert (restored.outputs["verifyRestore.Verified"], restored.outputs["verifyRestore.Count"]) == (True, 3)
    encryption = global_table.describe_table(TableName=target)["Table"]["SSEDescription"]
    assert (encryption["SSEType"], encryption["KMSMasterKeyArn"]) == ("KMS", key_arn(HOME))


def test_recovery_restores_from_an_aws_backup_recovery_point(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    point = aws_backup_recovery_point()
    corrupt(global_table)
    run = run_as(
        synthesized,
        documents,
        "recovery-role",
        "recover-table",
        {"HomeRegion": HOME, "ReplicaRegion": PEER, "SourceBackupArn": point, "MinimumItems": "3", "RequiredItemIds": "item-2",
         "Approvers": ["arn:aws:iam::123456789012:role/oncall"]},
        approve=lambda _: True,
    )  # fmt: skip
    assert (run.outputs["restoreCopy.Method"], run.outputs["restoreCopy.Source"]) == ("AWS Backup", point)
    assert states(HOME) == states(PEER) == {"item-0": "good", "item-1": "good", "item-2": "good"}


def test_a_deleted_table_is_recovered_from_its_newest_backup_of_either_kind(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    """A DynamoDB backup with three items, then an AWS Backup recovery point with four: the newer wins."""
    global_table.create_backup(TableName=TABLE, BackupName="older")
    global_table.put_item(TableName=TABLE, Item={"id": {"S": "item-3"}, "state": {"S": "good"}})
    point = aws_backup_recovery_point()
    delete_global_table(global_table)
    run = run_as(
        synthesized,
        documents,
        "recovery-role",
        "recover-table",
        {"HomeRegion": HOME, "ReplicaRegion": PEER, "MinimumItems": "4", "Approvers": ["arn:aws:iam::123456789012:role/oncall"]},
        approve=lambda _: True,
    )
    assert (run.outputs["restoreCopy.Method"], run.outputs["restoreCopy.Source"]) == ("AWS Backup", point)
    assert states(HOME) == states(PEER) == {f"item-{index}": "good" for index in range(4)}


def delete_global_table(client: Any) -> None:
    """The table deleted, replica first, as an accident or a bad deploy would leave it."""
    peer = boto3.client("dynamodb", region_name=PEER)
    peer.update_table(TableName=TABLE, DeletionProtectionEnabled=False)
    client.update_table(TableName=TABLE, ReplicaUpdates=[{"Delete": {"RegionName": PEER}}])
    client.update_table(TableName=TABLE, DeletionProtectionEnabled=False)
    client.delete_table(TableName=TABLE)


def function_role_and_deny_policy() -> tuple[Any, str, str]:
    """The API function's role and the drill's deny policy, as the access-denial drill finds them (inside mock_aws)."""
    iam = boto3.client("iam", region_name="us-east-1")
    role = f"{PREFIX}-eu-west-1-api-function"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    document = json.dumps({"Version": "2012-10-17", "Statement": DENY_TABLE_ACCESS})
    return iam, role, iam.create_policy(PolicyName="deny", PolicyDocument=document)["Policy"]["Arn"]


def test_access_denial_attaches_only_the_deny_policy_and_detaches_it_as_the_fault_role(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], fake_aws: None, fixups: None
) -> None:
    with mock_aws():
        iam, role, deny = function_role_and_deny_policy()
        attached: list[list[str]] = []
        run = run_as(
            synthesized, documents, "fault-role", "inject-lambda-access-denial", {"RoleName": role, "PolicyArn": deny, "Duration": "PT0S"}
        )
        attached.append([p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]])
    assert run.ran() == ["injectDeny", "hold", "revertDeny"] and attached == [[]]


@pytest.mark.parametrize("stopped_at", ["injectDeny", "hold"])
def test_access_denial_stopped_at_either_step_detaches_the_deny_policy(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], fake_aws: None, fixups: None, stopped_at: str
) -> None:
    with mock_aws():
        iam, role, deny = function_role_and_deny_policy()
        # SSM runs the onCancel of the step in progress: stopped during injectDeny, the deny was attached by then
        iam.attach_role_policy(RoleName=role, PolicyArn=deny)
        run = run_as(
            synthesized, documents, "fault-role", "inject-lambda-access-denial", {"RoleName": role, "PolicyArn": deny}, cancel_at=stopped_at
        )
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert run.status == "Cancelled" and run.ran()[-1] == "revertDeny" and attached == []


# --- the data-loss recovery, drilled in the emulator ---


def corrupt(client: Any) -> None:
    """The software failure: a bad deploy overwrites every item and deletes one."""
    for index in range(3):
        client.put_item(TableName=TABLE, Item={"id": {"S": f"item-{index}"}, "state": {"S": "corrupt"}})
    client.delete_item(TableName=TABLE, Key={"id": {"S": "item-2"}})


def states(region: str) -> dict[str, str]:
    items = boto3.client("dynamodb", region_name=region).scan(TableName=TABLE)["Items"]
    return {item["id"]["S"]: item["state"]["S"] for item in items}


def test_recovery_restores_verifies_cuts_over_and_rebuilds_the_global_table(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    """From a backup taken before the damage (moto's point-in-time restore copies the current items, so the time is
    shown with a backup): the live name holds the good items again, in both regions, protected, streamed, tagged."""
    backup = global_table.create_backup(TableName=TABLE, BackupName="nightly")["BackupDetails"]["BackupArn"]
    corrupt(global_table)
    approvals: list[str] = []
    run = run_as(
        synthesized,
        documents,
        "recovery-role",
        "recover-table",
        {"HomeRegion": HOME, "ReplicaRegion": PEER, "SourceBackupArn": backup, "MinimumItems": "3", "RequiredItemIds": "item-2",
         "Approvers": ["arn:aws:iam::123456789012:role/oncall"]},
        approve=lambda inputs: approvals.append(inputs["Message"]) or True,
    )  # fmt: skip
    assert states(HOME) == states(PEER) == {"item-0": "good", "item-1": "good", "item-2": "good"}
    assert approvals == [
        f"Replace {TABLE} in {HOME} with the verified copy (3 items, backup from {backup})? The API stops taking requests in both"
        " regions until the restore completes. Lost: every write since the copy's point in time (repair-table keeps them), and the"
        " table's point-in-time history (an on-demand backup of it is taken first)."
    ]
    assert run.outputs["stopWrites.Set"] == f"{PREFIX}-{HOME}-api=0, {PREFIX}-{PEER}-api=0", "no write is acknowledged and then lost"
    assert api_concurrency() == {HOME: 50, PEER: 50}, "writes resume at the configured concurrency"
    live = global_table.describe_table(TableName=TABLE)["Table"]
    assert live["DeletionProtectionEnabled"] is True and live["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert [r["RegionName"] for r in live["Replicas"]] == [PEER] and replica_settings(PEER) == (True, "ENABLED")
    assert replica_tags(PEER) == [{"Key": "Project", "Value": "hadr"}], "the rebuilt replica is tagged as Terraform tags it"
    assert replica_settings(HOME) == (True, "ENABLED")
    assert {"Key": "Project", "Value": "hadr"} in global_table.list_tags_of_resource(ResourceArn=live["TableArn"])["Tags"]
    assert f"{TABLE}-recovery" not in global_table.list_tables()["TableNames"], "the copy is cleaned up"
    assert run.outputs["verifyLive.Verified"] is True and run.ran()[-1] == "cleanUp"
    rollback = run.outputs["snapshot.LiveBackupArn"]
    assert global_table.describe_backup(BackupArn=rollback)["BackupDescription"]["BackupDetails"]["BackupStatus"] == "AVAILABLE"


def test_a_copy_a_stopped_run_left_is_discarded_so_the_recovery_can_run_again(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    """A rejected or failed run leaves <table>-recovery; a restore cannot overwrite a table, so the next run would
    fail at its first step. It is deleted first."""
    backup = global_table.create_backup(TableName=TABLE, BackupName="nightly")["BackupDetails"]["BackupArn"]
    global_table.restore_table_from_backup(TargetTableName=f"{TABLE}-recovery", BackupArn=backup)
    corrupt(global_table)
    run = run_as(
        synthesized,
        documents,
        "recovery-role",
        "recover-table",
        {"HomeRegion": HOME, "ReplicaRegion": PEER, "SourceBackupArn": backup, "MinimumItems": "3", "Approvers": ONCALL},
        approve=lambda _: True,
    )
    assert run.outputs["discardLeftoverCopy.Deleted"] is True
    assert states(HOME) == states(PEER) == {"item-0": "good", "item-1": "good", "item-2": "good"}


def test_a_copy_that_fails_verification_is_discarded_and_the_live_table_is_untouched(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    corrupt(global_table)
    with pytest.raises(AutomationFailed) as failed:
        run_as(
            synthesized,
            documents,
            "recovery-role",
            "recover-table",
            {"HomeRegion": HOME, "ReplicaRegion": PEER, "MinimumItems": "1000", "Approvers": ["arn:aws:iam::123456789012:role/oncall"]},
            approve=lambda _: pytest.fail("nothing may be approved after a failed verification"),
        )
    assert "the copy failed verification (2 items, expected at least 1000); it was deleted and the live table was not touched" in str(
        failed.value
    )
    assert [r.name for r in failed.value.record][-3:] == ["decideOnCopy", "discardCopy", "failVerification"]
    assert states(HOME) == {"item-0": "corrupt", "item-1": "corrupt"} and replica_settings(HOME)[0] is True
    assert set(global_table.list_tables()["TableNames"]) == {TABLE}


def test_a_deleted_table_is_recovered_from_its_latest_backup(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    """Point-in-time recovery needs the source table; without it the runbook takes the newest available backup
    (in AWS also the system backup DynamoDB keeps of a deleted table with point-in-time recovery on)."""
    global_table.create_backup(TableName=TABLE, BackupName="nightly")
    delete_global_table(global_table)
    run = run_as(
        synthesized,
        documents,
        "recovery-role",
        "recover-table",
        {"HomeRegion": HOME, "ReplicaRegion": PEER, "MinimumItems": "3", "Approvers": ["arn:aws:iam::123456789012:role/oncall"]},
        approve=lambda _: True,
    )
    assert run.outputs["restoreCopy.Method"] == "backup" and run.outputs["snapshot.LiveBackupArn"] == ""
    assert states(HOME) == states(PEER) == {"item-0": "good", "item-1": "good", "item-2": "good"}


def test_the_runner_refuses_what_ssm_would_refuse(documents: dict[str, dict[str, Any]]) -> None:
    from modules.automation_steps import script_step, wait_step
    from runbooks.tables import delete_scratch_table

    with pytest.raises(ValueError, match=r"timeout_seconds: got 7200; expected 1 to 600"):
        script_step("restore", delete_scratch_table, {}, {}, timeout_seconds=7200)
    with pytest.raises(ValueError, match=r"max_iterations: got 101; expected 1 to 100"):
        wait_step("wait", delete_scratch_table, {}, what="x", max_iterations=101)
    long_script = {
        "schemaVersion": "0.3",
        "parameters": {},
        "mainSteps": [{**documents["delete-drill-table"]["parsed"]["mainSteps"][-1], "timeoutSeconds": 7200}],
    }
    with pytest.raises(AutomationFailed, match="7200 is over the 600 s"):
        run_document(long_script, {}, region=HOME, clients=boto3.client)
    with pytest.raises(ValueError, match=r"missing \['RoleName'\]"):
        run_document(documents["inject-lambda-access-denial"]["parsed"], {"AutomationAssumeRole": "r"}, region=HOME, clients=boto3.client)


def test_scratch_clean_up_refuses_the_live_table(documents: dict[str, dict[str, Any]], global_table: Any) -> None:
    with pytest.raises(AutomationFailed, match="TableName: 'hadr-prod-items' is not a restored copy"):
        run_document(
            documents["delete-drill-table"]["parsed"],
            {"AutomationAssumeRole": "r", "Region": HOME, "TableName": TABLE},
            region=HOME,
            clients=boto3.client,
        )
    assert TABLE in global_table.list_tables()["TableNames"]


@pytest.mark.parametrize("missing", ["dynamodb:DeleteTable", "dynamodb:RestoreTableFromBackup"])
def test_the_recovery_role_needs_what_it_has_and_a_cut_over_failure_names_the_way_back(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any, missing: str
) -> None:
    policy = without(synthesized_role(synthesized, "recovery-role"), missing)
    parameters = {"HomeRegion": HOME, "ReplicaRegion": PEER, "MinimumItems": "3", "Approvers": ["arn:aws:iam::123456789012:role/oncall"]}
    with pytest.raises(AutomationFailed) as failed:
        act_as(
            policy,
            lambda clients: run_document(
                documents["recover-table"]["parsed"],
                {"AutomationAssumeRole": "r", **parameters},
                region="us-east-1",
                clients=clients,
                approve=lambda _: True,
            ),
            service="ssm.amazonaws.com",
            region=HOME,
        )
    steps = {record.name: record for record in failed.value.record}
    broken = "deleteLive" if missing == "dynamodb:DeleteTable" else "restoreLive"  # moto checks the API action only
    assert steps[broken].outcome == "Failed" and "AccessDenied" in steps[broken].error
    assert "the cut-over stopped part-way, with the API's writes stopped; roll back by running this runbook with" in str(failed.value)
    assert " SourceBackupArn=arn:aws:dynamodb:eu-west-1" in str(failed.value)


# --- the operations runbooks (seed 000's catalogue, the parts safe to automate) ---


def test_global_table_verification_names_every_unprotected_replica(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    run = run_as(synthesized, documents, "operations-role", "verify-global-table", {})
    assert run.outputs["verify.ItemCountEstimates"] == "eu-west-1=3, eu-central-1=3"
    boto3.client("dynamodb", region_name=PEER).update_table(TableName=TABLE, DeletionProtectionEnabled=False)
    with pytest.raises(AutomationFailed, match="hadr-prod-items: eu-central-1: not deletion protection"):
        run_as(synthesized, documents, "operations-role", "verify-global-table", {})


def test_function_concurrency_is_set_and_never_below_the_peak(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], fake_aws: None, fixups: None
) -> None:
    """Run without IAM enforcement: moto 5.2.5 rejects the signature of Lambda's REST paths once IAM is enforced
    (SignatureDoesNotMatch on GetFunctionConcurrency), so the role is checked against the calls on its policy."""
    import io
    import zipfile

    assert documents["set-function-concurrency"]["parsed"]["parameters"]["MinimumConcurrency"]["default"] == "20"  # 100/s x 200 ms
    name = f"{PREFIX}-eu-west-1-api"
    with mock_aws():
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
        )["Role"]["Arn"]
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
        client = boto3.client("lambda", region_name=HOME)
        client.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="handler.handler", Code={"ZipFile": package.getvalue()}
        )
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=50)
        parameters = {"AutomationAssumeRole": "r", "Region": HOME, "FunctionName": name}
        document = documents["set-function-concurrency"]["parsed"]
        run = run_document(document, {**parameters, "Concurrency": "100"}, region="us-east-1", clients=boto3.client)
        assert (run.outputs["setConcurrency.Previous"], run.outputs["setConcurrency.Current"]) == (50, 100)
        with pytest.raises(AutomationFailed, match=r"Concurrency: got 10; expected at least 20 \(the configured peak needs it\)"):
            run_document(document, {**parameters, "Concurrency": "10"}, region="us-east-1", clients=boto3.client)
        assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 100
    statement = policy_of(synthesized, "operations-role")["ApiFunctionConcurrency"]
    assert statement["Action"] == ["lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency"]
    assert statement["Resource"] == [
        f"arn:aws:lambda:eu-west-1:123456789012:function:{PREFIX}-eu-west-1-api",
        f"arn:aws:lambda:eu-central-1:123456789012:function:{PREFIX}-eu-central-1-api",
    ]


def test_a_failure_inside_a_wait_goes_where_the_steps_inside_it_say() -> None:
    """SSM: steps inside a loop follow their own onFailure, and the loop inherits it; the cut-over's waits name
    failCutOver on the steps inside them, so a timed-out wait still reports the way back."""
    from modules.automation_steps import script_step, wait_step
    from stacks.recover_table import steps

    cut_over = steps()
    first_change = next(index for index, step in enumerate(cut_over) if step["name"] == "dropReplica")
    assert cut_over[first_change].get("onFailure") == "step:failCutOver"
    for step in cut_over[first_change:]:
        if step["action"] == "aws:loop":
            assert {inner.get("onFailure") for inner in step["inputs"]["Steps"]} == {"step:failCutOver"}, step["name"]
    raising = {"Script": "def boom(events, context):\n    raise TimeoutError('still UPDATING')\n", "Handler": "boom"}
    wait = wait_step("wait", delete_scratch_table_stub, {}, what="x", max_iterations=3, on_failure="step:report")
    wait["inputs"]["Steps"][1]["inputs"] |= raising
    document = {
        "schemaVersion": "0.3",
        "parameters": {},
        "mainSteps": [
            wait,
            script_step("never", delete_scratch_table_stub, {}, {}),
            {**script_step("report", delete_scratch_table_stub, {}, {}), "isEnd": True},
        ],
    }
    document["mainSteps"][2]["inputs"] |= {"Script": "def ok(events, context):\n    return {}\n", "Handler": "ok"}
    execution = run_document(document, {}, region=HOME, clients=boto3.client)
    assert execution.ran() == ["waitSleep", "waitCheck", "report"]
    assert execution.steps[1].outcome == "Failed" and "still UPDATING" in execution.steps[1].error


def delete_scratch_table_stub(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler whose script the test replaces."""
    return {}


def test_the_waits_of_every_experiment_fit_in_its_fis_action(
    documents: dict[str, dict[str, Any]], experiments: dict[str, dict[str, Any]]
) -> None:
    """FIS stops an SSM action at its maxDuration (PT2H here): the sleeps a document may take, every loop run to its
    bound, must end well before that, or FIS cuts a slow restore short before the runbook's own bound reports it."""
    minutes = {"PT0S": 0, "PT1S": 1, "PT20S": 20, "PT30S": 30, "PT1M": 60, "PT2M": 120, "PT10M": 600}

    def sleeps(steps: list[dict[str, Any]], parameters: dict[str, Any]) -> int:
        total = 0
        for step in steps:
            if step["action"] == "aws:loop":
                total += step["inputs"]["MaxIterations"] * sleeps(step["inputs"]["Steps"], parameters)
            elif step["action"] == "aws:sleep":
                duration = step["inputs"]["Duration"]
                total += minutes[parameters["Duration"]["default"] if duration == "{{ Duration }}" else duration]
        return total

    by_arn = {f"${{aws_ssm_document.{doc['//']['metadata']['uniqueId']}.arn}}": doc for doc in documents.values()}
    for key, template in experiments.items():
        for action in template["action"]:
            document = by_arn[{p["key"]: p["value"] for p in action["parameter"]}["documentArn"]]["parsed"]
            assert sleeps(document["mainSteps"], document["parameters"]) <= 6000, (key, action["name"])


# --- the repair in place (repair-table), the default recovery from data loss ---


def damage_then_write(client: Any) -> tuple[str, str]:
    """Backups either side of the damage (corrupt item-0 and item-1, delete item-2, create junk-1), then what users
    write after it stopped: item-1 fixed by hand, item-9 new. Returns the two backups' ARNs."""
    before = client.create_backup(TableName=TABLE, BackupName="before")["BackupDetails"]["BackupArn"]
    corrupt(client)
    client.put_item(TableName=TABLE, Item={"id": {"S": "junk-1"}, "state": {"S": "corrupt"}})
    after = client.create_backup(TableName=TABLE, BackupName="after")["BackupDetails"]["BackupArn"]
    client.put_item(TableName=TABLE, Item={"id": {"S": "item-1"}, "state": {"S": "fixed-by-hand"}})
    client.put_item(TableName=TABLE, Item={"id": {"S": "item-9"}, "state": {"S": "new"}})
    return before, after


def repair(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], window: tuple[str, str] | dict[str, Any], **kwargs: Any
) -> Execution:
    """repair-table as the repair role over `window`: (before, after) backups, or the window's parameters; approved
    unless `approve` says otherwise."""
    parameters = {"BeforeBackupArn": window[0], "AfterBackupArn": window[1]} if isinstance(window, tuple) else window
    kwargs.setdefault("approve", lambda _: True)
    return run_as(synthesized, documents, "repair-role", "repair-table", {"Region": HOME, "Approvers": ONCALL, **parameters}, **kwargs)


REPAIRED = {"item-0": "good", "item-1": "fixed-by-hand", "item-2": "good", "item-9": "new"}


def test_the_repair_puts_back_what_the_damage_changed_and_keeps_what_was_written_since(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    created = global_table.describe_table(TableName=TABLE)["Table"]["CreationDateTime"]
    before, after = damage_then_write(global_table)
    approvals: list[str] = []
    run = repair(synthesized, documents, (before, after),
                 approve=lambda inputs: approvals.append(inputs["Message"]) or True)  # fmt: skip
    assert states(HOME) == states(PEER) == REPAIRED, "both regions converge through the live global table"
    counts = {name: run.outputs[f"applyRepairCheck.{name}"] for name in ("Restored", "Removed", "Kept", "Already", "KeptIds")}
    assert counts == {"Restored": 2, "Removed": 1, "Kept": 1, "Already": 0, "KeptIds": "item-1"}
    assert approvals == [
        f"Repair {TABLE} through {HOME}: put back 2 items and remove 1 as they were before the damage ({before} to {after}); 1 written"
        " since the damage stay as they are (item-1). Nothing else changes, and the table stays available."
    ]
    live = global_table.describe_table(TableName=TABLE)["Table"]
    assert live["CreationDateTime"] == created and live["DeletionProtectionEnabled"] is True, "the same table: its history kept"
    assert set(global_table.list_tables()["TableNames"]) == {TABLE}, "the copies are deleted once the repair succeeded"
    assert run.ran()[-1] == "deleteCopies"


def test_a_repair_that_stopped_part_way_resumes_where_it_stopped(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    """The first run's role may not delete items: it puts back item-0 and item-2, then fails at junk-1. The same
    parameters run again reuse the copies and finish from the saved place."""
    before, after = damage_then_write(global_table)
    parameters = {"Region": HOME, "Approvers": ONCALL, "BeforeBackupArn": before, "AfterBackupArn": after}
    with pytest.raises(AutomationFailed, match="the repair stopped part-way; run this runbook again with the same parameters"):
        act_as(
            without(synthesized_role(synthesized, "repair-role"), "dynamodb:DeleteItem"),
            lambda clients: run_document(documents["repair-table"]["parsed"], {"AutomationAssumeRole": "r", **parameters},
                                         region="us-east-1", clients=clients, approve=lambda _: True),
            service="ssm.amazonaws.com",
            region=HOME,
        )  # fmt: skip
    assert states(HOME) == {**REPAIRED, "junk-1": "corrupt"}, "what was put back stays; the rest waits for the re-run"
    copies = {f"{TABLE}-before-recovery", f"{TABLE}-after-recovery"}
    assert copies <= set(global_table.list_tables()["TableNames"]), "a failed run keeps its copies"
    rerun = repair(synthesized, documents, (before, after))
    assert rerun.outputs["discardStaleCopies.Discarded"] == "none", "the copies of this window are reused, not restored again"
    assert states(HOME) == states(PEER) == REPAIRED
    assert (rerun.outputs["applyRepairCheck.Restored"], rerun.outputs["applyRepairCheck.Removed"]) == (2, 1), (
        "counted once across both runs"
    )


def test_a_rejected_repair_changes_nothing_and_a_copy_of_another_window_is_discarded(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    before, after = damage_then_write(global_table)
    damaged = states(HOME)
    with pytest.raises(AutomationFailed, match="approveRepair"):
        repair(synthesized, documents, (before, after), approve=lambda _: False)
    assert states(HOME) == damaged
    later = global_table.create_backup(TableName=TABLE, BackupName="later")["BackupDetails"]["BackupArn"]
    run = repair(synthesized, documents, (before, later))
    assert run.outputs["discardStaleCopies.Discarded"] == f"{TABLE}-after-recovery", "the before-copy is this window's and is kept"
    assert states(HOME) == {"item-0": "good", "item-1": "good", "item-2": "good"}, (
        "with the window ending later, the hand fix is damage too"
    )


def test_a_repair_is_rolled_back_by_repairing_over_its_own_window(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    before, after = damage_then_write(global_table)
    damaged = states(HOME)
    pre_repair = global_table.create_backup(TableName=TABLE, BackupName="pre-repair")["BackupDetails"]["BackupArn"]
    repair(synthesized, documents, (before, after))
    post_repair = global_table.create_backup(TableName=TABLE, BackupName="post-repair")["BackupDetails"]["BackupArn"]
    undo = repair(synthesized, documents, (pre_repair, post_repair))
    assert states(HOME) == states(PEER) == damaged
    # item-0 and junk-1 put back as the repair found them, item-2 (which the damage had deleted) removed again
    assert (undo.outputs["applyRepairCheck.Restored"], undo.outputs["applyRepairCheck.Removed"]) == (2, 1)


BAD_WINDOWS = [
    ({}, "RestoreDateTime/BeforeBackupArn: expected exactly one of them (the table before the damage);"
         " DamageEndDateTime/AfterBackupArn: expected exactly one of them (the table after the damage)"),
    ({"RestoreDateTime": "yesterday", "AfterBackupArn": "arn:x"}, "RestoreDateTime: got 'yesterday'; expected an ISO 8601 time"),
    ({"RestoreDateTime": "2026-11-23T10:00:00+00:00", "DamageEndDateTime": "2026-11-23T09:00:00+00:00"},
     "RestoreDateTime: got 2026-11-23T10:00:00+00:00; expected a time before DamageEndDateTime (2026-11-23T09:00:00+00:00)"),
    ({"RestoreDateTime": "2026-11-23T09:00:00", "AfterBackupArn": "arn:x"},
     "RestoreDateTime: got '2026-11-23T09:00:00'; expected a time with its zone"),
]  # fmt: skip


@pytest.mark.parametrize(("window", "expected"), BAD_WINDOWS)
def test_a_window_that_cannot_be_restored_is_refused_before_anything_is_restored(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any, window: dict[str, str], expected: str
) -> None:
    with pytest.raises(AutomationFailed, match=re.escape(expected)) as failed:
        repair(synthesized, documents, window, approve=lambda _: pytest.fail("nothing to approve"))
    assert [record.name for record in failed.value.record] == ["checkWindow"]
    assert set(global_table.list_tables()["TableNames"]) == {TABLE}


# --- an experiment stopped at any point leaves the system whole ---

OUTAGE_STEPS = ["deleteReplica", "waitReplicaGoneSleep", "waitReplicaGoneCheck", "createReplica", "waitReplicaActiveSleep",
                "waitReplicaActiveCheck", "protectReplica"]  # fmt: skip


@pytest.mark.parametrize("stopped_at", OUTAGE_STEPS)
def test_the_replica_outage_stopped_at_any_step_hands_the_replica_back_to_its_runbook(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any, stopped_at: str
) -> None:
    """FIS stops the experiment (StopAutomationExecution) as `stopped_at` starts: the step's onCancel starts
    recreate-table-replica as an execution of its own, which re-creates or re-protects the replica."""
    outage, handed_over = run_with_local_automations(
        synthesized, documents, "replica-role", "table-replica-outage", {"SourceRegion": HOME, "ReplicaRegion": PEER}, cancel_at=stopped_at
    )
    assert outage.status == "Cancelled" and outage.ran()[-1] == "handOverOnCancel"
    assert (handed_over["DocumentName"], handed_over["AutomationExecutionStatus"]) == (f"{PREFIX}-recreate-table-replica", "Success")
    assert [r["RegionName"] for r in global_table.describe_table(TableName=TABLE)["Table"]["Replicas"]] == [PEER]
    assert replica_settings(PEER) == (True, "ENABLED") and replica_tags(PEER) == [{"Key": "Project", "Value": "hadr"}]


def test_the_replica_outage_that_is_not_stopped_deletes_and_brings_back_the_replica(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    outage = run_as(synthesized, documents, "replica-role", "table-replica-outage", {"SourceRegion": HOME, "ReplicaRegion": PEER})
    assert "deleteReplica" in outage.ran() and outage.ran()[-1] == "protectReplica"
    assert replica_settings(PEER) == (True, "ENABLED") and replica_tags(PEER) == [{"Key": "Project", "Value": "hadr"}]


# --- who can run the roles that replace live data, and where the recovery runbooks run ---


def resolved_policy(synthesized: Synthesized, policy_path: str) -> dict[str, Any]:
    """The synthesized managed policy, its role references replaced by the roles' ARNs."""
    policy = synthesized.one(GLOBAL, "aws_iam_policy", policy_path)["policy"]
    for unique, role in synthesized.resources(GLOBAL, "aws_iam_role").items():
        policy = policy.replace(f"${{aws_iam_role.{unique}.arn}}", f"arn:aws:iam::123456789012:role/{role['name']}")
    return json.loads(policy)


def test_recovery_operators_can_pass_the_destructive_roles_only_to_the_recovery_runbooks(synthesized: Synthesized) -> None:
    """IAM cannot tie iam:PassRole to a document (SSM's aws:SourceArn names the execution), so the operators' policy
    lets them start the two recovery runbooks and no other document: the roles run only behind the approval."""
    from tools.moto_server import decision

    policy = resolved_policy(synthesized, "drills/recovery-operators")
    to_ssm = {"iam:passedtoservice": "ssm.amazonaws.com"}
    definition = "arn:aws:ssm:{region}:123456789012:automation-definition/hadr-prod-active-active-{doc}:$DEFAULT"
    for region in ("us-east-1", HOME, PEER):
        for doc in ("repair-table", "recover-table"):
            assert decision([policy], "ssm:StartAutomationExecution", definition.format(region=region, doc=doc), {}) == "allowed"
        for doc in ("delete-drill-table", "table-replica-outage", "anything-else"):
            assert decision([policy], "ssm:StartAutomationExecution", definition.format(region=region, doc=doc), {}) != "allowed"
    for role in ("repair", "recovery"):
        arn = f"arn:aws:iam::123456789012:role/{PREFIX}-{role}"
        assert decision([policy], "iam:PassRole", arn, to_ssm) == "allowed"
        assert decision([policy], "iam:PassRole", arn, {"iam:passedtoservice": "lambda.amazonaws.com"}) != "allowed"
    assert decision([policy], "iam:PassRole", f"arn:aws:iam::123456789012:role/{PREFIX}-drill-replicas", to_ssm) != "allowed"


def test_roles_ssm_assumes_are_assumable_for_automation_executions_of_this_account_only(synthesized: Synthesized) -> None:
    for key in ("repair-role", "recovery-role", "replica-role"):
        trust = json.loads(synthesized.one(GLOBAL, "aws_iam_role", f"drills/{key}/role")["assume_role_policy"])
        assert trust["Statement"][0]["Condition"] == {
            "StringEquals": {"aws:SourceAccount": "123456789012"},
            "ArnLike": {"aws:SourceArn": "arn:aws:ssm:*:123456789012:automation-execution/*"},
        }


def test_the_recovery_runbooks_are_published_in_each_serving_region_as_well(synthesized: Synthesized) -> None:
    """An outage of us-east-1 must not take away the recovery of the EU data: the runbooks run in the surviving
    EU region. The experiments stay in us-east-1, beside the health checks' alarms they stop on."""
    from stacks.active_active_drills import RECOVERY_RUNBOOKS

    stack = synthesized.stacks[GLOBAL]
    regions = {f"aws.{p['alias']}": p["region"] for p in stack["provider"]["aws"] if p.get("alias")} | {None: "us-east-1"}
    published: dict[str, dict[str, str]] = {}
    for doc in synthesized.resources(GLOBAL, "aws_ssm_document").values():
        published.setdefault(doc["name"].removeprefix(f"{PREFIX}-"), {})[regions[doc.get("provider")]] = doc["content"]
    for key, where in published.items():
        expected = {"us-east-1", HOME, PEER} if key in RECOVERY_RUNBOOKS else {"us-east-1"}
        assert set(where) == expected, key
        assert len(set(where.values())) == 1, f"{key}: the same document in every region"
    assert set(RECOVERY_RUNBOOKS) <= set(published)


RESTORE_STEPS = ["restorePointInTime", "waitRestoredSleep", "waitRestoredCheck", "verifyRestore", "decideCleanUp"]


@pytest.mark.parametrize("stopped_at", RESTORE_STEPS)
def test_a_restore_drill_stopped_at_any_step_leaves_no_drill_table(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any, stopped_at: str
) -> None:
    """FIS stops the point-in-time-restore experiment as `stopped_at` starts: delete-drill-table, started as an
    execution of its own, waits until the table can be deleted and deletes it."""
    executions = run_with_local_automations(
        synthesized, documents, "restore-role", "restore-table-pitr",
        {"Region": HOME, "TargetTableName": f"{TABLE}-pitr-drill", "CleanUp": "true"}, cancel_at=stopped_at,
    )  # fmt: skip
    outage, handed_over = executions
    assert outage.status == "Cancelled" and outage.ran()[-1] == "handOverCleanUp"
    assert (handed_over["DocumentName"], handed_over["AutomationExecutionStatus"]) == (f"{PREFIX}-delete-drill-table", "Success")
    assert set(global_table.list_tables()["TableNames"]) == {TABLE}


def test_a_restore_drill_that_runs_through_deletes_its_table_and_an_operators_restore_keeps_it(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    target = f"{TABLE}-pitr-drill"
    drill, handed_over = run_with_local_automations(
        synthesized, documents, "restore-role", "restore-table-pitr", {"Region": HOME, "TargetTableName": target, "CleanUp": "true"}
    )
    assert drill.outputs["verifyRestore.Count"] == 3 and handed_over["AutomationExecutionStatus"] == "Success"
    assert set(global_table.list_tables()["TableNames"]) == {TABLE}
    (kept,) = run_with_local_automations(
        synthesized, documents, "restore-role", "restore-table-pitr", {"Region": HOME, "TargetTableName": target}
    )
    assert kept.ran()[-1] == "keepRestored" and target in global_table.list_tables()["TableNames"]


def run_with_local_automations(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], role: str, key: str, parameters: dict[str, Any], **kwargs: Any
) -> list[Any]:
    """Run document `key` as `role` with IAM enforced; an automation it starts runs here too (moto runs none).
    Returns the execution, then the record of each automation it started."""
    from tools.automation import LocalAutomations

    by_name = {doc["name"]: doc["parsed"] for doc in documents.values()}
    started: list[list[dict[str, Any]]] = []

    def run(clients: Any) -> Execution:
        def with_local_automations(service: str, **client_kwargs: Any) -> Any:
            if service != "ssm":
                return clients(service, **client_kwargs)
            local = LocalAutomations(clients("ssm", **client_kwargs), region="us-east-1", documents=by_name, run_as=clients,
                                     approve=lambda _: False)  # fmt: skip
            started.append(local.executions)
            return local

        return run_document(documents[key]["parsed"], {"AutomationAssumeRole": "arn:aws:iam::123456789012:role/x", **parameters},
                            region="us-east-1", clients=with_local_automations, **kwargs)  # fmt: skip

    execution = act_as(synthesized_role(synthesized, role), run, service="ssm.amazonaws.com", region=HOME)
    return [execution, *(record for records in started for record in records)]


@pytest.mark.parametrize(("role", "runbook"), [("replica-role", "recreate-table-replica"), ("restore-role", "delete-drill-table")])
def test_a_drill_role_may_hand_over_only_to_its_runbook_passing_only_itself(synthesized: Synthesized, role: str, runbook: str) -> None:
    from tools.moto_server import decision

    policy = synthesized_role(synthesized, role)
    name = synthesized.one(GLOBAL, "aws_iam_role", f"drills/{role}/role")["name"]
    definition = "arn:aws:ssm:{region}:123456789012:automation-definition/hadr-prod-active-active-{doc}:$DEFAULT"
    for region in ("us-east-1", HOME, PEER):
        assert decision([policy], "ssm:StartAutomationExecution", definition.format(region=region, doc=runbook), {}) == "allowed"
        assert decision([policy], "ssm:StartAutomationExecution", definition.format(region=region, doc="repair-table"), {}) != "allowed"
    to_ssm = {"iam:passedtoservice": "ssm.amazonaws.com"}
    assert decision([policy], "iam:PassRole", f"arn:aws:iam::123456789012:role/{name}", to_ssm) == "allowed"
    assert decision([policy], "iam:PassRole", f"arn:aws:iam::123456789012:role/{PREFIX}-recovery", to_ssm) != "allowed"


def test_a_point_in_time_window_is_refused_when_the_table_has_no_point_in_time_recovery(
    synthesized: Synthesized, documents: dict[str, dict[str, Any]], global_table: Any
) -> None:
    global_table.update_continuous_backups(TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    window = {"RestoreDateTime": "2026-11-23T09:00:00+00:00", "AfterBackupArn": "arn:x"}
    with pytest.raises(
        AutomationFailed, match=re.escape(f"RestoreDateTime: {TABLE} has point-in-time recovery DISABLED; give BeforeBackupArn")
    ):
        repair(synthesized, documents, window, approve=lambda _: pytest.fail("nothing to approve"))


@pytest.mark.parametrize(
    ("first", "second", "equal"),
    [
        ({"m": {"M": {"N": {"S": "x"}}}}, {"m": {"M": {"N": {"S": "x"}}}}, True),  # a map member named like a type
        ({"n": {"N": "1.0"}}, {"n": {"N": "1"}}, True),
        ({"s": {"SS": ["a", "b"]}}, {"s": {"SS": ["b", "a"]}}, True),
        ({"l": {"L": [{"N": "1"}, {"S": "a"}]}}, {"l": {"L": [{"S": "a"}, {"N": "1"}]}}, False),
        ({"a": {"S": "x"}}, {"a": {"S": "x"}, "b": {"S": "y"}}, False),
        (None, None, True),
        (None, {"a": {"S": "x"}}, False),
    ],
)  # fmt: skip
def test_items_compare_by_their_attribute_values_decoded_by_position(first: Any, second: Any, equal: bool) -> None:
    from runbooks.repair import same

    assert same(first, second) is equal
