"""Calibration recovers a known scenario from the observations the simulator itself produces.

A one-crossing scenario (lognormal border control, exponential customs checking 30% of the
cars, a daytime hourly profile and a weekend peak) is run once; its per-visit records
become the long observations layout; calibration must find the generating families, with
intervals that contain the generating values and are narrow enough to mean something, and
its fragment must load with the real loader and give similar waits when run again.
"""

from __future__ import annotations

import copy
import csv
import datetime
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML
from scipy import stats

import sim
from sim.calibration import Calibration, calibrate
from sim.cli import main
from sim.scenario.distributions import Exponential, Lognormal
from sim.scenario.errors import ScenarioError

HOURLY = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 7, 6, 5, 4, 3, 2, 1, 1]
WEEKLY = [1, 1, 1, 1, 1.3, 1.4, 1.2]
DAILY = 600
DAYS = 7
SEED = 2

STRUCTURE: dict[str, Any] = {
    "name": "calibration_source",
    "horizon": f"{DAYS} d",
    "warmup": 0,
    "replications": 1,
    "seed": SEED,
    "start_weekday": "monday",
    "regimes": {"r": {"exit": ["border_control"], "entry": ["customs"]}},
    "regime": "r",
    "crossings": [
        {
            "id": "x",
            "category": "bilateral",
            "sides": {"a": {"servers": {"border_control": 3}}, "b": {"servers": {"customs": 1}}},
        }
    ],
}
"""What a modeler knows without observations: the crossing, its booths, its regime."""

GENERATING: dict[str, Any] = {
    **copy.deepcopy(STRUCTURE),
    "flows": {"car": {"occupancy": 1}},
    "stages": {
        "border_control": {"per_vehicle": {"dist": "lognormal", "mean": 2.0, "cv": 0.5}},
        "customs": {"per_vehicle": {"dist": "exponential", "mean": 3.0}, "select": 0.3},
    },
    "profiles": {"hourly": {"day": HOURLY}, "weekly": {"weekend": WEEKLY}},
    "demand": [
        {"crossing": "x", "flow": "car", "direction": "a_to_b", "daily": DAILY, "hourly": "day", "weekly": "weekend"}
    ],
}
"""What calibration must recover."""

LONG_HEADER = ["vehicle_id", "crossing", "direction", "flow", "arrival", "stage", "side", "start", "end", "persons"]


def observation_rows(result: sim.RunResult) -> list[list[Any]]:
    """The run's records as the long layout: a row per completed control, a bare row for a vehicle with none."""
    visits = result.visits[np.isfinite(result.visits["end_min"])]
    done: dict[int, list[tuple[str, str, float, float]]] = {}
    columns = (visits[c].tolist() for c in ("traveller", "stage", "side", "start_min", "end_min"))
    for traveller, stage, side, start, end in zip(*columns, strict=True):
        done.setdefault(traveller, []).append((stage, side, start, end))
    rows = []
    for r in result.records.itertuples():
        vehicle = [r.traveller, r.crossing, r.direction, r.flow, repr(r.arrival_min)]
        if r.traveller not in done:
            rows.append([*vehicle, "", "", "", "", r.persons])
        for stage, side, start, end in done.get(r.traveller, []):
            rows.append([*vehicle, stage, side, repr(start), repr(end), r.persons])
    return rows


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def source() -> sim.RunResult:
    return sim.run(sim.scenario_from_dict(copy.deepcopy(GENERATING)), replications=1, days=DAYS)


@pytest.fixture(scope="module")
def observed(source: sim.RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("obs") / "observations.csv", LONG_HEADER, observation_rows(source))


@pytest.fixture(scope="module")
def cal(observed: Path) -> Calibration:
    return calibrate(observed)


def inside(interval: tuple[float, float], value: float) -> bool:
    return interval[0] <= value <= interval[1]


def test_the_observations_are_the_run(cal: Calibration, source: sim.RunResult):
    assert len(cal.observations.vehicles) == len(source.records) > 3000
    assert cal.observations.days == DAYS
    assert sum(len(v.visits) for v in cal.observations.vehicles) > 4000


