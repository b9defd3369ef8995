"""A sweep's report: bad outcomes and their refusals, sensitivity with a known answer, PRIM on a known box,
names escaped, and a report that fails keeping the results."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

import sim
from sim.analysis.sweep_tables import discover, point_table, run_table, sensitivity
from sim.cli import main
from sim.experiments.bad_outcome import BadOutcome, parse_bad
from sim.experiments.sweep import SweepSpec, load_sweep
from sim.outputs import sweep_report as sweep_report_module
from sim.outputs.sweep_report import sweep_report
from sim.outputs.sweep_words import discovery_sentences

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "scenarios" / "tutorial_single_crossing.yaml"
DEMAND = "demand[1].daily"  # trucks a day from A to B: more of them, longer truck waits
NOTHING = "limits.max_in_system"  # a guard never reached at these volumes: changes nothing
TRUCKS_IN = ("ALL", "a_to_b", "truck")
BAD = "wait_p95_min > 8 where direction=a_to_b flow=truck"


def cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def write_sweep(folder: Path, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "name": "tiny",
        "base": str(TUTORIAL),
        "replications": 2,
        "days": 1.5,
        "factors": {DEMAND: [100, 200, 300], NOTHING: [100_000, 200_000]},
        "kpis": ["wait_mean_min", "wait_p95_min"],
        "bad": BAD,
        **extra,
    }
    path = folder / "sweep.yaml"
    with path.open("w") as fh:
        YAML().dump(spec, fh)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A 12-run sweep of the tutorial run through the command line: its file, folder and output."""
    base = tmp_path_factory.mktemp("sweep")
    path = write_sweep(base)
    code, output = cli("sweep", path, "--out", base / "out", "--quiet")
    assert code == 0, output
    return path, base / "out", output


def test_a_sweep_draws_its_report_with_every_section(tiny):
    _, out, output = tiny
    assert f"report: {out / 'report.html'}" in output
    page = (out / "report.html").read_text()
    for anchor in ('id="factors"', 'id="sensitivity"', 'id="discovery"', 'id="points"', 'id="points-1"'):
        assert anchor in page, anchor
    assert "What was swept" in page
    assert "6 design points x 2 replications = 12 runs; 12 finished, 0 failed" in page
    assert html.escape(BAD) in page
    # directions named by the scenario's countries
    assert "Trucks, Country A → Country B, over the whole border (the bad outcome&#x27;s row): design points" in page
    for chart in ("sensitivity_border", "sensitivity_row1", "prim_trajectory"):
        assert (out / "charts" / f"{chart}.png").stat().st_size > 0, chart
    # the results are there beside it, untouched by the report
    assert pd.read_parquet(out / "sweep.parquet").groupby(["point", "replication"]).ngroups == 12


def test_truck_demand_matters_and_a_factor_that_does_nothing_does_not(tiny):
    _, out, _ = tiny
    table = pd.read_parquet(out / "sweep.parquet")
    kpis = ["wait_mean_min", "wait_p95_min"]
    points = point_table(run_table(table, [DEMAND, NOTHING], TRUCKS_IN, kpis), [DEMAND, NOTHING], kpis)
    assert len(points) == 6
    for kpi, result in sensitivity(points, [DEMAND, NOTHING], kpis).items():
        t = result.table.set_index("factor")
        assert t.loc[DEMAND, "src"] > 0.8, kpi
        assert t.loc[DEMAND, "src_low"] > 0, kpi  # the interval excludes no effect
        assert t.loc[DEMAND, "importance_rank"] == 1, kpi
        assert abs(t.loc[NOTHING, "src"]) < 1e-6, kpi  # the same runs at both of its levels
        assert t.loc[NOTHING, "src_low"] <= 0 <= t.loc[NOTHING, "src_high"], kpi
        assert t.loc[NOTHING, "importance_rank"] == 2, kpi
    page = (out / "report.html").read_text()
    assert f"{DEMAND} explains most of the change in the 95th-percentile wait of trucks, Country A → Country B" in page
    assert f"The design cannot tell the effect of {NOTHING} from none" in page


