"""Calendar time in the author's format: seasons, growth, holidays and dated episodes.

Demand in a scenario is an average day shaped by hour and weekday. Over a season or a
year that is not enough: traffic has a season, grows from year to year, bunches around
holidays, and the queues people remember came from episodes: a surge of departures, checks
tightened for six weeks, a crossing shut. ``calendar`` holds the regular part (factors
that repeat), ``episodes`` the dated part (a window that changes demand, checks, staffing
or closes crossings). Each applies to the travellers of a ``Scope``: chosen crossings,
directions and flows, everyone when omitted. ``sim.model.calendar`` turns them into
hourly demand factors, ``sim.model.episodes`` into changes of steps and capacities.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from sim.scenario.distributions import Weight
from sim.scenario.schema_base import Identifier, Strict
from sim.scenario.units import parse_duration

Direction = Literal["a_to_b", "b_to_a"]
Factor = Annotated[float, Field(ge=0, le=1_000, allow_inf_nan=False)]
"""A multiplier of demand or of a time: 0 (none) to 1,000."""

_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_DATETIME = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_MONTH_DAY = re.compile(r"^\s*(\d{1,2})-(\d{1,2})\s*$")


def _moment(value: Any) -> Any:
    """A date, a date and time, or a duration from the start of the run (minutes)."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        m = _DATETIME.match(value)
        if m:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            try:
                return datetime.datetime(y, mo, d, h, mi, s)
            except ValueError as err:
                raise ValueError(f"{value!r} is not a date and time: {err}") from None
        m = _DATE.match(value)
        if m:
            try:
                return datetime.date(*(int(g) for g in m.groups()))
            except ValueError as err:
                raise ValueError(f"{value!r} is not a date: {err}") from None
    try:
        minutes = parse_duration(value)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"cannot read {value!r} as a moment; write a date (2025-09-15), a date and time "
            f"(2025-09-15T06:00) or a time from the start of the run (3 d)"
        ) from err
    if minutes < 0:
        raise ValueError("a time from the start of the run must be >= 0")
    return float(minutes)


Moment = Annotated[datetime.datetime | datetime.date | float, BeforeValidator(_moment)]
"""When something happens: a calendar date (needs the scenario's ``start_date``), a date and
time, or a duration from the start of the run. A date alone as an ``end`` means the end of
that day, so ``start: 2022-09-22, end: 2022-10-15`` includes both days."""


