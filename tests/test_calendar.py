"""Calendar time and episodes: exact properties of seasons, growth, holidays and dated episodes.

Each property is one the compiled model or a paired run must show exactly: the expected
arrivals scale by the factors, an episode changes the travellers inside its window and no
one else (their own uniforms give the same quantiles, scaled), staffing changes follow the
window, and errors name the field at fault, also in an episode file.
"""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import numpy as np
import pytest

import sim
from sim.model.calendar import demand_factors, holiday_days, seasonal_by_day
from sim.model.compile import compile_model
from sim.model.episodes import CapacityWindow, overlay
from sim.scenario.calendar import Episode, Holiday, Seasonal, moment_minutes
from sim.scenario.errors import ScenarioError
from tests.conftest import one_crossing

DAY = 1440.0


def _base(**top: Any) -> dict[str, Any]:
    """One crossing, trucks a->b through border control at a, customs (select 0) at b."""
    data = one_crossing(
        stages={
            "border_control": {"per_vehicle": {"dist": "exponential", "mean": "2 min"}},
            "customs": {
                "per_vehicle": {"dist": "lognormal", "mean": "20 min", "cv": 0.5},
                "select": 0.0,
                "secondary": {"share": 0.0, "time": "2 h"},
            },
        },
        regime={
            "exit": ["border_control"],
            "entry": ["border_control"],
            "flows": {"truck": {"exit": ["border_control"], "entry": ["border_control", "customs"]}},
        },
        servers_a={"border_control": 2},
        servers_b={"border_control": 2, "customs": 3},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 240}],
    )
    data["horizon"] = "8 d"
    data.update(top)
    return data


def _scenario(data: dict[str, Any]) -> sim.Scenario:
    return sim.scenario_from_dict(copy.deepcopy(data))


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        _scenario(data)
    return [f"{p.path}: {p.message}" for p in err.value.problems]


def _expected(data: dict[str, Any]) -> float:
    return compile_model(_scenario(data)).expected_arrivals


# --- the format -------------------------------------------------------------------------


def test_moments_are_dates_date_times_or_durations_and_a_date_as_end_is_the_end_of_that_day():
    e = Episode(name="e", start="2022-09-22", end="2022-09-23", demand=2)
    start = datetime.date(2022, 9, 21)
    assert moment_minutes(e.start, start) == DAY
    assert moment_minutes(e.end, start, end=True) == 3 * DAY  # both days included
    e = Episode(name="e", start="2022-09-22T06:30", end="3 d", demand=2)
    assert moment_minutes(e.start, start) == DAY + 390
    assert moment_minutes(e.end, start, end=True) == 3 * DAY
    with pytest.raises(ValueError, match="moment"):
        Episode(name="e", start="next tuesday", end="3 d", demand=2)
    with pytest.raises(ValueError, match="end must be after start"):
        Episode(name="e", start="2022-09-23", end="2022-09-22", demand=2)
    with pytest.raises(ValueError, match="say what the episode does"):
        Episode(name="e", start="1 d", end="3 d")


def test_errors_name_the_field_at_fault():
    data = _base(episodes=[{"name": "e", "start": "2023-01-02", "end": "2023-01-03", "demand": 2}])
    assert any("episodes[0].start" in p and "start_date" in p for p in _problems(data))
    data = _base(episodes=[{"name": "e", "start": "1 d", "end": "2 d", "demand": 2, "crossings": ["y"]}])
    assert any("episodes[0].crossings[0]" in p and "'y'" in p for p in _problems(data))
    data = _base(episodes=[{"name": "e", "start": "20 d", "end": "22 d", "demand": 2}])
    assert any("episodes[0].start" in p and "outside the run" in p for p in _problems(data))
    # a stage the regime does not run for these travellers: switching it on would change nothing
    data = _base(
        episodes=[
            {"name": "e", "start": "1 d", "end": "2 d", "stages": [{"stage": "customs", "side": "a", "select": 1}]}
        ]
    )
    assert any("episodes[0].stages[0].stage" in p and "'customs'" in p for p in _problems(data))
    data = _base(calendar={"growth": [{"per_year": 0.1}]})
    assert any(p.startswith("calendar") and "start_date" in p for p in _problems(data))


