"""Turn the plan JSON files of tools.plan into one Markdown report for a pull request.

    python -m tools.plan_report [--plans cdktf.out/plans] [--output FILE] [--comment FILE]
                                [--allow-stateful-changes] [--allow-blocked] [--max-comment-chars 60000]

The report opens with what was not checked: stacks that failed or were blocked, and, for an offline plan, a
note that nothing was compared with real state. Then the stateful resources (databases, tables, buckets, keys,
secrets, vaults) that would be replaced or destroyed, a line per stack with its add / change / replace / destroy
counts, and per stack: each changed resource's attributes, and for creations the count per resource type and
the notable settings of the stateful and security resources. `--output` gets the whole report (and so does
$GITHUB_STEP_SUMMARY when set); `--comment` gets a version cut below GitHub's 65,536-character comment limit at a
section boundary, with a note saying what was left out and where to find it.

Exit 0; 1 when a stack failed to plan; 4 when a stack is blocked and --allow-blocked is not given; 3 when a
stateful resource would be replaced or destroyed and --allow-stateful-changes is not given; 2 when the plans
folder holds no summary or a plan file is missing or unreadable (run tools.plan first).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.cli import EXIT_SETUP, ToolError, command
from tools.diagram import report_section

#: Resource types whose replacement or deletion loses data or breaks what depends on their identity.
STATEFUL_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_dynamodb_table",
        "aws_dynamodb_table_replica",
        "aws_s3_bucket",
        "aws_kms_key",
        "aws_secretsmanager_secret",
        "aws_backup_vault",
        "aws_efs_file_system",
        "aws_ebs_volume",
        "aws_elasticache_replication_group",
        "aws_sqs_queue",
        "aws_ssm_parameter",
        "aws_cloudwatch_log_group",
        "aws_route53_zone",
    }
)
GITHUB_COMMENT_LIMIT = 65_536
#: Room left under the limit for the sticky-comment marker and the truncation note.
DEFAULT_COMMENT_CHARS = 60_000
#: GitHub accepts at most 1 MiB of job summary per step.
STEP_SUMMARY_LIMIT = 1_000_000
MAX_VALUE_CHARS = 200
EXIT_FAILED = 1
EXIT_STATEFUL = 3
EXIT_BLOCKED = 4
#: Settings a reviewer checks on a new stateful or security resource (plan `after` values; unknown ones are left out).
NOTABLE_SETTINGS: dict[str, tuple[str, ...]] = {
    "aws_db_instance": (
        "engine",
        "engine_version",
        "instance_class",
        "multi_az",
        "storage_encrypted",
        "deletion_protection",
        "backup_retention_period",
        "publicly_accessible",
        "replicate_source_db",
    ),
    "aws_rds_global_cluster": ("engine", "engine_version", "storage_encrypted", "deletion_protection"),
    "aws_rds_cluster": (
        "engine",
        "engine_version",
        "storage_encrypted",
        "deletion_protection",
        "backup_retention_period",
        "source_region",
    ),
    "aws_rds_cluster_instance": ("instance_class", "publicly_accessible"),
    "aws_dynamodb_table": (
        "billing_mode",
        "deletion_protection_enabled",
        "point_in_time_recovery[0].enabled",
        "server_side_encryption[0].enabled",
        "stream_view_type",
    ),
    "aws_dynamodb_table_replica": ("deletion_protection_enabled", "point_in_time_recovery"),
    "aws_s3_bucket": ("bucket", "force_destroy", "object_lock_enabled"),
    "aws_s3_bucket_public_access_block": ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"),
    "aws_kms_key": ("enable_key_rotation", "deletion_window_in_days", "multi_region", "key_usage"),
    "aws_secretsmanager_secret": ("name", "recovery_window_in_days"),
    "aws_backup_vault": ("name", "force_destroy"),
    "aws_cloudwatch_log_group": ("name", "retention_in_days"),
    "aws_sqs_queue": ("name", "message_retention_seconds", "sqs_managed_sse_enabled"),
    "aws_security_group": ("name", "vpc_id"),
    # and where the traffic comes from or goes to (rule_peer)
    "aws_vpc_security_group_ingress_rule": ("ip_protocol", "from_port", "to_port"),
    "aws_vpc_security_group_egress_rule": ("ip_protocol", "from_port", "to_port"),
    "aws_iam_role": ("name", "max_session_duration"),
    "aws_lb": ("name", "internal", "drop_invalid_header_fields", "enable_deletion_protection"),
    "aws_lambda_function": ("function_name", "runtime", "timeout", "reserved_concurrent_executions"),
    "aws_api_gateway_rest_api": ("name", "disable_execute_api_endpoint"),
    "aws_wafv2_web_acl": ("name", "scope"),
    "aws_cloudfront_distribution": ("enabled", "price_class", "web_acl_id"),
}
OFFLINE_NOTE = """> [!NOTE]
> **Offline plan: nothing was compared with real state.** There was no state, no account and no data source read,
> so every resource shows as new and no change, replacement or destruction can show up here.
> It tells that the provider accepts the configuration (types, required arguments, validation, preconditions)
> and what a deploy into an empty account would create, with which settings.
> It cannot tell what exists already, what would change or be destroyed, whether names are free, or whether
> quotas and permissions allow it. Run the live plan (`make plan` with credentials) for that."""
ACTION_WORDS = (("create", "add"), ("update", "change"), ("replace", "replace"), ("delete", "destroy"))
TRUNCATION_NOTE = "The full report is in this run's job summary and in the `plan-report` artifact."


@dataclass
class ResourceChange:
    address: str
    resource_type: str
    action: str  # create, update, replace, delete
    attributes: list[tuple[str, str, str, bool]] = field(default_factory=list)  # (path, before, after, forces replacement)
    settings: dict[str, str] = field(default_factory=dict)  # notable settings of a created resource

    @property
    def stateful(self) -> bool:
        return self.resource_type in STATEFUL_TYPES and self.action in ("replace", "delete")


@dataclass
class StackPlan:
    stack: str
    status: str
    reason: str = ""
    changes: list[ResourceChange] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(change.action == action for change in self.changes)


def action_of(actions: list[str]) -> str | None:
    """Terraform's action list as one word; None for no-op and read."""
    if "delete" in actions and "create" in actions:
        return "replace"
    for action in ("create", "update", "delete"):
        if actions == [action]:
            return action
    return None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested plan values as {"a.b[0].c": leaf}; empty containers are kept as leaves."""
    if isinstance(value, dict) and value:
        return {k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}.{key}" if prefix else key).items()}
    if isinstance(value, list) and value:
        return {k: v for index, item in enumerate(value) for k, v in flatten(item, f"{prefix}[{index}]").items()}
    return {prefix: value}


def _marked(marks: Any, path: str) -> bool:
    """Whether `path` is marked true in a sensitivity/unknown structure of the plan (or under a marked parent)."""
    flat = flatten(marks)
    return any(flag is True and (path == key or path.startswith(f"{key}.") or path.startswith(f"{key}[")) for key, flag in flat.items())


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) and value else json.dumps(value)
    return text if len(text) <= MAX_VALUE_CHARS else f"{text[:MAX_VALUE_CHARS]}... ({len(text)} characters)"


def _replace_paths(change: dict[str, Any]) -> set[str]:
    paths = set()
    for path in change.get("replace_paths") or []:
        parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
        paths.add("".join(parts).lstrip("."))
    return paths


def changed_attributes(change: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(path, before, after, forces replacement) of every attribute that differs, secrets masked."""
    before, after = flatten(change.get("before") or {}), flatten(change.get("after") or {})
    forcing = _replace_paths(change)
    rows = []
    for path in sorted(set(before) | set(after) | {p for p in flatten(change.get("after_unknown") or {}) if p}):
        unknown = _marked(change.get("after_unknown"), path)
        if not unknown and before.get(path) == after.get(path):
            continue
        old = "(sensitive)" if _marked(change.get("before_sensitive"), path) else _shown(before.get(path))
        if unknown:
            new = "(known after apply)"
        else:
            new = "(sensitive)" if _marked(change.get("after_sensitive"), path) else _shown(after.get(path))
        forces = any(path == p or path.startswith(f"{p}.") or path.startswith(f"{p}[") for p in forcing)
        rows.append((path, old, new, forces))
    return rows


