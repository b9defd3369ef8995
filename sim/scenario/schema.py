"""The scenario: validated data describing a border, its traffic and its control regime.

The controls and regimes it is made of are in ``sim.scenario.control``.

Everything a model run needs is here and nothing else: the model reads a ``Scenario`` and
trusts it, so every check happens once, at the edge (see ``sim.scenario.loader``).
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from sim.scenario.booking import EQueue
from sim.scenario.calendar import Calendar, Episode
from sim.scenario.control import (
    BUILTIN_REGIMES,
    ControlStage,
    Regime,
    RegimeChoice,
)
from sim.scenario.costs import Costs
from sim.scenario.distributions import Constant, Distribution, NonNegDuration, PosDuration, Weight
from sim.scenario.network import Corridor, Diversion, RouteChoice
from sim.scenario.schema_base import Category, Identifier, SideName, Strict
from sim.scenario.units import parse_clock
from sim.scenario.weather import NavigationSeason, Surface, Weather

Mode = Literal["road", "rail", "river"]
Unit = Literal["vehicle", "person", "train", "vessel"]
"""What one traveller of a flow is: counts of different units are never added together."""
Occupants = Literal["persons", "wagons"]
"""What a flow's occupancy counts: the persons aboard, or (freight trains) the wagons."""
Direction = Literal["a_to_b", "b_to_a"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]
DIRECTIONS: tuple[str, ...] = Direction.__args__  # type: ignore[attr-defined]


MAX_OCCUPANCY = 10_000
"""Persons (or wagons) per vehicle at most, on average; the model also caps each draw at
``100 * MAX_OCCUPANCY`` so that a long-tailed distribution cannot overflow a count."""

RESERVED_NAMES = {"all": "the total rows of every table", "default": "the pool of flows not named in servers"}
"""Names a crossing or flow may not take, in any case: they would collide with rows or pools
bordersim makes itself (``ALL`` totals; the ``all`` and ``default`` server pools)."""
Count = Annotated[int, Field(ge=0, le=100_000)]


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a number, not a boolean")
    return value


LANES_PATTERN = r"^lanes(\s*\*\s*(0|[1-9]\d*)?(\.\d+)?)?$"

PoolSpec = Annotated[
    Count | Annotated[list[Count], Field(min_length=24, max_length=24)] | Annotated[str, Field(pattern=LANES_PATTERN)],
    BeforeValidator(_no_bool),
]
"""Servers in one pool: a count, 24 counts (one per hour of the day: a shift plan),
``lanes`` (as many as the side's lanes) or ``lanes * 0.5`` (that share of them, rounded, at
least 1) so that one template fits crossings of every size."""

StagePools = PoolSpec | dict[Identifier, PoolSpec]
"""Servers of one stage on one side: one pool shared by all flows, or a pool per flow
(key ``default`` for the flows not named)."""


class Flow(Strict):
    """A traveller class: cars, trucks, pedestrians, trains..."""

    description: str = ""
    occupancy: Distribution = Field(
        default_factory=lambda: Constant(value=1),
        description="Persons per vehicle (wagons per freight train); draws are rounded, minimum 1.",
    )
    categories: list[Category] | None = Field(
        default=None, description="Crossing categories this flow may use; all when omitted."
    )
    unit: Unit = Field(
        default="vehicle",
        description="What one traveller is (vehicle, person, train, vessel), so that reports never add "
        "trains to pedestrians.",
    )
    occupants: Occupants = Field(
        default="persons", description="What the occupancy counts: persons aboard, or wagons of a freight train."
    )

    @field_validator("occupancy", mode="before")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        """Counts, not durations: bounded in persons before the distribution reads them as times."""
        if isinstance(value, dict):
            numbers = [v for k, v in value.items() if k in ("value", "mean", "low", "mode", "high", "values")]
        else:
            numbers = [value]
        flat = [x for v in numbers for x in (v if isinstance(v, list) else [v])]
        for x in flat:
            try:
                big = not isinstance(x, bool) and float(x) > MAX_OCCUPANCY
            except (TypeError, ValueError):
                continue
            if big:
                raise ValueError(f"must be at most {MAX_OCCUPANCY:,} persons (wagons) per vehicle")
        return value


class Side(Strict):
    """One country's post at a crossing."""

    name: str = ""
    region: str = ""
    lanes: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        default=None, description="Lanes (tracks, berths) per direction of travel."
    )
    servers: dict[Identifier, StagePools] = Field(
        default_factory=dict,
        description="Servers per stage, per direction of travel (outbound and inbound each have these).",
    )
    secondary_servers: dict[Identifier, StagePools] = Field(
        default_factory=dict,
        description="Secondary-inspection places per stage; unlimited when not given.",
    )