def _day_of_year(value: Any) -> Any:
    """A holiday's day: YYYY-MM-DD once, or MM-DD every year."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError("write a date, YYYY-MM-DD (once) or MM-DD (every year)")
    m = _DATE.match(value)
    if m:
        try:
            return datetime.date(*(int(g) for g in m.groups())).isoformat()
        except ValueError as err:
            raise ValueError(f"{value!r} is not a date: {err}") from None
    m = _MONTH_DAY.match(value)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        days = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
        if 1 <= month <= 12 and 1 <= day <= days[month - 1]:
            return f"{month:02d}-{day:02d}"
    raise ValueError(f"cannot read {value!r} as a day; write YYYY-MM-DD (once) or MM-DD (every year)")


DayOfYear = Annotated[str, BeforeValidator(_day_of_year)]


class Scope(Strict):
    """Whom a factor or an episode concerns: crossings, directions and flows (all when omitted).

    A corridor's travellers are concerned when its main crossing (the one with the largest
    share) is one of ``crossings``.
    """

    crossings: Annotated[list[str], Field(min_length=1)] | None = None
    directions: Annotated[list[Direction], Field(min_length=1)] | None = None
    flows: Annotated[list[Identifier], Field(min_length=1)] | None = None

    def covers(self, crossing: str, direction: str, flow: str) -> bool:
        return (
            (self.crossings is None or crossing in self.crossings)
            and (self.directions is None or direction in self.directions)
            and (self.flows is None or flow in self.flows)
        )


class Seasonal(Scope):
    """Seasonal factors of demand, by month or by ISO week of the year.

    Normalised (unless ``normalise`` is false) so that their mean over the days of a year
    is 1: the demand's ``daily`` volume stays the average day of the year.
    """

    monthly: Annotated[list[Weight], Field(min_length=12, max_length=12)] | None = None
    weekly: Annotated[list[Weight], Field(min_length=52, max_length=53)] | None = Field(
        default=None, description="One factor per ISO week (52, or 53 with the long years' last week)."
    )
    normalise: bool = True
    source: str = ""

    @model_validator(mode="after")
    def _one_shape(self) -> Seasonal:
        if (self.monthly is None) == (self.weekly is None):
            raise ValueError("give either monthly (12 factors) or weekly (52 or 53 factors)")
        values = self.monthly if self.monthly is not None else self.weekly
        if not any(v > 0 for v in values or []):
            raise ValueError("the factors must not all be 0")
        return self


class Growth(Scope):
    """Growth of demand from year to year: ``(1 + per_year)`` to the power of years since ``base``."""

    per_year: Annotated[float, Field(gt=-1, le=10, allow_inf_nan=False)]
    base: datetime.date | None = Field(
        default=None, description="The date the demand's volumes describe; the start date when omitted."
    )
    source: str = ""


class Holiday(Scope):
    """Days on which demand is multiplied: a holiday, the eve of one, a market day."""

    name: str = ""
    date: DayOfYear = Field(description="YYYY-MM-DD (once) or MM-DD (every year).")
    days: Annotated[int, Field(ge=1, le=366)] = 1
    factor: Factor
    source: str = ""


class Calendar(Strict):
    """The regular part of calendar time: factors that repeat. Needs the scenario's ``start_date``."""

    seasonal: list[Seasonal] = Field(default_factory=list)
    growth: list[Growth] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.seasonal or self.growth or self.holidays)

    def describe(self) -> list[str]:
        """One line per entry, in a reader's words (for the manifest and the report)."""
        out = [
            f"seasonal factors by {'month' if e.monthly is not None else 'ISO week'}{_scope_text(e)}"
            for e in self.seasonal
        ]
        out += [
            f"growth {g.per_year:+.0%} a year from {g.base.isoformat() if g.base else 'the start date'}{_scope_text(g)}"
            for g in self.growth
        ]
        out += [
            f"{h.name or 'holiday'} {h.date} ({h.days} day{'s' if h.days > 1 else ''}): demand x{h.factor:g}"
            f"{_scope_text(h)}"
            for h in self.holidays
        ]
        return out


class StageChange(Strict):
    """How one control stage works during an episode, for the travellers in the episode's scope.

    ``select`` and ``secondary_share`` replace the stage's shares; ``time_factor`` multiplies
    its service time (primary control; the secondary inspection keeps its time). The stage
    must be on the travellers' route: a check the regime does not run cannot be switched on
    here (give the stage ``select: 0`` in the regime, and the share in the episode).
    ``servers`` or ``servers_factor`` change the booths of the stage's pools on the side,
    within their opening hours.
    """

    stage: Identifier
    side: Literal["a", "b"] | None = Field(default=None, description="Both sides when omitted.")
    select: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    secondary_share: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    time_factor: Annotated[float, Field(gt=0, le=1_000, allow_inf_nan=False)] | None = None
    servers: Annotated[int, Field(ge=0, le=100_000)] | None = None
    servers_factor: Factor | None = None

    @model_validator(mode="after")
    def _something(self) -> StageChange:
        effects = (self.select, self.secondary_share, self.time_factor, self.servers, self.servers_factor)
        if all(e is None for e in effects):
            raise ValueError("say what changes: select, secondary_share, time_factor, servers or servers_factor")
        if self.servers is not None and self.servers_factor is not None:
            raise ValueError("give servers or servers_factor, not both")
        return self

    @property
    def changes_steps(self) -> bool:
        return self.select is not None or self.secondary_share is not None or self.time_factor is not None

    @property
    def changes_staff(self) -> bool:
        return self.servers is not None or self.servers_factor is not None


