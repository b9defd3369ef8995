"""Every distribution's sampler against its own analytic mean and variance.

One helper checks them all. The sample mean of n draws has standard error sigma / sqrt(n);
the sample variance has standard error sqrt((mu4 - sigma^4) / n), where mu4 is the fourth
central moment, given here analytically for each distribution. Both must lie within 5
standard errors (a false alarm about once in 1.7 million), so a wrong formula or a wrong
parametrisation (say, a lognormal's sigma taken as the cv) fails while noise does not.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter

from sim.scenario.distributions import DISTRIBUTIONS, Distribution

N = 400_000
Z = 5.0
_ADAPTER = TypeAdapter(Distribution)


def _lognormal_mu4(mean: float, cv: float) -> float:
    s2 = math.log1p(cv * cv)
    excess = math.exp(4 * s2) + 2 * math.exp(3 * s2) + 3 * math.exp(2 * s2) - 6
    return (excess + 3) * (cv * mean) ** 4


def _empirical_mu4(values: list[float], weights: list[float] | None) -> float:
    v = np.asarray(values, dtype=float)
    p = np.full(len(v), 1 / len(v)) if weights is None else np.asarray(weights, dtype=float) / sum(weights)
    m = float(p @ v)
    return float(p @ (v - m) ** 4)


def _triangular_mu4(low: float, mode: float, high: float) -> float:
    var = (low**2 + mode**2 + high**2 - low * mode - low * high - mode * high) / 18
    return 2.4 * var**2  # excess kurtosis -3/5 whatever the shape


EMPIRICAL_VALUES = [1.0, 2.0, 3.0, 7.0]
EMPIRICAL_WEIGHTS = [0.5, 0.3, 0.15, 0.05]

CASES = [
    # (id, spec, fourth central moment)
    ("constant", {"dist": "constant", "value": 4.5}, 0.0),
    ("constant_shorthand", "90 s", 0.0),
    ("exponential", {"dist": "exponential", "mean": 2.5}, 9 * 2.5**4),
    ("lognormal_cv0.5", {"dist": "lognormal", "mean": 3.0, "cv": 0.5}, _lognormal_mu4(3.0, 0.5)),
    ("lognormal_cv2", {"dist": "lognormal", "mean": 0.7, "cv": 2.0}, _lognormal_mu4(0.7, 2.0)),
    ("gamma_cv0.5", {"dist": "gamma", "mean": 3.0, "cv": 0.5}, (3 + 6 * 0.5**2) * (0.5 * 3.0) ** 4),
    ("gamma_cv2", {"dist": "gamma", "mean": 0.8, "cv": 2.0}, (3 + 6 * 2.0**2) * (2.0 * 0.8) ** 4),
    ("triangular", {"dist": "triangular", "low": 1, "mode": 2, "high": 6}, _triangular_mu4(1, 2, 6)),
    ("triangular_mode_at_low", {"dist": "triangular", "low": 0, "mode": 0, "high": 3}, _triangular_mu4(0, 0, 3)),
    ("uniform", {"dist": "uniform", "low": 2, "high": 5}, 3.0**4 / 80),
    ("empirical", {"dist": "empirical", "values": EMPIRICAL_VALUES}, _empirical_mu4(EMPIRICAL_VALUES, None)),
    (
        "empirical_weighted",
        {"dist": "empirical", "values": EMPIRICAL_VALUES, "weights": EMPIRICAL_WEIGHTS},
        _empirical_mu4(EMPIRICAL_VALUES, EMPIRICAL_WEIGHTS),
    ),
]


def assert_moments(dist, mu4: float, n: int = N, seed: int = 20240601) -> None:
    """Sample mean and variance within Z standard errors of the analytic values."""
    x = dist.sample(np.random.default_rng(seed), n)
    assert x.shape == (n,)
    assert np.all(np.isfinite(x))
    assert np.all(x >= 0), "times and counts are never negative"
    mean, var = dist.mean, dist.variance
    se_mean = math.sqrt(var / n)
    assert abs(x.mean() - mean) <= Z * se_mean + 1e-12 * max(1.0, mean), (x.mean(), mean, se_mean)
    se_var = math.sqrt(max(mu4 - var * var, 0.0) / n)
    s2 = x.var(ddof=1)
    assert abs(s2 - var) <= Z * se_var + 1e-12 * max(1.0, var), (s2, var, se_var)


@pytest.mark.parametrize(("spec", "mu4"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sample_moments_match_analytic_moments(spec, mu4):
    assert_moments(_ADAPTER.validate_python(spec), mu4)


def test_every_kind_is_covered():
    kinds = {_ADAPTER.validate_python(spec).dist for _, spec, _ in CASES}
    assert kinds == set(DISTRIBUTIONS)
    weighted = [_ADAPTER.validate_python(spec) for _, spec, _ in CASES if isinstance(spec, dict)]
    assert any(d.dist == "empirical" and d.weights is None for d in weighted)
    assert any(d.dist == "empirical" and d.weights is not None for d in weighted)


def test_the_helper_catches_a_small_error():
    # samples of a gamma with cv 0.5 told they should have the variance of cv 0.5075 (3% more)
    right = _ADAPTER.validate_python({"dist": "gamma", "mean": 3.0, "cv": 0.5})
    wrong = _ADAPTER.validate_python({"dist": "gamma", "mean": 3.0, "cv": 0.5075})

    class Mislabelled:
        mean = right.mean
        variance = wrong.variance
        sample = staticmethod(right.sample)

    mu4 = (3 + 6 * 0.5075**2) * (0.5075 * 3.0) ** 4
    with pytest.raises(AssertionError):
        assert_moments(Mislabelled, mu4)
