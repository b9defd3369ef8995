"""Which distribution describes a stage's service times, and how sure we can be.

Each family of the scenario format is fitted by maximum likelihood and tested with the
Kolmogorov–Smirnov statistic. Its p-value comes from a parametric bootstrap (refitting each
simulated sample, as Lilliefors did for the normal): the textbook table assumes parameters
known in advance and, with fitted ones, passes almost anything. Among the families that pass
at 5%, the lowest AIC wins, except that a family within 2 AIC units of it with fewer
parameters is preferred (it fits as well and is simpler: an exponential is not replaced by a
gamma whose shape is 1 give or take noise). Times that hardly vary are a constant; when no
family passes, the times themselves are written as an empirical distribution.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sim.calibration.families import FAMILIES, Family

KS_LEVEL = 0.05
BOOTSTRAP = 199
"""Simulated samples per KS p-value: p is a multiple of 1/200, enough to tell 5% apart."""
KS_MAX = 5000
"""Times the KS test uses at most (a random subset, seeded): beyond this its bootstrap costs
seconds per family and the test already rejects any visible misfit."""
CONSTANT_CV = 0.01
"""Times whose coefficient of variation is below this are written as a constant."""
MIN_FIT = 10
"""Fewer times than this are written as their empirical distribution: a fit would be a guess."""
MAX_EMPIRICAL = 1000
"""Values an empirical distribution is written with at most (quantiles beyond that)."""


@dataclass(frozen=True)
class Fit:
    """One family fitted to the times of one stage, with its goodness of fit."""

    family: str
    params: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    n_params: int
    loglik: float
    ks_d: float
    ks_p: float

    @property
    def aic(self) -> float:
        return 2 * self.n_params - 2 * self.loglik

    @property
    def passes(self) -> bool:
        return self.ks_p >= KS_LEVEL


@dataclass(frozen=True)
class Choice:
    """The distribution chosen for one sample of times, with every candidate and the reason."""

    n: int
    mean: float
    cv: float
    dist: dict[str, Any]
    """The chosen distribution as the scenario format writes it (``dist: lognormal, mean, cv``)."""
    intervals: dict[str, tuple[float, float]]
    why: str
    fits: list[Fit] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Families not fitted, and why (a time of 0 where the family has no density there)."""
    ks_n: int = 0
    resolution: float = 0.0
    """Minutes the times are rounded to (1, 1/60) when they all are; the KS bootstrap rounds likewise."""

    @property
    def family(self) -> str:
        return str(self.dist["dist"])


def resolution_of(x: np.ndarray) -> float:
    """1 when every time is whole minutes, 1/60 when whole seconds, else 0 (continuous).

    A KS test of rounded times against a continuous distribution sees the rounding's steps;
    the bootstrap samples are rounded the same way, so the steps do not count as misfit.
    """
    for step in (1.0, 1 / 60):
        scaled = x / step
        if np.all(np.abs(scaled - np.round(scaled)) < 1e-6):
            return step
    return 0.0


