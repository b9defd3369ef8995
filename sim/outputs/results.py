"""The results folder's format, read back: every file a run writes (``sim.outputs.writing`` writes them).

A run's folder holds ``crossings.csv``, ``summary.csv``, ``stages.csv``,
``replications.csv``, ``manifest.json`` and, as the run kept them, ``records.parquet``
(per traveller) and ``visits.parquet`` (per visit); a scenario with corridors adds
``corridors.csv`` and ``network.csv``, one with weather ``weather.csv``, one with e-queues
``equeue.csv``, ``equeue_slots.csv`` and ``equeue_area.csv``; every run writes ``daily.csv``,
``weekly.csv``, ``overload.csv`` and ``costs.csv``, and a scenario with cost rates
``cost_rates.csv`` (folders written before these existed, or of scenarios without them, simply
lack them); a comparison's folder holds one such folder per scenario, ``comparison.csv`` (and
``equeue.csv``, every scenario's rows, when one has e-queues; ``selection.csv`` with
``--select-best``) and its own manifest. Every file is written atomically (``sim.outputs.files``).

A results folder may have been edited, truncated or replaced by hand, so every file is read
here, in one place per kind, and any problem becomes a ``ReportError`` naming the file: only
regular files, bounded in bytes, with the keys and columns the report uses.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from sim.outputs.files import live_text
from sim.outputs.records import TRAVELLER_FILE, VISIT_FILE
from sim.outputs.table_columns import (
    CORRIDORS_COLUMNS,
    CROSSINGS_COLUMNS,
    DAILY_COLUMNS,
    EQUEUE_AREA_COLUMNS,
    EQUEUE_COLUMNS,
    EQUEUE_SLOTS_COLUMNS,
    NETWORK_COLUMNS,
    OVERLOAD_COLUMNS,
    RECORDS_COLUMNS,
    STAGES_COLUMNS,
    SUMMARY_COLUMNS,
    VISITS_COLUMNS,
    WEATHER_COLUMNS,
    WEEKLY_COLUMNS,
    Columns,
)
from sim.scenario.basemap import Basemap, BasemapError, read_basemap
from sim.scenario.reading import ReadError, read_bytes
from sim.scenario.units import MAX_DURATION

MANIFEST_MAX_BYTES = 16 * 2**20
TABLE_MAX_BYTES = 4 * 2**30


class ReportError(Exception):
    """A folder is not a results folder, or one of its files cannot be read or is not what a run writes."""


def _read_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, refused if over ``limit`` bytes.

    The limits: ``MANIFEST_MAX_BYTES`` (16 MiB) for a manifest, ``TABLE_MAX_BYTES`` (4 GiB)
    for a CSV or Parquet table; a run writes far less. A FIFO or a device put in a file's
    place is refused instead of hanging the report or feeding it forever.
    """
    try:
        return read_bytes(path, limit)
    except ReadError as exc:
        if not path.exists() and not path.is_symlink():
            raise ReportError(f"{path.parent}: not a complete results folder ({path.name} is missing)") from None
        raise ReportError(f"{path}: {exc}") from None


def _reason(exc: BaseException) -> str:
    """The first line of an error from a parser, short enough for a one-line message."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0][:200]


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not UTF-8 text (binary data where the results have text)") from None


UNITS = ("vehicle", "person", "train", "vessel")
"""What one traveller of a flow may be (the scenario's ``flows.<name>.unit``)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_VERSIONS = ("bordersim", "python", "simpy", "numpy", "pandas")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _name(v: Any) -> bool:
    return isinstance(v, str) and len(v) <= 120 and _IDENTIFIER.fullmatch(v) is not None


KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "text": (lambda v: isinstance(v, str), "a string"),
    "texts": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings"),
    "name": (_name, "a name of letters, digits, _ and -"),
    "names": (lambda v: isinstance(v, list) and len(v) > 0 and all(_name(x) for x in v), "a list of scenario names"),
    "count": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a whole number, 0 or more"),
    "seconds": (lambda v: _number(v) and v >= 0, "a number of seconds, 0 or more"),
    "minutes": (lambda v: _number(v) and 0 <= v <= MAX_DURATION, f"a number of minutes from 0 to {MAX_DURATION:g}"),
    "horizon": (lambda v: _number(v) and 0 < v <= MAX_DURATION, f"a number of minutes above 0, up to {MAX_DURATION:g}"),
    "countries": (
        lambda v: isinstance(v, dict) and set(v) == {"a", "b"} and all(isinstance(x, str) for x in v.values()),
        "an object with the names of countries a and b",
    ),
    "flows": (
        lambda v: isinstance(v, dict)
        and all(
            isinstance(f, dict) and f.get("unit") in UNITS and f.get("occupants") in ("persons", "wagons")
            for f in v.values()
        ),
        f"an object giving each flow's unit ({', '.join(UNITS)}) and occupants (persons or wagons)",
    ),
    "versions": (
        lambda v: isinstance(v, dict) and all(isinstance(v.get(k), str) for k in _VERSIONS),
        f"an object with the versions of {', '.join(_VERSIONS)}",
    ),
}
"""How each manifest value the report uses is checked, and what it must be."""

