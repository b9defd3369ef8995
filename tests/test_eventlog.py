"""The event log: one row per traveller event, in the layout animation tools read, checked against the records."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.outputs import eventlog
from sim.outputs.eventlog import COLUMNS, assign_booths, write_event_log
from sim.outputs.results import ReportError

BLOCKING = {
    "name": "blocking",
    "horizon": "1 d",
    "warmup": 0,
    "replications": 2,
    "seed": 11,
    "flows": {"car": {"occupancy": 2}, "truck": {}},
    "stages": {
        "border_control": {"per_vehicle": {"dist": "exponential", "mean": "2 min"}},
        "customs": {
            "per_vehicle": {"dist": "exponential", "mean": "5 min"},
            "secondary": {"share": 0.2, "time": {"dist": "exponential", "mean": "20 min"}},
        },
    },
    "regimes": {"r": {"exit": ["border_control"], "entry": ["border_control", "customs"]}},
    "regime": "r",
    "crossings": [
        {
            "id": "tight",
            "category": "multilateral",
            "neutral_zone": 4,  # a small zone: the exit booths are held while it is full
            "sides": {
                "a": {"servers": {"border_control": {"car": 6, "truck": 2}, "customs": 2}},
                "b": {
                    "servers": {"border_control": 2, "customs": {"car": 3, "truck": 1}},
                    "secondary_servers": {"customs": 2},
                },
            },
        },
        {
            "id": "open",
            "category": "bilateral",
            "sides": {
                "a": {"servers": {"border_control": 2, "customs": 1}},
                "b": {"servers": {"border_control": 2, "customs": 1}},
            },
        },
    ],
    "demand": [
        {"crossing": "tight", "flow": "car", "direction": "both", "daily": 700},
        {"crossing": "tight", "flow": "truck", "direction": "a_to_b", "daily": 100},
        {"crossing": "open", "flow": "car", "direction": "both", "daily": 150},
    ],
}


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A tutorial run and a run whose small neutral zone holds travellers at the exit booths."""
    root = tmp_path_factory.mktemp("eventlog")
    tutorial = sim.load_scenario(Path("scenarios/tutorial_single_crossing.yaml"))
    out = {
        "tutorial": sim.run(tutorial, replications=2, days=1).write(root / "tutorial", report=False),
        "blocking": sim.run(sim.scenario_from_dict(BLOCKING)).write(root / "blocking", report=False),
    }
    for name, folder in list(out.items()):
        write_event_log(folder, root / f"{name}.parquet")
        write_event_log(folder, root / f"{name}.csv")
        out[f"{name}_log"] = root / f"{name}.parquet"
    return out


def _log(folders: dict[str, Path], name: str) -> pd.DataFrame:
    return pd.read_parquet(folders[f"{name}_log"])


def _event_prefix(v: pd.DataFrame) -> pd.Series:
    """The event name stem of each visit: side, role, stage, then the pool and ``secondary`` when they apply."""
    pool = np.where(v["pool"].astype(str) == "all", "", "_" + v["pool"].astype(str))
    second = np.where(v["secondary"], "_secondary", "")
    return v["side"].astype(str) + "_" + v["role"].astype(str) + "_" + v["stage"].astype(str) + pool + second


@pytest.mark.parametrize("name", ["tutorial", "blocking"])
def test_layout_is_vidigis(folders, name):
    log = _log(folders, name)
    assert tuple(log.columns) == COLUMNS
    assert set(log["event_type"]) == {"arrival_departure", "queue", "resource_use", "resource_use_end"}
    arrivals = log[log["event_type"] == "arrival_departure"]
    assert set(arrivals["event"]) == {"arrival", "depart"}
    uses = log[log["event_type"].isin(["resource_use", "resource_use_end"])]
    assert uses["resource_id"].notna().all()
    assert (uses["resource_id"] >= 1).all()
    assert log.loc[~log.index.isin(uses.index), "resource_id"].isna().all()
    assert (log["pathway"] == log["crossing"] + " " + log["travel_direction"] + " " + log["flow"])[arrivals.index].all()
    # sorted by run, then time
    assert (np.diff(log["run_number"]) >= 0).all()
    same_run = np.diff(log["run_number"]) == 0
    assert (np.diff(log["time"])[same_run] >= 0).all()


