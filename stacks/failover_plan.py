"""The warm standby's recovery plan as code: SSM Automation documents generated from the configuration.

Two documents live in the standby region (the plan must not depend on the region it fails away from):

- **region switch** (`TargetRegion`, `Practice`, `Decision`): pre-checks; then, unless practising, scale the
  target tiers (first: instances launch while the operator approves and the database is promoted; a refused
  approval scales them back), approval (manual decision) and the switch: fence the source (its app tier scaled to
  0, its writer parameter pointing nowhere writable), promote the target's replica (Aurora: switch or fail over
  the global database) and wait (bounded), take over the credentials, repoint the app, move the writes (the
  writer-region latch that the write record's health check follows), route the Multi-Region Access Point, wait
  for capacity, verify end to end, notify. Failover targets the standby; the failback's switch targets the primary.
- **rebuild replica** (`Region`): make `Region`'s database a replica of the writer in the other region again: a
  final snapshot of the old writer (it may hold writes the other region never saw), its deletion, a new replica
  with the old one's settings, and a wait until it is in sync (replica lag within the RPO).

Failback = rebuild the primary, switch to the primary (in a maintenance window, approved, same pre-checks),
rebuild the standby. The identifiers stay those Terraform knows, so afterwards `make plan` shows the databases
unchanged. Each script (runbooks/recovery_plan.py) makes a few calls and returns; waits are `aws:loop`s
(modules.automation_steps.wait_step), so no step comes near SSM's 600 s cap for a script and every wait is bounded.

Every step is idempotent: it reads the state first and changes only what differs, so a second run is a no-op
and a run that stopped resumes where it stopped. Calls to the source region use short timeouts: during a
regional outage that region may not answer, and the plan goes on (the write latch fences it at the edge).

AWS rules encoded here:
- PromoteReadReplica makes the replica standalone after a reboot; it takes "several minutes or longer"
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html), so the wait is a loop of
  at most 60 checks a minute apart.
- A cross-region replica needs the source as an ARN and, encrypted, a KMS key of its own region
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.XRgn.html).
- Deleting with a final snapshot needs rds:CreateDBSnapshot as well as rds:DeleteDBInstance
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeleteInstance.html).
- Route 53 follows a CloudWatch-alarm health check through the alarm's metric data stream, not SetAlarmState
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html#health-checks-creating-values-cloudwatch),
  so the latch is a metric that this plan publishes.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

from modules.automation_steps import branch_step, script_step, wait_step
from modules.drills import parameter
from runbooks import common
from runbooks.permissions import check_permissions
from runbooks.recovery_plan import (
    check_capacity,
    check_gone,
    check_in_sync,
    check_promoted,
    create_replica,
    fence_source,
    helpers_for,
    inspect_rebuild,
    move_writes,
    point_at_replica,
    precheck,
    promote_target,
    repoint_app,
    restore_settings,
    retire_old_writer,
    route_storage,
    scale_target,
    take_over_credentials,
    verify_switch,
)

#: The latch the write record's health checks follow: 1 while the primary region takes the writes, else 0.
WRITER_NAMESPACE = "HADR/WarmStandby"
WRITER_METRIC = "PrimaryIsWriter"
READY_METRIC = "StandbyReady"
#: Promotion: at most this many checks, a minute apart (the replica's size decides; AWS gives no bound).
PROMOTION_CHECKS = 60
#: A certificate must stay valid at least this long to count as ready.
CERTIFICATE_MARGIN_DAYS = 14


def _notify(name: str, subject: str, message: str, *, end: bool = False, fail: str | None = None) -> list[dict[str, Any]]:
    """Publish to the plan's topic (an SNS call in the document's own region: aws:executeAwsApi, no script); with
    `fail`, then fail the execution with that reason (short: the message went to the topic)."""
    steps: list[dict[str, Any]] = [
        {
            "name": name,
            "action": "aws:executeAwsApi",
            "inputs": {"Service": "sns", "Api": "Publish", "TopicArn": "{{ TopicArn }}", "Subject": subject, "Message": message},
        }
    ]
    if fail:
        steps.append({**script_step(f"{name}Fail", common.fail, {"Message": fail}, {}, timeout_seconds=60), "isEnd": True})
    elif end:
        steps[0]["isEnd"] = True
    return steps


#: Every changing step of the switch, and every step of the rebuild, goes here when it fails or times out: the operators
#: are told, then the execution fails (a timeout follows onFailure too:
#: https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-handling-timeouts.html).
SWITCH_FAILED = REBUILD_FAILED = "step:notifyFailed"


class _OneEngine(ast.NodeTransformer):
    """Keeps only `engine`'s side of `X if plan.get("engine") == "<engine>" else Y`: the document is one engine's."""

    def __init__(self, engine: str) -> None:
        self.engine = engine

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        test = node.test
        if (
            isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Call)
            and ast.unparse(test.left) == "plan.get('engine')"
            and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], ast.Constant)
        ):
            return self.visit(node.body if test.comparators[0].value == self.engine else node.orelse)
        return self.generic_visit(node)


def engine_steps(engine: str) -> tuple[Callable[..., dict[str, Any]], Callable[..., dict[str, Any]]]:
    """script_step and wait_step embedding only what `engine`'s plan runs (runbooks.recovery_plan.helpers_for, and
    of each engine choice only this engine's side)."""

    def one_engine(step: dict[str, Any]) -> dict[str, Any]:
        inner = step["inputs"]["Steps"][1] if step["action"] == "aws:loop" else step
        tree = _OneEngine(engine).visit(ast.parse(inner["inputs"]["Script"]))
        inner["inputs"]["Script"] = "".join(
            " " * ((len(line) - len(line.lstrip(" "))) // 4) + line.lstrip(" ") + "\n" for line in ast.unparse(tree).splitlines()
        )
        return step

    def script(name: str, handler: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
        return one_engine(script_step(name, handler, *args, helpers=helpers_for(handler, engine), **kwargs))

    def wait(name: str, check: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
        return one_engine(wait_step(name, check, *args, helpers=helpers_for(check, engine), **kwargs))

    return script, wait


def switch_parameters(plan: dict[str, Any], approvers: list[str], role_arn: str, approval_timeout_seconds: int) -> dict[str, Any]:
    return {
        "AutomationAssumeRole": parameter("Role the plan runs as", role_arn),
        "Plan": parameter(
            "The regions, names and sizes (generated from the configuration)", json.dumps(plan, sort_keys=True, separators=(",", ":"))
        ),
        "TargetRegion": {**parameter("Region that becomes the writer", plan["standby"]), "allowedValues": sorted(plan["regions"])},
        "Practice": {**parameter("true: run the pre-checks and report, change nothing", "false"), "allowedValues": ["true", "false"]},
        "Decision": {
            **parameter("manual: wait for an approval; automatic: the decision function saw agreeing signals", "manual"),
            "allowedValues": ["manual", "automatic"],
        },
        "AcceptDataLoss": {
            **parameter(
                "true: a failover (the source's database is gone) goes ahead although the writes it loses are over the RPO or"
                " unknown; the estimate is in the report, and this choice in the execution's record",
                "false",
            ),
            "allowedValues": ["true", "false"],
        },
        "Reason": parameter("Why (shown to the approvers and in the report)", "operator request"),
        "TopicArn": parameter("Where the reports go", plan["topic_arn"]),
        "Approvers": parameter("IAM users or roles allowed to approve", kind="StringList") | {"default": approvers},
        "ApprovalTimeoutSeconds": parameter("", str(approval_timeout_seconds)),
    }


def switch_steps(plan: dict[str, Any], approval_topic_arn: str, approval_timeout_seconds: int) -> list[dict[str, Any]]:
    """The region switch's mainSteps: the target scales out first (its instances launch while the operator reads
    the approval request, and while the database switches), and scales back if the approval is refused or times out."""
    script, wait = engine_steps(plan["engine"])
    payload = {"Plan": "{{ Plan }}", "TargetRegion": "{{ TargetRegion }}"}
    fail = SWITCH_FAILED
    report = (
        "Switch to {{ TargetRegion }} ({{ Reason }}), execution {{ automation:EXECUTION_ID }}.\n"
        "Mode: {{ preChecks.Mode }}. Estimated data loss: {{ preChecks.DataLoss }}.\n"
        "Pre-checks: problems: {{ preChecks.Problems }}; warnings: {{ preChecks.Warnings }}."
    )
    checked = {"Ready": "Boolean", "AlreadyActive": "Boolean", "Problems": "String", "Warnings": "String", "Source": "String"}
    return [
        script(
            "preChecks",
            precheck,
            {**payload, "AcceptDataLoss": "{{ AcceptDataLoss }}"},
            {**checked, "Mode": "String", "DataLoss": "String"},
            on_failure="step:notifyCheckFailed",
        ),
        {
            "name": "decideOnPractice",
            "action": "aws:branch",
            "inputs": {
                "Choices": [{"NextStep": "practiceReport", "Variable": "{{ Practice }}", "StringEquals": "true"}],
                "Default": "decideOnReadiness",
            },
        },
        *_notify("practiceReport", "Practice: {{ TargetRegion }} ready={{ preChecks.Ready }}", report + " Nothing was changed.", end=True),
        branch_step("decideOnReadiness", "preChecks.Ready", when_true="decideOnActive", otherwise="notifyNotReady"),
        *_notify(
            "notifyNotReady",
            "Switch to {{ TargetRegion }} refused: not ready",
            report + " Nothing was changed.",
            fail="Not ready, nothing changed: {{ preChecks.Problems }}",
        ),
        branch_step("decideOnActive", "preChecks.AlreadyActive", when_true="verify", otherwise="scaleTarget"),
        script("scaleTarget", scale_target, payload, {"Changed": "Boolean", "Detail": "String"}, on_failure=fail),
        {
            "name": "decideOnApproval",
            "action": "aws:branch",
            "inputs": {
                "Choices": [{"NextStep": "fenceSource", "Variable": "{{ Decision }}", "StringEquals": "automatic"}],
                "Default": "approve",
            },
        },
        {
            "name": "approve",
            "action": "aws:approve",
            "timeoutSeconds": approval_timeout_seconds,
            "onFailure": "step:decideOnRestAfterRefusal",
            "inputs": {
                "NotificationArn": approval_topic_arn,
                "Approvers": "{{ Approvers }}",
                "MinRequiredApprovals": 1,
                "Message": report + " Approve to make {{ TargetRegion }} the writer; {{ preChecks.Source }} is fenced.",
            },
        },
        script("fenceSource", fence_source, payload, {"Fenced": "Boolean", "Changed": "Boolean", "Detail": "String"}, on_failure=fail),
        script("promote", promote_target, {**payload, "AcceptDataLoss": "{{ AcceptDataLoss }}"}, {"Changed": "Boolean"}, on_failure=fail),
        wait("waitPromoted", check_promoted, payload, what="promotion", max_iterations=PROMOTION_CHECKS, on_failure=fail),
        script("takeOverCredentials", take_over_credentials, payload, {"Changed": "Boolean"}, on_failure=fail),
        script("repointApp", repoint_app, payload, {"Changed": "Boolean", "Host": "String"}, on_failure=fail),
        script("moveWrites", move_writes, payload, {"Changed": "Boolean"}, on_failure=fail),
        script("routeStorage", route_storage, payload, {"Changed": "Boolean", "Detail": "String"}, on_failure=fail),
        wait("waitCapacity", check_capacity, payload, what="instances in service", interval="PT30S", max_iterations=40, on_failure=fail),
        script("verify", verify_switch, payload, {"Verified": "Boolean", "Detail": "String"}, on_failure=fail),
        {
            "name": "decideOnRest",
            "action": "aws:branch",
            "inputs": {
                "Choices": [{"NextStep": "restStandby0", "Variable": "{{ TargetRegion }}", "StringEquals": plan["primary"]}],
                "Default": "notifyDone",
            },
        },
        *rest_standby(plan, "restStandby", then="notifyDone", on_failure=fail),
        *_notify("notifyDone", "Switched to {{ TargetRegion }}", report + " Verified: {{ verify.Detail }}.", end=True),
        *switch_failures(report, plan),
    ]


def rest_standby(plan: dict[str, Any], prefix: str, *, then: str, on_failure: str) -> list[dict[str, Any]]:
    """The standby's groups back to their configured (resting) sizes, which is what Terraform has: API calls in this
    document's region (the standby's), then `then`. After a verified failback; and after a refused or timed-out
    approval to make the standby the writer (its instances were launched before the approval)."""
    standby = plan["standby"]
    steps: list[dict[str, Any]] = []
    for number, (group, size) in enumerate(sorted(plan["regions"][standby]["resting"].items())):
        inputs = {"Service": "autoscaling", "Api": "UpdateAutoScalingGroup", "AutoScalingGroupName": group}
        sizes = {"MinSize": size["min"], "DesiredCapacity": size["desired"], "MaxSize": size["max"]}
        steps.append({"name": f"{prefix}{number}", "action": "aws:executeAwsApi", "onFailure": on_failure, "inputs": inputs | sizes})
    steps[-1]["nextStep"] = then
    return steps


def switch_failures(report: str, plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Where the switch goes when its pre-checks cannot run, or a later step fails: a page saying what to do, then
    the execution fails; a refused or timed-out approval first scales the target back to its resting sizes."""
    return [
        *_notify(
            "notifyCheckFailed",
            "Switch to {{ TargetRegion }}: pre-checks FAILED",
            "Switch to {{ TargetRegion }} ({{ Reason }}), execution {{ automation:EXECUTION_ID }}: the pre-checks could not run"
            " (see the preChecks step's error). Nothing was changed. Fix what it names (a permission, a region that refused),"
            " then start the plan again.",
            fail="Pre-checks could not run; nothing changed",
        ),
        {
            "name": "decideOnRestAfterRefusal",
            "action": "aws:branch",
            "inputs": {
                "Choices": [{"NextStep": "restRefused0", "Variable": "{{ TargetRegion }}", "StringEquals": plan["standby"]}],
                "Default": "notifyFailed",
            },
        },
        *rest_standby(plan, "restRefused", then="notifyFailed", on_failure="step:notifyFailed"),
        *_notify(
            "notifyFailed",
            "Switch to {{ TargetRegion }} INCOMPLETE",
            report + " A step failed, or the approval was refused or timed out: see the execution; run it again to resume.",
            fail="INCOMPLETE: a step failed, or the approval was refused or timed out; run it again to resume",
        ),
    ]


def rebuild_parameters(plan: dict[str, Any], approvers: list[str], role_arn: str) -> dict[str, Any]:
    return {
        "AutomationAssumeRole": parameter("Role the plan runs as", role_arn),
        "Plan": parameter(
            "The regions, names and sizes (generated from the configuration)", json.dumps(plan, sort_keys=True, separators=(",", ":"))
        ),
        "Region": {
            **parameter("Region whose database becomes a replica of the other region's writer"),
            "allowedValues": sorted(plan["regions"]),
        },
        "TopicArn": parameter("Where the reports go", plan["topic_arn"]),
        "Approvers": parameter("IAM users or roles allowed to approve", kind="StringList") | {"default": approvers},
    }


def rebuild_steps(plan: dict[str, Any], approval_topic_arn: str, approval_timeout_seconds: int) -> list[dict[str, Any]]:
    """The rebuild's mainSteps."""
    script, wait = engine_steps(plan["engine"])
    region = {"Plan": "{{ Plan }}", "Region": "{{ Region }}"}
    fail = REBUILD_FAILED
    return [
        script(
            "inspect",
            inspect_rebuild,
            region,
            {"AlreadyReplica": "Boolean", "Settings": "String", "Later": "String", "WriterArn": "String", "Exists": "Boolean"},
            on_failure=fail,
        ),
        branch_step("decideOnReplica", "inspect.AlreadyReplica", when_true="waitInSync", otherwise="decideOnOldWriter"),
        branch_step("decideOnOldWriter", "inspect.Exists", when_true="approve", otherwise="createReplica"),
        {
            "name": "approve",
            "action": "aws:approve",
            "timeoutSeconds": approval_timeout_seconds,
            "onFailure": fail,
            "inputs": {
                "NotificationArn": approval_topic_arn,
                "Approvers": "{{ Approvers }}",
                "MinRequiredApprovals": 1,
                "Message": "Rebuild the database in {{ Region }} as a replica of {{ inspect.WriterArn }}? The old instance is "
                "deleted after a final snapshot (execution {{ automation:EXECUTION_ID }}).",
            },
        },
        script("retireOldWriter", retire_old_writer, region, {"Changed": "Boolean", "Snapshot": "String"}, on_failure=fail),
        wait(
            "waitOldWriterGone", check_gone, region, what="deletion of the old writer", interval="PT30S", max_iterations=60, on_failure=fail
        ),
        script(
            "createReplica",
            create_replica,
            {**region, "Settings": "{{ inspect.Settings }}", "WriterArn": "{{ inspect.WriterArn }}"},
            {"Changed": "Boolean"},
            on_failure=fail,
        ),
        wait("waitInSync", check_in_sync, region, what="replica in sync", max_iterations=100, on_failure=fail),
        script(
            "restoreSettings",
            restore_settings,
            {**region, "Later": "{{ inspect.Later }}"},
            {"Changed": "Boolean", "Detail": "String"},
            on_failure=fail,
        ),
        script("pointAtReplica", point_at_replica, region, {"Changed": "Boolean"}, on_failure=fail),
        *_notify(
            "notifyDone",
            "Replica rebuilt in {{ Region }}",
            "The database in {{ Region }} replicates from {{ inspect.WriterArn }} within the RPO"
            " (execution {{ automation:EXECUTION_ID }}).",
            end=True,
        ),
        *_notify(
            "notifyFailed",
            "Rebuild of the replica in {{ Region }} INCOMPLETE",
            "A step of the rebuild in {{ Region }} failed, or the approval was refused or timed out (execution"
            " {{ automation:EXECUTION_ID }}): see the execution. The old instance's final snapshot, if taken, is kept."
            " Run the rebuild again to resume: it starts from what exists.",
            fail="INCOMPLETE: a step failed, or the approval was refused or timed out; run it again to resume",
        ),
    ]


def permission_parameters(plan: dict[str, Any], checks: list[dict[str, Any]], role_arn: str) -> dict[str, Any]:
    return {
        "AutomationAssumeRole": parameter("The plan's role: the role whose permissions are evaluated", role_arn),
        "Checks": parameter(
            "Every call of the plan as IAM checks it (generated: stacks.plan_permissions)", json.dumps(checks, sort_keys=True)
        ),
        "TopicArn": parameter("Where the reports go", plan["topic_arn"]),
    }


def permission_steps(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The readiness permission evaluation: simulate every call of the plan as its role, publish StandbyReady (0 when
    anything is refused or the evaluation itself failed, which the readiness alarm reports), and page with the
    refusals named."""
    dimensions = [{"Name": "Deployment", "Value": plan["deployment"]}, {"Name": "TargetRegion", "Value": plan["standby"]}]

    def ready(name: str, value: int) -> dict[str, Any]:
        data = [{"MetricName": READY_METRIC, "Dimensions": dimensions, "Value": value}]
        inputs = {"Service": "cloudwatch", "Api": "PutMetricData", "Namespace": WRITER_NAMESPACE, "MetricData": data}
        return {"name": name, "action": "aws:executeAwsApi", "inputs": inputs}

    fix = " Add what is missing to the recovery plan's role (stacks/warm_standby_failover.py) and apply; the README lists every call."
    return [
        script_step(
            "checkPermissions",
            check_permissions,
            {"Checks": "{{ Checks }}"},
            {"Complete": "Boolean", "Missing": "String", "Summary": "String"},
            on_failure="step:evaluationFailed",
        ),
        branch_step("decideOnPermissions", "checkPermissions.Complete", when_true="permissionsComplete", otherwise="permissionsMissing"),
        {**ready("permissionsComplete", 1), "isEnd": True},
        ready("permissionsMissing", 0),
        *_notify(
            "notifyMissing",
            "Recovery plan NOT READY: permissions missing",
            "IAM would refuse the recovery plan's role: {{ checkPermissions.Summary }}: {{ checkPermissions.Missing }}." + fix,
            fail="Permissions missing: {{ checkPermissions.Summary }}",
        ),
        ready("evaluationFailed", 0),
        *_notify(
            "notifyEvaluationFailed",
            "Recovery plan NOT READY: its permissions could not be evaluated",
            "The permission evaluation failed (execution {{ automation:EXECUTION_ID }}): see the execution; the role needs"
            " iam:SimulatePrincipalPolicy on itself." + fix,
            fail="The permission evaluation failed: see the execution",
        ),
    ]
