"""Every generated name against its service's length limit and character set, and against the other names.

Names grow from `<project>-<environment>` plus the architecture, region and role, so a long project and
environment can push one past its limit, which AWS refuses at apply, halfway through. Each synthesized name is
checked before any output is written. The limits come from botocore's service models (AWS maintains them; the
pinned botocore version is in pyproject.toml, and a test checks that the models still say what is relied on here),
and from the service documentation where a model has none. No name is ever cut short to fit: a cut name could
collide with another, or end in a hyphen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session

from modules.errors import Problem

if TYPE_CHECKING:
    from modules.config import DeploymentConfig


@dataclass(frozen=True)
class NameRule:
    """A name attribute of a resource type: at most `max_length` characters, all of `pattern`; `page` says so."""

    attribute: str
    max_length: int
    pattern: str | None
    page: str
    account_wide: bool = False  # IAM names are unique per account, the rest per region


#: resource type -> (attribute, botocore service, operation, input member): the limit is the model's.
FROM_BOTOCORE: dict[str, tuple[str, str, str, str]] = {
    "aws_iam_role": ("name", "iam", "CreateRole", "RoleName"),
    "aws_iam_policy": ("name", "iam", "CreatePolicy", "PolicyName"),
    "aws_iam_role_policy": ("name", "iam", "PutRolePolicy", "PolicyName"),
    "aws_cloudwatch_event_rule": ("name", "events", "PutRule", "Name"),
    "aws_ssm_document": ("name", "ssm", "CreateDocument", "Name"),
    "aws_wafv2_web_acl": ("name", "wafv2", "CreateWebACL", "Name"),
    "aws_backup_vault": ("name", "backup", "CreateBackupVault", "BackupVaultName"),
    "aws_cloudwatch_metric_alarm": ("alarm_name", "cloudwatch", "PutMetricAlarm", "AlarmName"),
    "aws_kms_alias": ("name", "kms", "CreateAlias", "AliasName"),
    "aws_secretsmanager_secret": ("name", "secretsmanager", "CreateSecret", "Name"),
    "aws_autoscaling_group": ("name", "autoscaling", "CreateAutoScalingGroup", "AutoScalingGroupName"),
    "aws_launch_template": ("name", "ec2", "CreateLaunchTemplate", "LaunchTemplateName"),
    "aws_resiliencehub_resiliency_policy": ("name", "resiliencehub", "CreateResiliencyPolicy", "policyName"),
    "aws_synthetics_canary": ("name", "synthetics", "CreateCanary", "Name"),
}
_ELB_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
#: Where the model gives no limit: the documented one.
DOCUMENTED: dict[str, NameRule] = {
    "aws_lb": NameRule(
        "name", 32, _ELB_NAME, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html"
    ),
    "aws_lb_target_group": NameRule(
        "name", 32, _ELB_NAME, "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html"
    ),
    "aws_lambda_function": NameRule(
        "function_name", 64, r"[A-Za-z0-9_-]+", "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"
    ),
    "aws_sqs_queue": NameRule(
        "name", 80, r"[A-Za-z0-9_-]+", "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"
    ),
    "aws_sns_topic": NameRule("name", 256, r"[A-Za-z0-9_-]+", "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html"),
    "aws_db_instance": NameRule(
        "identifier",
        63,
        r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]",
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
    ),
    "aws_s3_bucket": NameRule(
        "bucket", 63, r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
    ),
    "aws_dynamodb_table": NameRule(
        "name",
        255,
        r"[A-Za-z0-9_.-]{3,255}",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html",
    ),
    "aws_security_group": NameRule(
        "name", 255, None, "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html"
    ),
    "aws_cloudwatch_dashboard": NameRule(
        "dashboard_name", 255, r"[A-Za-z0-9_-]+", "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html"
    ),
    "aws_cloudtrail": NameRule(
        "name",
        128,
        r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?",
        "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_CreateTrail.html",
    ),
    "aws_config_config_rule": NameRule("name", 128, None, "https://docs.aws.amazon.com/config/latest/APIReference/API_ConfigRule.html"),
    "aws_budgets_budget": NameRule(
        "name", 100, r"[^:\\]+", "https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Budget.html"
    ),
}


_CLASS = re.compile(r"\[(?:\\.|[^\]\\])+\](?:\{(\d+)(?:,(\d+))?\})?")


def _widest(pattern: str) -> int | None:
    """The longest string a pattern made only of character classes (each once, or `{m,n}` times) matches."""
    body, total, position = pattern.removeprefix("^").removesuffix("$"), 0, 0
    while position < len(body):
        match = _CLASS.match(body, position)
        if match is None:
            return None
        total += int(match.group(2) or match.group(1) or 1)
        position = match.end()
    return total


@cache
def botocore_rule(service: str, operation: str, member: str) -> tuple[int, str | None]:
    """(max length, pattern) of an API input member, from botocore's model: its `max`, else the longest string its
    pattern matches. A pattern Python cannot read (Java-style surrogate ranges) is left out; the length still counts."""
    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape.members[member]
    pattern = shape.metadata.get("pattern")
    try:
        re.compile(pattern or "")
    except re.error:
        pattern = None
    maximum = shape.metadata.get("max") or (_widest(pattern) if pattern else None)
    if maximum is None:
        raise LookupError(f"{service}.{operation}.{member}: the model gives no maximum length")
    return int(maximum), pattern


def rules() -> dict[str, NameRule]:
    """Every checked resource type and its rule."""
    found = dict(DOCUMENTED)
    for resource_type, (attribute, service, operation, member) in FROM_BOTOCORE.items():
        maximum, pattern = botocore_rule(service, operation, member)
        page = f"botocore {service}.{operation}.{member}"
        found[resource_type] = NameRule(attribute, maximum, pattern, page, account_wide=service == "iam")
    return found


def _regions(stack: Mapping[str, Any]) -> dict[str, str]:
    """Provider reference ("aws" or "aws.<alias>") -> its region."""
    return {
        ("aws" if "alias" not in provider else f"aws.{provider['alias']}"): provider.get("region", "")
        for provider in stack.get("provider", {}).get("aws", [])
    }


def name_problems(stacks: Mapping[str, Mapping[str, Any]], name_prefix: str) -> list[Problem]:
    """Every name over its limit, outside its character set, or taken twice, in the synthesized `stacks`.

    A name that begins with `name_prefix` is reported against `project`/`environment`, the fields that set it."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], str] = {}
    checked = rules()
    for stack_name, stack in stacks.items():
        regions = _regions(stack)
        for resource_type, rule in checked.items():
            for logical, body in stack.get("resource", {}).get(resource_type, {}).items():
                name = body.get(rule.attribute)
                if not isinstance(name, str) or "${" in name:
                    continue  # set by AWS, or known only at apply
                where = f"{stack_name}: {resource_type}.{logical}.{rule.attribute}"
                field = "project, environment" if name.startswith(f"{name_prefix}-") else where
                if len(name) > rule.max_length:
                    over = f"{len(name)} characters, {len(name) - rule.max_length} over the {rule.max_length} allowed"
                    problems.append(
                        Problem(
                            field,
                            name,
                            f"expected at most {rule.max_length} characters for {resource_type} ({where}, {rule.page}), got {over}:"
                            + (" shorten project or environment" if field != where else " shorten the name"),
                        )
                    )
                elif rule.pattern and not re.fullmatch(rule.pattern, name):
                    problems.append(Problem(where, name, f"expected a name matching {rule.pattern} ({rule.page})"))
                if resource_type == "aws_iam_role_policy":
                    scope = str(body.get("role"))  # an inline policy's name is unique within its role
                else:
                    scope = "account" if rule.account_wide else regions.get(body.get("provider", "aws"), "")
                key = (resource_type, scope, name)
                if key in seen and seen[key] != where:
                    problems.append(Problem(where, name, f"expected a name of its own: {seen[key]} has it too ({scope})"))
                seen.setdefault(key, where)
    return problems


