"""Durations with units.

Every time inside bordersim is in minutes: a passport check is "90 s", a horizon is "7 d",
and scenario authors should be able to write either as they think of it.
"""

from __future__ import annotations

import math
import re

MINUTES_PER_DAY = 1440.0
MINUTES_PER_HOUR = 60.0

_UNITS: dict[str, float] = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "second": 1 / 60,
    "seconds": 1 / 60,
    "min": 1.0,
    "minute": 1.0,
    "minutes": 1.0,
    "h": 60.0,
    "hour": 60.0,
    "hours": 60.0,
    "d": 1440.0,
    "day": 1440.0,
    "days": 1440.0,
    "w": 10080.0,
    "week": 10080.0,
    "weeks": 10080.0,
}
"""The units a duration may carry, exactly as written: ``m`` (minutes? months? metres?), ``M`` and
informal spellings such as ``mins`` or ``hrs`` are refused rather than guessed."""

MAX_DURATION = 3660 * MINUTES_PER_DAY
"""Ten years, the longest horizon: no time in a scenario needs more, and a bound here keeps
``1e308`` from validating and then overflowing in the model."""

_PATTERN = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_duration(value: object) -> float:
    """Return ``value`` in minutes: a bare number is minutes, a string may carry a unit.

    Raises ``ValueError`` with a message meant for a scenario author.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5, '90 s', '2 min' or '1.5 h', got a boolean")
    if isinstance(value, (int, float)):
        minutes = float(value)
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if not match:
            raise ValueError(f"cannot read {value!r} as a duration; write e.g. 5, '90 s', '2 min', '1.5 h', '7 d'")
        number, unit = match.groups()
        unit = unit or "min"
        if unit not in _UNITS:
            raise ValueError(f"unknown time unit {unit!r} in {value!r}; use s, min, h, d or w{_unit_hint(unit)}")
        minutes = float(number) * _UNITS[unit]
    else:
        raise ValueError(f"expected a duration such as 5 or '2 min', got {type(value).__name__}")
    if not math.isfinite(minutes):
        raise ValueError("must be a finite duration")
    if abs(minutes) > MAX_DURATION:
        raise ValueError(f"must be at most {MAX_DURATION / MINUTES_PER_DAY:g} d (ten years)")
    return minutes


def _unit_hint(unit: str) -> str:
    """A 'did you mean' for a near-miss unit (``mins``, ``hrs``, ``Min``)."""
    import difflib

    close = difflib.get_close_matches(unit.lower(), list(_UNITS), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_clock(value: str) -> float:
    """Return the minute of the day for ``HH:MM`` (``24:00`` is the end of the day)."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not match:
        raise ValueError(f"cannot read {value!r} as a time of day; write HH:MM, e.g. 08:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes > 0):
        raise ValueError(f"{value!r} is not a time of day between 00:00 and 24:00")
    return hours * 60.0 + minutes