class Closure(Strict):
    """A period when the crossing is shut (maintenance, weather, season)."""

    start: NonNegDuration
    end: NonNegDuration
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def _parse_hours(value: str) -> str:
    if value.strip().lower() in ("24h", "24/7", "00:00-24:00"):
        return "24h"
    match = re.fullmatch(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*", value)
    if not match:
        raise ValueError(f"cannot read {value!r} as opening hours; write 24h or HH:MM-HH:MM")
    start, end = (parse_clock(p) for p in match.groups())
    if start % 1440 == end % 1440:
        raise ValueError(f"opening hours {value!r} open and close at the same time of day (never open)")
    return f"{match.group(1)}-{match.group(2)}"


OpeningHours = Annotated[str, BeforeValidator(lambda v: _parse_hours(v) if isinstance(v, str) else v)]


class Crossing(Strict):
    """A crossing point with its two posts and the neutral zone between them."""

    id: Identifier
    category: Category
    mode: Mode = "road"
    template: Identifier | None = None
    name: str = ""
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None
    hours: OpeningHours = Field(default="24h", description="24h or HH:MM-HH:MM (may pass midnight).")
    open_days: Annotated[list[Weekday], Field(min_length=1)] | None = Field(
        default=None, description="Weekdays the crossing opens (hours apply on those days); every day when omitted."
    )
    closed: list[Closure] = Field(default_factory=list)
    surface: Surface | None = Field(
        default=None, description="motorway, paved, unpaved, dirt, rail or river; from the mode when omitted."
    )
    season: NavigationSeason | None = Field(default=None, description="Shut outside this part of the year.")
    neutral_zone: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        default=None,
        description="Vehicles the zone between the posts holds; unlimited when omitted.",
    )
    source: str = ""
    sides: dict[SideName, Side] = Field(default_factory=lambda: {"a": Side(), "b": Side()})

    @field_validator("sides")
    @classmethod
    def _both_sides(cls, v: dict[str, Side]) -> dict[str, Side]:
        return {"a": v.get("a", Side()), "b": v.get("b", Side())}

    @property
    def road_surface(self) -> str:
        """The surface weather acts on: as given, else rail or river by mode, else paved."""
        if self.surface is not None:
            return self.surface
        return self.mode if self.mode in ("rail", "river") else "paved"


class CrossingTemplate(Crossing):
    """Settings many crossings share, checked like a crossing (without id and category) even when unused."""

    id: Identifier | None = None  # type: ignore[assignment]
    category: Category | None = None  # type: ignore[assignment]


HourProfile = Annotated[list[Weight], Field(min_length=24, max_length=24)]
WeekProfile = Annotated[list[Weight], Field(min_length=7, max_length=7)]


class Profiles(Strict):
    """Named demand shapes: relative weights, normalised so the daily volume is kept."""

    hourly: dict[Identifier, HourProfile] = Field(default_factory=dict)
    weekly: dict[Identifier, WeekProfile] = Field(default_factory=dict)


class Demand(Strict):
    """Arrivals of one flow at one crossing: a non-homogeneous Poisson process."""

    crossing: str
    flow: Identifier
    direction: Literal["a_to_b", "b_to_a", "both"] = "both"
    daily: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] | None = Field(
        default=None, description="Mean arrivals per day (in each direction when direction is both)."
    )
    times: list[NonNegDuration] | None = Field(
        default=None,
        min_length=1,
        max_length=10_000_000,
        description="Observed arrival times (a replayed trace) instead of a daily volume.",
    )
    service_times: dict[Identifier, list[NonNegDuration]] = Field(
        default_factory=dict,
        description="Observed service times per stage, one per arrival in times (a replayed trace); they "
        "replace the stage's distribution for these travellers wherever the stage runs.",
    )
    trace: str | None = Field(
        default=None,
        description="CSV file beside the scenario with column arrival_min (minutes from the start) and "
        "optional <stage>_min columns of service times; fills times and service_times.",
    )
    hourly: Identifier | HourProfile | None = None
    weekly: Identifier | WeekProfile | None = None
    during_hours: bool = Field(
        default=True,
        description="Travellers time their trips to the opening hours: no arrivals while the crossing is "
        "shut by its hours or days (closures still catch them). The week's volume is kept.",
    )
    source: str = ""

    @model_validator(mode="after")
    def _volume_or_times(self) -> Demand:
        if (self.daily is None) == (self.times is None):
            raise ValueError("give either daily (a volume) or times (observed arrivals), not both or neither")
        if self.times is not None and (self.hourly is not None or self.weekly is not None):
            raise ValueError("hourly and weekly profiles shape a daily volume; they do not apply to times")
        if self.service_times and self.times is None:
            raise ValueError("service_times replay a trace: they need times")
        for stage, values in self.service_times.items():
            if len(values) != len(self.times or []):
                raise ValueError(f"service_times.{stage} has {len(values)} values for {len(self.times or [])} arrivals")
        return self


