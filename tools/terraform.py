"""Run Terraform on synthesized stacks, offline when a provider mirror is on disk.

    python -m tools.terraform validate [--outdir cdktf.out] [--jobs 2]

The provider comes from the filesystem mirror in $TF_PLUGIN_MIRROR (default /opt/tf-plugins) when that folder
exists, and from the public registry otherwise, with downloads cached in .terraform.d/plugin-cache.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tools.cli import EXIT_SETUP, ToolError, command

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = Path("/opt/tf-plugins")
CLI_CONFIG = ROOT / ".terraform.d" / "cli.tfrc"
PLUGIN_CACHE = ROOT / ".terraform.d" / "plugin-cache"
COMMAND_TIMEOUT_SECONDS = 600
T = TypeVar("T")


def provider_mirror() -> Path | None:
    """The local provider mirror to use, or None to use the registry."""
    mirror = Path(os.environ.get("TF_PLUGIN_MIRROR", DEFAULT_MIRROR))
    return mirror if (mirror / "registry.terraform.io").is_dir() else None


def write_cli_config(path: Path = CLI_CONFIG) -> Path:
    """Write the Terraform CLI configuration (mirror if present, registry otherwise) to `path` and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mirror = provider_mirror()
    lines: list[str] = []
    if mirror is None:
        # Downloads are cached; the cache is not safe for concurrent installs, so validate_all warms it first.
        PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
        lines.append(f'plugin_cache_dir = "{PLUGIN_CACHE}"')
    else:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            '    include = ["registry.terraform.io/hashicorp/*"]',
            "  }",
            "  direct {",
            '    exclude = ["registry.terraform.io/hashicorp/*"]',
            "  }",
            "}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def terraform_env() -> dict[str, str]:
    """Environment for every Terraform call: our CLI config, no update checks, automation mode."""
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(write_cli_config()),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
    }


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if found is None:
        raise ToolError(
            "terraform not found on PATH: install Terraform 1.11 or newer (https://developer.hashicorp.com/terraform/install)", EXIT_SETUP
        )
    return found


class TerraformTimeout(ToolError):
    """A Terraform command ran past its time limit: it fails the stack it ran in."""


#: What Terraform adds to a stack folder; none of it is part of the synthesized configuration.
NOT_CONFIGURATION = (".terraform", ".terraform.lock.hcl", "*.tfplan", "*.tfstate", "*.tfstate.backup")


def stack_digest(stack_dir: Path) -> str:
    """SHA-256 over a synthesized stack folder's files (cdk.tf.json and its assets), without Terraform's own files:
    equal digests mean the same configuration. An asset archive counts by its members' names and contents, not
    its bytes, which carry the files' modification times (another checkout of the same commit zips differently)."""
    digest = hashlib.sha256()
    for path in sorted(stack_dir.rglob("*")):
        relative = path.relative_to(stack_dir)
        if path.is_dir() or any(part == ".terraform" for part in relative.parts) or any(relative.match(p) for p in NOT_CONFIGURATION):
            continue
        digest.update(str(relative).encode() + b"\0")
        if path.suffix == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in sorted(archive.namelist()):
                    digest.update(member.encode() + b"\0" + archive.read(member) + b"\0")
        else:
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class StackResult:
    stack: str
    ok: bool
    seconds: float
    output: str


#: After its time limit Terraform gets SIGINT and this long to stop by itself: finish the calls in flight, write the
#: state and release the lock, as its docs ask of automation. Only then is it killed.
INTERRUPT_GRACE_SECONDS = 120
#: Terraform's report of a state lock it could not take: the lock's ID follows.
LOCK_HELD = re.compile(r"Lock Info:\s+ID:\s+(\S+)")
ERROR_LINE = re.compile(r"^[│ ]*Error: (.+?)\s*$", re.MULTILINE)
ERROR_ADDRESS = re.compile(r"^[│ ]*(?:with ([^,\s]+),|on \S+ line \d+, in resource\.([^:\s]+):)", re.MULTILINE)


