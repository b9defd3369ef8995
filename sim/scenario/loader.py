"""Reading scenario files: YAML 1.2, ``extends:``, CSV catalogues, and error locations.

The loader turns files into one plain dictionary, remembering for every field the file and
line it came from, then validates it once. All problems are reported together, each as
``file:line: field.path: what is expected``.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedOrderedMap, CommentedSeq, CommentedSet, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from sim.scenario.checks import check_scenario
from sim.scenario.distributions import DISTRIBUTIONS
from sim.scenario.errors import Problem, ScenarioError, format_path
from sim.scenario.reading import MiB, ReadError, read_bytes
from sim.scenario.recovery import salvage
from sim.scenario.schema import LANES_PATTERN, Scenario
from sim.scenario.units import MAX_DURATION

Loc = tuple[Any, ...]
Positions = dict[Loc, tuple[str, int | None]]

MAX_YAML_BYTES = 2 * MiB
"""A scenario (YAML) file's size at most. Parsing YAML with line numbers runs at 0.05-0.15 MB/s
here, so this bounds a parse to well under a minute; long lists (catalogues, traces) belong
in CSV files, which read a hundred times faster."""
MAX_CSV_BYTES = 64 * MiB
"""A CSV file's size at most (a catalogue, demand table or trace of several million rows)."""
MAX_EXTENDS_DEPTH = 32
"""Scenario files one ``extends`` chain may hold: a deeper chain is a mistake, not a design."""
ANCHOR_PREFIX = "x-"
"""Top-level keys starting with this are a place for YAML anchors, not part of the scenario."""
MIN_NODE_BUDGET = 100_000
"""Values (and characters) a YAML file may expand to, at least; more in proportion to its size (``_Budget``)."""
_CSV_ALIASES = {
    "name_a": "sides.a.name",
    "name_b": "sides.b.name",
    "region_a": "sides.a.region",
    "region_b": "sides.b.region",
    "lanes_a": "sides.a.lanes",
    "lanes_b": "sides.b.lanes",
}


def _display(path: Path) -> str:
    """The path as a user wrote it, or relative to the current folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # outside the folder; a symlink loop; a vanished folder
        return str(path)


def _real(path: Path) -> Path:
    """The path with symbolic links resolved, as far as they resolve (a loop is reported on reading)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


class _Unreadable(ScenarioError):
    """A file could not be read at all; whoever named it may report it where it was named."""

    def __init__(self, path: Path, what: str, reason: str):
        super().__init__([Problem(_display(path), None, "", f"{what} {reason}")])
        self.path = path
        self.reason = reason


def _read_text(path: Path, what: str, limit: int) -> str:
    """A user's text file as a string: a regular file, at most ``limit`` bytes, UTF-8."""
    shown = _display(path)
    try:
        data = read_bytes(path, limit)
    except ReadError as exc:
        raise _Unreadable(path, what, str(exc)) from None
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
                raise ScenarioError([Problem(file, line, format_path(loc), f"keys must be text, got {_kind_of(key)}")])
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


def _read_yaml(path: Path, positions: Positions) -> dict[str, Any]:
    shown = _display(path)
    text = _read_text(path, "scenario file", MAX_YAML_BYTES)
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        raise ScenarioError([Problem(shown, None, "", "the file is empty; expected a scenario mapping")])
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


def _yaml_hint(what: str) -> str:
    """What usually causes the parser's messages that do not say it themselves."""
    if "'\\t'" in what:
        return " (a tab: YAML is indented with spaces, never tabs)"
    if "expected <block end>" in what:
        return " (check this line's indentation against the lines above it)"
    return ""


