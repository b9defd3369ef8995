"""An event log of a run: one row per traveller event, in the layout animation tools read.

The columns are those of the vidigi package's event logs (``entity_id, event_type, event,
time, resource_id, run_number, pathway``), followed by bordersim's own (``crossing,
travel_direction, flow, side, stage``) so that one crossing, direction or control can be
picked out (not ``direction``: vidigi reads a column of that name as the way its queues
build, left or right). Event types are vidigi's: ``arrival_departure`` (events ``arrival``
and ``depart``), ``queue``, ``resource_use`` and ``resource_use_end``. Per visit of a control the events are
named after its place, e.g. ``a_exit_border_control_truck_begins``: side, role, stage, then
the flow pool (unless the stage has one pool for all flows) and ``secondary`` for a
secondary inspection, so that every pool of booths of a crossing has names of its own and
its booth numbers never mix with another pool's (the ``crossing`` column tells crossings
apart). A traveller held at its booth after service, because the neutral zone ahead is full,
gets a ``queue`` event ``..._held`` when its service ends; the booth stays its own until its
next event. Entering the zone is a ``queue`` event ``neutral_zone``, at the same instant as
joining the line of the entry post's first control, for that line stands in the zone.
Times are minutes from the start of the run.

The log is built from the per-visit records (``visits.parquet``), one replication at a time,
so memory is bounded by one replication's visits whatever the number of replications.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from sim.outputs.files import atomic_write
from sim.outputs.records import TRAVELLER_FILE
from sim.outputs.visit_data import (
    RunRecords,
    Travellers,
    Visits,
    first_after_zone,
    open_run,
    visit_order,
)

EVENT_TYPES = ("arrival_departure", "queue", "resource_use", "resource_use_end")
SUFFIXES = ("wait", "begins", "ends", "held")
"""The events of one visit: joins the line (``queue``), service begins (``resource_use``), ends
(``resource_use_end``), and, when the neutral zone ahead is full, held at the booth until a
place frees (``queue``: the booth stays taken until then)."""
ZONE_EVENT = "neutral_zone"

_STRING = pa.string()
SCHEMA = pa.schema(
    [
        ("entity_id", pa.int64()),
        ("event_type", _STRING),
        ("event", _STRING),
        ("time", pa.float64()),
        ("resource_id", pa.int64()),
        ("run_number", pa.int64()),
        ("pathway", _STRING),
        ("crossing", _STRING),
        ("travel_direction", _STRING),
        ("flow", _STRING),
        ("side", _STRING),
        ("stage", _STRING),
    ]
)
COLUMNS = tuple(SCHEMA.names)
_SLICE = 250_000
"""Rows whose names are made into text at once as they are written; until then they are codes."""
"""The event log's columns: vidigi's first, then bordersim's."""
_LAST = np.iinfo(np.int32).max
"""The order of a departure among its traveller's events: after everything else."""


def assign_booths(pool: np.ndarray, start: np.ndarray, leave: np.ndarray) -> np.ndarray:
    """A booth number (1, 2, ...) per visit within its pool; 0 for a visit whose service never started.

    The engine counts busy servers but does not name them, so the booths are assigned
    afterwards: per pool, visits in order of service start, each taking the lowest-numbered
    booth free at its start. A booth is taken from the start of service until the traveller
    leaves it (``leave``: later than the end of service when it is held at the booth because
    the neutral zone ahead is full; never freed when NaN, the run ended first). Since the
    engine never has more travellers at booths than servers, such an assignment never uses
    more booths than the pool had at the busiest moment, and no booth serves two travellers
    at once: any assignment with these two properties is consistent with the simulated times,
    and this one is simply the first such. All visits of a pool in one replication are needed.
    """
    booth = np.zeros(len(pool), dtype=np.int64)
    started = np.flatnonzero(~np.isnan(start))
    if len(started) == 0:
        return booth
    free_at = np.where(np.isnan(leave), np.inf, leave)[started]
    order = np.lexsort((free_at, start[started], pool[started]))
    rows = started[order]
    pools = pool[rows]
    cuts = np.flatnonzero(np.diff(pools)) + 1
    begin_all = start[rows].tolist()
    end_all = free_at[order].tolist()
    out = np.zeros(len(rows), dtype=np.int64)
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(rows)], strict=True):
        ends = np.asarray(end_all[lo:hi])
        if hi - lo == 1 or bool(np.all(np.asarray(begin_all[lo + 1 : hi]) >= np.maximum.accumulate(ends[:-1]))):
            out[lo:hi] = 1  # never two at once: one booth does it all
            continue
        free: list[int] = []
        busy: list[tuple[float, int]] = []
        made = 0
        for i in range(lo, hi):
            t = begin_all[i]
            while busy and busy[0][0] <= t:
                heapq.heappush(free, heapq.heappop(busy)[1])
            if free:
                k = heapq.heappop(free)
            else:
                made += 1
                k = made
            heapq.heappush(busy, (end_all[i], k))
            out[i] = k
    booth[rows] = out
    return booth


