"""The Kazakhstan–Russia reference case: catalogue counts, calibration, and policy directions."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

import sim
from sim.experiments.run import compare

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "scenarios" / "data" / "kz_ru_crossings.csv"
KZ_REGIONS = {"Atyrau", "West Kazakhstan", "Aktobe", "Kostanay", "North Kazakhstan", "Pavlodar", "East Kazakhstan"}
RU_REGIONS = {
    "Astrakhan",
    "Volgograd",
    "Saratov",
    "Samara",
    "Orenburg",
    "Chelyabinsk",
    "Kurgan",
    "Tyumen",
    "Omsk",
    "Novosibirsk",
    "Altai Krai",
    "Altai Republic",
}


def rows() -> list[dict[str, str]]:
    with CATALOGUE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_catalogue_counts_match_the_seed_documents():
    r = rows()
    assert len(r) == 75
    counts = Counter((x["category"], x["mode"]) for x in r)
    assert counts == {
        ("multilateral", "rail"): 20,
        ("multilateral", "road"): 18,
        ("bilateral", "rail"): 3,
        ("bilateral", "road"): 28,
        ("bilateral", "river"): 1,
        ("simplified", "road"): 5,
    }
    assert Counter(x["category"] for x in r) == {"multilateral": 38, "bilateral": 32, "simplified": 5}


def test_catalogue_regions_and_sources():
    r = rows()
    assert len({x["id"] for x in r}) == 75
    assert {x["region_a"] for x in r} == KZ_REGIONS  # all 7 Kazakh border regions
    assert {x["region_b"] for x in r} == RU_REGIONS  # all 12 Russian ones
    for x in r:
        assert x["source"].strip(), x["id"]
        if x["name_a"] == "(placeholder)":
            assert x["source"].startswith("assumed"), x["id"]


def test_loaded_base_follows_the_catalogue():
    s = sim.load_scenario(ROOT / "scenarios" / "common" / "kz_ru_base.yaml")
    assert len(s.crossings) == 75
    zhaisan = next(c for c in s.crossings if c.id == "zhaisan_sagarchin_road")
    assert (zhaisan.sides["a"].lanes, zhaisan.sides["b"].lanes) == (8, 2)
    assert zhaisan.neutral_zone == 150  # from the multilateral road template
    simplified = [c for c in s.crossings if c.category == "simplified"]
    assert {s.regime_of(c) for c in simplified} == {"joint_control"}


def test_road_demand_matches_the_2023_totals():
    s = sim.load_scenario(ROOT / "scenarios" / "common" / "kz_ru_base.yaml")
    per_day = {"car": 0.0, "bus": 0.0, "truck": 0.0}
    for d in s.demand:
        if d.flow in per_day:
            per_day[d.flow] += d.daily * (2 if d.direction == "both" else 1)
    # seanews.ru: 5.5 million vehicles in 2023, 2.2 million of them trucks
    assert sum(per_day.values()) * 365 == pytest.approx(5.5e6, rel=0.001)
    assert per_day["truck"] * 365 == pytest.approx(2.2e6, rel=0.001)


@pytest.fixture(scope="module")
def regimes():
    names = ["2011_customs_union", "2009_double_control", "joint_control_all", "2025_customs_checks", "no_simplified"]
    # a short run: 6 hours of warm-up, then a whole day observed, three replications
    scenarios = [
        sim.load_scenario(ROOT / "scenarios" / f"kz_ru_{n}.yaml").model_copy(update={"warmup": 360.0}) for n in names
    ]
    return compare(scenarios[0], scenarios[1:], replications=3, days=1.25, jobs=2)


def _border_diff(result, scenario: str, flow: str, metric: str = "time_in_system_mean_min"):
    t = result.comparison
    row = t[(t["scenario"] == scenario) & (t["crossing"] == "ALL") & (t["flow"] == flow) & (t["metric"] == metric)]
    return row.iloc[0]


def test_trucks_are_faster_under_the_customs_union(regimes):
    row = _border_diff(regimes, "kz_ru_2009_double_control", "truck")
    # double control is slower than the customs union, and surely so
    assert row["diff"] > 0
    assert row["diff_ci95_low"] > 0


def test_joint_control_everywhere_is_faster(regimes):
    for flow in ("car", "truck"):
        row = _border_diff(regimes, "kz_ru_joint_control_all", flow)
        assert row["diff_ci95_high"] < 0, flow


def test_customs_spot_checks_slow_trucks_only(regimes):
    truck = _border_diff(regimes, "kz_ru_2025_customs_checks", "truck")
    assert truck["diff_ci95_low"] > 0
    car = _border_diff(regimes, "kz_ru_2025_customs_checks", "car")
    assert car["diff"] == 0  # same cars, same luck: common random numbers make this exact


def test_without_simplified_points_residents_drive_to_another_crossing(regimes):
    # at a road crossing, residents meet border control on both sides, in longer lines
    row = _border_diff(regimes, "kz_ru_no_simplified", "resident_car")
    assert row["diff"] > 0
    t = regimes.comparison
    moved = t[(t["scenario"] == "kz_ru_no_simplified") & t["crossing"].str.endswith("_simplified")]
    assert moved["value"].isna().all()  # the simplified points carry no traffic any more
    run = next(r for r in regimes.others if r.scenario.name == "kz_ru_no_simplified")
    corridors = run.corridors
    # each resident drives to a road crossing and back: at least 2 x 106 km at 70 km/h
    assert (corridors.drive_mean_min > 2 * 106 / 70 * 60 - 1e-6).all()
    assert (corridors.departures == corridors.completed + corridors.unfinished).all()
    # residents on foot travel by car: there is no pedestrian flow left to report
    assert "resident_pedestrian" not in set(run.summary["flow"])
    baseline = regimes.baseline.summary
    ped = baseline[
        (baseline.crossing == "ALL") & (baseline.direction == "ALL") & (baseline.flow == "resident_pedestrian")
    ]
    assert ped["arrivals"].iloc[0] > 0
