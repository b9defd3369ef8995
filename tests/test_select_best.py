"""``compare --select-best`` and Holm's correction of ``significant`` in the comparison.

KN should name the variant with most truck booths. One comparison of three variants of the
tutorial (truck booths 2+2, 3+3 and 3+2; half a day, 5 replications as KN's first stage) is run
once through the command line and read by several tests.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import sim
from sim.analysis.comparison import compare_replications, holm_across_scenarios
from sim.analysis.intervals import t_quantile
from sim.cli import main
from sim.experiments.run import compare
from sim.experiments.selection_run import SelectBest, select_best_scenario
from sim.outputs.results import ReportError
from sim.outputs.selection_sections import selection_section, statement

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "scenarios" / "tutorial_single_crossing.yaml"
CAP = 40
QUICK = ["-r", "5", "-d", "0.5", "--records", "none"]
SELECT = ["--select-best", "wait_mean_min", "--select-flow", "truck", "--indifference", "0.1"]


def booths(folder: Path, name: str, a: int, b: int, extra: str = "") -> Path:
    """The tutorial with ``a`` and ``b`` truck booths at border control on sides a and b."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(
        f"extends: {TUTORIAL}\nname: {name}\n{extra}crossing_overrides:\n  tutorial_road:\n    sides:\n"
        f"      a: {{servers: {{border_control: {{truck: {a}}}}}}}\n"
        f"      b: {{servers: {{border_control: {{truck: {b}}}}}}}\n"
    )
    return path


def variants(folder: Path, extra: str = "") -> list[Path]:
    return [
        booths(folder, "two", 2, 2, extra),
        booths(folder, "three", 3, 3, extra),
        booths(folder, "mixed", 3, 2, extra),
    ]


