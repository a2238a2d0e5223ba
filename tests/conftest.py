"""Shared fixtures: the example configuration is synthesized once per test session and shared by every test."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.handlers import load_handler

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config" / "example.yaml"


@dataclass
class Synthesized:
    """The synthesized example: stack name -> parsed cdk.tf.json."""

    outdir: Path
    stack_names: list[str]
    stacks: dict[str, dict[str, Any]]

    def resources(self, stack: str, resource_type: str) -> dict[str, dict[str, Any]]:
        return self.stacks[stack].get("resource", {}).get(resource_type, {})

    def one(self, stack: str, resource_type: str, path_suffix: str) -> dict[str, Any]:
        """The single resource of a type whose construct path ends with `path_suffix`."""
        found = [body for body in self.resources(stack, resource_type).values() if body["//"]["metadata"]["path"].endswith(path_suffix)]
        assert len(found) == 1, f"{resource_type} ending in {path_suffix!r} in {stack}: {len(found)} found"
        return found[0]


#: Import lambda/<function>/handler.py as a module.
load_lambda = load_handler


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and region for boto3 against moto, so no test can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text())


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from modules.config import load_config
    from stacks.app import synthesize

    result = synthesize(load_config(EXAMPLE_CONFIG), tmp_path_factory.mktemp("synth") / "cdktf.out")
    stacks = {name: json.loads((result.outdir / "stacks" / name / "cdk.tf.json").read_text()) for name in result.stack_names}
    return Synthesized(result.outdir, result.stack_names, stacks)


@pytest.fixture(scope="session")
def scratch_stack() -> Callable[..., Any]:
    """Factory for throwaway stacks to exercise constructs the example does not use; synth with cdktf Testing."""
    from cdktf import Testing

    from modules.base import RegionalStack
    from modules.config import load_config

    config = load_config(EXAMPLE_CONFIG)
    counter = iter(range(1_000_000))

    def make(region: str = "us-east-1") -> RegionalStack:
        app = Testing.app()
        return RegionalStack(app, f"scratch-{next(counter)}", config=config, region=region, remote_state=False)

    return make


def synth_json(stack: Any) -> dict[str, Any]:
    from cdktf import Testing

    return json.loads(Testing.synth(stack))


def by_path(resources: dict[str, dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    return [body for body in resources.values() if body["//"]["metadata"]["path"].endswith(suffix)]


def create_postgres(region: str, identifier: str, **extra: Any) -> dict[str, Any]:
    """A PostgreSQL instance in moto with the example's master user (inside mock_aws)."""
    import boto3

    return boto3.client("rds", region_name=region).create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t3.medium",
        Engine="postgres",
        AllocatedStorage=50,
        MasterUsername="app_admin",
        MasterUserPassword="x" * 40,
        **extra,
    )["DBInstance"]


def stage_rotation(region: str, token: str) -> None:
    """What Secrets Manager's RotateSecret does before it calls the rotation function: rotation on, the token staged
    AWSPENDING with no value yet. moto's RotateSecret without a function moves AWSCURRENT to an empty version
    instead, so the state is set on moto's only secret directly (inside mock_aws)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    stored = next(iter(secretsmanager_backends[DEFAULT_ACCOUNT_ID][region].secrets.values()))
    stored.versions[token] = {"createdate": 0, "version_id": token, "version_stages": ["AWSPENDING"]}
    stored.rotation_requested = stored.rotation_enabled = True
