"""Account quotas a deploy can meet only at apply time, read from the account before a live plan or apply.

Lambda's reserved concurrency: `PutFunctionConcurrency` is refused when it would leave the region's account fewer
than 100 unreserved concurrent executions, and the account's quota is often lower than the 1000 the documentation
names as the default (new accounts start lower and are raised with use)
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html,
https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html). Terraform finds out half-way through
an apply; `check_lambda_concurrency` finds out first, from what the synthesized stacks reserve, what the account
has (`GetAccountSettings`) and what the functions reserve already (`GetFunctionConcurrency`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import boto3

from tools.cli import ToolError

#: Unreserved concurrent executions Lambda always keeps in an account and region.
UNRESERVED_MINIMUM = 100


def provider_regions(stack: dict[str, Any]) -> dict[str, str]:
    """A stack's AWS providers as `aws` or `aws.<alias>` -> region."""
    providers = stack.get("provider", {}).get("aws", [])
    return {f"aws.{p['alias']}" if p.get("alias") else "aws": p.get("region", "") for p in providers}


def reservations(stack_files: Iterable[Path]) -> dict[str, dict[str, int]]:
    """Region -> function name -> the reserved concurrency the synthesized stacks give it."""
    wanted: dict[str, dict[str, int]] = defaultdict(dict)
    for path in stack_files:
        stack = json.loads(path.read_text())
        regions = provider_regions(stack)
        for function in stack.get("resource", {}).get("aws_lambda_function", {}).values():
            reserved = function.get("reserved_concurrent_executions")
            if isinstance(reserved, int) and reserved >= 0:
                wanted[regions.get(function.get("provider", "aws"), "")][function["function_name"]] = reserved
    return dict(wanted)


def concurrency_problems(wanted: dict[str, dict[str, int]], lambda_client: Callable[[str], Any]) -> list[str]:
    """What the account cannot give, one line per region: fewer than 100 unreserved executions left once every
    function reserves what the stacks say (a function's current reservation counts as already taken)."""
    problems = []
    for region, functions in sorted(wanted.items()):
        client = lambda_client(region)
        limit = client.get_account_settings()["AccountLimit"]
        quota, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
        added = 0
        for name, reserved in functions.items():
            try:
                current = client.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions", 0)
            except client.exceptions.ResourceNotFoundException:
                current = 0
            added += reserved - current
        if unreserved - added < UNRESERVED_MINIMUM:
            listed = ", ".join(f"{name}={reserved}" for name, reserved in sorted(functions.items()))
            problems.append(
                f"{region}: reserving {added} more concurrent executions ({listed}) would leave {unreserved - added} unreserved of"
                f" the account's {quota}; Lambda keeps at least {UNRESERVED_MINIMUM} (PutFunctionConcurrency refuses less):"
                f" state lambda_concurrency_quota: {quota} and lower active_active.lambda_function.reserved_concurrency, or ask"
                " AWS for an increase (Service Quotas, L-B99A9384)"
            )
    return problems


def check_lambda_concurrency(stack_files: Iterable[Path]) -> None:
    """Raise ToolError (exit 1) naming every region where the stacks' reserved concurrency cannot be applied."""
    problems = concurrency_problems(reservations(stack_files), lambda region: boto3.client("lambda", region_name=region))
    if problems:
        raise ToolError("Lambda concurrency: " + "; ".join(problems))
