"""One deployment into the emulator, shared by every test that needs a deployed stack: the suite's slow part is
deploying and destroying, so it happens once. The state backend, one active/active region, and the whole warm
standby (storage, both regions, the global edge) are deployed into moto with Terraform (S3 backend and lock table
in the emulator). The tests then run in file order against that one deployment: what was applied and its drift;
plans against the deployed state (the 0.1.0 address migration, a stateful replacement of the lock table); the
failover drills through their trigger path and the failbacks; the destroy, which stops the emulator; and last, the
plans the drill test started after the failbacks, which ran while the stacks they do not need were destroyed."""

from __future__ import annotations

import copy
import json
import re
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLE_CONFIG
from tests.test_migration import plan_actions
from tools import local
from tools.emulator import Emulator

pytestmark = [pytest.mark.emulator, pytest.mark.terraform]

STACKS = [
    "state-bootstrap",
    "active-active-eu-west-1",
    "warm-standby-storage",
    "warm-standby-us-east-1",
    "warm-standby-us-west-1",
    "warm-standby-global",
]
#: What deploy-local leaves out in the emulator (moto lacks the API), by resource type.
LEFT_OUT = (
    "aws_route53_resolver_firewall_config",
    "aws_route53_resolver_firewall_rule_group_association",
    "aws_backup_selection",
    "aws_resiliencehub_resiliency_policy",
    "aws_s3control_multi_region_access_point",
    "aws_synthetics_canary",
    "aws_budgets_budget",
)
STATE_BUCKET, STATE_REGION = "hadr-prod-tfstate-123456789012", "us-east-2"
#: What tools.local.recover reports after an apply it recovered ("; "-separated), closing the summary's parenthesis.
RECOVERY = (
    r"(?:released state lock \S+, left by a retried lock request|imported \d+ resource\(s\) created by a retried call"
    r"|\d+ answer\(s\) lost on the way \([^)]*\))"
)
RECOVERED = rf"{RECOVERY}(?:; {RECOVERY})*\)"
#: The stacks the 0.1.0 migration test plans (those with moved blocks).
MIGRATED = ("warm-standby-storage", "warm-standby-us-east-1", "warm-standby-us-west-1", "warm-standby-global")


@dataclass
class Deployment:
    root: Path
    emulator: Emulator
    session: local.Session
    results: list[Any]
    drifted: list[local.Drift]
    #: stack -> (its synthesized document, the plan of today's code on its state at 0.1.0 addresses)
    migrated: dict[str, tuple[dict[str, Any], dict[str, Any]]]
    #: the bootstrap with another lock table name, planned against the deployed one: {"outdir", "outcome", "unchanged"}
    renamed_lock: dict[str, Any]
    #: stack -> what the plans made after its apply raised (the tests that need them fail with it)
    plan_errors: dict[str, Exception]
    #: the plans of the drilled stacks after the failbacks (the drill test starts them, the last test reads them)
    failback_drift: Future[list[local.Drift]] | None = None

    @property
    def outdir(self) -> Path:
        return Path(self.session.outdir)

    def stack(self, name: str) -> dict[str, Any]:
        return json.loads((self.outdir / "stacks" / name / "cdk.tf.json").read_text())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Deployment]:
    """Deploy STACKS once for this module (progress on the terminal as it goes); the emulator stops at the end,
    whatever happened (the destroy test stops it first)."""
    root = tmp_path_factory.mktemp("deployment")
    patch = pytest.MonkeyPatch()
    patch.setattr(local, "SESSION_DIR", root / "session")
    patch.setattr(local, "SESSION_FILE", root / "session" / "session.json")
    patch.setattr(local, "LOCAL_OUTDIR", root / "cdktf.local")
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def show(message: str) -> None:
        with capture.global_and_fixture_disabled():
            print(f"\n    {message}", end="", file=sys.stderr, flush=True)

    patch.setattr(local, "progress", show)
    emulator = Emulator(log_file=root / "moto.log")
    migrated: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    renamed_lock: dict[str, Any] = {}
    plan_errors: dict[str, Exception] = {}

    def plans_after_apply(name: str, env: dict[str, str]) -> None:
        """The plans of the migration and lock-table tests, each made as soon as its stack is applied, next to its
        drift plan: they see the state the apply left, and overlap the later applies."""
        try:
            if name in MIGRATED:
                migrated[name] = plan_on_0_1_0_state(root, emulator, name, env)
            if name == "state-bootstrap":
                renamed_lock.update(plan_with_another_lock_table(root / "renamed-lock", emulator))
        except Exception as error:  # the test that needs this plan fails with it; the deployment goes on
            plan_errors[name] = error

    try:
        with emulator:
            session, results, drifted = local.deploy(EXAMPLE_CONFIG, stacks=STACKS, emulator=emulator, after_apply=plans_after_apply)
            yield Deployment(root, emulator, session, results, drifted, migrated, renamed_lock, plan_errors)
    finally:
        patch.undo()


