"""The plain distributions' inverse CDFs against scipy, the scenario's samplers and their means.

Each scenario distribution is compiled and its ``quantile`` checked three independent ways:
against scipy's ``ppf`` built here from the scenario's own mean/cv formulas (so a wrong
parametrisation fails), against the scenario object's ``sample`` by a two-sample test (so
both describe the same distribution), and by its integral over u, which is the mean.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import special, stats

from sim.model import distributions as plain
from sim.model.distributions import ZERO, compile_distribution
from sim.scenario import distributions as spec

_ADAPTER = TypeAdapter(spec.Distribution)


def _lognormal(mean: float, cv: float) -> Any:
    s2 = math.log1p(cv * cv)
    return stats.lognorm(s=math.sqrt(s2), scale=math.exp(math.log(mean) - s2 / 2))


def _gamma(mean: float, cv: float) -> Any:
    return stats.gamma(a=1 / cv**2, scale=mean * cv**2)


def _triangular(low: float, mode: float, high: float) -> Any:
    return stats.triang(c=(mode - low) / (high - low), loc=low, scale=high - low)


# (id, scenario spec, scipy reference or None for discrete kinds)
CONTINUOUS = [
    ("exponential", {"dist": "exponential", "mean": 2.5}, stats.expon(scale=2.5)),
    ("exponential_short", {"dist": "exponential", "mean": "3 s"}, stats.expon(scale=0.05)),
    ("lognormal_cv0.5", {"dist": "lognormal", "mean": 3.0, "cv": 0.5}, _lognormal(3.0, 0.5)),
    ("lognormal_cv2", {"dist": "lognormal", "mean": 0.7, "cv": 2.0}, _lognormal(0.7, 2.0)),
    ("lognormal_cv1e-4", {"dist": "lognormal", "mean": 5.0, "cv": 1e-4}, _lognormal(5.0, 1e-4)),
    ("lognormal_cv100", {"dist": "lognormal", "mean": 2.0, "cv": 100}, _lognormal(2.0, 100)),
    ("gamma_cv0.5", {"dist": "gamma", "mean": 3.0, "cv": 0.5}, _gamma(3.0, 0.5)),
    ("gamma_cv1", {"dist": "gamma", "mean": 1.5, "cv": 1.0}, _gamma(1.5, 1.0)),
    ("gamma_cv2", {"dist": "gamma", "mean": 0.8, "cv": 2.0}, _gamma(0.8, 2.0)),
    ("gamma_cv1e-3", {"dist": "gamma", "mean": 5.0, "cv": 1e-3}, _gamma(5.0, 1e-3)),
    ("gamma_cv100", {"dist": "gamma", "mean": 2.0, "cv": 100}, _gamma(2.0, 100)),
    ("triangular", {"dist": "triangular", "low": 1, "mode": 2, "high": 6}, _triangular(1, 2, 6)),
    ("triangular_mode_at_low", {"dist": "triangular", "low": 0, "mode": 0, "high": 3}, _triangular(0, 0, 3)),
    ("triangular_mode_at_high", {"dist": "triangular", "low": 0, "mode": 3, "high": 3}, _triangular(0, 3, 3)),
    ("triangular_narrow", {"dist": "triangular", "low": 2, "mode": 2, "high": 2.5}, _triangular(2, 2, 2.5)),
    ("uniform", {"dist": "uniform", "low": 2, "high": 5}, stats.uniform(loc=2, scale=3)),
    ("uniform_from_0", {"dist": "uniform", "low": 0, "high": 0.1}, stats.uniform(loc=0, scale=0.1)),
]

DISCRETE = [
    ("constant", 4.5),
    ("constant_zero", 0),
    ("constant_duration", "90 s"),
    ("empirical_one_value", {"dist": "empirical", "values": [4.0]}),
    ("empirical", {"dist": "empirical", "values": [3.0, 1.0, 7.0, 2.0]}),
    ("empirical_duplicates", {"dist": "empirical", "values": [2.0, 1.0, 2.0, 2.0, 5.0]}),
    ("empirical_weighted", {"dist": "empirical", "values": [1, 2, 3, 7], "weights": [0.5, 0.3, 0.15, 0.05]}),
    ("empirical_zero_weights", {"dist": "empirical", "values": [9, 1, 4, 8], "weights": [0, 2, 1, 0]}),
    ("empirical_extreme_weights", {"dist": "empirical", "values": [1, 2, 3], "weights": [1e-9, 1e9, 1]}),
    ("empirical_all_zero", {"dist": "empirical", "values": [0, 0]}),
    ("empirical_long", {"dist": "empirical", "values": list(np.random.default_rng(5).gamma(2.0, 1.0, 3000))}),
    (
        "empirical_long_weighted",
        {
            "dist": "empirical",
            "values": list(np.random.default_rng(6).gamma(2.0, 1.0, 3000)),
            "weights": list(np.random.default_rng(7).lognormal(0.0, 2.0, 3000)),
        },
    ),
]

ALL = [(name, data) for name, data, _ in CONTINUOUS] + DISCRETE

# u from 0 to just below 1, dense in both tails, sorted
U_GRID = np.unique(
    np.concatenate(
        [[0.0], np.logspace(-15, -1, 200), np.linspace(0, 1, 2001)[1:-1], 1 - np.logspace(-1, -15, 200), [1 - 2**-53]]
    )
)
U_RANDOM = np.random.default_rng(11).random(20_000)


def _both(data: Any) -> tuple[Any, plain.PlainDistribution]:
    d = _ADAPTER.validate_python(data)
    return d, compile_distribution(d)


@pytest.mark.parametrize(("name", "data", "ref"), CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_quantile_is_scipy_ppf(name: str, data: Any, ref: Any) -> None:
    _, p = _both(data)
    # scipy's triangular ppf computes short times as a difference near 1, good only to a few
    # ulps of the width; the quantile does better (next test), so allow that much there only
    atol = 4 * np.finfo(float).eps * ref.kwds["scale"] if ref.dist.name == "triang" else 0.0
    np.testing.assert_allclose(p.quantile(U_GRID), ref.ppf(U_GRID), rtol=1e-9, atol=atol)


def test_triangular_short_times_keep_their_digits() -> None:
    """With mode = low, 1 - sqrt(1 - u) cancels; the quantile must not (scipy's ppf does)."""
    u = np.array([1e-15, 1e-12, 1e-9])
    exact = 3.0 * u / (1 + np.sqrt(1 - u))
    np.testing.assert_allclose(plain.Triangular(0.0, 0.0, 3.0).quantile(u), exact, rtol=1e-15)


def _discrete_cdf(d: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sorted support and cumulative probabilities of the scenario object, from its own fields."""
    if isinstance(d, spec.Constant):
        return np.array([d.value]), np.array([1.0])
    v = np.asarray(d.values, dtype=float)
    p = d._probabilities()
    support = np.unique(v[p > 0])
    return support, np.array([p[v <= x].sum() for x in support])


@pytest.mark.parametrize(("name", "data"), DISCRETE, ids=[c[0] for c in DISCRETE])
def test_discrete_quantile_is_step_inverse(name: str, data: Any) -> None:
    d, p = _both(data)
    support, cdf = _discrete_cdf(d)
    u = np.concatenate([[0.0], U_RANDOM, [1 - 2**-53]])
    q = p.quantile(u)
    k = np.searchsorted(support, q)
    assert np.all(support[np.minimum(k, len(support) - 1)] == q), "only values of positive weight are drawn"
    below = np.where(k > 0, cdf[k - 1], 0.0)  # F just below q
    assert np.all(below <= u + 1e-12), "a smaller value would already do"
    assert np.all((cdf[k] > u) | (k == len(support) - 1)), "F(q) must exceed u"
    assert q[0] == support[0]


@pytest.mark.parametrize(
    "weights",
    [None, (1.0, 2.0, 3.0, 4.0, 0.0, 5.0, 1e-9, 7.0), tuple(np.random.default_rng(8).lognormal(0, 3, 8))],
    ids=["equal", "zero_and_tiny", "spread"],
)
def test_guide_table_agrees_with_binary_search_at_edges(weights: tuple[float, ...] | None) -> None:
    """At bucket edges j/n, at the CDF's steps and one ulp either side, the fast path changes nothing."""
    p = plain.Empirical((5.0, 1.0, 4.0, 4.0, 2.0, 9.0, 3.0, 6.0), weights)
    n = len(p._support)
    edges = np.concatenate([np.arange(n) / n, p._cdf[:-1]])
    u = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, 1)])
    u = u[(u >= 0) & (u < 1)]
    expected = p._support[np.searchsorted(p._cdf, u, side="right")]
    np.testing.assert_array_equal(p.quantile(u), expected)