@pytest.mark.parametrize("name", ["tutorial", "blocking"])
def test_counts_match_the_records(folders, name):
    log = _log(folders, name)
    records = pd.read_parquet(folders[name] / "records.parquet")
    visits = pd.read_parquet(folders[name] / "visits.parquet")
    for r in (0, 1):
        mine, rec, vis = (
            log[log["run_number"] == r],
            records[records["replication"] == r],
            visits[visits["replication"] == r],
        )
        count = mine["event"].value_counts()
        assert count["arrival"] == rec["arrival_min"].notna().sum() == len(rec)
        assert count["depart"] == rec["release_min"].notna().sum()
        per = mine[mine["event_type"] == "arrival_departure"].groupby(["entity_id", "event"]).size()
        assert (per == 1).all()  # one arrival, and at most one departure, each
        done = set(rec.loc[rec["release_min"].notna(), "traveller"])
        assert set(mine.loc[mine["event"] == "depart", "entity_id"]) == done
        prefix = _event_prefix(vis)
        for suffix, column in (("wait", "enter_min"), ("begins", "start_min"), ("ends", "end_min")):
            expected = (prefix[vis[column].notna()] + "_" + suffix).value_counts().sort_index()
            got = mine.loc[mine["event"].str.endswith("_" + suffix), "event"].value_counts().sort_index()
            pd.testing.assert_series_equal(got, expected, check_names=False)
        held = vis["end_min"].notna() & ~(vis["leave_min"] <= vis["end_min"])
        assert (mine["event"].str.endswith("_held")).sum() == held.sum()
    if name == "blocking":
        assert log["event"].str.endswith("_held").any(), "the small zone should hold someone at an exit booth"


@pytest.mark.parametrize("name", ["tutorial", "blocking"])
def test_booths_are_a_valid_assignment(folders, name):
    log = _log(folders, name)
    visits = pd.read_parquet(folders[name] / "visits.parquet")
    stages = pd.read_csv(folders[name] / "stages.csv")
    visits["event"] = _event_prefix(visits) + "_begins"
    begins = log[log["event_type"] == "resource_use"].rename(
        columns={"run_number": "replication", "entity_id": "traveller", "time": "start_min"}
    )
    keys = ["replication", "traveller", "start_min", "event"]
    merged = visits[visits["start_min"].notna()].merge(begins[[*keys, "resource_id"]], on=keys, how="left")
    assert merged["resource_id"].notna().all()
    # the booth is taken from the start of service until the traveller leaves it (held included)
    merged["free_at"] = merged["leave_min"].fillna(np.inf)
    # names are a pool's within its crossing (the crossing column tells crossings apart)
    for (*_, booth), group in merged.groupby(["replication", "crossing", "event", "resource_id"], observed=True):
        g = group.sort_values("start_min")
        assert (g["start_min"].to_numpy()[1:] >= g["free_at"].to_numpy()[:-1]).all(), f"booth {booth} serves two"
    stages["event"] = _event_prefix(stages) + "_begins"
    most = merged.groupby(["crossing", "direction", "event"], observed=True)["resource_id"].max().reset_index()
    most = most.merge(stages[["crossing", "direction", "event", "servers"]], on=["crossing", "direction", "event"])
    limited = most[most["servers"] != "unlimited"]
    assert (limited["resource_id"] <= limited["servers"].astype(int)).all()
    assert len(limited) > 0


def test_booth_assignment_by_hand():
    pool = np.array([0, 0, 0, 0, 1, 0])
    start = np.array([0.0, 1.0, 2.0, 5.0, 0.0, np.nan])
    leave = np.array([3.0, 2.0, np.nan, 6.0, 1.0, np.nan])  # the third never leaves its booth
    # 0 takes 1; 1 takes 2; at 2 booth 2 is free again; at 5 booth 1 is free (booth 2 never frees)
    assert assign_booths(pool, start, leave).tolist() == [1, 2, 2, 1, 1, 0]


@pytest.mark.parametrize("name", ["tutorial", "blocking"])
def test_each_travellers_events_run_forward(folders, name):
    log = _log(folders, name)
    by = log.groupby(["run_number", "entity_id"], sort=False)
    assert (by["time"].diff().dropna() >= 0).all()
    place = by.cumcount()
    assert (place[log["event"] == "arrival"] == 0).all()
    size = by["event"].transform("size")
    assert (place[log["event"] == "depart"] == size[log["event"] == "depart"] - 1).all()
    # within a visit: wait, begins, ends, in that order and at non-decreasing times
    order = {"wait": 0, "begins": 1, "ends": 2, "held": 3}
    visit = log[log["side"].notna()].copy()
    visit["stem"] = visit["event"].str.rsplit("_", n=1).str[0]
    visit["step"] = visit["event"].str.rsplit("_", n=1).str[1].map(order)
    steps = visit.groupby(["run_number", "entity_id", "stem"], sort=False)["step"]
    assert (steps.diff().dropna() > 0).all()