def test_the_generating_families_are_chosen(cal: Calibration):
    border = cal.services[("border_control", "a", "car")]
    customs = cal.services[("customs", "b", "car")]
    assert border.family == "lognormal", border.why
    assert customs.family == "exponential", customs.why
    # every family was tried, and the others were rejected or beaten, not missing
    assert {f.family for f in border.fits} == {"exponential", "gamma", "lognormal", "uniform", "triangular"}
    assert not next(f for f in border.fits if f.family == "exponential").passes
    assert "lowest AIC" in border.why


def test_intervals_contain_the_generating_parameters(cal: Calibration):
    border = cal.services[("border_control", "a", "car")]
    customs = cal.services[("customs", "b", "car")]
    for choice, truth in ((border, {"mean": 2.0, "cv": 0.5}), (customs, {"mean": 3.0})):
        assert set(choice.intervals) == set(truth)
        for key, value in truth.items():
            low, high = choice.intervals[key]
            assert low <= choice.dist[key] <= high
            assert inside((low, high), value), (key, low, high)
            assert high - low < 0.15 * value  # narrow enough that containing the truth says something


def test_selection_share_and_daily_volume(cal: Calibration):
    (customs,) = [s for s in cal.shares if s.stage == "customs"]
    assert customs.vehicles == len(cal.observations.vehicles)
    assert inside(customs.interval, 0.3)
    assert customs.interval[1] - customs.interval[0] < 0.05
    (border,) = [s for s in cal.shares if s.stage == "border_control"]
    assert border.share > 0.99
    (demand,) = cal.arrivals
    assert inside(demand.daily_interval, DAILY)
    assert demand.daily_interval[1] - demand.daily_interval[0] < 0.1 * DAILY


def test_profiles_are_close(cal: Calibration):
    (demand,) = cal.arrivals
    truth = np.asarray(HOURLY) / np.mean(HOURLY)
    fitted = np.asarray(demand.hourly)
    assert fitted.mean() == pytest.approx(1.0)
    assert np.max(np.abs(fitted - truth)) < 0.3
    counts = fitted / 24 * demand.count
    assert stats.chisquare(counts, truth / 24 * demand.count).pvalue > 0.001
    week = np.asarray(WEEKLY) / np.mean(WEEKLY)
    assert demand.weekly is not None
    assert np.max(np.abs(np.asarray(demand.weekly) - week)) < 0.15
    assert demand.weekly[5] > demand.weekly[0]  # the weekend peak is seen


