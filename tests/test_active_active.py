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
    assert "replica" not in table and table["lifecycle"] == {"ignore_changes": ["replica"]}
    (replica,) = synthesized.resources(DATA, "aws_dynamodb_table_replica").values()
    assert {key: value for key, value in replica.items() if key != "//"} == {
        "global_table_arn": ref("aws_dynamodb_table", table, "arn"),
        "kms_key_arn": ref("aws_kms_key", keys["key-secondary"], "arn"),
        "point_in_time_recovery": True,
        "deletion_protection_enabled": True,
        "tags": {"Name": "hadr-prod-items"},
        "provider": "aws.secondary",
    }
    assert keys["key-secondary"]["provider"] == "aws.secondary"
    assert [(p["region"], p.get("alias")) for p in synthesized.stacks[DATA]["provider"]["aws"]] == [
        ("eu-west-1", None),
        ("eu-central-1", "secondary"),
    ]
    aliases = {a["name"] for a in synthesized.resources(DATA, "aws_kms_alias").values()}
    assert aliases == {"alias/hadr-prod-active-active-table"}


def test_function_in_private_subnets_traced_reserved_concurrency_and_kms(synthesized: Synthesized) -> None:
    function = synthesized.one(EU_WEST, "aws_lambda_function", "api-function/function")
    assert (function["runtime"], function["handler"]) == ("python3.12", "handler.handler")
    assert (function["memory_size"], function["timeout"], function["reserved_concurrent_executions"]) == (256, 10, 50)
    assert function["tracing_config"] == {"mode": "Active"}
    assert function["environment"] == {"variables": {"TABLE_NAME": "hadr-prod-items", "LOG_LEVEL": "INFO"}}
    assert function["kms_key_arn"].startswith("${aws_kms_key.")
    subnets = [ref("aws_subnet", s) for s in synthesized.resources(EU_WEST, "aws_subnet").values()]
    assert sorted(function["vpc_config"]["subnet_ids"]) == sorted(subnets) and len(subnets) == 3
    (function_sg,) = [sg for sg in synthesized.resources(EU_WEST, "aws_security_group").values() if sg["name"].endswith("-api-function")]
    assert function["vpc_config"]["security_group_ids"] == [ref("aws_security_group", function_sg)]
    # API Gateway invokes it synchronously: a dead-letter queue would never receive anything.
    assert synthesized.resources(EU_WEST, "aws_sqs_queue") == {} and "dead_letter_config" not in function
    skipped = {entry["id"]: entry["reason"] for entry in function["//"]["checkov"]["skip"]}
    assert skipped["CKV_AWS_116"] == skipped["CKV_HADR_13"] and "synchronously" in skipped["CKV_HADR_13"]
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
    settings = synthesized.one(EU_WEST, "aws_api_gateway_method_settings", "api/settings")
    assert settings["method_path"] == "*/*"
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
    (regional,) = validation  # the shared name's record belongs to the data stack
    assert regional["zone_id"] == "Z0123456789ABCDEFGHIJ" and "allow_overwrite" not in regional
    assert '"eu-west-1.api.example.com"' in regional["name"]
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
    assert set(alarms) == {"Errors", "Throttles", "5XXError", "Latency", "ReplicationLatency", "SuccessPercent"}  # and the canary
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

    function = synthesized.one(EU_WEST, "aws_lambda_function", "api-function/function")
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


def validation_record_names(synthesized: Synthesized) -> dict[str, list[str]]:
    """Certified name -> the stacks that declare its ACM validation record."""
    owners: dict[str, list[str]] = {}
    for stack in synthesized.stack_names:
        for record in synthesized.resources(stack, "aws_route53_record").values():
            if "domain_validation_options" in str(record.get("name", "")):
                domain = record["name"].split('o.domain_name == "')[1].split('"')[0]
                owners.setdefault(domain, []).append(stack)
    return owners


def test_every_validation_record_has_exactly_one_owner(synthesized: Synthesized) -> None:
    """ACM gives every certificate of a name in an account the same CNAME: two stacks declaring it means destroying
    one deletes the record the other's certificate renews with."""
    owners = validation_record_names(synthesized)
    assert owners["api.example.com"] == [DATA]
    assert owners["eu-west-1.api.example.com"] == [EU_WEST] and owners["eu-central-1.api.example.com"] == [EU_CENTRAL]
    assert {domain: stacks for domain, stacks in owners.items() if len(stacks) != 1} == {}
    (anchor,) = synthesized.resources(DATA, "aws_acm_certificate").values()
    assert anchor["domain_name"] == "api.example.com" and "subject_alternative_names" not in anchor
    (taken_over,) = synthesized.resources(DATA, "aws_route53_record").values()
    assert taken_over["allow_overwrite"] is True  # the identical record 0.2's regional stacks created


