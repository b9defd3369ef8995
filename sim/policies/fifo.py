"""The default queue discipline: first come, first served, one line per pool."""

from __future__ import annotations

from collections import deque

from sim.engine.hooks import WaitingLine
from sim.model.compile import PoolInfo


class FirstComeFirstServed:
    """Each pool's line is a deque: append at the back, serve from the front."""

    def line(self, pool: PoolInfo) -> WaitingLine:
        return deque()
