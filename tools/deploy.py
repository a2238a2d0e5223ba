"""Apply the approved plans, or destroy the stacks, with Terraform, one stack at a time, in dependency order.

    python -m tools.deploy apply   [--outdir cdktf.out] [--plans cdktf.out/plans] [--stacks a,b] [--timeout 3600]
    python -m tools.deploy destroy [--outdir cdktf.out] [--stacks a,b] [--timeout 3600]

The order is the one the synth recorded in <outdir>/deploy-order.json: the state bootstrap, then per
architecture its data or storage stack, the primary region, the second region, and the global stack; destroy
runs it backwards.

apply applies exactly the plans tools.plan saved (`make plan`), which the approver reviewed: `terraform apply
stack.tfplan` in each stack's plan folder, never a new plan. It refuses, before touching anything, a plan that is
offline, missing, failed or blocked, a plan file that changed since it was planned, or a synthesized stack
that differs from the one that was planned (the configuration changed: plan again). Terraform itself refuses a
plan whose state changed since (someone applied in between): that stack stops with the same advice.
destroy runs `destroy -auto-approve` in the synthesized folders.

Each stack gets a progress line and its duration; the first failure stops the run (exit 1) with the tail of
Terraform's output.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tools.cli import EXIT_SETUP, ToolError, command, require_credentials
from tools.plan import PLAN_FILE
from tools.plan_report import load_summary
from tools.terraform import ROOT, TerraformTimeout, file_digest, run, stack_digest, terraform_env

#: Real stacks take a while (RDS Multi-AZ: 20 minutes or more); each Terraform command gets this long by default.
DEFAULT_TIMEOUT_SECONDS = 3600
SUMMARY = re.compile(r"(Apply|Destroy) complete! Resources: (?:(\d+) added, (\d+) changed, )?(\d+) destroyed")
STALE = re.compile(r"Saved plan is stale", re.IGNORECASE)
REPLAN = "run `make plan` again and have the new plan approved"


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
        raise ToolError(f"{order_file}: missing; run `make synth` first", EXIT_SETUP)
    order = json.loads(order_file.read_text())["order"]
    if stacks:
        unknown = sorted(set(stacks) - set(order))
        if unknown:
            raise ToolError(f"--stacks: got {', '.join(unknown)}; expected some of: {', '.join(order)}", EXIT_SETUP)
        order = [name for name in order if name in stacks]
    return order


def approved_plans(outdir: Path, plans: Path, order: list[str], *, allow_blocked: bool = False) -> dict[str, Path]:
    """stack -> the folder of its saved plan, after checking each plan is live, planned, unchanged and still matches
    the synthesized stack; ToolError naming every stack that fails a check.

    With `allow_blocked` (a first deploy), a stack blocked at plan time ends the list instead: the stacks before it
    are applied, and it is planned in the next run, once its upstream exists."""
    summary = load_summary(plans)
    if summary.get("mode") != "live":
        raise ToolError(f"{plans}: these are offline plans (no state, fake credentials), which cannot be applied; {REPLAN}", EXIT_SETUP)
    entries = {entry["stack"]: entry for entry in summary["stacks"]}
    problems, folders = [], {}
    for name in order:
        entry = entries.get(name, {})
        if allow_blocked and entry.get("status") == "blocked":
            break
        if entry.get("status") != "planned":
            problems.append(f"{name} was {entry['status'] + ' at plan time' if entry else 'not planned'}")
            continue
        if not entry.get("saved_plan") or not entry.get("plan_sha256") or not entry.get("stack_sha256"):
            problems.append(f"{name}: planned by an older tools.plan, without a saved plan")
            continue
        saved = plans / entry["saved_plan"]
        if not saved.is_file():
            problems.append(f"{name}: its saved plan {saved} is missing")
        elif file_digest(saved) != entry["plan_sha256"]:
            problems.append(f"{name}: its saved plan {saved} changed since it was planned")
        elif stack_digest(outdir / "stacks" / name) != entry["stack_sha256"]:
            problems.append(f"{name}: the synthesized stack differs from the one planned (the configuration or code changed)")
        else:
            folders[name] = saved.parent
    if problems:
        raise ToolError(f"nothing applied: {'; '.join(problems)}; {REPLAN}", EXIT_SETUP)
    return folders


def apply_saved_plan(workdir: Path, *, env: dict[str, str], timeout: int = DEFAULT_TIMEOUT_SECONDS, init: bool = True) -> StackRun:
    """`init` then `apply stack.tfplan` in a plan folder of tools.plan: exactly what was planned, or nothing.
    `init=False`: the folder was just initialized by the plan in this process (deploy-local)."""
    return _terraform(workdir, ("apply", "-input=false", PLAN_FILE), env=env, timeout=timeout, init=init)


def destroy_stack(stack_dir: Path, *, env: dict[str, str], timeout: int = DEFAULT_TIMEOUT_SECONDS) -> StackRun:
    """`init` then `destroy -auto-approve` in one synthesized stack folder."""
    return _terraform(stack_dir, ("destroy", "-auto-approve", "-input=false"), env=env, timeout=timeout)


def _terraform(folder: Path, args: tuple[str, ...], *, env: dict[str, str], timeout: int, init: bool = True) -> StackRun:
    started = time.monotonic()
    name = folder.name

    def failed(summary: str, output: str) -> StackRun:
        return StackRun(name, False, time.monotonic() - started, summary, output)

    try:
        if init:
            initialized = run(folder, "init", "-input=false", env=env, timeout=timeout)
            if initialized.returncode != 0:
                return failed("init failed", initialized.stdout + initialized.stderr)
        result = run(folder, *args, env=env, timeout=timeout)
    except TerraformTimeout as error:  # a timeout stops this stack with its message
        return failed(str(error), str(error))
    output = result.stdout + result.stderr
    if STALE.search(output):
        return failed(f"the state changed since the plan (someone applied in between); {REPLAN}", output)
    match = SUMMARY.search(result.stdout)
    if result.returncode != 0 or match is None:
        return failed(f"{args[0]} failed", output)
    if args[0] == "apply":
        summary = f"{match.group(2)} added, {match.group(3)} changed, {match.group(4)} destroyed"
    else:
        summary = f"{match.group(4)} destroyed"
    return StackRun(name, True, time.monotonic() - started, summary, output)


def run_in_order(
    order: list[str],
    label: str,
    step: Callable[[str], StackRun],
    *,
    before: Callable[[str], None] | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[StackRun]:
    """`step(stack)` for each stack of `order`, with a progress line before and after; stops at the first failure.

    `before(stack)` runs ahead of each stack (an emulator uses it to empty buckets before destroy)."""
    results = []
    for index, name in enumerate(order, start=1):
        progress(f"[{label}] ({index}/{len(order)}) {name} ...")
        if before is not None:
            before(name)
        result = step(name)
        results.append(result)
        progress(f"[{label}] ({index}/{len(order)}) {name}: {'done' if result.ok else 'FAILED'}, {result.summary} ({result.seconds:.1f} s)")
        if not result.ok:
            progress("\n".join(result.output.strip().splitlines()[-25:]))
            break
    return results


#: Stack-name prefixes of the architectures: each one's stacks depend on each other (in deploy order) and on the
#: state bootstrap, never on another architecture's (tools.local deploys the lanes side by side).
ARCHITECTURE_PREFIXES = ("active-active-", "warm-standby-")


def lanes(order: list[str]) -> tuple[list[str], list[list[str]]]:
    """The stacks of `order` that every other one needs (the state bootstrap), then one lane per architecture, each
    in `order`'s order. Reversed `order` (a destroy) gives the lanes reversed, and what all need comes last instead."""
    shared = [name for name in order if not name.startswith(ARCHITECTURE_PREFIXES)]
    by_architecture = [[name for name in order if name.startswith(prefix)] for prefix in ARCHITECTURE_PREFIXES]
    return shared, [lane for lane in by_architecture if lane]


