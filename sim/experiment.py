"""Running replications of a scenario, in this process or a pool of worker processes.

Each replication depends only on (scenario, seed, replication), so results are the same to
the last digit whatever the number of workers.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim import __version__
from sim.analysis import (
    all_groups,
    pool_kpis,
    replication_kpis,
    summarize,
    summarize_pools,
    traveller_frame,
    visit_frame,
)
from sim.engine import simulate
from sim.loader import scenario_hash
from sim.network import Network, compile_network
from sim.output import write_csv, write_json, write_parquet
from sim.records import ReplicationRecords
from sim.scenario import Scenario


@dataclass
class RunResult:
    """Everything a run produced, as DataFrames."""

    scenario: Scenario
    summary: pd.DataFrame
    stages: pd.DataFrame
    replications: pd.DataFrame
    records: pd.DataFrame
    visits: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def write(self, out: str | Path) -> Path:
        """Write the tables, the records and the manifest (last) into folder ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "summary.csv", self.summary)
        write_csv(out / "stages.csv", self.stages)
        write_csv(out / "replications.csv", self.replications)
        write_parquet(out / "records.parquet", self.records)
        write_parquet(out / "visits.parquet", self.visits)
        write_json(out / "manifest.json", self.manifest)
        return out


def with_overrides(
    scenario: Scenario, replications: int | None = None, seed: int | None = None, days: float | None = None
) -> Scenario:
    """The scenario with command-line overrides applied (validated like the file)."""
    update: dict[str, Any] = {}
    if replications is not None:
        update["replications"] = replications
    if seed is not None:
        update["seed"] = seed
    if days is not None:
        update["horizon"] = days * 1440.0
        if scenario.warmup >= days * 1440.0:
            update["warmup"] = 0.0
    if not update:
        return scenario
    return Scenario.model_validate({**scenario.model_dump(by_alias=True), **update})


_NET_CACHE: dict[int, Network] = {}


def _replicate(scenario: Scenario, replication: int) -> ReplicationRecords:
    key = id(scenario)
    net = _NET_CACHE.get(key)
    if net is None or net.scenario is not scenario:
        _NET_CACHE.clear()
        net = _NET_CACHE[key] = compile_network(scenario)
    return simulate(net, replication)


def _iter_records(scenario: Scenario, jobs: int) -> Iterator[ReplicationRecords]:
    reps = range(scenario.replications)
    if jobs <= 1 or scenario.replications == 1:
        for r in reps:
            yield _replicate(scenario, r)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, scenario.replications)) as pool:
        yield from pool.map(_replicate, [scenario] * scenario.replications, reps)


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    days: float | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run all replications of ``scenario`` and summarise them.

    ``jobs`` > 1 runs replications in worker processes; results are identical either way.
    ``progress(done, total)`` is called after each replication.
    """
    scenario = with_overrides(scenario, replications, seed, days)
    wall0 = time.perf_counter()
    net = compile_network(scenario)
    groups = all_groups(net)
    warmup, horizon = scenario.warmup, scenario.horizon
    travellers, visits, kpis, pools = [], [], [], []
    entities = 0
    sim_seconds = 0.0
    for done, rec in enumerate(_iter_records(scenario, jobs), start=1):
        rec.check_conservation()
        entities += rec.travellers
        trav = traveller_frame(net, rec)
        travellers.append(trav)
        visits.append(visit_frame(net, rec))
        k = replication_kpis(trav, warmup, horizon, groups)
        k.insert(0, "replication", rec.replication)
        kpis.append(k)
        pools.append(pool_kpis(net, rec, warmup, horizon))
        if progress is not None:
            progress(done, scenario.replications)
    sim_seconds = time.perf_counter() - wall0
    reps = pd.concat(kpis, ignore_index=True)
    reps.insert(0, "scenario", scenario.name)
    records = pd.concat(travellers, ignore_index=True)
    pooled = records[(records["arrival_min"] >= warmup) & records["release_min"].notna()]
    from sim.analysis import _with_totals

    summary = summarize(reps, _with_totals(pooled), scenario.name, scenario.replications)
    stages = summarize_pools(pd.concat(pools, ignore_index=True), scenario.name)
    all_visits = pd.concat(visits, ignore_index=True)
    for df in (records, all_visits):
        for col in ("crossing", "direction", "flow", "side", "role", "stage", "pool"):
            if col in df:
                df[col] = df[col].astype("category")
    wall = time.perf_counter() - wall0
    manifest = {
        "scenario": scenario.name,
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "horizon_min": horizon,
        "warmup_min": warmup,
        "start_weekday": scenario.start_weekday,
        "jobs": jobs,
        "versions": versions(),
        "wall_time_s": round(wall, 3),
        "entities": int(entities),
        "entities_per_second": round(entities / sim_seconds, 1) if sim_seconds > 0 else None,
        "random_streams": "numpy PCG64 from SeedSequence(seed, spawn_key=(replication, stream, *source))",
        "assumptions": list(scenario.assumptions),
        "sources": list(scenario.sources),
    }
    return RunResult(scenario, summary, stages, reps, records, all_visits, manifest)


def versions() -> dict[str, str]:
    return {
        "bordersim": __version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }
