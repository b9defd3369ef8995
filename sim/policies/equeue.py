"""The electronic queue: an admission that holds travellers until their booked slot.

A traveller of an e-queue's flows that appears at the crossing (the demand's arrival) books
there and then: the first free slot at or after the time it wants (its booking lead later;
0 for a live queue). Until it reaches the border it waits where it is (virtual waiting). It
reaches the border ``before`` minutes ahead of its slot (or ``late`` after it), waits in the
waiting area, or on the road while the area is full or its window has not opened, and is
called at its slot; it then drives ``call_up`` minutes to the post and goes through the
controls as anyone else. Its ``arrival`` in every table is the time it wanted, so its wait
there is the whole delay: virtual, road, area, call-up and the physical queue.

Each slot's time is a tick: the holders present are called first, then each slot left
unused (never booked, held by a no-show, or left by a holder called earlier) goes to the
first standby walk-in, else (``fill_unused``) to the waiting traveller with the earliest
slot. A holder absent at its tick keeps the slot until ``latest`` after it. No-shows are
bookings nobody uses: each booker holds, beside its own, a Poisson number of bookings
(mean s/(1-s) for a no-show share s) made with it, the duplicate bookings carriers hold
under other plates. Every booked traveller, slot and hour of the waiting area is logged
(``sim.engine.recorder``) for ``sim.analysis.equeue``.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine.entities import Traveller
from sim.engine.kernel import CheapEvent
from sim.model.booking import EQueuePlan
from sim.policies.booking_records import (
    AREA,
    BY_HOLDER,
    BY_OTHER,
    CALLED,
    EARLY,
    ROAD,
    UNUSED,
    VIRTUAL,
    Booking,
    Levels,
    Luck,
    poisson_cdf,
)
from sim.policies.slots import BOOKED, FREE, NO_SHOW, VACATED, SlotBook

if TYPE_CHECKING:
    from sim.engine.core import Engine

_NAN = float("nan")


class _Timer(CheapEvent):
    """A one-off event for a traveller that may meanwhile be moved by something else."""

    __slots__ = ("tr", "due")


class _Queue:
    """The state of one e-queue in a replication."""

    def __init__(self, plan: EQueuePlan, logs: tuple[list, list, list]):
        self.plan = plan
        self.book = SlotBook(plan.slot_times, plan.slot_class, len(plan.classes))
        self.holders: dict[int, Traveller] = {}  # slot -> its real holder, until the slot's tick
        self.pending: dict[int, Traveller] = {}  # slots whose holder was absent at the tick
        self.road: dict[int, Traveller] = {}  # waiting for room in the area, in order
        self.area = 0
        self.standby: deque[Traveller] = deque()
        self.early: list[tuple[float, int, int, Traveller]] = []  # (slot time, slot, tid, traveller)
        self.bookings, self.slot_log, area_log = logs
        self.levels = Levels(plan.index, area_log)
        self.ticked = -math.inf  # the time of the last slot tick: slots then are past booking
        mean_dup = plan.no_show / (1.0 - plan.no_show)
        self.dup_cdf = poisson_cdf(mean_dup)


def _bookable(q: _Queue, at: float) -> float:
    """The earliest slot time a booking wanting ``at`` may get: a slot whose tick has passed is gone.

    A booking made at a slot's instant after its tick (the events of an instant run in the
    order they were scheduled) would otherwise hold a slot nobody will call.
    """
    return at if at > q.ticked else math.nextafter(q.ticked, math.inf)


class EQueues:
    """The admission of a run with e-queues: travellers of other sources go straight on."""

    def __init__(self, model: Any, seed: int, replication: int):
        self.model = model
        self.seed = seed
        self.replication = replication

    def bind(self, engine: Engine) -> None:
        self.engine = engine
        self.push = engine.push
        self.horizon = self.model.horizon
        self.tick_callbacks = [self._tick]
        self.arrive_callbacks = [self._reach]
        self.post_callbacks = [self._at_post]
        self.window_callbacks = [self._window_opens]
        sink = engine.sink
        logs = (sink.booking_log(), sink.slot_log(), sink.area_log())
        wanted = set(engine.piece.sources)
        self.queues: list[_Queue] = []
        self.by_source: dict[int, _Queue] = {}
        self.by_index: dict[int, _Queue] = {}
        self.luck: dict[int, Luck] = {}
        for plan in self.model.equeues:
            members = [s for s in plan.sources if s in wanted]
            if not members:
                continue
            q = _Queue(plan, logs)
            self.queues.append(q)
            self.by_index[plan.index] = q
            for s in members:
                self.by_source[s] = q
                self.luck[s] = Luck(plan, self.model.sources[s].key, self.seed, self.replication)
            self._start_clock(q)

    def holds(self, source: int) -> bool:
        """Whether travellers of ``source`` may be held (the engine asks only about those)."""
        return source in self.by_source

    # -- booking ------------------------------------------------------------------------------
    def admit(self, tr: Traveller, now: float) -> bool:
        q = self.by_source.get(tr.source)
        if q is None or now < q.plan.start:
            return True
        plan = q.plan
        walk, cls_u, lead, before, late_u, late, call_up, dup_u = self.luck[tr.source].next()
        if walk < plan.walk_in_share:
            tr.booking = Booking(plan.index, 0, True, now, now, before, call_up)
            self._reach_border(q, tr, now)
            return False
        cls, edge = 0, 0.0
        for k, share in enumerate(plan.class_demand, start=1):
            edge += share
            if cls_u < edge:
                cls = k
                break
        desired = now + min(lead, plan.booking_horizon)
        tr.arrival = desired
        tr.booking = b = Booking(plan.index, cls, False, now, desired, before, call_up)
        slot = q.book.book(_bookable(q, desired), now, cls, plan.release_before)
        dups = 0
        while dups < len(q.dup_cdf) and dup_u >= q.dup_cdf[dups]:
            dups += 1
        for _ in range(dups):
            if q.book.book(_bookable(q, desired), now, 0, plan.release_before, NO_SHOW) is None:
                break
        if slot is None:
            return False  # no slot left on the timeline: it waits away until the end
        self._hold(q, tr, slot)
        st = b.slot_time
        at = st + late if late_u < plan.late_share else max(desired, st - before)
        self._schedule_reach(tr, at, now)
        return False

    def _hold(self, q: _Queue, tr: Traveller, slot: int) -> None:
        b = tr.booking
        b.slot = slot
        b.slot_time = q.book.times[slot]
        q.holders[slot] = tr

    def _schedule_reach(self, tr: Traveller, at: float, now: float) -> None:
        if at <= now:
            self._reach_border(self.by_source[tr.source], tr, now)
            return
        tr.due = at
        tr.callbacks = self.arrive_callbacks
        self.push(at, tr)

    def _reach(self, tr: Traveller) -> None:
        self._reach_border(self.by_source[tr.source], tr, tr.due)

    # -- at the border ------------------------------------------------------------------------
    def _reach_border(self, q: _Queue, tr: Traveller, t: float) -> None:
        b = tr.booking
        plan = q.plan
        b.at_border = t
        if b.slot < 0:
            self._without_slot(q, tr, t)
            return
        st = b.slot_time
        # at the slot's own instant its tick may already have passed (pushed before this arrival)
        if t > st or (t == st and b.slot in q.pending):
            b.late = t > st
            holder = q.pending.pop(b.slot, None)
            if plan.latest is None or t - st <= plan.latest:
                if holder is not None:  # its tick has passed: it is called now, into its own slot
                    self._slot_row(q, b.slot, BOOKED, BY_HOLDER)
                    self._call(q, tr, t)
                    return
                # the tick is still to come at this instant (arrivals first)
                self._present(q, tr, t)
                return
            if holder is not None:
                self._slot_row(q, b.slot, BOOKED, UNUSED)
            else:
                q.holders.pop(b.slot, None)
            b.lost = True
            b.slot, b.slot_time = -1, _NAN
            self._without_slot(q, tr, t)
            return
        self._present(q, tr, t)

    def _without_slot(self, q: _Queue, tr: Traveller, t: float) -> None:
        """A walk-in, or a traveller who lost its slot: the e-queue's rule for those without a booking."""
        plan = q.plan
        b = tr.booking
        rule = plan.walk_in_rule
        if rule == "standby":
            q.standby.append(tr)
            self._present(q, tr, t)
            return
        slot = q.book.book(_bookable(q, t), t, 0, plan.release_before)
        if slot is None:
            b.where = VIRTUAL
            return
        b.rebooked = True
        self._hold(q, tr, slot)
        if rule == "next_slot":
            self._present(q, tr, t)
            return
        b.refused = True  # turned away: it comes back for its new slot, on time
        b.where = VIRTUAL
        self._schedule_reach(tr, max(t, b.slot_time - b.before), t)

    def _present(self, q: _Queue, tr: Traveller, t: float) -> None:
        b = tr.booking
        plan = q.plan
        if b.slot >= 0 and plan.earliest is not None and t < b.slot_time - plan.earliest:
            b.where = EARLY
            q.levels.change(t, road=1)
            timer = _Timer()
            timer.tr = tr
            timer.due = b.slot_time - plan.earliest
            timer.callbacks = self.window_callbacks
            self.push(timer.due, timer)
        else:
            self._enter_area(q, tr, t)
        if b.slot >= 0 and plan.fill_unused:
            heapq.heappush(q.early, (b.slot_time, b.slot, tr.tid, tr))

    def _window_opens(self, timer: _Timer) -> None:
        tr = timer.tr
        b = tr.booking
        if b.where != EARLY:
            return  # called meanwhile
        q = self.by_index[b.queue]
        q.levels.change(timer.due, road=-1)
        self._enter_area(q, tr, timer.due)

    def _enter_area(self, q: _Queue, tr: Traveller, t: float) -> None:
        b = tr.booking
        if q.area < q.plan.area_capacity and not q.road:
            q.area += 1
            b.where = AREA
            b.in_area = t
            q.levels.change(t, area=1)
        else:
            q.road[tr.tid] = tr
            b.where = ROAD
            q.levels.change(t, road=1)

    def _leave(self, q: _Queue, tr: Traveller, t: float) -> None:
        b = tr.booking
        if b.where == AREA:
            q.area -= 1
            q.levels.change(t, area=-1)
            while q.road and q.area < q.plan.area_capacity:
                tid = next(iter(q.road))
                nxt = q.road.pop(tid)
                q.area += 1
                nxt.booking.where = AREA
                nxt.booking.in_area = t
                q.levels.change(t, area=1, road=-1)
        elif b.where == ROAD:
            del q.road[tr.tid]
            q.levels.change(t, road=-1)
        elif b.where == EARLY:
            q.levels.change(t, road=-1)

    # -- calls --------------------------------------------------------------------------------
    def _call(self, q: _Queue, tr: Traveller, t: float) -> None:
        b = tr.booking
        self._leave(q, tr, t)
        b.where = CALLED
        b.called = t
        # served as priority: it booked a slot reserved for its class (called then or, when a
        # slot left unused pulls it forward, earlier); the reserved slots bound it by the quota
        b.priority_slot = b.cls > 0 and q.book.cls[b.slot] == b.cls
        drive = b.drive
        if drive <= 0:
            b.at_post = t
            self.engine.release(tr, t)
            return
        tr.due = t + drive
        tr.callbacks = self.post_callbacks
        self.push(tr.due, tr)

    def _at_post(self, tr: Traveller) -> None:
        tr.booking.at_post = tr.due
        self.engine.release(tr, tr.due)

    def _start_clock(self, q: _Queue) -> None:
        times = q.book.times
        first = int(np.searchsorted(q.plan.slot_times, q.plan.start, side="left"))
        if first >= len(times) or times[first] >= self.model.horizon:
            return
        clock = _Timer()
        clock.tr = (q, first)
        clock.due = times[first]
        clock.callbacks = self.tick_callbacks
        self.push(clock.due, clock)

    def _tick(self, clock: _Timer) -> None:
        q, first = clock.tr
        times, state = q.book.times, q.book.state
        now = clock.due
        q.ticked = now
        last = first
        n = len(times)
        while last < n and times[last] == now:
            last += 1
        unused = []
        for k in range(first, last):
            if state[k] == BOOKED:
                tr = q.holders.pop(k, None)
                if tr is None:  # its holder lost it (late) before the tick
                    self._slot_row(q, k, BOOKED, UNUSED)
                elif tr.booking.where in (EARLY, ROAD, AREA):
                    self._slot_row(q, k, BOOKED, BY_HOLDER)
                    self._call(q, tr, now)
                else:
                    q.pending[k] = tr  # absent: it keeps the slot until it comes or is too late
            else:
                unused.append(k)
        for k in unused:
            filler = self._filler(q, now) if q.standby or q.early else None
            if filler is not None:
                self._call(q, filler, now)
            self._slot_row(q, k, state[k], BY_OTHER if filler is not None else UNUSED)
        if last < n and times[last] < self.horizon:
            clock.tr = (q, last)
            clock.due = times[last]
            clock.callbacks = self.tick_callbacks
            self.push(clock.due, clock)

    def _filler(self, q: _Queue, now: float) -> Traveller | None:
        """Who takes a slot left unused: a standby walk-in, else the waiting traveller with the earliest slot."""
        while q.standby:
            tr = q.standby.popleft()
            if tr.booking.where in (EARLY, ROAD, AREA):
                return tr
        if not q.plan.fill_unused:
            return None
        early = q.early
        while early:
            st, slot, _tid, tr = early[0]
            b = tr.booking
            if b.where not in (EARLY, ROAD, AREA) or b.slot != slot:
                heapq.heappop(early)  # called, or rebooked: stale
                continue
            if st <= now:
                return None  # its own tick is this instant
            heapq.heappop(early)
            q.holders.pop(slot, None)
            q.book.state[slot] = VACATED
            return tr
        return None

    def _slot_row(self, q: _Queue, slot: int, state: int, used: int) -> None:
        q.slot_log.append((q.plan.index, q.book.times[slot], q.book.cls[slot], state, used))

    # -- the end ------------------------------------------------------------------------------
    def finished(self, tr: Traveller, now: float) -> None:
        """A held traveller left its last control: log its e-queue record."""
        self._log(tr, now)

    def _log(self, tr: Traveller, release: float, beyond: bool = False) -> None:
        b = tr.booking
        q = self.by_index[b.queue]
        q.bookings.append(
            (
                tr.tid, b.queue, b.cls, b.walk_in, b.booked, b.desired, b.slot_time, b.at_border, b.in_area,
                b.called, b.at_post, release, tr.service, b.late, b.lost, b.refused, b.priority_slot, beyond,
            )
        )  # fmt: skip

    def close(self, now: float) -> None:
        """The horizon: log who is still held or inside, and the slots and hours not yet logged.

        Travellers whose wanted time is after the horizon never arrived in the run: they are
        logged as bookings (``beyond``) and taken out of the engine's count of those inside.
        """
        alive = self.engine.alive
        for tid in sorted(alive):
            tr = alive[tid]
            b = getattr(tr, "booking", None)
            if b is None:
                continue
            if b.desired >= now:
                self._log(tr, _NAN, beyond=True)
                del alive[tid]
                self.engine.arrived -= 1  # counted in at booking; it never arrived in the run
            else:
                self._log(tr, _NAN)
        for q in self.queues:
            for k in sorted(q.pending):
                self._slot_row(q, k, BOOKED, UNUSED)
            q.pending.clear()
            q.levels.advance(now)


__all__ = ["EQueues", "Booking", "FREE", "BOOKED", "NO_SHOW", "VACATED", "UNUSED", "BY_HOLDER", "BY_OTHER"]
