"""The whole pipeline on one machine: deploy into a local AWS emulator (moto server), drill the failover, tear down.

    python -m tools.local deploy  [--config FILE] [--stacks a,b]   # make deploy-local
    python -m tools.local drill [--mode healthy|partial-outage|region-outage]   # make drill-local (all modes)
    python -m tools.local destroy                                  # make destroy-local
    python -m tools.local stop                                     # stop the emulator, forget the deployment

deploy starts moto on a free 127.0.0.1 port, seeds what AWS has and moto lacks (the hosted zones the
configuration names, the Route 53 health-checker prefix lists), synthesizes the configuration with
--emulator-endpoint into cdktf.local/ (main.py, as `make synth` does), and applies every stack in dependency
order with tools.deploy, the state bootstrap first and then the S3 backend in the emulator. It lists the drift a
second plan finds. The emulator keeps running for drill and destroy; destroy (or any failure of deploy) stops it.
Everything talks to loopback only, and every call has a timeout.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from botocore.exceptions import ClientError
from moto.events.models import EventPattern

from modules.config import load_config
from stacks.naming import failover_function_name, permissions_document_name, rebuild_document_name, switch_document_name
from tools.automation import AutomationFailed, LocalAutomations, in_outage, run_document
from tools.cli import EXIT_SETUP, ToolError, command
from tools.deploy import StackRun, apply_saved_plan, deploy_order, destroy_in_order, run_when_ready, stack_needs
from tools.emulator import Emulator
from tools.handlers import load_handler
from tools.plan import plan_stack, terraform_plan
from tools.plan_report import action_of, changed_attributes
from tools.terraform import LOCK_HELD, ROOT, run, terraform_env, terraform_error_blocks, terraform_errors

SESSION_DIR = ROOT / ".state" / "emulator"
SESSION_FILE = SESSION_DIR / "session.json"
#: The last drill-local's measured recovery, kept after the emulator is gone, for tools.assess --measured.
DRILL_REPORT = ROOT / ".state" / "drill-local-report.json"
LOCAL_OUTDIR = ROOT / "cdktf.local"
#: Terraform commands against the emulator finish in minutes; one that does not is stuck.
EMULATOR_TIMEOUT_SECONDS = 900


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


#: Terraform's operations at a time against the emulator (its default is 10). Most of an emulator apply is the
#: provider's own waits, which are sleeps (per resource, from the apply logs: an S3 lifecycle configuration 55 s, a
#: load balancer 60 s, a DB instance 80 s, an SQS queue 25 s, each Route 53 record 15 s). With 10 slots, sleeping
#: resources hold them while the rest of the graph queues. Measured on the example's warm standby (2 cores): 40 slots
#: took the chain of applies from 611 s to 552 s and the primary region's destroy from 109 s to 96 s.
EMULATOR_PARALLELISM = {f"TF_CLI_ARGS_{verb}": "-parallelism=40" for verb in ("plan", "apply", "destroy")}


@dataclass
class Session:
    """A running emulator deployment, saved in .state/emulator/session.json between make targets."""

    port: int
    pid: int
    account_id: str
    config: str
    outdir: str
    origin_secret: str

    def emulator(self) -> Emulator:
        return Emulator.attach(port=self.port, pid=self.pid, account_id=self.account_id)

    def terraform_env(self) -> dict[str, str]:
        return {
            **terraform_env(),
            **self.emulator().environment(),
            **EMULATOR_PARALLELISM,
            "TF_VAR_origin_verify_secret": self.origin_secret,
        }

    def save(self) -> None:
        SESSION_FILE.write_text(json.dumps(self.__dict__, indent=2))

    @classmethod
    def load(cls) -> Session | None:
        return cls(**json.loads(SESSION_FILE.read_text())) if SESSION_FILE.is_file() else None


def seed(emulator: Emulator, data: dict[str, Any]) -> dict[str, Any]:
    """Create in the emulator what AWS provides and moto lacks; returns the configuration pointing at it.

    Hosted zones: the emulator chooses zone IDs, so each zone ID of the configuration is replaced by the ID of a
    zone created for the parent domain of the names that use it. Prefix lists: moto has CloudFront's but not the
    Route 53 health checkers' list, which the warm standby's security groups reference.
    """
    data = copy.deepcopy(data)
    route53 = emulator.client("route53", "us-east-1")
    zones: dict[str, str] = {}
    for key in ("active_active", "warm_standby"):
        arch = data.get(key)
        if not arch or not arch.get("enabled", True):
            continue
        original = arch["hosted_zone_id"]
        if original not in zones:
            parent = arch["domain_name"].split(".", 1)[1]
            zone = route53.create_hosted_zone(Name=parent, CallerReference=f"hadr-local-{original}")["HostedZone"]
            zones[original] = zone["Id"].rsplit("/", 1)[-1]
        arch["hosted_zone_id"] = zones[original]
        if key == "warm_standby":
            for role in ("primary", "standby"):
                region = arch[role]["region"]
                emulator.client("ec2", region).create_managed_prefix_list(
                    PrefixListName=f"com.amazonaws.{region}.route53-healthchecks",
                    MaxEntries=30,
                    AddressFamily="IPv4",
                    Entries=[{"Cidr": "15.177.0.0/18", "Description": "Route 53 health checkers (emulator seed)"}],
                )
    return data


def synthesize(config_file: Path, endpoint: str, outdir: Path) -> None:
    """`main.py --emulator-endpoint`: the same synth as `make synth`, for the emulator."""
    command = [
        sys.executable,
        str(ROOT / "main.py"),
        "--config",
        str(config_file),
        "--outdir",
        str(outdir),
        "--emulator-endpoint",
        endpoint,
    ]
    result = subprocess.run(command, cwd=ROOT, timeout=600, check=False)
    if result.returncode != 0:
        raise ToolError(f"synth for the emulator failed with exit code {result.returncode}")


#: What moto 5.2.5 reports differently from what it was sent, found by the plan right after an apply: (resource
#: type, attribute path prefix) -> why. Each is a difference of the emulator, not of the stacks;
#: tests/test_local.py fails once an entry is no longer needed. Any other drift fails deploy-local.
KNOWN_EMULATOR_DRIFT: dict[tuple[str, str], str] = {
    ("aws_vpc_security_group_egress_rule", "description"): "moto does not return a security group rule's description",
    ("aws_vpc_security_group_ingress_rule", "description"): "moto does not return a security group rule's description",
    ("aws_s3_bucket_notification", "eventbridge"): "moto does not return a bucket notification's EventBridge switch",
    ("aws_acm_certificate", "key_algorithm"): "moto issues every certificate as RSA_2048, whatever key algorithm was asked",
    ("aws_route53_health_check", "request_interval"): "moto gives every health check a 30 s request interval, also the "
    "CLOUDWATCH_METRIC ones, which have none in AWS",
    ("aws_lambda_function", "logging_config"): "moto does not return a function's logging configuration",
    ("aws_lambda_function", "dead_letter_config"): "moto does not return a function's dead-letter target",
    ("aws_launch_template", "tag_specifications"): "moto adds the template's own tags as a launch-template tag specification",
    ("aws_autoscaling_group", "service_linked_role_arn"): "moto returns the default service-linked role, not the one the group names",
    ("aws_autoscaling_group", "capacity_reservation_specification"): "moto returns no capacity reservation preference",
    ("aws_autoscaling_policy", "enabled"): "moto returns a target-tracking policy as disabled",
    ("aws_autoscaling_policy", "predictive_scaling_configuration"): "moto returns an empty predictive scaling block",
    ("aws_db_instance", "performance_insights"): "moto does not keep Performance Insights settings",
    ("aws_db_instance", "max_allocated_storage"): "moto does not keep storage autoscaling on a read replica",
    ("aws_db_parameter_group", "parameter"): "moto does not return a parameter group's modified parameters",
    ("aws_rds_global_cluster", "tags"): "moto does not keep a global cluster's tags",
    ("aws_rds_cluster", "scaling_configuration"): "moto returns a Serverless v1 scaling configuration for a provisioned cluster",
    ("aws_rds_cluster_instance", "performance_insights"): "moto does not keep Performance Insights settings",
    ("aws_instance", "associate_public_ip_address"): "moto gives an instance a public address in a private subnet",
    ("aws_secretsmanager_secret", "replica"): "moto reports a replica's key as the AWS managed key and adds its status",
    ("aws_s3_bucket_replication_configuration", "rule[0].delete_marker_replication"): "moto does not return delete-marker replication",
    ("aws_s3_bucket_replication_configuration", "rule[0].source_selection_criteria"): "moto does not return source selection criteria",
    ("aws_backup_plan", "tags"): "moto does not return AWS Backup tags",
    ("aws_backup_vault", "tags"): "moto does not return AWS Backup tags",
    ("aws_cloudfront_distribution", "default_cache_behavior[*].forwarded_values"): "moto adds legacy forwarded_values to a behavior "
    "that uses a cache policy",
    ("aws_cloudfront_distribution", "ordered_cache_behavior[*].forwarded_values"): "moto adds legacy forwarded_values to a behavior "
    "that uses a cache policy",
    ("aws_cloudfront_distribution", "viewer_certificate[*].cloudfront_default_certificate"): "moto reports the default certificate "
    "setting of a distribution that serves an ACM certificate differently",
}
UNKNOWN = "(known after apply)"
#: Read-only drift plans at a time; stacks applied (or destroyed) at a time, each once what it needs is there. Two,
#: as many as the machine has cores: one moto server answers them all, and its slow answers make the provider's
#: clients retry (tools.local imports what a retried create left).
DRIFT_JOBS = 2
STACK_JOBS = 2


@dataclass(frozen=True)
class Drift:
    """One resource a plan right after apply wants to change. `causes` are the attributes that differ with a known
    value; a resource with none only follows another change of the same plan (a replaced certificate's ARN)."""

    stack: str
    address: str
    action: str
    causes: tuple[str, ...]
    known: bool


def stack_drift(outdir: Path, name: str, env: dict[str, str], targets: Sequence[str] = ()) -> list[Drift]:
    """Every resource a fresh plan of stack `name` (of `targets` only, when given) wants to change right after its
    apply. A cause is known when KNOWN_EMULATOR_DRIFT lists it for its type; a resource without causes is known when
    every cause in its stack is. ToolError when the plan fails."""
    plan_file = SESSION_DIR / f"drift-{name}.json"
    error = terraform_plan(outdir / "stacks" / name, plan_file, offline=False, lock=False, env=env, targets=targets)
    if error is not None:
        raise ToolError(f"the drift plan of {name} failed: {error.splitlines()[-1] if error else ''}")
    return classify_drift(name, json.loads(plan_file.read_text()).get("resource_changes", []))


def classify_drift(stack: str, resource_changes: list[dict[str, Any]]) -> list[Drift]:
    """The changes of one plan as Drift, each with its causes and whether the emulator explains it."""
    changes = []
    for change in resource_changes:
        action = action_of(change["change"]["actions"])
        if action is not None and change.get("mode") != "data":
            attributes = changed_attributes(change["change"])
            # A replacement is caused by the attributes that force it; everything else is recreated with it.
            known = [(path, forces) for path, _, new, forces in attributes if new != UNKNOWN]
            causes = tuple(path for path, forces in known if forces or action != "replace")
            changes.append((change["address"], change["type"], action, causes))
    causes_here = [(kind, path) for _, kind, _, causes in changes for path in causes]
    explained = bool(causes_here) and all(known_drift(kind, path) for kind, path in causes_here)
    return [
        Drift(stack, address, action, causes, all(known_drift(kind, path) for path in causes) if causes else explained)
        for address, kind, action, causes in changes
    ]


def known_drift(resource_type: str, path: str) -> str | None:
    """Why `path` of `resource_type` drifts in the emulator, or None when it must not. An entry's prefix may say
    `[*]` for any list index."""
    for (kind, prefix), reason in KNOWN_EMULATOR_DRIFT.items():
        if kind == resource_type and re.match(re.escape(prefix).replace(r"\[\*\]", r"\[\d+\]"), path):
            return reason
    return None


def check_drift(stacks: list[str], planned: dict[str, Future[list[Drift]]]) -> list[Drift]:
    """Print the drift of every stack (its drift plan, started once its apply was done); ToolError when any of it
    is not a known emulator difference."""
    found = [item for name in stacks for item in planned[name].result()]
    for stack in stacks:
        mine = [item for item in found if item.stack == stack]
        unexpected = sum(not item.known for item in mine)
        progress(f"[local]   {stack}: {len(mine)} resource(s) drift, {unexpected} unexpected" if mine else f"[local]   {stack}: no drift")
        for item in mine:
            if not item.known:
                progress(f"[local]     UNEXPECTED {item.address}: {item.action} {', '.join(item.causes)}")
    unexpected = [item for item in found if not item.known]
    if unexpected:
        listed = "; ".join(f"{item.address} ({item.action}: {', '.join(item.causes) or 'follows it'})" for item in unexpected)
        raise ToolError(f"{len(unexpected)} resource(s) drift right after apply beyond the emulator's known differences: {listed}")
    return found


def prepare_destroy(emulator: Emulator, outdir: Path, first: Callable[[str], None] | None = None) -> Callable[[str], None]:
    """Before a stack is destroyed: lift the deletion protection of its databases, tables and load balancers (in
    AWS these safeguards make a destroy fail on purpose), disable its CloudFront distributions (the provider's
    delete disables one first and then waits a fixed minute before it polls; moto deploys at once), stop its
    buckets' access logging, and delete every object version and delete marker one by one (moto fails
    DeleteObjects on delete markers, so force_destroy cannot be relied on). `first(stack)` runs before all that."""

    def before(stack: str) -> None:
        if first is not None:
            first(stack)
        document = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
        resources = document.get("resource", {})

        def region(body: dict[str, Any]) -> str:
            return provider_region(document, body)

        for body in resources.get("aws_db_instance", {}).values():
            rds = emulator.client("rds", region(body))
            rds.modify_db_instance(DBInstanceIdentifier=body["identifier"], DeletionProtection=False, ApplyImmediately=True)
        for body in resources.get("aws_rds_cluster", {}).values():
            rds = emulator.client("rds", region(body))
            rds.modify_db_cluster(DBClusterIdentifier=body["cluster_identifier"], DeletionProtection=False, ApplyImmediately=True)
        for body in resources.get("aws_dynamodb_table", {}).values():
            emulator.client("dynamodb", region(body)).update_table(TableName=body["name"], DeletionProtectionEnabled=False)
        if resources.get("aws_cloudfront_distribution"):
            try:
                disable_distributions(emulator.client("cloudfront", "us-east-1"))
            except ClientError as error:  # the provider's delete disables it then, only slower
                progress(f"[local]   {stack}: distributions left enabled ({error}); the destroy disables them itself")
        for body in resources.get("aws_lb", {}).values():
            elb = emulator.client("elbv2", region(body))
            for balancer in elb.describe_load_balancers(Names=[body["name"]])["LoadBalancers"]:
                elb.modify_load_balancer_attributes(
                    LoadBalancerArn=balancer["LoadBalancerArn"], Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
                )
        buckets = [(emulator.client("s3", region(body)), body["bucket"]) for body in resources.get("aws_s3_bucket", {}).values()]
        for s3, bucket in buckets:  # first stop access logging, or the destroy's own requests refill the log buckets
            try:
                s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
            except s3.exceptions.NoSuchBucket:
                continue
        for s3, bucket in buckets:
            try:
                pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket))
            except s3.exceptions.NoSuchBucket:
                continue
            for page in pages:
                for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])

    return before


