"""Statistics gathered while a replication runs, chunk by chunk, from integer group codes.

Counts and sums are added per chunk with ``np.bincount`` on each traveller's group code (its
crossing x direction x flow) or each visit's pool index, so no table is built or copied per
grouping. Exact quantiles need the values themselves: each completed traveller's wait and
time in system are kept as two float64s, with its group code and its persons (wagons of a
freight train) for the person-weighted hours of delay (24 bytes a traveller), and the KPIs
are computed from them sorted by value, so they do not depend on the order in which
travellers finished, on how the run was chunked, or on how it was split into pieces.

Statistics cover the observation window [warm-up, horizon). A traveller counts as an
arrival when it arrives in the window; its wait is its time in system minus its service
time (queueing, blocking at a full neutral zone, and waiting for a closed crossing).
Throughput counts every release in the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.recorder import Chunk
from sim.model.compile import Model


@dataclass
class TravellerTotals:
    """Per group of one replication (or piece): counts, and the completed travellers' values."""

    arrivals: np.ndarray
    completed: np.ndarray
    released: np.ndarray
    released_persons: np.ndarray
    group: np.ndarray  # per completed traveller
    wait: np.ndarray
    time_in_system: np.ndarray
    persons: np.ndarray  # per completed traveller: its occupancy (persons, or wagons of a freight train)

    @staticmethod
    def merge(parts: Sequence[TravellerTotals]) -> TravellerTotals:
        """Totals of pieces of one replication (integer sums, values concatenated)."""
        if len(parts) == 1:  # a whole run: nothing to join, and no copy of its values
            return parts[0]
        first = parts[0]
        return TravellerTotals(
            arrivals=sum((p.arrivals for p in parts[1:]), first.arrivals.copy()),
            completed=sum((p.completed for p in parts[1:]), first.completed.copy()),
            released=sum((p.released for p in parts[1:]), first.released.copy()),
            released_persons=sum((p.released_persons for p in parts[1:]), first.released_persons.copy()),
            group=np.concatenate([p.group for p in parts]),
            wait=np.concatenate([p.wait for p in parts]),
            time_in_system=np.concatenate([p.time_in_system for p in parts]),
            persons=np.concatenate([p.persons for p in parts]),
        )


class TravellerStats:
    """Accumulates ``TravellerTotals`` from chunks."""

    def __init__(self, model: Model):
        self.warmup = model.warmup
        self.group_of = np.asarray([s.group for s in model.sources], dtype=np.int32)
        n = len(model.groups)
        self.arrivals = np.zeros(n, dtype=np.int64)
        self.completed = np.zeros(n, dtype=np.int64)
        self.released = np.zeros(n, dtype=np.int64)
        self.persons = np.zeros(n, dtype=np.int64)
        self.groups: list[np.ndarray] = []
        self.waits: list[np.ndarray] = []
        self.times: list[np.ndarray] = []
        self.occupants: list[np.ndarray] = []

    def add(self, chunk: Chunk) -> None:
        n = len(self.arrivals)
        g = self.group_of[chunk.source]
        arrived = chunk.arrival >= self.warmup
        out = ~np.isnan(chunk.release)
        done = arrived & out
        in_window = out & (chunk.release >= self.warmup)
        self.arrivals += np.bincount(g[arrived], minlength=n)
        self.completed += np.bincount(g[done], minlength=n)
        self.released += np.bincount(g[in_window], minlength=n)
        np.add.at(self.persons, g[in_window], chunk.persons[in_window])
        self.groups.append(g[done])
        self.waits.append(chunk.wait()[done])
        self.times.append(chunk.time_in_system()[done])
        self.occupants.append(chunk.persons[done].astype(np.int32))  # at most MAX_PERSONS: fits

    def finish(self, pools: Sequence[Any]) -> TravellerTotals:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        return TravellerTotals(
            self.arrivals,
            self.completed,
            self.released,
            self.persons,
            cat(self.groups, np.int32),
            cat(self.waits, np.float64),
            cat(self.times, np.float64),
            cat(self.occupants, np.int32),
        )


POOL_SUMS = (
    "busy",
    "queue_area",
    "n_wait",
    "wait_sum",
    "served",
    "n_arrived",
    "n_done",
    "service_sum",
    "waiting_mid",
    "waiting_end",
    "reneged",
    "queue_max",
)


@dataclass
class PoolTotals:
    """Per pool of one replication: sums over its visits, and the longest line it saw."""

    sums: dict[str, np.ndarray]

    @staticmethod
    def merge(parts: Sequence[PoolTotals], pieces: Sequence[Sequence[int]]) -> PoolTotals:
        """Totals of pieces: each pool's figures come from the one piece that ran it."""
        sums = {k: np.zeros_like(parts[0].sums[k]) for k in POOL_SUMS}
        for part, pools in zip(parts, pieces, strict=True):
            idx = np.asarray(pools, dtype=np.int64)
            for k in POOL_SUMS:
                sums[k][idx] = part.sums[k][idx]
        return PoolTotals(sums)


class PoolStats:
    """Accumulates ``PoolTotals`` from chunks: utilisation, queue area, waits, load, backlog."""

    def __init__(self, model: Model):
        self.warmup, self.horizon = model.warmup, model.horizon
        self.n = len(model.pools)
        self.sums = {
            k: np.zeros(self.n, dtype=np.int64 if k.startswith(("n_", "served", "waiting", "reneged")) else float)
            for k in POOL_SUMS
        }

    def add(self, c: Chunk) -> None:
        warmup, horizon, n, s = self.warmup, self.horizon, self.n, self.sums
        idx = c.visit_pool
        enter = np.clip(c.visit_enter, warmup, horizon)
        # a visit never started: still waiting at the horizon, or left the line (diverted) at its leave time
        start_raw = np.where(
            np.isnan(c.visit_start), np.where(np.isnan(c.visit_leave), horizon, c.visit_leave), c.visit_start
        )
        start = np.clip(start_raw, warmup, horizon)
        leave = np.clip(np.where(np.isnan(c.visit_leave), horizon, c.visit_leave), warmup, horizon)
        started = ~np.isnan(c.visit_start)
        s["busy"] += np.bincount(idx[started], weights=(leave - start)[started], minlength=n)
        s["queue_area"] += np.bincount(idx, weights=start - enter, minlength=n)
        in_window = started & (c.visit_enter >= warmup)
        s["n_wait"] += np.bincount(idx[in_window], minlength=n)
        s["wait_sum"] += np.bincount(idx[in_window], weights=(c.visit_start - c.visit_enter)[in_window], minlength=n)
        ended = ~np.isnan(c.visit_end)
        s["served"] += np.bincount(idx[ended & (c.visit_end >= warmup)], minlength=n)
        s["n_arrived"] += np.bincount(idx[c.visit_enter >= warmup], minlength=n)
        s["n_done"] += np.bincount(idx[ended], minlength=n)
        s["service_sum"] += np.bincount(idx[ended], weights=(c.visit_end - c.visit_start)[ended], minlength=n)
        middle = warmup + (horizon - warmup) / 2
        s["waiting_mid"] += np.bincount(idx[(c.visit_enter <= middle) & (start_raw > middle)], minlength=n)
        s["waiting_end"] += np.bincount(idx[~started & np.isnan(c.visit_leave)], minlength=n)
        s["reneged"] += np.bincount(idx[~started & ~np.isnan(c.visit_leave) & (c.visit_leave >= warmup)], minlength=n)

    def finish(self, pools: Sequence[Any]) -> PoolTotals:
        self.sums["queue_max"] = np.asarray([p.qmax for p in pools], dtype=float)
        return PoolTotals(self.sums)
