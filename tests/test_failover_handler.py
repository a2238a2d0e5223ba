"""The warm standby's failover decision, as its own role with IAM enforced, against moto: bad signals never start
the plan, one signal pages for an approval, agreeing sustained signals fail over automatically (in automatic
mode only), and nothing starts twice or after the failover. moto has no automation executions: starting one is
recorded here, and tests/test_failover_plan.py runs the plan itself."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.conftest import Synthesized, act_as, create_aurora, create_postgres, load_lambda, role_policy, topic_with_inbox

PRIMARY, STANDBY = "us-east-1", "us-west-1"
STACK = f"warm-standby-{STANDBY}"
ROUTE53_ALARM = "hadr-prod-warm-standby-us-east-1-unhealthy"
PROBE_ALARM = "hadr-prod-warm-standby-primary-probe"
LATER = datetime.timedelta(seconds=301)  # past the example's signal_seconds (300)


class RecordedAutomations:
    """The decision's SSM client: automation starts, listings and reads are served here (moto runs no Automation),
    the rest goes to moto. An execution is InProgress until a test ends it (`ended`: number -> status)."""

    def __init__(self, ssm: Any, started: list[dict[str, Any]], ended: dict[int, str]) -> None:
        self.ssm, self.started, self.ended = ssm, started, ended

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ssm, name)

    def start_automation_execution(self, **request: Any) -> dict[str, str]:
        self.started.append(request)
        return {"AutomationExecutionId": f"exec-{len(self.started)}"}

    def describe_automation_executions(self, Filters: list[dict[str, Any]]) -> dict[str, Any]:
        (wanted,) = [f["Values"] for f in Filters if f["Key"] == "ExecutionStatus"]
        first = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
        listed = [
            {"AutomationExecutionId": f"exec-{n}", "AutomationExecutionStatus": self.ended.get(n, "InProgress"),
             "ExecutionStartTime": first + datetime.timedelta(minutes=n)}
            for n in range(1, len(self.started) + 1)
        ]  # fmt: skip
        return {"AutomationExecutionMetadataList": [e for e in listed if e["AutomationExecutionStatus"] in wanted]}

    def get_automation_execution(self, AutomationExecutionId: str) -> dict[str, Any]:
        number = int(AutomationExecutionId.removeprefix("exec-"))
        return {
            "AutomationExecution": {"AutomationExecutionId": AutomationExecutionId, "Parameters": self.started[number - 1]["Parameters"]}
        }


@pytest.fixture
def world(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, fake_aws: None, fixups: None) -> Iterator[dict[str, Any]]:
    """The decision function's world, for the example (Aurora) or, with the parameter "postgres", the RDS engine."""
    engine = getattr(request, "param", "aurora-postgresql")
    synthesized: Synthesized = request.getfixturevalue("postgres_synthesized" if engine == "postgres" else "synthesized")
    function = synthesized.one(STACK, "aws_lambda_function", "failover-function/function")
    monkeypatch.setenv("AWS_DEFAULT_REGION", STANDBY)
    monkeypatch.setenv("AWS_REGION", STANDBY)
    with mock_aws():
        topic, received = topic_with_inbox(STANDBY)
        key = boto3.client("kms", region_name=STANDBY).create_key()["KeyMetadata"]["Arn"]
        for name, value in {**function["environment"]["variables"], "TOPIC_ARN": topic, "STATE_KEY_ID": key}.items():
            monkeypatch.setenv(name, value)
        if engine == "postgres":
            create_postgres(PRIMARY, "hadr-prod-warm-standby-db")
        else:
            create_aurora(PRIMARY, "hadr-prod-warm-standby-db")
        autoscaling = boto3.client("autoscaling", region_name=PRIMARY)
        autoscaling.create_launch_configuration(LaunchConfigurationName="lc", ImageId="ami-12345678", InstanceType="t3.small")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="hadr-prod-ws-us-east-1-web", LaunchConfigurationName="lc", MinSize=2, DesiredCapacity=2, MaxSize=6,
            AvailabilityZones=[f"{PRIMARY}a"],
        )  # fmt: skip
        for region, name in ((PRIMARY, ROUTE53_ALARM), (STANDBY, PROBE_ALARM)):
            boto3.client("cloudwatch", region_name=region).put_metric_alarm(
                AlarmName=name, MetricName="m", Namespace="n", Statistic="Minimum", Period=60, EvaluationPeriods=1, Threshold=1,
                ComparisonOperator="LessThanThreshold",
            )  # fmt: skip
        ssm = boto3.client("ssm", region_name=STANDBY)
        ssm.put_parameter(Name="/hadr-prod/warm-standby/writer-region", Type="SecureString", Value=PRIMARY)
        ssm.put_parameter(Name="/hadr-prod/warm-standby/primary-health-issue", Type="SecureString", Value="none")
        yield {
            "policy": role_policy(synthesized, STACK, "failover-function/role/policy"),
            "module": load_lambda("failover"),
            "pages": received,
            "started": [],
            "ended": {},
            "engine": engine,
        }