def run_in_lanes(
    order: list[str],
    label: str,
    step: Callable[[str], StackRun],
    *,
    reverse: bool = False,
    before: Callable[[str], None] | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[StackRun]:
    """run_in_order for the shared stacks, and for each architecture's lane side by side (a thread each): first the
    shared ones, or last with `reverse` (a destroy, `order` reversed). Stops at the first failure of a lane; the
    shared stacks after the lanes run only when every lane succeeded. Results in `order`'s order."""
    shared, architecture_lanes = lanes(order)
    run = functools.partial(run_in_order, label=label, step=step, before=before, progress=progress)
    results: list[StackRun] = []
    if not reverse:
        results += run(shared)
        if not all(result.ok for result in results):
            return results
    with ThreadPoolExecutor(max_workers=max(1, len(architecture_lanes))) as pool:
        for lane_results in pool.map(run, architecture_lanes):
            results += lane_results
    if reverse and all(result.ok for result in results):
        results += run(shared)
    rank = {name: index for index, name in enumerate(order)}
    return sorted(results, key=lambda result: rank[result.stack])


def apply_approved(
    outdir: Path, plans: Path, *, stacks: list[str] | None = None, timeout: int = DEFAULT_TIMEOUT_SECONDS, allow_blocked: bool = False
) -> list[StackRun]:
    """Apply the saved plans of `stacks` (default: all) in the deploy order, after approved_plans' checks; with
    `allow_blocked`, up to the first stack that was blocked at plan time."""
    order = deploy_order(outdir, stacks)
    folders = approved_plans(outdir, plans, order, allow_blocked=allow_blocked)
    env = terraform_env()
    results = run_in_order(
        [name for name in order if name in folders], "apply", lambda name: apply_saved_plan(folders[name], env=env, timeout=timeout)
    )
    left = [name for name in order if name not in folders]
    if left and all(result.ok for result in results):
        print(
            f"[apply] stopped before {left[0]}, blocked at plan time: its upstream stacks are applied now; "
            "plan, approve and deploy again for the rest",
            file=sys.stderr,
        )
    return results


def destroy_in_order(
    outdir: Path,
    *,
    stacks: list[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: int = DEFAULT_TIMEOUT_SECONDS,
    before: Callable[[str], None] | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    in_lanes: bool = False,
) -> list[StackRun]:
    """Destroy the stacks in reverse deploy order; `in_lanes`: each architecture's side by side (run_in_lanes)."""
    order = deploy_order(outdir, stacks)[::-1]
    environment = env or terraform_env()
    step = lambda name: destroy_stack(outdir / "stacks" / name, env=environment, timeout=timeout)  # noqa: E731
    if in_lanes:
        return run_in_lanes(order, "destroy", step, reverse=True, before=before, progress=progress)
    return run_in_order(order, "destroy", step, before=before, progress=progress)


@command("deploy")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deploy", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["apply", "destroy"])
    parser.add_argument("--outdir", default=str(ROOT / "cdktf.out"))
    parser.add_argument("--plans", help="apply: folder of tools.plan's saved plans (default: <outdir>/plans)")
    parser.add_argument("--stacks", help="comma-separated stack names (default: every stack)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_SECONDS, help="seconds per Terraform command")
    parser.add_argument(
        "--allow-blocked", action="store_true", help="apply: a first deploy; stop before the first stack blocked at plan time"
    )
    args = parser.parse_args(argv)
    stacks = [name.strip() for name in args.stacks.split(",") if name.strip()] if args.stacks else None
    outdir = Path(args.outdir)
    require_credentials()
    started = time.monotonic()
    if args.command == "apply":
        plans = Path(args.plans) if args.plans else outdir / "plans"
        results = apply_approved(outdir, plans, stacks=stacks, timeout=args.timeout, allow_blocked=args.allow_blocked)
    else:
        results = destroy_in_order(outdir, stacks=stacks, timeout=args.timeout)
    ok = all(result.ok for result in results)
    print(f"[{args.command}] {sum(r.ok for r in results)} stack(s) done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
