"""Weather episodes and navigation seasons: compiling, drawing, and closing pools as a capacity source."""

from __future__ import annotations

import datetime
import inspect
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.engine.core import Engine
from sim.engine.recorder import Recorder
from sim.model.compile import Model, compile_model
from sim.model.distributions import Constant
from sim.model.weather import (
    RATE_PERIOD,
    WeatherProcess,
    check_weather,
    compile_weather,
    merge_windows,
    monthly_rates,
    season_closures,
)
from sim.policies import weather as policy_weather
from sim.policies.scheduled_capacity import ScheduledCapacity, capacity_at
from sim.policies.weather import WeatherClosures, draw_episodes
from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario
from sim.scenario.weather import NavigationSeason

DAY = 1440.0
SHIFTS = [1] * 8 + [3] * 12 + [1] * 4
"""One server at night, three from 08:00 to 20:00."""


def _crossing(cid: str, region: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "category": "multilateral",
        "sides": {
            "a": {"region": region, "servers": {"check": SHIFTS}},
            "b": {"region": f"{region} B" if region else ""},
        },
        **extra,
    }


def _data(weather: list[dict[str, Any]], crossings: list[dict[str, Any]] | None = None, **top: Any) -> dict:
    crossings = crossings or [
        _crossing("track", "Altai", surface="dirt"),
        _crossing("highway", "Omsk", surface="motorway"),
        _crossing("ferry", "Omsk", mode="river"),
        _crossing("town", "Altai"),  # paved, by default
    ]
    return {
        "name": "w",
        "horizon": "10 d",
        "warmup": 0,
        "replications": 1,
        "seed": 3,
        "flows": {"truck": {}},
        "stages": {"check": {"per_vehicle": "10 min"}},
        "regimes": {"r": {"exit": ["check"]}},
        "regime": "r",
        "crossings": crossings,
        "demand": [{"crossing": c["id"], "flow": "truck", "direction": "a_to_b", "daily": 10} for c in crossings],
        "weather": weather,
        **top,
    }


def _scenario(weather: list[dict[str, Any]], **top: Any) -> sim.Scenario:
    return sim.scenario_from_dict(_data(weather, **top))


def _with_weather(model: Model, scenario: sim.Scenario) -> SimpleNamespace:
    """The compiled model with the weather fields a run gives the capacity source."""
    return SimpleNamespace(
        pools=model.pools,
        horizon=model.horizon,
        seed=model.seed,
        weather=compile_weather(scenario),
        start_date=scenario.start_date,
        whole=model.whole,
        piece=model.piece,
    )


def _source(weather: list[dict[str, Any]], replication: int = 0, **top: Any) -> tuple[SimpleNamespace, WeatherClosures]:
    scenario = _scenario(weather, **top)
    model = _with_weather(compile_model(scenario), scenario)
    return model, WeatherClosures(model, model.seed, replication)


def _capacity(source: Any, model: Any, pool: int, times: list[float]) -> list[int]:
    """The pool's capacity at each of ``times`` by replaying initial() and changes()."""
    cap = source.initial(model.pools[pool])
    timeline = [(0.0, cap)]
    for t, updates in source.changes(model, model.whole()):
        timeline += [(t, c) for i, c in updates if i == pool]
    edges = [t for t, _ in timeline]
    return [timeline[int(np.searchsorted(edges, t, side="right")) - 1][1] for t in times]


def _pools_of(model: Any, crossing: str) -> list[int]:
    return [p.index for p in model.pools if p.crossing == crossing]


# -- compiling and checking ----------------------------------------------------------------------
def test_seasons_map_to_calendar_months_and_rates_become_per_minute():
    rates = monthly_rates({"winter": 30.0, "spring": 60.0, "summer": 0.0})
    per_day = [r * DAY for r in rates]
    assert per_day[0] == per_day[1] == per_day[11] == pytest.approx(1.0)  # December to February
    assert per_day[2:5] == pytest.approx([2.0] * 3)  # March to May
    assert per_day[5:8] == [0.0] * 3  # summer
    assert per_day[8:11] == [0.0] * 3  # autumn, not given
    assert monthly_rates(15.0) == (15.0 / RATE_PERIOD,) * 12