class Limits(Strict):
    """Guards that stop a runaway run with a clear message before it exhausts memory."""

    max_in_system: Annotated[int, Field(ge=1, le=10**9)] = Field(
        default=2_000_000, description="Stop a replication when more travellers than this are inside at once."
    )
    max_arrivals: Annotated[int, Field(ge=1, le=10**10)] = Field(
        default=50_000_000, description="Refuse a replication expected to draw more arrivals than this."
    )


class Countries(Strict):
    a: str = "A"
    b: str = "B"


class Scenario(Strict):
    """A complete, validated scenario."""

    name: Identifier
    description: str = ""
    countries: Countries = Field(default_factory=Countries)
    horizon: PosDuration = Field(default=7 * 1440.0, description="Simulated time, e.g. '7 d'.")
    warmup: NonNegDuration = Field(default=1440.0, description="Discarded start, e.g. '1 d'.")
    replications: Annotated[int, Field(ge=1, le=100_000)] = 5
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 12345
    start_weekday: Weekday = "monday"
    start_date: datetime.date | None = Field(
        default=None, description="Calendar date of the start (ISO, 2023-10-02); sets start_weekday."
    )
    flows: dict[Identifier, Flow] = Field(min_length=1)
    stages: dict[Identifier, ControlStage] = Field(min_length=1)
    regimes: dict[Identifier, Regime] = Field(default_factory=dict)
    regime: RegimeChoice = Field(default_factory=RegimeChoice)
    profiles: Profiles = Field(default_factory=Profiles)
    crossing_templates: dict[Identifier, CrossingTemplate] = Field(default_factory=dict)
    crossings_csv: str | None = None
    crossing_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    crossings: list[Crossing] = Field(default_factory=list)
    demand_csv: str | None = None
    demand: list[Demand] = Field(default_factory=list)
    corridors_csv: str | None = None
    corridors: list[Corridor] = Field(default_factory=list)
    route_choice: RouteChoice = Field(default_factory=RouteChoice)
    diversion: Diversion | None = Field(default=None, description="Travellers on their way may switch crossing.")
    weather: list[Weather] = Field(default_factory=list)
    calendar: Calendar = Field(
        default_factory=Calendar, description="Seasons, growth and holidays of demand (needs start_date)."
    )
    episode_files: list[str] = Field(
        default_factory=list,
        description="YAML files beside the scenario, each with an episodes list; added to episodes.",
    )
    episodes: list[Episode] = Field(
        default_factory=list, description="Dated windows that change demand, checks or staffing, or close crossings."
    )
    equeue_files: list[str] = Field(
        default_factory=list,
        description="YAML files beside the scenario, each with an equeues list; added to equeues.",
    )
    equeues: list[EQueue] = Field(
        default_factory=list, description="Electronic queues: booked slots, priority quotas, waiting areas."
    )
    map_file: str | None = Field(
        default=None,
        description="A GeoJSON base map beside the scenario (border line, country outlines, approximate places "
        "of crossings without coordinates), drawn under the report's crossings.",
    )
    map: dict[str, Any] | None = Field(default=None, description="Set by the loader: the checked base map.")
    assumptions: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    costs: Costs | None = Field(
        default=None, description="Value of time, idle fuel and emissions per flow, each rate cited or assumed."
    )
    resolved_from: list[str] = Field(
        default_factory=list, description="Set by the loader: the files this scenario was assembled from."
    )

    @field_validator("map")
    @classmethod
    def _checked_map(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """A map written inline is checked as strictly as a map file."""
        if value is None:
            return None
        from sim.scenario.basemap import BasemapError, parse_basemap

        try:
            parse_basemap(value, "map")
        except BasemapError as err:
            raise ValueError(str(err).partition(": ")[2] or str(err)) from None
        return value

    @model_validator(mode="after")
    def _weekday_of_date(self) -> Scenario:
        if self.start_date is None:
            return self
        day = WEEKDAYS[self.start_date.weekday()]
        if "start_weekday" in self.model_fields_set and self.start_weekday != day:
            raise ValueError(f"start_weekday {self.start_weekday} contradicts start_date {self.start_date} (a {day})")
        object.__setattr__(self, "start_weekday", day)
        return self

    @field_validator("regime", mode="before")
    @classmethod
    def _regime_shorthand(cls, v: Any) -> Any:
        return {"default": v} if isinstance(v, str) else v

    def all_regimes(self) -> dict[str, Regime]:
        return {**BUILTIN_REGIMES, **self.regimes}

    def regime_of(self, crossing: Crossing) -> str:
        choice = self.regime
        if crossing.id in choice.by_crossing:
            return choice.by_crossing[crossing.id]
        return choice.by_category.get(crossing.category, choice.default)

    @property
    def days(self) -> float:
        return self.horizon / 1440.0
