"""Comparing scenarios with common random numbers: the same travellers, the same luck, paired differences."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.comparison import compare_replications, holm_across_scenarios, mark_overloaded
from sim.experiments.memory import check_memory, demand_volume
from sim.experiments.provenance import versions
from sim.experiments.run import RunResult, execute, summarise, with_overrides
from sim.experiments.spool import Spool
from sim.outputs.files import ResultsFolder
from sim.outputs.writing import Progress, draw_into, write_comparison_files
from sim.scenario.schema import Scenario


@dataclass
class ComparisonResult:
    """Runs of several scenarios with common random numbers, and their paired differences."""

    baseline: RunResult
    others: list[RunResult]
    comparison: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    equeue: pd.DataFrame | None = None
    """Every scenario's ``equeue.csv`` rows together (their scenario column tells them apart); None without e-queues."""
    selection: pd.DataFrame | None = None
    """With ``--select-best``: one row per scenario of the selection (``selection.csv``); its account is the
    manifest's ``selection`` entry (``sim.experiments.selection_run``)."""

    @property
    def runs(self) -> list[RunResult]:
        return [self.baseline, *self.others]

    def write(
        self,
        out: str | Path | ResultsFolder,
        report: bool = True,
        overwrite: bool = False,
        progress: Progress | None = None,
    ) -> Path:
        """Write each scenario's results in a subfolder, comparison.csv and the manifest, then the reports.

        Like a run's folder, the whole comparison folder appears only when complete, and the
        reports are drawn only then (``ReportFailed`` if they fail; the results stay).
        """
        from sim.outputs.files import results_folder

        with results_folder(out, overwrite) as folder:
            write_comparison_files(folder.tmp, self, progress)
            final = folder.place()
        if report:
            self.draw_report(final)
        return final

    def draw_report(self, folder: str | Path, progress: Progress | None = None) -> Path:
        """Draw the comparison's charts and ``report.html``, and each scenario's own, into its written folder."""
        from sim.outputs.report import comparison_report

        return draw_into(Path(folder), comparison_report, self.manifest.get("jobs", 1), progress)


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
    records: str = "full",
    pieces: int = 1,
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
    # every scenario's replications are summarised when all have run; at worst the workers
    # are all busy with the largest scenario
    largest = max(range(len(scenarios)), key=lambda k: demand_volume(scenarios[k]))
    busy = [min(max(1, jobs), replications) if k == largest else 0 for k in range(len(scenarios))]
    check_memory([(s, b, replications) for s, b in zip(scenarios, busy, strict=True)], jobs)
    spool = Spool() if records != "none" else None
    done: dict[str, int] = {}

    def tick(i: int) -> None:
        name = scenarios[i // replications].name
        done[name] = done.get(name, 0) + 1
        if progress is not None:
            progress(name, done[name], replications)

    results = []
    outputs = execute(scenarios, list(range(replications)), jobs, tick, backend, scheduler, records, spool, pieces)
    wall = time.perf_counter() - wall0
    for k, s in enumerate(scenarios):
        part = outputs[k * replications : (k + 1) * replications]
        results.append(summarise(s, part, jobs, wall, records, spool, pieces))
    base, rest = results[0], results[1:]
    # Holm's correction needs every scenario's p-value of a row at once: after the tables are joined
    table = holm_across_scenarios(
        pd.concat(
            [
                mark_overloaded(compare_replications(base.replications, r.replications), base.overload, r.overload)
                for r in rest
            ],
            ignore_index=True,
        )
    )
    manifest = {
        "baseline": base.scenario.name,
        "scenarios": [r.scenario.name for r in results],
        "scenario_sha256": {r.scenario.name: r.manifest["scenario_sha256"] for r in results},
        "seed": seed,
        "replications": replications,
        "common_random_numbers": True,
        "jobs": jobs,
        "records": records,
        "interval": "95% paired-t over replications",
        "significant": "Holm-adjusted paired-t p < 0.05 over the scenarios against the baseline, per row and metric",
        "versions": versions(),
        "wall_time_s": round(time.perf_counter() - wall0, 3),
    }
    # one wall time for the whole comparison: each scenario's report quotes the same figure
    for r in results:
        r.manifest["wall_time_s"] = manifest["wall_time_s"]
    tables = [r.equeue for r in results if r.equeue is not None]
    equeue = pd.concat(tables, ignore_index=True) if tables else None
    return ComparisonResult(base, rest, table, manifest, equeue)
