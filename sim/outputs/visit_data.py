"""A run's per-visit and per-traveller records, read one replication at a time as numpy columns.

The event log and the animation both need every visit of a replication at once (booths are
assigned per pool in order of service start; a traveller's visits span days), but never more
than one replication: the files hold one row group per simulated day and replication, so only
that replication's row groups are read, and only the rows of the crossings asked for are kept.
Names (crossing, stage, ...) stay integer codes into short lists, so no string is made per row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.model.routing import sides_of
from sim.outputs.records import VISIT_FILE
from sim.outputs.results import RUN_MANIFEST, ReportError, is_comparison, read_csv_table, read_manifest
from sim.outputs.table_columns import CROSSINGS_COLUMNS, STAGES_COLUMNS

POOL_FIELDS = ("crossing", "direction", "side", "role", "stage", "pool")


class PoolKey(NamedTuple):
    """A pool of booths: where it is and whom it serves (a row of ``stages.csv``)."""

    crossing: str
    direction: str
    side: str
    role: str
    stage: str
    pool: str
    secondary: bool


@dataclass
class Visits:
    """One replication's visits: traveller, pool (code into ``keys``) and the four times of each."""

    tid: np.ndarray
    pool: np.ndarray
    keys: list[PoolKey]
    enter: np.ndarray
    start: np.ndarray
    end: np.ndarray
    leave: np.ndarray


