"""Chaos experiments (FIS) and recovery runbooks (SSM Automation) of the active/active architecture.

The templates and documents are checked as synthesized; the runbook scripts are run, exactly as embedded in the
synthesized documents, with boto3 against moto where moto implements the API (PITR restore, table deletion).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import Synthesized

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
        "restore-table-pitr",
        "restore-table-backup",
        "delete-drill-table",
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
        assert (inject["inputs"]["Api"], undo["inputs"]["Api"]) == ("PutRolePolicy", "DeleteRolePolicy")
        deny = json.loads(inject["inputs"]["PolicyDocument"])["Statement"][0]
        assert (deny["Effect"], deny["Action"]) == ("Deny", "dynamodb:*")


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
    automation_role = f"${{aws_iam_role.{unique_id(synthesized, 'aws_iam_role', 'drills/automation-role/role')}.arn}}"
    for key, template in experiments.items():
        assert template["stop_condition"] == [{"source": "aws:cloudwatch:alarm", "value": alarm[expected_stop[key]]}], key
        for action in template["action"]:
            assert action["action_id"] == "aws:ssm:start-automation-execution"
            parameters = {p["key"]: p["value"] for p in action["parameter"]}
            assert parameters["documentArn"].startswith("${aws_ssm_document.") and parameters["maxDuration"] == "PT2H"
            assert json.loads(parameters["documentParameters"])["AutomationAssumeRole"] == automation_role


def test_chained_experiments_recover_or_clean_up_after_the_fault(experiments: dict[str, dict[str, Any]]) -> None:
    replica = experiments["table-replica-deletion-eu-central-1"]["action"]
    assert [(a["name"], a.get("start_after")) for a in replica] == [("deleteReplica", None), ("recreateReplica", ["deleteReplica"])]
    pitr = experiments["point-in-time-restore"]["action"]
    assert [(a["name"], a.get("start_after")) for a in pitr] == [("restore", None), ("cleanUp", ["restore"])]
    target = json.loads({p["key"]: p["value"] for p in pitr[0]["parameter"]}["documentParameters"])["TargetTableName"]
    cleanup = json.loads({p["key"]: p["value"] for p in pitr[1]["parameter"]}["documentParameters"])["TableName"]
    assert target == cleanup == "hadr-prod-items-pitr-drill"


def test_automation_role_can_only_touch_the_drill_targets(synthesized: Synthesized) -> None:
    policy = json.loads(synthesized.one(GLOBAL, "aws_iam_role_policy", "drills/automation-role/policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["DeleteOnlyDrillTables"]["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/hadr-prod-items-*-drill",
        "arn:aws:dynamodb:eu-central-1:123456789012:table/hadr-prod-items-*-drill",
    ]
    assert statements["InjectDenyIntoFunctionRoles"]["Resource"] == [
        f"arn:aws:iam::123456789012:role/{PREFIX}-eu-west-1-api-function",
        f"arn:aws:iam::123456789012:role/{PREFIX}-eu-central-1-api-function",
    ]
    experiment_policy = json.loads(synthesized.one(GLOBAL, "aws_iam_role_policy", "drills/experiment-role/policy")["policy"])
    start = {s["Sid"]: s for s in experiment_policy["Statement"]}["StartDrillAutomations"]
    assert len(start["Resource"]) == 7 and all(":automation-definition/" in arn for arn in start["Resource"])


# --- the embedded scripts, run as SSM runs them: alone, from the document's text ---


def embedded(documents: dict[str, dict[str, Any]], key: str):
    (step,) = documents[key]["parsed"]["mainSteps"]
    namespace: dict[str, Any] = {}
    exec(compile(step["inputs"]["Script"], f"<{key}>", "exec"), namespace)  # noqa: S102 - the document's own script
    return namespace[step["inputs"]["Handler"]]


@pytest.fixture
def table(fake_aws: None) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="hadr-prod-items",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_continuous_backups(TableName="hadr-prod-items", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for index in range(3):
            client.put_item(TableName="hadr-prod-items", Item={"id": {"S": f"item-{index}"}})
        yield client


def test_pitr_runbook_restores_into_a_new_table_and_counts_items(documents: dict[str, dict[str, Any]], table: Any) -> None:
    restore = embedded(documents, "restore-table-pitr")
    result = restore(
        {
            "Region": "eu-west-1",
            "SourceTableName": "hadr-prod-items",
            "TargetTableName": "hadr-prod-items-pitr-drill",
            "RestoreDateTime": "",
            "KmsKeyAlias": "alias/hadr-prod-active-active-table",
        },
        None,
    )
    assert result["ItemCount"] == 3
    assert result["TargetTableArn"].endswith(":table/hadr-prod-items-pitr-drill")
    assert table.describe_table(TableName="hadr-prod-items-pitr-drill")["Table"]["TableStatus"] == "ACTIVE"


def test_drill_clean_up_deletes_drill_tables_and_refuses_the_live_table(documents: dict[str, dict[str, Any]], table: Any) -> None:
    delete = embedded(documents, "delete-drill-table")
    with pytest.raises(ValueError, match="TableName: 'hadr-prod-items' is not a drill table"):
        delete({"Region": "eu-west-1", "TableName": "hadr-prod-items"}, None)
    assert table.describe_table(TableName="hadr-prod-items")["Table"]["TableName"] == "hadr-prod-items"
    assert delete({"Region": "eu-west-1", "TableName": "hadr-prod-items-pitr-drill"}, None) == {"Deleted": False}
    embedded(documents, "restore-table-pitr")(
        {
            "Region": "eu-west-1",
            "SourceTableName": "hadr-prod-items",
            "TargetTableName": "hadr-prod-items-pitr-drill",
            "KmsKeyAlias": "alias/k",
        },
        None,
    )
    assert delete({"Region": "eu-west-1", "TableName": "hadr-prod-items-pitr-drill"}, None) == {"Deleted": True}
    assert "hadr-prod-items-pitr-drill" not in table.list_tables()["TableNames"]


def test_replica_deletion_is_a_no_op_when_the_replica_is_already_gone(documents: dict[str, dict[str, Any]], table: Any) -> None:
    delete = embedded(documents, "delete-table-replica")
    result = delete({"TableName": "hadr-prod-items", "SourceRegion": "eu-west-1", "ReplicaRegion": "eu-central-1"}, None)
    assert result == {"Changed": False, "Replicas": []}
