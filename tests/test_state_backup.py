"""Remote state (backends and the bootstrap stack) and AWS Backup plans as synthesized."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modules.backup import BackupPlan, BackupRule
from modules.config import parse_config
from modules.errors import InputError
from modules.kms import EncryptionKey
from tests.conftest import ROOT, Synthesized, synth_json

BOOTSTRAP = "state-bootstrap"


def test_every_stack_but_bootstrap_uses_its_own_key_in_the_encrypted_locked_state_bucket(synthesized: Synthesized) -> None:
    for name in synthesized.stack_names:
        backend = synthesized.stacks[name]["terraform"]["backend"]
        if name == BOOTSTRAP:
            assert set(backend) == {"local"}
            continue
        s3 = backend["s3"]
        assert s3 == {
            "bucket": "hadr-prod-tfstate-123456789012",
            "key": f"hadr/prod/{name}.tfstate",
            "region": "us-east-2",
            "dynamodb_table": "hadr-prod-tflock",
            "encrypt": True,
            "kms_key_id": "arn:aws:kms:us-east-2:123456789012:alias/hadr-prod-tfstate",
        }


def test_bootstrap_state_file_lives_outside_the_output_directory(synthesized: Synthesized) -> None:
    path = synthesized.stacks[BOOTSTRAP]["terraform"]["backend"]["local"]["path"]
    resolved = (synthesized.outdir / "stacks" / BOOTSTRAP / path).resolve()
    assert resolved == ROOT / ".state" / "hadr-prod-state-bootstrap.tfstate"
    assert not str(resolved).startswith(str(synthesized.outdir))


def test_state_failover_setting_moves_every_backend_to_the_replica(example_data: dict[str, Any], tmp_path: Path) -> None:
    from cdktf import App

    from stacks.app import build_stacks

    data = copy.deepcopy(example_data)
    data["state"]["failover"] = True
    app = App(outdir=str(tmp_path))
    build_stacks(app, parse_config(data), outdir=tmp_path)
    for stack in app.node.children:
        if stack.node.id == BOOTSTRAP:
            continue
        backend = json.loads(synth_as_string(stack))["terraform"]["backend"]["s3"]
        assert (backend["bucket"], backend["region"], backend["dynamodb_table"]) == (
            "hadr-prod-tfstate-123456789012-replica",
            "us-west-2",
            "hadr-prod-tflock",
        )
        assert backend["kms_key_id"] == "arn:aws:kms:us-west-2:123456789012:alias/hadr-prod-tfstate"


def synth_as_string(stack: Any) -> str:
    from cdktf import Testing

    return Testing.synth(stack)


def test_bootstrap_buckets_are_versioned_encrypted_private_tls_only(synthesized: Synthesized) -> None:
    all_buckets = {b["bucket"]: b for b in synthesized.resources(BOOTSTRAP, "aws_s3_bucket").values()}
    buckets = {name: b for name, b in all_buckets.items() if "-logs-" not in name}
    assert set(buckets) == {"hadr-prod-tfstate-123456789012", "hadr-prod-tfstate-123456789012-replica"}
    assert all(b["force_destroy"] is False for b in buckets.values())
    assert [b.get("provider") for b in buckets.values()] == [None, "aws.replica"]
    for versioning in synthesized.resources(BOOTSTRAP, "aws_s3_bucket_versioning").values():
        assert versioning["versioning_configuration"] == {"status": "Enabled"}
    encryptions = synthesized.resources(BOOTSTRAP, "aws_s3_bucket_server_side_encryption_configuration").values()
    keys_by_provider = {}
    for encryption in encryptions:  # the state buckets and their access-log buckets alike: SSE-KMS, the region's key
        (rule,) = encryption["rule"]
        assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
        assert rule["apply_server_side_encryption_by_default"]["kms_master_key_id"].startswith("${aws_kms_key.")
        assert rule["bucket_key_enabled"] is True
        keys_by_provider.setdefault(encryption.get("provider"), set()).add(
            rule["apply_server_side_encryption_by_default"]["kms_master_key_id"]
        )
    assert len(encryptions) == 4 and [len(keys) for keys in keys_by_provider.values()] == [1, 1]
    for key in synthesized.resources(BOOTSTRAP, "aws_kms_key").values():  # S3 server access logging may use the key
        logging = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}["ServiceLogging"]
        assert logging["Principal"] == {"Service": "logging.s3.amazonaws.com"} and "kms:GenerateDataKey*" in logging["Action"]
        assert logging["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    for block in synthesized.resources(BOOTSTRAP, "aws_s3_bucket_public_access_block").values():
        assert all(
            block[flag] is True for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        )
    for policy in synthesized.resources(BOOTSTRAP, "aws_s3_bucket_policy").values():
        statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
        assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
        assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert statements["DenyTlsBelow12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


def test_state_buckets_log_access_to_a_log_bucket_of_their_region_that_only_s3_logging_of_this_account_may_write(
    synthesized: Synthesized,
) -> None:
    names = {key: body["bucket"] for key, body in synthesized.resources(BOOTSTRAP, "aws_s3_bucket").items()}
    logging = {names[r["bucket"].split(".")[1]]: r for r in synthesized.resources(BOOTSTRAP, "aws_s3_bucket_logging").values()}
    assert {source: (names[r["target_bucket"].split(".")[1]], r["target_prefix"], r.get("provider")) for source, r in logging.items()} == {
        "hadr-prod-tfstate-123456789012": ("hadr-prod-tfstate-logs-us-east-2-123456789012", "s3/hadr-prod-tfstate-123456789012/", None),
        "hadr-prod-tfstate-123456789012-replica": (
            "hadr-prod-tfstate-logs-us-west-2-123456789012",
            "s3/hadr-prod-tfstate-123456789012-replica/",
            "aws.replica",
        ),
    }
    log_policies = [p for p in synthesized.resources(BOOTSTRAP, "aws_s3_bucket_policy").values() if "-logs" in p["//"]["metadata"]["path"]]
    assert len(log_policies) == 2
    for policy in log_policies:
        statement = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}["S3ServerAccessLogs"]
        assert statement["Principal"] == {"Service": "logging.s3.amazonaws.com"} and statement["Action"] == "s3:PutObject"
        assert statement["Resource"] == policy["bucket"].replace(".id}", ".arn}") + "/*", "the log bucket itself"
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    notifications = synthesized.resources(BOOTSTRAP, "aws_s3_bucket_notification").values()
    assert len(notifications) == 4 and all(n["eventbridge"] is True for n in notifications)


def test_a_bucket_refuses_a_log_bucket_that_does_not_take_server_access_logs(scratch_stack: Callable[..., Any]) -> None:
    from modules.storage import LogDeliveryBucket, SecureBucket

    stack = scratch_stack("us-east-1")
    logs = LogDeliveryBucket(stack, "alb-logs", bucket_name="alb-logs-bucket")
    with pytest.raises(InputError) as caught:
        SecureBucket(
            stack, "data", bucket_name="data-bucket", key=EncryptionKey(stack, "key", alias="k", description="k"), access_logs=logs
        )
    assert str(caught.value) == (
        f"{stack.node.path}/data.access_logs: got '{stack.node.path}/alb-logs'; "
        "expected a LogDeliveryBucket in us-east-1 created with server_access_logs=True"
    )
    with pytest.raises(InputError, match=r"bucket_name: got 'x{70}'; expected 3-63 characters"):
        LogDeliveryBucket(stack, "long", bucket_name="x" * 70)
    key = EncryptionKey(stack, "logs-key", alias="logs", description="logs")
    with pytest.raises(InputError) as refused:
        LogDeliveryBucket(stack, "elb", bucket_name="elb-logs-bucket", load_balancer_logs_from=("us-east-1", "123456789012"), key=key)
    assert str(refused.value).startswith(
        f"{stack.node.path}/elb.key: got 'alias/logs'; expected no key with ELB or CloudFront log delivery (ELB access logs take "
        "SSE-S3 only, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html)"
    )


def test_state_buckets_replicate_both_ways_with_rtc_reencrypting_with_the_destination_key(synthesized: Synthesized) -> None:
    replications = {
        r["//"]["metadata"]["path"].split("/")[1]: r
        for r in synthesized.resources(BOOTSTRAP, "aws_s3_bucket_replication_configuration").values()
    }
    assert set(replications) == {"primary-bucket", "replica-bucket"}
    assert replications["replica-bucket"]["provider"] == "aws.replica"
    for source, destination in (("primary-bucket", "replica-bucket"), ("replica-bucket", "primary-bucket")):
        (rule,) = replications[source]["rule"]
        assert rule["status"] == "Enabled" and rule["delete_marker_replication"] == {"status": "Enabled"}
        assert rule["destination"]["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
        assert rule["destination"]["metrics"] == {"status": "Enabled", "event_threshold": {"minutes": 15}}
        assert rule["destination"]["bucket"].startswith(f"${{aws_s3_bucket.{destination}_")
        replica_key = "replica-key" if destination == "replica-bucket" else "primary-key"
        assert rule["destination"]["encryption_configuration"]["replica_kms_key_id"].startswith(f"${{aws_kms_key.{replica_key}_")
    role_policy = json.loads(synthesized.one(BOOTSTRAP, "aws_iam_role_policy", "primary-bucket/to-replica-role/policy")["policy"])
    actions = {action for s in role_policy["Statement"] for action in s["Action"]}
    assert actions == {
        "s3:GetReplicationConfiguration", "s3:ListBucket", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging", "s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags",
        "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
    }  # fmt: skip
    assert all(r != "*" for s in role_policy["Statement"] for r in s["Resource"])


def test_lock_tables_in_both_regions_with_pitr_kms_and_deletion_protection(synthesized: Synthesized) -> None:
    tables = list(synthesized.resources(BOOTSTRAP, "aws_dynamodb_table").values())
    assert [t.get("provider") for t in tables] == [None, "aws.replica"]
    for table in tables:
        assert (table["name"], table["hash_key"], table["billing_mode"]) == ("hadr-prod-tflock", "LockID", "PAY_PER_REQUEST")
        assert table["attribute"] == [{"name": "LockID", "type": "S"}]
        assert table["point_in_time_recovery"] == {"enabled": True}
        assert table["server_side_encryption"]["enabled"] is True and table["deletion_protection_enabled"] is True
    providers = synthesized.stacks[BOOTSTRAP]["provider"]["aws"]
    assert [(p["region"], p.get("alias")) for p in providers] == [("us-east-2", None), ("us-west-2", "replica")]
    aliases = sorted(a["name"] for a in synthesized.resources(BOOTSTRAP, "aws_kms_alias").values())
    assert aliases == ["alias/hadr-prod-tfstate", "alias/hadr-prod-tfstate"]


@pytest.mark.parametrize(
    ("stack", "peer"),
    [
        ("active-active-eu-west-1", "eu-central-1"),
        ("active-active-eu-central-1", "eu-west-1"),
        ("warm-standby-us-east-1", "us-west-1"),
        ("warm-standby-us-west-1", "us-east-1"),
    ],
)
def test_backup_daily_and_weekly_with_cold_storage_and_copy_to_the_peer_region(synthesized: Synthesized, stack: str, peer: str) -> None:
    architecture = stack.rsplit("-", 3)[0] if stack.startswith("active") else "warm-standby"
    region = stack.removeprefix(f"{architecture}-")
    (vault,) = synthesized.resources(stack, "aws_backup_vault").values()
    assert vault["name"] == f"hadr-prod-{architecture}-{region}" and vault["kms_key_arn"].startswith("${aws_kms_key.")
    (plan,) = synthesized.resources(stack, "aws_backup_plan").values()
    rules = {r["rule_name"]: r for r in plan["rule"]}
    assert rules["daily"]["schedule"] == "cron(0 5 ? * * *)"
    assert rules["daily"]["lifecycle"] == {"delete_after": 35}
    assert rules["weekly"]["schedule"] == "cron(0 5 ? * SUN *)"
    assert rules["weekly"]["lifecycle"] == {
        "delete_after": 365,
        "cold_storage_after": 30,
        "opt_in_to_archive_for_supported_resources": True,
    }
    for rule in rules.values():
        (copy_action,) = rule["copy_action"]
        assert copy_action["destination_vault_arn"] == f"arn:aws:backup:{peer}:123456789012:backup-vault:hadr-prod-{architecture}-{peer}"
        assert copy_action["lifecycle"] == rule["lifecycle"]
    (selection,) = synthesized.resources(stack, "aws_backup_selection").values()
    # What each region protects, by deterministic ARN: the table's replica, or the database (primary or replica).
    protected = {
        "active-active": f"arn:aws:dynamodb:{region}:123456789012:table/hadr-prod-items",
        # the example's Aurora cluster
        "warm-standby": f"arn:aws:rds:{region}:123456789012:cluster:hadr-prod-warm-standby-db"
        + ("-replica" if region == "us-west-1" else ""),
    }
    assert selection["resources"] == [protected[architecture]] and "selection_tag" not in selection


def test_backup_selection_by_arns_and_lifecycle_rule_checks(scratch_stack) -> None:
    stack = scratch_stack()
    key = EncryptionKey(stack, "key", alias="k", description="k")
    table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/items"
    BackupPlan(stack, "plan", name="p", key=key, resource_arns=[table_arn])
    (selection,) = synth_json(stack)["resource"]["aws_backup_selection"].values()
    assert selection["resources"] == [table_arn] and "selection_tag" not in selection
    with pytest.raises(InputError) as caught:
        BackupPlan(
            stack,
            "bad",
            name="b",
            key=key,
            rules=[
                BackupRule("seed-002-daily", "daily at 5", delete_after_days=30, cold_storage_after_days=7, completion_window_minutes=90)
            ],
            copy_to_vault_arn="arn:aws:s3:::not-a-vault",
        )
    path = f"{stack.node.id}/bad"
    assert str(caught.value).splitlines() == [
        f"{path}.rules[seed-002-daily].schedule: got 'daily at 5'; expected a cron(...) or rate(...) expression",
        f"{path}.rules[seed-002-daily].delete_after_days: got 30; expected at least cold_storage_after_days + 90 (97)",
        f"{path}.rules[seed-002-daily].completion_window_minutes: got 90; expected at least start_window_minutes + 60",
        f"{path}.copy_to_vault_arn: got 'arn:aws:s3:::not-a-vault'; expected a backup vault ARN",
    ]
