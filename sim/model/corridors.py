"""Compiling corridors: departures, the crossings each may use, drives, detours and luck rows.

Drives given as distances become times at the corridor's speed (else the flow's, else
``DEFAULT_SPEED``); drives given as times count their distance at that speed. A corridor
with ``direction: both`` also runs from its destination to its origin, the drives reversed.

Departures are timed so that travellers reach the corridor's main crossing during its
opening hours (``during_hours``), as a crossing's own demand arrives: nobody plans a trip
to reach a crossing after it has shut.

A corridor with a single crossing draws from the streams that crossing's own demand
would use (its key is the crossing's): it *is* that crossing's demand, and a scenario that
writes it either way gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim.model.arrivals import ArrivalPlan, follow_opening_hours, hour_edges, hourly_rates, profile_weights
from sim.model.calendar import demand_factors
from sim.model.distributions import compile_distribution
from sim.model.network import CorridorPlan, Option, detours, step_identities
from sim.scenario.network import DEFAULT_SPEED, Corridor, CorridorCrossing
from sim.scenario.schema import DIRECTIONS, Crossing, Scenario

if TYPE_CHECKING:
    from sim.model.compile import Source, StepPlan


def mean_service(step: StepPlan, persons: float) -> float:
    """Mean minutes a selected traveller of this step's flow spends in service there."""
    return step.per_vehicle.mean + step.per_person.mean * persons


def _drives(option: CorridorCrossing, speed: float, reverse: bool) -> tuple[float, float, float, float]:
    """(drive to, drive on, km to, km on) in minutes and km, origin to destination or back."""

    def leg(minutes: float | None, km: float | None) -> tuple[float, float]:
        if minutes is None:
            assert km is not None  # the schema requires one of the two
            return km / speed * 60.0, km
        return minutes, km if km is not None else minutes / 60.0 * speed

    to_min, to_km = leg(option.drive_to, option.km_to)
    on_min, on_km = leg(option.drive_on, option.km_on)
    if reverse:
        return on_min, to_min, on_km, to_km
    return to_min, on_min, to_km, on_km


