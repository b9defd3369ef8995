"""Numbers and names as a non-specialist reads them: countries, directions, units, durations, changes.

A report is read by people who never saw the scenario file: ``a_to_b`` becomes
"Kazakhstan → Russia", 2,880 minutes becomes "2.0 days", and a change is given as a
percentage only where the baseline is large enough for a percentage to mean something (a
wait going from 0.01 to 4 minutes is "+4.0 min", not "+39,900%"). Counts of different units
(vehicles, persons, trains, vessels) are labelled so that no table or chart adds them up.
"""

from __future__ import annotations

import math

import pandas as pd

UNIT_WORDS = {
    "vehicle": ("vehicle", "vehicles"),
    "person": ("person", "persons"),
    "train": ("train", "trains"),
    "vessel": ("vessel", "vessels"),
}
"""Singular and plural of each unit a flow may be counted in."""

KPI_NAMES = {
    "arrivals": "arrivals",
    "completed": "travellers who completed",
    "in_system_at_end": "travellers still inside at the end",
    "throughput_per_day": "throughput per day",
    "persons_per_day": "persons crossing per day",
    "wagons_per_day": "wagons crossing per day",
    "wait_mean_min": "mean wait",
    "wait_p50_min": "median wait",
    "wait_p90_min": "90th-percentile wait",
    "wait_p95_min": "95th-percentile wait",
    "wait_max_min": "longest wait",
    "time_in_system_mean_min": "mean time at the border",
    "delay_vehicle_hours_per_day": "vehicle-hours of delay per day",
    "delay_person_hours_per_day": "person-hours of delay per day",
    "delay_value_per_day": "value of the time lost per day",
    "idle_fuel_l_per_day": "fuel burnt idling per day",
    "co2_kg_per_day": "CO2 emitted per day",
    "pm25_g_per_day": "PM2.5 emitted per day",
}
"""KPIs as a sentence names them, in every page that names one."""


def kpi_name(kpi: str) -> str:
    """A KPI's name in a sentence ("95th-percentile wait"); one not listed, by its identifier in words."""
    return KPI_NAMES.get(kpi, kpi.replace("_", " "))


UNIT_ORDER = ("vehicle", "person", "train", "vessel")

NEAR_ZERO = {"min": 1.0, "per_day": 1.0}
"""Below these baselines (minutes, counts per day) a percentage change is not shown: a change
from almost nothing is a huge percentage that says nothing; the absolute difference says it."""


def direction_label(direction: str, countries: tuple[str, str]) -> str:
    """``a_to_b`` as "Kazakhstan → Russia"; the totals row as "both directions"."""
    a, b = countries
    return {"a_to_b": f"{a} → {b}", "b_to_a": f"{b} → {a}", "ALL": "both directions"}.get(direction, direction)


def side_label(side: str, countries: tuple[str, str]) -> str:
    """Side ``a`` or ``b`` as its country's name."""
    return {"a": countries[0], "b": countries[1]}.get(side, side)


def flow_label(flow: str) -> str:
    """A flow's identifier as words (``resident_car`` → "resident car"); the totals row as "all flows"."""
    return "all flows" if flow == "ALL" else flow.replace("_", " ")


def plural_flow(flow: str) -> str:
    """A flow's name as a plural noun for sentences ("truck" → "trucks", "bus" → "buses")."""
    words = flow_label(flow)
    if words.endswith(("s", "x", "ch", "sh")):
        return words + "es"
    return words + "s"


def unit_of(flow: str, units: dict[str, str]) -> str:
    """The unit a flow is counted in; ``mixed`` for the totals row, which adds up flows of every unit."""
    if flow == "ALL":
        return "mixed"
    return units.get(flow, "vehicle")


def per_day(unit: str) -> str:
    """The heading of a count per day in ``unit`` ("vehicles per day")."""
    return f"{UNIT_WORDS.get(unit, (unit, unit + 's'))[1]} per day"


def duration(minutes: float, signed: bool = False) -> str:
    """Minutes as a reader says them: "13 min", "4.8 h", "2.3 days" (sign kept when ``signed``)."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return "–"
    sign = ("+" if minutes > 0 else "−" if minutes < 0 else "±") if signed else ("−" if minutes < 0 else "")
    m = abs(float(minutes))
    if m < 10:
        text = f"{m:.1f} min"
    elif m < 120:
        text = f"{m:.0f} min"
    elif m < 2 * 1440:
        text = f"{m / 60:.1f} h"
    else:
        text = f"{m / 1440:.1f} days"
    return sign + text


def count(value: float, signed: bool = False) -> str:
    """A count per day: whole numbers above 100, one decimal below."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{abs(value):,.0f}" if abs(value) >= 100 else f"{abs(value):,.1f}"
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ("−" if value < 0 else "")
    return sign + text


def metric_kind(metric: str) -> str:
    """``min`` for times, ``per_day`` for counts per day."""
    return "min" if metric.endswith("_min") else "per_day"


def amount(value: float, metric: str, signed: bool = False) -> str:
    """A metric's value as words: a duration or a count."""
    return duration(value, signed) if metric_kind(metric) == "min" else count(value, signed)


def percent_change(baseline: float, diff: float, metric: str) -> str:
    """The change in percent, or why it is not given (no baseline, or one too near zero)."""
    if pd.isna(baseline) or pd.isna(diff):
        return "–"
    if abs(baseline) < NEAR_ZERO[metric_kind(metric)]:
        return "– (baseline near 0)"
    share = 100.0 * diff / baseline
    text = f"{abs(share):,.0f}%" if abs(share) >= 10 else f"{abs(share):.1f}%"
    return ("+" if share > 0 else "−" if share < 0 else "±") + text


NEGLIGIBLE = {"min": 0.05, "per_day": 0.5}
"""Differences whose whole interval lies within these bounds are shown as "practically none"."""


def negligible(diff: float, low: float, high: float, metric: str) -> bool:
    """True when a difference and its interval all round to nothing at the precision shown."""
    bound = NEGLIGIBLE[metric_kind(metric)]
    values = [v for v in (diff, low, high) if not pd.isna(v)]
    return bool(values) and all(abs(v) < bound for v in values)


def interval(low: float, high: float, metric: str) -> str:
    """A 95% interval of a difference, "[+4.6 h, +5.0 h]"; a dash without one."""
    if pd.isna(low) or pd.isna(high):
        return "–"
    return f"[{amount(low, metric, True)}, {amount(high, metric, True)}]"
