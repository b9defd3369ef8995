"""The report under attack: hostile names never run as script, broken folders are clear errors.

Names, regions, sources and assumptions are free text a scenario author (or a downloaded
catalogue) writes, and they end up in an HTML page. A results folder is a folder of files a
user may have edited, truncated or replaced; reading it must fail with a message, never with
a traceback or a hang. And a comparison's report stops at once on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import csv
import html
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.text import Text

import sim
from sim.cli import main
from sim.experiments.run import compare
from sim.outputs import charts, comparison_charts, map_charts
from sim.outputs.report import RunFolder
from tests.conftest import BROWSER_OUR_SCRIPTS, one_crossing, only_our_scripts, our_scripts
from tests.test_report import _chromium

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=2">'
SVG = '"><svg onload="window.__pwned=3">'
BREAKOUT = "</td></table><script>window.__pwned=4</script>"
MATH = r"$\frac{1}{0}$"
BROKEN_MATH = r"$\frac{$"
ALERT = "<script>alert('pwned')</script>"
HOSTILE = [SCRIPT, IMG, SVG, BREAKOUT, MATH, BROKEN_MATH, ALERT]

ASSUMPTIONS = [f"assumption {h}" for h in HOSTILE]
SOURCES = [f"source {h}" for h in HOSTILE]
NAMED = f"crossing {SCRIPT}"
SIDES = f"{IMG} / {SVG}"  # a crossing without a name is called after its two posts
CATALOGUE_SIDES = f"{BREAKOUT} / {ALERT}"


@contextlib.contextmanager
def _hang_guard(seconds: int = 120) -> Iterator[None]:
    """Fail instead of hanging forever if something blocks (a generous guard, not a timing check)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _hostile(name: str, service: str = "2 min") -> dict:
    """Two crossings: one with a hostile name, one named after its hostile posts; hostile notes."""
    data = one_crossing(
        {"border_control": {"per_vehicle": service}},
        "customs_union",
        {"border_control": 2},
        {"border_control": 2},
        demand=[{"crossing": c, "flow": "truck", "direction": "a_to_b", "daily": 200} for c in ("x", "y")],
        name=NAMED,
        source=MATH,
    )
    second = {
        "id": "y",
        "category": "bilateral",
        "source": BROKEN_MATH,
        "sides": {
            "a": {"name": IMG, "region": BREAKOUT, "servers": {"border_control": 1}},
            "b": {"name": SVG, "region": MATH, "servers": {"border_control": 1}},
        },
    }
    data["crossings"].append(second)
    data.update(
        name=name,
        description=SCRIPT + BREAKOUT,
        countries={"a": SVG, "b": MATH},
        horizon="1.5 d",
        warmup="6 h",
        assumptions=ASSUMPTIONS,
        sources=SOURCES,
    )
    return data


def _catalogue(folder: Path) -> sim.Scenario:
    """A scenario whose crossing comes from a CSV catalogue with hostile names, regions and source."""
    folder.mkdir()
    with open(folder / "crossings.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name_a", "name_b", "category", "mode", "region_a", "region_b", "source"])
        writer.writerow(["cat_road", BREAKOUT, ALERT, "multilateral", "road", SCRIPT, IMG, SVG])
    (folder / "scenario.yaml").write_text(
        "name: catalogue\n"
        "horizon: 1.5 d\n"
        "warmup: 6 h\n"
        "replications: 1\n"
        "flows: {truck: {}}\n"
        "stages: {border_control: {per_vehicle: 2 min}}\n"
        "crossings_csv: crossings.csv\n"
        "crossing_templates:\n"
        "  multilateral_road:\n"
        "    sides: {a: {servers: {border_control: 1}}, b: {servers: {border_control: 1}}}\n"
        "demand: [{crossing: cat_road, flow: truck, direction: a_to_b, daily: 100}]\n"
        f"assumptions: [{json.dumps(ASSUMPTIONS[0])}]\n"
    )
    return sim.load_scenario(folder / "scenario.yaml")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    """Report pages built through the public API from hostile free text."""
    root = tmp_path_factory.mktemp("hostile")
    run = sim.run(sim.scenario_from_dict(_hostile("hostile_run")), replications=1)
    run.write(root / "run")
    base = sim.scenario_from_dict(_hostile("hostile_base"))
    other = sim.scenario_from_dict(_hostile("hostile_slow", service="4 min"))
    compare(base, [other], replications=2).write(root / "cmp")
    sim.run(_catalogue(root / "catalogue_input")).write(root / "catalogue")
    return {
        "run": root / "run" / "report.html",
        "comparison": root / "cmp" / "report.html",
        "comparison_scenario": root / "cmp" / "hostile_slow" / "report.html",
        "catalogue": root / "catalogue" / "report.html",
    }


