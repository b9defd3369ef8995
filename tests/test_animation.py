"""The offline animation page: its counts against the visits, its safety with hostile names, and a real browser."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.outputs.animation import animation_html, write_animation
from sim.outputs.animation_frames import MAX_FRAMES, animation_data, choose_step, interval_counts
from sim.outputs.results import ReportError
from tests.test_eventlog import BLOCKING
from tests.test_report import _chromium

HOSTILE = "</script><img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Two crossings, one with a small neutral zone (travellers held at the exit booths) and a hostile name."""
    data = copy.deepcopy(BLOCKING)
    data["crossings"][0]["name"] = HOSTILE
    data["crossings"][1]["name"] = "Calm & <quiet>"
    data["start_date"] = "2024-02-29"
    return sim.run(sim.scenario_from_dict(data)).write(tmp_path_factory.mktemp("animation") / "run", report=False)


@pytest.fixture(scope="module")
def visits(folder) -> pd.DataFrame:
    v = pd.read_parquet(folder / "visits.parquet")
    for col in ("crossing", "direction", "side", "role", "stage", "pool"):
        v[col] = v[col].astype(str)
    v["exit_side"] = np.where(v["direction"] == "a_to_b", "a", "b")
    return v


def _at(v: pd.DataFrame, t: float) -> pd.DataFrame:
    """Who is where at ``t``, straight from the visits (a NaN time: not reached by the end of the run)."""
    waited = v["start_min"].fillna(v["leave_min"])
    return pd.DataFrame(
        {
            "waiting": (v["enter_min"] <= t) & ~(waited <= t),
            "serving": (v["start_min"] <= t) & ~(v["end_min"] <= t),
            "held": (v["end_min"] <= t) & ~(v["leave_min"] <= t),
        }
    )


def _first_entry(v: pd.DataFrame) -> pd.DataFrame:
    """Each traveller's first visit at the entry side: while it waits there, it is in the neutral zone."""
    entry = v[v["side"] != v["exit_side"]].sort_values(["replication", "traveller", "enter_min", "secondary"])
    return entry.groupby(["replication", "traveller", "crossing", "direction"]).head(1)


def test_crossing_frames_match_a_count_from_the_visits(folder, visits):
    data = animation_data(folder, crossing="tight", replication=1)
    assert data["replication"] == 1
    v = visits[(visits["replication"] == 1) & (visits["crossing"] == "tight")]
    first = _first_entry(v)
    stations = [s for d in data["crossing"]["directions"] for s in (*d["exit"], *d["entry"])]
    held = max(range(data["frames"]), key=lambda i: sum(s["held"][i] for s in stations))
    saw_held = False
    for frame in (0, 37, 100, held, data["frames"] - 1):
        t = data["start"] + frame * data["step"]
        now = _at(v, t)
        for d in data["crossing"]["directions"]:
            for side, stations in (("exit", d["exit"]), ("entry", d["entry"])):
                for s in stations:
                    mine = (
                        (v["direction"] == d["direction"])
                        & ((v["side"] == v["exit_side"]) == (side == "exit"))
                        & (v["stage"] == s["stage"])
                        & (v["pool"] == (s["pool"] or "all"))
                        & (v["secondary"] == s["secondary"])
                    )
                    for what in ("waiting", "serving", "held"):
                        assert s[what][frame] == (now[what] & mine).sum(), (frame, d["direction"], s["stage"], what)
                    saw_held |= s["held"][frame] > 0
            zone = _at(first[first["direction"] == d["direction"]], t)["waiting"].sum()
            assert d["in_zone"][frame] == zone
            assert zone <= data["crossing"]["capacity"] == 4
    assert saw_held


def test_border_frames_match_a_count_from_the_visits(folder, visits):
    data = animation_data(folder)
    assert data["replication"] == 0  # the first by default
    v = visits[visits["replication"] == 0]
    first = _first_entry(v)
    rows = {r["id"]: r for r in data["rows"]}
    assert [r["id"] for r in data["rows"]] == ["tight", "open"]  # the busiest first
    assert rows["open"]["zone"] == "none"
    for frame in (0, 50, 144, data["frames"] - 1):
        t = data["start"] + frame * data["step"]
        now, in_zone = _at(v, t), _at(first, t)["waiting"]
        for crossing, row in rows.items():
            for d in row["directions"]:
                here = (v["crossing"] == crossing) & (v["direction"] == d["direction"])
                exit_side = v["side"] == v["exit_side"]
                zone = in_zone[(first["crossing"] == crossing) & (first["direction"] == d["direction"])].sum()
                entry = (now["waiting"] & here & ~exit_side).sum()
                assert d["exit_wait"][frame] == (now["waiting"] & here & exit_side).sum()
                assert d["booths"][frame] == ((now["serving"] | now["held"]) & here).sum()
                if row["zone"] == "none":
                    assert d["in_zone"] is None
                    assert d["entry_wait"][frame] == entry
                else:
                    assert d["in_zone"][frame] == zone
                    assert d["entry_wait"][frame] == entry - zone


