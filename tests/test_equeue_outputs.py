"""E-queue outputs: the tables against the raw rows, their invariants, the files, the report sections."""

from __future__ import annotations

import copy
import io
import json
import math
import subprocess
import sys
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim
from sim.analysis.equeue import EQueueStats, EQueueTotals
from sim.analysis.equeue_tables import equeue_tables, quota_slots
from sim.engine.core import Engine
from sim.engine.recorder import AREA_COLUMNS, BOOKING_COLUMNS, SLOT_COLUMNS, Recorder
from sim.experiments.compare import compare
from sim.model.compile import compile_model
from sim.outputs.equeue_frames import comparison_frame
from sim.outputs.equeue_sections import comparison_equeue_section, run_equeue_section
from sim.outputs.html import Html, el
from sim.outputs.network_sections import Embed
from sim.outputs.results import RunFolder
from tests.conftest import BROWSER_OUR_SCRIPTS, KeepChunks, chunk_table, one_crossing, our_scripts, run_dict

NAME = "<b>Bold</b> & co"
"""A crossing's display name: free text, shown escaped in the report."""


def scenario(equeue: dict[str, Any] | None = None, daily: float = 150, **top: Any) -> dict[str, Any]:
    """One crossing, one booth, 7.5 minutes a truck; an e-queue for its trucks out of side a."""
    data = one_crossing(
        stages={"check": {"per_vehicle": 7.5}},
        regime={"exit": ["check"]},
        servers_a={"check": 1},
        demand=[{"crossing": "x", "flow": "truck", "direction": "a_to_b", "daily": daily}],
        name=NAME,
    )
    data.update(top)
    if equeue is not None:
        data["equeues"] = [{"crossings": ["x"], "flows": ["truck"], "slots": {"per_hour": 8}, **equeue}]
    return data


RICH = {
    "name": "gate",
    "priority": {"classes": [{"name": "oot", "quota": 0.05, "demand": 0.1}]},
    "no_show": 0.2,
    "booking": {"lead": {"dist": "uniform", "low": 0, "high": 240}},
    "arrival": {
        "before": {"dist": "uniform", "low": 0, "high": 60},
        "late_share": 0.1,
        "late": {"dist": "uniform", "low": 0, "high": 40},
        "earliest": 30,
        "latest": 20,
    },
    "walk_in": {"share": 0.1, "rule": "refused"},
    "area": {"capacity": 2},
    "call_up": 2,
}
"""Every part of the time non-zero: lead, early and late arrivals, a small area, walk-ins, a call-up."""


def raw_run(data: dict[str, Any], replication: int = 0) -> tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
    """The model, the booking, slot and area rows of one replication, and the consumer's totals of the same run."""
    model = compile_model(sim.scenario_from_dict(copy.deepcopy(data)))
    keep = KeepChunks()
    stats = EQueueStats(model)
    results = Engine(model, replication, Recorder(replication, [keep, stats])).run()
    chunks = results[0]

    return (
        model,
        chunk_table(chunks, "bookings", BOOKING_COLUMNS),
        chunk_table(chunks, "slots", SLOT_COLUMNS),
        chunk_table(chunks, "area", AREA_COLUMNS),
        results[1],
    )


def p95(x: pd.Series) -> float:
    return float(np.percentile(x.to_numpy(), 95)) if len(x) else math.nan


