"""Steps every document shares: how a check inside a bounded wait reports, and the step that fails an execution
with its message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def still_pending(events: dict[str, Any], pending: bool, status: str) -> dict[str, Any]:
    """The check's answer inside a wait loop; on the loop's last iteration a pending operation is a failure."""
    if pending and int(events["Iteration"]) >= int(events["MaxIterations"]):
        raise TimeoutError(f"{events['What']}: still {status} after {events['MaxIterations']} checks")
    return {"Pending": pending, "Status": status}


def fail(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """End the automation Failed with Message (after a rollback, so the execution shows what happened)."""
    raise RuntimeError(events["Message"])


#: No handler here needs another function embedded beside it.
HELPERS: dict[Callable[..., Any], tuple[Callable[..., Any], ...]] = {}
