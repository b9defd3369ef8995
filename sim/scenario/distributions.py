"""Probability distributions for service times, occupancy and inspection times.

Each distribution knows its analytic mean and variance, so one helper can test them all
against samples, and samples in blocks, because a scalar draw costs far more than a
block draw divided by its length.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from sim.scenario.units import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A time in minutes; scenario files may write ``"90 s"``, ``"2 min"``, ``"1.5 h"``."""

NonNegDuration = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
PosDuration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]

MIN_WEIGHT = 1e-9
MAX_WEIGHT = 1e9


def _weight(value: float) -> float:
    """A relative weight: 0, or between 1e-9 and 1e9.

    Weights are divided by their sum or mean; subnormal ones (5e-324) validate as positive
    and then underflow to 0 in that division, and 1e308 overflows the sum to infinity.
    """
    if 0 < value < MIN_WEIGHT:
        raise ValueError(f"must be 0 or at least {MIN_WEIGHT:g}")
    return value


Weight = Annotated[float, Field(ge=0, allow_inf_nan=False, le=MAX_WEIGHT), AfterValidator(_weight)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    @property
    def variance(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def is_zero(self) -> bool:
        """True when every draw is 0, so the engine can skip drawing it at all."""
        return False


class Constant(_Dist):
    """Always the same value: deterministic times for exact tests and fixed durations."""

    dist: Literal["constant"] = "constant"
    value: NonNegDuration

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    @property
    def is_zero(self) -> bool:
        return self.value == 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)


class Exponential(_Dist):
    """Memoryless times: what M/M/c theory assumes."""

    dist: Literal["exponential"]
    mean_: PosDuration = Field(alias="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_**2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_, n)


class _MeanCV(_Dist):
    """A distribution given by its mean and coefficient of variation, as surveys report times."""

    mean_: PosDuration = Field(alias="mean")
    cv: float = Field(gt=0, allow_inf_nan=False, le=100)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return (self.cv * self.mean_) ** 2


class Lognormal(_MeanCV):
    """Right-skewed times: a few travellers take far longer than most."""

    dist: Literal["lognormal"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)


class Gamma(_MeanCV):
    """Times whose cv 1 is exponential and cv < 1 more regular (a sum of similar steps)."""

    dist: Literal["gamma"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_ / shape, n)


class Triangular(_Dist):
    """Expert-judgement times: shortest, most likely and longest."""

    dist: Literal["triangular"]
    low: NonNegDuration
    mode: NonNegDuration
    high: NonNegDuration

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("needs low <= mode <= high and low < high")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)


class Uniform(_Dist):
    """Any time between two bounds, equally likely."""

    dist: Literal["uniform"]
    low: NonNegDuration
    high: NonNegDuration

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("needs low < high")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


class Empirical(_Dist):
    """Observed values, optionally weighted: e.g. persons per car from a survey."""

    dist: Literal["empirical"]
    values: list[NonNegDuration] = Field(min_length=1, max_length=100_000)
    weights: list[Weight] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"weights has {len(self.weights)} entries but values has {len(self.values)}")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be 0")
        return self

    def _probabilities(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.values), 1.0 / len(self.values))
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    @property
    def mean(self) -> float:
        return float(np.dot(self._probabilities(), self.values))

    @property
    def variance(self) -> float:
        p, v = self._probabilities(), np.asarray(self.values)
        m = float(np.dot(p, v))
        return float(np.dot(p, (v - m) ** 2))

    @property
    def is_zero(self) -> bool:
        return all(v == 0 for v in self.values)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        values = np.asarray(self.values, dtype=float)
        if self.weights is None:
            return values[rng.integers(0, len(values), n)]
        return rng.choice(values, size=n, p=self._probabilities())


def _tag(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("dist", "missing"))
    if isinstance(value, _Dist):
        return value.dist  # type: ignore[attr-defined]
    return "constant"


def _shorthand(value: Any) -> Any:
    """A bare number or duration string is a constant: ``per_vehicle: 2 min``."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    if isinstance(value, bool):
        raise ValueError("expected a number, a duration or a distribution, not a boolean")
    if isinstance(value, dict) and "dist" not in value:
        raise ValueError(
            "a distribution needs 'dist:' (constant, exponential, lognormal, gamma, triangular, uniform or empirical)"
        )
    if isinstance(value, dict) and value.get("dist") not in DISTRIBUTIONS:
        # the repr is cut short: a mistaken value may be a whole nested mapping
        raise ValueError(f"unknown distribution {value.get('dist')!r:.40}; use one of {', '.join(DISTRIBUTIONS)}")
    return value


DISTRIBUTIONS = ("constant", "exponential", "lognormal", "gamma", "triangular", "uniform", "empirical")

Distribution = Annotated[
    Annotated[Constant, Tag("constant")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[Lognormal, Tag("lognormal")]
    | Annotated[Gamma, Tag("gamma")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Empirical, Tag("empirical")],
    Discriminator(_tag),
    BeforeValidator(_shorthand),
]
"""Any distribution; in a scenario a bare number or duration means a constant."""
