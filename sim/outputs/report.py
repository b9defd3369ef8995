"""The self-contained HTML report of a results folder, and its charts.

Everything is drawn from the files a run or a comparison wrote (``bordersim report DIR``
rebuilds it any time): what was run and why it can be trusted (the STRESS-DES reporting
items), a headline table, charts, per-crossing tables and the scenario's assumptions. Images
are embedded, so the page opens anywhere, offline.

This module decides which sections and charts each page shows; ``sim.outputs.sections`` builds
the sections both pages share, ``sim.outputs.network_sections`` the corridors and weather of the
scenarios that have them, ``sim.outputs.equeue_sections`` their electronic queues, and
``sim.outputs.html`` the escaped markup. Every file is read
through ``sim.outputs.results``, where any problem becomes a ``ReportError`` naming the file.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from sim.experiments.executors import run_tasks
from sim.outputs import charts, comparison_charts, map_charts
from sim.outputs.cost_sections import comparison_costs_section, run_costs_section
from sim.outputs.equeue_sections import comparison_equeue_section, run_equeue_section
from sim.outputs.files import atomic_write, write_text
from sim.outputs.html import Html, data_table, el, figure, join, page
from sim.outputs.interactive import scripts
from sim.outputs.interactive_sections import interactive_forest, interactive_map
from sim.outputs.network_sections import Embed, comparison_section, run_section
from sim.outputs.overload_sections import comparison_verdicts, run_overload_section, verdict_box
from sim.outputs.results import (
    COMPARISON_MANIFEST,
    ReportError,
    RunFolder,
    is_comparison,
    read_csv_table,
    read_manifest,
)
from sim.outputs.sections import (
    NOTHING_TO_SHOW,
    TRUST,
    comparison_headline,
    headline,
    notes,
    notice,
    per_crossing,
    what_was_run,
    why_nothing_completed,
)
from sim.outputs.selection_sections import selection_section
from sim.outputs.summary_sections import comparison_summary, run_summary
from sim.outputs.table_columns import COMPARISON_COLUMNS
from sim.outputs.writing import Progress

__all__ = ["ReportError", "RunFolder", "build_report", "comparison_report", "run_report"]


def _save(fig: Figure, folder: Path, name: str) -> str:
    """Write a chart as PNG and SVG under ``charts/``; return the PNG as base64 for embedding."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    png = buf.getvalue()
    svg = io.StringIO()
    fig.savefig(svg, format="svg", bbox_inches="tight")
    plt.close(fig)
    charts_dir = folder / "charts"
    atomic_write(charts_dir / f"{name}.png", lambda p: p.write_bytes(png))
    atomic_write(charts_dir / f"{name}.svg", lambda p: p.write_text(svg.getvalue(), encoding="utf-8"))
    return base64.b64encode(png).decode("ascii")


def _embedder(folder: Path) -> Embed:
    """Charts that a section draws, saved into ``folder`` like the page's others and embedded in it."""

    def embed(key: str, fig: Figure, alt: str, caption: str) -> Html:
        return figure(_save(fig, folder, key), alt, caption)

    return embed


Chart = tuple[str, Callable[[], Figure], str, str] | tuple[str, Callable[[], Figure], str, str, Callable[[Html], Html]]
"""A chart of a page: its file name, how to draw it, its alt text and caption, and optionally the
interactive version to show in front of it (given the static figure as its fallback)."""


def _draw(folder: Path, figs: list[Chart], progress: Progress | None, done: int = 0, extra: int = 0) -> Html:
    """Draw, save and embed each chart, telling ``progress`` after each (``extra`` steps came before)."""
    out = []
    for k, (key, make, alt, caption, *interactive) in enumerate(figs, 1):
        static = figure(_save(make(), folder, key), alt, caption)
        out.append(interactive[0](static) if interactive else static)
        if progress is not None:
            progress(done + k, extra + len(figs) + 1, key)
    return join(out)


