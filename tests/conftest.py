"""Shared fixtures: the example configuration is synthesized once per test session and shared by every test."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from filelock import FileLock
from moto.core import set_initial_no_auth_action_count

from tools.handlers import load_handler

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = ROOT / "config" / "example.yaml"


@dataclass
class Synthesized:
    """The synthesized example: stack name -> parsed cdk.tf.json."""

    outdir: Path
    stack_names: list[str]
    stacks: dict[str, dict[str, Any]]
    config: Path = EXAMPLE_CONFIG

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


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every pytest-xdist worker of this run sees (the run's base folder; without xdist, this process's)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


#: The example's warm standby on the other engine: an RDS for PostgreSQL instance and its cross-region read replica.
POSTGRES_DATABASE = {
    "engine": "postgres",
    "engine_version": "16.4",
    "instance_class": "db.t3.medium",
    "allocated_storage_gb": 50,
    "backup_retention_days": 7,
}


def postgres_variant(data: dict[str, Any]) -> dict[str, Any]:
    """The example configuration with the warm standby's database on the RDS engine."""
    return {**data, "warm_standby": {**data["warm_standby"], "database": POSTGRES_DATABASE}}


def _synthesize_once(tmp_path_factory: pytest.TempPathFactory, name: str, data: dict[str, Any] | None = None) -> Synthesized:
    """A configuration (the example, or `data`) synthesized once per run: the first worker to need it synthesizes
    under a file lock, the others wait and copy it (each worker gets a copy of its own, so what one writes next to
    the stacks the other never sees)."""
    shared = shared_folder(tmp_path_factory) / name / "cdktf.out"
    path = EXAMPLE_CONFIG if data is None else shared.parent.with_name(f"{name}.yaml")
    with FileLock(f"{shared.parent}.lock"):
        if not (shared / "deploy-order.json").is_file():
            from modules.config import load_config
            from stacks.app import synthesize

            if data is not None:
                path.write_text(yaml.safe_dump(data, sort_keys=False))
            synthesize(load_config(path), shared)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # A copy at the same depth: the bootstrap stack names its state file by a path relative to its folder.
    outdir = shared.parent.with_name(f"{name}-{worker}") / "cdktf.out" if worker else shared
    if worker and not outdir.exists():
        shutil.copytree(shared, outdir)
    names = json.loads((outdir / "deploy-order.json").read_text())["order"]
    stacks = {stack: json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()) for stack in names}
    return Synthesized(outdir, names, stacks, path)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The example (the warm standby on Aurora), synthesized once per run."""
    return _synthesize_once(tmp_path_factory, "example-synth")


@pytest.fixture(scope="session")
def postgres_synthesized(tmp_path_factory: pytest.TempPathFactory, example_data: dict[str, Any]) -> Synthesized:
    """The example with the warm standby on the RDS engine (POSTGRES_DATABASE), synthesized once per run."""
    return _synthesize_once(tmp_path_factory, "postgres-synth", postgres_variant(example_data))


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


def create_aurora(region: str, identifier: str) -> dict[str, Any]:
    """An Aurora PostgreSQL cluster in moto with the example's master user (inside mock_aws)."""
    import boto3

    return boto3.client("rds", region_name=region).create_db_cluster(
        DBClusterIdentifier=identifier, Engine="aurora-postgresql", MasterUsername="app_admin", MasterUserPassword="x" * 40
    )["DBCluster"]


def topic_with_inbox(region: str) -> tuple[str, Callable[[], list[str]]]:
    """An SNS topic with an SQS subscriber, and a function returning "Subject: Message" of each message that reached
    it since the last call (inside mock_aws)."""
    import boto3

    sns, sqs = boto3.client("sns", region_name=region), boto3.client("sqs", region_name=region)
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    def received() -> list[str]:
        bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])]
        return [f"{body['Subject']}: {body['Message']}" for body in bodies]

    return topic, received


