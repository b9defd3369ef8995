"""Replayed traces against an independent waiting-time recursion, and the validation module itself.

The recursion (``sim/validation/recursion.py``) is Kiefer and Wolfowitz's for a FIFO queue with c servers;
it shares no code or arithmetic with the engine, so agreement to 1e-9 minutes on thousands
of customers means the engine serves every one of them in the right order on the right
server. ``bordersim validate-model`` lists the same exact checks in ``docs/validation.md``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis import theory
from sim.analysis.intervals import t_interval
from sim.validation import checks, markdown, observations
from sim.validation.recursion import TOLERANCE as TOL
from sim.validation.recursion import kiefer_wolfowitz, replay_checks, through_stage
from tests.conftest import one_crossing, run_dict


def random_trace(seed: int, n: int, c: int, load: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0, n))
    services = rng.gamma(0.5, 2 * load * c, n)  # cv 1.4, mean load x c: busy, with long queues
    return arrivals, services


def replay(arrivals, service_times: dict[str, np.ndarray], servers: dict[str, int], horizon: float):
    """Run the trace through a crossing whose exit side has the given stages, in that order."""
    stages = list(service_times)
    data = one_crossing(
        stages={s: {"per_vehicle": 1.0} for s in stages},  # replaced by the trace
        regime={"exit": stages},
        servers_a=servers,
        demand=[
            {
                "crossing": "x",
                "flow": "truck",
                "direction": "a_to_b",
                "times": [float(t) for t in arrivals],
                "service_times": {s: [float(x) for x in v] for s, v in service_times.items()},
            }
        ],
    )
    data["horizon"] = horizon
    return run_dict(data)


def visits_in_arrival_order(result, stage: str):
    """The stage's visits, one per traveller, in the travellers' order of arrival."""
    arrival = result.records.set_index("traveller")["arrival_min"]
    v = result.visits[result.visits["stage"] == stage].copy()
    v["arrival"] = arrival.loc[v["traveller"]].to_numpy()
    return v.sort_values(["arrival", "traveller"])


@pytest.mark.parametrize("c", [1, 2, 3])
def test_single_stage_waits_match_kiefer_wolfowitz(c):
    arrivals, services = random_trace(seed=100 + c, n=3000, c=c, load=0.95)
    waits = kiefer_wolfowitz(arrivals, services, c)
    r = replay(arrivals, {"check": services}, {"check": c}, horizon=float(arrivals[-1] + waits.max() + 1e4))
    v = visits_in_arrival_order(r, "check")
    assert len(v) == len(arrivals)
    assert v["leave_min"].notna().all()
    np.testing.assert_allclose(v["arrival"], arrivals, rtol=0, atol=TOL)
    np.testing.assert_allclose(v["enter_min"], arrivals, rtol=0, atol=TOL)
    np.testing.assert_allclose(v["start_min"] - v["enter_min"], waits, rtol=0, atol=TOL)
    np.testing.assert_allclose(v["end_min"] - v["start_min"], services, rtol=0, atol=TOL)
    assert waits.mean() > 5 * services.mean() / c  # the trace really queues
    # the model's own KPI agrees too
    done = r.records.sort_values("traveller")
    np.testing.assert_allclose(done["wait_min"], waits, rtol=0, atol=TOL)


def test_unsorted_trace_keeps_each_service_time_with_its_arrival():
    arrivals, services = random_trace(seed=7, n=1000, c=2, load=0.9)
    waits = kiefer_wolfowitz(arrivals, services, 2)
    shuffle = np.random.default_rng(8).permutation(len(arrivals))
    r = replay(arrivals[shuffle], {"check": services[shuffle]}, {"check": 2}, horizon=float(arrivals[-1] + 1e4))
    v = visits_in_arrival_order(r, "check")
    np.testing.assert_allclose(v["start_min"] - v["enter_min"], waits, rtol=0, atol=TOL)
    np.testing.assert_allclose(v["end_min"] - v["start_min"], services, rtol=0, atol=TOL)


def test_ties_are_served_in_trace_order():
    # whole minutes: many travellers arrive together and services end as others arrive
    rng = np.random.default_rng(3)
    arrivals = np.sort(rng.integers(0, 600, 800)).astype(float)
    services = rng.integers(0, 4, 800).astype(float)
    waits = kiefer_wolfowitz(arrivals, services, 2)
    r = replay(arrivals, {"check": services}, {"check": 2}, horizon=2000.0)
    v = visits_in_arrival_order(r, "check")
    np.testing.assert_array_equal(v["start_min"] - v["enter_min"], waits)


@pytest.mark.parametrize(("c1", "c2"), [(2, 3), (3, 1)])
def test_tandem_waits_match_the_recursion_stage_after_stage(c1, c2):
    n = 3000
    rng = np.random.default_rng(10 * c1 + c2)
    arrivals = np.cumsum(rng.exponential(1.0, n))
    s1 = rng.gamma(0.5, 2 * 0.9 * c1, n)
    s2 = rng.lognormal(np.log(0.9 * c2) - 0.5, 1.0, n)
    w1, d1 = through_stage(arrivals, s1, c1)
    w2, d2 = through_stage(d1, s2, c2)  # FIFO at stage 2 by time of arrival there, not by first arrival
    assert (np.diff(d1) < 0).sum() > 100  # overtaking at stage 1 really happens
    r = replay(arrivals, {"first": s1, "second": s2}, {"first": c1, "second": c2}, horizon=float(d2.max() + 1))
    v1 = visits_in_arrival_order(r, "first")
    v2 = visits_in_arrival_order(r, "second")
    np.testing.assert_allclose(v1["start_min"] - v1["enter_min"], w1, rtol=0, atol=TOL)
    np.testing.assert_allclose(v1["leave_min"], d1, rtol=0, atol=1e-7)
    np.testing.assert_allclose(v2["enter_min"], d1, rtol=0, atol=1e-7)
    np.testing.assert_allclose(v2["start_min"] - v2["enter_min"], w2, rtol=0, atol=TOL)
    np.testing.assert_allclose(v2["end_min"] - v2["start_min"], s2, rtol=0, atol=TOL)
    release = r.records.sort_values("traveller")["release_min"].to_numpy()
    np.testing.assert_allclose(release, d2, rtol=0, atol=1e-7)


def test_the_recursion_against_a_hand_timeline():
    # one server: arrivals at 0, 1, 2 with services 3, 1, 1 wait 0, 2, 2
    assert kiefer_wolfowitz(np.array([0.0, 1.0, 2.0]), np.array([3.0, 1.0, 1.0]), 1).tolist() == [0.0, 2.0, 2.0]
    # two servers: the third customer takes the server that frees first (at 1), waiting 0
    assert kiefer_wolfowitz(np.array([0.0, 0.0, 1.0]), np.array([1.0, 5.0, 1.0]), 2).tolist() == [0.0, 0.0, 0.0]


def test_the_exact_checks_validate_model_lists_all_pass():
    checks = replay_checks()
    assert len(checks) == 5
    assert all(c.passed for c in checks), checks


# -- the theory the validation uses (sim.analysis.theory) ----------------------------------


def test_erlang_c_against_closed_forms():
    for rho in (0.1, 0.5, 0.9):
        assert theory.erlang_c(1, rho) == pytest.approx(rho)  # M/M/1: P(wait) = rho
        assert theory.erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho))
        assert theory.mmc_wait(1.0, rho, 1) == pytest.approx(rho * rho / (1 - rho))
    # the textbook factorial formula, where it is still accurate
    a, c = 12.0, 16
    top = a**c / math.factorial(c) / (1 - a / c)
    assert theory.erlang_c(c, a) == pytest.approx(top / (sum(a**k / math.factorial(k) for k in range(c)) + top))


def test_pollaczek_khinchine_and_mm1k():
    # exponential service: P-K gives M/M/1; constant: half of it
    assert theory.pk_wait(1.0, 0.8, 0.64) == pytest.approx(theory.mmc_wait(1.0, 0.8, 1))
    assert theory.pk_wait(1.0, 0.8, 0.0) == pytest.approx(theory.mmc_wait(1.0, 0.8, 1) / 2)
    pi = theory.mm1k_distribution(1.25, 3)
    assert pi.sum() == pytest.approx(1.0)
    assert pi[1:] / pi[:-1] == pytest.approx([1.25] * 3)


def test_jackson_network_and_mm1_tail():
    # a customer visits the first station always and the second half the time
    stations = [(1.0, 0.8, 1), (0.5, 3.2, 2)]
    expected = theory.mmc_wait(1.0, 0.8, 1) + 0.5 * theory.mmc_wait(0.5, 3.2, 2)
    assert theory.jackson_wait(1.0, stations) == pytest.approx(expected)
    assert theory.mm1_tail(0.8, 3) == pytest.approx(0.512)
    # P(N >= n) is the M/M/1 geometric distribution's tail: 1 - sum of the first n M/M/1/K terms as K grows
    assert 1 - theory.mm1k_distribution(0.8, 400)[:3].sum() == pytest.approx(theory.mm1_tail(0.8, 3))


def test_occupancy_is_the_time_average_count():
    dist = observations.occupancy(np.array([0.0, 1.0, 5.0]), np.array([2.0, 3.0, np.nan]), 0.0, 6.0, 3)
    # 1 on [0,1), 2 on [1,2), 1 on [2,3), 0 on [3,5), 1 on [5,6) (still inside at the horizon)
    assert dist == pytest.approx(np.array([2, 3, 1, 0]) / 6)


def test_t_interval():
    mean, low, high = t_interval(np.array([1.0, 2.0, 3.0]), level=0.95, drop_nan=False)
    assert mean == 2.0
    assert high - mean == pytest.approx(4.302652729749464 * 1 / math.sqrt(3))
    assert low == pytest.approx(2 * mean - high)
    # as the checks use it: a replication that measured nothing leaves no interval to pass
    mean, low, high = t_interval(np.array([1.0, np.nan, 3.0]), level=checks.LEVEL, drop_nan=False)
    assert np.isnan([mean, low, high]).all()


# -- the validation run --------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast_results():
    return checks.run_checks(full=False)


def test_fast_checks_pass(fast_results):
    names = [r.name for r in fast_results]
    assert len(names) == len(set(names))
    assert len(fast_results) >= 30
    failed = [r for r in fast_results if not r.passed]
    assert not failed, failed
    for r in fast_results:
        assert r.ci_low <= r.simulated <= r.ci_high
        assert math.isfinite(r.expected)
    # every kind of check is in the fast subset
    for part in ("Erlang C", "Pollaczek-Khinchine", "Jackson", "M/M/1/5", "ρ^3", "Little's law"):
        assert any(part in n for n in names), part
    # the intervals are informative: a few tens of percent at most, most much less
    theory = [r for r in fast_results if "Little" not in r.name]
    widths = [(r.ci_high - r.ci_low) / 2 / r.expected for r in theory]
    assert np.median(widths) < 0.25
    assert checks.verdict(fast_results)


def test_main_writes_one_row_per_check(fast_results, tmp_path, monkeypatch):
    calls = []

    def fake_run_checks(full, jobs=1, progress=None):
        calls.append((full, jobs))
        return fast_results

    monkeypatch.setattr(checks, "run_checks", fake_run_checks)
    out = tmp_path / "docs" / "validation.md"
    assert checks.main(["--out", str(out)]) == 0
    assert calls == [(False, 1)]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Model validation")
    assert "99% Student-t interval" in text
    assert "| check | expected | simulated | interval | pass |" in text
    table = text[text.index("| check |") :].split("\n\n")[0].splitlines()[2:]
    rows = [line for line in table if line.startswith("| ")]
    assert len(rows) == len(fast_results)
    exact = text[text.index("## Exact checks: replayed traces") :].split("\n\n")[2].splitlines()[2:]
    assert len(exact) == 5
    assert all(row.endswith("| yes |") for row in exact)
    for r, row in zip(fast_results, rows, strict=True):
        assert row.startswith(f"| {r.name} |")
        assert row.endswith("| yes |")
    assert f"{len(fast_results)} of {len(fast_results)} checks pass" in text


def test_a_failure_is_reported(tmp_path):
    ok = checks.CheckResult("a", 1.0, 1.0, 0.9, 1.1, True)
    bad = checks.CheckResult("b", 1.0, 2.0, 1.9, 2.1, False)
    path = markdown.write_markdown([ok] * 3 + [bad] * 3, tmp_path / "v.md")
    text = path.read_text(encoding="utf-8")
    assert "| b | 1.000 | 2.000 | [1.900, 2.100] | **no** |" in text
    assert "3 of 6 checks pass" in text
    assert "more than chance explains" in text
    assert "## Outside their interval\n\n- b\n" in text
    failed = checks.CheckResult("c", 1.0, 2.0, 1.9, 2.1, False, replications=20)
    assert failed.t_statistic() == pytest.approx(1 / (0.1 / 2.860934606449914))
    assert not checks.verdict([ok] * 3 + [bad] * 3)
    assert checks.verdict([ok] * 99 + [bad])  # one in a hundred at the 1% level is chance


@pytest.mark.slow
def test_full_validation(tmp_path):
    results = checks.run_checks(full=True, jobs=2)
    assert len(results) > 80
    grid = [r for r in results if "Erlang C" in r.name]
    assert len(grid) == 20
    failed = [r for r in results if not r.passed]
    assert checks.verdict(results), failed