@dataclass
class Travellers:
    """One replication's travellers, sorted by ``tid``; names as codes into the ``*_names`` lists."""

    tid: np.ndarray
    crossing: np.ndarray
    crossing_names: list[str]
    direction: np.ndarray
    direction_names: list[str]
    flow: np.ndarray
    flow_names: list[str]
    pathway: np.ndarray
    pathway_names: list[str]
    arrival: np.ndarray
    release: np.ndarray


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Integer codes and their names of a (dictionary or plain) text column."""
    if pa.types.is_dictionary(column.type):
        if column.num_chunks == 0:
            return np.zeros(0, dtype=np.int64), []
        names: list[str] = []
        codes = []
        for chunk in column.chunks:  # each chunk its own dictionary: map its codes onto one list of names
            where = {n: i for i, n in enumerate(names)}
            for n in chunk.dictionary.to_pylist():
                if n not in where:
                    where[n] = len(names)
                    names.append(n)
            remap = np.asarray([where[n] for n in chunk.dictionary.to_pylist()] or [0], dtype=np.int64)
            codes.append(remap[np.asarray(chunk.indices.to_numpy(zero_copy_only=False), dtype=np.int64)])
        return np.concatenate(codes), names
    values, inverse = np.unique(np.asarray(column.to_pylist(), dtype=str), return_inverse=True)
    return inverse.astype(np.int64), [str(x) for x in values]


def _floats(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(), dtype=np.float64)


def _mask(column: pa.ChunkedArray, wanted: set[str]) -> np.ndarray:
    codes, names = _codes(column)
    inside = np.asarray([n in wanted for n in names] or [False], dtype=bool)
    return inside[codes] if len(codes) else np.zeros(0, dtype=bool)


class RunRecords:
    """The record files of one run's folder, opened and checked, read by replication."""

    def __init__(self, folder: Path, manifest: dict[str, Any], visits: Any, travellers: Any) -> None:
        self.folder = folder
        self.manifest = manifest
        self.visit_file = visits
        self.traveller_file = travellers
        self._groups: dict[int, dict[int, list[int]]] = {}
        self._crossings: pd.DataFrame | None = None

    # -- what the folder holds --------------------------------------------------------------
    def crossings(self) -> pd.DataFrame:
        """``crossings.csv``: the crossings' ids, names and neutral zones."""
        if self._crossings is None:
            self._crossings = read_csv_table(self.folder / "crossings.csv", CROSSINGS_COLUMNS)
        return self._crossings

    def zone_capacity(self) -> dict[str, float | None]:
        """Places in each crossing's neutral zone; NaN: it has none; None: the folder does not say."""
        df = self.crossings()
        if "neutral_zone" not in df.columns:
            return dict.fromkeys(df["id"].astype(str))
        values = pd.to_numeric(df["neutral_zone"], errors="coerce")
        return {str(c): float(z) for c, z in zip(df["id"], values, strict=True)}

    def servers(self) -> dict[PoolKey, float]:
        """The most booths each pool had at any hour (``stages.csv``); inf when unlimited."""
        df = read_csv_table(self.folder / "stages.csv", STAGES_COLUMNS)
        if "servers" not in df.columns or "direction" not in df.columns or "pool" not in df.columns:
            return {}
        out = {}
        for row in df.itertuples(index=False):
            value = str(row.servers).strip()
            count = math.inf if value == "unlimited" else float(pd.to_numeric(value, errors="coerce"))
            key = PoolKey(*(str(getattr(row, f)) for f in POOL_FIELDS), bool(row.secondary))
            out[key] = count
        return out

    def replications(self) -> list[int]:
        return sorted(self._row_groups(self.visit_file))

    def pick_replications(self, wanted: Sequence[int] | None) -> list[int]:
        have = self.replications()
        if wanted is None:
            return have
        missing = sorted(set(wanted) - set(have))
        if missing:
            raise ValueError(f"{self.folder} has no replication {missing[0]}; it has {_listing(have)}")
        return sorted(set(wanted))

    def pick_crossings(self, wanted: Sequence[str] | None) -> set[str] | None:
        if wanted is None:
            return None
        have = [str(c) for c in self.crossings()["id"]]
        missing = [c for c in wanted if c not in have]
        if missing:
            raise ValueError(f"{self.folder} has no crossing {missing[0]!r}; its crossings are {_listing(have)}")
        return set(wanted)

    # -- reading one replication ------------------------------------------------------------
    def _row_groups(self, file: Any) -> dict[int, list[int]]:
        """The row groups holding each replication, from the files' statistics (or the column itself)."""
        cached = self._groups.get(id(file))
        if cached is not None:
            return cached
        groups: dict[int, list[int]] = {}
        col = file.schema_arrow.get_field_index("replication")
        for i in range(file.num_row_groups):
            stats = file.metadata.row_group(i).column(col).statistics
            if stats is not None and stats.has_min_max and stats.min == stats.max:
                reps = [int(stats.min)]
            else:
                reps = np.unique(file.read_row_group(i, columns=["replication"])["replication"].to_numpy()).tolist()
            for r in reps:
                groups.setdefault(int(r), []).append(i)
        self._groups[id(file)] = groups
        return groups

    def _read(self, file: Any, r: int, columns: list[str], crossings: set[str] | None) -> pa.Table:
        parts = []
        for i in self._row_groups(file).get(r, []):
            try:
                table = file.read_row_group(i, columns=["replication", *columns])
            except (OSError, ValueError, pa.ArrowException) as exc:
                raise ReportError(f"{self.folder}: a record file cannot be read ({exc})") from None
            keep = table["replication"].to_numpy() == r
            if crossings is not None:
                keep &= _mask(table["crossing"], crossings)
            parts.append(table.filter(pa.array(keep)) if not keep.all() else table)
        if not parts:
            return file.schema_arrow.empty_table().select(["replication", *columns])
        return pa.concat_tables(parts, promote_options="permissive")

    def visits(self, r: int, crossings: set[str] | None = None) -> Visits:
        """Replication ``r``'s visits (of ``crossings`` only, when given)."""
        table = self._read(self.visit_file, r, ["traveller", *POOL_FIELDS, "secondary", *_TIMES], crossings)
        coded = [_codes(table[f]) for f in POOL_FIELDS]
        secondary = np.asarray(table["secondary"].to_numpy(zero_copy_only=False), dtype=np.int64)
        key = np.zeros(table.num_rows, dtype=np.int64)
        for codes, names in coded:
            key = key * max(len(names), 1) + codes
        key = key * 2 + secondary
        unique, pool = np.unique(key, return_inverse=True)
        keys = []
        for k in unique.tolist():
            secondary_flag, k = bool(k % 2), k // 2
            parts = []
            for _, names in reversed(coded):
                parts.append(names[k % len(names)])
                k //= len(names)
            keys.append(PoolKey(*reversed(parts), secondary_flag))
        return Visits(
            tid=np.asarray(table["traveller"].to_numpy(), dtype=np.int64),
            pool=pool.astype(np.int64).reshape(-1),
            keys=keys,
            **{name: _floats(table, f"{name}_min") for name in ("enter", "start", "end", "leave")},
        )

    def travellers(self, r: int, crossings: set[str] | None = None) -> Travellers:
        """Replication ``r``'s travellers (those whose record is at ``crossings``, when given), sorted by tid."""
        cols = ["traveller", "crossing", "direction", "flow", "arrival_min", "release_min"]
        table = self._read(self.traveller_file, r, cols, crossings)
        order = np.argsort(np.asarray(table["traveller"].to_numpy(), dtype=np.int64), kind="stable")
        table = table.take(pa.array(order))
        (c, cn), (d, dn), (f, fn) = (_codes(table[x]) for x in ("crossing", "direction", "flow"))
        combined = (c * max(len(dn), 1) + d) * max(len(fn), 1) + f
        unique, pathway = np.unique(combined, return_inverse=True)
        names = []
        for k in unique.tolist():
            k, fi = divmod(k, max(len(fn), 1))
            ci, di = divmod(k, max(len(dn), 1))
            names.append(f"{cn[ci]} {dn[di]} {fn[fi]}")
        return Travellers(
            tid=np.asarray(table["traveller"].to_numpy(), dtype=np.int64),
            crossing=c,
            crossing_names=cn,
            direction=d,
            direction_names=dn,
            flow=f,
            flow_names=fn,
            pathway=pathway.astype(np.int64).reshape(-1),
            pathway_names=names,
            arrival=_floats(table, "arrival_min"),
            release=_floats(table, "release_min"),
        )


