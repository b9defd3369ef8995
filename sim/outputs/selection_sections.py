"""Which scenario is best, in words an adviser can repeat: the statement and the report's section.

The statement is written once, when the selection ends, into the comparison's manifest; the
command prints it and the report shows it, so both say the same. It states what Kim and Nelson's
procedure proves and no more: the truly best scenario is named with the stated probability when it
is better than every other by at least the indifference zone; closer than that, a scenario within
the zone may be named instead, a difference the analyst declared too small to matter.

The report reads ``selection.csv`` and the manifest's ``selection`` entry only (``bordersim
report`` redraws it); names from the files are escaped by ``el``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs.html import Html, data_table, el, join
from sim.outputs.readable import direction_label, duration, kpi_name, per_day, plural_flow
from sim.outputs.results import KINDS, ReportError, read_csv_table
from sim.outputs.table_columns import SELECTION_COLUMNS

UNITS = {
    "persons_per_day": "persons per day",
    "wagons_per_day": "wagons per day",
    "delay_vehicle_hours_per_day": "vehicle-hours per day",
    "co2_kg_per_day": "kg of CO2 per day",
}
"""The unit of a KPI's values where the name alone does not say it plainly (minutes and throughput aside)."""


def kpi_words(entry: dict[str, Any], countries: tuple[str, str] = ("A", "B")) -> str:
    """The KPI, the flow and the direction of the selected row: "mean wait of trucks (A → B)"."""
    metric, flow, direction = entry["metric"], entry["flow"], entry["direction"]
    who = "all travellers" if flow == "ALL" else plural_flow(flow)
    where = "" if direction == "ALL" else f" ({direction_label(direction, countries)})"
    return f"{kpi_name(metric)} of {who}{where}"


def zone_words(entry: dict[str, Any], units: dict[str, str] | None = None) -> str:
    """The indifference zone with its unit: "5.0 min", "20 vehicles per day"."""
    metric, flow, delta = entry["metric"], entry["flow"], float(entry["indifference"])
    text = value_words(delta, metric)
    if metric.endswith("_min"):
        return text
    if metric in UNITS:
        return f"{text} {UNITS[metric]}"
    if metric == "delay_value_per_day" and entry.get("currency"):
        return f"{text} {entry['currency']} per day"
    if metric == "throughput_per_day":
        return f"{text} {per_day((units or {}).get(flow, 'traveller')) if flow != 'ALL' else 'travellers per day'}"
    return f"{text} (in the unit of {metric})"


def value_words(value: float, metric: str) -> str:
    """A value of the KPI to three significant digits: a zone of 0.02 min must not read "0.0 min"."""
    if metric.endswith("_min"):
        return f"{value:.3g} min" if abs(value) < 120 else duration(value)
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def statement(
    entry: dict[str, Any], countries: tuple[str, str] = ("A", "B"), units: dict[str, str] | None = None
) -> str:
    """The selection in two or three plain sentences, with or without its guarantee."""
    k, best = int(entry["scenarios"]), entry["best"]
    way = "lowest" if entry["better"] == "lower" else "highest"
    what, zone, pcs = kpi_words(entry, countries), zone_words(entry, units), f"{100 * float(entry['pcs']):g}%"
    if entry["guarantee"]:
        return (
            f"Of the {k} scenarios, {best} has the {way} {what} over the whole border. If the best scenario is at "
            f"least {zone} better than every other, Kim and Nelson's procedure names it with at least {pcs} "
            f"probability; a scenario less than {zone} from the best may be named instead, a difference taken as "
            f"too small to matter. {_effort(entry)}"
        )
    rivals = ", ".join(entry["in_contention"])
    return (
        f"Of the {k} scenarios, {best} has the {way} {what} over the whole border in the replications run, "
        f"but without a probability guarantee: after {entry['stages']:,} replications each (the cap), "
        f"{rivals} were still in contention, either less than {zone} apart or too variable to tell apart "
        f"at {pcs}. {_effort(entry)}"
    )


def _effort(entry: dict[str, Any]) -> str:
    """How many replications the answer took, and whether any beyond the comparison's were needed."""
    used, first, k = int(entry["replications_used"]), int(entry["first_stage"]), int(entry["scenarios"])
    if used == first * k:
        return f"{used:,} replications in all: the comparison's own {first} of each were enough."
    return (
        f"{used:,} replications in all: the comparison's {first} of each, then more only for the scenarios "
        "still in contention."
    )


SELECTION_MANIFEST: dict[str, str] = {
    "metric": "text",
    "flow": "text",
    "direction": "text",
    "best": "name",
    "statement": "text",
    "first_stage": "count",
    "replications_used": "count",
    "procedure": "text",
}
"""The keys of the manifest's ``selection`` entry the report uses, and their kinds (``results.KINDS``)."""


def _entry(manifest: dict[str, Any], path: Path) -> dict[str, Any] | None:
    """The manifest's selection entry, checked; None when the comparison selected nothing."""
    entry = manifest.get("selection")
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ReportError(f"{path}: 'selection' must be an object describing the selection")
    for key, kind in SELECTION_MANIFEST.items():
        check, expected = KINDS[kind]
        if key not in entry:
            raise ReportError(f"{path}: the key 'selection.{key}' is missing")
        if not check(entry[key]):
            raise ReportError(f"{path}: 'selection.{key}' must be {expected}")
    if not isinstance(entry.get("guarantee"), bool):
        raise ReportError(f"{path}: 'selection.guarantee' must be true or false")
    return entry


def _fate(row: pd.Series, cap_reached: bool) -> str:
    """What became of a scenario in the selection, in words."""
    if row["is_best"]:
        return "named best" if not cap_reached else "best sample mean, no guarantee"
    if row["eliminated_by"] and row["identical"]:
        return (
            f"set aside after {int(row['eliminated_at']):,} replications: the same value as "
            f"{row['eliminated_by']} in every replication"
        )
    if row["eliminated_by"]:
        return f"eliminated after {int(row['eliminated_at']):,} replications by {row['eliminated_by']}"
    return "still in contention at the cap"


def selection_section(folder: Path, manifest: dict[str, Any]) -> Html:
    """The section "Which scenario is best": the statement, each scenario's replications and fate, the method."""
    entry = _entry(manifest, folder / "manifest.json")
    if entry is None:
        return Html("")
    table = read_csv_table(folder / "selection.csv", SELECTION_COLUMNS)
    cap_reached, metric = not entry["guarantee"], entry["metric"]
    shown = pd.DataFrame(
        {
            "scenario": table["scenario"],
            "replications": [f"{int(n):,}" for n in table["replications"]],
            f"mean {kpi_name(metric)}": [value_words(v, metric) for v in table["mean"]],
            "outcome": [_fate(row, cap_reached) for _, row in table.iterrows()],
        }
    )
    method = (
        f"{entry['procedure']}: the first stage is the comparison's own {entry['first_stage']} replications of every "
        "scenario; then one more replication at a time of each scenario still in contention, with the same random "
        "numbers in every scenario, until one is left. A scenario is eliminated once another's mean is better by "
        "more than an allowance that shrinks as replications add up, set by the variance of their differences, "
        "the indifference zone and the confidence. The guarantee assumes the per-replication value is close to "
        "normal, as a mean over a long run usually is. Only the first-stage replications enter the comparison's "
        "tables and intervals; the extra ones serve the selection alone."
    )
    return join(
        [
            el("h2", "Which scenario is best"),
            el("p", el("b", entry["statement"])),
            data_table(shown, "selection", f"Each scenario in the selection by {kpi_words(entry)}, whole border"),
            el("p", method, class_="note"),
        ]
    )