def by_hand(model: Any, b: pd.DataFrame) -> pd.DataFrame:
    """Per class (and ALL): counts, component means and 95th percentiles, shares, from the raw rows."""
    plan = model.equeues[0]
    b = b[b["desired"] >= model.warmup].copy()
    names = ["regular", *plan.classes]
    b["class"] = np.where(b["walk_in"] > 0, "walk-in", [names[int(c)] for c in b["cls"]])
    entered = b["in_area"].notna()
    b["virtual"] = b["at_border"] - b["desired"]
    b["road"] = b["in_area"].where(entered, b["called"]) - b["at_border"]
    b["area"] = (b["called"] - b["in_area"]).where(entered, 0.0)
    b["call_up"] = b["at_post"] - b["called"]
    b["physical"] = b["release"] - b["at_post"] - b["service"]
    b["wait"] = b["release"] - b["desired"] - b["service"]
    rows = []
    for name, g in [*((n, b[b["class"] == n]) for n in [*names, "walk-in"]), ("ALL", b)]:
        now = g[g["beyond"] == 0]
        done = now[now["release"].notna()]
        reached = now[now["at_border"].notna()]
        row = {
            "class": name,
            "booked": len(now),
            "finished": len(done),
            "inside_at_end": int(now["release"].isna().sum()),
            "booked_beyond": int((g["beyond"] > 0).sum()),
            "priority_served": int((now["priority_slot"] > 0).sum()),
        }
        for part in ("virtual", "road", "area", "call_up", "physical", "service", "wait"):
            row[f"{part}_mean_min"] = done[part].mean() if len(done) else math.nan
            row[f"{part}_p95_min"] = p95(done[part])
        for flag in ("late", "lost", "refused"):
            row[f"{flag}_share"] = (reached[flag] > 0).mean() if len(reached) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def test_tables_match_the_raw_rows():
    data = scenario(RICH, warmup="12 h")
    model, b, s, a, totals = raw_run(data)
    result = run_dict(data, records="none")
    # the consumer of a bare engine run and the run's own tables agree to the last digit
    mine = equeue_tables(model, [totals], result.scenario.name)
    for got, want in zip(mine, (result.equeue, result.equeue_slots, result.equeue_area), strict=True):
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    # every part of the time shows up in this scenario, and the bookings past the end too
    assert (b["beyond"] > 0).any()
    for flag in ("walk_in", "late", "lost", "refused"):
        assert (b[flag] > 0).any(), flag

    table = result.equeue.set_index("class")
    want = by_hand(model, b).set_index("class")
    assert list(table.index) == ["regular", "oot", "walk-in", "ALL"]
    assert (table["replications"] == 1).all()
    for col in want.columns:
        if col == "priority_served":
            continue
        np.testing.assert_allclose(table[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-12, err_msg=col)
        assert table[f"{col}_ci95"].isna().all()  # one replication: no interval
    assert table.loc["oot", "priority_served"] == want.loc["oot", "priority_served"]
    assert table[["priority_served", "quota_slots"]].drop(index="oot").isna().all().all()
    # the parts add up to the wait the standard tables show
    parts = table[[f"{p}_mean_min" for p in ("virtual", "road", "area", "call_up", "physical")]].sum(axis=1)
    np.testing.assert_allclose(parts, table["wait_mean_min"], rtol=1e-9)
    for part in ("virtual", "road", "area", "call_up"):
        assert table.loc["ALL", f"{part}_mean_min"] > 0, part
    summary = result.summary.set_index(["crossing", "direction", "flow"]).loc[("x", "a_to_b", "truck")]
    assert summary["completed"] == table.loc["ALL", "finished"]

    slots = result.equeue_slots.iloc[0]
    s = s[s["time"] >= model.warmup]
    assert slots["offered"] == len(s)
    assert slots["used_by_holder"] == (s["used"] == 1).sum()
    assert slots["used_by_others"] == (s["used"] == 2).sum()
    assert slots["unused"] == (s["used"] == 0).sum()
    assert slots["no_show"] == (s["state"] == 2).sum()
    assert slots["utilisation"] == pytest.approx((s["used"] > 0).mean(), rel=1e-12)
    assert slots["no_show_rate"] == pytest.approx((s["state"] == 2).sum() / s["state"].isin([1, 2, 3]).sum())
    assert table.loc["oot", "reserved_slots"] == (s["cls"] == 1).sum()
    assert slots["area_capacity"] == 2

    a = a[a["hour"] * 60 >= model.warmup].sort_values("hour")
    area = result.equeue_area
    assert list(area["hour"]) == a["hour"].astype(int).tolist()
    np.testing.assert_array_equal(area["area_mean"], a["area_mean"])
    np.testing.assert_array_equal(area["area_max"], a["area_max"])
    np.testing.assert_array_equal(area["road_max"], a["road_max"])
    assert slots["area_mean"] == pytest.approx(a["area_mean"].mean(), rel=1e-12)
    assert slots["area_max"] == a["area_max"].max() <= 2
    assert slots["road_max"] == a["road_max"].max() > 0


def test_no_physical_queue_when_slots_match_a_deterministic_booth():
    # a slot every 7.5 minutes, 7.5 minutes a truck at one booth: the post is never busy at a call
    result = run_dict(scenario({}, daily=150), records="none")
    table = result.equeue.set_index("class")
    assert table.loc["ALL", "finished"] > 300
    assert table.loc["ALL", "physical_mean_min"] == 0
    assert table.loc["ALL", "physical_p95_min"] == 0
    assert table.loc["ALL", "service_mean_min"] == pytest.approx(7.5)
    # the whole wait is spent away from the border
    assert table.loc["ALL", "wait_mean_min"] == pytest.approx(
        table.loc["ALL", ["virtual_mean_min", "road_mean_min", "area_mean_min"]].sum()
    )


def test_priority_within_quota_and_utilisation_a_share():
    classes = [{"name": "oot", "quota": 0.05, "demand": 0.4}, {"name": "fast", "quota": 0.01, "demand": 0.1}]
    # holders called at their own slots (none called earlier into another's), so the classes use their quota
    equeue = {"priority": {"classes": classes}, "no_show": 0.3, "arrival": {"before": 15}, "fill_unused": False}
    data = scenario(equeue, daily=200, replications=3)
    result = run_dict(data, records="none")
    model = compile_model(result.scenario)
    table = result.equeue.set_index("class")
    # 8 slots an hour, 192 a day: 9 out-of-turn and 1 fast-track slots a day, 3 days
    assert quota_slots(model, model.equeues[0]) == [27, 3]
    for cls in ("oot", "fast"):
        row = table.loc[cls]
        assert 0 < row["priority_served"] <= row["reserved_slots"] <= row["quota_slots"]
    slots = result.equeue_slots.iloc[0]
    assert 0 <= slots["utilisation"] <= 1
    assert 0 < slots["no_show_rate"] < 1
    # per replication, utilisation is used / offered
    for rep in range(3):
        _model, _b, s, _a, totals = raw_run(data, rep)
        used = totals.slots["used_by_holder"] + totals.slots["used_by_others"]
        assert used[0] == (s["used"] > 0).sum() <= totals.slots["offered"][0] == len(s)
        classes = slice(1, 3)  # the rows of the priority classes
        served = totals.counts["priority_served"][classes]
        assert (served <= totals.counts["reserved_slots"][classes]).all()


def test_split_runs_give_identical_equeue_tables():
    data = scenario(RICH, replications=2)
    data["crossings"].append({**data["crossings"][0], "id": "y", "name": "other"})
    data["demand"].append({**data["demand"][0], "crossing": "y", "daily": 120})
    data["equeues"][0]["crossings"] = ["x", "y"]
    whole = run_dict(data, records="none")
    split = run_dict(data, records="none", pieces=2)
    assert len(whole.equeue_slots) == 2
    for name in ("equeue", "equeue_slots", "equeue_area"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(split, name), check_exact=True)


def test_merge_keeps_each_piece_own_figures():
    data = scenario(RICH)
    model, _b, _s, _a, totals = raw_run(data)
    empty = EQueueStats(model).finish([])
    merged = EQueueTotals.merge([empty, totals])
    for kind in ("counts", "sums", "p95", "slots"):
        for k, v in getattr(totals, kind).items():
            np.testing.assert_array_equal(getattr(merged, kind)[k], v)
    np.testing.assert_array_equal(merged.area, totals.area)


def drawn(charts: list[str]) -> Embed:
    """An ``Embed`` that draws each chart (so that a name matplotlib cannot lay out fails here) and keeps its key."""

    def embed(key: str, fig: Figure, alt: str, caption: str) -> Html:
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
        charts.append(key)
        return el("figure", el("figcaption", caption))

    return embed


def test_run_command_writes_the_tables_and_the_section_escapes_names(tmp_path):
    path = tmp_path / "equeue.yaml"
    path.write_text(json.dumps(scenario(RICH, name="eq", horizon="1 d")))  # JSON is YAML
    out = tmp_path / "res"
    args = ["--replications", "2", "--records", "none", "--no-report", "--out", str(out), "--quiet"]
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(path), *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in ("equeue.csv", "equeue_slots.csv", "equeue_area.csv"):
        assert (out / name).is_file()
    assert not list(out.glob(".*.part"))
    table = pd.read_csv(out / "equeue.csv")
    assert list(table["class"]) == ["regular", "oot", "walk-in", "ALL"]
    assert {"virtual_mean_min", "virtual_mean_min_ci95", "physical_p95_min", "late_share", "quota_slots"} <= set(
        table.columns
    )
    assert (table["replications"] == 2).all()
    assert len(pd.read_csv(out / "equeue_area.csv")) == 24  # one row per hour of the day

    folder = RunFolder.read(out)
    charts: list[str] = []
    section = run_equeue_section(folder, drawn(charts))
    assert charts == ["equeue_split", "equeue_area"]
    assert section.startswith("<h2>Electronic queue</h2>")
    assert 'id="equeue-slots"' in section
    assert 'id="equeue-0"' in section
    assert "gate at &lt;b&gt;Bold&lt;/b&gt; &amp; co (x), a to b" in section
    assert NAME not in section
    assert "<td>oot</td>" in section
    assert "<td>walk-in</td>" in section


def test_a_run_without_equeue_writes_no_equeue_files(tmp_path):
    result = run_dict(scenario(None, horizon="1 d"), records="none")
    for name in ("equeue", "equeue_slots", "equeue_area"):
        assert getattr(result, name) is None
    out = result.write(tmp_path / "run", report=False)
    assert not list(out.glob("equeue*"))
    folder = RunFolder.read(out)
    assert folder.equeue is None
    assert run_equeue_section(folder, drawn([])) == ""
    assert comparison_equeue_section([folder], drawn([])) == ""


def test_comparison_writes_the_combined_table_and_sets_the_equeue_against_the_baseline(tmp_path):
    base = sim.scenario_from_dict(scenario(None, name="base", horizon="1 d", replications=2))
    booked = sim.scenario_from_dict(scenario(RICH, name="booked", horizon="1 d", replications=2))
    result = compare(base, [booked], records="none")
    assert result.equeue is not None
    assert set(result.equeue["scenario"]) == {"booked"}
    out = result.write(tmp_path / "cmp", report=False)
    combined = pd.read_csv(out / "equeue.csv")
    pd.testing.assert_frame_equal(combined, pd.read_csv(out / "booked" / "equeue.csv"))
    assert not (out / "base" / "equeue.csv").exists()

    runs = [RunFolder.read(out / name) for name in ("base", "booked")]
    frame = comparison_frame(runs)
    assert list(frame["scenario"]) == ["base", "booked"]
    # the baseline has no e-queue: its whole standard wait is the physical queue
    standard = result.baseline.summary.set_index(["crossing", "direction", "flow"])
    base_row, booked_row = frame.iloc[0], frame.iloc[1]
    assert base_row["equeue"] == ""
    assert base_row["physical"] == pytest.approx(standard.loc[("x", "a_to_b", "truck"), "wait_mean_min"], rel=1e-5)
    assert base_row["virtual"] == base_row["road_area"] == 0
    every = combined.set_index("class").loc["ALL"]
    assert booked_row["virtual"] == pytest.approx(every["virtual_mean_min"], rel=1e-5)  # CSVs hold 6 digits
    assert booked_row["wait"] == pytest.approx(every["wait_mean_min"], rel=1e-5)

    charts: list[str] = []
    section = comparison_equeue_section(runs, drawn(charts))
    assert charts == ["equeue_split", "equeue_area"]
    table = section[section.index('id="equeue-comparison"') :]
    table = table[: table.index("</table>")]
    assert "none: physical queue only" in table
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co (x), a to b: truck" in table
    assert NAME not in section
    assert 'id="equeue-priority"' in section


@pytest.mark.slow
def test_compare_command_draws_the_section_in_both_reports(tmp_path):
    paths = []
    for name, equeue in (("base", None), ("booked", RICH)):
        paths.append(tmp_path / f"{name}.yaml")
        paths[-1].write_text(json.dumps(scenario(equeue, name=name, horizon="1 d")))
    out = tmp_path / "cmp"
    args = ["--replications", "2", "--records", "none", "--out", str(out), "--quiet"]
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "compare", *map(str, paths), *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "equeue.csv").is_file()
    for page in (out / "report.html", out / "booked" / "report.html"):
        text = page.read_text()
        assert "<h2>Electronic queue</h2>" in text
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in text
        assert NAME not in text
    assert "Electronic queue" not in (out / "base" / "report.html").read_text()
    for folder in (out, out / "booked"):
        assert (folder / "charts" / "equeue_split.png").is_file()
        assert (folder / "charts" / "equeue_area.png").is_file()