def terraform_error_blocks(output: str) -> list[tuple[str, str | None, str]]:
    """Each error in Terraform's `output`: its message, the resource address it names (`with aws_x.y,` or `in
    resource.aws_x.y:`, or None) and its whole text up to the next error."""
    starts = list(ERROR_LINE.finditer(output))
    found = []
    for index, match in enumerate(starts):
        text = output[match.end() : starts[index + 1].start() if index + 1 < len(starts) else len(output)]
        address = ERROR_ADDRESS.search("\n".join(text.splitlines()[:6]))
        found.append((match.group(1), (address.group(1) or address.group(2)) if address else None, text))
    return found


def terraform_errors(output: str, limit: int = 3) -> str:
    """Terraform's error messages in `output`, each with the resource it names, at most `limit`: what a failure
    reports when the whole output is too long to show."""
    errors = terraform_error_blocks(output)
    if not errors:
        return output.strip().splitlines()[-1] if output.strip() else "no output"
    found = [f"{message} (at {address})" if address else message for message, address, _ in errors[:limit]]
    more = f"; and {len(errors) - limit} more" if len(errors) > limit else ""
    return "; ".join(found) + more


def run(stack_dir: Path, *args: str, env: dict[str, str], timeout: int | None = None) -> subprocess.CompletedProcess[str]:
    """One Terraform command in `stack_dir`, output captured. Past `timeout` seconds (default
    COMMAND_TIMEOUT_SECONDS) it is stopped as Terraform asks: SIGINT to its process group, INTERRUPT_GRACE_SECONDS
    to stop, then SIGKILL; TerraformTimeout then says how it ended and, when a state lock is left, its ID and the
    `terraform force-unlock` command."""
    timeout = timeout or COMMAND_TIMEOUT_SECONDS
    command = [terraform_binary(), *args, "-no-color"]
    # A session of its own: the signals reach Terraform and its provider plugins, not this tool.
    process = subprocess.Popen(
        command, cwd=stack_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TerraformTimeout(_timed_out(stack_dir, args[0], timeout, _interrupt(process), env)) from None
    except BaseException:
        _interrupt(process)  # this tool itself is stopping: never leave Terraform running on its own
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


#: The commands that take the state lock: after one of them is stopped, the lock is looked for.
LOCKING_COMMANDS = ("apply", "destroy", "plan", "import", "refresh")


def _timed_out(stack_dir: Path, verb: str, timeout: int, how: str, env: dict[str, str]) -> str:
    """The one line for a command stopped at its time limit: how it ended, the lock it left, what to do next."""
    ended = (
        "it stopped on SIGINT" if how == "interrupted" else f"it did not stop within {INTERRUPT_GRACE_SECONDS} s of SIGINT and was killed"
    )
    line = f"terraform {verb} in {stack_dir.name} did not finish within {timeout} s; {ended}"
    if verb in LOCKING_COMMANDS:
        lock = held_lock(stack_dir, env)
        if lock:
            line += (
                f"; its state lock {lock} is still held: once nothing else runs on this state, release it with "
                f"`terraform -chdir={stack_dir} force-unlock {lock}`"
            )
        else:
            line += "; no state lock is left" if lock == "" else "; whether it left a state lock could not be read"
    if verb in ("apply", "destroy"):
        line += "; resources it was changing may be missing from the state: plan again before anything else"
    return line


def _interrupt(process: subprocess.Popen[str]) -> str:
    """SIGINT to the process group, then SIGKILL after the grace period; "interrupted" or "killed"."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.communicate(timeout=INTERRUPT_GRACE_SECONDS)
        return "interrupted"
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return "killed"


#: An address no stack uses: `state rm -dry-run` of it takes the state lock, reads the state and changes nothing.
LOCK_PROBE_ADDRESS = "terraform_data.hadr_lock_probe"


def held_lock(stack_dir: Path, env: dict[str, str]) -> str | None:
    """The ID of a state lock someone holds on this stack's state, "" when there is none, None when Terraform could
    not tell. Asks Terraform to take the lock at once (`state rm -dry-run` of an address that does not exist, so
    nothing is changed) and reads its Lock Info."""
    try:
        probe = subprocess.run(
            [terraform_binary(), "state", "rm", "-dry-run", "-lock-timeout=0s", LOCK_PROBE_ADDRESS, "-no-color"],
            cwd=stack_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=INTERRUPT_GRACE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    match = LOCK_HELD.search(probe.stdout + probe.stderr)
    if match:
        return match.group(1)
    return "" if probe.returncode == 0 else None


def validate_stack(stack_dir: Path, env: dict[str, str] | None = None) -> StackResult:
    """`terraform init -backend=false` then `terraform validate` in one synthesized stack."""
    env = env or terraform_env()
    started = time.monotonic()
    init = run(stack_dir, "init", "-backend=false", "-input=false", env=env)
    if init.returncode != 0:
        return StackResult(stack_dir.name, False, time.monotonic() - started, init.stdout + init.stderr)
    result = run(stack_dir, "validate", env=env)
    return StackResult(stack_dir.name, result.returncode == 0, time.monotonic() - started, result.stdout + result.stderr)


def provider_schema(workdir: Path, provider_version: str = "5.100.0") -> dict:
    """The AWS provider's schema (`terraform providers schema -json`) from a scratch configuration in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": provider_version}}}}
    (workdir / "main.tf.json").write_text(json.dumps(config))
    env = terraform_env()
    init = run(workdir, "init", "-input=false", env=env)
    if init.returncode != 0:
        raise RuntimeError(f"terraform init failed in {workdir}:\n{init.stdout}{init.stderr}")
    schema = subprocess.run(
        [terraform_binary(), "providers", "schema", "-json"],
        cwd=workdir,
        env=env,
        capture_output=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=True,
    )
    return json.loads(schema.stdout)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]