def test_cli_writes_the_fragment_and_report(cal: Calibration, observed: Path, tmp_path: Path):
    out, report = tmp_path / "fragment.yaml", tmp_path / "calibration.md"
    result = CliRunner().invoke(main, ["calibrate", str(observed), "--out", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == cal.fragment()
    assert report.read_text() == cal.report()
    text = report.read_text()
    assert "### border_control, side a, car" in text
    assert "| lognormal |" in text
    assert "Chosen: lognormal: lowest AIC" in text
    assert sorted(os.listdir(tmp_path)) == ["calibration.md", "fragment.yaml"]  # no temporary file left
    printed = CliRunner().invoke(main, ["calibrate", str(observed)])
    assert printed.exit_code == 0
    assert printed.stdout == cal.fragment()


def test_fragment_loads_and_reproduces_waits(cal: Calibration, source: sim.RunResult, tmp_path: Path):
    (tmp_path / "calibrated.yaml").write_text(cal.fragment())
    scenario_file = tmp_path / "study.yaml"
    yaml = YAML()
    with scenario_file.open("w") as fh:
        yaml.dump({"extends": "calibrated.yaml", **copy.deepcopy(STRUCTURE), "name": "recalibrated"}, fh)
    scenario = sim.load_scenario(scenario_file)
    # demand, stages, profiles and flows come from the fragment: the study file has none of them
    (demand,) = scenario.demand
    assert demand.daily == pytest.approx(cal.arrivals[0].daily, rel=1e-5)
    per_vehicle, per_person, select, _ = scenario.stages["border_control"].for_flow("car", "a")
    assert isinstance(per_vehicle, Lognormal)
    assert per_vehicle.mean == pytest.approx(cal.services[("border_control", "a", "car")].dist["mean"], rel=1e-5)
    assert per_person.is_zero
    assert select == 1
    per_vehicle, _, select, _ = scenario.stages["customs"].for_flow("car", "b")
    assert isinstance(per_vehicle, Exponential)
    assert select == pytest.approx(0.3, abs=0.02)
    # waits are noisy at a peaky load: compare 8 replications of each, on the same seeds
    again = sim.run(scenario, replications=8, records="none").summary.iloc[0]
    before = sim.run(sim.scenario_from_dict(copy.deepcopy(GENERATING)), replications=8, records="none").summary.iloc[0]
    assert before["wait_mean_min"] > 1.0  # queues form: a calibration that lost the load would show
    assert abs(again["wait_mean_min"] - before["wait_mean_min"]) <= (
        again["wait_mean_min_ci95"] + before["wait_mean_min_ci95"]
    )
    assert again["wait_mean_min"] == pytest.approx(before["wait_mean_min"], rel=0.3)
    assert again["time_in_system_mean_min"] == pytest.approx(before["time_in_system_mean_min"], rel=0.1)
    assert again["arrivals"] == pytest.approx(before["arrivals"], rel=0.05)


def test_extends_option_completes_a_base(observed: Path, tmp_path: Path):
    base = tmp_path / "base" / "structure.yaml"
    base.parent.mkdir()
    data = copy.deepcopy(GENERATING)
    data["demand"][0]["daily"] = 50  # a stale guess the calibration replaces
    data["stages"]["border_control"]["per_person"] = "20 s"  # would double count without per_person: 0
    YAML().dump(data, base.open("w"))
    out = tmp_path / "out" / "calibrated.yaml"
    result = CliRunner().invoke(main, ["calibrate", str(observed), "--out", str(out), "--extends", str(base)])
    assert result.exit_code == 0, result.output
    assert 'extends: "../base/structure.yaml"' in out.read_text()
    scenario = sim.load_scenario(out)
    assert scenario.demand[0].daily > 500
    per_vehicle, per_person, _, _ = scenario.stages["border_control"].for_flow("car", "a")
    assert per_person.is_zero
    assert isinstance(per_vehicle, Lognormal)


def test_wide_layout_and_date_times_give_the_same_calibration(cal: Calibration, observed: Path, tmp_path: Path):
    monday = datetime.datetime(2023, 10, 2)

    def when(minutes: str) -> str:
        return (monday + datetime.timedelta(minutes=float(minutes))).isoformat()

    vehicles: dict[str, dict[str, str]] = {}
    with observed.open() as fh:
        for row in csv.DictReader(fh):
            v = vehicles.setdefault(
                row["vehicle_id"], {k: row[k] for k in ("vehicle_id", "crossing", "direction", "flow", "persons")}
            )
            v["arrival"] = when(row["arrival"])
            if row["stage"]:
                v[f"{row['stage']}_{row['side']}_start"] = when(row["start"])
                v[f"{row['stage']}_{row['side']}_end"] = when(row["end"])
    header = ["vehicle_id", "crossing", "direction", "flow", "arrival", "persons"]
    header += ["border_control_a_start", "border_control_a_end", "customs_b_start", "customs_b_end"]
    wide = write_csv(tmp_path / "wide.csv", header, [[v.get(h, "") for h in header] for v in vehicles.values()])
    again = calibrate(wide)
    assert again.observations.layout == "wide"
    assert again.observations.clock == "date-time"
    assert again.observations.first_date == monday.date()
    assert again.arrivals[0].count == cal.arrivals[0].count
    assert again.arrivals[0].hourly == pytest.approx(cal.arrivals[0].hourly)
    assert again.arrivals[0].weekly == pytest.approx(cal.arrivals[0].weekly)
    for key, choice in cal.services.items():
        assert again.services[key].family == choice.family
        for param, value in choice.dist.items():
            if param != "dist":
                # date-times keep microseconds: the times agree to a few microseconds
                assert again.services[key].dist[param] == pytest.approx(value, rel=1e-4)
    assert [s.checked for s in again.shares] == [s.checked for s in cal.shares]


def test_few_and_constant_times():
    from sim.calibration.fitting import fit_times

    constant = fit_times(np.full(40, 1.5), "c", 1)
    assert constant.dist == {"dist": "constant", "value": 1.5}
    few = fit_times(np.array([1.0, 2.0, 2.0, 5.0]), "f", 1)
    assert few.dist == {"dist": "empirical", "values": [1.0, 2.0, 5.0], "weights": [1, 2, 1]}
    rng = np.random.default_rng(3)
    with_zeros = fit_times(np.concatenate([[0.0], rng.exponential(2.0, 300)]), "z", 1)
    assert set(with_zeros.skipped) == {"gamma", "lognormal"}
    assert with_zeros.family == "exponential"


def test_families_recover_their_own_samples():
    """Each family, fitted to a large sample of itself, is chosen and its intervals hold the truth."""
    from sim.calibration.fitting import fit_times

    rng = np.random.default_rng(11)
    s2 = np.log1p(0.6**2)
    cases = {
        "uniform": (rng.uniform(1.0, 3.0, 1500), {"low": 1.0, "high": 3.0}),
        "triangular": (rng.triangular(1.0, 1.5, 4.0, 1500), {"low": 1.0, "mode": 1.5, "high": 4.0}),
        "gamma": (rng.gamma(4.0, 0.5, 1500), {"mean": 2.0, "cv": 0.5}),
        "lognormal": (rng.lognormal(np.log(2.0) - s2 / 2, np.sqrt(s2), 1500), {"mean": 2.0, "cv": 0.6}),
    }
    for family, (x, truth) in cases.items():
        choice = fit_times(x, family, 5)
        assert choice.family == family, choice.why
        for key, value in truth.items():
            assert inside(choice.intervals[key], value), (family, key, choice.intervals[key])


# bad input: exit status 2, the file, row and column named, no traceback


def run_bad(path: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["calibrate", str(path), *args])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return result.stderr


GOOD_ROW = ["1", "x", "a_to_b", "car", "10", "border_control", "a", "11", "13"]
"""A row that reads well; each bad case changes one cell of another vehicle's row."""


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (LONG_HEADER[:8], GOOD_ROW[:8], "obs.csv:1: end: missing column; the long layout needs"),
        (LONG_HEADER[:9], [*GOOD_ROW[:7], "yesterday", "13"], "obs.csv:3: start: expected a number of minutes like"),
        (LONG_HEADER[:9], [*GOOD_ROW[:7], "11", "9.5"], "obs.csv:3: end: is before start (by 1.5 min)"),
        (LONG_HEADER[:9], [*GOOD_ROW[:4], "2023-10-02T08:00", *GOOD_ROW[5:]], "obs.csv:3: arrival: expected a number"),
        (LONG_HEADER[:9], [*GOOD_ROW[:2], "north", *GOOD_ROW[3:]], "obs.csv:3: direction: must be a_to_b or b_to_a"),
        (LONG_HEADER[:9], [*GOOD_ROW[:6], "c", *GOOD_ROW[7:]], "obs.csv:3: side: must be a or b"),
        (LONG_HEADER[:9], [*GOOD_ROW[:7], "8", "9"], "obs.csv:3: start: is before the vehicle's arrival"),
        ([*LONG_HEADER[:9], "colour"], [*GOOD_ROW, "red"], "obs.csv:1: colour: unknown column"),
        (LONG_HEADER[:9], [*GOOD_ROW[:3], "car type", *GOOD_ROW[4:]], "obs.csv:3: flow: 'car type' is not a name"),
    ],
    ids=[
        "missing column",
        "bad timestamp",
        "end before start",
        "mixed clocks",
        "bad direction",
        "bad side",
        "start before arrival",
        "unknown column",
        "bad name",
    ],
)
def test_bad_rows_are_named(tmp_path: Path, header: list[str], row: list[str], expected: str):
    first = GOOD_ROW[: len(header)] if len(row) == len(header) else GOOD_ROW
    path = write_csv(tmp_path / "obs.csv", header, [first, ["2", *row[1:]]])
    message = run_bad(path)
    assert message.startswith("error: ")
    assert expected in message
    with pytest.raises(ScenarioError) as info:
        calibrate(path)
    assert any(expected.split(": ", 2)[-1][:20] in p.message for p in info.value.problems)


