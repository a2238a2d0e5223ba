"""The components the architectures are composed of: layering rules, and each new construct's input checks."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from modules.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 80  # signature and docstring included
HOUSE = ("modules", "stacks")


def test_stacks_only_compose_modules() -> None:
    """No file in stacks/ imports the provider bindings: every resource comes from a module."""
    offenders = [path.name for path in (ROOT / "stacks").glob("*.py") if "cdktf_cdktf_provider_aws" in path.read_text()]
    assert offenders == []


def house_files() -> list[Path]:
    return sorted(path for folder in HOUSE for path in (ROOT / folder).glob("*.py"))


def test_no_function_in_modules_or_stacks_is_longer_than_80_lines() -> None:
    long = []
    for path in house_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                long.append(f"{path.name}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert long == []


CLIENT_FACTORIES = ("client", "resource", "create_client")


def aws_clients(source: str) -> list[str]:
    """Where `source` uses boto3 or a botocore client: an import of boto3, or a call of client/resource/create_client
    (reading botocore's service models for limits is not a client)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            found += [f"line {node.lineno}: imports {name}" for name in names if name.split(".")[0] == "boto3"]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLIENT_FACTORIES:
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return found


def test_no_module_in_stacks_or_modules_calls_aws() -> None:
    """Code that runs inside AWS lives in runbooks/ and lambda/; the constructs only describe it."""
    offenders = {path.name: found for path in house_files() if (found := aws_clients(path.read_text()))}
    assert offenders == {}
    # the check sees both forms it refuses
    assert aws_clients("import boto3\n") and aws_clients("import botocore.session\nbotocore.session.get_session().create_client('s3')\n")
    assert aws_clients("import botocore.session\nbotocore.session.get_session().get_service_model('ec2')\n") == []


def test_no_two_files_in_stacks_and_modules_share_a_name() -> None:
    names = [path.name for path in house_files() if path.name != "__init__.py"]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_the_runbooks_import_without_cdktf_and_each_handler_names_its_helpers() -> None:
    """The step code is importable on its own (a new process, so nothing else loaded cdktf first), and every HELPERS
    entry points at functions of the runbooks package that its handler's script embeds."""
    import importlib
    import subprocess
    import sys

    modules = sorted(f"runbooks.{path.stem}" for path in (ROOT / "runbooks").glob("*.py") if path.stem != "__init__")
    assert modules, "the runbooks package holds the step code"
    imports = "".join(f"import {name}\n" for name in modules)
    probe = f"import sys\n{imports}print(sorted(m for m in sys.modules if m.startswith(('cdktf', 'constructs', 'jsii'))))"
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert loaded.strip() == "[]"
    for name in modules:
        module = importlib.import_module(name)
        for handler, helpers in getattr(module, "HELPERS", {}).items():
            assert all(helper.__module__.startswith("runbooks.") for helper in (handler, *helpers)), (name, handler.__name__)


def test_modules_never_import_stacks() -> None:
    offenders = [
        path.name for path in (ROOT / "modules").glob("*.py") if "from stacks" in path.read_text() or "import stacks" in path.read_text()
    ]
    assert offenders == []


def test_security_group_chain_refuses_links_to_strangers(scratch_stack: Any) -> None:
    from modules.security_groups import Egress, Link, SecurityGroupChain

    with pytest.raises(InputError) as caught:
        SecurityGroupChain(
            scratch_stack(),
            "chain",
            name="c",
            vpc_id="vpc-1",
            members=("app", "db"),
            links=[Link("web", "db", 5432), Link("app", "db", 70000)],
            egress=[Egress("app", "s3", security_group_id="sg-1", prefix_list_id="pl-1")],
        )
    assert [line.split("/", 1)[1] for line in str(caught.value).splitlines()] == [
        "chain.links[0]: got 'web'; expected a member: one of ['app', 'db']",
        "chain.links[1].port: got 70000; expected a TCP port from 1 to 65535",
        "chain.egress[0]: got 's3'; expected exactly one of security_group_id, prefix_list_id",
    ]


def test_security_group_chain_opens_exactly_its_links(scratch_stack: Any) -> None:
    from modules.moves import logical_id
    from modules.security_groups import Link, SecurityGroupChain
    from tests.conftest import synth_json

    stack = scratch_stack()
    chain = SecurityGroupChain(stack, "chain", name="c", vpc_id="vpc-1", members=("app", "db"), links=[Link("app", "db", 5432)])
    resources = synth_json(stack)["resource"]
    (ingress,) = resources["aws_vpc_security_group_ingress_rule"].values()
    (egress,) = resources["aws_vpc_security_group_egress_rule"].values()
    assert (ingress["from_port"], ingress["to_port"], ingress["ip_protocol"]) == (5432, 5432, "tcp")
    assert ingress["referenced_security_group_id"] == f"${{aws_security_group.{logical_id(['chain', 'sg-app'])}.id}}"
    assert egress["referenced_security_group_id"] == f"${{aws_security_group.{logical_id(['chain', 'sg-db'])}.id}}"
    with pytest.raises(InputError, match=r"/chain.member: got 'web'; expected one of \['app', 'db'\]"):
        chain.group_id("web")


def test_event_rule_and_role_names_follow_eventbridge_and_iam(scratch_stack: Any) -> None:
    """No name is cut to fit: a 65-character forwarding name is refused at synth for the rule and for its role."""
    from modules.events import EventForwarding
    from modules.names import name_problems

    stack = scratch_stack()
    EventForwarding(stack, "forward", name="zz-" + "x" * 62, pattern={"source": ["aws.health"]}, target_region="us-west-2")
    problems = sorted(str(problem) for problem in name_problems({"s": stack.to_terraform()}, "zz"))
    assert len(problems) == 2, problems
    for problem, kind, limit in zip(
        problems, ("aws_cloudwatch_event_rule", "aws_iam_role"), ("events.PutRule.Name", "iam.CreateRole.RoleName"), strict=True
    ):
        assert problem.startswith(f"project, environment: got 'zz-{'x' * 62}'; expected at most 64 characters for {kind} "), problem
        assert problem.endswith(f"botocore {limit}), got 65 characters, 1 over the 64 allowed: shorten project or environment"), problem


def test_multi_region_bucket_needs_two_sites_and_a_valid_access_point_name(scratch_stack: Any) -> None:
    from modules.multi_region_bucket import BucketSite, MultiRegionBucket

    site = BucketSite("primary", "bucket-a-123", "logs-a-123")
    with pytest.raises(InputError, match=r"/assets.sites: got \['primary'\]; expected two sites with distinct labels"):
        MultiRegionBucket(scratch_stack(), "assets", name="assets", sites=[site])
    with pytest.raises(InputError, match=r"/assets.name: got 'Assets_1'; expected 3 to 50 lowercase letters, digits or hyphens"):
        MultiRegionBucket(scratch_stack(), "assets", name="Assets_1", sites=[site, BucketSite("standby", "b", "l")])


def test_database_needs_two_availability_zones(scratch_stack: Any) -> None:
    from modules.config import DatabaseSettings
    from modules.database import PostgresDatabase
    from modules.kms import EncryptionKey

    stack = scratch_stack()
    key = EncryptionKey(stack, "key", alias="k", description="k")
    with pytest.raises(InputError, match=r"/db.subnet_ids: got \['subnet-1'\]; expected subnets in at least 2 AZs \(Multi-AZ\)"):
        PostgresDatabase(
            stack,
            "db",
            identifier="orders",
            settings=DatabaseSettings(),
            subnet_ids=["subnet-1"],
            security_group_id="sg-1",
            key=key,
            name_prefix="orders",
            monitoring_role_name="orders-monitoring",
            writer_parameter_name="/orders/db",
            master_secret_name="orders/db-master",  # noqa: S106 - a secret's name
        )


def test_drill_builders_refuse_empty_documents_and_experiments(scratch_stack: Any) -> None:
    from modules.drills import automation_experiment, runbook_document

    stack = scratch_stack()
    with pytest.raises(InputError, match=r"/doc.steps: got \[\]; expected at least one step"):
        runbook_document(stack, "doc", name="d", description="d", parameters={}, steps=[])
    with pytest.raises(InputError, match=r"/exp.runs: got \[\]; expected at least one automation run"):
        automation_experiment(stack, "exp", name="e", description="e", role_arn="r", automation_role_arn="a", runs=[], stop_alarm_arn="s")