def disable_distributions(cloudfront: Any) -> list[str]:
    """Disable every enabled distribution (what the provider's delete does first); returns their IDs."""
    disabled = []
    for item in cloudfront.list_distributions().get("DistributionList", {}).get("Items", []):
        found = cloudfront.get_distribution_config(Id=item["Id"])
        if found["DistributionConfig"]["Enabled"]:
            config = {**found["DistributionConfig"], "Enabled": False}
            cloudfront.update_distribution(Id=item["Id"], IfMatch=found["ETag"], DistributionConfig=config)
            disabled.append(item["Id"])
    return disabled


def deploy(
    config_path: Path,
    *,
    stacks: list[str] | None = None,
    emulator: Emulator | None = None,
    after_apply: Callable[[str, dict[str, str]], None] | None = None,
) -> tuple[Session, list[StackRun], list[Drift]]:
    """Start (or use) an emulator, seed it, synthesize for it, apply the stacks in order, then plan again and
    check the drift; raises on failure. `after_apply(stack, terraform_env)`: more read-only work on each stack as
    soon as it is applied (a test's own plans), next to its drift plan; what it raises is raised here."""
    config = load_config(config_path)
    SESSION_DIR.mkdir(parents=True, exist_ok=True)
    if emulator is None:
        progress("[local] starting moto server on 127.0.0.1 (a free port) ...")
        emulator = Emulator(account_id=config.account_id, log_file=SESSION_DIR / "moto.log").start(detached=True)
    session = Session(emulator.port, emulator.pid or 0, config.account_id, str(config_path), str(LOCAL_OUTDIR), secrets.token_hex(32))
    session.save()
    progress(f"[local] emulator at {emulator.endpoint} (pid {emulator.pid}); log in {SESSION_DIR / 'moto.log'}")
    derived = SESSION_DIR / "config.yaml"
    derived.write_text(yaml.safe_dump(seed(emulator, yaml.safe_load(config_path.read_text())), sort_keys=False))
    shutil.rmtree(emulator_state_dir(), ignore_errors=True)  # the bootstrap state of an emulator that is gone
    synthesize(derived, emulator.endpoint, LOCAL_OUTDIR)
    env = session.terraform_env()
    planned: dict[str, Future[list[Drift]]] = {}
    extra: list[Future[None]] = []
    # Read-only drift plans, two at a time, each as soon as its stack is applied: they overlap the later applies.
    with ThreadPoolExecutor(max_workers=DRIFT_JOBS) as drift_plans:

        def step(name: str) -> StackRun:
            result = plan_and_apply(LOCAL_OUTDIR / "stacks" / name, env, emulator)
            if result.ok:
                planned[name] = drift_plans.submit(stack_drift, LOCAL_OUTDIR, name, env)
                if after_apply is not None:
                    extra.append(drift_plans.submit(after_apply, name, env))
            return result

        order = deploy_order(LOCAL_OUTDIR, stacks)
        needs = stack_needs(LOCAL_OUTDIR, order)
        results = run_when_ready(order, needs, "apply", step, jobs=STACK_JOBS, progress=progress)
        failed = [result for result in results if not result.ok]
        if failed:
            reasons = (f"deploy of {result.stack} failed: {result.summary}: {terraform_errors(result.output)}" for result in failed)
            raise ToolError("; ".join(reasons))
        progress("[local] drift: a second plan of each stack right after its apply ...")
        drifted = check_drift([result.stack for result in results], planned)
        for future in extra:
            future.result()
    return session, results, drifted


