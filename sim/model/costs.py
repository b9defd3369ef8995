"""The costs of delay compiled: each rate as a plain number per flow, without its citation.

The analysis multiplies hours of delay by these rates and never reads the scenario; the
citations and assumptions stay in the scenario, from which the results' ``cost_rates.csv``
and the report's table of rates are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.scenario.costs import Costs


@dataclass(frozen=True)
class CostPlan:
    """The currency of values of time and, per rate name, the value of each flow that has it."""

    currency: str = ""
    rates: dict[str, dict[str, float]] = field(default_factory=dict)

    def per_flow(self, name: str, flows: Sequence[str]) -> np.ndarray:
        """The rate ``name`` of each of ``flows``: NaN for a flow without it (no figure, not a free one)."""
        table = self.rates.get(name, {})
        return np.asarray([table.get(f, np.nan) for f in flows], dtype=float)


def compile_costs(costs: Costs | None) -> CostPlan:
    """A scenario's costs block as numbers; an empty plan (every rate missing) without one."""
    if costs is None:
        return CostPlan()
    rates: dict[str, dict[str, float]] = {}
    for flow, given in costs.flows.items():
        for name, rate in given.rates().items():
            rates.setdefault(name, {})[flow] = float(rate.value)
    return CostPlan(costs.currency or "", rates)
