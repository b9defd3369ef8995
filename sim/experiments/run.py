"""Running replications of a scenario, in this process or on workers, and summarising them.

Each replication depends only on (scenario, seed, replication), so results are the same to
the last digit whatever the number of workers, and whether or not each replication is
split into pieces (groups of crossings no route links) run on separate workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.daily_tables import daily_tables
from sim.analysis.equeue_tables import equeue_tables
from sim.analysis.intervals import ci95_halfwidth
from sim.analysis.kpis import add_notes, pooled_waits, summarize, summarize_pools
from sim.analysis.overload import overload_table
from sim.analysis.trips import summarize_corridors, summarize_crossing_flows
from sim.experiments.executors import run_tasks
from sim.experiments.memory import check_memory
from sim.experiments.provenance import versions
from sim.experiments.replicate import ReplicationError, ReplicationOutput, Task, combine, model_of, replicate
from sim.experiments.replicate import simulate_piece as _simulate_piece
from sim.experiments.spool import Spool
from sim.outputs.files import ResultsFolder
from sim.outputs.records import LEVELS, read_records
from sim.outputs.writing import Progress, crossings_frame, draw_into, write_run_files
from sim.scenario.loader import scenario_hash
from sim.scenario.schema import Scenario

__all__ = ["Precision", "ReplicationError", "RunResult", "run", "with_overrides"]


class RecordsNotKept(AttributeError):
    """The run kept no such records (``records="none"`` or ``"travellers"``)."""


@dataclass
class RunResult:
    """Everything a run produced: tables as DataFrames, records as files read on demand."""

    scenario: Scenario
    summary: pd.DataFrame
    stages: pd.DataFrame
    replications: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    record_files: dict[str, list[Path]] = field(default_factory=dict)
    spool: Spool | None = None
    corridors: pd.DataFrame | None = None
    """Per corridor and direction: departures, diverted, trip time, extra drive (scenarios with corridors)."""
    network: pd.DataFrame | None = None
    """Per crossing: corridor trips that set off for it, used it, were diverted out of it and into it."""
    weather: pd.DataFrame | None = None
    """Weather episodes applied in each replication, per crossing (scenarios with weather)."""
    daily: pd.DataFrame | None = None
    """Per day and row: arrivals, releases, backlog at the day's end, waits of those released (``daily.csv``)."""
    weekly: pd.DataFrame | None = None
    """The same per week (``weekly.csv``): ISO weeks with a start date, else weeks from the start."""
    overload: pd.DataFrame | None = None
    """Per row: backlog, its growth per day, lower-bound waits and a verdict (``overload.csv``)."""
    equeue: pd.DataFrame | None = None
    """Per e-queue and class: where the time went, late and lost shares, priority served (``equeue.csv``)."""
    equeue_slots: pd.DataFrame | None = None
    """Per e-queue: slots offered and used, no-shows, waiting-area occupancy (``equeue_slots.csv``)."""
    equeue_area: pd.DataFrame | None = None
    """Per e-queue and hour: waiting-area and road occupancy (``equeue_area.csv``)."""

    @property
    def records(self) -> pd.DataFrame:
        """One row per traveller of every replication (read from the record files when asked)."""
        return self._read("travellers")

    @property
    def visits(self) -> pd.DataFrame:
        """One row per traveller per server pool visited, of every replication."""
        return self._read("visits")

    def _read(self, kind: str) -> pd.DataFrame:
        if kind not in self.record_files:
            raise RecordsNotKept(
                f"this run kept records={self.manifest.get('records', 'none')!r}: no {kind} table; "
                "run with records='full' (visits and travellers) or 'travellers'"
            )
        # in traveller order within each replication (the files are in the order travellers left)
        table = read_records(self.record_files[kind])
        return table.sort_values(["replication", "traveller"], kind="stable", ignore_index=True)

    @property
    def crossings(self) -> pd.DataFrame:
        """The crossings as the results describe them (for charts and reports)."""
        return crossings_frame(self.scenario)

    def write(
        self,
        out: str | Path | ResultsFolder,
        report: bool = True,
        overwrite: bool = False,
        progress: Progress | None = None,
    ) -> Path:
        """Write the tables, the records and the manifest into ``out``, then charts and ``report.html``.

        The folder is built under a temporary name and renamed into place when complete (an
        existing one is replaced only with ``overwrite``). The report comes after: if it
        fails, ``ReportFailed`` says so and the results stay.
        """
        from sim.outputs.files import results_folder

        with results_folder(out, overwrite) as folder:
            write_run_files(folder.tmp, self, progress)
            final = folder.place()
        if report:
            self.draw_report(final)
        return final

    def draw_report(self, folder: str | Path, progress: Progress | None = None) -> Path:
        """Draw the charts and ``report.html`` of this run's written results folder."""
        from sim.outputs.report import run_report

        return draw_into(Path(folder), run_report, progress)


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


