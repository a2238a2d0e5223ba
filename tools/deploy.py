"""Apply or destroy the synthesized stacks with Terraform, one at a time, in dependency order.

    python -m tools.deploy apply|destroy [--outdir cdktf.out] [--stacks a,b] [--timeout 3600]

The order is the one the synth recorded in <outdir>/deploy-order.json: the state bootstrap, then per
architecture its data or storage stack, the primary region, the second region, and the global stack; destroy
runs it backwards. Each stack gets `terraform init` and `apply -auto-approve` (or `destroy -auto-approve`) in its
synthesized folder, the same folder `cdktf deploy` uses, with a progress line and its duration. The first
failure stops the run (exit 1) with the tail of Terraform's output.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.terraform import ROOT, run, terraform_env

#: Real stacks take a while (RDS Multi-AZ: 20 minutes or more); each Terraform command gets this long by default.
DEFAULT_TIMEOUT_SECONDS = 3600
SUMMARY = re.compile(r"(Apply|Destroy) complete! Resources: (?:(\d+) added, (\d+) changed, )?(\d+) destroyed")


@dataclass(frozen=True)
class StackRun:
    stack: str
    ok: bool
    seconds: float
    summary: str
    output: str = ""


def deploy_order(outdir: Path, stacks: list[str] | None = None) -> list[str]:
    """The recorded deploy order, restricted to `stacks` (whose names must all exist)."""
    order_file = outdir / "deploy-order.json"
    if not order_file.is_file():
        raise SystemExit(f"{order_file}: missing; run `make synth` first")
    order = json.loads(order_file.read_text())["order"]
    if stacks:
        unknown = sorted(set(stacks) - set(order))
        if unknown:
            raise SystemExit(f"--stacks: got {', '.join(unknown)}; expected some of: {', '.join(order)}")
        order = [name for name in order if name in stacks]
    return order


def terraform_stack(
    stack_dir: Path, command: str, *, env: dict[str, str], timeout: int = DEFAULT_TIMEOUT_SECONDS, extra_args: tuple[str, ...] = ()
) -> StackRun:
    """`init` then `apply` or `destroy` (auto-approved) in one stack folder."""
    started = time.monotonic()
    init = run(stack_dir, "init", "-input=false", env=env, timeout=timeout)
    if init.returncode != 0:
        return StackRun(stack_dir.name, False, time.monotonic() - started, "init failed", init.stdout + init.stderr)
    result = run(stack_dir, command, "-auto-approve", "-input=false", *extra_args, env=env, timeout=timeout)
    output = result.stdout + result.stderr
    match = SUMMARY.search(result.stdout)
    if match is None:
        summary = f"{command} failed"
    elif command == "apply":
        summary = f"{match.group(2)} added, {match.group(3)} changed, {match.group(4)} destroyed"
    else:
        summary = f"{match.group(4)} destroyed"
    return StackRun(stack_dir.name, result.returncode == 0, time.monotonic() - started, summary, output)


def run_in_order(
    outdir: Path,
    command: str,
    *,
    stacks: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: int = DEFAULT_TIMEOUT_SECONDS,
    before: Callable[[str], None] | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[StackRun]:
    """Apply (or destroy, in reverse) the stacks one by one; stops at the first failure.

    `before(stack)` runs ahead of each stack (an emulator uses it to empty buckets before destroy)."""
    order = deploy_order(outdir, stacks)
    if command == "destroy":
        order = order[::-1]
    env = env or terraform_env()
    results = []
    for index, name in enumerate(order, start=1):
        progress(f"[{command}] ({index}/{len(order)}) {name} ...")
        if before is not None:
            before(name)
        result = terraform_stack(outdir / "stacks" / name, command, env=env, timeout=timeout)
        results.append(result)
        progress(
            f"[{command}] ({index}/{len(order)}) {name}: {'done' if result.ok else 'FAILED'}, {result.summary} ({result.seconds:.1f} s)"
        )
        if not result.ok:
            progress("\n".join(result.output.strip().splitlines()[-25:]))
            break
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deploy", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["apply", "destroy"])
    parser.add_argument("--outdir", default=str(ROOT / "cdktf.out"))
    parser.add_argument("--stacks", help="comma-separated stack names (default: every stack)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_SECONDS, help="seconds per Terraform command")
    args = parser.parse_args(argv)
    stacks = [name.strip() for name in args.stacks.split(",") if name.strip()] if args.stacks else None
    started = time.monotonic()
    results = run_in_order(Path(args.outdir), args.command, stacks=stacks, timeout=args.timeout)
    ok = all(result.ok for result in results)
    print(f"[{args.command}] {sum(r.ok for r in results)} stack(s) done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
