"""The local pipeline for real: the state backend, one regional stack of each architecture, and the warm standby's
storage and standby region are deployed into moto with Terraform (S3 backend and lock table in the emulator), the
failover is drilled through its trigger path (decision function, recovery plan, approval) and failed back, and
everything is destroyed again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG
from tools import local
from tools.emulator import Emulator

STACKS = ["state-bootstrap", "active-active-eu-west-1", "warm-standby-storage", "warm-standby-us-east-1", "warm-standby-us-west-1"]
LEFT_OUT = (
    "aws_route53_resolver_firewall_config",
    "aws_route53_resolver_firewall_rule_group_association",
    "aws_backup_selection",
    "aws_resiliencehub_resiliency_policy",
    "aws_s3control_multi_region_access_point",
)


@pytest.mark.emulator
@pytest.mark.terraform
def test_deploy_drill_and_destroy_in_the_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "SESSION_DIR", tmp_path / "session")
    monkeypatch.setattr(local, "SESSION_FILE", tmp_path / "session" / "session.json")
    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "cdktf.local")
    outdir = tmp_path / "cdktf.local"
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        session, results, drifted = local.deploy(EXAMPLE_CONFIG, stacks=STACKS, emulator=emulator)
        assert [r.stack for r in results] == STACKS and all(r.ok for r in results)
        assert all(item.known for item in drifted), "deploy raises on drift beyond the emulator's known differences"
        used = {
            (kind, prefix)
            for item in drifted
            for path in item.causes
            for (kind, prefix) in local.KNOWN_EMULATOR_DRIFT
            if item.address.startswith(f"{kind}.") and local.known_drift(kind, path) == local.KNOWN_EMULATOR_DRIFT[(kind, prefix)]
        }
        deployed_types = {
            kind for r in results for kind in json.loads((outdir / "stacks" / r.stack / "cdk.tf.json").read_text())["resource"]
        }
        needed = {entry for entry in local.KNOWN_EMULATOR_DRIFT if entry[0] in deployed_types}
        assert needed - used == set(), "an entry no drift needs any more: remove it"
        for result in results:
            resources = json.loads((outdir / "stacks" / result.stack / "cdk.tf.json").read_text())["resource"]
            assert result.summary == f"{sum(len(items) for items in resources.values())} added, 0 changed, 0 destroyed"
            assert not set(resources) & set(LEFT_OUT), result.stack
        s3 = emulator.client("s3", "us-east-2")
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket="hadr-prod-tfstate-123456789012")["Contents"]}
        assert {f"hadr/prod/{name}.tfstate" for name in STACKS[1:]} <= keys, "the regional stacks keep their state in the emulated bucket"
        assert session.emulator().alive()

        steps = local.drill(session)
        assert [name for name, _, _ in steps] == [
            "force_signal_alarms",
            "trigger_rule_matches",
            "decision_and_recovery_plan",
            "verify_failover_writer",
            "verify_failover_fencing",
            "verify_failover_sizes",
            "second_decision_is_a_no_op",
            "failback_rebuild_us-east-1",
            "failback_switch_us-east-1",
            "failback_rebuild_us-west-1",
            "verify_failback_writer",
            "verify_failback_replica",
            "verify_failback_sizes",
        ]
        rds = emulator.client("rds", "us-west-1")
        (db,) = rds.describe_db_instances(DBInstanceIdentifier="hadr-prod-warm-standby-db-replica")["DBInstances"]
        assert db["ReadReplicaSourceDBInstanceIdentifier"].endswith(":db:hadr-prod-warm-standby-db"), "failed back: a replica again"

        destroyed = local.destroy(session)
        assert [r.stack for r in destroyed] == STACKS[::-1] and all(r.ok for r in destroyed)
        assert not emulator.alive(), "destroy stops the emulator"
    assert not (tmp_path / "session").exists() and not (tmp_path / "cdktf.local.state").exists()


def test_iam_enforcement_switches_on_and_off(tmp_path: Path) -> None:
    """With enforcement on, the fake credentials that deploy everything are refused; off again, they work."""
    from botocore.exceptions import ClientError

    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        emulator.enforce_iam(True)
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            emulator.client("s3", "us-east-1").list_buckets()
        emulator.enforce_iam(False)
        assert emulator.client("s3", "us-east-1").list_buckets()["Buckets"] == []


@pytest.mark.terraform
def test_a_create_the_emulator_completed_before_the_provider_retried_is_imported_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the provider's client can give up on a create that moto then completes; the retry
    finds the name taken (WAFDuplicateItemException). deploy-local imports that resource and applies again."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    visibility = {"cloudwatch_metrics_enabled": False, "metric_name": "acl", "sampled_requests_enabled": False}
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        stack = {
            "terraform": {
                "backend": {"local": {"path": str(tmp_path / "acl.tfstate")}},
                "required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}},
            },
            "provider": {
                "aws": [
                    {
                        "region": "eu-west-1",
                        "endpoints": [{"wafv2": emulator.endpoint, "sts": emulator.endpoint}],
                        "skip_credentials_validation": True,
                        "skip_requesting_account_id": True,
                        "skip_metadata_api_check": "true",
                        "max_retries": 2,
                    }
                ]
            },
            "resource": {
                "aws_wafv2_web_acl": {
                    "acl": {"name": "retried-acl", "scope": "REGIONAL", "default_action": {"allow": {}}, "visibility_config": visibility}
                }
            },
        }
        stack_dir = tmp_path / "out" / "stacks" / "waf"
        stack_dir.mkdir(parents=True)
        (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
        wafv2 = emulator.client("wafv2", "eu-west-1")
        created = wafv2.create_web_acl(
            Name="retried-acl",
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig={"CloudWatchMetricsEnabled": False, "MetricName": "acl", "SampledRequestsEnabled": False},
        )["Summary"]
        result = local.plan_and_apply(stack_dir, {**terraform_env(), **emulator.environment()}, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary == "0 added, 0 changed, 0 destroyed (after importing 1 resource(s) created by a retried call)"
        assert [acl["Id"] for acl in wafv2.list_web_acls(Scope="REGIONAL")["WebACLs"]] == [created["Id"]]
        state = json.loads((tmp_path / "acl.tfstate").read_text())
        assert state["resources"][0]["instances"][0]["attributes"]["id"] == created["Id"]
        assert local.adopt_duplicates(emulator, stack_dir, "Error: something else\n\n  with aws_wafv2_web_acl.acl,\n", {}) == []


def test_drift_is_known_only_when_the_emulator_explains_every_cause() -> None:
    def change(address: str, before: dict, after: dict, unknown: dict | None = None, actions: tuple = ("update",)) -> dict:
        body = {"actions": list(actions), "before": before, "after": after, "after_unknown": unknown or {}}
        return {"address": address, "type": address.split(".", maxsplit=1)[0], "mode": "managed", "change": body}

    described = change("aws_vpc_security_group_egress_rule.out", {"description": None}, {"description": "HTTPS out"})
    certificate = change(
        "aws_acm_certificate.c",
        {"key_algorithm": "RSA_2048", "early_renewal_duration": ""},
        {"key_algorithm": "EC_prime256v1", "early_renewal_duration": None},
        actions=("delete", "create"),
    )
    certificate["change"]["replace_paths"] = [["key_algorithm"]]  # what forces it; the rest is recreated with it
    follower = change("aws_lb_listener.l", {"certificate_arn": "arn:old", "port": 443}, {"port": 443}, {"certificate_arn": True})
    tagged = change("aws_s3_bucket.b", {"tags": {}}, {"tags": {"owner": "me"}})
    known = local.classify_drift("s", [described, certificate, follower])
    assert [(d.address, d.causes, d.known) for d in known] == [
        ("aws_vpc_security_group_egress_rule.out", ("description",), True),
        ("aws_acm_certificate.c", ("key_algorithm",), True),
        ("aws_lb_listener.l", (), True),
    ]
    mixed = local.classify_drift("s", [tagged, follower])
    assert [(d.address, d.known) for d in mixed] == [("aws_s3_bucket.b", False), ("aws_lb_listener.l", False)]
    assert [d.known for d in local.classify_drift("s", [follower])] == [False], "a change with no cause anywhere is not explained"
    assert local.known_drift("aws_cloudfront_distribution", "ordered_cache_behavior[1].forwarded_values[0].headers")
    assert not local.known_drift("aws_cloudfront_distribution", "ordered_cache_behavior[1].target_origin_id")


@pytest.mark.terraform
def test_a_state_lock_left_by_a_retried_lock_request_is_released_and_the_stack_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load a lock request can be retried after the emulator took it; the retry then finds the lock taken
    (ConditionalCheckFailedException) and the plan fails. deploy-local releases that lock and plans again."""
    from tools.terraform import terraform_env

    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "out")
    with Emulator(log_file=tmp_path / "moto.log") as emulator:
        emulator.client("s3", "us-east-2").create_bucket(Bucket="state", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
        dynamodb = emulator.client("dynamodb", "us-east-2")
        dynamodb.create_table(
            TableName="locks",
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        info = {"ID": "5d0c8f4e-0000-4000-8000-000000000001", "Operation": "OperationTypePlan", "Who": "root@vm", "Version": "1.11.4",
                "Created": "2026-11-23T18:47:25Z", "Path": "state/app.tfstate", "Info": ""}  # fmt: skip
        dynamodb.put_item(TableName="locks", Item={"LockID": {"S": "state/app.tfstate"}, "Info": {"S": json.dumps(info)}})
        endpoints = {"s3": emulator.endpoint, "dynamodb": emulator.endpoint, "sts": emulator.endpoint, "iam": emulator.endpoint}
        stack = {
            "terraform": {
                "backend": {
                    "s3": {
                        "bucket": "state",
                        "key": "app.tfstate",
                        "region": "us-east-2",
                        "dynamodb_table": "locks",
                        "endpoints": endpoints,
                        "use_path_style": True,
                        "skip_credentials_validation": True,
                        "skip_metadata_api_check": True,
                    }
                }
            },
            "resource": {"terraform_data": {"release": {"input": "v1"}}},
        }
        stack_dir = tmp_path / "out" / "stacks" / "app"
        stack_dir.mkdir(parents=True)
        (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
        result = local.plan_and_apply(stack_dir, {**terraform_env(), **emulator.environment()}, emulator)
        assert result.ok, result.output[-3000:]
        assert result.summary == "1 added, 0 changed, 0 destroyed (after releasing a state lock left by a retried lock request)"
        assert "Item" not in dynamodb.get_item(TableName="locks", Key={"LockID": {"S": "state/app.tfstate"}})
