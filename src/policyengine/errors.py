"""Errors a user can cause, each tied to a file and a line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One located problem in a user's file.

    `code` (PEnnn, explained in docs/errors/PEnnn.md) is given where the problem is
    raised, never derived from the wording; a problem about a command's arguments
    rather than a file has none.
    """

    file: str
    line: int | None
    message: str
    code: str | None = None  # PEnnn (docs/errors/PEnnn.md) where the problem is raised with one

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: error: {self.message}"


class InputError(Exception):
    """A rule, vocabulary, registry or scenario file is wrong; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its problems (a Dask worker raises it; the CLI reads them)."""
        return (type(self), (self.problems,))

    @classmethod
    def at(cls, file: str | Path, line: int | None, message: str, code: str | None = None) -> InputError:
        return cls([Problem(str(file), line, message, code)])


class EngineError(Exception):
    """The rule engine misbehaved (a bug here, not the user's input)."""
