"""Charts and the HTML report: content checked, and the page checked in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import sim
from sim.experiments.run import compare
from sim.outputs import charts, comparison_charts
from sim.outputs.readable import duration
from sim.outputs.report import RunFolder, build_report
from sim.scenario.schema import RegimeChoice
from tests.conftest import one_crossing

REGIMES = ["customs_union", "double_control", "joint_control"]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = Path(__file__).resolve().parent.parent
    base = sim.load_scenario(root / "scenarios" / "tutorial_single_crossing.yaml")
    variants = [base.model_copy(update={"name": f"tutorial_{r}", "regime": RegimeChoice(default=r)}) for r in REGIMES]
    out = tmp_path_factory.mktemp("results") / "cmp"
    compare(variants[0], variants[1:], replications=2, days=1.5, jobs=2).write(out)
    return out


def test_every_folder_has_its_charts_and_report(results):
    assert (results / "report.html").exists()
    for name in ("differences", "wait_distribution", "throughput_by_category", "day_profile"):
        for ext in ("png", "svg"):
            assert (results / "charts" / f"{name}.{ext}").stat().st_size > 1000
    for regime in REGIMES:
        folder = results / f"tutorial_{regime}"
        assert (folder / "report.html").exists()
        for name in ("wait_distribution", "throughput_by_category", "day_profile", "utilization", "border_map"):
            assert (folder / "charts" / f"{name}.png").stat().st_size > 1000


def test_chart_series_match_the_scenarios(results):
    comparison = pd.read_csv(results / "comparison.csv")
    colours = charts.palette([f"tutorial_{r}" for r in REGIMES])
    fig = comparison_charts.forest(comparison, colours)
    for ax in fig.axes:
        assert len(ax.containers) == len(REGIMES) - 1  # one error-bar series per compared scenario
        assert ax.get_xlabel().startswith("difference from baseline")
        assert ax.get_xscale() == "symlog"  # a scenario far off does not flatten the others
        # each scenario in the colour it has in every other chart of the report
        for container, name in zip(ax.containers, [f"tutorial_{r}" for r in REGIMES[1:]], strict=True):
            assert tuple(container.lines[0].get_color()) == tuple(colours[name])
    flows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert flows == ["car (vehicles)", "truck (vehicles)"]  # per flow with its unit; no all-flows row
    plt.close(fig)

    runs = {r: RunFolder.read(results / f"tutorial_{r}") for r in REGIMES}
    fig = charts.wait_ecdf({r: f.records for r, f in runs.items()}, warmup=360, colours=charts.palette(REGIMES))
    flows = [ax for ax in fig.axes if ax.get_visible()]
    assert {ax.get_title() for ax in flows} == {"car", "truck"}
    for ax in flows:
        curves = [line for line in ax.lines if not line.get_label().startswith("_")]
        assert len(curves) == len(REGIMES)
        assert [c.get_color() for c in curves] == [charts.palette(REGIMES)[r] for r in REGIMES]
        assert ax.get_ylabel() == "share of travellers"
    plt.close(fig)

    fig = charts.throughput_by_category({r: f.summary for r, f in runs.items()}, runs["customs_union"].crossings)
    (ax,) = fig.axes
    assert len(ax.containers) == len(REGIMES)
    # the bar height is the crossing's throughput from the summary
    summary = runs["customs_union"].summary
    total = summary.query("crossing == 'tutorial_road' and direction == 'ALL' and flow == 'ALL'")
    assert ax.containers[0][0].get_height() == pytest.approx(total["throughput_per_day"].iloc[0])
    plt.close(fig)

    fig = charts.utilization_heatmap(runs["double_control"].stages)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert any("customs" in label for label in labels)
    plt.close(fig)


def test_report_rebuilds_from_disk(results, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(results / "tutorial_double_control", copy)
    shutil.rmtree(copy / "charts")
    (copy / "report.html").unlink()
    build_report(copy)
    html = (copy / "report.html").read_text()
    assert "kz_ru" not in html
    assert "tutorial_double_control" in html
    assert html.count("data:image/png;base64,") == 5
    # nothing is fetched: no address in any src or href (the bundled chart library mentions
    # addresses in its code, such as the SVG namespace, but loads none)
    assert re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, flags=re.IGNORECASE) == []
    assert html.count("<script") == html.count("</script>")
    assert "vegaEmbed" in html  # the interactive charts' library is inline
    (copy / "summary.csv").unlink()
    bad = subprocess.run([sys.executable, "-m", "sim", "report", str(copy)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "summary.csv is missing" in bad.stderr
    assert "Traceback" not in bad.stderr


def _chromium():
    """A headless Chromium driven through chromedriver (Debian's chromium and chromium-driver)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromedriver must be installed in CI (.ci/run installs them)")
        pytest.skip("Chromium or chromedriver not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1800",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.mark.parametrize("which", ["run", "comparison"])
def test_report_in_a_real_browser(results, which, tmp_path):
    folder = results / "tutorial_customs_union" if which == "run" else results
    browser = _chromium()
    try:
        browser.get((folder / "report.html").resolve().as_uri())
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        widths = browser.execute_script("return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) >= 4
        assert all(w > 0 for w in widths)
        cells = browser.execute_script(
            "return Array.from(document.querySelectorAll('#headline tbody tr'))"
            ".map(r => Array.from(r.cells).map(c => c.textContent))"
        )
        shot = tmp_path / f"report_{which}.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        browser.quit()
    if which == "run":
        summary = pd.read_csv(folder / "summary.csv", keep_default_na=False)
        total = summary[(summary["crossing"] == "ALL") & (summary["direction"] == "ALL")].set_index("flow")
        by_flow = {("ALL" if row[0] == "all flows" else row[0]): row for row in cells}
        assert set(by_flow) == set(total.index)
        assert cells[-1][0] == "all flows"  # the totals last, after the flows grouped by unit
        for flow, row in by_flow.items():
            if flow == "ALL":
                # vehicles of different kinds are not added up: no count of travellers, only persons
                assert row[1:4] == ["mixed units", "–", "–"]
                assert row[4] == f"{total.loc[flow, 'persons_per_day']:,.0f}"
                continue
            assert row[1] == "vehicles"
            assert row[2] == f"{int(total.loc[flow, 'arrivals']):,}"
            assert row[3].startswith(f"{total.loc[flow, 'throughput_per_day']:,.1f}")
            assert row[5].startswith(f"{total.loc[flow, 'wait_mean_min']:,.2f}")
    else:
        comparison = pd.read_csv(folder / "comparison.csv")
        head = comparison[
            (comparison["crossing"] == "ALL")
            & (comparison["direction"] == "ALL")
            & (comparison["flow"] != "ALL")
            & (comparison["metric"] == "time_in_system_mean_min")
        ]
        assert len(cells) == len(head)
        shown = {(row[0], row[1]): row for row in cells}
        for expected in head.itertuples():
            row = shown[(expected.scenario, expected.flow)]
            assert row[2] == "vehicles"
            assert row[5] in (duration(expected.diff, signed=True), "no change", "practically none")
            assert "nan" not in " ".join(row)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest


def _nobody_completes(name: str, service: str = "1 min", demand: dict | None = None) -> sim.Scenario:
    """One booth each way over two days, the first one a warm-up."""
    data = one_crossing(
        {"border_control": {"per_vehicle": service}},
        "customs_union",
        {"border_control": 1},
        {"border_control": 1},
        demand=[demand or {"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 50}],
    )
    data.update(name=name, horizon="2 d", warmup="1 d", replications=2)
    return sim.scenario_from_dict(data)


EMPTY = {
    "arrivals only in the warm-up": (
        {"demand": {"crossing": "x", "flow": "truck", "direction": "a_to_b", "times": [10, 200, 1000]}},
        "arrived during the 1-day warm-up",
    ),
    "service longer than the run": ({"service": "5 d"}, "all were still inside"),
}


@pytest.mark.parametrize("case", list(EMPTY))
def test_report_of_a_run_where_no_traveller_completes(tmp_path, case):
    options, reason = EMPTY[case]
    out = sim.run(_nobody_completes("empty", **options)).write(tmp_path / "run")
    html = (out / "report.html").read_text()
    notice = html.index('id="nothing-to-show"')
    assert notice < html.index("<h2>Headline</h2>")  # said first, before any table
    assert "no traveller completed in the observation window" in html
    assert reason in html
    assert html.count("data:image/png;base64,") == 5
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["completed"] == 0).all()


def test_comparison_report_with_a_scenario_where_no_traveller_completes(tmp_path):
    # the stuck scenario is the baseline: the differences and the day's peak come from the other one
    out = compare(_nobody_completes("base", service="5 d"), [_nobody_completes("other")]).write(tmp_path / "cmp")
    html = (out / "report.html").read_text()
    assert "1 of 2 scenarios have nothing to show" in html
    assert "base: " in html
    assert "all were still inside" in html
    assert html.count("data:image/png;base64,") == 4
    assert 'id="nothing-to-show"' in (out / "base" / "report.html").read_text()
    assert 'id="nothing-to-show"' not in (out / "other" / "report.html").read_text()
