"""The line at each hour of the day: how many travellers wait, on average, from the visit records.

Both the report's day profile and ``optimise``'s choice of the hour to staff ask "how long is the
line at 14:00?"; this is the one answer. A visit waits from entering a pool to starting service
(one still waiting at the horizon waits until it). The waiting time falling in each hour of the
window is summed exactly (the partial first and last hour of each wait, then whole hours), folded
onto the 24 hours of the day, and divided by the minutes of that hour observed over all
replications: the time-average number waiting.
"""

from __future__ import annotations

import math

import numpy as np

HOURS_OF_DAY = 24


def waiting_by_hour_of_day(
    enter: np.ndarray, start: np.ndarray, warmup: float, horizon: float, replications: int
) -> np.ndarray:
    """Mean number waiting at each hour of the day over [warmup, horizon), ``replications`` runs together.

    ``enter`` and ``start`` are minutes from the start of each run (``start`` NaN: never started).
    An hour of the day never observed is NaN.
    """
    enter = np.clip(np.asarray(enter, dtype=float), warmup, horizon)
    start = np.asarray(start, dtype=float)
    start = np.clip(np.where(np.isnan(start), horizon, start), warmup, horizon)
    keep = start > enter
    enter, start = enter[keep], start[keep]
    hours = max(1, int(math.ceil(horizon / 60.0)))
    # waiting time falling in each absolute hour: the partial first and last hours of each
    # wait, plus 60 minutes for every whole hour in between (a difference array)
    edges = np.arange(hours + 1) * 60.0
    area = np.zeros(hours)
    first = np.minimum((enter // 60).astype(int), hours - 1)
    last = np.minimum((start // 60).astype(int), hours - 1)
    same = first == last
    np.add.at(area, first[same], (start - enter)[same])
    diff = ~same
    np.add.at(area, first[diff], edges[first[diff] + 1] - enter[diff])
    np.add.at(area, last[diff], start[diff] - edges[last[diff]])
    cover = np.zeros(hours + 1)
    np.add.at(cover, first[diff] + 1, 1)
    np.add.at(cover, last[diff], -1)
    area += np.cumsum(cover)[:hours] * 60.0
    observed = np.clip(edges[1:], warmup, horizon) - np.clip(edges[:-1], warmup, horizon)
    by_hour = np.zeros(HOURS_OF_DAY)
    minutes = np.zeros(HOURS_OF_DAY)
    np.add.at(by_hour, np.arange(hours) % HOURS_OF_DAY, area)
    np.add.at(minutes, np.arange(hours) % HOURS_OF_DAY, observed * max(1, replications))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(minutes > 0, by_hour / minutes, np.nan)
