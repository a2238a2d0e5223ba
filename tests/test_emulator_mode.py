"""Emulator mode (emulator.endpoint, or main.py --emulator-endpoint): every provider and backend calls the
emulator, and exactly what moto cannot create is left out; nothing else changes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modules.errors import InputError
from tests.conftest import EXAMPLE_CONFIG, Synthesized

ENDPOINT = "http://127.0.0.1:45999"
#: Resource types the emulator mode leaves out (the documented switch: EmulatorSettings) -> (the call the provider
#: makes that the pinned moto lacks, as (service, operation, arguments), or None; why). test_every_omission_is_still_
#: needed asks the pinned moto each time, so an upgrade that adds the call fails it: then deploy the type.
FIREWALL = {"CreatorRequestId": "x", "FirewallRuleGroupId": "g"}
LEFT_OUT: dict[str, tuple[tuple[str, str, dict[str, Any]] | None, str]] = {
    "aws_route53_resolver_firewall_config": (
        ("route53resolver", "update_firewall_config", {"ResourceId": "vpc-1", "FirewallFailOpen": "DISABLED"}),
        "no DNS Firewall",
    ),
    "aws_route53_resolver_firewall_domain_list": (
        ("route53resolver", "create_firewall_domain_list", {"CreatorRequestId": "x", "Name": "d"}),
        "no DNS Firewall",
    ),
    "aws_route53_resolver_firewall_rule": (
        (
            "route53resolver",
            "create_firewall_rule",
            {**FIREWALL, "FirewallDomainListId": "d", "Priority": 1, "Action": "BLOCK", "BlockResponse": "NODATA", "Name": "r"},
        ),
        "no DNS Firewall",
    ),
    "aws_route53_resolver_firewall_rule_group": (
        ("route53resolver", "create_firewall_rule_group", {"CreatorRequestId": "x", "Name": "g"}),
        "no DNS Firewall",
    ),
    "aws_route53_resolver_firewall_rule_group_association": (
        ("route53resolver", "associate_firewall_rule_group", {**FIREWALL, "VpcId": "vpc-1", "Priority": 101, "Name": "a"}),
        "no DNS Firewall",
    ),
    "aws_backup_selection": (
        (
            "backup",
            "create_backup_selection",
            {"BackupPlanId": "p", "BackupSelection": {"SelectionName": "s", "IamRoleArn": "arn:aws:iam::123456789012:role/r"}},
        ),
        "no backup selections",
    ),
    "aws_resiliencehub_resiliency_policy": (
        ("resiliencehub", "delete_resiliency_policy", {"policyArn": "arn:aws:resiliencehub:us-east-1:123456789012:resiliency-policy/x"}),
        "moto creates and describes a policy but cannot delete it, so destroy-local would fail",
    ),
    "aws_s3control_multi_region_access_point": (
        None,
        "moto has it, but the provider puts the account ID in S3 Control's host name (123456789012.127.0.0.1), a DNS query off the machine",
    ),
    "aws_cloudfront_response_headers_policy": (
        ("cloudfront", "create_response_headers_policy", {"ResponseHeadersPolicyConfig": {"Name": "n"}}),
        "no response headers policies: AWS's managed SecurityHeadersPolicy stands in",
    ),
    "aws_secretsmanager_secret_rotation": (None, "moto's RotateSecret invokes the function, which moto runs in a container"),
    "aws_securityhub_account": (
        ("securityhub", "update_security_hub_configuration", {"AutoEnableControls": True, "ControlFindingGenerator": "SECURITY_CONTROL"}),
        "moto enables Security Hub but cannot set its control findings (UpdateSecurityHubConfiguration)",
    ),
    "aws_securityhub_standards_subscription": (
        (
            "securityhub",
            "batch_enable_standards",
            {"StandardsSubscriptionRequests": [{"StandardsArn": "arn:aws:securityhub:us-east-1::standards/x"}]},
        ),
        "no BatchEnableStandards",
    ),
    "aws_dynamodb_table_replica": (None, "moto ignores UpdateTable's ReplicaUpdates: one table per region instead"),
    "aws_backup_region_settings": (
        ("backup", "update_region_settings", {"ResourceTypeManagementPreference": {"DynamoDB": True}}),
        "no UpdateRegionSettings: the emulated account keeps its defaults",
    ),
    "aws_synthetics_canary": (
        ("synthetics", "delete_canary", {"Name": "x"}),
        "no StartCanary nor DeleteCanary: the canary's role, bucket and alarm deploy, the canary does not",
    ),
    "aws_budgets_budget": (
        (
            "budgets",
            "describe_subscribers_for_notification",
            {
                "AccountId": "123456789012",
                "BudgetName": "b",
                "Notification": {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN", "Threshold": 50},
            },
        ),
        "no DescribeSubscribersForNotification, which the provider reads a budget's alerts with",
    ),
}
LEFT_OUT_TYPES = set(LEFT_OUT)
#: Asked in a new interpreter: this one may hold tools.moto_server's fix-ups.
PROBE = """
import inspect, json, sys
import boto3
from botocore.config import Config
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler
from moto.secretsmanager.models import SecretsManagerBackend
found = {}
with mock_aws():
    for kind, (service, operation, kwargs) in json.loads(sys.argv[1]).items():
        client = boto3.client(service, region_name="us-east-1", config=Config(inject_host_prefix=False))
        try:
            getattr(client, operation)(**kwargs)
            found[kind] = "implemented"
        except NotImplementedError as error:
            found[kind] = "not implemented"
        except Exception as error:
            found[kind] = "not implemented" if "(404)" in str(error) else f"{type(error).__name__}: {error}"