def plan_and_apply(stack_dir: Path, env: dict[str, str], emulator: Emulator) -> StackRun:
    """The same path as `make plan` then `make deploy`, one stack at a time: save a plan, apply that file.

    On a loaded machine a client can give up on a call the emulator then completes, or lose an answer midway, and
    the apply fails: a retried create finds the name taken, a retried lock request finds its own lock, a read
    fails on a closed connection. When every error of a failed apply is one of these, the resource is imported,
    the lock released or nothing done (a read), and the stack is planned and applied again, at most
    RECOVERY_ROUNDS times. Any other error fails the stack as it is."""
    result = _plan_then_apply(stack_dir, env)
    seconds, recovered = result.seconds, []
    workdir = LOCAL_OUTDIR / "plans" / "work" / stack_dir.name
    for _ in range(RECOVERY_ROUNDS):
        if result.ok:
            break
        done = recover(emulator, workdir, result.output, env)
        if not done:
            break
        progress(f"[local]   {stack_dir.name}: {done}; planning again")
        recovered.append(done)
        result = _plan_then_apply(stack_dir, env)
        seconds += result.seconds
    if not recovered:
        return result
    return StackRun(result.stack, result.ok, seconds, f"{result.summary} ({'; '.join(recovered)})", result.output)


#: Plans and applies again after an apply that failed only because the emulator answered late or not at all.
RECOVERY_ROUNDS = 3
#: What the provider reports when an answer of the emulator was lost on the way (its client's retries spent): the
#: call itself is sound and a new apply makes it again.
LOST_ANSWER = ("use of closed network connection", "connection reset by peer", "broken pipe", "unexpected EOF")


def recover(emulator: Emulator, workdir: Path, output: str, env: dict[str, str]) -> str:
    """Undo what a loaded emulator did to a failed plan or apply, when that explains every error: import the
    resources retried creates left, release a state lock a retried lock request left, or nothing for answers
    lost on the way. Returns what was done, or "" (some error is something else: the failure stands)."""
    released = release_own_lock(workdir, output, env)
    if released:
        return f"released state lock {released[0]}, left by a retried lock request"
    errors = terraform_error_blocks(output)
    lost = [address or message for message, address, text in errors if any(marker in message + text for marker in LOST_ANSWER)]
    duplicates = [error for error in errors if (error[1] or error[0]) not in lost]
    adopted = adopt_duplicates(emulator, workdir, duplicates, env) if duplicates else []
    if not errors or len(adopted) != len(duplicates):
        return ""
    done = [f"imported {len(adopted)} resource(s) created by a retried call"] if adopted else []
    done += [f"{len(lost)} answer(s) lost on the way ({', '.join(lost)})"] if lost else []
    return "; ".join(done)


def release_own_lock(workdir: Path, output: str, env: dict[str, str]) -> list[str]:
    """Release a state lock that blocked the stack in the emulator, where deploy-local is the only user: a lock
    request whose answer was lost and retried leaves the first lock behind (ConditionalCheckFailedException).
    Returns the released lock's ID, or nothing."""
    match = LOCK_HELD.search(output)
    if match is None or run(workdir, "force-unlock", "-force", match.group(1), env=env).returncode != 0:
        return []
    return [match.group(1)]


def _plan_then_apply(stack_dir: Path, env: dict[str, str]) -> StackRun:
    planned = plan_stack(stack_dir, LOCAL_OUTDIR / "plans", offline=False, lock=True, env=env)
    if planned.status != "planned":
        return StackRun(stack_dir.name, False, planned.seconds, f"plan {planned.status}", planned.reason)
    applied = apply_saved_plan((LOCAL_OUTDIR / "plans" / planned.saved_plan).parent, env=env, timeout=EMULATOR_TIMEOUT_SECONDS, init=False)
    return StackRun(applied.stack, applied.ok, planned.seconds + applied.seconds, applied.summary, applied.output)


