"""The cdktf CLI path (cdktf.json -> main.py): a bad configuration fails `cdktf synth` with our message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
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
