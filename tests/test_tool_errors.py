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

from tests.conftest import EXAMPLE_CONFIG, ROOT
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
    # Terraform handles SIGINT itself; the stand-in does too (a pytest-xdist worker passes SIGINT on ignored).
    fake.write_text(f"#!{sys.executable}\nimport signal, time\nsignal.signal(signal.SIGINT, signal.SIG_DFL)\ntime.sleep(30)\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(terraform, "COMMAND_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(terraform, "INTERRUPT_GRACE_SECONDS", 5)
    assert terraform.main(["validate", "--outdir", str(synthesized_outdir)]) == 1
    assert (
        one_line(capsys.readouterr().err, "[validate]")
        == "[validate] terraform init in tiny did not finish within 1 s; it stopped on SIGINT"
    )


#: A stand-in for terraform that holds a state lock while it applies, the way the S3 backend's lock table does
#: (the lock outlives a killed process), and reports it as Terraform does when another command asks for it.
FAKE_TERRAFORM = """#!{python}
import json, os, signal, sys, time
lock = os.path.join(os.getcwd(), "held.lock")
if sys.argv[1] == "apply":
    open(lock, "w").write("6f1c2a55-lock")
    open("pid", "w").write(str(os.getpid()))
    def graceful(*_):
        os.remove(lock)
        sys.exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN if os.environ.get("FAKE_STUCK") else graceful)
    time.sleep(60)
elif sys.argv[1:5] == ["state", "rm", "-dry-run", "-lock-timeout=0s"]:
    if os.path.exists(lock):
        print("Error: Error acquiring the state lock\\n\\nLock Info:\\n  ID:        " + open(lock).read() + "\\n  Path: x")
        sys.exit(1)
    print("Would have removed nothing.")
"""


@pytest.mark.parametrize("stuck", [False, True], ids=["stops on SIGINT", "ignores SIGINT"])
def test_a_timed_out_apply_is_interrupted_then_killed_and_a_lock_it_leaves_is_named(
    stuck: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Terraform's own advice: SIGINT, time to write state and release the lock, and only then a kill. A lock left
    by a killed apply is named, with the force-unlock command."""
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(terraform, "INTERRUPT_GRACE_SECONDS", 2)
    env = {**os.environ, **({"FAKE_STUCK": "1"} if stuck else {})}
    with pytest.raises(terraform.TerraformTimeout) as stopped:
        terraform.run(tmp_path, "apply", "-input=false", "stack.tfplan", env=env, timeout=2)
    message = str(stopped.value)
    with pytest.raises(ProcessLookupError):
        os.kill(int((tmp_path / "pid").read_text()), 0)
    if stuck:
        assert message == (
            f"terraform apply in {tmp_path.name} did not finish within 2 s; it did not stop within 2 s of SIGINT and was killed; "
            "its state lock 6f1c2a55-lock is still held: once nothing else runs on this state, release it with "
            f"`terraform -chdir={tmp_path} force-unlock 6f1c2a55-lock`; "
            "resources it was changing may be missing from the state: plan again before anything else"
        )
    else:
        assert message == (
            f"terraform apply in {tmp_path.name} did not finish within 2 s; it stopped on SIGINT; no state lock is left; "
            "resources it was changing may be missing from the state: plan again before anything else"
        )


@pytest.mark.terraform
def test_the_lock_probe_reads_a_lock_real_terraform_reports(tmp_path: Path) -> None:
    """The probe against the real binary: a state whose lock another process holds (the local backend's lock: a
    file lock plus its info file) is reported with its ID; the same state unlocked is reported as free."""
    import fcntl

    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"a": {"input": "1"}}}}))
    env = terraform.terraform_env()
    for args in (("init", "-input=false"), ("apply", "-auto-approve", "-input=false")):
        assert terraform.run(tmp_path, *args, env=env).returncode == 0
    assert terraform.held_lock(tmp_path, env) == ""
    with (tmp_path / "terraform.tfstate").open("r+") as state:
        fcntl.lockf(state, fcntl.LOCK_EX | fcntl.LOCK_NB)
        info = {"ID": "0b6c-held", "Operation": "OperationTypeApply", "Who": "ci@runner", "Version": "1.11.4", "Path": "terraform.tfstate"}
        (tmp_path / ".terraform.tfstate.lock.info").write_text(json.dumps(info))
        assert terraform.held_lock(tmp_path, env) == "0b6c-held"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, "summary.json: the plan summary is missing; run `make plan` (python -m tools.plan) first"),
        ({"summary.json": "{not json"}, "summary.json: the plan summary is not valid JSON (Expecting property name"),
        ({"summary.json": '{"stacks": 3}'}, f"summary.json: expected {plan_report.SUMMARY_SHAPE}; run `make plan` again"),
        ({"summary.json": '{"stacks": ["network"]}'}, f"summary.json: expected {plan_report.SUMMARY_SHAPE}; run `make plan` again"),
        ({"summary.json": '{"stacks": [{"stack": "s", "status": "planned"}]}'}, "expected a plan_file for the planned stack s"),
        (
            {"summary.json": json.dumps({"stacks": [{"stack": "s", "status": "planned", "plan_file": "s.json"}]}), "s.json": "[1, 2]"},
            f"s.json: expected {plan_report.PLAN_SHAPE} (AttributeError: 'list' object has no attribute 'get')",
        ),
        (
            {
                "summary.json": json.dumps({"stacks": [{"stack": "s", "status": "planned", "plan_file": "s.json"}]}),
                "s.json": json.dumps({"resource_changes": [{"address": "aws_s3_bucket.b", "type": "aws_s3_bucket"}]}),
            },
            f"s.json: expected {plan_report.PLAN_SHAPE} (KeyError: 'change')",
        ),
        (
            {"summary.json": json.dumps({"stacks": [{"stack": "s", "status": "planned", "plan_file": "s.json"}]})},
            "s.json: the plan of s is missing",
        ),
        (
            {"summary.json": json.dumps({"stacks": [{"stack": "s", "status": "planned", "plan_file": "s.json"}]}), "s.json": "]["},
            "s.json: the plan of s is not valid JSON",
        ),
    ],
    ids=[
        "no summary",
        "malformed summary",
        "summary of another shape",
        "stacks that are not objects",
        "a planned stack without its plan file",
        "plan of another shape",
        "a change without its actions",
        "missing plan",
        "malformed plan",
    ],
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


@pytest.mark.slow
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


def test_make_drill_without_a_drill_says_how_to_call_it() -> None:
    """`make drill` with no ARGS names the drills and the make variable, not argparse's bare usage error."""
    result = subprocess.run(
        ["make", "-s", "drill", "ARGS="], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=os.environ | {"CI": "1"}
    )
    assert result.returncode != 0
    line = one_line(result.stderr, "[drill]")
    assert line == "[drill] which drill? run `make drill ARGS=failover|failback|fis` (python -m tools.drill failover|failback|fis)"


def test_a_live_plan_without_credentials_points_at_the_offline_plan(
    aws_home: Path, synthesized_outdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools import plan

    assert plan.main(["--outdir", str(synthesized_outdir)]) == EXIT_SETUP
    line = one_line(capsys.readouterr().err, "[plan] no usable AWS credentials")
    assert "run `make plan OFFLINE=1` (--offline) for a plan without credentials" in line