def _leave_earlier(edges: np.ndarray, rates: np.ndarray, drive: float, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Departure rates that make arrivals ``drive`` minutes later follow ``rates``.

    Departures that would have to happen before the start are not made (the first ``drive``
    minutes see no arrivals from this corridor: keep the warm-up longer than the drives).
    """
    if drive <= 0:
        return edges, rates
    shifted = np.clip(edges - drive, 0.0, horizon)
    keep = np.diff(shifted) > 0
    if not keep.any():  # every drive is longer than the run: nobody arrives
        return np.array([0.0, horizon]), np.zeros(1)
    starts = shifted[:-1][keep]
    return np.append(starts, shifted[1:][keep][-1:]), rates[keep]


def compile_corridors(
    scenario: Scenario,
    crossings: dict[str, tuple[int, Crossing]],
    weekday: int,
    hours: int,
    occurrences: dict[tuple[str, str, str], int],
    route_through: Callable[[Crossing, str, str], Source],
) -> tuple[CorridorPlan, ...]:
    """Every corridor in each of its directions, in the order written."""
    plans: list[CorridorPlan] = []
    circuity = scenario.diversion.circuity if scenario.diversion is not None else 1.3
    for corridor in scenario.corridors:
        allowed = scenario.flows[corridor.flow].categories
        usable = {
            cid: opt
            for cid, opt in corridor.crossings.items()
            if allowed is None or crossings[cid][1].category in allowed
        }
        for direction in DIRECTIONS if corridor.direction == "both" else (corridor.direction,):
            reverse = corridor.direction == "both" and direction == "b_to_a"
            plans.append(
                _plan(
                    scenario,
                    corridor,
                    usable,
                    crossings,
                    direction,
                    reverse,
                    weekday,
                    hours,
                    occurrences,
                    route_through,
                    circuity,
                    len(plans),
                )
            )
    return tuple(plans)


def _plan(
    scenario: Scenario,
    corridor: Corridor,
    usable: dict[str, CorridorCrossing],
    crossings: dict[str, tuple[int, Crossing]],
    direction: str,
    reverse: bool,
    weekday: int,
    hours: int,
    occurrences: dict[tuple[str, str, str], int],
    route_through: Callable[[Crossing, str, str], Source],
    circuity: float,
    index: int,
) -> CorridorPlan:
    flow = corridor.flow
    speed = corridor.speed or scenario.route_choice.speeds.get(flow, DEFAULT_SPEED)
    occupancy = compile_distribution(scenario.flows[flow].occupancy)
    persons = max(1.0, occupancy.mean)
    routes = [route_through(crossings[cid][1], direction, flow) for cid in usable]
    luck_keys: list[tuple[str, str, str]] = []
    person_luck: list[bool] = []
    options: list[Option] = []
    given = [o.share for o in usable.values()]
    shares = [1.0] * len(given) if all(s is None for s in given) else [s or 0.0 for s in given]
    total = sum(shares)
    for (cid, opt), source, share in zip(usable.items(), routes, shares, strict=True):
        rows = []
        for st, key in zip(source.steps, step_identities(source.steps), strict=True):
            if key not in luck_keys:
                luck_keys.append(key)
                person_luck.append(False)
            row = luck_keys.index(key)
            person_luck[row] = person_luck[row] or not st.per_person.is_zero
            rows.append(row)
        to_min, on_min, to_km, on_km = _drives(opt, speed, reverse)
        options.append(
            Option(
                crossing=cid,
                source=source.index,
                drive_to=to_min,
                drive_on=on_min,
                km_to=to_km,
                km_on=on_km,
                share=share / total if total > 0 else 0.0,
                luck_rows=tuple(rows),
                work=tuple((st.pool, mean_service(st, persons), st.select) for st in source.steps),
            )
        )
    places = [
        (c.lat, c.lon) if c.lat is not None and c.lon is not None else None
        for c in (crossings[o.crossing][1] for o in options)
    ]
    minutes, km = detours([o.drive_to for o in options], [o.km_to for o in options], places, speed, circuity)
    if len(options) == 1:
        # a corridor with one crossing is that crossing's demand: the same streams
        triple = (options[0].crossing, direction, flow)
        n = occurrences.get(triple, 0)
        occurrences[triple] = n + 1
        key: tuple[str, ...] = (*triple, str(n))
    else:
        key = ("corridor", corridor.id, direction, flow)
    profiles = scenario.profiles
    hourly = profile_weights(corridor.hourly, profiles.hourly)
    weekly = profile_weights(corridor.weekly, profiles.weekly)
    rates = hourly_rates(corridor.daily, hourly, weekly, weekday, hours)
    main = options[max(range(len(options)), key=lambda i: (options[i].share, -i))]
    factors = demand_factors(
        scenario.calendar, scenario.episodes, scenario.start_date, hours, main.crossing, direction, flow
    )
    if factors is not None:
        # the factor of the hour a traveller reaches its main crossing, not the hour it sets off
        lag = int(round(main.drive_to / 60.0))
        rates = rates * np.concatenate((factors[lag:], np.repeat(factors[-1:], min(lag, len(factors)))))
    edges = hour_edges(hours, scenario.horizon)
    if corridor.during_hours:
        edges, rates = follow_opening_hours(rates, crossings[main.crossing][1], weekday, scenario.horizon)
        edges, rates = _leave_earlier(edges, rates, main.drive_to, scenario.horizon)
    origin, destination = (
        (corridor.destination, corridor.origin) if reverse else (corridor.origin, corridor.destination)
    )
    return CorridorPlan(
        index=index,
        id=corridor.id,
        origin=origin,
        destination=destination,
        direction=direction,
        flow=flow,
        key=key,
        arrivals=ArrivalPlan(edges, rates, None),
        occupancy=occupancy,
        options=tuple(options),
        luck_keys=tuple(luck_keys),
        person_luck=tuple(person_luck),
        detour=minutes,
        detour_km=km,
    )
