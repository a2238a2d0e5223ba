"""0.2.0 moved the warm standby's inline resources into modules, which changed their addresses. Every changed
address has a `moved` block, so an existing deployment keeps all its objects: no replacement, nothing destroyed.

The snapshot `fixtures/addresses-0.1.0.json` holds the managed resource addresses of the example configuration as
0.1.0 synthesized them; undoing the moves on today's synth must give exactly those addresses back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Synthesized

FIXTURE = Path(__file__).parent / "fixtures" / "addresses-0.1.0.json"


def revert_moves(document: dict[str, Any]) -> dict[str, Any]:
    """The stack as 0.1.0 wrote it: every moved resource back at its old address, references included."""
    text = json.dumps({key: value for key, value in document.items() if key != "moved"})
    for move in document.get("moved", []):
        text = re.sub(rf"(?<![A-Za-z0-9_.-]){re.escape(move['to'])}(?![A-Za-z0-9_-])", move["from"], text)
        reverted = json.loads(text)
        kind, new = move["to"].split(".", 1)
        items = reverted["resource"][kind]
        items[move["from"].split(".", 1)[1]] = items.pop(new)
        text = json.dumps(reverted)
    return json.loads(text)


def addresses(document: dict[str, Any]) -> list[str]:
    return sorted(f"{kind}.{name}" for kind, items in document.get("resource", {}).items() for name in items)


#: 0.1.0 addresses that are gone on purpose since 0.3.0: stack -> address prefix -> why. Handed-over resources are
#: forgotten by a `removed` block (the object stays, another stack owns it); retired ones are destroyed.
GONE_ON_PURPOSE = {
    stack: {
        "aws_route53_record.api_certificate_validation-0_": "handed over: the data stack owns the shared API name's validation record",
        "aws_sqs_queue.api-function_dlq_": "retired: the API function is only invoked synchronously, so its queue never received anything",
    }
    for stack in ("active-active-eu-west-1", "active-active-eu-central-1")
} | {
    "active-active-global": {
        "aws_iam_role.drills_automation-role_": "retired: one role per kind of runbook replaces the drills' single automation role",
        "aws_iam_role_policy.drills_automation-role_policy_": "retired with that role",
    }
}


def test_undoing_the_moves_gives_back_every_0_1_0_address(postgres_synthesized: Synthesized) -> None:
    """GIVEN today's synth WHEN the moved blocks are undone THEN every 0.1.0 address is there again, except those
    gone on purpose: no object of an existing deployment loses its address by accident (resources added since are
    new addresses, not moves). 0.1.0 deployed the RDS engine; the Aurora engine has no 0.1.0 addresses to keep."""
    synthesized = postgres_synthesized
    before = json.loads(FIXTURE.read_text())
    assert sorted(before) == sorted(synthesized.stack_names)
    for name, document in synthesized.stacks.items():
        reverted = set(addresses(revert_moves(document)))
        gone = sorted(set(before[name]) - reverted)
        expected = GONE_ON_PURPOSE.get(name, {})
        assert [next(p for p in expected if a.startswith(p)) if any(a.startswith(p) for p in expected) else a for a in gone] == sorted(
            expected
        ), name
        handed_over = [a for a in gone if expected[next(p for p in expected if a.startswith(p))].startswith("handed over")]
        assert sorted(block["from"] for block in document.get("removed", [])) == handed_over, name
        assert not {move["to"] for move in document.get("moved", [])} & reverted, name


@pytest.mark.parametrize(("engine", "moves"), [("postgres", 138), ("aurora-postgresql", 126)])
def test_moved_blocks_go_from_a_gone_address_to_an_existing_one_of_the_same_type(
    request: pytest.FixtureRequest, engine: str, moves: int
) -> None:
    """Every move of either engine; the Aurora engine leaves out the six of the RDS database per region."""
    synthesized: Synthesized = request.getfixturevalue("postgres_synthesized" if engine == "postgres" else "synthesized")
    before = json.loads(FIXTURE.read_text())
    total = 0
    for name, document in synthesized.stacks.items():
        now = set(addresses(document))
        for move in document.get("moved", []):
            assert move["from"] not in now and move["from"] in before[name], (name, move)
            assert move["to"] in now and move["to"].split(".")[0] == move["from"].split(".")[0], (name, move)
        total += len(document.get("moved", []))
    assert total == moves, "RDS: warm-standby-us-east-1 43, -us-west-1 42, -storage 45, -global 8"


def test_logical_ids_match_cdktf(synthesized: Synthesized) -> None:
    """modules.moves.logical_id computes the addresses cdktf allocates (checked on every resource of the synth)."""
    from modules.moves import logical_id

    for name, document in synthesized.stacks.items():
        for items in document.get("resource", {}).values():
            for logical, body in items.items():
                path = body["//"]["metadata"]["path"].split("/")[1:]
                assert logical_id(path) == logical, (name, path)


def test_a_stale_move_is_refused(scratch_stack: Any) -> None:
    from modules.errors import InputError
    from modules.moves import PathMove, add_moved_blocks

    stack = scratch_stack()
    with pytest.raises(InputError, match=r"moves: got 'database/instance'; expected resources under this construct path"):
        add_moved_blocks(stack, [PathMove("database/instance", "db")])


def plan_actions(workdir: Path, plan_file: Path, env: dict[str, str]) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """address -> (actions, previous address) of every resource a plan moves or changes."""
    from tools.plan import terraform_plan

    error = terraform_plan(workdir, plan_file, offline=False, lock=False, env=env)
    assert error is None, f"{workdir.name} plan: {error}"
    changes = json.loads(plan_file.read_text()).get("resource_changes", [])
    return {
        change["address"]: (tuple(change["change"]["actions"]), change.get("previous_address"))
        for change in changes
        if change.get("previous_address") or change["change"]["actions"] != ["no-op"]
    }


def test_the_readmes_module_examples_synthesize(tmp_path: Path) -> None:
    """GIVEN each Python example of the README's module section WHEN it runs THEN it synthesizes what it says."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## The modules") : readme.index("## Surviving a regional outage")]
    examples = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(examples) == 2
    for index, code in enumerate(examples):
        outdir = tmp_path / str(index)
        exec(compile(code.replace("App()", f"App(outdir={str(outdir)!r})"), f"README example {index}", "exec"), {})  # noqa: S102
    replica = json.loads((tmp_path / "1" / "stacks" / "orders-eu-central-1" / "cdk.tf.json").read_text())
    (database,) = replica["resource"]["aws_db_instance"].values()
    assert database["replicate_source_db"] == "arn:aws:rds:eu-west-1:123456789012:db:orders"
    assert database["multi_az"] is True and database["storage_encrypted"] is True