def stage_rotation(region: str, token: str) -> None:
    """What Secrets Manager's RotateSecret does before it calls the rotation function: rotation on, the token staged
    AWSPENDING with no value yet. moto's RotateSecret without a function moves AWSCURRENT to an empty version
    instead, so the state is set on moto's only secret directly (inside mock_aws)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    stored = next(iter(secretsmanager_backends[DEFAULT_ACCOUNT_ID][region].secrets.values()))
    stored.versions[token] = {"createdate": 0, "version_id": token, "version_stages": ["AWSPENDING"]}
    stored.rotation_requested = stored.rotation_enabled = True


@pytest.fixture
def fixups(monkeypatch: pytest.MonkeyPatch) -> None:
    """tools.moto_server's fix-ups in this process, undone after the test."""
    from moto.backup import urls as backup_urls
    from moto.backup.responses import BackupResponse
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.access_control import IAMPolicyStatement, IAMRequest
    from moto.iam.responses import IamResponse
    from moto.rds.models import RDSBackend
    from moto.rds.responses import RDSResponse
    from moto.secretsmanager.models import SecretsManagerBackend
    from moto.secretsmanager.responses import SecretsManagerResponse

    from tools import moto_server

    monkeypatch.setattr(RDSBackend, "promote_read_replica", RDSBackend.promote_read_replica)
    monkeypatch.setattr(RDSBackend, "delete_db_cluster", RDSBackend.delete_db_cluster)
    monkeypatch.setattr(RDSBackend, "remove_from_global_cluster", RDSBackend.remove_from_global_cluster)
    monkeypatch.setattr(IAMRequest, "_create_aws_request", IAMRequest._create_aws_request)
    monkeypatch.setattr(backup_urls, "url_paths", dict(backup_urls.url_paths))
    monkeypatch.setattr(IAMPolicyStatement, "_check_element_matches", IAMPolicyStatement._check_element_matches)
    monkeypatch.setattr(IAMPolicyStatement, "is_action_permitted", IAMPolicyStatement.is_action_permitted)
    for handler in ("update_table", "put_item", "delete_item", "update_item", "batch_write_item"):
        monkeypatch.setattr(DynamoHandler, handler, getattr(DynamoHandler, handler))
    monkeypatch.setattr(Table, "describe", Table.describe)
    monkeypatch.setattr(moto_server, "_REPLICA_REGIONS", {})
    for cls, name in (
        (SecretsManagerBackend, "stop_replication_to_replica"),
        (SecretsManagerResponse, "stop_replication_to_replica"),
        (IamResponse, "simulate_principal_policy"),
        (RDSBackend, "failover_global_cluster"),
        (RDSResponse, "failover_global_cluster"),
        (RDSResponse, "switchover_global_cluster"),
        *(
            (BackupResponse, name)
            for name in ("start_backup_job", "list_recovery_points_by_resource", "start_restore_job", "describe_restore_job")
        ),
    ):
        monkeypatch.setattr(cls, name, None, raising=False)
        monkeypatch.delattr(cls, name)
    moto_server.apply()


#: Who assumes the acting role in `act_as` (a stand-in for the service that would).
TRUSTED_USER = "drill"
#: boto3's own factory: a test may replace boto3.client for the code under test, the role's clients stay real.
make_client = boto3.client


def role_policy(synthesized: Synthesized, stack: str, path: str) -> dict[str, Any]:
    """The role's inline policy as synthesized; Terraform references (known only at apply) become a placeholder ARN,
    which moto's resource matching (see the module docstring) treats like any other."""
    text = synthesized.one(stack, "aws_iam_role_policy", path)["policy"]
    return json.loads(re.sub(r"(?<!\$)\$\{[^}]*\}", "arn:aws:terraform:::reference-known-at-apply", text))


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    statements = [{**s, "Action": [a for a in s["Action"] if a != action]} for s in policy["Statement"]]
    return {**policy, "Statement": [s for s in statements if s["Action"]]}


def act_as(
    policy: dict[str, Any],
    run: Callable[[Callable[..., Any]], Any],
    *,
    service: str = "lambda.amazonaws.com",
    region: str = "us-west-1",
    role_name: str | None = None,
) -> Any:
    """Create a role with `policy` (trusting `service`; named `role_name` when its policy names it), then with IAM
    enforced assume it and `run(clients)` with clients signed as it (`clients(service, region_name=...)`, default
    region `region`)."""
    iam = boto3.client("iam", region_name="us-east-1")
    calls = len(iam.list_roles()["Roles"])  # one user and one role per call, so a test may act as several roles
    user_name, role_name = f"{TRUSTED_USER}-{calls}", role_name or f"acting-{calls}"
    user = iam.create_user(UserName=user_name)["User"]
    assume = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam.put_user_policy(UserName=user_name, PolicyName="assume", PolicyDocument=json.dumps(assume))
    keys = iam.create_access_key(UserName=user_name)["AccessKey"]
    # As deployed: the service's statement (with its confused-deputy condition), plus the stand-in for the service.
    service = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    stand_in = {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}
    trust = {"Version": "2012-10-17", "Statement": [service, stand_in]}
    role = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=role_name, PolicyName="synthesized", PolicyDocument=json.dumps(policy))

    @set_initial_no_auth_action_count(0)
    def enforced() -> Any:
        sts = boto3.client(
            "sts", region_name="us-east-1", aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"]
        )
        credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="test")["Credentials"]

        def clients(service: str, **kwargs: Any) -> Any:
            return make_client(
                service,
                region_name=kwargs.get("region_name", region),
                config=kwargs.get("config"),  # the code's own timeouts and retries (a dark region's calls end as they would)
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )

        return run(clients)

    return enforced()


@pytest.fixture(scope="session")
def canonical_stacks(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """The canonical configuration of tools.name_templates, synthesized in this process (after `synthesized`, so the
    bindings are loaded once)."""
    from tools.name_templates import canonical_config, synthesized_stacks

    return synthesized_stacks(canonical_config())


#: Scheduled first, so that with pytest-xdist (`--dist loadfile`) the one long emulator deployment starts at once on
#: one worker while the other worker runs everything else beside it.
LONGEST_FIRST = ("tests/test_emulator_deployment.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST_FIRST))
