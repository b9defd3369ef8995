"""Costs of delay: hours lost in queues, their value, and the fuel, CO2 and PM2.5 of idling engines.

Per crossing x direction x flow and replication, from the completed travellers' waits (the
same waits as ``wait_mean_min``: queueing, blocking at a full neutral zone and waiting for a
shut crossing), per day of the observation window:

- ``delay_vehicle_hours_per_day``: the waits summed, in hours; one per traveller of the flow
  (a vehicle, a train, a vessel, or a pedestrian);
- ``delay_person_hours_per_day``: each wait times the persons aboard; NaN for freight trains,
  whose occupancy counts wagons;
- ``delay_value_per_day``: vehicle-hours x value per vehicle-hour + person-hours x value per
  person-hour (each term only where its rate is given);
- ``idle_fuel_l_per_day``: vehicle-hours x idling share x litres per hour idling;
- ``co2_kg_per_day``: that fuel x kg of CO2 per litre;
- ``pm25_g_per_day``: vehicle-hours x idling share x grams of PM2.5 per hour idling.

A flow without a rate has no figure of that kind (NaN), not a figure of 0; a total row adds
the groups that have one. Every total row (per crossing, per flow, the whole border) is the
sum of its groups' figures, never recomputed. Travellers still queueing at the end are not
counted, so where a queue grows without bound the figures are lower bounds. The rules, and
why no hour is valued twice, are in ``docs/costs.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.analysis.running import TravellerTotals
from sim.model.compile import Model

HOURS = ("delay_vehicle_hours_per_day", "delay_person_hours_per_day")
PRICED = ("delay_value_per_day", "idle_fuel_l_per_day", "co2_kg_per_day", "pm25_g_per_day")
COST_KPIS = (*HOURS, *PRICED)
"""The cost KPIs, in the order of ``replications.csv`` and ``costs.csv``."""

COST_UNITS = {
    "delay_vehicle_hours_per_day": "vehicle-hours per day",
    "delay_person_hours_per_day": "person-hours per day",
    "delay_value_per_day": "{currency} per day",
    "idle_fuel_l_per_day": "litres per day",
    "co2_kg_per_day": "kg CO2 per day",
    "pm25_g_per_day": "g PM2.5 per day",
}
"""What each cost KPI counts, for tables and reports."""

Roll = Callable[[np.ndarray], np.ndarray]
"""Per-group figures to every row of the KPI tables: each row the sum of the groups counting in it."""


def delay_minutes(groups: int, totals: TravellerTotals) -> tuple[np.ndarray, np.ndarray]:
    """(waits summed, waits x persons summed) per group code, in minutes.

    Summed in the order of the values sorted within each group, so that the sums do not
    depend on the order travellers finished in, on chunks, or on pieces of a replication
    (``np.bincount`` adds its weights in the order given).
    """
    order = np.lexsort((totals.persons, totals.wait, totals.group))
    group, wait = totals.group[order], totals.wait[order]
    persons = totals.persons[order].astype(np.float64)
    return (
        np.bincount(group, weights=wait, minlength=groups),
        np.bincount(group, weights=wait * persons, minlength=groups),
    )


def _rolled_present(rolled: Roll, values: np.ndarray) -> np.ndarray:
    """Totals of figures some groups lack: the sum of those that have one, NaN where none has."""
    has = ~np.isnan(values)
    return np.where(rolled(has.astype(np.int64)) > 0, rolled(np.where(has, values, 0.0)), np.nan)


def cost_columns(model: Model, totals: TravellerTotals, rolled: Roll, days: float) -> dict[str, np.ndarray]:
    """Every cost KPI for every row of the KPI tables (``sim.analysis.kpis.groups_table``)."""
    waits, person_waits = delay_minutes(len(model.groups), totals)
    flows = [g[2] for g in model.groups]
    wagons = np.asarray([f in model.wagon_flows for f in flows], dtype=bool)
    vehicle_hours = waits / 60.0 / days
    person_hours = np.where(wagons, np.nan, person_waits / 60.0 / days)
    rate = {name: model.costs.per_flow(name, flows) for name in model.costs.rates}

    def given(name: str) -> np.ndarray:
        return rate.get(name, np.full(len(flows), np.nan))

    by_vehicle, by_person = given("value_per_vehicle_hour"), given("value_per_person_hour")
    value = np.where(
        np.isnan(by_vehicle) & np.isnan(by_person),
        np.nan,
        np.nan_to_num(vehicle_hours * by_vehicle) + np.nan_to_num(person_hours * by_person),
    )
    idling_hours = vehicle_hours * given("idling_share")
    fuel = idling_hours * given("idle_fuel_l_per_h")
    per_group = {
        "delay_value_per_day": value,
        "idle_fuel_l_per_day": fuel,
        "co2_kg_per_day": fuel * given("co2_kg_per_l"),
        "pm25_g_per_day": idling_hours * given("idle_pm25_g_per_h"),
    }
    out = {
        "delay_vehicle_hours_per_day": rolled(vehicle_hours),
        "delay_person_hours_per_day": _rolled_present(rolled, person_hours),
    }
    out.update({name: _rolled_present(rolled, values) for name, values in per_group.items()})
    return out


def cost_table(
    reps: pd.DataFrame, scenario: str, currency: str, overloaded: set[tuple[str, str, str]] | None = None
) -> pd.DataFrame:
    """``costs.csv``: per row of ``replications.csv``, each cost KPI's mean and 95% half-width.

    ``overloaded`` holds the (crossing, direction, flow) rows whose queue grows without
    bound: their figures count finished travellers only and are lower bounds.
    """
    from sim.analysis.kpis import KEYS, means_with_intervals  # kpis imports this module

    out = means_with_intervals(reps, KEYS, COST_KPIS)
    bad = overloaded or set()
    out.insert(0, "scenario", scenario)
    out.insert(len(KEYS) + 1, "currency", currency)
    keys = zip(out["crossing"].astype(str), out["direction"].astype(str), out["flow"].astype(str), strict=True)
    out["overloaded"] = [k in bad for k in keys]
    return out