class Episode(Scope):
    """A dated window that changes demand, checks or staffing, or closes crossings."""

    name: str = Field(min_length=1, max_length=200)
    start: Moment
    end: Moment
    demand: Factor | None = Field(default=None, description="Multiplies arrivals in the window.")
    close: bool = Field(default=False, description="The crossings in scope are shut in the window.")
    stages: list[StageChange] = Field(default_factory=list)
    source: str = ""

    @model_validator(mode="after")
    def _window(self) -> Episode:
        if self.demand is None and not self.close and not self.stages:
            raise ValueError("say what the episode does: demand, close or stages")
        if self.close and self.flows is not None:
            raise ValueError("close shuts crossings for everyone; flows do not apply (use demand: 0 for one flow)")
        a, b = self.start, self.end
        if isinstance(a, float) == isinstance(b, float) and _end_minutes(b) <= _start_minutes(a):
            raise ValueError("end must be after start")
        return self

    def describe(self) -> str:
        """The episode in one line: its name, window, whom it concerns and what it does."""
        effects = []
        if self.demand is not None:
            effects.append(f"demand x{self.demand:g}")
        if self.close:
            effects.append("crossings shut")
        for c in self.stages:
            parts = []
            if c.select is not None:
                parts.append(f"selected {c.select:.0%}")
            if c.secondary_share is not None:
                parts.append(f"secondary {c.secondary_share:.0%}")
            if c.time_factor is not None:
                parts.append(f"time x{c.time_factor:g}")
            if c.servers is not None:
                parts.append(f"servers {c.servers}")
            if c.servers_factor is not None:
                parts.append(f"servers x{c.servers_factor:g}")
            effects.append(f"{c.stage}{' side ' + c.side if c.side else ''}: {', '.join(parts)}")
        window = f"{_moment_text(self.start)} to {_moment_text(self.end)}"
        return f"{self.name}, {window}{_scope_text(self)}: {'; '.join(effects)}"


def _moment_text(m: datetime.datetime | datetime.date | float) -> str:
    if isinstance(m, float):
        return f"day {m / 1440:g}"
    return m.isoformat(sep=" ", timespec="minutes") if isinstance(m, datetime.datetime) else m.isoformat()


def _scope_text(scope: Scope) -> str:
    """Whom an entry concerns, as a parenthesis; nothing when it concerns everyone."""
    parts = [", ".join(values) for values in (scope.crossings, scope.directions, scope.flows) if values is not None]
    return f" ({'; '.join(parts)})" if parts else ""


def _start_minutes(m: datetime.datetime | datetime.date | float) -> float:
    return _minutes(m, end=False)


def _end_minutes(m: datetime.datetime | datetime.date | float) -> float:
    return _minutes(m, end=True)


def _minutes(m: datetime.datetime | datetime.date | float, end: bool) -> float:
    """Minutes from 1 January of year 1 (dates), or as given (durations): only to compare two moments."""
    if isinstance(m, float):
        return m
    if isinstance(m, datetime.datetime):
        return m.toordinal() * 1440.0 + m.hour * 60.0 + m.minute + m.second / 60.0
    return (m.toordinal() + (1 if end else 0)) * 1440.0


def moment_minutes(
    m: datetime.datetime | datetime.date | float, start_date: datetime.date | None, end: bool = False
) -> float:
    """A moment as minutes from the start of the run; a date alone as an end is the end of that day."""
    if isinstance(m, float):
        return m
    if start_date is None:
        raise ValueError("a date needs the scenario's start_date")
    return _minutes(m, end) - start_date.toordinal() * 1440.0


def is_dated(m: datetime.datetime | datetime.date | float) -> bool:
    return not isinstance(m, float)
