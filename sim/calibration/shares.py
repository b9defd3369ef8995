"""Selection shares: of the vehicles of a flow that could have been checked at a stage, how many were.

Risk-based controls check some vehicles only (``select`` in the scenario format). The share
is counted per crossing and direction where the stage ran on that side for the flow (some
vehicle of the flow has a record there), and pooled over them for the fragment, since the
format gives one share per stage, side and flow. A vehicle still queueing when the
observations ended counts as not checked: observations should end after the last
vehicle's controls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.calibration.observations import Observations

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Share:
    """Vehicles checked out of vehicles that could have been, with a 95% Wilson interval."""

    stage: str
    side: str
    flow: str
    checked: int
    vehicles: int
    where: tuple[tuple[str, str, int, int], ...]
    """Per crossing and direction: (crossing, direction, checked, vehicles)."""

    @property
    def share(self) -> float:
        return self.checked / self.vehicles

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.checked, self.vehicles)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion: sound near 0 and 1, where the plain one is not."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def selection_shares(obs: Observations) -> list[Share]:
    """A share for every stage, side and flow with a record."""
    totals: dict[tuple[str, str, str], int] = {}
    checked: dict[tuple[str, str, str], dict[tuple[str, str], int]] = {}
    for v in obs.vehicles:
        totals[(v.crossing, v.direction, v.flow)] = totals.get((v.crossing, v.direction, v.flow), 0) + 1
        for visit in v.visits:
            at = checked.setdefault((visit.stage, visit.side, v.flow), {})
            at[(v.crossing, v.direction)] = at.get((v.crossing, v.direction), 0) + 1
    out = []
    for (stage, side, flow), at in sorted(checked.items()):
        where = tuple((c, d, k, totals[(c, d, flow)]) for (c, d), k in sorted(at.items()))
        out.append(Share(stage, side, flow, sum(w[2] for w in where), sum(w[3] for w in where), where))
    return out
