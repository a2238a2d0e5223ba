"""Active/active serverless architecture (seed 000) as synthesized from the example configuration."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules.errors import InputError
from modules.function import PrivateFunction
from modules.global_table import GlobalTable, Replica
from modules.kms import EncryptionKey
from modules.network import Network
from tests.conftest import ROOT, Synthesized

DATA = "active-active-data"
EU_WEST = "active-active-eu-west-1"
EU_CENTRAL = "active-active-eu-central-1"
GLOBAL = "active-active-global"
TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/hadr-prod-items"


def ref(resource_type: str, body: dict[str, Any], attribute: str = "id") -> str:
    """The interpolation another resource uses to point at `body`."""
    return f"${{{resource_type}.{body['//']['metadata']['uniqueId']}.{attribute}}}"


def test_global_table_on_demand_pitr_streams_cmk_per_region_and_protected(synthesized: Synthesized) -> None:
    (table,) = synthesized.resources(DATA, "aws_dynamodb_table").values()
    assert (table["name"], table["hash_key"], table["billing_mode"]) == ("hadr-prod-items", "id", "PAY_PER_REQUEST")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    assert table["deletion_protection_enabled"] is True
    keys = {k["//"]["metadata"]["path"].split("/")[1]: k for k in synthesized.resources(DATA, "aws_kms_key").values()}
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": ref("aws_kms_key", keys["key-primary"], "arn")}
    (replica,) = table["replica"]
    assert replica == {
        "region_name": "eu-central-1",
        "kms_key_arn": ref("aws_kms_key", keys["key-secondary"], "arn"),
        "point_in_time_recovery": True,
        "propagate_tags": True,
    }
    assert keys["key-secondary"]["provider"] == "aws.secondary"
    assert [(p["region"], p.get("alias")) for p in synthesized.stacks[DATA]["provider"]["aws"]] == [
        ("eu-west-1", None),
        ("eu-central-1", "secondary"),
    ]
    aliases = {a["name"] for a in synthesized.resources(DATA, "aws_kms_alias").values()}
    assert aliases == {"alias/hadr-prod-active-active-table"}


def test_function_in_private_subnets_traced_with_dlq_reserved_concurrency_and_kms(synthesized: Synthesized) -> None:
    (function,) = synthesized.resources(EU_WEST, "aws_lambda_function").values()
    assert (function["runtime"], function["handler"]) == ("python3.12", "handler.handler")
    assert (function["memory_size"], function["timeout"], function["reserved_concurrent_executions"]) == (256, 10, 50)
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["environment"] == {"variables": {"TABLE_NAME": "hadr-prod-items", "LOG_LEVEL": "INFO"}}
    assert function["kms_key_arn"].startswith("${aws_kms_key.")
    subnets = [ref("aws_subnet", s) for s in synthesized.resources(EU_WEST, "aws_subnet").values()]
    assert sorted(function["vpc_config"]["subnet_ids"]) == sorted(subnets) and len(subnets) == 3
    (function_sg,) = [sg for sg in synthesized.resources(EU_WEST, "aws_security_group").values() if sg["name"].endswith("-api-function")]
    assert function["vpc_config"]["security_group_ids"] == [ref("aws_security_group", function_sg)]
    (dlq,) = synthesized.resources(EU_WEST, "aws_sqs_queue").values()
    assert function["dead_letter_config"] == {"target_arn": ref("aws_sqs_queue", dlq, "arn")}
    assert dlq["kms_master_key_id"].startswith("${aws_kms_key.") and dlq["message_retention_seconds"] == 1209600
    group = synthesized.one(EU_WEST, "aws_cloudwatch_log_group", "api-function/logs")
    assert (group["name"], group["retention_in_days"]) == ("/aws/lambda/hadr-prod-active-active-eu-west-1-api", 365)
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    assert function["logging_config"]["log_group"] == ref("aws_cloudwatch_log_group", group, "name")
    assert function["source_code_hash"] == f'${{filebase64sha256("{function["filename"]}")}}'


def test_function_security_group_reaches_only_the_endpoints(synthesized: Synthesized) -> None:
    (function_sg,) = [sg for sg in synthesized.resources(EU_WEST, "aws_security_group").values() if sg["name"].endswith("-api-function")]
    (endpoint_sg,) = [sg for sg in synthesized.resources(EU_WEST, "aws_security_group").values() if sg["name"].endswith("-endpoints")]
    sg_ref = ref("aws_security_group", function_sg)
    ingress = [
        r for r in synthesized.resources(EU_WEST, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == sg_ref
    ]
    assert ingress == []
    egress = [r for r in synthesized.resources(EU_WEST, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == sg_ref]
    targets = sorted(r.get("referenced_security_group_id") or r["prefix_list_id"] for r in egress)
    endpoints = {e["service_name"].rsplit(".", 1)[1]: e for e in synthesized.resources(EU_WEST, "aws_vpc_endpoint").values()}
    assert targets == sorted(
        [
            ref("aws_security_group", endpoint_sg),
            ref("aws_vpc_endpoint", endpoints["s3"], "prefix_list_id"),
            ref("aws_vpc_endpoint", endpoints["dynamodb"], "prefix_list_id"),
        ]
    )
    assert all((r["ip_protocol"], r["from_port"], r["to_port"]) == ("tcp", 443, 443) for r in egress)
    assert "cidr_ipv4" not in json.dumps(egress)


def test_function_role_is_scoped_to_this_regions_table_and_its_key(synthesized: Synthesized) -> None:
    policy = json.loads(synthesized.one(EU_WEST, "aws_iam_role_policy", "api-function/role/policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ItemsInThisRegionsReplica"]["Resource"] == [TABLE_ARN]
    assert statements["ItemsInThisRegionsReplica"]["Action"] == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    ]
    key = statements["TableKeyThroughDynamoDb"]
    assert key["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/hadr-prod-active-active-table"},
        "StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"},
    }
    assert statements["OwnLogs"]["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/hadr-prod-active-active-eu-west-1-api:*"
    ]
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(action != "*" and not action.endswith(":*") for action in actions), statement


def test_rest_api_regional_with_access_logs_tracing_throttling_and_tls12_custom_domains(synthesized: Synthesized) -> None:
    (api,) = synthesized.resources(EU_WEST, "aws_api_gateway_rest_api").values()
    assert api["endpoint_configuration"] == {"types": ["REGIONAL"]} and api["disable_execute_api_endpoint"] is True
    integrations = synthesized.resources(EU_WEST, "aws_api_gateway_integration").values()
    assert {(i["type"], i["integration_http_method"]) for i in integrations} == {("AWS_PROXY", "POST")}
    (stage,) = synthesized.resources(EU_WEST, "aws_api_gateway_stage").values()
    assert stage["xray_tracing_enabled"] is True and stage["stage_name"] == "live"
    access_group = synthesized.one(EU_WEST, "aws_cloudwatch_log_group", "api/access-logs")
    assert stage["access_log_settings"]["destination_arn"] == ref("aws_cloudwatch_log_group", access_group, "arn")
    assert json.loads(stage["access_log_settings"]["format"])["status"] == "$context.status"
    (settings,) = synthesized.resources(EU_WEST, "aws_api_gateway_method_settings").values()
    assert settings["settings"] == {
        "metrics_enabled": True,
        "logging_level": "ERROR",
        "data_trace_enabled": False,
        "throttling_rate_limit": 100,
        "throttling_burst_limit": 200,
    }
    (account,) = synthesized.resources(EU_WEST, "aws_api_gateway_account").values()
    account_role = synthesized.one(EU_WEST, "aws_iam_role", "api-logging/role/role")
    assert account["cloudwatch_role_arn"] == ref("aws_iam_role", account_role, "arn")
    assert f"aws_api_gateway_account.{account['//']['metadata']['uniqueId']}" in stage["depends_on"]
    assert api["lifecycle"] == {"create_before_destroy": True}
    domains = {d["domain_name"]: d for d in synthesized.resources(EU_WEST, "aws_api_gateway_domain_name").values()}
    assert set(domains) == {"api.example.com", "eu-west-1.api.example.com"}
    for domain in domains.values():
        assert (domain["security_policy"], domain["endpoint_configuration"]) == ("TLS_1_2", {"types": ["REGIONAL"]})
    mappings = synthesized.resources(EU_WEST, "aws_api_gateway_base_path_mapping").values()
    assert sorted(m["domain_name"] for m in mappings) == sorted(
        ref("aws_api_gateway_domain_name", d, "domain_name") for d in domains.values()
    )
    (certificate,) = synthesized.resources(EU_WEST, "aws_acm_certificate").values()
    assert (certificate["domain_name"], certificate["subject_alternative_names"], certificate["validation_method"]) == (
        "api.example.com",
        ["eu-west-1.api.example.com"],
        "DNS",
    )
    records = synthesized.resources(EU_WEST, "aws_route53_record")
    validation = [r for r in records.values() if "/api/certificate/validation-" in r["//"]["metadata"]["path"]]
    assert len(validation) == 2 and all(r["zone_id"] == "Z0123456789ABCDEFGHIJ" and r["allow_overwrite"] for r in validation)
    (alias,) = [r for r in records.values() if "/api/alias-" in r["//"]["metadata"]["path"]]
    entry = domains["api.example.com"]
    assert (alias["name"], alias["type"]) == ("eu-west-1.api.example.com", "A")
    assert alias["alias"]["name"] == ref("aws_api_gateway_domain_name", entry, "regional_domain_name")


def test_api_requires_signed_requests_except_get_on_the_health_path(synthesized: Synthesized) -> None:
    methods = {m["//"]["metadata"]["path"].split("/api/")[1]: m for m in synthesized.resources(EU_WEST, "aws_api_gateway_method").values()}
    assert {name: (m["http_method"], m["authorization"]) for name, m in methods.items()} == {
        "root-any": ("ANY", "AWS_IAM"),
        "proxy-any": ("ANY", "AWS_IAM"),
        "path-health-get": ("GET", "NONE"),
    }
    (validator,) = synthesized.resources(EU_WEST, "aws_api_gateway_request_validator").values()
    assert validator["validate_request_parameters"] is True
    assert {m["request_validator_id"] for m in methods.values()} == {ref("aws_api_gateway_request_validator", validator, "id")}
    (health,) = [r for r in synthesized.resources(EU_WEST, "aws_api_gateway_resource").values() if r["path_part"] == "health"]
    assert methods["path-health-get"]["resource_id"] == ref("aws_api_gateway_resource", health, "id")
    assert [s["id"] for s in methods["path-health-get"]["//"]["checkov"]["skip"]] == ["CKV_AWS_59"]
    assert "checkov" not in methods["proxy-any"]["//"]


def test_a_public_api_is_a_recorded_choice_and_public_paths_are_checked(scratch_stack) -> None:
    from modules.api import RegionalRestApi

    stack = scratch_stack("eu-west-1")
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    function = PrivateFunction(
        stack, "fn", function_name="f", source_dir=ROOT / "lambda" / "api", handler="handler.handler", network=None, key=key,
        outside_vpc_reason="a test function that calls nothing",
    )  # fmt: skip
    common = {"name": "a", "function": function, "domain_names": ["a.example.com"], "hosted_zone_id": "Z1", "log_key": key}
    RegionalRestApi(stack, "public", authorization="NONE", public_paths=["/status/live"], **common)
    methods = stack.to_terraform()["resource"]["aws_api_gateway_method"]  # Testing.synth drops the "//" metadata
    reasons = {name.rsplit("_", 1)[0]: m["//"]["checkov"]["skip"][0]["reason"] for name, m in methods.items()}
    assert set(reasons) == {"public_root-any", "public_proxy-any", "public_path-status-live-get"}
    assert "authorization NONE" in reasons["public_root-any"] and "Route 53" in reasons["public_path-status-live-get"]
    with pytest.raises(InputError, match=r"public_paths: got '/'; expected a literal path below the root"):
        RegionalRestApi(stack, "bad", public_paths=["/"], **common)


def test_waf_protects_the_api_stage(synthesized: Synthesized) -> None:
    (association,) = synthesized.resources(EU_WEST, "aws_wafv2_web_acl_association").values()
    (stage,) = synthesized.resources(EU_WEST, "aws_api_gateway_stage").values()
    (acl,) = synthesized.resources(EU_WEST, "aws_wafv2_web_acl").values()
    assert association["resource_arn"] == ref("aws_api_gateway_stage", stage, "arn")
    assert association["web_acl_arn"] == ref("aws_wafv2_web_acl", acl, "arn")


def test_alarms_on_errors_throttles_5xx_latency_and_replication_to_the_peer(synthesized: Synthesized) -> None:
    alarms = {a["metric_name"]: a for a in synthesized.resources(EU_CENTRAL, "aws_cloudwatch_metric_alarm").values()}
    assert set(alarms) == {"Errors", "Throttles", "5XXError", "Latency", "ReplicationLatency"}
    (topic,) = synthesized.resources(EU_CENTRAL, "aws_sns_topic").values()
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == [ref("aws_sns_topic", topic, "arn")]
    assert alarms["Errors"]["namespace"] == "AWS/Lambda" and alarms["Errors"]["threshold"] == 0
    assert (alarms["Latency"]["extended_statistic"], alarms["Latency"]["threshold"]) == ("p99", 2000)
    assert "statistic" not in alarms["Latency"]
    assert alarms["ReplicationLatency"]["dimensions"] == {"TableName": "hadr-prod-items", "ReceivingRegion": "eu-west-1"}


def test_resiliency_policy_has_the_configured_objectives(synthesized: Synthesized) -> None:
    (policy,) = synthesized.resources(GLOBAL, "aws_resiliencehub_resiliency_policy").values()
    assert (policy["tier"], policy["data_location_constraint"]) == ("MissionCritical", "AnyLocation")
    assert policy["policy"] == {
        "region": {"rto": "3600s", "rpo": "5s"},
        "az": {"rto": "1s", "rpo": "1s"},
        "hardware": {"rto": "1s", "rpo": "1s"},
        "software": {"rto": "5400s", "rpo": "300s"},
    }


def test_function_package_holds_only_the_handler_sources(synthesized: Synthesized) -> None:
    import zipfile

    (function,) = synthesized.resources(EU_WEST, "aws_lambda_function").values()
    archive = synthesized.outdir / "stacks" / EU_WEST / function["filename"]
    with zipfile.ZipFile(archive) as package:
        assert sorted(package.namelist()) == ["handler.py", "requirements.txt"]
        assert package.read("handler.py") == (ROOT / "lambda" / "api" / "handler.py").read_bytes()


def test_global_table_and_function_reject_bad_props(scratch_stack) -> None:
    stack = scratch_stack("eu-west-1")
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    with pytest.raises(InputError, match=r"replicas: got \['eu-west-1'\]; expected one or more distinct regions other than eu-west-1"):
        GlobalTable(stack, "table", table_name="t", key=key, replicas=[Replica("eu-west-1", key)])
    bare = Network(stack, "net", name="n", cidr="10.9.0.0/16", log_key=key, az_count=2, availability_zones=("eu-west-1a", "eu-west-1b"))
    with pytest.raises(InputError) as caught:
        PrivateFunction(
            stack, "fn", function_name="f", source_dir=ROOT / "lambda" / "api", handler="handler.handler", network=bare,
            subnet_tier="private", key=key, memory_mb=64, timeout_seconds=901, reserved_concurrency=0,
        )  # fmt: skip
    path = f"{stack.node.id}/fn"
    with pytest.raises(InputError, match=r"fn2.outside_vpc_reason: got None; expected why a function without a network needs no VPC"):
        PrivateFunction(
            stack, "fn2", function_name="g", source_dir=ROOT / "lambda" / "api", handler="handler.handler", network=None, key=key
        )
    assert str(caught.value).splitlines() == [
        f"{path}.memory_mb: got 64; expected 128 to 10240",
        f"{path}.timeout_seconds: got 901; expected 1 to 900",
        f"{path}.reserved_concurrency: got 0; expected at least 1",
        f"{path}.network: got 'n'; expected a network with interface endpoints (the function has no other way out)",
    ]
