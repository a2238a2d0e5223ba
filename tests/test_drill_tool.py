"""tools.drill against stubbed AWS answers: the failover drill is a dry run unless told otherwise and fails on a
failed step or a function error; the FIS drill starts the project's templates only and waits for each."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from modules.config import load_config
from tests.conftest import EXAMPLE_CONFIG
from tools import drill


def payload(document: dict[str, Any]) -> StreamingBody:
    raw = json.dumps(document).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch, fake_aws: None) -> dict[str, Stubber]:
    clients = {service: boto3.client(service, region_name="us-west-1") for service in ("lambda", "fis")}
    stubs = {service: Stubber(client) for service, client in clients.items()}
    monkeypatch.setattr(drill.boto3, "client", lambda service, **_: clients[service])
    monkeypatch.setattr(drill.time, "sleep", lambda _: None)
    for stub in stubs.values():
        stub.activate()
    return stubs


def step(name: str, status: str) -> dict[str, Any]:
    return {"name": name, "status": status, "detail": f"{name} detail", "seconds": 0.5}


def test_failover_drill_is_a_dry_run_and_reports_each_step(stubbed: dict[str, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    expected = {
        "FunctionName": "hadr-prod-warm-standby-us-west-1-failover",
        "Payload": json.dumps({"action": "failover", "dry_run": True, "reason": "scheduled DR drill"}),
    }
    stubbed["lambda"].add_response(
        "invoke", {"StatusCode": 200, "Payload": payload({"steps": [step("promote_replica", "planned")]})}, expected
    )
    assert drill.drill_failover(load_config(EXAMPLE_CONFIG), execute=False, reason="scheduled DR drill") == 0
    assert "promote_replica          planned" in capsys.readouterr().out
    stubbed["lambda"].assert_no_pending_responses()


def test_failover_drill_fails_on_a_failed_step_or_a_function_error(stubbed: dict[str, Stubber]) -> None:
    config = load_config(EXAMPLE_CONFIG)
    stubbed["lambda"].add_response("invoke", {"StatusCode": 200, "Payload": payload({"steps": [step("scale_standby", "failed")]})})
    assert drill.drill_failover(config, execute=True, reason="r") == 1
    error = {"errorType": "BadEvent", "errorMessage": "dry_run: got 'yes'"}
    stubbed["lambda"].add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": payload(error)})
    assert drill.drill_failover(config, execute=True, reason="r") == 1


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
    expected = {"FunctionName": "acme-prod-warm-standby-us-west-1-failover", "Payload": ANY}
    stubbed["lambda"].add_response(
        "invoke", {"StatusCode": 200, "Payload": payload({"steps": [step("promote_replica", "planned")]})}, expected
    )
    assert drill.main(["failover"]) == 0
    assert f"[drill] configuration {other}: acme-prod" in capsys.readouterr().err
    stubbed["lambda"].assert_no_pending_responses()
