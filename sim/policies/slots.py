"""The slot book of one e-queue: which slots are taken, and the first free one after a time.

Each class of slots (regular, and each priority class) is a sorted list with a
"next free" union-find over it (path halving), so finding the first free slot at or after a
time costs a binary search and a near-constant walk, whatever the backlog: a multi-day
queue of thousands of bookings books as fast as an empty one. Slots are never given back:
a booking that is not used leaves its slot to be filled at its time, as at a real post.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left

import numpy as np

FREE, BOOKED, NO_SHOW, VACATED = 0, 1, 2, 3
"""A slot's state in the book: free, booked by a traveller, booked by nobody who will come
(a no-show), or left by a holder called earlier into another slot."""


class _ClassSlots:
    """The slots of one class: their global indices and times, and the next-free structure."""

    __slots__ = ("index", "times", "parent")

    def __init__(self, index: np.ndarray, times: np.ndarray):
        self.index = array("q", index.tolist())
        self.times = array("d", times.tolist())
        self.parent = array("q", range(len(index) + 1))  # the last entry: "none left"

    def first_free(self, at: float) -> int:
        """Position of the first free slot starting at or after ``at`` (len: none)."""
        p = bisect_left(self.times, at)
        parent = self.parent
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def take(self, p: int) -> int:
        """Mark position ``p`` taken; its global slot index."""
        self.parent[p] = p + 1
        return self.index[p]


class SlotBook:
    """All slots of one e-queue, by class, with each slot's state."""

    def __init__(self, times: np.ndarray, classes: np.ndarray, count: int):
        self.times = times.tolist()
        self.cls = classes.tolist()
        self.state = bytearray(len(self.times))
        self.by_class = [_ClassSlots(np.flatnonzero(classes == k), times[classes == k]) for k in range(count + 1)]

    def book(self, at: float, now: float, cls: int, release_before: float, state: int = BOOKED) -> int | None:
        """Book the earliest free slot starting at or after ``at`` for a traveller of class ``cls``.

        A priority traveller takes the earlier of its class's first free slot and the first
        free regular one. A regular one may take a reserved slot still free within
        ``release_before`` of ``now``. None: no slot left on the timeline.
        """
        best: tuple[float, int] | None = None
        candidates = (0, cls) if cls else (0,)
        for k in candidates:
            slots = self.by_class[k]
            p = slots.first_free(at)
            if p < len(slots.times) and (best is None or slots.times[p] < best[0]):
                best = (slots.times[p], k)
        if not cls and release_before > 0:
            for k in range(1, len(self.by_class)):
                slots = self.by_class[k]
                p = slots.first_free(at)
                open_now = p < len(slots.times) and slots.times[p] <= now + release_before
                if open_now and (best is None or slots.times[p] < best[0]):
                    best = (slots.times[p], k)
        if best is None:
            return None
        slots = self.by_class[best[1]]
        slot = slots.take(slots.first_free(at))
        self.state[slot] = state
        return slot
