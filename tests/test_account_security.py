"""Seed 003's account security services in every regional stack of both architectures: GuardDuty and Security
Hub with the AWS Foundational Security Best Practices standard, their findings routed to the alarm topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized

REGIONAL = ["active-active-eu-west-1", "active-active-eu-central-1", "warm-standby-us-east-1", "warm-standby-us-west-1"]


def only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (body,) = resources.values()
    return body


@pytest.mark.parametrize("stack", REGIONAL)
def test_every_regional_stack_turns_on_guardduty_and_security_hub(synthesized: Synthesized, stack: str) -> None:
    region = stack.split("-", 2)[2]
    detector = only(synthesized.resources(stack, "aws_guardduty_detector"))
    assert detector["enable"] is True and detector["finding_publishing_frequency"] == "FIFTEEN_MINUTES"
    hub = only(synthesized.resources(stack, "aws_securityhub_account"))
    assert hub["enable_default_standards"] is False and hub["control_finding_generator"] == "SECURITY_CONTROL"
    standard = only(synthesized.resources(stack, "aws_securityhub_standards_subscription"))
    assert standard["standards_arn"] == f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0"
    assert standard["depends_on"] == [f"aws_securityhub_account.{next(iter(synthesized.resources(stack, 'aws_securityhub_account')))}"]


@pytest.mark.parametrize("stack", REGIONAL)
def test_findings_reach_the_alarm_topic(synthesized: Synthesized, stack: str) -> None:
    rules_of = synthesized.resources(stack, "aws_cloudwatch_event_rule").values()
    patterns = [json.loads(r["event_pattern"]) for r in rules_of if "event_pattern" in r]  # schedules have none
    rules = {pattern["source"][0]: {"event_pattern": json.dumps(pattern)} for pattern in patterns if "source" in pattern}
    assert json.loads(rules["aws.guardduty"]["event_pattern"])["detail"] == {"severity": [{"numeric": [">=", 4]}]}
    hub = json.loads(rules["aws.securityhub"]["event_pattern"])
    assert hub["detail-type"] == ["Security Hub Findings - Imported"]
    assert hub["detail"]["findings"]["Severity"]["Label"] == ["HIGH", "CRITICAL"]
    topic = synthesized.one(stack, "aws_sns_topic", "alarms/topic")  # the stack's alarm topic (the standby also has its approvals')
    topic_arn = f"${{aws_sns_topic.{topic['//']['metadata']['uniqueId']}.arn}}"
    targets = [t for t in synthesized.resources(stack, "aws_cloudwatch_event_target").values() if t["arn"] == topic_arn]
    assert len(targets) == 2
    policy = json.loads(synthesized.one(stack, "aws_sns_topic_policy", "alarms/policy")["policy"])
    publishers = {s["Principal"]["Service"] for s in policy["Statement"] if s["Effect"] == "Allow"}
    assert publishers == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")
    key = next(k for k in synthesized.resources(stack, "aws_kms_key").values() if k["//"]["metadata"]["path"].endswith(f"{stack}/key/key"))
    services = {s["Principal"].get("Service") for s in json.loads(key["policy"])["Statement"]}
    assert "events.amazonaws.com" in services, "EventBridge encrypts with the topic's key when it publishes"


def test_one_region_gets_one_detector_and_backup_settings_even_when_both_architectures_use_it(
    example_data: dict[str, Any], tmp_path: Path
) -> None:
    """GuardDuty allows one detector per account and region (https://docs.aws.amazon.com/guardduty/latest/APIReference/API_CreateDetector.html)."""
    from cdktf import App, Testing

    from modules.config import parse_config
    from stacks.app import build_stacks

    data = json.loads(json.dumps(example_data))
    data["active_active"]["primary"]["region"] = data["warm_standby"]["primary"]["region"]  # both in us-east-1
    app = App(outdir=str(tmp_path))
    names = build_stacks(app, parse_config(data), outdir=tmp_path)
    resources = {
        name: json.loads(Testing.synth(app.node.find_child(name))).get("resource", {}) for name in names if name.endswith("us-east-1")
    }
    for kind in ("aws_guardduty_detector", "aws_backup_region_settings"):  # AWS Backup's settings are per account and region too
        assert {name: len(found.get(kind, {})) for name, found in resources.items()} == {
            "active-active-us-east-1": 1,
            "warm-standby-us-east-1": 0,
        }


def test_accounts_whose_services_an_administrator_manages_can_leave_them_out(scratch_stack: Any) -> None:
    from modules.account_security import AccountSecurity
    from modules.config import AccountSecuritySettings
    from tests.conftest import synth_json

    stack = scratch_stack("eu-west-1")
    AccountSecurity(
        stack, "security", name="s", topic_arn="arn:aws:sns:eu-west-1:123456789012:t", settings=AccountSecuritySettings(guardduty=False)
    )
    resources = synth_json(stack)["resource"]
    assert "aws_guardduty_detector" not in resources and "aws_securityhub_account" in resources
    sources = sorted(json.loads(rule["event_pattern"])["source"][0] for rule in resources["aws_cloudwatch_event_rule"].values())
    assert sources == ["aws.guardduty", "aws.securityhub"], "an administrator's findings still arrive in the member account"


def test_every_region_pins_dynamodb_to_aws_backups_advanced_features(synthesized: Any) -> None:
    """The restore paths expect AWS Backup's recovery points (arn:aws:backup:...): the setting is pinned, not inherited
    from the account's history (https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html)."""
    regions = {}
    for name in synthesized.stack_names:
        for settings in synthesized.resources(name, "aws_backup_region_settings").values():
            regions[synthesized.stacks[name]["provider"]["aws"][0]["region"]] = settings
    assert sorted(regions) == ["eu-central-1", "eu-west-1", "us-east-1", "us-west-1"], "one per region the stacks use"
    for settings in regions.values():
        assert settings["resource_type_management_preference"] == {"DynamoDB": True}
        assert settings["resource_type_opt_in_preference"] == {"DynamoDB": True, "RDS": True, "Aurora": True}
        assert settings["lifecycle"]["ignore_changes"] == ["resource_type_opt_in_preference", 'resource_type_management_preference["EFS"]']
