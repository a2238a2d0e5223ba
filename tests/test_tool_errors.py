"""Every tool fails with one clear line and a non-zero exit, never a traceback: credentials of each kind that
cannot be had, no terraform binary, a Terraform command that hangs, a missing or malformed plan, a crashed
checkov; and a failed deploy-local leaves no emulator behind."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CONFIG
from tools import drill, local, plan_report, scan, terraform
from tools.cli import EXIT_SETUP

AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def one_line(stderr: str, prefix: str) -> str:
    """The tool's last line of standard error, after checking it printed no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith(prefix)]
    assert lines, stderr
    return lines[-1]


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No credentials anywhere: environment cleared, empty shared files, no instance metadata."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "aws"
    home.mkdir()
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    return home


def profile(home: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    (home / "config").write_text(f"[profile broken]\n{body}\n")
    monkeypatch.setenv("AWS_PROFILE", "broken")


CREDENTIAL_CASES = {
    "none at all": lambda home, mp: None,
    "a profile that does not exist": lambda home, mp: mp.setenv("AWS_PROFILE", "nobody"),
    "an SSO profile never logged in": lambda home, mp: profile(
        home,
        mp,
        "sso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 123456789012\n"
        "sso_role_name = Admin\nregion = us-east-1",
    ),
    "a credential process that fails": lambda home, mp: profile(home, mp, "credential_process = false"),
    "a container role that does not answer": lambda home, mp: mp.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"),
    "an instance role that does not answer": lambda home, mp: (
        mp.setenv("AWS_EC2_METADATA_DISABLED", "false"),
        mp.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"),
        mp.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "1"),
        mp.setenv("AWS_METADATA_SERVICE_TIMEOUT", "1"),
    ),
    "only half a key pair": lambda home, mp: mp.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
}


@pytest.mark.parametrize("case", list(CREDENTIAL_CASES))
def test_missing_credentials_of_every_kind_are_one_line_and_exit_2(
    case: str, aws_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    CREDENTIAL_CASES[case](aws_home, monkeypatch)
    assert drill.main(["failover", "--config", str(EXAMPLE_CONFIG)]) == EXIT_SETUP
    line = one_line(capsys.readouterr().err, "[drill] no usable AWS credentials")
    assert line.endswith("set AWS_PROFILE (and run `aws sso login` for an SSO profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def test_the_plan_and_deploy_tools_check_credentials_before_any_stack(
    aws_home: Path, synthesized_outdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools import deploy, plan

    assert plan.main(["--outdir", str(synthesized_outdir)]) == EXIT_SETUP
    one_line(capsys.readouterr().err, "[plan] no usable AWS credentials")
    assert deploy.main(["apply", "--outdir", str(synthesized_outdir)]) == EXIT_SETUP
    one_line(capsys.readouterr().err, "[deploy] no usable AWS credentials")


@pytest.fixture
def synthesized_outdir(tmp_path: Path) -> Path:
    """A minimal synthesized output: one stack and its deploy order, no provider."""
    outdir = tmp_path / "out"
    (outdir / "stacks" / "tiny").mkdir(parents=True)
    (outdir / "stacks" / "tiny" / "cdk.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"a": {"input": "1"}}}}))
    (outdir / "deploy-order.json").write_text(json.dumps({"order": ["tiny"]}))
    return outdir


def without_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH with only the virtualenv's programs (python, node), so no terraform wherever the machine keeps it."""
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert shutil.which("terraform") is None


def test_no_terraform_binary_is_one_line_and_exit_2(
    tmp_path: Path, synthesized_outdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    without_terraform(tmp_path, monkeypatch)
    assert terraform.main(["validate", "--outdir", str(synthesized_outdir)]) == EXIT_SETUP
    line = one_line(capsys.readouterr().err, "[validate]")
    assert line.startswith("[validate] terraform not found on PATH: install Terraform 1.11 or newer")


def test_a_terraform_command_that_hangs_is_stopped_with_one_line(
    tmp_path: Path, synthesized_outdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(terraform, "COMMAND_TIMEOUT_SECONDS", 1)
    assert terraform.main(["validate", "--outdir", str(synthesized_outdir)]) == 1
    assert one_line(capsys.readouterr().err, "[validate]") == "[validate] terraform init in tiny did not finish within 1 s"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "summary.json: the plan summary is missing; run `make plan` (python -m tools.plan) first"),
        ({"summary.json": "{not json"}, "summary.json: the plan summary is not valid JSON (Expecting property name"),
        ({"summary.json": '{"stacks": 3}'}, "summary.json: expected tools.plan's summary with a list of stacks"),
        (
            {"summary.json": json.dumps({"stacks": [{"stack": "s", "status": "planned", "plan_file": "s.json"}]})},
            "s.json: the plan of s is missing",
        ),
        (
            {"summary.json": json.dumps({"stacks": [{"stack": "s", "status": "planned", "plan_file": "s.json"}]}), "s.json": "]["},
            "s.json: the plan of s is not valid JSON",
        ),
    ],
    ids=["no summary", "malformed summary", "summary of another shape", "missing plan", "malformed plan"],
)
def test_a_missing_or_malformed_plan_is_one_line_and_exit_2(
    files: dict[str, str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert plan_report.main(["--plans", str(tmp_path)]) == EXIT_SETUP
    assert expected in one_line(capsys.readouterr().err, "[plan-report]")


def test_a_crashed_checkov_is_one_line_and_exit_1(
    synthesized_outdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crashed(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 2, "", "Traceback (most recent call last):\n  ...\nKeyError: 'resource'\n")

    monkeypatch.setattr(scan.subprocess, "run", crashed)
    assert scan.main(["--outdir", str(synthesized_outdir)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "[scan] checkov crashed (exit 2): KeyError: 'resource'"


def test_a_failed_deploy_local_leaves_no_emulator_even_without_terraform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The synth runs for real; applying then finds no terraform. The emulator must be stopped and forgotten."""
    monkeypatch.setattr(local, "SESSION_DIR", tmp_path / "session")
    monkeypatch.setattr(local, "SESSION_FILE", tmp_path / "session" / "session.json")
    monkeypatch.setattr(local, "LOCAL_OUTDIR", tmp_path / "cdktf.local")
    started: list[int] = []
    original_start = local.Emulator.start

    def start(self: local.Emulator, **kwargs: object) -> local.Emulator:
        emulator = original_start(self, **kwargs)
        started.append(emulator.pid or 0)
        return emulator

    monkeypatch.setattr(local.Emulator, "start", start)
    without_terraform(tmp_path, monkeypatch)
    assert local.main(["deploy", "--config", str(EXAMPLE_CONFIG), "--stacks", "state-bootstrap"]) == EXIT_SETUP
    err = capsys.readouterr().err
    assert one_line(err, "[local] terraform").startswith("[local] terraform not found on PATH")
    assert "[local] deploy-local failed; stopping the emulator" in err
    (pid,) = started
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not (tmp_path / "session").exists()