def synthetic_table(n_points: int = 150, seed: int = 4) -> pd.DataFrame:
    """A sweep table whose trucks' p95 wait is 200 min when factor a > 0.7 and 50 otherwise (b does nothing)."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(size=n_points), rng.uniform(10, 20, size=n_points)
    rows = []
    for point in range(n_points):
        for replication in range(2):
            wait = (200.0 if a[point] > 0.7 else 50.0) + rng.normal(0, 5)
            for row, value in ((TRUCKS_IN, wait), (("ALL", "ALL", "ALL"), wait / 2)):
                rows.append(
                    {"point": point, "a": a[point], "b": b[point], "replication": replication,
                     "crossing": row[0], "direction": row[1], "flow": row[2], "metric": "wait_p95_min",
                     "value": value, "overloaded": False}
                )  # fmt: skip
    return pd.DataFrame(rows)


def test_prim_recovers_the_range_where_runs_go_bad():
    table = synthetic_table()
    bad = BadOutcome.model_validate("wait_p95_min > 120 where direction=a_to_b flow=truck")
    d = discover(run_table(table, ["a", "b"], bad.row, [bad.kpi]), ["a", "b"], bad)
    assert (d.cases, d.left_out) == (300, 0)
    assert d.bad == int((table.query("direction == 'a_to_b'")["value"] > 120).sum())
    box = d.result.box.set_index("factor")
    assert list(box.index) == ["a"]  # b does nothing and is not restricted
    assert box.loc["a", "low"] == pytest.approx(0.7, abs=0.03)
    assert box.loc["a", "high_at_edge"]
    assert not box.loc["a", "low_at_edge"]
    assert d.result.density >= 0.95
    assert d.result.coverage >= 0.95
    assert box.loc["a", "quasi_p"] < 1e-6
    words = " ".join(discovery_sentences(d, bad, ("A", "B")))
    said = re.search(r"of runs when a is at least ([0-9.]+): this box holds", words)
    assert said is not None, words
    assert float(said.group(1)) == pytest.approx(box.loc["a", "low"], abs=5e-4)


def test_no_bad_run_and_every_run_bad_are_said_in_words():
    table = synthetic_table(40)
    runs = run_table(table, ["a", "b"], TRUCKS_IN, ["wait_p95_min"])
    none = BadOutcome.model_validate("wait_p95_min > 1000 where direction=a_to_b flow=truck")
    every = BadOutcome.model_validate("wait_p95_min > 1 where direction=a_to_b flow=truck")
    said = " ".join(discovery_sentences(discover(runs, ["a", "b"], none), none, ("A", "B")))
    assert said.startswith("No run was bad")
    assert "in none of 80 runs" in said
    said = " ".join(discovery_sentences(discover(runs, ["a", "b"], every), every, ("A", "B")))
    assert said.startswith("Every run was bad")
    assert "in all 80 runs" in said


def write_folder(folder: Path, table: pd.DataFrame, spec: dict[str, object]) -> Path:
    """A sweep folder as ``bordersim sweep`` leaves it, from a table made here."""
    folder.mkdir(parents=True)
    table.to_parquet(folder / "sweep.parquet", index=False)
    points = table.drop_duplicates("point").sort_values("point")
    factors = [c for c in table.columns if c not in {"point", "replication", "crossing", "direction", "flow",
                                                      "metric", "value", "overloaded"}]  # fmt: skip
    status = {"spec": spec, "points": points[factors].to_dict("records"), "status": "complete", "failed": 0}
    (folder / "sweep.json").write_text(json.dumps(status))
    return folder


def test_names_in_the_report_are_escaped(tmp_path):
    hostile = "<script>alert(1)</script>"
    place = "<img src=x onerror=alert(2)>"
    table = synthetic_table(60).rename(columns={"a": hostile})
    table.loc[table["direction"] == "a_to_b", "crossing"] = place
    spec = {
        "name": "hostile",
        "base": "<b>base</b>.yaml",
        "replications": 2,
        "design": "lhs",
        "samples": 60,
        "ranges": {hostile: {"low": 0, "high": 1}, "b": {"low": 10, "high": 20}},
        "kpis": ["wait_p95_min"],
        "bad": {"kpi": "wait_p95_min", "above": 120, "crossing": place, "direction": "a_to_b", "flow": "truck"},
    }
    folder = write_folder(tmp_path / "sweep", table, spec)
    page = sweep_report(folder, countries=("<i>A</i>", "B")).read_text()
    for raw in (hostile, place, "<b>base</b>", "<i>A</i>"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is at least 0.7" in page  # PRIM's box, in words
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert 'id="prim-box"' in page


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("wait_p95 >> 3", "error: --bad: cannot read 'wait_p95 >> 3'"),
        ("wait_p90_min > 3", "error: --bad: kpi: wait_p90_min is not among the sweep's kpis"),
        ("wait_p95_min > soon", "error: --bad: above: expected a valid number"),
        ("wait_p95_min > 3 where side=b", "error: --bad: cannot read 'side=b' after 'where'"),
        ("wait_p95_min > 3 where flow=bus", "error: --bad: flow: no flow 'bus' in the scenario; write ALL or one of"),
        ("wait_p95_min > 3 where crossing=tutorial_road flow=truck", "error: --bad: where: the KPI tables have no row"),
    ],
)
def test_a_bad_definition_on_the_command_line_is_refused(tmp_path, bad, expected):
    code, output = cli("sweep", write_sweep(tmp_path), "--out", tmp_path / "out", "--bad", bad)
    assert code == 2, output
    assert expected in output
    assert "Traceback" not in output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"kpi": "wait_p95", "above": 3}, "bad.kpi: expected 'arrivals'"),
        ({"kpi": "wait_p95_min"}, "bad: give above or below, one of them"),
        ({"kpi": "wait_p95_min", "above": 3, "flw": "truck"}, "bad.flw: unknown key"),
        ({"kpi": "wait_p95_min", "above": 3, "crossing": "elsewhere"}, "bad.crossing: no crossing 'elsewhere'"),
        ("time_in_system_mean_min > 60", "bad.kpi: time_in_system_mean_min is not among the sweep's kpis"),
    ],
)
def test_a_bad_definition_in_the_sweep_file_is_refused_with_its_line(tmp_path, bad, expected):
    path = write_sweep(tmp_path, bad=bad)
    code, output = cli("sweep", path, "--out", tmp_path / "out")
    assert code == 2, output
    # a key of the mapping is reported at its own line, anything else at the line of bad:
    field = expected.split(":")[0]
    key = field.partition(".")[2]
    start = "  " + key + ":" if isinstance(bad, dict) and key in bad else "bad:"
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if text.startswith(start))
    assert f"{path}:{line}: {expected}" in output
    assert not (tmp_path / "out").exists()


def test_the_text_and_the_mapping_are_one_definition():
    text = "wait_mean_min < 2.5 where crossing=x direction=b_to_a flow=car"
    bad = BadOutcome.model_validate(text)
    assert bad == BadOutcome.model_validate(
        {"kpi": "wait_mean_min", "below": 2.5, "crossing": "x", "direction": "b_to_a", "flow": "car"}
    )
    assert bad.text() == text
    assert BadOutcome.model_validate(parse_bad(bad.text())) == bad
    assert list(bad.is_bad(np.array([1.0, 2.5, 3.0, np.nan]))) == [True, False, False, False]
    assert BadOutcome.model_validate("wait_p95_min > 120").row == ("ALL", "ALL", "ALL")


def test_report_only_draws_again_with_another_bad_outcome(tiny):
    path, out, _ = tiny
    runs = sorted(p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet"))
    code, output = cli("sweep", path, "--out", out, "--report-only", "--quiet", "--bad", "wait_p95_min > 1000")
    assert code == 0, output
    page = (out / "report.html").read_text()
    assert "wait_p95_min &gt; 1000" in page
    assert "No run was bad" in page
    assert not (out / "charts" / "prim_trajectory.png").exists()  # the earlier definition's chart is gone
    assert sorted(p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")) == runs  # nothing was run
    code, output = cli("sweep", path, "--out", out.parent / "elsewhere", "--report-only")
    assert code == 2, output
    assert "no finished sweep there" in output


def test_a_report_that_fails_keeps_the_results(tmp_path, monkeypatch):
    def broken(*_args: object) -> Path:
        raise RuntimeError("the chart could not be drawn")

    monkeypatch.setattr(sweep_report_module, "sweep_report", broken)
    path = write_sweep(tmp_path, factors={DEMAND: [100, 200]}, replications=1, days=1.25)
    code, output = cli("sweep", path, "--out", tmp_path / "out", "--quiet")
    assert code == 1, output
    assert "the report could not be drawn (RuntimeError: the chart could not be drawn)" in output
    assert f"--out {tmp_path / 'out'} --report-only` draws it again" in output
    assert len(pd.read_parquet(tmp_path / "out" / "sweep.parquet")) > 0
    assert not (tmp_path / "out" / "report.html").exists()


def test_the_kz_ru_example_sweep_is_valid():
    path = ROOT / "sweeps" / "kz_ru_truck_checks.yaml"
    raw = YAML(typ="safe").load(path.read_text())
    spec = SweepSpec.model_validate({**raw, "base": str(path.parent / raw["base"])})
    assert spec.bad is not None
    assert spec.bad.kpi in spec.kpis
    base = sim.load_scenario(spec.base)
    assert base.episodes[0].demand == 1.0  # the multiplier the sweep varies as episodes[0].demand


@pytest.mark.slow
def test_the_kz_ru_example_sweep_loads_every_design_point():
    sweep = load_sweep(ROOT / "sweeps" / "kz_ru_truck_checks.yaml")
    assert len(sweep.scenarios) == 40
    factor = "stages.customs.sides.b.flows.truck.select"
    assert {s.stages["customs"].sides["b"].flows["truck"].select for s in sweep.scenarios} == {
        p[factor] for p in sweep.points
    }
