"""A user's text files: named as the user named them, read within a size limit, as UTF-8.

Scenario files and the CSV files they refer to are read the same way, so a file that is too
large, binary, in another encoding or not a regular file is refused with the same words.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.reading import ReadError, read_bytes


def display(path: Path) -> str:
    """The path as a user wrote it, or relative to the current folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the folder; a symlink loop; a vanished folder
        return str(path)


class Unreadable(ScenarioError):
    """A file could not be read at all; whoever named it may report it where it was named."""

    def __init__(self, path: Path, what: str, reason: str):
        super().__init__([Problem(display(path), None, "", f"{what} {reason}")])
        self.path = path
        self.reason = reason


def read_text(path: Path, what: str, limit: int) -> str:
    """A user's text file as a string: a regular file, at most ``limit`` bytes, UTF-8."""
    shown = display(path)
    try:
        data = read_bytes(path, limit)
    except ReadError as exc:
        raise Unreadable(path, what, str(exc)) from None
    # UTF-32 first: its little-endian mark begins with UTF-16's
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            raise ScenarioError([Problem(shown, None, "", f"{what} is {encoding} text; save it as UTF-8")])
    if b"\x00" in data:
        raise ScenarioError([Problem(shown, None, "", f"{what} is a binary file, expected UTF-8 text")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError([Problem(shown, line, "", f"{what} is not UTF-8 text (byte {exc.start})")]) from None
