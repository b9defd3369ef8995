"""The counts an animation shows, frame by frame: who waits, is served, is held, is in the zone.

A frame is an instant ``t``. At it a visit is *waiting* when ``enter <= t < start`` (or, for a
traveller that left the line for another crossing, until it left), *in service* when
``start <= t < end`` and *held* when ``end <= t < leave`` (service over, but the neutral zone
ahead is full, so it keeps its booth); a time the run never reached (NaN) has not happened
yet. A traveller is in a crossing's neutral zone while it waits for its first entry-side
control: the zone is entered when the exit post lets it go and left when that control starts.

Counts come from cumulative sums over the frames (each interval adds one at its first frame
and takes it away at the first frame after it), never from a loop over travellers, so a
week of the whole border takes well under a second once the visits are read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.model.routing import sides_of
from sim.outputs.visit_data import PoolKey, RunRecords, Visits, first_after_zone, open_run, visit_order

MAX_FRAMES = 600
"""Frames an automatic step gives at most: smooth enough to watch, small enough to embed."""
MOST_FRAMES = 5000
"""Frames a chosen step may give: more makes a page too heavy to open."""
STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 10080, 20160, 43200)


def choose_step(span: float, most: int = MAX_FRAMES) -> float:
    """The shortest round step (minutes) giving at most ``most`` frames over ``span`` minutes."""
    for step in STEPS:
        if math.floor(span / step) + 1 <= most:
            return float(step)
    return float(math.ceil(span / (most - 1)))


def frame_times(start: float, end: float, step: float) -> np.ndarray:
    """The instants of the frames: ``start``, ``start + step``, ... up to ``end``."""
    count = math.floor((end - start) / step + 1e-9) + 1
    return start + step * np.arange(count, dtype=np.float64)


def interval_counts(
    group: np.ndarray, begin: np.ndarray, end: np.ndarray, times: np.ndarray, groups: int
) -> np.ndarray:
    """How many intervals ``[begin, end)`` of each group hold each instant of ``times``: shape (groups, frames).

    A NaN ``begin`` never happened (not counted); a NaN ``end`` has not happened by the end
    of the run (counted from ``begin`` on). Exact: an interval counts at ``t`` if and only if
    ``begin <= t < end``.
    """
    frames = len(times)
    happened = ~np.isnan(begin)
    g, b, e = group[happened], begin[happened], end[happened]
    first = np.searchsorted(times, b, side="left")  # the first frame at or after the start
    after = np.where(np.isnan(e), frames, np.searchsorted(times, e, side="left"))  # the first frame it is over
    real = after > first
    width = frames + 1
    size = max(groups, 1) * width
    delta = np.bincount(g[real] * width + first[real], minlength=size).astype(np.int64)
    delta -= np.bincount(g[real] * width + after[real], minlength=size)
    return np.cumsum(delta.reshape(max(groups, 1), width), axis=1)[:groups, :frames]


@dataclass
class PoolCounts:
    """Per pool (rows, in the order of ``Visits.keys``) and frame: the counts drawn."""

    waiting: np.ndarray
    serving: np.ndarray
    held: np.ndarray
    zone: np.ndarray  # waiting in the line that stands in the neutral zone (first entry-side control)
    rank: np.ndarray  # mean place of the pool in its travellers' routes: orders stages as travelled


def pool_counts(v: Visits, times: np.ndarray) -> PoolCounts:
    """The counts of every pool at every frame."""
    n = len(v.keys)
    waited = np.where(np.isnan(v.start), v.leave, v.start)  # a traveller that left the line waited until then
    zone = first_after_zone(v)
    order, rank = visit_order(v)
    ranks = np.zeros(len(v.tid))
    ranks[order] = rank
    visits = np.bincount(v.pool, minlength=n)
    return PoolCounts(
        waiting=interval_counts(v.pool, v.enter, waited, times, n),
        serving=interval_counts(v.pool, v.start, v.end, times, n),
        held=interval_counts(v.pool, v.end, v.leave, times, n),
        zone=interval_counts(v.pool[zone], v.enter[zone], waited[zone], times, n),
        rank=np.bincount(v.pool, weights=ranks, minlength=n) / np.maximum(visits, 1),
    )


def _ints(a: np.ndarray) -> list[int]:
    return [int(x) for x in a]


def _station(key: PoolKey, c: PoolCounts, i: int, servers: dict[PoolKey, float]) -> dict[str, Any]:
    most = servers.get(key, math.nan)
    return {
        "stage": key.stage,
        "pool": "" if key.pool == "all" else key.pool,
        "secondary": key.secondary,
        "servers": None if math.isnan(most) else ("unlimited" if math.isinf(most) else int(most)),
        "waiting": _ints(c.waiting[i]),
        "serving": _ints(c.serving[i]),
        "held": _ints(c.held[i]),
        "in_zone": bool(c.zone[i].any()),
    }


def _zone(capacity: float | None) -> dict[str, Any]:
    """How the page shows a crossing's zone: its places, none, or not known from the folder."""
    if capacity is None:
        return {"zone": "unknown", "capacity": None}
    if math.isnan(capacity):
        return {"zone": "none", "capacity": None}
    return {"zone": "yes", "capacity": int(capacity)}