def invoke(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def selected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The comparison folder of one ``compare --select-best`` run, and what the command printed."""
    tmp = tmp_path_factory.mktemp("select")
    out = tmp / "res"
    code, output = invoke("compare", *variants(tmp / "in"), *QUICK, *SELECT, "--max-replications", CAP, "-o", out)
    assert code == 0, output
    return out, output


def test_kn_names_the_scenario_with_most_booths_and_spends_little_on_the_others(selected):
    out, _ = selected
    table = pd.read_csv(out / "selection.csv", keep_default_na=False, na_values=[""])
    entry = json.loads((out / "manifest.json").read_text())["selection"]
    assert table["scenario"].tolist() == ["two", "three", "mixed"]
    assert table.loc[table["is_best"], "scenario"].tolist() == ["three"] == [entry["best"]]
    assert (entry["ended_by"], entry["guarantee"], entry["in_contention"]) == ("one survivor", True, ["three"])
    losers = table[~table["is_best"]]
    assert (losers["replications"] < CAP).all()
    assert (losers["replications"] == losers["eliminated_at"]).all()
    assert set(losers["eliminated_by"]) <= {"two", "three", "mixed"}
    # more were needed than the comparison's own, and only the survivors got them
    assert entry["replications_used"] == table["replications"].sum() > 5 * 3
    assert table["replications"].min() == entry["first_stage"] == 5
    assert table.loc[table["is_best"], "replications"].item() == entry["stages"] == table["replications"].max()
    assert entry["stages"] <= entry["most_stages"]
    assert table["mean"].idxmin() == table.index[table["is_best"]].item()
    # the settings as asked, and KN's constants for k = 3, n0 = 5, alpha = 0.05
    eta = 0.5 * ((2 * 0.05 / 2) ** (-2 / 4) - 1)
    assert entry["eta"] == pytest.approx(eta)
    assert entry["h2"] == pytest.approx(2 * eta * 4)
    assert [entry[k] for k in ("metric", "flow", "direction", "crossing")] == ["wait_mean_min", "truck", "ALL", "ALL"]
    assert (entry["indifference"], entry["pcs"], entry["alpha"], entry["max_replications"]) == (0.1, 0.95, 0.05, CAP)
    assert entry["better"] == "lower"


def test_statement_is_printed_and_reported_and_agrees_with_the_table(selected):
    out, output = selected
    entry = json.loads((out / "manifest.json").read_text())["selection"]
    text = entry["statement"]
    assert text.startswith("Of the 3 scenarios, three has the lowest mean wait of trucks over the whole border.")
    assert "at least 0.1 min better than every other" in text
    assert "at least 95% probability" in text
    assert f"{entry['replications_used']:,} replications in all" in text
    assert text in " ".join(output.split())  # the command says it (wrapped or not)
    page = (out / "report.html").read_text()
    assert "Which scenario is best" in page
    assert text.replace("'", "&#x27;") in page
    assert "eliminated after 5 replications by" in page


def test_comparison_tables_are_those_of_the_first_stage_only(selected):
    out, _ = selected
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["replications"]) == {0, 5}  # 0: rows of KPIs no traveller had (no wagons here)
    for name in ("two", "three", "mixed"):
        assert sorted(pd.read_csv(out / name / "replications.csv")["replication"].unique()) == [0, 1, 2, 3, 4]


def test_holm_columns_against_a_hand_computation(selected):
    out, _ = selected
    c = pd.read_csv(out / "comparison.csv")
    assert list(c.columns[-4:]) == ["p_value", "p_holm", "overloaded", "overloaded_in"]
    keys = ["crossing", "direction", "flow", "replication"]
    reps = {
        n: pd.read_csv(out / n / "replications.csv").set_index(keys).sort_index() for n in ("two", "three", "mixed")
    }
    checked = 0
    for (crossing, direction, flow, metric), g in c.groupby(["crossing", "direction", "flow", "metric"]):
        for name, p in zip(g["scenario"], g["p_value"], strict=True):
            if crossing != "ALL":
                continue  # the whole-border rows suffice to check the formula
            d = (reps[name][metric] - reps["two"][metric]).loc[(crossing, direction, flow)].dropna()
            if len(d) >= 2 and d.nunique() > 1 and d.abs().min() > 1e-3:
                # the files keep 6 digits, so the paired-t p-value is recomputed only roughly (one- vs two-sided is 2x)
                assert p == pytest.approx(stats.ttest_1samp(d, 0).pvalue, rel=0.02)
        p = g["p_value"].to_numpy()
        if np.isnan(p).any():
            continue
        # two scenarios against the baseline: the smaller p doubled, the larger kept (never below the smaller's)
        lo, hi = p.min(), p.max()
        by_hand = [min(1.0, 2 * lo) if x == lo else min(1.0, max(2 * lo, hi)) for x in p]
        np.testing.assert_allclose(g["p_holm"], by_hand, rtol=1e-5)
        assert g["significant"].tolist() == [x < 0.05 for x in g["p_holm"]]
        checked += 1
    assert checked > 10


def test_the_section_escapes_what_the_files_say_and_refuses_a_broken_entry(selected):
    out, _ = selected
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["selection"]["statement"] = "<script>alert(1)</script> & more"
    section = selection_section(out, manifest)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in section
    assert "<script" not in section
    manifest["selection"]["best"] = ["not", "a", "name"]
    with pytest.raises(ReportError, match=r"manifest.json: 'selection.best' must be a name"):
        selection_section(out, manifest)
    del manifest["selection"]
    assert selection_section(out, manifest) == ""  # a comparison without a selection has no such section


# ---------------------------------------------------------------- the extra replications through the API


def tutorial_booths(name: str, a: int, b: int) -> sim.Scenario:
    data = sim.load_scenario(TUTORIAL).model_dump(by_alias=True)
    data["name"] = name
    data["crossings"][0]["sides"]["a"]["servers"]["border_control"]["truck"] = a
    data["crossings"][0]["sides"]["b"]["servers"]["border_control"]["truck"] = b
    return sim.scenario_from_dict(data)


def test_extra_replications_are_those_a_longer_comparison_runs_and_batches_change_nothing(monkeypatch):
    import sim.experiments.selection_run as selection_run

    scenarios = [tutorial_booths("three", 3, 3), tutorial_booths("mixed", 3, 2)]
    spec = SelectBest("wait_mean_min", 0.06, flow="truck", max_replications=CAP)
    one = compare(scenarios[0], scenarios[1:], replications=5, days=0.5, records="none")
    again = copy.deepcopy(one)
    before = one.comparison.copy()
    sel = select_best_scenario(one, spec)
    pd.testing.assert_frame_equal(one.comparison, before)  # selecting never changes the comparison
    assert sel.stages > 5
    # replication r of the selection is replication r of a comparison run that long (same seed, same streams)
    longer = compare(scenarios[0], scenarios[1:], replications=sel.stages, days=0.5, records="none")
    for outcome, run in zip(sel.systems, longer.runs, strict=True):
        k = run.replications
        row = k[(k["crossing"] == "ALL") & (k["direction"] == "ALL") & (k["flow"] == "truck")]
        assert outcome.mean == pytest.approx(row["wait_mean_min"].iloc[: outcome.replications].mean(), rel=1e-12)
    # with 4 workers, 2 replication indices per survivor run at once; KN still reads them one at a time
    real = selection_run.execute
    calls: list[list[int]] = []

    def in_process(scenarios, indices, jobs, *args):  # noqa: ANN001, ANN202 - the same work, here, for speed
        calls.append(indices)
        return real(scenarios, indices, 1, *args)

    monkeypatch.setattr(selection_run, "execute", in_process)
    batched = select_best_scenario(again, spec, jobs=4)
    assert batched == sel
    assert all(len(c) == 2 for c in calls[:-1])
    entry = again.manifest["selection"]
    assert entry["replications_run"] >= entry["replications_used"] == sel.total_replications


# ---------------------------------------------------------------- refusals, before any simulation


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--select-best", "queue_len", "--indifference", "1"], "--select-best: 'queue_len' is not a compared KPI"),
        (["--select-best", "wait_mean_min"], "--select-best needs --indifference DELTA"),
        (["--select-best", "wait_mean_min", "--indifference", "0"], "--indifference: must be a number from 1e-09"),
        (["--select-best", "wait_mean_min", "--indifference", "nan"], "--indifference: must be a number from"),
        (["--select-best", "wait_mean_min", "--indifference", "1e200"], "--indifference: must be a number from"),
        (["--select-best", "wait_mean_min", "--indifference", "1e-200"], "--indifference: must be a number from"),
        (["--select-best", "wait_mean_min", "--indifference", "1", "--pcs", "0.9999999999999"], "--pcs: must lie"),
        (["--select-best", "delay_value_per_day", "--indifference", "1"], "delay_value_per_day needs a value of time"),
        (["--select-best", "co2_kg_per_day", "--indifference", "1"], "co2_kg_per_day needs idling rates"),
        (["--select-best", "wagons_per_day", "--indifference", "1"], "wagons_per_day needs a flow counting wagons"),
        (["--select-best", "wait_mean_min", "--indifference", "1", "--pcs", "1.2"], "--pcs: must lie between 1/3"),
        (["--select-best", "wait_mean_min", "--indifference", "1", "--pcs", "0.3"], "--pcs: must lie between 1/3"),
        (["--select-best", "wait_mean_min", "--indifference", "1", "--select-flow", "bus"], "'bus' is not a flow"),
        (["--select-best", "wait_mean_min", "--indifference", "1", "--max-replications", "3"], "3 is below"),
        (["--indifference", "1"], "--indifference only applies with --select-best"),
        (["--indifference", "1", "--pcs", "0.9"], "--indifference and --pcs only apply with --select-best"),
        (["--select-best", "wait_mean_min", "--indifference", "1", "--pcs", "x"], "'x' is not a valid float"),
    ],
)
def test_bad_selection_input_is_refused_at_once(tmp_path, args, message):
    out = tmp_path / "res"
    code, output = invoke("compare", *variants(tmp_path / "in"), *QUICK, *args, "-o", out)
    assert code == 2, output
    assert message in " ".join(output.split())
    assert "Traceback" not in output
    assert "simulating" not in output
    assert not out.exists()


def test_a_kpi_whose_better_direction_is_unknown_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.experiments.selection_run.METRICS", ("wait_mean_min", "utilisation"))
    code, output = invoke("compare", *variants(tmp_path / "in"), *QUICK, "--select-best", "utilisation",
                          "--indifference", "1", "-o", tmp_path / "res")  # fmt: skip
    assert code == 2, output
    assert "not known whether a higher or a lower utilisation is better" in " ".join(output.split())


def test_a_single_replication_first_stage_is_refused(tmp_path):
    files = variants(tmp_path / "in", extra="replications: 1\n")
    code, output = invoke("compare", *files, "-d", "0.5", *SELECT, "-o", tmp_path / "res")
    assert code == 2, output
    assert "--replications: the first stage of the selection needs at least 2 replications, not 1" in output
    assert "Traceback" not in output


def test_values_of_time_in_different_currencies_are_not_ranked(tmp_path):
    rates = "{truck: {value_per_vehicle_hour: {value: 10, assumption: a round figure}}}"
    files = [
        booths(tmp_path / "in", "roubles", 2, 2, f"costs: {{currency: RUB, flows: {rates}}}\n"),
        booths(tmp_path / "in", "tenge", 3, 3, f"costs: {{currency: KZT, flows: {rates}}}\n"),
    ]
    code, output = invoke("compare", *files, *QUICK, "--select-best", "delay_value_per_day", "--indifference", "1",
                          "-o", tmp_path / "res")  # fmt: skip
    assert code == 2, output
    assert "delay_value_per_day is in KZT, RUB in different scenarios" in " ".join(output.split())
    assert "simulating" not in output
    assert not (tmp_path / "res").exists()


def test_a_row_without_values_ends_the_selection_after_the_first_stage_and_keeps_the_comparison(tmp_path):
    files = variants(tmp_path / "in", extra="flows: {bus: {}}\n")  # a flow nobody drives
    code, output = invoke("compare", *files, "-r", "2", "-d", "0.25", "--records", "none", "--no-report",
                          "--select-best", "wait_mean_min", "--select-flow", "bus", "--indifference", "1",
                          "-o", tmp_path / "res")  # fmt: skip
    assert code == 2, output
    said = " ".join(output.split())
    assert "--select-best: two has no wait_mean_min for crossing ALL, direction ALL, flow bus" in said
    assert "the comparison is written without a selection" in said
    assert "Traceback" not in output
    out = tmp_path / "res"
    assert (out / "comparison.csv").is_file()
    assert (out / "manifest.json").is_file()
    assert not (out / "selection.csv").exists()
    assert "selection" not in json.loads((out / "manifest.json").read_text())


# ---------------------------------------------------------------- the words


def entry(**update: object) -> dict[str, object]:
    base: dict[str, object] = {
        "metric": "wait_mean_min",
        "flow": "truck",
        "direction": "a_to_b",
        "better": "lower",
        "indifference": 5.0,
        "pcs": 0.95,
        "guarantee": True,
        "scenarios": 5,
        "best": "joint",
        "first_stage": 10,
        "replications_used": 1234,
        "stages": 200,
        "in_contention": ["joint"],
    }
    return {**base, **update}


def test_the_statement_with_and_without_the_guarantee():
    text = statement(entry(), ("Kazakhstan", "Russia"))
    assert text.startswith("Of the 5 scenarios, joint has the lowest mean wait of trucks (Kazakhstan → Russia) over")
    assert "at least 5 min better than every other" in text
    assert "1,234 replications in all: the comparison's 10 of each, then more only for the scenarios" in text
    capped = statement(entry(guarantee=False, in_contention=["joint", "e_queue"]))
    assert "without a probability guarantee: after 200 replications each (the cap), joint, e_queue" in capped
    high = statement(entry(metric="throughput_per_day", better="higher", indifference=20, replications_used=50),
                     units={"truck": "vehicle"})  # fmt: skip
    assert "joint has the highest throughput per day of trucks" in high
    assert "at least 20 vehicles per day better" in high
    assert "50 replications in all: the comparison's own 10 of each were enough" in high


# ---------------------------------------------------------------- Holm in the comparison table


def replications_frame(name: str, values: np.ndarray) -> pd.DataFrame:
    """A ``replications.csv`` with one whole-border row per replication and one KPI."""
    return pd.DataFrame(
        {
            "scenario": name,
            "replication": range(len(values)),
            "crossing": "ALL",
            "direction": "ALL",
            "flow": "ALL",
            "wait_mean_min": values,
        }
    )


def one_pair(diffs: np.ndarray) -> pd.Series:
    base = np.arange(len(diffs)) + 10.0  # whole numbers: a difference of 0.5 stays exactly 0.5
    table = compare_replications(
        replications_frame("base", base), replications_frame("other", base + diffs), ("wait_mean_min",)
    )
    return table.iloc[0]


def test_with_one_scenario_significant_is_the_interval_excluding_zero():
    rng = np.random.default_rng(8)
    for _ in range(60):
        n = int(rng.integers(2, 25))
        row = one_pair(rng.normal(rng.uniform(-1, 1), 1, n))
        assert row["p_holm"] == row["p_value"]
        low, high = row["diff_ci95_low"], row["diff_ci95_high"]
        if min(abs(low), abs(high)) > 1e-9 * (high - low):  # not on the boundary within rounding
            assert row["significant"] == (low > 0 or high < 0)
    # exactly on the boundary: no spread, so both rules decide exactly
    same = one_pair(np.full(5, 0.5))
    assert (same["p_value"], same["diff_ci95_low"], same["significant"]) == (0.0, 0.5, True)
    none = one_pair(np.zeros(5))
    assert (none["p_value"], none["diff_ci95_low"], none["diff_ci95_high"], none["significant"]) == (1.0, 0, 0, False)
    # t exactly at the 97.5% quantile: the interval touches 0 and p is 0.05, each to the last bits
    d = np.array([0.3, -0.2, 0.5, 0.1, -0.4, 0.2])
    q = t_quantile(0.975, len(d) - 1)
    d = d - d.mean() + q * d.std(ddof=1) / np.sqrt(len(d))
    edge = one_pair(d)
    assert edge["p_value"] == pytest.approx(0.05, abs=1e-12)
    assert edge["diff_ci95_low"] == pytest.approx(0.0, abs=1e-12)
    # one scenario alone, or too few pairs: no p-value, never significant
    short = one_pair(np.array([1.0]))
    assert math.isnan(short["p_value"])
    assert not short["significant"]


def test_holm_across_scenarios_by_hand():
    rows = [
        # scenario, flow, p-value: flow car has 3 scenarios, truck 2 (one without a p-value), bus 1
        ("a", "car", 0.01),
        ("b", "car", 0.04),
        ("c", "car", 0.02),
        ("a", "truck", 0.03),
        ("b", "truck", math.nan),
        ("a", "bus", 0.04),
    ]
    table = pd.DataFrame(
        {
            "scenario": [r[0] for r in rows],
            "crossing": "ALL",
            "direction": "ALL",
            "flow": [r[1] for r in rows],
            "metric": "wait_mean_min",
            "p_value": [r[2] for r in rows],
            "p_holm": [r[2] for r in rows],
            "significant": [r[2] < 0.05 for r in rows],
        }
    )
    out = holm_across_scenarios(table)
    # car: 0.01*3 = 0.03, 0.02*2 = 0.04, 0.04*1 -> max(0.04, 0.04); truck: m = 1; bus: alone
    np.testing.assert_allclose(out["p_holm"], [0.03, 0.04, 0.04, 0.03, math.nan, 0.04])
    assert out["significant"].tolist() == [True, True, True, True, False, True]
    assert out["significant"].dtype == bool
    stricter = holm_across_scenarios(table, alpha=0.035)
    assert stricter["significant"].tolist() == [True, False, False, True, False, False]
    pd.testing.assert_series_equal(out["p_value"], table["p_value"])


def test_a_duplicate_scenario_is_set_aside_at_the_first_stage_not_run_to_the_cap(tmp_path):
    """A copy of a scenario gives its values in every replication: KN could never separate the two."""
    folder = tmp_path / "in"
    paths = [booths(folder, "three", 3, 3), booths(folder, "three_again", 3, 3), booths(folder, "two", 2, 2)]
    out = tmp_path / "res"
    code, output = invoke("compare", *paths, *QUICK, *SELECT, "--max-replications", CAP, "-o", out)
    assert code == 0, output
    table = pd.read_csv(out / "selection.csv", keep_default_na=False, na_values=[""]).set_index("scenario")
    entry = json.loads((out / "manifest.json").read_text())["selection"]
    assert bool(table.loc["three_again", "identical"])
    assert table.loc["three_again", "eliminated_by"] == "three"
    assert table.loc["three_again", "replications"] == 5
    assert not bool(table.loc["two", "identical"])
    assert (entry["best"], entry["ended_by"], entry["guarantee"]) == ("three", "one survivor", True)
    assert entry["stages"] < CAP
    page = (out / "report.html").read_text()
    assert "the same value as three in every replication" in page