def test_every_stack_applies_its_whole_plan_with_only_the_emulators_known_drift(deployment: Deployment) -> None:
    results, drifted = deployment.results, deployment.drifted
    assert [r.stack for r in results] == STACKS and all(r.ok for r in results)
    used = {
        (kind, prefix)
        for item in drifted
        for path in item.causes
        for (kind, prefix) in local.KNOWN_EMULATOR_DRIFT
        if item.address.startswith(f"{kind}.") and local.known_drift(kind, path) == local.KNOWN_EMULATOR_DRIFT[(kind, prefix)]
    }
    deployed_types = {kind for r in results for kind in deployment.stack(r.stack)["resource"]}
    needed = {entry for entry in local.KNOWN_EMULATOR_DRIFT if entry[0] in deployed_types}
    assert needed - used == set(), "an entry no drift needs any more: remove it"
    for result in results:
        resources = deployment.stack(result.stack)["resource"]
        total = sum(len(items) for items in resources.values())
        counts, _, note = result.summary.partition(" (")
        if note:  # deploy-local recovered from the loaded emulator (tools.local.recover); its drift plan found them all
            assert re.fullmatch(RECOVERED, note), f"{result.stack}: {note}"
            assert re.fullmatch(r"\d+ added, 0 changed, 0 destroyed", counts) and int(counts.split()[0]) <= total, result.summary
        else:
            assert counts == f"{total} added, 0 changed, 0 destroyed", result.stack
        assert not set(resources) & set(LEFT_OUT), result.stack
    s3 = deployment.emulator.client("s3", STATE_REGION)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=STATE_BUCKET)["Contents"]}
    assert {f"hadr/prod/{name}.tfstate" for name in STACKS[1:]} <= keys, "the regional stacks keep their state in the emulated bucket"
    assert deployment.session.emulator().alive()


def at_0_1_0_addresses(state: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The deployed state as a 0.1.0 deployment holds it: every moved resource at its address before the move."""
    state = copy.deepcopy(state)
    renamed = {move["to"]: move["from"] for move in document.get("moved", [])}
    for resource in state["resources"]:
        address = f"{resource['type']}.{resource['name']}"
        if resource.get("mode") == "managed" and address in renamed:
            resource["name"] = renamed[address].split(".", 1)[1]
    return state


def plan_on_0_1_0_state(root: Path, emulator: Emulator, name: str, env: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Today's stack `name`, planned (read-only) on a copy of its deployed state with every moved resource at its 0.1.0
    address: (its document, the plan's actions by address)."""
    outdir = local.LOCAL_OUTDIR
    document = json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())
    state = json.loads(emulator.client("s3", STATE_REGION).get_object(Bucket=STATE_BUCKET, Key=f"hadr/prod/{name}.tfstate")["Body"].read())
    workdir = root / "migration" / name
    # With its assets (the function packages), without what Terraform wrote there (the S3 backend's init).
    shutil.copytree(outdir / "stacks" / name, workdir, ignore=shutil.ignore_patterns(".terraform*", "*.tfplan"))
    (workdir / "0.1.0.tfstate").write_text(json.dumps(at_0_1_0_addresses(state, document)))
    document["terraform"]["backend"] = {"local": {"path": str(workdir / "0.1.0.tfstate")}}
    (workdir / "cdk.tf.json").write_text(json.dumps(document))
    return document, plan_actions(workdir, root / "migration" / f"{name}.json", env)


def test_a_0_1_0_deployment_plans_with_moves_only(deployment: Deployment) -> None:
    """GIVEN the warm standby's deployed state with every moved resource at its 0.1.0 address WHEN today's stacks are
    planned on it THEN every moved resource is moved, and the plan is otherwise the one the 0.1.0 code makes on that
    state: no replacement, nothing destroyed. The 0.1.0 code on the 0.1.0 state is today's code on today's state with
    every address renamed, so its plan is the drift plan deploy-local made right after the apply, renamed. (The
    plans are made during the deployment, each as soon as its stack is applied: plan_at_0_1_0.)"""
    for name, error in deployment.plan_errors.items():
        raise AssertionError(f"the plan after {name}'s apply failed") from error
    assert sorted(deployment.migrated) == sorted(MIGRATED)
    for name, (document, refactored) in deployment.migrated.items():
        assert document.get("moved"), f"{name} has moved blocks"
        moves = {move["to"]: move["from"] for move in document["moved"]}
        assert {address for address, (_, previous) in refactored.items() if previous} == set(moves), name
        drift = json.loads((local.SESSION_DIR / f"drift-{name}.json").read_text())["resource_changes"]
        unchanged = {
            moves.get(change["address"], change["address"]): tuple(change["change"]["actions"])
            for change in drift
            if change["change"]["actions"] != ["no-op"]
        }
        # What the emulator itself drifts on (deploy-local lists it) shows in both plans; the moves add nothing.
        assert {moves.get(address, address): actions for address, (actions, _) in refactored.items() if actions != ("no-op",)} == (
            unchanged
        ), name


