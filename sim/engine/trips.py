"""Corridor travellers: departure, the drive to a crossing, diversion, and the trip's record.

A corridor's traveller departs at its origin, takes the crossing its choice policy picks,
and is scheduled to reach it after the drive (the traveller is itself the event on SimPy's
heap, as it is while in service). There it becomes
an ordinary traveller of that crossing's route: its arrival is when it reached the crossing,
so the tables per crossing count what happened there. The trip (departure, crossings, drives,
switches) is logged when the traveller leaves its last control, with the drive on from the
crossing added then: nothing happens on the road after the border, so it needs no event.

Diversion (a ``DiversionPolicy``) is asked when the traveller reaches its crossing, when the
crossing's first control shuts while the traveller drives there or queues at it, and at
every review while it queues there. A traveller that switches leaves the line (its visit is
logged with no service), drives the detour, and reaches the other crossing as above. It is
one traveller throughout: logged once, under the crossing it finally used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine.entities import Pool, Traveller
from sim.engine.kernel import call_at
from sim.engine.luck import CorridorDraws, WeekDraws
from sim.engine.weekly import WeeklyEvents
from sim.model.network import CorridorPlan

if TYPE_CHECKING:
    from sim.engine.core import Engine
    from sim.engine.hooks import ChoicePolicy, DiversionPolicy

_NAN = float("nan")


class Trip:
    """A corridor traveller's journey: where it set off for, where it is going, what it drove."""

    __slots__ = ("corridor", "block", "row", "first", "option", "departure", "drive", "km", "switches", "turn")

    def __init__(self, corridor: CorridorPlan, block: WeekDraws, row: int, option: int, departure: float):
        self.corridor = corridor
        self.block = block
        self.row = row
        self.first = option
        self.option = option
        self.departure = departure
        opt = corridor.options[option]
        self.drive = opt.drive_to
        self.km = opt.km_to
        self.switches = 0
        self.turn: int | None = None  # decided on the way: the option to turn off to on reaching the area


class _Departures(WeeklyEvents):
    """A corridor's next departure on SimPy's heap, with each traveller's choice uniform."""

    __slots__ = ("corridor", "choice")

    def __init__(self, trips: Trips, corridor: CorridorPlan, draws: CorridorDraws):
        super().__init__(draws, trips.first_id + corridor.index, trips.push, trips.depart_callbacks)
        self.corridor = corridor
        self.choice: list[float] = []

    def load(self, block: WeekDraws) -> None:
        super().load(block)
        self.choice = block.choice.tolist()  # type: ignore[union-attr]


