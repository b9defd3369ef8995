"""Travellers, server pools and neutral zones: the things that move and the places that hold them.

Travellers are not SimPy processes. A traveller *is* the event of its next service
completion (``CheapEvent``): a pool pushes it onto SimPy's heap when its service starts,
and SimPy calls the pool back when it ends. A traveller through three stages costs four
events (an arrival and three completions) instead of the dozen a process with ``Resource``
requests costs, and no event object is allocated per service.

Times are passed down as ``now`` (an event knows its own due time), so the hot path reads no
clock. A pool's queue is whatever its queue discipline gives (FIFO by default); what a pool
records goes to its visit log, which an event sink provides.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.engine.kernel import CheapEvent, Push

if TYPE_CHECKING:
    from sim.engine.hooks import VisitLog, WaitingLine

_NAN = float("nan")


class Traveller(CheapEvent):
    """A vehicle (or pedestrian, or train) on its way through a crossing.

    ``route`` is a list of (station, service minutes): pools, and the neutral zone as a
    gate with no service. ``pos`` is the step it is at. ``tid`` is its identity:
    ``source << 32 | n`` for the n-th arrival of its source, the same however the run is split.
    """

    __slots__ = (
        "tid",
        "source",
        "persons",
        "arrival",
        "route",
        "pos",
        "due",
        "t_enter",
        "t_start",
        "t_end",
        "service",
        "zone",
        "trip",
        "booking",
    )

    def __init__(self, tid: int, source: int, persons: int, arrival: float):
        self.tid = tid
        self.source = source
        self.persons = persons
        self.arrival = arrival
        self.route: list[tuple[Any, float]] = []
        self.pos = -1
        self.service = 0.0
        self.zone: NeutralZone | None = None
        self.trip: Any = None  # a corridor traveller's Trip (sim.engine.trips)
        self.booking: Any = None  # an e-queue's record of a held traveller (sim.policies.equeue)
        # due, t_enter, t_start and t_end are set before they are read (join, start, done)


class Pool:
    """``cap`` servers with one waiting line; the capacity follows the capacity source."""

    __slots__ = ("index", "cap", "busy", "queue", "visits", "push", "callbacks", "moved", "qmax")

    def __init__(
        self,
        index: int,
        cap: int,
        queue: WaitingLine,
        visits: VisitLog,
        push: Push,
        moved: Callable[[Traveller, float], None],
    ):
        self.index = index
        self.cap = cap
        self.busy = 0
        self.queue = queue
        self.visits = visits
        self.push = push
        self.moved = moved  # called when a traveller leaves its last pool
        self.callbacks = [self.done]  # shared by every traveller this pool serves
        self.qmax = 0  # longest line seen since the warm-up ended

    def join(self, tr: Traveller, prev: Pool | None, now: float) -> None:
        if prev is not None:
            prev.leave(tr, now)
        tr.t_enter = now
        queue = self.queue
        if self.busy < self.cap and not queue:
            # start(), inlined: this runs once per visit
            self.busy += 1
            tr.t_start = now
            zone = tr.zone
            if zone is not None:
                tr.zone = None
                zone.leave(now)
            due = now + tr.route[tr.pos][1]
            tr.due = due
            tr.callbacks = self.callbacks
            self.push(due, tr)
        else:  # never ahead of someone already waiting
            queue.append(tr)
            if len(queue) > self.qmax:
                self.qmax = len(queue)

    def start(self, tr: Traveller, now: float) -> None:
        self.busy += 1
        tr.t_start = now
        zone = tr.zone
        if zone is not None:
            tr.zone = None
            zone.leave(now)
        due = now + tr.route[tr.pos][1]
        tr.due = due
        tr.callbacks = self.callbacks
        self.push(due, tr)

    def done(self, tr: Traveller) -> None:
        now = tr.due
        tr.t_end = now
        tr.service += now - tr.t_start
        pos = tr.pos + 1
        tr.pos = pos
        route = tr.route
        if pos < len(route):
            route[pos][0].join(tr, self, now)
        else:
            self.leave(tr, now)
            self.moved(tr, now)

    def leave(self, tr: Traveller, now: float) -> None:
        self.visits.append((self.index, tr.tid, tr.t_enter, tr.t_start, tr.t_end, now))
        self.busy -= 1
        if self.queue and self.busy < self.cap:
            self.start(self.queue.popleft(), now)

    def withdraw(self, leaving: set[int], now: float) -> list[Traveller]:
        """Take the travellers ``leaving`` out of the line (they go elsewhere), keeping the others' order.

        Each leaves a visit with no service: entered, never started, left at ``now``.
        """
        queue = self.queue
        kept, gone = [], []
        while queue:
            tr = queue.popleft()
            (gone if tr.tid in leaving else kept).append(tr)
        for tr in kept:
            queue.append(tr)
        for tr in gone:
            self.visits.append((self.index, tr.tid, tr.t_enter, _NAN, _NAN, now))
        return gone

    def set_capacity(self, cap: int) -> None:
        self.cap = cap

    def fill(self, now: float) -> None:
        """Start waiting travellers while servers are free (after a capacity change)."""
        queue = self.queue
        while queue and self.busy < self.cap:
            self.start(queue.popleft(), now)


class NeutralZone:
    """The space between the two posts, holding a limited number of vehicles.

    A traveller leaves it when its entry-side service starts. When it is full the exit side
    cannot release the next traveller, which keeps its booth (blocking after service) until
    a place frees.
    """

    __slots__ = ("capacity", "count", "blocked", "moved")

    def __init__(self, capacity: int, moved: Callable[[Traveller, float], None]):
        self.capacity = capacity
        self.count = 0
        self.blocked: deque[tuple[Traveller, Pool | None]] = deque()
        self.moved = moved  # called when a traveller has entered: it goes on to its next step

    def join(self, tr: Traveller, prev: Pool | None, now: float) -> None:
        if self.count < self.capacity and not self.blocked:
            self._enter(tr, prev, now)
        else:
            self.blocked.append((tr, prev))

    def _enter(self, tr: Traveller, prev: Pool | None, now: float) -> None:
        self.count += 1
        if prev is not None:
            prev.leave(tr, now)
        tr.zone = self
        self.moved(tr, now)

    def leave(self, now: float) -> None:
        self.count -= 1
        if self.blocked and self.count < self.capacity:
            tr, prev = self.blocked.popleft()
            self._enter(tr, prev, now)
