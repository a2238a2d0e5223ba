"""Resilience assessment before deploy: estimated RTO and RPO per architecture and failure domain, read from the
synthesized Terraform JSON and compared with the configuration's resilience policy.

    python -m tools.assess [--outdir cdktf.out] [--config FILE] [--output FILE.md] [--json FILE.json]
                           [--base BASE.json] [--measured DRILL.json] [--assume NAME=SECONDS ...]
                           [--warn-only | --block-on regression]

Each estimate is a timeline of terms. Every term names the resource it was read from and the AWS page its figure
comes from, or says it is an assumption (`--assume` overrides those). RTO terms add up along the recovery path
(parallel steps count once, the longest); RPO is the largest loss window among the stores. A missing piece is a
verdict, not a number: a record without a health check or a store without a copy in another region makes the
domain "unrecoverable", and a recovery step that needs what failed makes it "depends on ...".

Static stability: whether the surviving region carries the configured peak without scaling, and how long the
scaling takes when it does not.

--base compares with another assessment's JSON (the base branch's, in a pull request); --measured shows a drill's
measured recovery next to the estimate and flags a large difference. Exit 0 when every objective is met; 5 when
one is breached, unrecoverable or depends on something (a warning with --warn-only); 2 for bad input.
`--block-on regression` (a pull request against its base) exits 5 only for a regression: an objective that is not
met and was met on the base, is new, has a worse verdict, or takes longer; a breach the base already had, no
worse, is reported and does not block. Without a readable --base every failing objective blocks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from modules.config import ActiveActive, DeploymentConfig, ResiliencePolicy, WarmStandby, load_config
from stacks.naming import ACTIVE_ACTIVE, WARM_STANDBY, origin_host, regional_host
from tools.cli import EXIT_SETUP, ToolError, command
from tools.plan_report import read_json
from tools.terraform import stack_dirs

ROOT = Path(__file__).resolve().parent.parent
EXIT_BREACH = 5
DOMAINS = ("az", "hardware", "software", "region")
#: A measured recovery this many times faster or slower than the estimate is flagged.
FLAG_RATIO = 2.0

R53_HEALTH = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html"
R53_DNS = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/best-practices-dns.html"
CF_FAILOVER = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/high_availability_origin_failover.html"
CF_METHODS = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/RequestAndResponseBehaviorOriginGroups.html"
CW_ALARMS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html"
RDS_MULTI_AZ = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.MultiAZ.Failover.html"
RDS_PROMOTE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html"
RDS_LAG = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.Monitor.html"
RDS_PITR = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html"
DDB_GLOBAL = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html"
DDB_PITR = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html"
DDB_RESTORE = "https://repost.aws/knowledge-center/dynamodb-restore-taking-long"
DDB_RESILIENCE = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/disaster-recovery-resiliency.html"
LAMBDA_RESILIENCE = "https://docs.aws.amazon.com/lambda/latest/dg/security-resilience.html"
LAMBDA_CONCURRENCY = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html"
R53_FAILOVER = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-types.html"
S3_RTC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html"
S3_REPLICATION_METRICS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html"
ASG_GRACE = "https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html"
AURORA_GLOBAL_DR = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html"
AURORA_HA = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html"
AURORA_PITR = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-pitr.html"
BACKUP_SCHEDULE = "https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html"

#: Figures AWS does not publish, used where a term needs one; each is printed as an assumption and can be
#: overridden with --assume NAME=SECONDS.
ASSUMPTIONS: dict[str, tuple[float, str]] = {
    "instance_launch_seconds": (120, "EC2 launch and boot of one instance before its health-check grace starts"),
    "replica_promotion_seconds": (600, "RDS says promotion takes 'several minutes or longer, depending on the size of the replica'"),
    "global_failover_seconds": (180, "Aurora: the secondary cluster 'assumes the primary role within a few minutes' of a failover"),
    "table_restore_seconds": (1800, "one DynamoDB restore (PITR or backup); AWS re:Post: at least 20 minutes, usually under an hour"),
    "db_restore_seconds": (1800, "one RDS point-in-time restore into a new instance, for the example's 50 GB"),
    "approval_seconds": (300, "an operator reads the page and approves a runbook's aws:approve step"),
}


@dataclass(frozen=True)
class Term:
    """One figure of a timeline: what it is, how long, where the figure comes from, and the resource it was read
    from."""

    what: str
    seconds: float
    source: str
    resource: str = ""


@dataclass
class Estimate:
    """One objective (RTO or RPO) of one architecture and failure domain."""

    architecture: str
    domain: str
    objective: str
    target: int
    terms: list[Term] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    unrecoverable: bool = False
    combine: str = "sum"  # sum along a timeline (RTO), or max over stores (RPO)

    @property
    def seconds(self) -> float:
        values = [term.seconds for term in self.terms]
        return (sum(values) if self.combine == "sum" else max(values)) if values else 0.0

    @property
    def verdict(self) -> str:
        if self.unrecoverable:
            return "unrecoverable"
        if self.blockers:
            return "depends"
        return "met" if self.seconds <= self.target else "breached"

    @property
    def margin(self) -> float:
        return self.target - self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": self.seconds, "verdict": self.verdict, "margin": self.margin}


#: Verdicts from best to worst: a regression is a move down this list, or a longer estimate with the same verdict.
VERDICT_RANK = {"met": 0, "breached": 1, "depends": 2, "unrecoverable": 3}


@dataclass
class Assessment:
    estimates: list[Estimate]
    stability: list[str]
    assumptions: dict[str, float]

    @property
    def failing(self) -> list[Estimate]:
        return [estimate for estimate in self.estimates if estimate.verdict != "met"]

    def regressions(self, base: dict[str, Any] | None) -> list[Estimate]:
        """The failing objectives that `base` (another assessment's JSON) did not fail as badly: new, met there, a
        worse verdict, or a longer estimate. Without a base, every failing one."""
        if base is None:
            return self.failing
        before = {(e["architecture"], e["domain"], e["objective"]): e for e in base.get("estimates", [])}

        def worse(estimate: Estimate) -> bool:
            old = before.get((estimate.architecture, estimate.domain, estimate.objective))
            if old is None or old["verdict"] not in VERDICT_RANK:
                return True
            rank, old_rank = VERDICT_RANK[estimate.verdict], VERDICT_RANK[old["verdict"]]
            return rank > old_rank or (rank == old_rank and estimate.seconds - float(old["seconds"]) >= 1)

        return [estimate for estimate in self.failing if worse(estimate)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "estimates": [estimate.as_dict() for estimate in self.estimates],
            "stability": self.stability,
            "assumptions": self.assumptions,
        }


# --- reading the synthesized JSON ---


class Stacks:
    """The synthesized stacks of one output folder, with lookups by resource type."""

    def __init__(self, stacks: dict[str, dict[str, Any]]) -> None:
        self.stacks = stacks

    @classmethod
    def read(cls, outdir: Path) -> Stacks:
        return cls({folder.name: json.loads((folder / "cdk.tf.json").read_text()) for folder in stack_dirs(outdir)})

    def resources(self, stack: str, kind: str) -> dict[str, dict[str, Any]]:
        return self.stacks.get(stack, {}).get("resource", {}).get(kind, {})

    def everywhere(self, prefix: str, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(stack, address, body) of every `kind` resource in the stacks whose names start with `prefix`."""
        return [
            (stack, f"{kind}.{name}", body)
            for stack in sorted(self.stacks)
            if stack.startswith(prefix)
            for name, body in self.resources(stack, kind).items()
        ]

    def region_of(self, stack: str, body: dict[str, Any]) -> str:
        providers = self.stacks[stack].get("provider", {}).get("aws", [])
        alias = body.get("provider", "aws").removeprefix("aws.")
        for provider in providers:
            if provider.get("alias", "aws") == alias or (alias == "aws" and "alias" not in provider):
                return provider["region"]
        return providers[0]["region"] if providers else ""


def alarm_on(stacks: Stacks, prefix: str, metric: str, *, name_contains: str = "") -> tuple[str, dict[str, Any]] | None:
    for _, address, body in stacks.everywhere(prefix, "aws_cloudwatch_metric_alarm"):
        if body.get("metric_name") == metric and name_contains in body.get("alarm_name", ""):
            return address, body
    return None


def alarm_term(address: str, alarm: dict[str, Any]) -> Term:
    periods, period = alarm.get("evaluation_periods", 1), alarm.get("period", 60)
    return Term(f"alarm evaluation: {periods} x {period} s", periods * period, CW_ALARMS, address)


def health_check_term(stacks: Stacks, prefix: str, fqdn: str) -> Term | None:
    for _, address, check in stacks.everywhere(prefix, "aws_route53_health_check"):
        if check.get("fqdn") == fqdn:
            interval, threshold = check.get("request_interval", 30), check.get("failure_threshold", 3)
            what = f"Route 53 detection of {fqdn}: {interval} s interval x {threshold} failures (an estimate: AWS gives no figure)"
            return Term(what, interval * threshold, R53_HEALTH, address)
    return None


Objectives = dict[tuple[str, str], Estimate]


def objectives(architecture: str, policy: ResiliencePolicy) -> Objectives:
    """An empty estimate for every domain's RTO (a timeline: terms add up) and RPO (the worst store counts)."""
    return {
        (domain, objective): Estimate(
            architecture,
            domain,
            objective,
            getattr(getattr(policy, domain), f"{objective.lower()}_seconds"),
            combine="sum" if objective == "RTO" else "max",
        )
        for domain in DOMAINS
        for objective in ("RTO", "RPO")
    }


def add_detection(rto: Estimate, stacks: Stacks, prefix: str, fqdn: str) -> None:
    """The health check's detection time as the first RTO term; without a health check, nothing detects the
    failure, and the domain is unrecoverable."""
    detection = health_check_term(stacks, prefix, fqdn)
    if detection is None:
        rto.unrecoverable = True
        rto.blockers.append(f"no health check watches {fqdn}")
    else:
        rto.terms.append(detection)


# --- active/active ---


def assess_active_active(arch: ActiveActive, estimates: Objectives, stacks: Stacks, assume: dict[str, float]) -> list[str]:
    """Fill the active/active estimates; returns the static-stability notes."""
    prefix = ACTIVE_ACTIVE
    stability: list[str] = []

    # A failed region leaves DNS once its health check fails; resolvers then drop it after the record's TTL.
    region_rto = estimates[("region", "RTO")]
    records = stacks.everywhere(prefix, "aws_route53_record")
    weighted = [
        (address, body) for _, address, body in records if "weighted_routing_policy" in body and body.get("name") == arch.domain_name
    ]
    if not weighted:
        region_rto.blockers.append(f"no weighted record answers for {arch.domain_name}")
        region_rto.unrecoverable = True
    for address, record in weighted:
        if not record.get("health_check_id"):
            region_rto.unrecoverable = True
            region_rto.blockers.append(f"{address} has no health check: DNS keeps answering with a failed region")
    primary = arch.primary.region
    add_detection(region_rto, stacks, prefix, regional_host(primary, arch.domain_name))
    ttl = max((record.get("ttl", 60) for _, record in weighted), default=60)
    region_rto.terms.append(Term(f"DNS caching: the weighted records' TTL of {ttl} s", ttl, R53_DNS, weighted[0][0] if weighted else ""))

    # Static stability: the surviving region carries the whole peak with what it has.
    survivor = arch.secondary.region
    stack = f"{prefix}-{survivor}"
    functions = {
        body.get("function_name", ""): (f"aws_lambda_function.{name}", body)
        for name, body in stacks.resources(stack, "aws_lambda_function").items()
    }
    api = next(((address, body) for function_name, (address, body) in functions.items() if function_name.endswith("-api")), None)
    needed = arch.traffic.required_concurrency
    if api is None:
        region_rto.unrecoverable = True
        region_rto.blockers.append(f"no API function in {stack}")
    else:
        reserved = api[1].get("reserved_concurrent_executions")
        if not isinstance(reserved, int) or reserved < 0:
            stability.append(
                f"active_active: {api[0]} reserves no concurrency: it shares the account's unreserved pool ({LAMBDA_CONCURRENCY})"
            )
        elif reserved < needed:
            region_rto.blockers.append(
                f"{survivor} has {reserved} reserved executions for a peak needing {needed}: raising them is a control-plane change"
            )
            stability.append(
                f"active_active: {survivor} is short of {needed - reserved} concurrent executions ({api[0]}; {LAMBDA_CONCURRENCY})"
            )
        else:
            stability.append(
                f"active_active: {survivor} carries the peak alone: {reserved} reserved executions >= {needed} needed ({api[0]})"
            )
    settings_of = stacks.resources(stack, "aws_api_gateway_method_settings")
    throttles = [
        (f"aws_api_gateway_method_settings.{name}", body) for name, body in settings_of.items() if body.get("method_path") == "*/*"
    ]
    for address, settings in throttles:
        rate = settings.get("settings", {}).get("throttling_rate_limit")
        if isinstance(rate, int | float) and 0 <= rate < arch.traffic.peak_requests_per_second:
            region_rto.blockers.append(
                f"{survivor}'s stage throttles at {rate} requests/s, below the peak of {arch.traffic.peak_requests_per_second}"
            )
            stability.append(
                f"active_active: {survivor}'s stage throttle {rate}/s < peak {arch.traffic.peak_requests_per_second}/s ({address})"
            )

    # Data: the global table's replica in the other region bounds what a region loss loses.
    region_rpo = estimates[("region", "RPO")]
    replicas = stacks.everywhere(f"{prefix}-data", "aws_dynamodb_table_replica")
    if replicas:
        _, address, _ = replicas[0]
        region_rpo.terms.append(Term("DynamoDB global table replication: typically within a second, no SLA", 1, DDB_GLOBAL, address))
        watched = alarm_on(stacks, prefix, "ReplicationLatency")
        if watched is None:
            region_rpo.blockers.append("no alarm watches the global table's ReplicationLatency: a growing lag goes unseen")
    else:
        copies = [
            (address, rule)
            for _, address, plan in stacks.everywhere(prefix, "aws_backup_plan")
            for rule in plan.get("rule", [])
            if rule.get("copy_action")
        ]
        if copies:
            address, rule = copies[0]
            interval = schedule_seconds(rule.get("schedule", ""))
            region_rpo.terms.append(
                Term(f"backup copied to the other region on {rule.get('schedule')}", interval, BACKUP_SCHEDULE, address)
            )
        else:
            region_rpo.unrecoverable = True
            region_rpo.blockers.append("the table has no replica and no backup copy in another region")

    # AZ and hardware: the services run across the region's zones; the function needs subnets in two or more.
    subnets = len(api[1].get("vpc_config", {}).get("subnet_ids", [])) if api else 0
    for domain in ("az", "hardware"):
        rto, rpo = estimates[(domain, "RTO")], estimates[(domain, "RPO")]
        if subnets < 2:
            rto.blockers.append(f"the API function runs in {subnets} subnet(s): one zone's loss stops it")
        serving = f"Lambda, API Gateway and DynamoDB serve from the other zones ({subnets} function subnets)"
        rto.terms.append(Term(serving, 0, LAMBDA_RESILIENCE, api[0] if api else ""))
        rpo.terms.append(Term("DynamoDB writes are stored in several zones before they are acknowledged", 0, DDB_RESILIENCE))

    # Software (a bad release or corrupted data): point-in-time recovery and the recover-table runbook.
    tables = stacks.everywhere(f"{prefix}-data", "aws_dynamodb_table")
    software_rto, software_rpo = estimates[("software", "RTO")], estimates[("software", "RPO")]
    pitr = bool(tables) and tables[0][2].get("point_in_time_recovery", {}).get("enabled") is True
    if not pitr:
        software_rpo.unrecoverable = software_rto.unrecoverable = True
        software_rpo.blockers.append("the table has no point-in-time recovery")
    else:
        software_rpo.terms.append(Term("PITR latest restorable time: typically 5 minutes before now", 300, DDB_PITR, tables[0][1]))
    runbooks = [
        address for _, address, doc in stacks.everywhere(prefix, "aws_ssm_document") if doc.get("name", "").endswith("recover-table")
    ]
    if not runbooks:
        software_rto.blockers.append("no recover-table runbook: recovery is by hand")
    restore = assume["table_restore_seconds"]
    software_rto.terms += [
        Term("restore a verified copy (assumption table_restore_seconds)", restore, DDB_RESTORE, runbooks[0] if runbooks else ""),
        Term("operator approval of the cut-over (assumption approval_seconds)", assume["approval_seconds"], "assumption"),
        Term("restore the copy's backup into the table's name (assumption table_restore_seconds)", restore, DDB_RESTORE),
    ]
    return stability


#: An AWS Backup schedule's interval when its cron expression cannot be read: a month, the longest it offers.
UNKNOWN_SCHEDULE_SECONDS = 31 * 86400


def schedule_seconds(expression: str) -> float:
    """The interval of an AWS Backup cron schedule (minutes hours day-of-month month day-of-week year): hourly or
    every N hours, daily, weekly, monthly; the longest interval when the expression is anything else."""
    fields = expression.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6:
        return UNKNOWN_SCHEDULE_SECONDS
    hours, day_of_month, _, day_of_week = fields[1:5]
    if day_of_month not in ("*", "?"):  # monthly at best
        return UNKNOWN_SCHEDULE_SECONDS
    if day_of_week not in ("*", "?"):
        return 7 * 86400 if re.fullmatch(r"[A-Z]{3}|\d", day_of_week) else UNKNOWN_SCHEDULE_SECONDS
    if hours == "*":
        return 3600
    step = re.fullmatch(r"(?:\*|\d+)/(\d+)", hours)
    if step:
        return int(step.group(1)) * 3600
    return 86400 if re.fullmatch(r"\d+", hours) else UNKNOWN_SCHEDULE_SECONDS


# --- warm standby ---


def assess_warm_standby(arch: WarmStandby, estimates: Objectives, stacks: Stacks, assume: dict[str, float]) -> list[str]:
    """Fill the warm-standby estimates; returns the static-stability notes."""
    prefix = WARM_STANDBY
    primary, standby = arch.primary.region, arch.standby.region
    stability: list[str] = []
    database = Database.read(stacks, prefix)

    # Region: detection and its alarm; then the decision, the database's switch and the writes' move, beside the
    # scale-out (which the recovery plan starts before its approval step when it runs first in the switch).
    rto = estimates[("region", "RTO")]
    add_detection(rto, stacks, prefix, origin_host(primary, arch.domain_name))
    signal_terms(rto, stacks, prefix, primary=primary, standby=standby, stability=stability)
    decision = decision_term(stacks, prefix, assume)
    promotion = database.switch_term(rto, standby, assume)
    writes = writes_term(stacks, prefix, rto)
    if writes is not None:
        promotion = Term(
            f"{promotion.what}, then {writes.what}",
            promotion.seconds + writes.seconds,
            f"{promotion.source} and {writes.source}",
            promotion.resource,
        )
    scaling = scale_out(stacks, f"{prefix}-{standby}", f"{prefix}-{primary}", assume, stability)
    if decision is None:
        rto.blockers.append(f"no decision function in {standby}: nothing starts the failover")
    elif decision.what.startswith("operator approval") and scales_before_approval(stacks, prefix):
        promotion = Term(
            f"{decision.what}, then {promotion.what}", decision.seconds + promotion.seconds, promotion.source, promotion.resource
        )
    else:
        rto.terms.append(decision)
    rto.terms.append(in_parallel([promotion, *scaling]))
    distribution = stacks.everywhere(f"{prefix}-global", "aws_cloudfront_distribution")
    if distribution:
        _, address, cdn = distribution[0]
        origins = cdn.get("origin", [])
        if origins:
            attempts, timeout = origins[0].get("connection_attempts", 3), origins[0].get("connection_timeout", 10)
            worst = attempts * timeout
            stability.append(
                f"warm_standby: reads fail over per request after {attempts} x {timeout} s = {worst} s ({address}; {CF_FAILOVER})"
            )

    # Region RPO: what the database's copy may lag by, and the assets' replication.
    rpo = estimates[("region", "RPO")]
    database.region_rpo(rpo, stacks, prefix)
    assets_rpo(rpo, stacks, prefix)
    database.zone_and_software(estimates, assume)
    return stability


def signal_terms(rto: Estimate, stacks: Stacks, prefix: str, *, primary: str, standby: str, stability: list[str]) -> None:
    """The alarm that turns the primary's trouble into a failover signal, and where it runs."""
    unhealthy = alarm_on(stacks, prefix, "HealthCheckStatus", name_contains=f"{primary}-unhealthy")
    probe = alarm_on(stacks, prefix, "PrimaryProbe")
    if unhealthy is None and probe is None:
        rto.blockers.append(f"no alarm turns {primary}'s trouble into a failover signal")
        return
    rto.terms.append(alarm_term(*(unhealthy or probe)))  # type: ignore[misc]
    if probe is None and primary == "us-east-1":
        rto.blockers.append(
            "us-east-1, the failed region: the health-check alarm and the rule forwarding it to the standby run there "
            "(Route 53 health-check metrics exist only in us-east-1), and nothing probes from the standby"
        )
    elif primary == "us-east-1":
        stability.append(
            f"warm_standby: the Route 53 signal needs us-east-1 (its metrics live there); the probe alarm {probe[0]} "  # type: ignore[index]
            f"and the decision run in {standby}"
        )


def scales_before_approval(stacks: Stacks, prefix: str) -> bool:
    """Whether the region switch's document scales the target out before its approval step (then the instances
    launch while the operator decides)."""
    for _, _, body in stacks.everywhere(prefix, "aws_ssm_document"):
        steps = [step["name"] for step in json.loads(body.get("content", "{}")).get("mainSteps", [])]
        if "scaleTarget" in steps and "approve" in steps:
            return steps.index("scaleTarget") < steps.index("approve")
    return False


@dataclass
class Database:
    """The warm standby's database as synthesized: RDS instances (`instances`: "primary", "replica") or Aurora
    clusters (`clusters`: "primary", "secondary"), each (stack, address, body)."""

    instances: dict[str, tuple[str, str, dict[str, Any]]]
    clusters: dict[str, tuple[str, str, dict[str, Any]]]
    members: dict[str, int]
    global_rpo: tuple[str, float] | None

    @classmethod
    def read(cls, stacks: Stacks, prefix: str) -> Database:
        instances = {
            ("replica" if body.get("replicate_source_db") else "primary"): (stack, address, body)
            for stack, address, body in stacks.everywhere(prefix, "aws_db_instance")
        }
        clusters = {
            ("secondary" if body.get("source_region") else "primary"): (stack, address, body)
            for stack, address, body in stacks.everywhere(prefix, "aws_rds_cluster")
        }
        members: dict[str, int] = {}
        for stack, _, _ in stacks.everywhere(prefix, "aws_rds_cluster_instance"):
            members[stack] = members.get(stack, 0) + 1
        global_rpo = None
        if "primary" in clusters:
            for address, group in stacks.resources(clusters["primary"][0], "aws_rds_cluster_parameter_group").items():
                for parameter in group.get("parameter", []):
                    if parameter.get("name") == "rds.global_db_rpo":
                        global_rpo = (f"aws_rds_cluster_parameter_group.{address}", float(parameter["value"]))
        return cls(instances, clusters, members, global_rpo)

    @property
    def aurora(self) -> bool:
        return bool(self.clusters)

    def switch_term(self, rto: Estimate, standby: str, assume: dict[str, float]) -> Term:
        """Making the standby's copy the writer: the global database's failover, or the replica's promotion."""
        if self.aurora:
            if "secondary" not in self.clusters:
                rto.unrecoverable = True
                rto.blockers.append(f"no secondary cluster of the global database in {standby}")
            address = self.clusters.get("secondary", ("", "", {}))[1]
            what = "fail over the global database (assumption global_failover_seconds)"
            return Term(what, assume["global_failover_seconds"], AURORA_GLOBAL_DR, address)
        if "replica" not in self.instances:
            rto.unrecoverable = True
            rto.blockers.append(f"no read replica of the database in {standby}")
        address = self.instances["replica"][1] if "replica" in self.instances else ""
        return Term(
            "promote the cross-region replica (assumption replica_promotion_seconds)",
            assume["replica_promotion_seconds"],
            RDS_PROMOTE,
            address,
        )

    def region_rpo(self, rpo: Estimate, stacks: Stacks, prefix: str) -> None:
        """The copy's lag: below the lag alarm's threshold it pages nobody; Aurora's rds.global_db_rpo makes commits
        wait beyond its value, so the smaller bounds the loss."""
        copy = "secondary" if self.aurora else "replica"
        if copy not in (self.clusters if self.aurora else self.instances):
            rpo.unrecoverable = True
            rpo.blockers.append("the database has no copy in another region")
            return
        bounds = []
        lag = alarm_on(stacks, prefix, "AuroraGlobalDBRPOLag" if self.aurora else "ReplicaLag")
        if lag is not None:
            threshold = lag[1]["threshold"] / (1000 if self.aurora else 1)
            what = f"replica lag below the lag alarm's threshold of {threshold:.0f} s pages nobody"
            bounds.append(Term(what, threshold, AURORA_GLOBAL_DR if self.aurora else RDS_LAG, lag[0]))
        if self.global_rpo is not None:
            address, seconds = self.global_rpo
            bounds.append(
                Term(
                    f"rds.global_db_rpo = {seconds:.0f} s: commits wait while the secondary is further behind",
                    seconds,
                    AURORA_GLOBAL_DR,
                    address,
                )
            )
        if not bounds:
            rpo.blockers.append("no alarm watches the replica's lag: the data lost on failover is unbounded")
            return
        rpo.terms.append(min(bounds, key=lambda term: term.seconds))

    def zone_and_software(self, estimates: Objectives, assume: dict[str, float]) -> None:
        """AZ and hardware: Multi-AZ failover (or Aurora's to a reader in another zone); software: point-in-time restore."""
        primary = (self.clusters if self.aurora else self.instances).get("primary")
        if self.aurora:
            failover = Term(
                "Aurora fails over to a reader in another zone: typically under 120 s", 120, AURORA_HA, primary[1] if primary else ""
            )
            durable = Term(
                "Aurora storage keeps six copies across three zones before a write is acknowledged", 0, AURORA_HA, failover.resource
            )
            ready = primary is not None and self.members.get(primary[0], 0) >= 2
            missing = "the writer's cluster has no reader in another zone: a zone or host loss waits for a new instance"
        else:
            failover = Term("RDS Multi-AZ failover: typically 60-120 s", 120, RDS_MULTI_AZ, primary[1] if primary else "")
            durable = Term("RDS Multi-AZ replicates synchronously to the standby", 0, RDS_MULTI_AZ, failover.resource)
            ready = primary is not None and primary[2].get("multi_az") is True
            missing = "the database is single-AZ: a zone or host loss means a restore from backup"
        for domain in ("az", "hardware"):
            domain_rto, domain_rpo = estimates[(domain, "RTO")], estimates[(domain, "RPO")]
            if ready:
                domain_rto.terms.append(failover)
                domain_rpo.terms.append(durable)
            else:
                domain_rto.unrecoverable = domain_rpo.unrecoverable = True
                domain_rto.blockers.append(missing)
                domain_rpo.blockers.append(missing.split(":")[0])
        software_rto, software_rpo = estimates[("software", "RTO")], estimates[("software", "RPO")]
        if primary is not None and primary[2].get("backup_retention_period", 0) > 0:
            source = AURORA_PITR if self.aurora else RDS_PITR
            what = (
                "point-in-time recovery: the latest restorable time is typically 5 minutes before now"
                if self.aurora
                else ("RDS point-in-time recovery: transaction logs reach S3 every 5 minutes")
            )
            software_rpo.terms.append(Term(what, 300, source, primary[1]))
            restore = "point-in-time restore into a new cluster" if self.aurora else "point-in-time restore into a new instance"
            software_rto.terms.append(Term(f"{restore} (assumption db_restore_seconds)", assume["db_restore_seconds"], source, primary[1]))
        else:
            software_rto.unrecoverable = software_rpo.unrecoverable = True
            software_rpo.blockers.append("the database keeps no automated backups")


def latency_alarms(stacks: Stacks, prefix: str) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    """(source bucket, rule ID) -> (address, body) of the ReplicationLatency alarms the stacks hold."""
    found = {}
    for _, address, alarm in stacks.everywhere(prefix, "aws_cloudwatch_metric_alarm"):
        if (alarm.get("namespace"), alarm.get("metric_name")) == ("AWS/S3", "ReplicationLatency"):
            dimensions = alarm.get("dimensions", {})
            found[(dimensions.get("SourceBucket", ""), dimensions.get("RuleId", ""))] = (address, alarm)
    return found


def assets_rpo(rpo: Estimate, stacks: Stacks, prefix: str) -> None:
    """The assets' loss window per replication rule: the ReplicationLatency alarm's threshold when one watches the
    rule (latency below it pages nobody, as with the replica's lag), else Replication Time Control's 15 minutes;
    a rule with neither has no bound."""
    replications = stacks.everywhere(prefix, "aws_s3_bucket_replication_configuration")
    if not replications:
        rpo.unrecoverable = True
        rpo.blockers.append("the assets buckets have no copy in another region")
    alarms = latency_alarms(stacks, prefix)
    for stack, address, replication in replications:
        source = bucket_name(stacks, stack, replication.get("bucket", ""))
        for rule in replication.get("rule", []):
            minutes = rule.get("destination", {}).get("replication_time", {}).get("time", {}).get("minutes")
            watched = alarms.get((source, rule.get("id", "")))
            if watched is not None and minutes:
                threshold = watched[1]["threshold"]
                what = (
                    f"assets replication latency below its alarm's threshold of {threshold} s pages nobody (caveat: RTC is"
                    f" designed for 99.99% of objects within {minutes} minutes, so a backlog past {threshold} s is paged, not prevented)"
                )
                if what not in {term.what for term in rpo.terms}:  # one term for all the rules watched alike
                    rpo.terms.append(Term(what, threshold, S3_REPLICATION_METRICS, watched[0]))
            elif minutes:
                what = f"S3 Replication Time Control: designed for 99.99% of objects within {minutes} minutes, SLA-backed"
                if what not in {term.what for term in rpo.terms}:
                    rpo.terms.append(Term(what, minutes * 60, S3_RTC, address))
            else:
                rpo.blockers.append(f"{address} replicates without Replication Time Control: no bound on what is lost")


def bucket_name(stacks: Stacks, stack: str, reference: str) -> str:
    """The name of the bucket a replication configuration names by reference (`${aws_s3_bucket.<id>.id}`) or by name."""
    if reference.startswith("${aws_s3_bucket.") and reference.endswith(".id}"):
        body = stacks.resources(stack, "aws_s3_bucket").get(reference[len("${aws_s3_bucket.") : -len(".id}")], {})
        return str(body.get("bucket", reference))
    return reference


def decision_term(stacks: Stacks, prefix: str, assume: dict[str, float]) -> Term | None:
    """What the decision adds: an approval in manual mode, the signals' agreement held in automatic mode (read from
    the decision function's settings); None without a decision function."""
    for _, address, function in stacks.everywhere(prefix, "aws_lambda_function"):
        variables = function.get("environment", {}).get("variables", {})
        if "DOCUMENT_NAME" in variables and "MODE" in variables:
            if variables["MODE"] == "automatic":
                held = float(variables.get("SIGNAL_SECONDS", 0))
                return Term(f"automatic decision: every signal held in ALARM {held:.0f} s", held, CW_ALARMS, address)
            return Term(
                "operator approval of the recovery plan (assumption approval_seconds)", assume["approval_seconds"], "assumption", address
            )
    return None


def writes_term(stacks: Stacks, prefix: str, rto: Estimate) -> Term | None:
    """How the writes follow: a CloudFront write behavior aimed at one origin is a blocker, unless that origin is a
    DNS failover record (then the latch alarm's period and the record's TTL); None when nothing writes."""
    distribution = stacks.everywhere(f"{prefix}-global", "aws_cloudfront_distribution")
    if not distribution:
        return None
    cdn = distribution[0][2]
    groups = {group["origin_id"] for group in cdn.get("origin_group", [])}
    hosts = {origin["origin_id"]: origin.get("domain_name", "") for origin in cdn.get("origin", [])}
    records = {
        body.get("name"): (address, body)
        for _, address, body in stacks.everywhere(prefix, "aws_route53_record")
        if body.get("failover_routing_policy")
    }
    latch = alarm_on(stacks, prefix, "PrimaryIsWriter")
    pinned, moving = [], []
    for behavior in cdn.get("ordered_cache_behavior", []):
        target = behavior.get("target_origin_id")
        if target in groups or "POST" not in behavior.get("allowed_methods", []):
            continue
        (moving if hosts.get(target) in records and latch is not None else pinned).append(behavior["path_pattern"])
    if pinned:
        rto.blockers.append(
            f"writes: CloudFront sends {', '.join(pinned)} to one origin, and origin groups fail over only GET, HEAD and OPTIONS "
            f"({CF_METHODS}); moving them is a CloudFront change, whose control plane is in us-east-1"
        )
    if not moving or latch is None:
        return None
    address, record = next(records[hosts[b.get("target_origin_id")]] for b in cdn["ordered_cache_behavior"] if b["path_pattern"] in moving)
    seconds = latch[1].get("period", 60) * latch[1].get("evaluation_periods", 1) + record.get("ttl", 60)
    period, ttl = latch[1].get("period", 60), record.get("ttl", 60)
    what = f"move the writes ({', '.join(moving)}): latch alarm {period} s + {record['name']} TTL {ttl} s"
    return Term(what, seconds, R53_FAILOVER, address)


def in_parallel(terms: list[Term]) -> Term:
    """Steps that run at the same time, as one term: the longest of them."""
    longest = max(terms, key=lambda term: term.seconds)
    if len(terms) == 1:
        return longest
    what = "in parallel, the longest of: " + "; ".join(f"{term.what} {_duration(term.seconds)}" for term in terms)
    sources = " and ".join(dict.fromkeys(term.source for term in terms))
    return Term(what, longest.seconds, sources, longest.resource)


def scale_out(stacks: Stacks, standby: str, primary: str, assume: dict[str, float], stability: list[str]) -> list[Term]:
    """The time to bring each standby group to its primary's desired size: launch plus health-check grace, when
    the standby runs fewer instances."""
    tier = lambda group: group["name"].rsplit("-", 1)[-1]  # noqa: E731 - web, app
    wanted = {
        tier(body): body.get("desired_capacity", body.get("min_size", 0))
        for body in stacks.resources(primary, "aws_autoscaling_group").values()
    }
    terms = []
    for name, group in stacks.resources(standby, "aws_autoscaling_group").items():
        target = wanted.get(tier(group), 0)
        have = group.get("desired_capacity", group.get("min_size", 0))
        if have >= target:
            stability.append(f"warm_standby: {group['name']} already runs {have} of the primary's {target}")
            continue
        grace = group.get("health_check_grace_period", 0)
        seconds = assume["instance_launch_seconds"] + grace
        stability.append(f"warm_standby: {group['name']} runs {have} of the primary's {target}: scaling takes about {seconds:.0f} s")
        what = f"scale {group['name']} from {have} to {target}: launch (assumption instance_launch_seconds) + {grace} s grace"
        terms.append(Term(what, seconds, ASG_GRACE, f"aws_autoscaling_group.{name}"))
    return terms


# --- the whole assessment, and its outputs ---

ASSESSORS: dict[str, Callable[[Any, Objectives, Stacks, dict[str, float]], list[str]]] = {
    "active_active": assess_active_active,
    "warm_standby": assess_warm_standby,
}


def assess(config: DeploymentConfig, stacks: Stacks, assume: dict[str, float] | None = None) -> Assessment:
    values = {name: default for name, (default, _) in ASSUMPTIONS.items()} | (assume or {})
    estimates: list[Estimate] = []
    stability: list[str] = []
    for key, arch in config.enabled_architectures():
        found = objectives(key, arch.resilience_policy)
        stability += ASSESSORS[key](arch, found, stacks, values)
        estimates += found.values()
    return Assessment(estimates, stability, values)


def _duration(seconds: float) -> str:
    if 0 < seconds < 10 and seconds != int(seconds):
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s" if seconds < 600 else f"{seconds / 60:.1f} min"


def _cell(estimate: Estimate) -> str:
    if estimate.verdict in ("unrecoverable", "depends"):
        return f"**{estimate.verdict}**"
    sign = "+" if estimate.margin >= 0 else "-"
    return f"{'met' if estimate.verdict == 'met' else '**breached**'} ({sign}{_duration(abs(estimate.margin))})"


def markdown(assessment: Assessment, base: dict[str, Any] | None = None, measured: dict[str, Any] | None = None) -> str:
    """The assessment as a Markdown section: the table, each timeline with its sources, static stability,
    assumptions; the change against `base`; a drill's measurement next to its estimate."""
    previous = {(e["architecture"], e["domain"], e["objective"]): e for e in (base or {}).get("estimates", [])}
    lines = ["## Resilience assessment", ""]
    failing = assessment.failing
    if failing:
        listed = "; ".join(f"{e.architecture} {e.domain} {e.objective}: {e.verdict}" for e in failing)
        lines += [f"> [!WARNING]\n> **{len(failing)} objective(s) not met.** {listed}", ""]
    header = "| architecture | domain | objective | target | estimate | verdict |" + (" change |" if base else "")
    lines += [header, "| --- | --- | --- | ---: | ---: | --- |" + (" --- |" if base else "")]
    for estimate in assessment.estimates:
        row = (
            f"| {estimate.architecture} | {estimate.domain} | {estimate.objective} | {_duration(estimate.target)} "
            f"| {_duration(estimate.seconds)} | {_cell(estimate)} |"
        )
        if base:
            before = previous.get((estimate.architecture, estimate.domain, estimate.objective))
            if before is None:
                change = "new"
            elif before["verdict"] != estimate.verdict or abs(before["seconds"] - estimate.seconds) >= 1:
                change = f"was {_duration(before['seconds'])}, {before['verdict']}"
            else:
                change = "unchanged"
            row += f" {change} |"
        lines.append(row)
    lines += ["", "### Timelines", ""]
    for estimate in assessment.estimates:
        parts = [f"{_duration(term.seconds)} {term.what}" for term in estimate.terms]
        largest = len(parts) > 1 and estimate.combine == "max"
        terms = ("the largest of: " + "; ".join(parts)) if largest else (" + ".join(parts) or "no term")
        lines.append(f"- **{estimate.architecture} {estimate.domain} {estimate.objective}** = {_duration(estimate.seconds)}: {terms}.")
        lines += [f"  - {blocker}" for blocker in estimate.blockers]
    lines += ["", "<details><summary>Sources of every term</summary>", ""]
    seen = sorted({(term.what, term.source, term.resource) for estimate in assessment.estimates for term in estimate.terms})
    lines += [f"- {what}: {source}" + (f" (read from `{resource}`)" if resource else "") for what, source, resource in seen]
    lines += ["", "</details>", "", "### Static stability", ""]
    lines += [f"- {note}" for note in assessment.stability] or ["- nothing to report"]
    lines += ["", "### Assumptions (not published by AWS; override with `--assume NAME=SECONDS`)", ""]
    lines += [f"- `{name}` = {assessment.assumptions[name]:.0f} s: {why}" for name, (_, why) in ASSUMPTIONS.items()]
    if measured:
        lines += ["", "### Measured against estimated", ""]
        for key, seconds in measured.get("recoveries", {}).items():
            architecture, domain = key.split(".", 1)
            estimate = next(
                (e for e in assessment.estimates if (e.architecture, e.domain, e.objective) == (architecture, domain, "RTO")), None
            )
            if estimate is None:
                continue
            ratio = max(seconds, 0.001) / max(estimate.seconds, 0.001)
            flag = " **(large difference)**" if ratio > FLAG_RATIO or ratio < 1 / FLAG_RATIO else ""
            where = measured.get("where", "drill")
            lines.append(f"- {key} RTO: measured {_duration(seconds)} ({where}), estimated {_duration(estimate.seconds)}{flag}")
        lines.append(f"  - {measured['note']}" if measured.get("note") else "")
    return "\n".join(lines).rstrip() + "\n"


def parse_assumptions(values: list[str]) -> dict[str, float]:
    parsed = {}
    for value in values:
        name, _, number = value.partition("=")
        if name not in ASSUMPTIONS or not re.fullmatch(r"\d+(\.\d+)?", number):
            raise ToolError(f"--assume: got {value!r}; expected NAME=SECONDS with NAME one of: {', '.join(ASSUMPTIONS)}", EXIT_SETUP)
        parsed[name] = float(number)
    return parsed


def read_optional(path: str | None, what: str) -> dict[str, Any] | None:
    """A JSON input that may be absent (no base assessment, no drill yet)."""
    return read_json(Path(path), what) if path and Path(path).is_file() else None


@command("assess")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.assess", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--outdir", default=str(ROOT / "cdktf.out"))
    parser.add_argument("--config", default=os.environ.get("HADR_CONFIG") or str(ROOT / "config" / "example.yaml"))
    parser.add_argument("--output", help="also write the Markdown here (it always goes to standard output)")
    parser.add_argument("--json", help="write the assessment as JSON here")
    parser.add_argument("--base", help="another assessment's JSON to compare with (the base branch's)")
    parser.add_argument("--measured", help="a drill's measured recovery times (JSON written by make drill-local)")
    parser.add_argument("--assume", action="append", default=[], metavar="NAME=SECONDS", help="override an assumption")
    gate = parser.add_mutually_exclusive_group()
    gate.add_argument("--warn-only", action="store_true", help="exit 0 even when an objective is not met")
    gate.add_argument(
        "--block-on",
        choices=("breach", "regression"),
        default="breach",
        help="exit 5 on any objective not met (breach, the default) or only on one worse than --base's (regression)",
    )
    args = parser.parse_args(argv)
    config = load_config(args.config)
    result = assess(config, Stacks.read(Path(args.outdir)), parse_assumptions(args.assume))
    measured = read_optional(args.measured, "the drill's measurement")
    if measured and Path(measured.get("config", args.config)).resolve() != Path(args.config).resolve():
        print(f"[assess] {args.measured} measured {measured['config']}, not {args.config}: not shown", file=sys.stderr)
        measured = None
    base = read_optional(args.base, "the base assessment")
    text = markdown(result, base, measured)
    sys.stdout.write(text)
    if args.output:
        Path(args.output).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(result.as_dict(), indent=2))
    for estimate in result.failing:
        blockers = "; ".join(estimate.blockers) or f"{_duration(estimate.seconds)} > {_duration(estimate.target)}"
        print(f"[assess] {estimate.architecture} {estimate.domain} {estimate.objective}: {estimate.verdict}: {blockers}", file=sys.stderr)
    print(f"[assess] {len(result.estimates) - len(result.failing)} of {len(result.estimates)} objectives met", file=sys.stderr)
    blocking = result.failing
    if args.block_on == "regression":
        if base is None:
            print("[assess] --block-on regression: no base assessment to compare with; every failing objective blocks", file=sys.stderr)
        blocking = result.regressions(base)
        kept = len(result.failing) - len(blocking)
        print(f"[assess] {len(blocking)} regression(s) against the base; {kept} breach(es) the base already had", file=sys.stderr)
    return EXIT_BREACH if blocking and not args.warn_only else 0


if __name__ == "__main__":
    sys.exit(main())
