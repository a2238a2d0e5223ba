"""The warm standby's recovery plan, as synthesized, run against moto as its own role with IAM enforced: a practice
run changes nothing, an approved failover switches and fences, a second run is a no-op, a refused approval or a
standby that is not ready changes nothing, and the failback (rebuild, switch back, rebuild) restores what
Terraform deployed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stacks.plan_permissions import PLAN_CALLS
from tests.conftest import Synthesized, act_as, role_policy, topic_with_inbox, without
from tools.automation import AutomationFailed, Execution, in_outage, run_document

PRIMARY, STANDBY = "us-east-1", "us-west-1"
ACCOUNT = "123456789012"
STACK = f"warm-standby-{STANDBY}"
PARAMETER = "/hadr-prod/warm-standby/database"
LATCH = "/hadr-prod/warm-standby/writer-region"
SECRET = "hadr-prod/warm-standby/db-master"  # noqa: S105 - a secret's name
DATABASES = {PRIMARY: "hadr-prod-warm-standby-db", STANDBY: "hadr-prod-warm-standby-db-replica"}
SIZES = {PRIMARY: (2, 2, 6), STANDBY: (1, 1, 6)}


def groups(region: str) -> list[str]:
    return [f"hadr-prod-ws-{region}-{tier}" for tier in ("web", "app")]


@pytest.fixture(scope="module")
def documents(postgres_synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """The recovery plan of the warm standby on the RDS engine (tests/test_aurora_plan.py: on Aurora)."""
    return {
        key: json.loads(postgres_synthesized.one(STACK, "aws_ssm_document", f"recovery-plan/{key}")["content"])
        for key in ("switch", "rebuild")
    }


@pytest.fixture(scope="module")
def policy(postgres_synthesized: Synthesized) -> dict[str, Any]:
    return role_policy(postgres_synthesized, STACK, "recovery-plan/role/policy")


def put_lag(region: str, identifier: str, seconds: float, minutes_ago: float = 0) -> None:
    boto3.client("cloudwatch", region_name=region).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": identifier}],
                "Value": seconds,
                "Timestamp": datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes_ago),
            }
        ],
    )


def primary_lost(minutes_ago: int, lag_before: float) -> None:
    """The replica's ReplicaLag as RDS PostgreSQL reports it when its source went away `minutes_ago`: `lag_before`
    each minute of the hour before, then the time since the last replayed transaction, growing a second a second."""
    for minute in range(minutes_ago + 60, minutes_ago, -1):
        put_lag(STANDBY, DATABASES[STANDBY], lag_before, minutes_ago=minute)
    for minute in range(minutes_ago, -1, -1):
        put_lag(STANDBY, DATABASES[STANDBY], lag_before + (minutes_ago - minute) * 60, minutes_ago=minute)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, fake_aws: None, fixups: None, documents: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Both regions as Terraform leaves them: a primary database and its cross-region replica, the master secret
    replicated, the writer parameters, the tiers at their sizes, issued certificates, the latch on the primary."""
    from moto import settings

    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 0)
    monkeypatch.setenv("AWS_DEFAULT_REGION", STANDBY)
    with mock_aws():
        primary = boto3.client("rds", region_name=PRIMARY).create_db_instance(
            DBInstanceIdentifier=DATABASES[PRIMARY], DBInstanceClass="db.t3.medium", Engine="postgres", AllocatedStorage=50,
            MasterUsername="app_admin", MasterUserPassword="x" * 40, BackupRetentionPeriod=7, DeletionProtection=True,
            EnableIAMDatabaseAuthentication=True, EnableCloudwatchLogsExports=["postgresql", "upgrade"], MaxAllocatedStorage=200,
            PreferredBackupWindow="03:00-04:00", PreferredMaintenanceWindow="sun:04:30-sun:05:30",
        )["DBInstance"]  # fmt: skip
        replica = boto3.client("rds", region_name=STANDBY).create_db_instance_read_replica(
            DBInstanceIdentifier=DATABASES[STANDBY], SourceDBInstanceIdentifier=primary["DBInstanceArn"], DBInstanceClass="db.t3.medium"
        )["DBInstance"]
        boto3.client("secretsmanager", region_name=PRIMARY).create_secret(
            Name=SECRET, SecretString=json.dumps({"username": "app_admin", "password": "x" * 40}), AddReplicaRegions=[{"Region": STANDBY}]
        )
        for region, db, writable in ((PRIMARY, primary, True), (STANDBY, replica, False)):
            regional_world(region, {"host": db["Endpoint"]["Address"], "port": db["Endpoint"]["Port"], "writable": writable})
            put_lag(region, DATABASES[region], 2)
        yield shared_world(documents)


