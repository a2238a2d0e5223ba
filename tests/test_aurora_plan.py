"""The warm standby's recovery plan on the Aurora engine (the example), as synthesized, run against moto as its own
role with IAM enforced: with the primary healthy the switch is a switchover (nothing lost); with the primary's
region dark it is a failover that allows data loss, bounded by rds.global_db_rpo or else by the lag measured before
(refused over the RPO, or with no lag data, unless accepted); the failback waits for Aurora to bring the old primary
back as a secondary, switches over to it and leaves what Terraform deployed. moto has neither FailoverGlobalCluster
nor SwitchoverGlobalCluster: tools.moto_server's fix-up holds AWS's documented behaviour."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import Synthesized, role_policy, without
from tests.test_failover_plan import DATABASES, PRIMARY, SECRET, STACK, STANDBY, messages, regional_world, run, shared_world
from tools.automation import AutomationFailed

GLOBAL = "hadr-prod-warm-standby-global-db"


@pytest.fixture(scope="module")
def documents(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {key: json.loads(synthesized.one(STACK, "aws_ssm_document", f"recovery-plan/{key}")["content"]) for key in ("switch", "rebuild")}


@pytest.fixture(scope="module")
def policy(synthesized: Synthesized) -> dict[str, Any]:
    return role_policy(synthesized, STACK, "recovery-plan/role/policy")


def put_rpo_lag(region: str, seconds: float, minutes_ago: float = 0) -> None:
    """AuroraGlobalDBRPOLag of `region`'s cluster, as Aurora reports it there (milliseconds)."""
    boto3.client("cloudwatch", region_name=region).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "AuroraGlobalDBRPOLag",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": DATABASES[region]}],
                "Value": seconds * 1000,
                "Unit": "Milliseconds",
                "Timestamp": datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes_ago),
            }
        ],
    )


def cluster_in(region: str, *, credentials: bool) -> dict[str, Any]:
    """`region`'s cluster of the global database and its instance (the primary names the master user)."""
    rds = boto3.client("rds", region_name=region)
    user = {"MasterUsername": "app_admin", "MasterUserPassword": "x" * 40} if credentials else {}
    found = rds.create_db_cluster(
        DBClusterIdentifier=DATABASES[region], Engine="aurora-postgresql", EngineVersion="16.4", GlobalClusterIdentifier=GLOBAL,
        StorageEncrypted=True, DeletionProtection=True, BackupRetentionPeriod=7, **user,
    )["DBCluster"]  # fmt: skip
    rds.create_db_instance(
        DBInstanceIdentifier=f"{DATABASES[region]}-1", DBClusterIdentifier=DATABASES[region], Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )  # fmt: skip
    return found


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, fake_aws: None, fixups: None, documents: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Both regions as Terraform leaves them: the global database (the primary's cluster writing, the standby's a
    secondary), the master secret replicated, the writer parameters, the tiers, certificates, the latch."""
    from moto import settings

    monkeypatch.setattr(settings, "ACM_VALIDATION_WAIT", 0)
    monkeypatch.setenv("AWS_DEFAULT_REGION", STANDBY)
    with mock_aws():
        boto3.client("rds", region_name=PRIMARY).create_global_cluster(
            GlobalClusterIdentifier=GLOBAL, Engine="aurora-postgresql", EngineVersion="16.4", StorageEncrypted=True
        )
        primary, secondary = cluster_in(PRIMARY, credentials=True), cluster_in(STANDBY, credentials=False)
        boto3.client("secretsmanager", region_name=PRIMARY).create_secret(
            Name=SECRET, SecretString=json.dumps({"username": "app_admin", "password": "x" * 40}), AddReplicaRegions=[{"Region": STANDBY}]
        )
        for region, found, writable in ((PRIMARY, primary, True), (STANDBY, secondary, False)):
            regional_world(region, {"host": found["Endpoint"], "port": found["Port"], "writable": writable})
        yield shared_world(documents)  # no lag data yet: the tests that need it put it


def roles() -> dict[str, bool]:
    """Each region's cluster: is it the global database's writer?"""
    members = boto3.client("rds", region_name=STANDBY).describe_global_clusters(GlobalClusterIdentifier=GLOBAL)["GlobalClusters"][0]
    writers = {member["DBClusterArn"].split(":")[3]: member["IsWriter"] for member in members["GlobalClusterMembers"]}
    return {region: writers[region] for region in (PRIMARY, STANDBY)}


def parameter(region: str) -> dict[str, Any]:
    value = boto3.client("ssm", region_name=region).get_parameter(Name="/hadr-prod/warm-standby/database", WithDecryption=True)
    return json.loads(value["Parameter"]["Value"])


def latch() -> str:
    return boto3.client("ssm", region_name=STANDBY).get_parameter(Name="/hadr-prod/warm-standby/writer-region", WithDecryption=True)[
        "Parameter"
    ]["Value"]


def endpoint(region: str) -> str:
    return boto3.client("rds", region_name=region).describe_db_clusters(DBClusterIdentifier=DATABASES[region])["DBClusters"][0]["Endpoint"]


def without_global_rpo(world: dict[str, Any]) -> dict[str, Any]:
    """The world of a deployment whose primary's cluster leaves rds.global_db_rpo unset."""
    return {**world, "plan": json.dumps({**json.loads(world["plan"]), "global_rpo_seconds": None})}


