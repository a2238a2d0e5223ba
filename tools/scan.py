"""Security and HA/DR scan of the synthesized stacks: checkov, per-resource suppressions, a summary and SARIF.

    python -m tools.scan [--outdir cdktf.out] [--sarif cdktf.out/checkov.sarif]

Runs checkov offline over every stack (`--framework terraform_json --skip-download`) with its AWS checks and the
project's CKV_HADR checks (policies/checkov), then applies the suppressions recorded at the resources (see
modules/suppressions.py). Exit 1 when a check fails, a suppression matches no failed check or has a reason shorter
than 10 characters, or a CKV_HADR check produced no result at all (it failed to load). The summary is also
appended to $GITHUB_STEP_SUMMARY when that is set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.cli import ToolError, command

ROOT = Path(__file__).resolve().parent.parent
MIN_REASON_LENGTH = 10
POLICIES = ROOT / "policies" / "checkov"
CHECKOV_DOCS = "https://www.checkov.io/"


#: The project's own check IDs: HA/DR posture (CKV_HADR_) and what AWS would refuse or break at apply (CKV_APPLY_,
#: CKV2_APPLY_ for graph checks written in YAML).
PROJECT_CHECK = re.compile(r'(?:check_id = |id: )"((?:CKV_HADR|CKV_APPLY|CKV2_APPLY)_\d+)"')


def project_check_ids(policies: Path = POLICIES) -> list[str]:
    """The project's check IDs declared in the policy folder: CKV_HADR first, then the apply rules, each in
    numeric order."""
    files = [*policies.glob("*.py"), *policies.glob("*.yaml")]
    found = {m.group(1) for file in files for m in PROJECT_CHECK.finditer(file.read_text())}
    return sorted(found, key=lambda check_id: (not check_id.startswith("CKV_HADR"), int(check_id.rsplit("_", 1)[1])))


@dataclass
class StackReport:
    passed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def recorded_suppressions(stack_file: Path) -> dict[tuple[str, str], str]:
    """(resource address, check ID) -> reason, from a stack's `//` metadata."""
    found: dict[tuple[str, str], str] = {}
    for resource_type, items in json.loads(stack_file.read_text()).get("resource", {}).items():
        for name, body in items.items():
            for entry in body.get("//", {}).get("checkov", {}).get("skip", []):
                found[(f"{resource_type}.{name}", entry["id"])] = entry.get("reason", "")
    return found


def apply(results: list[dict[str, Any]], outdir: Path, expected_checks: list[str] = ()) -> tuple[dict[str, StackReport], list[str]]:
    """Split checkov's results per stack, moving suppressed failures to skipped; returns reports and errors.

    Every ID in `expected_checks` must have produced at least one result (a check that fails to load is silent)."""
    reports: dict[str, StackReport] = {}
    errors: list[str] = []
    suppressions: dict[str, dict[tuple[str, str], str]] = {}
    for stack_file in sorted((outdir / "stacks").glob("*/cdk.tf.json")):
        stack = stack_file.parent.name
        reports[stack] = StackReport()
        suppressions[stack] = recorded_suppressions(stack_file)
    used: set[tuple[str, str, str]] = set()
    ran: set[str] = set()
    for report in results:
        unparsed = report.get("summary", {}).get("parsing_errors", 0)
        if unparsed:
            errors.append(
                f"checkov could not parse {unparsed} file(s): nothing in them was checked (run checkov on the stack for the reason)"
            )
        checks = report.get("results", {})
        ran.update(check["check_id"] for kind in ("passed_checks", "failed_checks") for check in checks.get(kind, []))
        for check in checks.get("passed_checks", []):
            reports.setdefault(_stack_of(check), StackReport()).passed += 1
        for check in checks.get("failed_checks", []):
            stack = _stack_of(check)
            key = (_address(check["resource"], suppressions.get(stack, {})), check["check_id"])
            reason = suppressions.get(stack, {}).get(key)
            if reason is None:
                reports.setdefault(stack, StackReport()).failed.append(check)
                continue
            used.add((stack, *key))
            reports[stack].skipped.append({**check, "suppress_reason": reason})
    for stack, entries in suppressions.items():
        for (resource, check_id), reason in entries.items():
            if len(reason.strip()) < MIN_REASON_LENGTH:
                errors.append(f"{stack}: {resource}: suppression of {check_id} has a reason shorter than {MIN_REASON_LENGTH} characters")
            if (stack, resource, check_id) not in used:
                errors.append(f"{stack}: {resource}: suppression of {check_id} matches no failed check; remove it")
    errors += [
        f"{check_id} produced no result on any stack: it did not load or matches no resource"
        for check_id in expected_checks
        if check_id not in ran
    ]
    return reports, errors