def _names(v: Visits) -> list[str]:
    """The event names of every pool, four per pool in the order of ``SUFFIXES``."""
    names = []
    for key in v.keys:
        parts = [key.side, key.role, key.stage]
        if key.pool != "all":
            parts.append(key.pool)
        if key.secondary:
            parts.append("secondary")
        prefix = "_".join(parts)
        names += [f"{prefix}_{s}" for s in SUFFIXES]
    return names


class _Rows:
    """Event rows gathered as columns of codes and numbers, then sorted and made into an Arrow table."""

    FIELDS = {
        "entity": np.int64,
        "kind": np.int8,
        "event": np.int32,
        "time": np.float64,
        "booth": np.int32,
        "seq": np.int32,
        "traveller": np.int32,
        "key": np.int32,
        "control": np.bool_,
    }
    """Each column's type: as narrow as it can be, since a replication's rows are all held until sorted."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in self.FIELDS}

    def add(self, rows: np.ndarray, **cols: np.ndarray | int | float) -> None:
        """Rows taken from the arrays of ``cols`` at ``rows`` (a number stands for every row)."""
        for name, kind in self.FIELDS.items():
            col = np.asarray(cols[name])
            self.parts[name].append(np.full(len(rows), col, dtype=kind) if col.ndim == 0 else col[rows].astype(kind))

    def sorted(self) -> dict[str, np.ndarray]:
        """The rows reached by the end of the run, by time, then traveller, then the order of its events."""
        time = np.concatenate(self.parts.pop("time"))
        keep = np.flatnonzero(~np.isnan(time))
        time = time[keep]
        seq, entity = (np.concatenate(self.parts.pop(k))[keep] for k in ("seq", "entity"))
        order = np.lexsort((seq, entity, time))
        keep = keep[order]
        cols = {"time": time[order], "entity": entity[order]}
        del seq, entity, time
        for name in list(self.parts):
            cols[name] = np.concatenate(self.parts.pop(name))[keep]
        return cols


class _Names:
    """The text of a replication's rows: short lists of names, and per pool or traveller its code in them."""

    def __init__(self, v: Visits, tr: Travellers, events: list[str]) -> None:
        self.tr = tr
        self.lists: dict[str, list[str]] = {"event_type": list(EVENT_TYPES), "event": events}
        self.by_pool: dict[str, np.ndarray] = {}
        self.by_traveller: dict[str, np.ndarray] = {"pathway": tr.pathway, "flow": tr.flow}
        self.lists |= {"pathway": tr.pathway_names, "flow": tr.flow_names}
        for column, field in (("crossing", "crossing"), ("travel_direction", "direction"), ("side", "side"),
                              ("stage", "stage")):  # fmt: skip
            pool_values = [str(getattr(k, field)) for k in v.keys]
            theirs = getattr(tr, f"{field}_names", [])
            values = sorted(set(pool_values) | set(theirs))
            where = {n: i for i, n in enumerate(values)}
            self.lists[column] = values
            self.by_pool[column] = np.asarray([where[n] for n in pool_values] or [0], dtype=np.int32)
            if theirs:  # a row of no visit (arrival, departure) has its traveller's record's
                self.by_traveller[column] = np.asarray([where[n] for n in theirs], dtype=np.int32)[getattr(tr, field)]

    def table(self, cols: dict[str, np.ndarray], run: int) -> pa.Table:
        """Sorted rows as a table of plain text (``SCHEMA``)."""
        key, who, control = cols["key"], cols["traveller"], cols["control"]
        on_visit, known = key >= 0, who >= 0
        key_at, who_at = np.maximum(key, 0), np.maximum(who, 0)

        def text(column: str, codes: np.ndarray) -> pa.Array:
            dictionary = pa.array(self.lists[column] or [""], _STRING)
            indices = pa.array(codes.astype(np.int32), mask=codes < 0)
            return pa.DictionaryArray.from_arrays(indices, dictionary).cast(_STRING)

        def coded(column: str, visit_rows: np.ndarray) -> np.ndarray:
            none = np.full(len(key), -1, dtype=np.int32)
            per_pool, per_traveller = self.by_pool.get(column), self.by_traveller.get(column)
            from_record = per_traveller[who_at] if per_traveller is not None and len(per_traveller) else none
            from_record = np.where(known, from_record, -1)
            return np.where(visit_rows, per_pool[key_at], from_record) if per_pool is not None else from_record

        booth = cols["booth"]
        arrays = {
            "entity_id": pa.array(cols["entity"]),
            "event_type": text("event_type", cols["kind"]),
            "event": text("event", cols["event"]),
            "time": pa.array(cols["time"]),
            "resource_id": pa.array(booth.astype(np.int64), mask=booth <= 0),
            "run_number": pa.array(np.full(len(booth), run, dtype=np.int64)),
            "pathway": text("pathway", coded("pathway", np.zeros(len(key), dtype=bool))),
            "crossing": text("crossing", coded("crossing", on_visit)),
            "travel_direction": text("travel_direction", coded("travel_direction", on_visit)),
            "flow": text("flow", coded("flow", np.zeros(len(key), dtype=bool))),
            "side": text("side", np.where(control, self.by_pool["side"][key_at], -1)),
            "stage": text("stage", np.where(control, self.by_pool["stage"][key_at], -1)),
        }
        return pa.table(arrays, schema=SCHEMA)


