"""From running totals to tables: KPIs per replication, then means with 95% intervals over them.

Every table has a row per crossing x direction x flow and total rows (``ALL``): per
crossing (both directions, all flows), per flow, overall, and the whole border per direction
(per flow and all flows). The totals come from the
same group codes (``groups_table``), never from copies of a traveller table.
See ``sim.analysis.running`` for what is counted and over which window.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.costs import COST_KPIS, cost_columns
from sim.analysis.intervals import ci95_halfwidth
from sim.analysis.running import PoolTotals, TravellerTotals
from sim.model.compile import UNLIMITED, Model
from sim.model.staffing import available_server_minutes

ALL = "ALL"
KEYS = ["crossing", "direction", "flow"]
QUANTILES = {"wait_p50_min": 0.5, "wait_p90_min": 0.9, "wait_p95_min": 0.95}
KPIS = (
    "arrivals",
    "completed",
    "in_system_at_end",
    "throughput_per_day",
    "persons_per_day",
    "wagons_per_day",
    "wait_mean_min",
    "wait_p50_min",
    "wait_p90_min",
    "wait_p95_min",
    "wait_max_min",
    "time_in_system_mean_min",
    *COST_KPIS,
)
"""What ``replication_kpis`` gives per crossing x direction x flow and replication."""


def groups_table(model: Model) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Every row of the KPI tables, and for each total level the row of each group code.

    Rows: the groups sorted, then per crossing, per flow, overall, and the whole border per
    direction (per flow, then all flows): the question "what do trucks going from A to B wait"
    is asked of the whole border. ``levels[k][g]`` is
    the row that group ``g`` counts in at level k (0: its own row).
    """
    base = list(model.groups)
    rows = list(base)
    levels = [np.arange(len(base), dtype=np.int64)]
    # the border-wide rows per direction come last, so that every older row keeps its place
    for make in (
        lambda c, d, f: (c, ALL, ALL),
        lambda c, d, f: (ALL, ALL, f),
        lambda c, d, f: (ALL, ALL, ALL),
        lambda c, d, f: (ALL, d, f),
        lambda c, d, f: (ALL, d, ALL),
    ):
        where: dict[tuple[str, str, str], int] = {}
        codes = []
        for g in base:
            key = make(*g)
            if key not in where:
                where[key] = len(rows)
                rows.append(key)
            codes.append(where[key])
        levels.append(np.asarray(codes, dtype=np.int64))
    return pd.DataFrame(rows, columns=KEYS), levels


