"""A corridor catalogue in CSV: one row per (corridor, crossing), folded into the corridor list.

Region-pair demand over many crossings is long; a CSV keeps it readable and fast to load.
Rows with the same ``corridor`` make one corridor: the corridor's own columns (origin,
destination, flow, direction, daily, hourly, weekly, speed, source) must agree on every
row, and each row adds one crossing with its drive (``drive_to``, ``drive_on``, ``km_to``,
``km_on``) and ``share``. Each folded key points at the row it came from.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.errors import Problem
from sim.scenario.yaml_files import Positions

CORRIDOR_COLUMNS = (
    "origin",
    "destination",
    "flow",
    "direction",
    "daily",
    "hourly",
    "weekly",
    "speed",
    "during_hours",
    "source",
)
OPTION_COLUMNS = ("drive_to", "drive_on", "km_to", "km_on", "share")
REQUIRED = ("corridor", "flow", "daily", "crossing")


def fold_corridor_rows(
    rows: list[tuple[dict[str, Any], int]], shown: str, positions: Positions
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Corridor dicts from catalogue rows, with ``positions`` set for each folded key."""
    problems: list[Problem] = []
    corridors: dict[str, dict[str, Any]] = {}
    index_of: dict[str, int] = {}
    for row, line in rows:
        unknown = sorted(set(row) - {"corridor", "crossing", *CORRIDOR_COLUMNS, *OPTION_COLUMNS})
        for col in unknown:
            known = ", ".join(("corridor", "crossing", *CORRIDOR_COLUMNS, *OPTION_COLUMNS))
            problems.append(Problem(shown, line, col, f"unknown column (known: {known})"))
        cid, crossing = row.get("corridor"), row.get("crossing")
        if not isinstance(cid, str) or not isinstance(crossing, str):
            problems.append(Problem(shown, line, "corridor" if cid is None else "crossing", "missing value"))
            continue
        if cid not in corridors:
            corridors[cid] = {"id": cid, **{k: row[k] for k in CORRIDOR_COLUMNS if k in row}, "crossings": {}}
            index = index_of[cid] = len(index_of)
            positions[("corridors", index)] = (shown, line)
            for k in (*CORRIDOR_COLUMNS, "id"):
                positions[("corridors", index, k)] = (shown, line)
        else:
            index = index_of[cid]
            first = corridors[cid]
            for k in CORRIDOR_COLUMNS:
                if row.get(k) != first.get(k):
                    problems.append(
                        Problem(
                            shown,
                            line,
                            k,
                            f"differs from the corridor's first row ({first.get(k)!r}); "
                            "a corridor's own columns must be the same on each of its rows",
                        )
                    )
        options = corridors[cid]["crossings"]
        if crossing in options:
            problems.append(Problem(shown, line, "crossing", f"{crossing!r} is listed twice for corridor {cid!r}"))
            continue
        options[crossing] = {k: row[k] for k in OPTION_COLUMNS if k in row}
        positions[("corridors", index, "crossings", crossing)] = (shown, line)
        for k in OPTION_COLUMNS:
            positions[("corridors", index, "crossings", crossing, k)] = (shown, line)
    return list(corridors.values()), problems