def replication_events(
    v: Visits,
    tr: Travellers,
    run: int,
    zones: set[str],
    start_min: float | None = None,
    end_min: float | None = None,
    horizon: float = math.inf,
) -> Iterator[pa.Table]:
    """One replication's event log, sorted by time, traveller, then the order of its events.

    It comes in tables of at most ``_SLICE`` rows: all its rows are held as narrow number
    columns while they are sorted, and their names become text only a slice at a time.

    ``zones`` are the crossings with a neutral zone. The zone is entered when the exit post
    lets the traveller go, which is also when it joins the line of the entry post's first
    control: that line stands in the zone, and the zone is left only when that control's
    service begins. A traveller is kept when it is inside at some time of the window
    (``start_min`` to ``end_min``), with all its events, so that each kept traveller has its
    arrival (one still inside at the end, ``horizon``, is inside until then); rows at times not
    reached by the end of the run are left out.
    """
    names = [*_names(v), "arrival", "depart", ZONE_EVENT]
    arrival, depart, zone = len(names) - 3, len(names) - 2, len(names) - 1
    booth = assign_booths(v.pool, v.start, v.leave)
    order, rank = visit_order(v)
    seq = np.empty(len(v.tid), dtype=np.int32)
    seq[order] = 8 + 8 * rank
    at = np.minimum(np.searchsorted(tr.tid, v.tid), max(len(tr.tid) - 1, 0))
    traveller = np.where(tr.tid[at] == v.tid, at, -1) if len(tr.tid) else np.full(len(v.tid), -1)

    # each traveller's first moment: its arrival, or earlier for a corridor traveller that queued at
    # another crossing before driving on to the one it passed (its record's arrival is at that one)
    first = tr.arrival.copy()
    has = traveller >= 0
    np.fmin.at(first, traveller[has], v.enter[has])
    last = np.where(np.isnan(tr.release), horizon, tr.release)
    keep = ~np.isnan(first)
    if start_min is not None:
        keep &= last >= start_min
    if end_min is not None:
        keep &= first <= end_min

    rows = _Rows()
    t = np.flatnonzero(keep)
    who = np.arange(len(tr.tid))
    mine = {"entity": tr.tid, "traveller": who, "booth": 0, "key": -1, "control": False, "kind": 0}
    rows.add(t, event=arrival, time=first, seq=0, **mine)
    rows.add(t, event=depart, time=tr.release, seq=_LAST, **mine)

    i = np.flatnonzero(has & keep[np.maximum(traveller, 0)])
    base = {"entity": v.tid, "traveller": traveller, "key": v.pool, "control": True}
    rows.add(i, kind=1, event=4 * v.pool, time=v.enter, booth=0, seq=seq + 1, **base)
    rows.add(i, kind=2, event=4 * v.pool + 1, time=v.start, booth=booth, seq=seq + 2, **base)
    rows.add(i, kind=3, event=4 * v.pool + 2, time=v.end, booth=booth, seq=seq + 3, **base)
    held = i[~np.isnan(v.end[i]) & ~(v.leave[i] <= v.end[i])]
    rows.add(held, kind=1, event=4 * v.pool + 3, time=v.end, booth=0, seq=seq + 4, **base)
    in_zone = np.asarray([k.crossing in zones for k in v.keys] or [False], dtype=bool)
    entering = i[first_after_zone(v)[i] & in_zone[v.pool[i]]]
    rows.add(entering, kind=1, event=zone, time=v.enter, booth=0, seq=seq, **{**base, "control": False})
    cols = rows.sorted()
    text = _Names(v, tr, names)
    for lo in range(0, len(cols["time"]), _SLICE):
        yield text.table({k: c[lo : lo + _SLICE] for k, c in cols.items()}, run)


