"""Corridors, route choice and diversion: exact properties, conservation, and the rules' behaviour."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.engine.core import Engine
from sim.engine.recorder import TRIP_COLUMNS, Recorder
from sim.model.compile import compile_model
from sim.policies.route_choice import pick
from sim.policies.wait_board import WaitBoard
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import scenario_from_dict

DAY = 1440.0


def _crossing(cid: str, servers: int = 1, **extra) -> dict:
    return {
        "id": cid,
        "category": "multilateral",
        "sides": {"a": {"servers": {"border_control": servers}}, "b": {"servers": {"border_control": servers}}},
        **extra,
    }


def _base(**extra) -> dict:
    data = {
        "name": "net",
        "horizon": "3 d",
        "warmup": "0.5 d",
        "replications": 2,
        "seed": 11,
        "flows": {"truck": {}},
        "stages": {"border_control": {"per_vehicle": {"dist": "exponential", "mean": "10 min"}}},
        "regime": "joint_control",
        "crossings": [_crossing("x", lat=50.0, lon=50.0), _crossing("y", lat=50.5, lon=50.5)],
    }
    data.update(extra)
    return data


def _corridor(options: dict, daily: float = 100.0, direction: str = "a_to_b", cid: str = "c1") -> dict:
    return {"id": cid, "flow": "truck", "direction": direction, "daily": daily, "crossings": options}


def _run(data: dict, **kw) -> sim.RunResult:
    return sim.run(scenario_from_dict(data), records="none", **kw)


def _drop_name(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["scenario"]).reset_index(drop=True)


# -- exact equivalences --------------------------------------------------------------------------
def test_a_corridor_with_one_crossing_is_that_crossings_demand_to_the_last_digit():
    per_crossing = _base(
        demand=[
            {"crossing": "x", "flow": "truck", "daily": 90, "during_hours": False},
            {"crossing": "y", "flow": "truck", "daily": 70, "during_hours": False},
        ]
    )
    as_corridors = _base(
        corridors=[
            _corridor({"x": {"drive_to": 0, "drive_on": 0}}, 90, "both", "to_x"),
            _corridor({"y": {"drive_to": 0, "drive_on": 0}}, 70, "both", "to_y"),
        ]
    )
    a, b = _run(per_crossing), _run(as_corridors)
    pd.testing.assert_frame_equal(_drop_name(a.summary), _drop_name(b.summary))
    pd.testing.assert_frame_equal(_drop_name(a.stages), _drop_name(b.stages))


def test_drive_time_is_added_exactly_once():
    data = _base(warmup=0, corridors=[_corridor({"x": {"drive_to": "45 min", "drive_on": "30 min"}}, 120)])
    r = _run(data)
    corridor = r.corridors.iloc[0]
    crossing = r.summary[(r.summary.crossing == "x") & (r.summary.flow == "truck")].iloc[0]
    assert corridor.drive_mean_min == pytest.approx(75.0, abs=1e-9)
    # every trip is its time at the crossing plus 75 minutes of driving, no more, no less
    assert corridor.completed == crossing.completed
    assert corridor.trip_time_mean_min == pytest.approx(crossing.time_in_system_mean_min + 75.0, abs=1e-9)
    assert corridor.extra_drive_vehicle_hours_per_day == 0.0


def test_travellers_reach_the_crossing_after_their_drive():
    data = _base(warmup=0, replications=1, corridors=[_corridor({"x": {"drive_to": "45 min", "drive_on": 0}}, 60)])
    model = compile_model(scenario_from_dict(data))
    rec = Recorder(0, [])
    trips: list[tuple] = []
    rec.trip_log = lambda: trips  # keep every row instead of flushing them
    engine = Engine(model, 0, rec)
    engine.run()
    rows = np.asarray(trips)
    done = ~np.isnan(rows[:, TRIP_COLUMNS.index("arrival")])
    departure = rows[done, TRIP_COLUMNS.index("departure")]
    arrival = rows[done, TRIP_COLUMNS.index("arrival")]
    np.testing.assert_allclose(arrival - departure, 45.0, atol=1e-9)
    # those still on the road at the horizon departed in its last 45 minutes
    assert (rows[~done, TRIP_COLUMNS.index("departure")] > model.horizon - 45.0).all()


# -- conservation and closures ---------------------------------------------------------------------
def _conserved(r: sim.RunResult) -> None:
    c, n = r.corridors, r.network
    assert (c.departures == c.completed + c.unfinished).all()
    assert n.used.sum() == c.completed.sum()
    assert n.set_off_for.sum() == c.departures.sum()
    assert n.diverted_in.sum() == n.diverted_out.sum()
    assert n.diverted_out.sum() <= c.diverted.sum()


def test_a_closed_crossing_sends_every_would_be_traveller_elsewhere_at_departure():
    closed = _base(
        crossings=[
            _crossing("x", lat=50.0, lon=50.0, closed=[{"start": 0, "end": "3 d"}]),
            _crossing("y", lat=50.5, lon=50.5),
        ],
        corridors=[_corridor({"x": {"drive_to": "10 min", "drive_on": 0}, "y": {"drive_to": "90 min", "drive_on": 0}})],
        route_choice={"rule": "least_cost"},
    )
    r = _run(closed)
    _conserved(r)
    by = r.network.set_index("crossing")
    assert by.loc["x", "set_off_for"] == 0
    assert by.loc["x", "used"] == 0
    assert by.loc["y", "used"] == r.corridors.completed.sum() > 200


def test_a_crossing_closed_unannounced_diverts_everyone_who_set_off_for_it():
    data = _base(
        warmup=0,
        crossings=[
            _crossing("x", lat=50.0, lon=50.0, closed=[{"start": 0, "end": "3 d"}]),
            _crossing("y", lat=50.5, lon=50.5, servers=2),
        ],
        corridors=[
            _corridor(
                {"x": {"drive_to": "10 min", "drive_on": 0, "share": 1}, "y": {"drive_to": "90 min", "drive_on": 0}}
            )
        ],
        diversion={},
    )
    r = _run(data)
    _conserved(r)
    by = r.network.set_index("crossing")
    corridor = r.corridors.iloc[0]
    assert by.loc["x", "used"] == 0
    assert by.loc["x", "set_off_for"] == corridor.departures
    # every one of them turned round at the closed gate and drove once to y
    assert by.loc["x", "diverted_out"] == corridor.departures
    assert by.loc["y", "diverted_in"] == corridor.departures
    assert by.loc["y", "used"] == corridor.completed
    detour = compile_model(scenario_from_dict(data)).corridors[0].detour[0, 1]
    assert corridor.drive_mean_min == pytest.approx(10.0 + detour, abs=1e-9)
    # the extra drive is measured against the shortest option (x: 10 minutes)
    assert corridor.extra_drive_vehicle_hours_per_day == pytest.approx(
        corridor.completed / 2 / 3.0 * detour / 60.0, rel=1e-9
    )


def test_queued_travellers_leave_a_crossing_that_closes_and_are_logged_once():
    data = _base(
        warmup=0,
        replications=1,
        crossings=[
            _crossing("x", lat=50.0, lon=50.0, closed=[{"start": "1 d", "end": "3 d"}]),
            _crossing("y", lat=50.1, lon=50.1, servers=3),
        ],
        stages={"border_control": {"per_vehicle": {"dist": "exponential", "mean": "13 min"}}},
        corridors=[
            _corridor({"x": {"drive_to": 0, "drive_on": 0, "share": 1}, "y": {"drive_to": "30 min", "drive_on": 0}})
        ],
        diversion={"margin": "5 min"},
    )
    model = compile_model(scenario_from_dict(data))
    rec = Recorder(0, [])
    visits: list[tuple] = []
    travellers: list[tuple] = []
    trips: list[tuple] = []
    rec.visit_log = lambda pool: visits
    rec.traveller_log = lambda: travellers
    rec.trip_log = lambda: trips
    engine = Engine(model, 0, rec)
    engine.run()
    assert engine.arrived == engine.released + len(engine.alive)
    ids = [t[0] for t in travellers]
    assert len(ids) == len(set(ids)) == engine.arrived  # each traveller logged exactly once
    assert len({t[0] for t in trips}) == len(trips) == engine.arrived
    gate_x = model.corridors[0].options[0].work[0][0]
    left = [v for v in visits if v[0] == gate_x and math.isnan(v[3]) and not math.isnan(v[5])]
    assert left, "someone was queueing at x when it closed"
    assert all(v[5] == pytest.approx(DAY) for v in left)  # they left the line at the closure
    assert not [v for v in visits if v[0] == gate_x and v[3] >= DAY]  # nobody served at x once shut


def test_pieces_keep_crossings_a_corridor_links_together_and_change_nothing():
    data = _base(
        crossings=[_crossing("x"), _crossing("y"), _crossing("z")],
        demand=[{"crossing": "z", "flow": "truck", "daily": 50}],
        corridors=[_corridor({"x": {"drive_to": 0, "drive_on": 0}, "y": {"drive_to": "5 min", "drive_on": 0}})],
        route_choice={"rule": "least_cost"},
    )
    model = compile_model(scenario_from_dict(data))
    pieces = model.pieces(3)
    assert sorted(p.crossings for p in pieces) == [("x", "y"), ("z",)]
    whole, split = _run(data), _run(data, pieces=3)
    pd.testing.assert_frame_equal(whole.summary, split.summary)
    pd.testing.assert_frame_equal(whole.corridors, split.corridors)


# -- the rules -------------------------------------------------------------------------------------
def test_pick_is_the_inverse_cdf_of_the_weights():
    assert [pick([1, 1, 2], u) for u in (0.0, 0.24, 0.26, 0.49, 0.5, 0.99, 1.0)] == [0, 0, 1, 1, 2, 2, 2]
    assert pick([0, 3, 0], 0.999999) == 1


def _quick(rule: dict, drives: tuple[float, float], daily: float = 2000.0) -> pd.DataFrame:
    data = _base(
        stages={"border_control": {"per_vehicle": {"dist": "constant", "value": "1 s"}}},
        crossings=[_crossing("x", servers=50), _crossing("y", servers=50)],
        corridors=[
            _corridor({"x": {"drive_to": drives[0], "drive_on": 0}, "y": {"drive_to": drives[1], "drive_on": 0}}, daily)
        ],
        route_choice=rule,
        replications=1,
    )
    return _run(data).network.set_index("crossing")


def test_least_cost_without_queues_takes_the_shorter_drive():
    by = _quick({"rule": "least_cost"}, (20.0, 25.0))
    assert by.loc["y", "set_off_for"] == 0
    assert by.loc["x", "set_off_for"] > 4000


def test_logit_shares_follow_the_cost_difference():
    # a cost difference of scale * ln 3 makes the cheaper option three times as likely
    scale = 30.0
    by = _quick({"rule": "logit", "scale": scale}, (0.0, scale * math.log(3.0)))
    n = by.set_off_for.sum()
    share = by.loc["x", "set_off_for"] / n
    assert abs(share - 0.75) < 4 * math.sqrt(0.75 * 0.25 / n)


def test_fixed_shares_thin_the_departures_in_the_stated_shares():
    data = _base(
        corridors=[
            _corridor(
                {"x": {"drive_to": 0, "drive_on": 0, "share": 0.2}, "y": {"drive_to": 0, "drive_on": 0, "share": 0.8}},
                200,
            )
        ],
        replications=1,
    )
    by = _run(data).network.set_index("crossing")
    n = by.set_off_for.sum()
    assert abs(by.loc["x", "set_off_for"] / n - 0.2) < 4 * math.sqrt(0.16 / n)


def test_balking_keeps_the_line_at_the_threshold():
    data = _base(
        warmup=0,
        replications=1,
        crossings=[_crossing("x"), _crossing("y", servers=20)],
        corridors=[
            _corridor(
                {"x": {"drive_to": 0, "drive_on": 0, "share": 1}, "y": {"drive_to": "30 min", "drive_on": 0}}, 300
            )
        ],
        diversion={"queue_threshold": 5, "margin": 0},
    )
    r = _run(data)
    _conserved(r)
    stages = r.stages
    x = stages[stages.crossing == "x"]
    assert x.queue_max.max() <= 6  # joined only while 5 or fewer waited
    assert r.network.set_index("crossing").loc["x", "diverted_out"] > 50


def test_the_published_board_shows_old_figures_until_the_next_publication():
    data = _base(corridors=[_corridor({"x": {"drive_to": 0, "drive_on": 0}, "y": {"drive_to": 0, "drive_on": 0}})])
    model = compile_model(scenario_from_dict(data))
    engine = Engine(model, 0, Recorder(0, []))
    live = WaitBoard(engine, "now", 60.0)
    board = WaitBoard(engine, "published", 60.0)
    board.publish(0.0)
    option = model.corridors[0].options[0]
    gate = engine.pools[option.work[0][0]]
    for _ in range(3):
        gate.queue.append(object())
    assert board.wait(option, 10.0) == 0.0
    assert live.wait(option, 10.0) == pytest.approx(3 * 10.0)
    board.publish(60.0)
    assert board.wait(option, 70.0) == pytest.approx(3 * 10.0)


def test_the_board_counts_the_time_until_a_shut_crossing_reopens():
    data = _base(
        crossings=[_crossing("x", hours="08:00-20:00"), _crossing("y")],
        corridors=[_corridor({"x": {"drive_to": 0, "drive_on": 0}, "y": {"drive_to": 0, "drive_on": 0}})],
    )
    model = compile_model(scenario_from_dict(data))
    engine = Engine(model, 0, Recorder(0, []))
    board = WaitBoard(engine, "now", 60.0)
    option = model.corridors[0].options[0]
    assert board.wait(option, 21 * 60.0) == pytest.approx(11 * 60.0)  # shut at 21:00 until 08:00
    assert board.wait(option, 9 * 60.0) == 0.0


# -- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (
            lambda d: d["corridors"][0]["crossings"].update({"zz": {"drive_to": 0, "drive_on": 0}}),
            "corridors[0].crossings.zz",
            "no crossing",
        ),
        (lambda d: d["corridors"][0].update({"flow": "lorry"}), "corridors[0].flow", "unknown flow"),
        (lambda d: d["corridors"][0]["crossings"]["x"].pop("drive_to"), "corridors[0].crossings.x", "drive_to"),
        (lambda d: d.update({"route_choice": {"rule": "cheapest"}}), "route_choice.rule", "fixed_shares"),
        (
            lambda d: d.update(
                {"weather": [{"id": "w", "regions": ["Nowhere"], "episodes": [{"start": 0, "end": 5}]}]}
            ),
            "weather[0]",
            "region",
        ),
    ],
)
def test_bad_corridors_are_named_by_field(change, where, words):
    data = _base(corridors=[_corridor({"x": {"drive_to": 0, "drive_on": 0}})])
    change(data)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(copy.deepcopy(data), "net.yaml")
    text = str(info.value)
    assert "net.yaml" in text
    assert where in text
    assert words in text


def test_diversion_without_corridors_is_refused():
    data = _base(demand=[{"crossing": "x", "flow": "truck", "daily": 10}], diversion={})
    with pytest.raises(ScenarioError, match="no corridors"):
        scenario_from_dict(data, "net.yaml")


def test_a_river_crossing_is_shut_outside_its_navigation_season():
    data = _base(
        horizon="20 d",
        warmup=0,
        replications=1,
        start_date="2023-04-05",
        crossings=[
            _crossing("x"),
            {**_crossing("ferry"), "mode": "river", "season": {"open": "04-15", "close": "11-15"}},
        ],
        demand=[
            {"crossing": "ferry", "flow": "truck", "daily": 20},
            {"crossing": "x", "flow": "truck", "daily": 20},
        ],
    )
    scenario = scenario_from_dict(data)
    assert scenario.start_weekday == "wednesday"  # 5 April 2023, from the date
    model = compile_model(scenario)
    for pool in (p for p in model.pools if p.crossing == "ferry"):
        # shut from the start (out of season) until 15 April, 10 days in; open after
        assert pool.initial == 0
        assert pool.change_times[0] == pytest.approx(10 * DAY)
        assert pool.change_caps[0] > 0
    r = _run(data)
    ferry = r.summary[(r.summary.crossing == "ferry") & (r.summary.direction == "ALL")].iloc[0]
    # everyone who came in the first ten days waited for the season to open
    assert ferry.wait_max_min > 9 * DAY


def test_a_navigation_season_needs_a_start_date():
    data = _base(
        crossings=[{**_crossing("ferry"), "mode": "river", "season": {"open": "04-15", "close": "11-15"}}],
        demand=[{"crossing": "ferry", "flow": "truck", "daily": 20}],
    )
    with pytest.raises(ScenarioError, match="start_date"):
        scenario_from_dict(data, "net.yaml")


def test_a_corridor_catalogue_error_names_the_csv_file_and_row(tmp_path):
    (tmp_path / "corridors.csv").write_text(
        "corridor,flow,direction,daily,crossing,drive_to,drive_on\n"
        "c1,truck,a_to_b,100,x,10,0\n"
        "c1,truck,a_to_b,120,y,10,0\n"  # daily differs from the corridor's first row
        "c2,truck,a_to_b,50,zz,10,0\n",  # no such crossing
        encoding="utf-8",
    )
    data = _base(corridors_csv="corridors.csv")
    (tmp_path / "net.yaml").write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML 1.2
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(tmp_path / "net.yaml")
    text = str(info.value)
    assert "corridors.csv:3: daily" in text
    assert "corridors.csv:4" in text
    assert "zz" in text


def test_a_corridor_catalogue_loads_as_corridors(tmp_path):
    (tmp_path / "corridors.csv").write_text(
        "corridor,flow,direction,daily,crossing,km_to,km_on,share\nc1,truck,a_to_b,100,x,10,0,1\nc1,truck,a_to_b,100,y,30,5,0\n",
        encoding="utf-8",
    )
    (tmp_path / "net.yaml").write_text(json.dumps(_base(corridors_csv="corridors.csv")), encoding="utf-8")
    scenario = sim.load_scenario(tmp_path / "net.yaml")
    (corridor,) = scenario.corridors
    assert list(corridor.crossings) == ["x", "y"]
    assert corridor.crossings["y"].km_to == 30.0
    option = compile_model(scenario).corridors[0].options[1]
    assert option.drive_to == pytest.approx(30.0)  # 30 km at the default 60 km/h
