"""The record files: one row per traveller (``records.parquet``) and per visit (``visits.parquet``).

A replication streams its records to Parquet as it runs, one row group per flushed chunk
(a simulated day), with the names (crossing, direction, flow, side, stage, pool) stored as
dictionary-encoded columns built from integer codes: no string is made per row. Each
replication writes its own files into a spool folder; the results folder gets them joined
row group by row group, so no process ever holds every replication's records.

How much is kept is the user's choice (``--records``): ``full`` (both files), ``travellers``
(no per-visit file, about a third of the size) or ``none`` (tables only).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.recorder import Chunk
from sim.model.compile import Model

LEVELS = ("full", "travellers", "none")
"""What ``--records`` may keep."""

TRAVELLER_FILE = "records.parquet"
VISIT_FILE = "visits.parquet"


def _codes(values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes of ``values`` and the dictionary they index (in first-seen order)."""
    names = list(dict.fromkeys(values))
    where = {v: i for i, v in enumerate(names)}
    return np.asarray([where[v] for v in values], dtype=np.int32), names


class RecordFiles:
    """A chunk consumer writing one replication's records to Parquet files in ``folder``."""

    def __init__(self, model: Model, replication: int, folder: Path, level: str = "full", tag: str = ""):
        import pyarrow as pa

        self.pa = pa
        self.replication = replication
        self.level = level
        stem = f"{replication:06d}{tag}"
        self.paths = {
            "travellers": folder / f"records-{stem}.parquet",
            "visits": folder / f"visits-{stem}.parquet",
        }
        self.writers: dict[str, Any] = {}
        self.source_names = {
            name: _codes([getattr(s, name) for s in model.sources]) for name in ("crossing", "direction", "flow")
        }
        self.pool_names = {
            name: _codes([getattr(p, name) for p in model.pools])
            for name in ("crossing", "direction", "side", "role", "stage", "pool")
        }
        self.secondary = np.asarray([p.secondary for p in model.pools], dtype=bool)

    def _dict(self, codes: np.ndarray, names: list[str], rows: np.ndarray) -> Any:
        pa = self.pa
        return pa.DictionaryArray.from_arrays(pa.array(codes[rows], pa.int32()), pa.array(names, pa.string()))

    def add(self, c: Chunk) -> None:
        pa = self.pa
        if self.level == "none":
            return
        columns = {
            "replication": pa.array(np.full(len(c.tid), self.replication, dtype=np.int32)),
            "traveller": pa.array(c.tid),
            **{name: self._dict(*self.source_names[name], c.source) for name in ("crossing", "direction", "flow")},
            "persons": pa.array(c.persons),
            "arrival_min": pa.array(c.arrival),
            "release_min": pa.array(c.release),
            "service_min": pa.array(c.finished_service()),
            "wait_min": pa.array(c.wait()),
            "time_in_system_min": pa.array(c.time_in_system()),
        }
        self._write("travellers", pa.table(columns))
        if self.level != "full":
            return
        idx = c.visit_pool
        columns = {
            "replication": pa.array(np.full(len(idx), self.replication, dtype=np.int32)),
            "traveller": pa.array(c.visit_tid),
            **{
                name: self._dict(*self.pool_names[name], idx)
                for name in ("crossing", "direction", "side", "role", "stage", "pool")
            },
            "secondary": pa.array(self.secondary[idx]),
            "enter_min": pa.array(c.visit_enter),
            "start_min": pa.array(c.visit_start),
            "end_min": pa.array(c.visit_end),
            "leave_min": pa.array(c.visit_leave),
        }
        self._write("visits", pa.table(columns))

    def _write(self, kind: str, table: Any) -> None:
        import pyarrow.parquet as pq

        writer = self.writers.get(kind)
        if writer is None:
            # Parquet's own dictionary pages only for the name columns (already dictionaries):
            # trying them on every float column costs more than the rest of the write
            names = [f.name for f in table.schema if str(f.type).startswith("dictionary")]
            writer = self.writers[kind] = pq.ParquetWriter(self.paths[kind], table.schema, use_dictionary=names)
        writer.write_table(table)

    def finish(self, pools: Sequence[Any]) -> dict[str, Path]:
        for writer in self.writers.values():
            writer.close()
        return {kind: self.paths[kind] for kind in self.writers}


def join_parquet(parts: Sequence[Path], dest: Path) -> None:
    """Write ``parts`` one after the other into ``dest``, a row group at a time (bounded memory)."""
    import pyarrow.parquet as pq

    writer = None
    try:
        for part in parts:
            source = pq.ParquetFile(part)
            for i in range(source.num_row_groups):
                table = source.read_row_group(i)
                if writer is None:
                    writer = pq.ParquetWriter(dest, table.schema)
                writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def read_records(parts: Sequence[Path]) -> Any:
    """The parts as one pandas DataFrame (names as categories): what ``RunResult.records`` shows."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(p) for p in parts]
    if not tables:
        return pd.DataFrame()
    table = pa.concat_tables(tables, promote_options="permissive").unify_dictionaries()
    return table.to_pandas()
