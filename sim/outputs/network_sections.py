"""The "Corridors and diversion" section of a run's and a comparison's report, and weather closures.

Only scenarios with corridors write ``corridors.csv`` and ``network.csv``, and only those with
weather ``weather.csv``; the section is built from these files alone, so that ``bordersim
report`` redraws it, and is left out of a page whose scenarios have neither. Origins,
destinations and crossing names are free text: every cell goes through ``data_table`` and every
sentence through ``el``, which escape them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.html import Html, data_table, el, fmt, join, pm
from sim.outputs.network_charts import corridor_change, corridor_traffic
from sim.outputs.results import RunFolder

Embed = Callable[[str, Figure, str, str], Html]
"""Saves a chart under ``charts/`` and returns its figure for the page: (key, figure, alt text, caption)."""

MAX_ROWS = 200
"""Rows a table shows at most; the CSV beside the report has them all."""
FOLDED_ROWS = 25
"""A table longer than this starts folded, so that a border of many corridors keeps the page short."""

INTRO = (
    "A corridor is demand between an origin and a destination that may cross at any of several "
    "crossings. Each trip picks a crossing when it sets off (route choice) and may switch to another "
    "later (diversion). Figures are means over replications, ± the 95% half-width, over the trips "
    "that set off in the observation window."
)
CORRIDOR_NOTE = (
    "Departures: trips that set off, per day. Diverted: trips that switched crossing on the way or in "
    "the queue (their crossing shut, or its queue too long). Trip time: from setting off to reaching "
    "the destination (the drive, any detour, the time at the border and the drive on), over the trips "
    "that arrived. Extra drive: driving beyond the shortest option of the corridor (its least drive to "
    "a crossing and on from it), summed over its trips, in vehicle-hours and kilometres per day: what "
    "the choice of crossing and the diversions cost on the road."
)
CROSSING_NOTE = (
    "Set off for: corridor trips that chose this crossing when they set off. Crossed there: those that "
    "actually crossed at it (trips still on their way at the end are not counted). Diverted out: trips "
    "that set off for it and crossed elsewhere; diverted in: trips that set off for another crossing "
    "and crossed here. Traffic with no choice of crossing (per-crossing demand) is not in these figures."
)


def _direction(value: object) -> str:
    """``a_to_b`` as a reader says it: ``a to b``."""
    return str(value).replace("_", " ")


def _capped(df: pd.DataFrame, table_id: str, caption: str, file: str) -> Html:
    """A table of at most ``MAX_ROWS`` rows (saying how many more ``file`` holds), scrolling if wide.

    Origins and destinations can be long and the columns many; the table scrolls sideways
    inside the page instead of pushing the page wider than a screen.
    """
    table = el("div", data_table(df.head(MAX_ROWS), table_id), class_="wide")
    parts = [el("summary", f"{caption} ({len(df):,} row{'' if len(df) == 1 else 's'})"), table]
    if len(df) > MAX_ROWS:
        parts.append(el("p", f"The first {MAX_ROWS} of {len(df):,} rows; {file} has them all.", class_="note"))
    attrs = {"open": ""} if len(df) <= FOLDED_ROWS else {}
    return el("details", join(parts), **attrs)


def corridor_table(corridors: pd.DataFrame, scenario: bool = False) -> pd.DataFrame:
    """One row per corridor and direction, the busiest first.

    With ``scenario``, a comparison's rows keep the order they come in (each corridor's
    scenarios side by side) and the table gets a scenario column.
    """
    c = corridors if scenario else corridors.sort_values("departures_per_day", ascending=False, kind="stable")
    share = np.where(c["departures"] > 0, 100.0 * c["diverted"] / c["departures"].where(c["departures"] > 0), np.nan)
    table = pd.DataFrame(
        {
            "corridor": c["corridor"].astype(str),
            "origin → destination": [
                f"{o or '–'} → {d or '–'}" for o, d in zip(c["origin"], c["destination"], strict=True)
            ],
            "flow": c["flow"].astype(str),
            "direction": c["direction"].map(_direction),
            "departures per day": [
                pm(m, h) for m, h in zip(c["departures_per_day"], c["departures_per_day_ci95"], strict=True)
            ],
            "diverted per day": [
                pm(m, h) for m, h in zip(c["diverted_per_day"], c["diverted_per_day_ci95"], strict=True)
            ],
            "diverted (% of departures)": [fmt(v, 1) for v in share],
            "trip time, mean (min)": [
                pm(m, h) for m, h in zip(c["trip_time_mean_min"], c["trip_time_mean_min_ci95"], strict=True)
            ],
            "extra drive (vehicle-hours per day)": [
                pm(m, h)
                for m, h in zip(
                    c["extra_drive_vehicle_hours_per_day"], c["extra_drive_vehicle_hours_per_day_ci95"], strict=True
                )
            ],
            "extra km per day": [
                pm(m, h, 0) for m, h in zip(c["extra_km_per_day"], c["extra_km_per_day_ci95"], strict=True)
            ],
        }
    )
    if scenario:
        table.insert(0, "scenario", c["scenario"].astype(str).to_numpy())
    return table


def _without_empty_names(table: pd.DataFrame) -> pd.DataFrame:
    """The table without its name column when no crossing has a name (the ids say it all then)."""
    if "name" in table and not table["name"].astype(bool).any():
        return table.drop(columns="name")
    return table


def _names(crossings: pd.DataFrame) -> dict[str, str]:
    """Each crossing's name by id, as crossings.csv gives it."""
    meta = crossings.drop_duplicates("id")
    return dict(zip(meta["id"].astype(str), meta["name"].astype(str), strict=True))


