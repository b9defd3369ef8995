"""Electronic queues (booked slots) in the author's format.

An e-queue at a crossing and direction holds the travellers of some flows away from the
border until their slot: they book a slot (ahead, or the first free one: a "live queue"),
wait where they are (virtual waiting), reach the border some time before the slot, wait in
the waiting area (or on the road when it is full), and are called to the post. Priority
classes (out-of-turn passage, paid fast track) have quotas as shares of each day's slots;
travellers without a booking are refused, sent to the next free slot, or served as space
allows. The rules are documented in ``docs/equeue.md``, compiled by ``sim.model.booking``
and applied by the admission ``sim.policies.equeue``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.scenario.calendar import Moment
from sim.scenario.distributions import Constant, Distribution, NonNegDuration, PosDuration
from sim.scenario.schema_base import Identifier, Share, Strict

Direction = Literal["a_to_b", "b_to_a"]

SlotCount = Annotated[int, Field(ge=0, le=100_000)]


class Slots(Strict):
    """How many slots each hour offers, and how they are laid out in the hour.

    ``per_hour`` is a count, 24 counts (one per hour of the day), or ``booths``: derived from
    the booths on duty at the first control every traveller of the e-queue passes (its
    capacity schedule, with shifts, opening hours, closures and episodes) and the flow's mean
    service time there, times ``utilisation``. Fractions of a slot carry over to the next
    hour, so the long-run rate is kept. ``together`` slots share one start time (one per
    booth): 12 an hour ``together: 2`` start two every 10 minutes.
    """

    per_hour: SlotCount | Annotated[list[SlotCount], Field(min_length=24, max_length=24)] | Literal["booths"] = Field(
        default="booths", description="Slots an hour: a count, 24 counts, or 'booths' (derived from the booths)."
    )
    utilisation: Annotated[float, Field(gt=0, le=2, allow_inf_nan=False)] = Field(
        default=1.0, description="With per_hour: booths, the share of the booths' capacity offered as slots."
    )
    together: Annotated[int, Field(ge=1, le=1_000)] = Field(
        default=1, description="Slots sharing one start time (e.g. one per booth)."
    )


class Booking(Strict):
    """When travellers book: ``lead`` minutes before the time they want (0: the first free slot)."""

    lead: Distribution = Field(
        default=Constant(value=0.0),
        description="Minutes between booking and the wanted time; 0 is a live queue (the first free slot).",
    )
    horizon: PosDuration = Field(default=3 * 1440.0, description="How far ahead a slot can be booked.")


class Arrival(Strict):
    """When a booked traveller reaches the border, relative to its slot, and the window allowed.

    Most arrive ``before`` minutes before the slot; a ``late_share`` arrive ``late`` minutes
    after it. Arriving more than ``earliest`` before the slot, a traveller waits on the road
    until the window opens; arriving more than ``latest`` after it, it has lost the slot and is
    treated as a walk-in (``walk_in.rule``). None: no limit.
    """

    before: Distribution = Field(default=Constant(value=0.0), description="Minutes before the slot.")
    late_share: Share = 0.0
    late: Distribution = Field(default=Constant(value=0.0), description="Minutes after the slot, for the late ones.")
    earliest: NonNegDuration | None = Field(default=None, description="The window opens this long before the slot.")
    latest: NonNegDuration | None = Field(default=None, description="Later than this after the slot loses it.")


class PriorityClass(Strict):
    """Travellers who pay to pass ahead: a quota of each day's slots is reserved for them."""

    name: Identifier
    quota: Share = Field(description="Share of each day's slots reserved for the class (at most).")
    demand: Share = Field(description="Share of the e-queue's bookers who ask for the class.")


class Priority(Strict):
    """Priority classes and how their reserved slots are interleaved with the regular ones."""

    classes: list[PriorityClass] = Field(default_factory=list)
    interleave: Literal["spread", "ahead"] = Field(
        default="spread", description="spread: reserved slots evenly through the day; ahead: the day's first slots."
    )
    release_before: NonNegDuration = Field(
        default=0.0, description="A reserved slot still free this long before its time opens to regular bookings."
    )

    @model_validator(mode="after")
    def _sums(self) -> Priority:
        if sum(c.quota for c in self.classes) > 1:
            raise ValueError("the classes' quotas add up to more than all the slots")
        if sum(c.demand for c in self.classes) > 1:
            raise ValueError("the classes' demand shares add up to more than all the bookers")
        names = [c.name for c in self.classes]
        if len(set(names)) != len(names):
            raise ValueError("two priority classes have the same name")
        return self


class WalkIn(Strict):
    """Travellers who come without a booking (and those who lost theirs by coming too late).

    ``refused``: turned away; they book the first free slot and come back for it.
    ``next_slot``: given the first free slot on the spot; they wait at the border.
    ``standby``: they wait at the border and take a slot its holder leaves unused.
    """

    share: Share = Field(default=0.0, description="Share of the e-queue's travellers without a booking.")
    rule: Literal["refused", "next_slot", "standby"] = "next_slot"


class WaitingArea(Strict):
    """The parking area where booked travellers wait to be called; when full they wait on the road."""

    capacity: Annotated[int, Field(ge=0, le=10**7)] | None = Field(
        default=None, description="Vehicles it holds; none: unlimited."
    )


class EQueue(Strict):
    """An electronic queue at some crossings, in some directions, for some flows.

    Each crossing and direction listed gets its own e-queue (its own slots and waiting area)
    with these rules. From ``start`` (a moment: a date or a time from the start of the run)
    travellers must book; before it they go straight to the post.
    """

    name: Identifier | None = Field(default=None, description="A label for the outputs; the crossing's id otherwise.")
    crossings: Annotated[list[str], Field(min_length=1)]
    directions: Annotated[list[Direction], Field(min_length=1)] = Field(default_factory=lambda: ["a_to_b"])
    flows: Annotated[list[Identifier], Field(min_length=1)]
    start: Moment | None = Field(default=None, description="From when bookings are needed; the whole run if omitted.")
    slots: Slots = Field(default_factory=Slots)
    booking: Booking = Field(default_factory=Booking)
    arrival: Arrival = Field(default_factory=Arrival)
    no_show: Annotated[float, Field(ge=0, le=0.95, allow_inf_nan=False)] = Field(
        default=0.0, description="Share of bookings nobody uses (held by carriers who do not come)."
    )
    priority: Priority = Field(default_factory=Priority)
    walk_in: WalkIn = Field(default_factory=WalkIn)
    area: WaitingArea = Field(default_factory=WaitingArea)
    call_up: Distribution = Field(
        default=Constant(value=0.0), description="Minutes from being called to reaching the post."
    )
    fill_unused: bool = Field(
        default=True,
        description="A slot its holder leaves unused goes to a standby walk-in, else to the waiting traveller "
        "with the earliest slot.",
    )
    source: str = ""
