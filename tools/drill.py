"""DR drills against a deployed configuration, with the credentials in the environment.

    python -m tools.drill failover [--config FILE] [--execute] [--reason TEXT]
    python -m tools.drill failback [--config FILE]
    python -m tools.drill fis [--config FILE] [--experiment KEY ...] [--timeout 7200]

The configuration is --config, else $HADR_CONFIG (which `make drill CONFIG=...` sets), else config/example.yaml:
the drill acts on the names that configuration deploys.

failover: runs the warm standby's recovery plan (SSM Automation) in the standby region. Default: a practice run,
its pre-checks and a report, no change; --execute switches to the standby once an approver approves (the tool
prints the command). failback: rebuilds the primary as a replica, switches back (approved), rebuilds the standby.
fis: starts the active/active FIS experiment templates (all, or the keys given), one after another, and waits
for each to end. Each prints a line per step with its duration; exit 1 when a step or experiment fails, or when
the account holds no template of this configuration (nothing was drilled).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from modules.config import DeploymentConfig, load_config
from stacks.naming import ACTIVE_ACTIVE, rebuild_document_name, switch_document_name
from tools.cli import EXIT_SETUP, ToolError, command, require_credentials

ROOT = Path(__file__).resolve().parent.parent
#: Every AWS call is bounded.
CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"})
#: The drills this tool runs (`make drill ARGS=<one>`).
DRILLS = ("failover", "failback", "fis")
FINAL_EXPERIMENT_STATES = ("completed", "stopped", "failed", "cancelled")


FINAL_AUTOMATION_STATES = ("Success", "Failed", "TimedOut", "Cancelled", "CompletedWithFailure")


def run_automation(ssm: Any, document: str, parameters: dict[str, list[str]], *, timeout: int, region: str) -> bool:
    """Start `document` and follow it to its end: each step as it finishes with its duration, and, while it waits
    for an approval, the command that gives it. True when it succeeded."""
    execution = ssm.start_automation_execution(DocumentName=document, Parameters=parameters)["AutomationExecutionId"]
    print(f"[drill] {document} started: execution {execution}", file=sys.stderr, flush=True)
    started, shown, asked = time.monotonic(), set(), False
    while True:
        described = ssm.get_automation_execution(AutomationExecutionId=execution)["AutomationExecution"]
        for step in described.get("StepExecutions", []):
            if step["StepExecutionId"] in shown or step.get("StepStatus") in ("Pending", "InProgress", "Waiting"):
                continue
            shown.add(step["StepExecutionId"])
            seconds = (step["ExecutionEndTime"] - step["ExecutionStartTime"]).total_seconds() if step.get("ExecutionEndTime") else 0.0
            print(f"  {step['StepName']:<30} {step['StepStatus']:<10} {seconds:>7.1f} s  {step.get('FailureMessage', '')[:160]}")
        status = described["AutomationExecutionStatus"]
        if status in FINAL_AUTOMATION_STATES:
            print(f"[drill] {document}: {status} in {time.monotonic() - started:.0f} s", file=sys.stderr)
            return status == "Success"
        if status == "Waiting" and not asked:
            asked = True
            print(
                f"[drill] waiting for an approval: aws ssm send-automation-signal --region {region} "
                f'--automation-execution-id {execution} --signal-type Approve --payload Comment="<why>"',
                file=sys.stderr,
                flush=True,
            )
        if time.monotonic() - started > timeout:
            print(f"[drill] {document}: still {status} after {timeout} s; follow execution {execution} in the console", file=sys.stderr)
            return False
        time.sleep(15)


def drill_failover(config: DeploymentConfig, *, execute: bool, reason: str, timeout: int = 7200) -> int:
    """Run the recovery plan in the standby region: a practice run (pre-checks and a report, no change) unless
    `execute`, which switches to the standby once an approver approves."""
    if config.warm_standby is None:
        raise ToolError("warm_standby: not configured; the failover drill needs it", EXIT_SETUP)
    region = config.warm_standby.standby.region
    parameters = {"TargetRegion": [region], "Practice": ["false" if execute else "true"], "Reason": [reason], "Decision": ["manual"]}
    print(f"[drill] recovery plan in {region} ({'EXECUTE' if execute else 'practice run'})", file=sys.stderr, flush=True)
    ssm = boto3.client("ssm", region_name=region, config=CLIENT_CONFIG)
    return 0 if run_automation(ssm, switch_document_name(config), parameters, timeout=timeout, region=region) else 1


def drill_failback(config: DeploymentConfig, *, timeout: int = 7200) -> int:
    """The failback, in order, each after the last succeeded: rebuild the primary's database as a replica of the
    standby's, switch back to the primary (approved, same pre-checks), rebuild the standby's replica."""
    if config.warm_standby is None:
        raise ToolError("warm_standby: not configured; the failback needs it", EXIT_SETUP)
    primary, standby = config.warm_standby.primary.region, config.warm_standby.standby.region
    ssm = boto3.client("ssm", region_name=standby, config=CLIENT_CONFIG)
    stages = [
        (rebuild_document_name(config), {"Region": [primary]}),
        (switch_document_name(config), {"TargetRegion": [primary], "Reason": ["failback"], "Decision": ["manual"]}),
        (rebuild_document_name(config), {"Region": [standby]}),
    ]
    for document, parameters in stages:
        if not run_automation(ssm, document, parameters, timeout=timeout, region=standby):
            print(
                f"[drill] failback stopped at {document}; fix the cause and run `make failback` again: done stages are no-ops",
                file=sys.stderr,
            )
            return 1
    return 0


def drill_experiments(config: DeploymentConfig, *, keys: list[str], timeout: int) -> int:
    """Start the FIS experiment templates of the active/active architecture and wait for each to end."""
    if config.active_active is None:
        raise ToolError("active_active: not configured; the FIS drill needs it", EXIT_SETUP)
    prefix = f"{config.name_prefix}-{ACTIVE_ACTIVE}-"
    fis = boto3.client("fis", region_name="us-east-1", config=CLIENT_CONFIG)
    templates: dict[str, str] = {}
    request: dict[str, Any] = {}
    while True:  # botocore has no paginator for this operation
        page = fis.list_experiment_templates(**request)
        for template in page["experimentTemplates"]:
            if template.get("tags", {}).get("Name", "").startswith(prefix):
                templates[template["tags"]["Name"].removeprefix(prefix)] = template["id"]
        if not page.get("nextToken"):
            break
        request = {"nextToken": page["nextToken"]}
    if not templates:
        raise ToolError(
            f"no FIS experiment template tagged Name={prefix}* in us-east-1: deploy active-active-global of this configuration "
            "first, or pass the configuration you deployed (make drill CONFIG=...); nothing was drilled"
        )
    chosen = keys or sorted(templates)
    unknown = sorted(set(chosen) - set(templates))
    if unknown:
        print(f"[drill] --experiment: got {', '.join(unknown)}; expected some of: {', '.join(sorted(templates))}", file=sys.stderr)
        return 2
    failures = 0
    for key in chosen:
        started = time.monotonic()
        experiment = fis.start_experiment(experimentTemplateId=templates[key], tags={"Name": f"drill-{key}"})["experiment"]
        state = experiment["state"]["status"]
        while state not in FINAL_EXPERIMENT_STATES and time.monotonic() - started < timeout:
            time.sleep(15)
            state = fis.get_experiment(id=experiment["id"])["experiment"]["state"]["status"]
        failures += state != "completed"
        print(f"  {key:<48} {state:<10} {time.monotonic() - started:>7.0f} s")
    return 1 if failures else 0


@command("drill")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.drill", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("drill", nargs="?", choices=DRILLS)
    parser.add_argument("--config", default=os.environ.get("HADR_CONFIG") or str(ROOT / "config" / "example.yaml"))
    parser.add_argument("--execute", action="store_true", help="failover: really fail over, once approved (default: practice run)")
    parser.add_argument("--reason", default="scheduled DR drill", help="failover: shown to the approvers and in the report")
    parser.add_argument("--experiment", action="append", default=[], help="fis: template key (repeatable; default: all)")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds to wait for each experiment or execution")
    args = parser.parse_args(argv)
    if args.drill is None:
        raise ToolError(f"which drill? run `make drill ARGS={'|'.join(DRILLS)}` (python -m tools.drill {'|'.join(DRILLS)})", EXIT_SETUP)
    config = load_config(args.config)
    print(f"[drill] configuration {args.config}: {config.name_prefix}", file=sys.stderr, flush=True)
    require_credentials()
    if args.drill == "failover":
        return drill_failover(config, execute=args.execute, reason=args.reason, timeout=args.timeout)
    if args.drill == "failback":
        return drill_failback(config, timeout=args.timeout)
    return drill_experiments(config, keys=args.experiment, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
