"""The event engine: travellers, server pools and neutral zones on a SimPy environment.

Travellers are not SimPy processes. Each service completion is one event on SimPy's queue
with a callback, and each arrival another, so a traveller through three stages costs four
events instead of the dozen a process with ``Resource`` requests costs. Queues are FIFO per
pool; capacity changes (shifts, opening hours, closures) are urgent events, so they act before
anything else at the same instant.
Records are appended to flat lists at the moments that decide them (a traveller leaving a
pool), and turned into arrays after the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappush

import numpy as np
import simpy
from simpy.core import NORMAL, URGENT
from simpy.events import Event

from sim.engine.records import ReplicationRecords
from sim.engine.streams import stream
from sim.model.arrivals import arrival_times, follow_opening_hours, hour_edges, hourly_rates
from sim.model.compile import Network, Source, StepPlan
from sim.scenario.schema import MAX_OCCUPANCY

_NAN = float("nan")


class RunawayError(Exception):
    """A replication grew past the scenario's limits: the system is unstable or the run too big."""


class Traveller:
    """A vehicle (or pedestrian, or train) on its way through a crossing."""

    __slots__ = ("tid", "route", "pos", "t_enter", "t_start", "t_end", "zone")

    def __init__(self, tid: int, route: list):
        self.tid = tid
        self.route = route
        self.pos = -1
        self.t_enter = _NAN
        self.t_start = _NAN
        self.t_end = _NAN
        self.zone: NeutralZone | None = None


class _Due:
    """A service completion on SimPy's event queue: the least an event needs to be processed.

    ``Environment.step`` pops it, sets the clock, and calls its callbacks with it. Creating
    one of these and pushing it costs a fraction of a ``Timeout``, and service completions
    are most of a run's events.
    """

    __slots__ = ("callbacks", "_value")
    _ok = True

    def __init__(self, callback: Callable[[_Due], None], value: Traveller | int):
        self.callbacks = [callback]
        self._value = value


class Pool:
    """``cap`` servers with one FIFO queue; the capacity follows the staffing schedule."""

    __slots__ = (
        "env",
        "model",
        "cap",
        "busy",
        "queue",
        "tids",
        "enters",
        "starts",
        "ends",
        "leaves",
        "_done",
        "_heap",
        "_eid",
    )

    def __init__(self, env: simpy.Environment, model: Engine, cap: int):
        self._heap = env._queue
        self._eid = env._eid
        self.env = env
        self.model = model
        self.cap = cap
        self.busy = 0
        self.queue: deque[Traveller] = deque()
        self.tids: list[int] = []
        self.enters: list[float] = []
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.leaves: list[float] = []
        self._done = self.done

    def join(self, tr: Traveller, prev: Pool | None) -> None:
        if prev is not None:
            prev.leave(tr)
        tr.t_enter = self.env._now
        if self.busy < self.cap and not self.queue:
            self.start(tr)
        else:  # first come, first served: never ahead of someone already waiting
            self.queue.append(tr)

    def start(self, tr: Traveller) -> None:
        self.busy += 1
        tr.t_start = self.env._now
        zone = tr.zone
        if zone is not None:
            tr.zone = None
            zone.leave()
        heappush(self._heap, (self.env._now + tr.route[tr.pos][1], NORMAL, next(self._eid), _Due(self._done, tr)))

    def done(self, event: _Due) -> None:
        tr = event._value
        tr.t_end = self.env._now
        pos = tr.pos + 1
        tr.pos = pos
        route = tr.route
        if pos < len(route):
            route[pos][0].join(tr, self)
        else:
            self.leave(tr)
            self.model.finish(tr)

    def record(self, tid: int, enter: float, start: float, end: float, leave: float) -> None:
        """Append one visit to the pool's record columns."""
        self.tids.append(tid)
        self.enters.append(enter)
        self.starts.append(start)
        self.ends.append(end)
        self.leaves.append(leave)

    def leave(self, tr: Traveller) -> None:
        # record() inlined: this runs once per visit, the hottest path of a run
        self.tids.append(tr.tid)
        self.enters.append(tr.t_enter)
        self.starts.append(tr.t_start)
        self.ends.append(tr.t_end)
        self.leaves.append(self.env._now)
        self.busy -= 1
        if self.queue and self.busy < self.cap:
            self.start(self.queue.popleft())

    def set_capacity(self, cap: int) -> None:
        self.cap = cap
        self.fill()

    def fill(self) -> None:
        """Start waiting travellers while servers are free (after a capacity change)."""
        queue = self.queue
        while queue and self.busy < self.cap:
            self.start(queue.popleft())


class NeutralZone:
    """The space between the two posts, holding a limited number of vehicles.

    A traveller leaves it when its entry-side service starts. When it is full the exit side
    cannot release the next traveller, which keeps its booth (blocking after service) until
    a place frees.
    """

    __slots__ = ("model", "capacity", "count", "blocked")

    def __init__(self, model: Engine, capacity: int):
        self.model = model
        self.capacity = capacity
        self.count = 0
        self.blocked: deque[tuple[Traveller, Pool | None]] = deque()

    def join(self, tr: Traveller, prev: Pool | None) -> None:
        if self.count < self.capacity and not self.blocked:
            self._enter(tr, prev)
        else:
            self.blocked.append((tr, prev))

    def _enter(self, tr: Traveller, prev: Pool | None) -> None:
        self.count += 1
        if prev is not None:
            prev.leave(tr)
        tr.zone = self
        self.model.advance(tr)

    def leave(self) -> None:
        self.count -= 1
        if self.blocked and self.count < self.capacity:
            tr, prev = self.blocked.popleft()
            self._enter(tr, prev)