@pytest.mark.parametrize(("name", "data", "ref"), CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_same_distribution_as_sampler(name: str, data: Any, ref: Any) -> None:
    d, p = _both(data)
    drawn = d.sample(np.random.default_rng(2024), 20_000)
    pvalue = stats.ks_2samp(drawn, p.quantile(U_RANDOM)).pvalue
    assert pvalue > 1e-3, f"{name}: sampler and quantile differ (KS p = {pvalue:.2g})"


@pytest.mark.parametrize(("name", "data"), DISCRETE, ids=[c[0] for c in DISCRETE])
def test_discrete_same_distribution_as_sampler(name: str, data: Any) -> None:
    d, p = _both(data)
    drawn = d.sample(np.random.default_rng(2024), 20_000)
    transformed = p.quantile(U_RANDOM)
    support = np.unique(np.concatenate([drawn, transformed]))
    assert set(support) <= set(_discrete_cdf(d)[0])
    if len(support) < 2 or len(support) > 50:
        if len(support) > 50:  # long lists: as continuous data
            assert stats.ks_2samp(drawn, transformed).pvalue > 1e-3
        return
    counts = np.array([[np.sum(x == s) for s in support] for x in (drawn, transformed)])
    assert stats.chi2_contingency(counts).pvalue > 1e-3


def _mean_by_quadrature(p: plain.PlainDistribution) -> float:
    """Integral of quantile(u) du, taken as u = Phi(z) so both tails get fine steps."""
    z = np.linspace(-8.0, 8.0, 100_001)
    return float(np.trapezoid(p.quantile(special.ndtr(z)) * stats.norm.pdf(z), z))


@pytest.mark.parametrize(("name", "data"), ALL, ids=[c[0] for c in ALL])
def test_quantile_integrates_to_mean(name: str, data: Any) -> None:
    d, p = _both(data)
    assert p.mean == pytest.approx(d.mean, rel=1e-12, abs=0)
    assert _mean_by_quadrature(p) == pytest.approx(d.mean, rel=1e-4, abs=1e-12)


@pytest.mark.parametrize(("name", "data"), ALL, ids=[c[0] for c in ALL])
def test_monotone_finite_and_float64(name: str, data: Any) -> None:
    _, p = _both(data)
    q = p.quantile(U_GRID)
    assert q.dtype == np.float64
    assert q.shape == U_GRID.shape
    assert np.all(np.isfinite(q))
    assert np.all(q >= 0)
    assert np.all(np.diff(q) >= 0)
    assert p.quantile(np.empty((2, 0))).shape == (2, 0)


@pytest.mark.parametrize(("name", "data"), ALL, ids=[c[0] for c in ALL])
def test_is_zero_when_every_draw_is_zero(name: str, data: Any) -> None:
    d, p = _both(data)
    assert p.is_zero == bool(np.all(p.quantile(U_GRID) == 0))
    assert p.is_zero == d.is_zero


def test_zero_weights_on_nonzero_values_still_zero() -> None:
    """Values that can never be drawn do not stop a distribution being zero."""
    p = plain.Empirical((0.0, 5.0), (1.0, 0.0))
    assert p.is_zero
    assert p.mean == 0.0


def test_constant_zero_compiles_to_the_singleton() -> None:
    assert compile_distribution(_ADAPTER.validate_python(0)) is ZERO
    assert ZERO.is_zero
    assert ZERO.mean == 0.0


def test_plain_objects_are_frozen_hashable_values() -> None:
    a = compile_distribution(_ADAPTER.validate_python({"dist": "empirical", "values": [1, 2], "weights": [1, 3]}))
    b = plain.Empirical((1.0, 2.0), (1.0, 3.0))
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.values = (3.0,)  # type: ignore[misc]
    assert plain.Lognormal(2.0, 0.5) == plain.Lognormal(2.0, 0.5)
    assert len({plain.Gamma(1.0, 1.0), plain.Gamma(1.0, 1.0), plain.Exponential(1.0)}) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda: plain.Exponential(0.0),
        lambda: plain.Lognormal(1.0, 0.0),
        lambda: plain.Gamma(-1.0, 1.0),
        lambda: plain.Triangular(2.0, 1.0, 3.0),
        lambda: plain.Triangular(1.0, 1.0, 1.0),
        lambda: plain.Uniform(3.0, 3.0),
        lambda: plain.Constant(-1.0),
        lambda: plain.Empirical(()),
        lambda: plain.Empirical((1.0, 2.0), (0.0, 0.0)),
        lambda: plain.Empirical((1.0, 2.0), (1.0,)),
    ],
)
def test_impossible_parameters_are_refused(make: Any) -> None:
    with pytest.raises(ValueError, match="need|must"):
        make()