def crossing_table(network: pd.DataFrame, crossings: pd.DataFrame) -> pd.DataFrame:
    """One row per crossing on a corridor, the most crossed first."""
    n = network.sort_values("used_per_day", ascending=False, kind="stable")
    names = _names(crossings)
    columns = {
        "set_off_for": "set off for",
        "used": "crossed there",
        "diverted_out": "diverted out",
        "diverted_in": "diverted in",
    }
    return pd.DataFrame(
        {
            "crossing": n["crossing"].astype(str),
            "name": [names.get(str(c), "") for c in n["crossing"]],
            **{
                f"{title} (per day)": [
                    pm(m, h) for m, h in zip(n[f"{key}_per_day"], n[f"{key}_per_day_ci95"], strict=True)
                ]
                for key, title in columns.items()
            },
        }
    )


def _closed_minutes(episodes: pd.DataFrame, horizon: float) -> float:
    """Minutes of ``[0, horizon]`` covered by the episodes (overlapping ones counted once)."""
    spans = np.clip(episodes[["start_min", "end_min"]].to_numpy(dtype=float), 0.0, horizon)
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    closed, reach = 0.0, 0.0
    for start, end in spans:
        start = max(start, reach)
        if end > start:
            closed += end - start
            reach = end
    return closed


def weather_table(weather: pd.DataFrame, crossings: pd.DataFrame, replications: int, horizon: float) -> pd.DataFrame:
    """Per crossing a weather closed: its episodes and hours shut, each a mean per replication."""
    reps = max(1, replications)
    names = _names(crossings)
    rows = []
    for crossing, w in weather.groupby("crossing", sort=True):
        closed = sum(_closed_minutes(e, horizon) for _, e in w.groupby("replication"))
        rows.append(
            {
                "crossing": str(crossing),
                "name": names.get(str(crossing), ""),
                "weather": ", ".join(sorted(set(w["weather"].astype(str)))),
                "episodes per replication": fmt(len(w) / reps, 1),
                "hours closed per replication": fmt(closed / reps / 60.0, 1),
                "share of the run closed (%)": fmt(100.0 * closed / reps / horizon, 1),
                "_closed": closed,
            }
        )
    if not rows:
        return pd.DataFrame(columns=["crossing", "name", "weather", "episodes per replication"])
    return pd.DataFrame(rows).sort_values("_closed", ascending=False, kind="stable").drop(columns="_closed")


def _weather_part(runs: Sequence[RunFolder]) -> list[Html]:
    """The weather table of the runs that have weather (a scenario column when there are several)."""
    with_weather = [(r, r.weather) for r in runs if r.weather is not None]
    if not with_weather:
        return []
    tables = []
    for r, weather in with_weather:
        m = r.manifest
        t = weather_table(weather, r.crossings, int(m["replications"]), float(m["horizon_min"]))
        if len(runs) > 1:
            t.insert(0, "scenario", r.name)
        tables.append(t)
    table = _without_empty_names(pd.concat(tables, ignore_index=True).fillna(""))
    days = sorted({float(r.manifest["horizon_min"]) / 1440.0 for r, _ in with_weather})
    length = f"{days[0]:g} day{'' if days[0] == 1 else 's'}, " if len(days) == 1 else ""
    note = (
        "Weather episodes that shut a crossing, as drawn in each replication: episodes and hours shut, each "
        f"a mean per replication over the whole run ({length}warm-up included; overlapping episodes counted once)."
    )
    if table.empty:
        note += " No episode fell in the run."
    return [
        el("h3", "Weather closures"),
        el("p", note, class_="note"),
        _capped(table, "weather", "Closures by weather, per crossing", "weather.csv"),
    ]


