"""Exact micro-scenarios: deterministic times, every visit's timeline asserted."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import one_crossing, run_dict


def timeline(result, stage=None, side=None):
    v = result.visits.sort_values(["traveller", "enter_min"])
    if stage is not None:
        v = v[v["stage"] == stage]
    if side is not None:
        v = v[v["side"] == side]
    return [(int(r.traveller), r.enter_min, r.start_min, r.end_min, r.leave_min) for r in v.itertuples()]


def releases(result):
    return result.records.sort_values("traveller")["release_min"].tolist()


def test_two_trucks_one_booth():
    data = one_crossing(
        stages={"check": {"per_vehicle": "10 min"}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0, 2]}],
    )
    r = run_dict(data)
    assert timeline(r) == [(0, 0, 0, 10, 10), (1, 2, 10, 20, 20)]
    assert releases(r) == [10, 20]
    waits = r.records.sort_values("traveller")["wait_min"].tolist()
    assert waits == [0, 8]
    row = r.summary.query("crossing == 'x' and flow == 'truck'").iloc[0]
    assert row["wait_mean_min"] == 4
    assert row["wait_max_min"] == 8
    assert row["time_in_system_mean_min"] == 14


def test_neutral_zone_blocks_the_exit_booth():
    # exit booth 1 min, entry booth 10 min, room for one vehicle between the posts
    data = one_crossing(
        stages={"out": {"per_vehicle": 1}, "in": {"per_vehicle": 10}},
        regime={"exit": ["out"], "entry": ["in"]},
        servers_a={"out": 1},
        servers_b={"in": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0, 0, 0, 0]}],
        neutral_zone=1,
    )
    r = run_dict(data)
    # T2 finishes its exit check at 3 but the zone is full (T1 waits in it) until T1
    # starts its entry check at 11: T2 holds the exit booth till then, and T3 behind it.
    assert timeline(r, stage="out") == [
        (0, 0, 0, 1, 1),
        (1, 0, 1, 2, 2),
        (2, 0, 2, 3, 11),
        (3, 0, 11, 12, 21),
    ]
    assert timeline(r, stage="in") == [
        (0, 1, 1, 11, 11),
        (1, 2, 11, 21, 21),
        (2, 11, 21, 31, 31),
        (3, 21, 31, 41, 41),
    ]
    assert releases(r) == [11, 21, 31, 41]
    # blocked time counts as a wait (time in system 11, 21, 31, 41 less 11 of service)
    assert r.records.sort_values("traveller")["wait_min"].tolist() == [0, 10, 20, 30]
    # and keeps the exit booth busy: 1 + 1 + 9 + 10 booth-minutes
    out = r.stages.query("stage == 'out'").iloc[0]
    assert out["utilization"] == pytest.approx(21 / (3 * 1440))


def test_unlimited_zone_does_not_block():
    data = one_crossing(
        stages={"out": {"per_vehicle": 1}, "in": {"per_vehicle": 10}},
        regime={"exit": ["out"], "entry": ["in"]},
        servers_a={"out": 1},
        servers_b={"in": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0, 0, 0, 0]}],
    )
    r = run_dict(data)
    assert [t[4] for t in timeline(r, stage="out")] == [1, 2, 3, 4]
    assert releases(r) == [11, 21, 31, 41]


@pytest.mark.parametrize(
    ("regime", "expected"),
    [
        (
            "double_control",
            [
                ("a", "exit", "border_control", 0, 2),
                ("a", "exit", "customs", 2, 5),
                ("b", "entry", "border_control", 5, 7),
                ("b", "entry", "customs", 7, 10),
            ],
        ),
        (
            "customs_union",
            [("a", "exit", "border_control", 0, 2), ("b", "entry", "border_control", 2, 4)],
        ),
        ("joint_control", [("b", "joint", "border_control", 0, 2)]),
    ],
)
def test_joint_versus_double_control(regime, expected):
    # a car with 2 persons: border control 1 min + 2 x 0.5 min, customs 3 min
    stages = {
        "border_control": {"per_vehicle": 1, "per_person": "30 s"},
        "customs": {"per_vehicle": 3},
    }
    servers = {"border_control": 1, "customs": 1}
    data = one_crossing(
        stages=stages,
        regime=regime,
        servers_a=servers,
        servers_b=servers,
        demand=[{"crossing": "x", "flow": "car", "direction": "a_to_b", "times": [0]}],
    )
    r = run_dict(data)
    v = r.visits.sort_values("start_min")
    got = [(r_.side, r_.role, r_.stage, r_.start_min, r_.end_min) for r_ in v.itertuples()]
    assert got == expected
    assert releases(r) == [expected[-1][-1]]
    assert r.records["persons"].tolist() == [2]


def test_joint_control_at_the_exit_post():
    data = one_crossing(
        stages={"border_control": {"per_vehicle": 4}},
        regime={"joint": ["border_control"], "joint_at": "exit"},
        servers_a={"border_control": 1},
        servers_b={"border_control": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "b_to_a", "times": [5]}],
    )
    r = run_dict(data)
    assert [(v.side, v.role, v.start_min, v.end_min) for v in r.visits.itertuples()] == [("b", "joint", 5, 9)]


def test_staffing_increase_starts_waiting_travellers():
    # 1 booth in hour 0, 2 from hour 1: the third truck starts at 60, not at 100
    data = one_crossing(
        stages={"check": {"per_vehicle": 50}},
        regime={"exit": ["check"]},
        servers_a={"check": [1] + [2] * 23},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0, 0, 0]}],
    )
    r = run_dict(data)
    assert timeline(r) == [(0, 0, 0, 50, 50), (1, 0, 50, 100, 100), (2, 0, 60, 110, 110)]


def test_staffing_decrease_lets_busy_booths_finish():
    # 2 booths in hour 0, 1 from hour 1; no one is cut off mid-service
    data = one_crossing(
        stages={"check": {"per_vehicle": 50}},
        regime={"exit": ["check"]},
        servers_a={"check": [2] + [1] * 23},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0, 0, 0, 70]}],
    )
    r = run_dict(data)
    assert timeline(r) == [
        (0, 0, 0, 50, 50),
        (1, 0, 0, 50, 50),
        (2, 0, 50, 100, 100),
        (3, 70, 100, 150, 150),
    ]
    st = r.stages.iloc[0]
    assert st["servers"] == "2"
    # busy 200 booth-minutes out of 3 days x (2 x 60 + 1 x 1380) available (the plan repeats daily)
    assert st["utilization"] == pytest.approx(200 / (3 * (2 * 60 + 1380)))


def test_closed_crossing_holds_arrivals_until_it_opens():
    data = one_crossing(
        stages={"check": {"per_vehicle": 10}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": ["7 h", "1195 min", "1198 min"]}],
        hours="08:00-20:00",
    )
    r = run_dict(data)
    assert timeline(r) == [
        (0, 420, 480, 490, 490),  # waits for 08:00
        (1, 1195, 1195, 1205, 1205),  # started before 20:00, finishes after
        (2, 1198, 1920, 1930, 1930),  # the booth frees at 20:05, after closing: next morning
    ]


def test_closure_period():
    data = one_crossing(
        stages={"check": {"per_vehicle": 10}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": ["1 d", "1.5 d"]}],
        closed=[{"start": "1 d", "end": "2 d", "reason": "road works"}],
    )
    r = run_dict(data)
    assert timeline(r) == [(0, 1440, 2880, 2890, 2890), (1, 2160, 2890, 2900, 2900)]


def test_secondary_inspection_and_selection_are_drawn_per_traveller():
    data = one_crossing(
        stages={
            "customs": {
                "per_vehicle": 1,
                "select": 0.5,
                "secondary": {"share": 1.0, "time": 30},
            }
        },
        regime={"exit": ["customs"]},
        servers_a={"customs": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": list(range(0, 2000, 20))}],
    )
    r = run_dict(data)
    primary = r.visits[~r.visits["secondary"]]
    secondary = r.visits[r.visits["secondary"]]
    assert 30 < len(primary) < 70  # about half selected
    # every selected truck, and only those, goes to the secondary inspection for 30 min
    assert sorted(primary["traveller"]) == sorted(secondary["traveller"])
    assert np.allclose(secondary["end_min"] - secondary["start_min"], 30)
    assert (secondary["start_min"] == secondary["enter_min"]).all()  # unlimited places: no wait
    tis = r.records.set_index("traveller")["time_in_system_min"]
    assert set(np.round(tis, 9)) == {0.0, 31.0}


def test_still_inside_at_the_end_is_counted():
    data = one_crossing(
        stages={"check": {"per_vehicle": "1 d"}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0, 10, 20]}],
    )
    data["horizon"] = "1.5 d"
    r = run_dict(data)
    row = r.summary.query("crossing == 'x' and flow == 'truck'").iloc[0]
    assert (row["arrivals"], row["completed"], row["in_system_at_end"]) == (3, 1, 2)
    v = timeline(r)
    assert v[0] == (0, 0, 0, 1440, 1440)
    assert v[1][:3] == (1, 10, 1440)
    assert np.isnan(v[1][3])
    assert v[2][:2] == (2, 20)
    assert np.isnan(v[2][2])