def alarm(region: str, name: str, state: str = "ALARM") -> None:
    boto3.client("cloudwatch", region_name=region).set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


def decide(world: dict[str, Any], event: Any, *, later: datetime.timedelta = LATER, **env: str) -> dict[str, Any]:
    """The handler as the function's role; `later` is how long after now it decides (alarms held that long)."""
    module = world["module"]

    def run(clients: Any) -> dict[str, Any]:
        def wrapped(service: str, **kwargs: Any) -> Any:
            client = clients(service, **kwargs)
            return RecordedAutomations(client, world["started"], world["ended"]) if service == "ssm" else client

        settings = module.Settings.from_env({**__import__("os").environ, **env})
        request = module.parse_event(event, settings)
        now = datetime.datetime.now(datetime.UTC) + later
        return module.Decision(settings, clients=wrapped, now=now).decide(request)

    return act_as(world["policy"], run)


def pages(world: dict[str, Any]) -> list[str]:
    return world["pages"]()


def alarm_event(name: str, state: str = "ALARM") -> dict[str, Any]:
    return {
        "source": "aws.cloudwatch",
        "detail-type": "CloudWatch Alarm State Change",
        "detail": {"alarmName": name, "state": {"value": state}},
    }


def health_event(**detail: str) -> dict[str, Any]:
    base = {
        "eventTypeCategory": "issue",
        "service": "EC2",
        "eventRegion": PRIMARY,
        "statusCode": "open",
        "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
    }
    return {"source": "aws.health", "detail-type": "AWS Health Event", "detail": {**base, **detail}}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            alarm_event("someone-elses-alarm"),
            "detail.alarmName: got 'someone-elses-alarm'; expected hadr-prod-warm-standby-us-east-1-unhealthy or",
        ),
        (alarm_event(ROUTE53_ALARM, "OK"), "detail.state.value: got 'OK'; only ALARM is a signal"),
        (health_event(service="S3"), "detail.service: got 'S3'; expected EC2 or EBS or ELASTICLOADBALANCING or RDS"),
        (health_event(eventRegion="eu-west-1"), "detail.eventRegion: got 'eu-west-1'; expected us-east-1"),
        (health_event(eventTypeCategory="accountNotification"), "detail.eventTypeCategory: got 'accountNotification'; expected issue"),
        (health_event(statusCode="closed"), "detail.statusCode: got 'closed'; expected open"),
        ({"action": "failover"}, "action: got 'failover'; expected decide or practice"),
        ({"action": "decide", "force": True}, "force: unknown field; a manual event has action, reason"),
        ([], "event: expected a JSON object, got list"),
    ],
)
def test_a_bad_signal_is_refused_by_name_and_starts_nothing(world: dict[str, Any], event: Any, message: str) -> None:
    with pytest.raises(world["module"].BadEvent) as refused:
        decide(world, event)
    assert str(refused.value).startswith(message)
    assert world["started"] == []


def test_nothing_in_alarm_starts_nothing(world: dict[str, Any]) -> None:
    report = decide(world, {"source": "aws.events", "detail-type": "Scheduled Event"}, MODE="automatic")
    assert report["signals"] == {"route53": "OK", "probe": "OK", "health": "OK"}
    assert report["action"] == "none" and world["started"] == [] and pages(world) == []