_TIMES = ("enter_min", "start_min", "end_min", "leave_min")


def _listing(items: Sequence[object], most: int = 8) -> str:
    shown = ", ".join(str(x) for x in items[:most])
    return f"{shown} and {len(items) - most} more" if len(items) > most else (shown or "none")


def open_run(folder: Path, *also: str) -> RunRecords:
    """A run's folder with its per-visit records (and the files in ``also``), or a ``ReportError`` saying why not."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    if is_comparison(folder):
        raise ReportError(f"{folder}: a comparison's folder; give the folder of one of its scenarios (a subfolder)")
    manifest = read_manifest(folder / "manifest.json", RUN_MANIFEST)
    kept = str(manifest.get("records", "full"))
    opened = {}
    for name in (VISIT_FILE, *also):
        path = folder / name
        if not path.is_file():
            raise ReportError(
                f"{path}: not found; the event log and the animation are drawn from the per-visit records, "
                f"which a run keeps only with --records full (this run kept --records {kept}); run it again "
                "with --records full"
            )
        try:
            opened[name] = pq.ParquetFile(path)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise ReportError(f"{path}: not a readable Parquet table ({str(exc).splitlines()[0][:200]})") from None
        schema = opened[name].schema_arrow.names
        if "replication" not in schema or "traveller" not in schema:
            raise ReportError(f"{path}: not the records a run writes (no column replication or traveller)")
    return RunRecords(folder, manifest, opened[VISIT_FILE], opened.get(also[0]) if also else None)


def visit_order(v: Visits) -> tuple[np.ndarray, np.ndarray]:
    """The visits in each traveller's order (by traveller, then entry), and each one's rank in its route (0, 1, ...)."""
    later = np.where(np.isnan(v.leave), np.inf, v.leave)
    begun = np.where(np.isnan(v.start), np.inf, v.start)
    secondary = np.asarray([k.secondary for k in v.keys] or [False], dtype=bool)[v.pool]
    order = np.lexsort((secondary, begun, later, v.enter, v.tid))
    tid = v.tid[order]
    new = np.ones(len(tid), dtype=bool)
    new[1:] = tid[1:] != tid[:-1]
    heads = np.flatnonzero(new)
    rank = np.arange(len(tid)) - np.repeat(heads, np.diff(np.append(heads, len(tid))))
    return order, rank


def first_after_zone(v: Visits) -> np.ndarray:
    """Whether each visit is its traveller's first at the entry side of its crossing and direction.

    A route is the exit side's controls, the neutral zone, then the entry side's: the zone is
    entered as the traveller joins the line of its first entry-side control, and left when that
    control starts serving it. So a traveller is in the zone while it waits in that visit.
    """
    entry = np.asarray([k.side == sides_of(k.direction)[1] for k in v.keys] or [False], dtype=bool)
    crossing_direction = {(k.crossing, k.direction) for k in v.keys}
    where = {cd: i for i, cd in enumerate(sorted(crossing_direction))}
    group = np.asarray([where[(k.crossing, k.direction)] for k in v.keys] or [0], dtype=np.int64)
    secondary = np.asarray([k.secondary for k in v.keys] or [False], dtype=bool)
    rows = np.flatnonzero(entry[v.pool])
    out = np.zeros(len(v.tid), dtype=bool)
    if len(rows) == 0:
        return out
    order = rows[np.lexsort((secondary[v.pool[rows]], v.enter[rows], group[v.pool[rows]], v.tid[rows]))]
    tid, grp = v.tid[order], group[v.pool[order]]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (tid[1:] != tid[:-1]) | (grp[1:] != grp[:-1])
    out[order[new]] = True
    return out
