"""One replication of a compiled model on a SimPy environment, with policies at its hooks.

The engine knows no YAML and no regime names. It creates the pools and neutral zones, lets
each traveller source draw its arrivals a week at a time, asks the route policy where each
traveller goes and the admission whether it may go on, applies the capacity source's
changes before anything else at their instant, and hands everything that happens to the
event sink, which flushes it once a simulated day. Memory is bounded by a week of draws
and a day of records, whatever the horizon.

A replication may be run in pieces (``Piece``): crossings no route links are separate
systems, and a piece's events, draws and records are exactly those it has in a whole run.
"""

from __future__ import annotations

from typing import Any

import simpy

from sim.engine.entities import NeutralZone, Pool, Traveller
from sim.engine.hooks import (
    Admission,
    CapacitySource,
    ChoicePolicy,
    DiversionPolicy,
    EventSink,
    QueueDiscipline,
    RoutePolicy,
)
from sim.engine.kernel import call_at, check_kernel, pusher
from sim.engine.luck import SourceDraws
from sim.engine.trips import Trips
from sim.engine.weekly import WeeklyEvents
from sim.model.compile import Model, Piece, Source

_NAN = float("nan")
FLUSH_EVERY = 1440.0
"""Minutes between flushes of the records: a simulated day."""

_checked: list[bool] = []


class RunawayError(Exception):
    """A replication grew past the scenario's limits: the system is unstable or the run too big."""


class _Arrivals(WeeklyEvents):
    """A source's next arrival on SimPy's heap."""

    __slots__ = ("source",)

    def __init__(self, engine: Engine, source: Source, draws: SourceDraws):
        super().__init__(draws, source.index, engine.push, engine.arrive_callbacks)
        self.source = source


