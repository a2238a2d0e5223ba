"""The local pipeline for real: the state backend, one regional stack of each architecture, and the warm standby's
storage and standby region are deployed into moto with Terraform (S3 backend and lock table in the emulator), the
failover is drilled with the function's own code, and everything is destroyed again."""

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
        session, results = local.deploy(EXAMPLE_CONFIG, stacks=STACKS, emulator=emulator)
        assert [r.stack for r in results] == STACKS and all(r.ok for r in results)
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
            "read_deployed_function",
            "assume_function_role",
            "failover_function_code",
            "verify_replica_promoted",
            "verify_parameter_repointed",
            "verify_secret_standalone",
            "verify_groups_scaled",
        ]
        rds = emulator.client("rds", "us-west-1")
        (db,) = rds.describe_db_instances(DBInstanceIdentifier="hadr-prod-warm-standby-db-replica")["DBInstances"]
        assert "ReadReplicaSourceDBInstanceIdentifier" not in db

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