def write_event_log(
    folder: Path,
    out: Path,
    *,
    crossings: Sequence[str] | None = None,
    replications: Sequence[int] | None = None,
    start_min: float | None = None,
    end_min: float | None = None,
) -> int:
    """Write the event log of the run in ``folder`` to ``out`` (``.parquet`` or ``.csv``); return its rows.

    ``crossings`` keeps the rows at those crossings (a traveller's arrival and departure are
    at the crossing of its record); ``replications`` keeps those replications (numbered as in
    the results, from 0); ``start_min``/``end_min`` keep the travellers inside at some time
    of that window, with all their events. The file appears under its name only when
    complete. The folder must hold the per-visit records (a run with ``--records full``).
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".parquet", ".csv"):
        raise ValueError(f"{out}: the event log is written as .parquet or .csv; name the file with one of these")
    if start_min is not None and end_min is not None and not start_min <= end_min:
        raise ValueError(f"the window starts ({start_min:g} min) after it ends ({end_min:g} min)")
    run = open_run(folder, TRAVELLER_FILE)
    reps = run.pick_replications(replications)
    wanted = run.pick_crossings(crossings)

    def write(path: Path) -> None:
        nonlocal total
        writer = pq.ParquetWriter(path, SCHEMA) if kind == ".parquet" else pacsv.CSVWriter(path, SCHEMA)
        try:
            for r in reps:
                for table in _one(run, r, wanted, start_min, end_min):
                    total += table.num_rows
                    writer.write_table(table)
        finally:
            writer.close()

    total = 0
    atomic_write(out, write)
    return total


def _one(
    run: RunRecords, r: int, wanted: set[str] | None, start_min: float | None, end_min: float | None
) -> Iterator[pa.Table]:
    v = run.visits(r, wanted)
    tr = run.travellers(r, wanted)
    zones = {c for c, cap in run.zone_capacity().items() if cap is not None and not math.isnan(cap)}
    return replication_events(v, tr, r, zones, start_min, end_min, float(run.manifest["horizon_min"]))
