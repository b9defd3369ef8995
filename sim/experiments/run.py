"""Running replications of a scenario, in this process or a pool of worker processes.

Each replication depends only on (scenario, seed, replication), so results are the same to
the last digit whatever the number of workers.
"""

from __future__ import annotations

import os
import platform
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from sim import __version__
from sim.analysis.comparison import compare_replications
from sim.analysis.intervals import ci95_halfwidth
from sim.analysis.kpis import (
    add_notes,
    all_groups,
    pool_kpis,
    replication_kpis,
    summarize,
    summarize_pools,
    traveller_frame,
    visit_frame,
    with_totals,
)
from sim.engine.core import RunawayError, simulate
from sim.experiments.executors import run_tasks
from sim.experiments.memory import check_memory, demand_volume
from sim.model.compile import Network, compile_network
from sim.outputs.files import ResultsFolder, results_folder, write_csv, write_json, write_parquet
from sim.scenario.loader import scenario_hash
from sim.scenario.schema import Scenario


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

    @property
    def crossings(self) -> pd.DataFrame:
        """The crossings as the results describe them (for charts and reports)."""
        return crossings_frame(self.scenario)

    def write(self, out: str | Path | ResultsFolder, report: bool = True, overwrite: bool = False) -> Path:
        """Write the tables, the records and the manifest into ``out``, then charts and ``report.html``.

        The folder is built under a temporary name and renamed into place when complete (an
        existing one is replaced only with ``overwrite``; ``out`` may be a folder reserved
        before the run). The report comes after: if it fails, ``ReportFailed`` says so and the
        results stay.
        """
        with results_folder(out, overwrite) as folder:
            self._write_files(folder.tmp)
            final = folder.place()
        if report:
            self.draw_report(final)
        return final

    def draw_report(self, folder: str | Path) -> Path:
        """Draw the charts and ``report.html`` of this run's written results folder."""
        from sim.outputs.report import run_report

        return _drawn(Path(folder), run_report)

    def _write_files(self, out: Path) -> None:
        write_csv(out / "crossings.csv", self.crossings)
        write_csv(out / "summary.csv", self.summary)
        write_csv(out / "stages.csv", self.stages)
        write_csv(out / "replications.csv", self.replications)
        write_parquet(out / "records.parquet", self.records)
        write_parquet(out / "visits.parquet", self.visits)
        write_json(out / "manifest.json", self.manifest)


class ReportFailed(Exception):
    """The results were written, but their charts or report could not be drawn."""

    def __init__(self, folder: Path, cause: Exception):
        super().__init__(folder, cause)
        self.folder = folder
        self.cause = cause

    def __str__(self) -> str:
        return (
            f"the report could not be drawn ({type(self.cause).__name__}: {self.cause}); the results are in "
            f"{self.folder}, and `bordersim report {self.folder}` rebuilds the report"
        )


def _drawn(folder: Path, draw: Callable[..., Path], *args: Any) -> Path:
    """Draw a report into a folder whose results are already in place, so that no failure here can lose them."""
    try:
        return draw(folder, *args)
    except Exception as err:  # noqa: BLE001 - whatever broke the report, the results are kept and said to be
        raise ReportFailed(folder, err) from err


def crossings_frame(scenario: Scenario) -> pd.DataFrame:
    rows = []
    for c in scenario.crossings:
        a, b = c.sides["a"], c.sides["b"]
        name = c.name or " / ".join(n for n in (a.name, b.name) if n)
        rows.append(
            {
                "id": c.id,
                "name": name,
                "category": c.category,
                "mode": c.mode,
                "regime": scenario.regime_of(c),
                "hours": c.hours,
                "region_a": a.region,
                "region_b": b.region,
                "lanes_a": a.lanes,
                "lanes_b": b.lanes,
                "neutral_zone": c.neutral_zone,
                "lat": c.lat,
                "lon": c.lon,
                "source": c.source,
            }
        )
    return pd.DataFrame(rows)


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


