"""Server schedules: shifts by hour of day, opening hours and closures, as capacity changes.

A SimPy ``Resource`` cannot change its capacity, so each server pool here is told its new
capacity at the moments it changes. Servers already busy finish their traveller when the
capacity drops (no pre-emption); no service starts while a crossing is closed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sim.scenario.schema import WEEKDAYS, Crossing
from sim.scenario.units import MINUTES_PER_DAY, parse_clock


def _open_mask(
    times: np.ndarray, hours: str, open_days: tuple[int, ...] | None = None, start_weekday: int = 0
) -> np.ndarray:
    """Whether the crossing is open by its hours and days at each of ``times``."""
    if hours == "24h":
        mask = np.ones(len(times), dtype=bool)
    else:
        start_s, end_s = hours.split("-")
        start, end = parse_clock(start_s), parse_clock(end_s)
        tod = np.mod(times, MINUTES_PER_DAY)
        mask = (tod >= start) & (tod < end) if start < end else (tod >= start) | (tod < end)
        if start > end and open_days is not None:
            # a night shift belongs to the day it starts: after midnight, look at the day before
            day = (start_weekday + np.floor_divide(times, MINUTES_PER_DAY).astype(np.int64)) % 7
            day = np.where(tod < end, (day - 1) % 7, day)
            return mask & np.isin(day, open_days)
    if open_days is not None:
        day = (start_weekday + np.floor_divide(times, MINUTES_PER_DAY).astype(np.int64)) % 7
        mask = mask & np.isin(day, open_days)
    return mask


def open_fraction_by_hour(crossing: Crossing, hours: int, start_weekday: int) -> np.ndarray:
    """Share of each hour of the horizon during which the crossing is open by its hours and days."""
    if crossing.hours == "24h" and crossing.open_days is None:
        return np.ones(hours)
    minutes = np.arange(hours * 60, dtype=float) + 0.5
    return open_mask(minutes, crossing, start_weekday).reshape(hours, 60).mean(axis=1)


def open_mask(times: np.ndarray, crossing: Crossing, start_weekday: int) -> np.ndarray:
    """Whether the crossing is open by its hours and days at each of ``times`` (minutes)."""
    return _open_mask(times, crossing.hours, _open_days(crossing), start_weekday)


def _open_days(crossing: Crossing) -> tuple[int, ...] | None:
    if crossing.open_days is None:
        return None
    return tuple(sorted(WEEKDAYS.index(d) for d in crossing.open_days))


def capacity_schedule(
    by_hour: tuple[int, ...], crossing: Crossing, horizon: float, start_weekday: int = 0
) -> tuple[int, list[float], list[int]]:
    """(capacity at time 0, times of later changes, capacities from those times)."""
    closed = tuple((c.start, c.end) for c in crossing.closed)
    return _schedule(by_hour, crossing.hours, _open_days(crossing), start_weekday, closed, horizon)


@lru_cache(maxsize=4096)
def _schedule(
    by_hour: tuple[int, ...],
    hours: str,
    open_days: tuple[int, ...] | None,
    start_weekday: int,
    closed: tuple[tuple[float, float], ...],
    horizon: float,
) -> tuple[int, list[float], list[int]]:
    caps_by_hour = np.asarray(by_hour, dtype=np.int64)
    if hours == "24h" and open_days is None and not closed and (caps_by_hour == caps_by_hour[0]).all():
        return int(caps_by_hour[0]), [], []
    points = [np.arange(0.0, horizon, 60.0)]
    if hours != "24h":
        start_s, end_s = hours.split("-")
        days = np.arange(0.0, horizon + MINUTES_PER_DAY, MINUTES_PER_DAY)
        points += [days + parse_clock(start_s), days + parse_clock(end_s)]
    for a, b in closed:
        points.append(np.array([a, b]))
    times = np.unique(np.concatenate(points))
    times = times[(times >= 0) & (times < horizon)]
    caps = caps_by_hour[(times // 60).astype(np.int64) % 24]
    caps = np.where(_open_mask(times, hours, open_days, start_weekday), caps, 0)
    for a, b in closed:
        caps = np.where((times >= a) & (times < b), 0, caps)
    change = np.concatenate(([True], caps[1:] != caps[:-1]))
    times, caps = times[change], caps[change]
    return int(caps[0]), times[1:].tolist(), caps[1:].tolist()


def available_server_minutes(initial: int, times: list[float], caps: list[int], start: float, end: float) -> float:
    """Integral of the capacity over [start, end): the server time a pool offers."""
    edges = np.concatenate(([0.0], np.asarray(times, dtype=float), [np.inf]))
    values = np.concatenate(([initial], np.asarray(caps, dtype=float)))
    lo = np.clip(edges[:-1], start, end)
    hi = np.clip(edges[1:], start, end)
    return float(np.sum(values * (hi - lo)))
