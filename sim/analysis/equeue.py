"""Where an e-queue traveller's time goes, and how its slots and waiting area were used.

Gathered chunk by chunk like the other statistics, from the rows the e-queue admission logs
(``sim.engine.recorder.BOOKING_COLUMNS``, ``SLOT_COLUMNS``, ``AREA_COLUMNS``). A booked
traveller's ``arrival`` in the standard tables is the time it wanted to cross, so its wait
there is the whole delay; here it is split where it happened:

- ``virtual``: from the time it wanted to reaching the border (waiting wherever it was);
- ``road``: from reaching the border to entering the waiting area (the area full, or its
  window not yet open), or to its call when it never entered the area;
- ``area``: in the waiting area until called (0 when it never entered);
- ``call_up``: from the call to reaching the post;
- ``physical``: at the posts, the queue before the controls and between them (time past the
  post minus its service), the standard wait of a crossing without an e-queue;
- ``service``: its controls, for the reader who wants the whole time at the posts.

Rows (per e-queue) are its classes: ``regular``, each priority class by name, ``walk-in``
(travellers who came without a booking, whatever their class) and ``ALL``. A traveller counts
when the time it wanted is in the observation window [warm-up, horizon); its components when
it has also left the crossing (``finished``). Bookings for a time past the horizon never
arrived: they are counted only as ``booked_beyond``. Late, lost-slot and refused counts are
over the travellers that reached the border. Slots count when their time is in the window,
waiting-area hours when they start in it.

Memory: per finished traveller its row and components until the replication ends (a season
of an e-queue is a few megabytes), then sums and 95th percentiles per row; counts per row,
slot counts per e-queue, and the waiting area per e-queue and hour. Each e-queue belongs to
one crossing and so to one piece of a split run: ``EQueueTotals.merge`` gives the unsplit
figures to the last digit (sums are taken over values sorted within each row).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.daily import sum_and_p95
from sim.engine.recorder import AREA_COLUMNS, BOOKING_COLUMNS, SLOT_COLUMNS, Chunk
from sim.model.booking import EQueuePlan
from sim.model.compile import Model

REGULAR = "regular"
WALK_IN = "walk-in"
ALL = "ALL"
COMPONENTS = ("virtual", "road", "area", "call_up", "physical", "service", "wait")
"""The parts of a finished traveller's time (``wait`` is their sum without ``service``)."""
COUNTS = ("booked", "finished", "inside_at_end", "booked_beyond", "reached", "late", "lost", "refused")
PRIORITY_COUNTS = ("priority_served", "reserved_slots")
"""Per row: travellers served on a booking of a slot reserved for their class; slots of the class offered."""
SLOT_COUNTS = ("offered", "used_by_holder", "used_by_others", "unused", "never_booked", "booked", "no_show", "vacated")
"""Per e-queue: slots in the window, who used them (``used``), and their state in the book."""
AREA_FIELDS = ("area_mean", "area_max", "road_mean", "road_max")

_B = {name: i for i, name in enumerate(BOOKING_COLUMNS)}
_S = {name: i for i, name in enumerate(SLOT_COLUMNS)}
_A = {name: i for i, name in enumerate(AREA_COLUMNS)}


def class_names(plan: EQueuePlan) -> list[str]:
    """The rows of an e-queue, in order: regular, its priority classes, walk-in, ALL."""
    return [REGULAR, *plan.classes, WALK_IN, ALL]


def row_offsets(model: Model) -> np.ndarray:
    """Where each e-queue's rows start in the per-row arrays (one past the last: the row count)."""
    sizes = [len(class_names(p)) for p in model.equeues]
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def run_hours(model: Model) -> int:
    """Hours of the run the waiting area is logged for (the last partial hour is not)."""
    return max(0, math.floor(model.horizon / 60.0 + 1e-9))


@dataclass
class EQueueTotals:
    """One replication's (or piece's) e-queue figures, as arrays per row, per e-queue or per e-queue and hour."""

    counts: dict[str, np.ndarray]  # per row, ``COUNTS`` and ``PRIORITY_COUNTS``
    sums: dict[str, np.ndarray]  # per row, ``COMPONENTS`` over finished travellers
    p95: dict[str, np.ndarray]  # per row, NaN where no traveller finished
    slots: dict[str, np.ndarray]  # per e-queue, ``SLOT_COUNTS``
    area: np.ndarray  # [e-queue, hour, AREA_FIELDS]; NaN outside the window and outside the piece

    @staticmethod
    def merge(parts: Sequence[EQueueTotals]) -> EQueueTotals:
        """Totals of pieces of one replication: each e-queue is counted in exactly one piece.

        Counts and sums add (a piece holds zeros elsewhere); percentiles and the waiting area
        are NaN outside the piece that holds them, so the largest of the pieces' is its own.
        """
        if len(parts) == 1:
            return parts[0]

        def add(name: str) -> dict[str, np.ndarray]:
            first = getattr(parts[0], name)
            return {k: sum((getattr(p, name)[k] for p in parts[1:]), first[k].copy()) for k in first}

        return EQueueTotals(
            counts=add("counts"),
            sums=add("sums"),
            p95={k: np.fmax.reduce(np.stack([p.p95[k] for p in parts]), axis=0) for k in parts[0].p95},
            slots=add("slots"),
            area=np.fmax.reduce(np.stack([p.area for p in parts]), axis=0),
        )


