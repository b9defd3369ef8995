"""PRIM scenario discovery: known boxes, categorical factors, the trajectory, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.prim import BOX_COLUMNS, prim


def uniform_case(seed: int = 1, n: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    """Four independent uniform factors; bad when x1 > 0.7 and x2 < 0.3."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["x1", "x2", "x3", "x4"])
    return X, ((X["x1"] > 0.7) & (X["x2"] < 0.3)).to_numpy()


def density_of(X: pd.DataFrame, bad: np.ndarray, box: pd.DataFrame, skip: str | None = None) -> float:
    """Share of bad points inside the box described by a box table (ignoring factor ``skip``)."""
    inside = np.ones(len(X), bool)
    for row in box.itertuples():
        if row.factor == skip:
            continue
        if row.kind == "categorical":
            inside &= X[row.factor].isin(row.categories).to_numpy()
        else:
            inside &= ((X[row.factor] >= row.low) & (X[row.factor] <= row.high)).to_numpy()
    return float(bad[inside].mean())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_known_box_is_found(seed):
    X, bad = uniform_case(seed)
    r = prim(X, bad, threshold=0.95)
    box = r.box.set_index("factor")
    assert list(r.box.columns) == BOX_COLUMNS
    assert set(box.index) == {"x1", "x2"}  # x3, x4 unrestricted
    assert box.loc["x1", "low"] == pytest.approx(0.7, abs=0.05)
    assert box.loc["x2", "high"] == pytest.approx(0.3, abs=0.05)
    # restricted on one side only: the other limit is the data's edge
    assert box.loc["x1", "high_at_edge"]
    assert not box.loc["x1", "low_at_edge"]
    assert box.loc["x2", "low_at_edge"]
    assert not box.loc["x2", "high_at_edge"]
    assert r.density >= 0.95
    assert r.coverage >= 0.8
    assert r.reached_threshold
    assert (box["quasi_p"] < 0.01).all()
    assert (box["kind"] == "numeric").all()
    # the reported numbers are those of the reported box
    assert density_of(X, bad, r.box) == pytest.approx(r.density)
    assert (r.n, r.n_bad, r.base_density) == (2000, int(bad.sum()), bad.mean())


def test_default_threshold_stops_at_the_first_box_dense_enough():
    X, bad = uniform_case()
    r = prim(X, bad)
    box = r.box.set_index("factor")
    assert set(box.index) == {"x1", "x2"}
    assert r.density >= 0.8
    assert r.coverage >= 0.8
    assert r.reached_threshold
    # the box pasted from is the first on the trajectory reaching the threshold
    d = r.trajectory["density"]
    assert d[r.chosen] >= 0.8
    assert (d[: r.chosen] < 0.8).all()
    # less dense than the true box, so its limits are looser, but on the right sides
    assert 0.6 < box.loc["x1", "low"] <= 0.72
    assert 0.28 <= box.loc["x2", "high"] < 0.4


def test_balance_chooses_the_sharp_edge_that_first_stops_short_of():
    X, bad = uniform_case()
    first, balance = prim(X, bad), prim(X, bad, choose="balance")
    t = balance.trajectory
    f1 = 2 * t["coverage"] * t["density"] / (t["coverage"] + t["density"])
    dense = t["density"] >= 0.8
    assert balance.chosen == int(f1[dense].idxmax())
    assert balance.chosen > first.chosen
    box = balance.box.set_index("factor")
    assert box.loc["x1", "low"] == pytest.approx(0.7, abs=0.03)
    assert box.loc["x2", "high"] == pytest.approx(0.3, abs=0.03)
    assert balance.density > first.density
    assert balance.coverage >= 0.9
    with pytest.raises(ValueError, match="choose"):
        prim(X, bad, choose="best")


def test_label_noise_still_finds_the_dimensions():
    X, bad = uniform_case(seed=4)
    flip = np.random.default_rng(99).uniform(size=len(bad)) < 0.05
    r = prim(X, bad ^ flip)
    box = r.box.set_index("factor")
    assert set(box.index) == {"x1", "x2"}
    assert box.loc["x1", "low"] == pytest.approx(0.7, abs=0.1)
    assert box.loc["x2", "high"] == pytest.approx(0.3, abs=0.1)
    assert r.density >= 0.8
    assert (box["quasi_p"] < 0.01).all()