# --- the names a configuration will get, without the provider bindings ---

#: Every checked name of a synth, with the configuration's values as placeholders (tools.name_templates writes it).
TEMPLATE_FILE = Path(__file__).with_name("name_templates.json")
#: Which configuration part a stack belongs to, by its name: the bootstrap always, the others when enabled.
_PARTS = (("active-active", "active_active"), ("warm-standby", "warm_standby"))


def placeholders(config: DeploymentConfig) -> dict[str, str]:
    """placeholder -> the configuration's value, for every value a generated name is built from."""
    state = config.state
    values = {
        "{state.replica_bucket}": state.replica_bucket_name,
        "{state.bucket}": state.bucket,
        "{state.lock_table}": state.lock_table,
        "{state.region}": state.region,
        "{state.replica_region}": state.replica_region,
        "{prefix}": config.name_prefix,
        "{account}": config.account_id,
    }
    for key, arch in (("active_active", config.active_active), ("warm_standby", config.warm_standby)):
        if arch is not None:
            first, second = arch.regions
            values[f"{{{key}.first}}"], values[f"{{{key}.second}}"] = first.region, second.region
    return values


def _part(stack_name: str) -> str:
    return next((part for prefix, part in _PARTS if stack_name.startswith(f"{prefix}-")), "state")


def name_templates(stacks: Mapping[str, Mapping[str, Any]], config: DeploymentConfig) -> dict[str, Any]:
    """The checked names of synthesized `stacks` (and what name_problems reads beside them: providers, the role of an
    inline policy), every value of `config` replaced by its placeholder, longest value first."""
    checked = rules()
    reduced: dict[str, Any] = {}
    for stack_name, stack in sorted(stacks.items()):
        resources: dict[str, Any] = {}
        for resource_type, rule in checked.items():
            for logical, body in stack.get("resource", {}).get(resource_type, {}).items():
                if isinstance(body.get(rule.attribute), str):
                    kept = {key: body[key] for key in (rule.attribute, "provider", "role") if key in body}
                    resources.setdefault(resource_type, {})[logical] = kept
        providers = [{key: p[key] for key in ("alias", "region") if key in p} for p in stack.get("provider", {}).get("aws", [])]
        reduced[stack_name] = {"part": _part(stack_name), "provider": {"aws": providers}, "resource": resources}
    text = json.dumps(reduced, indent=1, sort_keys=True)
    for placeholder, value in sorted(placeholders(config).items(), key=lambda item: -len(item[1])):
        text = text.replace(value, placeholder)
    return json.loads(text)


def forecast(config: DeploymentConfig, templates: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The checked names `config` will get, as name_problems reads them, from the templates: no bindings needed."""
    text = json.dumps(templates if templates is not None else json.loads(TEMPLATE_FILE.read_text()))
    for placeholder, value in placeholders(config).items():
        text = text.replace(placeholder, value)
    enabled = {"state", *(key for key, _ in config.enabled_architectures())}
    return {name: stack for name, stack in json.loads(text).items() if stack["part"] in enabled}


def forecast_problems(config: DeploymentConfig) -> list[Problem]:
    """Every name AWS would refuse, or that two resources would share, for `config`: the synth's own check
    (name_problems) on the forecast names, in a fraction of a second, so `main.py --check` catches it."""
    return name_problems(forecast(config), config.name_prefix)
