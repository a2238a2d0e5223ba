"""`terraform plan` of every synthesized stack, saved for review and for `tools.deploy` to apply as approved.

    python -m tools.plan [--outdir cdktf.out] [--offline] [--stacks a,b] [--jobs 2] [--lock] [--allow-blocked]

Each stack is copied to <outdir>/plans/work/<stack> and planned there, so the synthesized stacks stay exactly as
`cdktf deploy` will use them. The saved plan stays there (stack.tfplan) for `make deploy` to apply; its JSON
(`terraform show -json`) is written to <outdir>/plans/<stack>.json, and the outcome of every stack to
<outdir>/plans/summary.json with the digests `make deploy` checks: the synthesized stack's and the plan file's.

Live (default): the real backend and account, with the credentials in the environment (or the emulator, when
the stacks were synthesized with --emulator-endpoint). State locks are not taken (`-lock=false`): a pull-request
plan runs with a read-only role; pass --lock to take them. Every variable without a default needs its TF_VAR_
value: a missing one fails the stack and names the variable. First, the account's Lambda concurrency is read
(tools.quotas): a reservation the account cannot give stops the plan before Terraform starts.

--offline: no credentials and no network. The copy gets a local backend, providers that skip credential, account
and metadata checks with fake keys, and no allowed_account_ids; every data source and ephemeral resource is read
at apply time (its values show as "known after apply"); refresh is off, so the plan shows every resource as new
and says nothing about what exists. A variable without a value gets a placeholder of the right length. An offline
plan can be reviewed, never applied.

A stack is *blocked* when it cannot be planned until a stack before it in the deploy order is applied: its state
bucket does not exist yet, or it reads another stack's state that is not there (offline plans never can). A
blocked stack was not checked, so it fails the gate like a failed one unless --allow-blocked says that is
expected (a first deploy, before the state bootstrap is applied).

Exit 0 when every stack is planned (or blocked and allowed); 1 when a plan failed; 4 when a stack is blocked
and --allow-blocked is not given.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tools.cli import CREDENTIAL_ERRORS, CREDENTIAL_HELP, EXIT_SETUP, ToolError, command, require_credentials
from tools.quotas import check_account_singletons, check_global_database, check_lambda_concurrency
from tools.terraform import (
    ROOT,
    TerraformTimeout,
    file_digest,
    for_each_stack,
    provider_mirror,
    run,
    stack_digest,
    stack_dirs,
    terraform_env,
)

EXIT_FAILED = 1
EXIT_BLOCKED = 4
PLAN_FILE = "stack.tfplan"
#: Terraform's words when a stack's upstream is not applied yet: the state bucket (created by the state bootstrap)
#: is missing, or a `terraform_remote_state` finds no state.
UPSTREAM_MISSING = re.compile(
    r"S3 bucket \"?[^\s\"]*\"? does not exist|NoSuchBucket|Unable to find remote state|No stored state was found", re.IGNORECASE
)

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
    """What happened to one stack: planned (plan JSON written), blocked (cannot be planned until an upstream stack
    is applied) or failed. A planned stack records the digests `tools.deploy` checks before applying."""

    stack: str
    status: str
    seconds: float
    reason: str = ""
    plan_file: str = ""
    saved_plan: str = ""
    stack_sha256: str = ""
    plan_sha256: str = ""


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


def state_where_synthesized(stack: dict[str, Any], stack_dir: Path) -> dict[str, Any]:
    """The stack with a relative local-backend path made absolute, so its plan folder uses the same state file."""
    local = stack.get("terraform", {}).get("backend", {}).get("local")
    if not local or Path(local.get("path", "terraform.tfstate")).is_absolute():
        return stack
    copy = json.loads(json.dumps(stack))
    copy["terraform"]["backend"]["local"]["path"] = str((stack_dir / local.get("path", "terraform.tfstate")).resolve())
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

    def outcome(status: str, reason: str = "", **digests: str) -> PlanOutcome:
        return PlanOutcome(name, status, round(time.monotonic() - started, 1), reason, **digests)

    sources = remote_state_sources(stack)
    if offline and sources:
        return outcome("blocked", f"reads the state of {', '.join(sources)}, which an offline plan cannot: plan it live once applied")
    stack_env = dict(env)
    if offline:
        for variable in unset_variables(stack, stack_env):
            stack_env[f"TF_VAR_{variable}"] = OFFLINE_VARIABLE_VALUE
    missing = unset_variables(stack, stack_env)
    if missing:
        names = ", ".join(f"TF_VAR_{variable}" for variable in missing)
        return outcome("failed", f"variable {', '.join(missing)} has no default and no value: export {names} (or plan with --offline)")
    workdir = prepare_workdir(stack_dir, plans)
    copy = offline_copy(stack) if offline else state_where_synthesized(stack, stack_dir)
    (workdir / "cdk.tf.json").write_text(json.dumps(copy, indent=2))
    plan_file = plans / f"{name}.json"
    error = terraform_plan(workdir, plan_file, offline=offline, lock=lock, env=stack_env)
    if error is None:
        saved = workdir / PLAN_FILE
        return outcome(
            "planned",
            plan_file=plan_file.name,
            saved_plan=str(saved.relative_to(plans)),
            stack_sha256=stack_digest(stack_dir),
            plan_sha256=file_digest(saved),
        )
    if UPSTREAM_MISSING.search(error):
        return outcome("blocked", f"an upstream stack is not applied yet: {error}")
    return outcome("failed", error)


def terraform_plan(
    workdir: Path, plan_file: Path, *, offline: bool, lock: bool, env: dict[str, str], targets: Sequence[str] = ()
) -> str | None:
    """`init`, `plan -out` (of `targets` and what they need, when given) and `show -json` into `plan_file`; the tail
    of the failing command's output, or None."""
    plan_args = ["plan", "-input=false", f"-out={PLAN_FILE}", f"-lock={'true' if lock else 'false'}", *(f"-target={t}" for t in targets)]
    if offline:
        plan_args.append("-refresh=false")
    for args in (["init", "-input=false"], plan_args, ["show", "-json", PLAN_FILE]):
        try:
            result = run(workdir, *args, env=env)
        except TerraformTimeout as error:  # a timeout fails this stack, not the whole run
            return str(error)
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
    shutil.rmtree(plans / "work", ignore_errors=True)  # no saved plan of an earlier run may be applied by mistake
    dirs = stack_dirs(outdir)
    if stacks:
        unknown = sorted(set(stacks) - {d.name for d in dirs})
        if unknown:
            expected = ", ".join(d.name for d in dirs)
            raise ToolError(f"--stacks: got {', '.join(unknown)}; expected synthesized stacks: {expected}", EXIT_SETUP)
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