def _sides(keys: list[PoolKey], rows: list[int], c: PoolCounts) -> tuple[list[int], list[int]]:
    """A direction's pools, exit side then entry side, each in the order travellers meet them."""
    stage_rank: dict[str, float] = {}
    for i in rows:
        stage_rank[keys[i].stage] = min(stage_rank.get(keys[i].stage, math.inf), float(c.rank[i]))

    def order(i: int) -> tuple[float, str, bool, str]:
        k = keys[i]
        return (stage_rank[k.stage], k.stage, k.secondary, k.pool)

    exits = sorted((i for i in rows if keys[i].side == sides_of(keys[i].direction)[0]), key=order)
    entries = sorted((i for i in rows if keys[i].side != sides_of(keys[i].direction)[0]), key=order)
    return exits, entries


def _names(run: RunRecords) -> dict[str, str]:
    """Each crossing's name (its id when it has none), in the order of ``crossings.csv``."""
    table = run.crossings()
    return {c: n or c for c, n in zip(table["id"].astype(str), table["name"].astype(str), strict=True)}


def crossing_data(v: Visits, c: PoolCounts, run: RunRecords, crossing: str) -> dict[str, Any]:
    """One crossing, both directions: every pool of booths, and the neutral zone between the posts."""
    names = _names(run)
    servers = run.servers()
    zone = _zone(run.zone_capacity().get(crossing))
    directions = []
    for direction in ("a_to_b", "b_to_a"):
        rows = [i for i, k in enumerate(v.keys) if k.crossing == crossing and k.direction == direction]
        if not rows:
            continue
        exits, entries = _sides(v.keys, rows, c)
        directions.append(
            {
                "direction": direction,
                "from": sides_of(direction)[0],
                "to": sides_of(direction)[1],
                "exit": [_station(v.keys[i], c, i, servers) for i in exits],
                "entry": [_station(v.keys[i], c, i, servers) for i in entries],
                "in_zone": _ints(c.zone[entries].sum(axis=0)) if entries else [0] * c.zone.shape[1],
            }
        )
    return {"id": crossing, "name": names.get(crossing) or crossing, **zone, "directions": directions}