class ReplicationError(Exception):
    """A replication failed inside the model: says which one and how to reproduce it."""

    def __init__(
        self, scenario: str, replication: int, seed: int, message: str, details: str = "", unstable: bool = False
    ):
        super().__init__(scenario, replication, seed, message, details, unstable)
        self.scenario = scenario
        self.replication = replication
        self.seed = seed
        self.message = message
        self.details = details
        self.unstable = unstable

    def __str__(self) -> str:
        return f"scenario {self.scenario!r}, replication {self.replication}, seed {self.seed}: {self.message}"

    def record(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "replication": self.replication,
            "seed": self.seed,
            "error": self.message,
            "unstable": self.unstable,
            "traceback": self.details,
            "versions": versions(),
        }


@dataclass
class ReplicationOutput:
    """What one replication hands back: its tables, built where it ran."""

    scenario: str
    replication: int
    travellers: pd.DataFrame
    visits: pd.DataFrame
    kpis: pd.DataFrame
    pools: pd.DataFrame
    entities: int
    sim_seconds: float


_NET_CACHE: dict[str, Network] = {}


def replicate(scenario: Scenario, replication: int) -> ReplicationOutput:
    """Simulate one replication and turn its records into tables (runs in a worker)."""
    key = scenario_hash(scenario)
    net = _NET_CACHE.get(key)
    if net is None:
        _NET_CACHE.clear()
        net = _NET_CACHE[key] = compile_network(scenario)
    t0 = time.perf_counter()
    try:
        rec = simulate(net, replication)
        rec.check_conservation()
    except RunawayError as err:
        raise ReplicationError(scenario.name, replication, scenario.seed, str(err), unstable=True) from None
    except Exception as err:  # noqa: BLE001 - any failure inside the model is reported with its seed
        raise ReplicationError(
            scenario.name, replication, scenario.seed, f"{type(err).__name__}: {err}", traceback.format_exc()
        ) from None
    sim_seconds = time.perf_counter() - t0
    warmup, horizon = scenario.warmup, scenario.horizon
    trav = traveller_frame(net, rec)
    kpis = replication_kpis(trav, warmup, horizon, all_groups(net))
    kpis.insert(0, "replication", rec.replication)
    return ReplicationOutput(
        scenario=scenario.name,
        replication=replication,
        travellers=trav,
        visits=visit_frame(net, rec),
        kpis=kpis,
        pools=pool_kpis(net, rec, warmup, horizon),
        entities=rec.travellers,
        sim_seconds=sim_seconds,
    )


