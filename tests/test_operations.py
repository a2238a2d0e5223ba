"""The operations layer (seed 003): a dashboard per architecture drawn from the deployed alarms, Synthetics canaries
in every serving region, one account trail, AWS Config per region with the resilience rules, and the budget."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from modules.errors import InputError
from tests.conftest import Synthesized

ARCHITECTURES = {
    "active-active": ["active-active-data", "active-active-eu-west-1", "active-active-eu-central-1", "active-active-global"],
    "warm-standby": ["warm-standby-storage", "warm-standby-us-east-1", "warm-standby-us-west-1", "warm-standby-global"],
}
SERVING = {"active-active": ["eu-west-1", "eu-central-1"], "warm-standby": ["us-east-1", "us-west-1"]}
ARN = "arn:aws:cloudwatch:{region}:123456789012:alarm:{name}"


def region_of(stack: dict[str, Any], body: dict[str, Any]) -> str:
    """The region a resource deploys to: its provider's (an alias names another one)."""
    providers = {p.get("alias"): p["region"] for p in stack["provider"]["aws"]}
    alias = body.get("provider", "aws").removeprefix("aws.")
    return providers[None if alias == "aws" else alias]


def deployed_alarms(synthesized: Synthesized, architecture: str) -> set[str]:
    """Every metric alarm of the architecture's stacks, as an ARN in the region it deploys to."""
    found = set()
    for name in ARCHITECTURES[architecture]:
        stack = synthesized.stacks[name]
        for body in synthesized.resources(name, "aws_cloudwatch_metric_alarm").values():
            found.add(ARN.format(region=region_of(stack, body), name=body["alarm_name"]))
    return found


def dashboard(synthesized: Synthesized, architecture: str) -> tuple[dict[str, Any], dict[str, Any]]:
    (body,) = synthesized.resources(f"{architecture}-global", "aws_cloudwatch_dashboard").values()
    return body, json.loads(body["dashboard_body"])