#: What the emulator answers a create it has already done: the provider's client gave up on the first call on a
#: loaded machine, and retried.
DUPLICATE_CREATE = (
    "WAFDuplicateItemException",
    "WafV2DuplicateItem",
    "InvalidPermission.Duplicate",
    "but it already exists",
    "RouteAlreadyExists",
    "ParameterAlreadyExists",
)
#: WAFv2 resource type -> (list call, its result key); the import ID is <id>/<name>/<scope>.
WAF_LISTS = {
    "aws_wafv2_web_acl": ("list_web_acls", "WebACLs"),
    "aws_wafv2_ip_set": ("list_ip_sets", "IPSets"),
    "aws_wafv2_rule_group": ("list_rule_groups", "RuleGroups"),
    "aws_wafv2_regex_pattern_set": ("list_regex_pattern_sets", "RegexPatternSets"),
}
GROUP_REFERENCE = re.compile(r"\$\{aws_security_group\.([^.}]+)\.id\}")
ROUTE_TABLE_REFERENCE = re.compile(r"\$\{aws_route_table\.([^.}]+)\.id\}")


def _waf_import_id(emulator: Emulator, document: dict[str, Any], kind: str, body: dict[str, Any], error: str) -> str | None:
    call, key = WAF_LISTS[kind]
    region = "us-east-1" if body["scope"] == "CLOUDFRONT" else provider_region(document, body)
    found = [item for item in getattr(emulator.client("wafv2", region), call)(Scope=body["scope"])[key] if item["Name"] == body["name"]]
    return f"{found[0]['Id']}/{body['name']}/{body['scope']}" if len(found) == 1 else None


def _security_group_rule_import_id(emulator: Emulator, document: dict[str, Any], kind: str, body: dict[str, Any], error: str) -> str | None:
    """The rule (sgr-...) of the group the stack names, in the same direction, with the same ports, protocol and
    peer (CIDR, prefix list or referenced group, found by its name), and the same description where the emulator
    keeps one (moto drops it on rules that reference a group)."""
    ec2 = emulator.client("ec2", provider_region(document, body))

    def group_id(reference: Any) -> str | None:
        found = GROUP_REFERENCE.fullmatch(str(reference or ""))
        group = document["resource"].get("aws_security_group", {}).get(found.group(1)) if found else None
        if not group or not group.get("name"):
            return None
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [group["name"]]}])["SecurityGroups"]
        return groups[0]["GroupId"] if len(groups) == 1 else None

    owner = group_id(body.get("security_group_id"))
    peer = group_id(body["referenced_security_group_id"]) if body.get("referenced_security_group_id") else None
    if owner is None or (body.get("referenced_security_group_id") and peer is None):
        return None
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [owner]}])["SecurityGroupRules"]
    found = [
        rule["SecurityGroupRuleId"]
        for rule in rules
        if rule["IsEgress"] == (kind == "aws_vpc_security_group_egress_rule")
        and (rule.get("FromPort"), rule.get("ToPort"), rule["IpProtocol"])
        == (body.get("from_port"), body.get("to_port"), body.get("ip_protocol"))
        and (rule.get("CidrIpv4"), rule.get("PrefixListId"), rule.get("ReferencedGroupInfo", {}).get("GroupId"))
        == (body.get("cidr_ipv4"), body.get("prefix_list_id"), peer)
        and rule.get("Description") in (None, "", body.get("description"))
    ]
    return found[0] if len(found) == 1 else None


#: Route 53's answer to a CREATE of a record set it holds; the record's name and type are only known from it (a
#: validation record's name is the certificate's, known after apply).
RECORD_EXISTS = re.compile(
    r"Tried to create resource record set \[name='([^']+)', type='([^']+)'(?:, set-identifier='([^']+)')?\] but it already exists"
)


def _route53_record_import_id(emulator: Emulator, document: dict[str, Any], kind: str, body: dict[str, Any], error: str) -> str | None:
    """<zone>_<name>_<type>[_<set identifier>] of the record set Route 53 says exists, in the zone the stack names."""
    found = RECORD_EXISTS.search(error)
    zone = str(body.get("zone_id", ""))
    if found is None or not zone or "${" in zone:
        return None
    name, record_type, identifier = found.group(1).rstrip("."), found.group(2), found.group(3)
    route53 = emulator.client("route53", "us-east-1")
    sets = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name, StartRecordType=record_type)["ResourceRecordSets"]
    same = [s for s in sets if (s["Name"].rstrip("."), s["Type"], s.get("SetIdentifier")) == (name, record_type, identifier)]
    return "_".join(part for part in (zone, name, record_type, identifier) if part) if len(same) == 1 else None


def _route_import_id(emulator: Emulator, document: dict[str, Any], kind: str, body: dict[str, Any], error: str) -> str | None:
    """<table>_<destination> of the route, in the route table the stack names (found by its Name tag)."""
    found = ROUTE_TABLE_REFERENCE.fullmatch(str(body.get("route_table_id", "")))
    table = document["resource"].get("aws_route_table", {}).get(found.group(1)) if found else None
    name, destination = (table or {}).get("tags", {}).get("Name"), body.get("destination_cidr_block")
    if not name or not destination or "${" in name:
        return None
    ec2 = emulator.client("ec2", provider_region(document, body))
    tables = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": [name]}])["RouteTables"]
    if len(tables) != 1 or not any(route.get("DestinationCidrBlock") == destination for route in tables[0]["Routes"]):
        return None
    return f"{tables[0]['RouteTableId']}_{destination}"


def _parameter_import_id(emulator: Emulator, document: dict[str, Any], kind: str, body: dict[str, Any], error: str) -> str | None:
    """The parameter's name, when the emulator holds it in the stack's region."""
    name = str(body.get("name", ""))
    if not name or "${" in name:
        return None
    try:
        emulator.client("ssm", provider_region(document, body)).get_parameter(Name=name)
    except ClientError:
        return None
    return name


#: Resource type -> how to find the one the emulator already created, by what the stack says about it and the error.
ADOPTABLE: dict[str, Callable[[Emulator, dict[str, Any], str, dict[str, Any], str], str | None]] = {
    "aws_route53_record": _route53_record_import_id,
    "aws_route": _route_import_id,
    "aws_ssm_parameter": _parameter_import_id,
    **dict.fromkeys(WAF_LISTS, _waf_import_id),
    **dict.fromkeys(("aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"), _security_group_rule_import_id),
}


def provider_region(document: dict[str, Any], body: dict[str, Any]) -> str:
    """The region of the provider (default or alias) a resource of a synthesized stack document uses."""
    regions = {f"aws.{p['alias']}" if "alias" in p else "aws": p["region"] for p in document.get("provider", {}).get("aws", [])}
    return regions[body.get("provider", "aws")]


def adopt_duplicates(emulator: Emulator, workdir: Path, errors: list[tuple[str, str | None, str]], env: dict[str, str]) -> list[str]:
    """Import into the stack's state every resource a failed apply's `errors` (tools.terraform.terraform_error_blocks)
    report as a duplicate create, when the emulator holds exactly one that matches; returns their addresses (none:
    some error is something else)."""
    if not (workdir / "cdk.tf.json").is_file() or not errors:
        return []
    document = json.loads((workdir / "cdk.tf.json").read_text())
    adopted = []
    for message, address, text in errors:
        kind, _, name = (address or "").partition(".")
        body = document.get("resource", {}).get(kind, {}).get(name)
        if body is None or kind not in ADOPTABLE or not any(marker in message + text for marker in DUPLICATE_CREATE):
            return []
        import_id = ADOPTABLE[kind](emulator, document, kind, body, message + text)
        if import_id is None or run(workdir, "import", "-input=false", address, import_id, env=env).returncode != 0:
            return []
        adopted.append(address)
    return adopted


