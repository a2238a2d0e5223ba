"""The recovery plan's permissions, call by call (stacks.plan_permissions): the table holds exactly the calls the
plan's code makes, the README shows it, and the readiness permission evaluation, run as the synthesized plan role
with IAM enforced, passes, while a policy without one permission fails readiness with that permission named."""

from __future__ import annotations

import ast
import datetime
import inspect
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import xform_name
from botocore.session import get_session
from moto import mock_aws

from runbooks import permissions, recovery_plan
from stacks.plan_permissions import PLAN_CALLS, markdown_table
from tests.conftest import Synthesized, act_as, role_policy, topic_with_inbox, without
from tools.automation import AutomationFailed, run_document

STANDBY = "us-west-1"
STACK = f"warm-standby-{STANDBY}"
PLAN_ROLE = "hadr-prod-warm-standby-recovery-plan"
REFERENCE = "arn:aws:terraform:::reference-known-at-apply"  # what role_policy makes of a Terraform reference
ROOT = Path(__file__).resolve().parent.parent


def calls_of(functions: tuple[Any, ...]) -> set[str]:
    """The `service:Operation` calls `functions` make, read from their source: a method of a client that
    client_in/boto3.client created there, paginators included."""
    sources = [ast.parse(textwrap.dedent(inspect.getsource(f))) for f in functions]
    nodes = [n for tree in sources for n in ast.walk(tree) if isinstance(n, ast.Call)]
    services = {
        n.args[0].value
        for n in nodes
        if isinstance(n.func, (ast.Name, ast.Attribute)) and getattr(n.func, "id", getattr(n.func, "attr", "")) in ("client_in", "client")
        and n.args and isinstance(n.args[0], ast.Constant)
    }  # fmt: skip
    methods = {n.args[0].value if n.func.attr == "get_paginator" else n.func.attr for n in nodes if isinstance(n.func, ast.Attribute)}
    found = set()
    for service in services:
        model = get_session().get_service_model(service)
        found |= {f"{service}:{op}" for op in model.operation_names if xform_name(op) in methods}
    return found


def test_the_table_lists_every_call_each_handler_makes_and_no_other() -> None:
    handlers = {**recovery_plan.HELPERS, **permissions.HELPERS}
    for handler, helpers in handlers.items():
        made = calls_of((handler, *helpers))
        listed = {row.call.split(" (")[0] for row in PLAN_CALLS if handler.__name__ in row.handlers}
        assert made - {"sts:GetCallerIdentity"} == listed, handler.__name__  # GetCallerIdentity needs no permission
    named = {name for row in PLAN_CALLS for name in row.handlers} - {"document"}
    assert named == {handler.__name__ for handler in handlers}


def test_every_api_step_of_the_documents_is_a_row(synthesized: Synthesized) -> None:
    apis = set()
    for key in ("switch", "rebuild", "permissions"):
        content = json.loads(synthesized.one(STACK, "aws_ssm_document", f"recovery-plan/{key}")["content"])
        steps = [s for s in content["mainSteps"] if s["action"] == "aws:executeAwsApi"]
        apis |= {f"{s['inputs']['Service']}:{s['inputs']['Api']}" for s in steps}
        if any(s["action"] == "aws:approve" for s in content["mainSteps"]):
            apis.add("sns:Publish")  # aws:approve notifies its topic as the role
    documented = {row.call for row in PLAN_CALLS if "document" in row.handlers}
    assert apis == documented


def test_the_readme_shows_the_table() -> None:
    assert markdown_table() in (ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def permission_document(synthesized: Synthesized) -> dict[str, Any]:
    text = synthesized.one(STACK, "aws_ssm_document", "recovery-plan/permissions")["content"]
    return json.loads(text)


@pytest.fixture
def standby(fake_aws: None, fixups: None) -> Iterator[dict[str, Any]]:
    with mock_aws():
        topic, received = topic_with_inbox(STANDBY)
        yield {"topic": topic, "messages": received}


def evaluate(document: dict[str, Any], policy: dict[str, Any], world: dict[str, Any]) -> Any:
    """Run the permissions document as a role named as the plan's role with `policy`, IAM enforced; Terraform's
    references in its checks become the placeholder ARN role_policy put in the policy."""
    checks = re.sub(r"(?<!\$)\$\{[^}]*\}", REFERENCE, document["parameters"]["Checks"]["default"])
    values = {"AutomationAssumeRole": f"arn:aws:iam::123456789012:role/{PLAN_ROLE}", "Checks": checks, "TopicArn": world["topic"]}
    return act_as(
        policy,
        lambda clients: run_document(document, values, region=STANDBY, clients=clients),
        service="ssm.amazonaws.com",
        region=STANDBY,
        role_name=PLAN_ROLE,
    )


def readiness() -> list[float]:
    """The StandbyReady values published in the last minutes (as the readiness alarm reads them)."""
    now = datetime.datetime.now(datetime.UTC)
    stats = boto3.client("cloudwatch", region_name=STANDBY).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "ready",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "HADR/WarmStandby",
                        "MetricName": "StandbyReady",
                        "Dimensions": [
                            {"Name": "Deployment", "Value": "hadr-prod-warm-standby"},
                            {"Name": "TargetRegion", "Value": STANDBY},
                        ],
                    },
                    "Period": 60,
                    "Stat": "Minimum",
                },
            }
        ],
        StartTime=now - datetime.timedelta(minutes=5),
        EndTime=now + datetime.timedelta(minutes=5),
    )
    return stats["MetricDataResults"][0]["Values"]


