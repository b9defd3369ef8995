"""Road surfaces, weather episodes and navigation seasons in the author's format.

A weather process closes the crossings whose road surface it affects, border-wide or in
named regions, in episodes: fixed windows (a dated storm, a flood) and random ones that
start at a rate per season (episodes per 30 days) and last a drawn duration. River
crossings may have a navigation season. The episodes are drawn per replication by
``sim.model.weather`` and applied by the capacity source ``sim.policies.weather``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from sim.scenario.distributions import Distribution, NonNegDuration
from sim.scenario.schema_base import Identifier, Strict

Surface = Literal["motorway", "paved", "unpaved", "dirt", "rail", "river"]
SURFACES: tuple[str, ...] = Surface.__args__  # type: ignore[attr-defined]
Season = Literal["winter", "spring", "summer", "autumn"]
SEASONS: tuple[str, ...] = Season.__args__  # type: ignore[attr-defined]
SEASON_OF_MONTH: tuple[str, ...] = ("winter",) * 2 + ("spring",) * 3 + ("summer",) * 3 + ("autumn",) * 3 + ("winter",)
"""Meteorological seasons, January first: winter is December to February."""

Rate = Annotated[float, Field(ge=0, le=1_000, allow_inf_nan=False)]
"""Episodes per 30 days."""


def _month_day(value: Any) -> Any:
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})\s*", value)
        if not m:
            raise ValueError(f"cannot read {value!r} as a day of the year; write MM-DD, e.g. 04-15")
        month, day = int(m.group(1)), int(m.group(2))
        days = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
        if not 1 <= month <= 12 or not 1 <= day <= days[month - 1]:
            raise ValueError(f"{value!r} is not a day of the year (MM-DD)")
        return f"{month:02d}-{day:02d}"
    return value


MonthDay = Annotated[str, BeforeValidator(_month_day)]


class NavigationSeason(Strict):
    """The part of the year a crossing works (a river ferry): shut from ``close`` to ``open``."""

    open: MonthDay
    close: MonthDay

    @model_validator(mode="after")
    def _differ(self) -> NavigationSeason:
        if self.open == self.close:
            raise ValueError("open and close are the same day: the season would be empty or the whole year")
        return self


class Window(Strict):
    """A fixed episode: from ``start`` to ``end`` (durations from the start of the run)."""

    start: NonNegDuration
    end: NonNegDuration

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Weather(Strict):
    """Episodes of weather that close the crossings of some road surfaces.

    ``rate`` is episodes per 30 days: one number for the whole year, or one per season
    (meteorological: winter is December to February; needs the scenario's ``start_date``).
    ``regions`` are region names of either side of the catalogue (``sides.a.region``,
    ``sides.b.region``); the whole border when omitted.
    """

    id: Identifier
    description: str = ""
    surfaces: Annotated[list[Surface], Field(min_length=1)] = Field(default_factory=lambda: ["unpaved", "dirt"])
    regions: list[str] | None = None
    rate: Rate | dict[Season, Rate] = 0.0
    duration: Distribution | None = Field(default=None, description="How long a random episode lasts.")
    episodes: list[Window] = Field(default_factory=list, description="Fixed episodes.")
    source: str = ""

    @model_validator(mode="after")
    def _duration_for_rate(self) -> Weather:
        rates = self.rate.values() if isinstance(self.rate, dict) else [self.rate]
        if any(r > 0 for r in rates) and self.duration is None:
            raise ValueError("random episodes (rate above 0) need a duration")
        return self