def test_interval_counts_by_hand():
    times = np.array([0.0, 1.0, 2.0, 3.0])
    group = np.array([0, 0, 1, 1, 0])
    begin = np.array([0.0, 1.0, 0.5, np.nan, 2.0])
    end = np.array([1.0, np.nan, 0.9, 5.0, 2.0])  # [2, 2) is empty; NaN begin never happened
    assert interval_counts(group, begin, end, times, 2).tolist() == [[1, 1, 1, 1], [0, 0, 0, 0]]


def test_steps_windows_and_refusals(folder, tmp_path):
    assert choose_step(1440) == 5
    assert choose_step(8 * 1440) == 20
    for span in (60, 1440, 2880, 7 * 1440, 365 * 1440):
        assert np.floor(span / choose_step(span)) + 1 <= MAX_FRAMES
    data = animation_data(folder, crossing="open", start_min=600, end_min=720, step_min=10)
    assert (data["start"], data["end"], data["frames"], data["step"]) == (600, 720, 13, 10)
    with pytest.raises(ValueError, match="no crossing 'nowhere'"):
        animation_data(folder, crossing="nowhere")
    with pytest.raises(ValueError, match="no replication 5"):
        animation_data(folder, replication=5)
    with pytest.raises(ValueError, match="window"):
        animation_data(folder, start_min=700, end_min=600)
    with pytest.raises(ValueError, match="frames"):
        animation_data(folder, step_min=0.01)
    copy_ = tmp_path / "no_visits"
    shutil.copytree(folder, copy_, ignore=shutil.ignore_patterns("visits.parquet"))
    with pytest.raises(ReportError, match=r"visits\.parquet.*--records full"):
        write_animation(copy_, tmp_path / "a.html")
    assert not (tmp_path / "a.html").exists()


@pytest.mark.parametrize("crossing", ["tight", None])
def test_names_are_escaped_and_the_page_is_self_contained(folder, crossing):
    page = animation_html(folder, crossing=crossing)
    assert HOSTILE not in page
    assert "<img" not in page
    assert page.count("</script>") == 2  # the data's and the script's own
    assert "Calm & <quiet>" not in page
    blob = re.search(r'<script type="application/json" id="anim-data">(.*?)</script>', page, re.S).group(1)
    assert not set("<>&") & set(blob)
    data = json.loads(blob)
    assert (data["crossing"]["name"] if crossing else data["rows"][0]["name"]) == HOSTILE
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    for needle in ("http://", "https://", "innerHTML", "outerHTML", "insertAdjacentHTML"):
        assert needle not in page


@pytest.fixture(scope="module")
def browser():
    driver = _chromium()
    yield driver
    driver.quit()


@pytest.mark.parametrize(("crossing", "shot"), [("tight", "/tmp/anim_crossing.png"), (None, "/tmp/anim_border.png")])
def test_the_page_plays_in_a_real_browser(folder, browser, tmp_path, crossing, shot):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page = write_animation(folder, tmp_path / f"{crossing}.html", crossing=crossing)
    browser.get(page.resolve().as_uri())
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - the hostile name ran nothing
    assert browser.execute_script("return document.images.length") == 0
    assert HOSTILE in browser.find_element(By.ID, "view").text
    clock = browser.find_element(By.ID, "clock")
    before = clock.text
    assert before.startswith("2024-02-29 · day 0 Thu 00:00")
    browser.execute_script("document.getElementById('speed').value = '50'")
    browser.find_element(By.ID, "play").click()
    WebDriverWait(browser, 10).until(lambda d: int(d.execute_script("return document.body.dataset.frame")) >= 3)
    assert clock.text != before
    browser.find_element(By.ID, "play").click()  # pause
    slider = browser.find_element(By.ID, "slider")
    browser.execute_script("arguments[0].value = '108'; arguments[0].dispatchEvent(new Event('input'))", slider)
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("return document.body.dataset.frame") == "108")
    assert clock.text == "2024-02-29 · day 0 Thu 09:00"
    # the screenshot at the busiest moment: the zone fullest, travellers held at the exit booths
    data = animation_data(folder, crossing="tight")
    busiest = int(np.argmax(np.sum([d["in_zone"] for d in data["crossing"]["directions"]], axis=0)))
    browser.execute_script(f"arguments[0].value = '{busiest}'; arguments[0].dispatchEvent(new Event('input'))", slider)
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("return document.body.dataset.frame") == str(busiest))
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    browser.save_screenshot(shot)