def test_a_bad_date_time_among_date_times(tmp_path: Path):
    rows = [[*GOOD_ROW[:4], "2023-10-02T08:00", "border_control", "a", "2023-10-02T08:01", "2023-10-02T08:03"]]
    rows.append(["2", *rows[0][1:7], "2023-10-02T25:01", rows[0][8]])
    rows.append(["3", *rows[0][1:4], "2023-10-02", *rows[0][5:]])
    message = run_bad(write_csv(tmp_path / "obs.csv", LONG_HEADER[:9], rows))
    assert "obs.csv:3: start: expected an ISO 8601 date-time (2023-10-02T08:15:30) or minutes, got" in message
    assert "obs.csv:4: arrival: a date without a time of day" in message


def test_every_problem_is_reported_at_once(tmp_path: Path):
    rows = [GOOD_ROW, [*GOOD_ROW[:7], "11", "9"], [*GOOD_ROW[:4], "xx", *GOOD_ROW[5:]]]
    rows.append(["1", "y", *GOOD_ROW[2:]])  # vehicle 1 again, at another crossing
    message = run_bad(write_csv(tmp_path / "obs.csv", LONG_HEADER[:9], rows))
    assert "obs.csv:3: end:" in message
    assert "obs.csv:4: arrival:" in message
    assert "obs.csv:5: crossing: differs from vehicle '1''s first row (line 2)" in message
    assert "problems found" in message


