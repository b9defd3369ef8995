"""The border as a network in the author's format: corridors, route choice and diversion.

A corridor is demand between an origin and a destination on opposite sides (regions or named
places) that may cross at any of several crossings, each with the drive from the origin to
it and on from it to the destination. Per-crossing demand (``demand``) keeps working
unchanged beside corridors: it is traffic that has no choice.

Route choice (which crossing a traveller takes when it sets off) and diversion (switching
on the way or in the queue) are chosen and tuned here; their rules are documented in
``docs/network.md`` and implemented in ``sim.policies.route_choice`` and
``sim.policies.diversion``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.distributions import NonNegDuration, PosDuration
from sim.scenario.schema_base import Identifier, Share, Strict

Distance = Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)]
"""Kilometres."""
Speed = Annotated[float, Field(gt=0, le=1_000, allow_inf_nan=False)]
"""Kilometres per hour."""

DEFAULT_SPEED = 60.0
"""km/h used to turn a distance into a drive time when neither the corridor nor the flow gives one (assumed)."""


class CorridorCrossing(Strict):
    """One crossing a corridor's travellers may use, and the drive to it and on from it.

    Give the drive as times (``drive_to``, ``drive_on``), as distances (``km_to``,
    ``km_on``, turned into times at the corridor's speed), or both (then the times are used
    and the distances only counted).
    """

    drive_to: NonNegDuration | None = Field(default=None, description="From the origin to the crossing.")
    drive_on: NonNegDuration | None = Field(default=None, description="From the crossing to the destination.")
    km_to: Distance | None = None
    km_on: Distance | None = None
    share: Share | None = Field(default=None, description="Share of the corridor's travellers (rule fixed_shares).")

    @model_validator(mode="after")
    def _drive_given(self) -> CorridorCrossing:
        if self.drive_to is None and self.km_to is None:
            raise ValueError("give drive_to (a time) or km_to (a distance) from the origin to the crossing")
        if self.drive_on is None and self.km_on is None:
            raise ValueError("give drive_on (a time) or km_on (a distance) from the crossing to the destination")
        return self


class Corridor(Strict):
    """Demand of one flow between an origin and a destination, with the crossings it may use.

    ``direction`` is the direction of travel from origin to destination; ``both`` adds the
    return trip (the same volume from the destination to the origin, the drives reversed).
    """

    id: Identifier
    origin: str = Field(default="", max_length=200, description="Region or place the trips start from.")
    destination: str = Field(default="", max_length=200)
    flow: Identifier
    direction: Literal["a_to_b", "b_to_a", "both"] = "both"
    daily: Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)] = Field(
        description="Mean departures per day (in each direction when direction is both)."
    )
    hourly: Identifier | Annotated[list[float], Field(min_length=24, max_length=24)] | None = None
    weekly: Identifier | Annotated[list[float], Field(min_length=7, max_length=7)] | None = None
    speed: Speed | None = Field(default=None, description="km/h for drives given as distances.")
    during_hours: bool = Field(
        default=True,
        description="Travellers time their departures to the opening hours of the corridor's main crossing "
        "(the one of largest share; the first listed on a tie). The week's volume is kept.",
    )
    crossings: dict[str, CorridorCrossing] = Field(min_length=1, max_length=1_000)
    source: str = ""


class RouteChoice(Strict):
    """How a corridor's traveller picks its crossing when it sets off.

    - ``fixed_shares``: at random in the corridor's stated shares (equal shares when none
      are given), whatever the queues;
    - ``least_cost``: the crossing with the least generalised cost = drive to it + expected
      wait there + drive on from it (ties broken at random);
    - ``logit``: crossing i with probability proportional to exp(-cost_i / scale).

    The expected wait is what a traveller can know: the queue now (``information: now``) or
    the figures a display board or website published at most ``publish_every`` ago
    (``information: published``), plus the time until a shut crossing reopens.
    """

    rule: Literal["fixed_shares", "least_cost", "logit"] = "fixed_shares"
    information: Literal["now", "published"] = "now"
    publish_every: PosDuration = Field(default=60.0, description="Age at most of published queue figures.")
    scale: PosDuration = Field(default=30.0, description="Logit scale: a cost difference of one scale is a factor e.")
    speeds: dict[Identifier, Speed] = Field(
        default_factory=dict, description="km/h per flow for drives given as distances (corridor speed wins)."
    )


class Diversion(Strict):
    """When a traveller already on its way switches crossing (balking and reneging).

    A traveller reconsiders when it reaches its crossing (it balks if the line at the first
    control is longer than ``queue_threshold``, or the crossing is shut), when its crossing
    closes while it drives there or queues at the first control, and every ``review_every``
    while it queues there. It switches to the crossing of least remaining cost when that
    saves more than ``margin``, paying the drive between the crossings.
    """

    on_closure: bool = True
    queue_threshold: Annotated[int, Field(ge=0, le=10_000_000)] | None = Field(
        default=None, description="Vehicles waiting at the first control beyond which an arriving one reconsiders."
    )
    review_every: PosDuration | None = Field(
        default=None, description="Queued travellers reconsider this often; never when omitted."
    )
    margin: NonNegDuration = Field(default=30.0, description="Least saving that makes a traveller switch.")
    max_switches: Annotated[int, Field(ge=1, le=100)] = 3
    circuity: Annotated[float, Field(ge=1, le=10, allow_inf_nan=False)] = Field(
        default=1.3, description="Road km per great-circle km between two crossings (assumed)."
    )


__all__ = ["Corridor", "CorridorCrossing", "Diversion", "RouteChoice", "DEFAULT_SPEED", "Share"]
