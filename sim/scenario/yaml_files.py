"""Reading scenario YAML: every key's file and line, a budget against alias bombs, ``extends:`` chains.

A scenario file becomes a plain dictionary plus ``Positions``, the file and line each key was
written on, so that every problem found later (in validation, in cross-references) can be
reported where the author wrote it, also in a base file it extends.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedOrderedMap, CommentedSeq, CommentedSet, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from sim.scenario.errors import Problem, ScenarioError, format_path
from sim.scenario.reading import MiB
from sim.scenario.user_files import Unreadable, display, read_text

Loc = tuple[Any, ...]
Positions = dict[Loc, tuple[str, int | None]]

MAX_YAML_BYTES = 2 * MiB
"""A scenario (YAML) file's size at most. Parsing YAML with line numbers runs at 0.05-0.15 MB/s
here, so this bounds a parse to well under a minute; long lists (catalogues, traces) belong
in CSV files, which read a hundred times faster."""
MAX_EXTENDS_DEPTH = 32
"""Scenario files one ``extends`` chain may hold: a deeper chain is a mistake, not a design."""
ANCHOR_PREFIX = "x-"
"""Top-level keys starting with this are a place for YAML anchors, not part of the scenario."""
MIN_NODE_BUDGET = 100_000
"""Values (and characters) a YAML file may expand to, at least; more in proportion to its size (``_Budget``)."""


def _real(path: Path) -> Path:
    """The path with symbolic links resolved, as far as they resolve (a loop is reported on reading)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


class _Budget:
    """How much more ``_plain`` may produce from one file, counting values and characters.

    YAML aliases repeat what they name, so a few lines expand to billions of values (a
    "billion laughs"), and a 1 MB file that aliases one long string 20,000 times stands for
    20 GB of text: both would exhaust memory (in validation, hashing, copying) rather than be
    reported. A file without aliases holds fewer values and characters than it has bytes, so
    ten units per byte never stops a real one.
    """

    def __init__(self, text: str) -> None:
        self.limit = max(MIN_NODE_BUDGET, 10 * len(text))
        self.left = self.limit

    def spend(self, loc: Loc, file: str, positions: Positions, cost: int = 1) -> None:
        """Count ``cost`` units at ``loc``; past the limit, report it at the key being expanded."""
        self.left -= cost
        if self.left < 0:
            line = positions.get(loc, (file, None))[1]
            raise ScenarioError(
                [
                    Problem(
                        file,
                        line,
                        format_path(loc),
                        f"YAML aliases (*name) expand the file to more than {self.limit:,} values and characters; "
                        "write the values out or repeat fewer of them",
                    )
                ]
            )


_CORE_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
"""Explicit tags that only restate a plain YAML type; any other tag (``!env X``) would be
silently read as its bare value, so it is refused."""


def _tag_of(node: Any) -> str | None:
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", tag)
    return value if isinstance(value, str) and value not in _CORE_TAGS else None


def _line_of_key(node: CommentedMap, key: Any) -> int | None:
    """The line a key was written on, also when it came from a ``<<: *anchor`` merge."""
    try:
        return node.lc.key(key)[0] + 1
    except (KeyError, TypeError, AttributeError):
        pass
    for source in getattr(node, "merge", None) or []:
        if isinstance(source, tuple):  # older ruamel releases keep (position, mapping) pairs
            source = source[-1]
        if isinstance(source, CommentedMap) and key in source:
            return _line_of_key(source, key)
    return None