def test_categorical_factor_peeled_one_level_at_a_time():
    rng = np.random.default_rng(6)
    n = 2000
    X = pd.DataFrame({"x1": rng.uniform(size=n), "mode": rng.choice(["a", "b", "c"], n), "x2": rng.uniform(size=n)})
    bad = ((X["mode"] == "b") & (X["x1"] > 0.5)).to_numpy()
    r = prim(X, bad, threshold=0.95)
    box = r.box.set_index("factor")
    assert set(box.index) == {"x1", "mode"}
    assert box.loc["mode", "kind"] == "categorical"
    assert box.loc["mode", "categories"] == ("b",)
    assert math.isnan(box.loc["mode", "low"])
    assert box.loc["x1", "low"] == pytest.approx(0.5, abs=0.05)
    assert r.density >= 0.95
    assert r.coverage >= 0.8
    assert (box["quasi_p"] < 0.01).all()
    assert density_of(X, bad, r.box) == pytest.approx(r.density)
    assert "mode in {b}" in r.trajectory["limits"].iloc[-1]


def test_trajectory_shrinks_and_starts_from_the_base_density():
    X, bad = uniform_case()
    r = prim(X, bad)
    t = r.trajectory
    assert list(t.columns) == ["box", "coverage", "density", "mass", "restricted", "limits"]
    assert list(t["box"]) == list(range(len(t)))
    assert (t["mass"].diff().dropna() <= 0).all()
    assert (t["density"].diff().dropna() > 0).all()  # each peel raises the density
    assert t["density"].iloc[0] == pytest.approx(r.base_density)
    assert (t["coverage"].iloc[0], t["mass"].iloc[0], t["restricted"].iloc[0]) == (1.0, 1.0, 0)
    assert len(r.limits) == len(t)
    assert r.limits[0].empty
    assert set(r.limits[-1]["factor"]) == {"x1", "x2"}


def test_every_restriction_reported_matters():
    X, bad = uniform_case(seed=2)
    flip = np.random.default_rng(3).uniform(size=len(bad)) < 0.05
    noisy = bad ^ flip
    r = prim(X, noisy)
    for f in r.box["factor"]:
        assert density_of(X, noisy, r.box, skip=f) < r.density, f


def test_mass_min_is_respected():
    X, bad = uniform_case()
    r = prim(X, bad, mass_min=0.2)  # the bad region holds 9% of the points
    assert (r.trajectory["mass"] >= 0.2).all()
    assert r.mass >= 0.2
    assert not r.reached_threshold
    assert r.chosen == int(r.trajectory["density"].to_numpy().argmax())
    assert r.density < 0.8


def test_deterministic():
    X, bad = uniform_case(seed=7)
    a, b = prim(X, bad), prim(X, bad)
    pd.testing.assert_frame_equal(a.trajectory, b.trajectory)
    pd.testing.assert_frame_equal(a.box, b.box)
    assert (a.coverage, a.density, a.mass, a.chosen) == (b.coverage, b.density, b.mass, b.chosen)


@pytest.mark.parametrize(("value", "words"), [(False, "no point is bad"), (True, "every point is bad")])
def test_no_bad_or_all_bad_gives_an_empty_box_and_a_reason(value, words):
    X, _ = uniform_case(n=100)
    r = prim(X, np.full(100, value))
    assert r.reason is not None
    assert words in r.reason
    assert r.box.empty
    assert list(r.box.columns) == BOX_COLUMNS
    assert len(r.trajectory) == 1
    assert r.n_bad == (100 if value else 0)
    assert r.base_density == r.density == float(value)
    assert r.mass == 1.0
    assert r.reached_threshold is value
    if value:
        assert r.coverage == 1.0
    else:
        assert math.isnan(r.coverage)


def test_categorical_with_many_levels_is_skipped():
    X, bad = uniform_case(n=400)
    X = X.assign(site=[f"s{i % 20}" for i in range(400)])
    r = prim(X, bad, threshold=0.95)
    assert set(r.skipped) == {"site"}
    assert "20 levels" in r.skipped["site"]
    assert "site" not in set(r.box["factor"])


def test_inconsistent_input_is_refused():
    X, bad = uniform_case(n=50)
    with pytest.raises(ValueError, match="same"):
        prim(X, bad[:-1])
    with pytest.raises(ValueError, match="peel_alpha"):
        prim(X, bad, peel_alpha=0)
    with pytest.raises(ValueError, match="missing"):
        prim(X.assign(x1=np.where(np.arange(50) == 3, np.nan, X["x1"])), bad)
