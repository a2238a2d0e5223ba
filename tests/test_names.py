"""Generated names against AWS's limits (modules.names): the data they come from, and what is refused."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.names import FROM_BOTOCORE, botocore_rule, name_problems, rules
from tests.conftest import ROOT, Synthesized


@pytest.mark.parametrize(
    ("resource_type", "maximum"),
    [
        ("aws_iam_role", 64),
        ("aws_iam_policy", 128),
        ("aws_cloudwatch_event_rule", 64),
        ("aws_ssm_document", 128),
        ("aws_wafv2_web_acl", 128),
        ("aws_backup_vault", 50),
        ("aws_cloudwatch_metric_alarm", 255),
        ("aws_launch_template", 128),
        ("aws_resiliencehub_resiliency_policy", 60),
    ],
)
def test_botocore_still_says_what_the_rules_rely_on(resource_type: str, maximum: int) -> None:
    _, service, operation, member = FROM_BOTOCORE[resource_type]
    assert botocore_rule(service, operation, member)[0] == maximum


def test_the_example_names_are_all_within_limits_and_distinct(synthesized: Synthesized) -> None:
    assert name_problems(synthesized.stacks, "hadr-prod") == []
    checked = rules()
    counted = sum(len(stack.get("resource", {}).get(kind, {})) for stack in synthesized.stacks.values() for kind in checked)
    assert counted >= 190, "the rules cover the resources the stacks name (194 names in the example)"


def stack(resources: dict[str, dict[str, Any]], *aliases: tuple[str, str]) -> dict[str, Any]:
    providers = [{"region": "us-east-1"}] + [{"region": region, "alias": alias} for alias, region in aliases]
    return {"provider": {"aws": providers}, "resource": resources}


def test_a_name_over_its_limit_names_the_fields_that_set_it() -> None:
    long_prefix = "averyveryverylongprj-production"
    stacks = {"s": stack({"aws_lb": {"alb": {"name": f"{long_prefix}-web"}}})}
    (problem,) = name_problems(stacks, long_prefix)
    assert str(problem) == (
        f"project, environment: got '{long_prefix}-web'; expected at most 32 characters for aws_lb (s: aws_lb.alb.name,"
        " https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html), got 35:"
        " shorten project or environment"
    )


def test_character_sets_and_uniqueness_per_scope() -> None:
    stacks = {
        "a": stack(
            {
                "aws_db_instance": {"db": {"identifier": "hadr-prod--db"}},
                "aws_kms_alias": {"one": {"name": "alias/k"}, "two": {"name": "alias/k", "provider": "aws.peer"}},
                "aws_iam_role": {"r": {"name": "hadr-prod-role"}},
                "aws_iam_role_policy": {"p1": {"name": "inline", "role": "${aws_iam_role.r.id}"}, "p2": {"name": "inline", "role": "x"}},
            },
            ("peer", "us-west-1"),
        ),
        "b": stack({"aws_iam_role": {"r": {"name": "hadr-prod-role"}}, "aws_kms_alias": {"k": {"name": "alias/k"}}}),
    }
    messages = [str(problem) for problem in name_problems(stacks, "hadr-prod")]
    assert len(messages) == 3, messages
    assert messages[0].startswith("a: aws_db_instance.db.identifier: got 'hadr-prod--db'; expected a name matching")
    assert (
        messages[1]
        == "b: aws_iam_role.r.name: got 'hadr-prod-role'; expected a name of its own: a: aws_iam_role.r.name has it too (account)"
    )
    assert (
        messages[2]
        == "b: aws_kms_alias.k.name: got 'alias/k'; expected a name of its own: a: aws_kms_alias.one.name has it too (us-east-1)"
    )


def test_a_too_long_project_and_environment_is_refused_before_anything_is_written(tmp_path: Path, example_data: dict[str, Any]) -> None:
    data = copy.deepcopy(example_data)
    data["project"], data["environment"] = "averyveryverylongp", "prod12"  # bucket names still fit; EventBridge's do not
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump(data))
    outdir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "main.py", "--config", str(config), "--outdir", str(outdir)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert (
        "project, environment: got 'averyveryverylongp-prod12-active-active-eu-west-1-guardduty-findings'; expected at most 64"
        " characters for aws_cloudwatch_event_rule" in result.stderr
    ), result.stderr[-3000:]
    assert "shorten project or environment" in result.stderr and not outdir.exists()
    assert json.dumps(data["project"]) not in result.stdout