#: Security-group rule types and the word for the other side of the rule.
RULE_PEERS = {"aws_vpc_security_group_ingress_rule": "from", "aws_vpc_security_group_egress_rule": "to"}


def configured(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """address -> the expressions of each resource and data source in the plan's configuration (root module)."""
    resources = (document.get("configuration") or {}).get("root_module", {}).get("resources", [])
    return {resource["address"]: resource.get("expressions", {}) for resource in resources}


def _constant(expressions: dict[str, Any], key: str) -> str | None:
    value = (expressions.get(key) or {}).get("constant_value") if isinstance(expressions.get(key), dict) else None
    return value if isinstance(value, str) else None


def rule_peer(change: dict[str, Any], expressions: dict[str, Any], configuration: dict[str, dict[str, Any]]) -> str | None:
    """Where a security-group rule's traffic comes from or goes to: its CIDR, the prefix list's name (or the
    gateway endpoint's service), or the other security group's name; None when the plan does not say."""
    after = change.get("after") or {}
    for key in ("cidr_ipv4", "cidr_ipv6"):
        if isinstance(after.get(key), str):
            return after[key]
    for key in ("referenced_security_group_id", "prefix_list_id"):
        references = (expressions.get(key) or {}).get("references", [])
        target = next((ref for ref in references if ref.count(".") == (2 if ref.startswith("data.") else 1)), None)
        other = configuration.get(target or "", {})
        if target and target.startswith("aws_security_group."):
            return f"security group {_constant(other, 'name') or target}"
        if target and target.startswith("aws_vpc_endpoint."):
            return f"prefix list of the {_constant(other, 'service_name') or target} gateway endpoint"
        if target:
            return f"prefix list {_constant(other, 'name') or target}"
    return None


def notable_settings(resource_type: str, change: dict[str, Any]) -> dict[str, str]:
    """The NOTABLE_SETTINGS of a created resource that are known at plan time, shown as text."""
    after = flatten(change.get("after") or {})
    shown = {}
    for path in NOTABLE_SETTINGS.get(resource_type, ()):
        if path in after and after[path] is not None and not _marked(change.get("after_unknown"), path):
            shown[path] = "(sensitive)" if _marked(change.get("after_sensitive"), path) else _shown(after[path])
    return shown


def read_json(path: Path, what: str) -> Any:
    """A JSON file tools.plan wrote; ToolError naming it when it is missing or malformed."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ToolError(f"{path}: {what} is missing; run `make plan` (python -m tools.plan) first", EXIT_SETUP) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ToolError(f"{path}: {what} is not valid JSON ({error}); run `make plan` again", EXIT_SETUP) from None


SUMMARY_SHAPE = "tools.plan's summary: an object whose stacks is a list of objects, each with a stack and a status"
PLAN_SHAPE = "`terraform show -json` of a plan: resource_changes, a list of objects each with address, type and change.actions"


def load_summary(plans: Path) -> dict[str, Any]:
    """plans/summary.json, after checking its shape; ToolError naming it and the shape expected, exit 2."""
    summary = read_json(plans / "summary.json", "the plan summary")
    entries = summary.get("stacks") if isinstance(summary, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("stack"), str) and isinstance(entry.get("status"), str) for entry in entries
    ):
        raise ToolError(f"{plans / 'summary.json'}: expected {SUMMARY_SHAPE}; run `make plan` again", EXIT_SETUP)
    return summary


def load_plans(plans: Path) -> tuple[str, list[StackPlan]]:
    """The plan mode (live or offline) and every stack of plans/summary.json with its resource changes."""
    summary = load_summary(plans)
    stacks = []
    for entry in summary["stacks"]:
        stack = StackPlan(entry["stack"], entry["status"], str(entry.get("reason", "")))
        if entry["status"] == "planned":
            if not isinstance(entry.get("plan_file"), str):
                raise ToolError(f"{plans / 'summary.json'}: expected a plan_file for the planned stack {entry['stack']}", EXIT_SETUP)
            path = plans / entry["plan_file"]
            try:
                stack.changes = _resource_changes(read_json(path, f"the plan of {entry['stack']}"))
            except (KeyError, TypeError, AttributeError, IndexError) as error:
                raise ToolError(f"{path}: expected {PLAN_SHAPE} ({type(error).__name__}: {error})", EXIT_SETUP) from None
        stacks.append(stack)
    return summary.get("mode", "live"), stacks


def _resource_changes(document: dict[str, Any]) -> list[ResourceChange]:
    """The changes of one plan document, data sources and no-ops left out; a security-group rule says its peer."""
    changes = []
    configuration = configured(document)
    for resource in document.get("resource_changes", []):
        action = action_of(resource["change"]["actions"])
        if action is None or resource.get("mode") == "data":
            continue
        attributes = changed_attributes(resource["change"]) if action != "create" else []
        settings = notable_settings(resource["type"], resource["change"]) if action == "create" else {}
        if resource["type"] in RULE_PEERS and action != "delete":
            peer = rule_peer(resource["change"], configuration.get(resource["address"], {}), configuration)
            settings[RULE_PEERS[resource["type"]]] = peer or "(known after apply)"
        changes.append(ResourceChange(resource["address"], resource["type"], action, attributes, settings))
    return changes


def _stack_line(stack: StackPlan) -> str:
    if stack.status != "planned":
        reason = stack.reason.splitlines()[-1] if stack.reason else ""
        return f"| `{stack.stack}` | {stack.status}: {reason} | | | |"
    marker = " :warning:" if any(change.stateful for change in stack.changes) else ""
    counts = [stack.count(action) for action in ("create", "update", "replace", "delete")]
    return f"| `{stack.stack}`{marker} | {counts[0]} | {counts[1]} | {counts[2]} | {counts[3]} |"


def _details(change: ResourceChange) -> str:
    lines = [f"<details><summary><code>{change.address}</code>: {change.action}</summary>", ""]
    lines += [f"{key}: `{_cell(value)}`" for key, value in change.settings.items()] + ([""] if change.settings else [])
    if change.attributes:
        lines += ["| attribute | before | after |", "| --- | --- | --- |"]
        for path, old, new, forces in change.attributes:
            flag = " **(forces replacement)**" if forces else ""
            lines.append(f"| `{path}`{flag} | `{_cell(old)}` | `{_cell(new)}` |")
    else:
        lines.append("No attribute values change." if change.action != "delete" else "Everything it holds is deleted.")
    return "\n".join([*lines, "", "</details>"])


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _stateful_line(stack: str, change: ResourceChange) -> str:
    forced_by = [f"`{path}`" for path, _, _, forces in change.attributes if forces]
    because = f" (forced by {', '.join(forced_by)})" if forced_by else ""
    return f"- **{change.action}** `{change.address}` in `{stack}`{because}"


def _counts(stack: StackPlan) -> str:
    return ", ".join(f"{stack.count(action)} to {word}" for action, word in ACTION_WORDS)


def _not_checked(stacks: list[StackPlan]) -> str | None:
    """The failed and blocked stacks, at the top of the report: nothing below says anything about them."""
    unchecked = [stack for stack in stacks if stack.status != "planned"]
    if not unchecked:
        return None
    lines = [
        f"> [!WARNING]\n> **{len(unchecked)} stack(s) were not planned, so nothing in this report checks them.** A failed stack "
        "fails the check; a blocked one (an upstream stack not applied yet) fails it unless blocking was allowed.",
        "",
    ]
    for stack in unchecked:
        reason = stack.reason.strip().splitlines()
        lines.append(f"- `{stack.stack}` **{stack.status}**: {reason[0] if reason else ''}")
        if len(reason) > 1:
            lines += ["", "  ```", *[f"  {line}" for line in reason[1:]], "  ```"]
    return "\n".join(lines)


def _created(stack: StackPlan) -> str:
    """What a stack creates: counts per resource type, then the notable settings of stateful and security resources."""
    created = [change for change in stack.changes if change.action == "create"]
    by_type = Counter(change.resource_type for change in created)
    lines = [f"<details><summary>{len(created)} to add, by resource type</summary>", "", "| resource type | add |", "| --- | ---: |"]
    lines += [f"| `{kind}` | {count} |" for kind, count in sorted(by_type.items(), key=lambda item: (-item[1], item[0]))]
    lines += ["", "</details>"]
    notable = [change for change in created if change.settings]
    if notable:
        lines += ["", f"<details><summary>Notable settings of {len(notable)} stateful and security resources</summary>", ""]
        lines += ["| resource | settings |", "| --- | --- |"]
        for change in sorted(notable, key=lambda change: change.address):
            settings = ", ".join(f"{key}=`{_cell(value)}`" for key, value in change.settings.items())
            lines.append(f"| `{change.address}` | {settings} |")
        lines += ["", "</details>"]
    return "\n".join(lines)


def sections(stacks: list[StackPlan], mode: str = "live") -> list[str]:
    """The report as sections in priority order; a comment keeps a prefix of them."""
    stateful = [(stack.stack, change) for stack in stacks for change in stack.changes if change.stateful]
    parts = ["## Terraform plan" + (" (offline)" if mode == "offline" else "")]
    unchecked = _not_checked(stacks)
    if unchecked:
        parts.append(unchecked)
    if mode == "offline":
        parts.append(OFFLINE_NOTE)
    if stateful:
        parts.append(
            "\n".join(
                [
                    f"> [!CAUTION]\n> **{len(stateful)} stateful resource(s) would be replaced or destroyed.** Their data "
                    "is lost unless it is backed up and restored. The check fails unless the change is explicitly allowed.",
                    "",
                    *[_stateful_line(stack, change) for stack, change in stateful],
                ]
            )
        )
    elif mode != "offline":
        planned = "every planned stack" if unchecked else "any stack"
        parts.append(f"No stateful resource (database, table, bucket, key, secret, vault) is replaced or destroyed in {planned}.")
    table = ["| stack | add | change | replace | destroy |", "| --- | ---: | ---: | ---: | ---: |", *map(_stack_line, stacks)]
    parts.append("\n".join(table))
    order = {"replace": 0, "delete": 1, "update": 2, "create": 3}
    for stack in stacks:
        changes = sorted(stack.changes, key=lambda change: (not change.stateful, order[change.action], change.address))
        if not changes:
            continue
        parts.append(f"### `{stack.stack}`: {_counts(stack)}")
        parts += [_details(change) for change in changes if change.action != "create"]
        if stack.count("create"):
            parts.append(_created(stack))
    return parts


def render(parts: Iterable[str], limit: int | None = None, note: str = TRUNCATION_NOTE) -> str:
    """Join sections; with `limit`, keep whole sections until the next would not fit, then say what was cut."""
    parts = list(parts)
    text = "\n\n".join(parts) + "\n"
    if limit is None or len(text) <= limit:
        return text
    kept: list[str] = []
    budget = limit - len(note) - 200
    for part in parts:
        if sum(len(p) + 2 for p in kept) + len(part) > budget:
            break
        kept.append(part)
    left_out = len(parts) - len(kept)
    return "\n\n".join([*kept, f"**Truncated:** {left_out} more section(s) did not fit in a comment. {note}"]) + "\n"


#: The summary line of the folded part of a nested report.
FOLDED_SUMMARY = "How each estimate adds up: timelines, sources, static stability, assumptions"


def nested_section(markdown: Path) -> str:
    """Another tool's Markdown report as a section of this one: every heading one level deeper, and everything
    after its opening part (the verdicts a reviewer decides on) folded, so the comment stays short."""
    if not markdown.is_file():
        raise ToolError(f"{markdown}: missing; run `make assess` first", EXIT_SETUP)
    lines = [f"#{line}" if line.startswith("##") else line for line in markdown.read_text().strip().splitlines()]
    first = next((index for index, line in enumerate(lines) if index and line.startswith("####")), len(lines))
    opening, rest = lines[:first], lines[first:]
    if rest:
        opening += ["", f"<details><summary>{FOLDED_SUMMARY}</summary>", "", *rest, "", "</details>"]
    return "\n".join(opening)


@command("plan-report")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan_report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plans", default="cdktf.out/plans", help="folder written by tools.plan")
    parser.add_argument("--output", help="write the full report here (default: standard output)")
    parser.add_argument("--comment", help="write the comment-sized report here")
    parser.add_argument("--max-comment-chars", type=int, default=DEFAULT_COMMENT_CHARS)
    parser.add_argument("--allow-stateful-changes", action="store_true", help="exit 0 even when stateful resources are replaced")
    parser.add_argument("--allow-blocked", action="store_true", help="exit 0 even when stacks are blocked by an upstream stack")
    parser.add_argument("--assessment", help="Markdown of tools.assess to include after the summary table")
    parser.add_argument("--diagrams", help="synthesized stacks (cdktf.out): each architecture drawn in Mermaid, folded, at the end")
    args = parser.parse_args(argv)
    if not 1_000 <= args.max_comment_chars <= GITHUB_COMMENT_LIMIT:
        parser.error(f"--max-comment-chars: got {args.max_comment_chars}; expected 1000 to {GITHUB_COMMENT_LIMIT}")
    mode, stacks = load_plans(Path(args.plans))
    parts = sections(stacks, mode)
    if args.assessment:
        table = next(index for index, part in enumerate(parts) if part.startswith("| stack |"))
        parts.insert(table + 1, nested_section(Path(args.assessment)))
    if args.diagrams:
        parts.append(report_section(Path(args.diagrams)))
    full = render(parts)
    if args.output:
        Path(args.output).write_text(full)
    else:
        sys.stdout.write(full)
    if args.comment:
        Path(args.comment).write_text(render(parts, args.max_comment_chars))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(render(parts, STEP_SUMMARY_LIMIT, "The full report is in the `plan-report` artifact."))
    return gate(stacks, allow_stateful=args.allow_stateful_changes, allow_blocked=args.allow_blocked)


def gate(stacks: list[StackPlan], *, allow_stateful: bool, allow_blocked: bool) -> int:
    """The check's verdict: a line on standard error for every reason it fails, and the code of the first (a failed
    stack, then a blocked one, then a stateful change)."""
    failed = [stack.stack for stack in stacks if stack.status == "failed"]
    blocked = [stack.stack for stack in stacks if stack.status == "blocked"]
    stateful = [change for stack in stacks for change in stack.changes if change.stateful]
    reasons: list[tuple[int, str]] = []
    if failed:
        reasons.append((EXIT_FAILED, f"{len(failed)} stack(s) failed to plan: {', '.join(failed)}"))
    if blocked and not allow_blocked:
        reasons.append(
            (
                EXIT_BLOCKED,
                f"{len(blocked)} stack(s) blocked, so not checked: {', '.join(blocked)}; if an upstream stack is not applied yet "
                "(a first deploy), rerun with --allow-blocked (make plan-report ALLOW_BLOCKED=1)",
            )
        )
    if stateful and not allow_stateful:
        addresses = ", ".join(change.address for change in stateful)
        reasons.append(
            (
                EXIT_STATEFUL,
                f"{len(stateful)} stateful resource(s) would be replaced or destroyed: {addresses}; "
                "review, back up, then rerun with --allow-stateful-changes",
            )
        )
    for _, message in reasons:
        print(f"[plan-report] {message}", file=sys.stderr)
    return reasons[0][0] if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
