"""Warm-standby failover: make the standby region the primary, step by step, idempotently.

Runs in the standby region. Steps, each reported with its duration:
  1. scale the standby Auto Scaling groups up to the primary's capacity (first: it does not need the database);
  2. promote the cross-region read replica (skipped when it already is a primary);
  3. wait until it is available as a standalone writer, at most WAIT_TIMEOUT_SECONDS and never into the last
     REPORT_RESERVE_SECONDS of the invocation (Lambda stops a function at its timeout, 900 s at most);
  4. take over the credentials: the master secret's replica in this region becomes a standalone secret
     (StopReplicationToReplica), so it can be read, rotated and changed while the primary region is down;
  5. repoint the application: the SSM parameter the app tier reads gets the writer's host, writable;
  6. route the S3 Multi-Region Access Point to the standby bucket (100 %) and away from the primary (0 %);
  7. notify the SNS topic (when something changed or a step failed).

A failed step (a wait that ran out included) skips the steps after it, is reported and notified, and then fails
the invocation, so that EventBridge's retry of the asynchronous invocation resumes where it stopped.

Accepted events: a manual {"action": "failover", "dry_run": bool, "reason": str}, a CloudWatch alarm state
change of the primary's health-check alarm into ALARM, or an AWS Health issue in the primary region.
A dry run describes and reports the plan; it changes nothing. A second run after success changes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

logger = logging.getLogger("failover")
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

REQUIRED_ENV = ("REPLICA_ID", "PARAMETER_NAME", "ASG_CAPACITY", "PRIMARY_REGION")
MANUAL_KEYS = {"action", "dry_run", "reason"}


class FailoverIncomplete(RuntimeError):
    """A step failed; the report was logged and notified, and a new invocation resumes from where this one stopped."""


class BadEvent(ValueError):
    """The event is not one the function acts on; the message names the field and what is accepted."""


@dataclass
class Settings:
    replica_id: str
    parameter_name: str
    capacity: dict[str, dict[str, int]]
    primary_region: str
    topic_arn: str | None = None
    secret_kms_key_id: str | None = None
    mrap_arn: str | None = None
    mrap_name: str | None = None
    account_id: str | None = None
    standby_bucket: str | None = None
    primary_bucket: str | None = None
    mrap_control_regions: list[str] = field(
        default_factory=lambda: ["us-west-2", "us-east-1", "eu-west-1", "ap-southeast-2", "ap-northeast-1"]
    )
    secret_id: str | None = None
    wait_timeout_seconds: int = 600
    report_reserve_seconds: int = 120
    poll_seconds: int = 15

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        missing = [name for name in REQUIRED_ENV if not env.get(name)]
        if missing:
            raise RuntimeError(f"environment: {', '.join(missing)} not set; the stack sets {', '.join(REQUIRED_ENV)}")
        try:
            capacity = json.loads(env["ASG_CAPACITY"])
        except ValueError:
            capacity = None
        if not isinstance(capacity, dict) or not all(
            isinstance(v, dict) and {"min", "desired", "max"} <= set(v) for v in capacity.values()
        ):
            raise RuntimeError('environment: ASG_CAPACITY must be JSON {"<group>": {"min": n, "desired": n, "max": n}}')
        return cls(
            replica_id=env["REPLICA_ID"],
            parameter_name=env["PARAMETER_NAME"],
            capacity=capacity,
            primary_region=env["PRIMARY_REGION"],
            topic_arn=env.get("TOPIC_ARN") or None,
            secret_kms_key_id=env.get("SECRET_KMS_KEY_ID") or None,
            mrap_arn=env.get("MRAP_ARN") or None,
            mrap_name=env.get("MRAP_NAME") or None,
            account_id=env.get("ACCOUNT_ID") or None,
            standby_bucket=env.get("STANDBY_BUCKET") or None,
            primary_bucket=env.get("PRIMARY_BUCKET") or None,
            secret_id=env.get("SECRET_ID") or None,
            wait_timeout_seconds=int(env.get("WAIT_TIMEOUT_SECONDS", "600")),
            report_reserve_seconds=int(env.get("REPORT_RESERVE_SECONDS", "120")),
            poll_seconds=int(env.get("POLL_SECONDS", "15")),
        )


def parse_event(event: Any, settings: Settings) -> dict[str, Any]:
    """Decide whether to act: returns {"dry_run", "trigger"}; raises BadEvent naming what is wrong."""
    if not isinstance(event, dict):
        raise BadEvent(f"event: expected a JSON object, got {type(event).__name__}")
    source = event.get("source")
    if source == "aws.cloudwatch":
        state = (event.get("detail") or {}).get("state", {}).get("value")
        if state != "ALARM":
            raise BadEvent(f"detail.state.value: got {state!r}; only ALARM triggers a failover")
        return {"dry_run": False, "trigger": f"alarm {event['detail'].get('alarmName', '?')}"}
    if source == "aws.health":
        detail = event.get("detail") or {}
        region = event.get("region") or detail.get("affectedRegion")
        if region != settings.primary_region:
            raise BadEvent(
                f"region: got {region!r}; only AWS Health issues in the primary region {settings.primary_region} trigger a failover"
            )
        if detail.get("eventTypeCategory") != "issue":
            raise BadEvent(f"detail.eventTypeCategory: got {detail.get('eventTypeCategory')!r}; expected 'issue'")
        return {"dry_run": False, "trigger": f"AWS Health {detail.get('eventTypeCode', 'issue')} in {region}"}
    unknown = sorted(set(event) - MANUAL_KEYS)
    if unknown:
        raise BadEvent(f"{unknown[0]}: unknown field; a manual event has {', '.join(sorted(MANUAL_KEYS))}")
    if event.get("action") != "failover":
        raise BadEvent(f"action: got {event.get('action')!r}; expected 'failover' (or an aws.cloudwatch / aws.health event)")
    dry_run = event.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadEvent(f"dry_run: got {dry_run!r}; expected true or false")
    return {"dry_run": dry_run, "trigger": f"manual: {event.get('reason') or 'no reason given'}"}


def mrap_route_updates(routes: list[dict[str, Any]], standby_bucket: str, primary_bucket: str) -> list[dict[str, Any]]:
    """The route changes that send all traffic to the standby bucket; empty when already so."""
    dials = {route["Bucket"]: route.get("TrafficDialPercentage", 0) for route in routes}
    wanted = {standby_bucket: 100, primary_bucket: 0}
    return [
        {"Bucket": bucket, "Region": next(r["Region"] for r in routes if r["Bucket"] == bucket), "TrafficDialPercentage": dial}
        for bucket, dial in wanted.items()
        if bucket in dials and dials[bucket] != dial
    ]


def mrap_arn(control: Any, account_id: str, name: str) -> str:
    """The access point's ARN from its name (the ARN holds a generated alias, unknown until it exists)."""
    alias = control.get_multi_region_access_point(AccountId=account_id, Name=name)["AccessPoint"]["Alias"]
    return f"arn:aws:s3::{account_id}:accesspoint/{alias}"