def regional_world(region: str, writer: dict[str, Any]) -> None:
    """One region as Terraform leaves it, beside its database: the writer parameter (`writer` and the secret), the
    tiers at their sizes with a launch template, an issued certificate."""
    boto3.client("ssm", region_name=region).put_parameter(
        Name=PARAMETER, Type="SecureString", Value=json.dumps({**writer, "secret_id": SECRET})
    )
    autoscaling = boto3.client("autoscaling", region_name=region)
    data = {"ImageId": "ami-12345678", "InstanceType": "t3.small"}
    template = boto3.client("ec2", region_name=region).create_launch_template(LaunchTemplateName="tier", LaunchTemplateData=data)
    launch = {"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Latest"}  # as deployed
    low, desired, high = SIZES[region]
    for name in groups(region):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name, LaunchTemplate=launch, MinSize=low, DesiredCapacity=desired, MaxSize=high,
            AvailabilityZones=[f"{region}a"],
        )  # fmt: skip
    acm = boto3.client("acm", region_name=region)
    acm.request_certificate(DomainName=f"origin-{region}.www.example.com", ValidationMethod="DNS")


def shared_world(documents: dict[str, Any]) -> dict[str, Any]:
    """What both regions share: the latch on the primary, the plan's topic (with an inbox) and key, the assets'
    access point; the world the tests run the documents in."""
    boto3.client("ssm", region_name=STANDBY).put_parameter(Name=LATCH, Type="SecureString", Value=PRIMARY)
    topic, received = topic_with_inbox(STANDBY)
    key = boto3.client("kms", region_name=STANDBY).create_key()["KeyMetadata"]["Arn"]
    plan = {**json.loads(documents["switch"]["parameters"]["Plan"]["default"]), "topic_arn": topic, "state_key": key}
    access_point = assets_access_point(plan)
    return {"plan": json.dumps(plan), "messages": received, "topic": topic, "access_point": access_point}


def assets_access_point(plan: dict[str, Any]) -> str:
    """The assets buckets behind a Multi-Region Access Point (in-process: S3 Control would resolve an account-prefixed
    host), its ARN in the parameter the storage stack writes in each region; the routes are tools.moto_server's."""
    for region in (PRIMARY, STANDBY):
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        boto3.client("s3", region_name=region).create_bucket(Bucket=plan["regions"][region]["bucket"], **location)
    control = boto3.client("s3control", region_name="us-west-2")
    buckets = [{"Bucket": plan["regions"][region]["bucket"]} for region in (PRIMARY, STANDBY)]
    control.create_multi_region_access_point(
        AccountId=ACCOUNT, ClientToken="assets", Details={"Name": "hadr-prod-ws-assets", "Regions": buckets}
    )
    alias = control.get_multi_region_access_point(AccountId=ACCOUNT, Name="hadr-prod-ws-assets")["AccessPoint"]["Alias"]
    arn = f"arn:aws:s3::{ACCOUNT}:accesspoint/{alias}"
    for region in (PRIMARY, STANDBY):
        boto3.client("ssm", region_name=region).put_parameter(Name=plan["mrap"]["arn_parameter"], Type="String", Value=arn)
    return arn


def routes(arn: str, region: str = "eu-west-1") -> dict[str, int]:
    """The access point's routes, bucket -> traffic dial, as S3 Control answers in `region`."""
    found = boto3.client("s3control", region_name=region).get_multi_region_access_point_routes(AccountId=ACCOUNT, Mrap=arn)["Routes"]
    return {route["Bucket"]: route["TrafficDialPercentage"] for route in found}