def _deep_merge(base: Any, over: Any) -> Any:
    """Overlay ``over`` on ``base``: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _deep_merge(base[key], value) if key in base else value
        return merged
    return over


def _resolve_extends(
    path: Path, positions: Positions, chain: tuple[Path, ...] = (), files: list[str] | None = None
) -> dict[str, Any]:
    real = _real(path)
    if files is not None:
        files.insert(0, _display(path))
    own_positions: Positions = {}
    data = _read_yaml(path, own_positions)
    # remember which file declared the CSV paths, which are relative to that file
    for key in ("crossings_csv", "demand_csv"):
        if isinstance(data.get(key), str):
            data[key] = str(path.parent / data[key])
    parent = data.pop("extends", None)
    if parent is None:
        positions.update(own_positions)
        return data
    # problems with the parent are reported at this file's extends line, where the fix goes
    file, line = own_positions.get(("extends",), (_display(path), None))
    if not isinstance(parent, str):
        raise ScenarioError([Problem(file, line, "extends", "must be the path of another scenario file")])
    parent_path = path.parent / parent
    parent_real = _real(parent_path)
    if parent_real in (*chain, real):
        cycle = " -> ".join(_display(p) for p in (*chain, real, parent_real))
        raise ScenarioError([Problem(file, line, "extends", f"extends forms a cycle: {cycle}")])
    if len(chain) + 1 >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            [Problem(file, line, "extends", f"more than {MAX_EXTENDS_DEPTH} files extend one another in a chain")]
        )
    base_positions: Positions = {}
    try:
        base = _resolve_extends(parent_path, base_positions, (*chain, real), files)
    except _Unreadable as err:
        if err.path != parent_path:
            raise
        raise ScenarioError(
            [Problem(file, line, "extends", f"file {parent!r} {err.reason} (looked in {_display(parent_path)})")]
        ) from None
    positions.update(base_positions)
    positions.update(own_positions)
    return _deep_merge(base, data)


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ValueError(f"column {dotted!r} clashes with another column")
    target[parts[-1]] = value


def _read_csv(
    file_value: str, declared_in: tuple[str, int | None], key: str, required: Iterable[str]
) -> list[tuple[dict[str, Any], int]]:
    """Rows of a catalogue CSV as nested dicts, each with the line it starts on."""
    return _read_csv_table(file_value, declared_in, key, required)[2]


def _read_csv_table(
    file_value: str, declared_in: tuple[str, int | None], key: str, required: Iterable[str]
) -> tuple[list[str], int, list[tuple[dict[str, Any], int]]]:
    """The header, its line, and the rows of a CSV file as nested dicts with their lines."""
    path = Path(file_value)
    try:
        text = _read_text(path, "CSV file", MAX_CSV_BYTES)
    except ScenarioError as err:
        file, line = declared_in
        raise ScenarioError([Problem(file, line, key, f"{p.message}: {p.file}") for p in err.problems]) from None
    shown = _display(path)
    reader = csv.reader(io.StringIO(text))
    rows_with_lines: list[tuple[list[str], int]] = []
    try:
        while True:
            start = reader.line_num + 1  # a quoted cell may span lines: a row is where it starts
            try:
                row = next(reader)
            except StopIteration:
                break
            if any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
                rows_with_lines.append((row, start))
    except csv.Error as exc:
        raise ScenarioError([Problem(shown, reader.line_num, "", f"CSV error: {exc}")]) from None
    if not rows_with_lines:
        raise ScenarioError([Problem(shown, None, "", "CSV file is empty; expected a header row")])
    header, header_line = rows_with_lines[0]
    header = [h.strip() for h in header]
    problems = [
        Problem(shown, header_line, "", f"missing column {col!r}{_column_hint(col, header)}")
        for col in required
        if col not in header
    ]
    dupes = sorted({h for h in header if header.count(h) > 1})
    problems += [Problem(shown, header_line, "", f"column {d!r} appears twice") for d in dupes]
    if problems:
        raise ScenarioError(problems)
    out = []
    for row, line in rows_with_lines[1:]:
        if len(row) != len(header):
            problems.append(Problem(shown, line, "", f"row has {len(row)} cells, the header has {len(header)}"))
            continue
        item: dict[str, Any] = {}
        for col, cell in zip(header, row, strict=True):
            cell = cell.strip()
            if cell == "":
                continue
            try:
                _set_dotted(item, _CSV_ALIASES.get(col, col), cell)
            except ValueError as exc:
                problems.append(Problem(shown, line, col, str(exc)))
        out.append((item, line))
    if problems:
        raise ScenarioError(problems)
    return header, header_line, out


_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,79}$")


def _column_hint(missing: str, header: list[str]) -> str:
    """Help with a missing column without echoing the file.

    A header of column names is named back (a typo is then plain to see); any other first
    line is not, since the file may not be a catalogue at all (``crossings_csv: /etc/passwd``).
    """
    if not header or len(header) > 300 or not all(_COLUMN.match(h) for h in header):
        return "; the first row is not a header of column names"
    import difflib

    close = difflib.get_close_matches(missing, header, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f" (columns: {', '.join(header)}){hint}"


def _assemble(data: dict[str, Any], positions: Positions, shown: str) -> list[Problem]:
    """Fold CSV catalogues, templates and per-crossing overrides into the crossing list."""
    problems: list[Problem] = []

    def where(loc: Loc) -> tuple[str, int | None]:
        return positions.get(loc, (shown, None))

    for key, list_key, required in (
        ("crossings_csv", "crossings", ("id", "category")),
        ("demand_csv", "demand", ("crossing", "flow", "daily")),
    ):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(Problem(*where((key,)), key, "must be the path of a CSV file"))
            continue
        try:
            rows = _read_csv(value, where((key,)), key, required)
        except ScenarioError as err:
            problems += err.problems
            continue
        existing = data.get(list_key) or []
        if not isinstance(existing, list):
            continue  # reported by validation
        csv_shown = _display(Path(value))
        # shift the YAML items' positions after the CSV rows
        shifted: Positions = {}
        for loc, pos in list(positions.items()):
            if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
                shifted[(list_key, loc[1] + len(rows), *loc[2:])] = pos
                del positions[loc]
        positions.update(shifted)
        for i, (row, line) in enumerate(rows):
            positions[(list_key, i)] = (csv_shown, line)
            for sub in _leaf_locs(row):
                positions[(list_key, i, *sub)] = (csv_shown, line)
        data[list_key] = [r for r, _ in rows] + existing
        data[key] = None  # folded in: a resolved scenario carries the rows, not the path
        data.setdefault("resolved_from", []).append(csv_shown)

    demand = data.get("demand")
    if isinstance(demand, list):
        for k, item in enumerate(demand):
            if isinstance(item, dict) and isinstance(item.get("trace"), str):
                if item.get("times") is not None:
                    # the trace would silently replace the times written beside it
                    problems.append(
                        Problem(*where(("demand", k, "trace")), f"demand[{k}]", "give either trace or times, not both")
                    )
                    continue
                try:
                    _fold_trace(item, where(("demand", k, "trace")), f"demand[{k}].trace", data)
                except ScenarioError as err:
                    problems += err.problems
                    # reported: a stand-in arrival keeps the entry from also being "missing" its times
                    item["times"] = [0.0]
                    item["trace"] = None

    crossings = data.get("crossings")
    templates = data.get("crossing_templates") or {}
    # where each template's and override's keys were written, to give the merged keys their lines
    written: dict[Loc, list[tuple[Loc, tuple[str, int | None]]]] = {}
    for loc, pos in positions.items():
        if len(loc) > 2 and loc[0] in ("crossing_templates", "crossing_overrides"):
            written.setdefault(loc[:2], []).append((loc[2:], pos))
    if isinstance(crossings, list) and isinstance(templates, dict):
        for i, item in enumerate(crossings):
            if not isinstance(item, dict):
                continue
            name = item.get("template")
            if name is None:
                # a crossing without a template takes the one named after its kind, if any
                name = f"{item.get('category')}_{item.get('mode', 'road')}"
                if name not in templates:
                    continue
            if not isinstance(name, str) or name not in templates:
                known = ", ".join(sorted(templates)) or "none defined"
                problems.append(
                    Problem(
                        *where(("crossings", i)),
                        f"crossings[{i}].template",
                        f"unknown crossing template {name!r} (known: {known})",
                    )
                )
                continue
            if isinstance(templates[name], dict):
                crossings[i] = _deep_merge(templates[name], item)
                for sub, pos in written.get(("crossing_templates", name), []):
                    positions.setdefault(("crossings", i, *sub), pos)  # the crossing's own keys win
    overrides = data.get("crossing_overrides") or {}
    if isinstance(crossings, list) and isinstance(overrides, dict):
        index = {
            c.get("id"): i for i, c in enumerate(crossings) if isinstance(c, dict) and isinstance(c.get("id"), str)
        }
        for cid, patch in overrides.items():
            if cid not in index:
                problems.append(
                    Problem(
                        *where(("crossing_overrides", cid)), f"crossing_overrides.{cid}", "no crossing with this id"
                    )
                )
            elif isinstance(patch, dict):
                crossings[index[cid]] = _deep_merge(crossings[index[cid]], patch)
                for sub, pos in written.get(("crossing_overrides", cid), []):
                    positions[("crossings", index[cid], *sub)] = pos
    return problems


def _leaf_locs(row: dict[str, Any], prefix: Loc = ()) -> Iterable[Loc]:
    """Every key path in a (nested) catalogue row, so each cell's errors point at the row."""
    for key, value in row.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _leaf_locs(value, (*prefix, key))