VISIBLE = {
    "run": [NAMED, SIDES, *ASSUMPTIONS, *SOURCES],
    "comparison": [*ASSUMPTIONS, *SOURCES],
    "comparison_scenario": [NAMED, SIDES, *ASSUMPTIONS, *SOURCES],
    "catalogue": [CATALOGUE_SIDES, ASSUMPTIONS[0]],
}
"""The hostile text each page shows, as text."""


class _Page(HTMLParser):
    """Every element, every event-handler attribute and all text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [(tag, name) for name, _ in attrs if name.lower().startswith("on")]
        values = dict(attrs)
        if tag == "a":
            self.links.append(values.get("href") or "")
        if tag == "img":
            self.images.append(values.get("src") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("page", list(VISIBLE))
def test_hostile_text_is_text_in_the_html(hostile, page):
    parser = _Page()
    text = hostile[page].read_text()
    parser.feed(text)
    parser.close()
    only_our_scripts(text)  # the bundled chart libraries and the charts' data, nothing a name made
    assert not {"iframe", "object", "embed"} & set(parser.tags)
    assert parser.handlers == []
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert len(parser.images) >= 4
    assert all(link.endswith("/report.html") and ":" not in link for link in parser.links)
    text = "".join(parser.text)
    for expected in VISIBLE[page]:
        assert expected in text


@pytest.mark.parametrize("page", list(VISIBLE))
def test_hostile_text_runs_nothing_in_a_real_browser(hostile, page):
    from selenium.common.exceptions import NoAlertPresentException

    browser = _chromium()
    try:
        browser.get(hostile[page].resolve().as_uri())
        with contextlib.suppress(NoAlertPresentException):  # reading an alert raises when none is open
            pytest.fail(f"the page opened an alert: {browser.switch_to.alert.text}")
        assert browser.execute_script("return typeof window.__pwned") == "undefined"
        assert sorted(browser.execute_script(BROWSER_OUR_SCRIPTS)) == sorted(len(s) for s in our_scripts())
        handlers = browser.execute_script(
            "return Array.from(document.querySelectorAll('*'))"
            ".flatMap(e => Array.from(e.attributes).map(a => a.name))"
            ".filter(n => n.toLowerCase().startsWith('on'))"
        )
        assert handlers == []
        shown = browser.execute_script("return document.body.innerText")
        for expected in VISIBLE[page]:
            assert expected in shown
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
    finally:
        browser.quit()


LONG = "a very long crossing name " * 20


def test_charts_draw_hostile_names_as_plain_text(hostile):
    """Names reach the charts as scenario, crossing, flow and stage labels: never mathtext, one short line."""
    run = RunFolder.read(hostile["run"].parent)
    rename = {"x": f"{MATH} {BROKEN_MATH}", "y": f"two\nlines {LONG}"}
    flow = f"{BROKEN_MATH}\nflow"
    records = run.records.assign(flow=flow)
    summary = run.summary.replace({"crossing": rename, "flow": {"truck": flow}})
    stages = run.stages.replace({"crossing": rename}).assign(stage=BROKEN_MATH, role=LONG)
    crossings = run.crossings.replace({"id": rename}).assign(lat=[50.0, 51.0], lon=[60.0, 61.0])
    names = [f"{BROKEN_MATH} scenario", f"second\n{LONG}"]
    table = pd.read_csv(hostile["comparison"].parent / "comparison.csv", keep_default_na=False, na_values=[""])
    comparison = table.assign(
        scenario=names[1], baseline=names[0], flow=table["flow"].replace({"truck": f"{BROKEN_MATH}\nflow"})
    )
    figures = [
        charts.wait_ecdf({names[0]: records, names[1]: records}, warmup=360),
        charts.throughput_by_category({n: summary for n in names}, crossings, {flow: "vehicle"}),
        charts.day_profile({n: records for n in names}, {n: run.visits for n in names}, 360, 2160),
        charts.utilization_heatmap(stages),
        comparison_charts.forest(comparison),
        map_charts.border_map(summary, crossings, countries=(BROKEN_MATH, LONG)),
        map_charts.border_map(summary, crossings, countries=(BROKEN_MATH, LONG), basemap=_hostile_basemap()),
    ]
    for fig in figures:
        fig.savefig(os.devnull, format="png")
        for text in fig.findobj(Text):
            drawn = text.get_text()
            if "frac" in drawn:
                assert "$" not in drawn.replace(r"\$", "")  # every dollar escaped: not mathtext
            assert "two\nlines" not in drawn
            assert "second\n" not in drawn
            assert len(drawn) < 150
        plt.close(fig)


def _hostile_basemap():
    """A base map whose country names are hostile text: drawn as plain words on the map."""
    from sim.scenario.basemap import parse_basemap

    square = [[59.0, 49.0], [59.0, 52.0], [62.0, 52.0], [62.0, 49.0], [59.0, 49.0]]
    return parse_basemap(
        {
            "type": "FeatureCollection",
            "attribution": BROKEN_MATH,
            "source": LONG,
            "features": [
                {
                    "type": "Feature",
                    "properties": {"kind": "border"},
                    "geometry": {"type": "LineString", "coordinates": [[59.0, 50.0], [62.0, 51.0]]},
                },
                {
                    "type": "Feature",
                    "properties": {"kind": "country", "name": f"second\n{LONG}"},
                    "geometry": {"type": "Polygon", "coordinates": [square]},
                },
            ],
        },
        "hostile map",
    )


# --- a results folder that is not what a run writes -------------------------------------------


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    data = one_crossing(
        {"border_control": {"per_vehicle": "2 min"}},
        "customs_union",
        {"border_control": 1},
        {"border_control": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 100}],
    )
    data.update(name="good", horizon="1 d", warmup="2 h")
    out = tmp_path_factory.mktemp("good") / "run"
    sim.run(sim.scenario_from_dict(data)).write(out, report=False)
    return out


def _manifest(folder: Path, edit) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def _replace_with_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("a folder where a file belongs")


def _replace_with_link(path: Path, target: str) -> None:
    path.unlink()
    path.symlink_to(target)


def _replace_with_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _text_in_a_number_column(path: Path) -> None:
    table = pd.read_csv(path, keep_default_na=False)
    table["arrivals"] = "many"
    table.to_csv(path, index=False)


BROKEN = {
    "manifest not JSON": ("manifest.json", lambda f: (f / "manifest.json").write_text("{not json")),
    "manifest a list": ("manifest.json", lambda f: (f / "manifest.json").write_text("[1, 2, 3]")),
    "manifest without a key": ("manifest.json", lambda f: _manifest(f, lambda m: m.pop("warmup_min"))),
    "manifest with a wrong type": ("manifest.json", lambda f: _manifest(f, lambda m: m.update(entities="many"))),
    "manifest nested too deep": ("manifest.json", lambda f: (f / "manifest.json").write_text("[" * 100_000)),
    "manifest too large": ("manifest.json", lambda f: os.truncate(f / "manifest.json", 17 * 2**20)),
    "manifest a folder": ("manifest.json", lambda f: _replace_with_folder(f / "manifest.json")),
    "empty parquet": ("records.parquet", lambda f: (f / "records.parquet").write_bytes(b"")),
    "truncated parquet": (
        "visits.parquet",
        lambda f: (f / "visits.parquet").write_bytes((f / "visits.parquet").read_bytes()[:300]),
    ),
    "parquet of another table": (
        "records.parquet",
        lambda f: shutil.copyfile(f / "visits.parquet", f / "records.parquet"),
    ),
    "CSV of binary garbage": ("summary.csv", lambda f: (f / "summary.csv").write_bytes(bytes(range(256)) * 64)),
    "CSV of text garbage": ("stages.csv", lambda f: (f / "stages.csv").write_text('"unclosed,\n1,2,3\n')),
    "CSV with text for numbers": ("summary.csv", lambda f: _text_in_a_number_column(f / "summary.csv")),
    "empty CSV": ("crossings.csv", lambda f: (f / "crossings.csv").write_bytes(b"")),
    "folder for a CSV": ("stages.csv", lambda f: _replace_with_folder(f / "stages.csv")),
    "device for a parquet": ("records.parquet", lambda f: _replace_with_link(f / "records.parquet", "/dev/zero")),
    "FIFO for a manifest": ("manifest.json", lambda f: _replace_with_fifo(f / "manifest.json")),
    "FIFO for a parquet": ("visits.parquet", lambda f: _replace_with_fifo(f / "visits.parquet")),
    "missing file": ("crossings.csv", lambda f: (f / "crossings.csv").unlink()),
}


def _report_cli(folder: Path):
    with _hang_guard():
        return CliRunner().invoke(main, ["report", str(folder)])


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_results_folder_is_a_clear_error(good_run, tmp_path, case):
    name, breaks = BROKEN[case]
    folder = tmp_path / "run"
    shutil.copytree(good_run, folder)
    breaks(folder)
    result = _report_cli(folder)
    assert result.exit_code == 2, result.output
    assert "error: " in result.output
    assert name in result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    assert not (folder / "report.html").exists()


def test_the_intact_folder_reports(good_run, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(good_run, folder)
    result = _report_cli(folder)
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").exists()


@pytest.fixture(scope="module")
def good_comparison(tmp_path_factory) -> Path:
    base = one_crossing(
        {"border_control": {"per_vehicle": "2 min"}},
        "customs_union",
        {"border_control": 1},
        {"border_control": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 100}],
    )
    base.update(name="base", horizon="1 d", warmup="2 h", replications=2)
    other = {**base, "name": "other"}
    out = tmp_path_factory.mktemp("good") / "cmp"
    compare(sim.scenario_from_dict(base), [sim.scenario_from_dict(other)]).write(out, report=False)
    return out


BROKEN_COMPARISON = {
    "comparison.csv garbage": ("comparison.csv", lambda f: (f / "comparison.csv").write_bytes(b"\x00\xff" * 999)),
    "manifest a list": ("manifest.json", lambda f: (f / "manifest.json").write_text("[]")),
    "scenario outside the folder": ("manifest.json", lambda f: _manifest(f, lambda m: m.update(scenarios=["../x"]))),
    "no scenarios": ("manifest.json", lambda f: _manifest(f, lambda m: m.update(scenarios=[]))),
    "a scenario's parquet empty": (
        "other/records.parquet",
        lambda f: (f / "other" / "records.parquet").write_bytes(b""),
    ),
    "a scenario's FIFO": ("other/summary.csv", lambda f: _replace_with_fifo(f / "other" / "summary.csv")),
}


@pytest.mark.parametrize("case", list(BROKEN_COMPARISON))
def test_a_broken_comparison_folder_is_a_clear_error(good_comparison, tmp_path, case):
    name, breaks = BROKEN_COMPARISON[case]
    folder = tmp_path / "cmp"
    shutil.copytree(good_comparison, folder)
    breaks(folder)
    result = _report_cli(folder)
    assert result.exit_code == 2, result.output
    assert name in result.output
    assert "Traceback" not in result.output
    assert "internal error" not in result.output


# --- Ctrl-C while the scenarios' reports are drawn ---------------------------------------------

BLOCKING_REPORT = r"""
import os
import sys
import threading
from pathlib import Path

