"""Service-time distributions as plain data, each turned into times by its exact inverse CDF.

Every traveller carries one uniform number u in (0, 1) per stage: its luck. The time it
takes is ``quantile(u)`` of whatever distribution applies where the traveller actually
goes, so when a scenario variant sends it to a crossing with another distribution, the
same traveller is still as fast or as slow relative to the others (common random
numbers), and comparisons between variants lose that part of their noise.

The engine sees only these frozen dataclasses, never the scenario's pydantic models;
``compile_distribution`` converts one into the other with exactly the parametrisation the
scenario's own ``sample`` uses, so both describe the same distribution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import gammaincinv, ndtri

from sim.scenario import distributions as spec


@dataclass(frozen=True, slots=True)
class Constant:
    """Always ``value``: fixed durations, and (with 0) a stage that takes no time."""

    value: float

    def __post_init__(self) -> None:
        if not self.value >= 0:
            raise ValueError(f"a constant time must be >= 0, got {self.value!r}")

    @property
    def mean(self) -> float:
        return self.value

    @property
    def is_zero(self) -> bool:
        return self.value == 0.0

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """``value`` whatever u is."""
        return np.full(np.shape(u), self.value)


ZERO = Constant(0.0)
"""No service: every draw is 0, so the engine may skip the stage."""


@dataclass(frozen=True, slots=True)
class Exponential:
    """Memoryless times with the given mean."""

    mean: float

    def __post_init__(self) -> None:
        if not self.mean > 0:
            raise ValueError(f"an exponential needs mean > 0, got {self.mean!r}")

    @property
    def is_zero(self) -> bool:
        return False

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """-mean * log(1 - u); log1p keeps small u exact."""
        return -self.mean * np.log1p(-u)


def _positive_mean_cv(kind: str, mean: float, cv: float) -> None:
    """Reject what no mean/cv distribution can have, before it turns into NaN times."""
    if not (mean > 0 and cv > 0 and math.isfinite(mean) and math.isfinite(cv)):
        raise ValueError(f"a {kind} needs finite mean > 0 and cv > 0, got mean={mean!r}, cv={cv!r}")


@dataclass(frozen=True, slots=True)
class Lognormal:
    """exp(N(mu, sigma^2)) with sigma^2 = log(1 + cv^2) and mu = log(mean) - sigma^2 / 2."""

    mean: float
    cv: float
    _mu: float = field(init=False, repr=False, compare=False)
    _sigma: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _positive_mean_cv("lognormal", self.mean, self.cv)
        sigma2 = math.log1p(self.cv**2)
        object.__setattr__(self, "_mu", math.log(self.mean) - sigma2 / 2)
        object.__setattr__(self, "_sigma", math.sqrt(sigma2))

    @property
    def is_zero(self) -> bool:
        return False

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """exp(mu + sigma * Phi^-1(u)); u = 0 gives 0."""
        return np.exp(self._mu + self._sigma * ndtri(u))


@dataclass(frozen=True, slots=True)
class Gamma:
    """Gamma with shape k = 1 / cv^2 and scale mean / k, so cv 1 is the exponential."""

    mean: float
    cv: float
    _shape: float = field(init=False, repr=False, compare=False)
    _scale: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _positive_mean_cv("gamma", self.mean, self.cv)
        shape = 1.0 / self.cv**2
        object.__setattr__(self, "_shape", shape)
        object.__setattr__(self, "_scale", self.mean / shape)

    @property
    def is_zero(self) -> bool:
        return False

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The time scale * P^-1(k, u), with P^-1 the inverse of the regularised lower incomplete gamma function."""
        return self._scale * gammaincinv(self._shape, u)


