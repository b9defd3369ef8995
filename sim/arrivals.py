"""Arrival times: a non-homogeneous Poisson process with a piecewise-constant hourly rate.

The rate in each hour is the daily volume shaped by the hour-of-day and day-of-week
profiles (each normalised to mean 1, so the daily volume is kept on average). Given the
total count, arrival points are independent with density proportional to the rate, so the
whole horizon is drawn in one block.
"""

from __future__ import annotations

import numpy as np

from sim.scenario import Crossing
from sim.staffing import open_fraction_by_hour
from sim.units import MINUTES_PER_HOUR


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


def arrival_times(rng: np.random.Generator, rates: np.ndarray, horizon: float) -> np.ndarray:
    """Sorted arrival times in minutes in [0, horizon) for hourly ``rates`` (per minute)."""
    edges = np.minimum(np.arange(len(rates) + 1) * MINUTES_PER_HOUR, horizon)
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


def follow_opening_hours(rates: np.ndarray, crossing: Crossing, start_weekday: int) -> np.ndarray:
    """Move demand out of the hours a crossing is shut into its open hours, week by week.

    Travellers who know the opening hours do not plan to arrive at a shut crossing. Within
    each week of the horizon the volume is kept and spread over the open hours in
    proportion to the profile there.
    """
    open_share = open_fraction_by_hour(crossing, len(rates), start_weekday)
    if (open_share == 1).all():
        return rates
    out = rates * open_share
    week = 168
    for start in range(0, len(rates), week):
        sl = slice(start, start + week)
        kept = out[sl].sum()
        if kept > 0:
            out[sl] *= rates[sl].sum() / kept
    return out
