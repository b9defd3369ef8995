"""The report of a sweep folder: what was swept, which inputs matter, when runs go bad, every point.

Drawn from the files a sweep wrote (``sweep.json`` and ``sweep.parquet``) once its runs are
in, so it can be drawn again at any time with another definition of a bad run (``bordersim
sweep SWEEP --report-only --bad ...``), and a report that fails loses no result. Sensitivity
is asked of the whole border and of the row the bad outcome reads; scenario discovery of the
runs, each bad or not (``sim.analysis.sweep_tables`` says why these choices).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from sim.analysis.kpis import ALL
from sim.analysis.sweep_tables import Row, discover, point_table, run_table, sensitivity
from sim.experiments.bad_outcome import BadOutcome
from sim.experiments.sweep import group_rows, overloaded_points
from sim.outputs.files import write_text
from sim.outputs.html import Html, el, join, page
from sim.outputs.results import ReportError, read_manifest, read_parquet_table
from sim.outputs.sweep_sections import discovery_section, points_table, sensitivity_section, what_was_swept
from sim.outputs.sweep_words import row_words
from sim.outputs.table_columns import Columns
from sim.outputs.writing import Progress, ReportFailed

WHOLE_BORDER: Row = (ALL, ALL, ALL)
SWEEP_TABLE = Columns(text=("crossing", "direction", "flow", "metric"), numbers=("point", "replication", "value"))
"""The columns of ``sweep.parquet`` the report reads."""


class SweepReportFailed(ReportFailed):
    """The sweep's results are in place, but its report could not be drawn."""

    def __init__(self, folder: Path, cause: Exception, sweep_file: str):
        super().__init__(folder, cause)
        self.sweep_file = sweep_file

    def __str__(self) -> str:
        return (
            f"the report could not be drawn ({type(self.cause).__name__}: {self.cause}); the results are in "
            f"{self.folder}, and `bordersim sweep {self.sweep_file} --out {self.folder} --report-only` draws it again"
        )