def test_a_process_closes_the_crossings_of_its_surfaces_in_its_regions():
    scenario = _scenario(
        [
            {"id": "mud", "rate": 1, "duration": "6 h"},  # unpaved and dirt, border-wide
            {"id": "ice", "surfaces": ["river", "paved"], "regions": ["Omsk"], "episodes": [{"start": 0, "end": 60}]},
            {"id": "snow", "surfaces": ["paved", "dirt"], "regions": ["Altai B"], "rate": 2, "duration": "1 h"},
        ]
    )
    mud, ice, snow = compile_weather(scenario)
    assert mud.crossings == ("track",)
    assert ice.crossings == ("ferry",)  # a river crossing without a surface is a river; town is paved but in Altai
    assert snow.crossings == ("track", "town")  # matched by side b's region
    assert ice.fixed == ((0.0, 60.0),)
    assert ice.duration is None
    assert snow.duration == Constant(60.0)
    assert check_weather(scenario) == []


def test_the_checks_report_what_the_schema_cannot_see():
    data = _data(
        [
            {"id": "a", "rate": {"winter": 3}, "duration": "6 h"},
            {"id": "b", "regions": ["Altay"], "episodes": [{"start": 0, "end": 60}]},
            {"id": "c", "surfaces": ["rail"], "episodes": [{"start": 0, "end": 60}]},
        ],
        crossings=[
            _crossing("track", "Altai", surface="dirt"),
            _crossing("ferry", "Omsk", mode="river", season={"open": "04-15", "close": "11-20"}),
        ],
    )
    problems = dict(check_weather(Scenario.model_validate(data)))
    assert "start_date" in problems[("weather", 0, "rate")]
    assert "did you mean 'Altai'" in problems[("weather", 1, "regions", 0)]
    assert "Omsk" in problems[("weather", 1, "regions", 0)]  # the regions there are
    assert "closes no crossing" in problems[("weather", 2, "surfaces")]
    assert "river" in problems[("weather", 2, "surfaces")]
    assert "start_date" in problems[("crossings", 1, "season")]
    assert len(problems) == 4
    with pytest.raises(ValueError, match="start_date"):
        compile_weather(Scenario.model_validate(data))
    with pytest.raises(ScenarioError) as caught:
        sim.scenario_from_dict(data)
    reported = {p.path for p in caught.value.problems}
    assert {"weather[0].rate", "weather[1].regions[0]", "weather[2].surfaces", "crossings[1].season"} <= reported
    dated = _scenario([{"id": "a", "rate": {"winter": 3}, "duration": "6 h"}], start_date="2023-10-02")
    assert check_weather(dated) == []


# -- drawing -----------------------------------------------------------------------------------
def _process(rate: float | tuple[float, ...], duration: float = 1e-3, fixed=(), pid: str = "p") -> WeatherProcess:
    monthly = rate if isinstance(rate, tuple) else (rate / RATE_PERIOD,) * 12
    return WeatherProcess(pid, ("x",), monthly, Constant(duration), tuple(fixed))


def test_random_episode_counts_agree_with_the_rate():
    rate, horizon, runs = 10.0, 60 * DAY, 200  # 20 episodes expected per replication
    counts = [len(draw_episodes(_process(rate), 11, r, horizon, None)) for r in range(runs)]
    expected = rate * horizon / RATE_PERIOD
    assert abs(np.mean(counts) - expected) < 4 * math.sqrt(expected / runs)
    assert np.var(counts, ddof=1) == pytest.approx(expected, rel=0.35)  # Poisson: variance = mean


def test_a_seasonal_rate_starts_no_episode_where_it_is_zero():
    winter = (30.0 / RATE_PERIOD,) * 2 + (0.0,) * 9 + (30.0 / RATE_PERIOD,)
    start = datetime.date(2023, 10, 2)
    horizon = 365 * DAY
    starts = [s for r in range(20) for s, _ in draw_episodes(_process(winter), 5, r, horizon, start)]
    months = {(start + datetime.timedelta(minutes=s)).month for s in starts}
    assert months <= {12, 1, 2}
    # one a day through December to February: 90 days, the calendar's real lengths
    days = (datetime.date(2024, 3, 1) - datetime.date(2023, 12, 1)).days
    assert abs(len(starts) / 20 - days) < 4 * math.sqrt(days / 20)


