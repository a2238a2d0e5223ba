#!/usr/bin/env python
"""cdktf app: synthesize every stack of one deployment configuration.

    python main.py [--config FILE] [--outdir DIR] [--check] [--if-changed] [--emulator-endpoint http://127.0.0.1:PORT]

--check validates the configuration and every name the synth will make (length, characters, uniqueness: the
synth's own rules, on names forecast from modules/name_templates.json), without loading the provider bindings.

The configuration is --config, else $HADR_CONFIG, else config/example.yaml. The output directory is --outdir,
else $CDKTF_OUTDIR (set by `cdktf synth`), else cdktf.out. Exit codes: 0 done, 2 bad input (nothing written),
1 synthesis failed (nothing written).

--if-changed (what `make synth` passes) skips the synth when the output directory was written from the same
inputs: the configuration file's bytes, the emulator endpoint, and every source the synth reads (main.py,
cdktf.json, pyproject.toml, modules/, runbooks/, stacks/, lambda/). So `make scan` then `make plan` keep both
reports, and a saved plan stays next to the stacks it was made from; any change synthesizes again (and drops them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

from modules.config import load_config
from modules.errors import InputError
from modules.names import forecast_problems

ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG = ROOT / "config" / "example.yaml"
CONFIG_ENV = "HADR_CONFIG"
#: What the synth reads besides the configuration; a change to any of them means a new synth.
SOURCES = ("main.py", "cdktf.json", "pyproject.toml", "modules", "runbooks", "stacks", "lambda")
INPUTS_FILE = "inputs.sha256"


def inputs_digest(config_path: Path, emulator_endpoint: str | None) -> str:
    """SHA-256 over the configuration, the emulator endpoint and the synth's sources (bytecode caches left out)."""
    digest = hashlib.sha256(config_path.read_bytes() + b"\0" + (emulator_endpoint or "").encode() + b"\0")
    for source in SOURCES:
        path = ROOT / source
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def under_cdktf_cli() -> bool:
    """Whether `cdktf synth`/`deploy` runs this app (the CLI sets CDKTF_OUTDIR)."""
    return bool(os.environ.get("CDKTF_OUTDIR"))


def _progress(message: str) -> None:
    """Progress goes to standard error, except under the cdktf CLI: it labels every line of an app's standard
    error [ERROR], so there progress goes to standard output, which it shows as it is."""
    print(f"[synth] {message}", file=sys.stdout if under_cdktf_cli() else sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help=f"deployment YAML (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG.relative_to(ROOT)})")
    parser.add_argument("--outdir", help="output directory (default: $CDKTF_OUTDIR, else cdktf.out)")
    parser.add_argument("--check", action="store_true", help="validate the configuration only; write nothing")
    parser.add_argument("--if-changed", action="store_true", help="skip the synth when its inputs are those of the last one")
    parser.add_argument(
        "--emulator-endpoint",
        metavar="URL",
        help="synthesize for a local AWS emulator at URL (http://127.0.0.1:<port>); sets emulator.endpoint",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config_path = Path(args.config or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    outdir = Path(args.outdir or os.environ.get("CDKTF_OUTDIR") or ROOT / "cdktf.out")
    started = time.monotonic()
    try:
        config = load_config(config_path, emulator_endpoint=args.emulator_endpoint)
        names = forecast_problems(config)  # the synth's name rules on the names it will make, before the bindings load
        if names:
            raise InputError(names, source=str(config_path))
    except InputError as error:
        print(error.render(), file=sys.stderr)
        print(f"[synth] {len(error.problems)} problem(s) in the configuration; nothing was written", file=sys.stderr)
        return 2
    architectures = ", ".join(key for key, _ in config.enabled_architectures())
    _progress(f"configuration {config_path} is valid: {config.name_prefix}, architectures: {architectures}")
    if args.check:
        return 0
    digest = inputs_digest(config_path, args.emulator_endpoint)
    recorded = outdir / INPUTS_FILE
    if args.if_changed and (outdir / "manifest.json").is_file() and recorded.is_file() and recorded.read_text().strip() == digest:
        _progress(f"{outdir} is up to date: same configuration and sources as its last synth; nothing to do (FORCE=1 to redo)")
        return 0

    venv_bin = Path(sys.executable).parent
    if (venv_bin / "node").exists():  # jsii runs `node`: prefer the virtualenv's Node 24 over an older system one
        os.environ["PATH"] = f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    # jsii's Node prints a deprecation warning of its own in the middle of our progress lines; silence only that.
    if "--no-deprecation" not in os.environ.get("NODE_OPTIONS", ""):
        os.environ["NODE_OPTIONS"] = f"{os.environ.get('NODE_OPTIONS', '')} --no-deprecation".strip()
    _progress("loading the AWS provider bindings (about 10 s)...")
    from stacks.app import synthesize  # imported late: the bindings cost seconds and hundreds of MB

    _progress(f"building and synthesizing stacks into {outdir} ...")
    try:
        result = synthesize(config, outdir, leave_removed_stack_folders=under_cdktf_cli())
    except InputError as error:
        print(error.render(), file=sys.stderr)
        print(f"[synth] {len(error.problems)} problem(s) in construct properties; {outdir} is unchanged", file=sys.stderr)
        return 2
    except Exception as error:  # a failed synth must say so and leave the old output in place
        print(f"[synth] synthesis failed: {type(error).__name__}: {error}", file=sys.stderr)
        print(f"[synth] {outdir} is unchanged", file=sys.stderr)
        return 1
    for name in result.stack_names:
        stack_file = result.outdir / "stacks" / name / "cdk.tf.json"
        resources = json.loads(stack_file.read_text()).get("resource", {})
        count = sum(len(items) for items in resources.values())
        _progress(f"  {name:<32} {count:>4} resources")
    (result.outdir / INPUTS_FILE).write_text(digest + "\n")
    _progress(f"wrote {len(result.stack_names)} stacks to {result.outdir} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