def border_data(v: Visits, c: PoolCounts, run: RunRecords) -> list[dict[str, Any]]:
    """Every crossing, busiest first: per direction the lines at the exit post, in the zone and at the entry post.

    Where a crossing has a neutral zone, the line of the entry post's first control stands in
    it and is counted as the zone's, not again at the entry post; without a zone it is the
    entry post's.
    """
    capacity = run.zone_capacity()
    frames = c.waiting.shape[1]
    rows = []
    for crossing, name in _names(run).items():
        zone = _zone(capacity.get(crossing))
        directions, busiest = [], 0
        for direction in ("a_to_b", "b_to_a"):
            pools = [i for i, k in enumerate(v.keys) if k.crossing == crossing and k.direction == direction]
            exits = [i for i in pools if v.keys[i].side == sides_of(direction)[0]]
            entries = [i for i in pools if v.keys[i].side != sides_of(direction)[0]]

            def total(a: np.ndarray, rows: list[int]) -> np.ndarray:
                return a[rows].sum(axis=0) if rows else np.zeros(frames, dtype=np.int64)

            in_zone = total(c.zone, entries)
            entry_wait = total(c.waiting, entries) - (in_zone if zone["zone"] != "none" else 0)
            booths = total(c.serving, pools) + total(c.held, pools)
            series = {
                "exit_wait": total(c.waiting, exits),
                "in_zone": in_zone if zone["zone"] != "none" else None,
                "entry_wait": entry_wait,
                "booths": booths,
            }
            inside = sum(s for s in series.values() if s is not None)
            busiest = max(busiest, int(np.max(inside)) if frames else 0)
            directions.append(
                {"direction": direction, "from": sides_of(direction)[0], "to": sides_of(direction)[1]}
                | {k: None if s is None else _ints(s) for k, s in series.items()}
            )
        rows.append({"id": crossing, "name": name, **zone, "directions": directions, "busiest": busiest})
    rows.sort(key=lambda r: (-r["busiest"], r["name"], r["id"]))
    return rows


def animation_data(
    folder: Path,
    *,
    crossing: str | None = None,
    start_min: float | None = None,
    end_min: float | None = None,
    replication: int | None = None,
    step_min: float | None = None,
) -> dict[str, Any]:
    """Everything the animation page shows, as plain JSON-ready values.

    ``replication`` is numbered as in the results (from 0); None takes the first one.
    """
    run = open_run(Path(folder))
    m = run.manifest
    horizon = float(m["horizon_min"])
    reps = run.replications()
    if not reps:
        raise ValueError(f"{folder}: the per-visit records hold no replication")
    rep = reps[0] if replication is None else run.pick_replications([replication])[0]
    start = 0.0 if start_min is None else float(start_min)
    end = horizon if end_min is None else float(end_min)
    if not (math.isfinite(start) and math.isfinite(end)) or not 0 <= start < end:
        raise ValueError(f"the window must run forward from 0 on: from {start:g} to {end:g} min")
    if step_min is None:
        step = choose_step(end - start)
    elif not (math.isfinite(step_min) and step_min > 0):
        raise ValueError(f"the step between frames must be above 0 minutes, not {step_min:g}")
    elif math.floor((end - start) / step_min) + 1 > MOST_FRAMES:
        raise ValueError(f"a step of {step_min:g} min gives more than {MOST_FRAMES} frames; choose a longer step")
    else:
        step = float(step_min)
    wanted = None if crossing is None else run.pick_crossings([crossing])
    v = run.visits(rep, wanted)
    times = frame_times(start, end, step)
    counts = pool_counts(v, times)
    data: dict[str, Any] = {
        "scenario": str(m["scenario"]),
        "replication": rep,
        "replications": len(reps),
        "start": start,
        "end": float(times[-1]),
        "step": step,
        "frames": len(times),
        "horizon": horizon,
        "warmup": float(m["warmup_min"]),
        "start_weekday": str(m.get("start_weekday") or ""),
        "start_date": str(m["start_date"]) if m.get("start_date") else None,
        # sides a and b by their countries' names (folders that predate them: A and B)
        "countries": {k: str(v) for k, v in (m.get("countries") or {"a": "A", "b": "B"}).items()},
    }
    if crossing is not None:
        data["mode"] = "crossing"
        data["crossing"] = crossing_data(v, counts, run, crossing)
        stations = [s for d in data["crossing"]["directions"] for s in (*d["exit"], *d["entry"])]
        data["most"] = max([max(s["waiting"], default=0) for s in stations] + [1])
    else:
        data["mode"] = "border"
        data["rows"] = border_data(v, counts, run)
        series = [d[k] for r in data["rows"] for d in r["directions"] for k in ("exit_wait", "in_zone", "entry_wait")]
        data["most"] = max([max(s, default=0) for s in series if s is not None] + [1])
    return data
