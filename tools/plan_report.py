"""Turn the plan JSON files of tools.plan into one Markdown report for a pull request.

    python -m tools.plan_report [--plans cdktf.out/plans] [--output FILE] [--comment FILE]
                                [--allow-stateful-changes] [--max-comment-chars 60000]

The report opens with the stateful resources (databases, tables, buckets, keys, secrets, vaults) that would be
replaced or destroyed, then a line per stack with its add / change / replace / destroy counts, then each
resource's changed attributes in collapsible sections. `--output` gets the whole report (and so does
$GITHUB_STEP_SUMMARY when set); `--comment` gets a version cut below GitHub's 65,536-character comment limit at a
section boundary, with a note saying what was left out and where to find it.

Exit 0; 3 when a stateful resource would be replaced or destroyed and --allow-stateful-changes is not given;
2 when the plans folder holds no summary (run tools.plan first).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
EXIT_STATEFUL = 3
ACTION_WORDS = (("create", "add"), ("update", "change"), ("replace", "replace"), ("delete", "destroy"))
TRUNCATION_NOTE = "The full report is in this run's job summary and in the `plan-report` artifact."


@dataclass
class ResourceChange:
    address: str
    resource_type: str
    action: str  # create, update, replace, delete
    attributes: list[tuple[str, str, str, bool]] = field(default_factory=list)  # (path, before, after, forces replacement)

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


def load_plans(plans: Path) -> list[StackPlan]:
    """Every stack of plans/summary.json with its resource changes."""
    summary_file = plans / "summary.json"
    if not summary_file.is_file():
        raise FileNotFoundError(f"{summary_file}: no plan summary; run `make plan` (python -m tools.plan) first")
    stacks = []
    for entry in json.loads(summary_file.read_text())["stacks"]:
        stack = StackPlan(entry["stack"], entry["status"], entry.get("reason", ""))
        if entry["status"] == "planned":
            document = json.loads((plans / entry["plan_file"]).read_text())
            for resource in document.get("resource_changes", []):
                action = action_of(resource["change"]["actions"])
                if action is None or resource.get("mode") == "data":
                    continue
                attributes = changed_attributes(resource["change"]) if action != "create" else []
                stack.changes.append(ResourceChange(resource["address"], resource["type"], action, attributes))
        stacks.append(stack)
    return stacks


def _stack_line(stack: StackPlan) -> str:
    if stack.status != "planned":
        reason = stack.reason.splitlines()[-1] if stack.reason else ""
        return f"| `{stack.stack}` | {stack.status}: {reason} | | | |"
    marker = " :warning:" if any(change.stateful for change in stack.changes) else ""
    counts = [stack.count(action) for action in ("create", "update", "replace", "delete")]
    return f"| `{stack.stack}`{marker} | {counts[0]} | {counts[1]} | {counts[2]} | {counts[3]} |"


def _details(change: ResourceChange) -> str:
    lines = [f"<details><summary><code>{change.address}</code>: {change.action}</summary>", ""]
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


def sections(stacks: list[StackPlan]) -> list[str]:
    """The report as sections in priority order; a comment keeps a prefix of them."""
    stateful = [(stack.stack, change) for stack in stacks for change in stack.changes if change.stateful]
    blocked = [stack for stack in stacks if stack.status != "planned"]
    parts = ["## Terraform plan"]
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
    else:
        parts.append("No stateful resource (database, table, bucket, key, secret, vault) is replaced or destroyed.")
    table = ["| stack | add | change | replace | destroy |", "| --- | ---: | ---: | ---: | ---: |", *map(_stack_line, stacks)]
    parts.append("\n".join(table))
    if blocked:
        parts.append("\n".join(f"- `{stack.stack}` was not planned ({stack.status}): {stack.reason}" for stack in blocked))
    order = {"replace": 0, "delete": 1, "update": 2, "create": 3}
    for stack in stacks:
        changes = sorted(stack.changes, key=lambda change: (not change.stateful, order[change.action], change.address))
        if not changes:
            continue
        parts.append(f"### `{stack.stack}`: {_counts(stack)}")
        detailed = [change for change in changes if change.action != "create"]
        parts += [_details(change) for change in detailed]
        created = [change.address for change in changes if change.action == "create"]
        if created:
            items = "\n".join(f"- `{address}`" for address in created)
            parts.append(f"<details><summary>{len(created)} to add</summary>\n\n{items}\n\n</details>")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.plan_report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plans", default="cdktf.out/plans", help="folder written by tools.plan")
    parser.add_argument("--output", help="write the full report here (default: standard output)")
    parser.add_argument("--comment", help="write the comment-sized report here")
    parser.add_argument("--max-comment-chars", type=int, default=DEFAULT_COMMENT_CHARS)
    parser.add_argument("--allow-stateful-changes", action="store_true", help="exit 0 even when stateful resources are replaced")
    args = parser.parse_args(argv)
    if not 1_000 <= args.max_comment_chars <= GITHUB_COMMENT_LIMIT:
        parser.error(f"--max-comment-chars: got {args.max_comment_chars}; expected 1000 to {GITHUB_COMMENT_LIMIT}")
    try:
        stacks = load_plans(Path(args.plans))
    except FileNotFoundError as error:
        print(f"[plan-report] {error}", file=sys.stderr)
        return 2
    parts = sections(stacks)
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
    stateful = [change for stack in stacks for change in stack.changes if change.stateful]
    if stateful and not args.allow_stateful_changes:
        print(
            f"[plan-report] {len(stateful)} stateful resource(s) would be replaced or destroyed: "
            + ", ".join(change.address for change in stateful)
            + "; review, back up, then rerun with --allow-stateful-changes",
            file=sys.stderr,
        )
        return EXIT_STATEFUL
    return 0


if __name__ == "__main__":
    sys.exit(main())