@dataclass(frozen=True, slots=True)
class Triangular:
    """Shortest, most likely and longest time; ``mode`` may equal either end."""

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        if not (0 <= self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(f"a triangular needs 0 <= low <= mode <= high and low < high, got {self!r}")

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def is_zero(self) -> bool:
        return False

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Below F(mode) = c: low + sqrt(u (high - low) (mode - low)); above it the mirror image.

        The upper branch, high - (high - low) sqrt((1 - u)(1 - c)), is written as
        low + (high - low) (u + c (1 - u)) / (1 + sqrt((1 - u)(1 - c))): the same number
        without the cancellation that loses all digits of short times when mode = low.
        """
        a, b = self.low, self.high
        width = b - a
        c = (self.mode - a) / width
        root = np.sqrt((1.0 - u) * (1.0 - c))
        upper = a + width * ((u + c * (1.0 - u)) / (1.0 + root))
        lower = a + np.sqrt(u * (width * (self.mode - a)))
        return np.where(u < c, lower, upper)


@dataclass(frozen=True, slots=True)
class Uniform:
    """Any time between low and high, equally likely."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0 <= self.low < self.high:
            raise ValueError(f"a uniform needs 0 <= low < high, got {self!r}")

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def is_zero(self) -> bool:
        return False

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The time low + u (high - low)."""
        return self.low + u * (self.high - self.low)


_MAX_WALK = 8
"""Longest forward walk from a guide-table entry before a binary search is the faster way."""


@dataclass(frozen=True, slots=True)
class Empirical:
    """Listed values drawn with probability proportional to ``weights`` (equal when None).

    The values and weights are kept as given, so equal inputs compare equal; the sorted
    support, its cumulative probabilities and a guide table are built once, for ``quantile``.
    """

    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None
    _support: np.ndarray = field(init=False, repr=False, compare=False)
    _cdf: np.ndarray = field(init=False, repr=False, compare=False)
    _guide: np.ndarray = field(init=False, repr=False, compare=False)
    _walk: int = field(init=False, repr=False, compare=False)
    _mean: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim != 1 or len(values) == 0 or not np.all(values >= 0) or not np.all(np.isfinite(values)):
            raise ValueError("an empirical distribution needs at least one finite value >= 0")
        if self.weights is None:
            w = np.ones(len(values))
        else:
            w = np.asarray(self.weights, dtype=np.float64)
            if w.shape != values.shape or not np.all(w >= 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
                raise ValueError("empirical weights need one finite weight >= 0 per value, not all 0")
        # the mean as the scenario computes it, so both report the same number
        object.__setattr__(self, "_mean", float(np.dot(w / w.sum(), values)))
        # values of weight 0 can never be drawn: leaving them out keeps is_zero exact
        keep = w > 0
        order = np.argsort(values[keep], kind="stable")
        support, cum = values[keep][order], np.cumsum(w[keep][order])
        cdf = cum / cum[-1]  # partial sums never exceed the last one, so the last is exactly 1
        # Guide table: u in [j/n, (j+1)/n) has its answer between guide[j] and reach[j]; the
        # margins of 1e-6 cover the rounding of u * n to the bucket j in ``quantile``.
        n = len(support)
        j = np.arange(n)
        guide = np.searchsorted(cdf, (j - 1e-6) / n, side="right")
        reach = np.minimum(np.searchsorted(cdf, (j + 1 + 1e-6) / n, side="right"), n - 1)
        for name, array in (("_support", support), ("_cdf", cdf), ("_guide", guide)):
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "_walk", int((reach - guide).max()))

    @property
    def mean(self) -> float:
        return self._mean

    @property
    def is_zero(self) -> bool:
        return bool(self._support[-1] == 0.0)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The smallest value x with F(x) > u: the step inverse of the discrete CDF F.

        A binary search per u costs tens of nanoseconds per level on long lists; the guide
        table starts each u a few steps below its answer, and the walk takes at most
        ``_walk`` steps. Values of wildly different weights can make the walk long, and then
        the binary search is used.
        """
        if self._walk > _MAX_WALK:
            index = np.searchsorted(self._cdf, u, side="right")
        else:
            index = self._guide.take((u * len(self._guide)).astype(np.intp), mode="clip")
            for _ in range(self._walk):
                index += self._cdf.take(index, mode="clip") <= u
        return self._support.take(index, mode="clip")


PlainDistribution = Constant | Exponential | Lognormal | Gamma | Triangular | Uniform | Empirical
"""Any distribution the engine can draw from."""

_COMPILERS: dict[type, Callable[[Any], PlainDistribution]] = {
    spec.Constant: lambda d: ZERO if d.value == 0 else Constant(float(d.value)),
    spec.Exponential: lambda d: Exponential(float(d.mean)),
    spec.Lognormal: lambda d: Lognormal(float(d.mean), float(d.cv)),
    spec.Gamma: lambda d: Gamma(float(d.mean), float(d.cv)),
    spec.Triangular: lambda d: Triangular(float(d.low), float(d.mode), float(d.high)),
    spec.Uniform: lambda d: Uniform(float(d.low), float(d.high)),
    spec.Empirical: lambda d: Empirical(
        tuple(map(float, d.values)), None if d.weights is None else tuple(map(float, d.weights))
    ),
}


def compile_distribution(d: Any) -> PlainDistribution:
    """The plain distribution equal to the scenario's distribution ``d``.

    Looked up by exact class, not isinstance: a new kind in the scenario format, even one
    derived from an existing kind, is refused here until it is given its own quantile.
    """
    try:
        compiler = _COMPILERS[type(d)]
    except KeyError:
        raise TypeError(f"no plain form for distribution class {type(d).__qualname__}") from None
    return compiler(d)