class DrillFailed(RuntimeError):
    """A drill verification found the emulator in another state than a completed failover leaves."""


def verify(condition: bool, message: str) -> None:
    if not condition:
        raise DrillFailed(message)


#: The emulator's stand-in for Lambda assuming the function's role (moto has no Lambda service principal to do it).
DRILL_USER = "hadr-local-drill"


def drill_identity(emulator: Emulator, role_arns: list[str]) -> tuple[dict[str, str], Callable[[], None]]:
    """While IAM is not enforced: a user that may assume `role_arns` (added to each role's trust policy, as Lambda
    and SSM are in AWS) and read what the drill verifies. Returns its keys and an undo for the trust policies."""
    iam = emulator.client("iam", "us-east-1")
    user = iam.create_user(UserName=DRILL_USER)["User"]
    iam.put_user_policy(
        UserName=DRILL_USER,
        PolicyName="drill",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "ActAsTheServices", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arns},
                    {
                        "Sid": "VerifyTheOutcome",
                        "Effect": "Allow",
                        "Action": [
                            "rds:DescribeDBInstances",
                            "rds:DescribeDBClusters",
                            "rds:DescribeGlobalClusters",
                            "ssm:GetParameter",
                            "autoscaling:DescribeAutoScalingGroups",
                            "secretsmanager:DescribeSecret",
                            "kms:Decrypt",
                            "cloudwatch:PutMetricData",
                        ],
                        "Resource": "*",
                    },
                ],
            }
        ),
    )
    keys = iam.create_access_key(UserName=DRILL_USER)["AccessKey"]
    trusts = {}
    for role_arn in role_arns:
        role_name = role_arn.rsplit("/", 1)[1]
        trust = trusts[role_name] = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        stand_in = {
            "Sid": "EmulatorDrillStandsInForTheService",
            "Effect": "Allow",
            "Principal": {"AWS": user["Arn"]},
            "Action": "sts:AssumeRole",
        }
        iam.update_assume_role_policy(
            RoleName=role_name, PolicyDocument=json.dumps({**trust, "Statement": [*trust["Statement"], stand_in]})
        )

    def undo() -> None:
        for role_name, trust in trusts.items():
            iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust))
        iam.delete_access_key(UserName=DRILL_USER, AccessKeyId=keys["AccessKeyId"])
        iam.delete_user_policy(UserName=DRILL_USER, PolicyName="drill")
        iam.delete_user(UserName=DRILL_USER)

    return {"AccessKeyId": keys["AccessKeyId"], "SecretAccessKey": keys["SecretAccessKey"]}, undo