def test_episodes_are_clipped_merged_and_sorted_and_fixed_ones_kept():
    process = _process(20.0, duration=2 * DAY, fixed=[(DAY, 2 * DAY), (9.5 * DAY, 12 * DAY), (20 * DAY, 21 * DAY)])
    windows = draw_episodes(process, 1, 0, 10 * DAY, None)
    assert windows == merge_windows(windows)  # disjoint, sorted
    assert all(0 <= s < e <= 10 * DAY for s, e in windows)
    assert windows[-1][1] == 10 * DAY  # the fixed one across the horizon, clipped
    assert any(s <= DAY and e >= 2 * DAY for s, e in windows)
    assert draw_episodes(_process(0.0, fixed=[(5.0, 7.0), (6.0, 9.0)]), 1, 0, DAY, None) == [(5.0, 9.0)]


def test_a_longer_horizon_only_adds_later_episodes():
    short = draw_episodes(_process(30.0), 2, 4, 20 * DAY, None)
    long = draw_episodes(_process(30.0), 2, 4, 90 * DAY, None)
    assert len(short) > 5
    assert long[: len(short)] == short


def test_the_draws_do_not_depend_on_how_many_are_drawn_at_once(monkeypatch):
    seasonal = (0.0,) * 5 + (60.0 / RATE_PERIOD,) * 4 + (0.0,) * 3
    start = datetime.date(2023, 1, 1)
    at_once = draw_episodes(_process(seasonal, duration=30.0), 2, 0, 365 * DAY, start)
    monkeypatch.setattr(policy_weather, "_block_size", lambda expected: 3)
    assert draw_episodes(_process(seasonal, duration=30.0), 2, 0, 365 * DAY, start) == at_once
    assert len(at_once) > 100


def test_another_process_leaves_a_process_episodes_unchanged():
    first = {"id": "mud", "rate": 5, "duration": {"dist": "exponential", "mean": "8 h"}}
    other = {"id": "snow", "surfaces": ["paved"], "rate": 9, "duration": "2 h"}
    alone = compile_weather(_scenario([first]))[0]
    both = compile_weather(_scenario([other, first]))[1]
    assert both == alone
    drawn = [draw_episodes(alone, 7, r, 30 * DAY, None) for r in range(3)]
    assert drawn == [draw_episodes(both, 7, r, 30 * DAY, None) for r in range(3)]
    assert drawn[0] != drawn[1]  # replications differ
    assert draw_episodes(_process(5.0, pid="a"), 7, 0, 30 * DAY, None) != draw_episodes(
        _process(5.0, pid="b"), 7, 0, 30 * DAY, None
    )


# -- navigation seasons ------------------------------------------------------------------------
def test_a_season_closure_across_new_year():
    start = datetime.date(2023, 10, 2)
    season = NavigationSeason(open="04-15", close="11-20")
    windows = season_closures(season, start, 400 * DAY)
    minutes = [(datetime.date(2023, 11, 20) - start).days * DAY, (datetime.date(2024, 4, 15) - start).days * DAY]
    assert windows == [tuple(minutes)]  # the next closure, 2024-11-20, is after 400 days (2024-11-05)
    assert season_closures(season, start, 100 * DAY) == [(minutes[0], 100 * DAY)]


def test_a_run_starting_out_of_season_is_shut_from_the_start():
    start = datetime.date(2024, 1, 10)
    season = NavigationSeason(open="04-15", close="11-20")
    windows = season_closures(season, start, 2 * 365 * DAY)
    first_open = (datetime.date(2024, 4, 15) - start).days * DAY
    assert windows[0] == (0.0, first_open)
    assert windows[1] == (
        (datetime.date(2024, 11, 20) - start).days * DAY,
        (datetime.date(2025, 4, 15) - start).days * DAY,
    )
    assert len(windows) == 3
    assert windows[2][1] == 2 * 365 * DAY


def test_a_season_shut_within_one_year():
    start = datetime.date(2023, 1, 1)
    windows = season_closures(NavigationSeason(open="09-01", close="06-01"), start, 365 * DAY)
    assert windows == [((datetime.date(2023, 6, 1) - start).days * DAY, (datetime.date(2023, 9, 1) - start).days * DAY)]


