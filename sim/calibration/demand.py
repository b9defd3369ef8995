"""Arrivals: how many vehicles a day, and how they spread over the hours of the day and the week.

The scenario format draws arrivals as a Poisson process whose rate is the daily volume times
an hour-of-day weight times a weekday weight, each profile scaled to mean 1. The estimates
here are that model's maximum-likelihood ones: arrivals per observed day, and the counts in
each hour of the day (and on each weekday, per time that weekday was observed) scaled to
mean 1. Observations are taken to cover whole days, from the first day with an arrival to
the last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.calibration.observations import Observations, Vehicle


@dataclass(frozen=True)
class Arrivals:
    """The demand of one crossing, direction and flow, as the scenario format writes it."""

    crossing: str
    direction: str
    flow: str
    count: int
    days: float
    daily: float
    daily_interval: tuple[float, float]
    """95% interval of the daily volume: Garwood's exact Poisson interval of the count, over the days."""
    hourly: list[float]
    weekly: list[float] | None
    """None when some weekday was never observed: its weight would be a guess."""

    @property
    def profile(self) -> str:
        """The name of this entry's profiles in the fragment (a scenario identifier, at most 120 characters)."""
        name = f"{self.crossing}_{self.direction}_{self.flow}"
        return name if len(name) <= 120 else f"{self.crossing[:60]}_{self.direction}_{self.flow[:50]}"


def poisson_interval(count: int, level: float = 0.95) -> tuple[float, float]:
    """Garwood's exact interval for the mean of a Poisson count."""
    alpha = 1 - level
    low = 0.0 if count == 0 else float(stats.chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return low, high


def _to_mean_one(counts: np.ndarray) -> list[float]:
    return [float(c) for c in counts / counts.mean()]


def arrivals(obs: Observations, days: float | None = None) -> list[Arrivals]:
    """One entry per crossing x direction x flow seen; ``days`` overrides the observed length for the volume."""
    groups: dict[tuple[str, str, str], list[Vehicle]] = {}
    for v in obs.vehicles:
        groups.setdefault((v.crossing, v.direction, v.flow), []).append(v)
    span = float(days) if days is not None else float(obs.days)
    seen = np.asarray(obs.weekdays_observed(), dtype=float)
    out = []
    for (crossing, direction, flow), vehicles in sorted(groups.items()):
        count = len(vehicles)
        low, high = poisson_interval(count)
        hours = np.bincount([v.hour for v in vehicles], minlength=24).astype(float)
        weekly = None
        if np.all(seen > 0):
            per_day = np.bincount([v.weekday for v in vehicles], minlength=7) / seen
            weekly = _to_mean_one(per_day)
        out.append(
            Arrivals(
                crossing,
                direction,
                flow,
                count,
                span,
                count / span,
                (low / span, high / span),
                _to_mean_one(hours),
                weekly,
            )
        )
    return out