#: What Terraform manages on the instances beyond identity and class; a failback must leave each as deployed.
MANAGED = (
    "IAMDatabaseAuthenticationEnabled", "EnabledCloudwatchLogsExports", "MaxAllocatedStorage", "BackupRetentionPeriod",
    "PreferredBackupWindow", "PreferredMaintenanceWindow", "DBInstanceClass", "MultiAZ", "StorageType", "DeletionProtection",
)  # fmt: skip


def managed_settings() -> dict[str, dict[str, Any]]:
    found = {}
    for region in (PRIMARY, STANDBY):
        db = boto3.client("rds", region_name=region).describe_db_instances(DBInstanceIdentifier=DATABASES[region])["DBInstances"][0]
        found[region] = {key: db.get(key) for key in MANAGED}
    return found


def state() -> dict[str, Any]:
    """What a switch changes, read from the emulator."""
    found: dict[str, Any] = {}
    for region in (PRIMARY, STANDBY):
        db = boto3.client("rds", region_name=region).describe_db_instances(DBInstanceIdentifier=DATABASES[region])["DBInstances"][0]
        parameter = boto3.client("ssm", region_name=region).get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"]
        sized = boto3.client("autoscaling", region_name=region).describe_auto_scaling_groups(AutoScalingGroupNames=groups(region))
        found[region] = {
            "replica_of": (db.get("ReadReplicaSourceDBInstanceIdentifier") or "").rsplit(":", 1)[-1] or None,
            "writable": json.loads(parameter)["writable"],
            "host": json.loads(parameter)["host"],
            "sizes": {
                g["AutoScalingGroupName"].rsplit("-", 1)[1]: (g["MinSize"], g["DesiredCapacity"], g["MaxSize"])
                for g in sized["AutoScalingGroups"]
            },
        }
    found["latch"] = boto3.client("ssm", region_name=STANDBY).get_parameter(Name=LATCH, WithDecryption=True)["Parameter"]["Value"]
    found["secret_home"] = boto3.client("secretsmanager", region_name=STANDBY).describe_secret(SecretId=SECRET).get("PrimaryRegion")
    return found


def messages(world: dict[str, Any]) -> list[str]:
    return world["messages"]()


def run(
    documents: dict[str, Any],
    policy: dict[str, Any],
    world: dict[str, Any],
    key: str,
    approvals: list[str] | None = None,
    **parameters: Any,
) -> Execution:
    """Run the document as the plan's role (IAM enforced); approvals are recorded, and granted unless "refuse" is set."""

    refuse = parameters.pop("refuse", False)
    dark = parameters.pop("dark", set())

    def approve(inputs: Any) -> bool:
        if approvals is not None:
            approvals.append(inputs["Message"])
        return not refuse

    values = {
        "AutomationAssumeRole": "arn:aws:iam::123456789012:role/plan",
        "Plan": world["plan"],
        "TopicArn": world["topic"],
        "Approvers": ["arn:aws:iam::123456789012:role/approver"],
        **parameters,
    }
    return act_as(
        policy,
        lambda clients: run_document(documents[key], values, region=STANDBY, clients=in_outage(clients, dark), approve=approve),
        service="ssm.amazonaws.com",
        region=STANDBY,
    )


def test_a_practice_run_checks_and_reports_without_changing_anything(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    before = state()
    execution = run(documents, policy, world, "switch", Practice="true")
    assert execution.ran() == ["preChecks", "decideOnPractice", "practiceReport"]
    assert execution.outputs["preChecks.Ready"] is True, execution.outputs["preChecks.Problems"]
    assert state() == before
    assert [m.split(":")[0] for m in messages(world)] == ["Practice"]
    ready = boto3.client("cloudwatch", region_name=STANDBY).get_metric_statistics(
        Namespace="HADR/WarmStandby", MetricName="StandbyReady",
        Dimensions=[{"Name": "Deployment", "Value": "hadr-prod-warm-standby"}, {"Name": "TargetRegion", "Value": STANDBY}],
        StartTime=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5),
        EndTime=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1),
        Period=60, Statistics=["Minimum"],
    )["Datapoints"]  # fmt: skip
    assert [point["Minimum"] for point in ready] == [1.0]


