"""Honest numbers under overload: growing queues are found, measured against theory, and said first."""

from __future__ import annotations

import copy
import html
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

import sim
from sim.analysis.overload import CAPPED, OVERLOADED, STABLE
from sim.cli import main
from sim.experiments.run import compare
from sim.outputs.report import build_report
from tests.conftest import one_crossing, run_dict, without_scripts

ARRIVALS_PER_DAY = 1440  # one a minute


def single(service: str, days: str = "7 d", **extra) -> dict:
    """One booth, a constant service time, Poisson arrivals at one a minute, one direction."""
    data = one_crossing(
        stages={"check": {"per_vehicle": service}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": ARRIVALS_PER_DAY}],
    )
    data.update(horizon=days, warmup="1 d", replications=3, **extra)
    return data


def row(table: pd.DataFrame, crossing: str = "x", direction: str = "a_to_b", flow: str = "truck") -> pd.Series:
    hit = table[(table["crossing"] == crossing) & (table["direction"] == direction) & (table["flow"] == flow)]
    assert len(hit) == 1
    return hit.iloc[0]


@pytest.fixture(scope="module")
def overloaded() -> sim.RunResult:
    # 2 minutes a truck: the booth serves 720 a day while 1,440 arrive
    return run_dict(single("2 min"), records="none")


def test_an_overloaded_queue_is_flagged_and_grows_as_theory_says(overloaded):
    r = row(overloaded.overload)
    assert r["verdict"] == OVERLOADED
    # lambda - mu = 1440 - 720 a day; the interval over replications covers it
    assert abs(r["growth_per_day"] - (ARRIVALS_PER_DAY - 720)) <= r["growth_per_day_ci95"]
    assert r["growth_per_day_ci95"] < 0.2 * 720
    assert r["backlog_end"] > 6 * 600
    # the travellers still queueing waited longer than those who got through
    assert r["wait_mean_lb_min"] > 1.5 * r["wait_mean_min"]
    assert r["wait_p95_lb_min"] > r["wait_p95_min"]
    assert r["wait_mean_min"] == pytest.approx(row(overloaded.summary)["wait_mean_min"])
    total = row(overloaded.overload, "ALL", "ALL", "ALL")
    assert total["verdict"] == OVERLOADED
    assert total["note"] == "1 of 1 rows overloaded"


def test_a_stable_queue_is_not_flagged():
    result = run_dict(single("30 s"), records="none")
    assert (result.overload["verdict"] == STABLE).all()
    r = row(result.overload)
    assert abs(r["growth_per_day"]) < 5
    # with nobody left waiting long, the lower bound is the finished travellers' wait
    assert r["wait_mean_lb_min"] == pytest.approx(r["wait_mean_min"], abs=0.05)


def zoned(zone: int = 2) -> dict:
    """A fast exit side, a slow entry side, and a neutral zone of ``zone`` places between them."""
    data = one_crossing(
        stages={"fast": {"per_vehicle": "30 s"}, "slow": {"per_vehicle": "2 min"}},
        regime={"exit": ["fast"], "entry": ["slow"]},
        servers_a={"fast": 1},
        servers_b={"slow": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": ARRIVALS_PER_DAY}],
        neutral_zone=zone,
    )
    data.update(horizon="5 d", warmup="1 d", replications=2)
    return data


def test_a_full_neutral_zone_shows_as_capped_upstream():
    result = run_dict(zoned(), records="none")
    stages = result.stages.set_index("side")
    # the entry side's line is held to the zone's size and the exit side's load is 0.5:
    # by the stages alone, no pool is overloaded
    assert stages.loc["b", "queue_max"] <= 2
    assert not result.stages["overloaded"].any()
    r = row(result.overload)
    assert r["verdict"] == CAPPED
    assert r["blocked_share"] > 0.5
    assert "neutral zone full" in r["note"]
    assert "side a fast" in r["note"]  # where the queue grows
    assert "side b slow" in r["note"]  # the bottleneck past the zone
    assert r["growth_per_day"] == pytest.approx(720, rel=0.1)
    assert row(result.overload, "ALL", "ALL", "ALL")["verdict"] == CAPPED


def test_the_report_says_the_verdict_first_and_escapes_names(overloaded, tmp_path):
    out = overloaded.write(tmp_path / "run")
    page = (out / "report.html").read_text()
    body = page[page.index("<body><h1>") :]  # the page's body (the chart library's code mentions "<body>")
    assert body.index('id="verdict"') < body.index("<h2>")
    assert body.startswith("<body><h1>")
    assert body.index("</h1>") + len("</h1>") == body.index('<div id="verdict"')
    assert "Overloaded:</strong> 1 queue grows without bound — worst: crossing x, A → B, truck" in page
    assert "lower bound" in page
    assert 'id="overloaded"' in page  # the table of overloaded rows
    assert (out / "charts" / "daily_backlog.png").exists()
    # a folder edited by hand: names in it never become markup
    hostile = "<script>window.__pwned=1</script>"
    table = pd.read_csv(out / "overload.csv", keep_default_na=False)
    table.loc[table["crossing"] == "x", "crossing"] = hostile
    table.loc[table["flow"] == "truck", "note"] = f'"><img src=x onerror="{hostile}">'
    table.to_csv(out / "overload.csv", index=False)
    build_report(out)
    page = (out / "report.html").read_text()
    assert hostile not in page
    # outside the bundled chart libraries (whose code sets onerror handlers of its own)
    markup = without_scripts(page)
    assert "onerror=" not in markup.replace(html.escape('onerror="', quote=True), "")
    assert html.escape(hostile) in page


def test_a_stable_report_says_so(tmp_path):
    out = run_dict(single("30 s", days="3 d"), records="none").write(tmp_path / "run")
    page = (out / "report.html").read_text()
    assert "<strong>Stable:</strong> every queue cleared" in page


def _yaml(path: Path, data: dict) -> Path:
    yaml = YAML()
    with path.open("w") as f:
        yaml.dump(data, f)
    return path


def test_compare_warns_and_marks_the_overloaded_rows(tmp_path):
    stable, busy = single("30 s", days="3 d"), single("2 min", days="3 d")
    stable["name"], busy["name"] = "fast_booth", "slow_booth"
    result = compare(sim.scenario_from_dict(stable), [sim.scenario_from_dict(busy)], replications=2, records="none")
    marked = result.comparison[
        (result.comparison["crossing"] == "x") & (result.comparison["metric"] == "wait_mean_min")
    ]
    assert marked["overloaded"].all()
    assert (marked["overloaded_in"] == "scenario").all()
    out = result.write(tmp_path / "cmp")
    page = (out / "report.html").read_text()
    body = page[page.index("<body><h1>") :]  # the page's body (the chart library's code mentions "<body>")
    assert body.index('id="verdict"') < body.index("<h2>")
    assert "1 of 2 scenarios has a queue that grows without bound" in page

    files = [_yaml(tmp_path / "fast.yaml", stable), _yaml(tmp_path / "slow.yaml", busy)]
    args = ["compare", *map(str, files), "-r", "2", "--records", "none", "--no-report", "--quiet"]
    run = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "cli")])
    assert run.exit_code == 0, run.output
    lines = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1
    assert lines[0].startswith("warning: slow_booth: overloaded: 1 queue grows without bound — worst: crossing x")


