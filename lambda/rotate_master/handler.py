"""Rotate the database's master password: a Secrets Manager rotation function that changes it through the RDS API.

Secrets Manager calls the function four times per rotation, with {"SecretId", "ClientRequestToken", "Step"}
(https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html):
  createSecret  a new random password as the AWSPENDING version (once per token);
  setSecret     ModifyDBInstance MasterUserPassword on the instance in DB_INSTANCE_ID, or ModifyDBCluster on the
                Aurora cluster in DB_CLUSTER_ID (no database connection, so the function runs outside any VPC and
                needs no route to the database);
  testSecret    the instance or cluster has applied it: no master password change is pending any more;
  finishSecret  AWSPENDING becomes AWSCURRENT.
A cross-region read replica, or an Aurora global database's secondary cluster, follows the new password through
replication.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3
from botocore.config import Config

logger = logging.getLogger("rotate-master")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
CONFIG = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})


class BadEvent(ValueError):
    """Not a rotation request for this function; the message names the field and what is accepted."""


class NotYetApplied(RuntimeError):
    """The instance has not applied the new password yet; Secrets Manager retries the step."""


def parse_event(event: Any) -> tuple[str, str, str]:
    if not isinstance(event, dict):
        raise BadEvent(f"event: expected a JSON object, got {type(event).__name__}")
    for field in ("SecretId", "ClientRequestToken", "Step"):
        if not isinstance(event.get(field), str) or not event[field]:
            raise BadEvent(f"{field}: got {event.get(field)!r}; expected a non-empty string")
    if event["Step"] not in STEPS:
        raise BadEvent(f"Step: got {event['Step']!r}; expected one of {', '.join(STEPS)}")
    return event["SecretId"], event["ClientRequestToken"], event["Step"]


def _stages(secrets: Any, secret_id: str, token: str) -> list[str]:
    described = secrets.describe_secret(SecretId=secret_id)
    if not described.get("RotationEnabled"):
        raise BadEvent(f"SecretId: {secret_id} does not have rotation enabled")
    versions = described.get("VersionIdsToStages", {})
    if token not in versions:
        raise BadEvent(f"ClientRequestToken: {token} is not a version of {secret_id}")
    return versions[token]


def create_secret(secrets: Any, secret_id: str, token: str) -> str:
    current = json.loads(secrets.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"])
    try:
        secrets.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")
        return "pending version exists"
    except secrets.exceptions.ResourceNotFoundException:
        pass
    password = secrets.get_random_password(
        PasswordLength=int(os.environ.get("PASSWORD_LENGTH", "40")),
        ExcludeCharacters=os.environ.get("EXCLUDE_CHARACTERS", "/@\" '\\"),
        RequireEachIncludedType=True,
    )["RandomPassword"]
    secrets.put_secret_value(
        SecretId=secret_id,
        ClientRequestToken=token,
        SecretString=json.dumps({**current, "password": password}),
        VersionStages=["AWSPENDING"],
    )
    return "new password stored as AWSPENDING"


def set_secret(secrets: Any, rds: Any, secret_id: str, token: str) -> str:
    pending = json.loads(secrets.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")["SecretString"])
    cluster = os.environ.get("DB_CLUSTER_ID")
    if cluster:
        rds.modify_db_cluster(DBClusterIdentifier=cluster, MasterUserPassword=pending["password"], ApplyImmediately=True)
        return f"{cluster}: master password change requested"
    instance = os.environ["DB_INSTANCE_ID"]
    rds.modify_db_instance(DBInstanceIdentifier=instance, MasterUserPassword=pending["password"], ApplyImmediately=True)
    return f"{instance}: master password change requested"


def test_secret(rds: Any) -> str:
    cluster = os.environ.get("DB_CLUSTER_ID")
    if cluster:
        found = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0]
        name, status = cluster, found["Status"]
    else:
        name = os.environ["DB_INSTANCE_ID"]
        found = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        status = found["DBInstanceStatus"]
    if "MasterUserPassword" in found.get("PendingModifiedValues", {}):
        raise NotYetApplied(f"{name} has not applied the new master password yet")
    return f"{name} ({status}) has no pending password change"


def finish_secret(secrets: Any, secret_id: str, token: str) -> str:
    versions = secrets.describe_secret(SecretId=secret_id)["VersionIdsToStages"]
    current = next(version for version, stages in versions.items() if "AWSCURRENT" in stages)
    if current == token:
        return "already current"
    secrets.update_secret_version_stage(SecretId=secret_id, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current)
    return f"version {token} is current"


def handler(event: Any, context: Any) -> dict[str, str]:
    secret_id, token, step = parse_event(event)
    secrets = boto3.client("secretsmanager", config=CONFIG)
    stages = _stages(secrets, secret_id, token)
    if "AWSCURRENT" in stages and step != "finishSecret":
        return {"step": step, "result": "the version is already current"}
    if "AWSPENDING" not in stages and "AWSCURRENT" not in stages:
        raise BadEvent(f"ClientRequestToken: {token} is neither AWSPENDING nor AWSCURRENT of {secret_id}")
    rds = boto3.client("rds", config=CONFIG)
    result = {
        "createSecret": lambda: create_secret(secrets, secret_id, token),
        "setSecret": lambda: set_secret(secrets, rds, secret_id, token),
        "testSecret": lambda: test_secret(rds),
        "finishSecret": lambda: finish_secret(secrets, secret_id, token),
    }[step]()
    logger.info(json.dumps({"step": step, "secret": secret_id, "result": result}))
    return {"step": step, "result": result}
