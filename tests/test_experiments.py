"""Comparisons with common random numbers, parallel backends, sweeps, precision and warm-up."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

import sim
from sim.analysis.comparison import unpaired_halfwidth
from sim.analysis.warmup import mser
from sim.experiments.run import Precision, compare
from sim.experiments.sweep import SweepSpec, design_points, load_sweep, run_sweep
from tests.commands import HANG_GUARD_S, Command, only_phases_and_interrupted

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "scenarios" / "tutorial_single_crossing.yaml"


def tutorial(**update) -> sim.Scenario:
    return sim.load_scenario(TUTORIAL).model_copy(update=update)


def test_pairing_narrows_the_interval():
    base = tutorial(name="base")
    data = base.model_dump(by_alias=True)
    data["stages"]["border_control"]["flows"]["truck"]["per_vehicle"]["mean"] *= 1.05  # trucks 5% slower
    data["name"] = "slower"
    other = sim.scenario_from_dict(data)
    result = compare(base, [other], replications=6, days=2.5)
    c = result.comparison
    row = c[(c["crossing"] == "ALL") & (c["flow"] == "truck") & (c["metric"] == "time_in_system_mean_min")].iloc[0]
    paired_half = (row["diff_ci95_high"] - row["diff_ci95_low"]) / 2
    reps = {r.scenario.name: r.replications for r in result.runs}
    pick = lambda df: df[(df["crossing"] == "ALL") & (df["flow"] == "truck")]["time_in_system_mean_min"].to_numpy()  # noqa: E731
    unpaired_half = unpaired_halfwidth(pick(reps["base"]), pick(reps["slower"]))
    assert row["diff"] > 0
    assert row["diff_ci95_low"] > 0  # the small change is detected...
    assert paired_half < 0.5 * unpaired_half  # ...because pairing removes most of the noise


def test_same_results_on_every_backend():
    s = tutorial()
    one = sim.run(s, replications=3, days=1.25, jobs=1)
    two = sim.run(s, replications=3, days=1.25, jobs=2)
    from distributed import LocalCluster

    # an existing cluster, reached by its address (workers in threads here, to start fast)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        dask = sim.run(s, replications=3, days=1.25, jobs=2, backend="dask", scheduler=cluster.scheduler_address)
    for other in (two, dask):
        pd.testing.assert_frame_equal(one.summary, other.summary)
        pd.testing.assert_frame_equal(one.records, other.records)
        pd.testing.assert_frame_equal(one.stages, other.stages)


def test_precision_adds_replications_until_tight():
    r = sim.run(tutorial(), days=2, precision=Precision(0.03, minimum=3, maximum=30), jobs=2)
    p = r.manifest["precision"]
    assert p["reached"]
    assert 3 <= p["replications"] <= 30
    assert p["half_width"] <= 0.03 * p["mean"]
    total = r.summary.query("crossing == 'ALL' and flow == 'ALL'").iloc[0]
    assert total["replications"] == p["replications"]
    assert total["time_in_system_mean_min_ci95"] == pytest.approx(p["half_width"])


def _sweep_file(tmp_path: Path, **extra) -> Path:
    spec = {
        "name": "t",
        "base": str(TUTORIAL),
        "replications": 2,
        "days": 1.5,
        "factors": {"demand[1].daily": [150, 250], "crossing_overrides.tutorial_road.neutral_zone": [20, 60]},
        **extra,
    }
    path = tmp_path / "sweep.yaml"
    with path.open("w") as fh:
        YAML().dump(spec, fh)
    return path


def test_sweep_table_resume_and_failures(tmp_path):
    sweep = load_sweep(_sweep_file(tmp_path))
    assert len(sweep.scenarios) == 4
    out = tmp_path / "out"
    first = run_sweep(sweep, out, jobs=2)
    assert (first.ran, first.skipped, first.failed) == (8, 0, 0)
    t = pd.read_parquet(out / "sweep.parquet")
    assert {
        "point",
        "demand[1].daily",
        "crossing_overrides.tutorial_road.neutral_zone",
        "replication",
        "seed",
        "scenario_sha256",
        "crossing",
        "direction",
        "flow",
        "metric",
        "value",
    } <= set(t.columns)
    assert t.groupby(["point", "replication"]).ngroups == 8
    assert set(t["metric"]) == {"throughput_per_day", "wait_mean_min", "wait_p95_min", "time_in_system_mean_min"}
    # more trucks, more trucks leaving per day
    trucks = t[
        (t["crossing"] == "tutorial_road")
        & (t["direction"] == "a_to_b")
        & (t["flow"] == "truck")
        & (t["metric"] == "throughput_per_day")
    ]
    by_demand = trucks.groupby("demand[1].daily")["value"].mean()
    assert by_demand[250] > by_demand[150]
    # resume: an interrupted sweep lost one run; only that one is computed again
    victim = sorted((out / "runs").glob("*.parquet"))[3]
    victim.unlink()
    again = run_sweep(load_sweep(_sweep_file(tmp_path)), out, jobs=1)
    assert (again.ran, again.skipped, again.failed) == (1, 7, 0)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), t)


def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    path = _sweep_file(tmp_path, factors={"limits.max_in_system": [3, 100000]})
    result = run_sweep(load_sweep(path), tmp_path / "out")
    assert (result.ran, result.failed) == (2, 2)
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert len(failures) == 2
    assert failures["error"].str.contains("RunawayError").all()
    assert set(pd.read_parquet(tmp_path / "out" / "sweep.parquet")["limits.max_in_system"]) == {100000}
    status = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert status["failed"] == 2


def test_latin_hypercube_design():
    spec = SweepSpec(
        name="x",
        base="b.yaml",
        design="lhs",
        samples=8,
        sample_seed=3,
        ranges={"a": [0.0, 8.0], "b": {"low": 10, "high": 50, "integer": True}},
    )
    points = design_points(spec)
    assert len(points) == 8
    strata = sorted(int(p["a"]) for p in points)
    assert strata == list(range(8))  # one value in each eighth of the range
    assert all(isinstance(p["b"], int) and 10 <= p["b"] <= 50 for p in points)


def test_sweep_is_interrupted_and_resumed(tmp_path):
    # 24 runs: far more than can finish between the second one and the interrupt
    daily = [600, 700, 800, 900, 1000, 1100, 1200, 1300]
    path = _sweep_file(tmp_path, factors={"demand[0].daily": daily}, replications=3, days=3)
    out = tmp_path / "out"
    args = ("sweep", path, "--out", out, "--jobs", "2")
    with Command(*args, cwd=tmp_path) as cmd:
        cmd.wait_for("running sweep t: 24 runs")
        deadline = time.monotonic() + HANG_GUARD_S
        while len(list((out / "runs").glob("*.parquet"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for two finished runs, within the hang guard
        cmd.send(signal.SIGINT)
        assert cmd.finish() == 130, cmd.stderr
    assert "run the same command again to resume" in cmd.stderr
    assert only_phases_and_interrupted(cmd.stderr), cmd.stderr
    finished = sorted((out / "runs").glob("*.parquet"))
    assert 2 <= len(finished) < 24
    for f in finished:  # every finished run is intact
        assert len(pd.read_parquet(f)) > 0
    assert not list(out.rglob("*.part"))
    with Command(*args, "--quiet", cwd=tmp_path) as resumed:
        assert resumed.finish() == 0, resumed.stderr
    assert f"{24 - len(finished)} runs done, {len(finished)} already there, 0 failed" in resumed.stdout
    assert pd.read_parquet(out / "sweep.parquet").groupby(["point", "replication"]).ngroups == 24


def test_mser_finds_the_end_of_a_transient():
    rng = np.random.default_rng(1)
    t = np.arange(600)
    series = 20 * np.exp(-t / 40) + rng.normal(0, 1, len(t))  # settles after about 150 points
    d, _ = mser(series)
    assert 60 <= d * 5 <= 260
    growing = t * 0.1 + rng.normal(0, 1, len(t))  # never settles
    d_grow, stats = mser(growing)
    assert d_grow >= len(stats) / 2


def test_warmup_command():
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "warmup", str(TUTORIAL), "-r", "2", "-d", "3"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "MSER-5 truncation point" in proc.stdout
    assert "suggested warm-up" in proc.stdout
