"""From records to tables: KPIs per replication, then means with 95% intervals over them.

Statistics cover the observation window [warm-up, horizon). A traveller counts as an
arrival when it arrives in the window; its wait is its time in system minus its service
time (queueing, blocking at a full neutral zone, and waiting for a closed crossing).
Throughput counts every release in the window.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.intervals import ci95_halfwidth
from sim.engine.records import ReplicationRecords
from sim.model.compile import UNLIMITED, Network
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
    "wait_mean_min",
    "wait_p50_min",
    "wait_p90_min",
    "wait_p95_min",
    "wait_max_min",
    "time_in_system_mean_min",
)
"""What ``replication_kpis`` gives per crossing x direction x flow and replication."""


def traveller_frame(net: Network, rec: ReplicationRecords) -> pd.DataFrame:
    """One row per traveller of one replication."""
    src = net.sources
    crossing = np.array([s.crossing for s in src], dtype=object)
    direction = np.array([s.direction for s in src], dtype=object)
    flow = np.array([s.flow for s in src], dtype=object)
    service = rec.service_per_traveller()
    tis = rec.release - rec.arrival
    return pd.DataFrame(
        {
            "replication": np.full(rec.travellers, rec.replication, dtype=np.int32),
            "traveller": np.arange(rec.travellers, dtype=np.int64),
            "crossing": crossing[rec.source] if len(src) else [],
            "direction": direction[rec.source] if len(src) else [],
            "flow": flow[rec.source] if len(src) else [],
            "persons": rec.persons,
            "arrival_min": rec.arrival,
            "release_min": rec.release,
            "service_min": np.where(np.isnan(rec.release), np.nan, service),
            "wait_min": tis - service,
            "time_in_system_min": tis,
        }
    )


def visit_frame(net: Network, rec: ReplicationRecords) -> pd.DataFrame:
    """One row per traveller per server pool visited, of one replication."""
    pools = net.pools
    cols = {
        name: np.array([getattr(p, name) for p in pools], dtype=object)
        for name in ("crossing", "direction", "side", "role", "stage", "pool")
    }
    secondary = np.array([p.secondary for p in pools], dtype=bool)
    idx = rec.visit_pool
    return pd.DataFrame(
        {
            "replication": np.full(len(idx), rec.replication, dtype=np.int32),
            "traveller": rec.visit_tid,
            **{k: v[idx] if len(pools) else [] for k, v in cols.items()},
            "secondary": secondary[idx] if len(pools) else [],
            "enter_min": rec.visit_enter,
            "start_min": rec.visit_start,
            "end_min": rec.visit_end,
            "leave_min": rec.visit_leave,
        }
    )


def with_totals(df: pd.DataFrame) -> pd.DataFrame:
    """Add total rows: per crossing (both directions, all flows), per flow, and overall."""
    per_crossing = df.assign(direction=ALL, flow=ALL)
    per_flow = df.assign(crossing=ALL, direction=ALL)
    overall = df.assign(crossing=ALL, direction=ALL, flow=ALL)
    return pd.concat([df, per_crossing, per_flow, overall], ignore_index=True)


def replication_kpis(trav: pd.DataFrame, warmup: float, horizon: float, groups: pd.DataFrame) -> pd.DataFrame:
    """KPIs of one replication per crossing x direction x flow (and totals)."""
    days = (horizon - warmup) / 1440.0
    t = with_totals(trav)
    t["arrived"] = t["arrival_min"] >= warmup
    t["completed"] = t["arrived"] & t["release_min"].notna()
    released = t["release_min"].notna() & (t["release_min"] >= warmup)
    t["released"] = released
    t["released_persons"] = np.where(released, t["persons"], 0)
    g = t.groupby(KEYS, sort=False)
    out = pd.DataFrame(
        {
            "arrivals": g["arrived"].sum(),
            "completed": g["completed"].sum(),
            "throughput_per_day": g["released"].sum() / days,
            "persons_per_day": g["released_persons"].sum() / days,
        }
    )
    out["in_system_at_end"] = out["arrivals"] - out["completed"]
    done = t[t["completed"]]
    gd = done.groupby(KEYS, sort=False)
    out["wait_mean_min"] = gd["wait_min"].mean()
    for name, q in QUANTILES.items():
        out[name] = gd["wait_min"].quantile(q)
    out["wait_max_min"] = gd["wait_min"].max()
    out["time_in_system_mean_min"] = gd["time_in_system_min"].mean()
    out = out.reset_index()
    # every group of the scenario appears, with zeros, even if nothing arrived in it
    out = groups.merge(out, on=KEYS, how="left")
    for col in ("arrivals", "completed", "in_system_at_end", "throughput_per_day", "persons_per_day"):
        out[col] = out[col].fillna(0)
    out[["arrivals", "completed", "in_system_at_end"]] = out[["arrivals", "completed", "in_system_at_end"]].astype(
        np.int64
    )
    return out


def all_groups(net: Network) -> pd.DataFrame:
    base = pd.DataFrame(sorted({(s.crossing, s.direction, s.flow) for s in net.sources}), columns=KEYS)
    return with_totals(base).drop_duplicates().reset_index(drop=True)


def summarize(reps: pd.DataFrame, pooled: pd.DataFrame, scenario_name: str, n_reps: int) -> pd.DataFrame:
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
            "wait_mean_min": g["wait_mean_min"].mean(),
            "wait_mean_min_ci95": g["wait_mean_min"].agg(ci95_halfwidth),
        }
    ).reset_index()
    p = pooled.groupby(KEYS, sort=False)["wait_min"]
    q = pd.DataFrame({name: p.quantile(v) for name, v in QUANTILES.items()})
    q["wait_max_min"] = p.max()
    out = out.merge(q.reset_index(), on=KEYS, how="left")
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


def pool_kpis(net: Network, rec: ReplicationRecords, warmup: float, horizon: float) -> pd.DataFrame:
    """Per server pool of one replication: utilization, queue length, waits."""
    span = horizon - warmup
    n_pools = len(net.pools)
    idx = rec.visit_pool
    enter = np.clip(rec.visit_enter, warmup, horizon)
    start_raw = np.where(np.isnan(rec.visit_start), horizon, rec.visit_start)
    start = np.clip(start_raw, warmup, horizon)
    leave = np.clip(np.where(np.isnan(rec.visit_leave), horizon, rec.visit_leave), warmup, horizon)
    started = ~np.isnan(rec.visit_start)
    busy = np.bincount(idx[started], weights=(leave - start)[started], minlength=n_pools)
    queue_area = np.bincount(idx, weights=start - enter, minlength=n_pools)
    in_window = started & (rec.visit_enter >= warmup)
    waits = (rec.visit_start - rec.visit_enter)[in_window]
    n_wait = np.bincount(idx[in_window], minlength=n_pools)
    wait_sum = np.bincount(idx[in_window], weights=waits, minlength=n_pools)
    served = np.bincount(idx[~np.isnan(rec.visit_end) & (rec.visit_end >= warmup)], minlength=n_pools)
    queue_max = _queue_max(idx, rec.visit_enter, start_raw, warmup, horizon, n_pools)
    # offered load: work arriving in the window over the server time on duty
    arrived = rec.visit_enter >= warmup
    done = ~np.isnan(rec.visit_end)
    n_arrived = np.bincount(idx[arrived], minlength=n_pools)
    n_done = np.bincount(idx[done], minlength=n_pools)
    svc_sum = np.bincount(idx[done], weights=(rec.visit_end - rec.visit_start)[done], minlength=n_pools)
    mean_svc = np.divide(svc_sum, n_done, out=np.full(n_pools, np.nan), where=n_done > 0)
    # travellers waiting at the middle and at the end of the window: a queue still growing
    middle = warmup + span / 2
    waiting_mid = np.bincount(idx[(rec.visit_enter <= middle) & (start_raw > middle)], minlength=n_pools)
    waiting_end = np.bincount(idx[np.isnan(rec.visit_start)], minlength=n_pools)
    rows = []
    for p in net.pools:
        unlimited = max([p.initial, *p.change_caps]) >= UNLIMITED
        available = (
            math.nan
            if unlimited
            else available_server_minutes(p.initial, p.change_times, p.change_caps, warmup, horizon)
        )
        rows.append(
            {
                "crossing": p.crossing,
                "direction": p.direction,
                "side": p.side,
                "role": p.role,
                "stage": p.stage,
                "pool": p.pool,
                "secondary": p.secondary,
                "servers": "unlimited" if unlimited else str(max([p.initial, *p.change_caps])),
                "utilization": busy[p.index] / available if available and available > 0 else math.nan,
                "queue_mean": queue_area[p.index] / span,
                "queue_max": int(queue_max[p.index]),
                "wait_mean_min": wait_sum[p.index] / n_wait[p.index] if n_wait[p.index] else math.nan,
                "served": int(served[p.index]),
                "busy_server_min": float(busy[p.index]),
                "load": n_arrived[p.index] * mean_svc[p.index] / available if available and available > 0 else math.nan,
                "queue_mid": int(waiting_mid[p.index]),
                "queue_end": int(waiting_end[p.index]),
            }
        )
    out = pd.DataFrame(rows)
    out.insert(0, "replication", rec.replication)
    return out


def _queue_max(
    pool: np.ndarray, enter: np.ndarray, start: np.ndarray, warmup: float, horizon: float, n_pools: int
) -> np.ndarray:
    """Largest number waiting in each pool's queue at any moment of the window."""
    waited = start > enter
    if not waited.any():
        return np.zeros(n_pools, dtype=np.int64)
    p = np.concatenate([pool[waited], pool[waited]])
    t = np.concatenate([enter[waited], start[waited]])
    d = np.concatenate([np.ones(waited.sum(), dtype=np.int64), -np.ones(waited.sum(), dtype=np.int64)])
    order = np.lexsort((d, t, p))  # by pool, then time, departures before arrivals at a tie
    p, t, d = p[order], t[order], d[order]
    level = np.cumsum(d)
    first = np.searchsorted(p, p, side="left")
    base = np.where(first > 0, level[first - 1], 0)
    level = level - base
    out = np.zeros(n_pools, dtype=np.int64)
    in_window = (t >= warmup) & (t < horizon)
    np.maximum.at(out, p[in_window], level[in_window])
    # queue carried into the window: those who entered before it and started after it began
    carried = np.bincount(pool[waited & (enter < warmup) & (start >= warmup)], minlength=n_pools)
    return np.maximum(out, carried)


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
