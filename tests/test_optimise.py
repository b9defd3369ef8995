"""``optimise`` against answers known from theory, its plan run back through the loader, its refusals.

The known answer: one stage, Poisson arrivals at 0.5 a minute, exponential service of 9 min
(offered load 4.5). Erlang C gives a mean wait of 13.7 min with 5 servers and 2.5 min with 6,
and a 95th percentile wait of 49 min with 5 and 12.8 min with 6; targets of 6 min (mean) and
25 min (95th percentile) lie about halfway on a log scale, so that 6 servers meet them and 5
fail by a wide margin: the search must end at 6 whether it starts above, below or at theory.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import sim
from sim.analysis.staffing_theory import (
    METRICS,
    StageBudget,
    Target,
    TheoryError,
    fewest_servers,
    pool_needs,
    stage_budget,
    wait_tail,
)
from sim.analysis.theory import mmc_wait
from sim.cli import main
from sim.cli.optimise import METRICS as CLI_METRICS
from sim.experiments import staffing_files
from sim.experiments.optimise import Optimisation, optimise, prepare
from sim.experiments.staffing_evaluation import POOL_KEYS, Evaluation, RowResult, waiting_by_hour
from sim.experiments.staffing_plan import PlanError, ScenarioPool, with_plan
from sim.experiments.staffing_search import BUDGET, LOCAL_MINIMUM, CrossingSearch, best_hour, search
from sim.model.compile import compile_model
from sim.outputs.files import ResultsFolder, is_results_folder
from tests.conftest import one_crossing


def mmc_scenario(servers: int, days: float = 5, replications: int = 4) -> dict[str, Any]:
    """The known-answer case: M/M/c with offered load 4.5 at one exit stage."""
    data = one_crossing(
        stages={"check": {"per_vehicle": {"dist": "exponential", "mean": 9.0}}},
        regime={"exit": ["check"]},
        servers_a={"check": {"truck": servers}},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 720}],
    )
    data.update(horizon=f"{days} d", warmup="1 d", replications=replications, seed=11)
    return data


def solve(data: dict[str, Any], metric: str, limit: float, start: str) -> Optimisation:
    problem = prepare(sim.scenario_from_dict(copy.deepcopy(data)), "truck", Target(metric, limit, 0.95))
    return optimise(problem, start=start, max_runs=50)


CHECK = ScenarioPool("x", "a", "check", "truck")


# --- theory --------------------------------------------------------------------------------------------


def test_erlang_c_by_hand():
    # M/M/4 at offered load 3: Erlang B = (81/24) / (1 + 3 + 4.5 + 4.5 + 3.375) = 0.20611,
    # C = B / (1 - rho + rho B) = 0.50943 with rho = 0.75; mean service 2 min, so
    # E[Wq] = C x 2 / (4 - 3) = 1.01887 and P(Wq > 1) = C exp(-(4 - 3) x 1 / 2) = 0.30898
    assert mmc_wait(1.5, 2.0, 4) == pytest.approx(1.01887, abs=1e-5)
    assert wait_tail(1.5, 2.0, 4, 1.0) == pytest.approx(0.30898, abs=1e-5)
    assert wait_tail(1.5, 2.0, 3, 1.0) == 1.0  # unstable: everyone waits long
    # the smallest c with E[Wq] <= 1 min: 4 servers give 1.019 (too many), 5 give 0.236
    assert fewest_servers(1.5, 2.0, 1.0, StageBudget(mean=1.0)) == 5
    # a traveller checked one time in four waits a quarter as much on average: 4 servers do
    assert fewest_servers(1.5, 2.0, 0.25, StageBudget(mean=1.0)) == 4
    assert fewest_servers(0.0, 2.0, 1.0, StageBudget(mean=1.0)) == 0


def test_the_target_is_split_over_the_stages():
    p95 = stage_budget(Target("wait_p95_min", 20.0), stages=2)
    assert (p95.time, p95.probability) == (10.0, pytest.approx(0.025))
    mean = stage_budget(Target("wait_mean_min", 9.0), stages=3)
    assert mean.mean == 3.0
    # time in system: what the service leaves of the target, split over the stages
    tis = stage_budget(Target("time_in_system_mean_min", 10.0), stages=2, route_service=4.0)
    assert tis.mean == 3.0
    with pytest.raises(TheoryError, match="service alone"):
        stage_budget(Target("time_in_system_mean_min", 3.0), stages=1, route_service=4.0)


def sipp_scenario(truck_servers: Any) -> dict[str, Any]:
    """Half the day at 0.5 arrivals a minute, half at 1.5; exponential service of 2 min."""
    data = one_crossing(
        stages={"check": {"per_vehicle": {"dist": "exponential", "mean": 2.0}}},
        regime={"exit": ["check"]},
        servers_a={"check": {"truck": truck_servers}},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 1440, "hourly": "halves"}],
    )
    data["profiles"] = {"hourly": {"halves": [1] * 12 + [3] * 12}}
    data.update(horizon="3 d", warmup="1 d", replications=2)
    return data


def test_sipp_hour_by_hour_against_hand_computed_values():
    # profile weights 1 and 3 have mean 2: 1440 a day is 0.5 a minute in hours 0-11, 1.5 in 12-23.
    # Mean wait <= 1 min: at load 1, 2 servers give 1/3 x 2 / 1 = 0.667 min (1 server is unstable);
    # at load 3, 4 servers give 1.019 min (too long) and 5 give 0.236 min.
    model = compile_model(sim.scenario_from_dict(sipp_scenario(3)))
    (need,) = pool_needs(model, "truck", ["x"], Target("wait_mean_min", 1.0))
    assert need.arrivals == pytest.approx([0.5] * 12 + [1.5] * 12)
    assert need.mean_service == pytest.approx([2.0] * 24)
    assert need.servers.tolist() == [2] * 12 + [5] * 12
    # one count for the day where the scenario gives one; a shift plan where it has shifts
    shifts = prepare(sim.scenario_from_dict(sipp_scenario([3] * 24)), "truck", Target("wait_mean_min", 1.0))
    assert shifts.theory[CHECK] == (2,) * 12 + (5,) * 12
    single = prepare(sim.scenario_from_dict(sipp_scenario(3)), "truck", Target("wait_mean_min", 1.0))
    assert single.theory[CHECK] == (5,) * 24
    by_hour = prepare(sim.scenario_from_dict(sipp_scenario(3)), "truck", Target("wait_mean_min", 1.0), by_hour=True)
    assert by_hour.theory == shifts.theory


def test_the_command_knows_the_metrics_theory_knows():
    assert set(CLI_METRICS) == set(METRICS)


# --- the known answer, found by simulation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "limit", "start", "servers"),
    [
        ("wait_mean_min", 6.0, "scenario", 3),  # overloaded at first: servers are added
        ("wait_p95_min", 25.0, "scenario", 8),  # too many at first: servers are removed
        pytest.param("wait_mean_min", 6.0, "theory", 9, marks=pytest.mark.slow),
        pytest.param("wait_mean_min", 6.0, "scenario", 9, marks=pytest.mark.slow),
        pytest.param("wait_p95_min", 25.0, "theory", 3, marks=pytest.mark.slow),
    ],
)
def test_the_search_finds_the_erlang_c_answer(metric: str, limit: float, start: str, servers: int):
    result = solve(mmc_scenario(servers), metric, limit, start)
    assert result.problem.theory[CHECK] == (6,) * 24
    (outcome,) = result.outcomes.values()
    assert outcome.plan[CHECK] == (6,) * 24
    assert outcome.status == LOCAL_MINIMUM
    assert outcome.met
    # 6 servers hold; 5 were tried and failed by a wide margin
    (row,) = outcome.evaluation.rows
    assert row.high < 0.8 * limit
    fewer = [t for t in result.trials if t.plan[CHECK] == (5,) * 24]
    assert fewer
    assert all(t.evaluation.rows[0].mean > 1.5 * limit for t in fewer)


# --- the search's logic, on a stand-in for the simulation ---------------------------------------------------------


class RuleEvaluator:
    """Holds when every pool has at least its ``need``; a pool short of it has a line of the shortfall."""

    def __init__(self, staff: Any, need: dict[ScenarioPool, int], pools: dict[ScenarioPool, int]) -> None:
        self.need, self.pools, self.staff = need, pools, staff
        self.runs, self.seen = 0, set()

    def known(self, crossing: str, plan: dict) -> bool:
        return (crossing, tuple(sorted(plan.items()))) in self.seen

    def evaluate(self, plans: dict, on_run: Any = None, hours: bool = True) -> dict[str, Evaluation]:
        if any(not self.known(c, p) for c, p in plans.items()):
            self.runs += 1
        out = {}
        for crossing, plan in plans.items():
            self.seen.add((crossing, tuple(sorted(plan.items()))))
            short = {k: max(0, self.need[k] - min(plan[k])) for k in plan}
            ok = not any(short.values())
            row = RowResult(crossing, "a_to_b", (1.0, 1.0), 1.0, 1.0, 1.0 if ok else 9.0, "stable", 2.0)
            queue = {self.pools[k]: float(v) for k, v in short.items()}
            out[crossing] = Evaluation(crossing, (row,), queue, {}, {}, self.runs)
        return out


def two_pool_staff() -> Any:
    data = one_crossing(
        stages={"s1": {"per_vehicle": 1.0}, "s2": {"per_vehicle": 1.0}},
        regime={"exit": ["s1"], "entry": ["s2"]},
        servers_a={"s1": 5},
        servers_b={"s2": 5},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 100}],
    )
    return prepare(sim.scenario_from_dict(data), "truck", Target("wait_mean_min", 2.0), replications=2).staff


def test_trimming_stops_at_a_local_minimum_checked_at_the_final_plan():
    staff = two_pool_staff()
    s1, s2 = sorted(staff.pools)
    pools = {k: staff.pools[k].model_pools[0] for k in (s1, s2)}
    evaluator = RuleEvaluator(staff, {s1: 3, s2: 2}, pools)
    start = {s1: (5,) * 24, s2: (5,) * 24}
    outcomes, trials = search(evaluator, [CrossingSearch("x", staff, start, "start")], 100)  # type: ignore[arg-type]
    assert outcomes["x"].plan == {s1: (3,) * 24, s2: (2,) * 24}
    assert outcomes["x"].status == LOCAL_MINIMUM
    # s1 was refused at a larger plan (s2 still at 3); before stopping, that removal was tried
    # again at the final plan itself, and refused there too
    refused = [t.plan for t in trials if t.phase == "trim" and not t.accepted]
    assert refused == [
        {s1: (2,) * 24, s2: (3,) * 24},
        {s1: (3,) * 24, s2: (1,) * 24},
        {s1: (2,) * 24, s2: (2,) * 24},
    ]
    assert trials[-1].plan == {s1: (2,) * 24, s2: (2,) * 24}


def test_additions_go_where_the_line_is_longest_and_a_bound_stops_the_search():
    staff = two_pool_staff()
    s1, s2 = sorted(staff.pools)
    pools = {k: staff.pools[k].model_pools[0] for k in (s1, s2)}
    evaluator = RuleEvaluator(staff, {s1: 4, s2: 7}, pools)
    start = {s1: (1,) * 24, s2: (1,) * 24}
    outcomes, trials = search(evaluator, [CrossingSearch("x", staff, start, "start")], 100)  # type: ignore[arg-type]
    added = [t.change for t in trials if t.phase == "add"]
    # s2 is 6 short and s1 3: s2 gets servers until its line is as long as s1's, then they alternate
    assert added[:3] == ["one more: side b s2 (every flow)"] * 3
    assert outcomes["x"].plan == {s1: (4,) * 24, s2: (7,) * 24}
    assert outcomes["x"].met
    bounded = RuleEvaluator(staff, {s1: 4, s2: 7}, pools)
    outcomes, _ = search(bounded, [CrossingSearch("x", staff, start, "start")], 3)  # type: ignore[arg-type]
    assert bounded.runs == 3
    assert not outcomes["x"].met
    assert BUDGET in outcomes["x"].status


def test_the_hour_chosen_takes_the_most_off_the_line():
    # a line building from 1 at noon to 12 at 23:00: a server at hour 12 + k takes at most the
    # line at 12 + k off each of the 12 - k hours left: (k + 1)(12 - k), largest at k = 5 (17:00)
    line = np.array([0.0] * 12 + [float(k) for k in range(1, 13)])
    assert best_hour(line) == 17
    # a line that runs past midnight is followed into the next day
    night = np.zeros(24)
    night[[22, 23, 0, 1, 2]] = 4.0
    night[12] = 6.0
    assert best_hour(night) == 22


def test_the_line_by_hour_of_the_day_from_visits():
    # two replications over [0, 120) min; in the first, one visit waits from 0 to 90 and one from
    # 100 and never starts; in the second nobody waits. Hour 0: (60 + 0) / 2 = 0.5 waiting on average;
    # hour 1: (30 + 20) minutes of waiting over 60 minutes and 2 replications = 50 / 120
    key = ("x", "a_to_b", "a", "exit", "check", "truck", False)
    visits = pd.DataFrame(
        {
            **{k: [v] * 3 for k, v in zip(POOL_KEYS, key, strict=True)},
            "replication": [0, 0, 1],
            "enter_min": [0.0, 100.0, 10.0],
            "start_min": [90.0, np.nan, 10.0],
        }
    )
    line = waiting_by_hour(visits, {key: 7}, 0.0, 120.0)
    assert line[7][:2] == pytest.approx([0.5, 50 / 120])
    assert not line[7][2:].any()


def test_a_shift_plan_gets_its_server_at_the_hour_chosen():
    data = sipp_scenario([1] * 24)
    staff = prepare(sim.scenario_from_dict(data), "truck", Target("wait_mean_min", 1.0)).staff
    (key,) = staff.pools
    (pool,) = staff.pools[key].model_pools
    search_ = CrossingSearch("x", staff, {key: (1,) * 24}, "start")
    search_.propose()
    by_hour = np.zeros(24)
    by_hour[15] = 3.0
    failing = RowResult("x", "a_to_b", (5.0, 5.0), 5.0, 5.0, 5.0, "stable", 1.0)
    search_.observe(Evaluation("x", (failing,), {pool: 1.0}, {pool: 0.9}, {pool: by_hour}, 1))
    plan = search_.propose()
    assert plan is not None
    assert plan[key] == tuple(2 if h == 15 else 1 for h in range(24))


# --- the written plan -----------------------------------------------------------------------------------------------


def two_crossings() -> dict[str, Any]:
    """Crossings x and y; trucks with their own exit pool (a shift plan at x), entry shared with cars."""
    data = one_crossing(
        stages={"check": {"per_vehicle": {"dist": "exponential", "mean": 6.0}}},
        regime={"exit": ["check"], "entry": ["check"]},
        servers_a={"check": {"truck": [3] * 24, "default": 2}},
        servers_b={"check": 4},
        demand=[
            {"crossing": "x", "flow": "truck", "direction": "both", "daily": 300, "hourly": "day"},
            {"crossing": "x", "flow": "car", "direction": "a_to_b", "daily": 200},
            {"crossing": "y", "flow": "truck", "direction": "a_to_b", "daily": 200},
        ],
    )
    data["crossings"].append(copy.deepcopy({**data["crossings"][0], "id": "y"}))
    data["profiles"] = {"hourly": {"day": [1] * 8 + [2] * 12 + [1] * 4}}
    data.update(horizon="3 d", warmup="1 d", replications=3, seed=5)
    return data


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Optimisation, Path]:
    folder = tmp_path_factory.mktemp("plan")
    scenario_file = folder / "two.yaml"
    scenario_file.write_text(json.dumps(two_crossings()))  # JSON is YAML
    problem = prepare(sim.load_scenario(scenario_file), "truck", Target("wait_mean_min", 8.0), ["x"])
    result = optimise(problem, max_runs=3)
    with ResultsFolder(folder / "out") as out:
        place = staffing_files.write(result, out, scenario_file)
    return result, place


def test_the_plan_runs_through_the_loader_and_gives_the_same_rows(written: tuple[Optimisation, Path]):
    result, folder = written
    plan = sim.load_scenario(folder / "plan.yaml")
    s = result.problem.scenario
    run = sim.run(plan, replications=s.replications, days=s.horizon / 1440, seed=s.seed, records="none")
    reps = run.replications
    (outcome,) = result.outcomes.values()
    assert {r.direction for r in outcome.evaluation.rows} == {"a_to_b", "b_to_a"}
    for row in outcome.evaluation.rows:
        mine = reps[(reps["crossing"] == "x") & (reps["flow"] == "truck") & (reps["direction"] == row.direction)]
        assert np.array_equal(mine.sort_values("replication")["wait_mean_min"].to_numpy(), np.asarray(row.values))
    # the servers in the plan are the ones written, in the scenario's own forms
    a, b = (plan.crossings[0].sides[side].servers["check"] for side in ("a", "b"))
    assert a == {"truck": list(result.plan[ScenarioPool("x", "a", "check", "truck")]), "default": 2}
    assert b == result.plan[ScenarioPool("x", "b", "check", "all")][0]
    assert plan.crossings[1].sides["a"].servers["check"] == {"truck": [3] * 24, "default": 2}  # y untouched
    assert with_plan(s, result.problem.staff, result.plan).crossings == plan.crossings


def test_the_files_say_what_holds(written: tuple[Optimisation, Path]):
    result, folder = written
    assert is_results_folder(folder)
    target = (folder / "target.csv").read_text().splitlines()
    assert len(target) == 3  # a header and x's two directions
    text = (folder / "plan.yaml").read_text()
    assert "mean wait is at most 8 min with 95% confidence" in text
    assert "--replications 3 --days 3 --seed 5" in text
    (outcome,) = result.outcomes.values()
    assert outcome.status == BUDGET  # 3 runs of the search were not enough to reach a local minimum
    assert outcome.met
    assert all(line.endswith(BUDGET) for line in target[1:])
    plan_rows = (folder / "plan.csv").read_text().splitlines()
    assert len(plan_rows) == 1 + 24 * len(result.problem.staff.pools)
    search_rows = (folder / "search.csv").read_text().splitlines()
    assert len(search_rows) == 1 + 2 * len(result.trials)
    report = (folder / "report.html").read_text()
    assert "mean wait is at most 8 min with 95% confidence" in report
    assert report.count("<table") == 2


# --- the command ------------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    data = mmc_scenario(7)
    data["crossings"][0]["sides"]["a"]["servers"]["check"]["default"] = 1  # cars, which the corridor brings
    data["crossings"].append({**copy.deepcopy(data["crossings"][0]), "id": "z"})
    data["corridors"] = [
        {
            "id": "c",
            "flow": "car",
            "direction": "a_to_b",
            "daily": 10,
            "crossings": {"z": {"drive_to": "1 h", "drive_on": "1 h"}},
        }
    ]
    path.write_text(json.dumps(data))
    return path


def test_the_command_writes_the_plan(tiny: Path, tmp_path: Path):
    out = tmp_path / "out"
    args = ["optimise", str(tiny), "--flow", "truck", "--metric", "wait_mean_min", "--max", "6", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--crossing", "x", "-q"])
    assert result.exit_code == 0, result.output
    assert "x: local minimum" in result.output
    assert "holds" in result.output
    assert sim.load_scenario(out / "plan.yaml").crossings[0].sides["a"].servers["check"] == {"truck": 6, "default": 1}
    again = CliRunner().invoke(main, [*args, "--crossing", "x", "-q"])
    assert again.exit_code == 2
    assert "exists" in again.output


def test_a_target_not_met_exits_with_status_3(tiny: Path, tmp_path: Path):
    args = ["optimise", str(tiny), "--flow", "truck", "--metric", "wait_mean_min", "--max", "6", "--crossing", "x"]
    short = ["--start", "scenario", "--max-evaluations", "1", "--out", str(tmp_path / "out"), "-q"]
    data = json.loads(tiny.read_text())
    data["crossings"][0]["sides"]["a"]["servers"]["check"]["truck"] = 3  # overloaded: one run adds only one
    tiny.write_text(json.dumps(data))
    result = CliRunner().invoke(main, [*args, *short])
    assert result.exit_code == 3, result.output
    assert "target not met" in result.output
    assert (tmp_path / "out" / "plan.yaml").exists()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--flow", "lorry", "--max", "5"], "--flow"),
        (["--flow", "truck", "--max", "5", "--crossing", "nowhere"], "unknown crossing 'nowhere'"),
        (["--flow", "car", "--max", "5", "--crossing", "x"], "has no demand for 'car'"),
        (["--flow", "truck", "--max", "5", "--crossing", "z"], "corridors (route choice)"),
        (["--flow", "truck", "--max", "0"], "--max"),
        (["--flow", "truck", "--max", "-3"], "--max"),
        (["--flow", "truck", "--max", "5", "--confidence", "0.5"], "--confidence"),
        (["--flow", "truck", "--max", "5", "--confidence", "1"], "--confidence"),
        (["--flow", "truck", "--max", "5", "--metric", "wait_max_min"], "--metric"),
        (["--flow", "truck", "--max", "5", "--replications", "1"], "--replications"),
        (["--flow", "truck", "--max", "5", "--metric", "time_in_system_mean_min"], "service alone"),
    ],
)
def test_bad_requests_are_refused_with_the_option_named(tiny: Path, tmp_path: Path, extra: list[str], expected: str):
    result = CliRunner().invoke(main, ["optimise", str(tiny), *extra, "--out", str(tmp_path / "never")])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "never").exists()


def test_a_bad_target_is_refused_by_the_library_too():
    data = mmc_scenario(6)
    with pytest.raises(PlanError) as err:
        prepare(sim.scenario_from_dict(data), "truck", Target("wait_mean_min", 5.0, confidence=1.0))
    assert err.value.option == "--confidence"


def test_a_scenario_whose_own_servers_run_away_is_still_planned(tmp_path: Path):
    """One server for a load of 4.5 fills the crossing past limits.max_in_system: the case a plan is wanted for."""
    data = mmc_scenario(1, days=3, replications=2)
    data["limits"] = {"max_in_system": 300}
    path = tmp_path / "overloaded.yaml"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    args = ["optimise", str(path), "--flow", "truck", "--metric", "wait_mean_min", "--max", "6", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "not evaluated: the scenario's own servers: more than 300 travellers inside at once" in result.output
    target = pd.read_csv(out / "target.csv")
    assert target["holds"].all()
    assert target["scenario_mean"].isna().all()
    assert not target["scenario_holds"].any()
    manifest = json.loads((out / "manifest.json").read_text())["optimise"]
    assert manifest["scenario_not_evaluated"].startswith("the scenario's own servers: more than 300")
    assert pd.read_csv(out / "plan.csv")["servers"].min() >= 6
