"""Standardised (rank) regression coefficients: known answers, determinism, refusals and edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.sensitivity import COLUMNS, NOT_VARIED, standardised_regression


def linear_case(n: int = 500, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray, dict[str, float]]:
    """y = 3 x1 - x2 + 0 x3 + noise on independent uniform inputs, and the analytic SRCs."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["x1", "x2", "x3"])
    noise_sd = 0.1
    y = 3 * X["x1"] - 1 * X["x2"] + 0 * X["x3"] + rng.normal(0, noise_sd, n)
    # b_i sd(x_i) / sd(y), with the sample's standard deviations
    sd = X.std(ddof=1)
    analytic = {"x1": 3 * sd["x1"] / y.std(ddof=1), "x2": -1 * sd["x2"] / y.std(ddof=1), "x3": 0.0}
    return X, y.to_numpy(), analytic


def test_analytic_coefficients_are_those_of_the_population():
    _, _, analytic = linear_case()
    sd_x = 1 / math.sqrt(12)
    sd_y = math.sqrt((3**2 + 1**2) * sd_x**2 + 0.1**2)
    assert analytic["x1"] == pytest.approx(3 * sd_x / sd_y, abs=0.03)
    assert analytic["x2"] == pytest.approx(-1 * sd_x / sd_y, abs=0.03)


def test_linear_model_srcs_match_the_analytic_standardised_coefficients():
    X, y, analytic = linear_case()
    r = standardised_regression(X, y, bootstrap=500, seed=1)
    t = r.table.set_index("factor")
    assert list(r.table.columns) == COLUMNS
    for f, b in analytic.items():
        assert t.loc[f, "src"] == pytest.approx(b, abs=0.03), f
        assert t.loc[f, "src_low"] <= b <= t.loc[f, "src_high"], f
        assert t.loc[f, "src_low"] < t.loc[f, "src"] < t.loc[f, "src_high"], f
    assert t.loc["x3", "src_low"] < 0 < t.loc["x3", "src_high"]
    # sorted by |src|, ranked 1.. in that order; signs kept
    assert list(r.table["factor"]) == ["x1", "x2", "x3"]
    assert list(r.table["importance_rank"]) == [1, 2, 3]
    assert t.loc["x2", "src"] < 0
    # R² = src' corr(X) src exactly; with independent inputs (sample correlations near 0) about sum of src²
    assert r.r2 > 0.98
    src = t.loc[X.columns, "src"].to_numpy()
    assert src @ X.corr().to_numpy() @ src == pytest.approx(r.r2, rel=1e-9)
    assert (src**2).sum() == pytest.approx(r.r2, abs=0.06)
    assert (r.n, r.n_dropped, r.reason, r.skipped, r.notes) == (500, 0, None, {}, {})


def test_monotone_nonlinear_effect_shows_in_the_rank_regression():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"x1": rng.uniform(size=300), "x2": rng.uniform(size=300)})
    y = np.exp(5 * X["x1"])
    r = standardised_regression(X, y, bootstrap=100)
    t = r.table.set_index("factor")
    assert t.loc["x1", "srrc"] == pytest.approx(1.0, abs=0.01)
    assert abs(t.loc["x2", "srrc"]) < 0.01
    assert r.r2_rank > 0.99
    assert r.r2_rank > r.r2 + 0.1  # the linear summary under-explains a convex response


def test_same_seed_same_result_and_another_seed_other_intervals():
    X, y, _ = linear_case(n=120)
    a = standardised_regression(X, y, bootstrap=200, seed=11)
    b = standardised_regression(X, y, bootstrap=200, seed=11)
    c = standardised_regression(X, y, bootstrap=200, seed=12)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert (a.r2, a.r2_rank) == (b.r2, b.r2_rank)
    pd.testing.assert_series_equal(a.table["src"], c.table["src"])  # the point estimates do not depend on it
    assert not np.allclose(a.table["src_low"], c.table["src_low"])


def test_no_bootstrap_gives_nan_intervals():
    X, y, _ = linear_case(n=60)
    r = standardised_regression(X, y, bootstrap=0)
    assert r.table["src"].notna().all()
    assert r.table[["src_low", "src_high"]].isna().all().all()


def test_constant_factor_is_reported_not_varied():
    X, y, _ = linear_case(n=200)
    X = X.assign(servers=4.0)
    r = standardised_regression(X, y, bootstrap=50)
    t = r.table.set_index("factor")
    assert r.notes == {"servers": NOT_VARIED}
    assert t.loc["servers", ["src", "src_low", "src_high", "srrc"]].isna().all()
    assert pd.isna(t.loc["servers", "importance_rank"])
    assert r.table["factor"].iloc[-1] == "servers"  # factors without a coefficient come last
    assert t.loc["x1", "importance_rank"] == 1
    assert t.loc["x1", "src"] == pytest.approx(standardised_regression(X.drop(columns="servers"), y, 0).table["src"][0])


def test_constant_outcome_gives_nan_and_a_reason():
    X, _, _ = linear_case(n=50)
    r = standardised_regression(X, np.full(50, 7.0), bootstrap=20)
    assert r.reason is not None
    assert "one value" in r.reason
    assert r.table[["src", "src_low", "src_high", "srrc"]].isna().all().all()
    assert math.isnan(r.r2)
    assert math.isnan(r.r2_rank)
    assert list(r.table["factor"]) == ["x1", "x2", "x3"]


def test_too_few_rows_is_refused():
    X, y, _ = linear_case(n=4)  # 3 varied factors need 5 rows
    with pytest.raises(ValueError, match=r"4 usable rows for 3 varied factors.*at least factors \+ 2"):
        standardised_regression(X, y)
    X5, y5, _ = linear_case(n=5)
    assert standardised_regression(X5, y5, bootstrap=10).n == 5


def test_length_mismatch_is_refused():
    X, y, _ = linear_case(n=20)
    with pytest.raises(ValueError, match="same runs"):
        standardised_regression(X, y[:-1])


def test_text_factors_two_levels_coded_more_levels_skipped():
    rng = np.random.default_rng(8)
    n = 400
    X = pd.DataFrame(
        {
            "x1": rng.uniform(size=n),
            "regime": rng.choice(["joint", "separate"], n),
            "weather": rng.choice(["dry", "rain", "snow"], n),
        }
    )
    y = X["x1"] + 2.0 * (X["regime"] == "separate") + rng.normal(0, 0.05, n)
    r = standardised_regression(X, y, bootstrap=100)
    t = r.table.set_index("factor")
    assert set(r.skipped) == {"weather"}
    assert "3 levels" in r.skipped["weather"]
    assert "weather" not in t.index
    # sorted codes: joint -> 0, separate -> 1, so the effect is positive and the largest
    assert t.loc["regime", "src"] > 0.8
    assert t.loc["regime", "importance_rank"] == 1


def test_missing_outcomes_are_dropped_and_counted():
    X, y, _ = linear_case(n=200)
    y = y.copy()
    y[[0, 5, 17]] = np.nan
    r = standardised_regression(X, pd.Series(y), bootstrap=50)
    assert (r.n, r.n_dropped) == (197, 3)
    full = standardised_regression(X.drop(index=[0, 5, 17]), y[~np.isnan(y)], bootstrap=50)
    pd.testing.assert_frame_equal(r.table, full.table)
