"""Terraform `moved` blocks for resources whose construct path changed, so a refactor never replaces them, and
`removed` blocks for resources another stack took over, so leaving a stack never destroys them.

cdktf derives a resource's address from its construct path below the stack (`logical_id`); moving a resource
into a construct therefore changes its address, and Terraform would destroy the old object and create a new one.
A stack lists its path moves (`PathMove`), and `add_moved_blocks` writes one `moved` block per resource under a
moved path (https://developer.hashicorp.com/terraform/language/modules/develop/refactoring). Once every state
has been planned past a release, its moves can be dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformResource, TerraformStack

from modules.errors import InputError

# cdktf's makeUniqueId (lib/private/unique.ts): components named "Default" are left out, "Resource" is hashed but
# hidden, a single component is used as it is, otherwise "<human>_<8 hex of md5(path)>".
_HIDDEN = "Default"
_HIDDEN_FROM_HUMAN = "Resource"
_DISALLOWED = re.compile(r"[^A-Za-z0-9_-]")
_MAX_ID = 255
_MAX_HUMAN = 240


def logical_id(components: Sequence[str]) -> str:
    """The Terraform resource name cdktf gives the construct path `components` (relative to the stack)."""
    parts = [part for part in components if part != _HIDDEN]
    if not parts:
        raise ValueError("a logical ID needs at least one path component")
    if len(parts) == 1 and len(candidate := _DISALLOWED.sub("", parts[0])) <= _MAX_ID:
        return candidate
    digest = hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()[:8].upper()
    human: list[str] = []
    for part in parts:
        if not human or not human[-1].endswith(part):
            human.append(part)
    text = "_".join(_DISALLOWED.sub("", part) for part in human if part != _HIDDEN_FROM_HUMAN)[:_MAX_HUMAN]
    return f"{text}_{digest}"


@dataclass(frozen=True)
class PathMove:
    """Resources now under `new` (a construct path below the stack, "a/b") were under `old` before ("" for the
    stack itself); the rest of each path is unchanged."""

    new: str
    old: str
    since: str = "0.2.0"


def moved_blocks(stack: TerraformStack, moves: Sequence[PathMove]) -> list[dict[str, str]]:
    """`{"from": "<type>.<old name>", "to": "<type>.<new name>"}` for every resource of `stack` under a moved path.

    Raises when a move matches no resource: a stale table would otherwise hide that the addresses changed again.
    """
    blocks: list[dict[str, str]] = []
    used: set[PathMove] = set()
    depth = len(stack.node.scopes)
    for construct in stack.node.find_all():
        if not isinstance(construct, TerraformResource):
            continue
        path = [scope.node.id for scope in construct.node.scopes[depth:]]
        matching = [move for move in moves if path[: len(move.new.split("/"))] == move.new.split("/")]
        if not matching:
            continue
        move = max(matching, key=lambda candidate: len(candidate.new.split("/")))
        used.add(move)
        old_path = [*(move.old.split("/") if move.old else []), *path[len(move.new.split("/")) :]]
        kind = construct.terraform_resource_type
        blocks.append({"from": f"{kind}.{logical_id(old_path)}", "to": f"{kind}.{logical_id(path)}"})
    for move in moves:
        if move not in used:
            raise InputError.single(f"{stack.node.path}.moves", move.new, "expected resources under this construct path")
    return blocks


def add_moved_blocks(stack: TerraformStack, moves: Sequence[PathMove]) -> int:
    """Write the `moved` blocks of `moves` into `stack` (call it once every resource exists); returns their count."""
    blocks = moved_blocks(stack, moves)
    if blocks:
        stack.add_override("moved", blocks)
    return len(blocks)


@dataclass(frozen=True)
class Handover:
    """A resource at construct path `path` (below the stack) that left this stack for another stack, which now
    owns the same object: Terraform forgets it here instead of destroying it
    (`removed` with `destroy = false`, https://developer.hashicorp.com/terraform/language/resources/syntax#removing-resources)."""

    resource_type: str
    path: str
    new_owner: str
    since: str = "0.3.0"


def add_removed_blocks(stack: TerraformStack, handovers: Sequence[Handover]) -> list[dict[str, object]]:
    """Write one `removed` block per handover into `stack`; refuses a handover whose address still exists here."""
    blocks: list[dict[str, object]] = []
    depth = len(stack.node.scopes)
    present = {
        (construct.terraform_resource_type, "/".join(scope.node.id for scope in construct.node.scopes[depth:]))
        for construct in stack.node.find_all()
        if isinstance(construct, TerraformResource)
    }
    for handover in handovers:
        if (handover.resource_type, handover.path) in present:
            raise InputError.single(
                f"{stack.node.path}.handovers", handover.path, f"expected a resource no longer in this stack ({handover.new_owner} owns it)"
            )
        address = f"{handover.resource_type}.{logical_id(handover.path.split('/'))}"
        blocks.append({"from": address, "lifecycle": {"destroy": False}})
    if blocks:
        stack.add_override("removed", blocks)
    return blocks
