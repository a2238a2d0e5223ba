"""tools.drill against stubbed AWS answers: the failover drill is a practice run of the recovery plan unless told
otherwise, shows the approval command and fails on a failed execution; the failback runs its three stages in
order; the FIS drill starts the project's templates only and waits for each."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from modules.config import load_config
from tests.conftest import EXAMPLE_CONFIG
from tools import drill


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch, fake_aws: None) -> dict[str, Stubber]:
    clients = {service: boto3.client(service, region_name="us-west-1") for service in ("ssm", "fis")}
    stubs = {service: Stubber(client) for service, client in clients.items()}
    monkeypatch.setattr(drill.boto3, "client", lambda service, **_: clients[service])
    monkeypatch.setattr(drill.time, "sleep", lambda _: None)
    for stub in stubs.values():
        stub.activate()
    return stubs


def execution(status: str, *steps: tuple[str, str]) -> dict[str, Any]:
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return {
        "AutomationExecution": {
            "AutomationExecutionStatus": status,
            "StepExecutions": [
                {"StepExecutionId": name, "StepName": name, "StepStatus": outcome, "ExecutionStartTime": start,
                 "ExecutionEndTime": start + datetime.timedelta(seconds=2)}
                for name, outcome in steps
            ],
        }
    }  # fmt: skip


def test_failover_drill_is_a_practice_run_and_reports_each_step(stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    ssm = stubbed["ssm"]
    expected = {
        "DocumentName": "hadr-prod-ws-region-switch",
        "Parameters": {"TargetRegion": ["us-west-1"], "Practice": ["true"], "Reason": ["scheduled DR drill"], "Decision": ["manual"]},
    }
    ssm.add_response("start_automation_execution", {"AutomationExecutionId": "e" * 36}, expected)
    ssm.add_response("get_automation_execution", execution("InProgress", ("preChecks", "InProgress")), {"AutomationExecutionId": "e" * 36})
    ssm.add_response("get_automation_execution", execution("Success", ("preChecks", "Success"), ("practiceReport", "Success")))
    assert drill.drill_failover(load_config(EXAMPLE_CONFIG), execute=False, reason="scheduled DR drill") == 0
    out = capsys.readouterr().out
    assert "preChecks                      Success        2.0 s" in out and "practiceReport" in out
    ssm.assert_no_pending_responses()


def test_failover_drill_shows_the_approval_command_and_fails_on_a_failed_execution(
    stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    ssm = stubbed["ssm"]
    ssm.add_response("start_automation_execution", {"AutomationExecutionId": "f" * 36})
    ssm.add_response("get_automation_execution", execution("Waiting", ("preChecks", "Success"), ("approve", "Waiting")))
    ssm.add_response("get_automation_execution", execution("Failed", ("preChecks", "Success"), ("approve", "Failed")))
    assert drill.drill_failover(load_config(EXAMPLE_CONFIG), execute=True, reason="r") == 1
    err = capsys.readouterr().err
    assert f"aws ssm send-automation-signal --region us-west-1 --automation-execution-id {'f' * 36} --signal-type Approve" in err


def test_failback_rebuilds_switches_back_and_rebuilds_in_order_and_stops_at_a_failure(stubbed: dict[str, Stubber]) -> None:
    ssm = stubbed["ssm"]
    for document, parameters in (
        ("hadr-prod-ws-rebuild-replica", {"Region": ["us-east-1"]}),
        ("hadr-prod-ws-region-switch", {"TargetRegion": ["us-east-1"], "Reason": ["failback"], "Decision": ["manual"]}),
        ("hadr-prod-ws-rebuild-replica", {"Region": ["us-west-1"]}),
    ):
        ssm.add_response(
            "start_automation_execution", {"AutomationExecutionId": "a" * 36}, {"DocumentName": document, "Parameters": parameters}
        )
        ssm.add_response("get_automation_execution", execution("Success", ("inspect", "Success")))
    assert drill.drill_failback(load_config(EXAMPLE_CONFIG)) == 0
    ssm.assert_no_pending_responses()
    ssm.add_response("start_automation_execution", {"AutomationExecutionId": "b" * 36})
    ssm.add_response("get_automation_execution", execution("Failed", ("inspect", "Failed")))
    assert drill.drill_failback(load_config(EXAMPLE_CONFIG)) == 1
    ssm.assert_no_pending_responses()


def test_fis_drill_starts_only_this_projects_templates_and_waits(stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    templates = [
        {"id": "EXT1", "tags": {"Name": "hadr-prod-active-active-az-outage-eu-west-1"}},
        {"id": "EXT2", "tags": {"Name": "someone-elses-template"}},
    ]
    fis = stubbed["fis"]
    fis.add_response("list_experiment_templates", {"experimentTemplates": templates})
    fis.add_response(
        "start_experiment",
        {"experiment": {"id": "EXP1", "state": {"status": "initiating"}}},
        {"experimentTemplateId": "EXT1", "tags": {"Name": "drill-az-outage-eu-west-1"}},
    )
    fis.add_response("get_experiment", {"experiment": {"id": "EXP1", "state": {"status": "running"}}}, {"id": "EXP1"})
    fis.add_response("get_experiment", {"experiment": {"id": "EXP1", "state": {"status": "completed"}}}, {"id": "EXP1"})
    assert drill.drill_experiments(load_config(EXAMPLE_CONFIG), keys=[], timeout=600) == 0
    out = capsys.readouterr().out
    assert "az-outage-eu-west-1" in out and "completed" in out
    fis.assert_no_pending_responses()
    fis.add_response("list_experiment_templates", {"experimentTemplates": templates})
    assert drill.drill_experiments(load_config(EXAMPLE_CONFIG), keys=["nope"], timeout=600) == 2


def test_fis_drill_fails_when_no_template_of_this_configuration_exists(
    stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]
) -> None:
    stubbed["fis"].add_response("list_experiment_templates", {"experimentTemplates": [{"id": "X", "tags": {"Name": "someone-else"}}]})
    assert drill.main(["fis", "--config", str(EXAMPLE_CONFIG)]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("[drill] no FIS experiment template tagged Name=hadr-prod-active-active-* in us-east-1")
    assert last.endswith("nothing was drilled")


def test_drill_acts_on_the_configuration_in_hadr_config(
    stubbed: dict[str, Stubber], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "acme.yaml"
    other.write_text(EXAMPLE_CONFIG.read_text().replace("project: hadr", "project: acme", 1))
    monkeypatch.setenv("HADR_CONFIG", str(other))
    stubbed["ssm"].add_response(
        "start_automation_execution", {"AutomationExecutionId": "c" * 36}, {"DocumentName": "acme-prod-ws-region-switch", "Parameters": ANY}
    )
    stubbed["ssm"].add_response("get_automation_execution", execution("Success", ("preChecks", "Success")))
    assert drill.main(["failover"]) == 0
    assert f"[drill] configuration {other}: acme-prod" in capsys.readouterr().err
    stubbed["ssm"].assert_no_pending_responses()
