"""Steps of SSM Automation documents: a Python handler as an `aws:executeScript` step (its source and its helpers
embedded, compacted), a bounded wait (`aws:loop` of `aws:sleep` and one check), and a branch on a Boolean output.

An `aws:executeScript` step runs for at most 600 seconds
(https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-executeScript.html), while a
restore, a new replica or a promotion can take an hour or more. So a script makes a few API calls and returns, and
waiting is an `aws:loop` bounded by MaxIterations (at most 100,
https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html); the check raises on the
last iteration if the operation is still pending. The handlers live in the top-level `runbooks` package; each
module there says in HELPERS which of its functions a handler's script needs beside it. The document itself, with
its size cap, is modules.drills.runbook_document.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Callable
from typing import Any

#: SSM's cap on one aws:executeScript step, and the cap our steps use: each makes a few calls, or counts pages.
MAX_SCRIPT_SECONDS = 600
SCRIPT_SECONDS = 300


def helpers_of(handler: Callable[..., Any]) -> tuple[Callable[..., Any], ...]:
    """What `handler`'s script needs embedded beside it: its module's HELPERS entry (none when it lists none)."""
    return getattr(sys.modules[handler.__module__], "HELPERS", {}).get(handler, ())


class _Compact(ast.NodeTransformer):
    """Drops what does not run: docstrings and type annotations (a script's behaviour does not depend on them)."""

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | None:
        if node.value is None:
            return None
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno), node)


def compact_source(function: Callable[..., Any]) -> str:
    """`function`'s source without its docstrings, type annotations, comments and blank lines (ast.unparse),
    indented by one space a level: what SSM runs is the same code in fewer bytes, since a document may not exceed
    64 KB with its runtime parameters. (ast.unparse writes every string on one line, so only indentation starts a
    line with spaces.)"""
    tree = ast.fix_missing_locations(_Compact().visit(ast.parse(textwrap.dedent(inspect.getsource(function)))))
    lines = ast.unparse(tree).splitlines()
    return "".join(" " * ((len(line) - len(line.lstrip(" "))) // 4) + line.lstrip(" ") + "\n" for line in lines)


def script_step(
    name: str,
    handler: Callable[..., dict[str, Any]],
    payload: dict[str, str],
    outputs: dict[str, str],
    *,
    timeout_seconds: int = SCRIPT_SECONDS,
    on_failure: str | None = None,
    helpers: tuple[Callable[..., Any], ...] | None = None,
) -> dict[str, Any]:
    """An `aws:executeScript` step running `handler` with `payload` ({{ Name }} references), embedding `helpers`
    (Default: what its module's HELPERS lists for it)."""
    if not 1 <= timeout_seconds <= MAX_SCRIPT_SECONDS:
        raise ValueError(f"{name}.timeout_seconds: got {timeout_seconds}; expected 1 to {MAX_SCRIPT_SECONDS} (SSM's executeScript cap)")
    functions = [*(helpers_of(handler) if helpers is None else helpers), handler]
    sources = [compact_source(function) for function in functions]
    step: dict[str, Any] = {
        "name": name,
        "action": "aws:executeScript",
        "timeoutSeconds": timeout_seconds,
        "inputs": {
            "Runtime": "python3.11",
            "Handler": handler.__name__,
            "Script": "\n".join(sources),
            "InputPayload": payload,
        },
        "outputs": [{"Name": output, "Selector": f"$.Payload.{output}", "Type": kind} for output, kind in outputs.items()],
    }
    if on_failure:
        step["onFailure"] = on_failure
    return step


def wait_step(
    name: str,
    check: Callable[..., dict[str, Any]],
    payload: dict[str, str],
    *,
    what: str,
    interval: str = "PT1M",
    max_iterations: int = 100,
    on_failure: str | None = None,
    helpers: tuple[Callable[..., Any], ...] | None = None,
    outputs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An `aws:loop` of `aws:sleep` (`interval`) and one `check`, while the check says Pending; the check raises on
    the last iteration, so the wait is bounded by `max_iterations` x (`interval` + a check). The check's outputs are
    Pending and Status, and `outputs` besides."""
    if not 1 <= max_iterations <= 100:
        raise ValueError(f"{name}.max_iterations: got {max_iterations}; expected 1 to 100 (aws:loop's cap)")
    check_name = f"{name}Check"
    bounded = {**payload, "Iteration": f"{{{{ {name}.CurrentIteration }}}}", "MaxIterations": str(max_iterations), "What": what}
    return {
        **({"onFailure": on_failure} if on_failure else {}),
        "name": name,
        "action": "aws:loop",
        "inputs": {
            "MaxIterations": max_iterations,
            "LoopCondition": {"Variable": f"{{{{ {check_name}.Pending }}}}", "BooleanEquals": True},
            "Steps": [  # a step inside a loop follows its own onFailure; the loop's applies only to its own errors
                {
                    "name": f"{name}Sleep",
                    "action": "aws:sleep",
                    "inputs": {"Duration": interval},
                    **({"onFailure": on_failure} if on_failure else {}),
                },
                script_step(
                    check_name,
                    check,
                    bounded,
                    {"Pending": "Boolean", "Status": "String", **(outputs or {})},
                    timeout_seconds=120,
                    on_failure=on_failure,
                    helpers=helpers,
                ),
            ],
        },
    }


def branch_step(name: str, variable: str, *, when_true: str, otherwise: str) -> dict[str, Any]:
    """An `aws:branch` on a Boolean output `variable` ("step.Output")."""
    return {
        "name": name,
        "action": "aws:branch",
        "inputs": {"Choices": [{"NextStep": when_true, "Variable": f"{{{{ {variable} }}}}", "BooleanEquals": True}], "Default": otherwise},
    }


def guarded(steps: list[dict[str, Any]], *, on_cancel: str, on_failure: str, last_ends: bool = False) -> list[dict[str, Any]]:
    """`steps` that go to `on_cancel` when the automation is cancelled and to `on_failure` when they fail, the steps
    inside a loop too (aws:loop itself takes no onCancel: its steps' apply,
    https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-action-loop.html). With `last_ends`,
    the last step ends the automation (the handlers come after it)."""
    if last_ends:
        *steps, last = steps
        steps = [*steps, {**last, "isEnd": True}]
    marked = []
    for step in steps:
        if step["action"] == "aws:loop":
            inner = guarded(step["inputs"]["Steps"], on_cancel=on_cancel, on_failure=on_failure)
            marked.append({**step, "onFailure": f"step:{on_failure}", "inputs": {**step["inputs"], "Steps": inner}})
        else:
            marked.append({**step, "onFailure": f"step:{on_failure}", "onCancel": f"step:{on_cancel}"})
    return marked