def _wait_stats(rows: int, levels: list[np.ndarray], group: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, quantiles and maximum of ``values`` per row, from the values sorted within each row."""
    out = {name: np.full(rows, np.nan) for name in ("mean", "max", *QUANTILES)}
    for codes in levels:
        row = codes.astype(np.int32)[group]
        order = np.lexsort((values, row))
        r = row[order]
        del row
        v = values[order]
        del order
        bounds = np.searchsorted(r, np.arange(rows + 1))
        qs = list(QUANTILES.values())
        for k in np.unique(r):
            part = v[bounds[k] : bounds[k + 1]]
            out["mean"][k] = part.mean()
            out["max"][k] = part[-1]
            for name, value in zip(QUANTILES, np.quantile(part, qs), strict=True):
                out[name][k] = value
    return out


def replication_kpis(model: Model, totals: TravellerTotals, replication: int) -> pd.DataFrame:
    """KPIs of one replication per crossing x direction x flow, and the total rows."""
    table, levels = groups_table(model)
    rows = len(table)
    days = (model.horizon - model.warmup) / 1440.0

    def rolled(x: np.ndarray) -> np.ndarray:
        out = np.zeros(rows, dtype=x.dtype)
        for codes in levels:
            np.add.at(out, codes, x)
        return out

    arrivals, completed = rolled(totals.arrivals), rolled(totals.completed)
    waits = _wait_stats(rows, levels, totals.group, totals.wait)
    times = _wait_stats(rows, levels, totals.group, totals.time_in_system)
    table.insert(0, "replication", replication)
    table["arrivals"] = arrivals
    table["completed"] = completed
    table["throughput_per_day"] = rolled(totals.released) / days
    # occupants of freight trains are wagons: counted apart, never as persons; a row with no
    # flow of a kind has no figure of that kind (NaN), not a count of 0
    wagons = np.asarray([g[2] in model.wagon_flows for g in model.groups], dtype=bool)
    for column, mask in (("persons_per_day", ~wagons), ("wagons_per_day", wagons)):
        present = rolled(mask.astype(np.int64)) > 0
        counted = rolled(np.where(mask, totals.released_persons, 0))
        table[column] = np.where(present, counted / days, np.nan)
    table["in_system_at_end"] = arrivals - completed
    table["wait_mean_min"] = waits["mean"]
    for name in QUANTILES:
        table[name] = waits[name]
    table["wait_max_min"] = waits["max"]
    table["time_in_system_mean_min"] = times["mean"]
    for name, values in cost_columns(model, totals, rolled, days).items():
        table[name] = values
    return table


def pooled_waits(model: Model, parts: list[TravellerTotals]) -> pd.DataFrame:
    """Quantiles and maximum of the wait over every replication's completed travellers together."""
    table, levels = groups_table(model)
    group = np.concatenate([p.group for p in parts]) if parts else np.empty(0, dtype=np.int32)
    wait = np.concatenate([p.wait for p in parts]) if parts else np.empty(0)
    stats = _wait_stats(len(table), levels, group, wait)
    for name in QUANTILES:
        table[name] = stats[name]
    table["wait_max_min"] = stats["max"]
    return table


def summarize(reps: pd.DataFrame, pooled: pd.DataFrame, scenario_name: str) -> pd.DataFrame:
    """Summary over replications: totals of counts, means with 95% half-widths, pooled quantiles."""
    g = reps.groupby(KEYS, sort=False)
    out = pd.DataFrame(
        {
            "replications": g["replication"].nunique(),
            "arrivals": g["arrivals"].sum(),
            "completed": g["completed"].sum(),
            "in_system_at_end": g["in_system_at_end"].sum(),
            "throughput_per_day": g["throughput_per_day"].mean(),
            "throughput_per_day_ci95": g["throughput_per_day"].agg(ci95_halfwidth),
            "persons_per_day": g["persons_per_day"].mean(),
            "wagons_per_day": g["wagons_per_day"].mean(),
            "wait_mean_min": g["wait_mean_min"].mean(),
            "wait_mean_min_ci95": g["wait_mean_min"].agg(ci95_halfwidth),
        }
    ).reset_index()
    out = out.merge(pooled, on=KEYS, how="left")
    tis = reps.groupby(KEYS, sort=False)["time_in_system_mean_min"]
    out = out.merge(
        pd.DataFrame(
            {"time_in_system_mean_min": tis.mean(), "time_in_system_mean_min_ci95": tis.agg(ci95_halfwidth)}
        ).reset_index(),
        on=KEYS,
        how="left",
    )
    out.insert(0, "scenario", scenario_name)
    out["note"] = ""
    return out[SUMMARY_COLUMNS]


def means_with_intervals(reps: pd.DataFrame, keys: list[str], columns: tuple[str, ...]) -> pd.DataFrame:
    """Per ``keys`` over replications: the number of replications, and each column's mean and 95% half-width.

    A replication where a figure is missing (NaN) is left out of its mean and interval.
    """
    g = reps.groupby(keys, sort=False)
    out = pd.DataFrame({"replications": g["replication"].nunique()})
    for name in columns:
        out[name] = g[name].mean()
        out[f"{name}_ci95"] = g[name].agg(ci95_halfwidth)
    return out.reset_index()


SUMMARY_COLUMNS = [
    "scenario",
    "crossing",
    "direction",
    "flow",
    "replications",
    "arrivals",
    "completed",
    "in_system_at_end",
    "throughput_per_day",
    "throughput_per_day_ci95",
    "persons_per_day",
    "wagons_per_day",
    "wait_mean_min",
    "wait_mean_min_ci95",
    "wait_p50_min",
    "wait_p90_min",
    "wait_p95_min",
    "wait_max_min",
    "time_in_system_mean_min",
    "time_in_system_mean_min_ci95",
    "note",
]


def pool_kpis(model: Model, totals: PoolTotals, replication: int) -> pd.DataFrame:
    """Per server pool of one replication: utilization, queue length, waits, load, backlog."""
    s = totals.sums
    span = model.horizon - model.warmup
    n_done = s["n_done"]
    mean_svc = np.divide(s["service_sum"], n_done, out=np.full(len(n_done), np.nan), where=n_done > 0)
    rows = []
    for p in model.pools:
        i = p.index
        most = max([p.initial, *p.change_caps])
        unlimited = most >= UNLIMITED
        available = (
            math.nan
            if unlimited
            else available_server_minutes(p.initial, p.change_times, p.change_caps, model.warmup, model.horizon)
        )
        has_time = bool(available and available > 0)
        rows.append(
            {
                "crossing": p.crossing,
                "direction": p.direction,
                "side": p.side,
                "role": p.role,
                "stage": p.stage,
                "pool": p.pool,
                "secondary": p.secondary,
                "servers": "unlimited" if unlimited else str(most),
                "utilization": s["busy"][i] / available if has_time else math.nan,
                "queue_mean": s["queue_area"][i] / span,
                "queue_max": int(s["queue_max"][i]),
                "wait_mean_min": s["wait_sum"][i] / s["n_wait"][i] if s["n_wait"][i] else math.nan,
                "served": int(s["served"][i]),
                "busy_server_min": float(s["busy"][i]),
                # offered load: work arriving in the window over the server time on duty
                "load": s["n_arrived"][i] * mean_svc[i] / available if has_time else math.nan,
                "queue_mid": int(s["waiting_mid"][i]),
                "queue_end": int(s["waiting_end"][i]),
            }
        )
    out = pd.DataFrame(rows)
    out.insert(0, "replication", replication)
    return out


def summarize_pools(pools: pd.DataFrame, scenario_name: str) -> pd.DataFrame:
    keys = ["crossing", "direction", "side", "role", "stage", "pool", "secondary", "servers"]
    g = pools.groupby(keys, sort=False)
    out = pd.DataFrame(
        {
            "utilization": g["utilization"].mean(),
            "utilization_ci95": g["utilization"].agg(ci95_halfwidth),
            "queue_mean": g["queue_mean"].mean(),
            "queue_max": g["queue_max"].max(),
            "wait_mean_min": g["wait_mean_min"].mean(),
            "served": g["served"].sum(),
            "load": g["load"].mean(),
            "queue_end": g["queue_end"].mean(),
            "growing": g.apply(lambda x: bool((x["queue_end"] > x["queue_mid"]).mean() > 0.5), include_groups=False),
        }
    ).reset_index()
    # overloaded: more work arrives than the servers on duty can do, and the queue is still growing
    out["overloaded"] = (out["load"] >= 1.0) & out["growing"]
    out = out.drop(columns="growing")
    out.insert(0, "scenario", scenario_name)
    return out


def overload_notes(stages: pd.DataFrame) -> dict[tuple[str, str, str], str]:
    """Notes for the summary: which overloaded pools each crossing x direction x pool touches."""
    notes: dict[tuple[str, str, str], str] = {}
    for row in stages[stages["overloaded"]].itertuples():
        text = f"overloaded: {row.direction} side {row.side} {row.stage} ({row.pool}) load {row.load:.2f}"
        key = (str(row.crossing), str(row.direction), str(row.pool))
        notes[key] = f"{notes[key]}; {text}" if key in notes else text
    return notes


def add_notes(summary: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """A ``note`` column naming overloaded stages on the rows they affect, and on the totals."""
    notes = overload_notes(stages)
    column = []
    for row in summary.itertuples():
        found = [
            text
            for (crossing, direction, pool), text in notes.items()
            if row.crossing in (crossing, ALL)
            and row.direction in (direction, ALL)
            and (row.flow in (pool, ALL) or pool in ("all", "default"))
        ]
        if row.crossing == ALL and found:
            column.append(f"{len(found)} overloaded stage pool(s); see stages.csv")
        else:
            column.append("; ".join(found))
    return summary.assign(note=column)
