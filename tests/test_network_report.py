"""Corridors, diversion and weather in the results folder and its report.

A run of a scenario with corridors writes ``corridors.csv`` and ``network.csv`` (and
``weather.csv`` with weather); the report is rebuilt from these files alone, shows a
"Corridors and diversion" section only when there are corridors, and escapes the free-text
origins, destinations and crossing names it shows.
"""

from __future__ import annotations

import contextlib
import copy
import html
import re
import shutil
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments.run import compare
from sim.outputs import report
from sim.outputs.network_charts import TOP, corridor_change, corridor_traffic
from sim.outputs.report import build_report
from sim.outputs.results import ReportError, RunFolder
from tests.conftest import BROWSER_OUR_SCRIPTS, only_our_scripts, our_scripts
from tests.test_report import _chromium

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
ORIGIN = f"Town {SCRIPT}"
DESTINATION = f"Port {IMG}"
CROSSING_NAME = f"Bridge {SCRIPT}"


def network_scenario(name: str = "closure", weather: bool = True) -> dict[str, Any]:
    """Two crossings a corridor's trucks may use; the near one (dirt road) shut by a storm for 8 hours."""
    sides = {
        "x": {"a": {"servers": {"border_control": 1}}, "b": {"servers": {"border_control": 1}}},
        "y": {"a": {"servers": {"border_control": 2}}, "b": {"servers": {"border_control": 2}}},
    }
    data: dict[str, Any] = {
        "name": name,
        "horizon": "1 d",
        "warmup": 0,
        "replications": 2,
        "seed": 7,
        "flows": {"truck": {}},
        "stages": {"border_control": {"per_vehicle": {"dist": "exponential", "mean": "10 min"}}},
        "regime": "joint_control",
        "crossings": [
            {
                "id": "x",
                "name": CROSSING_NAME,
                "category": "multilateral",
                "surface": "dirt",
                "lat": 50.0,
                "lon": 50.0,
                "sides": sides["x"],
            },
            {"id": "y", "category": "multilateral", "surface": "paved", "lat": 50.5, "lon": 50.5, "sides": sides["y"]},
        ],
        "corridors": [
            {
                "id": "c1",
                "origin": ORIGIN,
                "destination": DESTINATION,
                "flow": "truck",
                "direction": "a_to_b",
                "daily": 100,
                "crossings": {
                    "x": {"drive_to": "30 min", "drive_on": "30 min", "share": 1},
                    "y": {"drive_to": "90 min", "drive_on": "90 min", "share": 0},
                },
            }
        ],
        "route_choice": {"rule": "fixed_shares"},
        "diversion": {},
    }
    if weather:
        data["weather"] = [{"id": "storm", "surfaces": ["dirt"], "episodes": [{"start": "6 h", "end": "14 h"}]}]
    return data


def _scenario(data: dict[str, Any]) -> sim.Scenario:
    return sim.scenario_from_dict(copy.deepcopy(data))


@pytest.fixture(scope="module")
def network_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    result = sim.run(_scenario(network_scenario()), records="none")
    return result, result.write(tmp_path_factory.mktemp("net") / "run")


