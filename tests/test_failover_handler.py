"""The warm-standby failover function against moto: the replica really is promoted, the parameter really
changes, the groups really scale, a second run is a no-op, and bad events are rejected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import load_lambda

PRIMARY, STANDBY = "us-east-1", "us-west-1"
PARAMETER = "/hadr-prod/warm-standby/database"
GROUPS = {"hadr-prod-warm-standby-us-west-1-web": 1, "hadr-prod-warm-standby-us-west-1-app": 1}
CAPACITY = {name: {"min": 2, "desired": 2, "max": 6} for name in GROUPS}


SECRET = "hadr-prod/warm-standby/db-master"  # noqa: S105 - a secret's name


@pytest.fixture
def promotion_clears_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto keeps the source of a promoted replica and cannot promote a secret replica; tools.moto_server makes it
    do what AWS does (undone after the test)."""
    from moto.rds.models import RDSBackend
    from moto.secretsmanager.models import SecretsManagerBackend
    from moto.secretsmanager.responses import SecretsManagerResponse

    from tools.moto_server import apply

    monkeypatch.setattr(RDSBackend, "promote_read_replica", RDSBackend.promote_read_replica)
    monkeypatch.setattr(SecretsManagerBackend, "stop_replication_to_replica", None, raising=False)
    monkeypatch.setattr(SecretsManagerResponse, "stop_replication_to_replica", None, raising=False)
    monkeypatch.delattr(SecretsManagerBackend, "stop_replication_to_replica")
    apply()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, fake_aws: None, promotion_clears_the_source: None) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", STANDBY)
    with mock_aws():
        primary_rds = boto3.client("rds", region_name=PRIMARY)
        primary = primary_rds.create_db_instance(
            DBInstanceIdentifier="hadr-prod-db",
            DBInstanceClass="db.t3.medium",
            Engine="postgres",
            AllocatedStorage=50,
            MasterUsername="app",
            MasterUserPassword="not-used-in-moto-1",
            BackupRetentionPeriod=7,
        )["DBInstance"]
        rds = boto3.client("rds", region_name=STANDBY)
        replica = rds.create_db_instance_read_replica(
            DBInstanceIdentifier="hadr-prod-db-replica", SourceDBInstanceIdentifier=primary["DBInstanceArn"], DBInstanceClass="db.t3.medium"
        )["DBInstance"]
        boto3.client("secretsmanager", region_name=PRIMARY).create_secret(
            Name=SECRET, SecretString=json.dumps({"username": "app", "password": "x" * 40}), AddReplicaRegions=[{"Region": STANDBY}]
        )
        ssm = boto3.client("ssm", region_name=STANDBY)
        ssm.put_parameter(
            Name=PARAMETER, Type="SecureString", Value=json.dumps({"host": replica["Endpoint"]["Address"], "port": 5432, "writable": False})
        )
        autoscaling = boto3.client("autoscaling", region_name=STANDBY)
        autoscaling.create_launch_configuration(LaunchConfigurationName="lc", ImageId="ami-12345678", InstanceType="t3.small")
        for name, size in GROUPS.items():
            autoscaling.create_auto_scaling_group(
                AutoScalingGroupName=name,
                LaunchConfigurationName="lc",
                MinSize=size,
                DesiredCapacity=size,
                MaxSize=6,
                AvailabilityZones=[f"{STANDBY}a"],
            )
        topic = boto3.client("sns", region_name=STANDBY).create_topic(Name="alarms")["TopicArn"]
        sqs = boto3.client("sqs", region_name=STANDBY)
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns", region_name=STANDBY).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        for name, value in {
            "REPLICA_ID": "hadr-prod-db-replica",
            "PARAMETER_NAME": PARAMETER,
            "ASG_CAPACITY": json.dumps(CAPACITY),
            "PRIMARY_REGION": PRIMARY,
            "TOPIC_ARN": topic,
            "POLL_SECONDS": "0",
            "WAIT_TIMEOUT_SECONDS": "30",
            "SECRET_ID": SECRET,
        }.items():
            monkeypatch.setenv(name, value)
        yield {"rds": rds, "ssm": ssm, "autoscaling": autoscaling, "sqs": sqs, "queue": queue, "module": load_lambda("failover")}


