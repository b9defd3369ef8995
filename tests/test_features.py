"""Scenario features beyond the basics: per-side stage settings, lane shares, days, timed trips."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.model.compile import compile_model
from tests.conftest import one_crossing, run_dict

ROOT = Path(__file__).resolve().parent.parent


def test_one_country_checks_and_the_other_does_not():
    data = one_crossing(
        stages={
            "border_control": {"per_vehicle": 1},
            "customs": {
                "per_vehicle": 5,
                "sides": {"a": {"select": 0.0}, "b": {"flows": {"truck": {"per_vehicle": 7}}}},
            },
        },
        regime={"exit": ["border_control"], "entry": ["border_control", "customs"]},
        servers_a={"border_control": 1, "customs": 1},
        servers_b={"border_control": 1, "customs": 1},
        demand=[
            {"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0]},
            {"crossing": "x", "flow": "truck", "direction": "b_to_a", "times": [0]},
            {"crossing": "x", "flow": "car", "direction": "a_to_b", "times": [100]},
        ],
    )
    r = run_dict(data)
    v = r.visits.sort_values(["traveller", "start_min"])
    customs = v[v["stage"] == "customs"]
    # into B (side b checks trucks for 7 min, cars for 5); into A nobody is checked
    assert sorted(zip(customs["side"], customs["end_min"] - customs["start_min"], strict=True)) == [("b", 5), ("b", 7)]
    assert set(r.records["release_min"]) == {9.0, 2.0, 107.0}


@pytest.mark.parametrize(("spec", "lanes", "expected"), [("lanes", 8, 8), ("lanes * 0.5", 8, 4), ("lanes*0.25", 2, 1)])
def test_servers_as_a_share_of_lanes(spec, lanes, expected):
    data = one_crossing(
        stages={"check": {"per_vehicle": 1}},
        regime={"exit": ["check"]},
        servers_a={"check": spec},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 10}],
    )
    data["crossings"][0]["sides"]["a"]["lanes"] = lanes
    model = compile_model(sim.scenario_from_dict(data))
    assert model.pools[0].initial == expected


def test_open_days_and_trips_timed_to_the_opening_hours():
    data = one_crossing(
        stages={"check": {"per_vehicle": 1}},
        regime={"exit": ["check"]},
        servers_a={"check": 5},
        demand=[{"crossing": "x", "flow": "car", "direction": "a_to_b", "daily": 200}],
        hours="08:00-16:00",
        open_days=["friday", "saturday", "sunday"],
    )
    data.update(horizon="14 d", warmup=0)
    r = run_dict(data)
    rec = r.records
    day = (rec["arrival_min"] // 1440).astype(int) % 7  # day 0 is a Monday
    minute = rec["arrival_min"] % 1440
    assert set(day) == {4, 5, 6}
    assert minute.between(480, 960).all()
    # the fortnight's volume is kept: 14 days x 200, give or take Poisson noise
    assert abs(len(rec) - 2800) < 4 * np.sqrt(2800)
    assert (rec["wait_min"] < 60).all()  # nobody waits for the opening


def test_trips_around_the_clock_when_asked():
    data = one_crossing(
        stages={"check": {"per_vehicle": 1}},
        regime={"exit": ["check"]},
        servers_a={"check": 5},
        demand=[{"crossing": "x", "flow": "car", "direction": "a_to_b", "daily": 200, "during_hours": False}],
        hours="08:00-16:00",
    )
    r = run_dict(data)
    early = r.records[(r.records["arrival_min"] % 1440) < 300]
    assert len(early) > 0
    # they wait for 08:00
    assert np.allclose(early["release_min"] % 1440, 480 + early["service_min"], atol=60)


def test_the_variant_example_in_the_scenarios_readme(tmp_path):
    text = (ROOT / "scenarios" / "README.md").read_text()
    (example,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.S) if "extends:" in b]
    base = (ROOT / "scenarios" / "kz_ru_2011_customs_union.yaml").as_posix()
    (tmp_path / "variant.yaml").write_text(example.replace("kz_ru_2011_customs_union.yaml", base))
    s = sim.load_scenario(tmp_path / "variant.yaml")
    zhaisan = next(c for c in s.crossings if c.id == "zhaisan_sagarchin_road")
    assert zhaisan.sides["b"].lanes == 4
    assert zhaisan.sides["a"].lanes == 8  # untouched
    assert s.regime.default == "customs_union"


def test_trace_replay_from_csv(tmp_path):
    (tmp_path / "trace.csv").write_text("arrival_min,check_min\n5,2\n0,10\n1,1\n")
    data = one_crossing(
        stages={"check": {"per_vehicle": {"dist": "exponential", "mean": 3}}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "trace": "trace.csv"}],
    )
    from ruamel.yaml import YAML

    with (tmp_path / "s.yaml").open("w") as fh:
        YAML().dump(data, fh)
    s = sim.load_scenario(tmp_path / "s.yaml")
    assert s.demand[0].times == [5, 0, 1]
    r = sim.run(s)
    v = r.visits.sort_values("enter_min")
    # sorted by arrival: (0, 10 min), (1, 1 min), (5, 2 min), one booth, FIFO
    assert list(zip(v["enter_min"], v["start_min"], v["end_min"], strict=True)) == [
        (0, 0, 10),
        (1, 10, 11),
        (5, 11, 13),
    ]
    (tmp_path / "trace.csv").write_text("arrival_min,check_min\n5,-2\nsoon,1\n")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(tmp_path / "s.yaml")
    messages = [str(p) for p in info.value.problems]
    assert any("trace.csv:2: check_min: must be a number of minutes from 0" in m for m in messages), messages
    assert any("trace.csv:3: arrival_min: expected a number of minutes" in m for m in messages), messages
