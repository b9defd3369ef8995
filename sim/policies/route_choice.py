"""Route choice at departure: fixed shares, least generalised cost, or logit.

The generalised cost of crossing i for a traveller leaving at ``now`` is
``drive_to[i] + wait_i(now + drive_to[i]) + drive_on[i]`` minutes, with the wait as the
traveller can know it (``sim.policies.wait_board``). Rules:

- ``fixed_shares``: option i with probability share_i, whatever the queues (a thinning of
  the corridor's Poisson departures: each crossing gets a Poisson stream of share_i of them);
- ``least_cost``: the option of least cost; ties (within a second) broken at random;
- ``logit``: option i with probability exp(-cost_i / scale) / sum_j exp(-cost_j / scale),
  the multinomial logit of transport demand models; ``scale`` is in minutes (a cost one
  scale higher makes an option e times less likely).

Every random decision reads the traveller's own choice uniform, so a traveller's choice in
two scenarios differs only where their costs differ.
"""

from __future__ import annotations

import math
from typing import Any

from sim.model.network import ChoicePlan, CorridorPlan
from sim.policies.wait_board import WaitBoard

TIE = 1.0 / 60.0
"""Costs closer than a second are equal."""


def pick(weights: list[float], u: float) -> int:
    """The index whose cumulative weight first exceeds ``u`` times the total (inverse CDF)."""
    total = sum(weights)
    target = u * total
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if target < acc:
            return i
    return max(i for i, w in enumerate(weights) if w > 0)  # u at the very top: the last option with weight


class RouteChoice:
    """The scenario's route-choice rule, reading waits from a ``WaitBoard``."""

    def __init__(self, plan: ChoicePlan):
        self.plan = plan
        self.board: WaitBoard | None = None
        self._shares: dict[int, list[float]] = {}

    def bind(self, engine: Any) -> None:
        self.board = engine.board

    def choose(self, corridor: CorridorPlan, u: float, now: float) -> int:
        options = corridor.options
        if len(options) == 1:
            return 0
        rule = self.plan.rule
        if rule == "fixed_shares":
            shares = self._shares.get(corridor.index)
            if shares is None:
                shares = self._shares[corridor.index] = [o.share for o in options]
            return pick(shares, u)
        costs = self.board.costs(options, now)  # type: ignore[union-attr]
        best = min(costs)
        if rule == "least_cost":
            ties = [1.0 if c - best < TIE else 0.0 for c in costs]
            return costs.index(best) if sum(ties) == 1.0 else pick(ties, u)
        scale = self.plan.scale
        return pick([math.exp((best - c) / scale) for c in costs], u)