def _address(resource: str, known: dict[tuple[str, str], str]) -> str:
    """checkov names some resources 'resource.<name>'; map those to the one recorded 'type.<name>'."""
    if not resource.startswith("resource."):
        return resource
    name = resource.removeprefix("resource.")
    matches = {address for address, _ in known if address.split(".", 1)[1] == name}
    return matches.pop() if len(matches) == 1 else resource


def _stack_of(check: dict[str, Any]) -> str:
    parts = Path(check["file_path"]).parts
    return parts[parts.index("stacks") + 1] if "stacks" in parts else parts[-2]


def sarif(reports: dict[str, StackReport]) -> dict[str, Any]:
    """SARIF 2.1.0 for GitHub code scanning: one result per unsuppressed failure."""
    results, rules = [], {}
    for stack, report in reports.items():
        for check in report.failed:
            rules[check["check_id"]] = {
                "id": check["check_id"],
                "name": check["check_id"],
                "shortDescription": {"text": check["check_name"]},
                **_help(check.get("guideline")),
            }
            results.append(
                {
                    "ruleId": check["check_id"],
                    "level": "error",
                    "message": {"text": f"{check['check_name']} ({check['resource']})"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": f"cdktf.out/stacks/{stack}/cdk.tf.json"},
                                "region": {"startLine": max(1, (check.get("file_line_range") or [1])[0])},
                            }
                        }
                    ],
                }
            )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "checkov", "rules": list(rules.values())}}, "results": results}],
    }


def _help(guideline: str | None) -> dict[str, Any]:
    """SARIF help: a link for checkov's own checks, the repository document for the project's."""
    if guideline and guideline.startswith("https://"):
        return {"helpUri": guideline}
    if guideline:
        return {"helpUri": CHECKOV_DOCS, "help": {"text": f"See {guideline} in this repository."}}
    return {"helpUri": CHECKOV_DOCS}


def summary_markdown(reports: dict[str, StackReport], errors: list[str], seconds: float) -> str:
    """The scan's result as Markdown for a CI job summary."""
    lines = ["### checkov", "", "| stack | passed | failed | skipped |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {stack} | {r.passed} | {len(r.failed)} | {len(r.skipped)} |" for stack, r in sorted(reports.items())]
    failures = [(stack, c) for stack, r in sorted(reports.items()) for c in r.failed]
    if failures:
        lines += ["", "**Failed:**", *[f"- `{c['check_id']}` {stack} `{c['resource']}`: {c['check_name']}" for stack, c in failures]]
    if errors:
        lines += ["", "**Suppression errors:**", *[f"- {error}" for error in errors]]
    skips = [(stack, c) for stack, r in sorted(reports.items()) for c in r.skipped]
    if skips:
        lines += ["", "<details><summary>Suppressed at the resource, with reasons</summary>", ""]
        lines += [f"- `{c['check_id']}` {stack} `{c['resource']}`: {c['suppress_reason']}" for stack, c in skips]
        lines += ["", "</details>"]
    lines += ["", f"Scan time: {seconds:.1f} s"]
    return "\n".join(lines) + "\n"


#: Top-level blocks of address bookkeeping (no resource settings) that checkov 3.3's terraform_json parser rejects.
BOOKKEEPING_BLOCKS = ("moved", "removed")