def test_in_automatic_mode_signals_not_yet_sustained_only_page(world: dict[str, Any]) -> None:
    alarm(PRIMARY, ROUTE53_ALARM)
    alarm(STANDBY, PROBE_ALARM)
    report = decide(world, health_event(), MODE="automatic", later=datetime.timedelta(seconds=60))
    assert report["signals"] == {"route53": "pending", "probe": "pending", "health": "ALARM"}
    assert report["action"] == "watch" and world["started"] == []
    (page,) = pages(world)
    assert "An automatic failover follows only when all agree for 300 s" in page and '"action": "decide"' in page


def test_one_sustained_signal_pages_with_the_one_command_approval(world: dict[str, Any]) -> None:
    alarm(PRIMARY, ROUTE53_ALARM)
    report = decide(world, alarm_event(ROUTE53_ALARM))
    assert report["action"] == "page" and report["decision"] == "manual"
    assert world["started"][0]["Parameters"]["Decision"] == ["manual"] and world["started"][0]["Parameters"]["Practice"] == ["false"]
    (page,) = pages(world)
    assert "aws ssm send-automation-signal --region us-west-1 --automation-execution-id exec-1 --signal-type Approve" in page
    assert decide(world, alarm_event(ROUTE53_ALARM))["why"] == "a switch is already running: exec-1"
    assert len(world["started"]) == 1


def test_a_no_holds_until_another_kind_of_signal_or_a_person_lifts_it(world: dict[str, Any]) -> None:
    """The approver refused the switch the Route 53 signal started: the same signal, minute after minute, starts
    nothing and pages nobody. The probe joining it starts one; a person's decide starts one whatever ended before."""
    alarm(PRIMARY, ROUTE53_ALARM)
    assert decide(world, alarm_event(ROUTE53_ALARM))["execution"] == "exec-1"
    assert world["started"][0]["Parameters"]["Reason"] == ["signals in ALARM: route53"]
    pages(world)
    world["ended"][1] = "Failed"  # Reject: the approval step fails, and the plan pages INCOMPLETE itself
    tick = {"source": "aws.events", "detail-type": "Scheduled Event"}
    for event in (tick, alarm_event(ROUTE53_ALARM), tick):
        report = decide(world, event)
        assert report["action"] == "held", report
        assert report["why"].startswith("the last switch, exec-1 (Failed), ended unsuccessfully for these signals")
    assert len(world["started"]) == 1 and pages(world) == []
    alarm(STANDBY, PROBE_ALARM)
    assert decide(world, alarm_event(PROBE_ALARM))["execution"] == "exec-2", "a new kind of signal"
    assert world["started"][1]["Parameters"]["Reason"] == ["signals in ALARM: probe, route53"]
    world["ended"][2] = "TimedOut"
    assert decide(world, tick)["action"] == "held"
    assert decide(world, {"action": "decide", "reason": "INC-2: on-call lifts the no"})["execution"] == "exec-3"
    world["ended"][3] = "Success"
    world["ended"][4] = "Failed"
    world["started"].append({"Parameters": {"Reason": ["INC-3: a person's switch"]}})
    assert decide(world, tick)["execution"] == "exec-5", "only a switch the signals started holds them"


def test_in_manual_mode_a_signal_starts_the_switch_only_once_it_has_held(world: dict[str, Any]) -> None:
    alarm(PRIMARY, ROUTE53_ALARM)
    report = decide(world, alarm_event(ROUTE53_ALARM), later=datetime.timedelta(seconds=60))
    assert report["signals"]["route53"] == "pending" and report["action"] == "none"
    assert report["why"] == "no signal has been in ALARM for 300 s" and world["started"] == []