def _scenario_kinds() -> set[type]:
    """Every concrete distribution class the scenario format defines, found by introspection."""
    found: set[type] = set()
    todo = [spec._Dist]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ == spec.__name__ and "dist" in cls.model_fields:
            found.add(cls)
    members = {c for _, c in inspect.getmembers(spec, inspect.isclass) if issubclass(c, spec._Dist)}
    found |= {c for c in members if "dist" in c.model_fields}
    return found


def test_every_scenario_kind_is_compiled_and_tested() -> None:
    kinds = _scenario_kinds()
    assert {c.model_fields["dist"].annotation.__args__[0] for c in kinds} == set(spec.DISTRIBUTIONS)
    tested = {type(_ADAPTER.validate_python(data)) for _, data in ALL}
    assert kinds <= tested, f"no test cases for {sorted(c.__name__ for c in kinds - tested)}"
    for _, data in ALL:
        d = _ADAPTER.validate_python(data)
        assert type(compile_distribution(d)).__name__ == type(d).__name__


def test_unknown_kind_is_refused_by_name() -> None:
    class Shifted(spec.Lognormal):
        pass

    with pytest.raises(TypeError, match="Shifted"):
        compile_distribution(Shifted(dist="lognormal", mean=1.0, cv=1.0))
    with pytest.raises(TypeError, match="float"):
        compile_distribution(2.0)
