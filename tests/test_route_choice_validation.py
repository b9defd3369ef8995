"""Least-cost route choice against Ciw's join-the-shortest-queue (sim.validation.route_choice).

Both simulators are seeded, so each comparison is deterministic; the run sizes were chosen so
that the verdicts held for several seeds, not just the one fixed here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis.theory import mmc_wait
from sim.validation import checks, markdown
from sim.validation.route_choice import (
    CASES,
    JsqCheck,
    bounds,
    compare_jsq,
    mean_service,
    scenario,
    welch_interval,
)
from sim.validation.route_choice import markdown as route_choice_markdown

SMALL = {"load": 0.8, "servers": 1, "replications": 8, "days": 4.0, "warmup_days": 1.0}
"""A case where JSQ sits well inside its bounds (3.24 min between 2.84 and 6.40), so a short run decides."""


@pytest.fixture(scope="module")
def agreement() -> dict:
    return compare_jsq(**SMALL, seed=3, level=0.99)


def test_least_cost_agrees_with_ciw_jsq(agreement):
    r = agreement
    assert r["difference_contains_zero"], r["difference"]
    assert r["within_bounds"]
    assert r["passed"]
    assert r["shared_mm2c"] < r["separate_mmc"]
    for side in ("bordersim", "ciw"):
        e = r[side]
        assert len(e["values"]) == SMALL["replications"]
        assert all(math.isfinite(v) and v > 0 for v in e["values"])
        assert e["low"] < e["mean"] < e["high"]
    d = r["difference"]
    assert d["mean"] == pytest.approx(r["bordersim"]["mean"] - r["ciw"]["mean"])
    assert d["low"] < d["mean"] < d["high"]


def test_the_check_can_fail():
    """Random routing in equal halves (fixed_shares) is two M/M/1 queues: twice JSQ's wait at this load."""
    r = compare_jsq(0.8, 1, 8, 3.0, 0.5, seed=5, rule="fixed_shares", level=0.99)
    assert r["difference"]["low"] > 0, r["difference"]
    assert not r["difference_contains_zero"]
    assert not r["passed"]
    # bordersim is then near the random-routing bound, well above what Ciw's JSQ gives
    assert r["bordersim"]["mean"] > r["ciw"]["high"]


def test_bounds_are_erlang_c():
    shared, separate = bounds(0.8, 1)
    assert mean_service(0.8, 1) == pytest.approx(1.6)
    assert separate == pytest.approx(0.8 / 0.2 * 1.6)  # M/M/1 at load 0.8 with half the arrivals
    assert shared == pytest.approx(mmc_wait(1.0, 1.6, 2))
    shared, separate = bounds(0.9, 2)
    assert shared < separate


def test_welch_interval():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([2.0, 2.5, 3.0])
    diff, low, high, df = welch_interval(a, b, 0.95)
    va, vb = a.var(ddof=1) / 4, b.var(ddof=1) / 3
    assert diff == pytest.approx(-0.0)
    assert df == pytest.approx((va + vb) ** 2 / (va**2 / 3 + vb**2 / 2))
    from scipy import stats

    assert high - diff == pytest.approx(stats.t.ppf(0.975, df) * math.sqrt(va + vb))
    assert low == pytest.approx(2 * diff - high)


def test_scenario_is_the_compared_system():
    data = scenario(0.9, 2, 3, 2.0, 0.5, seed=1)
    assert data["route_choice"] == {"rule": "least_cost", "information": "now"}
    assert [c["id"] for c in data["crossings"]] == ["x", "y"]
    assert all(c["sides"]["b"]["servers"] == {"border_control": 2} for c in data["crossings"])
    (corridor,) = data["corridors"]
    assert corridor["daily"] == 1440.0
    assert all(v == {"drive_to": 0, "drive_on": 0} for v in corridor["crossings"].values())
    assert data["stages"]["border_control"]["per_vehicle"] == {"dist": "exponential", "mean": 3.6}


def test_report_section(agreement, tmp_path):
    """A route-choice row is an ordinary check row plus its own section with both intervals and the bounds."""
    assert len(CASES) >= 2
    assert any(c.fast is not None for c in CASES)
    b, d = agreement["bordersim"], agreement["difference"]
    half = (d["high"] - d["low"]) / 2
    row = JsqCheck(
        name="JSQ 2 × M/M/1, ρ = 0.8: test",
        expected=agreement["ciw"]["mean"],
        simulated=b["mean"],
        ci_low=b["mean"] - half,
        ci_high=b["mean"] + half,
        passed=agreement["passed"],
        replications=SMALL["replications"],
        comparison=agreement,
    )
    assert row.ci_low <= row.expected <= row.ci_high  # the interval holds Ciw's mean iff the difference holds 0
    assert abs(row.t_statistic()) < 3
    ok = checks.CheckResult("a", 1.0, 1.0, 0.9, 1.1, True)
    text = markdown.write_markdown([ok, row], tmp_path / "v.md").read_text(encoding="utf-8")
    assert "## Route choice against Ciw" in text
    assert "| JSQ 2 × M/M/1, ρ = 0.8 | " in text
    assert "2 of 2 checks pass" in text
    assert route_choice_markdown([ok]) == []  # no section without route-choice rows
