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
#: Resource types the emulator mode leaves out, and why (the documented switch: EmulatorSettings).
LEFT_OUT_TYPES = {
    "aws_route53_resolver_firewall_config",
    "aws_route53_resolver_firewall_domain_list",
    "aws_route53_resolver_firewall_rule",
    "aws_route53_resolver_firewall_rule_group",
    "aws_route53_resolver_firewall_rule_group_association",
    "aws_backup_selection",
    "aws_resiliencehub_resiliency_policy",
    "aws_s3control_multi_region_access_point",
    "aws_cloudfront_response_headers_policy",
    "aws_secretsmanager_secret_rotation",  # moto would run the rotation function in a container
    "aws_securityhub_account",  # moto has no Security Hub account to enable
    "aws_securityhub_standards_subscription",
    "aws_dynamodb_table_replica",  # moto has no global-table replicas: one table per region instead
}


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
            assert (provider["s3_use_path_style"], provider["max_retries"]) == (True, 2)
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
    # Partly left out: bucket policies' deny statements, and the VPC endpoint of the Multi-Region Access Points.
    assert set(removed) == LEFT_OUT_TYPES | {"aws_s3_bucket_policy", "aws_vpc_endpoint"}
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
    assert Path(synthesized.outdir, "deploy-order.json").is_file()
    assert json.loads(Path(synthesized.outdir, "deploy-order.json").read_text())["order"] == synthesized.stack_names


#: Resource type prefix -> the provider endpoint (binding argument name) its calls go to.
ENDPOINT_OF_PREFIX = {
    "aws_acm_": "acm", "aws_api_gateway_": "apigateway", "aws_availability_zones": "ec2", "aws_caller_identity": "sts",
    "aws_autoscaling_": "autoscaling", "aws_backup_": "backup",
    "aws_cloudfront_": "cloudfront", "aws_cloudwatch_event_": "events", "aws_cloudwatch_log_": "logs",
    "aws_cloudwatch_metric_": "cloudwatch", "aws_db_": "rds", "aws_default_security_group": "ec2",
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