@pytest.fixture(scope="module")
def policy(synthesized: Synthesized) -> dict[str, Any]:
    return role_policy(synthesized, STACK, "recovery-plan/role/policy")


def test_the_synthesized_role_passes_its_permission_evaluation(
    standby: dict[str, Any], permission_document: dict[str, Any], policy: dict[str, Any]
) -> None:
    execution = evaluate(permission_document, policy, standby)
    assert execution.ran() == ["checkPermissions", "decideOnPermissions", "permissionsComplete"]
    assert execution.outputs["checkPermissions.Missing"] == "none"
    assert re.fullmatch(
        rf"\d+ checks of arn:aws:iam::123456789012:role/{PLAN_ROLE}: 0 refused", execution.outputs["checkPermissions.Summary"]
    )
    assert readiness() == [1.0]
    assert standby["messages"]() == []


@pytest.mark.parametrize(
    ("action", "named"),
    [
        # defect 2 of the disaster review: Parameter Store encrypts a Standard SecureString as the caller
        ("kms:Encrypt", r"kms:Encrypt on arn:aws:kms:us-east-1:123456789012:key/\S+ with kms:ViaService=ssm.us-east-1.amazonaws.com"),
        ("s3:SubmitMultiRegionAccessPointRoutes", r"s3:SubmitMultiRegionAccessPointRoutes on arn:aws:s3::123456789012:accesspoint/"),
        # the example's engine, Aurora: the global database's failover, checked on the global cluster and both clusters
        (
            "rds:FailoverGlobalCluster",
            r"rds:FailoverGlobalCluster on arn:aws:rds::123456789012:global-cluster:hadr-prod-warm-standby-global-db",
        ),
    ],
)
def test_a_permission_the_role_lacks_fails_readiness_with_it_named(
    standby: dict[str, Any], permission_document: dict[str, Any], policy: dict[str, Any], action: str, named: str
) -> None:
    with pytest.raises(AutomationFailed, match=r"Permissions missing: .* [1-9][0-9]* refused"):
        evaluate(permission_document, without(policy, action), standby)
    assert readiness() == [0.0]
    [message] = standby["messages"]()
    assert message.startswith("Recovery plan NOT READY: permissions missing:")
    assert re.search(named, message), message


@pytest.mark.parametrize("missing", [None, "rds:CreateDBSnapshot"])
def test_on_the_rds_engine_the_role_passes_and_lacking_the_snapshot_permission_fails_readiness(
    standby: dict[str, Any], postgres_synthesized: Synthesized, missing: str | None
) -> None:
    """The other engine's plan role: its own calls (promote, rebuild with a final snapshot), evaluated the same way."""
    document = json.loads(postgres_synthesized.one(STACK, "aws_ssm_document", "recovery-plan/permissions")["content"])
    policy = role_policy(postgres_synthesized, STACK, "recovery-plan/role/policy")
    assert "rds:FailoverGlobalCluster" not in json.dumps(document), "the other engine's calls are not checked"
    if missing is None:
        assert evaluate(document, policy, standby).outputs["checkPermissions.Missing"] == "none"
        return
    with pytest.raises(AutomationFailed, match=r"Permissions missing: .* [1-9][0-9]* refused"):
        evaluate(document, without(policy, missing), standby)
    [message] = standby["messages"]()
    assert re.search(r"rds:CreateDBSnapshot on arn:aws:rds:us-east-1:123456789012:snapshot:hadr-prod-warm-standby-db-before", message)


def test_an_evaluation_that_cannot_run_fails_readiness(
    standby: dict[str, Any], permission_document: dict[str, Any], policy: dict[str, Any]
) -> None:
    with pytest.raises(AutomationFailed, match="The permission evaluation failed"):
        evaluate(permission_document, without(policy, "iam:SimulatePrincipalPolicy"), standby)
    assert readiness() == [0.0]
    [message] = standby["messages"]()
    assert "could not be evaluated" in message