class Engine:
    """One replication of a compiled network."""

    def __init__(self, net: Network, replication: int, seed: int):
        self.net = net
        self.replication = replication
        self.seed = seed
        self.env = simpy.Environment()
        self.pools = [Pool(self.env, self, p.initial) for p in net.pools]
        self.zones = [NeutralZone(self, cap) for _, _, cap in net.zones]
        self.alive: dict[int, Traveller] = {}
        self.arrived = 0
        self.released = 0
        self.max_inside = net.scenario.limits.max_in_system
        self._draw()

    # -- random draws, in blocks, per named stream and source -------------------------------
    def _draw(self) -> None:
        s = self.net.scenario
        horizon = s.horizon
        hours = int(np.ceil(horizon / 60.0))
        times, srcs, persons_all = [], [], []
        self.plans: list[list] = []
        expected = 0.0
        for src in self.net.sources:
            if src.times is not None:
                t = np.asarray([x for x in src.times if x < horizon], dtype=float)
            else:
                rates = hourly_rates(*src.rates_args, self.net.start_weekday, hours)
                if src.crossing_def is not None:
                    edges, rates = follow_opening_hours(rates, src.crossing_def, self.net.start_weekday, horizon)
                else:
                    edges = hour_edges(hours, horizon)
                expected += float(np.sum(rates * np.diff(edges)))
                if expected > s.limits.max_arrivals:
                    raise RunawayError(
                        f"about {expected:,.0f} arrivals expected in one replication, more than "
                        f"limits.max_arrivals ({s.limits.max_arrivals:,}); shorten the horizon or raise the limit"
                    )
                t = arrival_times(stream(self.seed, self.replication, "arrivals", *src.key), rates, edges)
            n = len(t)
            occ = s.flows[src.flow].occupancy
            draws = occ.sample(stream(self.seed, self.replication, "occupancy", *src.key), n)
            persons = np.clip(np.rint(draws), 1, 100 * MAX_OCCUPANCY).astype(np.int64)
            steps = [self._draw_step(src, st, n, persons, horizon) for st in src.before_zone]
            gate = [] if src.zone is None else [(self.zones[src.zone],)]
            steps += gate + [self._draw_step(src, st, n, persons, horizon) for st in src.after_zone]
            self.plans.append(steps)
            times.append(t)
            srcs.append(np.full(n, src.index, dtype=np.int64))
            persons_all.append(persons)
        t_all = np.concatenate(times) if times else np.empty(0)
        order = np.argsort(t_all, kind="stable")
        self.arrival = t_all[order]
        self.source = (np.concatenate(srcs) if srcs else np.empty(0, dtype=np.int64))[order]
        self.persons = (np.concatenate(persons_all) if persons_all else np.empty(0, dtype=np.int64))[order]
        # position of each traveller within its own source's draws
        within = np.empty(len(order), dtype=np.int64)
        offset = 0
        for t in times:
            within[offset : offset + len(t)] = np.arange(len(t))
            offset += len(t)
        self.within = within[order]
        self.release = [_NAN] * len(order)

    def _draw_step(self, src: Source, st: StepPlan, n: int, persons: np.ndarray, horizon: float) -> tuple:
        per_vehicle, per_person, select, secondary = st.stage_def.for_flow(src.flow, st.side)
        key = (*src.key, st.side, st.stage)
        rng = stream(self.seed, self.replication, "service", *key)
        trace = src.service_trace.get(st.stage)
        svc = per_vehicle.sample(rng, n) if not per_vehicle.is_zero else np.zeros(n)
        if trace is not None:
            svc = np.asarray([x for x, t in zip(trace, src.times or [], strict=True) if t < horizon], dtype=float)
        elif not per_person.is_zero and n:
            draws = per_person.sample(rng, int(persons.sum()))
            starts = np.concatenate(([0], np.cumsum(persons)[:-1]))
            svc = svc + np.add.reduceat(draws, starts)
        chosen = None
        if select < 1.0:
            chosen = (stream(self.seed, self.replication, "selection", *key).random(n) < select).tolist()
        sec = None
        if secondary is not None and secondary.share > 0 and st.secondary_pool is not None:
            rng2 = stream(self.seed, self.replication, "secondary", *key)
            flags = rng2.random(n) < secondary.share
            sec_times = secondary.time.sample(rng2, n)
            sec = (self.pools[st.secondary_pool], flags.tolist(), sec_times.tolist())
        return (self.pools[st.pool], svc.tolist(), chosen, sec)

    def _route(self, i: int) -> list:
        j = int(self.within[i])
        route = []
        for step in self.plans[int(self.source[i])]:
            if len(step) == 1:
                route.append((step[0], 0.0))
                continue
            pool, svc, chosen, sec = step
            if chosen is not None and not chosen[j]:
                continue
            route.append((pool, svc[j]))
            if sec is not None and sec[1][j]:
                route.append((sec[0], sec[2][j]))
        return route

    # -- traveller movement -------------------------------------------------------------------
    def advance(self, tr: Traveller) -> None:
        """Move a traveller that holds no server to its next step."""
        pos = tr.pos + 1
        tr.pos = pos
        route = tr.route
        if pos < len(route):
            route[pos][0].join(tr, None)
        else:
            self.finish(tr)

    def finish(self, tr: Traveller) -> None:
        zone = tr.zone
        if zone is not None:
            tr.zone = None
            zone.leave()
        self.release[tr.tid] = self.env._now
        self.released += 1
        del self.alive[tr.tid]

    def _arrive(self, event: _Due) -> None:
        i = event._value
        env = self.env
        if i + 1 < len(self.arrival):
            heappush(env._queue, (self.arrival[i + 1], NORMAL, next(env._eid), _Due(self._arrive, i + 1)))
        tr = Traveller(i, self._route(i))
        self.alive[i] = tr
        self.arrived += 1
        if len(self.alive) > self.max_inside:
            raise RunawayError(
                f"more than {self.max_inside:,} travellers inside at once at {env._now / 1440:.2f} days "
                "(limits.max_in_system): demand exceeds what the crossings can serve; see the stages' load, "
                "add servers, lower demand, shorten the horizon or raise the limit"
            )
        self.advance(tr)

    def _schedule_capacity(self, changes: list[tuple[float, list[tuple[Pool, int]]]], k: int = 0) -> None:
        """Apply the k-th instant's capacity changes, before other events of that instant.

        Every pool changing at that instant gets its new capacity before any of them starts
        a waiting traveller, so a booth closing at 20:00 starts no service at 20:00 even when
        another pool opening at 20:00 passes travellers on to it.
        """
        event = Event(self.env)
        event._ok = True
        event._value = None
        at, updates = changes[k]

        def apply(_: Event) -> None:
            for pool, cap in updates:
                pool.cap = cap
            for pool, _cap in updates:
                pool.fill()
            if k + 1 < len(changes):
                self._schedule_capacity(changes, k + 1)

        event.callbacks.append(apply)
        self.env.schedule(event, URGENT, at - self.env._now)

    def run(self) -> ReplicationRecords:
        env = self.env
        by_time: dict[float, list[tuple[Pool, int]]] = {}
        for pool, info in zip(self.pools, self.net.pools, strict=True):
            for t, cap in zip(info.change_times, info.change_caps, strict=True):
                by_time.setdefault(t, []).append((pool, cap))
        if by_time:
            self._schedule_capacity(sorted(by_time.items(), key=lambda item: item[0]))
        if len(self.arrival):
            self.arrival_list = self.arrival.tolist()
            heappush(env._queue, (self.arrival_list[0], NORMAL, next(env._eid), _Due(self._arrive, 0)))
            self.arrival = self.arrival_list  # type: ignore[assignment]
        env.run(until=self.net.scenario.horizon)
        return self._records()

    def _records(self) -> ReplicationRecords:
        # travellers still inside: close their current visit as unfinished. A traveller
        # blocked at a full neutral zone still holds its exit-side server.
        held = {tr.tid: prev for zone in self.zones for tr, prev in zone.blocked}
        queued = {tr.tid for pool in self.pools for tr in pool.queue}
        for tr in self.alive.values():
            where = held.get(tr.tid)
            if where is None and 0 <= tr.pos < len(tr.route):
                where = tr.route[tr.pos][0]
            if not isinstance(where, Pool):
                continue
            start, end = tr.t_start, tr.t_end
            if tr.tid in queued:
                start = end = _NAN
            elif tr.tid not in held:
                end = _NAN
            where.record(tr.tid, tr.t_enter, start, end, _NAN)
        counts = [len(p.tids) for p in self.pools]
        pool_col = np.repeat(np.arange(len(self.pools), dtype=np.int32), counts)

        def cat(attr: str, dtype: type) -> np.ndarray:
            parts = [np.asarray(getattr(p, attr), dtype=dtype) for p in self.pools]
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        return ReplicationRecords(
            replication=self.replication,
            arrival=np.asarray(self.arrival, dtype=float),
            release=np.asarray(self.release, dtype=float),
            source=np.asarray(self.source, dtype=np.int32),
            persons=np.asarray(self.persons, dtype=np.int64),
            visit_pool=pool_col,
            visit_tid=cat("tids", np.int64),
            visit_enter=cat("enters", float),
            visit_start=cat("starts", float),
            visit_end=cat("ends", float),
            visit_leave=cat("leaves", float),
            arrived=self.arrived,
            released=self.released,
            inside=len(self.alive),
        )


def simulate(net: Network, replication: int, seed: int | None = None) -> ReplicationRecords:
    """Run one replication of ``net`` and return its records."""
    return Engine(net, replication, net.scenario.seed if seed is None else seed).run()
