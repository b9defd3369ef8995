"""A held traveller's e-queue record, its own e-queue luck, and the waiting area's hourly levels.

Kept apart from the admission (``sim.policies.equeue``) because they are plain records and
counters: what a traveller carries and what is logged, not how the queue behaves.
"""

from __future__ import annotations

import math

from sim.engine.streams import stream
from sim.model.booking import EQueuePlan

_NAN = float("nan")
BLOCK = 1024
"""Travellers whose e-queue luck is drawn at once."""

VIRTUAL, EARLY, ROAD, AREA, CALLED = range(5)
"""Where a held traveller is: away, on the road before its window, on the road (area full),
in the waiting area, called (on its way to the post or beyond)."""

UNUSED, BY_HOLDER, BY_OTHER = 0, 1, 2
"""Who used a slot."""


class Booking:
    """A held traveller's e-queue record: its class, its slot and when it reached each place."""

    __slots__ = (
        "queue", "cls", "walk_in", "booked", "desired", "slot", "slot_time", "where", "at_border",
        "in_area", "called", "at_post", "late", "lost", "refused", "priority_slot", "rebooked", "before", "drive",
    )  # fmt: skip

    def __init__(self, queue: int, cls: int, walk_in: bool, booked: float, desired: float, before: float, drive: float):
        self.queue = queue
        self.before = before  # minutes ahead of a slot it reaches the border (its own draw)
        self.drive = drive  # minutes from the call to the post
        self.cls = cls
        self.walk_in = walk_in
        self.booked = booked
        self.desired = desired
        self.slot = -1
        self.slot_time = _NAN
        self.where = VIRTUAL
        self.at_border = _NAN
        self.in_area = _NAN
        self.called = _NAN
        self.at_post = _NAN
        self.late = False
        self.lost = False
        self.refused = False
        self.priority_slot = False
        self.rebooked = False


class Levels:
    """Vehicles in the waiting area and on the road, integrated per hour (mean and maximum)."""

    __slots__ = ("queue", "log", "area", "road", "t", "hour", "sum_area", "sum_road", "max_area", "max_road")

    def __init__(self, queue: int, log: list):
        self.queue, self.log = queue, log
        self.area = self.road = 0
        self.t = 0.0
        self.hour = 0
        self.sum_area = self.sum_road = 0.0
        self.max_area = self.max_road = 0

    def advance(self, t: float) -> None:
        while t >= (self.hour + 1) * 60.0:
            edge = (self.hour + 1) * 60.0
            self.sum_area += self.area * (edge - self.t)
            self.sum_road += self.road * (edge - self.t)
            self.log.append(
                (self.queue, self.hour, self.sum_area / 60.0, self.max_area, self.sum_road / 60.0, self.max_road)
            )
            self.hour += 1
            self.t = edge
            self.sum_area = self.sum_road = 0.0
            self.max_area, self.max_road = self.area, self.road
        self.sum_area += self.area * (t - self.t)
        self.sum_road += self.road * (t - self.t)
        self.t = t

    def change(self, t: float, area: int = 0, road: int = 0) -> None:
        self.advance(t)
        self.area += area
        self.road += road
        self.max_area = max(self.max_area, self.area)
        self.max_road = max(self.max_road, self.road)


class Luck:
    """A source's e-queue uniforms, a block at a time, from its own named stream."""

    def __init__(self, plan: EQueuePlan, key: tuple[str, ...], seed: int, replication: int):
        self.plan = plan
        self.rng = stream(seed, replication, "equeue", *key)
        self.row = BLOCK

    def next(self) -> tuple[float, ...]:
        if self.row == BLOCK:
            u = self.rng.random((8, BLOCK))
            p = self.plan
            cols = [
                u[0].tolist(),  # walk-in
                u[1].tolist(),  # class
                p.lead.quantile(u[2]).tolist(),
                p.before.quantile(u[3]).tolist(),
                u[4].tolist(),  # late or not
                p.late.quantile(u[5]).tolist(),
                p.call_up.quantile(u[6]).tolist(),
                u[7].tolist(),  # duplicate bookings (no-shows)
            ]
            self.rows = list(zip(*cols, strict=True))
            self.row = 0
        r = self.row
        self.row += 1
        return self.rows[r]


def poisson_cdf(mean: float) -> list[float]:
    """Cumulative Poisson probabilities up to 1 - 1e-12 (the number of duplicate bookings)."""
    if mean <= 0:
        return [1.0]
    out, p, c, k = [], math.exp(-mean), 0.0, 0
    while c < 1 - 1e-12 and k < 1000:
        c += p
        out.append(c)
        k += 1
        p *= mean / k
    return out