def _fold_trace(item: dict[str, Any], declared_in: tuple[str, int | None], key: str, data: dict[str, Any]) -> None:
    """Read a demand entry's trace CSV into its ``times`` and ``service_times``."""
    base = Path(declared_in[0]).parent
    path = base / item["trace"]
    header, header_line, rows = _read_csv_table(str(path), declared_in, key, ("arrival_min",))
    shown = _display(path)
    times: list[float] = []
    services: dict[str, list[float]] = {}
    problems = []
    stages = data.get("stages") if isinstance(data.get("stages"), dict) else {}
    for col in header:
        if col == "arrival_min":
            continue
        stage = col[: -len("_min")] if col.endswith("_min") else None
        if stage is None or stage not in stages:
            hint = _stage_hint(stage or col, stages)
            message = f"unknown column; expected arrival_min and <stage>_min{hint}"
            problems.append(Problem(shown, header_line, col, message))
    if problems:
        raise ScenarioError(problems)
    for row, line in rows:
        for col, cell in row.items():
            try:
                value = float(cell)
            except (TypeError, ValueError):
                problems.append(Problem(shown, line, col, f"expected a number of minutes, got {cell!r}"))
                continue
            if not math.isfinite(value) or not 0 <= value <= MAX_DURATION:
                problems.append(
                    Problem(shown, line, col, f"must be a number of minutes from 0 to {MAX_DURATION:g}, got {cell}")
                )
                continue
            if col == "arrival_min":
                times.append(value)
            else:
                services.setdefault(col[: -len("_min")], []).append(value)
        if "arrival_min" not in row:
            problems.append(Problem(shown, line, "arrival_min", "missing value"))
    for stage, values in services.items():
        if len(values) != len(times):
            problems.append(Problem(shown, None, f"{stage}_min", f"{len(values)} values for {len(times)} arrivals"))
    if problems:
        raise ScenarioError(problems[:50])
    item["times"] = times
    item["service_times"] = services
    item["trace"] = None
    data.setdefault("resolved_from", []).append(shown)