# -- the capacity source -----------------------------------------------------------------------
def test_a_fixed_episode_shuts_the_crossing_and_the_schedule_resumes_after():
    # 07:00 to 09:00 on day 1: the shift changes from 1 to 3 servers at 08:00, inside the window
    window = {"start": DAY + 7 * 60, "end": DAY + 9 * 60}
    model, source = _source([{"id": "flood", "surfaces": ["dirt"], "episodes": [window]}])
    (track,) = _pools_of(model, "track")
    times = [DAY + 6.99 * 60, DAY + 7 * 60, DAY + 8 * 60, DAY + 8.99 * 60, DAY + 9 * 60, DAY + 20 * 60]
    assert _capacity(source, model, track, times) == [1, 0, 0, 0, 3, 1]
    (town,) = _pools_of(model, "town")  # paved: not closed
    assert _capacity(source, model, town, times) == [1, 1, 3, 3, 3, 1]
    assert source.episodes == [("flood", "track", window["start"], window["end"])]


def test_an_episode_from_the_start_gives_capacity_0_at_first():
    model, source = _source([{"id": "flood", "surfaces": ["dirt"], "episodes": [{"start": 0, "end": 90}]}])
    (track,) = _pools_of(model, "track")
    assert source.initial(model.pools[track]) == 0
    assert _capacity(source, model, track, [0, 89.9, 90, 8 * 60]) == [0, 0, 1, 3]


def test_changes_are_batched_per_instant_and_only_real_changes():
    window = {"start": 7 * 60, "end": 9 * 60}
    model, source = _source([{"id": "storm", "surfaces": ["dirt", "paved"], "episodes": [window]}])
    changes = list(source.changes(model, model.whole()))
    times = [t for t, _ in changes]
    assert times == sorted(set(times))  # one batch per instant, in order
    at_8 = dict(changes)[8 * 60.0]
    closed = set(_pools_of(model, "track") + _pools_of(model, "town"))
    assert {i for i, _ in at_8}.isdisjoint(closed)  # the shift change is hidden by the storm
    assert sorted(dict(changes)[7 * 60.0]) == sorted((i, 0) for i in closed)
    assert sorted(dict(changes)[9 * 60.0]) == sorted((i, 3) for i in closed)
    assert inspect.isgenerator(source.changes(model, model.whole()))


def test_without_episodes_the_changes_are_the_schedules():
    later = [{"start": "20 d", "end": "21 d"}]  # after the horizon
    for weather in ([], [{"id": "dry", "rate": 0}], [{"id": "later", "surfaces": ["dirt"], "episodes": later}]):
        scenario = sim.scenario_from_dict(_data(weather))
        compiled = compile_model(scenario)
        model = _with_weather(compiled, scenario)
        source = WeatherClosures(model, model.seed, 0)
        plain = ScheduledCapacity()
        assert [source.initial(p) for p in model.pools] == [plain.initial(p) for p in compiled.pools]
        assert list(source.changes(model, compiled.whole())) == list(plain.changes(compiled, compiled.whole()))
        assert source.episodes == []


def test_a_piece_gets_only_its_own_pools():
    model, source = _source([{"id": "storm", "surfaces": ["dirt"], "episodes": [{"start": 60, "end": 120}]}])
    piece = model.piece(frozenset({"track", "highway"}))
    pools = {i for _, updates in source.changes(model, piece) for i, _ in updates}
    assert pools == set(piece.pools)
    assert _capacity(source, model, _pools_of(model, "track")[0], [59, 60, 120]) == [1, 0, 1]


