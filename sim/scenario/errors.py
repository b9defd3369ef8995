"""Problems found in user input, reported all at once with file, line and field path."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


def printable(text: str, limit: int = 300) -> str:
    r"""``text`` safe to print on one line: control and format characters escaped, long text cut.

    A key or value a user wrote can hold a newline (and forge an ``error:`` line of its
    own), a carriage return or a terminal escape sequence; in a message it shows as ``\n``.
    """
    out = []
    for ch in text[:limit]:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out) + ("…" if len(text) > limit else "")


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
        file, path, message = printable(self.file), printable(self.path), printable(self.message, 1000)
        where = f"{file}:{self.line}" if self.line else file
        text = f"{where}: {path}: {message}" if path else f"{where}: {message}"
        if self.scenario and self.scenario != self.file:
            text += f" (while loading {printable(self.scenario)})"
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
