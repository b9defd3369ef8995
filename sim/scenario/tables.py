"""CSV tables of a scenario: crossing and demand catalogues, and arrival traces.

Long lists belong in CSV files, which read a hundred times faster than YAML with line numbers.
A catalogue row becomes a nested dict (``sides.a.lanes``, or ``lanes_a`` for short) with the
line it starts on, so its errors point at the row.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.reading import MiB
from sim.scenario.units import MAX_DURATION
from sim.scenario.user_files import display, read_text
from sim.scenario.yaml_files import Loc

MAX_CSV_BYTES = 64 * MiB
"""A CSV file's size at most (a catalogue, demand table or trace of several million rows)."""
_CSV_ALIASES = {
    "name_a": "sides.a.name",
    "name_b": "sides.b.name",
    "region_a": "sides.a.region",
    "region_b": "sides.b.region",
    "lanes_a": "sides.a.lanes",
    "lanes_b": "sides.b.lanes",
}


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ValueError(f"column {dotted!r} clashes with another column")
    target[parts[-1]] = value


def csv_rows(text: str, shown: str) -> Iterator[tuple[list[str], int]]:
    """Non-blank rows of CSV text with the line each starts on; ``#`` in the first cell comments a row out."""
    reader = csv.reader(io.StringIO(text))
    try:
        while True:
            start = reader.line_num + 1  # a quoted cell may span lines: a row is where it starts
            try:
                row = next(reader)
            except StopIteration:
                return
            if any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
                yield row, start
    except csv.Error as exc:
        raise ScenarioError([Problem(shown, reader.line_num, "", f"CSV error: {exc}")]) from None


def read_csv(
    file_value: str, declared_in: tuple[str, int | None], key: str, required: Iterable[str]
) -> list[tuple[dict[str, Any], int]]:
    """Rows of a catalogue CSV as nested dicts, each with the line it starts on."""
    return read_csv_table(file_value, declared_in, key, required)[2]


def read_csv_table(
    file_value: str, declared_in: tuple[str, int | None], key: str, required: Iterable[str]
) -> tuple[list[str], int, list[tuple[dict[str, Any], int]]]:
    """The header, its line, and the rows of a CSV file as nested dicts with their lines."""
    path = Path(file_value)
    try:
        text = read_text(path, "CSV file", MAX_CSV_BYTES)
    except ScenarioError as err:
        file, line = declared_in
        raise ScenarioError([Problem(file, line, key, f"{p.message}: {p.file}") for p in err.problems]) from None
    shown = display(path)
    rows_with_lines = list(csv_rows(text, shown))
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


def leaf_locs(row: dict[str, Any], prefix: Loc = ()) -> Iterable[Loc]:
    """Every key path in a (nested) catalogue row, so each cell's errors point at the row."""
    for key, value in row.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from leaf_locs(value, (*prefix, key))


def fold_trace(item: dict[str, Any], declared_in: tuple[str, int | None], key: str, data: dict[str, Any]) -> None:
    """Read a demand entry's trace CSV into its ``times`` and ``service_times``."""
    base = Path(declared_in[0]).parent
    path = base / item["trace"]
    header, header_line, rows = read_csv_table(str(path), declared_in, key, ("arrival_min",))
    shown = display(path)
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