def test_a_lagging_replica_is_not_ready_and_the_switch_changes_nothing(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    put_lag(STANDBY, DATABASES[STANDBY], 900)
    before = state()
    with pytest.raises(AutomationFailed) as failure:
        run(documents, policy, world, "switch", approvals=[])
    assert failure.value.step == "notifyNotReadyFail"
    assert "replica hadr-prod-warm-standby-db-replica is 900 s behind, over the RPO of 300 s" in str(failure.value)
    assert state() == before


def test_an_approved_failover_switches_fences_and_a_second_run_is_a_no_op(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    approvals: list[str] = []
    execution = run(documents, policy, world, "switch", approvals=approvals, Reason="drill")
    assert len(approvals) == 1 and "Approve to make us-west-1 the writer; us-east-1 is fenced" in approvals[0]
    order = ["scaleTarget", "approve", "fenceSource", "promote", "waitPromoted", "takeOverCredentials", "repointApp", "moveWrites",
             "routeStorage", "waitCapacity", "verify", "decideOnRest", "notifyDone"]  # fmt: skip
    assert [name for name in execution.ran() if name in order] == order
    after = state()
    assert after[STANDBY]["replica_of"] is None and after[STANDBY]["writable"] is True
    assert after[STANDBY]["sizes"] == {"web": (2, 2, 6), "app": (2, 2, 6)}
    # Fencing: the old primary's app tier is gone and its parameter points nowhere writable.
    assert after[PRIMARY]["writable"] is False and after[PRIMARY]["host"] == ""
    assert after[PRIMARY]["sizes"]["app"][:2] == (0, 0)
    assert after["latch"] == STANDBY and after["secret_home"] in (None, STANDBY)
    assert execution.outputs["fenceSource.Fenced"] is True
    assert any(m.startswith("Switched to us-west-1") for m in messages(world))
    plan = json.loads(world["plan"])
    assert routes(world["access_point"]) == {plan["regions"][PRIMARY]["bucket"]: 0, plan["regions"][STANDBY]["bucket"]: 100}
    assert execution.outputs["routeStorage.Changed"] is True and "through us-east-1;" in execution.outputs["routeStorage.Detail"]
    assert execution.outputs["preChecks.Mode"] == "switchover"

    again = run(documents, policy, world, "switch", approvals=approvals)
    assert len(approvals) == 1, "a second run asks for no approval: the standby is already the writer"
    assert "approve" not in again.ran() and "promote" not in again.ran()
    assert again.outputs["verify.Verified"] is True
    assert state() == after, "the second run changed something"


def test_a_refused_approval_scales_the_standby_back_and_changes_nothing_else(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """The standby's instances launch before the approval (so they are ready when it comes); refused, its groups go
    back to their configured sizes and nothing else has changed."""
    before = state()
    with pytest.raises(AutomationFailed) as failure:
        run(documents, policy, world, "switch", approvals=[], refuse=True)
    assert failure.value.step == "notifyFailedFail"
    ran = [record.name for record in failure.value.record]
    assert ran.index("scaleTarget") < ran.index("approve") < ran.index("restRefused0") < ran.index("restRefused1")
    scaled = next(record for record in failure.value.record if record.name == "scaleTarget")
    assert scaled.outputs["Changed"] is True
    assert state() == before


def test_the_plan_role_lacking_a_permission_fails_the_switch(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    with pytest.raises(AutomationFailed) as failure:
        run(documents, without(policy, "rds:PromoteReadReplica"), world, "switch", approvals=[])
    promote = next(record for record in failure.value.record if record.name == "promote")
    assert promote.outcome == "Failed" and "AccessDenied" in promote.error
    assert state()[STANDBY]["replica_of"] == DATABASES[PRIMARY]


def test_failback_rebuilds_switches_back_and_rebuilds_what_terraform_deployed(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    deployed = state()
    settings = managed_settings()
    assert settings[PRIMARY]["EnabledCloudwatchLogsExports"] == ["postgresql", "upgrade"], "the world holds what Terraform sets"
    run(documents, policy, world, "switch", approvals=[])
    rotated = json.dumps({"username": "app_admin", "password": "y" * 40})
    boto3.client("secretsmanager", region_name=STANDBY).put_secret_value(SecretId=SECRET, SecretString=rotated)  # rotated while failed over
    approvals: list[str] = []
    run(documents, policy, world, "rebuild", approvals=approvals, Region=PRIMARY)
    assert "Rebuild the database in us-east-1 as a replica" in approvals[0]
    assert state()[PRIMARY]["replica_of"] == DATABASES[STANDBY]
    snapshots = boto3.client("rds", region_name=PRIMARY).describe_db_snapshots(DBInstanceIdentifier=DATABASES[PRIMARY])["DBSnapshots"]
    final = [s["DBSnapshotIdentifier"] for s in snapshots if s["DBSnapshotIdentifier"].startswith(f"{DATABASES[PRIMARY]}-before-rebuild-")]
    assert final, "the old writer's final snapshot keeps what the standby never saw"
    put_lag(PRIMARY, DATABASES[PRIMARY], 1)
    run(documents, policy, world, "switch", approvals=approvals, TargetRegion=PRIMARY)
    run(documents, policy, world, "rebuild", approvals=approvals, Region=STANDBY)
    restored = state()
    assert restored["latch"] == PRIMARY
    assert restored["secret_home"] == PRIMARY, "the standby's copy replicates from the primary again, as Terraform deployed it"
    for region in (PRIMARY, STANDBY):
        value = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=SECRET)["SecretString"]
        assert value == rotated, f"{region}: the password the databases use now"
    assert restored[PRIMARY]["replica_of"] is None and restored[PRIMARY]["writable"] is True
    assert restored[STANDBY]["replica_of"] == DATABASES[PRIMARY] and restored[STANDBY]["writable"] is False
    for region in (PRIMARY, STANDBY):
        assert restored[region]["sizes"] == deployed[region]["sizes"], f"{region}: back to the configured sizes"
    assert managed_settings() == settings, "the rebuilt instances keep every setting Terraform manages"
    plan = json.loads(world["plan"])
    assert routes(world["access_point"]) == {plan["regions"][region]["bucket"]: 100 for region in (PRIMARY, STANDBY)}, "as created"
    again = run(documents, policy, world, "rebuild", approvals=approvals, Region=STANDBY)
    assert "retireOldWriter" not in again.ran(), "a rebuilt replica is not rebuilt again"


def test_capacity_is_checked_for_what_the_standby_groups_launch(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """The standby's app group launches, through a new launch template, a type EC2 does not offer in us-west-1: not
    ready, whatever the primary's groups launch."""
    ec2 = boto3.client("ec2", region_name=STANDBY)
    template = ec2.create_launch_template(
        LaunchTemplateName="app", LaunchTemplateData={"ImageId": "ami-12345678", "InstanceType": "hpc6a.48xlarge"}
    )
    group = f"hadr-prod-ws-{STANDBY}-app"
    spec = {"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"], "Version": "$Latest"}
    boto3.client("autoscaling", region_name=STANDBY).update_auto_scaling_group(AutoScalingGroupName=group, LaunchTemplate=spec)
    with pytest.raises(AutomationFailed) as failure:
        run(documents, policy, world, "switch", approvals=[])
    assert failure.value.step == "notifyNotReadyFail"
    assert f"{group} launches instance type hpc6a.48xlarge, not offered in us-west-1" in str(failure.value)
    assert f"hadr-prod-ws-{STANDBY}-web launches" not in str(failure.value), "the web group's t3.small is offered"


def test_with_the_primary_region_dark_and_the_lag_growing_the_failover_goes_ahead_and_states_the_loss(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """A regional outage: every call to us-east-1 fails to connect, and the replica's lag has grown for 20 minutes
    since its source went away (1,202 s, four times the RPO). A failover: it loses what the replica had not replayed
    then (2 s, within the RPO), says so in the approval request, fences by the latch only, and routes storage
    through the next S3 failover endpoint."""
    primary_lost(minutes_ago=20, lag_before=2)
    approvals: list[str] = []
    execution = run(documents, policy, world, "switch", approvals=approvals, dark={PRIMARY})
    assert execution.outputs["preChecks.Mode"] == "failover (source database did not answer (EndpointConnectionError))"
    assert execution.outputs["preChecks.DataLoss"].startswith("about 2 s of writes (ReplicaLag before replay stopped at ")
    assert "Mode: failover" in approvals[0] and "Estimated data loss: about 2 s of writes" in approvals[0]
    assert execution.outputs["fenceSource.Fenced"] is False
    detail = execution.outputs["routeStorage.Detail"]
    assert "through us-west-2 (us-east-1: EndpointConnectionError did not answer)" in detail, detail
    after = state()
    assert after[STANDBY]["replica_of"] is None and after[STANDBY]["writable"] is True and after["latch"] == STANDBY
    assert after[PRIMARY]["writable"] is True, "the dark primary was not fenced (the latch keeps writes away from it)"
    assert execution.outputs["verify.Detail"].endswith("source did not answer: not checked")


def test_a_failover_losing_more_than_the_rpo_waits_for_an_explicit_acceptance(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """The replica was 600 s behind when the primary's region went dark: refused, naming the estimate and how to
    accept it; with AcceptDataLoss=true it goes ahead, and the acceptance is in the report."""
    primary_lost(minutes_ago=15, lag_before=600)
    before = state()
    with pytest.raises(AutomationFailed) as failure:
        run(documents, policy, world, "switch", approvals=[], dark={PRIMARY})
    assert failure.value.step == "notifyNotReadyFail"
    assert "the data loss is over the RPO of 300 s: about 600 s of writes" in str(failure.value)
    assert "start again with AcceptDataLoss=true to accept it" in str(failure.value)
    assert state() == before
    approvals: list[str] = []
    execution = run(documents, policy, world, "switch", approvals=approvals, dark={PRIMARY}, AcceptDataLoss="true")
    assert "data loss about 600 s of writes" in approvals[0] and "accepted by the operator (AcceptDataLoss=true)" in approvals[0]
    assert execution.outputs["verify.Verified"] is True


def test_pre_checks_that_cannot_run_and_a_failed_rebuild_step_page_with_what_to_do(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    with pytest.raises(AutomationFailed) as failure:
        run(documents, without(policy, "ec2:DescribeInstanceTypes"), world, "switch", approvals=[])
    assert failure.value.step == "notifyCheckFailedFail"
    assert [m for m in messages(world) if m.startswith("Switch to us-west-1: pre-checks FAILED: ")] != []
    run(documents, policy, world, "switch", approvals=[])
    messages(world)
    with pytest.raises(AutomationFailed) as failure:
        run(documents, without(policy, "rds:DeleteDBInstance"), world, "rebuild", approvals=[], Region=PRIMARY)
    assert failure.value.step == "notifyFailedFail"
    paged = [m for m in messages(world) if m.startswith("Rebuild of the replica in us-east-1 INCOMPLETE: A step of the rebuild")]
    assert paged and "Run the rebuild again to resume" in paged[0]


@pytest.mark.parametrize(
    ("service", "action", "why"),
    [
        (row.via, action, row.call)  # what AWS requires of the caller, per call: stacks.plan_permissions (pages there)
        for row in PLAN_CALLS
        if row.key in ("region_keys", "parameter_keys")
        for action in row.kms
    ],
)
def test_the_plan_role_may_use_each_regions_keys_for_what_its_services_ask_of_the_caller(
    policy: dict[str, Any], service: str, action: str, why: str
) -> None:
    """The services call KMS as the plan role (kms:ViaService): what each needs beyond the API action itself, on any
    key of either region; the same action through any other service, or with no service, is refused."""
    from tools.moto_server import decision

    for region in (PRIMARY, STANDBY):
        key = f"arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        via = {"kms:viaservice": f"{service}.{region}.amazonaws.com"}
        assert decision([policy], action, key, via) == "allowed", f"{why}: {action} through {service} in {region}"
        assert decision([policy], action, key, {"kms:viaservice": f"s3.{region}.amazonaws.com"}) != "allowed"
        assert decision([policy], action, key, {}) != "allowed"
