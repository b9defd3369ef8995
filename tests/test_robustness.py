"""Unstable systems, runaway runs, interrupts, overwrites and model failures: clear words, nothing lost."""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import sim
import sim.engine.core
import sim.experiments.run
from sim.cli import main
from sim.experiments.run import ReplicationError, ReportFailed
from tests.commands import Command, only_phases_and_interrupted
from tests.conftest import one_crossing, run_dict
from tests.test_folders import joint_variant

ROOT = Path(__file__).resolve().parent.parent


def single(load: float, days: str = "2 d", **extra) -> dict:
    data = one_crossing(
        stages={"check": {"per_vehicle": {"dist": "exponential", "mean": load}}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 1440}],
    )
    data.update(horizon=days, warmup="6 h", replications=2, **extra)
    return data


def test_overloaded_stage_is_reported():
    r = run_dict(single(1.3))
    st = r.stages.iloc[0]
    # load is estimated from 2 x 1.75 days of arrivals and services: about 2% sampling error
    assert st["load"] == pytest.approx(1.3, rel=0.08)
    assert st["utilization"] == pytest.approx(1.0, abs=0.01)
    assert bool(st["overloaded"]) is True
    assert st["queue_end"] > 100
    row = r.summary.query("crossing == 'x' and flow == 'truck'").iloc[0]
    assert "overloaded" in row["note"]
    assert "check" in row["note"]
    total = r.summary.query("crossing == 'ALL' and flow == 'ALL'").iloc[0]
    assert "1 overloaded stage pool" in total["note"]


def test_stable_stage_is_not_overloaded():
    r = run_dict(single(0.5))
    st = r.stages.iloc[0]
    assert st["load"] == pytest.approx(0.5, rel=0.08)
    assert bool(st["overloaded"]) is False
    assert (r.summary["note"] == "").all()


def test_runaway_run_stops_with_a_clear_message():
    data = single(3.0, days="30 d", limits={"max_in_system": 500})
    with pytest.raises(ReplicationError) as info:
        run_dict(data)
    err = info.value
    assert err.unstable
    assert err.replication == 0
    assert err.seed == 1
    assert "more than 500 travellers inside" in str(err)
    assert "limits.max_in_system" in str(err)


def test_huge_demand_is_refused_before_drawing():
    data = single(1.0, limits={"max_arrivals": 1_000})
    with pytest.raises(ReplicationError) as info:
        run_dict(data)
    assert "limits.max_arrivals" in str(info.value)


def _write(tmp_path: Path, data: dict) -> Path:
    from ruamel.yaml import YAML

    path = tmp_path / "s.yaml"
    with path.open("w") as fh:
        YAML().dump(data, fh)
    return path


def test_cli_reports_an_unstable_run_and_keeps_its_record(tmp_path):
    path = _write(tmp_path, single(3.0, days="30 d", limits={"max_in_system": 500}))
    out = tmp_path / "res"
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 1
    assert "the run is unstable" in result.output
    assert "seed 1" in result.output
    assert not out.exists()
    record = json.loads((tmp_path / "t.failure.json").read_text())
    assert record["replication"] == 0
    assert record["seed"] == 1
    assert record["unstable"] is True


def test_cli_reports_a_model_failure_with_its_seed(tmp_path, monkeypatch):
    def broken(self):
        raise ZeroDivisionError("a bug inside the model")

    monkeypatch.setattr(sim.engine.core.Engine, "run", broken)
    out = tmp_path / "res"
    result = CliRunner().invoke(
        main, ["run", "scenarios/tutorial_single_crossing.yaml", "--out", str(out), "--quiet", "--seed", "77"]
    )
    assert result.exit_code == 1
    assert "the model failed" in result.output
    assert "replication 0, seed 77: ZeroDivisionError: a bug inside the model" in result.output
    assert "Traceback" not in result.output
    record = json.loads((tmp_path / "tutorial_single_crossing.failure.json").read_text())
    assert "ZeroDivisionError" in record["traceback"]
    assert not out.exists()


