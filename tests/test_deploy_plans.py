"""`make deploy` applies exactly the plan `make plan` saved: Terraform's own terraform_data resources and a
local state file, so the whole path (plan, check, apply the file, refuse a stale one) runs for real offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized
from tools import deploy
from tools.cli import ToolError
from tools.plan import plan_all, plan_stack
from tools.terraform import file_digest, run, stack_digest, terraform_env, terraform_errors


def write_stack(outdir: Path, value: str) -> Path:
    """One stack whose state lives outside the output folder (as the state bootstrap's does), by a relative path."""
    stack_dir = outdir / "stacks" / "app"
    stack_dir.mkdir(parents=True, exist_ok=True)
    stack = {
        "terraform": {"backend": {"local": {"path": "../../../app.tfstate"}}},
        "resource": {"terraform_data": {"release": {"input": value}}},
        "output": {"release": {"value": "${terraform_data.release.output}"}},
    }
    (stack_dir / "cdk.tf.json").write_text(json.dumps(stack))
    (outdir / "deploy-order.json").write_text(json.dumps({"order": ["app"]}))
    return stack_dir


def state_output(tmp_path: Path) -> str:
    return json.loads((tmp_path / "app.tfstate").read_text())["outputs"]["release"]["value"]


@pytest.mark.terraform
def test_deploy_applies_the_saved_plan_and_refuses_a_changed_configuration(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    write_stack(outdir, "v1")
    (planned,) = plan_all(outdir, offline=False)
    assert planned.status == "planned" and planned.saved_plan == "work/app/stack.tfplan"
    write_stack(outdir, "v2")  # the configuration changes after the approval
    with pytest.raises(ToolError, match=r"nothing applied: app: the synthesized stack differs from the one planned"):
        deploy.apply_approved(outdir, outdir / "plans")
    assert not (tmp_path / "app.tfstate").exists()
    write_stack(outdir, "v1")
    (result,) = deploy.apply_approved(outdir, outdir / "plans")
    assert (result.ok, result.summary) == (True, "1 added, 0 changed, 0 destroyed")
    assert state_output(tmp_path) == "v1", "the plan's own state file is the synthesized stack's (relative path kept)"


@pytest.mark.terraform
def test_a_plan_whose_state_changed_since_is_refused_as_stale(tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    stack_dir = write_stack(outdir, "v1")
    planned = plan_stack(stack_dir, outdir / "plans", offline=False, lock=False, env=terraform_env())
    env = terraform_env()
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):  # someone applies in between
        assert run(stack_dir, *args, env=env).returncode == 0
    result = deploy.apply_saved_plan((outdir / "plans" / planned.saved_plan).parent, env=env)
    assert not result.ok
    assert (
        result.summary
        == "the state changed since the plan (someone applied in between); run `make plan` again and have the new plan approved"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda summary, plans: summary.update(mode="offline"),
            "these are offline plans (no state, fake credentials), which cannot be applied",
        ),
        (lambda summary, plans: summary["stacks"][0].update(status="blocked"), "app was blocked at plan time"),
        (lambda summary, plans: summary.update(stacks=[]), "app was not planned"),
        (lambda summary, plans: (plans / "work" / "app" / "stack.tfplan").write_bytes(b"edited"), "changed since it was planned"),
        (lambda summary, plans: (plans / "work" / "app" / "stack.tfplan").unlink(), "stack.tfplan is missing"),
        (lambda summary, plans: summary["stacks"][0].pop("plan_sha256"), "app: planned by an older tools.plan, without a saved plan"),
    ],
    ids=["offline", "blocked", "absent", "plan file edited", "plan file gone", "older summary"],
)
def test_deploy_refuses_plans_that_are_not_the_approved_ones(edit: object, message: str, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    stack_dir = write_stack(outdir, "v1")
    plans = outdir / "plans"
    saved = plans / "work" / "app" / "stack.tfplan"
    saved.parent.mkdir(parents=True)
    saved.write_bytes(b"a saved plan")
    summary = {
        "mode": "live",
        "stacks": [
            {
                "stack": "app",
                "status": "planned",
                "plan_file": "app.json",
                "saved_plan": "work/app/stack.tfplan",
                "stack_sha256": stack_digest(stack_dir),
                "plan_sha256": file_digest(saved),
            }
        ],
    }
    (plans / "summary.json").write_text(json.dumps(summary))
    assert deploy.approved_plans(outdir, plans, ["app"]) == {"app": saved.parent}, "untouched, the plan is accepted"
    edit(summary, plans)  # type: ignore[operator]
    (plans / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ToolError, match=message.replace("(", r"\(").replace(")", r"\)")):
        deploy.approved_plans(outdir, plans, ["app"])


def test_the_stack_digest_ignores_archive_timestamps_but_not_contents(tmp_path: Path) -> None:
    """Another checkout of the same commit zips the Lambda assets with other file times: still the same stack."""
    import zipfile

    (tmp_path / "cdk.tf.json").write_text("{}")

    def archive(when: tuple[int, ...], code: str) -> str:
        with zipfile.ZipFile(tmp_path / "archive.zip", "w") as zipped:
            zipped.writestr(zipfile.ZipInfo("handler.py", date_time=when), code)
        return stack_digest(tmp_path)

    first = archive((2020, 1, 1, 0, 0, 0), "print(1)")
    assert archive((2026, 11, 23, 12, 0, 0), "print(1)") == first
    assert archive((2020, 1, 1, 0, 0, 0), "print(2)") != first
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform" / "anything").write_text("x")
    (tmp_path / "stack.tfplan").write_text("x")
    assert archive((2020, 1, 1, 0, 0, 0), "print(1)") == first, "Terraform's own files are not configuration"


@pytest.mark.terraform
def test_a_first_deploy_applies_the_stacks_before_the_first_blocked_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outdir = tmp_path / "out"
    write_stack(outdir, "v1")
    assert [outcome.status for outcome in plan_all(outdir, offline=False)] == ["planned"]
    (outdir / "deploy-order.json").write_text(json.dumps({"order": ["app", "global"]}))
    summary = json.loads((outdir / "plans" / "summary.json").read_text())
    summary["stacks"].append({"stack": "global", "status": "blocked", "reason": "an upstream stack is not applied yet"})
    (outdir / "plans" / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ToolError, match="nothing applied: global was blocked at plan time"):
        deploy.apply_approved(outdir, outdir / "plans")
    (result,) = deploy.apply_approved(outdir, outdir / "plans", allow_blocked=True)
    assert result.ok and state_output(tmp_path) == "v1"
    assert "[apply] stopped before global, blocked at plan time" in capsys.readouterr().err


def test_a_failed_terraform_run_is_reported_by_its_error_and_address(tmp_path: Path) -> None:
    """A failure names Terraform's error and the resource, not only "apply failed": CI shows only the message."""
    stack_dir = tmp_path / "broken"
    stack_dir.mkdir()
    resource = {"input": '${parseint("not-a-number", 10)}'}
    (stack_dir / "cdk.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"parsed": resource}}}))
    env = terraform_env()
    assert run(stack_dir, "init", "-input=false", env=env).returncode == 0
    planned = run(stack_dir, "plan", "-input=false", env=env)
    assert planned.returncode != 0
    message = terraform_errors(planned.stdout + planned.stderr)
    assert message.startswith("Invalid function argument") and message.endswith("(at terraform_data.parsed)"), message


def test_stacks_run_once_what_they_need_is_there_the_longest_chain_first_and_nothing_new_after_a_failure(
    synthesized: Synthesized,
) -> None:
    """The example's recorded needs, as deploy-local runs them (two at a time): after the bootstrap the warm standby's
    storage starts first (the longest chain waits on it: both regions and the global stack), then the active/active
    region; each stack only after its needs; the destroy runs the other way round. A failure lets what is running
    finish and starts nothing more."""
    import threading

    from tests.test_emulator_deployment import STACKS as order

    needs = deploy.stack_needs(synthesized.outdir, order)
    assert needs["warm-standby-us-east-1"] == ["state-bootstrap", "warm-standby-storage"], "the master secret, the certificate"
    assert needs["warm-standby-us-west-1"] == ["state-bootstrap", "warm-standby-storage", "warm-standby-us-east-1"]
    assert needs["active-active-eu-west-1"] == ["state-bootstrap"], "its data stack is not in this run"
    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def recorder(fail: str = "") -> Any:
        def step(name: str) -> deploy.StackRun:
            with lock:
                events.append(("start", name))
            with lock:
                events.append(("end", name))
            return deploy.StackRun(name, name != fail, 0.0, "ok" if name != fail else "boom", "")

        return step

    results = deploy.run_when_ready(order, needs, "apply", recorder(), jobs=2, progress=lambda _: None)
    assert [r.stack for r in results] == order and all(r.ok for r in results)
    starts = [name for kind, name in events if kind == "start"]
    assert starts[:3] == ["state-bootstrap", "warm-standby-storage", "active-active-eu-west-1"], starts
    for name in order:
        assert all(events.index(("end", other)) < events.index(("start", name)) for other in needs[name]), name
    events.clear()
    deploy.run_when_ready(order, needs, "destroy", recorder(), reverse=True, jobs=2, progress=lambda _: None)
    for name in order:
        assert all(events.index(("end", name)) < events.index(("start", other)) for other in needs[name]), name
    events.clear()
    failed = deploy.run_when_ready(order, needs, "apply", recorder(fail="warm-standby-storage"), jobs=1, progress=lambda _: None)
    assert [(r.stack, r.ok) for r in failed] == [("state-bootstrap", True), ("warm-standby-storage", False)]


def test_an_older_deploy_order_without_needs_runs_each_stack_after_every_earlier_one(tmp_path: Path) -> None:
    (tmp_path / "deploy-order.json").write_text(json.dumps({"order": ["a", "b", "c"]}))
    assert deploy.stack_needs(tmp_path, ["a", "b", "c"]) == {"a": [], "b": ["a"], "c": ["a", "b"]}