import sim.outputs.report


def blocked(path):
    os.write(1, f"{os.getpid()}\n".encode())  # one write: the two workers' lines never mix
    threading.Event().wait()  # a report that never finishes


if __name__ == "__main__":
    sim.outputs.report.run_report = blocked
    sim.outputs.report.comparison_report(Path(sys.argv[1]), jobs=2)
"""


def test_interrupting_a_comparison_report_stops_its_workers(good_comparison, tmp_path):
    script = tmp_path / "blocking_report.py"
    script.write_text(BLOCKING_REPORT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(good_comparison)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        with _hang_guard():
            lines = [proc.stdout.readline() for _ in range(2)]  # both scenarios' reports have started
        assert all(lines), proc.communicate()[1]
        workers = [int(line) for line in lines]
        proc.send_signal(signal.SIGINT)
        # a pool that waited for its workers would wait forever: the deadline only guards the test
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2-2", "@SUM(1)", "'=already marked"]


def test_csv_outputs_carry_no_spreadsheet_formula(tmp_path):
    """Text a spreadsheet would run (=, +, -, @ first) is written with a leading ' and read back as it was."""
    data = one_crossing(
        {"border_control": {"per_vehicle": "2 min"}},
        "customs_union",
        {"border_control": 2},
        {"border_control": 2},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": 100}],
        name=FORMULAS[0],
    )
    data["crossings"][0]["sides"]["a"].update(name=FORMULAS[1], region=FORMULAS[2])
    data["crossings"][0]["sides"]["b"].update(name=FORMULAS[3], region=FORMULAS[4])
    data.update(horizon="1 d", warmup="2 h")
    sim.run(sim.scenario_from_dict(data)).write(tmp_path / "run")
    for table in ("crossings", "summary", "stages", "replications"):
        with open(tmp_path / "run" / f"{table}.csv", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")), (table, cell)
                    assert not cell.startswith("-") or _is_number(cell), (table, cell)
    with open(tmp_path / "run" / "crossings.csv", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["name"] == "'" + FORMULAS[0]
    assert row["region_a"] == "'" + FORMULAS[2]
    assert row["region_b"] == "'" + FORMULAS[4]
    # read back, the names are what the scenario said, and the report shows them so
    back = RunFolder.read(tmp_path / "run").crossings.iloc[0]
    assert back["name"] == FORMULAS[0]
    page = (tmp_path / "run" / "report.html").read_text()
    assert html.escape(FORMULAS[0], quote=True) in page


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