def read_sweep(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """``sweep.json`` and ``sweep.parquet`` of a sweep folder; ``ReportError`` naming the file otherwise."""
    if not (folder / "sweep.json").exists() or not (folder / "sweep.parquet").exists():
        raise ReportError(f"{folder}: no finished sweep there (no sweep.json or sweep.parquet); run the sweep first")
    status = read_manifest(folder / "sweep.json", {"status": ("text", True)})
    if not isinstance(status.get("spec"), dict) or not isinstance(status.get("points"), list):
        raise ReportError(f"{folder / 'sweep.json'}: not what a sweep writes (no spec or no points)")
    if not all(isinstance(p, dict) for p in status["points"]):
        raise ReportError(f"{folder / 'sweep.json'}: points must be objects of factor values")
    table = read_parquet_table(folder / "sweep.parquet", SWEEP_TABLE)
    return status, table


def bad_of(spec: dict[str, Any], folder: Path) -> BadOutcome | None:
    """The bad outcome the sweep file defined, as ``sweep.json`` kept it."""
    if spec.get("bad") is None:
        return None
    try:
        return BadOutcome.model_validate(spec["bad"])
    except ValidationError:
        raise ReportError(f"{folder / 'sweep.json'}: spec.bad is not a bad outcome") from None


def sweep_report(
    folder: Path,
    bad: BadOutcome | None = None,
    countries: tuple[str, str] = ("A", "B"),
    progress: Progress | None = None,
) -> Path:
    """Charts and report.html of a sweep folder; ``bad`` replaces the one ``sweep.json`` holds."""
    from sim.outputs.report import _embedder

    status, table = read_sweep(folder)
    spec, design = status["spec"], status["points"]
    bad = bad if bad is not None else bad_of(spec, folder)
    factors = list(design[0]) if design else []
    factors = [f for f in factors if f in table.columns]
    kept = [str(k) for k in spec.get("kpis", []) if not table.empty and k in set(table["metric"])]
    rows = [WHOLE_BORDER] + ([bad.row] if bad is not None and bad.row != WHOLE_BORDER else [])
    steps, done = len(rows) + 2, [0]

    def tick(what: str) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], steps, what)

    embed = _embedder(folder)
    overloaded = group_rows(table)
    overloaded = overloaded[overloaded["overloaded"].fillna(False).astype(bool)] if len(overloaded) else overloaded
    per_point = overloaded.groupby("point")["replication"].nunique() if len(overloaded) else pd.Series(dtype=int)
    finished = 0 if table.empty else table.groupby(["point", "replication"]).ngroups
    failed = int(status.get("failed", 0) or 0)

    analysed, tables = [], []
    for i, row in enumerate(rows):
        runs = run_table(table, factors, row, kept) if factors and kept else None
        if runs is None or runs.empty:
            continue
        points = point_table(runs, factors, kept)
        analysed.append((row, sensitivity(points, factors, kept)))
        extra = {"runs overloaded": per_point}
        if bad is not None and row == bad.row:
            flags = runs.assign(bad=bad.is_bad(runs[bad.kpi].to_numpy(dtype=float)))
            extra = {"bad runs": flags.groupby("point")["bad"].sum(), **extra}
        where = row_words(row, countries)
        label = where[0].upper() + where[1:] + ("" if row == WHOLE_BORDER else " (the bad outcome's row)")
        tables.append(points_table(points, factors, kept, extra, f"{label}: design points", f"points-{i}"))
        tick("sensitivity")
    discovery = None
    if bad is not None and factors and bad.kpi in kept:
        discovery = discover(run_table(table, factors, bad.row, [bad.kpi]), factors, bad)
    for stale in ("prim_trajectory", "sensitivity_row1"):
        for suffix in (".png", ".svg"):
            (folder / "charts" / f"{stale}{suffix}").unlink(missing_ok=True)  # from an earlier bad definition
    warnings = overloaded_points(table, factors)
    sections = [
        _status_notice(status, warnings, bad, kept),
        el("h2", "What was swept"),
        what_was_swept(spec, len(design), finished, failed, bad),
        sensitivity_section(analysed, countries, embed) if analysed else el("p", "No finished run to analyse."),
        discovery_section(discovery, bad, countries, embed),
    ]
    tick("scenario discovery")
    sections += [el("h2", "Design points", id="points"), *tables]
    out = folder / "report.html"
    write_text(out, page(f"bordersim sweep: {spec.get('name', folder.name)}", sections))
    tick("report.html")
    return out


def _status_notice(status: dict[str, Any], warnings: list[str], bad: BadOutcome | None, kept: list[str]) -> Html:
    """Warnings a reader must see first: runs missing, queues growing without bound, a bad KPI not kept."""
    lines = []
    if status.get("status") == "running":
        lines.append("The sweep did not finish: this report shows the runs finished so far; run it again to resume.")
    if status.get("failed"):
        lines.append(f"{status['failed']} run(s) failed and are left out; see failures.csv.")
    if bad is not None and bad.kpi not in kept:
        lines.append(f"The bad outcome reads {bad.kpi}, which this sweep did not keep: add it to kpis and run again.")
    lines += [f"Overloaded {w}." for w in warnings]
    if not lines:
        return Html("")
    return el("div", join(el("p", line) for line in lines), class_="notice")


def draw_sweep_report(
    folder: Path, sweep_file: str, bad: BadOutcome | None, countries: tuple[str, str], progress: Progress | None
) -> Path:
    """Draw the report of a sweep whose results are in place: a failure here says so and loses nothing."""
    try:
        return sweep_report(folder, bad, countries, progress)
    except ReportError:
        raise
    except Exception as err:  # noqa: BLE001 - whatever broke the report, the results are kept and said to be
        raise SweepReportFailed(folder, err, sweep_file) from err
