"""Observed vehicles: when each arrived at the queue and when each of its controls started and ended.

Two layouts are read. The *long* one (a Time Release Study's sheet, an e-queue export) has a
row per vehicle per control: ``vehicle_id, crossing, direction, flow, arrival, stage, side,
start, end`` and optional ``persons``; a vehicle that passed no control has one row with
``stage``, ``side``, ``start`` and ``end`` empty. The *wide* one has a row per vehicle with
``<stage>_<side>_start`` and ``<stage>_<side>_end`` columns, empty where it was not checked.

Times are ISO 8601 date-times (``2023-10-02T08:15:30``, with or without a UTC offset) or
minutes as plain numbers (minute 0 is midnight starting day 0). The file is read like a
scenario's CSV tables (a regular file, at most 64 MiB, UTF-8) and every problem is reported
at once with the file, the row and the column, so a modeler fixes a sheet in one round.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.schema import DIRECTIONS, WEEKDAYS
from sim.scenario.tables import MAX_CSV_BYTES, csv_rows
from sim.scenario.units import MAX_DURATION
from sim.scenario.user_files import display, read_text

VEHICLE_COLUMNS = ("vehicle_id", "crossing", "direction", "flow", "arrival")
LONG_COLUMNS = (*VEHICLE_COLUMNS, "stage", "side", "start", "end")
OPTIONAL_COLUMNS = ("persons",)
WIDE_COLUMN = re.compile(r"^(?P<stage>[A-Za-z_][A-Za-z0-9_\-]*)_(?P<side>[ab])_(?P<edge>start|end)$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,119}$")
"""The scenario format's identifiers: crossing, flow and stage names must be usable in it."""
MAX_PROBLEMS = 50
"""Problems listed at most: a wrong file (or a wrong layout) would otherwise fill the screen."""
MAX_PERSONS = 10_000


@dataclass(frozen=True)
class Visit:
    """One control of one vehicle: which stage, on whose side, and how long it took (minutes)."""

    stage: str
    side: str
    start: float
    end: float

    @property
    def service(self) -> float:
        return self.end - self.start


@dataclass
class Vehicle:
    """A vehicle seen arriving at a crossing's queue, with the controls it went through."""

    id: str
    crossing: str
    direction: str
    flow: str
    arrival: float
    """Minutes on the file's own clock: only differences and the day, hour and weekday below are used."""
    day: int
    """Days since the first day of the observations (0 for the first)."""
    hour: int
    weekday: int
    """0 for Monday, as in the scenario format's weekly profiles."""
    persons: int | None
    visits: list[Visit] = field(default_factory=list)


@dataclass(frozen=True)
class Observations:
    """Every vehicle of a file, and the whole days the file covers (first to last day of arrival)."""

    source: str
    vehicles: list[Vehicle]
    days: int
    first_weekday: int
    """The weekday of day 0."""
    layout: str
    clock: str
    """``date-time`` or ``minutes``: how the file wrote its times."""
    first_date: datetime.date | None

    def weekdays_observed(self) -> list[int]:
        """How many times each weekday (Monday first) occurs among the observed days."""
        counts = [0] * 7
        for d in range(self.days):
            counts[(self.first_weekday + d) % 7] += 1
        return counts


