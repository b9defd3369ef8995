"""Demand over calendar time: seasonal factors, growth, holidays and episodes, hour by hour.

A source's arrival rate in each hour of the horizon is its average day shaped by the hour
and weekday profiles (``sim.model.arrivals``); here it is multiplied by a factor per hour
from the scenario's calendar and its episodes, for the travellers they concern. Seasons,
growth and holidays change from day to day; an episode may start within an hour, and then
multiplies that hour by the share of it the episode covers, so the expected count stays
right. Sources no factor concerns get ``None`` and keep their rates untouched.
"""

from __future__ import annotations

import datetime

import numpy as np

from sim.scenario.calendar import Calendar, Episode, Holiday, Seasonal, moment_minutes
from sim.scenario.units import MINUTES_PER_HOUR

DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def day_dates(start: datetime.date, days: int) -> list[datetime.date]:
    return [start + datetime.timedelta(days=d) for d in range(days)]


def seasonal_by_day(entry: Seasonal, dates: list[datetime.date]) -> np.ndarray:
    """Each day's seasonal factor: by month, or by ISO week (the 53rd takes the 52nd's when not given)."""
    if entry.monthly is not None:
        w = np.asarray(entry.monthly, dtype=float)
        if entry.normalise:
            w = w / (np.sum(w * DAYS_IN_MONTH) / DAYS_IN_MONTH.sum())
        return w[[d.month - 1 for d in dates]]
    assert entry.weekly is not None
    w = np.asarray(entry.weekly, dtype=float)
    if entry.normalise:
        w = w / w.mean()
    weeks = np.array([d.isocalendar()[1] for d in dates]) - 1
    return w[np.minimum(weeks, len(w) - 1)]


def growth_by_day(per_year: float, base: datetime.date, dates: list[datetime.date]) -> np.ndarray:
    """``(1 + per_year)`` to the power of the years between ``base`` and each day."""
    years = np.array([(d - base).days for d in dates], dtype=float) / 365.25
    return np.power(1.0 + per_year, years)


def holiday_days(holiday: Holiday, dates: list[datetime.date]) -> np.ndarray:
    """Whether each day is one of the holiday's days (dated once, or every year for MM-DD)."""
    if not dates:
        return np.zeros(0, dtype=bool)
    if len(holiday.date) == 10:
        firsts = [datetime.date.fromisoformat(holiday.date)]
    else:
        month, day = (int(p) for p in holiday.date.split("-"))
        firsts = []
        for year in range(dates[0].year - 1, dates[-1].year + 1):
            try:
                firsts.append(datetime.date(year, month, day))
            except ValueError:  # 29 February in a common year: the holiday falls on 1 March
                firsts.append(datetime.date(year, 3, 1))
    out = np.zeros(len(dates), dtype=bool)
    origin = dates[0]
    for first in firsts:
        a = (first - origin).days
        lo, hi = max(a, 0), min(a + holiday.days, len(dates))
        if lo < hi:
            out[lo:hi] = True
    return out


def window_cover(start: float, end: float, hours: int) -> np.ndarray:
    """Share of each hour of the horizon that lies in [start, end)."""
    edges = np.arange(hours + 1) * MINUTES_PER_HOUR
    lo = np.clip(edges[:-1], start, end)
    hi = np.clip(edges[1:], start, end)
    return (hi - lo) / MINUTES_PER_HOUR


def episode_window(episode: Episode, start_date: datetime.date | None) -> tuple[float, float]:
    """An episode's window in minutes from the start of the run."""
    return moment_minutes(episode.start, start_date), moment_minutes(episode.end, start_date, end=True)


def demand_factors(
    calendar: Calendar,
    episodes: list[Episode],
    start_date: datetime.date | None,
    hours: int,
    crossing: str,
    direction: str,
    flow: str,
) -> np.ndarray | None:
    """The factor of each hour of the horizon for one crossing, direction and flow; None when all 1."""
    days = int(np.ceil(hours / 24))
    by_day: np.ndarray | None = None
    if start_date is not None and not calendar.empty:
        dates = day_dates(start_date, days)
        by_day = np.ones(days)
        touched = False
        for entry in calendar.seasonal:
            if entry.covers(crossing, direction, flow):
                by_day *= seasonal_by_day(entry, dates)
                touched = True
        for g in calendar.growth:
            if g.covers(crossing, direction, flow):
                by_day *= growth_by_day(g.per_year, g.base or start_date, dates)
                touched = True
        for h in calendar.holidays:
            if h.covers(crossing, direction, flow):
                by_day = np.where(holiday_days(h, dates), by_day * h.factor, by_day)
                touched = True
        if not touched:
            by_day = None
    by_hour = None if by_day is None else np.repeat(by_day, 24)[:hours]
    for episode in episodes:
        if episode.demand is None or not episode.covers(crossing, direction, flow):
            continue
        a, b = episode_window(episode, start_date)
        cover = window_cover(a, b, hours)
        if not cover.any():
            continue
        factor = 1.0 + (episode.demand - 1.0) * cover
        by_hour = factor if by_hour is None else by_hour * factor
    return by_hour
