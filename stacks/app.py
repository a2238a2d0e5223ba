"""Build every stack of a deployment and synthesize it atomically into the output directory."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cdktf import App
from constructs import Construct

from modules.base import RegionalStack
from modules.config import ActiveActive, DeploymentConfig
from modules.errors import InputError
from modules.names import name_problems
from modules.state import STATE_BOOTSTRAP_STACK, StateBootstrapStack
from stacks.active_active import ActiveActiveDataStack, ActiveActiveGlobalStack, ActiveActiveRegionStack
from stacks.foundation import GlobalFoundationStack, RegionalFoundationStack
from stacks.warm_standby import WarmStandbyGlobalStack, WarmStandbyRegionStack, WarmStandbyStorageStack

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Local state of the bootstrap stack lives here, outside the output directory that every synth replaces.
BOOTSTRAP_STATE_DIR = PROJECT_ROOT / ".state"
#: Written next to manifest.json: the stack names in deploy order (tools.deploy reads it; destroy reverses it), and
#: what each stack needs deployed before it ("needs"; tools.local applies the stacks whose needs are met side by side).
DEPLOY_ORDER_FILE = "deploy-order.json"


def bootstrap_state_file(config: DeploymentConfig, outdir: Path) -> Path:
    """The bootstrap stack's local state file, outside the output directory that every synth replaces.

    An emulator deployment keeps its own next to its output (`<outdir>.state/`), apart from real ones."""
    folder = outdir.with_name(f"{outdir.name}.state") if config.emulated else BOOTSTRAP_STATE_DIR
    return folder / f"{config.name_prefix}-{STATE_BOOTSTRAP_STACK}.tfstate"


def build_stacks(app: Construct, config: DeploymentConfig, *, outdir: Path) -> dict[str, list[str]]:
    """Add every stack of `config` to `app`; returns the stack names in deploy order, each with the stacks it needs
    deployed first. The stacks name each other's resources by their deterministic names, not by Terraform
    references, so these are apply-time needs: every stack's state lives in the bootstrap's bucket; an active/active
    region needs the data stack's global table and the region before it; a warm-standby region needs the storage
    stack (the master secret it reads, the certificate) and the second the first's database (its replica's
    source); a global stack needs both regions."""
    bootstrap_dir = outdir / "stacks" / STATE_BOOTSTRAP_STACK
    StateBootstrapStack(app, config=config, local_state_path=os.path.relpath(bootstrap_state_file(config, outdir), bootstrap_dir))
    needs: dict[str, list[str]] = {STATE_BOOTSTRAP_STACK: []}
    placed: set[str] = set()  # what a stack already holds: a region's account services, "account" (the trail), "budget"

    def first(key: str) -> bool:
        """True for the first stack that asks for `key`: the services an account allows once per region or once."""
        new = key not in placed
        placed.add(key)
        return new

    for _key, arch in config.enabled_architectures():
        first_region, second_region = arch.regions
        pairs = ((first_region, second_region), (second_region, first_region))
        # The stacks each region's depends on: the data stack (active/active) or the storage stack (warm standby).
        upstream_stack: RegionalStack | None = (
            ActiveActiveDataStack(app, config=config, arch=arch) if isinstance(arch, ActiveActive) else None
        )
        region_stack = ActiveActiveRegionStack if isinstance(arch, ActiveActive) else WarmStandbyRegionStack
        regional: list[RegionalFoundationStack] = [
            region_stack(
                app,
                config=config,
                arch=arch,  # type: ignore[arg-type]
                settings=settings,  # type: ignore[arg-type]
                peer_region=peer.region,
                account_security=first(settings.region),
                account_trail=first("account"),
            )
            for settings, peer in pairs
        ]
        global_class = ActiveActiveGlobalStack if isinstance(arch, ActiveActive) else WarmStandbyGlobalStack
        global_stack: GlobalFoundationStack = global_class(app, config=config, arch=arch, budget=first("budget"))  # type: ignore[arg-type]
        if upstream_stack is None:
            upstream_stack = WarmStandbyStorageStack(app, config=config, arch=arch)  # type: ignore[arg-type]
        needs[upstream_stack.stack_name] = [STATE_BOOTSTRAP_STACK]
        upstream = [STATE_BOOTSTRAP_STACK, upstream_stack.stack_name]
        global_stack.add_dashboard([upstream_stack, *regional, global_stack])
        for stack in regional:
            global_stack.add_dependency(stack)
            needs[stack.stack_name] = list(upstream)
            upstream = [*upstream, stack.stack_name]
        needs[global_stack.stack_name] = upstream
    return needs


def check_names(outdir: Path, name_prefix: str) -> None:
    """Raise InputError for every synthesized name AWS would refuse or that two resources share (modules.names)."""
    stacks = {path.parent.name: json.loads(path.read_text()) for path in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}
    problems = name_problems(stacks, name_prefix)
    if problems:
        raise InputError(problems)


@dataclass(frozen=True)
class SynthResult:
    outdir: Path
    stack_names: list[str]


def synthesize(config: DeploymentConfig, outdir: Path | str, *, leave_removed_stack_folders: bool = False) -> SynthResult:
    """Synthesize into a temporary sibling of `outdir`, then swap it into place.

    On any failure the temporary directory is removed and `outdir` is left exactly as it was.
    `leave_removed_stack_folders` (under the cdktf CLI): a stack folder of the old output whose stack is gone is
    left behind empty. The CLI lists the stack folders before it runs the app and deletes the orphans afterwards
    itself, and fails (ENOENT) on one that is already gone.
    """
    final = Path(outdir).resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=final.parent))
    try:
        app = App(outdir=str(staging))
        needs = build_stacks(app, config, outdir=final)
        names = list(needs)
        app.synth()
        check_names(staging, config.name_prefix)
        (staging / DEPLOY_ORDER_FILE).write_text(json.dumps({"order": names, "needs": needs}, indent=2) + "\n")
        retired = None
        if final.exists():
            retired = final.parent / f".{final.name}.retired-{os.getpid()}"
            final.rename(retired)
        if retired is not None and leave_removed_stack_folders:
            for folder in (retired / "stacks").glob("*"):
                if folder.is_dir() and folder.name not in names:
                    (staging / "stacks" / folder.name).mkdir(parents=True, exist_ok=True)
        staging.rename(final)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SynthResult(final, names)