def test_reopens():
    window = {"start": DAY + 7 * 60, "end": DAY + 9 * 60}
    model, source = _source(
        [
            {"id": "flood", "surfaces": ["dirt"], "episodes": [window]},
            {"id": "ice", "surfaces": ["river"], "episodes": [{"start": 5 * DAY, "end": 30 * DAY}]},
        ],
        crossings=[
            _crossing("track", surface="dirt", hours="08:00-20:00"),
            _crossing("ferry", mode="river"),
        ],
    )
    (track,) = _pools_of(model, "track")
    (ferry,) = _pools_of(model, "ferry")
    assert source.reopens(track, 10 * 60) == 10 * 60  # open now
    assert source.reopens(track, 21 * 60) == DAY + 9 * 60  # the night, then the flood
    assert source.reopens(track, DAY + 8.5 * 60) == DAY + 9 * 60
    assert source.reopens(track, DAY + 21 * 60) == 2 * DAY + 8 * 60  # the night alone
    assert source.reopens(ferry, 4 * DAY) == 4 * DAY
    assert source.reopens(ferry, 5 * DAY) == math.inf  # shut to the horizon
    scheduled = ScheduledCapacity()
    with pytest.raises(RuntimeError, match="model"):
        scheduled.reopens(track, 0.0)
    scheduled.bind(
        compile_model(sim.scenario_from_dict(_data([], crossings=[_crossing("track", hours="08:00-20:00")])))
    )
    assert scheduled.reopens(0, 21 * 60) == DAY + 8 * 60
    assert scheduled.reopens(0, 8 * 60) == 8 * 60
    assert scheduled.reopens(0, 9 * DAY + 21 * 60) == math.inf  # the horizon comes first


def test_seasons_given_to_the_source_shut_the_crossing():
    scenario = _scenario([], start_date="2023-11-01")
    model = _with_weather(compile_model(scenario), scenario)
    shut = season_closures(NavigationSeason(open="04-15", close="11-05"), scenario.start_date, model.horizon)
    source = WeatherClosures(model, model.seed, 0, seasons={"ferry": shut})
    (ferry,) = _pools_of(model, "ferry")
    assert _capacity(source, model, ferry, [4 * DAY - 1, 4 * DAY, 9 * DAY]) == [1, 0, 0]
    assert source.episodes == [("season", "ferry", 4 * DAY, 10 * DAY)]
    assert source.reopens(ferry, 5 * DAY) == math.inf


class _Keep:
    def __init__(self):
        self.starts = []

    def add(self, chunk):
        self.starts.append(pd.Series(chunk.visit_start))

    def finish(self, pools):
        return pd.concat(self.starts, ignore_index=True)


def test_the_engine_serves_nobody_during_an_episode():
    data = _data(
        [{"id": "flood", "surfaces": ["dirt"], "episodes": [{"start": 0, "end": 30}]}],
        crossings=[_crossing("track", surface="dirt")],
    )
    data["demand"] = [{"crossing": "track", "flow": "truck", "direction": "a_to_b", "times": [0, 1, 2]}]
    data["horizon"] = "1 h"
    scenario = sim.scenario_from_dict(data)
    compiled = compile_model(scenario)
    source = WeatherClosures(_with_weather(compiled, scenario), compiled.seed, 0)
    (starts,) = Engine(compiled, 0, Recorder(0, [_Keep()]), capacity=source).run()
    assert sorted(starts.dropna().tolist()) == [30.0, 40.0, 50.0]


def test_the_capacity_is_the_schedule_outside_the_windows_and_0_inside():
    fixed = [{"start": 0, "end": 30}, {"start": 8 * 60, "end": 9 * 60}, {"start": "20 h", "end": "1 d"}]
    model, source = _source(
        [{"id": "storm", "rate": 40, "duration": {"dist": "exponential", "mean": "3 h"}, "episodes": fixed}],
        crossings=[_crossing("track", surface="dirt", hours="07:00-21:00"), _crossing("town")],
        horizon="6 d",
    )
    windows = draw_episodes(model.weather[0], model.seed, 0, model.horizon, None)
    assert len(windows) > 10
    (track,) = _pools_of(model, "track")
    pool = model.pools[track]
    grid = np.arange(0.0, model.horizon, 7.0).tolist() + [t for w in windows for t in w] + pool.change_times
    expected = [0 if any(s <= t < e for s, e in windows) else capacity_at(pool, t) for t in grid]
    assert _capacity(source, model, track, grid) == expected
    caps = [c for _, updates in source.changes(model, model.whole()) for i, c in updates if i == track]
    assert all(a != b for a, b in zip([source.initial(pool), *caps], caps, strict=False))  # no change to the same value
