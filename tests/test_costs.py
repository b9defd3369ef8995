"""Costs of delay: the format's checks, exact hours and costs of a hand-computed run, the files and reports."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

import sim
from sim.analysis.comparison import compare_replications
from sim.analysis.costs import COST_KPIS
from sim.analysis.kpis import ALL, KPIS
from sim.experiments.compare import compare
from sim.model.compile import compile_model
from sim.scenario.errors import ScenarioError
from tests.conftest import one_crossing, only_our_scripts, run_dict, without_scripts

TUTORIAL = Path("scenarios/tutorial_single_crossing.yaml")
PRICED = ("delay_value_per_day", "idle_fuel_l_per_day", "co2_kg_per_day", "pm25_g_per_day")

TRUCK = {
    "value_per_vehicle_hour": {"value": 833, "source": "carriers' cost of a truck-day / 24"},
    "idling_share": {"value": 0.5, "assumption": "half the queue time idling"},
    "idle_fuel_l_per_h": {"value": 1.86, "source": "DOE fact 861"},
    "co2_kg_per_l": {"value": 2.68, "source": "EIA diesel"},
    "idle_pm25_g_per_h": {"value": 0.2, "assumption": "order of magnitude"},
}
CAR = {
    "value_per_person_hour": {"value": 158, "assumption": "0.3 x wage"},
    "idling_share": {"value": 0.5, "assumption": "half the queue time idling"},
    "idle_fuel_l_per_h": {"value": 0.61, "source": "DOE fact 861"},
    "co2_kg_per_l": {"value": 2.35, "source": "EIA gasoline"},
}
COSTS = {"currency": "RUB", "flows": {"truck": TRUCK, "car": CAR}}


def tutorial(costs: dict[str, Any] | None = None) -> dict[str, Any]:
    data = YAML(typ="safe").load(TUTORIAL.read_text())
    if costs is not None:
        data["costs"] = copy.deepcopy(costs)
    return data


def write(tmp_path: Path, data: Any, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    with path.open("w") as fh:
        YAML().dump(data, fh)
    return path


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        sim.scenario_from_dict(data)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


# -- the format ------------------------------------------------------------------------------------
def test_a_costs_block_is_accepted_and_compiled_to_numbers():
    scenario = sim.scenario_from_dict(tutorial(COSTS))
    plan = compile_model(scenario).costs
    assert plan.currency == "RUB"
    assert plan.rates["value_per_vehicle_hour"] == {"truck": 833.0}
    assert plan.rates["idling_share"] == {"truck": 0.5, "car": 0.5}
    assert np.isnan(plan.per_flow("idle_pm25_g_per_h", ["car"])[0])
    assert scenario.costs.flows["truck"].value_per_vehicle_hour.basis == (
        "source",
        "carriers' cost of a truck-day / 24",
    )


def _with(path: str, value: Any) -> dict[str, Any]:
    costs = copy.deepcopy(COSTS)
    target = costs
    keys = path.split(".")
    for k in keys[:-1]:
        target = target[k]
    if value is None:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return tutorial(costs)


BAD = [
    (
        "neither source nor assumption",
        "flows.truck.idle_fuel_l_per_h",
        {"value": 1.86},
        "costs.flows.truck.idle_fuel_l_per_h: give exactly one of source (a citation) or assumption",
    ),
    (
        "both source and assumption",
        "flows.truck.idle_fuel_l_per_h",
        {"value": 1.86, "source": "DOE", "assumption": "a guess"},
        "costs.flows.truck.idle_fuel_l_per_h: give exactly one",
    ),
    (
        "an empty source",
        "flows.car.co2_kg_per_l",
        {"value": 2.35, "source": "  "},
        "costs.flows.car.co2_kg_per_l: give exactly one",
    ),
    (
        "a negative value",
        "flows.truck.value_per_vehicle_hour",
        {"value": -1, "source": "x"},
        "costs.flows.truck.value_per_vehicle_hour.value: must be >= 0",
    ),
    (
        "a share above 1",
        "flows.car.idling_share",
        {"value": 1.5, "assumption": "x"},
        "costs.flows.car.idling_share.value: must be <= 1",
    ),
    ("fuel without idling share", "flows.car.idling_share", None, "costs.flows.car: idle_fuel_l_per_h and"),
    ("CO2 without fuel", "flows.truck.idle_fuel_l_per_h", None, "costs.flows.truck: co2_kg_per_l needs"),
    ("a value without currency", "currency", None, "costs: currency is needed"),
    ("an unknown key", "flows.truck.fuel", {"value": 1, "source": "x"}, "costs.flows.truck.fuel: unknown key"),
    (
        "an unknown flow",
        "flows.truk",
        {"value_per_vehicle_hour": {"value": 1, "source": "x"}},
        "costs.flows.truk: unknown flow 'truk' (known: car, truck; did you mean 'truck'?)",
    ),
]


@pytest.mark.parametrize(("label", "path", "value", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_costs_are_rejected_at_the_field(label, path, value, expected):
    found = problems(_with(path, value))
    assert any(p.startswith(expected) for p in found), found


def test_a_person_value_for_a_flow_of_wagons_is_rejected():
    data = tutorial({"currency": "RUB", "flows": {"truck": {"value_per_person_hour": {"value": 1, "source": "x"}}}})
    data["flows"]["truck"]["occupants"] = "wagons"
    found = problems(data)
    assert any(p.startswith("costs.flows.truck.value_per_person_hour: flow 'truck' counts wagons") for p in found)


def test_the_command_line_names_the_file_and_field_and_exits_2(tmp_path):
    path = write(tmp_path, _with("flows.truk", {"value_per_vehicle_hour": {"value": 1, "source": "x"}}))
    out = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)], capture_output=True, text=True)
    assert out.returncode == 2
    assert f"{path}:" in out.stderr
    assert "costs.flows.truk: unknown flow 'truk'" in out.stderr
    assert "Traceback" not in out.stderr


def test_extends_merges_rates_key_by_key(tmp_path):
    write(tmp_path, tutorial(COSTS), "base.yaml")
    child = {"extends": "base.yaml", "name": "child"}
    child["costs"] = {"flows": {"truck": {"idle_fuel_l_per_h": {"value": 2.42}}}}
    changed = sim.load_scenario(write(tmp_path, child, "child.yaml"))
    fuel = changed.costs.flows["truck"].idle_fuel_l_per_h
    assert (fuel.value, fuel.basis) == (2.42, ("source", "DOE fact 861"))
    assert changed.costs.flows["car"].value_per_person_hour.value == 158
    # a cited rate made an assumption: the base's source must be cleared, or the rate has both
    child["costs"] = {"flows": {"truck": {"idle_fuel_l_per_h": {"value": 3.0, "assumption": "winter heating"}}}}
    with pytest.raises(ScenarioError, match="idle_fuel_l_per_h: give exactly one"):
        sim.load_scenario(write(tmp_path, child, "child.yaml"))
    child["costs"]["flows"]["truck"]["idle_fuel_l_per_h"]["source"] = None
    fuel = sim.load_scenario(write(tmp_path, child, "child.yaml")).costs.flows["truck"].idle_fuel_l_per_h
    assert fuel.basis == ("assumption", "winter heating")


# -- exact figures ---------------------------------------------------------------------------------
def _exact() -> dict[str, Any]:
    """One booth per flow, 10 min a vehicle, everyone at 0: waits 0, 10, 20 min (trucks), 0, 10 (cars and trains)."""
    stages = {"check": {"per_vehicle": "10 min", "per_person": 0}}
    demand = [
        {"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [0, 0, 0]},
        {"crossing": "x", "flow": "car", "direction": "a_to_b", "times": [0, 0]},
        {"crossing": "x", "flow": "train", "direction": "b_to_a", "times": [0, 0]},
    ]
    data = one_crossing(stages, {"exit": ["check"], "entry": []}, {"check": {"truck": 1, "car": 1, "train": 1}})
    data["crossings"][0]["sides"]["b"]["servers"] = {"check": {"train": 1}}
    data["flows"]["train"] = {"unit": "train", "occupants": "wagons", "occupancy": 50}
    data.update(demand=demand, horizon="1 d", replications=2, costs=copy.deepcopy(COSTS))
    return data


def test_hours_and_costs_of_a_hand_computed_run():
    reps = run_dict(_exact(), records="none").replications
    row = reps[reps["replication"] == 0].set_index(["crossing", "direction", "flow"])
    truck, car, train = (
        row.loc[("x", "a_to_b", "truck")],
        row.loc[("x", "a_to_b", "car")],
        row.loc[("x", "b_to_a", "train")],
    )
    # one day observed: 30 truck-minutes, 10 car-minutes (2 persons each), 10 train-minutes (wagons)
    assert truck["delay_vehicle_hours_per_day"] == pytest.approx(0.5, abs=1e-9)
    assert truck["delay_person_hours_per_day"] == pytest.approx(0.5, abs=1e-9)
    assert car["delay_vehicle_hours_per_day"] == pytest.approx(1 / 6, abs=1e-9)
    assert car["delay_person_hours_per_day"] == pytest.approx(1 / 3, abs=1e-9)
    assert train["delay_vehicle_hours_per_day"] == pytest.approx(1 / 6, abs=1e-9)
    assert math.isnan(train["delay_person_hours_per_day"])
    # value: trucks by the vehicle, cars by the person; fuel, CO2 and PM2.5 from the idling hours
    assert truck["delay_value_per_day"] == pytest.approx(0.5 * 833, abs=1e-9)
    assert car["delay_value_per_day"] == pytest.approx(158 / 3, abs=1e-9)
    assert truck["idle_fuel_l_per_day"] == pytest.approx(0.5 * 0.5 * 1.86, abs=1e-9)
    assert truck["co2_kg_per_day"] == pytest.approx(0.5 * 0.5 * 1.86 * 2.68, abs=1e-9)
    assert truck["pm25_g_per_day"] == pytest.approx(0.5 * 0.5 * 0.2, abs=1e-9)
    assert car["co2_kg_per_day"] == pytest.approx(0.5 / 6 * 0.61 * 2.35, abs=1e-9)
    assert math.isnan(car["pm25_g_per_day"])
    for name in PRICED:  # no rate, no figure: the train has hours only
        assert math.isnan(train[name]), name
    whole = row.loc[(ALL, ALL, ALL)]
    assert whole["delay_vehicle_hours_per_day"] == pytest.approx(0.5 + 2 / 6, abs=1e-9)
    assert whole["delay_person_hours_per_day"] == pytest.approx(0.5 + 1 / 3, abs=1e-9)
    assert whole["delay_value_per_day"] == pytest.approx(0.5 * 833 + 158 / 3, abs=1e-9)
    assert whole["pm25_g_per_day"] == pytest.approx(0.05, abs=1e-9)


def test_every_total_row_is_the_sum_of_its_groups_and_hours_match_the_records():
    data = tutorial(COSTS)
    result = run_dict(data, replications=2, days=2, records="travellers")
    reps = result.replications
    records = result.records
    done = records[(records["arrival_min"] >= 1440) & records["release_min"].notna()]
    days = 1.0  # 2 days simulated, 1 of warm-up
    keys = ["replication", "crossing", "direction", "flow"]
    expected = done.assign(pw=done["wait_min"] * done["persons"]).groupby(keys)[["wait_min", "pw"]].sum()
    groups = reps[(reps["crossing"] != ALL) & (reps["direction"] != ALL) & (reps["flow"] != ALL)].set_index(keys)
    got = groups.loc[expected.index]
    np.testing.assert_allclose(got["delay_vehicle_hours_per_day"], expected["wait_min"] / 60 / days, rtol=1e-12)
    np.testing.assert_allclose(got["delay_person_hours_per_day"], expected["pw"] / 60 / days, rtol=1e-12)
    rates = {"truck": (833, 0.0, 1.86, 2.68), "car": (0.0, 158, 0.61, 2.35)}
    for (_, _, _, flow), g in got.iterrows():
        by_vehicle, by_person, fuel, co2 = rates[flow]
        hours, person_hours = g["delay_vehicle_hours_per_day"], g["delay_person_hours_per_day"]
        assert g["delay_value_per_day"] == pytest.approx(hours * by_vehicle + person_hours * by_person, rel=1e-12)
        assert g["co2_kg_per_day"] == pytest.approx(hours * 0.5 * fuel * co2, rel=1e-12)
    for name in COST_KPIS:
        for r, rows in reps.groupby("replication"):
            base = rows[(rows["crossing"] != ALL) & (rows["direction"] != ALL) & (rows["flow"] != ALL)]
            for (crossing, direction, flow), total in rows.set_index(["crossing", "direction", "flow"])[name].items():
                if ALL not in (crossing, direction, flow):
                    continue
                part = base[
                    base["crossing"].isin([crossing] if crossing != ALL else base["crossing"])
                    & base["direction"].isin([direction] if direction != ALL else base["direction"])
                    & base["flow"].isin([flow] if flow != ALL else base["flow"])
                ][name]
                assert total == pytest.approx(part.sum(min_count=1), rel=1e-9, nan_ok=True), (r, name, crossing, flow)


def test_without_costs_hours_are_computed_and_every_priced_figure_is_empty(tmp_path):
    result = run_dict(tutorial(), replications=2, days=2, records="none")
    reps = result.replications
    assert set(COST_KPIS) <= set(KPIS)
    assert reps["delay_vehicle_hours_per_day"].notna().all()
    assert (reps["delay_vehicle_hours_per_day"] > 0).any()
    for name in PRICED:
        assert reps[name].isna().all(), name
    out = result.write(tmp_path / "run", report=False)
    costs = pd.read_csv(out / "costs.csv", keep_default_na=False, na_values=[""])
    assert not (out / "cost_rates.csv").exists()
    assert costs["currency"].isna().all()
    assert costs["delay_value_per_day"].isna().all()
    summary = pd.read_csv(out / "summary.csv")
    assert len(costs) == len(summary)
    assert list(costs[["crossing", "direction", "flow"]].itertuples(index=False)) == list(
        summary[["crossing", "direction", "flow"]].itertuples(index=False)
    )


# -- files, comparison and reports ---------------------------------------------------------------
HOSTILE = "<script>alert('rate')</script> & co"


def test_costs_in_files_comparison_and_reports(tmp_path):
    costs = copy.deepcopy(COSTS)
    costs["currency"] = "<b>RUB</b>"
    costs["flows"]["truck"]["idling_share"]["assumption"] = HOSTILE
    base = sim.scenario_from_dict({**tutorial(costs), "name": "base"})
    slower = tutorial(costs)
    slower["crossings"][0]["sides"]["a"]["servers"]["border_control"] = {"car": 2, "truck": 1}
    other = sim.scenario_from_dict({**slower, "name": "slower"})
    result = compare(base, [other], replications=2, days=2, records="none")
    out = result.write(tmp_path / "cmp")

    table = pd.read_csv(out / "base" / "costs.csv", keep_default_na=False, na_values=[""])
    reps = pd.read_csv(out / "base" / "replications.csv")
    whole = table[(table["crossing"] == ALL) & (table["direction"] == ALL) & (table["flow"] == ALL)].iloc[0]
    values = reps[(reps["crossing"] == ALL) & (reps["direction"] == ALL) & (reps["flow"] == ALL)]["co2_kg_per_day"]
    assert whole["co2_kg_per_day"] == pytest.approx(values.mean(), rel=1e-5)
    assert whole["currency"] == "<b>RUB</b>"
    rates = pd.read_csv(out / "base" / "cost_rates.csv")
    assert (rates["basis"] == "assumption").sum() == 4
    assert HOSTILE in set(rates["text"])

    comparison = pd.read_csv(out / "comparison.csv")
    new = comparison[
        comparison["metric"].isin(["delay_vehicle_hours_per_day", "delay_value_per_day", "co2_kg_per_day"])
    ]
    assert len(new) == 3 * (comparison["metric"] == "wait_mean_min").sum()
    hours = new[(new["metric"] == "delay_vehicle_hours_per_day") & (new["flow"] == "truck") & (new["crossing"] == ALL)]
    assert (hours["diff"] > 0).all()  # one truck booth fewer: more hours waited
    # the rows of the other metrics are what they were without the new ones
    old = [m for m in comparison["metric"].unique() if m not in set(new["metric"])]
    alone = compare_replications(result.runs[0].replications, result.runs[1].replications, tuple(old))
    mine = comparison[comparison["metric"].isin(old)].reset_index(drop=True)
    np.testing.assert_allclose(mine["diff"], alone["diff"], rtol=1e-5, equal_nan=True)

    for page in (out / "base" / "report.html", out / "report.html"):
        text = page.read_text()
        assert "Costs of delay" in text
        only_our_scripts(text)
        markup = without_scripts(text)
        assert "<script>alert" not in markup
        assert "<b>RUB</b>" not in markup
        assert "&lt;script&gt;alert(&#x27;rate&#x27;)&lt;/script&gt; &amp; co" in markup
        assert "assumption: " in markup
    cmp_page = without_scripts((out / "report.html").read_text())
    assert 'id="cost-differences"' in cmp_page
    assert "95% paired interval" in cmp_page
