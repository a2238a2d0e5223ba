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
        " https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html), got 35 characters,"
        " 3 over the 32 allowed: shorten project or environment"
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


def test_a_too_long_project_and_environment_is_refused_by_check_before_the_bindings_load(
    tmp_path: Path, example_data: dict[str, Any]
) -> None:
    """The newcomer's case: `--check` said valid, and the synth refused a name 14 s later. Now `--check` (and the
    synth, before it loads anything) runs the synth's name rules on the forecast names."""
    data = copy.deepcopy(example_data)
    data["project"], data["environment"] = "abcdefghijklmnopqrst", "staging-eu1"
    data["state"]["bucket"] = "abcdefghijklmnopqrst-staging-eu1-tfstate-123456789012"
    config = tmp_path / "long.yaml"
    config.write_text(yaml.safe_dump(data))
    outdir = tmp_path / "out"
    for args in (["--check"], ["--outdir", str(outdir)]):
        result = subprocess.run(
            [sys.executable, "main.py", "--config", str(config), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 2, result.stderr[-2000:]
        assert (
            f"{config}: project, environment: got 'abcdefghijklmnopqrst-staging-eu1-ws-assets-logs-us-west-1-123456789012'; expected "
            "at most 63 characters for aws_s3_bucket (warm-standby-storage: "
        ) in result.stderr, result.stderr[-3000:]
        assert "got 70 characters, 7 over the 63 allowed: shorten project or environment" in result.stderr
        assert "loading the AWS provider bindings" not in result.stderr and not outdir.exists()


def test_the_synth_still_refuses_a_name_the_forecast_did_not_know(synthesized: Synthesized, tmp_path: Path) -> None:
    """The synth's own check stays the last word: a name only the synthesized JSON has is refused there too."""
    from modules.errors import InputError
    from stacks.app import check_names

    stack = copy.deepcopy(synthesized.stacks["warm-standby-global"])
    (bucket,) = [body for body in stack["resource"]["aws_s3_bucket"].values() if "cdn-logs" in body["bucket"]][:1]
    bucket["bucket"] = "hadr-prod-" + "x" * 60
    (tmp_path / "stacks" / "warm-standby-global").mkdir(parents=True)
    (tmp_path / "stacks" / "warm-standby-global" / "cdk.tf.json").write_text(json.dumps(stack))
    with pytest.raises(InputError, match="got 70 characters, 7 over the 63 allowed"):
        check_names(tmp_path, "hadr-prod")


def names_of(stacks: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(stack, resource type, name) of every checked name, sorted. Logical IDs are left out: a construct path that
    holds a region ends in a hash of it, which the forecast cannot know and no rule reads."""
    checked = rules()
    return sorted(
        (stack_name, kind, body[checked[kind].attribute])
        for stack_name, stack in stacks.items()
        for kind in checked
        for body in stack.get("resource", {}).get(kind, {}).values()
        if isinstance(body.get(checked[kind].attribute), str)
    )


def test_the_name_templates_match_the_code(canonical_stacks: dict[str, dict[str, Any]]) -> None:
    """modules/name_templates.json is what the code synthesizes today: else run `make name-templates`."""
    from modules.names import TEMPLATE_FILE, name_templates
    from tools.name_templates import canonical_config, render

    assert render(name_templates(canonical_stacks, canonical_config())) == TEMPLATE_FILE.read_text(), "run `make name-templates`"


def test_the_forecast_gives_another_configuration_exactly_its_synthesized_names(synthesized: Synthesized) -> None:
    """Forecast from templates written from the canonical configuration, the example's names come out name for
    name (other project, account, state and regions, us-east-1 among them)."""
    from modules.config import load_config
    from modules.names import forecast
    from tests.conftest import EXAMPLE_CONFIG

    forecast_names = names_of(forecast(load_config(EXAMPLE_CONFIG)))
    assert len(forecast_names) >= 190
    assert forecast_names == names_of(synthesized.stacks)


def test_a_disabled_architecture_has_no_forecast_names(example_data: dict[str, Any]) -> None:
    from modules.config import parse_config
    from modules.names import forecast

    data = copy.deepcopy(example_data)
    data["warm_standby"]["enabled"] = False
    assert not [name for name in forecast(parse_config(data)) if name.startswith("warm-standby")]