def run_report(folder: Path, progress: Progress | None = None) -> Path:
    """Charts and report.html for one scenario's results folder (``progress`` told after each chart)."""
    r = RunFolder.read(folder)
    m = r.manifest
    colours = charts.palette([r.name])
    warm, horizon = float(m["warmup_min"]), float(m["horizon_min"])
    figs = [
        None
        if r.records is None
        else (
            "wait_distribution",
            lambda: charts.wait_ecdf({r.name: r.records}, warm, colours),
            "Distribution of waits",
            "Share of travellers who waited at most a given time, per flow; the dashed line marks the 95th percentile.",
        ),
        (
            "throughput_by_category",
            lambda: charts.throughput_by_category({r.name: r.summary}, r.crossings, r.units, colours),
            "Throughput by category",
            "Travellers leaving per day, one panel per unit: vehicles, persons on foot, trains and vessels are "
            "never added together.",
        ),
        None
        if r.records is None or r.visits is None
        else (
            "day_profile",
            lambda: charts.day_profile({r.name: r.records}, {r.name: r.visits}, warm, horizon, colours),
            "Day profile",
            "Mean wait by hour of arrival and mean queue length by hour of day; peak hours shaded.",
        ),
        (
            "utilization",
            lambda: charts.utilization_heatmap(r.stages, countries=r.countries),
            "Stage utilization",
            "Busy share of booth time per crossing and post; the bottlenecks stand out.",
        ),
        (
            "border_map",
            lambda: map_charts.border_map(r.summary, r.crossings, r.countries, r.basemap),
            "Crossings along the border",
            "Each crossing at its coordinates, coloured by mean wait and sized by throughput; a hollow marker is "
            "an approximate place (no published coordinates)."
            + (f" Base map: {r.basemap.attribution}" if r.basemap is not None else ""),
            lambda static: interactive_map(r, static),
        ),
    ]
    drawn = [f for f in figs if f is not None]
    images = _draw(folder, drawn, progress)
    reason = why_nothing_completed(r.records, warm)
    sections = [
        verdict_box(r.overload, r.countries),
        notice(NOTHING_TO_SHOW, [reason] if reason else []),
        run_summary(r),
        el("h2", "Headline"),
        data_table(
            headline(r.summary, r.units),
            "headline",
            "Whole border, per flow, grouped by unit: mean ± 95% half-width over replications",
        ),
        el("h2", "What was run"),
        what_was_run([m]),
        el("h2", "Why it can be trusted"),
        TRUST,
        el("h2", "Charts"),
        images,
        run_overload_section(r, _embedder(folder)),
        run_costs_section(r),
        run_equeue_section(r, _embedder(folder)),
        run_section(r, _embedder(folder)),
        el("h2", "Per crossing"),
        el(
            "details",
            join(
                [
                    el("summary", "All crossings, longest mean wait first"),
                    data_table(per_crossing(r.summary, r.crossings), "crossings"),
                ]
            ),
            open="",
        ),
        el("h2", "Notes on assumptions"),
        notes(m),
    ]
    out = folder / "report.html"
    write_text(out, page(f"bordersim report: {r.name}", sections, head=scripts()))
    if progress is not None:
        progress(len(drawn) + 1, len(drawn) + 1, "report.html")
    return out