def state(world: dict[str, Any]) -> dict[str, Any]:
    db = world["rds"].describe_db_instances(DBInstanceIdentifier="hadr-prod-db-replica")["DBInstances"][0]
    groups = world["autoscaling"].describe_auto_scaling_groups(AutoScalingGroupNames=list(GROUPS))["AutoScalingGroups"]
    return {
        "replica_of": db.get("ReadReplicaSourceDBInstanceIdentifier"),
        "parameter": json.loads(world["ssm"].get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"]),
        "parameter_type": world["ssm"].get_parameter(Name=PARAMETER)["Parameter"]["Type"],
        "secret_primary_region": boto3.client("secretsmanager", region_name=STANDBY).describe_secret(SecretId=SECRET).get("PrimaryRegion"),
        "groups": {g["AutoScalingGroupName"]: (g["MinSize"], g["DesiredCapacity"], g["MaxSize"]) for g in groups},
    }


def messages(world: dict[str, Any]) -> list[str]:
    received = world["sqs"].receive_message(QueueUrl=world["queue"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Message"] for m in received]


def test_dry_run_reports_the_plan_and_changes_nothing(world: dict[str, Any]) -> None:
    before = state(world)
    report = world["module"].handler({"action": "failover", "dry_run": True, "reason": "drill"}, None)
    assert report["dry_run"] is True and report["changed"] is False
    assert [(s["name"], s["status"]) for s in report["steps"]] == [
        ("scale_standby", "planned"),
        ("promote_replica", "planned"),
        ("wait_available", "planned"),
        ("take_over_credentials", "planned"),
        ("repoint_application", "planned"),
        ("route_storage", "unchanged"),
        ("notify", "unchanged"),
    ]
    assert state(world) == before and before["replica_of"] is not None
    assert messages(world) == []


def test_failover_promotes_repoints_scales_and_notifies_then_a_second_run_is_a_no_op(world: dict[str, Any]) -> None:
    report = world["module"].handler({"action": "failover", "reason": "us-east-1 outage"}, None)
    after = state(world)
    assert after["replica_of"] is None, "the replica is a standalone primary now"
    assert after["parameter"]["writable"] is True and after["parameter"]["port"] == 5432
    assert after["parameter_type"] == "SecureString"
    assert after["parameter"]["secret_id"] == SECRET
    assert after["secret_primary_region"] is None, "the secret's replica in the standby region is standalone now"
    assert after["groups"] == {name: (2, 2, 6) for name in GROUPS}
    statuses = {s["name"]: s["status"] for s in report["steps"]}
    assert statuses == {
        "promote_replica": "changed",
        "wait_available": "unchanged",
        "take_over_credentials": "changed",
        "repoint_application": "changed",
        "scale_standby": "changed",
        "route_storage": "unchanged",
        "notify": "changed",
    }
    assert all(isinstance(s["seconds"], float) for s in report["steps"]) and report["total_seconds"] >= 0
    (message,) = messages(world)
    assert message.startswith("Trigger: manual: us-east-1 outage\nscale_standby: changed: ")
    assert "promote_replica: changed: promoted hadr-prod-db-replica" in message

    second = world["module"].handler({"action": "failover"}, None)
    assert second["changed"] is False
    assert {s["status"] for s in second["steps"]} == {"unchanged"}
    assert state(world) == after and messages(world) == []


def test_alarm_and_health_events_trigger_only_for_the_primary(world: dict[str, Any]) -> None:
    module = world["module"]
    settings = module.Settings.from_env()
    alarm = {"source": "aws.cloudwatch", "detail": {"alarmName": "primary-unhealthy", "state": {"value": "ALARM"}}}
    assert module.parse_event(alarm, settings) == {"dry_run": False, "trigger": "alarm primary-unhealthy"}
    health = {
        "source": "aws.health",
        "region": PRIMARY,
        "detail": {"eventTypeCategory": "issue", "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE"},
    }
    assert module.parse_event(health, settings)["trigger"] == "AWS Health AWS_EC2_OPERATIONAL_ISSUE in us-east-1"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (["failover"], "event: expected a JSON object, got list"),
        ({"action": "promote"}, "action: got 'promote'; expected 'failover' (or an aws.cloudwatch / aws.health event)"),
        ({"action": "failover", "force": True}, "force: unknown field; a manual event has action, dry_run, reason"),
        ({"action": "failover", "dry_run": "yes"}, "dry_run: got 'yes'; expected true or false"),
        (
            {"source": "aws.cloudwatch", "detail": {"state": {"value": "OK"}}},
            "detail.state.value: got 'OK'; only ALARM triggers a failover",
        ),
        (
            {"source": "aws.health", "region": "eu-west-1", "detail": {"eventTypeCategory": "issue"}},
            "region: got 'eu-west-1'; only AWS Health issues in the primary region us-east-1 trigger a failover",
        ),
        (
            {"source": "aws.health", "region": PRIMARY, "detail": {"eventTypeCategory": "scheduledChange"}},
            "detail.eventTypeCategory: got 'scheduledChange'; expected 'issue'",
        ),
    ],
)
def test_bad_events_are_rejected_and_change_nothing(world: dict[str, Any], event: Any, message: str) -> None:
    before = state(world)
    with pytest.raises(world["module"].BadEvent) as caught:
        world["module"].handler(event, None)
    assert str(caught.value) == message
    assert state(world) == before


def test_missing_settings_name_the_variables(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLICA_ID")
    monkeypatch.setenv("ASG_CAPACITY", "[]")
    with pytest.raises(RuntimeError, match="environment: REPLICA_ID not set"):
        world["module"].handler({"action": "failover"}, None)
    monkeypatch.setenv("REPLICA_ID", "x")
    with pytest.raises(RuntimeError, match="ASG_CAPACITY must be JSON"):
        world["module"].handler({"action": "failover"}, None)


def test_mrap_routes_move_all_traffic_to_the_standby_bucket_once() -> None:
    module = load_lambda("failover")
    routes = [
        {"Bucket": "assets-us-east-1", "Region": "us-east-1", "TrafficDialPercentage": 100},
        {"Bucket": "assets-us-west-1", "Region": "us-west-1", "TrafficDialPercentage": 0},
    ]
    updates = module.mrap_route_updates(routes, "assets-us-west-1", "assets-us-east-1")
    assert updates == [
        {"Bucket": "assets-us-west-1", "Region": "us-west-1", "TrafficDialPercentage": 100},
        {"Bucket": "assets-us-east-1", "Region": "us-east-1", "TrafficDialPercentage": 0},
    ]
    applied = [{**r, "TrafficDialPercentage": 100 if r["Bucket"] == "assets-us-west-1" else 0} for r in routes]
    assert module.mrap_route_updates(applied, "assets-us-west-1", "assets-us-east-1") == []


class SlowPromotion:
    """An RDS client whose instance stays 'modifying' (a promotion that outlasts the invocation)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def describe_db_instances(self, **kwargs: Any) -> dict[str, Any]:
        found = self.client.describe_db_instances(**kwargs)
        for db in found["DBInstances"]:
            db["DBInstanceStatus"] = "modifying"
        return found


class Invocation:
    """A Lambda context with `seconds` left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def test_a_promotion_that_outlasts_the_invocation_is_reported_and_resumed(world: dict[str, Any]) -> None:
    """GIVEN 125 s left and a 120 s report reserve WHEN the promotion is still running after 5 s THEN the wait stops,
    the rest is skipped, the report is notified, and the invocation fails; a new invocation resumes and completes."""
    module = world["module"]

    def slow(service: str, **kwargs: Any) -> Any:
        client = boto3.client(service, **kwargs)
        return SlowPromotion(client) if service == "rds" else client

    with pytest.raises(module.FailoverIncomplete, match=r"wait_available: TimeoutError: hadr-prod-db-replica still modifying after \d s"):
        module.handler({"action": "failover", "reason": "slow"}, Invocation(120.2), clients=slow)
    (message,) = messages(world)
    assert message.splitlines()[0] == "Trigger: manual: slow"
    assert "wait_available: failed: TimeoutError" in message and "repoint_application: skipped: an earlier step failed" in message
    assert state(world)["parameter"]["writable"] is False, "the app is not repointed at a writer that is not available"
    resumed = module.handler({"action": "failover", "reason": "retry"}, Invocation(900))
    assert resumed["complete"] is True
    statuses = {s["name"]: s["status"] for s in resumed["steps"]}
    assert statuses["promote_replica"] == "unchanged" and statuses["repoint_application"] == "changed"
