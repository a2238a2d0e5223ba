"""`terraform plan` of every synthesized stack, saved as plan JSON for review.

    python -m tools.plan [--outdir cdktf.out] [--offline] [--stacks a,b] [--jobs 2] [--lock]

Each stack is copied to <outdir>/plans/work/<stack> and planned there, so the synthesized stacks stay exactly as
`cdktf deploy` will use them; the plan is written to <outdir>/plans/<stack>.json (`terraform show -json`) and the
outcome of every stack to <outdir>/plans/summary.json, which tools.plan_report turns into a Markdown report.

Live (default): the real backend and account, with the credentials in the environment (or the emulator, when
the stacks were synthesized with --emulator-endpoint). State locks are not taken (`-lock=false`): a pull-request
plan runs with a read-only role; pass --lock to take them.

--offline: no credentials and no network. The copy gets a local backend, providers that skip credential, account
and metadata checks with fake keys, and no allowed_account_ids; every data source and ephemeral resource is read at apply time (its
values show as "known after apply"); refresh is off, so the plan shows every resource as new. A variable without a
value gets a placeholder of the right length. A stack that reads another stack's state cannot be planned offline
and is reported as blocked, not failed.

Exit 0 when every stack is planned or blocked; 1 when a plan failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tools.terraform import ROOT, for_each_stack, provider_mirror, run, stack_dirs, terraform_env

#: Placeholder for variables in an offline plan: long enough for any length rule the stacks declare.
OFFLINE_VARIABLE_VALUE = "offline-plan-placeholder-" + "x" * 40
OFFLINE_CREDENTIAL = "offline-plan"
#: Provider arguments that let an offline plan start without any AWS call.
OFFLINE_PROVIDER = {
    "skip_credentials_validation": True,
    "skip_requesting_account_id": True,
    "skip_metadata_api_check": "true",
    "access_key": OFFLINE_CREDENTIAL,
    "secret_key": OFFLINE_CREDENTIAL,
}


@dataclass
class PlanOutcome:
    """What happened to one stack: planned (plan JSON written), blocked (cannot be planned yet) or failed."""

    stack: str
    status: str
    seconds: float
    reason: str = ""
    plan_file: str = ""


def remote_state_sources(stack: dict[str, Any]) -> list[str]:
    """The other stacks' states this stack reads (`terraform_remote_state` data sources), by state key or name."""
    sources = []
    for name, body in stack.get("data", {}).get("terraform_remote_state", {}).items():
        config = body.get("config", {})
        sources.append(str(config.get("key") or config.get("path") or name))
    return sources