def _stage_hint(name: str, stages: dict[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(stages), n=1, cutoff=0.6)
    known = ", ".join(f"{s}_min" for s in stages) or "none: the scenario has no stages"
    return f" (stage columns: {known})" + (f"; did you mean {close[0] + '_min'!r}?" if close else "")


def _position_of(loc: Loc, positions: Positions, default: str) -> tuple[str, int | None]:
    for n in range(len(loc), 0, -1):
        if loc[:n] in positions:
            return positions[loc[:n]]
    return default, None


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-branch labels, which mean nothing to a scenario author."""
    out = []
    for part in loc:
        if isinstance(part, str) and (
            part in DISTRIBUTIONS
            or part == "[key]"  # pydantic's marker for an error in a mapping's key rather than its value
            or part.startswith(("function-", "tagged-union", "literal[", "list[", "dict[", "union["))
            or part in ("int", "str", "float", "constrained-int", "constrained-str", "constrained-float")
        ):
            continue
        out.append(part)
    return tuple(out)


_REWRITES = (
    ("Input should be greater than or equal to ", "must be >= "),
    ("Input should be greater than ", "must be > "),
    ("Input should be less than or equal to ", "must be <= "),
    ("Input should be less than ", "must be < "),
    ("Input should be a finite number", "must be a finite number (not NaN or infinity)"),
    ("Input should be ", "expected "),
)
_TYPE_MISMATCH = (
    "int_type",
    "int_parsing",
    "float_type",
    "float_parsing",
    "string_type",
    "list_type",
    "dict_type",
    "literal_error",
    "model_type",
    "bool_type",
    "int_from_float",
    "model_attributes_type",
)


_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"  # sim.scenario.Identifier
_PATTERNS = {
    _NAME_PATTERN: "is not a valid name: use letters, digits, _ and -, starting with a letter or _",
    LANES_PATTERN: "expected a count, 24 hourly counts, 'lanes' or 'lanes * share' (e.g. 'lanes * 0.5')",
}


def _kind_of(value: Any) -> str:
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


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    msg = str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field is missing"
    # pydantic's own words name Python classes ("instance of Countries") or regular expressions
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value lines), got {_kind_of(error.get('input'))}"
    if kind == "list_type":
        return f"expected a list, got {_kind_of(error.get('input'))}"
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern")
        if pattern == _NAME_PATTERN:
            return f"{error.get('input')!r:.60} {_PATTERNS[pattern]}"
        if pattern in _PATTERNS:
            return _PATTERNS[pattern]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    for old, new in _REWRITES:
        if msg.startswith(old):
            msg = new + msg[len(old) :]
            break
    return msg[0].lower() + msg[1:] if msg else msg


def _merge_union(messages: list[tuple[str, str]]) -> str:
    """One message for a field that matched no branch of a union (e.g. a count or 24 counts)."""
    specific = [m for kind, m in messages if kind not in _TYPE_MISMATCH]
    if len(specific) == 1:
        return specific[0]
    return "; or ".join(dict.fromkeys(m for _, m in messages))


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _suggest(loc: Loc, known: dict[Loc, Iterable[str]]) -> str:
    """A 'did you mean' hint for a near-miss key, from the fields valid at that place."""
    import difflib

    parent, key = loc[:-1], loc[-1]
    if not isinstance(key, str):
        return ""
    choices = known.get(tuple(p for p in parent if not isinstance(p, int)))
    if choices is None:
        choices = known[("*",)]
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _known_keys() -> dict[Loc, Iterable[str]]:
    """Field names per (index-free) location, and of every part (``*``) for other places."""
    from pydantic import BaseModel

    from sim.scenario import distributions as d
    from sim.scenario import schema as s

    def names(model: type[BaseModel]) -> list[str]:
        return [f.alias or n for n, f in model.model_fields.items()]

    everything: set[str] = set()
    for module in (s, d):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
                everything.update(names(obj))
    return {
        ("*",): sorted(everything),
        (): names(s.Scenario),
        ("crossings",): names(s.Crossing),
        ("crossings", "sides", "a"): names(s.Side),
        ("crossings", "sides", "b"): names(s.Side),
        ("crossings", "closed"): names(s.Closure),
        ("demand",): names(s.Demand),
        ("regime",): names(s.RegimeChoice),
        ("profiles",): names(s.Profiles),
        ("countries",): names(s.Countries),
    }


def _error_loc(data: dict[str, Any], error: Any) -> Loc:
    """Where in ``data`` a validation error lies, in the author's terms."""
    loc = _clean_loc(error["loc"])
    if loc and loc[-1] == "value" and not isinstance(_get(data, loc[:-1]), dict):
        loc = loc[:-1]  # a bare number standing for a constant distribution
    return loc


def _validation_problems(err: ValidationError, data: dict[str, Any], positions: Positions, shown: str) -> list[Problem]:
    known = _known_keys()
    grouped: dict[Loc, list[tuple[str, str]]] = {}
    for error in err.errors():
        loc = _error_loc(data, error)
        message = _describe(error)
        if error["type"] == "extra_forbidden":
            message += _suggest(loc, known)
        grouped.setdefault(loc, []).append((error["type"], message))
    problems = []
    inner = {other[:n] for other in grouped for n in range(len(other))}  # locations with errors inside
    for loc, messages in grouped.items():
        if loc in inner and all(kind in _TYPE_MISMATCH for kind, _ in messages):
            # a union's other branches: the value has the kind of the branch that erred inside it
            continue
        file, line = _position_of(loc, positions, shown)
        problems.append(Problem(file, line, format_path(loc), _merge_union(messages)))
    return _without_template_echoes(problems)


def _without_template_echoes(problems: list[Problem]) -> list[Problem]:
    """A mistake in a crossing template once, not again at every crossing that uses it.

    A crossing's keys that came from its template carry the template's line, so the echo is
    the same message at the same line, under ``crossings[i].<sub>`` for ``crossing_templates.<name>.<sub>``.
    """
    in_templates = {
        (p.file, p.line, p.message, p.path.split(".", 2)[2])
        for p in problems
        if p.path.startswith("crossing_templates.") and p.path.count(".") >= 2
    }

    def echo(p: Problem) -> bool:
        head, _, sub = p.path.partition("].")
        return head.startswith("crossings[") and (p.file, p.line, p.message, sub) in in_templates

    return [p for p in problems if not echo(p)]


def read_raw(path: str | Path) -> tuple[dict[str, Any], Positions]:
    """Read a scenario file and everything it extends into one dict (before validation)."""
    positions: Positions = {}
    files: list[str] = []
    data = _resolve_extends(Path(path), positions, files=files)
    data["resolved_from"] = files
    return data, positions


def _field(value: Any, key: Any) -> Any:
    """The validated counterpart of ``raw[key]`` for the validated counterpart ``value`` of ``raw``."""
    if isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            if key in (name, info.alias):
                return getattr(value, name)
        return None
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, (list, tuple)) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    return None