def execute(
    scenarios: list[Scenario],
    replications: list[int],
    jobs: int,
    on_done: Callable[[int], None] | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    records: str = "none",
    spool: Spool | None = None,
    pieces: int = 1,
) -> list[ReplicationOutput]:
    """Run every (scenario, replication) on the chosen backend; results in that order.

    With ``pieces`` > 1 each replication is split into that many groups of crossings, run
    as separate tasks and joined here; the tables are identical to an unsplit run's.
    """
    if records not in LEVELS:
        raise ValueError(f"records must be one of {', '.join(LEVELS)}, not {records!r}")
    folders: dict[str, str | None] = {}
    for k, s in enumerate(scenarios):  # each scenario's record files in a folder of its own
        folders[s.name] = None if spool is None or records == "none" else str(spool.folder(f"{k:04d}"))
    pairs = [(s, r) for s in scenarios for r in replications]
    if pieces <= 1:
        tasks = [(Task(s, r, None, records, folders[s.name]),) for s, r in pairs]
        return run_tasks(
            replicate, tasks, jobs, backend, scheduler, None if on_done is None else (lambda i, _: on_done(i))
        )
    split = {s.name: [p.crossings for p in model_of(s).pieces(pieces)] for s in scenarios}
    tasks, owner = [], []
    for k, (s, r) in enumerate(pairs):
        for crossings in split[s.name]:
            tasks.append((Task(s, r, crossings, records, folders[s.name]),))
            owner.append(k)
    remaining = [owner.count(k) for k in range(len(pairs))]

    def done(i: int, _result: Any) -> None:
        remaining[owner[i]] -= 1
        if remaining[owner[i]] == 0 and on_done is not None:
            on_done(owner[i])

    parts = run_tasks(_simulate_piece, tasks, jobs, backend, scheduler, done)
    return [combine(s, [p for p, o in zip(parts, owner, strict=True) if o == k]) for k, (s, _r) in enumerate(pairs)]


