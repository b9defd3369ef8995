"""How much memory a run will need, estimated before it starts, and whether this machine has it.

A scenario under ``limits.max_arrivals`` can still need more memory than the machine has.
Running out half-way loses the work and can take the machine down with it, so the need is
estimated from the expected number of travellers and control steps, and a run that would
not fit is refused with the figures and what to change.

What a run holds: each replication under way, a week of its travellers' draws and a day of
its records (they go to Parquet files as the run goes), whatever the horizon; and, until the
tables are built, each completed traveller's wait, time in system, group and persons aboard (24 bytes, for
exact pooled quantiles and person-hours). The per-traveller and per-visit costs below were measured here
(peak RSS with ``resource.getrusage`` of one replication of the Kazakhstan–Russia scenario
over 28, 91 and 365 days, ``bench/whole_border.py``: 262, 360 and 754 MiB) and rounded up
(the estimate with the process itself: 283, 407 and 944 MiB).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from sim.scenario.schema import Scenario

KB = 1024
GiB = 2**30
DRAWN_PER_TRAVELLER = 0.6 * KB
"""Bytes a replication under way holds per traveller of the current week (draws, routes, travellers inside)."""
RECORDED_PER_VISIT = 0.4 * KB
"""Bytes per visit of the current simulated day (rows waiting for the next flush, their columns, Parquet buffers)."""
KEPT_PER_TRAVELLER = 64
"""Bytes per completed traveller kept until the tables are built: its wait, time in system and group."""
PROCESS_BASE = 150 * 2**20
"""Bytes of a process with bordersim and its libraries loaded."""


@dataclass(frozen=True)
class MemoryEstimate:
    """The expected size of a run and the memory it needs, in bytes."""

    travellers_per_replication: float
    visits_per_traveller: float
    bytes: float

    def gib(self) -> float:
        return self.bytes / GiB


def expected_travellers(scenario: Scenario) -> tuple[float, float]:
    """(travellers, visits) one replication of ``scenario`` draws, on average.

    Visits count every control step a traveller may meet (selection ignored), so the
    figure is an upper one.
    """
    from sim.model.compile import compile_model

    model = compile_model(scenario)
    travellers = visits = 0.0
    for source in model.sources:
        n = source.arrivals.expected
        travellers += n
        visits += n * sum(1 + (p.secondary is not None) for p in source.steps)
    return travellers, visits


def demand_volume(scenario: Scenario) -> float:
    """Travellers one replication draws, on average, counted from the demand alone (no compiling)."""
    days = scenario.horizon / 1440.0
    total = 0.0
    for d in scenario.demand:
        directions = 2 if d.direction == "both" else 1
        total += directions * (d.daily * days if d.daily is not None else len(d.times or []))
    return total


def estimate(scenario: Scenario, busy: int, kept: int) -> MemoryEstimate:
    """Memory for ``busy`` replications of ``scenario`` under way at once, and ``kept`` finished ones held.

    A replication under way holds a week of its travellers' draws and a day of records
    (both bounded, whatever the horizon: records go to files as it runs); every finished
    replication's completed travellers' waits are kept until the run's tables are built
    (``kept`` = replications; a sweep keeps none). Replications under way in worker
    processes each bring a process of their own.
    """
    travellers, visits = expected_travellers(scenario)
    days = max(scenario.horizon / 1440.0, 1.0)
    week = min(7.0, days) / days
    working = busy * (travellers * week * DRAWN_PER_TRAVELLER + visits / days * RECORDED_PER_VISIT)
    working += busy * (travellers * KEPT_PER_TRAVELLER) + (busy * PROCESS_BASE if busy > 1 else 0)
    per_traveller = visits / travellers if travellers else 0.0
    return MemoryEstimate(travellers, per_traveller, working + kept * travellers * KEPT_PER_TRAVELLER)


def available_bytes() -> float:
    """Memory this process may still use: the system's available memory, within a container's limit."""
    available = math.inf
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = float(line.split()[1]) * KB
                break
    except OSError:
        pass
    if math.isinf(available):
        try:
            available = float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return math.inf
    cgroup = Path("/sys/fs/cgroup")
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            used = float((cgroup / "memory.current").read_text().strip())
            available = min(available, float(limit) - used)
    except (OSError, ValueError):
        pass
    return available


def check_memory(parts: list[tuple[Scenario, int, int]], jobs: int) -> None:
    """Refuse, before any work, a run that would not fit in memory: ``ScenarioError`` with the figures.

    ``parts`` are (scenario, replications under way at once, replications held) for every
    scenario the command runs.
    """
    estimates = [estimate(s, busy, kept) for s, busy, kept in parts]
    need = PROCESS_BASE + sum(e.bytes for e in estimates)
    have = available_bytes()
    if need <= have:
        return
    from sim.scenario.errors import Problem, ScenarioError

    biggest, scenario = max(zip(estimates, [p[0] for p in parts], strict=True), key=lambda x: x[0].bytes)
    # the scenario's own file: the last YAML file of its extends chain (catalogues come after)
    file = next((f for f in reversed(scenario.resolved_from) if f.endswith((".yaml", ".yml"))), scenario.name)
    message = (
        f"this run needs about {need / GiB:.1f} GiB of memory, more than the {have / GiB:.1f} GiB this machine "
        f"has available (estimated before starting: {biggest.travellers_per_replication:,.0f} travellers per "
        f"replication of {scenario.name}, about {biggest.visits_per_traveller:.1f} controls each, with "
        f"{jobs} worker process(es)); shorten the horizon (--days), run fewer replications or fewer --jobs"
    )
    raise ScenarioError([Problem(file, None, "", message)])