def stack_dirs(outdir: Path) -> list[Path]:
    """The synthesized stack folders in deploy order (the synth's deploy-order.json; any other stack last, by name)."""
    order_file = outdir / "deploy-order.json"
    order = json.loads(order_file.read_text()).get("order", []) if order_file.is_file() else []
    rank = {name: index for index, name in enumerate(order)}
    found = [path for path in (outdir / "stacks").glob("*") if (path / "cdk.tf.json").is_file()]
    stacks = sorted(found, key=lambda path: (rank.get(path.name, len(rank)), path.name))
    if not stacks:
        raise ToolError(f"no synthesized stacks under {outdir}/stacks: run `make synth` first", EXIT_SETUP)
    return stacks


def for_each_stack(stacks: Sequence[Path], work: Callable[[Path], T], *, jobs: int, report: Callable[[T], None] | None = None) -> list[T]:
    """`work` on every stack, `jobs` at a time after the first; `report(result)` is called as each one finishes.

    The first runs alone: its `terraform init` fills the provider cache the others then only read."""
    if not stacks:
        return []
    first, *rest = stacks
    results = [work(first)]
    if report is not None:
        report(results[0])
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(work, rest):
            if report is not None:
                report(result)
            results.append(result)
    return results


def validate_all(outdir: Path, *, jobs: int = 2, report: Callable[[StackResult], None] | None = None) -> list[StackResult]:
    """Validate every stack, `jobs` at a time; `report(result)` is called as each one finishes."""
    env = terraform_env()
    return for_each_stack(stack_dirs(outdir), lambda path: validate_stack(path, env), jobs=jobs, report=report)


@command("validate")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.terraform", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["validate"])
    parser.add_argument("--outdir", default=str(ROOT / "cdktf.out"))
    parser.add_argument("--jobs", type=int, default=2, choices=range(1, 9), metavar="1-8")
    args = parser.parse_args(argv)
    mirror = provider_mirror()
    print(f"[validate] providers from {mirror or 'the public registry'}", file=sys.stderr, flush=True)

    def report(result: StackResult) -> None:
        status = "valid" if result.ok else "INVALID"
        print(f"[validate]   {result.stack:<32} {status} ({result.seconds:.1f} s)", file=sys.stderr, flush=True)
        if not result.ok:
            print(result.output, file=sys.stderr)

    results = validate_all(Path(args.outdir), jobs=args.jobs, report=report)
    failed = [result.stack for result in results if not result.ok]
    print(f"[validate] {len(results) - len(failed)} of {len(results)} stacks valid", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