def test_an_episode_file_adds_its_episodes_and_its_errors_name_the_file_and_line(tmp_path):
    (tmp_path / "ep.yaml").write_text(
        "# a surge\nepisodes:\n  - name: surge\n    start: 1 d\n    end: 3 d\n    demand: 2\n"
        "  - name: bad\n    start: 1 d\n    end: 2 d\n    demand: 2\n    crossings: [nowhere]\n"
    )
    data = _base(episode_files=["ep.yaml"], episodes=[{"name": "own", "start": "4 d", "end": "5 d", "demand": 3}])
    (tmp_path / "s.json").write_text(json.dumps(data))
    # JSON is YAML: the scenario file beside its episode file
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(tmp_path / "s.json")
    [problem] = err.value.problems
    assert problem.file.endswith("ep.yaml")
    assert problem.line == 11
    assert problem.path == "episodes[1].crossings[0]"
    (tmp_path / "ep.yaml").write_text("episodes:\n  - name: surge\n    start: 1 d\n    end: 3 d\n    demand: 2\n")
    s = sim.load_scenario(tmp_path / "s.json")
    assert [e.name for e in s.episodes] == ["surge", "own"]
    assert any(f.endswith("ep.yaml") for f in s.resolved_from)
    (tmp_path / "ep.yaml").write_text("episodes: []\nname: oops\n")
    with pytest.raises(ScenarioError, match="only an episodes list"):
        sim.load_scenario(tmp_path / "s.json")
    (tmp_path / "s.json").write_text(json.dumps({**data, "episode_files": ["missing.yaml"]}))
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(tmp_path / "s.json")
    assert "episode_files[0]" in str(err.value)


# --- demand over calendar time ------------------------------------------------------------


def test_an_episode_multiplies_the_expected_arrivals_of_its_window_exactly():
    base = _expected(_base())
    assert base == pytest.approx(240 * 8)
    data = _base(episodes=[{"name": "surge", "start": "2 d", "end": "4 d", "demand": 3}])
    assert _expected(data) == pytest.approx(240 * (8 + 2 * 2))
    # a window starting inside an hour counts the share of the hour it covers
    data = _base(episodes=[{"name": "gap", "start": "2 d", "end": "2.5 d", "demand": 0}])
    assert _expected(data) == pytest.approx(240 * 7.5)
    data = _base(episodes=[{"name": "e", "start": "1.01 d", "end": "1.02 d", "demand": 2}])
    assert _expected(data) == pytest.approx(240 * (8 + 0.01))


def test_an_episode_for_other_travellers_changes_nothing_to_the_last_digit():
    plain = sim.run(_scenario(_base()), replications=1)
    other = _base(episodes=[{"name": "e", "start": "1 d", "end": "3 d", "demand": 3, "directions": ["b_to_a"]}])
    moved = sim.run(_scenario(other), replications=1)
    assert plain.summary.equals(moved.summary)
    assert plain.stages.equals(moved.stages)