def _coerced_booleans(raw: Any, value: Any, loc: Loc = ()) -> Iterable[tuple[Loc, bool]]:
    """Where a ``true`` or ``false`` was accepted as a number.

    Pydantic reads a boolean as 1 or 0 wherever a number is expected, so ``replications: true``
    would run one replication and ``daily: false`` no traffic, where the author surely meant
    something else. Walks the raw data beside the validated scenario, so only numeric fields
    are checked and booleans stay valid where the format has them (``during_hours``).
    """
    if isinstance(raw, bool):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield loc, raw
        return
    items: Iterable[tuple[Any, Any]]
    if isinstance(raw, dict):
        items = raw.items()
    elif isinstance(raw, list):
        items = enumerate(raw)
    else:
        return
    for key, item in items:
        if isinstance(item, (bool, dict, list)):  # long lists of plain numbers are skipped quickly
            yield from _coerced_booleans(item, _field(value, key), (*loc, key))


def validate_data(data: dict[str, Any], positions: Positions, shown: str) -> Scenario:
    """Validate an assembled scenario dict, raising ``ScenarioError`` with every problem."""
    problems = _assemble(data, positions, shown)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        problems += _validation_problems(err, data, positions, shown)
        # the checks below would wait for these to be fixed; run them on what did validate
        salvaged = salvage(data, err, Scenario.model_validate, _error_loc)
        if salvaged is not None:
            partial, pruned = salvaged
            for loc, message in _later_checks(pruned.data, partial):
                where = pruned.original(loc)
                if not pruned.echoes(where, message):
                    file, line = _position_of(where, positions, shown)
                    problems.append(Problem(file, line, format_path(where), message))
        raise ScenarioError(problems) from None
    for loc, message in _later_checks(data, scenario):
        file, line = _position_of(loc, positions, shown)
        problems.append(Problem(file, line, format_path(loc), message))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _later_checks(data: dict[str, Any], scenario: Scenario) -> list[tuple[Loc, str]]:
    """What only a validated scenario can be checked for: booleans read as numbers, cross-references."""
    found = [
        (loc, f"expected a number, got a boolean ({str(flag).lower()})")
        for loc, flag in _coerced_booleans(data, scenario)
    ]
    return found + check_scenario(scenario)


def load_scenario(path: str | Path) -> Scenario:
    """Load, resolve and validate a scenario file.

    Raises ``ScenarioError`` listing every problem with its file, line and field path.
    """
    path = Path(path)
    shown = _display(path)
    try:
        data, positions = read_raw(path)
        data.setdefault("name", _default_name(path))
        return validate_data(data, positions, shown)
    except ScenarioError as err:
        raise ScenarioError([dataclasses.replace(p, scenario=p.scenario or shown) for p in err.problems]) from None


def _default_name(path: Path) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in path.stem)
    return stem if stem and not stem[0].isdigit() else f"s_{stem}"


def canonical_json(scenario: Scenario) -> str:
    """The resolved scenario as canonical JSON: what the hash in a manifest is taken over."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"resolved_from"})
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(canonical_json(scenario).encode()).hexdigest()


def scenario_from_dict(data: dict[str, Any], origin: str = "<dict>") -> Scenario:
    """Validate a scenario given as a Python dict (notebooks, tests, sweeps).

    Relative CSV paths are taken from the current folder; errors name ``origin`` as the file.
    """
    import copy

    data = copy.deepcopy(data)
    data.setdefault("name", "scenario")
    return validate_data(data, {}, origin)
