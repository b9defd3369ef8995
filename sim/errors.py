"""Problems found in user input, reported all at once with file, line and field path."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where it is and what is expected."""

    file: str
    line: int | None
    path: str
    message: str
    scenario: str = ""
    """The scenario file being loaded when the problem lies in another file it uses (a base it
    extends, a CSV catalogue): ``bordersim validate`` of many variants of one base must say
    which variant a problem in the base came from."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.scenario and self.scenario != self.file:
            text += f" (while loading {self.scenario})"
        return text


class ScenarioError(Exception):
    """A scenario (or a file it refers to) is not valid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def format_path(loc: tuple[object, ...]) -> str:
    """``('crossings', 2, 'sides', 'b')`` -> ``crossings[2].sides.b``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