def summarise(
    scenario: Scenario,
    outputs: list[ReplicationOutput],
    jobs: int,
    wall: float,
    records: str = "none",
    spool: Spool | None = None,
    pieces: int = 1,
) -> RunResult:
    """Combine the replications of one scenario into a ``RunResult``."""
    model = model_of(scenario)
    reps = pd.concat([o.kpis for o in outputs], ignore_index=True)
    reps.insert(0, "scenario", scenario.name)
    summary = summarize(reps, pooled_waits(model, [o.travellers for o in outputs]), scenario.name)
    stages = summarize_pools(pd.concat([o.pools for o in outputs], ignore_index=True), scenario.name)
    summary = add_notes(summary, stages)
    files: dict[str, list[Path]] = {}
    for o in outputs:
        for kind, paths in o.files.items():
            files.setdefault(kind, []).extend(paths)
    entities = sum(o.entities for o in outputs)
    sim_seconds = sum(o.sim_seconds for o in outputs)
    manifest = {
        "scenario": scenario.name,
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "horizon_min": scenario.horizon,
        "warmup_min": scenario.warmup,
        "start_weekday": scenario.start_weekday,
        "start_date": scenario.start_date.isoformat() if scenario.start_date else None,
        "calendar": scenario.calendar.describe(),
        "episodes": [e.describe() for e in scenario.episodes],
        "jobs": jobs,
        "pieces": pieces,
        "records": records,
        "versions": versions(),
        "wall_time_s": round(wall, 3),
        "entities": int(entities),
        "entities_per_second": round(entities / wall, 1) if wall > 0 else None,
        "engine_entities_per_second": round(entities / sim_seconds, 1) if sim_seconds > 0 else None,
        "random_streams": "numpy PCG64 from SeedSequence(seed, spawn_key=(replication, crc32(stream), "
        "crc32(source, stage, week)...)); each traveller's service from its own uniforms",
        "files": list(scenario.resolved_from),
        "assumptions": list(scenario.assumptions),
        "sources": list(scenario.sources),
        "countries": {"a": scenario.countries.a, "b": scenario.countries.b},
        "flows": {name: {"unit": f.unit, "occupants": f.occupants} for name, f in scenario.flows.items()},
    }
    corridors = network = None
    if model.corridors:
        corridors = summarize_corridors(pd.concat([o.corridors for o in outputs], ignore_index=True), scenario.name)
        network = summarize_crossing_flows(
            pd.concat([o.crossing_flows for o in outputs], ignore_index=True), scenario.name
        )
    weather = None
    if model.weather:
        weather = pd.DataFrame(
            [(o.replication, *c) for o in outputs for c in o.closures],
            columns=["replication", "weather", "crossing", "start_min", "end_min"],
        )
        weather.insert(0, "scenario", scenario.name)
    daily = weekly = overload = None
    dailies = [o.daily for o in outputs if o.daily is not None]
    if len(dailies) == len(outputs) and outputs:
        daily, weekly = daily_tables(model, dailies, scenario.name)
        overload = overload_table(
            model, dailies, [o.travellers for o in outputs], [o.pools for o in outputs], summary, scenario.name
        )
    equeue = equeue_slots = equeue_area = None
    if model.equeues and outputs and all(o.equeues is not None for o in outputs):
        equeue, equeue_slots, equeue_area = equeue_tables(
            model, [o.equeues for o in outputs if o.equeues is not None], scenario.name
        )
    return RunResult(
        scenario,
        summary,
        stages,
        reps,
        manifest,
        files,
        spool,
        corridors,
        network,
        weather,
        daily,
        weekly,
        overload,
        equeue,
        equeue_slots,
        equeue_area,
    )


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
    records: str = "full",
    pieces: int = 1,
) -> RunResult:
    """Run all replications of ``scenario`` and summarise them.

    ``jobs`` > 1 runs replications in worker processes (or on ``backend="dask"``); results
    are identical either way, and with ``pieces`` > 1 (each replication split into groups
    of crossings). ``progress(done, total)`` is called after each replication. ``records``
    keeps per-visit and per-traveller files (``"full"``), per-traveller only
    (``"travellers"``) or none. With ``precision``, replications are added in batches until
    the interval is tight enough (replication r is the same whatever the batch).
    """
    scenario = with_overrides(scenario, replications, seed, days)
    most = scenario.replications if precision is None else precision.maximum
    check_memory([(scenario, min(max(1, jobs), most), most)], jobs)
    wall0 = time.perf_counter()
    spool = Spool() if records != "none" else None
    count = [0]
    total = scenario.replications if precision is None else precision.maximum

    def tick(_: int) -> None:
        count[0] += 1
        if progress is not None:
            progress(count[0], total)

    def batch(reps: list[int]) -> list[ReplicationOutput]:
        return execute([scenario], reps, jobs, tick, backend, scheduler, records, spool, pieces)

    if precision is None:
        outputs = batch(list(range(scenario.replications)))
        return summarise(scenario, outputs, jobs, time.perf_counter() - wall0, records, spool, pieces)
    outputs = []
    target = precision.minimum
    while True:
        outputs += batch(list(range(len(outputs), target)))
        reached, half, mean = precision_reached(outputs, precision)
        if reached or len(outputs) >= precision.maximum:
            break
        target = min(precision.maximum, len(outputs) + max(jobs, 1))
    final = scenario.model_copy(update={"replications": len(outputs)})
    result = summarise(final, outputs, jobs, time.perf_counter() - wall0, records, spool, pieces)
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


def __getattr__(name: str) -> Any:
    # the comparison lives in its own module, which builds on this one
    if name in ("compare", "ComparisonResult"):
        from sim.experiments import compare as module

        return getattr(module, name)
    if name == "ReportFailed":
        from sim.outputs.writing import ReportFailed

        return ReportFailed
    raise AttributeError(f"module 'sim.experiments.run' has no attribute {name!r}")