class Failover:
    """The steps, against clients of the standby region (and S3 Control in a region that is up)."""

    def __init__(
        self,
        settings: Settings,
        *,
        dry_run: bool,
        clients: Callable[..., Any] | None = None,
        remaining_seconds: Callable[[], float] | None = None,
    ) -> None:
        self.settings = settings
        self.dry_run = dry_run
        self.remaining_seconds = remaining_seconds or (lambda: float("inf"))
        config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})
        self.client = clients or (lambda service, **kw: boto3.client(service, config=config, **kw))
        self.rds = self.client("rds")
        self.steps: list[dict[str, Any]] = []

    def step(self, name: str, action: Callable[[], tuple[str, str]]) -> None:
        started = time.monotonic()
        try:
            status, detail = action()
        except Exception as exc:
            self.steps.append(
                {
                    "name": name,
                    "status": "failed",
                    "detail": f"{type(exc).__name__}: {exc}",
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
            raise
        self.steps.append({"name": name, "status": status, "detail": detail, "seconds": round(time.monotonic() - started, 2)})
        logger.info(json.dumps({"message": "step", **self.steps[-1]}))

    def _db(self) -> dict[str, Any]:
        return self.rds.describe_db_instances(DBInstanceIdentifier=self.settings.replica_id)["DBInstances"][0]

    def promote(self) -> tuple[str, str]:
        db = self._db()
        source = db.get("ReadReplicaSourceDBInstanceIdentifier")
        if not source:
            return "unchanged", f"{self.settings.replica_id} is already a standalone primary"
        if self.dry_run:
            return "planned", f"would promote {self.settings.replica_id} (replica of {source})"
        self.rds.promote_read_replica(DBInstanceIdentifier=self.settings.replica_id, BackupRetentionPeriod=7)
        return "changed", f"promoted {self.settings.replica_id}, was a replica of {source}"

    def wait_available(self) -> tuple[str, str]:
        if self.dry_run:
            return "planned", f"would wait up to {self.settings.wait_timeout_seconds} s for the instance to be available"
        budget = min(self.settings.wait_timeout_seconds, self.remaining_seconds() - self.settings.report_reserve_seconds)
        deadline = time.monotonic() + budget
        while True:
            db = self._db()
            if db["DBInstanceStatus"] == "available" and not db.get("ReadReplicaSourceDBInstanceIdentifier"):
                return "unchanged", f"available at {db['Endpoint']['Address']}"
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self.settings.replica_id} still {db['DBInstanceStatus']} after {max(budget, 0):.0f} s; "
                    "run the failover again: it resumes here"
                )
            time.sleep(min(self.settings.poll_seconds, max(deadline - time.monotonic(), 0)))

    def take_over_credentials(self) -> tuple[str, str]:
        secret_id = self.settings.secret_id
        if not secret_id:
            return "unchanged", "no master secret configured"
        secrets = self.client("secretsmanager")
        described = secrets.describe_secret(SecretId=secret_id)
        primary_region = described.get("PrimaryRegion")
        here = secrets.meta.region_name
        if not primary_region or primary_region == here:
            return "unchanged", f"{secret_id} is a standalone secret in {here}"
        if self.dry_run:
            return "planned", f"would make the replica of {secret_id} in {here} standalone (its primary is in {primary_region})"
        secrets.stop_replication_to_replica(SecretId=secret_id)
        return "changed", f"{secret_id} in {here} no longer replicates from {primary_region}: it can be rotated here"

    def repoint(self) -> tuple[str, str]:
        ssm = self.client("ssm")
        db = self._db()
        endpoint = {
            "host": db["Endpoint"]["Address"],
            "port": db["Endpoint"]["Port"],
            "writable": True,
            "secret_id": self.settings.secret_id,
        }
        if self.dry_run and db.get("ReadReplicaSourceDBInstanceIdentifier"):
            return "planned", f"would set {self.settings.parameter_name} to {endpoint}"
        wanted = json.dumps(endpoint, sort_keys=True)
        current = ssm.get_parameter(Name=self.settings.parameter_name, WithDecryption=True)["Parameter"]["Value"]
        if _same_json(current, wanted):
            return "unchanged", f"{self.settings.parameter_name} already points the app at the writer"
        if self.dry_run:
            return "planned", f"would set {self.settings.parameter_name} to {wanted}"
        parameter = {"Type": "SecureString", **({"KeyId": self.settings.secret_kms_key_id} if self.settings.secret_kms_key_id else {})}
        ssm.put_parameter(Name=self.settings.parameter_name, Value=wanted, Overwrite=True, **parameter)
        return "changed", f"{self.settings.parameter_name} = {wanted}"

    def scale(self) -> tuple[str, str]:
        autoscaling = self.client("autoscaling")
        names = list(self.settings.capacity)
        groups = {
            g["AutoScalingGroupName"]: g for g in autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=names)["AutoScalingGroups"]
        }
        missing = [name for name in names if name not in groups]
        if missing:
            raise RuntimeError(f"Auto Scaling groups not found: {', '.join(missing)}")
        changes = []
        for name, target in self.settings.capacity.items():
            group = groups[name]
            current = {"min": group["MinSize"], "desired": group["DesiredCapacity"], "max": group["MaxSize"]}
            raised = {key: max(current[key], target[key]) for key in ("min", "desired", "max")}
            if raised == current:
                continue
            changes.append(f"{name} {current} -> {raised}")
            if not self.dry_run:
                autoscaling.update_auto_scaling_group(
                    AutoScalingGroupName=name, MinSize=raised["min"], DesiredCapacity=raised["desired"], MaxSize=raised["max"]
                )
        if not changes:
            return "unchanged", "groups already at the primary's capacity"
        return ("planned" if self.dry_run else "changed"), "; ".join(changes)

    def route_storage(self) -> tuple[str, str]:
        s = self.settings
        if not ((s.mrap_arn or s.mrap_name) and s.account_id and s.standby_bucket and s.primary_bucket):
            return "unchanged", "no Multi-Region Access Point configured"
        errors = []
        for region in s.mrap_control_regions:  # the routing API answers in a few regions; use one that is up
            control = self.client("s3control", region_name=region)
            try:
                mrap = s.mrap_arn or mrap_arn(control, s.account_id, s.mrap_name or "")
                routes = control.get_multi_region_access_point_routes(AccountId=s.account_id, Mrap=mrap)["Routes"]
            except Exception as exc:  # any failure there: try the next control region
                errors.append(f"{region}: {type(exc).__name__}")
                continue
            updates = mrap_route_updates(routes, s.standby_bucket, s.primary_bucket)
            if not updates:
                return "unchanged", f"all traffic already goes to {s.standby_bucket}"
            if self.dry_run:
                return "planned", f"would set {updates}"
            control.submit_multi_region_access_point_routes(AccountId=s.account_id, Mrap=mrap, RouteUpdates=updates)
            return "changed", f"routes {updates} (via {region})"
        raise RuntimeError(f"no S3 Control region answered: {', '.join(errors)}")

    def notify(self, trigger: str) -> tuple[str, str]:
        changed = [step for step in self.steps if step["status"] == "changed"]
        failed = [step for step in self.steps if step["status"] == "failed"]
        if not self.settings.topic_arn:
            return "unchanged", "no topic configured"
        if self.dry_run or not (changed or failed):
            return "unchanged", "nothing changed, nothing to announce"
        summary = "\n".join(f"{step['name']}: {step['status']}: {step['detail']} ({step['seconds']} s)" for step in self.steps)
        subject = "Warm standby failover INCOMPLETE" if failed else "Warm standby failover executed"
        self.client("sns").publish(TopicArn=self.settings.topic_arn, Subject=subject, Message=f"Trigger: {trigger}\n{summary}")
        return "changed", f"notified {self.settings.topic_arn}"

    def run(self, trigger: str) -> dict[str, Any]:
        started = time.monotonic()
        failed = False
        for name, action in (
            ("scale_standby", self.scale),
            ("promote_replica", self.promote),
            ("wait_available", self.wait_available),
            ("take_over_credentials", self.take_over_credentials),
            ("repoint_application", self.repoint),
            ("route_storage", self.route_storage),
        ):
            if failed:
                self.steps.append({"name": name, "status": "skipped", "detail": "an earlier step failed", "seconds": 0.0})
                continue
            try:
                self.step(name, action)
            except Exception:  # reported in the step; the rest is skipped and the report still goes out
                logger.exception("step %s failed", name)
                failed = True
        self.step("notify", lambda: self.notify(trigger))
        return {
            "dry_run": self.dry_run,
            "trigger": trigger,
            "complete": not failed,
            "changed": any(step["status"] == "changed" for step in self.steps),
            "steps": self.steps,
            "total_seconds": round(time.monotonic() - started, 2),
        }


def _same_json(current: str, wanted: str) -> bool:
    try:
        return json.loads(current) == json.loads(wanted)
    except ValueError:
        return False


def handler(event: Any, context: Any, *, clients: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Lambda entry point. Bad events raise BadEvent; a failed step raises FailoverIncomplete after the report."""
    settings = Settings.from_env()
    decision = parse_event(event, settings)
    remaining = (lambda: context.get_remaining_time_in_millis() / 1000) if hasattr(context, "get_remaining_time_in_millis") else None
    report = Failover(settings, dry_run=decision["dry_run"], clients=clients, remaining_seconds=remaining).run(decision["trigger"])
    logger.info(json.dumps({"message": "failover report", **report}))
    if not report["complete"]:
        failed = next(step for step in report["steps"] if step["status"] == "failed")
        raise FailoverIncomplete(f"{failed['name']}: {failed['detail']}")
    return report
