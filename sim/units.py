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
    "secs": 1 / 60,
    "second": 1 / 60,
    "seconds": 1 / 60,
    "m": 1.0,
    "min": 1.0,
    "mins": 1.0,
    "minute": 1.0,
    "minutes": 1.0,
    "h": 60.0,
    "hr": 60.0,
    "hrs": 60.0,
    "hour": 60.0,
    "hours": 60.0,
    "d": 1440.0,
    "day": 1440.0,
    "days": 1440.0,
    "w": 10080.0,
    "week": 10080.0,
    "weeks": 10080.0,
}

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
        unit = unit.lower() or "min"
        if unit not in _UNITS:
            raise ValueError(f"unknown time unit {unit!r} in {value!r}; use s, min, h, d or w")
        minutes = float(number) * _UNITS[unit]
    else:
        raise ValueError(f"expected a duration such as 5 or '2 min', got {type(value).__name__}")
    if not math.isfinite(minutes):
        raise ValueError("must be a finite duration")
    return minutes


def parse_clock(value: str) -> float:
    """Return the minute of the day for ``HH:MM`` (``24:00`` is the end of the day)."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
    if not match:
        raise ValueError(f"cannot read {value!r} as a time of day; write HH:MM, e.g. 08:00")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes > 0):
        raise ValueError(f"{value!r} is not a time of day between 00:00 and 24:00")
    return hours * 60.0 + minutes