def execute(
    tasks: list[tuple[Scenario, int]],
    jobs: int,
    on_done: Callable[[int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
) -> list[ReplicationOutput]:
    """Run (scenario, replication) tasks on the chosen backend; results in task order."""
    return run_tasks(
        replicate, tasks, jobs, backend, scheduler, None if on_done is None else (lambda i, _r: on_done(i))
    )


def summarise(scenario: Scenario, outputs: list[ReplicationOutput], jobs: int, wall: float) -> RunResult:
    """Combine the replications of one scenario into a ``RunResult``."""
    warmup = scenario.warmup
    reps = pd.concat([o.kpis for o in outputs], ignore_index=True)
    reps.insert(0, "scenario", scenario.name)
    records = pd.concat([o.travellers for o in outputs], ignore_index=True)
    pooled = records[(records["arrival_min"] >= warmup) & records["release_min"].notna()]
    summary = summarize(reps, with_totals(pooled), scenario.name, scenario.replications)
    stages = summarize_pools(pd.concat([o.pools for o in outputs], ignore_index=True), scenario.name)
    summary = add_notes(summary, stages)
    all_visits = pd.concat([o.visits for o in outputs], ignore_index=True)
    for df in (records, all_visits):
        for col in ("crossing", "direction", "flow", "side", "role", "stage", "pool"):
            if col in df:
                df[col] = df[col].astype("category")
    entities = sum(o.entities for o in outputs)
    sim_seconds = sum(o.sim_seconds for o in outputs)
    manifest = {
        "scenario": scenario.name,
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "horizon_min": scenario.horizon,
        "warmup_min": warmup,
        "start_weekday": scenario.start_weekday,
        "jobs": jobs,
        "versions": versions(),
        "wall_time_s": round(wall, 3),
        "entities": int(entities),
        "entities_per_second": round(entities / wall, 1) if wall > 0 else None,
        "engine_entities_per_second": round(entities / sim_seconds, 1) if sim_seconds > 0 else None,
        "random_streams": "numpy PCG64 from SeedSequence(seed, spawn_key=(replication, stream, *source))",
        "files": list(scenario.resolved_from),
        "assumptions": list(scenario.assumptions),
        "sources": list(scenario.sources),
    }
    return RunResult(scenario, summary, stages, reps, records, all_visits, manifest)


@dataclass(frozen=True)
class Precision:
    """Stop adding replications once the 95% half-width of ``kpi`` is within ``relative`` of its mean.

    Checked on the border-wide total row (all crossings, directions and flows).
    """

    relative: float
    kpi: str = "time_in_system_mean_min"
    minimum: int = 3
    maximum: int = 100


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    days: float | None = None,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    precision: Precision | None = None,
) -> RunResult:
    """Run all replications of ``scenario`` and summarise them.

    ``jobs`` > 1 runs replications in worker processes (or on ``backend="dask"``); results
    are identical either way. ``progress(done, total)`` is called after each replication.
    With ``precision``, replications are added in batches until the interval is tight enough
    (replication r is the same whatever the batch), between its minimum and maximum.
    """
    scenario = with_overrides(scenario, replications, seed, days)
    most = scenario.replications if precision is None else precision.maximum
    check_memory([(scenario, min(max(1, jobs), most), most)], jobs)
    wall0 = time.perf_counter()
    count = [0]

    def tick(_: int) -> None:
        count[0] += 1
        if progress is not None:
            progress(count[0], scenario.replications if precision is None else precision.maximum)

    if precision is None:
        outputs = execute([(scenario, r) for r in range(scenario.replications)], jobs, tick, backend, scheduler)
        return summarise(scenario, outputs, jobs, time.perf_counter() - wall0)
    outputs: list[ReplicationOutput] = []
    target = precision.minimum
    while True:
        batch = [(scenario, r) for r in range(len(outputs), target)]
        outputs += execute(batch, jobs, tick, backend, scheduler)
        reached, half, mean = precision_reached(outputs, precision)
        if reached or len(outputs) >= precision.maximum:
            break
        target = min(precision.maximum, len(outputs) + max(jobs, 1))
    final = scenario.model_copy(update={"replications": len(outputs)})
    result = summarise(final, outputs, jobs, time.perf_counter() - wall0)
    result.manifest["precision"] = {
        "kpi": precision.kpi,
        "relative_target": precision.relative,
        "reached": bool(reached),
        "half_width": half,
        "mean": mean,
        "replications": len(outputs),
        "minimum": precision.minimum,
        "maximum": precision.maximum,
    }
    return result


def precision_reached(outputs: list[ReplicationOutput], precision: Precision) -> tuple[bool, float, float]:
    """(reached, 95% half-width, mean) of the KPI on the border-wide total over the replications so far."""
    values = []
    for o in outputs:
        k = o.kpis
        row = k[(k["crossing"] == "ALL") & (k["direction"] == "ALL") & (k["flow"] == "ALL")]
        values.append(float(row[precision.kpi].iloc[0]) if len(row) else float("nan"))
    v = np.asarray(values)
    half = ci95_halfwidth(v)
    mean = float(np.nanmean(v)) if len(v) else float("nan")
    reached = bool(np.isfinite(half) and mean != 0 and half <= precision.relative * abs(mean))
    return reached, half, mean


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


@dataclass
class ComparisonResult:
    """Runs of several scenarios with common random numbers, and their paired differences."""

    baseline: RunResult
    others: list[RunResult]
    comparison: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def runs(self) -> list[RunResult]:
        return [self.baseline, *self.others]

    def write(self, out: str | Path | ResultsFolder, report: bool = True, overwrite: bool = False) -> Path:
        """Write each scenario's results in a subfolder, comparison.csv and the manifest, then the reports.

        Like a run's folder, the whole comparison folder appears only when complete, and the
        reports are drawn only then (``ReportFailed`` if they fail; the results stay).
        """
        with results_folder(out, overwrite) as folder:
            for r in self.runs:
                (folder.tmp / r.scenario.name).mkdir()
                r._write_files(folder.tmp / r.scenario.name)
            write_csv(folder.tmp / "comparison.csv", self.comparison)
            write_json(folder.tmp / "manifest.json", self.manifest)
            final = folder.place()
        if report:
            self.draw_report(final)
        return final

    def draw_report(self, folder: str | Path) -> Path:
        """Draw the comparison's charts and ``report.html``, and each scenario's own, into its written folder."""
        from sim.outputs.report import comparison_report

        return _drawn(Path(folder), comparison_report, self.manifest.get("jobs", 1))


def compare(
    baseline: Scenario,
    others: list[Scenario],
    replications: int | None = None,
    seed: int | None = None,
    days: float | None = None,
    jobs: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
) -> ComparisonResult:
    """Run ``baseline`` and ``others`` with the same seed and replications, and compare them.

    Every scenario uses the baseline's seed (or ``seed``) so that replication r of each
    shares its random numbers: the paired differences then measure the change itself.
    """
    wall0 = time.perf_counter()
    names = [baseline.name, *(o.name for o in others)]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        from sim.scenario.errors import Problem, ScenarioError

        raise ScenarioError(
            [
                Problem(
                    "", None, "name", f"scenario name {d!r} is used twice; give each compared scenario its own name"
                )
                for d in duplicates
            ]
        )
    seed = baseline.seed if seed is None else seed
    replications = baseline.replications if replications is None else replications
    scenarios = [with_overrides(s, replications, seed, days) for s in [baseline, *others]]
    # every scenario's replications are held until the comparison is written; at worst the
    # workers are all busy with the largest scenario
    largest = max(range(len(scenarios)), key=lambda k: demand_volume(scenarios[k]))
    busy = [min(max(1, jobs), replications) if k == largest else 0 for k in range(len(scenarios))]
    check_memory([(s, b, replications) for s, b in zip(scenarios, busy, strict=True)], jobs)
    tasks = [(s, r) for s in scenarios for r in range(replications)]
    done: dict[str, int] = {}

    def tick(i: int) -> None:
        name = tasks[i][0].name
        done[name] = done.get(name, 0) + 1
        if progress is not None:
            progress(name, done[name], replications)

    outputs = execute(tasks, jobs, tick, backend, scheduler)
    wall = time.perf_counter() - wall0
    results = [
        summarise(s, outputs[k * replications : (k + 1) * replications], jobs, wall) for k, s in enumerate(scenarios)
    ]
    base, rest = results[0], results[1:]
    table = pd.concat([compare_replications(base.replications, r.replications) for r in rest], ignore_index=True)
    manifest = {
        "baseline": base.scenario.name,
        "scenarios": [r.scenario.name for r in results],
        "scenario_sha256": {r.scenario.name: r.manifest["scenario_sha256"] for r in results},
        "seed": seed,
        "replications": replications,
        "common_random_numbers": True,
        "jobs": jobs,
        "interval": "95% paired-t over replications",
        "versions": versions(),
        "wall_time_s": round(time.perf_counter() - wall0, 3),
    }
    return ComparisonResult(base, rest, table, manifest)