class EQueueStats:
    """Accumulates ``EQueueTotals`` from chunks (a ``ChunkConsumer``); used only when the model has e-queues."""

    def __init__(self, model: Model):
        self.warmup = model.warmup
        self.offsets = row_offsets(model)
        rows = int(self.offsets[-1])
        self.rows = rows
        self.walk_in = np.asarray([len(p.classes) + 1 for p in model.equeues], dtype=np.int64)
        self.all = self.offsets[:-1] + self.walk_in + 1
        n = len(model.equeues)
        self.counts = {k: np.zeros(rows, dtype=np.int64) for k in (*COUNTS, *PRIORITY_COUNTS)}
        self.slots = {k: np.zeros(n, dtype=np.int64) for k in SLOT_COUNTS}
        self.hours = run_hours(model)
        self.area = np.full((n, self.hours, len(AREA_FIELDS)), np.nan)
        self.rows_of: list[np.ndarray] = []  # per chunk: each finished traveller's own row
        self.parts: list[np.ndarray] = []  # per chunk: its components, one column each

    def add(self, chunk: Chunk) -> None:
        if chunk.bookings is not None and len(chunk.bookings):
            self._bookings(chunk.bookings)
        if chunk.slots is not None and len(chunk.slots):
            self._slots(chunk.slots)
        if chunk.area is not None and len(chunk.area):
            self._area(chunk.area)

    def _count(self, name: str, own: np.ndarray, every: np.ndarray, where: np.ndarray) -> None:
        """Add the travellers ``where`` selects to their own row and to their e-queue's ALL row."""
        rows = self.rows
        self.counts[name] += np.bincount(own[where], minlength=rows) + np.bincount(every[where], minlength=rows)

    def _bookings(self, b: np.ndarray) -> None:
        b = b[b[:, _B["desired"]] >= self.warmup]
        q = b[:, _B["equeue"]].astype(np.int64)
        walk = b[:, _B["walk_in"]] > 0
        own = self.offsets[q] + np.where(walk, self.walk_in[q], b[:, _B["cls"]].astype(np.int64))
        every = self.all[q]
        beyond = b[:, _B["beyond"]] > 0
        release = b[:, _B["release"]]
        finished = ~beyond & ~np.isnan(release)
        reached = ~beyond & ~np.isnan(b[:, _B["at_border"]])
        self._count("booked", own, every, ~beyond)
        self._count("booked_beyond", own, every, beyond)
        self._count("finished", own, every, finished)
        self._count("inside_at_end", own, every, ~beyond & np.isnan(release))
        self._count("reached", own, every, reached)
        for flag in ("late", "lost", "refused"):
            self._count(flag, own, every, reached & (b[:, _B[flag]] > 0))
        self._count("priority_served", own, every, ~beyond & (b[:, _B["priority_slot"]] > 0))
        f = b[finished]
        at_border, in_area, called = f[:, _B["at_border"]], f[:, _B["in_area"]], f[:, _B["called"]]
        at_post, service = f[:, _B["at_post"]], f[:, _B["service"]]
        entered = ~np.isnan(in_area)
        physical = f[:, _B["release"]] - at_post - service
        parts = np.column_stack(
            [
                at_border - f[:, _B["desired"]],
                np.where(entered, in_area, called) - at_border,
                np.where(entered, called - in_area, 0.0),
                at_post - called,
                physical,
                service,
                f[:, _B["release"]] - f[:, _B["desired"]] - service,
            ]
        )
        self.rows_of.append(own[finished])
        self.parts.append(parts)

    def _slots(self, s: np.ndarray) -> None:
        s = s[s[:, _S["time"]] >= self.warmup]
        q = s[:, _S["equeue"]].astype(np.int64)
        state, used, cls = s[:, _S["state"]], s[:, _S["used"]], s[:, _S["cls"]].astype(np.int64)
        n = len(self.slots["offered"])
        for name, where in (
            ("offered", np.ones(len(s), dtype=bool)),
            ("used_by_holder", used == 1),
            ("used_by_others", used == 2),
            ("unused", used == 0),
            ("never_booked", state == 0),
            ("booked", state == 1),
            ("no_show", state == 2),
            ("vacated", state == 3),
        ):
            self.slots[name] += np.bincount(q[where], minlength=n)
        reserved = cls > 0
        self.counts["reserved_slots"] += np.bincount(self.offsets[q[reserved]] + cls[reserved], minlength=self.rows)

    def _area(self, a: np.ndarray) -> None:
        hour = a[:, _A["hour"]].astype(np.int64)
        keep = (hour * 60.0 >= self.warmup) & (hour < self.hours)
        a, hour = a[keep], hour[keep]
        q = a[:, _A["equeue"]].astype(np.int64)
        for k, name in enumerate(AREA_FIELDS):
            self.area[q, hour, k] = a[:, _A[name]]

    def finish(self, pools: Sequence[Any]) -> EQueueTotals:
        own = np.concatenate(self.rows_of) if self.rows_of else np.empty(0, dtype=np.int64)
        parts = np.concatenate(self.parts) if self.parts else np.empty((0, len(COMPONENTS)))
        q = np.searchsorted(self.offsets, own, side="right") - 1
        group = np.concatenate([own, self.all[q]])  # each traveller in its own row and its e-queue's ALL row
        codes = np.arange(self.rows)
        sums, p95 = {}, {}
        for k, name in enumerate(COMPONENTS):
            values = np.concatenate([parts[:, k], parts[:, k]])
            sums[name], p95[name], _ = sum_and_p95(codes, self.rows, group, values)
        self.rows_of, self.parts = [], []
        return EQueueTotals(self.counts, sums, p95, self.slots, self.area)
