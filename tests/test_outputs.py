"""`bordersim run` writes complete, self-describing results; every shipped scenario runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
import sim.engine.core
import sim.experiments.run
from sim.analysis.kpis import SUMMARY_COLUMNS
from sim.outputs.files import atomic_write
from sim.scenario.loader import scenario_hash

SHIPPED = (
    "tutorial_single_crossing.yaml",
    "common/kz_ru_base.yaml",
    "kz_ru_2009_double_control.yaml",
    "kz_ru_2011_customs_union.yaml",
    "kz_ru_2025_customs_checks.yaml",
    "kz_ru_joint_control_all.yaml",
    "kz_ru_no_simplified.yaml",
    "network/kz_ru_network_2011.yaml",
    "network/kz_ru_bad_weather_week.yaml",
    "network/kz_ru_syrym_closed_week.yaml",
    "reported/kz_ru_2022_september_normal.yaml",
    "reported/kz_ru_2022_september_surge.yaml",
    "reported/kz_ru_2025_autumn_normal.yaml",
    "reported/kz_ru_2025_autumn_checks.yaml",
    "reported/kz_ru_2025_autumn_checks_tuned.yaml",
    "reported/kz_ru_2025_july_zhaisan.yaml",
    "equeue/kz_ru_2023_equeue.yaml",
    "equeue/kz_ru_2025_autumn_equeue.yaml",
    "equeue/kz_ru_2025_autumn_equeue_whatif.yaml",
    "equeue/kz_ru_2025_autumn_equeue_metered.yaml",
)
"""The scenarios the project ships, by name: a modeler's own work in progress beside them
(typos and all) is theirs, not a failure of the project's tests."""
EPISODE_FILES = (
    "episodes/2022_september_surge.yaml",
    "episodes/2025_autumn_russian_checks.yaml",
    "episodes/2025_autumn_russian_checks_tuned.yaml",
    "episodes/2025_july_zhaisan_queue.yaml",
    "equeue/kz_ru_cargoruqsat.yaml",
    "equeue/kz_ru_cargoruqsat_whatif.yaml",
    "equeue/kz_ru_cargoruqsat_metered.yaml",
)
"""Shipped episode and e-queue files: parts of scenarios, checked through the scenarios that use them."""
SCENARIOS = [Path(__file__).resolve().parent.parent / "scenarios" / name for name in SHIPPED]


def test_run_command_writes_every_file(tmp_path):
    out = tmp_path / "res"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            "scenarios/tutorial_single_crossing.yaml",
            "--replications",
            "2",
            "--days",
            "2",
            "--seed",
            "99",
            "--out",
            str(out),
            "--quiet",
            "--no-report",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    names = {p.name for p in out.iterdir()}
    assert names == {
        "crossings.csv",
        "summary.csv",
        "stages.csv",
        "replications.csv",
        "costs.csv",
        "daily.csv",
        "weekly.csv",
        "overload.csv",
        "records.parquet",
        "visits.parquet",
        "manifest.json",
    }
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert (summary["replications"] == 2).all()
    stages = pd.read_csv(out / "stages.csv")
    assert {"crossing", "side", "stage", "servers", "utilization", "queue_mean", "queue_max", "wait_mean_min"} <= set(
        stages.columns
    )
    reps = pd.read_csv(out / "replications.csv")
    assert sorted(reps["replication"].unique()) == [0, 1]
    records = pd.read_parquet(out / "records.parquet")
    assert len(records) > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 99
    assert manifest["replications"] == 2
    assert manifest["horizon_min"] == 2880
    for key in ("bordersim", "python", "simpy", "numpy", "pandas"):
        assert manifest["versions"][key]
    assert manifest["entities"] == len(records)
    assert manifest["entities_per_second"] > 0
    s = sim.load_scenario("scenarios/tutorial_single_crossing.yaml")
    s2 = sim.experiments.run.with_overrides(s, replications=2, seed=99, days=2)
    assert manifest["scenario_sha256"] == scenario_hash(s2)
    assert not list(out.glob("*.part"))


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "summary.csv"
    target.write_text("old complete file\n")

    def crash(path: Path) -> None:
        path.write_text("half a fi")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(target, crash)
    assert target.read_text() == "old complete file\n"
    assert list(tmp_path.iterdir()) == [target]


def test_python_api(tutorial):
    r = sim.run(tutorial, replications=2, days=2)
    assert isinstance(r.summary, pd.DataFrame)
    assert isinstance(r.stages, pd.DataFrame)
    assert isinstance(r.records, pd.DataFrame)
    assert len(r.records) > 0
    assert r.manifest["replications"] == 2


def test_schema_command_exports_json_schema():
    proc = subprocess.run([sys.executable, "-m", "sim", "schema"], capture_output=True, text=True)
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["additionalProperties"] is False
    assert {"crossings", "demand", "stages", "flows", "regime"} <= set(schema["properties"])


def test_the_shipped_list_names_every_scenario_in_version_control():
    root = Path(__file__).resolve().parent.parent
    tracked = subprocess.run(["git", "ls-files", "--", "scenarios"], capture_output=True, text=True, cwd=root)
    if tracked.returncode != 0 or not tracked.stdout.strip():
        pytest.skip("not a git checkout")
    yaml = [f for f in tracked.stdout.split() if f.endswith(".yaml")]
    assert sorted(yaml) == sorted(f"scenarios/{name}" for name in SHIPPED + EPISODE_FILES)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_validates_and_runs(path):
    s = sim.load_scenario(path)
    r = sim.run(s, replications=1, days=0.4)
    total = r.summary.query("crossing == 'ALL' and flow == 'ALL'").iloc[0]
    assert total["arrivals"] > 0
    assert total["completed"] > 0