def kind_of(value: Any) -> str:
    """How a scenario author would name the kind of a YAML value."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _plain(node: Any, loc: Loc, file: str, positions: Positions, budget: _Budget | None = None) -> Any:
    """Convert ruamel nodes to plain Python, recording the line of every key and item."""
    if budget is not None:
        budget.spend(loc, file, positions, 1 + (len(node) if isinstance(node, str) else 0))
    tag = _tag_of(node)
    if isinstance(node, TaggedScalar) and tag is None:  # !!str 5: plain text, said explicitly
        return str(node.value)
    if tag is not None or isinstance(node, (TaggedScalar, CommentedSet, CommentedOrderedMap, bytes)):
        line = positions.get(loc, (file, None))[1]
        what = f"the YAML tag {tag}" if tag else "this YAML type (a set, an ordered map or binary data)"
        raise ScenarioError(
            [Problem(file, line, format_path(loc), f"{what} is not part of the scenario format; write a plain value")]
        )
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            line = _line_of_key(node, key)
            if not isinstance(key, str):
                raise ScenarioError([Problem(file, line, format_path(loc), f"keys must be text, got {kind_of(key)}")])
            positions[(*loc, key)] = (file, line)
            out[key] = _plain(node[key], (*loc, key), file, positions, budget)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            try:
                line = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, AttributeError):
                line = None
            positions[(*loc, i)] = (file, line)
            items.append(_plain(item, (*loc, i), file, positions, budget))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    # text; dates and times stay as the ISO text they were written as
    return str(node)


def _read_yaml(path: Path, positions: Positions, what: str = "scenario file") -> dict[str, Any]:
    shown = display(path)
    text = read_text(path, what, MAX_YAML_BYTES)
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        kind = what.removesuffix(" file")
        raise ScenarioError([Problem(shown, None, "", f"the file is empty; expected a {kind} mapping")])
    yaml = YAML(typ="rt")
    try:
        node = yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(p for p in (exc.context, exc.problem) if p)[:200]
        raise ScenarioError([Problem(shown, line, "", f"YAML syntax error: {what}{_yaml_hint(what)}")]) from None
    except YAMLError as exc:
        raise ScenarioError([Problem(shown, None, "", f"YAML error ({type(exc).__name__})")]) from None
    except RecursionError:
        raise ScenarioError([Problem(shown, None, "", "YAML nesting is too deep")]) from None
    if not isinstance(node, CommentedMap):
        kind = "a list" if isinstance(node, CommentedSeq) else "a single value"
        raise ScenarioError([Problem(shown, 1, "", f"the top level must be a mapping of scenario keys, got {kind}")])
    data = _plain(node, (), shown, positions, _Budget(text))
    # top-level x-... keys hold YAML anchors to reuse (<<: *defaults), as compose files do
    return {k: v for k, v in data.items() if not k.startswith(ANCHOR_PREFIX)}


def shift_list(positions: Positions, key: str, by: int) -> None:
    """Move the recorded positions of ``key``'s list items ``by`` places on (items were put before them)."""
    shifted: Positions = {}
    for loc, pos in list(positions.items()):
        if len(loc) >= 2 and loc[0] == key and isinstance(loc[1], int):
            del positions[loc]
            shifted[(key, loc[1] + by, *loc[2:])] = pos
    positions.update(shifted)


def read_mapping(path: Path, positions: Positions) -> dict[str, Any]:
    """A YAML file that is not a scenario but a part of one (an episode file), read the same way."""
    return _read_yaml(path, positions, "episode file")


def _yaml_hint(what: str) -> str:
    """What usually causes the parser's messages that do not say it themselves."""
    if "'\\t'" in what:
        return " (a tab: YAML is indented with spaces, never tabs)"
    if "expected <block end>" in what:
        return " (check this line's indentation against the lines above it)"
    return ""


def deep_merge(base: Any, over: Any) -> Any:
    """Overlay ``over`` on ``base``: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return over


def resolve_extends(
    path: Path, positions: Positions, chain: tuple[Path, ...] = (), files: list[str] | None = None
) -> dict[str, Any]:
    """A scenario file with the files it ``extends`` merged under it, base first.

    ``positions`` receives where every key was written (the extending file's own keys win);
    ``files`` the files of the chain, base first; ``chain`` holds the files extending this
    one, to refuse a cycle.
    """
    real = _real(path)
    if files is not None:
        files.insert(0, display(path))
    own_positions: Positions = {}
    data = _read_yaml(path, own_positions)
    # remember which file declared the CSV paths, which are relative to that file
    for key in ("crossings_csv", "demand_csv", "corridors_csv", "map_file"):
        if isinstance(data.get(key), str):
            data[key] = str(path.parent / data[key])
    for key in ("episode_files", "equeue_files"):
        if isinstance(data.get(key), list):
            data[key] = [str(path.parent / f) if isinstance(f, str) else f for f in data[key]]
    parent = data.pop("extends", None)
    if parent is None:
        positions.update(own_positions)
        return data
    # problems with the parent are reported at this file's extends line, where the fix goes
    file, line = own_positions.get(("extends",), (display(path), None))
    if not isinstance(parent, str):
        raise ScenarioError([Problem(file, line, "extends", "must be the path of another scenario file")])
    parent_path = path.parent / parent
    parent_real = _real(parent_path)
    if parent_real in (*chain, real):
        cycle = " -> ".join(display(p) for p in (*chain, real, parent_real))
        raise ScenarioError([Problem(file, line, "extends", f"extends forms a cycle: {cycle}")])
    if len(chain) + 1 >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            [Problem(file, line, "extends", f"more than {MAX_EXTENDS_DEPTH} files extend one another in a chain")]
        )
    base_positions: Positions = {}
    try:
        base = resolve_extends(parent_path, base_positions, (*chain, real), files)
    except Unreadable as err:
        if err.path != parent_path:
            raise
        raise ScenarioError(
            [Problem(file, line, "extends", f"file {parent!r} {err.reason} (looked in {display(parent_path)})")]
        ) from None
    positions.update(base_positions)
    positions.update(own_positions)
    return deep_merge(base, data)
