"""Every generated name against its service's length limit and character set, and against the other names.

Names grow from `<project>-<environment>` plus the architecture, region and role, so a long project and
environment can push one past its limit, which AWS refuses at apply, halfway through. Each synthesized name is
checked before any output is written. The limits come from botocore's service models (AWS maintains them; the
pinned botocore version is in pyproject.toml, and a test checks that the models still say what is relied on here),
and from the service documentation where a model has none. No name is ever cut short to fit: a cut name could
collide with another, or end in a hyphen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import botocore.session

from modules.errors import Problem


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
                    problems.append(
                        Problem(
                            field,
                            name,
                            f"expected at most {rule.max_length} characters for {resource_type} ({where}, {rule.page}), got {len(name)}:"
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
