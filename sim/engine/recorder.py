"""The default event sink: visit and traveller rows, flushed as columns once a simulated day.

The engine appends one tuple per finished visit (to its pool's log) and one per traveller
leaving; a flush turns them into numpy columns (a ``Chunk``) and hands them to consumers:
the running statistics of ``sim.analysis`` and, when records are kept, the Parquet writers
of ``sim.outputs``. Memory is a day of rows, whatever the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Chunk:
    """A flush's rows as columns. Times in minutes from the start; NaN where not reached."""

    replication: int
    visit_pool: np.ndarray
    visit_tid: np.ndarray
    visit_enter: np.ndarray
    visit_start: np.ndarray
    visit_end: np.ndarray
    visit_leave: np.ndarray
    tid: np.ndarray
    source: np.ndarray
    persons: np.ndarray
    arrival: np.ndarray
    release: np.ndarray
    service: np.ndarray
    trips: np.ndarray | None = None
    """Corridor trips, one row each (``TRIP_COLUMNS``); None when the run has no corridors."""
    bookings: np.ndarray | None = None
    """E-queue travellers, one row each (``BOOKING_COLUMNS``); None when the run has no e-queue."""
    slots: np.ndarray | None = None
    """E-queue slots at their time, one row each (``SLOT_COLUMNS``)."""
    area: np.ndarray | None = None
    """E-queue waiting areas, one row per hour (``AREA_COLUMNS``)."""

    def time_in_system(self) -> np.ndarray:
        """Release minus arrival of each traveller; NaN for those still inside."""
        return self.release - self.arrival

    def finished_service(self) -> np.ndarray:
        """Each traveller's total service time; NaN for those still inside (their service is not over)."""
        return np.where(np.isnan(self.release), np.nan, self.service)

    def wait(self) -> np.ndarray:
        """Time in system minus service: queueing, blocking at a full zone, waiting for a shut crossing."""
        return self.time_in_system() - self.finished_service()


TRIP_COLUMNS = (
    "tid",
    "corridor",
    "first_option",
    "option",
    "departure",
    "arrival",
    "release",
    "drive",
    "km",
    "switches",
)
"""A corridor trip's row: its traveller, corridor, the option it set off for and the one it
used (indices into the corridor's options), when it departed, reached its last crossing
(NaN: still driving) and left it (NaN: still inside), minutes and km driven (to, between
and on from crossings), and how many times it switched."""


BOOKING_COLUMNS = (
    "tid",
    "equeue",
    "cls",
    "walk_in",
    "booked",
    "desired",
    "slot",
    "at_border",
    "in_area",
    "called",
    "at_post",
    "release",
    "service",
    "late",
    "lost",
    "refused",
    "priority_slot",
    "beyond",
)
"""An e-queue traveller's row: its traveller, e-queue (index into the model's), priority class
(0 regular), whether it came without a booking, when it booked and the time it wanted, its
slot's time, when it reached the border, entered the waiting area (NaN: never, called on
arrival or from the road), was called and reached the post, when it left its last control
(NaN: still inside) and its service; whether it came after its slot, lost the slot by coming
too late, was turned away (walk-in rule ``refused``), held a booking of a slot reserved for its
class (served then, or earlier when an unused slot pulled it forward), and whether the time it
wanted was after the run (it never arrived)."""

SLOT_COLUMNS = ("equeue", "time", "cls", "state", "used")
"""A slot at its time: its e-queue, start, class (0 regular), state in the book (0 free,
1 booked, 2 a no-show's, 3 left by a holder called earlier) and who used it (0 nobody, 1 its
holder, 2 someone else)."""

AREA_COLUMNS = ("equeue", "hour", "area_mean", "area_max", "road_mean", "road_max")
"""An e-queue's waiting area over one hour of the run: vehicles in it and on the road outside
(waiting for room, or for their window to open), the hour's time-average and maximum."""


class ChunkConsumer(Protocol):
    """Something that takes the records chunk by chunk (statistics, files)."""

    def add(self, chunk: Chunk) -> None: ...

    def finish(self, pools: Sequence[Any]) -> Any:
        """The run is over; ``pools`` are the engine's pools (for what they tracked themselves)."""


class Recorder:
    """Collects rows between flushes and hands each flush to its consumers."""

    def __init__(self, replication: int, consumers: Sequence[ChunkConsumer]):
        self.replication = replication
        # one list for every pool: a flush converts it in one call, however many pools there are
        self.visits: list[tuple[int, int, float, float, float, float]] = []
        self.travellers: list[tuple[int, int, int, float, float, float]] = []
        self.trips: list[tuple] | None = None
        self.equeue: tuple[list[tuple], list[tuple], list[tuple]] | None = None
        self.consumers = list(consumers)

    def visit_log(self, pool: int) -> list[tuple[int, int, float, float, float, float]]:
        return self.visits

    def traveller_log(self) -> list[tuple[int, int, int, float, float, float]]:
        return self.travellers

    def trip_log(self) -> list[tuple]:
        """Where corridor trips are logged (asked for only by a run with corridors)."""
        if self.trips is None:
            self.trips = []
        return self.trips

    def booking_log(self) -> list[tuple]:
        """Where e-queue travellers are logged (asked for only by a run with e-queues)."""
        return self._equeue()[0]

    def slot_log(self) -> list[tuple]:
        return self._equeue()[1]

    def area_log(self) -> list[tuple]:
        return self._equeue()[2]

    def _equeue(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        if self.equeue is None:
            self.equeue = ([], [], [])
        return self.equeue

    def flush(self, now: float) -> None:
        chunk = self._chunk()
        for consumer in self.consumers:
            consumer.add(chunk)

    def close(self, now: float, pools: Sequence[Any]) -> list[Any]:
        self.flush(now)
        return [consumer.finish(pools) for consumer in self.consumers]

    def _chunk(self) -> Chunk:
        visits = np.array(self.visits, dtype=np.float64).reshape(len(self.visits), 6)
        self.visits.clear()
        trav = np.array(self.travellers, dtype=np.float64).reshape(len(self.travellers), 6)
        self.travellers.clear()
        trips = None
        if self.trips is not None:
            trips = np.array(self.trips, dtype=np.float64).reshape(len(self.trips), len(TRIP_COLUMNS))
            self.trips.clear()
        bookings = slots = area = None
        if self.equeue is not None:
            bookings, slots, area = (
                _columns(rows, len(cols))
                for rows, cols in zip(self.equeue, (BOOKING_COLUMNS, SLOT_COLUMNS, AREA_COLUMNS), strict=True)
            )
        return Chunk(
            replication=self.replication,
            visit_pool=visits[:, 0].astype(np.int32),
            visit_tid=visits[:, 1].astype(np.int64),
            visit_enter=visits[:, 2].copy(),
            visit_start=visits[:, 3].copy(),
            visit_end=visits[:, 4].copy(),
            visit_leave=visits[:, 5].copy(),
            tid=trav[:, 0].astype(np.int64),
            source=trav[:, 1].astype(np.int32),
            persons=trav[:, 2].astype(np.int64),
            arrival=trav[:, 3].copy(),
            release=trav[:, 4].copy(),
            service=trav[:, 5].copy(),
            trips=trips,
            bookings=bookings,
            slots=slots,
            area=area,
        )


def _columns(rows: list[tuple], width: int) -> np.ndarray:
    """A list of rows as a float array (emptied for the next flush)."""
    out = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    rows.clear()
    return out