class _Problems:
    """Problems of one file, listed in order, at most ``MAX_PROBLEMS``."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.items: list[Problem] = []
        self.more = False

    def add(self, line: int | None, column: str, message: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(self.shown, line, column, message))
        else:
            self.more = True

    def raise_any(self) -> None:
        if self.items:
            if self.more:
                self.items.append(Problem(self.shown, None, "", f"more problems not shown (the first {MAX_PROBLEMS})"))
            raise ScenarioError(self.items)


@dataclass(frozen=True)
class _Time:
    minutes: float
    day: int
    hour: int
    weekday: int


class _Clock:
    """Reads time cells: the first one fixes the kind (date-time or minutes) for the whole file.

    Mixing them would put two clocks in one file (minutes from when?); mixing date-times with
    and without a UTC offset would leave the offset of the others unknown.
    """

    EPOCH = datetime.datetime(1970, 1, 1)

    def __init__(self, start_weekday: int) -> None:
        self.start_weekday = start_weekday
        self.kind: str | None = None
        self.aware: bool | None = None
        self.first_line: int | None = None

    def read(self, cell: str, line: int) -> _Time:
        """The time in ``cell``, or ``ValueError`` with what is expected."""
        number = _number(cell)
        kind = "minutes" if number is not None else "date-time"
        if self.kind is None:
            self.kind, self.first_line = kind, line
        elif kind != self.kind:
            raise ValueError(
                f"expected {'a number of minutes' if self.kind == 'minutes' else 'an ISO 8601 date-time'} like the "
                f"times before it (first on line {self.first_line}), got {cell!r:.40}"
            )
        if number is not None:
            if not math.isfinite(number) or not 0 <= number <= MAX_DURATION:
                raise ValueError(f"must be a number of minutes from 0 to {MAX_DURATION:g}, got {cell!r:.40}")
            day = int(number // 1440)
            return _Time(number, day, int(number % 1440 // 60), (self.start_weekday + day) % 7)
        return self._date_time(cell)

    def _date_time(self, cell: str) -> _Time:
        try:
            when = datetime.datetime.fromisoformat(cell)
        except ValueError:
            raise ValueError(
                f"expected an ISO 8601 date-time (2023-10-02T08:15:30) or minutes, got {cell!r:.40}"
            ) from None
        if re.fullmatch(r"\s*\d{4}-?\d{2}-?\d{2}\s*", cell):
            raise ValueError(f"a date without a time of day: {cell!r:.40}; write e.g. {cell.strip()}T08:15")
        aware = when.tzinfo is not None
        if self.aware is None:
            self.aware = aware
        elif aware != self.aware:
            raise ValueError("mixes date-times with and without a UTC offset; give every time the same way")
        # differences in real time; the hour and weekday of the clock the time was written in
        since = when - (self.EPOCH.replace(tzinfo=datetime.UTC) if aware else self.EPOCH)
        return _Time(since.total_seconds() / 60, when.date().toordinal(), when.hour, when.weekday())


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def read_observations(path: str | Path, start_weekday: str = "monday", limit: int = MAX_CSV_BYTES) -> Observations:
    """The vehicles of an observations file (long or wide layout), or ``ScenarioError`` naming every problem.

    ``start_weekday`` is the weekday of minute 0 when times are minutes; date-times carry their own.
    """
    path = Path(path)
    shown = display(path)
    text = read_text(path, "observations file", limit)
    rows = list(csv_rows(text, shown))
    if not rows:
        raise ScenarioError(
            [Problem(shown, None, "", "the file is empty; expected a header row and a row per vehicle")]
        )
    (header, header_line), body = rows[0], rows[1:]
    header = [h.strip() for h in header]
    problems = _Problems(shown)
    for dupe in sorted({h for h in header if header.count(h) > 1}):
        problems.add(header_line, "", f"column {dupe!r:.60} appears twice")
    layout = "long" if "stage" in header or not any(WIDE_COLUMN.match(h) for h in header) else "wide"
    required = LONG_COLUMNS if layout == "long" else VEHICLE_COLUMNS
    for col in required:
        if col not in header:
            problems.add(header_line, col, f"missing column; the {layout} layout needs {', '.join(required)}")
    for col in header:
        known = col in required or col in OPTIONAL_COLUMNS or (layout == "wide" and WIDE_COLUMN.match(col))
        if not known:
            wide = " or <stage>_<side>_start/_end" if layout == "wide" else ""
            problems.add(
                header_line, col[:60], f"unknown column (known: {', '.join((*required, *OPTIONAL_COLUMNS))}{wide})"
            )
    if layout == "wide":
        for col in header:
            m = WIDE_COLUMN.match(col)
            if m:
                other = f"{m['stage']}_{m['side']}_{'end' if m['edge'] == 'start' else 'start'}"
                if other not in header:
                    problems.add(header_line, col, f"has no partner column {other!r}")
    problems.raise_any()
    if not body:
        raise ScenarioError([Problem(shown, None, "", "the file has a header but no rows")])
    weekday = WEEKDAYS.index(start_weekday)
    reader = _Reader(header, problems, _Clock(weekday))
    vehicles = reader.read_long(body) if layout == "long" else reader.read_wide(body)
    problems.raise_any()
    if not vehicles:
        raise ScenarioError([Problem(shown, None, "", "the file has no vehicles")])
    days = [v.day for v in vehicles]
    first = min(days)
    for v in vehicles:
        v.day -= first
    clock = reader.clock.kind or "minutes"
    first_weekday = datetime.date.fromordinal(first).weekday() if clock == "date-time" else (weekday + first) % 7
    first_date = datetime.date.fromordinal(first) if clock == "date-time" else None
    return Observations(shown, vehicles, max(days) - first + 1, first_weekday, layout, clock, first_date)


class _Reader:
    """Turns rows into vehicles, noting each problem at its row and column and going on."""

    def __init__(self, header: list[str], problems: _Problems, clock: _Clock) -> None:
        self.header = header
        self.problems = problems
        self.clock = clock

    def _cells(self, row: list[str], line: int) -> dict[str, str] | None:
        if len(row) != len(self.header):
            self.problems.add(line, "", f"row has {len(row)} cells, the header has {len(self.header)}")
            return None
        return {col: cell.strip() for col, cell in zip(self.header, row, strict=True)}

    def _vehicle(self, cells: dict[str, str], line: int) -> Vehicle | None:
        bad = self.problems.add
        ok = True
        vid = cells["vehicle_id"]
        if not vid:
            bad(line, "vehicle_id", "missing value")
            ok = False
        for col in ("crossing", "flow"):
            if not NAME.match(cells[col]):
                what = (
                    "missing value" if not cells[col] else f"{cells[col]!r:.40} is not a name the scenario format takes"
                )
                bad(line, col, f"{what} (a letter or _, then letters, digits, _ or -)")
                ok = False
        if cells["direction"] not in DIRECTIONS:
            bad(line, "direction", f"must be a_to_b or b_to_a, got {cells['direction']!r:.40}")
            ok = False
        persons = None
        if cells.get("persons"):
            n = _number(cells["persons"])
            if n is None or not n.is_integer() or not 1 <= n <= MAX_PERSONS:
                bad(line, "persons", f"must be a whole number from 1 to {MAX_PERSONS:,}, got {cells['persons']!r:.40}")
                ok = False
            else:
                persons = int(n)
        arrival = self._time(cells, "arrival", line)
        if arrival is None or not ok:
            return None
        return Vehicle(
            vid,
            cells["crossing"],
            cells["direction"],
            cells["flow"],
            arrival.minutes,
            arrival.day,
            arrival.hour,
            arrival.weekday,
            persons,
        )

    def _time(self, cells: dict[str, str], col: str, line: int) -> _Time | None:
        cell = cells[col]
        if not cell:
            self.problems.add(line, col, "missing value")
            return None
        try:
            return self.clock.read(cell, line)
        except ValueError as exc:
            self.problems.add(line, col, str(exc))
            return None

    def _visit(
        self, vehicle: Vehicle | None, stage: str, side: str, cells: dict[str, str], cols: tuple[str, str], line: int
    ) -> Visit | None:
        start, end = (self._time(cells, c, line) for c in cols)
        if start is None or end is None:
            return None
        if end.minutes < start.minutes:
            self.problems.add(line, cols[1], f"is before {cols[0]} (by {start.minutes - end.minutes:.4g} min)")
            return None
        if vehicle is not None and start.minutes < vehicle.arrival:
            self.problems.add(
                line, cols[0], f"is before the vehicle's arrival (by {vehicle.arrival - start.minutes:.4g} min)"
            )
            return None
        if vehicle is not None and any(v.stage == stage and v.side == side for v in vehicle.visits):
            self.problems.add(line, "stage", f"vehicle {vehicle.id!r:.40} already has a {stage} control on side {side}")
            return None
        return Visit(stage, side, start.minutes, end.minutes)

    def read_long(self, body: list[tuple[list[str], int]]) -> list[Vehicle]:
        """A row per vehicle per control; a vehicle's own columns must agree on each of its rows."""
        vehicles: dict[str, tuple[Vehicle | None, dict[str, str], int]] = {}
        for row, line in body:
            cells = self._cells(row, line)
            if cells is None:
                continue
            vid = cells["vehicle_id"]
            seen = vehicles.get(vid) if vid else None
            if seen is None:
                vehicle = self._vehicle(cells, line)
                if vid:
                    vehicles[vid] = (vehicle, cells, line)
            else:
                vehicle, first, first_line = seen
                for col in (*VEHICLE_COLUMNS[1:], *OPTIONAL_COLUMNS):
                    if cells.get(col, "") != first.get(col, ""):
                        self.problems.add(
                            line, col, f"differs from vehicle {vid!r:.40}'s first row (line {first_line})"
                        )
                        vehicle = None
            stage, side = cells["stage"], cells["side"]
            if not stage:
                for col in ("side", "start", "end"):
                    if cells[col]:
                        self.problems.add(line, "stage", f"missing value ({col} is given)")
                        break
                continue
            if not NAME.match(stage):
                self.problems.add(line, "stage", f"{stage!r:.40} is not a name the scenario format takes")
                continue
            if side not in ("a", "b"):
                self.problems.add(line, "side", f"must be a or b (whose post ran the control), got {side!r:.40}")
                continue
            visit = self._visit(vehicle, stage, side, cells, ("start", "end"), line)
            if visit is not None and vehicle is not None:
                vehicle.visits.append(visit)
        return [v for v, _, _ in vehicles.values() if v is not None]

    def read_wide(self, body: list[tuple[list[str], int]]) -> list[Vehicle]:
        """A row per vehicle; a pair of empty cells is a control the vehicle did not go through."""
        pairs = []
        for col in self.header:
            m = WIDE_COLUMN.match(col)
            if m and m["edge"] == "start":
                pairs.append((m["stage"], m["side"], (col, f"{m['stage']}_{m['side']}_end")))
        vehicles: dict[str, tuple[Vehicle | None, int]] = {}
        for row, line in body:
            cells = self._cells(row, line)
            if cells is None:
                continue
            vid = cells["vehicle_id"]
            if vid in vehicles:
                self.problems.add(line, "vehicle_id", f"{vid!r:.40} is on line {vehicles[vid][1]} too")
                continue
            vehicle = self._vehicle(cells, line)
            if vid:
                vehicles[vid] = (vehicle, line)
            for stage, side, cols in pairs:
                given = [bool(cells[c]) for c in cols]
                if not any(given):
                    continue
                if not all(given):
                    self.problems.add(
                        line, cols[given.index(False)], f"missing value ({cols[given.index(True)]} is given)"
                    )
                    continue
                visit = self._visit(vehicle, stage, side, cells, cols, line)
                if visit is not None and vehicle is not None:
                    vehicle.visits.append(visit)
        return [v for v, _ in vehicles.values() if v is not None]