def test_the_zone_is_entered_as_the_entry_line_is_joined(folders):
    log = _log(folders, "blocking")
    zone = log[log["event"] == "neutral_zone"]
    assert set(zone["crossing"]) == {"tight"}  # the other crossing has no zone
    assert zone["side"].isna().all()
    nxt = log.groupby(["run_number", "entity_id"]).shift(-1).loc[zone.index]
    assert nxt["event"].str.startswith("b_entry_").where(zone["travel_direction"] == "a_to_b", True).all()
    assert nxt["event"].str.endswith("_wait").all()
    assert (nxt["time"] == zone["time"]).all()


def test_filters(folders, tmp_path):
    folder = folders["blocking"]
    full = _log(folders, "blocking")
    n = write_event_log(folder, tmp_path / "tight.parquet", crossings=["tight"], replications=[1])
    part = pd.read_parquet(tmp_path / "tight.parquet")
    assert n == len(part) > 0
    assert set(part["crossing"]) == {"tight"}
    assert set(part["run_number"]) == {1}
    expected = full[(full["crossing"] == "tight") & (full["run_number"] == 1)].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected)

    write_event_log(folder, tmp_path / "window.parquet", start_min=600, end_min=660)
    window = pd.read_parquet(tmp_path / "window.parquet")
    by = full.groupby(["run_number", "entity_id"])
    first, last = by["time"].min(), by["time"].max()
    departed = full[full["event"] == "depart"].set_index(["run_number", "entity_id"])["time"]
    last = pd.Series(1440.0, index=first.index).where(~first.index.isin(departed.index), last)  # inside at the end
    inside = first[(first <= 660) & (last >= 600)].index
    kept = window.groupby(["run_number", "entity_id"]).size().index
    assert set(kept) == set(inside)
    assert len(window) == full.set_index(["run_number", "entity_id"]).index.isin(inside).sum()

    assert write_event_log(folder, tmp_path / "after.parquet", start_min=1441, end_min=2000) == 0
    with pytest.raises(ValueError, match="no crossing 'nowhere'"):
        write_event_log(folder, tmp_path / "x.parquet", crossings=["nowhere"])
    with pytest.raises(ValueError, match="no replication 7"):
        write_event_log(folder, tmp_path / "x.parquet", replications=[7])
    with pytest.raises(ValueError, match=r"\.parquet or \.csv"):
        write_event_log(folder, tmp_path / "x.json")
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("name", ["tutorial", "blocking"])
def test_csv_and_parquet_hold_the_same_rows(folders, name):
    parquet = _log(folders, name)
    csv = pd.read_csv(folders[f"{name}_log"].with_suffix(".csv"))
    assert list(csv.columns) == list(parquet.columns)
    for col in csv.columns:
        a, b = parquet[col], csv[col]
        if pd.api.types.is_numeric_dtype(a):
            np.testing.assert_array_equal(a.to_numpy(dtype=float), b.to_numpy(dtype=float))
        else:
            assert (a.fillna("<none>").astype(str) == b.fillna("<none>").astype(str)).all(), col


def test_a_folder_without_visits_is_refused_clearly(folders, tmp_path):
    copy = tmp_path / "travellers_only"
    shutil.copytree(folders["tutorial"], copy, ignore=shutil.ignore_patterns("visits.parquet"))
    with pytest.raises(ReportError, match=r"visits\.parquet.*--records full"):
        write_event_log(copy, tmp_path / "log.parquet")
    assert not (tmp_path / "log.parquet").exists()


def test_a_failed_write_leaves_no_file(folders, tmp_path, monkeypatch):
    calls = []
    real = eventlog.replication_events

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk trouble")
        return real(*args, **kwargs)

    monkeypatch.setattr(eventlog, "replication_events", second_fails)
    with pytest.raises(RuntimeError):
        write_event_log(folders["tutorial"], tmp_path / "log.csv")
    assert list(tmp_path.iterdir()) == []


def test_run_writes_the_event_log_when_asked_and_refuses_without_visits(tmp_path):
    """``--event-log`` writes event_log.parquet beside the results; without per-visit records it is refused
    before anything runs, with exit status 2."""
    import subprocess
    import sys

    tutorial = str(Path(__file__).resolve().parent.parent / "scenarios" / "tutorial_single_crossing.yaml")
    common = ["--days", "1.2", "--replications", "2", "--no-report", "--quiet"]
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", tutorial, *common, "--event-log", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    log = pd.read_parquet(out / "event_log.parquet")
    assert list(log.columns[:7]) == ["entity_id", "event_type", "event", "time", "resource_id", "run_number", "pathway"]
    records = pd.read_parquet(out / "records.parquet")
    arrivals = log[log["event"] == "arrival"]
    assert len(arrivals) == len(records)
    assert set(log["run_number"]) == set(records["replication"])
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            tutorial,
            *common,
            "--event-log",
            "--records",
            "none",
            "--out",
            str(tmp_path / "no"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2
    assert "--event-log needs the per-visit records" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "no").exists()
