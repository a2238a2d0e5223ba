"""Plan review: offline plans of every example stack, the Markdown report, the stateful-change guard, blocked
stacks, the comment size limit, and a real replacement planned against a deployed emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized
from tools.plan import OFFLINE_VARIABLE_VALUE, plan_all
from tools.plan import main as plan_main
from tools.plan_report import GITHUB_COMMENT_LIMIT, OFFLINE_NOTE
from tools.plan_report import main as report_main


#: Every example stack planned offline: about 130 CPU-seconds of Terraform (a plan and a `show -json` each load the
#: provider's schema), so its tests are in `make test`, not the quick tier.
@pytest.fixture(scope="module")
def offline_plans(synthesized: Synthesized) -> Path:
    results = plan_all(synthesized.outdir, offline=True, jobs=2)
    assert {r.stack: (r.status, r.reason) for r in results} == {name: ("planned", "") for name in synthesized.stack_names}
    return synthesized.outdir / "plans"


def actions(plan: dict[str, Any]) -> dict[str, list[str]]:
    return {change["address"]: change["change"]["actions"] for change in plan["resource_changes"]}


@pytest.mark.terraform
@pytest.mark.slow
def test_every_example_stack_plans_offline_as_new_resources_with_data_read_at_apply(offline_plans: Path, synthesized: Synthesized) -> None:
    for name in synthesized.stack_names:
        plan = json.loads((offline_plans / f"{name}.json").read_text())
        planned = actions(plan)
        resources = {f"{kind}.{key}" for kind, items in synthesized.stacks[name].get("resource", {}).items() for key in items}
        data = {f"data.{kind}.{key}" for kind, items in synthesized.stacks[name].get("data", {}).items() for key in items}
        assert {address for address, action in planned.items() if action == ["create"]} == resources, name
        assert {address for address, action in planned.items() if action != ["create"]} == data, name
        assert all(planned[address] == ["read"] for address in data)
        if "variable" in synthesized.stacks[name]:
            assert plan["variables"]["origin_verify_secret"]["value"] == OFFLINE_VARIABLE_VALUE
    # the synthesized stacks themselves are untouched: their backends are still S3
    for name in synthesized.stack_names:
        on_disk = json.loads((synthesized.outdir / "stacks" / name / "cdk.tf.json").read_text())
        assert on_disk == synthesized.stacks[name]


@pytest.mark.terraform
@pytest.mark.slow
def test_offline_report_says_nothing_was_compared_and_summarizes_creations_by_type(
    offline_plans: Path, synthesized: Synthesized, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    full, comment = tmp_path / "report.md", tmp_path / "comment.md"
    assert report_main(["--plans", str(offline_plans), "--output", str(full), "--comment", str(comment)]) == 0
    text = full.read_text()
    assert text.startswith(f"## Terraform plan (offline)\n\n{OFFLINE_NOTE}\n\n| stack |")
    assert "No stateful resource" not in text, "an offline plan has no state: it cannot say nothing is replaced"
    for name in synthesized.stack_names:
        resources = synthesized.stacks[name]["resource"]
        count = sum(len(items) for items in resources.values())
        assert f"| `{name}` | {count} | 0 | 0 | 0 |" in text
        assert f"### `{name}`: {count} to add, 0 to change, 0 to replace, 0 to destroy" in text
        for kind, items in resources.items():
            assert f"| `{kind}` | {len(items)} |" in text
        assert not any(f"- `{kind}.{key}`" in text for kind, items in resources.items() for key in items), "no list of every address"
    table = next(iter(synthesized.resources("active-active-data", "aws_dynamodb_table")))
    assert (
        f"| `aws_dynamodb_table.{table}` | billing_mode=`PAY_PER_REQUEST`, deletion_protection_enabled=`true`, "
        "point_in_time_recovery[0].enabled=`true`, server_side_encryption[0].enabled=`true`, stream_view_type=`NEW_AND_OLD_IMAGES` |"
    ) in text
    cluster = next(iter(synthesized.resources("warm-standby-us-east-1", "aws_rds_cluster")))  # the example's Aurora writer
    rows = [line for line in text.splitlines() if line.startswith(f"| `aws_rds_cluster.{cluster}` | ")]
    settings = ("engine=`aurora-postgresql`", "deletion_protection=`true`", "storage_encrypted=`true`")
    assert any(all(setting in row for setting in settings) for row in rows), rows
    assert comment.read_text() == text and len(text) < GITHUB_COMMENT_LIMIT
    assert summary.read_text() == text


def reader_stack(tmp_path: Path) -> Path:
    """An output folder with one stack that reads another stack's state."""
    stack = {
        "terraform": {"backend": {"s3": {"bucket": "b", "key": "reader.tfstate", "region": "us-east-1"}}},
        "data": {"terraform_remote_state": {"network": {"backend": "s3", "config": {"bucket": "b", "key": "network.tfstate"}}}},
        "resource": {"aws_sqs_queue": {"q": {"name": "q"}}},
    }
    (tmp_path / "stacks" / "reader").mkdir(parents=True)
    (tmp_path / "stacks" / "reader" / "cdk.tf.json").write_text(json.dumps(stack))
    return tmp_path


