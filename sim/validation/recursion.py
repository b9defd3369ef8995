"""Exact checks: replayed traces against an independent waiting-time recursion.

The recursion is Kiefer and Wolfowitz's for a FIFO queue with c identical servers: customer
n finds the sorted vector W of the work each server still has to do; it waits W[0] (the
first server to free up), adds its service time to that server, and the next customer, T
later, finds sort(max(W + S e_1 - T, 0)). It shares no code or arithmetic with the engine
(relative workloads, not absolute clock times), so when bordersim, replaying the same arrival
and service times, gives every traveller the same wait to 1e-9 minutes, it served every one
of them in the right order on the right server. ``bordersim validate-model`` lists these
checks beside the statistical ones; the tests run them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

TOLERANCE = 1e-9
"""Minutes: a difference beyond rounding is a traveller served out of turn."""


def kiefer_wolfowitz(arrivals: np.ndarray, services: np.ndarray, c: int) -> np.ndarray:
    """Waits in queue of customers (in arrival order) at a FIFO queue with c identical servers."""
    work = np.zeros(c)  # sorted: time until each server is free, as seen by the next customer
    waits = np.empty(len(arrivals))
    for n in range(len(arrivals)):
        waits[n] = work[0]
        work[0] += services[n]
        if n + 1 < len(arrivals):
            work = np.sort(np.maximum(work - (arrivals[n + 1] - arrivals[n]), 0.0))
    return waits


def through_stage(arrivals: np.ndarray, services: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """(waits, departures) of customers given in any order, served FIFO by time of arrival."""
    order = np.argsort(arrivals, kind="stable")
    waits = np.empty(len(arrivals))
    waits[order] = kiefer_wolfowitz(arrivals[order], services[order], c)
    return waits, arrivals + waits + services


def replay_scenario(
    arrivals: np.ndarray, service_times: dict[str, np.ndarray], servers: dict[str, int], horizon: float
) -> dict[str, Any]:
    """A one-crossing scenario whose exit side runs the given stages, in order, on a replayed trace."""
    stages = list(service_times)
    return {
        "name": "replay",
        "horizon": horizon,
        "warmup": 0,
        "replications": 1,
        "seed": 1,
        "flows": {"truck": {}},
        "stages": {s: {"per_vehicle": 1.0} for s in stages},  # replaced by the trace
        "regimes": {"r": {"exit": stages}},
        "regime": "r",
        "crossings": [{"id": "x", "category": "multilateral", "sides": {"a": {"servers": servers}}}],
        "demand": [
            {
                "crossing": "x",
                "flow": "truck",
                "direction": "a_to_b",
                "times": [float(t) for t in arrivals],
                "service_times": {s: [float(x) for x in v] for s, v in service_times.items()},
            }
        ],
    }


@dataclass(frozen=True)
class ExactCheck:
    """One replayed trace: how far bordersim's waits are from the recursion's, at most."""

    name: str
    travellers: int
    max_difference: float

    @property
    def passed(self) -> bool:
        return self.max_difference <= TOLERANCE


def _stage_waits(result: Any, stage: str) -> np.ndarray:
    """Each traveller's wait at ``stage``, in the order of the travellers' arrival."""
    arrival = result.records.set_index("traveller")["arrival_min"]
    v = result.visits[result.visits["stage"] == stage].copy()
    v["arrival"] = arrival.loc[v["traveller"]].to_numpy()
    v = v.sort_values(["arrival", "traveller"])
    return (v["start_min"] - v["enter_min"]).to_numpy()


def replay_checks() -> list[ExactCheck]:
    """Busy traces (load 0.9-0.95, long queues) through one stage and through two in tandem."""
    import sim

    out = []
    for c in (1, 2, 3):
        rng = np.random.default_rng(100 + c)
        arrivals = np.cumsum(rng.exponential(1.0, 3000))
        services = rng.gamma(0.5, 2 * 0.95 * c, 3000)  # cv 1.4
        waits = kiefer_wolfowitz(arrivals, services, c)
        data = replay_scenario(arrivals, {"check": services}, {"check": c}, float(arrivals[-1] + waits.max() + 1e4))
        got = _stage_waits(sim.run(sim.scenario_from_dict(data)), "check")
        out.append(
            ExactCheck(f"one stage, {c} server(s), gamma services (cv 1.4)", 3000, float(np.abs(got - waits).max()))
        )
    for c1, c2 in ((2, 3), (3, 1)):
        rng = np.random.default_rng(10 * c1 + c2)
        arrivals = np.cumsum(rng.exponential(1.0, 3000))
        s1 = rng.gamma(0.5, 2 * 0.9 * c1, 3000)
        s2 = rng.lognormal(np.log(0.9 * c2) - 0.5, 1.0, 3000)
        w1, d1 = through_stage(arrivals, s1, c1)
        w2, d2 = through_stage(d1, s2, c2)  # FIFO at stage 2 by arrival there: overtaking at stage 1
        data = replay_scenario(arrivals, {"first": s1, "second": s2}, {"first": c1, "second": c2}, float(d2.max() + 1))
        result = sim.run(sim.scenario_from_dict(data))
        diff = max(np.abs(_stage_waits(result, "first") - w1).max(), np.abs(_stage_waits(result, "second") - w2).max())
        out.append(ExactCheck(f"two stages in tandem, {c1} then {c2} server(s)", 3000, float(diff)))
    return out


def markdown(checks: list[ExactCheck]) -> list[str]:
    """The section of ``docs/validation.md`` that lists the exact checks."""
    lines = [
        "## Exact checks: replayed traces",
        "",
        "Arrival and service times replayed through bordersim (`demand[].times` and `service_times`) and",
        "through an independent Kiefer–Wolfowitz recursion for FIFO queues with c servers",
        "(`sim/validation/recursion.py`), which shares no code or arithmetic with the engine. Each row",
        f"compares every traveller's wait; a check passes when no wait differs by more than {TOLERANCE:g} minutes.",
        "",
        "| trace | travellers | largest difference (min) | pass |",
        "| --- | ---: | ---: | :---: |",
    ]
    lines += [
        f"| {c.name} | {c.travellers:,} | {c.max_difference:.1e} | {'yes' if c.passed else '**no**'} |" for c in checks
    ]
    return lines