def comparison_report(folder: Path, jobs: int = 1, progress: Progress | None = None) -> Path:
    """Charts and report.html for a comparison folder (and each scenario's own report).

    ``progress`` is told after each scenario's report and each of the comparison's charts.
    """
    manifest = read_manifest(folder / "manifest.json", COMPARISON_MANIFEST)
    comparison = read_csv_table(folder / "comparison.csv", COMPARISON_COLUMNS)
    runs = [RunFolder.read(folder / name) for name in manifest["scenarios"]]
    base = runs[0]
    colours = charts.palette([r.name for r in runs])
    warm, horizon = float(base.manifest["warmup_min"]), float(base.manifest["horizon_min"])
    records = {r.name: r.records for r in runs if r.records is not None}
    visits = {r.name: r.visits for r in runs if r.visits is not None}
    kept = len(records) == len(runs)
    figs = [
        (
            "differences",
            lambda: comparison_charts.forest(comparison, colours, base.units),
            "Differences from the baseline",
            "Each scenario minus the baseline, whole border, per flow, with the 95% paired confidence interval; "
            "the axes are logarithmic beyond ±1 so that large and small changes both show.",
            lambda static: interactive_forest(comparison, base.units, colours, static),
        ),
        None
        if not kept
        else (
            "wait_distribution",
            lambda: charts.wait_ecdf(records, warm, colours),
            "Distribution of waits",
            "Share of travellers who waited at most a given time, per flow and scenario; dashed: 95th percentile.",
        ),
        (
            "throughput_by_category",
            lambda: charts.throughput_by_category(
                {r.name: r.summary for r in runs}, base.crossings, base.units, colours
            ),
            "Throughput by category",
            "Travellers leaving per day by crossing category and mode, per scenario, one panel per unit.",
        ),
        None
        if not kept or len(visits) < len(runs)
        else (
            "day_profile",
            lambda: charts.day_profile(records, visits, warm, horizon, colours),
            "Day profile",
            "Mean wait by hour of arrival and queue length by hour of day, per scenario.",
        ),
    ]
    drawn = [f for f in figs if f is not None]
    total = len(runs) + len(drawn) + 1
    finished: list[int] = []

    def reported(_i: int, _out: object) -> None:
        finished.append(1)
        if progress is not None:
            progress(len(finished), total, "scenario reports")

    # worker processes are stopped at once on Ctrl-C, not waited for
    run_tasks(run_report, [(r.path,) for r in runs], jobs, on_done=reported)
    images = _draw(folder, drawn, progress, done=len(runs), extra=len(runs))
    reasons = [
        f"{r.name}: {reason}"
        for r in runs
        if (reason := why_nothing_completed(r.records, float(r.manifest["warmup_min"])))
    ]
    links = el("ul", join(el("li", el("a", r.name, href=f"{quote(r.name, safe='')}/report.html")) for r in runs))
    summary = (
        NOTHING_TO_SHOW
        if len(reasons) == len(runs)
        else f"{len(reasons)} of {len(runs)} scenarios have nothing to show: no traveller completed in their "
        "observation window, so their waits and differences in waits are empty."
    )
    sections = [
        comparison_verdicts(runs),
        notice(summary, reasons),
        el(
            "p",
            join(
                [
                    "Baseline: ",
                    el("b", manifest["baseline"]),
                    f". Every scenario ran with the same seed ({manifest['seed']}) and "
                    f"{manifest['replications']} replications, sharing random numbers.",
                ]
            ),
        ),
        comparison_summary(runs, comparison),
        selection_section(folder, manifest),
        el("h2", "Headline"),
        el(
            "div",
            data_table(
                comparison_headline(comparison, base.units),
                "headline",
                "Whole border, per flow: mean time at the border, each scenario against the baseline "
                "(differences with their 95% paired interval)",
            ),
            class_="wide",
        ),
        el("h2", "What was run"),
        what_was_run([r.manifest for r in runs]),
        el("h2", "Why it can be trusted"),
        TRUST,
        el("h2", "Charts"),
        images,
        comparison_costs_section(runs, comparison),
        comparison_equeue_section(runs, _embedder(folder)),
        comparison_section(runs, _embedder(folder)),
        el("h2", "Each scenario"),
        join(
            el(
                "details",
                join(
                    [
                        el("summary", f"{r.name}: headline"),
                        data_table(headline(r.summary, r.units), f"headline-{r.name}"),
                    ]
                ),
            )
            for r in runs
        ),
        el("p", "Full reports:"),
        links,
        el("h2", "Notes on assumptions"),
        notes(base.manifest),
    ]
    out = folder / "report.html"
    title = f"bordersim comparison: {manifest['baseline']} and {len(runs) - 1} other(s)"
    write_text(out, page(title, sections, head=scripts()))
    if progress is not None:
        progress(total, total, "report.html")
    return out


def build_report(folder: str | Path, jobs: int = 1, progress: Progress | None = None) -> Path:
    """Rebuild the charts and report.html of a results folder from its files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    try:
        if is_comparison(folder):
            return comparison_report(folder, jobs, progress)
        return run_report(folder, progress)
    except OSError as exc:
        # reading turns every problem into a ReportError: what is left is writing the charts or the page
        raise ReportError(f"{exc.filename or folder}: cannot be written ({exc.strerror or exc})") from None
