"""Account quotas a deploy can meet only at apply time, read from the account before a live plan or apply.

Lambda's reserved concurrency: `PutFunctionConcurrency` is refused when it would leave the region's account fewer
than 100 unreserved concurrent executions, and the account's quota is often lower than the 1000 the documentation
names as the default (new accounts start lower and are raised with use)
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html,
https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html,
https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html). Terraform finds out half-way through
an apply; `check_lambda_concurrency` finds out first, from what the synthesized stacks reserve, what the account
has (`GetAccountSettings`) and what the functions reserve already (`GetFunctionConcurrency`).

Once-per-account and once-per-region services: AWS Config allows one configuration recorder and one delivery
channel per region (https://docs.aws.amazon.com/config/latest/developerguide/configlimits.html), and CloudTrail five
trails per region, a multi-region trail counting in every region
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html). An account that an
organization already records fails half-way through the apply; `check_account_singletons` reads what the account
has and names the switch (`account_security.config_recorder`, `account_security.cloudtrail`) before Terraform starts.

An Aurora global database takes only engine versions that support it, and the same version and an offered class in
every region (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.configuration.requirements.html);
the configuration checks the documented minimums, and `check_global_database` asks each region the stacks put a
cluster in (`DescribeDBEngineVersions`' `SupportsGlobalDatabases`, `DescribeOrderableDBInstanceOptions`), since
AWS adds and retires versions by region.
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


#: CloudTrail's trails per region, a multi-region trail counting in each (not adjustable).
TRAILS_PER_REGION = 5
#: Resource type -> (what the check calls it, the switch that leaves it to an organization).
SINGLETONS = {
    "aws_config_configuration_recorder": ("AWS Config recorder", "account_security.config_recorder"),
    "aws_config_delivery_channel": ("AWS Config delivery channel", "account_security.config_recorder"),
    "aws_cloudtrail": ("CloudTrail trail", "account_security.cloudtrail"),
}


def planned_singletons(stack_files: Iterable[Path]) -> dict[str, dict[str, set[str]]]:
    """Resource type (of SINGLETONS) -> region -> the names the synthesized stacks create there. A multi-region
    trail counts in every region, so it is listed under every region the stacks use."""
    found: dict[str, dict[str, set[str]]] = {kind: defaultdict(set) for kind in SINGLETONS}
    used: set[str] = set()
    for path in stack_files:
        stack = json.loads(path.read_text())
        regions = provider_regions(stack)
        used |= set(regions.values())
        for kind in SINGLETONS:
            for body in stack.get("resource", {}).get(kind, {}).values():
                found[kind][regions.get(body.get("provider", "aws"), "")].add(body["name"])
    trails = {name for names in found["aws_cloudtrail"].values() for name in names}
    if trails:
        found["aws_cloudtrail"] = defaultdict(set, {region: set(trails) for region in used if region})
    return {kind: dict(regions) for kind, regions in found.items() if regions}


def existing(kind: str, client: Any) -> list[str]:
    """The names of what the account already has of `kind` in the client's region (shadow trails included;
    recorders that another AWS service owns are not the customer's one)."""
    if kind == "aws_config_configuration_recorder":
        recorders = client.describe_configuration_recorders()["ConfigurationRecorders"]
        return [r["name"] for r in recorders if not r.get("servicePrincipal")]
    if kind == "aws_config_delivery_channel":
        return [c["name"] for c in client.describe_delivery_channels()["DeliveryChannels"]]
    return [t["Name"] for t in client.describe_trails(includeShadowTrails=True)["trailList"]]


def singleton_problems(wanted: dict[str, dict[str, set[str]]], client: Callable[[str, str], Any]) -> list[str]:
    """One line per region where the account cannot take what the stacks create: another recorder or delivery
    channel (one per region), or no room for another trail (five per region)."""
    problems = []
    for kind, regions in sorted(wanted.items()):
        label, switch = SINGLETONS[kind]
        service = "cloudtrail" if kind == "aws_cloudtrail" else "config"
        for region, names in sorted(regions.items()):
            others = sorted(set(existing(kind, client(service, region))) - names)
            if kind == "aws_cloudtrail":
                if len(others) + len(names) > TRAILS_PER_REGION:
                    problems.append(
                        f"{region}: {len(others)} trails already record this region ({', '.join(others)}) and CloudTrail allows"
                        f" {TRAILS_PER_REGION} per region: set {switch}: false when one of them is an organization trail, or remove one"
                    )
            elif others:
                problems.append(
                    f"{region}: the account already has {label} {others[0]!r} and AWS Config allows one per region:"
                    f" set {switch}: false when an organization records the account, or remove it"
                )
    return problems


def check_account_singletons(stack_files: Iterable[Path]) -> None:
    """Raise ToolError (exit 1) naming every region where a recorder, delivery channel or trail cannot be created."""
    problems = singleton_problems(planned_singletons(stack_files), lambda service, region: boto3.client(service, region_name=region))
    if problems:
        raise ToolError("Account services: " + "; ".join(problems))


def planned_global_database(stack_files: Iterable[Path]) -> dict[str, set[tuple[str, str, str]]]:
    """Region -> (engine, version, class) of each Aurora cluster instance the synthesized stacks create there."""
    found: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for path in stack_files:
        stack = json.loads(path.read_text())
        regions = provider_regions(stack)
        for body in stack.get("resource", {}).get("aws_rds_cluster_instance", {}).values():
            found[regions.get(body.get("provider", "aws"), "")].add((body["engine"], body["engine_version"], body["instance_class"]))
    return dict(found)


def global_database_problems(wanted: dict[str, set[tuple[str, str, str]]], client: Callable[[str], Any]) -> list[str]:
    """One line per region that does not offer what a global database's cluster there needs: its engine version
    with SupportsGlobalDatabases, and its instance class for that version."""
    problems = []
    for region, instances in sorted(wanted.items()):
        rds = client(region)
        for engine, version, instance_class in sorted(instances):
            versions = rds.describe_db_engine_versions(Engine=engine, EngineVersion=version)["DBEngineVersions"]
            if not any(v.get("SupportsGlobalDatabases") for v in versions):
                problems.append(f"{region}: {engine} {version} does not support global databases there: choose another engine_version")
                continue
            offered = rds.describe_orderable_db_instance_options(Engine=engine, EngineVersion=version, DBInstanceClass=instance_class)
            if not offered["OrderableDBInstanceOptions"]:
                problems.append(f"{region}: {instance_class} is not offered for {engine} {version} there: choose another instance_class")
    return problems


def check_global_database(stack_files: Iterable[Path]) -> None:
    """Raise ToolError (exit 1) naming every region that cannot hold the stacks' Aurora global database clusters."""
    problems = global_database_problems(planned_global_database(stack_files), lambda region: boto3.client("rds", region_name=region))
    if problems:
        raise ToolError("warm_standby.database: " + "; ".join(problems))
