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