RUN_MANIFEST: dict[str, tuple[str, bool]] = {
    "scenario": ("name", True),
    "scenario_sha256": ("text", True),
    "horizon_min": ("horizon", True),
    "warmup_min": ("minutes", True),
    "replications": ("count", True),
    "seed": ("count", True),
    "entities": ("count", True),
    "wall_time_s": ("seconds", True),
    "versions": ("versions", True),
    "jobs": ("count", False),
    "start_weekday": ("text", False),
    "random_streams": ("text", False),
    "files": ("texts", False),
    "assumptions": ("texts", False),
    "sources": ("texts", False),
    "countries": ("countries", False),
    "flows": ("flows", False),
}
"""The manifest keys a run's report uses: (kind, required)."""

COMPARISON_MANIFEST: dict[str, tuple[str, bool]] = {
    "baseline": ("name", True),
    "scenarios": ("names", True),
    "seed": ("count", True),
    "replications": ("count", True),
}


def read_manifest(path: Path, keys: dict[str, tuple[str, bool]]) -> dict[str, Any]:
    """A manifest.json, checked for the keys the report uses."""
    text = _decode(path, _read_file(path, MANIFEST_MAX_BYTES))
    try:
        manifest = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ReportError(f"{path}: not valid JSON ({_reason(exc)})") from None
    if not isinstance(manifest, dict):
        raise ReportError(f"{path}: expected a JSON object of run details, found a JSON {type(manifest).__name__}")
    for key, (kind, required) in keys.items():
        if key not in manifest:
            if required:
                raise ReportError(f"{path}: the key {key!r} is missing")
            continue
        check, expected = KINDS[kind]
        if not check(manifest[key]):
            raise ReportError(f"{path}: {key!r} must be {expected}")
    return manifest