def test_no_silent_overwrite(tmp_path):
    out = tmp_path / "res"
    args = [
        "run",
        "scenarios/tutorial_single_crossing.yaml",
        "--out",
        str(out),
        "-q",
        "--no-report",
        "-d",
        "1",
        "-r",
        "1",
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    first = (out / "manifest.json").read_text()
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2
    assert "already exists; pass --overwrite" in again.output
    assert (out / "manifest.json").read_text() == first
    replaced = CliRunner().invoke(main, [*args, "--overwrite", "--seed", "5"])
    assert replaced.exit_code == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    assert [p.name for p in tmp_path.iterdir()] == ["res"]  # no temporary folders left behind


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_stops_and_writes_nothing(tmp_path, sig):
    scenario = ROOT / "scenarios" / "kz_ru_2009_double_control.yaml"
    with Command("run", scenario, "--out", tmp_path / "res", "--jobs", "2", "--replications", "6", cwd=tmp_path) as cmd:
        cmd.wait_for("simulating 6 replications of kz_ru_2009_double_control on 2 worker processes")
        cmd.send(sig)
        assert cmd.finish() == 130, cmd.stderr
    assert "interrupted. Nothing was written to" in cmd.stderr
    assert "run the same command again" in cmd.stderr
    assert only_phases_and_interrupted(cmd.stderr), cmd.stderr
    assert list(tmp_path.iterdir()) == []  # neither results nor a half-made folder nor its lock


def _failing_report(folder: Path, *args: object) -> Path:
    raise RuntimeError("the charts caught fire")


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_failing_report_keeps_the_results(tmp_path, monkeypatch, command):
    monkeypatch.setattr("sim.outputs.report.run_report", _failing_report)
    monkeypatch.setattr("sim.outputs.report.comparison_report", _failing_report)
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(logs))  # where the traceback is kept for a bug report
    out = tmp_path / "res"
    scenarios = ["scenarios/tutorial_single_crossing.yaml"]
    if command == "compare":
        scenarios.append(str(joint_variant(tmp_path / "input")))
    result = CliRunner().invoke(main, [command, *scenarios, "--out", str(out), "-r", "2", "-d", "0.5", "-q"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "the report could not be drawn (RuntimeError: the charts caught fire)" in errors[0]
    assert f"the results are in {out}, and `bordersim report {out}` rebuilds the report" in errors[0]
    assert "Traceback" not in result.output
    assert json.loads((out / "manifest.json").read_text())["replications"] == 2
    assert (out / "comparison.csv" if command == "compare" else out / "summary.csv").exists()
    assert {p.name for p in tmp_path.iterdir()} == (
        {"res", "input", "logs"} if command == "compare" else {"res", "logs"}
    )
    (log,) = logs.iterdir()
    assert f"(details in {log})" in errors[0]
    assert "RuntimeError: the charts caught fire" in log.read_text()


def test_a_failing_report_raises_after_the_results_are_written(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.outputs.report.run_report", _failing_report)
    result = run_dict(single(0.5, days="1 d"))
    with pytest.raises(ReportFailed) as info:
        result.write(tmp_path / "res")
    assert info.value.folder == tmp_path / "res"
    assert (tmp_path / "res" / "records.parquet").exists()
    assert (tmp_path / "res" / "manifest.json").exists()


def test_a_failure_record_that_cannot_be_kept_is_reported(tmp_path):
    path = _write(tmp_path, single(3.0, days="30 d", limits={"max_in_system": 500}))
    (tmp_path / "t.failure.json").mkdir()  # something else already has the record's name
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "res"), "--quiet"])
    assert result.exit_code == 1
    assert "the run is unstable" in result.output
    assert f"its record (with the traceback) could not be kept in {tmp_path / 't.failure.json'}" in result.output
    assert "Is a directory" in result.output
    assert "reproduce it with --seed 1" in result.output
    assert "Traceback" not in result.output


def test_a_failure_record_is_not_kept_where_results_became_a_file(tmp_path, monkeypatch):
    results = tmp_path / "results"

    def broken(self):
        shutil.rmtree(results)  # the results folder is replaced by a file while the model runs
        results.write_text("not a folder\n")
        raise ZeroDivisionError("a bug inside the model")

    monkeypatch.setattr(sim.engine.core.Engine, "run", broken)
    out = results / "tutorial"
    result = CliRunner().invoke(main, ["run", "scenarios/tutorial_single_crossing.yaml", "--out", str(out), "-q"])
    assert result.exit_code == 1
    assert "the model failed" in result.output
    assert f"could not be kept in {results / 'tutorial_single_crossing.failure.json'}: " in result.output
    assert "Traceback" not in result.output
    assert results.read_text() == "not a folder\n"
