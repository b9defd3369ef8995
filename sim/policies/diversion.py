"""Diversion: a traveller on its way or in the queue switches crossing when it pays.

A corridor's traveller reconsiders (see ``sim.scenario.network.Diversion``) when it reaches
its crossing and finds the first control shut or its line longer than the threshold
(balking), when its crossing shuts while it drives there or queues at the first control,
and every ``review_every`` while it queues there (reneging). It compares the remaining cost
of staying, ``wait here + drive on``, with that of each other crossing,
``drive between the two + wait there on arrival + drive on from there``, and switches to
the cheapest when that saves more than ``margin`` minutes, at most ``max_switches`` times.
A traveller still driving to its crossing counts its remaining drive on both sides: it
would reach the crossing's area either way, and turns off from there.
"""

from __future__ import annotations

from typing import Any

from sim.engine.entities import Traveller
from sim.model.network import DiversionPlan
from sim.policies.wait_board import WaitBoard


class Diversion:
    """Balking and reneging by generalised cost, with a margin."""

    def __init__(self, plan: DiversionPlan):
        self.plan = plan
        self.board: WaitBoard | None = None

    def bind(self, engine: Any) -> None:
        self.board = engine.board

    def reconsider(self, tr: Traveller, ahead: int, now: float) -> int | None:
        trip = tr.trip
        if trip.switches >= self.plan.max_switches:
            return None
        corridor = trip.corridor
        here = trip.option
        options = corridor.options
        board = self.board
        assert board is not None
        stay = board.wait(options[here], now, ahead) + options[here].drive_on
        best, best_cost = None, stay - self.plan.margin
        detour = corridor.detour[here]
        for j, o in enumerate(options):
            if j == here:
                continue
            cost = float(detour[j]) + board.wait(o, now + float(detour[j])) + o.drive_on
            if cost < best_cost:
                best, best_cost = j, cost
        return best