def test_agreeing_signals_fail_over_automatically_only_in_automatic_mode(world: dict[str, Any]) -> None:
    alarm(PRIMARY, ROUTE53_ALARM)
    alarm(STANDBY, PROBE_ALARM)
    assert decide(world, health_event())["signals"] == {"route53": "ALARM", "probe": "ALARM", "health": "ALARM"}
    assert world["started"][0]["Parameters"]["Decision"] == ["manual"], "manual mode (the default) always asks"
    world["started"].clear()
    report = decide(world, alarm_event(PROBE_ALARM), MODE="automatic")
    assert report["action"] == "failover" and world["started"][0]["Parameters"]["Decision"] == ["automatic"]


def test_automatic_mode_without_agreement_waits_and_a_manual_decision_asks_for_approval(world: dict[str, Any]) -> None:
    alarm(STANDBY, PROBE_ALARM)
    report = decide(world, alarm_event(PROBE_ALARM), MODE="automatic")
    assert report["signals"]["probe"] == "ALARM" and report["signals"]["health"] == "OK"
    assert report["action"] == "watch" and world["started"] == []
    report = decide(world, {"action": "decide", "reason": "INC-1: on-call decides"}, MODE="automatic")
    assert report["decision"] == "manual" and world["started"][0]["Parameters"]["Decision"] == ["manual"]
    assert world["started"][0]["Parameters"]["Reason"] == ["INC-1: on-call decides"]


def test_an_open_health_issue_counts_for_an_hour_after_it_was_seen(world: dict[str, Any]) -> None:
    assert decide(world, health_event(), later=datetime.timedelta(0))["signals"]["health"] == "ALARM"
    tick = {"source": "aws.events", "detail-type": "Scheduled Event"}
    assert decide(world, tick, later=datetime.timedelta(minutes=59))["signals"]["health"] == "ALARM"
    assert decide(world, tick, later=datetime.timedelta(minutes=61))["signals"]["health"] == "OK"


def test_after_the_failover_nothing_starts_again(world: dict[str, Any]) -> None:
    boto3.client("ssm", region_name=STANDBY).put_parameter(
        Name="/hadr-prod/warm-standby/writer-region", Value=STANDBY, Type="SecureString", Overwrite=True
    )
    alarm(PRIMARY, ROUTE53_ALARM)
    report = decide(world, alarm_event(ROUTE53_ALARM), MODE="automatic")
    assert report["action"] == "none" and report["why"].startswith("already failed over")
    assert world["started"] == []


@pytest.mark.parametrize("world", ["aurora-postgresql", "postgres"], indirect=True)
def test_the_scheduled_probe_publishes_what_it_sees_from_the_standby(world: dict[str, Any]) -> None:
    """Each engine's database as its role may read it: the Aurora cluster (DescribeDBClusters), or the instance."""
    report = decide(world, {"source": "aws.events", "detail-type": "Scheduled Event"})
    assert report["probe"] == "database available, 2 web instances in service"
    assert report["action"] == "none"
    rds = boto3.client("rds", region_name=PRIMARY)
    if world["engine"] == "postgres":
        rds.stop_db_instance(DBInstanceIdentifier="hadr-prod-warm-standby-db")
    else:
        rds.stop_db_cluster(DBClusterIdentifier="hadr-prod-warm-standby-db")
    assert decide(world, {"source": "aws.events", "detail-type": "Scheduled Event"})["probe"].startswith("database stopped")
    points = boto3.client("cloudwatch", region_name=STANDBY).get_metric_statistics(
        Namespace="HADR/WarmStandby", MetricName="PrimaryProbe", Dimensions=[{"Name": "Deployment", "Value": "hadr-prod-warm-standby"}],
        StartTime=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5),
        EndTime=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1), Period=600, Statistics=["Minimum", "Maximum"],
    )["Datapoints"]  # fmt: skip
    assert [(p["Minimum"], p["Maximum"]) for p in points] == [(0.0, 1.0)]
    latch = boto3.client("cloudwatch", region_name=STANDBY).get_metric_statistics(
        Namespace="HADR/WarmStandby", MetricName="PrimaryIsWriter", Dimensions=[{"Name": "Deployment", "Value": "hadr-prod-warm-standby"}],
        StartTime=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5),
        EndTime=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1), Period=600, Statistics=["Minimum"],
    )["Datapoints"]  # fmt: skip
    assert [p["Minimum"] for p in latch] == [1.0], "each tick republishes the latch: the primary writes"