@pytest.fixture(scope="module")
def network_comparison(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A comparison of the closure with a calm baseline, and the folders whose own report was asked for.

    Each scenario's own report is the run report tested above; drawing two more would only
    double the time of this test, so here they are only recorded.
    """
    calm, closure = _scenario(network_scenario("calm", weather=False)), _scenario(network_scenario())
    drawn: list[Path] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "run_report", lambda folder: drawn.append(Path(folder)) or folder)
        out = compare(calm, [closure], records="none").write(tmp_path_factory.mktemp("net") / "cmp")
    return out, drawn


def _text(page: Path) -> str:
    """The page without its embedded images (large base64 that a search need not scan)."""
    return re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', page.read_text(encoding="utf-8"))


def test_files_are_written_and_read_back(network_run):
    result, folder = network_run
    for name in ("corridors.csv", "network.csv", "weather.csv"):
        assert (folder / name).stat().st_size > 0
    back = RunFolder.read(folder)
    assert back.corridors is not None
    assert back.network is not None
    assert back.weather is not None
    assert back.corridors["origin"].tolist() == [ORIGIN]
    assert back.corridors["destination"].tolist() == [DESTINATION]
    for written, read, key in (
        (result.corridors, back.corridors, "corridor"),
        (result.network, back.network, "crossing"),
    ):
        numbers = [c for c in written.columns if pd.api.types.is_numeric_dtype(written[c])]
        left = written.set_index(key)[numbers].astype(float)
        right = read.set_index(key)[numbers].astype(float)
        pd.testing.assert_frame_equal(left, right, rtol=1e-5, check_names=False)
    # the storm shut the dirt-road crossing in both replications, and diverted trips to the other
    assert sorted(back.weather["replication"]) == [0, 1]
    assert set(back.weather["crossing"]) == {"x"}
    net = back.network.set_index("crossing")
    assert net.loc["x", "diverted_out"] > 0
    assert net.loc["y", "diverted_in"] == net.loc["x", "diverted_out"]


def test_an_old_folder_without_these_files_still_reports(network_run, tmp_path):
    _, folder = network_run
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    for name in ("corridors.csv", "network.csv", "weather.csv"):
        (old / name).unlink()
    shutil.rmtree(old / "charts")
    back = RunFolder.read(old)
    assert back.corridors is None
    assert back.network is None
    assert back.weather is None
    page = _text(build_report(old))
    assert "Corridors and diversion" not in page
    assert not (old / "charts" / "corridor_traffic.png").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", "not the table a run writes"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_a_broken_network_file_is_a_clear_error(network_run, tmp_path, content, message):
    _, folder = network_run
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    target = broken / "network.csv"
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ReportError, match=message) as err:
        RunFolder.read(broken)
    assert "network.csv" in str(err.value)


def test_the_run_report_has_the_section_with_its_chart(network_run):
    _, folder = network_run
    page = _text(folder / "report.html")
    assert "<h2>Corridors and diversion</h2>" in page
    assert 'alt="Where corridor traffic went"' in page
    for table in ("corridors", "corridor-crossings", "weather"):
        assert f'<table id="{table}">' in page
    assert "Diverted: trips that switched crossing on the way or in the queue" in page
    assert "Extra drive: driving beyond the shortest option of the corridor" in page
    assert (folder / "charts" / "corridor_traffic.png").stat().st_size > 1000
    # one storm of 8 hours in each replication of a 1-day run
    row = re.search(r'<table id="weather">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    assert "<td>storm</td><td>1.0</td><td>8.0</td><td>33.3</td>" in row


def test_a_plain_scenario_has_no_such_section(tmp_path):
    plain = sim.load_scenario(ROOT / "scenarios" / "tutorial_single_crossing.yaml")
    folder = sim.run(plain, replications=1, days=0.5, records="none").write(tmp_path / "plain")
    assert not (folder / "corridors.csv").exists()
    assert RunFolder.read(folder).network is None
    page = _text(folder / "report.html")
    assert "Corridors and diversion" not in page
    assert "Weather closures" not in page
    assert not (folder / "charts" / "corridor_traffic.png").exists()


def test_weather_without_corridors_has_a_section_of_its_own(tmp_path):
    data = network_scenario("stormy")
    for key in ("corridors", "route_choice", "diversion"):
        del data[key]
    data["demand"] = [{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 50}]
    folder = sim.run(_scenario(data), records="none").write(tmp_path / "stormy")
    back = RunFolder.read(folder)
    assert back.network is None
    assert back.weather is not None
    page = _text(folder / "report.html")
    assert "<h2>Weather closures</h2>" in page
    assert "Corridors and diversion" not in page
    assert "(1 day, warm-up included" in page
    assert html.escape(CROSSING_NAME, quote=True) in page
    assert CROSSING_NAME not in page


def test_free_text_names_are_escaped(network_run, tmp_path):
    _, folder = network_run
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(folder, rebuilt)
    for page in (folder / "report.html", build_report(rebuilt)):
        text = _text(page)
        for hostile in (ORIGIN, DESTINATION, CROSSING_NAME):
            assert hostile not in text
        assert html.escape(f"{ORIGIN} → {DESTINATION}", quote=True) in text
        assert html.escape(CROSSING_NAME, quote=True) in text
        only_our_scripts(text)  # the chart libraries and data only: no name became a script


def test_the_comparison_report_has_the_change_chart(network_comparison):
    folder, drawn = network_comparison
    page = _text(folder / "report.html")
    assert "<h2>Corridors and diversion</h2>" in page
    assert 'alt="Change in where corridor traffic crossed"' in page
    assert (folder / "charts" / "corridor_change.png").stat().st_size > 1000
    assert ORIGIN not in page
    assert html.escape(ORIGIN, quote=True) in page
    assert drawn == [folder / "calm", folder / "closure"]  # each scenario's own report, with its own chart
    # the bars are the closure's corridor trips per crossing minus the calm baseline's
    networks = {name: RunFolder.read(folder / name).network for name in ("calm", "closure")}
    fig = corridor_change(networks, "calm")
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    widths = dict(zip(labels, (bar.get_width() for bar in ax.containers[0]), strict=True))
    used = {name: n.set_index("crossing")["used_per_day"] for name, n in networks.items()}
    for crossing, width in widths.items():
        assert width == pytest.approx(used["closure"][crossing] - used["calm"][crossing])
    assert widths["x"] < 0 < widths["y"]  # the storm moved trips from x to y
    # the closure is the second scenario: its colour in every other chart of the report
    assert ax.containers[0][0].get_facecolor()[:3] == pytest.approx(plt.get_cmap("tab10").colors[1])
    plt.close(fig)


def _many(n: int) -> pd.DataFrame:
    """A network of ``n`` crossings, a few without corridor traffic, diversion at some."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"crossing": [f"c{i:02d}" for i in range(n)]})
    frame["set_off_for_per_day"] = rng.gamma(2.0, 40.0, n)
    out = np.where(rng.random(n) < 0.5, frame["set_off_for_per_day"] * rng.random(n), 0.0)
    frame["diverted_out_per_day"] = out
    frame["diverted_in_per_day"] = np.roll(out, 1)
    frame["used_per_day"] = frame["set_off_for_per_day"] - out + frame["diverted_in_per_day"]
    frame.loc[:2, ["set_off_for_per_day", "used_per_day", "diverted_out_per_day", "diverted_in_per_day"]] = 0.0
    for key in ("set_off_for", "used", "diverted_out", "diverted_in"):
        frame[key] = frame[f"{key}_per_day"]
        frame[f"{key}_per_day_ci95"] = 0.1 * frame[f"{key}_per_day"]
    return frame


def test_charts_stay_readable_with_many_crossings():
    few = _many(5)
    fig = corridor_traffic(few)
    (ax,) = fig.axes
    assert len(ax.get_yticklabels()) == 2  # the crossings with corridor traffic only
    plt.close(fig)

    many = _many(53)
    fig = corridor_traffic(many)
    (ax,) = fig.axes
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert len(shown) == TOP
    assert "25 more not shown" in ax.get_title()
    net = (many["diverted_in_per_day"] - many["diverted_out_per_day"]).abs()
    assert set(many.loc[net.nlargest(5).index, "crossing"]) <= set(shown)
    plt.close(fig)

    other = many.assign(used_per_day=many["used_per_day"] * 1.1)
    fig = corridor_change({"base": many, "more": other, "none": None}, "base")
    (ax,) = fig.axes
    assert len(ax.get_yticklabels()) == TOP
    assert len(ax.containers) == 2
    assert "25 more not shown" in ax.get_title()
    plt.close(fig)


def test_the_section_in_a_real_browser(network_run):
    _, folder = network_run
    browser = _chromium()
    try:
        browser.get((folder / "report.html").resolve().as_uri())
        assert browser.execute_script("return typeof window.__pwned") == "undefined"
        assert sorted(browser.execute_script(BROWSER_OUR_SCRIPTS)) == sorted(len(s) for s in our_scripts())
        loaded = browser.execute_script(
            "return Array.from(document.images).filter(i => i.alt === 'Where corridor traffic went')"
            ".map(i => i.complete ? i.naturalWidth : 0)"
        )
        assert len(loaded) == 1
        assert loaded[0] > 0
        cells = browser.execute_script(
            "return Array.from(document.querySelectorAll('#corridors tbody td')).map(c => c.textContent)"
        )
        assert f"{ORIGIN} → {DESTINATION}" in cells
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
    finally:
        with contextlib.suppress(Exception):
            browser.quit()