class Trips:
    """The corridor travellers of one replication (or piece)."""

    def __init__(self, engine: Engine, choice: ChoicePolicy, diversion: DiversionPolicy | None):
        self.engine = engine
        self.choice = choice
        self.diversion = diversion
        self.route = engine.route_policy.route_option  # type: ignore[attr-defined]
        self.first_id = len(engine.model.sources)  # corridor ids follow the sources'
        self.reach_callbacks = [self.reach]
        self.depart_callbacks = [self.depart]
        self.push = engine.push
        self.enter = engine.enter
        self.choose = choice.choose
        # who drives to which gate is kept only when a closure can turn them off on the way
        self.track = diversion is not None and engine.model.diversion is not None and engine.model.diversion.on_closure
        self.log = engine.sink.trip_log() if hasattr(engine.sink, "trip_log") else []
        # travellers driving to each option's first pool, to reconsider when it shuts
        self.driving: dict[int, dict[int, Traveller]] = {}
        self.gates = {o.work[0][0] for c in engine.model.corridors for o in c.options if o.work}

    def start(self) -> None:
        model, engine = self.engine.model, self.engine
        for i in engine.piece.corridors:
            corridor = model.corridors[i]
            _Departures(
                self, corridor, CorridorDraws(corridor, engine.seed, engine.replication, model.horizon)
            ).schedule_next()
        plan = model.diversion
        if plan is not None and plan.review_every is not None:
            every = plan.review_every

            def review(at: float) -> None:
                self.review(at)
                if at + every < model.horizon:
                    call_at(engine.env, at + every, lambda _: review(at + every))

            call_at(engine.env, every, lambda _: review(every))

    # -- departure and arrival at a crossing ---------------------------------------------------
    def depart(self, event: _Departures) -> None:
        now = event.due
        row = event.row
        corridor = event.corridor
        option = self.choose(corridor, event.choice[row], now)
        opt = corridor.options[option]
        tr = Traveller(event.base + row, opt.source, event.persons[row], _NAN)  # arrival: on reaching a crossing
        tr.trip = Trip(corridor, event.block, row, option, now)  # type: ignore[arg-type]
        row += 1
        event.row = row
        if row < len(event.times):  # the corridor's next departure; schedule_next() does the rest
            event.due = event.times[row]
            event.callbacks = self.depart_callbacks
            self.push(event.due, event)
        else:
            event.schedule_next()
        self.enter(tr, now)
        self._drive(tr, now + opt.drive_to)

    def _drive(self, tr: Traveller, due: float) -> None:
        """The traveller is its own event while it drives: SimPy calls ``reach`` when it gets there."""
        tr.due = due
        tr.callbacks = self.reach_callbacks
        if self.track:
            trip = tr.trip
            gate = trip.corridor.options[trip.option].work[0][0]
            self.driving.setdefault(gate, {})[tr.tid] = tr
        self.push(due, tr)

    def reach(self, tr: Traveller) -> None:
        now = tr.due
        trip = tr.trip
        corridor = trip.corridor
        opt = corridor.options[trip.option]
        gate = opt.work[0][0]
        if self.track:
            del self.driving[gate][tr.tid]
        if trip.turn is not None:  # it decided on the way (its crossing shut): on to the other one
            to, trip.turn = trip.turn, None
            self._switch(tr, to, now)
            return
        diversion = self.diversion
        if diversion is not None:
            pool = self.engine.pools[gate]
            plan = self.engine.model.diversion
            shut = plan.on_closure and pool.cap == 0
            long = plan.queue_threshold is not None and len(pool.queue) > plan.queue_threshold
            if shut or long:
                to = diversion.reconsider(tr, len(pool.queue), now)
                if to is not None:
                    self._switch(tr, to, now)
                    return
        tr.source = opt.source
        tr.arrival = now
        tr.route = self.route(corridor, trip.option, trip.block, trip.row)
        tr.pos = 0  # advance(), inlined: its first step (a route always has one)
        tr.route[0][0].join(tr, None, now)

    def _switch(self, tr: Traveller, to: int, now: float) -> None:
        """Send a traveller at (or near) its crossing on to option ``to``, paying the drive between them."""
        trip = tr.trip
        here = trip.option
        minutes = float(trip.corridor.detour[here, to])
        trip.drive += minutes
        trip.km += float(trip.corridor.detour_km[here, to])
        trip.option = to
        trip.switches += 1
        self._drive(tr, now + minutes)

    # -- reconsidering on the way and in the queue ---------------------------------------------
    def closed(self, pools: list[int], now: float) -> None:
        """First controls shut at ``now``: those driving to them and those queueing there reconsider."""
        diversion = self.diversion
        if diversion is None:
            return
        for gate in pools:
            if gate not in self.gates:
                continue
            for tid in sorted(self.driving.get(gate, {})):
                tr = self.driving[gate][tid]
                if tr.trip.turn is None:
                    # it reaches the crossing's area either way, and turns off from there
                    tr.trip.turn = diversion.reconsider(tr, len(self.engine.pools[gate].queue), tr.due)
            self._renege(self.engine.pools[gate], now)

    def review(self, now: float) -> None:
        """The periodic review: every corridor traveller queueing at a first control reconsiders."""
        for gate in sorted(self.gates):
            if self.engine.pools[gate].queue:
                self._renege(self.engine.pools[gate], now)

    def _renege(self, pool: Pool, now: float) -> None:
        diversion = self.diversion
        assert diversion is not None
        leaving: dict[int, int] = {}
        for ahead, tr in enumerate(pool.queue):
            trip = tr.trip
            if trip is None or tr.pos != 0:
                continue
            to = diversion.reconsider(tr, ahead, now)
            if to is not None:
                leaving[tr.tid] = to
        if not leaving:
            return
        gone = pool.withdraw(set(leaving), now)
        for tr in gone:
            tr.route = []
            tr.pos = -1
            self._switch(tr, leaving[tr.tid], now)

    # -- the trip's record -------------------------------------------------------------------
    def finish(self, tr: Traveller, now: float) -> None:
        """Log the trip of a traveller that left its last control at ``now`` (NaN: still inside)."""
        trip = tr.trip
        corridor = trip.corridor
        opt = corridor.options[trip.option]
        self.log.append(
            (
                tr.tid,
                corridor.index,
                trip.first,
                trip.option,
                trip.departure,
                tr.arrival,
                now,
                trip.drive + opt.drive_on,
                trip.km + opt.km_on,
                trip.switches,
            )
        )
