"""Helpers for the CKV_HADR checks: read checkov's parsed resource configuration and declare a check."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

#: Where the checks are documented, relative to the repository root (SARIF help).
GUIDELINE = "policies/checkov/README.md"
#: Automated backups an RDS instance keeps, at least (primary, and a replica about to be promoted).
MIN_RETENTION_DAYS = 7


def attr(conf: dict[str, Any], name: str) -> Any:
    """An attribute's value (unwrapped from checkov's one-item list), or None when it is not set."""
    value = conf.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def blocks(conf: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The nested blocks called `name` (an empty list when there are none)."""
    value = conf.get(name) or []
    found = value if isinstance(value, list) else [value]
    return [block for block in found if isinstance(block, dict)]


def block(conf: dict[str, Any], name: str) -> dict[str, Any]:
    """The first nested block called `name`, or an empty dict."""
    found = blocks(conf, name)
    return found[0] if found else {}


def json_attr(conf: dict[str, Any], name: str) -> Any:
    """An attribute that holds a JSON document (an SSM document's content, an event pattern), parsed; None when it
    is unset or not JSON (YAML, or an expression known only at apply)."""
    value = attr(conf, name)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def as_int(value: Any) -> int | None:
    """An integer attribute, or None when it is unset or an expression known only at apply time."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_bool(value: Any) -> bool:
    """A boolean attribute: Terraform JSON takes `true` and the string "true" alike (any case), so both count."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def arn_region(value: Any) -> str | None:
    """The region of a literal ARN (arn:partition:service:region:account:...), or None: an expression, no region."""
    parts = str(value or "").split(":")
    return parts[3] or None if len(parts) > 5 and parts[0] == "arn" else None


def result(ok: bool) -> CheckResult:
    return CheckResult.PASSED if ok else CheckResult.FAILED


class HadrCheck(BaseResourceCheck):
    """A resource check of the HA/DR category; subclasses set the ID, name and resource types."""

    check_id = ""
    description = ""
    resource_types: Iterable[str] = ()

    def __init__(self) -> None:
        super().__init__(
            name=self.description,
            id=self.check_id,
            categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=list(self.resource_types),
            guideline=f"{GUIDELINE}#{self.check_id.lower()}",
        )
