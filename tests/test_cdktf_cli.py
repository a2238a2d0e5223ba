"""The cdktf CLI path (cdktf.json -> main.py): a bad configuration fails `cdktf synth` with our message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_CONFIG, ROOT, Synthesized
from tests.test_config import tree_digest

CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"


def test_cdktf_json_runs_main_py_with_the_project_virtualenv() -> None:
    settings = json.loads((ROOT / "cdktf.json").read_text())
    assert settings["language"] == "python"
    assert settings["app"] == ".venv/bin/python main.py"
    assert settings["output"] == "cdktf.out"
    assert settings["terraformProviders"] == [] and settings["terraformModules"] == []


def test_cdktf_synth_reports_config_problems_and_writes_nothing(tmp_path: Path) -> None:
    assert CDKTF.exists(), "the cdktf CLI is not installed: run `make install` (make test does)"
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "config" / "example.yaml").read_text().replace("az_count: 3", "az_count: 5", 1))
    outdir = tmp_path / "out"
    (outdir / "stacks").mkdir(parents=True)
    (outdir / "manifest.json").write_text("earlier")
    before = tree_digest(outdir)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HADR_CONFIG": str(bad),
        "CHECKPOINT_DISABLE": "1",
        "CI": "1",
    }
    result = subprocess.run(
        [str(CDKTF), "synth", "--output", str(outdir)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0
    assert "active_active.primary.az_count: got 5; expected 2 or 3" in result.stdout + result.stderr
    assert tree_digest(outdir) == before


@pytest.mark.slow
def test_cdktf_synth_shows_progress_as_output_not_errors_and_make_synth_then_skips_it(tmp_path: Path) -> None:
    """Under the cdktf CLI the progress lines go to standard output (cdktf labels an app's standard error [ERROR]).
    A second synth with --if-changed (what `make synth` runs) from the same inputs does nothing and keeps the
    reports written next to the stacks."""
    assert CDKTF.exists(), "the cdktf CLI is not installed: run `make install` (make test does)"
    outdir = tmp_path / "out"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "CHECKPOINT_DISABLE": "1", "CI": "1"}
    env.pop("HADR_CONFIG", None)
    result = subprocess.run(
        [str(CDKTF), "synth", "--output", str(outdir)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    progress = [line for line in output.splitlines() if "[synth]" in line]
    assert any("[synth] wrote 9 stacks" in line for line in progress), output[-3000:]
    assert not [line for line in progress if "[ERROR]" in line], "progress must not be labelled as errors"
    (outdir / "plans").mkdir()
    (outdir / "plans" / "summary.json").write_text("{}")
    manifest = (outdir / "manifest.json").stat().st_mtime_ns
    again = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(outdir), "--if-changed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0 and f"{outdir} is up to date" in again.stderr, again.stderr
    assert (outdir / "plans" / "summary.json").read_text() == "{}" and (outdir / "manifest.json").stat().st_mtime_ns == manifest


def test_the_synth_inputs_digest_follows_the_configuration_bytes(tmp_path: Path) -> None:
    from main import inputs_digest

    config = tmp_path / "a.yaml"
    config.write_text((ROOT / "config" / "example.yaml").read_text())
    first = inputs_digest(config, None)
    assert inputs_digest(config, None) == first
    assert inputs_digest(config, "http://127.0.0.1:5000") != first
    config.write_text(config.read_text() + "# a comment is a change too\n")
    assert inputs_digest(config, None) != first


def cdktf(*args: str, config: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HADR_CONFIG": str(config),
        "CHECKPOINT_DISABLE": "1",
        "CI": "1",
    }
    return subprocess.run(
        [str(CDKTF), *args, "--output", str(outdir)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow
def test_cdktf_synth_and_deploy_follow_a_change_in_the_set_of_stacks(synthesized: Synthesized, tmp_path: Path) -> None:
    """The CLI lists the stack folders before it runs the app and deletes the orphans after it: the app's swap of
    the whole output must leave it something to delete. Both directions (fewer stacks, more stacks), both verbs
    (`deploy` synthesizes the same way, then stops here at a stack that does not exist: no AWS call)."""
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(synthesized.outdir, outdir)  # what `make synth` of the example leaves
    reduced = tmp_path / "active-active-only.yaml"
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    data["warm_standby"]["enabled"] = False
    reduced.write_text(yaml.safe_dump(data))
    only_active_active = [name for name in synthesized.stack_names if not name.startswith("warm-standby")]

    def stacks() -> list[str]:
        return sorted(path.name for path in (outdir / "stacks").iterdir())

    fewer = cdktf("synth", config=reduced, outdir=outdir)
    assert fewer.returncode == 0, fewer.stdout[-3000:] + fewer.stderr[-3000:]
    assert stacks() == sorted(only_active_active)
    for config, expected in ((EXAMPLE_CONFIG, synthesized.stack_names), (reduced, only_active_active)):
        result = cdktf("deploy", "no-such-stack", config=config, outdir=outdir)
        output = result.stdout + result.stderr
        assert "ENOENT" not in output and "Could not find stack for pattern 'no-such-stack'" in output, output[-3000:]
        assert stacks() == sorted(expected)