def test_a_blocked_stack_fails_the_gate_unless_allowed_and_heads_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = reader_stack(tmp_path)
    assert plan_main(["--outdir", str(outdir), "--offline"]) == 4
    assert "say so with --allow-blocked (make plan ALLOW_BLOCKED=1)" in capsys.readouterr().err
    assert plan_main(["--outdir", str(outdir), "--offline", "--allow-blocked"]) == 0
    (result,) = json.loads((outdir / "plans" / "summary.json").read_text())["stacks"]
    reason = "reads the state of network.tfstate, which an offline plan cannot: plan it live once applied"
    assert (result["status"], result["reason"]) == ("blocked", reason)
    report = tmp_path / "report.md"
    assert report_main(["--plans", str(outdir / "plans"), "--output", str(report)]) == 4
    assert "rerun with --allow-blocked (make plan-report ALLOW_BLOCKED=1)" in capsys.readouterr().err
    text = report.read_text()
    assert text.index("[!WARNING]") < text.index(OFFLINE_NOTE) < text.index("| stack |")
    assert "**1 stack(s) were not planned, so nothing in this report checks them.**" in text
    assert f"- `reader` **blocked**: {reason}" in text
    assert report_main(["--plans", str(outdir / "plans"), "--output", str(report), "--allow-blocked"]) == 0


def test_a_missing_variable_fails_the_live_plan_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_VAR_origin_verify_secret", raising=False)
    stack = {"variable": {"origin_verify_secret": {"type": "string", "sensitive": True}}, "resource": {"terraform_data": {"a": {}}}}
    (tmp_path / "stacks" / "edge").mkdir(parents=True)
    (tmp_path / "stacks" / "edge" / "cdk.tf.json").write_text(json.dumps(stack))
    (result,) = plan_all(tmp_path, offline=False)
    assert (result.status, result.reason) == (
        "failed",
        "variable origin_verify_secret has no default and no value: export TF_VAR_origin_verify_secret (or plan with --offline)",
    )
    report = tmp_path / "report.md"
    assert report_main(["--plans", str(tmp_path / "plans"), "--output", str(report), "--allow-blocked"]) == 1
    assert "1 stack(s) failed to plan: edge" in capsys.readouterr().err
    assert "- `edge` **failed**: variable origin_verify_secret has no default" in report.read_text()


def updated(address: str, index: int) -> dict[str, Any]:
    before = {"tags": {"Name": f"n-{index}"}, "description": "old " * 20}
    after = {"tags": {"Name": f"n-{index}"}, "description": "new " * 20}
    return {
        "address": address,
        "mode": "managed",
        "type": "aws_sqs_queue",
        "change": {
            "actions": ["update"],
            "before": before,
            "after": after,
            "after_unknown": {},
            "before_sensitive": {},
            "after_sensitive": {},
        },
    }


def test_a_report_too_long_for_a_comment_is_cut_at_a_section_with_a_note(tmp_path: Path) -> None:
    plan = {"resource_changes": [updated(f"aws_sqs_queue.q{index}", index) for index in range(1500)]}
    (tmp_path / "big.json").write_text(json.dumps(plan))
    (tmp_path / "summary.json").write_text(json.dumps({"stacks": [{"stack": "big", "status": "planned", "plan_file": "big.json"}]}))
    full, comment = tmp_path / "report.md", tmp_path / "comment.md"
    assert report_main(["--plans", str(tmp_path), "--output", str(full), "--comment", str(comment)]) == 0
    text, cut = full.read_text(), comment.read_text()
    assert len(text) > GITHUB_COMMENT_LIMIT and len(cut) <= 60_000
    assert text.count("<details>") == 1500 and "aws_sqs_queue.q1499" in text
    assert cut.startswith(text[:200]) and "| `big` | 0 | 1500 | 0 | 0 |" in cut
    kept = cut.count("<details>")
    assert 0 < kept < 1500
    assert cut.rstrip().endswith(
        f"**Truncated:** {1500 - kept} more section(s) did not fit in a comment. "
        "The full report is in this run's job summary and in the `plan-report` artifact."
    )
    assert "| `description` | `old old" in text