ALARM_EVENT = {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change", "account": "123456789012"}


#: make drill-local's drills, in this order, each a failover and its failback: the primary's region dark (every call
#: the decision and the plan make to it fails to connect, and the replica's lag has grown for 20 minutes since its
#: source went away: a failover); everything answers; the primary's Parameter Store answers 503 (a partial outage:
#: the source is fenced in part, its database still answers, so a switchover). The outage is client-side
#: (tools.automation.in_outage): the emulator itself keeps answering the drill's own checks. The dark drill comes
#: first: the lag history it writes must be the replica's newest data.
DRILL_MODES = ("region-outage", "healthy", "partial-outage")


def outage_of(mode: str, primary: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """What `mode` does to a client factory of the decision or the plan."""
    if mode == "region-outage":
        return lambda clients: in_outage(clients, {primary})
    if mode == "partial-outage":
        return lambda clients: in_outage(clients, {primary}, services={"ssm"})
    return lambda clients: clients


def drill(session: Session, mode: str = "healthy") -> list[tuple[str, str, float]]:
    """Fail the warm standby over and back in the emulator through the trigger path, in one of DRILL_MODES: the
    signal alarms are forced into ALARM, the trigger rule is checked to match, the decision function's code decides
    as its own role, the recovery plan it starts runs as the plan's role (IAM enforced: a permission either lacks
    fails the drill) and waits for the approval the drill gives; the result, the mode and the data loss the plan
    stated are verified from the emulator's APIs and the execution; a second decision changes nothing. Then the
    region is back and the failback runs: rebuild the primary as a replica, switch back (approved), rebuild the
    standby; verified again. Returns (step, detail, seconds); raises DrillFailed when a check fails."""
    if mode not in DRILL_MODES:
        raise ToolError(f"mode: got {mode!r}; expected one of {', '.join(DRILL_MODES)}", EXIT_SETUP)
    config = load_config(SESSION_DIR / "config.yaml", emulator_endpoint=session.emulator().endpoint)
    if config.warm_standby is None:
        raise ToolError("warm_standby: not configured; the drill fails the warm standby over", EXIT_SETUP)
    arch = config.warm_standby
    emulator = session.emulator()
    primary, standby = arch.primary.region, arch.standby.region
    steps: list[tuple[str, str, float]] = []

    def timed(step: str, action: Callable[[], str]) -> None:
        started = time.monotonic()
        detail = action()
        steps.append((step, detail, time.monotonic() - started))
        progress(f"[drill] {step:<32} {time.monotonic() - started:7.2f} s  {detail}")

    function = emulator.client("lambda", standby).get_function_configuration(FunctionName=failover_function_name(config, standby))
    environment = function["Environment"]["Variables"]
    documents = {
        name: json.loads(emulator.client("ssm", standby).get_document(Name=name)["Content"])
        for name in (switch_document_name(config), rebuild_document_name(config), permissions_document_name(config))
    }
    switch = documents[switch_document_name(config)]
    plan_role = switch["parameters"]["AutomationAssumeRole"]["default"]
    plan = json.loads(switch["parameters"]["Plan"]["default"])
    approvals: list[str] = []
    latch = writer_latch(emulator, plan)
    verify(latch == primary, f"the writer latch names {latch}: this deployment is failed over; make destroy-local, then deploy-local")
    verifier, undo = drill_identity(emulator, [function["Role"], plan_role])
    try:
        timed("force_signal_alarms", lambda: force_signals(emulator, environment, standby))
        timed("trigger_rule_matches", lambda: rule_matches(emulator, config, standby, environment["PROBE_ALARM"]))
        aurora = plan.get("engine") == "aurora-postgresql"
        if aurora:  # a failover's loss is bounded by rds.global_db_rpo: the lag history does not decide it
            seed_replica_lag(emulator, standby, plan["regions"][standby]["database"], aurora=True)
        elif mode == "region-outage":
            seed_lost_source(emulator, standby, plan["regions"][standby]["database"], minutes_ago=20, lag_before=2)
        else:
            seed_replica_lag(emulator, standby, plan["regions"][standby]["database"])
        emulator.enforce_iam(True)
        roles = {arn: assume(emulator, standby, verifier, arn) for arn in (function["Role"], plan_role)}

        def run_as(service: str, **kw: Any) -> Any:
            return emulator.client(service, kw.get("region_name") or standby, credentials=roles[plan_role], config=kw.get("config"))

        if mode == "healthy":  # IAM's control plane may be in the dark region: readiness is evaluated beforehand
            timed(
                "plan_permissions_evaluated", lambda: permissions_evaluated(documents[permissions_document_name(config)], standby, run_as)
            )
        outage = outage_of(mode, primary)
        automations = LocalAutomations(
            emulator.client("ssm", standby, credentials=roles[function["Role"]]),
            region=standby,
            documents=documents,
            run_as=outage(run_as),
            approve=lambda inputs: approve(approvals, inputs),
        )
        decide = decider(
            emulator,
            environment,
            region=standby,
            role=roles[function["Role"]],
            automations=automations,
            signal_seconds=arch.failover.signal_seconds,
            outage=outage,
        )
        # The probe's alarm: the signal that lives in the standby, independent of the failed region.
        alarm_event = {**ALARM_EVENT, "detail": {"alarmName": environment["PROBE_ALARM"], "state": {"value": "ALARM"}}}
        timed("decision_and_recovery_plan", lambda: decide(alarm_event))
        report_execution(automations.executions[-1])
        outputs = automations.executions[-1]["Outputs"]
        timed("data_loss_stated", lambda: stated_loss(outputs, mode, plan))
        timed_checks(emulator, plan, writer=standby, other=primary, verifier=verifier, timed=timed, failover=True, outputs=outputs)
        timed("second_decision_is_a_no_op", lambda: no_op(decide, automations))
        automations.run_as = run_as  # the region is back for the failback
        emulator.enforce_iam(False)  # the emulator's own metric, not a call of the plan
        for region in (primary, standby):
            seed_replica_lag(emulator, region, plan["regions"][region]["database"], aurora=aurora)
        emulator.enforce_iam(True)
        for key, parameters in (
            ("rebuild", {"Region": [primary]}),
            ("switch", {"TargetRegion": [primary]}),
            ("rebuild", {"Region": [standby]}),
        ):
            label = f"failback_{key}_{next(iter(parameters.values()))[0]}"
            timed(label, lambda key=key, parameters=parameters: start(automations, config, key, parameters))
            report_execution(automations.executions[-1])
        timed_checks(emulator, plan, writer=primary, other=standby, verifier=verifier, timed=timed, failover=False)
        # RDS: the failover, each rebuild (it deletes the old writer) and the switch back; Aurora: no rebuild asks,
        # since Aurora brings the old primary back as a secondary by itself.
        expected = 2 if aurora else 4
        verify(len(approvals) == expected, f"expected {expected} approvals, gave {len(approvals)}")
    finally:
        emulator.enforce_iam(False)
        undo()
    return steps


def permissions_evaluated(document: dict[str, Any], region: str, run_as: Callable[..., Any]) -> str:
    """The readiness permission evaluation as deployed, run as the deployed plan role with IAM enforced: every call
    of the plan simulated against the role's deployed policies (tools.moto_server evaluates SimulatePrincipalPolicy)."""
    try:
        execution = run_document(document, {}, region=region, clients=run_as)
    except AutomationFailed as failed:
        raise DrillFailed(f"the permission evaluation failed at {failed.step}: {failed}") from failed
    verify(execution.ran()[-1] == "permissionsComplete", f"the permission evaluation ended at {execution.ran()[-1]}")
    return str(execution.outputs["checkPermissions.Summary"])


def writer_latch(emulator: Emulator, plan: dict[str, Any], credentials: dict[str, str] | None = None) -> str:
    """Which region the writer latch names."""
    ssm = emulator.client("ssm", plan["home"], credentials=credentials)
    return ssm.get_parameter(Name=plan["writer_parameter"], WithDecryption=True)["Parameter"]["Value"]


def force_signals(emulator: Emulator, environment: dict[str, str], standby: str) -> str:
    """What a regional outage does to the signals: the standby's probe alarm, and the Route 53 alarm in us-east-1
    when the global stack is deployed, go into ALARM (moto evaluates no alarm over time, so the drill sets them)."""
    forced = []
    for region, name in ((standby, environment["PROBE_ALARM"]), ("us-east-1", environment["ROUTE53_ALARM"])):
        cloudwatch = emulator.client("cloudwatch", region)
        if cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]:
            cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill-local: the primary region is down")
            forced.append(name)
    verify(environment["PROBE_ALARM"] in forced, f"the probe alarm {environment['PROBE_ALARM']} is not deployed in {standby}")
    return f"{' and '.join(forced)} in ALARM"


def rule_matches(emulator: Emulator, config: Any, region: str, alarm: str) -> str:
    """The trigger rule, as deployed, matches the alarm's state change and not another alarm's. moto's
    TestEventPattern answers without a Result, so the emulator's own event matcher is applied to the deployed
    pattern here."""
    rule = emulator.client("events", region).describe_rule(Name=f"{config.name_prefix}-warm-standby-{region}-failover-trigger")
    pattern = EventPattern.load(rule["EventPattern"])
    event = {**ALARM_EVENT, "region": region, "detail": {"alarmName": alarm, "state": {"value": "ALARM"}}}
    verify(pattern.matches_event(event), f"{rule['Name']} does not match the state change of {alarm}")
    verify(
        not pattern.matches_event({**event, "detail": {"alarmName": "another-alarm", "state": {"value": "ALARM"}}}), "it matches any alarm"
    )
    verify(not pattern.matches_event({**event, "detail": {"alarmName": alarm, "state": {"value": "OK"}}}), "it matches the way back to OK")
    return f"{rule['Name']} matches {alarm} into ALARM, not another alarm and not OK"


def seed_replica_lag(
    emulator: Emulator, region: str, identifier: str, value: float = 1, minutes_ago: float = 0, *, aurora: bool = False
) -> None:
    """The lag a replica reports, ReplicaLag in seconds, or with `aurora` a secondary cluster's AuroraGlobalDBRPOLag
    in milliseconds (moto's RDS emits no metrics), so the pre-checks and the in-sync wait see it."""
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes_ago)
    metric, dimension, scale = (
        ("AuroraGlobalDBRPOLag", "DBClusterIdentifier", 1000) if aurora else ("ReplicaLag", "DBInstanceIdentifier", 1)
    )
    data = [{"MetricName": metric, "Dimensions": [{"Name": dimension, "Value": identifier}], "Value": value * scale, "Timestamp": when}]
    emulator.client("cloudwatch", region).put_metric_data(Namespace="AWS/RDS", MetricData=data)


#: The dark drill's lag history ends this many minutes ago, so that the failback's own lag (now) is newer than all of it.
LOST_SOURCE_QUIET_MINUTES = 2


def seed_lost_source(emulator: Emulator, region: str, identifier: str, *, minutes_ago: int, lag_before: float) -> None:
    """ReplicaLag as RDS PostgreSQL reports it once the source went away `minutes_ago`: `lag_before` each minute of
    the hour before, then the time since the last replayed transaction, a second a second, up to
    LOST_SOURCE_QUIET_MINUTES ago. Refused when the replica has newer data (a drill of the last minutes): the
    pre-check would read that as the newest lag."""
    cloudwatch = emulator.client("cloudwatch", region)
    now = datetime.datetime.now(datetime.UTC)
    newer = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS", MetricName="ReplicaLag", Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
        StartTime=now - datetime.timedelta(minutes=LOST_SOURCE_QUIET_MINUTES + 1), EndTime=now + datetime.timedelta(minutes=1),
        Period=60, Statistics=["Maximum"],
    )["Datapoints"]  # fmt: skip
    verify(not newer, f"{identifier} has ReplicaLag data of the last {LOST_SOURCE_QUIET_MINUTES + 1} minutes: run the region-outage "
           "drill first (make drill-local does) or a few minutes after another drill")  # fmt: skip
    for minute in range(minutes_ago + 60, minutes_ago, -1):
        seed_replica_lag(emulator, region, identifier, lag_before, minute)
    for minute in range(minutes_ago, LOST_SOURCE_QUIET_MINUTES - 1, -1):
        seed_replica_lag(emulator, region, identifier, lag_before + (minutes_ago - minute) * 60, minute)


