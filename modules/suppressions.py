"""Per-resource checkov suppressions, recorded in the synthesized JSON where `make scan` applies them.

checkov's terraform_json runner ignores inline skip comments and `--skip-check` is global, so a suppression is
written to the resource's `//` metadata (`"//": {"checkov": {"skip": [{"id", "reason"}]}}`) and the scan moves a
matching failure to "skipped" with that reason. A suppression must name one check and say why, in 10+ characters.
"""

from __future__ import annotations

import re

from cdktf import TerraformResource

from modules.errors import InputError, Problem

CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
MIN_REASON_LENGTH = 10
#: Per resource object (two apps in one process may share construct paths).
_recorded: dict[int, list[dict[str, str]]] = {}


def suppress(resource: TerraformResource, check_id: str, reason: str) -> None:
    """Record that `check_id` does not apply to `resource`, and why."""
    path = f"{resource.node.path}.suppress"
    problems = []
    if not CHECK_ID.match(check_id):
        problems.append(Problem(f"{path}.check_id", check_id, "expected a checkov check ID such as CKV_AWS_18 or CKV2_AWS_62"))
    if len(reason.strip()) < MIN_REASON_LENGTH:
        problems.append(Problem(f"{path}.reason", reason, f"expected a reason of at least {MIN_REASON_LENGTH} characters"))
    if problems:
        raise InputError(problems)
    entries = _recorded.setdefault(id(resource), [])
    if any(entry["id"] == check_id for entry in entries):
        raise InputError.single(f"{path}.check_id", check_id, "expected each check to be suppressed once per resource")
    entries.append({"id": check_id, "reason": reason.strip()})
    resource.add_override("//.checkov.skip", list(entries))