def test_a_practice_request_starts_a_practice_run(world: dict[str, Any]) -> None:
    report = decide(world, {"action": "practice", "reason": "game day"})
    assert report["action"] == "practice"
    assert world["started"][0]["Parameters"] == {"Decision": ["manual"], "Reason": ["game day"], "Practice": ["true"]}


def test_the_plan_the_decision_starts_is_one_its_role_may_start_and_pass_the_plan_role_to(
    world: dict[str, Any], synthesized: Synthesized
) -> None:
    """moto does not run StartAutomationExecution, so the decision's start is served by a recorder outside IAM
    enforcement (and by tools.automation in the drill). This is the strongest proof short of AWS: the request it
    sends is valid by botocore's SSM model, and its role's synthesized policy, with every reference resolved to the
    ARN it will have, allows what AWS authorizes for that request (tools.moto_server's evaluator: real ARNs,
    conditions evaluated, an absent key failing): ssm:StartAutomationExecution on the document's
    automation-definition ARN, and iam:PassRole of the document's AutomationAssumeRole to ssm.amazonaws.com
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-setup-iam.html). Without either
    statement, or for another document or service, it is refused."""
    from botocore.session import get_session
    from botocore.validate import validate_parameters

    from tests.conftest import without
    from tools.moto_server import decision

    alarm(PRIMARY, ROUTE53_ALARM)
    assert decide(world, alarm_event(ROUTE53_ALARM))["action"] == "page"
    (request,) = world["started"]
    validate_parameters(request, get_session().get_service_model("ssm").operation_model("StartAutomationExecution").input_shape)
    (document,) = [d for d in synthesized.resources(STACK, "aws_ssm_document").values() if d["name"] == request["DocumentName"]]
    plan_role = json.loads(document["content"])["parameters"]["AutomationAssumeRole"]["default"]
    roles = synthesized.resources(STACK, "aws_iam_role")

    def resolved(text: str) -> str:  # each role reference becomes the ARN its name gives it
        return re.sub(r"\$\{aws_iam_role\.([^.}]+)\.arn\}", lambda m: f"arn:aws:iam::123456789012:role/{roles[m.group(1)]['name']}", text)

    policy = json.loads(resolved(synthesized.one(STACK, "aws_iam_role_policy", "failover-function/role/policy")["policy"]))
    plan_role_arn = resolved(plan_role)
    assert plan_role_arn == "arn:aws:iam::123456789012:role/hadr-prod-warm-standby-recovery-plan"
    definition = f"arn:aws:ssm:{STANDBY}:123456789012:automation-definition/{request['DocumentName']}:$DEFAULT"
    to_ssm = {"iam:PassedToService": "ssm.amazonaws.com"}

    def allowed(document: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
        return decision([document], action, resource, {k.lower(): v for k, v in (context or {}).items()}) == "allowed"

    assert allowed(policy, "ssm:StartAutomationExecution", definition)
    assert allowed(policy, "iam:PassRole", plan_role_arn, to_ssm)
    assert not allowed(policy, "ssm:StartAutomationExecution", definition.replace("region-switch", "delete-everything"))
    assert not allowed(policy, "iam:PassRole", plan_role_arn, {"iam:PassedToService": "lambda.amazonaws.com"})
    assert not allowed(policy, "iam:PassRole", "arn:aws:iam::123456789012:role/admin", to_ssm)
    assert not allowed(without(policy, "ssm:StartAutomationExecution"), "ssm:StartAutomationExecution", definition)
    assert not allowed(without(policy, "iam:PassRole"), "iam:PassRole", plan_role_arn, to_ssm)
    # The recorder also serves the read of the last switch (a "no" holds): DescribeAutomationExecutions has no
    # resource-level permissions, GetAutomationExecution is on the execution
    # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html).
    execution = f"arn:aws:ssm:{STANDBY}:123456789012:automation-execution/exec-1"
    assert allowed(policy, "ssm:GetAutomationExecution", execution) and allowed(policy, "ssm:DescribeAutomationExecutions", "*")
    assert not allowed(without(policy, "ssm:GetAutomationExecution"), "ssm:GetAutomationExecution", execution)


def test_an_alarm_counts_from_its_last_state_change_and_a_refused_read_says_why(world: dict[str, Any]) -> None:
    """StateUpdatedTimestamp moves when only the alarm's reason changes; StateTransitionedTimestamp says when it went
    into ALARM (moto returns only the first: the answer is given both here, as CloudWatch does). A read the role
    may not make reports AccessDenied, not a bare "unknown"."""
    from tests.conftest import without

    module = world["module"]
    alarm(PRIMARY, ROUTE53_ALARM)
    now = datetime.datetime.now(datetime.UTC)
    long_ago = now - datetime.timedelta(seconds=3600)

    class ReasonJustUpdated:
        def __init__(self, client: Any) -> None:
            self.client = client

        def __getattr__(self, name: str) -> Any:
            return getattr(self.client, name)

        def describe_alarms(self, **request: Any) -> dict[str, Any]:
            answer = self.client.describe_alarms(**request)
            for found in answer["MetricAlarms"]:
                found.update(StateUpdatedTimestamp=now, StateTransitionedTimestamp=long_ago)
            return answer

    def signal(policy: dict[str, Any]) -> str:
        def run(clients: Any) -> str:
            def wrapped(service: str, **kwargs: Any) -> Any:
                client = clients(service, **kwargs)
                return ReasonJustUpdated(client) if service == "cloudwatch" else client

            settings = module.Settings.from_env(dict(__import__("os").environ))
            return module.Decision(settings, clients=wrapped, now=now).alarm_signal(ROUTE53_ALARM, PRIMARY)

        return act_as(policy, run)

    assert signal(world["policy"]) == "ALARM", "in ALARM for an hour, whatever its reason did a second ago"
    assert signal(without(world["policy"], "cloudwatch:DescribeAlarms")) == "unknown (AccessDenied)"
    # Metrics stopped: the health check's metric no longer arrives and the alarm goes to INSUFFICIENT_DATA.
    alarm(PRIMARY, ROUTE53_ALARM, "INSUFFICIENT_DATA")
    assert signal(world["policy"]) == "unknown (INSUFFICIENT_DATA)"


def test_with_the_primary_region_dark_its_alarm_reads_unknown_by_the_cause_and_nothing_starts(world: dict[str, Any]) -> None:
    """Region dark: every CloudWatch call to the primary region is refused at connect (a closed loopback port, with
    the handler's own timeouts). The Route 53 signal is then "unknown (EndpointConnectionError)", not ALARM: in
    automatic mode nothing starts on it alone; in manual mode the probe's ALARM in the standby still asks for
    approval. (That automatic mode cannot fail over while us-east-1's CloudWatch is dark is issue 25's to decide.)"""
    from botocore.config import Config

    module = world["module"]
    alarm(STANDBY, PROBE_ALARM)
    dark = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})

    def run(clients: Any, mode: str) -> dict[str, Any]:
        def wrapped(service: str, **kwargs: Any) -> Any:
            if service == "cloudwatch" and kwargs.get("region_name") == PRIMARY:
                return boto3.client("cloudwatch", region_name=PRIMARY, endpoint_url="http://127.0.0.1:9", config=dark)
            client = clients(service, **kwargs)
            return RecordedAutomations(client, world["started"], world["ended"]) if service == "ssm" else client

        settings = module.Settings.from_env({**__import__("os").environ, "MODE": mode})
        now = datetime.datetime.now(datetime.UTC) + LATER
        return module.Decision(settings, clients=wrapped, now=now).decide(module.parse_event(alarm_event(PROBE_ALARM), settings))

    report = act_as(world["policy"], lambda clients: run(clients, "automatic"))
    assert report["signals"]["route53"] == "unknown (EndpointConnectionError)" and report["signals"]["probe"] == "ALARM"
    assert report["action"] == "watch" and world["started"] == []
    report = act_as(world["policy"], lambda clients: run(clients, "manual"))
    assert report["action"] == "page" and world["started"][0]["Parameters"]["Decision"] == ["manual"]
