"""Registering the active/active app with Resilience Hub: dry run, and the real calls against moto."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from typing import Any

import boto3
import pytest
from moto import mock_aws

from modules.config import parse_config
from modules.errors import InputError
from tests.conftest import ROOT
from tools.resiliencehub import ImportFailed, plan, register

STATE_FILES = [
    "s3://hadr-prod-tfstate-123456789012/hadr/prod/active-active-data.tfstate",
    "s3://hadr-prod-tfstate-123456789012/hadr/prod/active-active-eu-west-1.tfstate",
    "s3://hadr-prod-tfstate-123456789012/hadr/prod/active-active-eu-central-1.tfstate",
    "s3://hadr-prod-tfstate-123456789012/hadr/prod/active-active-global.tfstate",
]


def test_dry_run_lists_every_active_active_state_file_and_calls_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.resiliencehub", "register", "--dry-run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "would register hadr-prod-active-active in us-east-1" in result.stderr
    assert [line.split("import ")[1] for line in result.stderr.splitlines() if "  import " in line] == STATE_FILES


def test_registration_needs_the_architecture(example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    data["active_active"]["enabled"] = False
    with pytest.raises(
        InputError, match=re.escape("active_active.enabled: got False; expected the active/active architecture to be enabled")
    ):
        plan(parse_config(data))


class ImportStatus:
    """moto's Resilience Hub client, with the import status AWS reports (moto 5.2.5 does not implement that call):
    the given statuses in turn, the last one repeated. Records every call after the import, by name."""

    def __init__(self, client: Any, statuses: list[str], error_message: str = "") -> None:
        self.client, self.statuses, self.error_message, self.calls = client, list(statuses), error_message, []

    def describe_draft_app_version_resources_import_status(self, appArn: str) -> dict[str, Any]:
        self.calls.append("status")
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"appArn": appArn, "status": status, **({"errorMessage": self.error_message} if status == "Failed" else {})}

    def __getattr__(self, name: str) -> Any:
        if name == "publish_app_version":
            self.calls.append("publish")
        return getattr(self.client, name)


@pytest.fixture
def policy_client(fake_aws: None) -> Any:
    with mock_aws():
        client = boto3.client("resiliencehub", region_name="us-east-1")
        client.create_resiliency_policy(
            policyName="hadr-prod-active-active",
            tier="MissionCritical",
            policy={name: {"rtoInSecs": 1, "rpoInSecs": 1} for name in ("AZ", "Hardware", "Software", "Region")},
        )
        yield client


def test_publishing_waits_until_the_import_succeeds(example_data: dict[str, Any], policy_client: Any) -> None:
    client = ImportStatus(policy_client, ["Pending", "InProgress", "InProgress", "Success"])
    sleeps: list[float] = []
    register(client, plan(parse_config(example_data)), wait={"sleep": sleeps.append, "poll_seconds": 5})
    assert client.calls == ["status", "status", "status", "status", "publish"]
    assert sleeps == [5, 5, 5]


def test_a_failed_import_is_reported_and_nothing_is_published(example_data: dict[str, Any], policy_client: Any) -> None:
    client = ImportStatus(policy_client, ["InProgress", "Failed"], error_message="state file not found")
    with pytest.raises(ImportFailed, match="failed: state file not found"):
        register(client, plan(parse_config(example_data)), wait={"sleep": lambda _: None})
    assert "publish" not in client.calls


def test_an_import_that_never_ends_times_out_without_publishing(example_data: dict[str, Any], policy_client: Any) -> None:
    client = ImportStatus(policy_client, ["InProgress"])
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(ImportFailed, match="still InProgress after 60 s; publish nothing"):
        register(client, plan(parse_config(example_data)), wait={"sleep": sleep, "clock": lambda: now[0], "timeout_seconds": 60})
    assert client.calls.count("status") == 7 and "publish" not in client.calls


def test_register_creates_imports_and_publishes_once(example_data: dict[str, Any], fake_aws: None) -> None:
    registration = plan(parse_config(example_data))
    with mock_aws():
        client = ImportStatus(boto3.client("resiliencehub", region_name="us-east-1"), ["Success"])
        with pytest.raises(InputError, match="deploy the active-active-global stack first"):
            register(client, registration)
        client.create_resiliency_policy(
            policyName="hadr-prod-active-active",
            tier="MissionCritical",
            policy={name: {"rtoInSecs": 1, "rpoInSecs": 1} for name in ("AZ", "Hardware", "Software", "Region")},
        )
        first = register(client, registration)
        second = register(client, registration)
        assert first["app_arn"] == second["app_arn"], "a second run reuses the application"
        (app,) = client.list_apps()["appSummaries"]
        assert app["name"] == "hadr-prod-active-active"
        assert client.describe_app(appArn=first["app_arn"])["app"]["policyArn"] == first["policy_arn"]
