"""Write modules/name_templates.json: every name a synth checks, with the configuration's values as placeholders.

    python -m tools.name_templates [--check]      (make name-templates)

`main.py --check` (and every synth, before it loads the bindings) reads the file to run the synth's own name
rules in a fraction of a second. It is written from a synth of the canonical configuration below: the example with
values found nowhere else (no us-east-1, which some stacks name for CloudFront and its certificate), so every value
turns back into its placeholder unambiguously. tests/test_names.py fails when the file no longer matches the code;
this command rewrites it (about 30 s: it loads the bindings). --check only says whether it is current.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from cdktf import App

from modules.config import DeploymentConfig, parse_config
from modules.names import TEMPLATE_FILE, name_templates
from stacks.app import build_stacks
from tools.cli import ToolError, command

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.yaml"
#: (dotted key, value) set on the example: each value unique in every name, no region a stack also names itself.
CANONICAL = (
    ("project", "nameproj"),
    ("environment", "nameenv"),
    ("account_id", "111122223333"),
    ("state.bucket", "nameproj-nameenv-state-111122223333"),
    ("state.lock_table", "nameproj-nameenv-lock"),
    ("state.region", "ap-south-1"),
    ("state.replica_region", "ap-northeast-2"),
    ("active_active.primary.region", "eu-west-2"),
    ("active_active.secondary.region", "eu-west-3"),
    ("warm_standby.primary.region", "ap-southeast-1"),
    ("warm_standby.standby.region", "ap-southeast-2"),
)


def canonical_data(example: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(example)
    for dotted, value in CANONICAL:
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
    return data


def canonical_config() -> DeploymentConfig:
    return parse_config(canonical_data(yaml.safe_load(EXAMPLE.read_text())), source="canonical configuration")


def synthesized_stacks(config: DeploymentConfig) -> dict[str, dict[str, Any]]:
    """Every stack of `config`, synthesized in this process without stacks.app.synthesize's name check: some canonical
    names are over their limits (ap-southeast-2 is a long region), and the templates record names, not whether they
    fit; each configuration's own forecast is checked."""
    with tempfile.TemporaryDirectory() as folder:
        outdir = Path(folder) / "cdktf.out"
        app = App(outdir=str(outdir))
        names = build_stacks(app, config, outdir=outdir)
        app.synth()
        return {name: json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text()) for name in names}


def render(templates: dict[str, Any]) -> str:
    return json.dumps(templates, indent=1, sort_keys=True) + "\n"


@command("name-templates")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.name_templates", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file does not match the code; write nothing")
    args = parser.parse_args(argv)
    print("[name-templates] synthesizing the canonical configuration (loads the bindings: about 30 s) ...", file=sys.stderr, flush=True)
    config = canonical_config()
    text = render(name_templates(synthesized_stacks(config), config))
    if args.check:
        if not TEMPLATE_FILE.is_file() or TEMPLATE_FILE.read_text() != text:
            raise ToolError(f"{TEMPLATE_FILE} does not match the code: run `make name-templates`")
        print(f"[name-templates] {TEMPLATE_FILE} is current", file=sys.stderr)
        return 0
    TEMPLATE_FILE.write_text(text)
    print(f"[name-templates] wrote {TEMPLATE_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
