"""The app as a whole: stack list and order, tags, regional independence, atomic output, terraform validate."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Synthesized
from tools.terraform import StackResult, provider_schema, validate_all

#: The stacks of the example configuration, in deploy order.
EXAMPLE_STACKS = [
    "state-bootstrap",
    "active-active-data",
    "active-active-eu-west-1",
    "active-active-eu-central-1",
    "active-active-global",
    "warm-standby-storage",
    "warm-standby-us-east-1",
    "warm-standby-us-west-1",
    "warm-standby-global",
]
REGIONAL = {
    "active-active-eu-west-1": "eu-west-1",
    "active-active-eu-central-1": "eu-central-1",
    "warm-standby-us-east-1": "us-east-1",
    "warm-standby-us-west-1": "us-west-1",
}


def test_example_synthesizes_every_stack_in_deploy_order(synthesized: Synthesized) -> None:
    assert synthesized.stack_names == EXAMPLE_STACKS
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())["stacks"]
    assert set(manifest) == set(EXAMPLE_STACKS)
    assert manifest["active-active-global"]["dependencies"] == ["active-active-eu-west-1", "active-active-eu-central-1"]
    assert manifest["warm-standby-global"]["dependencies"] == ["warm-standby-us-east-1", "warm-standby-us-west-1"]
    for regional in REGIONAL:
        assert manifest[regional]["dependencies"] == [], "regional stacks must deploy alone while the other region is down"


def test_every_provider_tags_everything_and_pins_the_account(synthesized: Synthesized) -> None:
    for name, stack in synthesized.stacks.items():
        assert stack["terraform"]["required_providers"]["aws"] == {"source": "aws", "version": "5.100.0"}
        for provider in stack["provider"]["aws"]:
            assert provider["allowed_account_ids"] == ["123456789012"]
            (default_tags,) = provider["default_tags"]
            assert default_tags["tags"] == {
                "Project": "hadr",
                "Environment": "prod",
                "ManagedBy": "cdktf",
                "Deployment": "hadr-prod",
                "Stack": name,
                "owner": "platform-team",
                "cost-center": "4711",
                "data-classification": "internal",
                **(
                    {"Architecture": name.rsplit("-", 1)[0] if name.endswith("global") else _arch(name)}
                    if name != "state-bootstrap"
                    else {}
                ),
            }


def _arch(name: str) -> str:
    return "active-active" if name.startswith("active-active") else "warm-standby"


@pytest.mark.parametrize(("stack", "region"), sorted(REGIONAL.items()))
def test_regional_stack_touches_only_its_own_region(synthesized: Synthesized, stack: str, region: str) -> None:
    body = synthesized.stacks[stack]
    assert [p["region"] for p in body["provider"]["aws"]] == [region]
    assert "terraform_remote_state" not in body.get("data", {})
    others = {r for r in REGIONAL.values() if r != region}
    resources = copy.deepcopy(body["resource"])
    # Names of the peer region that make no call there: the replication-latency alarm's dimension, the
    # standby's failover trigger and function (they listen for events about the primary region), and the
    # primary's forwarding of its AWS Health events to the standby's bus.
    alarms = resources.get("aws_cloudwatch_metric_alarm", {})
    for key in [k for k, alarm in alarms.items() if alarm["metric_name"] == "ReplicationLatency"]:
        del alarms[key]
    resources.pop("aws_cloudwatch_event_rule", None)
    resources.pop("aws_cloudwatch_event_target", None)  # EventBridge forwards at run time; Terraform calls nothing there
    for kind in ("aws_iam_role", "aws_iam_role_policy"):
        for key in [k for k, r in resources.get(kind, {}).items() if "/forward-" in r["//"]["metadata"]["path"]]:
            del resources[kind][key]
    # The app tier may read and write the assets through the Multi-Region Access Point, which routes to either
    # region's bucket (and key): IAM names them, Terraform calls nothing there.
    for policy in resources.get("aws_iam_role_policy", {}).values():
        if policy["//"]["metadata"]["path"].endswith("/instance-role/policy"):
            document = json.loads(policy["policy"])
            document["Statement"] = [
                s for s in document["Statement"] if s["Sid"] not in ("AssetsThroughTheAccessPoint", "AssetsKeysThroughS3")
            ]
            policy["policy"] = json.dumps(document)
    for function in resources.get("aws_lambda_function", {}).values():
        for name in ("PRIMARY_REGION", "PRIMARY_BUCKET", "ROUTE53_ALARM", "PRIMARY_WEB_GROUP"):  # what the decision probes
            function["environment"]["variables"].pop(name, None)
    # The standby's recovery plan acts on both regions at run time: its documents (the plan's data), the roles
    # that run and decide it (IAM names the primary's resources) and the write record (the primary's host name).
    for kind in ("aws_ssm_document", "aws_iam_role_policy", "aws_route53_record", "aws_ssm_parameter"):  # the latch's value
        for key in [
            k for k, r in resources.get(kind, {}).items() if re.search(r"/(recovery-plan|failover-function)/", r["//"]["metadata"]["path"])
        ]:
            del resources[kind][key]
    # An Aurora secondary names the primary's region as the source of its encryption: a presigned request that
    # Terraform sends to this region's RDS endpoint.
    for cluster in resources.get("aws_rds_cluster", {}).values():
        cluster.pop("source_region", None)
    text = json.dumps(resources)
    # Otherwise another region appears only in deterministic ARNs: the peer's backup vault (the copy target) and,
    # in the warm standby, the primary database the replica follows.
    peer_vaults = re.findall(r"arn:aws:backup:[a-z0-9-]+:123456789012:backup-vault:[a-z0-9-]+", text)
    assert len(peer_vaults) == 2  # the daily and the weekly rule's copy action
    remainder = re.sub(r"arn:aws:rds:[a-z0-9-]+:123456789012:(db|cluster):[a-z0-9-]+", "", text.replace(peer_vaults[0], ""))
    assert [other for other in others if other in remainder] == []


def test_failed_synth_leaves_the_previous_output_and_no_staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.config import load_config
    from stacks import app as app_module

    outdir = tmp_path / "cdktf.out"
    outdir.mkdir()
    (outdir / "manifest.json").write_text("previous")

    def half_built(app: Any, config: Any, *, outdir: Path) -> dict[str, list[str]]:
        real_build(app, config, outdir=outdir)
        raise RuntimeError("construct failed half way")

    real_build = app_module.build_stacks
    monkeypatch.setattr(app_module, "build_stacks", half_built)
    with pytest.raises(RuntimeError, match="half way"):
        app_module.synthesize(load_config(ROOT / "config" / "example.yaml"), outdir)
    assert [p.name for p in tmp_path.iterdir()] == ["cdktf.out"]
    assert [p.name for p in outdir.iterdir()] == ["manifest.json"]
    assert (outdir / "manifest.json").read_text() == "previous"


@pytest.fixture(scope="session")
def validation(synthesized: Synthesized) -> dict[str, StackResult]:
    return {result.stack: result for result in validate_all(synthesized.outdir, jobs=2)}


@pytest.mark.terraform
@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_terraform_validate(validation: dict[str, StackResult], stack: str) -> None:
    result = validation[stack]
    assert result.ok, result.output


@pytest.mark.terraform
def test_the_rds_engine_validates_too(postgres_synthesized: Synthesized) -> None:
    """The example with `warm_standby.database.engine: postgres`: its warm-standby stacks (the only ones the engine
    changes) pass `terraform validate` as well."""
    from tools.terraform import terraform_env, validate_stack

    env = terraform_env()
    for name in [stack for stack in postgres_synthesized.stack_names if stack.startswith("warm-standby-")]:
        result = validate_stack(postgres_synthesized.outdir / "stacks" / name, env)
        assert result.ok, result.output


@pytest.fixture(scope="session")
def taggable_types(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Resource types whose provider schema has a `tags` argument."""
    resources = provider_schema(tmp_path_factory.mktemp("schema"))["resource_schemas"]
    return {name for name, body in resources.items() if "tags" in body["block"].get("attributes", {})}


@pytest.mark.terraform
def test_every_taggable_resource_has_a_name_tag(synthesized: Synthesized, taggable_types: set[str]) -> None:
    assert "aws_vpc" in taggable_types and "aws_route" not in taggable_types
    missing = [
        f"{stack}: {rtype}.{key}"
        for stack, body in synthesized.stacks.items()
        for rtype, items in body.get("resource", {}).items()
        if rtype in taggable_types
        for key, resource in items.items()
        if "Name" not in resource.get("tags", {})
    ]
    assert missing == []


def test_terraform_uses_the_local_mirror_when_present_and_the_registry_otherwise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.terraform import PLUGIN_CACHE, write_cli_config

    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io").mkdir(parents=True)
    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(mirror))
    offline = write_cli_config(tmp_path / "offline.tfrc").read_text()
    assert f'path    = "{mirror}"' in offline and "plugin_cache_dir" not in offline
    assert 'exclude = ["registry.terraform.io/hashicorp/*"]' in offline

    monkeypatch.setenv("TF_PLUGIN_MIRROR", str(tmp_path / "absent"))
    online = write_cli_config(tmp_path / "online.tfrc").read_text()
    assert online == f'plugin_cache_dir = "{PLUGIN_CACHE}"\n'