def test_secrets_and_unknown_values_are_masked_in_attribute_diffs(tmp_path: Path) -> None:
    change = updated("aws_ssm_parameter.p", 0)
    change["type"] = "aws_ssm_parameter"
    change["change"].update(
        before={"value": "old-secret", "version": 1},
        after={"value": "new-secret"},
        after_unknown={"version": True},
        before_sensitive={"value": True},
        after_sensitive={"value": True},
    )
    (tmp_path / "p.json").write_text(json.dumps({"resource_changes": [change]}))
    (tmp_path / "summary.json").write_text(json.dumps({"stacks": [{"stack": "p", "status": "planned", "plan_file": "p.json"}]}))
    full = tmp_path / "report.md"
    assert report_main(["--plans", str(tmp_path), "--output", str(full)]) == 0
    text = full.read_text()
    assert "old-secret" not in text and "new-secret" not in text
    assert "| `value` | `(sensitive)` | `(sensitive)` |" in text and "| `version` | `1` | `(known after apply)` |" in text


def test_the_gate_names_every_reason_and_exits_with_the_first(capsys: pytest.CaptureFixture[str]) -> None:
    from tools.plan_report import ResourceChange, StackPlan, gate

    dropped = StackPlan("data", "planned", changes=[ResourceChange("aws_dynamodb_table.t", "aws_dynamodb_table", "delete")])
    stacks = [StackPlan("edge", "failed", "boom"), StackPlan("global", "blocked", "upstream"), dropped]
    assert gate(stacks, allow_stateful=False, allow_blocked=False) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == [
        "[plan-report] 1 stack(s) failed to plan",
        "[plan-report] 1 stack(s) blocked, so not checked",
        "[plan-report] 1 stateful resource(s) would be replaced or destroyed",
    ]
    assert gate(stacks[1:], allow_stateful=False, allow_blocked=True) == 3
    assert gate(stacks[1:], allow_stateful=True, allow_blocked=True) == 0


def expected_peer(stack: dict[str, Any], body: dict[str, Any]) -> str:
    """Where a synthesized rule's traffic comes from or goes to, read from the synthesized JSON itself."""
    if "cidr_ipv4" in body:
        return body["cidr_ipv4"]
    reference = body.get("referenced_security_group_id") or body["prefix_list_id"]
    kind, name, _ = reference.removeprefix("${").removesuffix("}").removeprefix("data.").split(".")
    if kind == "aws_security_group":
        return f"security group {stack['resource'][kind][name]['name']}"
    if kind == "aws_vpc_endpoint":
        return f"prefix list of the {stack['resource'][kind][name]['service_name']} gateway endpoint"
    return f"prefix list {stack['data'][kind][name]['name']}"


@pytest.mark.terraform
@pytest.mark.slow
def test_the_report_lists_stacks_in_deploy_order_and_says_where_each_rule_lets_traffic_through(
    offline_plans: Path, synthesized: Synthesized, tmp_path: Path
) -> None:
    full = tmp_path / "report.md"
    assert report_main(["--plans", str(offline_plans), "--output", str(full)]) == 0
    text = full.read_text()
    rows = [line.split("`")[1] for line in text.splitlines() if line.startswith("| `") and line.count("|") == 6]
    assert rows == synthesized.stack_names, "the summary table follows the deploy order"
    sections = {part.split("`", 1)[0]: part for part in text.split("\n### `")[1:]}
    assert list(sections) == synthesized.stack_names
    checked = 0
    for name, stack in synthesized.stacks.items():
        lines = sections[name].splitlines()
        for kind, word in (("aws_vpc_security_group_ingress_rule", "from"), ("aws_vpc_security_group_egress_rule", "to")):
            for key, body in stack.get("resource", {}).get(kind, {}).items():
                row = next(line for line in lines if line.startswith(f"| `{kind}.{key}` |"))
                assert f"{word}=`{expected_peer(stack, body)}`" in row, (name, row)
                checked += 1
    assert checked > 40