def _ks(family: Family, xs: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The KS statistic of each sorted row of ``xs`` against its row of ``theta``."""
    m = xs.shape[1]
    f = family.cdf(xs, theta)
    i = np.arange(1, m + 1)[None, :]
    return np.maximum((i / m - f).max(axis=1), (f - (i - 1) / m).max(axis=1))


def _ks_test(family: Family, y: np.ndarray, rng: np.random.Generator, step: float) -> tuple[float, float]:
    """KS statistic and its parametric-bootstrap p-value (parameters refitted on every sample)."""
    theta = family.fit(y[None, :])
    d = float(_ks(family, np.sort(y)[None, :], theta)[0])
    sims = family.sample(rng, np.repeat(theta, BOOTSTRAP, axis=0), (BOOTSTRAP, len(y)))
    if step > 0:
        sims = np.round(sims / step) * step
        if family.needs_positive:
            sims = np.maximum(sims, step)  # the data had no zeros, or the family would not be tried
    with np.errstate(all="ignore"):
        d_sims = _ks(family, np.sort(sims, axis=1), family.fit(sims))
    return d, float((1 + np.sum(d_sims >= d)) / (BOOTSTRAP + 1))


def _rng(seed: int, label: str) -> np.random.Generator:
    """A generator named by what it serves, so results do not depend on the order stages are fitted."""
    return np.random.default_rng([seed, zlib.crc32(label.encode())])


def fit_times(times: np.ndarray, label: str, seed: int) -> Choice:
    """Fit every family to ``times`` (minutes) and choose one; ``label`` names the random streams."""
    x = np.asarray(times, dtype=float)
    n = len(x)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else 0.0
    cv = sd / mean if mean > 0 else 0.0
    if n >= 2 and cv < CONSTANT_CV:
        half = float(stats.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
        why = f"constant: the times hardly vary (cv {cv:.3g} < {CONSTANT_CV:g}), so no family is fitted"
        return Choice(n, mean, cv, {"dist": "constant", "value": mean}, {"value": (mean - half, mean + half)}, why)
    if n < MIN_FIT:
        few = f"empirical: only {n} time{'s' if n != 1 else ''}, too few to fit (fewer than {MIN_FIT})"
        return Choice(n, mean, cv, _empirical(x), {}, few)
    step = resolution_of(x)
    pick = _rng(seed, f"{label}/ks-subset")
    y = x if n <= KS_MAX else x[pick.choice(n, KS_MAX, replace=False)]
    fits: list[Fit] = []
    skipped: dict[str, str] = {}
    for family in FAMILIES:
        if family.needs_positive and np.any(x <= 0):
            skipped[family.name] = f"needs every time > 0 ({int(np.sum(x <= 0))} are 0)"
            continue
        theta = family.fit(x[None, :])
        loglik = float(family.logpdf(x[None, :], theta).sum())
        d, p = _ks_test(family, y, _rng(seed, f"{label}/{family.name}/ks"), step)
        params = family.params(theta[0])
        intervals = family.intervals(x, theta[0], _rng(seed, f"{label}/{family.name}/ci"))
        fits.append(Fit(family.name, params, intervals, family.n_params, loglik, d, p))
    dist, intervals, why = _choose(fits, x)
    return Choice(n, mean, cv, dist, intervals, why, fits, skipped, len(y), step)


def _choose(fits: list[Fit], x: np.ndarray) -> tuple[dict[str, Any], dict[str, tuple[float, float]], str]:
    """The rule of the module's docstring, and the sentence that explains it."""
    passing = [f for f in fits if f.passes and np.isfinite(f.aic)]
    if not passing:
        best = max(fits, key=lambda f: f.ks_p, default=None)
        closest = f"; the closest is {best.family}, KS p = {best.ks_p:.3f}" if best else ""
        return (
            _empirical(x),
            {},
            f"empirical: no family passes KS at {KS_LEVEL:.0%}{closest}; the observed times are written as they are",
        )
    lowest = min(passing, key=lambda f: f.aic)
    near = [f for f in passing if f.aic <= lowest.aic + 2]
    chosen = min(near, key=lambda f: (f.n_params, f.aic))
    of = f"{len(passing)} famil{'y' if len(passing) == 1 else 'ies'} passing KS at {KS_LEVEL:.0%}"
    if chosen is lowest:
        why = f"{chosen.family}: lowest AIC ({chosen.aic:.1f}) of the {of}"
    else:
        why = (
            f"{chosen.family}: within 2 AIC of {lowest.family} (the lowest, {lowest.aic:.1f}) of the {of}, "
            f"with fewer parameters"
        )
    return {"dist": chosen.family, **chosen.params}, chosen.intervals, why


def _empirical(x: np.ndarray) -> dict[str, Any]:
    """The observed times as the format's empirical distribution: distinct values with counts, or quantiles."""
    values, counts = np.unique(x, return_counts=True)
    if len(values) <= MAX_EMPIRICAL:
        if np.all(counts == 1):
            return {"dist": "empirical", "values": [float(v) for v in values]}
        return {"dist": "empirical", "values": [float(v) for v in values], "weights": [int(c) for c in counts]}
    q = np.quantile(x, (np.arange(MAX_EMPIRICAL) + 0.5) / MAX_EMPIRICAL)
    return {"dist": "empirical", "values": [float(v) for v in q]}
