"""Warm-standby three-tier architecture (seed 001) as synthesized from the example configuration."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from modules.errors import InputError
from tests.conftest import Synthesized

PRIMARY = "warm-standby-us-east-1"
STANDBY = "warm-standby-us-west-1"
PRIMARY_REGION = "us-east-1"


def ref(resource_type: str, body: dict[str, Any], attribute: str = "id") -> str:
    return f"${{{resource_type}.{body['//']['metadata']['uniqueId']}.{attribute}}}"


def groups_by_role(synthesized: Synthesized, stack: str) -> dict[str, str]:
    """Security group reference -> chain role (web-alb, web-alb-health, web, app-alb, app, db, break-glass)."""
    return {
        ref("aws_security_group", sg): sg["//"]["metadata"]["path"].rsplit("/sg-", 1)[1]
        for sg in synthesized.resources(stack, "aws_security_group").values()
        if "/sg-" in sg["//"]["metadata"]["path"]
    }


@pytest.mark.parametrize("stack", [PRIMARY, STANDBY])
def test_security_groups_form_a_chain_and_nothing_else_is_open(synthesized: Synthesized, stack: str) -> None:
    roles = groups_by_role(synthesized, stack)
    assert sorted(roles.values()) == ["app", "app-alb", "break-glass", "db", "web", "web-alb", "web-alb-health"]
    ingress = set()
    for rule in synthesized.resources(stack, "aws_vpc_security_group_ingress_rule").values():
        if rule["security_group_id"] not in roles:
            continue  # the endpoint security group of the network module
        source = roles.get(rule.get("referenced_security_group_id")) or rule["//"]["metadata"]["path"].rsplit("-from-", 1)[1]
        assert "cidr_ipv4" not in rule, rule
        ingress.add((source, roles[rule["security_group_id"]], rule["from_port"]))
    assert ingress == {
        ("cloudfront", "web-alb", 443),
        ("route53-health-checkers", "web-alb-health", 443),
        ("web-alb", "web", 8080),
        ("web", "app-alb", 443),
        ("app-alb", "app", 8080),
        ("app", "db", 5432),
        ("break-glass", "web", 22),
        ("break-glass", "app", 22),
    }
    egress = [r for r in synthesized.resources(stack, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] in roles]
    assert all("cidr_ipv4" not in rule for rule in egress), "no egress to an address range: only to chain members and endpoints"
    assert not [r for r in egress if roles[r["security_group_id"]] == "db"], "the database starts no connections"
    prefix_lists = synthesized.stacks[stack]["data"]["aws_ec2_managed_prefix_list"]
    assert sorted(p["name"] for p in prefix_lists.values()) == [
        "com.amazonaws.global.cloudfront.origin-facing",
        f"com.amazonaws.{stack.removeprefix('warm-standby-')}.route53-healthchecks",
    ]


def test_launch_templates_require_imdsv2_encrypt_volumes_and_have_no_ssh_key(synthesized: Synthesized) -> None:
    for stack in (PRIMARY, STANDBY):
        tiers = ("/web/template", "/app/template")
        templates = [t for t in synthesized.resources(stack, "aws_launch_template").values() if t["//"]["metadata"]["path"].endswith(tiers)]
        assert len(templates) == 2
        for template in templates:
            assert template["metadata_options"]["http_tokens"] == "required"
            assert template["metadata_options"]["http_put_response_hop_limit"] == 1
            (volume,) = template["block_device_mappings"]
            assert volume["ebs"]["encrypted"] == "true" and volume["ebs"]["kms_key_id"].startswith("${aws_kms_key.")
            assert "key_name" not in template
            assert template["image_id"] == "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
            assert b"ThreadingHTTPServer" in base64.b64decode(template["user_data"])
        profile_roles = {p["role"] for p in synthesized.resources(stack, "aws_iam_instance_profile").values()}
        attachments = synthesized.resources(stack, "aws_iam_role_policy_attachment").values()
        assert any(a["policy_arn"].endswith("/AmazonSSMManagedInstanceCore") for a in attachments) and profile_roles


def test_groups_use_elb_health_checks_scale_on_cpu_and_requests_and_standby_is_smaller(synthesized: Synthesized) -> None:
    sizes = {}
    for stack in (PRIMARY, STANDBY):
        for group in synthesized.resources(stack, "aws_autoscaling_group").values():
            assert (group["health_check_type"], group["health_check_grace_period"]) == ("ELB", 300)
            assert len(group["vpc_zone_identifier"]) == 2
            assert group["lifecycle"] == {"ignore_changes": ["desired_capacity"]}
            sizes[group["name"]] = (group["min_size"], group["desired_capacity"], group["max_size"])
        policies = synthesized.resources(stack, "aws_autoscaling_policy").values()
        metrics = sorted(
            (
                p["target_tracking_configuration"]["predefined_metric_specification"]["predefined_metric_type"],
                p["target_tracking_configuration"]["target_value"],
            )
            for p in policies
        )
        assert metrics == [
            ("ALBRequestCountPerTarget", 1000),
            ("ALBRequestCountPerTarget", 1000),
            ("ASGAverageCPUUtilization", 70),
            ("ASGAverageCPUUtilization", 70),
        ]
    assert sizes["hadr-prod-ws-us-east-1-web"] == (2, 2, 6) and sizes["hadr-prod-ws-us-west-1-web"] == (1, 1, 6)
    assert sizes["hadr-prod-ws-us-west-1-app"][1] < sizes["hadr-prod-ws-us-east-1-app"][1]


def test_web_alb_is_https_only_redirects_http_and_forwards_only_with_the_origin_header(synthesized: Synthesized) -> None:
    albs = {alb["name"]: alb for alb in synthesized.resources(PRIMARY, "aws_lb").values()}
    assert albs["hadr-prod-ws-us-east-1-web"]["internal"] is False and albs["hadr-prod-ws-us-east-1-app"]["internal"] is True
    assert all(alb["drop_invalid_header_fields"] and alb["enable_deletion_protection"] for alb in albs.values())
    listeners = list(synthesized.resources(PRIMARY, "aws_lb_listener").values())
    https = [listener for listener in listeners if listener["protocol"] == "HTTPS"]
    assert len(https) == 2 and {listener["ssl_policy"] for listener in https} == {"ELBSecurityPolicy-TLS13-1-2-2021-06"}
    (redirect,) = [listener for listener in listeners if listener["protocol"] == "HTTP"]
    assert redirect["default_action"][0]["redirect"] == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
    web_https = next(listener for listener in https if "/web/" in listener["//"]["metadata"]["path"])
    assert web_https["default_action"][0]["fixed_response"]["status_code"] == "403"
    rules = {r["priority"]: r for r in synthesized.resources(PRIMARY, "aws_lb_listener_rule").values()}
    assert rules[10]["condition"][0]["http_header"] == {"http_header_name": "X-Origin-Verify", "values": ["${var.origin_verify_secret}"]}
    assert rules[5]["condition"] == [{"path_pattern": {"values": ["/health"]}}, {"http_request_method": {"values": ["GET"]}}]
    variable = synthesized.stacks[PRIMARY]["variable"]["origin_verify_secret"]
    assert variable["sensitive"] is True and variable["validation"][0]["condition"] == "${length(var.origin_verify_secret) >= 32}"


def test_primary_database_is_multi_az_encrypted_and_protected(postgres_synthesized: Synthesized) -> None:
    """The RDS engine (the example's warm standby with `database.engine: postgres`)."""
    synthesized = postgres_synthesized
    (db,) = synthesized.resources(PRIMARY, "aws_db_instance").values()
    assert (db["identifier"], db["engine"], db["engine_version"], db["instance_class"]) == (
        "hadr-prod-warm-standby-db",
        "postgres",
        "16.4",
        "db.t3.medium",
    )
    assert db["multi_az"] is True and db["storage_encrypted"] is True and db["kms_key_id"].startswith("${aws_kms_key.")
    assert "manage_master_user_password" not in db and "password" not in db and db["password_wo_version"] == 1
    assert db["backup_retention_period"] >= 7 and db["deletion_protection"] is True and db["publicly_accessible"] is False
    assert db["performance_insights_enabled"] is True and db["monitoring_interval"] == 60
    (parameters,) = synthesized.resources(PRIMARY, "aws_db_parameter_group").values()
    assert {"name": "rds.force_ssl", "value": "1"} in parameters["parameter"] and parameters["family"] == "postgres16"


def test_standby_replica_follows_the_primary_by_arn_with_its_own_regions_key(postgres_synthesized: Synthesized) -> None:
    synthesized = postgres_synthesized
    (replica,) = synthesized.resources(STANDBY, "aws_db_instance").values()
    assert replica["replicate_source_db"] == "arn:aws:rds:us-east-1:123456789012:db:hadr-prod-warm-standby-db"
    assert replica["multi_az"] is True and replica["storage_encrypted"] is True
    (standby_key,) = [k for k in synthesized.resources(STANDBY, "aws_kms_key").values() if k["//"]["metadata"]["path"].endswith("/key/key")]
    assert replica["kms_key_id"] == ref("aws_kms_key", standby_key, "arn")
    assert "username" not in replica and "engine" not in replica
    subnet_groups = {
        stack: next(iter(synthesized.resources(stack, "aws_db_subnet_group").values()))["name"] for stack in (PRIMARY, STANDBY)
    }
    assert subnet_groups[PRIMARY] == subnet_groups[STANDBY]
    parameter = synthesized.one(STANDBY, "aws_ssm_parameter", "database/writer-parameter")
    assert parameter["name"] == "/hadr-prod/warm-standby/database" and parameter["lifecycle"] == {"ignore_changes": ["value"]}
    assert (
        parameter["value"] == '${jsonencode({"host" = aws_db_instance.database_instance_D7FC2283.address, '
        '"port" = aws_db_instance.database_instance_D7FC2283.port, "writable" = false, "secret_id" = "hadr-prod/warm-standby/db-master"})}'
    )


def test_the_global_database_has_a_writer_and_a_reader_here_and_a_secondary_there(synthesized: Synthesized) -> None:
    """The example's engine, aurora-postgresql: one global cluster (in the primary's stack), a cluster per region
    encrypted with its region's key, the secondary naming no credentials and the primary as its source region."""
    (global_cluster,) = synthesized.resources(PRIMARY, "aws_rds_global_cluster").values()
    assert (global_cluster["global_cluster_identifier"], global_cluster["engine"], global_cluster["engine_version"]) == (
        "hadr-prod-warm-standby-global-db", "aurora-postgresql", "16.4"
    )  # fmt: skip
    assert global_cluster["storage_encrypted"] is True and global_cluster["deletion_protection"] is True
    (primary,) = synthesized.resources(PRIMARY, "aws_rds_cluster").values()
    (secondary,) = synthesized.resources(STANDBY, "aws_rds_cluster").values()
    assert primary["global_cluster_identifier"] == ref("aws_rds_global_cluster", global_cluster, "id")
    assert secondary["global_cluster_identifier"] == "hadr-prod-warm-standby-global-db" and secondary["source_region"] == PRIMARY_REGION
    assert primary["master_username"] == "app_admin" and primary["master_password_wo_version"] == 1 and "master_password" not in primary
    assert not {"master_username", "master_password_wo", "manage_master_user_password"} & set(secondary)
    for stack, cluster in ((PRIMARY, primary), (STANDBY, secondary)):
        (key,) = [k for k in synthesized.resources(stack, "aws_kms_key").values() if k["//"]["metadata"]["path"].endswith("/key/key")]
        assert cluster["storage_encrypted"] is True and cluster["kms_key_id"] == ref("aws_kms_key", key, "arn")
        assert cluster["deletion_protection"] is True and cluster["backup_retention_period"] >= 7
        assert cluster["lifecycle"] == {"ignore_changes": ["replication_source_identifier"]}
    instances = {stack: list(synthesized.resources(stack, "aws_rds_cluster_instance").values()) for stack in (PRIMARY, STANDBY)}
    assert [i["identifier"] for i in instances[PRIMARY]] == ["hadr-prod-warm-standby-db-1", "hadr-prod-warm-standby-db-2"]
    assert [i["identifier"] for i in instances[STANDBY]] == ["hadr-prod-warm-standby-db-replica-1"]
    assert {i["instance_class"] for i in instances[PRIMARY] + instances[STANDBY]} == {"db.r6g.large"}
    writer_zone, reader_zone = (i["availability_zone"] for i in instances[PRIMARY])
    assert writer_zone != reader_zone, "the reader is in another zone"
    groups = {stack: next(iter(synthesized.resources(stack, "aws_rds_cluster_parameter_group").values())) for stack in (PRIMARY, STANDBY)}
    values = {stack: {p["name"]: p["value"] for p in group["parameter"]} for stack, group in groups.items()}
    assert values[PRIMARY]["rds.global_db_rpo"] == "60" and "rds.global_db_rpo" not in values[STANDBY]
    assert all(v["rds.force_ssl"] == "1" and v["log_statement"] == "ddl" for v in values.values())
    parameter = synthesized.one(STANDBY, "aws_ssm_parameter", "database/writer-parameter")
    assert parameter["value"] == (
        '${jsonencode({"host" = aws_rds_cluster.database_cluster_FAF2FB92.endpoint, '
        '"port" = aws_rds_cluster.database_cluster_FAF2FB92.port, "writable" = false, "secret_id" = "hadr-prod/warm-standby/db-master"})}'
    )


def test_break_glass_instance_is_stopped_hardened_and_ssm_only(synthesized: Synthesized) -> None:
    (instance,) = synthesized.resources(PRIMARY, "aws_instance").values()
    template = synthesized.one(PRIMARY, "aws_launch_template", "break-glass/template")
    assert instance["launch_template"] == {"id": ref("aws_launch_template", template), "version": "$Latest"} and "ami" not in instance
    assert template["metadata_options"]["http_tokens"] == "required" and template["block_device_mappings"][0]["ebs"]["encrypted"] == "true"
    assert instance["associate_public_ip_address"] is False and "key_name" not in instance and "key_name" not in template
    assert "user_data" not in template
    (state,) = synthesized.resources(PRIMARY, "aws_ec2_instance_state").values()
    assert state["state"] == "stopped" and state["instance_id"] == ref("aws_instance", instance)


def test_the_decision_function_lives_in_the_standby_and_hears_every_signal(synthesized: Synthesized) -> None:
    assert [f["function_name"] for f in synthesized.resources(PRIMARY, "aws_lambda_function").values()] == [
        "hadr-prod-warm-standby-us-east-1-rotate-db"
    ]
    function = synthesized.one(STANDBY, "aws_lambda_function", "failover-function/function")
    assert "vpc_config" not in function and function["reserved_concurrent_executions"] == 1 and function["timeout"] == 60
    variables = function["environment"]["variables"]
    assert (variables["MODE"], variables["SIGNAL_SECONDS"], variables["DOCUMENT_NAME"]) == ("manual", "300", "hadr-prod-ws-region-switch")
    assert (variables["ROUTE53_ALARM"], variables["PROBE_ALARM"]) == (
        "hadr-prod-warm-standby-us-east-1-unhealthy",
        "hadr-prod-warm-standby-primary-probe",
    )
    rule = synthesized.one(STANDBY, "aws_cloudwatch_event_rule", "failover-trigger/rule")
    alarm, health = json.loads(rule["event_pattern"])["$or"]
    assert alarm["detail"] == {"alarmName": [variables["ROUTE53_ALARM"], variables["PROBE_ALARM"]], "state": {"value": ["ALARM"]}}
    assert "region" not in health and health["detail"] == {
        "eventTypeCategory": ["issue"],
        "service": ["EC2", "EBS", "ELASTICLOADBALANCING", "RDS"],
        "statusCode": ["open"],
        "eventRegion": ["us-east-1"],
    }
    assert synthesized.one(STANDBY, "aws_cloudwatch_event_rule", "failover-probe/rule")["schedule_expression"] == "rate(1 minute)"
    for trigger in ("failover-trigger", "failover-probe"):
        assert synthesized.one(STANDBY, "aws_cloudwatch_event_target", f"{trigger}/target")["arn"] == ref(
            "aws_lambda_function", function, "arn"
        )
    probe = next(a for a in synthesized.resources(STANDBY, "aws_cloudwatch_metric_alarm").values() if a["metric_name"] == "PrimaryProbe")
    assert (probe["evaluation_periods"], probe["period"], probe["treat_missing_data"]) == (5, 60, "notBreaching")
    policy = json.loads(synthesized.one(STANDBY, "aws_iam_role_policy", "failover-function/role/policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["StartThePlan"]["Resource"] == [
        "arn:aws:ssm:us-west-1:123456789012:automation-definition/hadr-prod-ws-region-switch:*"
    ]
    plan_role = synthesized.one(STANDBY, "aws_iam_role", "recovery-plan/role/role")
    assert statements["RunAsThePlanRole"]["Resource"] == [ref("aws_iam_role", plan_role, "arn")]
    probe = statements["ProbeThePrimaryDatabase"]
    assert (probe["Action"], probe["Resource"]) == (
        ["rds:DescribeDBClusters"],
        ["arn:aws:rds:us-east-1:123456789012:cluster:hadr-prod-warm-standby-db"],
    )
    assert variables["PRIMARY_DATABASE_KIND"] == "cluster"


def test_the_route53_signal_is_one_failing_minute_of_a_failing_check_and_missing_data_is_no_signal(synthesized: Synthesized) -> None:
    """The health check itself fails only after `failure_threshold` failures in a row (3 x 30 s): its alarm needs
    one minute of it, not three more (the RTO's detection)."""
    alarms = synthesized.resources(GLOBAL, "aws_cloudwatch_metric_alarm").values()
    (primary,) = [a for a in alarms if a["alarm_name"] == "hadr-prod-warm-standby-us-east-1-unhealthy"]
    assert (primary["evaluation_periods"], primary["period"], primary["treat_missing_data"]) == (1, 60, "notBreaching")
    checks = {c["fqdn"]: c for c in synthesized.resources(GLOBAL, "aws_route53_health_check").values()}
    assert (
        checks["origin-us-east-1.www.example.com"]["failure_threshold"],
        checks["origin-us-east-1.www.example.com"]["request_interval"],
    ) == (3, 30)


def test_the_recovery_plan_is_an_automation_with_an_approval_and_a_readiness_run(synthesized: Synthesized) -> None:
    switch = json.loads(synthesized.one(STANDBY, "aws_ssm_document", "recovery-plan/switch")["content"])
    names = [step["name"] for step in switch["mainSteps"]]
    order = ["preChecks", "scaleTarget", "approve", "fenceSource", "promote", "waitPromoted", "takeOverCredentials",
             "repointApp", "moveWrites", "routeStorage", "waitCapacity", "verify", "decideOnRest", "restStandby0", "restStandby1",
             "notifyDone"]  # fmt: skip
    assert [name for name in names if name in order] == order
    # The standby's instances launch while the operator reads the approval request; refused, they are scaled back.
    steps = {step["name"]: step for step in switch["mainSteps"]}
    assert steps["approve"]["onFailure"] == "step:decideOnRestAfterRefusal"
    rests = [steps[f"restRefused{n}"]["inputs"] for n in (0, 1)]
    assert [(r["AutoScalingGroupName"], r["MinSize"], r["DesiredCapacity"], r["MaxSize"]) for r in rests] == [
        ("hadr-prod-ws-us-west-1-app", 1, 1, 6), ("hadr-prod-ws-us-west-1-web", 1, 1, 6)
    ]  # fmt: skip
    assert steps["restRefused1"]["nextStep"] == "notifyFailed" and steps["restStandby1"]["nextStep"] == "notifyDone"
    approve = next(step for step in switch["mainSteps"] if step["action"] == "aws:approve")
    topic = synthesized.one(STANDBY, "aws_sns_topic", "recovery-plan/approvals/topic")
    assert topic["name"].startswith("Automation-"), "aws:approve notifies only topics named Automation*"
    assert approve["inputs"]["NotificationArn"] == ref("aws_sns_topic", topic, "arn") and approve["timeoutSeconds"] == 3600
    approver = synthesized.one(STANDBY, "aws_iam_role", "recovery-plan/approver/role")
    assert switch["parameters"]["Approvers"]["default"] == [ref("aws_iam_role", approver, "arn")]
    assert switch["parameters"]["Decision"] == {
        **switch["parameters"]["Decision"],
        "default": "manual",
        "allowedValues": ["manual", "automatic"],
    }
    schedule = synthesized.one(STANDBY, "aws_cloudwatch_event_rule", "recovery-plan/readiness/rule")
    target = synthesized.one(STANDBY, "aws_cloudwatch_event_target", "recovery-plan/readiness/target")
    assert schedule["schedule_expression"] == "rate(60 minutes)"
    assert target["arn"] == "arn:aws:ssm:us-west-1:123456789012:automation-definition/hadr-prod-ws-region-switch:$DEFAULT"
    assert json.loads(target["input"]) == {"Practice": ["true"], "Reason": ["readiness evaluation"]}
    ready = next(a for a in synthesized.resources(STANDBY, "aws_cloudwatch_metric_alarm").values() if a["metric_name"] == "StandbyReady")
    assert (ready["period"], ready["treat_missing_data"], ready["comparison_operator"]) == (3600, "breaching", "LessThanThreshold")


def test_writes_follow_a_latch_in_the_standby_region_through_a_failover_record(synthesized: Synthesized) -> None:
    latch = synthesized.one(STANDBY, "aws_cloudwatch_metric_alarm", "recovery-plan/writer/alarm")
    assert (latch["namespace"], latch["metric_name"], latch["treat_missing_data"]) == ("HADR/WarmStandby", "PrimaryIsWriter", "ignore")
    checks = {
        role: synthesized.one(STANDBY, "aws_route53_health_check", f"recovery-plan/writer/check-{role}") for role in ("primary", "standby")
    }
    for role, check in checks.items():
        assert (check["type"], check["cloudwatch_alarm_region"], check["insufficient_data_health_status"]) == (
            "CLOUDWATCH_METRIC", "us-west-1", "LastKnownStatus"
        )  # fmt: skip
        assert check["invert_healthcheck"] is (role == "standby")
        assert check["lifecycle"]["replace_triggered_by"] == [f"aws_cloudwatch_metric_alarm.{latch['//']['metadata']['uniqueId']}"]
    records = {
        r["set_identifier"]: r
        for r in synthesized.resources(STANDBY, "aws_route53_record").values()
        if r["name"] == "origin-writer.www.example.com"
    }
    assert records["primary"]["records"] == ["origin-us-east-1.www.example.com"] and records["primary"]["failover_routing_policy"] == {
        "type": "PRIMARY"
    }
    assert records["standby"]["records"] == ["origin-us-west-1.www.example.com"] and records["standby"]["failover_routing_policy"] == {
        "type": "SECONDARY"
    }
    parameter = synthesized.one(STANDBY, "aws_ssm_parameter", "recovery-plan/writer-region")
    assert (parameter["value"], parameter["type"], parameter["lifecycle"]) == ("us-east-1", "SecureString", {"ignore_changes": ["value"]})
    for stack in (PRIMARY, STANDBY):
        certificate = synthesized.one(stack, "aws_acm_certificate", "certificate/certificate")
        assert "origin-writer.www.example.com" in certificate["subject_alternative_names"]


@pytest.mark.parametrize("engine", ["aurora-postgresql", "postgres"])
def test_the_primary_has_an_availability_zone_outage_experiment_that_stops_on_web_errors(
    request: pytest.FixtureRequest, engine: str
) -> None:
    """The database fails over with the zone: Aurora's cluster to its reader, or the RDS instance to its standby."""
    synthesized: Synthesized = request.getfixturevalue("postgres_synthesized" if engine == "postgres" else "synthesized")
    experiment = synthesized.one(PRIMARY, "aws_fis_experiment_template", "zone-outage")
    actions = {a["action_id"]: a for a in experiment["action"]}
    if engine == "postgres":
        assert set(actions) == {"aws:network:disrupt-connectivity", "aws:rds:reboot-db-instances"}
        assert {p["key"]: p["value"] for p in actions["aws:rds:reboot-db-instances"]["parameter"]} == {"forceFailover": "true"}
    else:
        assert set(actions) == {"aws:network:disrupt-connectivity", "aws:rds:failover-db-cluster"}
        (clusters,) = [t for t in experiment["target"] if t["resource_type"] == "aws:rds:cluster"]
        (cluster,) = synthesized.resources(PRIMARY, "aws_rds_cluster").values()
        assert clusters["resource_arns"] == [ref("aws_rds_cluster", cluster, "arn")]
    assert {p["key"]: p["value"] for p in actions["aws:network:disrupt-connectivity"]["parameter"]} == {"duration": "PT10M", "scope": "all"}
    subnets = next(t for t in experiment["target"] if t["resource_type"] == "aws:ec2:subnet")
    first_zone = [
        ref("aws_subnet", synthesized.one(PRIMARY, "aws_subnet", f"network/{tier}-0"), "arn") for tier in ("public", "app", "data")
    ]
    assert sorted(subnets["resource_arns"]) == sorted(first_zone)
    web_errors = synthesized.one(PRIMARY, "aws_cloudwatch_metric_alarm", "alarm-web-5xx")
    assert experiment["stop_condition"] == [
        {"source": "aws:cloudwatch:alarm", "value": ref("aws_cloudwatch_metric_alarm", web_errors, "arn")}
    ]


GLOBAL = "warm-standby-global"


def test_cloudfront_fails_over_from_primary_to_standby_on_5xx_https_only(synthesized: Synthesized) -> None:
    (distribution,) = synthesized.resources(GLOBAL, "aws_cloudfront_distribution").values()
    origins = {o["origin_id"]: o for o in distribution["origin"]}
    assert {k: o["domain_name"] for k, o in origins.items()} == {
        "us-east-1": "origin-us-east-1.www.example.com",
        "us-west-1": "origin-us-west-1.www.example.com",
        "writer": "origin-writer.www.example.com",  # the failover record the recovery plan moves
    }
    for origin in origins.values():
        assert (origin["connection_attempts"], origin["connection_timeout"]) == (3, 10)
        assert origin["custom_origin_config"]["origin_protocol_policy"] == "https-only"
        assert origin["custom_origin_config"]["origin_ssl_protocols"] == ["TLSv1.2"]
        assert origin["custom_origin_config"]["origin_read_timeout"] == 30
        assert origin["custom_header"] == [{"name": "X-Origin-Verify", "value": "${var.origin_verify_secret}"}]
    (group,) = distribution["origin_group"]
    assert group["failover_criteria"] == {"status_codes": [500, 502, 503, 504]}
    assert [m["origin_id"] for m in group["member"]] == ["us-east-1", "us-west-1"]
    assert distribution["default_cache_behavior"]["target_origin_id"] == "failover"
    assert distribution["default_cache_behavior"]["viewer_protocol_policy"] == "https-only"
    (writes,) = distribution["ordered_cache_behavior"]
    assert (writes["path_pattern"], writes["target_origin_id"], writes["viewer_protocol_policy"]) == ("/api/*", "writer", "https-only")
    assert distribution["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
    (acl,) = synthesized.resources(GLOBAL, "aws_wafv2_web_acl").values()
    assert distribution["web_acl_id"] == ref("aws_wafv2_web_acl", acl, "arn")
    (headers,) = synthesized.resources(GLOBAL, "aws_cloudfront_response_headers_policy").values()
    hsts = headers["security_headers_config"]["strict_transport_security"]
    assert (hsts["access_control_max_age_sec"], hsts["include_subdomains"], hsts["preload"]) == (63072000, True, True)
    assert headers["security_headers_config"]["frame_options"]["frame_option"] == "DENY"
    for cache_behavior in (distribution["default_cache_behavior"], writes):
        assert cache_behavior["response_headers_policy_id"] == ref("aws_cloudfront_response_headers_policy", headers, "id")
    assert distribution["restrictions"] == {"geo_restriction": {"restriction_type": "none"}}
    assert distribution["logging_config"]["bucket"].startswith("${aws_s3_bucket.") and distribution["aliases"] == ["www.example.com"]
    records = {r["type"]: r for r in synthesized.resources(GLOBAL, "aws_route53_record").values() if r["name"] == "www.example.com"}
    assert set(records) == {"A", "AAAA"}
    assert records["A"]["alias"]["name"] == ref("aws_cloudfront_distribution", distribution, "domain_name")


def test_geo_restriction_comes_from_the_config_and_is_validated(example_data: dict) -> None:
    from modules.config import parse_config

    data = copy.deepcopy(example_data)
    data["warm_standby"]["cloudfront"]["geo_restriction"] = {"restriction_type": "whitelist", "locations": ["US", "ca"]}
    with pytest.raises(InputError, match=r"warm_standby.cloudfront.geo_restriction.locations\[1\]: got 'ca'; expected a valid value"):
        parse_config(data)
    data["warm_standby"]["cloudfront"]["geo_restriction"]["locations"] = ["US", "CA"]
    geo = parse_config(data).warm_standby.cloudfront.geo_restriction
    assert (geo.restriction_type, geo.locations) == ("whitelist", ("US", "CA"))


def test_health_checks_probe_each_regions_alb_as_seed_003(synthesized: Synthesized) -> None:
    checks = {c["fqdn"]: c for c in synthesized.resources(GLOBAL, "aws_route53_health_check").values()}
    assert set(checks) == {"origin-us-east-1.www.example.com", "origin-us-west-1.www.example.com"}
    for check in checks.values():
        assert (check["type"], check["resource_path"], check["request_interval"], check["failure_threshold"]) == ("HTTPS", "/health", 30, 3)


def test_primary_alarm_is_forwarded_to_the_standby_bus(synthesized: Synthesized) -> None:
    (rule,) = synthesized.resources(GLOBAL, "aws_cloudwatch_event_rule").values()
    assert json.loads(rule["event_pattern"])["detail"]["alarmName"] == ["hadr-prod-warm-standby-us-east-1-unhealthy"]
    (target,) = synthesized.resources(GLOBAL, "aws_cloudwatch_event_target").values()
    assert target["arn"] == "arn:aws:events:us-west-1:123456789012:event-bus/default"
    alarm_names = {a["alarm_name"] for a in synthesized.resources(GLOBAL, "aws_cloudwatch_metric_alarm").values()}
    assert "hadr-prod-warm-standby-us-east-1-unhealthy" in alarm_names


STORAGE = "warm-standby-storage"


def test_assets_buckets_replicate_both_ways_with_rtc_behind_one_multi_region_access_point(synthesized: Synthesized) -> None:
    every_bucket = {b["bucket"]: b for b in synthesized.resources(STORAGE, "aws_s3_bucket").values()}
    assert set(every_bucket) == {
        f"hadr-prod-ws-assets-{kind}{region}-123456789012" for kind in ("", "logs-") for region in ("us-east-1", "us-west-1")
    }
    buckets = {name: b for name, b in every_bucket.items() if "-logs-" not in name}
    assert len(synthesized.resources(STORAGE, "aws_s3_bucket_logging")) == 2
    # Each region's access logs are encrypted with that region's assets key (S3 server access logging takes SSE-KMS).
    for encryption in synthesized.resources(STORAGE, "aws_s3_bucket_server_side_encryption_configuration").values():
        (rule,) = encryption["rule"]
        assert (rule["apply_server_side_encryption_by_default"]["sse_algorithm"], rule["bucket_key_enabled"]) == ("aws:kms", True)
    skipped = [skip["id"] for bucket in every_bucket.values() for skip in bucket["//"].get("checkov", {}).get("skip", [])]
    assert "CKV_AWS_144" in skipped and "CKV_AWS_145" not in skipped, "checkov's SSE-KMS check holds without a suppression"
    replications = list(synthesized.resources(STORAGE, "aws_s3_bucket_replication_configuration").values())
    assert len(replications) == 2
    for replication in replications:
        (rule,) = replication["rule"]
        assert rule["destination"]["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
    blocks = synthesized.resources(STORAGE, "aws_s3_bucket_public_access_block").values()
    assert len(blocks) == 4 and all(b["restrict_public_buckets"] for b in blocks)
    (access_point,) = synthesized.resources(STORAGE, "aws_s3control_multi_region_access_point").values()
    details = access_point["details"]
    assert details["name"] == "hadr-prod-ws-assets"
    assert sorted(r["bucket"] for r in details["region"]) == sorted(ref("aws_s3_bucket", b, "bucket") for b in buckets.values())
    assert all(details["public_access_block"].values())


def test_the_plan_finds_the_access_point_in_its_region_and_may_only_route_it(synthesized: Synthesized) -> None:
    """The access point's ARN (its alias is generated) is written by the storage stack to a parameter in each region;
    the plan reads it there, and never calls the access point's control plane (us-west-2 only)."""
    switch = json.loads(synthesized.one(STANDBY, "aws_ssm_document", "recovery-plan/switch")["content"])
    plan = json.loads(switch["parameters"]["Plan"]["default"])
    name = "/hadr-prod/warm-standby/assets-access-point"
    assert (plan["mrap"]["arn_parameter"], plan["mrap"]["account"]) == (name, "123456789012")
    assert plan["mrap"]["control_regions"] == ["us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1"]
    (access_point,) = synthesized.resources(STORAGE, "aws_s3control_multi_region_access_point").values()
    parameters = synthesized.resources(STORAGE, "aws_ssm_parameter").values()
    published = sorted(p.get("provider", "aws") for p in parameters if p["name"] == name)
    assert published == ["aws", "aws.standby"], "one in each region, the plan's own (the standby's) included"
    assert {p["value"] for p in parameters if p["name"] == name} == {ref("aws_s3control_multi_region_access_point", access_point, "arn")}
    assert {region: r["bucket"] for region, r in plan["regions"].items()} == {
        "us-west-1": "hadr-prod-ws-assets-us-west-1-123456789012",
        "us-east-1": "hadr-prod-ws-assets-us-east-1-123456789012",
    }
    policy = json.loads(synthesized.one(STANDBY, "aws_iam_role_policy", "recovery-plan/role/policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    route = statements["RouteTheAccessPoint"]
    assert route["Action"] == ["s3:GetMultiRegionAccessPointRoutes", "s3:SubmitMultiRegionAccessPointRoutes"]
    assert route["Resource"] == ["arn:aws:s3::123456789012:accesspoint/*"]
    found = [f"arn:aws:ssm:{region}:123456789012:parameter{name}" for region in ("us-east-1", "us-west-1")]
    assert statements["FindTheAccessPoint"]["Resource"] == found


@pytest.mark.parametrize("engine", ["aurora-postgresql", "postgres"])
@pytest.mark.parametrize(("stack", "identifier"), [(PRIMARY, "hadr-prod-warm-standby-db"), (STANDBY, "hadr-prod-warm-standby-db-replica")])
def test_backups_take_the_database_and_alarms_watch_it(request: pytest.FixtureRequest, engine: str, stack: str, identifier: str) -> None:
    """Each engine: the backup plan takes the cluster or the instance; the standby alarms on its copy's lag at half
    the region RPO (150 s of 300), in the unit its metric has."""
    synthesized: Synthesized = request.getfixturevalue("postgres_synthesized" if engine == "postgres" else "synthesized")
    region = stack.removeprefix("warm-standby-")
    kind, lag = ("db", "ReplicaLag") if engine == "postgres" else ("cluster", "AuroraGlobalDBRPOLag")
    (selection,) = synthesized.resources(stack, "aws_backup_selection").values()
    assert selection["resources"] == [f"arn:aws:rds:{region}:123456789012:{kind}:{identifier}"]
    alarms = {a["metric_name"]: a for a in synthesized.resources(stack, "aws_cloudwatch_metric_alarm").values()}
    failover = {lag, "PrimaryProbe", "PrimaryIsWriter", "StandbyReady"}  # the standby's signals, latch and readiness
    # SuccessPercent: the region's canary (tests/test_operations.py); ReplicationLatency: the assets it sends (test_assess)
    expected = {"HTTPCode_ELB_5XX_Count", "CPUUtilization", "SuccessPercent", "ReplicationLatency"}
    expected |= {"FreeStorageSpace"} if engine == "postgres" else set()  # Aurora's storage grows by itself
    expected |= failover if stack == STANDBY else set()
    assert set(alarms) == expected
    dimension = "DBInstanceIdentifier" if engine == "postgres" else "DBClusterIdentifier"
    assert set(alarms["CPUUtilization"]["dimensions"]) == {dimension}
    if stack == STANDBY:
        threshold = 150 if engine == "postgres" else 150_000  # AuroraGlobalDBRPOLag is in milliseconds
        assert (alarms[lag]["threshold"], alarms[lag]["statistic"], alarms[lag]["evaluation_periods"]) == (threshold, "Maximum", 1)


def test_primary_health_issues_are_forwarded_to_the_standby_bus(synthesized: Synthesized) -> None:
    rule = synthesized.one(PRIMARY, "aws_cloudwatch_event_rule", "forward-health/rule")
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.health"],
        "detail-type": ["AWS Health Event"],
        "detail": {
            "eventTypeCategory": ["issue"],
            "service": ["EC2", "EBS", "ELASTICLOADBALANCING", "RDS"],
            "statusCode": ["open"],
            "eventRegion": ["us-east-1"],
        },
    }
    target = synthesized.one(PRIMARY, "aws_cloudwatch_event_target", "forward-health/target")
    assert target["arn"] == "arn:aws:events:us-west-1:123456789012:event-bus/default"
    policy = json.loads(synthesized.one(PRIMARY, "aws_iam_role_policy", "forward-health/role/policy")["policy"])
    assert policy["Statement"][0]["Action"] == ["events:PutEvents"] and policy["Statement"][0]["Resource"] == [target["arn"]]


@pytest.mark.parametrize(("stack", "elb_account"), [(PRIMARY, "127311923021"), (STANDBY, "027434742980")])
def test_load_balancers_log_to_their_regions_bucket_which_only_elb_may_write(
    synthesized: Synthesized, stack: str, elb_account: str
) -> None:
    bucket = synthesized.one(stack, "aws_s3_bucket", "alb-logs/bucket")
    policy_resource = synthesized.one(stack, "aws_s3_bucket_policy", "alb-logs/policy")
    for alb in synthesized.resources(stack, "aws_lb").values():
        assert alb["access_logs"] == {"bucket": ref("aws_s3_bucket", bucket, "bucket"), "prefix": alb["name"], "enabled": True}
        assert f"aws_s3_bucket_policy.{policy_resource['//']['metadata']['uniqueId']}" in alb["depends_on"]
    statements = {s["Sid"]: s for s in json.loads(policy_resource["policy"])["Statement"]}
    assert statements["LoadBalancerAccessLogs"]["Principal"] == {"AWS": f"arn:aws:iam::{elb_account}:root"}
    assert statements["LoadBalancerAccessLogs"]["Resource"].endswith("/AWSLogs/123456789012/*")
    assert "DenyInsecureTransport" in statements
    ownership = synthesized.one(stack, "aws_s3_bucket_ownership_controls", "alb-logs/ownership")
    assert ownership["rule"] == {"object_ownership": "BucketOwnerEnforced"}
    cdn = synthesized.one(GLOBAL, "aws_s3_bucket_ownership_controls", "cdn-logs/ownership")
    assert cdn["rule"] == {"object_ownership": "BucketOwnerPreferred"}, "CloudFront standard logging needs ACLs"


def test_an_internet_facing_alb_needs_a_web_acl_or_a_cdn_with_one(scratch_stack) -> None:
    from modules.compute import LoadBalancedTier, TierSize, instance_role
    from modules.kms import EncryptionKey
    from modules.network import THREE_TIER, Network

    stack = scratch_stack("us-east-1")
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    network = Network(
        stack, "net", name="n", cidr="10.9.0.0/16", log_key=key, az_count=2, availability_zones=("us-east-1a", "us-east-1b"),
        tiers=THREE_TIER, nat_gateways=1,
    )  # fmt: skip
    common = {
        "network": network, "alb_tier": "public", "instance_tier": "app", "internet_facing": True, "certificate_arn": "arn:cert",
        "alb_security_group_ids": ["sg-1"], "instance_security_group_id": "sg-2", "key": key,
        "size": TierSize("t3.small", 1, 1, 2), "instance_role": instance_role(stack, "role", name="r"),
    }  # fmt: skip
    with pytest.raises(InputError, match=r"open.web_acl_arn: got None; expected a web ACL, or origin_verification behind a CDN with one"):
        LoadBalancedTier(stack, "open", name="open", **common)
    LoadBalancedTier(stack, "guarded", name="guarded", web_acl_arn="arn:aws:wafv2:us-east-1:123456789012:regional/webacl/a/1", **common)
    terraform = stack.to_terraform()["resource"]
    (association,) = terraform["aws_wafv2_web_acl_association"].values()
    assert association["web_acl_arn"].endswith("webacl/a/1")
    (alb,) = terraform["aws_lb"].values()
    assert "checkov" not in alb["//"], "a load balancer with its own web ACL needs no CKV2_AWS_28 suppression"


def test_a_tier_must_fit_its_subnets(scratch_stack) -> None:
    """/23 -> /27 subnets: 32 - 5 reserved = 27; the app tier also holds 2 interface endpoints (25 free). An ALB needs 8
    of them; 40 instances over 2 AZs need 20 more per subnet."""
    from modules.compute import LoadBalancedTier, TierSize, instance_role
    from modules.kms import EncryptionKey
    from modules.network import THREE_TIER, Network

    stack = scratch_stack("us-east-1")
    key = EncryptionKey(stack, "key", alias="k", description="k", allow_cloudwatch_logs=True)
    network = Network(
        stack, "net", name="n", cidr="10.9.0.0/23", log_key=key, az_count=2, availability_zones=("us-east-1a", "us-east-1b"),
        tiers=THREE_TIER, nat_gateways=1, interface_endpoints=("ssm", "logs"), endpoint_tier="app",
    )  # fmt: skip
    assert (network.free_addresses("app"), network.free_addresses("public"), network.free_addresses("data")) == (25, 26, 27)
    common = {
        "network": network, "alb_tier": "app", "instance_tier": "app", "internet_facing": False, "certificate_arn": "arn:cert",
        "alb_security_group_ids": ["sg-1"], "instance_security_group_id": "sg-2", "key": key,
        "instance_role": instance_role(stack, "role", name="r"),
    }  # fmt: skip
    with pytest.raises(InputError) as caught:
        LoadBalancedTier(stack, "big", name="big", size=TierSize("t3.small", 1, 1, 40), **common)
    assert str(caught.value) == (
        f"{stack.node.id}/big.size.max_size: got 40; expected what fits the app subnets: each needs 28 addresses"
        " (load balancer and instances) and has 25 free: a larger VPC, or fewer instances"
    )
    LoadBalancedTier(stack, "fits", name="fits", size=TierSize("t3.small", 1, 1, 34), **common)
