"""Register the active/active application with AWS Resilience Hub, from the stacks' Terraform state in S3.

    python -m tools.resiliencehub register [--config FILE] [--dry-run] [--assess]

Provider 5.100 manages the resiliency policy (active-active-global) but has no resource for the application, so
this does the rest, idempotently: find the policy, create the application if it does not exist, import the
resources from every active/active stack's state file, publish the version, and optionally start an assessment.
Run it after a deploy with credentials for the account; --dry-run prints the plan and calls nothing.
Exit codes: 0 done, 2 bad input (configuration, flags, a missing policy), 1 an AWS call failed or the import failed
or timed out (nothing is published then).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from modules.config import DeploymentConfig, load_config
from modules.errors import InputError
from stacks.naming import ACTIVE_ACTIVE, active_active_stacks
from tools.cli import command, require_credentials

ROOT = Path(__file__).resolve().parent.parent
#: The global stack, which holds the policy, deploys to this region; the application lives next to it.
RESILIENCE_HUB_REGION = "us-east-1"
#: How long the asynchronous resource import may take, and how often its status is read.
IMPORT_TIMEOUT_SECONDS = 900
IMPORT_POLL_SECONDS = 10


class ImportFailed(RuntimeError):
    """The resource import ended Failed, or did not end within its timeout."""


def wait_for_import(
    client: Any,
    app_arn: str,
    *,
    timeout_seconds: float = IMPORT_TIMEOUT_SECONDS,
    poll_seconds: float = IMPORT_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll the draft version's import status until Success; raise ImportFailed on Failed or after `timeout_seconds`.

    ImportResourcesToDraftAppVersion only starts the import; the status is Pending, InProgress, Failed or Success
    (https://docs.aws.amazon.com/resilience-hub/latest/APIReference/API_DescribeDraftAppVersionResourcesImportStatus.html).
    Publishing before Success would publish a version without the imported resources.
    """
    deadline = clock() + timeout_seconds
    while True:
        found = client.describe_draft_app_version_resources_import_status(appArn=app_arn)
        status = found["status"]
        if status == "Success":
            return status
        if status == "Failed":
            details = "; ".join(str(detail) for detail in found.get("errorDetails", []))
            raise ImportFailed(
                f"resource import of {app_arn} failed: {found.get('errorMessage', 'no message')}{' (' + details + ')' if details else ''}"
            )
        if clock() >= deadline:
            raise ImportFailed(f"resource import of {app_arn} is still {status} after {timeout_seconds:.0f} s; publish nothing")
        sleep(poll_seconds)


def plan(config: DeploymentConfig) -> dict[str, Any]:
    """What registering means for this configuration: names, region and the state files to import."""
    arch = config.active_active
    if arch is None or not arch.enabled:
        raise InputError.single("active_active.enabled", False if arch else None, "expected the active/active architecture to be enabled")
    bucket = config.state.active_bucket
    return {
        "region": RESILIENCE_HUB_REGION,
        "app_name": f"{config.name_prefix}-{ACTIVE_ACTIVE}",
        "policy_name": f"{config.name_prefix}-{ACTIVE_ACTIVE}",
        "state_files": [f"s3://{bucket}/{config.state_key(stack)}" for stack in active_active_stacks(arch)],
        "tags": {"Project": config.project, "Environment": config.environment, "ManagedBy": "tools.resiliencehub"},
    }


class Step:
    """Prints one progress line per step with its duration."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __enter__(self) -> Step:
        self.started = time.monotonic()
        print(f"[resiliencehub] {self.label} ...", file=sys.stderr, flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        outcome = "failed" if exc[0] else "done"
        print(f"[resiliencehub] {self.label}: {outcome} in {time.monotonic() - self.started:.1f} s", file=sys.stderr, flush=True)


def register(client: Any, registration: dict[str, Any], *, assess: bool = False, wait: dict[str, Any] | None = None) -> dict[str, str]:
    """Create or update the application; returns its ARN and published version. `client` is boto3's resiliencehub."""
    with Step("find the resiliency policy"):
        policies = client.list_resiliency_policies(policyName=registration["policy_name"])["resiliencyPolicies"]
        if not policies:
            raise InputError.single(
                "policy_name", registration["policy_name"], "expected the policy to exist: deploy the active-active-global stack first"
            )
        policy_arn = policies[0]["policyArn"]
    with Step("find or create the application"):
        apps = [app for app in client.list_apps(name=registration["app_name"])["appSummaries"] if app["name"] == registration["app_name"]]
        if apps:
            app_arn = apps[0]["appArn"]
        else:
            app_arn = client.create_app(
                name=registration["app_name"],
                description="Active/active serverless API (imported from Terraform state)",
                policyArn=policy_arn,
                assessmentSchedule="Daily",
                tags=registration["tags"],
            )["app"]["appArn"]
    with Step(f"import resources from {len(registration['state_files'])} state files"):
        client.import_resources_to_draft_app_version(
            appArn=app_arn,
            terraformSources=[{"s3StateFileUrl": url} for url in registration["state_files"]],
            sourceArns=[],
            eksSources=[],
        )
    with Step("wait for the import to finish"):
        wait_for_import(client, app_arn, **(wait or {}))
    with Step("publish the application version"):
        version = client.publish_app_version(appArn=app_arn).get("appVersion", "release")
    result = {"app_arn": app_arn, "policy_arn": policy_arn, "app_version": version}
    if assess:
        with Step("start an assessment"):
            assessment = client.start_app_assessment(
                appArn=app_arn, appVersion="release", assessmentName=f"{registration['app_name']}-{int(time.time())}"
            )
            result["assessment_arn"] = assessment["assessment"]["assessmentArn"]
    return result


@command("resiliencehub")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.resiliencehub", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["register"])
    parser.add_argument("--config", default=os.environ.get("HADR_CONFIG", str(ROOT / "config" / "example.yaml")))
    parser.add_argument("--dry-run", action="store_true", help="print what would be registered; call nothing")
    parser.add_argument("--assess", action="store_true", help="also start an assessment")
    args = parser.parse_args(argv)
    registration = plan(load_config(args.config))
    if args.dry_run:
        print(f"[resiliencehub] would register {registration['app_name']} in {registration['region']}", file=sys.stderr)
        for url in registration["state_files"]:
            print(f"[resiliencehub]   import {url}", file=sys.stderr)
        return 0
    require_credentials()
    try:
        result = register(boto3.client("resiliencehub", region_name=registration["region"]), registration, assess=args.assess)
    except ImportFailed as error:
        print(f"[resiliencehub] {error}", file=sys.stderr)
        return 1
    for key, value in result.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
