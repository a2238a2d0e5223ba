"""The code that acts with our roles runs with those roles' synthesized policies and IAM enforced (moto): what a
role lacks fails the run. moto enforces actions and explicit denies; it cannot name the resource of most requests,
so resource scoping and conditions are checked by the synthesized-JSON tests instead (tools.moto_server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import Synthesized, act_as, create_aurora, create_postgres, load_lambda, role_policy, stage_rotation, without

PRIMARY, STANDBY = "us-east-1", "us-west-1"
SECRET = "hadr-prod/warm-standby/db-master"  # noqa: S105 - a secret's name


@pytest.mark.parametrize(
    ("engine", "missing"),
    [
        ("aurora-postgresql", None),
        ("aurora-postgresql", "rds:ModifyDBCluster"),
        ("aurora-postgresql", "secretsmanager:PutSecretValue"),
        ("postgres", None),
        ("postgres", "rds:ModifyDBInstance"),
    ],
)
def test_the_rotation_runs_as_its_role_and_needs_every_action_it_has(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, fake_aws: None, fixups: None, engine: str, missing: str | None
) -> None:
    """Each engine's rotation: the Aurora cluster's password through ModifyDBCluster, the instance's through
    ModifyDBInstance, as the function's synthesized role."""
    synthesized: Synthesized = request.getfixturevalue("postgres_synthesized" if engine == "postgres" else "synthesized")
    policy = role_policy(synthesized, "warm-standby-us-east-1", "rotation/function/role/policy")
    function = synthesized.one("warm-standby-us-east-1", "aws_lambda_function", "rotation/function/function")
    for name, value in function["environment"]["variables"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", PRIMARY)
    module = load_lambda("rotate_master")
    with mock_aws():
        if engine == "postgres":
            create_postgres(PRIMARY, "hadr-prod-warm-standby-db")
        else:
            create_aurora(PRIMARY, "hadr-prod-warm-standby-db")
        boto3.client("secretsmanager", region_name=PRIMARY).create_secret(
            Name=SECRET, SecretString=json.dumps({"username": "app_admin", "password": "x" * 40})
        )
        token = "6b4f0ad3-6a2f-4c7e-9d8f-0a0b0c0d0e0f"  # noqa: S105 - a version ID
        stage_rotation(PRIMARY, token)

        def rotate(clients: Callable[..., Any]) -> list[str]:
            monkeypatch.setattr(module.boto3, "client", lambda service, **kw: clients(service, region_name=PRIMARY))
            return [
                module.handler({"SecretId": SECRET, "ClientRequestToken": token, "Step": step}, None)["result"] for step in module.STEPS
            ]

        if missing is None:
            assert act_as(policy, rotate)[-1] == f"version {token} is current"
            return
        with pytest.raises(Exception, match="AccessDenied"):
            act_as(without(policy, missing), rotate)
