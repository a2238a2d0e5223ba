#!/usr/bin/env python
"""cdktf app: synthesize every stack of one deployment configuration.

    python main.py [--config FILE] [--outdir DIR] [--check] [--emulator-endpoint http://127.0.0.1:PORT]

The configuration is --config, else $HADR_CONFIG, else config/example.yaml. The output directory is --outdir,
else $CDKTF_OUTDIR (set by `cdktf synth`), else cdktf.out. Exit codes: 0 done, 2 bad input (nothing written),
1 synthesis failed (nothing written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from modules.config import load_config
from modules.errors import InputError

ROOT = Path(__file__).resolve().parent
DEFAULT_CONFIG = ROOT / "config" / "example.yaml"
CONFIG_ENV = "HADR_CONFIG"


def _progress(message: str) -> None:
    print(f"[synth] {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help=f"deployment YAML (default: ${CONFIG_ENV}, else {DEFAULT_CONFIG.relative_to(ROOT)})")
    parser.add_argument("--outdir", help="output directory (default: $CDKTF_OUTDIR, else cdktf.out)")
    parser.add_argument("--check", action="store_true", help="validate the configuration only; write nothing")
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
    except InputError as error:
        print(error.render(), file=sys.stderr)
        print(f"[synth] {len(error.problems)} problem(s) in the configuration; nothing was written", file=sys.stderr)
        return 2
    architectures = ", ".join(key for key, _ in config.enabled_architectures())
    _progress(f"configuration {config_path} is valid: {config.name_prefix}, architectures: {architectures}")
    if args.check:
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
        result = synthesize(config, outdir)
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
    _progress(f"wrote {len(result.stack_names)} stacks to {result.outdir} in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
