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
import json
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from tools.cli import EXIT_SETUP, ToolError, command, require_credentials
from tools.plan import PLAN_FILE
from tools.plan_report import load_summary
from tools.quotas import check_account_singletons, check_global_database, check_lambda_concurrency
from tools.terraform import ROOT, TerraformTimeout, file_digest, run, stack_digest, stack_dirs, terraform_env

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


def stack_needs(outdir: Path, order: list[str]) -> dict[str, list[str]]:
    """What each stack of `order` needs deployed before it, as the synth recorded it, restricted to `order`. A
    deploy-order.json without "needs" (an older synth): every stack before it in the order."""
    recorded = json.loads((outdir / "deploy-order.json").read_text()).get("needs")
    if recorded is None:
        return {name: order[:index] for index, name in enumerate(order)}
    return {name: [other for other in recorded.get(name, []) if other in order] for name in order}


def run_when_ready(
    order: list[str],
    needs: dict[str, list[str]],
    label: str,
    step: Callable[[str], StackRun],
    *,
    reverse: bool = False,
    jobs: int = 2,
    before: Callable[[str], None] | None = None,
    progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[StackRun]:
    """`step(stack)` for each stack of `order` as soon as the stacks it needs succeeded (`reverse`, a destroy: as soon
    as every stack that needs it is gone), up to `jobs` at a time; of the ready ones, the one with the longest chain
    waiting on it goes first. After a failure nothing new starts. Results in `order`'s order."""
    waits_for = {name: set(needs[name]) for name in order}
    if reverse:
        waits_for = {name: {other for other in order if name in needs[other]} for name in order}
    unblocks = {name: [other for other in order if name in waits_for[other]] for name in order}
    chain: dict[str, int] = {}
    for name in reversed(order) if not reverse else order:
        chain[name] = 1 + max((chain[other] for other in unblocks[name]), default=0)
    pending, done, results, started = list(order), set(), {}, 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        running: dict[Future[StackRun], str] = {}
        while pending or running:
            failed = any(not result.ok for result in results.values())
            ready = [name for name in pending if waits_for[name] <= done] if not failed else []
            for name in sorted(ready, key=lambda n: (-chain[n], order.index(n)))[: max(0, jobs - len(running))]:
                pending.remove(name)
                started += 1
                progress(f"[{label}] ({started}/{len(order)}) {name} ...")
                running[pool.submit(_step, name, step, before)] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                result = results[name] = future.result()
                progress(f"[{label}] {name}: {'done' if result.ok else 'FAILED'}, {result.summary} ({result.seconds:.1f} s)")
                if result.ok:
                    done.add(name)
                else:
                    progress("\n".join(result.output.strip().splitlines()[-25:]))
    return [results[name] for name in order if name in results]


def _step(name: str, step: Callable[[str], StackRun], before: Callable[[str], None] | None) -> StackRun:
    if before is not None:
        before(name)
    return step(name)


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
    jobs: int = 1,
) -> list[StackRun]:
    """Destroy the stacks in reverse deploy order; with `jobs` > 1, each as soon as no stack that needs it is left,
    that many at a time (run_when_ready)."""
    order = deploy_order(outdir, stacks)
    environment = env or terraform_env()
    step = lambda name: destroy_stack(outdir / "stacks" / name, env=environment, timeout=timeout)  # noqa: E731
    if jobs > 1:
        needs = stack_needs(outdir, order)
        return run_when_ready(order, needs, "destroy", step, reverse=True, jobs=jobs, before=before, progress=progress)[::-1]
    return run_in_order(order[::-1], "destroy", step, before=before, progress=progress)


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
        selected = [path / "cdk.tf.json" for path in stack_dirs(outdir) if stacks is None or path.name in stacks]
        check_lambda_concurrency(selected)
        check_account_singletons(selected)
        check_global_database(selected)
        plans = Path(args.plans) if args.plans else outdir / "plans"
        results = apply_approved(outdir, plans, stacks=stacks, timeout=args.timeout, allow_blocked=args.allow_blocked)
    else:
        results = destroy_in_order(outdir, stacks=stacks, timeout=args.timeout)
    ok = all(result.ok for result in results)
    print(f"[{args.command}] {sum(r.ok for r in results)} stack(s) done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