def offline_copy(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack as an offline plan needs it: local backend, offline providers, data sources read at apply time."""
    copy = json.loads(json.dumps(stack))
    copy.setdefault("terraform", {})["backend"] = {"local": {"path": "offline.tfstate"}}
    for provider in copy.get("provider", {}).get("aws", []):
        provider.pop("allowed_account_ids", None)  # no account to compare with
        provider.update(OFFLINE_PROVIDER)
    anchor = next((f"{kind}.{name}" for kind, items in copy.get("resource", {}).items() for name in items), None)
    if anchor is not None:
        # A data source that depends on a resource with pending changes is read during apply, not plan.
        for items in copy.get("data", {}).values():
            for body in items.values():
                body["depends_on"] = sorted({*body.get("depends_on", []), anchor})
        # An ephemeral resource is opened at plan time unless an argument is unknown: prefix one with an unknown "".
        for items in copy.get("ephemeral", {}).values():
            for body in items.values():
                argument = next((name for name, value in body.items() if isinstance(value, str)), None)
                if argument is not None:
                    body[argument] = f"${{substr({anchor}.id, 0, 0)}}{body[argument]}"
    return copy


def unset_variables(stack: dict[str, Any], env: dict[str, str]) -> list[str]:
    """Variables with neither a default nor a TF_VAR_ value in `env`."""
    return [name for name, body in stack.get("variable", {}).items() if "default" not in body and f"TF_VAR_{name}" not in env]


def prepare_workdir(stack_dir: Path, plans: Path) -> Path:
    """A fresh copy of the synthesized stack (assets included, .terraform left out) under plans/work/."""
    workdir = plans / "work" / stack_dir.name
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(stack_dir, workdir, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfplan"))
    return workdir


def plan_stack(stack_dir: Path, plans: Path, *, offline: bool, lock: bool, env: dict[str, str]) -> PlanOutcome:
    """Init, plan and `show -json` one stack in its work copy."""
    started = time.monotonic()
    name = stack_dir.name
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())

    def outcome(status: str, reason: str = "", plan_file: str = "") -> PlanOutcome:
        return PlanOutcome(name, status, round(time.monotonic() - started, 1), reason, plan_file)

    sources = remote_state_sources(stack)
    if offline and sources:
        return outcome("blocked", f"reads the state of {', '.join(sources)}: plan it once that stack is deployed")
    stack_env = dict(env)
    if offline:
        for variable in unset_variables(stack, stack_env):
            stack_env[f"TF_VAR_{variable}"] = OFFLINE_VARIABLE_VALUE
    missing = unset_variables(stack, stack_env)
    if missing:
        return outcome("blocked", "needs " + ", ".join(f"TF_VAR_{variable}" for variable in missing))
    workdir = prepare_workdir(stack_dir, plans)
    if offline:
        (workdir / "cdk.tf.json").write_text(json.dumps(offline_copy(stack), indent=2))
    plan_file = plans / f"{name}.json"
    error = terraform_plan(workdir, plan_file, offline=offline, lock=lock, env=stack_env)
    if error is None:
        return outcome("planned", plan_file=plan_file.name)
    if sources:
        return outcome("blocked", f"reads the state of {', '.join(sources)}, which is not readable yet: {error}")
    return outcome("failed", error)


def terraform_plan(workdir: Path, plan_file: Path, *, offline: bool, lock: bool, env: dict[str, str]) -> str | None:
    """`init`, `plan -out` and `show -json` into `plan_file`; the tail of the failing command's output, or None."""
    plan_args = ["plan", "-input=false", "-out=stack.tfplan", f"-lock={'true' if lock else 'false'}"]
    if offline:
        plan_args.append("-refresh=false")
    for args in (["init", "-input=false"], plan_args, ["show", "-json", "stack.tfplan"]):
        result = run(workdir, *args, env=env)
        if result.returncode != 0:
            return _tail(result.stdout + result.stderr)
    plan_file.write_text(result.stdout)
    return None


def _tail(output: str, lines: int = 15) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def plan_all(
    outdir: Path,
    *,
    offline: bool,
    stacks: list[str] | None = None,
    jobs: int = 2,
    lock: bool = False,
    extra_env: dict[str, str] | None = None,
) -> list[PlanOutcome]:
    """Plan the chosen stacks (default: all), write summary.json, and print a progress line per stack.

    `extra_env` is added to Terraform's environment (the emulator's credentials, for example)."""
    plans = outdir / "plans"
    plans.mkdir(parents=True, exist_ok=True)
    for stale in plans.glob("*.json"):
        stale.unlink()
    dirs = stack_dirs(outdir)
    if stacks:
        unknown = sorted(set(stacks) - {d.name for d in dirs})
        if unknown:
            raise SystemExit(f"--stacks: got {', '.join(unknown)}; expected synthesized stacks: {', '.join(d.name for d in dirs)}")
        dirs = [d for d in dirs if d.name in stacks]
    env = {**terraform_env(), **(extra_env or {})}
    if offline:
        env = {
            **env,
            "AWS_ACCESS_KEY_ID": OFFLINE_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": OFFLINE_CREDENTIAL,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def report(result: PlanOutcome) -> None:
        detail = f": {result.reason.splitlines()[-1]}" if result.reason else ""
        print(f"[plan]   {result.stack:<32} {result.status} ({result.seconds:.1f} s){detail}", file=sys.stderr, flush=True)

    results = for_each_stack(dirs, lambda path: plan_stack(path, plans, offline=offline, lock=lock, env=env), jobs=jobs, report=report)
    summary = {"mode": "offline" if offline else "live", "stacks": [asdict(result) for result in results]}
    (plans / "summary.json").write_text(json.dumps(summary, indent=2))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", default=str(ROOT / "cdktf.out"))
    parser.add_argument("--offline", action="store_true", help="no credentials, no network: local backend, fake keys, no refresh")
    parser.add_argument("--stacks", help="comma-separated stack names (default: every synthesized stack)")
    parser.add_argument("--jobs", type=int, default=2, choices=range(1, 9), metavar="1-8")
    parser.add_argument("--lock", action="store_true", help="take state locks (needs write access to the lock table)")
    args = parser.parse_args(argv)
    mode = "offline" if args.offline else "live (credentials from the environment)"
    print(f"[plan] {mode}; providers from {provider_mirror() or 'the public registry'}", file=sys.stderr, flush=True)
    if not args.offline and not any(key in os.environ for key in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE")):
        print("[plan] no AWS credentials in the environment: the live plan will fail; use --offline (make plan OFFLINE=1)", file=sys.stderr)
    stacks = [name.strip() for name in args.stacks.split(",") if name.strip()] if args.stacks else None
    results = plan_all(Path(args.outdir), offline=args.offline, stacks=stacks, jobs=args.jobs, lock=args.lock)
    counts = {status: sum(r.status == status for r in results) for status in ("planned", "blocked", "failed")}
    print(f"[plan] {counts['planned']} planned, {counts['blocked']} blocked, {counts['failed']} failed", file=sys.stderr)
    for result in results:
        if result.status == "failed":
            print(f"--- {result.stack}\n{result.reason}", file=sys.stderr)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
