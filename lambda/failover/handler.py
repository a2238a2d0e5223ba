"""Warm-standby failover decision: runs in the standby region, decides, and starts the recovery plan.

It does not fail over itself: the region-switch SSM Automation document does, step by step (stacks/failover_plan.py).
This function probes, weighs the signals and starts that document, once.

Events it accepts (anything else is refused with the field, the value and what is accepted):
- the one-minute schedule (`source: aws.events`, `detail-type: Scheduled Event`): probe the primary from here
  (its database's status and its web tier's instances, through the primary region's APIs), publish the result as
  the PrimaryProbe metric and the writer latch as PrimaryIsWriter, then decide;
- a CloudWatch alarm state change into ALARM of one of the signal alarms: the Route 53 health check's alarm of the
  primary origin (forwarded from us-east-1) or the probe's alarm (here);
- an open AWS Health issue of the primary's services in the primary region (recorded; it counts for HEALTH_WINDOW
  seconds after its last update, since the rules pass no closed events: a closed one is no ground to act);
- a manual `{"action": "decide" | "practice", "reason": str}`.

The signals, each independent of the others:
- `route53`: the health check's alarm (Route 53's metrics live only in us-east-1; read there, unknown when it
  does not answer);
- `probe`: the probe's alarm in the standby region;
- `health`: an open AWS Health issue of EC2, EBS, ELB or RDS in the primary region, seen in the last hour (the
  event is delivered in that region and forwarded here; it is recorded in a parameter here).
An alarm is ALARM once it has been in ALARM for SIGNAL_SECONDS, pending before.

Decision: nothing in ALARM for SIGNAL_SECONDS: nothing. Already failed over (the writer latch names the standby) or
a switch execution already running: nothing. A "no" holds: when the last switch the signals started ended without
success (its approval refused or timed out, its pre-checks found the standby not ready, a step failed) and no
signal has joined those it was started for, nothing starts and nobody is paged again; a new kind of signal, or a
manual `decide` (a human lifting the "no"), starts it again. In `manual` mode (the default) any signal in ALARM, or
a manual `decide`, starts the switch with Decision=manual: it runs the pre-checks and waits for an approval, and
the topic gets a page with the one command that approves. In `automatic` mode the switch starts with
Decision=automatic only when every signal has been in ALARM for SIGNAL_SECONDS; until then each signal event pages
("watching") with the command that decides now (a manual `decide`, which then waits for an approval).
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

logger = logging.getLogger("failover")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

REQUIRED_ENV = (
    "DOCUMENT_NAME",
    "PRIMARY_REGION",
    "MODE",
    "SIGNAL_SECONDS",
    "ROUTE53_ALARM",
    "PROBE_ALARM",
    "WRITER_PARAMETER",
    "HEALTH_PARAMETER",
    "PRIMARY_DATABASE",
    "PRIMARY_WEB_GROUP",
    "NAMESPACE",
    "DEPLOYMENT",
    "STATE_KEY_ID",
)
MANUAL_ACTIONS = ("decide", "practice")
MANUAL_KEYS = {"action", "reason"}
HEALTH_SERVICES = ("EC2", "EBS", "ELASTICLOADBALANCING", "RDS")
ROUTE53_REGION = "us-east-1"
#: This function's own name (Lambda sets it), for the command in a page.
FUNCTION_NAME = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "<the failover function>")
#: How long an open AWS Health issue counts after the last event about it, in seconds.
HEALTH_WINDOW = 3600
RUNNING = ["Pending", "InProgress", "Waiting"]
#: How an execution ends without a switch: refused or timed-out approval, not ready, a failed step, stopped.
UNSUCCESSFUL = ["Failed", "TimedOut", "Cancelled", "Rejected"]
#: The Reason the function gives a switch it starts for signals; the refusal it meets later is for these.
SIGNALS_REASON = "signals in ALARM: "


class BadEvent(ValueError):
    """The event is not one the function acts on; the message names the field and what is accepted."""


@dataclass(frozen=True)
class Settings:
    document_name: str
    primary_region: str
    mode: str
    signal_seconds: int
    route53_alarm: str
    probe_alarm: str
    writer_parameter: str
    health_parameter: str
    primary_database: str
    primary_web_group: str
    namespace: str
    deployment: str
    state_key_id: str
    topic_arn: str | None = None
    #: "cluster": PRIMARY_DATABASE is the Aurora global database's primary cluster; else an RDS instance.
    primary_database_kind: str = "instance"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        missing = [name for name in REQUIRED_ENV if not env.get(name)]
        if missing:
            raise RuntimeError(f"environment: {', '.join(missing)} not set; the stack sets {', '.join(REQUIRED_ENV)}")
        if env.get("PRIMARY_DATABASE_KIND", "instance") not in ("instance", "cluster"):
            raise RuntimeError(f"environment: PRIMARY_DATABASE_KIND is {env['PRIMARY_DATABASE_KIND']!r}; expected instance or cluster")
        if env["MODE"] not in ("manual", "automatic"):
            raise RuntimeError(f"environment: MODE is {env['MODE']!r}; expected manual or automatic")
        return cls(
            **{name.lower(): env[name] for name in REQUIRED_ENV if name != "SIGNAL_SECONDS"},
            signal_seconds=int(env["SIGNAL_SECONDS"]),
            topic_arn=env.get("TOPIC_ARN") or None,
            primary_database_kind=env.get("PRIMARY_DATABASE_KIND") or "instance",
        )


def parse_event(event: Any, settings: Settings) -> dict[str, Any]:
    """What the event asks: {"kind": tick|alarm|health|manual, ...}; raises BadEvent naming what is wrong."""
    if not isinstance(event, dict):
        raise BadEvent(f"event: expected a JSON object, got {type(event).__name__}")
    source = event.get("source")
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    if source == "aws.events":
        if event.get("detail-type") != "Scheduled Event":
            raise BadEvent(f"detail-type: got {event.get('detail-type')!r}; expected 'Scheduled Event'")
        return {"kind": "tick"}
    if source == "aws.cloudwatch":
        name = detail.get("alarmName")
        if name not in (settings.route53_alarm, settings.probe_alarm):
            raise BadEvent(f"detail.alarmName: got {name!r}; expected {settings.route53_alarm} or {settings.probe_alarm}")
        state = (detail.get("state") or {}).get("value")
        if state != "ALARM":
            raise BadEvent(f"detail.state.value: got {state!r}; only ALARM is a signal")
        return {"kind": "alarm", "alarm": name}
    if source == "aws.health":
        checks = {
            "detail.eventTypeCategory": (detail.get("eventTypeCategory"), ("issue",)),
            "detail.service": (detail.get("service"), HEALTH_SERVICES),
            "detail.eventRegion": (detail.get("eventRegion"), (settings.primary_region,)),
            "detail.statusCode": (detail.get("statusCode"), ("open",)),
        }
        for field, (value, allowed) in checks.items():
            if value not in allowed:
                raise BadEvent(f"{field}: got {value!r}; expected {' or '.join(allowed)}")
        return {"kind": "health", "code": detail.get("eventTypeCode", "issue")}
    unknown = sorted(set(event) - MANUAL_KEYS)
    if unknown:
        raise BadEvent(f"{unknown[0]}: unknown field; a manual event has {', '.join(sorted(MANUAL_KEYS))}")
    if event.get("action") not in MANUAL_ACTIONS:
        raise BadEvent(
            f"action: got {event.get('action')!r}; expected {' or '.join(MANUAL_ACTIONS)} (or a scheduled, alarm or health event)"
        )
    return {"kind": "manual", "practice": event["action"] == "practice", "reason": str(event.get("reason") or "operator request")}


class Decision:
    """Signals, the decision and its effect, against clients of the standby region (and quick ones elsewhere)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clients: Callable[..., Any] | None = None,
        now: datetime.datetime | None = None,
        region: str | None = None,
    ) -> None:
        self.settings = settings
        self.region = region or os.environ.get("AWS_REGION", "the standby region")
        self.now = now or datetime.datetime.now(datetime.UTC)
        config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
        self.client = clients or (lambda service, **kw: boto3.client(service, config=config, **kw))
        self.ssm = self.client("ssm")

    # --- signals ---

    def probe(self) -> tuple[bool, str]:
        """The primary seen from here: its database available and its web tier with instances in service."""
        s = self.settings
        try:
            rds = self.client("rds", region_name=s.primary_region)
            if s.primary_database_kind == "cluster":
                status = rds.describe_db_clusters(DBClusterIdentifier=s.primary_database)["DBClusters"][0]["Status"]
            else:
                status = rds.describe_db_instances(DBInstanceIdentifier=s.primary_database)["DBInstances"][0]["DBInstanceStatus"]
            groups = self.client("autoscaling", region_name=s.primary_region).describe_auto_scaling_groups(
                AutoScalingGroupNames=[s.primary_web_group]
            )["AutoScalingGroups"]
            in_service = sum(i["LifecycleState"] == "InService" for g in groups for i in g["Instances"])
        except Exception as error:  # no answer is the signal
            return False, f"{s.primary_region} did not answer: {type(error).__name__}"
        healthy = status == "available" and in_service > 0
        return healthy, f"database {status}, {in_service} web instances in service"

    def publish(self, healthy: bool) -> None:
        """The probe's result, and the writer latch again (so the write record's health checks always have data:
        Route 53 advises against relying on the last known status for long)."""
        dimensions = [{"Name": "Deployment", "Value": self.settings.deployment}]
        self.client("cloudwatch").put_metric_data(
            Namespace=self.settings.namespace,
            MetricData=[
                {"MetricName": "PrimaryProbe", "Dimensions": dimensions, "Value": int(healthy)},
                {"MetricName": "PrimaryIsWriter", "Dimensions": dimensions, "Value": int(not self.failed_over())},
            ],
        )

    def alarm_signal(self, name: str, region: str | None) -> str:
        """ALARM (for SIGNAL_SECONDS), pending (in ALARM for less), OK, or "unknown (why)": no answer, the error code
        (AccessDenied is a defect to fix, not an outage), no such alarm, or INSUFFICIENT_DATA.

        How long it has been in ALARM counts from StateTransitionedTimestamp, when the state last changed; the
        StateUpdatedTimestamp also moves when only the reason is updated
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html)."""
        try:
            client = self.client("cloudwatch", region_name=region) if region else self.client("cloudwatch")
            alarms = client.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
            return f"unknown ({code})"
        if not alarms:
            return "unknown (no such alarm)"
        alarm = alarms[0]
        if alarm["StateValue"] != "ALARM":
            return "OK" if alarm["StateValue"] == "OK" else f"unknown ({alarm['StateValue']})"
        since = alarm.get("StateTransitionedTimestamp") or alarm["StateUpdatedTimestamp"]  # moto has only the latter
        held = (self.now - since).total_seconds()
        return "ALARM" if held >= self.settings.signal_seconds else "pending"

    def health_signal(self) -> str:
        """ALARM while the last open issue recorded is less than HEALTH_WINDOW old."""
        value = self.ssm.get_parameter(Name=self.settings.health_parameter, WithDecryption=True)["Parameter"]["Value"]
        try:
            seen = datetime.datetime.fromisoformat(json.loads(value)["seen"])
        except (ValueError, KeyError, TypeError):
            return "OK"
        return "ALARM" if (self.now - seen).total_seconds() < HEALTH_WINDOW else "OK"

    def record_health(self, code: str) -> None:
        value = json.dumps({"code": code, "seen": self.now.isoformat()})
        self.ssm.put_parameter(
            Name=self.settings.health_parameter, Value=value, Type="SecureString", KeyId=self.settings.state_key_id, Overwrite=True
        )

    def signals(self) -> dict[str, str]:
        return {
            "route53": self.alarm_signal(self.settings.route53_alarm, ROUTE53_REGION),
            "probe": self.alarm_signal(self.settings.probe_alarm, None),
            "health": self.health_signal(),
        }

    # --- decision ---

    def failed_over(self) -> bool:
        latch = self.ssm.get_parameter(Name=self.settings.writer_parameter, WithDecryption=True)["Parameter"]["Value"]
        return latch != self.settings.primary_region

    def running(self) -> str | None:
        executions = self.ssm.describe_automation_executions(
            Filters=[
                {"Key": "DocumentNamePrefix", "Values": [self.settings.document_name]},
                {"Key": "ExecutionStatus", "Values": RUNNING},
            ]
        )["AutomationExecutionMetadataList"]
        return executions[0]["AutomationExecutionId"] if executions else None

    def nothing_to_start(self, signals: dict[str, str], raised: list[str], *, manual: bool) -> tuple[str, str] | None:
        """Why no switch starts now ("none" or "held", and why), or None: go on."""
        if self.failed_over():
            return "none", "already failed over: the writer latch names the standby"
        pending = self.settings.mode == "automatic" and "pending" in signals.values()
        if not raised and not manual and not pending:
            return "none", f"no signal has been in ALARM for {self.settings.signal_seconds} s"
        running = self.running()
        if running:
            return "none", f"a switch is already running: {running}"
        refused = None if manual else self.refused()
        if refused and set(raised) <= refused[1]:
            return (
                "held",
                f"the last switch, {refused[0]}, ended unsuccessfully for these signals; a new signal or a manual decide starts it again",
            )
        return None

    def refused(self) -> tuple[str, set[str]] | None:
        """The last switch the signals started, when it ended without success: its ID and status, and the signals it
        was started for (from its Reason). None when the last one succeeded, was a person's or a practice."""
        executions = self.ssm.describe_automation_executions(
            Filters=[
                {"Key": "DocumentNamePrefix", "Values": [self.settings.document_name]},
                {"Key": "ExecutionStatus", "Values": [*UNSUCCESSFUL, "Success"]},
            ]
        )["AutomationExecutionMetadataList"]
        if not executions:
            return None
        last = max(executions, key=lambda e: e["ExecutionStartTime"])
        if last["AutomationExecutionStatus"] == "Success":
            return None
        parameters = self.ssm.get_automation_execution(AutomationExecutionId=last["AutomationExecutionId"])["AutomationExecution"]
        reason = (parameters.get("Parameters", {}).get("Reason") or [""])[0]
        if not reason.startswith(SIGNALS_REASON):
            return None
        return f"{last['AutomationExecutionId']} ({last['AutomationExecutionStatus']})", set(
            reason.removeprefix(SIGNALS_REASON).split(", ")
        )

    def start(self, decision: str, reason: str, practice: bool = False) -> str:
        response = self.ssm.start_automation_execution(
            DocumentName=self.settings.document_name,
            Parameters={"Decision": [decision], "Reason": [reason[:200]], "Practice": ["true" if practice else "false"]},
        )
        return response["AutomationExecutionId"]

    def page(self, subject: str, message: str) -> None:
        if self.settings.topic_arn:
            self.client("sns").publish(TopicArn=self.settings.topic_arn, Subject=subject[:99], Message=message)

    def automatic(self, signals: dict[str, str], reason: str, *, paging: bool) -> dict[str, Any]:
        """Automatic mode: fail over when every signal agrees for SIGNAL_SECONDS; until then page (once per signal
        event, not every minute) with the command that decides now."""
        if all(state == "ALARM" for state in signals.values()):
            execution = self.start("automatic", reason)
            self.page("Warm standby failing over automatically", f"All signals agree ({signals}); execution {execution}.")
            return {"action": "failover", "decision": "automatic", "execution": execution}
        if paging:
            self.page(
                "Warm standby: primary trouble, watching",
                f"Signals: {signals}. An automatic failover follows only when all agree for {self.settings.signal_seconds} s.\n"
                f"To decide now: aws lambda invoke --region {self.region} --function-name {FUNCTION_NAME} "
                '--cli-binary-format raw-in-base64-out --payload \'{"action": "decide", "reason": "<why>"}\' out.json',
            )
        return {"action": "watch", "why": "automatic mode: the signals do not all agree yet"}

    def decide(self, request: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        report: dict[str, Any] = {"event": request["kind"], "mode": s.mode}
        if request["kind"] == "tick":
            healthy, detail = self.probe()
            self.publish(healthy)
            report["probe"] = detail
        if request["kind"] == "health":
            self.record_health(request["code"])
        if request["kind"] == "manual" and request["practice"]:
            report.update(action="practice", execution=self.start("manual", request["reason"], practice=True))
            return report
        signals = report["signals"] = self.signals()
        raised = sorted(name for name, state in signals.items() if state == "ALARM")
        manual = request["kind"] == "manual"
        stop = self.nothing_to_start(signals, raised, manual=manual)
        if stop:
            return {**report, "action": stop[0], "why": stop[1]}
        reason = request.get("reason") or f"{SIGNALS_REASON}{', '.join(raised)}"
        if s.mode == "automatic" and not manual:
            return {**report, **self.automatic(signals, reason, paging=request["kind"] != "tick")}
        execution = self.start("manual", reason)
        self.page(
            "Warm standby: failover awaits your approval",
            f"Signals: {signals}. Execution {execution} ran its pre-checks and waits for an approval.\n"
            f"Approve: aws ssm send-automation-signal --region {self.region} --automation-execution-id {execution} "
            '--signal-type Approve --payload Comment="<why>"\n'
            f"Refuse:  aws ssm send-automation-signal --region {self.region} --automation-execution-id {execution} --signal-type Reject",
        )
        return {**report, "action": "page", "decision": "manual", "execution": execution}


def handler(event: Any, context: Any, *, clients: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Lambda entry point. Bad events raise BadEvent (no retry helps them)."""
    settings = Settings.from_env()
    request = parse_event(event, settings)
    report = Decision(settings, clients=clients).decide(request)
    logger.info(json.dumps({"message": "decision", **report}, default=str))
    return report
