"""What a non-specialist reads first: the summary, units never added, countries named, progress shown."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments.run import compare
from sim.outputs import charts
from sim.outputs.readable import direction_label, duration, negligible, percent_change, plural_flow
from sim.outputs.report import RunFolder
from sim.outputs.sections import comparison_headline, headline
from sim.outputs.summary_sections import change_words, key_flows, overload_caveat
from tests.conftest import one_crossing
from tests.test_report import _chromium

ROOT = Path(__file__).resolve().parent.parent


def test_durations_and_changes_read_as_a_person_says_them():
    assert duration(13.3) == "13 min"
    assert duration(4.25) == "4.2 min"
    assert duration(300.0) == "5.0 h"
    assert duration(4320.0) == "3.0 days"
    assert duration(-6.4, signed=True) == "−6.4 min"
    assert duration(float("nan")) == "–"
    # a percentage only where the baseline is not near zero: 0.4 min to 82 min is not "+19,918%"
    assert percent_change(0.41, 82.2, "wait_mean_min") == "– (baseline near 0)"
    assert percent_change(13.3, 287.1, "time_in_system_mean_min") == "+2,159%"
    assert percent_change(116.7, -58.0, "time_in_system_mean_min") == "−50%"
    assert percent_change(0.5, 3.0, "throughput_per_day") == "– (baseline near 0)"
    assert negligible(0.01, -0.02, 0.04, "wait_mean_min")
    assert not negligible(0.01, -0.02, 0.2, "wait_mean_min")
    assert direction_label("a_to_b", ("Kazakhstan", "Russia")) == "Kazakhstan → Russia"
    assert direction_label("b_to_a", ("Kazakhstan", "Russia")) == "Russia → Kazakhstan"
    assert plural_flow("truck") == "trucks"
    assert plural_flow("bus") == "buses"
    assert plural_flow("resident_pedestrian") == "resident pedestrians"


def test_change_words_say_when_a_change_cannot_be_told_from_chance():
    row = pd.Series({"diff": 287.1, "diff_ci95_low": 275.5, "diff_ci95_high": 298.8})
    assert change_words(row, "time_in_system_mean_min") == "+4.8 h (95% interval +4.6 h to +5.0 h)"
    unclear = pd.Series({"diff": 2.0, "diff_ci95_low": -1.0, "diff_ci95_high": 5.0})
    assert "no clear change" in change_words(unclear, "time_in_system_mean_min")
    none = pd.Series({"diff": 0.0, "diff_ci95_low": 0.0, "diff_ci95_high": 0.0})
    assert change_words(none, "time_in_system_mean_min") == "no change"


SMALL_MAP = {
    "type": "FeatureCollection",
    "attribution": "a hand-drawn test map",
    "source": "this test",
    "features": [
        {
            "type": "Feature",
            "properties": {"kind": "border"},
            "geometry": {"type": "LineString", "coordinates": [[59.0, 50.5], [62.0, 50.5]]},
        },
        {
            "type": "Feature",
            "properties": {"kind": "country", "name": "Northland"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[59.0, 50.5], [59.0, 52.0], [62.0, 52.0], [62.0, 50.5], [59.0, 50.5]]],
            },
        },
    ],
}


def _freight_and_walkers() -> sim.Scenario:
    """Two crossings: freight trains (wagons) and pedestrians at one, cars at the other."""
    data = one_crossing(
        {"border_control": {"per_vehicle": "2 min", "per_person": "10 s"}},
        "customs_union",
        {"border_control": 2},
        {"border_control": 2},
        demand=[
            {"crossing": "x", "flow": "freight", "direction": "a_to_b", "daily": 20},
            {"crossing": "x", "flow": "walker", "direction": "b_to_a", "daily": 200},
            {"crossing": "x", "flow": "car", "direction": "a_to_b", "daily": 300},
            {"crossing": "x", "flow": "car", "direction": "b_to_a", "daily": 250},
        ],
        lat=50.5,
        lon=60.5,
    )
    data["map"] = SMALL_MAP
    data["flows"] = {
        "freight": {"unit": "train", "occupants": "wagons", "occupancy": {"dist": "uniform", "low": 40, "high": 70}},
        "walker": {"unit": "person"},
        "car": {"occupancy": 2},
    }
    data.update(
        name="units", horizon="2 d", warmup="6 h", replications=2, countries={"a": "Northland", "b": "Southland"}
    )
    return sim.scenario_from_dict(data)


@pytest.fixture(scope="module")
def units_run(tmp_path_factory) -> Path:
    return sim.run(_freight_and_walkers()).write(tmp_path_factory.mktemp("units") / "run")


def test_wagons_are_never_counted_as_persons(units_run):
    s = pd.read_csv(units_run / "summary.csv")
    border = s[(s["crossing"] == "ALL") & (s["direction"] == "ALL")].set_index("flow")
    assert math.isnan(border.loc["freight", "persons_per_day"])
    assert border.loc["freight", "wagons_per_day"] > 30 * border.loc["freight", "throughput_per_day"]
    assert math.isnan(border.loc["car", "wagons_per_day"])
    # the totals add persons to persons and wagons to wagons, nothing else
    assert border.loc["ALL", "persons_per_day"] == pytest.approx(
        border.loc["car", "persons_per_day"] + border.loc["walker", "persons_per_day"]
    )
    assert border.loc["ALL", "wagons_per_day"] == pytest.approx(border.loc["freight", "wagons_per_day"])
    manifest = json.loads((units_run / "manifest.json").read_text())
    assert manifest["countries"] == {"a": "Northland", "b": "Southland"}
    assert manifest["flows"]["freight"] == {"unit": "train", "occupants": "wagons"}


def test_the_whole_border_per_direction_adds_up_its_crossings(units_run):
    s = pd.read_csv(units_run / "summary.csv")
    for direction in ("a_to_b", "b_to_a"):
        for flow in s["flow"].unique():
            own = s[(s["crossing"] != "ALL") & (s["direction"] == direction) & (s["flow"] == flow)]
            total = s[(s["crossing"] == "ALL") & (s["direction"] == direction) & (s["flow"] == flow)]
            if flow == "ALL":
                own = s[(s["crossing"] != "ALL") & (s["direction"] == direction) & (s["flow"] != "ALL")]
            if own.empty:
                assert total.empty
                continue
            assert total["arrivals"].iloc[0] == own["arrivals"].sum()


def test_tables_and_charts_never_add_different_units(units_run):
    r = RunFolder.read(units_run)
    assert r.units == {"freight": "train", "walker": "person", "car": "vehicle"}
    table = headline(r.summary, r.units)
    assert list(table["flow"]) == ["car", "walker", "freight", "all flows"]  # grouped by unit, totals last
    assert list(table["counted in"]) == ["vehicles", "persons", "trains", "mixed units"]
    assert table.iloc[-1]["throughput per day"] == "–"  # no count of "travellers" adding trains to walkers
    fig = charts.throughput_by_category({r.name: r.summary}, r.crossings, r.units)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["vehicles per day", "persons per day", "trains per day"]
    border = r.summary[(r.summary["crossing"] == "ALL") & (r.summary["direction"] == "ALL")].set_index("flow")
    for ax, flow in zip(fig.axes, ["car", "walker", "freight"], strict=True):
        drawn = sum(bar.get_height() for bar in ax.containers[0])
        assert drawn == pytest.approx(border.loc[flow, "throughput_per_day"])
    plt.close(fig)
    html = (units_run / "report.html").read_text()
    summary = html[html.index('id="summary"') : html.index("<h2>Headline")]
    assert "Car, Northland → Southland" in summary
    assert "Car, Southland → Northland" in summary
    assert "a_to_b" not in summary
    shown = re.sub(r"<script.*?</script>|data:image/png;base64,[A-Za-z0-9+/=]*", "", html, flags=re.DOTALL)
    assert re.search(r"\bnan\b", shown, flags=re.IGNORECASE) is None  # no number is shown as nan


def _overloaded(name: str, booths: int) -> sim.Scenario:
    data = one_crossing(
        {"border_control": {"per_vehicle": "6 min"}},
        "customs_union",
        {"border_control": {"truck": booths, "default": 2}},
        {"border_control": {"truck": booths, "default": 2}},
        demand=[
            {"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 400},
            {"crossing": "x", "flow": "car", "direction": "a_to_b", "daily": 100},
        ],
    )
    data.update(name=name, horizon="4 d", warmup="1 d", replications=3, countries={"a": "Northland", "b": "Southland"})
    return sim.scenario_from_dict(data)


@pytest.fixture(scope="module")
def overloaded_comparison(tmp_path_factory) -> Path:
    # 400 trucks a day at 6 min each need 1.67 booths: one booth is overloaded, three are not
    result = compare(_overloaded("three_booths", 3), [_overloaded("one_booth", 1)], jobs=1)
    return result.write(tmp_path_factory.mktemp("over") / "cmp")


def test_the_summary_puts_the_overload_caveat_beside_the_number_it_affects(overloaded_comparison):
    html = (overloaded_comparison / "report.html").read_text()
    summary = html[html.index('id="summary"') : html.index("<h2>Headline")]
    truck = summary[summary.index("Truck, Northland → Southland") :]
    truck = truck[: truck.index("</li>")]
    assert 'class="caveat"' in truck
    assert "Overloaded at x" in truck
    assert "trucks were still queueing" in truck
    car = summary[summary.index("Car, Northland → Southland") :]
    car = car[: car.index("</li>")]
    assert "Overloaded" not in car  # the cars' own queue: no caveat where none applies
    one = RunFolder.read(overloaded_comparison / "one_booth")
    assert key_flows(one.summary, one.units) == ["truck", "car"]
    assert overload_caveat(one.overload, "a_to_b", "car") == ""


def test_a_flow_a_scenario_lacks_is_said_to_be_missing_not_nan():
    rows = []
    for name, value in (("with", 3.0), ("without", float("nan"))):
        rows.append(
            {
                "scenario": name,
                "baseline": "base",
                "crossing": "ALL",
                "direction": "ALL",
                "flow": "walker",
                "metric": "time_in_system_mean_min",
                "baseline_value": 2.0,
                "value": value,
                "diff": value - 2.0,
                "diff_ci95_low": value - 2.5,
                "diff_ci95_high": value - 1.5,
                "pct_change": np.nan,
                "overloaded_in": "",
            }
        )
    table = comparison_headline(pd.DataFrame(rows), {"walker": "person"})
    assert list(table["difference"]) == ["+1.0 min", "not in this scenario"]
    assert "nan" not in table.to_string()


def test_one_colour_per_scenario_across_the_charts_of_a_report(overloaded_comparison):
    runs = [RunFolder.read(overloaded_comparison / n) for n in ("three_booths", "one_booth")]
    colours = charts.palette([r.name for r in runs])
    assert colours["three_booths"] != colours["one_booth"]
    fig = charts.day_profile(
        {r.name: r.records for r in runs}, {r.name: r.visits for r in runs}, 1440.0, 5760.0, colours
    )
    for ax in fig.axes:
        assert [line.get_color() for line in ax.get_lines()] == [colours["three_booths"], colours["one_booth"]]
    # one booth's waits are hundreds of times the other's: a log axis keeps both readable
    assert fig.axes[0].get_yscale() == "log"
    plt.close(fig)


def test_progress_goes_out_as_plain_lines_when_not_on_a_terminal(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            str(ROOT / "scenarios" / "tutorial_single_crossing.yaml"),
            "--days",
            "1.5",
            "--replications",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    for phase in ("replications", "files", "charts and report"):
        shown = [line for line in lines if line.strip().startswith(f"{phase}:")]
        assert shown, f"no progress line for {phase}"
        assert " of " in shown[-1]
        done_, _, total = shown[-1].split(": ", 1)[1].partition(" of ")
        assert done_ == total.split(" ")[0]  # the last line says the phase is complete
    wall = json.loads((out / "manifest.json").read_text())["wall_time_s"]
    assert f"wall time {wall:.1f} s" in done.stdout  # the one wall time, as the report gives it
    assert f"{wall:.1f} s with 1 worker process" in (out / "report.html").read_text()


def test_the_summary_and_map_draw_in_a_real_browser(units_run, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    browser = _chromium()
    try:
        browser.get((units_run / "report.html").resolve().as_uri())
        WebDriverWait(browser, 60).until(
            lambda b: (
                b.execute_script("return !!document.querySelector('#map-interactive svg')")
                or b.execute_script("return document.querySelector('.vega-failed') !== null")
            )
        )
        assert browser.execute_script("return document.querySelector('.vega-failed')") is None
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        text = browser.execute_script("return document.getElementById('summary').innerText")
        assert "Northland → Southland" in text
        browser.save_screenshot(str(tmp_path / "summary.png"))
    finally:
        browser.quit()