def stated_loss(outputs: dict[str, Any], mode: str, plan: dict[str, Any]) -> str:
    """The pre-checks named the mode and the data the switch loses: a switchover while the primary's database
    answers, a failover (RDS: estimated from the lag before replay stopped; Aurora: bounded by rds.global_db_rpo)
    when its region is dark."""
    stated, loss = str(outputs.get("preChecks.Mode")), str(outputs.get("preChecks.DataLoss"))
    if plan.get("engine") == "aurora-postgresql":
        if mode == "region-outage":
            verify(stated.startswith("failover (source cluster did not answer"), f"mode stated: {stated}")
            verify(loss == f"at most {plan['global_rpo_seconds']} s of writes (rds.global_db_rpo: commits wait past it)", f"loss: {loss}")
        else:
            verify(stated == "switchover (SwitchoverGlobalCluster)" and loss.startswith("none"), f"mode and data loss: {stated}; {loss}")
        return f"{stated}; data loss {loss}"
    if mode == "region-outage":
        verify(stated.startswith("failover (source database did not answer"), f"mode stated: {stated}")
        verify(loss.startswith("about 2 s of writes (ReplicaLag before replay stopped at"), f"data loss stated: {loss}")
    else:
        verify(stated == "switchover" and loss.startswith("up to 1 s"), f"mode and data loss stated: {stated}; {loss}")
    return f"{stated}; data loss {loss}"


def assume(emulator: Emulator, region: str, verifier: dict[str, str], role_arn: str) -> dict[str, str]:
    return emulator.client("sts", region, credentials=verifier).assume_role(RoleArn=role_arn, RoleSessionName="drill-local")["Credentials"]


def approve(approvals: list[str], inputs: Any) -> bool:
    """The operator's approval, given by the drill: the message they would read, and yes."""
    approvals.append(str(inputs.get("Message", "")))
    progress(f"[drill]   approval requested: {approvals[-1].splitlines()[0]} -> approved by the drill")
    return True


def decider(
    emulator: Emulator,
    environment: dict[str, str],
    *,
    region: str,
    role: dict[str, str],
    automations: LocalAutomations,
    signal_seconds: int,
    outage: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> Callable[[dict[str, Any]], str]:
    """The decision function's code with its deployed settings, as its role, its calls seen through `outage`; it
    decides `signal_seconds` later (the alarms have been held that long; moto does not evaluate alarms over time)."""
    module = load_handler("failover")
    settings = module.Settings.from_env(environment)

    @outage
    def clients(service: str, **kwargs: Any) -> Any:
        if service == "ssm" and (kwargs.get("region_name") or region) == region:
            return automations
        return emulator.client(service, kwargs.get("region_name") or region, credentials=role)

    def decide(event: dict[str, Any]) -> str:
        now = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=signal_seconds + 1)
        report = module.Decision(settings, clients=clients, now=now, region=region).decide(module.parse_event(event, settings))
        return f"{report['action']} ({report.get('decision') or report.get('why', '')}); signals {report.get('signals')}"

    return decide


def no_op(decide: Callable[[dict[str, Any]], str], automations: LocalAutomations) -> str:
    started = len(automations.executions)
    detail = decide({**ALARM_EVENT, "source": "aws.events", "detail-type": "Scheduled Event"})
    verify(len(automations.executions) == started and detail.startswith("none"), f"a second decision acted: {detail}")
    return detail


def start(automations: LocalAutomations, config: Any, key: str, parameters: dict[str, list[str]]) -> str:
    """What the operator runs for each failback stage (make failback does the same against AWS)."""
    name = switch_document_name(config) if key == "switch" else rebuild_document_name(config)
    extra = {"Reason": ["drill-local failback"]} if key == "switch" else {}
    automations.start_automation_execution(DocumentName=name, Parameters={**parameters, **extra})
    return f"{name} {automations.executions[-1]['AutomationExecutionStatus']}"


def report_execution(execution: dict[str, Any]) -> None:
    """Each step of an execution with its duration (SSM's execution report); a failed execution fails the drill."""
    for record in execution.get("Steps", []):
        progress(f"[drill]   {record.name:<30} {record.outcome:<8} {record.seconds:7.2f} s {record.error[:160]}")
    verify(execution["AutomationExecutionStatus"] == "Success", f"{execution['DocumentName']}: {execution.get('FailureMessage', '')}")


def timed_checks(
    emulator: Emulator,
    plan: dict[str, Any],
    *,
    writer: str,
    other: str,
    verifier: dict[str, str],
    timed: Callable[[str, Callable[[], str]], None],
    failover: bool,
    outputs: dict[str, Any] | None = None,
) -> None:
    """Verify, from the emulator's APIs, what a completed switch to `writer` leaves: after a failover `other` is
    fenced, or the plan's `outputs` report that it did not answer (and what it did fence); after the failback
    `other` is a replica again, read-only, at its configured sizes."""
    label = "failover" if failover else "failback"
    fenced = bool((outputs or {}).get("fenceSource.Fenced", True))
    stopped = "scaled to 0" in str((outputs or {}).get("fenceSource.Detail", ""))

    aurora = plan.get("engine") == "aurora-postgresql"

    def database(region: str) -> dict[str, Any]:
        """The instance, or the cluster with `Writer` (its place in the global database) and `Address`."""
        rds = emulator.client("rds", region, credentials=verifier)
        identifier = plan["regions"][region]["database"]
        if not aurora:
            found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
            return {**found, "Writer": not found.get("ReadReplicaSourceDBInstanceIdentifier"), "Address": found["Endpoint"]["Address"]}
        found = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"][0]
        members = rds.describe_global_clusters(GlobalClusterIdentifier=plan["global_cluster"])["GlobalClusters"][0]["GlobalClusterMembers"]
        writes = any(m["IsWriter"] for m in members if m["DBClusterArn"] == found["DBClusterArn"])
        return {**found, "DBInstanceIdentifier": identifier, "Writer": writes, "Address": found["Endpoint"]}

    def parameter(region: str) -> dict[str, Any]:
        ssm = emulator.client("ssm", region, credentials=verifier)
        return json.loads(ssm.get_parameter(Name=plan["regions"][region]["parameter"], WithDecryption=True)["Parameter"]["Value"])

    def writer_ok() -> str:
        db, value = database(writer), parameter(writer)
        verify(db["Writer"], f"{db['DBInstanceIdentifier']} is still a replica")
        verify(value["writable"] is True and value["host"] == db["Address"], f"{writer} parameter is {value}")
        latch = writer_latch(emulator, plan, verifier)
        verify(latch == writer, f"the writer latch names {latch}")
        return f"{db['DBInstanceIdentifier']} writes in {writer}; the app and the latch point at it"

    def other_ok() -> str:
        if failover and not fenced:
            detail = str((outputs or {}).get("fenceSource.Detail"))
            verify("did not answer" in detail, f"{other} not fenced, and the plan does not say it did not answer: {detail}")
            return f"{other} reported unreachable: {detail}"
        value = parameter(other)
        verify(value["writable"] is False, f"{other} parameter is still writable: {value}")
        if failover:
            verify(value["host"] == "", f"{other} parameter still names a host: {value}")
            return f"{other} fenced: its parameter points nowhere writable"
        db = database(other)
        verify(not db["Writer"], f"{db['DBInstanceIdentifier']} is not a replica again")
        return f"{db['DBInstanceIdentifier']} replicates from {writer} again; its app reads it read-only"

    def sizes() -> str:
        expected = {**plan["regions"][writer]["active"], **({} if failover else plan["regions"][other]["resting"])}
        found: dict[str, dict[str, int]] = {}
        for region in (writer, other):
            autoscaling = emulator.client("autoscaling", region, credentials=verifier)
            groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=list(plan["regions"][region]["active"]))
            found |= {
                g["AutoScalingGroupName"]: {"min": g["MinSize"], "desired": g["DesiredCapacity"], "max": g["MaxSize"]}
                for g in groups["AutoScalingGroups"]
            }
        wrong = {name: found.get(name) for name, size in expected.items() if found.get(name) != size}
        verify(not wrong, f"groups not at their sizes: {wrong}")
        if failover and (fenced or stopped):
            app = plan["regions"][other]["app_group"]
            verify(found[app]["desired"] == 0, f"{app} still runs {found[app]['desired']} instances")
        return ", ".join(f"{name}={found[name]['desired']}" for name in sorted(found))

    timed(f"verify_{label}_writer", writer_ok)
    timed(f"verify_{label}_{'fencing' if failover else 'replica'}", other_ok)
    timed(f"verify_{label}_sizes", sizes)