def without_bookkeeping_blocks(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The stack file's text without its top-level `moved` and `removed` blocks, and for each block cut, the line
    (1-based, counted in the text after the cut) where it was and its line count; other lines are kept byte for
    byte, so checkov's line numbers map back with `original_line`."""
    lines = text.splitlines(keepends=True)
    spans = []
    for index, line in enumerate(lines):
        if any(line.startswith(f'  "{key}": [') for key in BOOKKEEPING_BLOCKS):
            end = next(later for later in range(index, len(lines)) if lines[later].rstrip() in ("  ],", "  ]"))
            spans.append((index, end))
    kept: list[str] = []
    cut: list[tuple[int, int]] = []
    position = 0
    for start, end in spans:
        kept += lines[position:start]
        cut.append((len(kept) + 1, end - start + 1))
        position = end + 1
    kept += lines[position:]
    if spans and lines[spans[-1][1]].rstrip() == "  ]":  # it was the last key: the key before it loses its comma
        kept[cut[-1][0] - 2] = kept[cut[-1][0] - 2].rstrip().removesuffix(",") + "\n"
    return "".join(kept), cut


def original_line(line: int, cut: list[tuple[int, int]]) -> int:
    """A line number of the cut text, as a line number of the original file."""
    shift = sum(count for start, count in cut if line >= start)
    return line + shift


def run_checkov_on_stacks(outdir: Path) -> list[dict[str, Any]]:
    """checkov on every stack of `outdir`, reading copies without `moved` and `removed` blocks.

    checkov 3.3's terraform_json parser fails on a file with such blocks (it expects every top-level block to be
    an object) and then checks nothing in it. They carry no resource settings; the line numbers of the results
    are shifted back to the synthesized file.
    """
    with tempfile.TemporaryDirectory(prefix="scan-") as workdir:
        offsets: dict[str, list[tuple[int, int]]] = {}
        for stack_file in sorted((outdir / "stacks").glob("*/cdk.tf.json")):
            text, cut = without_bookkeeping_blocks(stack_file.read_text())
            offsets[stack_file.parent.name] = cut
            target = Path(workdir) / "stacks" / stack_file.parent.name / "cdk.tf.json"
            target.parent.mkdir(parents=True)
            target.write_text(text)
        results = run_checkov(Path(workdir))
    for report in results:
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in report.get("results", {}).get(kind, []):
                cut = offsets.get(_stack_of(check), [])
                check["file_line_range"] = [original_line(line, cut) for line in check.get("file_line_range") or []]
    return results


def run_checkov(target: Path, policies: Path = POLICIES) -> list[dict[str, Any]]:
    """checkov's JSON reports for every Terraform JSON file under `target`, AWS checks plus the project's."""
    command = [sys.executable, "-m", "checkov.main", "-d", str(target), "--framework", "terraform_json", "--skip-download"]
    command += ["--external-checks-dir", str(policies), "-o", "json"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    if completed.returncode not in (0, 1):
        raise ToolError(f"checkov crashed (exit {completed.returncode}): {last}")
    # checkov logs a check that raised and goes on without its result: a check that could not run checked nothing.
    not_run = sorted(set(re.findall(r"Failed to run check (\S+) on (\S+)", completed.stderr)))
    if not_run:
        listed = "; ".join(f"{check} on {where}" for check, where in not_run)
        raise ToolError(f"checkov could not run {len(not_run)} check(s), so the scan proves nothing about them: {listed}")
    try:
        parsed = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise ToolError(f"checkov printed no JSON report (exit {completed.returncode}): {last}") from None
    return parsed if isinstance(parsed, list) else [parsed]


@command("scan")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", default=str(ROOT / "cdktf.out"))
    parser.add_argument("--sarif", default=None, help="SARIF file to write (default: <outdir>/checkov.sarif)")
    args = parser.parse_args(argv)
    outdir = Path(args.outdir)
    if not list((outdir / "stacks").glob("*/cdk.tf.json")):
        print(f"[scan] no synthesized stacks under {outdir}: run `make synth` first", file=sys.stderr)
        return 2
    started = time.monotonic()
    print("[scan] checkov over every stack (offline) ...", file=sys.stderr, flush=True)
    reports, errors = apply(run_checkov_on_stacks(outdir), outdir, project_check_ids())
    Path(args.sarif or outdir / "checkov.sarif").write_text(json.dumps(sarif(reports), indent=1))
    print(f"{'stack':<32} {'passed':>6} {'failed':>6} {'skipped':>7}")
    for stack, report in sorted(reports.items()):
        print(f"{stack:<32} {report.passed:>6} {len(report.failed):>6} {len(report.skipped):>7}")
        for check in report.failed:
            print(f"  FAILED  {check['check_id']} {check['resource']}: {check['check_name']}")
        for check in report.skipped:
            print(f"  skipped {check['check_id']} {check['resource']}: {check['suppress_reason']}")
    for error in errors:
        print(f"  ERROR   {error}")
    failed = sum(len(report.failed) for report in reports.values())
    seconds = time.monotonic() - started
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(summary_markdown(reports, errors, seconds))
    print(f"[scan] {failed} failed, {len(errors)} errors, {seconds:.1f} s", file=sys.stderr)
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
