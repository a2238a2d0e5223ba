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
from tools.resiliencehub import plan, register

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


def test_register_creates_imports_and_publishes_once(example_data: dict[str, Any], fake_aws: None) -> None:
    registration = plan(parse_config(example_data))
    with mock_aws():
        client = boto3.client("resiliencehub", region_name="us-east-1")
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
