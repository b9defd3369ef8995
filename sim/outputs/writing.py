"""Writing a results folder: each table, the records joined from the replications' parts, the manifest.

The format is described (and read back, checked) in ``sim.outputs.results``. The files are
written as steps, so that a command can show its progress file by file, into a folder that
takes its final name only when complete (``sim.outputs.files``); the report is drawn after,
and a report that fails never loses the results (``ReportFailed``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs.cost_files import cost_file_steps
from sim.outputs.files import atomic_write, write_csv, write_json
from sim.outputs.records import TRAVELLER_FILE, VISIT_FILE, join_parquet
from sim.outputs.results import MAP_FILE


def crossings_frame(scenario: Any) -> pd.DataFrame:
    """The crossings as the results describe them (for charts and reports).

    A crossing without coordinates gets the approximate place the scenario's base map gives
    it, and ``placed`` says which: ``given`` (its own coordinates) or ``approximate: how``.
    The model never reads these places; they are for the map only.
    """
    places = _places(getattr(scenario, "map", None))
    rows = []
    for c in scenario.crossings:
        a, b = c.sides["a"], c.sides["b"]
        name = c.name or " / ".join(n for n in (a.name, b.name) if n)
        lat, lon, placed = c.lat, c.lon, "given" if c.lat is not None and c.lon is not None else ""
        if not placed and c.id in places:
            lat, lon, how = places[c.id]
            placed = f"approximate: {how}"
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
                "lat": lat,
                "lon": lon,
                "placed": placed,
                "source": c.source,
            }
        )
    return pd.DataFrame(rows)


def _places(basemap: dict[str, Any] | None) -> dict[str, tuple[float, float, str]]:
    """The approximate places (lat, lon, how) a checked base map gives crossings, by crossing id."""
    out = {}
    for f in (basemap or {}).get("features", []):
        props = f.get("properties") or {}
        if props.get("kind") == "place":
            lon, lat = f["geometry"]["coordinates"][:2]
            out[str(props["crossing"])] = (float(lat), float(lon), str(props.get("how", "")))
    return out


Progress = Callable[[int, int, str], None]
"""Told ``(done, total, what)`` after each step of a long phase, for the command's progress display."""


def run_file_steps(out: Path, result: Any) -> list[tuple[str, Callable[[], None]]]:
    """A run's files as (name, write) steps: tables, records joined from the replications' parts, manifest."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("crossings.csv", lambda: write_csv(out / "crossings.csv", crossings_frame(result.scenario))),
        ("summary.csv", lambda: write_csv(out / "summary.csv", result.summary)),
        ("stages.csv", lambda: write_csv(out / "stages.csv", result.stages)),
        ("replications.csv", lambda: write_csv(out / "replications.csv", result.replications)),
    ]
    steps += cost_file_steps(out, result)
    if getattr(result, "corridors", None) is not None:
        steps.append(("corridors.csv", lambda: write_csv(out / "corridors.csv", result.corridors)))
        steps.append(("network.csv", lambda: write_csv(out / "network.csv", result.network)))
    if getattr(result, "weather", None) is not None:
        steps.append(("weather.csv", lambda: write_csv(out / "weather.csv", result.weather)))
    for name in ("daily", "weekly", "overload", "equeue", "equeue_slots", "equeue_area"):
        if getattr(result, name, None) is not None:
            table = getattr(result, name)
            steps.append((f"{name}.csv", lambda name=name, table=table: write_csv(out / f"{name}.csv", table)))
    basemap = getattr(result.scenario, "map", None)
    if basemap:
        steps.append((MAP_FILE, lambda: write_json(out / MAP_FILE, basemap)))
    for kind, name in (("travellers", TRAVELLER_FILE), ("visits", VISIT_FILE)):
        parts = result.record_files.get(kind)
        if parts:
            join = (lambda p, parts=parts: join_parquet(parts, p))  # noqa: E731 - bound to this kind's parts
            steps.append((name, lambda name=name, join=join: atomic_write(out / name, join)))
    steps.append(("manifest.json", lambda: write_json(out / "manifest.json", result.manifest)))
    return steps


def _run_steps(steps: list[tuple[str, Callable[[], None]]], progress: Progress | None) -> None:
    for done, (name, write) in enumerate(steps, 1):
        write()
        if progress is not None:
            progress(done, len(steps), name)


def write_run_files(out: Path, result: Any, progress: Progress | None = None) -> None:
    """A run's files into ``out``: its tables, its records joined from the replications' parts, the manifest."""
    _run_steps(run_file_steps(out, result), progress)


def write_comparison_files(out: Path, comparison: Any, progress: Progress | None = None) -> None:
    """Each scenario's run files in a subfolder, then ``comparison.csv``, any ``selection.csv``, the manifest."""
    steps: list[tuple[str, Callable[[], None]]] = []
    for r in comparison.runs:
        folder = out / r.scenario.name
        steps.append((f"{r.scenario.name}/", folder.mkdir))
        steps += [(f"{r.scenario.name}/{name}", write) for name, write in run_file_steps(folder, r)]
    steps.append(("comparison.csv", lambda: write_csv(out / "comparison.csv", comparison.comparison)))
    if getattr(comparison, "equeue", None) is not None:
        steps.append(("equeue.csv", lambda: write_csv(out / "equeue.csv", comparison.equeue)))
    if getattr(comparison, "selection", None) is not None:
        steps.append(("selection.csv", lambda: write_csv(out / "selection.csv", comparison.selection)))
    steps.append(("manifest.json", lambda: write_json(out / "manifest.json", comparison.manifest)))
    _run_steps(steps, progress)


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


def draw_into(folder: Path, draw: Callable[..., Path], *args: Any) -> Path:
    """Draw a report into a folder whose results are already in place, so that no failure here can lose them."""
    try:
        return draw(folder, *args)
    except Exception as err:  # noqa: BLE001 - whatever broke the report, the results are kept and said to be
        raise ReportFailed(folder, err) from err