def _checked(path: Path, df: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """``df`` if it has the columns the report uses, with numbers and flags where they belong."""
    missing = [c for c in (*columns.text, *columns.numbers, *columns.flags) if c not in df.columns]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ReportError(f"{path}: not the table a run writes (no column {', '.join(missing[:3])}{more})")
    for names, fits, kind, what in (
        (columns.numbers, pd.api.types.is_numeric_dtype, float, "numbers"),
        (columns.flags, pd.api.types.is_bool_dtype, bool, "True or False"),
    ):
        for col in names:
            if fits(df[col]):
                continue
            if len(df):
                raise ReportError(f"{path}: column {col} must hold {what}")
            df[col] = df[col].astype(kind)  # a table without rows has no types to infer
    return df


def read_csv_table(path: Path, columns: Columns) -> pd.DataFrame:
    """A CSV table a run wrote; its text columns as strings (an empty cell is an empty string)."""
    text = _decode(path, _read_file(path, TABLE_MAX_BYTES))
    try:
        df = pd.read_csv(
            io.StringIO(text), keep_default_na=False, na_values=[""], dtype=dict.fromkeys(columns.text, str)
        )
    except (ValueError, OverflowError) as exc:
        raise ReportError(f"{path}: not a CSV table ({_reason(exc)})") from None
    df = _checked(path, df, columns)
    for col in columns.text:
        df[col] = df[col].fillna("").map(live_text)
    return df


def read_optional_csv(path: Path, columns: Columns) -> pd.DataFrame | None:
    """A CSV table only some runs write (``corridors.csv``, ``network.csv``, ``weather.csv``); None when absent.

    Absent means no file and no link of that name: a folder of a scenario without corridors
    or weather, or one written before these tables existed. A file that is there is read and
    checked like any other, within the same bound, so a broken one is still an error.
    """
    try:
        path.lstat()
    except FileNotFoundError:
        return None
    except OSError:
        pass  # there, but not to be looked at: reading it says why
    return read_csv_table(path, columns)


def read_parquet_table(path: Path, columns: Columns) -> pd.DataFrame:
    """A Parquet table a run wrote."""
    data = _read_file(path, TABLE_MAX_BYTES)
    try:
        df = pd.read_parquet(io.BytesIO(data))
    except (ValueError, OSError, pa.ArrowException) as exc:
        raise ReportError(f"{path}: not a readable Parquet table ({_reason(exc)})") from None
    return _checked(path, df, columns)


@dataclass
class RunFolder:
    """The files of one scenario's results."""

    path: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    stages: pd.DataFrame
    crossings: pd.DataFrame
    records: pd.DataFrame | None  # None: the run kept no such records (``--records``)
    visits: pd.DataFrame | None
    corridors: pd.DataFrame | None = None  # None: the scenario has no corridors (or the folder predates them)
    network: pd.DataFrame | None = None
    weather: pd.DataFrame | None = None  # None: the scenario has no weather
    daily: pd.DataFrame | None = None  # None: the folder predates daily.csv
    weekly: pd.DataFrame | None = None
    overload: pd.DataFrame | None = None  # None: the folder predates overload.csv
    equeue: pd.DataFrame | None = None  # None: the scenario has no e-queue (or the folder predates them)
    equeue_slots: pd.DataFrame | None = None
    equeue_area: pd.DataFrame | None = None
    basemap: Basemap | None = None  # None: the scenario has no base map (or the folder predates them)

    @property
    def name(self) -> str:
        return str(self.manifest["scenario"])

    @property
    def countries(self) -> tuple[str, str]:
        """The names of sides a and b (``A`` and ``B`` for a folder that predates them)."""
        c = self.manifest.get("countries") or {"a": "A", "b": "B"}
        return str(c["a"]), str(c["b"])

    @property
    def units(self) -> dict[str, str]:
        """Each flow's unit (vehicle, person, train, vessel), so that no table adds different units.

        A folder that predates the manifest's ``flows`` gets units guessed from the flow names.
        """
        flows = self.manifest.get("flows")
        if flows:
            return {name: str(f["unit"]) for name, f in flows.items()}
        return {str(f): guess_unit(str(f)) for f in self.summary["flow"].unique() if f != "ALL"}

    @classmethod
    def read(cls, path: Path) -> RunFolder:
        """Read and check a run's files; any problem is a ``ReportError`` naming the file."""
        manifest = read_manifest(path / "manifest.json", RUN_MANIFEST)
        kept = str(manifest.get("records", "full"))
        return cls(
            path=path,
            manifest=manifest,
            summary=read_csv_table(path / "summary.csv", SUMMARY_COLUMNS),
            stages=read_csv_table(path / "stages.csv", STAGES_COLUMNS),
            crossings=read_csv_table(path / "crossings.csv", CROSSINGS_COLUMNS),
            records=None if kept == "none" else read_parquet_table(path / TRAVELLER_FILE, RECORDS_COLUMNS),
            visits=None if kept != "full" else read_parquet_table(path / VISIT_FILE, VISITS_COLUMNS),
            corridors=read_optional_csv(path / "corridors.csv", CORRIDORS_COLUMNS),
            network=read_optional_csv(path / "network.csv", NETWORK_COLUMNS),
            weather=read_optional_csv(path / "weather.csv", WEATHER_COLUMNS),
            daily=read_optional_csv(path / "daily.csv", DAILY_COLUMNS),
            weekly=read_optional_csv(path / "weekly.csv", WEEKLY_COLUMNS),
            overload=read_optional_csv(path / "overload.csv", OVERLOAD_COLUMNS),
            equeue=read_optional_csv(path / "equeue.csv", EQUEUE_COLUMNS),
            equeue_slots=read_optional_csv(path / "equeue_slots.csv", EQUEUE_SLOTS_COLUMNS),
            equeue_area=read_optional_csv(path / "equeue_area.csv", EQUEUE_AREA_COLUMNS),
            basemap=read_optional_basemap(path / MAP_FILE),
        )


def read_optional_basemap(path: Path) -> Basemap | None:
    """A results folder's base map, or None when it has none; a broken one is a ``ReportError`` naming it."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        return read_basemap(path)
    except BasemapError as err:
        raise ReportError(f"{path.parent / str(err)}") from None


def guess_unit(flow: str) -> str:
    """A unit from a flow's name, for folders written before flows carried their unit."""
    name = flow.lower()
    for word, unit in (("pedestrian", "person"), ("walk", "person"), ("train", "train"), ("vessel", "vessel")):
        if word in name:
            return unit
    return "vehicle"


def is_comparison(path: Path) -> bool:
    return (path / "comparison.csv").exists()




MAP_FILE = "map.geojson"
"""The scenario's base map (border line, outlines, approximate places), copied into its results."""
