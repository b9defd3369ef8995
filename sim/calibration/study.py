"""One calibration: read the observations, estimate demand, fit service times, count shares.

This is the one path the command and Python share, so a notebook gets exactly what
``bordersim calibrate`` writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.calibration.demand import Arrivals, arrivals
from sim.calibration.fitting import Choice, fit_times
from sim.calibration.observations import Observations, read_observations
from sim.calibration.shares import Share, selection_shares
from sim.scenario.tables import MAX_CSV_BYTES

DEFAULT_SEED = 2024
"""The seed of the bootstraps (KS p-values, intervals of uniform and triangular ends): same file, same report."""


@dataclass(frozen=True)
class Calibration:
    """Everything estimated from one observations file."""

    observations: Observations
    arrivals: list[Arrivals]
    services: dict[tuple[str, str, str], Choice]
    """Per (stage, side, flow): the chosen distribution of end - start, with every fit tried."""
    shares: list[Share]
    occupancy: dict[str, dict[str, list[int]]]
    """Per flow with a ``persons`` column: distinct persons per vehicle and how many vehicles had each."""
    seed: int

    def fragment(self, extends: str | None = None) -> str:
        """The scenario fragment (YAML text); ``extends`` names a base scenario it then completes."""
        from sim.calibration.fragment import fragment_text

        return fragment_text(self, extends)

    def report(self) -> str:
        """The markdown report of every estimate, fit and choice."""
        from sim.calibration.report import report_text

        return report_text(self)


def calibrate(
    path: str | Path,
    *,
    days: float | None = None,
    start_weekday: str = "monday",
    seed: int = DEFAULT_SEED,
    limit: int = MAX_CSV_BYTES,
) -> Calibration:
    """Calibrate from an observations file; ``ScenarioError`` names every problem with the file.

    ``days`` is the observed length when the file does not cover whole days from its first
    to its last arrival; ``start_weekday`` the weekday of minute 0 when times are minutes.
    """
    obs = read_observations(path, start_weekday, limit)
    times: dict[tuple[str, str, str], list[float]] = {}
    persons: dict[str, list[int]] = {}
    for v in obs.vehicles:
        for visit in v.visits:
            times.setdefault((visit.stage, visit.side, v.flow), []).append(visit.service)
        if v.persons is not None:
            persons.setdefault(v.flow, []).append(v.persons)
    services = {key: fit_times(np.asarray(values), "/".join(key), seed) for key, values in sorted(times.items())}
    occupancy = {}
    for flow, counts in sorted(persons.items()):
        values, n = np.unique(counts, return_counts=True)
        occupancy[flow] = {"values": [int(x) for x in values], "weights": [int(c) for c in n]}
    return Calibration(obs, arrivals(obs, days), services, selection_shares(obs), occupancy, seed)