def test_regional_stacks_forget_the_shared_record_instead_of_destroying_it(synthesized: Synthesized) -> None:
    from modules.moves import logical_id

    for stack in (EU_WEST, EU_CENTRAL):
        assert synthesized.stacks[stack]["removed"] == [
            {"from": f"aws_route53_record.{logical_id(['api', 'certificate', 'validation-0'])}", "lifecycle": {"destroy": False}}
        ]


def test_health_checks_have_capacity_of_their_own_and_fail_on_the_same_faults(synthesized: Synthesized) -> None:
    api = synthesized.one(EU_WEST, "aws_lambda_function", "api-function/function")
    health = synthesized.one(EU_WEST, "aws_lambda_function", "api-function/health")
    assert health["function_name"] == "hadr-prod-active-active-eu-west-1-api-health"
    assert health["reserved_concurrent_executions"] == 5 and api["reserved_concurrent_executions"] == 50
    for same in ("role", "filename", "source_code_hash", "vpc_config", "environment", "handler", "kms_key_arn", "tracing_config"):
        assert health[same] == api[same], same
    integrations = {
        i["//"]["metadata"]["path"].split("/api/")[1]: i for i in synthesized.resources(EU_WEST, "aws_api_gateway_integration").values()
    }
    assert integrations["path-health-lambda"]["uri"] == ref("aws_lambda_function", health, "invoke_arn")
    assert integrations["proxy-lambda"]["uri"] == integrations["root-lambda"]["uri"] == ref("aws_lambda_function", api, "invoke_arn")
    public = synthesized.one(EU_WEST, "aws_api_gateway_method_settings", "api/settings-public-0")
    assert public["method_path"] == "health/GET"
    assert (public["settings"]["throttling_rate_limit"], public["settings"]["throttling_burst_limit"]) == (20, 40)
    permissions = {p["statement_id"]: p for p in synthesized.resources(EU_WEST, "aws_lambda_permission").values()}
    assert permissions["AllowApiGatewayInvokePublicPaths"]["function_name"] == ref("aws_lambda_function", health, "function_name")
    logs = [
        json.loads(p["policy"])
        for p in synthesized.resources(EU_WEST, "aws_iam_role_policy").values()
        if p["name"].endswith("-api-health-logs")
    ]
    (statement,) = logs[0]["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"] and statement["Resource"][0].endswith(":*")


def test_each_region_is_sized_for_the_whole_peak(example_data: dict[str, Any]) -> None:
    """Static stability: 100 requests/s x 200 ms needs 20 executions in one region; the stage throttle is the peak."""
    import copy

    from modules.config import parse_config

    data = copy.deepcopy(example_data)
    data["active_active"]["traffic"] = {"peak_requests_per_second": 400, "average_duration_ms": 250}
    with pytest.raises(InputError) as caught:
        parse_config(data)
    assert str(caught.value) == (
        "active_active.lambda_function.reserved_concurrency: got 50; expected at least 100: one region must serve the whole"
        " peak (active_active.traffic: 400 requests/s x 250 ms)"
    )
    data["active_active"]["lambda_function"]["reserved_concurrency"] = 100
    assert parse_config(data).active_active.traffic.required_concurrency == 100


def test_replication_alarm_watches_the_region_rpo_of_the_policy(synthesized: Synthesized, example_data: dict[str, Any]) -> None:
    from modules.config import parse_config
    from stacks.active_active import replication_alarm

    alarm = next(
        a for a in synthesized.resources(EU_CENTRAL, "aws_cloudwatch_metric_alarm").values() if a["metric_name"] == "ReplicationLatency"
    )
    assert (alarm["threshold"], alarm["statistic"], alarm["period"], alarm["evaluation_periods"]) == (5000, "Maximum", 60, 1)
    policy = parse_config(example_data).active_active.resilience_policy
    looser = policy.model_copy(update={"region": policy.region.model_copy(update={"rpo_seconds": 30})})
    assert replication_alarm(looser)["threshold"] == 30_000