#: The drill's steps that make up the failover's recovery time (the rest is the no-op check and the failback).
FAILOVER_STEPS = (
    "decision_and_recovery_plan",
    "data_loss_stated",
    "verify_failover_writer",
    "verify_failover_fencing",
    "verify_failover_sizes",
)


def drill_report(steps: list[tuple[str, str, float]], config: str) -> dict[str, Any]:
    """A drill's timings in the shape tools.assess reads: the warm standby's region failover, measured, and the
    database engine it ran on (each engine's steps differ: a global database's failover, or a replica's promotion)."""
    warm_standby = (yaml.safe_load(Path(config).read_text()) or {}).get("warm_standby") or {}
    engine = (warm_standby.get("database") or {}).get("engine", "postgres")
    return {
        "where": f"emulator drill on {engine}, make drill-local",
        "engine": engine,
        "config": str(Path(config).resolve()),
        "recoveries": {"warm_standby.region": round(sum(seconds for step, _, seconds in steps if step in FAILOVER_STEPS), 2)},
        "steps": [{"step": step, "detail": detail, "seconds": round(seconds, 2)} for step, detail, seconds in steps],
        "note": "moto promotes, scales and repoints at once and has no health-check detection: the drill measures the failover "
        "code's own path, not AWS's durations, so a large difference from the estimate is expected",
    }


def destroy(session: Session, *, before: Callable[[str], None] | None = None) -> list[StackRun]:
    """Destroy every stack in reverse order (protection lifted and buckets emptied first), then stop the emulator
    and forget it. `before(stack)` runs first for each stack (a caller's read-only work on it may finish while the
    stacks that need it are destroyed)."""
    emulator = session.emulator()
    outdir = Path(session.outdir)
    try:
        if not emulator.alive():
            progress(f"[local] the emulator at {emulator.endpoint} is gone; nothing to destroy")
            return []
        deployed = [name for name in deploy_order(outdir) if (outdir / "plans" / "work" / name / ".terraform").is_dir()]
        if not deployed:
            progress("[local] no stack was deployed; nothing to destroy")
            return []
        return destroy_in_order(
            outdir,
            stacks=deployed,
            env=session.terraform_env(),
            timeout=EMULATOR_TIMEOUT_SECONDS,
            before=prepare_destroy(emulator, outdir, before),
            progress=progress,
            jobs=STACK_JOBS,
        )
    finally:
        stop(session)


def emulator_state_dir() -> Path:
    """Where the synth puts the bootstrap stack's local state for an emulator deployment (stacks.app)."""
    return LOCAL_OUTDIR.with_name(f"{LOCAL_OUTDIR.name}.state")


def stop(session: Session | None) -> None:
    """Stop the emulator and forget the deployment: its contents vanish with it, and so must its state."""
    if session is not None:
        session.emulator().stop()
        progress(f"[local] emulator (pid {session.pid}) stopped")
    shutil.rmtree(SESSION_DIR, ignore_errors=True)
    shutil.rmtree(emulator_state_dir(), ignore_errors=True)


def deploy_command(config: Path, stacks: list[str] | None) -> int:
    """make deploy-local: refuses while a deployment runs; stops the emulator again on any failure."""
    started = time.monotonic()
    session = Session.load()
    if session is not None and session.emulator().alive():
        raise ToolError(f"an emulator deployment is running at {session.emulator().endpoint}: make destroy-local first", EXIT_SETUP)
    stop(session)
    try:
        session, results, _ = deploy(config, stacks=stacks)
    except BaseException:  # whatever failed, terraform missing or an interrupt included: no emulator is left behind
        progress("[local] deploy-local failed; stopping the emulator")
        stop(Session.load())
        raise
    progress(f"[local] deployed {len(results)} stacks in {time.monotonic() - started:.0f} s; the emulator keeps running")
    progress("[local] next: make drill-local, then make destroy-local (which stops it)")
    return 0


def drill_command(session: Session, modes: tuple[str, ...]) -> int:
    """make drill-local: each of `modes` in turn, a failover and its failback, with its timings; the healthy drill's
    failover time is the measured recovery that make assess shows next to its estimate."""
    DRILL_REPORT.unlink(missing_ok=True)  # a failed drill leaves no earlier measurement behind
    measured: dict[str, list[tuple[str, str, float]]] = {}
    for mode in modes:
        progress(f"[drill] --- {mode} ---")
        try:
            measured[mode] = drill(session, mode)
        except DrillFailed as error:
            progress(f"[drill] {mode} FAILED: {error}")
            return 1
        steps = measured[mode]
        total = sum(seconds for _, _, seconds in steps)
        failover = sum(seconds for step, _, seconds in steps if step in FAILOVER_STEPS)
        progress(f"[drill] {mode}: failover (decision to verified switch) {failover:.2f} s; failback and checks {total - failover:.2f} s")
    report = drill_report(measured.get("healthy") or next(iter(measured.values())), session.config)
    report["modes"] = {mode: drill_report(steps, session.config)["recoveries"] for mode, steps in measured.items()}
    DRILL_REPORT.parent.mkdir(parents=True, exist_ok=True)
    DRILL_REPORT.write_text(json.dumps(report, indent=2))
    progress(f"[drill] measured recovery written to {DRILL_REPORT} (make assess shows it next to the estimate)")
    return 0


def session_command(command: str, modes: tuple[str, ...] = DRILL_MODES) -> int:
    """make drill-local, destroy-local and stop-local, on the running deployment."""
    started = time.monotonic()
    session = Session.load()
    if session is None or not session.emulator().alive():
        progress("[local] no emulator deployment is running: make deploy-local first")
        stop(session)
        return 2 if command == "drill" else 0
    if command == "stop":
        stop(session)
        return 0
    if command == "drill":
        return drill_command(session, modes)
    results = destroy(session)
    progress(f"[local] destroyed {sum(r.ok for r in results)} stacks in {time.monotonic() - started:.0f} s; emulator stopped")
    return 0 if all(result.ok for result in results) else 1


@command("local")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.local", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["deploy", "drill", "destroy", "stop"])
    parser.add_argument("--config", default=os.environ.get("HADR_CONFIG") or str(ROOT / "config" / "example.yaml"))
    parser.add_argument("--stacks", help="deploy: comma-separated stack names (default: every stack)")
    parser.add_argument(
        "--mode", choices=[*DRILL_MODES, "all"], default="all", help="drill: which failure to drill (default: all, in turn)"
    )
    args = parser.parse_args(argv)
    if args.command == "deploy":
        stacks = [name.strip() for name in args.stacks.split(",") if name.strip()] if args.stacks else None
        return deploy_command(Path(args.config), stacks)
    return session_command(args.command, DRILL_MODES if args.mode == "all" else (args.mode,))


if __name__ == "__main__":
    sys.exit(main())