update = inspect.getsource(DynamoHandler.update_table)
found["aws_dynamodb_table_replica"] = "reads ReplicaUpdates" if "ReplicaUpdates" in update else "not implemented"
rotate = inspect.getsource(SecretsManagerBackend.rotate_secret)
found["aws_secretsmanager_secret_rotation"] = "invokes the function" if "lambda" in rotate.lower() else "does not invoke"
print(json.dumps(found))
"""


def test_every_omission_is_still_needed_by_the_pinned_moto() -> None:
    """Each left-out type's missing call is asked of the pinned moto: an upgrade that adds one fails here."""
    import subprocess
    import sys

    calls = {kind: call for kind, (call, _) in LEFT_OUT.items() if call is not None}
    probe = subprocess.run([sys.executable, "-c", PROBE, json.dumps(calls)], capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(probe.stdout)
    expected = {kind: "not implemented" for kind in calls} | {
        "aws_dynamodb_table_replica": "not implemented",
        "aws_secretsmanager_secret_rotation": "invokes the function",
    }
    assert found == expected


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    from modules.config import load_config
    from stacks.app import synthesize

    result = synthesize(load_config(EXAMPLE_CONFIG, emulator_endpoint=ENDPOINT), tmp_path_factory.mktemp("emulated") / "cdktf.local")
    return {name: json.loads((result.outdir / "stacks" / name / "cdk.tf.json").read_text()) for name in result.stack_names}


def resource_types(stack: dict[str, Any]) -> Counter[str]:
    return Counter({kind: len(items) for kind, items in stack.get("resource", {}).items()})


def test_only_loopback_endpoints_are_accepted() -> None:
    from modules.config import load_config

    for bad in ("http://10.0.0.1:5000", "https://127.0.0.1:5000", "http://127.0.0.1", "http://example.com:5000"):
        with pytest.raises(InputError, match=r"emulator.endpoint: got .*; expected http://127.0.0.1:<port> or http://localhost:<port>"):
            load_config(EXAMPLE_CONFIG, emulator_endpoint=bad)


def test_every_provider_and_backend_calls_the_emulator(emulated: dict[str, dict[str, Any]]) -> None:
    for name, stack in emulated.items():
        for provider in stack["provider"]["aws"]:
            (endpoints,) = provider["endpoints"]
            assert set(endpoints.values()) == {ENDPOINT} and {"s3", "sts", "dynamodb", "lambda", "rds"} <= set(endpoints), name
            assert (provider["s3_use_path_style"], provider["max_retries"]) == (True, 4)
            assert provider["allowed_account_ids"] == ["123456789012"], "the account check still runs (moto answers STS)"
        backend = stack["terraform"]["backend"]
        if name == "state-bootstrap":
            assert "local" in backend and backend["local"]["path"].endswith("cdktf.local.state/hadr-prod-state-bootstrap.tfstate")
        else:
            assert backend["s3"]["endpoints"] == {"s3": ENDPOINT, "dynamodb": ENDPOINT, "sts": ENDPOINT, "iam": ENDPOINT}
            assert backend["s3"]["use_path_style"] is True


def test_exactly_the_unsupported_resources_are_left_out(synthesized: Synthesized, emulated: dict[str, dict[str, Any]]) -> None:
    removed: Counter[str] = Counter()
    added: Counter[str] = Counter()
    for name, stack in emulated.items():
        real, local = resource_types(synthesized.stacks[name]), resource_types(stack)
        removed += real - local
        added += local - real
    # Partly left out: bucket policies' deny statements, the VPC endpoint of the Multi-Region Access Points and the
    # parameters holding the access point's ARN.
    assert set(removed) == LEFT_OUT_TYPES | {"aws_s3_bucket_policy", "aws_vpc_endpoint", "aws_ssm_parameter"}
    assert removed["aws_ssm_parameter"] == 2
    assert removed["aws_backup_selection"] == 4 and removed["aws_s3control_multi_region_access_point"] == 1
    assert removed["aws_vpc_endpoint"] == 2 and removed["aws_secretsmanager_secret_rotation"] == 1
    assert added == Counter({"aws_dynamodb_table": 1}), "one table per region instead of a global-table replica"
    for stack in emulated.values():
        for body in stack.get("resource", {}).get("aws_s3_bucket_policy", {}).values():
            assert not [s for s in json.loads(body["policy"])["Statement"] if s["Effect"] == "Deny"]


def test_one_table_per_region_and_the_failover_skips_the_access_point(emulated: dict[str, dict[str, Any]]) -> None:
    tables = emulated["active-active-data"]["resource"]["aws_dynamodb_table"].values()
    assert sorted((t["name"], t.get("provider", "aws"), "replica" in t) for t in tables) == [
        ("hadr-prod-items", "aws", False),
        ("hadr-prod-items", "aws.secondary", False),
    ]
    documents = emulated["warm-standby-us-west-1"]["resource"]["aws_ssm_document"].values()
    (switch,) = [body for body in documents if body["name"].endswith("-region-switch")]
    assert json.loads(json.loads(switch["content"])["parameters"]["Plan"]["default"])["mrap"] is None
    (distribution,) = emulated["warm-standby-global"]["resource"]["aws_cloudfront_distribution"].values()
    assert distribution["default_cache_behavior"]["target_origin_id"] == "us-east-1"
    assert [(b["path_pattern"], b["target_origin_id"]) for b in distribution["ordered_cache_behavior"]] == [
        ("/api/*", "writer"),
        ("*", "failover"),
    ]
    assert distribution["wait_for_deployment"] is False, "moto deploys at once; the provider's fixed minute only costs time"


def test_a_real_synth_has_no_emulator_settings(synthesized: Synthesized) -> None:
    text = json.dumps(synthesized.stacks)
    assert "127.0.0.1" not in text and "s3_use_path_style" not in text and "wait_for_deployment" not in text


def test_the_deploy_order_puts_the_bootstrap_first_and_every_stack_after_what_cdktf_says_it_depends_on(
    synthesized: Synthesized,
) -> None:
    """deploy-order.json against cdktf's own manifest.json: the same stacks, and each after its dependencies."""
    manifest = json.loads(Path(synthesized.outdir, "manifest.json").read_text())["stacks"]
    order = json.loads(Path(synthesized.outdir, "deploy-order.json").read_text())["order"]
    assert sorted(order) == sorted(manifest) and order[0] == "state-bootstrap"
    dependencies = {name: stack["dependencies"] for name, stack in manifest.items() if stack["dependencies"]}
    assert set(dependencies) == {"active-active-global", "warm-standby-global"}, "the global stacks read both regions' outputs"
    for name, needed in dependencies.items():
        assert all(order.index(other) < order.index(name) for other in needed), (name, needed, order)


#: Resource type prefix -> the provider endpoint (binding argument name) its calls go to.
ENDPOINT_OF_PREFIX = {
    "aws_acm_": "acm", "aws_api_gateway_": "apigateway", "aws_availability_zones": "ec2", "aws_caller_identity": "sts",
    "aws_autoscaling_": "autoscaling", "aws_backup_": "backup", "aws_budgets_": "budgets", "aws_cloudtrail": "cloudtrail",
    "aws_cloudfront_": "cloudfront", "aws_cloudwatch_event_": "events", "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_metric_": "cloudwatch", "aws_cloudwatch_dashboard": "cloudwatch", "aws_config_": "configservice",
    "aws_synthetics_": "synthetics", "aws_db_": "rds", "aws_rds_": "rds", "aws_default_security_group": "ec2",
    "aws_dynamodb_": "dynamodb", "aws_ec2_": "ec2", "aws_eip": "ec2", "aws_fis_": "fis", "aws_flow_log": "ec2",
    "aws_guardduty_": "guardduty", "aws_iam_": "iam", "aws_instance": "ec2", "aws_internet_gateway": "ec2",
    "aws_kms_": "kms", "aws_lambda_": "lambda_", "aws_launch_template": "ec2", "aws_lb": "elbv2", "aws_nat_gateway": "ec2",
    "aws_network_acl": "ec2", "aws_resiliencehub_": "resiliencehub", "aws_route53_resolver_": "route53_resolver",
    "aws_route53_": "route53", "aws_route": "ec2", "aws_s3control_": "s3_control", "aws_s3_": "s3",
    "aws_secretsmanager_": "secretsmanager", "aws_securityhub_": "securityhub", "aws_security_group": "ec2",
    "aws_sns_": "sns", "aws_sqs_": "sqs", "aws_ssm_": "ssm", "aws_subnet": "ec2", "aws_vpc": "ec2", "aws_wafv2_": "wafv2",
}  # fmt: skip


def test_every_service_the_stacks_call_is_sent_to_the_emulator(emulated: dict[str, dict[str, Any]]) -> None:
    """A service missing from the provider's endpoints would be called on AWS itself (a DNS lookup off the machine)."""
    from modules.base import EMULATED_SERVICES

    kinds = {kind for stack in emulated.values() for section in ("resource", "data", "ephemeral") for kind in stack.get(section, {})}
    services = {}
    for kind in kinds:
        prefixes = [prefix for prefix in ENDPOINT_OF_PREFIX if kind.startswith(prefix)]
        assert prefixes, f"{kind}: add its endpoint to ENDPOINT_OF_PREFIX"
        services[kind] = ENDPOINT_OF_PREFIX[max(prefixes, key=len)]
    assert {kind: service for kind, service in services.items() if service not in EMULATED_SERVICES} == {}
