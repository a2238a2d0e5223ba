"""The one error type for bad input, shared by the configuration loader and the constructs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING = object()


@dataclass(frozen=True)
class Problem:
    """One problem with an input: where it is, what was given and what is allowed."""

    path: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        shown = "<missing>" if self.value is MISSING else repr(self.value)
        return f"{self.path or '<root>'}: got {shown}; {self.allowed}"


class InputError(ValueError):
    """Bad input: carries one Problem per thing that is wrong, each printed on its own line."""

    def __init__(self, problems: list[Problem] | Problem, *, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.source = source
        super().__init__(self.render())

    @classmethod
    def single(cls, path: str, value: Any, allowed: str) -> InputError:
        return cls(Problem(path, value, allowed))

    def render(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(f"{prefix}{problem}" for problem in self.problems)