def test_seasonal_factors_keep_the_year_and_follow_the_months():
    monthly = [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    entry = Seasonal(monthly=monthly)
    dates = [datetime.date(2023, 1, 1) + datetime.timedelta(days=d) for d in range(365)]
    f = seasonal_by_day(entry, dates)
    assert f.mean() == pytest.approx(1.0)
    assert f[0] / f[40] == pytest.approx(2.0)  # January against February
    weekly = Seasonal(weekly=[1.0] * 51 + [3.0])
    assert seasonal_by_day(weekly, [datetime.date(2023, 12, 28)])[0] == pytest.approx(3 / (54 / 52))
    data = _base(start_date="2023-01-29", horizon="6 d", calendar={"seasonal": [{"monthly": monthly}]})
    # three days of January at factor 2, three of February at 1, over a year's mean of 1
    norm = (2 * 31 + 334) / 365
    assert _expected(data) == pytest.approx(240 * (3 * 2 + 3) / norm)


def test_growth_and_holidays():
    data = _base(start_date="2024-01-01", calendar={"growth": [{"per_year": 0.1, "base": "2023-01-01"}]})
    expected = sum(240 * 1.1 ** ((365 + d) / 365.25) for d in range(8))
    assert _expected(data) == pytest.approx(expected, rel=1e-9)
    h = Holiday(date="03-21", days=3, factor=0.5)
    dates = [datetime.date(2023, 3, 19) + datetime.timedelta(days=d) for d in range(370)]
    marked = [d for d, m in zip(dates, holiday_days(h, dates), strict=True) if m]
    assert [d.isoformat() for d in marked] == ["2023-03-21", "2023-03-22", "2023-03-23", "2024-03-21", "2024-03-22"]
    data = _base(start_date="2023-03-20", calendar={"holidays": [{"date": "2023-03-21", "days": 2, "factor": 0.5}]})
    assert _expected(data) == pytest.approx(240 * (6 + 2 * 0.5))
    data = _base(start_date="2023-03-20", calendar={"holidays": [{"date": "03-21", "factor": 2, "flows": ["car"]}]})
    assert _expected(data) == pytest.approx(240 * 8)  # the trucks are not concerned


def test_demand_factors_are_none_where_nothing_applies():
    s = _scenario(_base(episodes=[{"name": "e", "start": "1 d", "end": "2 d", "demand": 2, "flows": ["car"]}]))
    assert demand_factors(s.calendar, s.episodes, s.start_date, 192, "x", "a_to_b", "truck") is None
    f = demand_factors(s.calendar, s.episodes, s.start_date, 192, "x", "a_to_b", "car")
    assert f is not None
    assert f[24:48].tolist() == [2.0] * 24
    assert f[:24].tolist() == [1.0] * 24


# --- checks, times and staffing in a window -------------------------------------------------


def _visits(data: dict[str, Any]) -> Any:
    result = sim.run(_scenario(data), replications=1)
    return result.visits


def test_an_episode_checks_exactly_those_arriving_in_its_window_with_their_own_luck():
    window = {
        "name": "checks",
        "start": "2 d",
        "end": "4 d",
        "flows": ["truck"],
        "stages": [{"stage": "customs", "side": "b", "select": 1.0, "time_factor": 2.0}],
    }
    plain = _visits(_base())
    assert (plain["stage"] == "customs").sum() == 0  # select 0: nobody is checked without the episode
    visits = _visits(_base(episodes=[window]))
    customs = visits[visits["stage"] == "customs"]
    first = visits.groupby("traveller")["enter_min"].min()
    arrived_in = set(first[(first >= 2 * DAY) & (first < 4 * DAY)].index)
    assert set(customs["traveller"]) <= arrived_in
    # everyone of the window who reached customs before the end was checked
    assert len(customs) >= 0.95 * len(arrived_in)
    # the time is the same quantile scaled: compare with select 1 throughout and no factor
    always = _base()
    always["stages"]["customs"]["select"] = 1.0
    ref = _visits(always)
    ref_c = ref[ref["stage"] == "customs"].set_index("traveller")
    got = customs.set_index("traveller")
    common = got.index.intersection(ref_c.index)
    done = common[got.loc[common, "end_min"].notna() & ref_c.loc[common, "end_min"].notna()]
    assert len(done) > 100
    ratio = (got.loc[done, "end_min"] - got.loc[done, "start_min"]) / (
        ref_c.loc[done, "end_min"] - ref_c.loc[done, "start_min"]
    )
    assert np.allclose(ratio, 2.0, rtol=1e-9)


def test_staffing_and_closures_follow_the_window_within_opening_hours():
    data = _base(
        episodes=[
            {
                "name": "more",
                "start": "2 d",
                "end": "3 d",
                "stages": [{"stage": "border_control", "side": "a", "servers": 5}],
            },
            {
                "name": "fewer",
                "start": "4 d",
                "end": "5 d",
                "stages": [{"stage": "border_control", "servers_factor": 0.5}],
            },
            {"name": "shut", "start": "6 d", "end": "6.5 d", "close": True},
        ]
    )
    data["crossings"][0]["hours"] = "06:00-22:00"
    model = compile_model(_scenario(data))
    [pool] = [p for p in model.pools if p.side == "a" and p.stage == "border_control"]
    steps = list(zip([0.0, *pool.change_times], [pool.initial, *pool.change_caps], strict=True))

    def cap(t: float) -> int:
        return [c for at, c in steps if at <= t][-1]

    assert cap(2 * DAY + 12 * 60) == 5
    assert cap(2 * DAY + 3 * 60) == 0
    assert cap(1 * DAY + 12 * 60) == 2
    assert cap(3 * DAY + 12 * 60) == 2
    assert cap(4 * DAY + 12 * 60) == 1
    assert cap(6 * DAY + 8 * 60) == 0
    assert cap(6 * DAY + 13 * 60) == 2
    visits = sim.run(_scenario(data), replications=1).visits
    started = visits["start_min"].dropna()
    assert not ((started > 6 * DAY) & (started < 6.5 * DAY)).any()


def test_overlay_laws():
    windows = [CapacityWindow(10, 20, "factor", 2.0), CapacityWindow(15, 30, "close")]
    # a shut spell (capacity 0) stays shut under a factor, and the closure wins where they overlap
    assert overlay(3, [12.0], [0], windows, 100, 10**9) == (3, [10.0, 12.0], [6, 0])
    initial, times, caps = overlay(3, [12.0], [4], windows, 100, 10**9)
    assert (initial, times, caps) == (3, [10.0, 12.0, 15.0, 30.0], [6, 8, 0, 4])
    assert overlay(10**9, [], [], [CapacityWindow(0, 5, "factor", 2.0)], 100, 10**9) == (10**9, [], [])
    assert overlay(3, [], [], [], 100, 10**9) == (3, [], [])


# --- the reported episodes ------------------------------------------------------------------


def test_the_reported_episode_scenarios_compile_to_what_their_files_say():
    surge = compile_model(sim.load_scenario("scenarios/reported/kz_ru_2022_september_surge.yaml"))
    normal = compile_model(sim.load_scenario("scenarios/reported/kz_ru_2022_september_normal.yaml"))
    # 22 September is day 10 of the run; cars into Kazakhstan arrive 2.5 times as often in the window
    for a, b in zip(surge.sources, normal.sources, strict=True):
        assert a.key == b.key
        with np.errstate(invalid="ignore"):  # hours a crossing is shut have rate 0 in both
            ratio = a.arrivals.rates[240:500] / b.arrivals.rates[240:500]
        if a.direction == "b_to_a" and a.flow in ("car", "bus"):
            assert np.allclose(ratio[np.isfinite(ratio)], 2.5)
        else:
            assert np.array_equal(a.arrivals.rates, b.arrivals.rates)
    # growth takes 2023's volumes back to 2022: about 1.3 ** -0.8 in mid-September 2022
    s = sim.load_scenario("scenarios/reported/kz_ru_2022_september_normal.yaml")
    f = demand_factors(s.calendar, s.episodes, s.start_date, 24, "x", "a_to_b", "truck")
    assert f is not None
    assert f[0] == pytest.approx(1.3 ** (-292 / 365.25))
    checks = compile_model(sim.load_scenario("scenarios/reported/kz_ru_2025_autumn_checks.yaml"))
    windows = {
        (s.crossing, s.direction, s.flow): st.windows
        for s in checks.sources
        for st in s.steps
        if st.stage == "customs" and st.side == "b"
    }
    assert windows
    assert all(d == "a_to_b" and f == "truck" for _, d, f in windows)
    assert all(w[0].select == 0.2 and w[0].start == 14 * DAY and w[0].end == 61 * DAY for w in windows.values())
    zhaisan = compile_model(sim.load_scenario("scenarios/reported/kz_ru_2025_july_zhaisan.yaml"))
    changed = {
        (s.crossing, s.direction, s.flow, st.side)
        for s in zhaisan.sources
        for st in s.steps
        if st.windows and st.windows[0].time_factor == 2.0
    }
    assert changed == {("zhaisan_sagarchin_road", "a_to_b", "truck", "b")}


def test_the_report_lists_the_calendar_and_episodes_escaped(tmp_path):
    hostile = "<script>window.__pwned=1</script> surge"
    data = _base(
        start_date="2023-03-20",
        horizon="3 d",
        calendar={"holidays": [{"name": "<b>Nauryz</b>", "date": "03-21", "factor": 1.5}]},
        episodes=[{"name": hostile, "start": "2023-03-21", "end": "2023-03-21", "demand": 2}],
    )
    out = sim.run(_scenario(data), replications=1).write(tmp_path / "run")
    html = (out / "report.html").read_text()
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt; surge, 2023-03-21 to 2023-03-21: demand x2" in html
    assert "from 2023-03-20; &lt;b&gt;Nauryz&lt;/b&gt; 03-21 (1 day): demand x1.5" in html