def widgets(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [w for w in body["widgets"] if w["type"] == kind]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_dashboard_lists_and_graphs_every_deployed_alarm(synthesized: Synthesized, architecture: str) -> None:
    """Drawn from the alarms the stacks hold: nothing deployed is missing, nothing listed is not deployed."""
    resource, body = dashboard(synthesized, architecture)
    assert resource["dashboard_name"] == f"hadr-prod-{architecture}"
    alarms = deployed_alarms(synthesized, architecture)
    assert len(alarms) >= 10
    lists = {w["properties"]["title"]: w["properties"]["alarms"] for w in widgets(body, "alarm")}
    assert set(lists["Every alarm"]) == alarms and len(lists["Every alarm"]) == len(alarms)
    assert set(lists["Failover signals"]) <= alarms
    graphed = [w["properties"] for w in widgets(body, "metric") if "alarms" in w["properties"].get("annotations", {})]
    assert sorted(g["annotations"]["alarms"][0] for g in graphed) == sorted(alarms)
    for graph in graphed:  # each alarm graph reads its alarm's own region
        assert graph["annotations"]["alarms"][0].split(":")[3] == graph["region"]


def test_the_failover_signals_are_what_moves_traffic_or_starts_the_plan(synthesized: Synthesized) -> None:
    _, standby = dashboard(synthesized, "warm-standby")
    (signals,) = [w["properties"]["alarms"] for w in widgets(standby, "alarm") if w["properties"]["title"] == "Failover signals"]
    assert signals == [
        ARN.format(region="us-east-1", name="hadr-prod-warm-standby-us-east-1-unhealthy"),
        ARN.format(region="us-west-1", name="hadr-prod-warm-standby-primary-probe"),
        ARN.format(region="us-west-1", name="hadr-prod-warm-standby-standby-not-ready"),
        ARN.format(region="us-west-1", name="hadr-prod-warm-standby-writes-moved"),
        ARN.format(region="us-east-1", name="hadr-prod-warm-standby-us-west-1-unhealthy"),
    ]
    # the decision function reads exactly the first two
    functions = synthesized.resources("warm-standby-us-west-1", "aws_lambda_function").values()
    (failover,) = [f for f in functions if f["function_name"].endswith("-failover")]
    environment = failover["environment"]["variables"]
    assert (environment["ROUTE53_ALARM"], environment["PROBE_ALARM"]) == tuple(arn.rsplit(":", 1)[1] for arn in signals[:2])
    _, active = dashboard(synthesized, "active-active")
    (signals,) = [w["properties"]["alarms"] for w in widgets(active, "alarm") if w["properties"]["title"] == "Failover signals"]
    assert signals == [ARN.format(region="us-east-1", name=f"hadr-prod-active-active-{r}-unhealthy") for r in SERVING["active-active"]]


def test_replication_graphs_carry_the_policys_rpo_and_name_deployed_resources(synthesized: Synthesized) -> None:
    _, active = dashboard(synthesized, "active-active")
    replication = [w["properties"] for w in widgets(active, "metric") if w["properties"]["title"].startswith("Table replication")]
    assert [(g["region"], g["metrics"][0][5]) for g in replication] == [("eu-west-1", "eu-central-1"), ("eu-central-1", "eu-west-1")]
    assert all(g["annotations"]["horizontal"] == [{"label": "region RPO 5 s", "value": 5000}] for g in replication)  # ms
    (table,) = synthesized.resources("active-active-data", "aws_dynamodb_table").values()
    assert {g["metrics"][0][3] for g in replication} == {table["name"]}
    functions = {
        f["function_name"]
        for s in SERVING["active-active"]
        for f in synthesized.resources(f"active-active-{s}", "aws_lambda_function").values()
    }
    named = {m[3] for w in widgets(active, "metric") for m in w["properties"].get("metrics", []) if m[:2] == ["AWS/Lambda", "Errors"]}
    assert named and named <= functions
    apis = {
        a["name"]
        for s in SERVING["active-active"]
        for a in synthesized.resources(f"active-active-{s}", "aws_api_gateway_rest_api").values()
    }
    stages = {
        a["stage_name"]
        for s in SERVING["active-active"]
        for a in synthesized.resources(f"active-active-{s}", "aws_api_gateway_stage").values()
    }
    graphed = {(m[3], m[5]) for w in widgets(active, "metric") for m in w["properties"].get("metrics", []) if m[0] == "AWS/ApiGateway"}
    assert {api for api, _ in graphed} == apis and {stage for _, stage in graphed} == stages
    _, standby = dashboard(synthesized, "warm-standby")
    graphs = {w["properties"]["title"]: w["properties"] for w in widgets(standby, "metric")}
    lag = graphs["Global database replication lag in us-west-1 (ms)"]  # reported in the secondary's region, in ms
    (secondary,) = synthesized.resources("warm-standby-us-west-1", "aws_rds_cluster").values()
    assert lag["metrics"] == [["AWS/RDS", "AuroraGlobalDBRPOLag", "DBClusterIdentifier", secondary["cluster_identifier"]]]
    assert lag["annotations"]["horizontal"] == [{"label": "region RPO 300 s", "value": 300000}] and lag["region"] == "us-west-1"
    graphed = {
        w["properties"]["annotations"]["alarms"][0]
        for w in widgets(standby, "metric")
        if "alarms" in w["properties"].get("annotations", {})
    }
    for source in SERVING["warm-standby"]:  # the assets' replication, graphed with its alarm at the region RPO
        assert ARN.format(region=source, name=f"hadr-prod-warm-standby-{source}-assets-replication-latency") in graphed
    ready = graphs["Standby readiness in us-west-1 (1 = can take over)"]
    alarm = next(
        a
        for a in synthesized.resources("warm-standby-us-west-1", "aws_cloudwatch_metric_alarm").values()
        if a["metric_name"] == "StandbyReady"
    )
    assert ready["metrics"][0][:2] == [alarm["namespace"], "StandbyReady"]
    assert dict(zip(ready["metrics"][0][2::2], ready["metrics"][0][3::2], strict=True)) == alarm["dimensions"]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_the_dashboard_is_global_and_every_widget_reads_a_named_region(synthesized: Synthesized, architecture: str) -> None:
    """A dashboard is global (it survives either serving region); a widget of a lost region goes blank, no more."""
    stack = synthesized.stacks[f"{architecture}-global"]
    resource, body = dashboard(synthesized, architecture)
    assert region_of(stack, resource) == "us-east-1"
    regions = {w["properties"]["region"] for w in widgets(body, "metric")}
    assert set(SERVING[architecture]) <= regions <= {"us-east-1", *SERVING[architecture]}
    objectives = {"active-active": "RTO 3600 s, RPO 5 s", "warm-standby": "RTO 900 s, RPO 300 s"}[architecture]
    assert objectives in body["widgets"][0]["properties"]["markdown"]
    canaries = [w["properties"] for w in widgets(body, "metric") if w["properties"]["title"].startswith("Canaries")]
    (canary,) = canaries
    assert [m[3] for m in canary["metrics"]] == [
        f"hadr-prod-{'aa' if architecture == 'active-active' else 'ws'}-{r}" for r in SERVING[architecture]
    ]
    assert [m[4]["region"] for m in canary["metrics"]] == SERVING[architecture]
    cells = set()
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        mine = {
            (x, y) for x in range(widget["x"], widget["x"] + widget["width"]) for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not mine & cells, f"{widget['properties'].get('title')} overlaps another widget"
        cells |= mine


def test_dashboard_quotas_are_refused_at_synth(scratch_stack: Any) -> None:
    from modules.dashboard import AlarmRef, Dashboard, Section

    with pytest.raises(InputError, match=r"dashboard.name: got 'bad name'; expected 1 to 255 characters of A-Z"):
        Dashboard(scratch_stack(), "dashboard", name="bad name", header="h", sections=[])
    many = [Section("s", alarm_graphs=[AlarmRef(f"a{i}", "us-east-1") for i in range(500)])]
    with pytest.raises(InputError, match=r"widgets: got 502; expected at most 500 widgets per dashboard"):
        Dashboard(scratch_stack(), "dashboard", name="d", header="h", sections=many)
    from modules.dashboard import Graph

    crowded = [Section("s", graphs=[Graph("g", "us-east-1", [["AWS/EC2", "CPUUtilization"]] * 501)])]
    with pytest.raises(InputError, match=r"dashboard d.g.metrics: got 501; expected at most 500 per graph"):
        Dashboard(scratch_stack(), "dashboard", name="d", header="h", sections=crowded)
    listed = Dashboard(
        scratch_stack(),
        "d2",
        name="d",
        header="h",
        sections=[Section("s", alarm_lists=[("all", [AlarmRef(f"a{i}", "us-east-1") for i in range(150)])])],
    )
    lists = [w["properties"] for w in listed.body["widgets"] if w["type"] == "alarm"]
    assert [(p["title"], len(p["alarms"])) for p in lists] == [("all (1)", 100), ("all (2)", 50)], "at most 100 alarms per widget"


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_serving_region_runs_a_canary_with_encrypted_artifacts_and_an_alarm(synthesized: Synthesized, architecture: str) -> None:
    from modules.config import SYNTHETICS_PYTHON_RUNTIMES

    for region in SERVING[architecture]:
        name = f"{architecture}-{region}"
        (canary,) = synthesized.resources(name, "aws_synthetics_canary").values()
        assert canary["name"] == f"hadr-prod-{'aa' if architecture == 'active-active' else 'ws'}-{region}"
        assert canary["runtime_version"] == SYNTHETICS_PYTHON_RUNTIMES[0] and canary["handler"] == "canary.handler"
        assert canary["schedule"] == {"expression": "rate(5 minutes)"} and canary["start_canary"] is True
        assert canary["artifact_config"]["s3_encryption"]["encryption_mode"] == "SSE_KMS"
        key = synthesized.one(name, "aws_kms_key", f"{name}/key/key")
        assert canary["artifact_config"]["s3_encryption"]["kms_key_arn"] == f"${{aws_kms_key.{key['//']['metadata']['uniqueId']}.arn}}"
        assert "vpc_config" not in canary, "a client on the internet, outside the VPC"
        bucket = synthesized.one(name, "aws_s3_bucket", "canary-artifacts/bucket")
        reference = f"${{aws_s3_bucket.{bucket['//']['metadata']['uniqueId']}.bucket}}"
        assert canary["artifact_s3_location"] == f"s3://{reference}/canary/{canary['name']}/"
        lifecycle = synthesized.one(name, "aws_s3_bucket_lifecycle_configuration", "canary-artifacts/lifecycle")
        assert lifecycle["rule"][0]["expiration"][0]["days"] == 31 == canary["success_retention_period"]
        alarm = synthesized.one(name, "aws_cloudwatch_metric_alarm", "canary/alarm")
        assert (alarm["namespace"], alarm["metric_name"], alarm["dimensions"]) == (
            "CloudWatchSynthetics",
            "SuccessPercent",
            {"CanaryName": canary["name"]},
        )
        assert alarm["treat_missing_data"] == "breaching" and alarm["alarm_actions"][0].startswith("${aws_sns_topic.")
        package = synthesized.outdir / "stacks" / name / canary["zip_file"]
        with zipfile.ZipFile(package) as archive:
            assert "python/canary.py" in archive.namelist(), "Python canaries load their handler from python/"


def canary_checks(synthesized: Synthesized, stack: str) -> list[dict[str, Any]]:
    (canary,) = synthesized.resources(stack, "aws_synthetics_canary").values()
    return json.loads(canary["run_config"]["environment_variables"]["CHECKS"])


def test_the_canaries_walk_the_paths_users_take(synthesized: Synthesized) -> None:
    assert canary_checks(synthesized, "warm-standby-us-west-1") == [
        {"name": "site-health", "url": "https://www.example.com/health", "expect": [200], "sign": None},
        {"name": "origin-health", "url": "https://origin-us-west-1.www.example.com/health", "expect": [200], "sign": None},
    ]
    checks = canary_checks(synthesized, "active-active-eu-central-1")
    assert checks == [
        {"name": "regional-health", "url": "https://eu-central-1.api.example.com/health", "expect": [200], "sign": None},
        {"name": "global-health", "url": "https://api.example.com/health", "expect": [200], "sign": None},
        {
            "name": "regional-item-read",
            "url": "https://eu-central-1.api.example.com/items/canary-probe",
            "expect": [200, 404],
            "sign": "eu-central-1",
        },
    ]


def test_the_canary_role_may_invoke_only_the_path_it_signs_for(synthesized: Synthesized) -> None:
    stack = "active-active-eu-central-1"
    policy = json.loads(synthesized.one(stack, "aws_iam_role_policy", "canary/role/policy")["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    api = next(iter(synthesized.resources(stack, "aws_api_gateway_rest_api")))
    stage = next(iter(synthesized.resources(stack, "aws_api_gateway_stage")))
    assert statements["CallTheApiAsAUser"]["Resource"] == [
        f"${{aws_api_gateway_rest_api.{api}.execution_arn}}/${{aws_api_gateway_stage.{stage}.stage_name}}/GET/items/canary-probe"
    ]
    assert statements["PublishSyntheticsMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}}
    assert statements["EncryptArtifactsThroughS3"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-central-1.amazonaws.com"}}
    assert all("*" not in str(s["Action"]) for s in policy["Statement"])
    assert {s["Sid"] for s in policy["Statement"] if s["Resource"] == "*"} == {"PublishSyntheticsMetrics", "ListBucketsAsTheRuntimeDoes"}
    # Synthetics names the function and its log group after the canary's first 21 characters
    assert (
        statements["WriteOwnLogs"]["Resource"][0]
        == "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/lambda/cwsyn-hadr-prod-aa-eu-centr-*"
    )

    trust = json.loads(synthesized.one(stack, "aws_iam_role", "canary/role/role")["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    warm = json.loads(synthesized.one("warm-standby-us-east-1", "aws_iam_role_policy", "canary/role/policy")["policy"])
    assert "CallTheApiAsAUser" not in {s["Sid"] for s in warm["Statement"]}, "the warm standby's paths are public"


def test_one_trail_records_the_account_in_every_region(synthesized: Synthesized) -> None:
    trails = {name: body for name in synthesized.stack_names for body in synthesized.resources(name, "aws_cloudtrail").values()}
    assert list(trails) == ["active-active-eu-west-1"], "once per account, in the first region the deployment uses"
    trail = trails["active-active-eu-west-1"]
    assert trail["name"] == "hadr-prod-account-trail"
    assert (trail["is_multi_region_trail"], trail["include_global_service_events"], trail["enable_log_file_validation"]) == (
        True,
        True,
        True,
    )
    key = synthesized.one("active-active-eu-west-1", "aws_kms_key", "active-active-eu-west-1/key/key")
    assert trail["kms_key_id"] == f"${{aws_kms_key.{key['//']['metadata']['uniqueId']}.arn}}"
    arn = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/hadr-prod-account-trail"
    key_statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
    encrypt = key_statements["CloudTrailEncryptsLogs"]
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": arn} and encrypt["Action"] == "kms:GenerateDataKey*"
    bucket = synthesized.one("active-active-eu-west-1", "aws_s3_bucket", "audit-logs/bucket")
    assert trail["s3_bucket_name"] == f"${{aws_s3_bucket.{bucket['//']['metadata']['uniqueId']}.bucket}}"
    policy = {
        s["Sid"]: s
        for s in json.loads(synthesized.one("active-active-eu-west-1", "aws_s3_bucket_policy", "audit-logs/policy")["policy"])["Statement"]
    }
    assert policy["CloudTrailWrite"]["Resource"] == f"arn:aws:s3:::{bucket['bucket']}/cloudtrail/AWSLogs/123456789012/*"
    assert policy["CloudTrailWrite"]["Condition"]["StringEquals"]["aws:SourceArn"] == arn
    assert any("aws_s3_bucket_policy" in d for d in trail["depends_on"]), "CreateTrail checks the bucket policy first"
    for name in synthesized.stack_names:  # no other stack's key or bucket lets CloudTrail in
        if name != "active-active-eu-west-1":
            assert "cloudtrail.amazonaws.com" not in json.dumps(
                synthesized.stacks[name].get("resource", {}).get("aws_s3_bucket_policy", {})
            )


def test_config_records_every_region_once_with_the_resilience_rules(synthesized: Synthesized) -> None:
    from modules.audit import RESILIENCE_RULES

    recorders = {}
    for name in synthesized.stack_names:
        for body in synthesized.resources(name, "aws_config_configuration_recorder").values():
            recorders[region_of(synthesized.stacks[name], body)] = (name, body)
    assert sorted(recorders) == ["eu-central-1", "eu-west-1", "us-east-1", "us-west-1"], "one recorder per region"
    for region, (name, recorder) in recorders.items():
        group = recorder["recording_group"]
        assert group["all_supported"] is True
        assert group["include_global_resource_types"] is (region == "eu-west-1"), "IAM's global types once, in the trail's region"
        (channel,) = synthesized.resources(name, "aws_config_delivery_channel").values()
        assert channel["s3_kms_key_arn"].startswith("${aws_kms_key.") and channel["depends_on"] == [
            f"aws_config_configuration_recorder.{next(iter(synthesized.resources(name, 'aws_config_configuration_recorder')))}"
        ]
        (status,) = synthesized.resources(name, "aws_config_configuration_recorder_status").values()
        assert status["is_enabled"] is True
        rules = {r["source"]["source_identifier"] for r in synthesized.resources(name, "aws_config_config_rule").values()}
        assert rules == {rule.identifier for rule in RESILIENCE_RULES}
        role = json.loads(synthesized.one(name, "aws_iam_role_policy", "config/role/policy")["policy"])
        assert {s["Sid"] for s in role["Statement"]} == {"CheckTheBucket", "DeliverToThePrefix", "EncryptThroughS3"}


def test_the_budget_alerts_at_50_80_and_100_percent_once_per_deployment(synthesized: Synthesized) -> None:
    budgets = {name: body for name in synthesized.stack_names for body in synthesized.resources(name, "aws_budgets_budget").values()}
    assert list(budgets) == ["active-active-global"]
    budget = budgets["active-active-global"]
    assert (budget["limit_amount"], budget["limit_unit"], budget["time_unit"], budget["budget_type"]) == ("3000", "USD", "MONTHLY", "COST")
    assert budget["cost_filter"] == [{"name": "TagKeyValue", "values": ["user:Deployment$hadr-prod"]}]
    topic = synthesized.one("active-active-global", "aws_sns_topic", "alarms/topic")
    arn = f"${{aws_sns_topic.{topic['//']['metadata']['uniqueId']}.arn}}"
    assert [(n["threshold"], n["threshold_type"], n["subscriber_sns_topic_arns"]) for n in budget["notification"]] == [
        (p, "PERCENTAGE", [arn]) for p in (50, 80, 100)
    ]
    policy = json.loads(synthesized.one("active-active-global", "aws_sns_topic_policy", "alarms/policy")["policy"])
    (publish,) = [s for s in policy["Statement"] if s["Effect"] == "Allow" and s["Principal"].get("Service") == "budgets.amazonaws.com"]
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:budgets::123456789012:*"},
    }, "as the Budgets topic policy page writes it"
    key = synthesized.one("active-active-global", "aws_kms_key", "active-active-global/key/key")
    assert "budgets.amazonaws.com" in {s["Principal"].get("Service") for s in json.loads(key["policy"])["Statement"]}
    other = json.loads(synthesized.one("warm-standby-global", "aws_sns_topic_policy", "alarms/policy")["policy"])
    assert "budgets.amazonaws.com" not in json.dumps(other), "only the topic the budget uses lets Budgets publish"


def test_every_resource_carries_the_deployment_tag_the_budget_filters_on(synthesized: Synthesized) -> None:
    for name, stack in synthesized.stacks.items():
        for provider in stack["provider"]["aws"]:
            assert provider["default_tags"][0]["tags"]["Deployment"] == "hadr-prod", name
    # default_tags never reach what a launch template launches: the instances, volumes and interfaces carry them
    templates = [t for name in synthesized.stack_names for t in synthesized.resources(name, "aws_launch_template").values()]
    assert len(templates) >= 6
    for template in templates:
        assert {spec["resource_type"] for spec in template["tag_specifications"]} == {"instance", "volume", "network-interface"}
        for spec in template["tag_specifications"]:
            assert (spec["tags"]["Deployment"], spec["tags"]["Name"]) == ("hadr-prod", template["name"])


def test_switches_off_leave_the_operations_layer_out(example_data: dict[str, Any], tmp_path: Path) -> None:
    from cdktf import App, Testing

    from modules.config import parse_config
    from stacks.app import build_stacks

    data = json.loads(json.dumps(example_data))
    data["account_security"] = {"cloudtrail": False, "config_recorder": False}
    data.pop("budget")
    data["warm_standby"]["enabled"] = False
    data["active_active"]["operations"] = {"dashboard": False, "canaries": {"enabled": False}}
    app = App(outdir=str(tmp_path))
    names = build_stacks(app, parse_config(data), outdir=tmp_path)
    kinds = set()
    for name in names:
        kinds |= set(json.loads(Testing.synth(app.node.find_child(name))).get("resource", {}))
    left_out = {
        "aws_cloudtrail",
        "aws_config_configuration_recorder",
        "aws_config_config_rule",
        "aws_budgets_budget",
        "aws_cloudwatch_dashboard",
        "aws_synthetics_canary",
    }
    assert not kinds & left_out and "aws_guardduty_detector" in kinds


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"runtime_version": "syn-python-selenium-5.1"},
            "active_active.operations.canaries.runtime_version: got 'syn-python-selenium-5.1'; expected a supported Python"
            " Synthetics runtime, one of: syn-python-selenium-14.0",
        ),
        ({"interval_minutes": 61}, "active_active.operations.canaries.interval_minutes: got 61; expected"),
    ],
)
def test_canary_settings_outside_what_aws_accepts_are_refused(example_data: dict[str, Any], change: dict[str, Any], message: str) -> None:
    from modules.config import parse_config

    data = json.loads(json.dumps(example_data))
    data["active_active"]["operations"] = {"canaries": change}
    with pytest.raises(InputError) as error:
        parse_config(data)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        (
            {"monthly_limit_usd": 10, "alert_percentages": [10, 20, 30, 40, 50, 60]},
            "budget.alert_percentages: got [10, 20, 30, 40, 50, 60]; expected",
        ),
        ({"monthly_limit_usd": 10, "alert_percentages": [50, 50]}, "expected distinct percentages (each is one notification)"),
        ({"monthly_limit_usd": 0}, "budget.monthly_limit_usd: got 0; expected"),
    ],
)
def test_budget_settings_outside_what_aws_accepts_are_refused(example_data: dict[str, Any], budget: dict[str, Any], message: str) -> None:
    from modules.config import parse_config

    data = json.loads(json.dumps(example_data))
    data["budget"] = budget
    with pytest.raises(InputError) as error:
        parse_config(data)
    assert message in str(error.value)