def test_run_warns_in_one_line(tmp_path):
    path = _yaml(tmp_path / "slow.yaml", {**single("2 min", days="3 d"), "name": "slow_booth"})
    run = CliRunner().invoke(
        main, ["run", str(path), "--records", "none", "--no-report", "--quiet", "--out", str(tmp_path / "o")]
    )
    assert run.exit_code == 0, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "growing" in lines[0]
    assert "understate" in lines[0]


def test_sweep_marks_the_overloaded_points(tmp_path):
    base = _yaml(tmp_path / "base.yaml", {**single("30 s", days="3 d"), "name": "booth"})
    sweep = _yaml(
        tmp_path / "sweep.yaml",
        {
            "name": "booth_speed",
            "base": "base.yaml",
            "replications": 1,
            "factors": {"stages.check.per_vehicle": ["30 s", "2 min"]},
        },
    )
    assert base.exists()
    run = CliRunner().invoke(main, ["sweep", str(sweep), "--quiet", "--out", str(tmp_path / "sw")])
    assert run.exit_code == 0, run.output
    table = pd.read_parquet(tmp_path / "sw" / "sweep.parquet")
    flags = table[(table["crossing"] == "x") & (table["flow"] == "truck")].groupby("point")["overloaded"].all()
    assert flags.to_dict() == {0: False, 1: True}
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "design point 1 (stages.check.per_vehicle=2 min)" in warnings[0]


def test_split_runs_give_identical_overload_tables():
    data = copy.deepcopy(zoned())
    data["crossings"].append({**copy.deepcopy(data["crossings"][0]), "id": "y"})
    data["demand"].append({**data["demand"][0], "crossing": "y", "daily": 400})
    whole = run_dict(data, records="none")
    split = run_dict(data, records="none", pieces=2)
    assert split.manifest["pieces"] == 2
    for name in ("overload", "daily", "weekly"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(split, name), check_exact=True)


def test_the_verdict_never_calls_a_weaker_bound_an_understatement():
    from sim.analysis.overload import verdict_sentence

    row = {
        "crossing": "x",
        "direction": "a_to_b",
        "flow": "truck",
        "verdict": OVERLOADED,
        "backlog_end": 336.0,
        "growth_per_day": 44.2,
        "unfinished": 336.0,
        "wait_mean_min": 2473.2,
        "wait_p95_min": 5000.0,
        "wait_p95_lb_min": 4022.2,
    }
    _, weak = verdict_sentence(pd.DataFrame([{**row, "wait_mean_lb_min": 2319.5}]))
    assert "understate" not in weak
    assert "leave out the 336 still inside" in weak
    assert "at least 2,319.5 min" in weak
    _, strong = verdict_sentence(pd.DataFrame([{**row, "wait_mean_lb_min": 3950.4}]))
    assert "understate the wait" in strong
    assert "at least 3,950.4 min" in strong
