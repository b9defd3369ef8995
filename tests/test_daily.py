"""Daily and weekly tables: they add up to the summary, carry dates, and survive a round trip to disk."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments.replicate import Task, replicate
from sim.outputs.results import RunFolder
from tests.conftest import one_crossing, run_dict


def two_way(days: str = "9 d", **extra) -> dict:
    """Cars and trucks both ways through one crossing, busy but stable, with a daily rhythm."""
    data = one_crossing(
        stages={"check": {"per_vehicle": {"dist": "exponential", "mean": "1 min"}}},
        regime={"exit": ["check"]},
        servers_a={"check": 2},
        servers_b={"check": 2},
        demand=[
            {
                "crossing": "x",
                "flow": "truck",
                "direction": "both",
                "daily": 600,
                "hourly": [1] * 8 + [3] * 12 + [1] * 4,
            },
            {"crossing": "x", "flow": "car", "direction": "a_to_b", "daily": 800},
        ],
    )
    data.update(horizon=days, warmup="1 d", replications=2, **extra)
    return data


@pytest.fixture(scope="module")
def dated() -> sim.RunResult:
    return run_dict(two_way(start_date="2023-10-02"), records="none")


def _groups(table: pd.DataFrame) -> pd.DataFrame:
    return table[(table["crossing"] != "ALL") & (table["direction"] != "ALL") & (table["flow"] != "ALL")]


def test_daily_counts_add_up_to_the_summary(dated):
    daily, summary = dated.daily, dated.summary.set_index(["crossing", "direction", "flow"])
    reps = dated.scenario.replications
    days = (dated.scenario.horizon - dated.scenario.warmup) / 1440
    for key, g in daily.groupby(["crossing", "direction", "flow"]):
        # means over 2 replications are halves: their sums are exact
        assert g["arrivals"].sum() * reps == summary.loc[key, "arrivals"]
        assert g["released"].sum() / days == pytest.approx(summary.loc[key, "throughput_per_day"], rel=1e-12)
    assert sorted(daily["day"].unique()) == list(range(1, 9))


def test_one_replications_days_add_up_exactly():
    scenario = sim.scenario_from_dict(two_way(days="4 d"))
    out = replicate(Task(scenario, 1))
    mine = out.kpis.set_index(["crossing", "direction", "flow"])
    totals = out.daily
    for g, key in enumerate(sim.experiments.replicate.model_of(scenario).groups):
        assert totals.arrivals[g].sum() == mine.loc[key, "arrivals"]
        inside_at_end = totals.inside[g, -1]
        # those still inside at the horizon: the window's unfinished plus any warm-up arrival left
        assert inside_at_end >= mine.loc[key, "in_system_at_end"]
    assert np.all(totals.inside >= 0)
    assert np.all(totals.queue >= 0)


def test_the_backlog_at_the_last_day_end_is_the_overload_tables(dated):
    last = dated.daily[dated.daily["day"] == dated.daily["day"].max()].set_index(["crossing", "direction", "flow"])
    over = dated.overload.set_index(["crossing", "direction", "flow"])
    assert np.allclose(last["backlog_end"], over.loc[last.index, "backlog_end"])


def test_daily_and_weekly_carry_dates_with_a_start_date(dated, tmp_path):
    out = dated.write(tmp_path / "run", report=False)
    daily = pd.read_csv(out / "daily.csv")
    assert "date" in daily.columns
    first = daily[daily["day"] == 1]["date"].unique()
    assert list(first) == [(datetime.date(2023, 10, 2) + datetime.timedelta(days=1)).isoformat()]
    weekly = pd.read_csv(out / "weekly.csv")
    # days 1-8 from Monday 2 October 2023: the rest of ISO week 40, and two days of week 41
    assert list(weekly["week"].unique()) == ["2023-W40", "2023-W41"]
    week = weekly[(weekly["crossing"] == "ALL") & (weekly["direction"] == "ALL") & (weekly["flow"] == "ALL")]
    week = week.set_index("week")
    assert week.loc["2023-W40", "days"] == 6
    assert week.loc["2023-W41", "first_date"] == "2023-10-09"
    day = daily[(daily["crossing"] == "ALL") & (daily["direction"] == "ALL") & (daily["flow"] == "ALL")]
    assert week["arrivals"].sum() == pytest.approx(day["arrivals"].sum())
    folder = RunFolder.read(out)
    assert folder.daily is not None
    assert folder.weekly is not None
    assert folder.overload is not None
    assert len(folder.daily) == len(daily)


def test_without_a_start_date_days_and_weeks_count_from_the_start(tmp_path):
    result = run_dict(two_way(days="10 d"), records="none")
    assert "date" not in result.daily.columns
    assert "first_date" not in result.weekly.columns
    assert list(result.weekly["week"].unique()) == ["0", "1"]
    assert result.weekly.groupby("week")["days"].first().to_dict() == {"0": 6, "1": 3}
    # the day's waits are those of the travellers released that day
    rows = _groups(result.daily)
    assert (rows["wait_p95_min"] >= rows["wait_mean_min"] * 0.5).all()
    # a folder written before these files existed still loads
    out = result.write(tmp_path / "run", report=False)
    for name in ("daily.csv", "weekly.csv", "overload.csv"):
        (out / name).unlink()
    folder = RunFolder.read(out)
    assert folder.daily is None
    assert folder.weekly is None
    assert folder.overload is None


def test_split_runs_give_identical_daily_tables():
    data = two_way(days="4 d", start_date="2023-10-02")
    data["crossings"].append({**data["crossings"][0], "id": "y"})
    data["demand"] += [{**d, "crossing": "y"} for d in data["demand"]]
    whole = run_dict(data, records="none")
    split = run_dict(data, records="none", pieces=2)
    for name in ("daily", "weekly", "overload"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(split, name), check_exact=True)
    # the per-crossing rows have a percentile of their own day; the border-wide ones none
    day = whole.daily
    assert day[(day["crossing"] == "y") & (day["direction"] == "ALL")]["wait_p95_min"].notna().all()
    assert day[day["crossing"] == "ALL"]["wait_p95_min"].isna().all()
