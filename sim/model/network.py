"""Corridors compiled: each crossing a corridor may use, with its drives, route and luck layout.

A corridor's travellers depart at its origin (a Poisson process like any source's), choose
a crossing, drive to it, pass its controls as the crossing's own travellers do, and drive
on. The route through a crossing is an ordinary ``Source`` of the model, marked ``routed``
(it draws no arrivals of its own), so every table per crossing, direction and flow counts
corridor travellers where they actually crossed.

A traveller's luck is drawn per corridor under the same identities as a crossing's
(stage, role, occurrence): whichever crossing it takes, the same uniform gives its service
time there, so two runs that send it to different crossings stay paired.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.arrivals import ArrivalPlan
from sim.model.distributions import PlainDistribution

if TYPE_CHECKING:
    from sim.model.compile import StepPlan

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Option:
    """One crossing a corridor may use: the drive to it and on from it, and its route."""

    crossing: str
    source: int  # the routed Source through this crossing in this direction for this flow
    drive_to: float  # minutes from the origin to the crossing
    drive_on: float  # minutes from the crossing to the destination
    km_to: float
    km_on: float
    share: float  # of the corridor's travellers under fixed shares (normalised)
    luck_rows: tuple[int, ...]  # the corridor's luck row used by each step of the route
    work: tuple[tuple[int, float, float], ...]  # (pool, mean service minutes, share selected) per step


@dataclass(frozen=True)
class CorridorPlan:
    """A corridor in one direction: departures, persons per vehicle, and the crossings it may use."""

    index: int
    id: str
    origin: str
    destination: str
    direction: str
    flow: str
    key: tuple[str, ...]  # identity of its random streams
    arrivals: ArrivalPlan
    occupancy: PlainDistribution
    options: tuple[Option, ...]
    luck_keys: tuple[tuple[str, str, str], ...]  # (stage, role, occurrence) of each luck row
    person_luck: tuple[bool, ...]  # per luck row: whether a uniform per person is drawn
    detour: np.ndarray  # minutes from option i's crossing to option j's (options x options)
    detour_km: np.ndarray

    @property
    def best_drive(self) -> float:
        """The least drive of the corridor (to + on): the reference for extra drive time."""
        return min(o.drive_to + o.drive_on for o in self.options)

    @property
    def best_km(self) -> float:
        return min(o.km_to + o.km_on for o in self.options)


@dataclass(frozen=True)
class ChoicePlan:
    """The route-choice rule (``sim.scenario.network.RouteChoice``) as plain numbers."""

    rule: str
    information: str
    publish_every: float
    scale: float


@dataclass(frozen=True)
class DiversionPlan:
    """When travellers on their way switch (``sim.scenario.network.Diversion``)."""

    on_closure: bool
    queue_threshold: int | None
    review_every: float | None
    margin: float
    max_switches: int


def step_identities(steps: Iterable[StepPlan]) -> list[tuple[str, str, str]]:
    """(stage, role, occurrence) of each step: a traveller's luck is keyed by these, the same at any crossing."""
    seen: dict[tuple[str, str], int] = {}
    keys = []
    for st in steps:
        n = seen.get((st.stage, st.role), 0)
        seen[(st.stage, st.role)] = n + 1
        keys.append((st.stage, st.role, str(n)))
    return keys


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere of the Earth's mean radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def detours(
    drive_to: list[float],
    km_to: list[float],
    places: list[tuple[float, float] | None],
    speed: float,
    circuity: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Minutes and km from each option's crossing to each other's.

    The shorter of two roads: back towards the origin and out to the other crossing
    (``drive_to`` of both), or along the border (great-circle distance times ``circuity``,
    at ``speed`` km/h) when both crossings have coordinates.
    """
    n = len(drive_to)
    minutes = np.zeros((n, n))
    km = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            back_min, back_km = drive_to[i] + drive_to[j], km_to[i] + km_to[j]
            a, b = places[i], places[j]
            if a is not None and b is not None:
                along_km = great_circle_km(a[0], a[1], b[0], b[1]) * circuity
                along_min = along_km / speed * 60.0
                if along_min < back_min:
                    back_min, back_km = along_min, along_km
            minutes[i, j], km[i, j] = back_min, back_km
    return minutes, km