def test_the_section_in_a_real_browser(tmp_path):
    """The run report's e-queue section renders in headless Chromium: charts load, names stay text, no errors."""
    import contextlib

    from tests.test_report import _chromium

    path = tmp_path / "equeue.yaml"
    path.write_text(json.dumps(scenario(RICH, name="eq", horizon="1 d")))  # JSON is YAML
    out = tmp_path / "res"
    args = ["--replications", "2", "--records", "none", "--out", str(out), "--quiet"]
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(path), *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    browser = _chromium()
    try:
        browser.get((out / "report.html").resolve().as_uri())
        assert sorted(browser.execute_script(BROWSER_OUR_SCRIPTS)) == sorted(len(s) for s in our_scripts())
        heads = browser.execute_script("return Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
        assert "Electronic queue" in heads
        sizes = browser.execute_script(
            "return Array.from(document.images).filter(i => /e-queue|waiting.area/i.test(i.alt))"
            ".map(i => i.complete ? i.naturalWidth : 0)"
        )
        assert len(sizes) == 2
        assert all(w > 0 for w in sizes)
        text = browser.execute_script("return document.querySelector('#equeue-slots').textContent")
        assert NAME in text  # shown as text, not markup
        # the name's <b> stays text: no bold element holds it (the summary's own headings are bold)
        bold = browser.execute_script("return Array.from(document.querySelectorAll('b')).map(b => b.textContent)")
        assert "Bold" not in bold, bold
        errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == []
    finally:
        with contextlib.suppress(Exception):
            browser.quit()