def run_section(r: RunFolder, embed: Embed) -> Html:
    """The section of one scenario's report; empty when it has neither corridors nor weather."""
    if r.network is None or r.corridors is None:
        weather = _weather_part([r])
        return join([el("h2", "Weather closures"), *weather[1:]]) if weather else Html("")
    chart = embed(
        "corridor_traffic",
        corridor_traffic(r.network, r.name),
        "Where corridor traffic went",
        "Grey: corridor trips per day that set off for each crossing; coloured: those that crossed there. "
        "The difference is diversion, written beside the bars. Whiskers: 95% intervals.",
    )
    return join(
        [
            el("h2", "Corridors and diversion"),
            el("p", INTRO),
            chart,
            el("h3", "Corridors"),
            el("p", CORRIDOR_NOTE, class_="note"),
            _capped(corridor_table(r.corridors), "corridors", "Per corridor and direction", "corridors.csv"),
            el("h3", "Crossings"),
            el("p", CROSSING_NOTE, class_="note"),
            _capped(
                _without_empty_names(crossing_table(r.network, r.crossings)),
                "corridor-crossings",
                "Corridor trips per crossing",
                "network.csv",
            ),
            *_weather_part([r]),
        ]
    )


def _change_table(runs: Sequence[RunFolder]) -> pd.DataFrame:
    """Per crossing and scenario: corridor trips per day, and crossed there against the baseline."""
    base = runs[0]
    base_used = (
        base.network.drop_duplicates("crossing").set_index("crossing")["used_per_day"]
        if base.network is not None
        else pd.Series(dtype=float)
    )
    parts = []
    for k, r in enumerate(runs):
        network = r.network
        if network is None:
            continue
        t = crossing_table(network, r.crossings)
        used = network.drop_duplicates("crossing").set_index("crossing")["used_per_day"]
        change = used - base_used.reindex(used.index).fillna(0.0)
        t.insert(0, "scenario", r.name)
        t["change in crossed there (per day)"] = ["–" if k == 0 else f"{change[c]:+,.1f}" for c in t["crossing"]]
        t["_order"] = k
        parts.append(t)
    table = _without_empty_names(pd.concat(parts, ignore_index=True).fillna(""))
    first = {c: i for i, c in enumerate(dict.fromkeys(table["crossing"]))}
    table["_crossing"] = table["crossing"].map(first)
    return table.sort_values(["_crossing", "_order"], kind="stable").drop(columns=["_crossing", "_order"])


def comparison_section(runs: Sequence[RunFolder], embed: Embed) -> Html:
    """The section of a comparison's report (baseline first in ``runs``); empty without corridors or weather."""
    base = runs[0]
    with_corridors = [(r, r.corridors) for r in runs if r.network is not None and r.corridors is not None]
    if not with_corridors:
        weather = _weather_part(runs)
        return join([el("h2", "Weather closures"), *weather[1:]]) if weather else Html("")
    chart = embed(
        "corridor_change",
        corridor_change({r.name: r.network for r in runs}, base.name),
        "Change in where corridor traffic crossed",
        f"Per crossing, corridor trips per day that crossed there in each scenario minus in {base.name}: "
        "a bar to the right, traffic the scenario brought to the crossing; to the left, traffic it took away. "
        "Differences of the replication means (each scenario's report has its intervals).",
    )
    # the scenario of a row is the folder it was read from
    corridors = pd.concat([corridors.assign(scenario=r.name) for r, corridors in with_corridors], ignore_index=True)
    order = {r.name: k for k, r in enumerate(runs)}
    corridors = corridors.assign(_order=corridors["scenario"].map(order)).sort_values(
        ["corridor", "direction", "_order"], kind="stable"
    )
    return join(
        [
            el("h2", "Corridors and diversion"),
            el("p", INTRO),
            chart,
            el("h3", "Corridors"),
            el("p", CORRIDOR_NOTE, class_="note"),
            _capped(
                corridor_table(corridors, scenario=True),
                "corridors",
                "Per corridor and direction, each scenario",
                "each scenario's corridors.csv",
            ),
            el("h3", "Crossings"),
            el("p", CROSSING_NOTE, class_="note"),
            _capped(
                _change_table(runs),
                "corridor-crossings",
                f"Corridor trips per crossing, each scenario against {base.name}",
                "each scenario's network.csv",
            ),
            *_weather_part(runs),
        ]
    )
