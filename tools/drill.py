"""DR drills against a deployed configuration, with the credentials in the environment.

    python -m tools.drill failover [--config FILE] [--execute] [--reason TEXT]
    python -m tools.drill fis [--config FILE] [--experiment KEY ...] [--timeout 7200]

The configuration is --config, else $HADR_CONFIG (which `make drill CONFIG=...` sets), else config/example.yaml:
the drill acts on the names that configuration deploys.

failover: invokes the warm standby's failover function in the standby region. Default: a dry run, which checks
every step (replica, parameter, groups, access point) and reports what it would change; --execute fails over.
fis: starts the active/active FIS experiment templates (all, or the keys given), one after another, and waits
for each to end. Each prints a line per step with its duration; exit 1 when a step or experiment fails, or when
the account holds no template of this configuration (nothing was drilled).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from modules.config import DeploymentConfig, load_config
from stacks.naming import ACTIVE_ACTIVE, failover_function_name
from tools.cli import EXIT_SETUP, ToolError, command, require_credentials

ROOT = Path(__file__).resolve().parent.parent
#: Every AWS call is bounded; the failover function itself may run up to 15 minutes.
CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=960, retries={"max_attempts": 3, "mode": "standard"})
FINAL_EXPERIMENT_STATES = ("completed", "stopped", "failed", "cancelled")


def format_step(step: dict[str, Any]) -> str:
    """One line of a failover report step: name, status, duration, detail."""
    return f"{step['name']:<24} {step['status']:<10} {step['seconds']:>7.2f} s  {step['detail']}"


def drill_failover(config: DeploymentConfig, *, execute: bool, reason: str) -> int:
    """Invoke the failover function (dry run unless `execute`) and print its report."""
    if config.warm_standby is None:
        raise ToolError("warm_standby: not configured; the failover drill needs it", EXIT_SETUP)
    region = config.warm_standby.standby.region
    name = failover_function_name(config, region)
    payload = {"action": "failover", "dry_run": not execute, "reason": reason}
    print(f"[drill] invoking {name} in {region} ({'EXECUTE' if execute else 'dry run'})", file=sys.stderr, flush=True)
    started = time.monotonic()
    response = boto3.client("lambda", region_name=region, config=CLIENT_CONFIG).invoke(FunctionName=name, Payload=json.dumps(payload))
    report = json.loads(response["Payload"].read() or b"{}")
    if response.get("FunctionError"):
        print(f"[drill] the function failed: {report.get('errorType')}: {report.get('errorMessage')}", file=sys.stderr)
        return 1
    for step in report.get("steps", []):
        print(f"  {format_step(step)}")
    failed = [step for step in report.get("steps", []) if step["status"] == "failed"]
    print(f"[drill] {len(report.get('steps', []))} steps, {len(failed)} failed, {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 1 if failed else 0


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
    parser.add_argument("drill", choices=["failover", "fis"])
    parser.add_argument("--config", default=os.environ.get("HADR_CONFIG") or str(ROOT / "config" / "example.yaml"))
    parser.add_argument("--execute", action="store_true", help="failover: really fail over (default: dry run)")
    parser.add_argument("--reason", default="scheduled DR drill", help="failover: recorded in the function's report")
    parser.add_argument("--experiment", action="append", default=[], help="fis: template key (repeatable; default: all)")
    parser.add_argument("--timeout", type=int, default=7200, help="fis: seconds to wait for each experiment")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    print(f"[drill] configuration {args.config}: {config.name_prefix}", file=sys.stderr, flush=True)
    require_credentials()
    if args.drill == "failover":
        return drill_failover(config, execute=args.execute, reason=args.reason)
    return drill_experiments(config, keys=args.experiment, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
