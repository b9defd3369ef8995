"""Weather episodes and navigation seasons, compiled to plain numbers and drawn per replication.

A weather process of the scenario becomes a ``WeatherProcess``: the crossings it closes
(resolved once, by road surface and region), its rate for each calendar month in episodes
per minute, the distribution of an episode's length and its fixed windows. Each
replication then draws the random episodes from the process's own stream, so adding,
removing or reordering other processes changes none of its draws.

Random starts form a non-homogeneous Poisson process whose rate is the month's rate. They
are drawn by inversion of the cumulative rate: unit exponential gaps on the cumulative
scale are mapped back to minutes. Each episode takes the next pair of uniforms from the
stream (its gap, its length), so a longer horizon only adds episodes after those of a
shorter one.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.distributions import PlainDistribution, compile_distribution
from sim.scenario.schema import Crossing, Scenario
from sim.scenario.weather import SEASON_OF_MONTH, NavigationSeason, Weather

MINUTES_PER_DAY = 1440.0
RATE_PERIOD = 30 * MINUTES_PER_DAY
"""The scenario's rates are episodes per 30 days; the model's are per minute."""


Loc = tuple[Any, ...]
Windows = list[tuple[float, float]]


@dataclass(frozen=True)
class WeatherProcess:
    """One weather process as the simulation needs it: no scenario objects, rates per minute."""

    id: str
    crossings: tuple[str, ...]
    monthly_rate: tuple[float, ...]
    duration: PlainDistribution | None
    fixed: tuple[tuple[float, float], ...]

    @property
    def seasonal(self) -> bool:
        """Whether the rate depends on the month, so that drawing needs a calendar."""
        return len(set(self.monthly_rate)) > 1


# -- compiling ---------------------------------------------------------------------------------
def monthly_rates(rate: float | dict[str, float]) -> tuple[float, ...]:
    """Episodes per minute for January to December; a season left out of a dict has none."""
    if isinstance(rate, dict):
        return tuple(float(rate.get(season, 0.0)) / RATE_PERIOD for season in SEASON_OF_MONTH)
    return (float(rate) / RATE_PERIOD,) * 12


def crossing_regions(crossing: Crossing) -> set[str]:
    """The region names of both sides, the names a weather process's ``regions`` refer to."""
    return {side.region for side in crossing.sides.values() if side.region}


def closes(weather: Weather, crossing: Crossing) -> bool:
    """Whether ``weather`` acts on ``crossing``: its surface is affected and it lies in a named region."""
    if crossing.road_surface not in weather.surfaces:
        return False
    return weather.regions is None or bool(crossing_regions(crossing) & set(weather.regions))


def compile_weather(scenario: Scenario) -> tuple[WeatherProcess, ...]:
    """Every weather process of ``scenario`` with the crossings it closes and its rates per minute.

    A per-season rate without a start date cannot be placed in the calendar; the loader
    reports it (``check_weather``), and this refuses it for scenarios built another way.
    """
    processes = []
    for weather in scenario.weather:
        if isinstance(weather.rate, dict) and scenario.start_date is None:
            raise ValueError(f"weather {weather.id!r} has a rate per season: the scenario needs a start_date")
        processes.append(
            WeatherProcess(
                id=weather.id,
                crossings=tuple(c.id for c in scenario.crossings if closes(weather, c)),
                monthly_rate=monthly_rates(weather.rate),
                duration=None if weather.duration is None else compile_distribution(weather.duration),
                fixed=tuple((float(w.start), float(w.end)) for w in weather.episodes),
            )
        )
    return tuple(processes)