class Engine:
    """One replication (or one piece of it) of a compiled model."""

    def __init__(
        self,
        model: Model,
        replication: int,
        sink: EventSink,
        *,
        seed: int | None = None,
        piece: Piece | None = None,
        route: RoutePolicy | None = None,
        admission: Admission | None = None,
        queues: QueueDiscipline | None = None,
        capacity: CapacitySource | None = None,
        choice: ChoicePolicy | None = None,
        diversion: DiversionPolicy | None = None,
    ):
        from sim.policies.admission import AdmitAll
        from sim.policies.diversion import Diversion
        from sim.policies.fifo import FirstComeFirstServed
        from sim.policies.fixed_route import FixedRoute
        from sim.policies.route_choice import RouteChoice
        from sim.policies.scheduled_capacity import ScheduledCapacity
        from sim.policies.wait_board import WaitBoard
        from sim.policies.weather import WeatherClosures

        if not _checked:
            check_kernel()
            _checked.append(True)
        self.model = model
        self.replication = replication
        self.seed = model.seed if seed is None else seed
        self.piece = model.whole() if piece is None else piece
        self.sink = sink
        self.route_policy = route or FixedRoute()
        if admission is None and model.equeues:
            from sim.policies.equeue import EQueues

            admission = EQueues(model, self.seed, replication)
        self.admission = admission or AdmitAll()
        self.finished = getattr(self.admission, "finished", None)  # its record of a traveller it held
        if capacity is None:
            capacity = WeatherClosures(model, self.seed, replication) if model.weather else ScheduledCapacity()
        self.capacity = capacity
        if hasattr(self.capacity, "bind"):
            self.capacity.bind(model)  # what it needs to say when a shut pool reopens
        queues = queues or FirstComeFirstServed()
        self.env = env = simpy.Environment()
        check_kernel(env)
        self.push = pusher(env)
        self.arrive_callbacks = [self.arrive]
        self.pools: list[Any] = [
            Pool(p.index, self.capacity.initial(p), queues.line(p), sink.visit_log(p.index), self.push, self.finish)
            for p in model.pools
        ]
        self.zones: list[Any] = [NeutralZone(z.capacity, self.advance) for z in model.zones]
        self.route_policy.bind(self)
        self.admission.bind(self)
        self.trips: Trips | None = None
        if self.piece.corridors:
            self.board = WaitBoard(self, model.choice.information, model.choice.publish_every)
            choice = choice or RouteChoice(model.choice)
            if diversion is None and model.diversion is not None:
                diversion = Diversion(model.diversion)
            choice.bind(self)
            if diversion is not None:
                diversion.bind(self)
            self.trips = Trips(self, choice, diversion)
        self.released_log = sink.traveller_log()
        self.alive: dict[int, Traveller] = {}
        self.max_in_system = model.max_in_system
        self.route = self.route_policy.route
        # the default admits everyone: skip the call; an admission that says which sources it
        # may hold (``holds``) is asked only about their travellers
        self.admits: list[Any] | None = None
        if type(self.admission) is not AdmitAll:
            holds = getattr(self.admission, "holds", None)
            admit = self.admission.admit
            self.admits = [admit if holds is None or holds(s.index) else None for s in model.sources]
        self.arrived = 0
        self.released = 0

    # -- traveller movement -------------------------------------------------------------------
    def arrive(self, event: _Arrivals) -> None:
        now = event.due
        row = event.row
        source = event.source
        tid = event.base + row
        tr = Traveller(tid, source.index, event.persons[row], now)
        tr.route = self.route(source, event.block, row)
        row += 1
        event.row = row
        if row < len(event.times):  # the next arrival of this source; schedule_next() does the rest
            event.due = event.times[row]
            event.callbacks = self.arrive_callbacks
            self.push(event.due, event)
        else:
            event.schedule_next()
        self.enter(tr, now)
        admits = self.admits
        if admits is None or (admit := admits[source.index]) is None or admit(tr, now):
            # advance(), inlined
            tr.pos = 0
            route = tr.route
            if route:
                route[0][0].join(tr, None, now)
            else:
                self.finish(tr, now)

    def enter(self, tr: Traveller, now: float) -> None:
        """Count a traveller in (at its arrival, or a corridor's at its departure)."""
        alive = self.alive
        alive[tr.tid] = tr
        self.arrived += 1
        if len(alive) > self.max_in_system:
            raise RunawayError(
                f"more than {self.max_in_system:,} travellers inside at once at {now / 1440:.2f} days "
                "(limits.max_in_system): demand exceeds what the crossings can serve; see the stages' load, "
                "add servers, lower demand, shorten the horizon or raise the limit"
            )

    def release(self, tr: Traveller, now: float) -> None:
        """Let a traveller an admission held go on (called by the admission)."""
        self.advance(tr, now)

    def advance(self, tr: Traveller, now: float) -> None:
        """Move a traveller that holds no server to its next step."""
        pos = tr.pos + 1
        tr.pos = pos
        route = tr.route
        if pos < len(route):
            route[pos][0].join(tr, None, now)
        else:
            self.finish(tr, now)

    def finish(self, tr: Traveller, now: float) -> None:
        zone = tr.zone
        if zone is not None:
            tr.zone = None
            zone.leave(now)
        self.released_log.append((tr.tid, tr.source, tr.persons, tr.arrival, now, tr.service))
        if tr.trip is not None:
            self.trips.finish(tr, now)  # type: ignore[union-attr]
        if tr.booking is not None:
            self.finished(tr, now)  # type: ignore[misc]
        self.released += 1
        del self.alive[tr.tid]

    # -- time-driven events -------------------------------------------------------------------
    def _capacity_changes(self) -> None:
        """Apply each instant's changes before other events of that instant, all pools first.

        Every pool changing at an instant gets its new capacity before any of them starts a
        waiting traveller, so a booth closing at 20:00 starts no service at 20:00 even when
        another pool opening at 20:00 passes travellers on to it.
        """
        changes = iter(self.capacity.changes(self.model, self.piece))
        trips = self.trips
        on_closure = self.model.diversion is not None and self.model.diversion.on_closure

        def next_change() -> None:
            item = next(changes, None)
            if item is None:
                return
            at, updates = item

            def apply(_: Any) -> None:
                for i, cap in updates:
                    self.pools[i].set_capacity(cap)
                for i, _cap in updates:
                    self.pools[i].fill(at)
                if trips is not None and on_closure:
                    trips.closed([i for i, cap in updates if cap == 0], at)
                next_change()

            call_at(self.env, at, apply, urgent=True)

        next_change()

    def _flushes(self) -> None:
        horizon = self.model.horizon

        def flush(at: float) -> None:
            self.sink.flush(at)
            if at + FLUSH_EVERY < horizon:
                call_at(self.env, at + FLUSH_EVERY, lambda _: flush(at + FLUSH_EVERY))

        if horizon > FLUSH_EVERY:
            call_at(self.env, FLUSH_EVERY, lambda _: flush(FLUSH_EVERY))

    def _publications(self) -> None:
        """Queue figures published at the start and every ``publish_every`` minutes (route choice)."""
        every, horizon = self.model.choice.publish_every, self.model.horizon

        def publish(at: float) -> None:
            self.board.publish(at)
            if at + every < horizon:
                call_at(self.env, at + every, lambda _: publish(at + every), urgent=True)

        call_at(self.env, 0.0, lambda _: publish(0.0), urgent=True)

    def _warmup(self) -> None:
        """The longest line counts from the end of the warm-up: start it from the line then."""

        def reset(_: Any) -> None:
            for i in self.piece.pools:
                self.pools[i].qmax = len(self.pools[i].queue)

        if 0 < self.model.warmup < self.model.horizon:
            call_at(self.env, self.model.warmup, reset, urgent=True)

    def run(self) -> Any:
        model = self.model
        if model.expected_arrivals > model.max_arrivals:
            raise RunawayError(
                f"about {model.expected_arrivals:,.0f} arrivals expected in one replication, more than "
                f"limits.max_arrivals ({model.max_arrivals:,}); shorten the horizon or raise the limit"
            )
        self._capacity_changes()
        self._warmup()
        self._flushes()
        for i in self.piece.sources:
            source = model.sources[i]
            if not source.routed:
                _Arrivals(self, source, SourceDraws(source, self.seed, self.replication, model.horizon)).schedule_next()
        if self.trips is not None:
            self.trips.start()
            if model.choice.information == "published":
                self._publications()
        self.env.run(until=model.horizon)
        if hasattr(self.admission, "close"):
            self.admission.close(model.horizon)  # those it still holds, before they are logged as inside
        self._close_unfinished()
        return self.sink.close(model.horizon, self.pools)

    def _close_unfinished(self) -> None:
        """Log travellers still inside, closing the visit each is in as unfinished.

        A traveller blocked at a full neutral zone still holds its exit-side server: its
        visit there has ended service but not left.
        """
        held = {tr.tid: prev for zone in self.zones for tr, prev in zone.blocked}
        queued = {tr.tid for i in self.piece.pools for tr in self.pools[i].queue}
        for tid in sorted(self.alive):
            tr = self.alive[tid]
            where = held.get(tid)
            if where is None and 0 <= tr.pos < len(tr.route):
                where = tr.route[tr.pos][0]
            if isinstance(where, Pool):
                start, end = getattr(tr, "t_start", _NAN), getattr(tr, "t_end", _NAN)
                if tid in queued:
                    start = end = _NAN
                elif tid not in held:
                    end = _NAN
                where.visits.append((where.index, tid, getattr(tr, "t_enter", _NAN), start, end, _NAN))
            self.released_log.append((tid, tr.source, tr.persons, tr.arrival, _NAN, tr.service))
            if tr.trip is not None:
                self.trips.finish(tr, _NAN)  # type: ignore[union-attr]