def plan_with_another_lock_table(changed: Path, emulator: Emulator) -> dict[str, Any]:
    """Synthesize the bootstrap with a config value that forces a new lock table, and plan it for real against the
    deployed bootstrap's state: {"outdir", "outcome", "unchanged"} (the state file is the same after the plan)."""
    from cdktf import App

    from modules.config import parse_config
    from modules.state import StateBootstrapStack
    from stacks.app import bootstrap_state_file
    from tools.plan import plan_all

    data = yaml.safe_load((local.SESSION_DIR / "config.yaml").read_text())
    data["state"]["lock_table"] = "hadr-prod-tflock-v2"
    config = parse_config({**data, "emulator": {"endpoint": emulator.endpoint}})
    state_file = bootstrap_state_file(config, local.LOCAL_OUTDIR)
    assert state_file.is_file(), "the deployed bootstrap's own state"
    app = App(outdir=str(changed))
    StateBootstrapStack(app, config=config, local_state_path=str(state_file))
    app.synth()
    before = state_file.read_bytes()
    (outcome,) = plan_all(changed, offline=False, extra_env=emulator.environment())
    return {"outdir": changed, "outcome": outcome, "unchanged": state_file.read_bytes() == before}


def test_renaming_the_lock_table_plans_a_stateful_replacement_that_fails_the_check_unless_allowed(
    deployment: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Change a config value that forces a new table, and plan it for real against the deployed state bootstrap (the
    plan is made as soon as the bootstrap is applied: plan_with_another_lock_table)."""
    from tests.test_plan import actions
    from tools.plan_report import main as report_main

    for name, error in deployment.plan_errors.items():
        raise AssertionError(f"the plan after {name}'s apply failed") from error
    changed, outcome = deployment.renamed_lock["outdir"], deployment.renamed_lock["outcome"]
    assert (outcome.status, outcome.reason) == ("planned", "")
    assert deployment.renamed_lock["unchanged"], "a plan changes no state"
    plan = json.loads((changed / "plans" / "state-bootstrap.json").read_text())
    replaced = {address for address, action in actions(plan).items() if set(action) == {"create", "delete"}}
    assert replaced == {"aws_dynamodb_table.primary-lock_table_CE09A57F", "aws_dynamodb_table.replica-lock_table_15A3810F"}
    report = tmp_path / "report.md"
    assert report_main(["--plans", str(changed / "plans"), "--output", str(report)]) == 3
    assert "2 stateful resource(s) would be replaced or destroyed" in capsys.readouterr().err
    text = report.read_text()
    assert text.index("[!CAUTION]") < text.index("| stack |")
    assert "- **replace** `aws_dynamodb_table.primary-lock_table_CE09A57F` in `state-bootstrap` (forced by `name`)" in text
    assert (
        "| `state-bootstrap` :warning: | 0 | " in text
        and "| `name` **(forces replacement)** | `hadr-prod-tflock` | `hadr-prod-tflock-v2` |" in text
    )
    assert report_main(["--plans", str(changed / "plans"), "--output", str(report), "--allow-stateful-changes"]) == 0


def test_the_failover_drills_healthy_partial_and_dark_each_fail_back_to_the_deployed_state(deployment: Deployment) -> None:
    """make drill-local's three drills in turn on the one deployment: each fails over through the trigger path with
    IAM enforced, states its mode and data loss, fences the source or reports it unreachable, and fails back."""
    from tools.local import DRILL_MODES

    failover = ["force_signal_alarms", "trigger_rule_matches", "decision_and_recovery_plan", "data_loss_stated", "verify_failover_writer",
                "verify_failover_fencing", "verify_failover_sizes", "second_decision_is_a_no_op"]  # fmt: skip
    failback = ["failback_rebuild_us-east-1", "failback_switch_us-east-1", "failback_rebuild_us-west-1", "verify_failback_writer",
                "verify_failback_replica", "verify_failback_sizes"]  # fmt: skip
    rds = deployment.emulator.client("rds", "us-west-1")
    details: dict[str, dict[str, str]] = {}
    assert DRILL_MODES == ("region-outage", "healthy", "partial-outage")
    for mode in DRILL_MODES:
        steps = local.drill(deployment.session, mode)
        # the readiness permission evaluation, as deployed, before the healthy drill (IAM's control plane is in the
        # region the outage drills darken)
        evaluated = ["plan_permissions_evaluated"] if mode == "healthy" else []
        assert [name for name, _, _ in steps] == failover[:2] + evaluated + failover[2:] + failback, mode
        details[mode] = {name: detail for name, detail, _ in steps}
        # The example's Aurora global database: failed back, the primary's cluster writes and the standby's is its secondary.
        (found,) = rds.describe_global_clusters(GlobalClusterIdentifier="hadr-prod-warm-standby-global-db")["GlobalClusters"]
        writers = {member["DBClusterArn"].rsplit(":", 1)[1]: member["IsWriter"] for member in found["GlobalClusterMembers"]}
        assert writers == {"hadr-prod-warm-standby-db": True, "hadr-prod-warm-standby-db-replica": False}, mode
    assert details["healthy"]["verify_failover_fencing"] == "us-east-1 fenced: its parameter points nowhere writable"
    assert details["healthy"]["data_loss_stated"] == (
        "switchover (SwitchoverGlobalCluster); data loss none: Aurora synchronizes the secondary before it switches"
    )
    assert re.fullmatch(
        r"\d+ checks of arn:aws:iam::123456789012:role/hadr-prod-warm-standby-recovery-plan: 0 refused",
        details["healthy"]["plan_permissions_evaluated"],
    )
    partial = details["partial-outage"]["verify_failover_fencing"]
    assert partial.startswith(
        "us-east-1 reported unreachable: hadr-prod-ws-us-east-1-app scaled to 0; us-east-1 did not answer (ClientError)"
    )
    assert details["partial-outage"]["verify_failover_sizes"].startswith("hadr-prod-ws-us-east-1-app=0"), "what answered was fenced"
    dark = details["region-outage"]
    assert dark["data_loss_stated"] == (
        "failover (source cluster did not answer (EndpointConnectionError); FailoverGlobalCluster with AllowDataLoss); data loss at most"
        " 60 s of writes (rds.global_db_rpo: commits wait past it)"
    )
    assert dark["verify_failover_fencing"].startswith("us-east-1 reported unreachable: us-east-1 did not answer (EndpointConnectionError)")
    assert dark["verify_failover_sizes"].startswith("hadr-prod-ws-us-east-1-app=2"), "a dark region is not scaled"
    # After three failovers and failbacks, Terraform must find the warm standby as it deployed it: the plans start
    # now and run while the stacks that do not need them are destroyed (the last test reads them).
    deployment.failback_drift = ThreadPoolExecutor(max_workers=1).submit(failback_drift, deployment)


#: The regional warm-standby stacks the drills change, and what of them a failback must leave as deployed.
DRILLED = ("warm-standby-us-east-1", "warm-standby-us-west-1")
MANAGED = ("aws_rds_cluster", "aws_rds_cluster_instance", "aws_ssm_parameter", "aws_autoscaling_group")


def failback_drift(deployment: Deployment) -> list[local.Drift]:
    """A plan of the drilled stacks' databases (rebuilt with every setting Terraform manages), parameters and groups'
    sizes (and what they need), two at a time."""
    env = deployment.session.terraform_env()

    def drift(name: str) -> list[local.Drift]:
        document = deployment.stack(name)
        targets = [f"{kind}.{key}" for kind in MANAGED for key in document["resource"].get(kind, {})]
        assert any(t.startswith("aws_rds_cluster.") for t in targets) and any(t.startswith("aws_autoscaling_group.") for t in targets)
        return local.stack_drift(deployment.outdir, name, env, targets)

    with ThreadPoolExecutor(max_workers=2) as plans:
        return [found for drifts in plans.map(drift, DRILLED) for found in drifts]


def test_destroy_removes_every_stack_in_reverse_order_and_stops_the_emulator(deployment: Deployment) -> None:
    """The drilled stacks wait for the plans after the drills; the others go at once."""

    def plans_done(stack: str) -> None:
        if stack in DRILLED and deployment.failback_drift is not None:
            deployment.failback_drift.exception()  # waits; the last test reports what it found or raised

    destroyed = local.destroy(deployment.session, before=plans_done)
    assert [r.stack for r in destroyed] == STACKS[::-1] and all(r.ok for r in destroyed)
    assert not deployment.emulator.alive(), "destroy stops the emulator"
    assert not local.SESSION_DIR.exists() and not deployment.outdir.with_name(f"{deployment.outdir.name}.state").exists()


def test_after_three_failovers_and_failbacks_terraform_finds_the_warm_standby_as_deployed(deployment: Deployment) -> None:
    """The plans the drill test started (the emulator's known drift aside): the databases, the parameters and the
    groups' sizes are as Terraform deployed them."""
    assert deployment.failback_drift is not None, "the drills did not run"
    unexplained = [(d.stack, d.address, d.action, d.causes) for d in deployment.failback_drift.result() if not d.known]
    assert unexplained == [], "the failbacks left drift"