# -- checking ----------------------------------------------------------------------------------
def check_weather(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Problems of the weather and seasons that the schema cannot see, as (field location, message)."""
    problems: list[tuple[Loc, str]] = []
    known = set().union(*(crossing_regions(c) for c in scenario.crossings))
    for i, weather in enumerate(scenario.weather):
        if isinstance(weather.rate, dict) and scenario.start_date is None:
            problems.append(
                (("weather", i, "rate"), "a rate per season needs the scenario's start_date (which months are which)")
            )
        unknown = _unknown_regions(i, weather, known)
        problems += unknown
        if not unknown and scenario.crossings and not any(closes(weather, c) for c in scenario.crossings):
            problems.append((("weather", i, "surfaces"), _closes_nothing(weather, scenario.crossings)))
    if scenario.start_date is None:
        for i, crossing in enumerate(scenario.crossings):
            if crossing.season is not None:
                problems.append(
                    (("crossings", i, "season"), "a navigation season needs the scenario's start_date (the calendar)")
                )
    return problems


def _unknown_regions(i: int, weather: Weather, known: set[str]) -> list[tuple[Loc, str]]:
    """Region names no crossing has: most likely a typo, which would silently close nothing."""
    found = []
    for j, name in enumerate(weather.regions or ()):
        if name in known:
            continue
        text = ", ".join(sorted(known)) if known else "no crossing names a region (sides.a.region, sides.b.region)"
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        found.append((("weather", i, "regions", j), f"no crossing is in region {name!r} (regions: {text}){hint}"))
    return found


def _closes_nothing(weather: Weather, crossings: Sequence[Crossing]) -> str:
    """Why a process closes no crossing: the surfaces there are, so the author sees the mismatch."""
    where = (
        crossings if weather.regions is None else [c for c in crossings if crossing_regions(c) & set(weather.regions)]
    )
    present = ", ".join(sorted({c.road_surface for c in where}))
    place = "on the border" if weather.regions is None else "in regions " + ", ".join(weather.regions)
    return (
        f"closes no crossing: no crossing {place} has surface {', '.join(weather.surfaces)} "
        f"(surfaces there: {present or 'none'})"
    )


# -- the calendar ------------------------------------------------------------------------------
def _month_starts(start_date: datetime.date, horizon: float) -> Iterator[tuple[float, int]]:
    """(minute, month index 0-11) at time 0 and at each first of a month before the horizon."""
    yield 0.0, start_date.month - 1
    year, month = start_date.year, start_date.month
    while True:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        at = (datetime.date(year, month, 1) - start_date).days * MINUTES_PER_DAY
        if at >= horizon:
            return
        yield at, month - 1


def rate_segments(
    process: WeatherProcess, horizon: float, start_date: datetime.date | None
) -> tuple[np.ndarray, np.ndarray]:
    """(edges, rates): the rate per minute is ``rates[k]`` from ``edges[k]`` to ``edges[k + 1]``."""
    if start_date is None:
        if process.seasonal:
            raise ValueError(f"weather {process.id!r} has a rate by month: drawing it needs a start date")
        return np.array([0.0, horizon]), np.array(process.monthly_rate[:1])
    starts = list(_month_starts(start_date, horizon))
    edges = np.array([at for at, _ in starts] + [horizon])
    return edges, np.array([process.monthly_rate[m] for _, m in starts])


def merge_windows(windows: Iterable[tuple[float, float]]) -> Windows:
    """The union of ``windows`` as sorted, disjoint, non-touching windows; empty ones are dropped."""
    merged: Windows = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# -- navigation seasons ------------------------------------------------------------------------
def _day_in(year: int, month_day: str) -> datetime.date:
    """The date of "MM-DD" in ``year``; 29 February is 1 March in a common year."""
    month, day = (int(p) for p in month_day.split("-"))
    if (month, day) == (2, 29) and not _leap(year):
        return datetime.date(year, 3, 1)
    return datetime.date(year, month, day)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def season_closures(season: NavigationSeason, start_date: datetime.date, horizon: float) -> list[tuple[float, float]]:
    """Minutes when a crossing is out of season: from ``close`` (00:00) to the next ``open`` (00:00).

    Every year the horizon touches is covered, including a closure that began the year
    before the start (a winter across new year), clipped to [0, horizon].
    """
    end_year = start_date.year + int(horizon // (365 * MINUTES_PER_DAY)) + 1
    windows: Windows = []
    for year in range(start_date.year - 1, end_year + 1):
        shut = _day_in(year, season.close)
        reopen = _day_in(year if season.open > season.close else year + 1, season.open)
        start = (shut - start_date).days * MINUTES_PER_DAY
        end = (reopen - start_date).days * MINUTES_PER_DAY
        windows.append((max(start, 0.0), min(end, horizon)))
    return merge_windows(windows)
