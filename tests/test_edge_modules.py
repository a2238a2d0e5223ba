"""WAF, health checks and routed records, KMS keys and alarm topics as synthesized."""

from __future__ import annotations

import json
from typing import Any

import pytest

from modules.errors import InputError
from modules.health_check import HealthCheck, RecordEndpoint, RoutedRecords
from modules.iam import ServiceRole
from modules.kms import EncryptionKey
from modules.waf import SERVERLESS_API_RULE_GROUPS, WebAcl
from tests.conftest import Synthesized, synth_json

AA = "active-active-eu-west-1"


def test_regional_waf_has_seed_000_groups_in_order_after_rate_limit(synthesized: Synthesized) -> None:
    acl = synthesized.one(AA, "aws_wafv2_web_acl", "waf/acl")
    assert (acl["scope"], acl["default_action"]) == ("REGIONAL", {"allow": {}})
    rules = [(r["priority"], r["name"]) for r in acl["rule"]]
    assert rules == [
        (1, "rate-limit-per-ip"),
        (10, "AWSManagedRulesAmazonIpReputationList"),
        (20, "AWSManagedRulesAnonymousIpList"),
        (21, "hosting-providers-except-health-checks"),
        (30, "AWSManagedRulesCommonRuleSet"),
        (40, "AWSManagedRulesKnownBadInputsRuleSet"),
        (50, "AWSManagedRulesLinuxRuleSet"),
        (60, "AWSManagedRulesUnixRuleSet"),
    ]
    assert acl["rule"][0]["statement"] == {"rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}}
    assert acl["rule"][0]["action"] == {"block": {}}
    for rule in [r for r in acl["rule"][1:] if r["name"].startswith("AWSManaged")]:
        assert rule["override_action"] == {"none": {}}
        overrides = [{"name": "HostingProviderIPList", "action_to_use": {"count": {}}}] if "Anonymous" in rule["name"] else None
        expected = {"name": rule["name"], "vendor_name": "AWS", **({"rule_action_override": overrides} if overrides else {})}
        assert rule["statement"] == {"managed_rule_group_statement": expected}
        assert rule["visibility_config"]["cloudwatch_metrics_enabled"] is True
    (logging,) = synthesized.resources(AA, "aws_wafv2_web_acl_logging_configuration").values()
    group = synthesized.one(AA, "aws_cloudwatch_log_group", "waf/log-group")
    assert group["name"].startswith("aws-waf-logs-") and group["kms_key_id"].startswith("${aws_kms_key.")
    assert logging["log_destination_configs"] == [
        "${aws_cloudwatch_log_group.waf_log-group_" + _suffix(synthesized, AA, "waf/log-group") + ".arn}"
    ]


def waf_decision(acl: dict[str, Any], path: str, labels: set[str]) -> str:
    """The ACL's action for a request to `path` from an address the managed groups label with `labels`: the rules in
    priority order, a managed group blocking what its rules match (HostingProviderIPList's label comes from the
    anonymous-IP group) unless a rule_action_override counts it; the other groups and the rate limit match nothing."""
    added: set[str] = set()

    def matches(statement: dict[str, Any]) -> bool:
        if "and_statement" in statement:
            return all(matches(s) for s in statement["and_statement"]["statement"])
        if "not_statement" in statement:
            return not matches(statement["not_statement"]["statement"][0])
        if "label_match_statement" in statement:
            return statement["label_match_statement"]["key"] in added
        if "byte_match_statement" in statement:
            match = statement["byte_match_statement"]
            assert (match["positional_constraint"], match["field_to_match"]) == ("EXACTLY", {"uri_path": {}})
            return path == match["search_string"]
        raise AssertionError(f"a statement this evaluation does not know: {statement}")

    for rule in sorted(acl["rule"], key=lambda r: r["priority"]):
        group = rule["statement"].get("managed_rule_group_statement")
        if group is not None:
            hit = {label for label in labels if group["name"] == "AWSManagedRulesAnonymousIpList"}
            counted = {o["name"] for o in group.get("rule_action_override", []) if o["action_to_use"] == {"count": {}}}
            added |= {f"awswaf:managed:aws:anonymous-ip-list:{label}" for label in hit}
            if hit - counted:
                return f"blocked by {rule['name']}"
        elif "rate_based_statement" not in rule["statement"] and matches(rule["statement"]):
            return f"blocked by {rule['name']}"
    return "allowed"


def test_route53_health_checkers_reach_the_health_path_and_hosting_providers_nothing_else(synthesized: Synthesized) -> None:
    """Route 53's checkers send from AWS's addresses, which HostingProviderIPList covers: the rule only counts, and
    what it labelled is blocked except on the health checks' own path (the rate limit still applies to it)."""
    acl = synthesized.one(AA, "aws_wafv2_web_acl", "waf/acl")
    paths = {check["resource_path"] for check in synthesized.resources("active-active-global", "aws_route53_health_check").values()}
    (path,) = paths
    assert waf_decision(acl, path, {"HostingProviderIPList"}) == "allowed"
    assert waf_decision(acl, "/items", {"HostingProviderIPList"}) == "blocked by hosting-providers-except-health-checks"
    assert waf_decision(acl, path + "/x", {"HostingProviderIPList"}) == "blocked by hosting-providers-except-health-checks"
    assert waf_decision(acl, path, {"AnonymousIPList"}) == "blocked by AWSManagedRulesAnonymousIpList"  # VPNs and proxies still
    assert waf_decision(acl, "/items", set()) == "allowed"
    rate = acl["rule"][0]
    assert rate["name"] == "rate-limit-per-ip" and "scope_down_statement" not in rate["statement"]["rate_based_statement"]


def test_a_health_path_needs_the_anonymous_ip_group_and_a_leading_slash(scratch_stack) -> None:
    stack = scratch_stack("eu-west-1")
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    for index, (groups, path) in enumerate(((("AWSManagedRulesCommonRuleSet",), "/health"), (SERVERLESS_API_RULE_GROUPS, "health"))):
        with pytest.raises(InputError, match=f"acl{index}.health_path: got '{path}'; expected a path starting with / and the"):
            WebAcl(stack, f"acl{index}", name="x", log_key=key, managed_rule_groups=groups, health_path=path)


def _suffix(synthesized: Synthesized, stack: str, path: str) -> str:
    for key, body in synthesized.resources(stack, "aws_cloudwatch_log_group").items():
        if body["//"]["metadata"]["path"].endswith(path):
            return key.rsplit("_", 1)[1]
    raise AssertionError(path)


def test_cloudfront_waf_is_in_us_east_1_with_sqli_and_ip_reputation(synthesized: Synthesized) -> None:
    stack = "warm-standby-global"
    assert synthesized.stacks[stack]["provider"]["aws"][0]["region"] == "us-east-1"
    acl = synthesized.one(stack, "aws_wafv2_web_acl", "waf/acl")
    assert acl["scope"] == "CLOUDFRONT"
    names = [r["name"] for r in acl["rule"]]
    assert names[0] == "rate-limit-per-ip"
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"} <= set(names)


def test_waf_rejects_cloudfront_scope_outside_us_east_1_and_bad_groups(scratch_stack) -> None:
    stack = scratch_stack("eu-west-1")
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    with pytest.raises(InputError) as caught:
        WebAcl(stack, "acl", name="x", log_key=key, managed_rule_groups=[], waf_scope="CLOUDFRONT", rate_limit_per_5_minutes=5)
    path = f"{stack.node.id}/acl"
    assert str(caught.value).splitlines() == [
        f"{path}.waf_scope: got 'CLOUDFRONT'; expected a us-east-1 stack for CLOUDFRONT, not eu-west-1",
        f"{path}.managed_rule_groups: got []; expected at least one group, no repeats",
        f"{path}.rate_limit_per_5_minutes: got 5; expected 10 to 2000000000, or None",
    ]


def test_waf_association_helper_targets_regional_resources_only(scratch_stack) -> None:
    stack = scratch_stack("eu-west-1")
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    acl = WebAcl(stack, "acl", name="x", log_key=key, managed_rule_groups=SERVERLESS_API_RULE_GROUPS, rate_limit_per_5_minutes=None)
    stage_arn = "arn:aws:apigateway:eu-west-1::/restapis/abc123/stages/prod"
    acl.associate("stage", stage_arn)
    synthesized = synth_json(stack)
    (association,) = synthesized["resource"]["aws_wafv2_web_acl_association"].values()
    assert association["resource_arn"] == stage_arn
    assert association["web_acl_arn"].startswith("${aws_wafv2_web_acl.")
    (web_acl,) = synthesized["resource"]["aws_wafv2_web_acl"].values()
    assert [r["name"] for r in web_acl["rule"]] == list(SERVERLESS_API_RULE_GROUPS)

    edge_stack = scratch_stack("us-east-1")
    edge_key = EncryptionKey(edge_stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    edge = WebAcl(
        edge_stack, "acl", name="e", log_key=edge_key, managed_rule_groups=["AWSManagedRulesCommonRuleSet"], waf_scope="CLOUDFRONT"
    )
    with pytest.raises(InputError, match="expected a REGIONAL web ACL; set web_acl_id on the CloudFront distribution instead"):
        edge.associate("cf", "arn:aws:cloudfront::123456789012:distribution/E1")


def test_health_checks_use_config_thresholds_and_alarm_on_failure(synthesized: Synthesized) -> None:
    stack = "active-active-global"
    checks = {c["fqdn"]: c for c in synthesized.resources(stack, "aws_route53_health_check").values()}
    assert set(checks) == {"eu-west-1.api.example.com", "eu-central-1.api.example.com"}
    for check in checks.values():
        assert (check["type"], check["port"], check["resource_path"]) == ("HTTPS", 443, "/health")
        assert (check["request_interval"], check["failure_threshold"]) == (30, 3)
        assert check["enable_sni"] is True
    alarms = synthesized.resources(stack, "aws_cloudwatch_metric_alarm")
    assert len(alarms) == 2
    for alarm in alarms.values():
        assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/Route53", "HealthCheckStatus", "Minimum")
        assert (alarm["comparison_operator"], alarm["threshold"], alarm["treat_missing_data"]) == ("LessThanThreshold", 1, "breaching")
        assert alarm["dimensions"]["HealthCheckId"].startswith("${aws_route53_health_check.")
        assert alarm["alarm_actions"] == alarm["ok_actions"] and alarm["alarm_actions"][0].startswith("${aws_sns_topic.")


def test_weighted_records_are_equal_and_each_tied_to_its_regions_health_check(synthesized: Synthesized) -> None:
    stack = "active-active-global"
    records = synthesized.resources(stack, "aws_route53_record")
    checks = {key: c["fqdn"] for key, c in synthesized.resources(stack, "aws_route53_health_check").items()}
    assert len(records) == 2
    for record in records.values():
        assert (record["name"], record["type"], record["zone_id"]) == ("api.example.com", "CNAME", "Z0123456789ABCDEFGHIJ")
        assert record["weighted_routing_policy"] == {"weight": 100}
        check_key = record["health_check_id"].removeprefix("${aws_route53_health_check.").removesuffix(".id}")
        assert checks[check_key] == record["records"][0] == f"{record['set_identifier']}.api.example.com"


def test_failover_and_latency_records(scratch_stack) -> None:
    stack = scratch_stack("us-east-1")
    primary = RecordEndpoint("primary", "hc-1", alias_dns_name="p.elb.amazonaws.com", alias_zone_id="Z35SXDOTRQ7X7K")
    secondary = RecordEndpoint("secondary", "hc-2", alias_dns_name="s.elb.amazonaws.com", alias_zone_id="Z368ELLRRE2KJ0")
    RoutedRecords(stack, "failover", zone_id="Z1", name="app.example.com", routing="failover", endpoints=[primary, secondary])
    RoutedRecords(
        stack,
        "latency",
        zone_id="Z1",
        name="fast.example.com",
        routing="latency",
        endpoints=[
            RecordEndpoint("east", "hc-1", cname="e.example.com", region="us-east-1"),
            RecordEndpoint("west", "hc-2", cname="w.example.com", region="us-west-1"),
        ],
    )
    records = synth_json(stack)["resource"]["aws_route53_record"].values()
    failover = {r["set_identifier"]: r for r in records if r["name"] == "app.example.com"}
    assert failover["primary"]["failover_routing_policy"] == {"type": "PRIMARY"}
    assert failover["secondary"]["failover_routing_policy"] == {"type": "SECONDARY"}
    assert failover["primary"]["alias"] == {"name": "p.elb.amazonaws.com", "zone_id": "Z35SXDOTRQ7X7K", "evaluate_target_health": True}
    assert failover["primary"]["health_check_id"] == "hc-1" and failover["secondary"]["health_check_id"] == "hc-2"
    latency = {r["set_identifier"]: r for r in records if r["name"] == "fast.example.com"}
    assert latency["west"]["latency_routing_policy"] == {"region": "us-west-1"} and latency["west"]["ttl"] == 60


def test_routed_records_reject_missing_health_checks_and_bad_shapes(scratch_stack) -> None:
    stack = scratch_stack("us-east-1")
    with pytest.raises(InputError) as caught:
        RoutedRecords(
            stack,
            "bad",
            zone_id="Z1",
            name="x.example.com",
            routing="failover",
            endpoints=[RecordEndpoint("only", "", cname="a.example.com", alias_dns_name="b", alias_zone_id="Z2")],
        )
    path = f"{stack.node.id}/bad"
    assert str(caught.value).splitlines() == [
        f"{path}.endpoints: got 1; expected exactly 2 endpoints (primary, secondary) for failover",
        f"{path}.endpoints: got 1; expected at least 2 endpoints: one region cannot fail over",
        f"{path}.endpoints[only].health_check_id: got ''; expected a health check: routing must follow health",
        f"{path}.endpoints[only]: got 'only'; expected either alias_dns_name with alias_zone_id, or cname",
    ]


def test_health_check_requires_us_east_1_and_valid_interval(scratch_stack) -> None:
    stack = scratch_stack("eu-west-1")
    with pytest.raises(InputError) as caught:
        HealthCheck(stack, "hc", name="x", fqdn="a.example.com", alarm_topic_arn="arn", request_interval_seconds=20, failure_threshold=0)
    path = f"{stack.node.id}/hc"
    assert str(caught.value).splitlines() == [
        f"{path}.region: got 'eu-west-1'; expected a us-east-1 stack: Route 53 health check metrics live there",
        f"{path}.request_interval_seconds: got 20; expected 10 or 30",
        f"{path}.failure_threshold: got 0; expected 1 to 10",
    ]


def test_kms_keys_rotate_and_grant_logs_only_in_their_region(synthesized: Synthesized) -> None:
    for stack in synthesized.stack_names:
        for key in synthesized.resources(stack, "aws_kms_key").values():
            assert key["enable_key_rotation"] is True and key["deletion_window_in_days"] == 30
    key = synthesized.one(AA, "aws_kms_key", "/key/key")
    statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    assert statements["AccountAdministersKeyThroughIam"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    logs = statements["CloudWatchLogsOfThisRegion"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}}
    assert statements["ServiceCloudwatch"]["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    (alias,) = synthesized.resources(AA, "aws_kms_alias").values()
    assert alias["name"] == "alias/hadr-prod-active-active-eu-west-1"


def test_alarm_topic_is_kms_encrypted_and_only_cloudwatch_of_this_account_publishes(synthesized: Synthesized) -> None:
    (topic,) = synthesized.resources(AA, "aws_sns_topic").values()
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")
    (subscription,) = synthesized.resources(AA, "aws_sns_topic_subscription").values()
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "oncall@example.com")
    (policy,) = synthesized.resources(AA, "aws_sns_topic_policy").values()
    allow = json.loads(policy["policy"])["Statement"][0]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"


def test_service_role_refuses_wildcard_actions_on_everything(scratch_stack) -> None:
    stack = scratch_stack()
    with pytest.raises(InputError, match=r"statements\[0\]: got .*expected named actions; a wildcard action on all resources"):
        ServiceRole(
            stack, "r", name="r", service="lambda.amazonaws.com", statements=[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
        )
    with pytest.raises(InputError, match="not least privilege"):
        ServiceRole(
            stack,
            "r2",
            name="r2",
            service="lambda.amazonaws.com",
            statements=[{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}],
        )
