"""The readiness permission evaluation: simulate, as the role this runs as, every call the recovery plan makes
(stacks.plan_permissions generates the checks), and name what IAM would refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def role_of(arn: str) -> str:
    """The IAM role behind an assumed-role session ARN (arn:aws:sts::A:assumed-role/NAME/SESSION); other ARNs as given."""
    parts = arn.split(":", 5)
    if parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
    return arn


def refusals(iam: Any, role: str, check: dict[str, Any]) -> list[str]:
    """What the simulation of `check` (actions on resources with its context) does not allow, one line each."""
    context = [{"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"} for k, v in check["context"].items()]
    where = "".join(f" with {k}={v}" for k, v in check["context"].items())
    found = []
    pages = iam.get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=role, ActionNames=check["actions"], ResourceArns=check["resources"], ContextEntries=context
    )
    for page in pages:
        for result in page["EvaluationResults"]:
            specific = result.get("ResourceSpecificResults") or [
                {"EvalResourceName": result.get("EvalResourceName", "*"), "EvalResourceDecision": result["EvalDecision"]}
            ]
            for one in specific:
                if one["EvalResourceDecision"] != "allowed":
                    found.append(
                        f"{result['EvalActionName']} on {one['EvalResourceName']}{where} ({check['call']}): {one['EvalResourceDecision']}"
                    )
    return found


def check_permissions(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """Complete when IAM allows every check of Checks to the role this runs as; else the refusals, named."""
    import json

    import boto3

    role = role_of(boto3.client("sts").get_caller_identity()["Arn"])
    iam = boto3.client("iam")
    checks = json.loads(events["Checks"])
    missing = [line for check in checks for line in refusals(iam, role, check)]
    named = 20  # the output (and so the page) names at most this many; the summary counts them all
    shown = "; ".join(missing[:named]) + (f"; and {len(missing) - named} more" if len(missing) > named else "")
    return {"Complete": not missing, "Missing": shown or "none", "Summary": f"{len(checks)} checks of {role}: {len(missing)} refused"}


HELPERS: dict[Callable[..., Any], tuple[Callable[..., Any], ...]] = {check_permissions: (role_of, refusals)}
