"""The next traveller of a source or corridor, as one event on SimPy's heap pushed again for each.

A source (or a corridor) draws a calendar week of travellers at a time (``sim.engine.luck``)
and lets them in one by one: a single event object holds the week's arrival times and
persons as lists and is pushed back onto the heap for the next one, so no event object is
allocated per traveller. A traveller's id is ``identity << 32 | n`` for the source's n-th
traveller, the same however a run is split into pieces.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sim.engine.kernel import CheapEvent, Push
from sim.engine.luck import SourceDraws, WeekDraws


class WeeklyEvents(CheapEvent):
    """The next traveller of one source or corridor; subclasses say what else a week's block gives."""

    __slots__ = (
        "draws",
        "identity",
        "push",
        "own_callbacks",
        "block",
        "times",
        "persons",
        "base",
        "row",
        "week",
        "due",
    )

    def __init__(self, draws: SourceDraws, identity: int, push: Push, callbacks: list[Callable[[Any], None]]):
        self.draws = draws
        self.identity = identity
        self.push = push
        self.own_callbacks = self.callbacks = callbacks
        self.week = -1
        self.row = 0
        self.times: list[float] = []
        self.persons: list[int] = []
        self.base = 0
        self.block: WeekDraws | None = None
        self.due = math.nan

    def load(self, block: WeekDraws) -> None:
        """Take a new week's draws as lists (read once per traveller, faster than numpy scalars)."""
        self.times = block.times.tolist()
        self.persons = block.persons.tolist()

    def schedule_next(self) -> None:
        """Push the next traveller, drawing the next week(s) when this one is used up."""
        while self.row >= len(self.times):
            self.week += 1
            if self.week >= self.draws.weeks:
                return
            self.block = block = self.draws.week(self.week)
            self.load(block)
            self.base = (self.identity << 32) + block.first
            self.row = 0
        self.due = self.times[self.row]
        self.callbacks = self.own_callbacks
        self.push(self.due, self)
