"""Arrival times: a non-homogeneous Poisson process with a piecewise-constant hourly rate.

The rate in each hour is the daily volume shaped by the hour-of-day and day-of-week
profiles (each normalised to mean 1, so the daily volume is kept on average). Given the
total count, arrival points are independent with density proportional to the rate, so the
whole horizon is drawn in one block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.staffing import open_fraction_by_hour, open_mask
from sim.scenario.schema import Crossing
from sim.scenario.units import MINUTES_PER_HOUR


@dataclass(frozen=True)
class ArrivalPlan:
    """A non-homogeneous Poisson process (rates per minute between edges), or replayed times."""

    edges: np.ndarray | None
    rates: np.ndarray | None
    times: np.ndarray | None

    @property
    def expected(self) -> float:
        if self.times is not None:
            return float(len(self.times))
        assert self.edges is not None
        assert self.rates is not None
        return float(np.sum(self.rates * np.diff(self.edges)))


def profile_weights(value: str | list[float] | None, table: dict[str, list[float]]) -> list[float] | None:
    """A demand shape as weights: a named profile looked up in ``table``, or the weights given."""
    if value is None:
        return None
    return table[value] if isinstance(value, str) else list(value)


def hourly_rates(
    daily: float,
    hour_profile: list[float] | None,
    week_profile: list[float] | None,
    start_weekday: int,
    hours: int,
) -> np.ndarray:
    """Arrivals per minute in each hour of the horizon."""
    hp = np.ones(24) if hour_profile is None else np.asarray(hour_profile, dtype=float)
    wp = np.ones(7) if week_profile is None else np.asarray(week_profile, dtype=float)
    hp = hp / hp.mean()
    wp = wp / wp.mean()
    h = np.arange(hours)
    return daily / 1440.0 * hp[h % 24] * wp[(start_weekday + h // 24) % 7]


def hour_edges(hours: int, horizon: float) -> np.ndarray:
    """Edges (minutes) of the hours of the horizon, the last one cut at the horizon."""
    return np.minimum(np.arange(hours + 1) * MINUTES_PER_HOUR, horizon)


def arrival_times(rng: np.random.Generator, rates: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Sorted arrival times in minutes in [edges[0], edges[-1]) for ``rates`` (per minute) between ``edges``."""
    horizon = float(edges[-1])
    cum = np.concatenate(([0.0], np.cumsum(rates * np.diff(edges))))
    total = cum[-1]
    if total <= 0:
        return np.empty(0)
    n = rng.poisson(total)
    u = np.sort(rng.uniform(0.0, total, n))
    idx = np.searchsorted(cum, u, side="right") - 1
    idx = np.clip(idx, 0, len(rates) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = edges[idx] + (u - cum[idx]) / rates[idx]
    return np.minimum(t, np.nextafter(horizon, 0))


def follow_opening_hours(
    rates: np.ndarray, crossing: Crossing, start_weekday: int, horizon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Move demand out of the times a crossing is shut into its open times, week by week.

    Travellers who know the opening hours do not plan to arrive at a shut crossing. Within
    each week of the horizon the volume is kept and spread over the open time in proportion
    to the profile there. An hour that is open only in part (07:30-18:45) is split at the
    opening or closing minute, so its arrivals fall in its open minutes only. Returns the
    edges (minutes) and the rates (per minute) between them.
    """
    edges = hour_edges(len(rates), horizon)
    open_share = open_fraction_by_hour(crossing, len(rates), start_weekday)
    if (open_share == 1).all():
        return edges, rates
    out = rates * open_share
    scale = np.ones(len(rates))
    week = 168
    for start in range(0, len(rates), week):
        sl = slice(start, start + week)
        kept = out[sl].sum()
        if kept > 0:
            scale[sl] = rates[sl].sum() / kept
            out[sl] *= scale[sl]
    partial = np.flatnonzero((open_share > 0) & (open_share < 1))
    if not len(partial):
        return edges, out
    return _split_partial_hours(edges, out, rates * scale, partial, crossing, start_weekday)


def _split_partial_hours(
    edges: np.ndarray,
    rates: np.ndarray,
    open_rates: np.ndarray,
    partial: np.ndarray,
    crossing: Crossing,
    start_weekday: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Edges and rates with each partly open hour cut into its open and shut runs of minutes."""
    new_edges: list[np.ndarray] = []
    new_rates: list[np.ndarray] = []
    done = 0
    for h in partial:
        new_edges.append(edges[done:h])
        new_rates.append(rates[done:h])
        minutes = edges[h] + np.arange(60.0)
        is_open = open_mask(minutes + 0.5, crossing, start_weekday)
        cuts = np.flatnonzero(np.diff(is_open.astype(np.int8))) + 1
        starts = np.concatenate(([0], cuts))
        new_edges.append(np.minimum(minutes[starts], edges[h + 1]))
        new_rates.append(np.where(is_open[starts], open_rates[h], 0.0))
        done = h + 1
    new_edges.append(edges[done:])
    new_rates.append(rates[done:])
    return np.concatenate(new_edges), np.concatenate(new_rates)