def test_a_folder_is_not_a_file(tmp_path: Path):
    (tmp_path / "obs.csv").mkdir()
    assert "obs.csv: observations file is a folder, not a file" in run_bad(tmp_path / "obs.csv")


def test_a_missing_file(tmp_path: Path):
    assert "obs.csv: observations file not found" in run_bad(tmp_path / "obs.csv")


def test_an_oversized_file_is_refused_unread(tmp_path: Path):
    path = tmp_path / "obs.csv"
    with path.open("wb") as fh:
        fh.truncate(64 * 2**20 + 1)  # sparse: a byte over the limit costs no disk
    assert "obs.csv: observations file is larger than 64 MiB" in run_bad(path)
    small = write_csv(tmp_path / "small.csv", LONG_HEADER[:9], [GOOD_ROW])
    with pytest.raises(ScenarioError, match="larger than 100 bytes"):
        calibrate(small, limit=100)


def test_a_pipe_is_refused(tmp_path: Path):
    fifo = tmp_path / "obs.csv"
    os.mkfifo(fifo)
    assert "is not a regular file" in run_bad(fifo)


def test_empty_and_header_only_files(tmp_path: Path):
    empty = tmp_path / "obs.csv"
    empty.write_text("\n")
    assert "obs.csv: the file is empty" in run_bad(empty)
    header_only = write_csv(tmp_path / "h.csv", LONG_HEADER, [])
    assert "h.csv: the file has a header but no rows" in run_bad(header_only)


def test_outputs_are_checked_before_reading(tmp_path: Path):
    path = write_csv(tmp_path / "obs.csv", LONG_HEADER[:9], [GOOD_ROW])
    (tmp_path / "afile").write_text("")
    assert "afile is a file, not a folder" in run_bad(path, "--out", str(tmp_path / "afile" / "f.yaml"))
    assert "it is the observations file" in run_bad(path, "--report", str(path))
    assert path.read_text().startswith("vehicle_id")
