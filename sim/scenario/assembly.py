"""Assembling one scenario dictionary: CSV catalogues and traces, crossing templates, overrides.

What the author split over files and templates is folded into the lists the schema expects
(``crossings``, ``demand``), and each folded key gets the position it was written at, so a
problem in a template or a catalogue row is reported there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.scenario.corridor_tables import REQUIRED, fold_corridor_rows
from sim.scenario.episode_files import fold_episode_files, fold_equeue_files
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.tables import fold_trace, leaf_locs, read_csv
from sim.scenario.user_files import display
from sim.scenario.yaml_files import Loc, Positions, deep_merge, shift_list


def _fold_map(data: dict[str, Any], where: Any) -> list[Problem]:
    """Read ``map_file`` (the base map of the report) into ``map``, checked, so that a bad map fails at load."""
    from sim.scenario.basemap import BasemapError, read_basemap

    value = data.get("map_file")
    if value is None:
        return []
    if not isinstance(value, str):
        return [Problem(*where(("map_file",)), "map_file", "must be the path of a GeoJSON base map")]
    path = Path(value)
    try:
        basemap = read_basemap(path)
    except BasemapError as err:
        shown = display(path)
        return [Problem(*where(("map_file",)), "map_file", f"{shown}: {str(err).partition(': ')[2] or err}")]
    data["map"] = basemap.to_geojson()
    data["map_file"] = None  # folded in: a resolved scenario carries the map, not the path
    data.setdefault("resolved_from", []).append(display(path))
    return []


def assemble(data: dict[str, Any], positions: Positions, shown: str) -> list[Problem]:
    """Fold CSV catalogues, templates and per-crossing overrides into the crossing list."""
    problems: list[Problem] = []

    def where(loc: Loc) -> tuple[str, int | None]:
        return positions.get(loc, (shown, None))

    for key, list_key, required in (
        ("crossings_csv", "crossings", ("id", "category")),
        ("demand_csv", "demand", ("crossing", "flow", "daily")),
    ):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(Problem(*where((key,)), key, "must be the path of a CSV file"))
            continue
        try:
            rows = read_csv(value, where((key,)), key, required)
        except ScenarioError as err:
            problems += err.problems
            continue
        existing = data.get(list_key) or []
        if not isinstance(existing, list):
            continue  # reported by validation
        csv_shown = display(Path(value))
        shift_list(positions, list_key, len(rows))  # the YAML items come after the CSV rows
        for i, (row, line) in enumerate(rows):
            positions[(list_key, i)] = (csv_shown, line)
            for sub in leaf_locs(row):
                positions[(list_key, i, *sub)] = (csv_shown, line)
        data[list_key] = [r for r, _ in rows] + existing
        data[key] = None  # folded in: a resolved scenario carries the rows, not the path
        data.setdefault("resolved_from", []).append(csv_shown)

    problems += _fold_map(data, where)
    problems += _fold_corridors(data, positions, where)
    problems += fold_episode_files(data, positions, where)
    problems += fold_equeue_files(data, positions, where)

    demand = data.get("demand")
    if isinstance(demand, list):
        for k, item in enumerate(demand):
            if isinstance(item, dict) and isinstance(item.get("trace"), str):
                if item.get("times") is not None:
                    # the trace would silently replace the times written beside it
                    problems.append(
                        Problem(*where(("demand", k, "trace")), f"demand[{k}]", "give either trace or times, not both")
                    )
                    continue
                try:
                    fold_trace(item, where(("demand", k, "trace")), f"demand[{k}].trace", data)
                except ScenarioError as err:
                    problems += err.problems
                    # reported: a stand-in arrival keeps the entry from also being "missing" its times
                    item["times"] = [0.0]
                    item["trace"] = None

    crossings = data.get("crossings")
    templates = data.get("crossing_templates") or {}
    # where each template's and override's keys were written, to give the merged keys their lines
    written: dict[Loc, list[tuple[Loc, tuple[str, int | None]]]] = {}
    for loc, pos in positions.items():
        if len(loc) > 2 and loc[0] in ("crossing_templates", "crossing_overrides"):
            written.setdefault(loc[:2], []).append((loc[2:], pos))
    if isinstance(crossings, list) and isinstance(templates, dict):
        for i, item in enumerate(crossings):
            if not isinstance(item, dict):
                continue
            name = item.get("template")
            if name is None:
                # a crossing without a template takes the one named after its kind, if any
                name = f"{item.get('category')}_{item.get('mode', 'road')}"
                if name not in templates:
                    continue
            if not isinstance(name, str) or name not in templates:
                known = ", ".join(sorted(templates)) or "none defined"
                problems.append(
                    Problem(
                        *where(("crossings", i)),
                        f"crossings[{i}].template",
                        f"unknown crossing template {name!r} (known: {known})",
                    )
                )
                continue
            if isinstance(templates[name], dict):
                crossings[i] = deep_merge(templates[name], item)
                for sub, pos in written.get(("crossing_templates", name), []):
                    positions.setdefault(("crossings", i, *sub), pos)  # the crossing's own keys win
    overrides = data.get("crossing_overrides") or {}
    if isinstance(crossings, list) and isinstance(overrides, dict):
        index = {
            c.get("id"): i for i, c in enumerate(crossings) if isinstance(c, dict) and isinstance(c.get("id"), str)
        }
        for cid, patch in overrides.items():
            if cid not in index:
                problems.append(
                    Problem(
                        *where(("crossing_overrides", cid)), f"crossing_overrides.{cid}", "no crossing with this id"
                    )
                )
            elif isinstance(patch, dict):
                crossings[index[cid]] = deep_merge(crossings[index[cid]], patch)
                for sub, pos in written.get(("crossing_overrides", cid), []):
                    positions[("crossings", index[cid], *sub)] = pos
    return problems


def _fold_corridors(data: dict[str, Any], positions: Positions, where: Any) -> list[Problem]:
    """Fold ``corridors_csv`` into ``corridors``, before the corridors written in YAML."""
    value = data.get("corridors_csv")
    if value is None:
        return []
    if not isinstance(value, str):
        return [Problem(*where(("corridors_csv",)), "corridors_csv", "must be the path of a CSV file")]
    try:
        rows = read_csv(value, where(("corridors_csv",)), "corridors_csv", REQUIRED)
    except ScenarioError as err:
        return err.problems
    existing = data.get("corridors") or []
    if not isinstance(existing, list):
        return []  # reported by validation
    csv_shown = display(Path(value))
    folded: Positions = {}
    corridors, problems = fold_corridor_rows(rows, csv_shown, folded)
    shift_list(positions, "corridors", len(corridors))
    positions.update(folded)
    data["corridors"] = corridors + existing
    data["corridors_csv"] = None
    data.setdefault("resolved_from", []).append(csv_shown)
    return problems