def test_the_plan_is_the_global_databases(documents: dict[str, Any]) -> None:
    plan = json.loads(documents["switch"]["parameters"]["Plan"]["default"])
    assert (plan["engine"], plan["global_cluster"], plan["global_rpo_seconds"]) == ("aurora-postgresql", GLOBAL, 60)


def test_a_practice_run_with_the_primary_healthy_plans_a_switchover_and_changes_nothing(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    execution = run(documents, policy, world, "switch", Practice="true")
    assert execution.outputs["preChecks.Ready"] is True, execution.outputs["preChecks.Problems"]
    assert execution.outputs["preChecks.Mode"] == "switchover (SwitchoverGlobalCluster)"
    assert execution.outputs["preChecks.DataLoss"] == "none: Aurora synchronizes the secondary before it switches"
    assert roles() == {PRIMARY: True, STANDBY: False} and latch() == PRIMARY


def test_an_approved_switch_with_the_primary_healthy_switches_over_and_a_second_run_is_a_no_op(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    approvals: list[str] = []
    execution = run(documents, policy, world, "switch", approvals=approvals)
    assert len(approvals) == 1
    assert roles() == {PRIMARY: False, STANDBY: True}, "the standby's cluster writes; the old primary is its secondary"
    assert parameter(STANDBY) == {"host": endpoint(STANDBY), "port": 5432, "writable": True, "secret_id": SECRET}
    assert parameter(PRIMARY)["writable"] is False and latch() == STANDBY
    assert execution.outputs["fenceSource.Fenced"] is True and execution.outputs["verify.Verified"] is True
    assert any(m.startswith("Switched to us-west-1") for m in messages(world))
    again = run(documents, policy, world, "switch", approvals=approvals)
    assert len(approvals) == 1 and "promote" not in again.ran(), "already the writer: no approval, no promotion"
    assert roles() == {PRIMARY: False, STANDBY: True}


def test_an_operator_accepting_the_loss_fails_over_a_primary_that_answers_but_cannot_switch_over(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """A switchover needs every cluster healthy; an operator whose primary answers but cannot complete one starts the
    plan with AcceptDataLoss=true and gets the failover (FailoverGlobalCluster), as the role proves: without that
    permission the promotion is refused."""
    with pytest.raises(AutomationFailed) as failure:
        run(documents, without(policy, "rds:FailoverGlobalCluster"), world, "switch", approvals=[], AcceptDataLoss="true")
    assert failure.value.record[0].outputs["Mode"].startswith("failover (source cluster available; FailoverGlobalCluster")
    promote = next(record for record in failure.value.record if record.name == "promote")
    assert promote.outcome == "Failed" and "AccessDenied" in promote.error
    assert roles() == {PRIMARY: True, STANDBY: False}


def test_with_the_primary_region_dark_the_failover_allows_data_loss_bounded_by_the_global_rpo(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """A regional outage: every call to us-east-1 fails to connect and the lag metric stopped 20 minutes ago (the
    primary went away). A failover with AllowDataLoss, its loss bounded by rds.global_db_rpo (60 s, within the RPO)."""
    approvals: list[str] = []
    execution = run(documents, policy, world, "switch", approvals=approvals, dark={PRIMARY})
    assert execution.outputs["preChecks.Mode"] == (
        "failover (source cluster did not answer (EndpointConnectionError); FailoverGlobalCluster with AllowDataLoss)"
    )
    assert execution.outputs["preChecks.DataLoss"] == "at most 60 s of writes (rds.global_db_rpo: commits wait past it)"
    assert "Estimated data loss: at most 60 s of writes" in approvals[0]
    assert roles()[STANDBY] is True and latch() == STANDBY
    assert parameter(STANDBY)["writable"] is True and parameter(PRIMARY)["writable"] is True, "the dark primary is fenced by the latch"
    assert execution.outputs["fenceSource.Fenced"] is False
    assert execution.outputs["verify.Detail"].endswith("source did not answer: not checked")


def test_without_the_global_rpo_a_failover_is_bounded_by_the_lag_measured_before_or_waits_for_acceptance(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """Without rds.global_db_rpo: the secondary was 600 s behind before the primary's region went dark: refused,
    naming the estimate; with AcceptDataLoss=true it goes ahead. With no lag data at all (metrics stopped) the loss
    is unknown: refused as well."""
    unbounded = without_global_rpo(world)
    put_rpo_lag(STANDBY, 600, minutes_ago=3)
    with pytest.raises(AutomationFailed) as failure:
        run(documents, policy, unbounded, "switch", approvals=[], dark={PRIMARY})
    assert "the data loss is over the RPO of 300 s: about 600 s of writes" in str(failure.value)
    assert roles() == {PRIMARY: True, STANDBY: False}
    execution = run(documents, policy, unbounded, "switch", approvals=[], dark={PRIMARY}, AcceptDataLoss="true")
    assert "accepted by the operator (AcceptDataLoss=true)" in execution.outputs["preChecks.Warnings"]
    assert roles()[STANDBY] is True


def test_with_no_lag_data_and_no_global_rpo_the_loss_is_unknown_and_refused(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    """The metrics stopped (no AuroraGlobalDBRPOLag in 15 minutes) and nothing bounds the loss: refused."""
    put_rpo_lag(STANDBY, 1, minutes_ago=40)
    with pytest.raises(AutomationFailed) as failure:
        run(documents, policy, without_global_rpo(world), "switch", approvals=[], dark={PRIMARY})
    assert failure.value.step == "notifyNotReadyFail"
    assert "the data loss cannot be estimated (no AuroraGlobalDBRPOLag in 15 minutes): unknown" in str(failure.value)
    assert roles() == {PRIMARY: True, STANDBY: False}


def test_the_plan_role_lacking_the_failover_permission_fails_the_switch(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    with pytest.raises(AutomationFailed) as failure:
        run(documents, without(policy, "rds:FailoverGlobalCluster"), world, "switch", approvals=[], dark={PRIMARY})
    promote = next(record for record in failure.value.record if record.name == "promote")
    assert promote.outcome == "Failed" and "AccessDenied" in promote.error
    assert roles() == {PRIMARY: True, STANDBY: False}


def test_failback_waits_for_the_old_primary_as_a_secondary_switches_over_and_restores_what_terraform_deployed(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    deployed = {region: parameter(region) for region in (PRIMARY, STANDBY)}
    run(documents, policy, world, "switch", approvals=[], dark={PRIMARY})
    # The primary's region is back: Aurora has made its cluster a secondary (the fix-up keeps it a member); its lag
    # is reported there now.
    put_rpo_lag(PRIMARY, 0.4)
    approvals: list[str] = []
    rebuilt = run(documents, policy, world, "rebuild", approvals=approvals, Region=PRIMARY)
    assert approvals == [] and "retireOldWriter" not in rebuilt.ran(), "nothing to delete: Aurora rejoined it"
    assert parameter(PRIMARY) == {**deployed[PRIMARY], "writable": False}
    run(documents, policy, world, "switch", approvals=approvals, TargetRegion=PRIMARY)
    assert roles() == {PRIMARY: True, STANDBY: False} and latch() == PRIMARY
    put_rpo_lag(STANDBY, 0.3)
    run(documents, policy, world, "rebuild", approvals=approvals, Region=STANDBY)
    assert {region: parameter(region) for region in (PRIMARY, STANDBY)} == deployed, "the parameters as Terraform wrote them"
    sizes = boto3.client("autoscaling", region_name=STANDBY).describe_auto_scaling_groups()["AutoScalingGroups"]
    assert {(g["MinSize"], g["DesiredCapacity"]) for g in sizes} == {(1, 1)}, "the standby rests at its configured size"


def test_a_cluster_outside_the_global_database_is_not_rebuilt_and_the_page_says_what_to_do(
    world: dict[str, Any], documents: dict[str, Any], policy: dict[str, Any]
) -> None:
    run(documents, policy, world, "switch", approvals=[], dark={PRIMARY})
    boto3.client("rds", region_name=PRIMARY).remove_from_global_cluster(  # in the detached cluster's region
        GlobalClusterIdentifier=GLOBAL, DbClusterIdentifier=f"arn:aws:rds:{PRIMARY}:123456789012:cluster:{DATABASES[PRIMARY]}"
    )
    with pytest.raises(AutomationFailed) as failure:
        run(documents, policy, world, "rebuild", approvals=[], Region=PRIMARY)
    inspect = next(record for record in failure.value.record if record.name == "inspect")
    assert inspect.outcome == "Failed" and "is detached, not a secondary of hadr-prod-warm-standby-global-db" in inspect.error
    assert "snapshot and delete it, then apply the region's stack" in inspect.error
    assert any("Rebuild of the replica in us-east-1 INCOMPLETE" in m for m in messages(world))
