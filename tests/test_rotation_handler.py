"""The master-password rotation function against moto: the four Secrets Manager steps really change the RDS
instance's password and the secret's current version, a repeated step is harmless, and bad events are refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import create_postgres, load_lambda, stage_rotation

REGION = "us-east-1"
SECRET = "hadr-prod/warm-standby/db-master"  # noqa: S105 - a secret's name
TOKEN = "6b4f0ad3-6a2f-4c7e-9d8f-0a0b0c0d0e0f"  # noqa: S105 - a version ID


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, fake_aws: None) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("DB_INSTANCE_ID", "hadr-prod-warm-standby-db")
    with mock_aws():
        create_postgres(REGION, "hadr-prod-warm-standby-db")
        rds = boto3.client("rds", region_name=REGION)
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name=SECRET, SecretString=json.dumps({"username": "app_admin", "password": "x" * 40}))
        stage_rotation(REGION, TOKEN)
        yield {"secrets": secrets, "rds": rds, "module": load_lambda("rotate_master")}


def current(secrets: Any) -> dict[str, str]:
    return json.loads(secrets.get_secret_value(SecretId=SECRET, VersionStage="AWSCURRENT")["SecretString"])


def test_the_four_steps_rotate_the_password(world: dict[str, Any]) -> None:
    module, secrets = world["module"], world["secrets"]
    before = current(secrets)
    results = [module.handler({"SecretId": SECRET, "ClientRequestToken": TOKEN, "Step": step}, None)["result"] for step in module.STEPS]
    after = current(secrets)
    assert after["username"] == "app_admin" and after["password"] != before["password"] and len(after["password"]) == 40
    assert not set("/@\" '\\") & set(after["password"])
    assert results[0] == "new password stored as AWSPENDING"
    assert results[1] == "hadr-prod-warm-standby-db: master password change requested"
    assert results[3] == f"version {TOKEN} is current"
    again = module.handler({"SecretId": SECRET, "ClientRequestToken": TOKEN, "Step": "finishSecret"}, None)
    assert again["result"] == "already current" and current(secrets) == after


def test_create_is_idempotent_for_a_token(world: dict[str, Any]) -> None:
    module = world["module"]
    event = {"SecretId": SECRET, "ClientRequestToken": TOKEN, "Step": "createSecret"}
    module.handler(event, None)
    pending = world["secrets"].get_secret_value(SecretId=SECRET, VersionId=TOKEN, VersionStage="AWSPENDING")["SecretString"]
    assert module.handler(event, None)["result"] == "pending version exists"
    assert world["secrets"].get_secret_value(SecretId=SECRET, VersionId=TOKEN, VersionStage="AWSPENDING")["SecretString"] == pending


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("rotate", "event: expected a JSON object, got str"),
        ({"SecretId": SECRET, "ClientRequestToken": TOKEN}, "Step: got None; expected a non-empty string"),
        (
            {"SecretId": SECRET, "ClientRequestToken": TOKEN, "Step": "dropSecret"},
            "Step: got 'dropSecret'; expected one of createSecret, setSecret, testSecret, finishSecret",
        ),
        (
            {"SecretId": SECRET, "ClientRequestToken": "other", "Step": "createSecret"},
            f"ClientRequestToken: other is not a version of {SECRET}",
        ),
    ],
)
def test_bad_events_are_refused(world: dict[str, Any], event: Any, message: str) -> None:
    before = current(world["secrets"])
    with pytest.raises(world["module"].BadEvent) as caught:
        world["module"].handler(event, None)
    assert str(caught.value) == message
    assert current(world["secrets"]) == before