@command("plan")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", default=str(ROOT / "cdktf.out"))
    parser.add_argument("--offline", action="store_true", help="no credentials, no network: local backend, fake keys, no refresh")
    parser.add_argument("--stacks", help="comma-separated stack names (default: every synthesized stack)")
    parser.add_argument("--jobs", type=int, default=2, choices=range(1, 9), metavar="1-8")
    parser.add_argument("--lock", action="store_true", help="take state locks (needs write access to the lock table)")
    parser.add_argument("--allow-blocked", action="store_true", help="exit 0 when stacks are blocked by an upstream stack not yet applied")
    args = parser.parse_args(argv)
    mode = "offline" if args.offline else "live (credentials from the environment)"
    print(f"[plan] {mode}; providers from {provider_mirror() or 'the public registry'}", file=sys.stderr, flush=True)
    if not args.offline:
        try:
            require_credentials()  # one clear line now rather than the same provider error from every stack
        except CREDENTIAL_ERRORS as error:
            raise ToolError(
                f"no usable AWS credentials ({error}): {CREDENTIAL_HELP}; or run `make plan OFFLINE=1` (--offline) for a plan "
                "without credentials, against no state",
                EXIT_SETUP,
            ) from None
    stacks = [name.strip() for name in args.stacks.split(",") if name.strip()] if args.stacks else None
    if not args.offline:
        selected = [path / "cdk.tf.json" for path in stack_dirs(Path(args.outdir)) if stacks is None or path.name in stacks]
        check_lambda_concurrency(selected)
        check_account_singletons(selected)
        check_global_database(selected)
    results = plan_all(Path(args.outdir), offline=args.offline, stacks=stacks, jobs=args.jobs, lock=args.lock)
    counts = {status: sum(r.status == status for r in results) for status in ("planned", "blocked", "failed")}
    print(f"[plan] {counts['planned']} planned, {counts['blocked']} blocked, {counts['failed']} failed", file=sys.stderr)
    for result in results:
        if result.status != "planned":
            print(f"--- {result.stack} ({result.status.upper()})\n{result.reason}", file=sys.stderr)
    if counts["failed"]:
        return EXIT_FAILED
    if counts["blocked"] and not args.allow_blocked:
        print(
            f"[plan] {counts['blocked']} stack(s) blocked and so not checked; if their upstream stacks are not applied yet "
            "(a first deploy), say so with --allow-blocked (make plan ALLOW_BLOCKED=1)",
            file=sys.stderr,
        )
        return EXIT_BLOCKED
    return 0


if __name__ == "__main__":
    sys.exit(main())
