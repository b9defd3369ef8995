"""Confidence intervals over independent replications: the one Student-t implementation.

Every interval bordersim reports (a KPI's mean over replications, a paired difference
between regimes, a validation check against theory) comes from here, so they all agree on
how NaNs, a single replication and the confidence level are handled.
"""

from __future__ import annotations

import math

import numpy as np

LEVEL = 0.95
"""The confidence level of every interval bordersim reports unless told otherwise."""


def t_quantile(p: float, df: int) -> float:
    """Quantile of Student's t distribution (scipy imported late: only needed at the end)."""
    from scipy.special import stdtrit

    return float(stdtrit(df, p))


def t_interval(values: np.ndarray, level: float = LEVEL, drop_nan: bool = True) -> tuple[float, float, float]:
    """(mean, low, high) of the Student-t interval of the mean; NaN bounds with fewer than 2 values.

    With ``drop_nan`` missing values are left out (a replication where nothing happened in a
    group); without it any NaN makes the bounds NaN (a check must not pass on partial data).
    """
    v = np.asarray(values, dtype=float)
    if drop_nan:
        v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if n < 2 or np.isnan(v).any():
        return mean, math.nan, math.nan
    half = _half_width(v, level)
    return mean, mean - half, mean + half


def ci95_halfwidth(values: np.ndarray) -> float:
    """Half-width of the 95% t-interval of the mean, NaNs left out; NaN with fewer than 2 values."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    return _half_width(v, LEVEL) if len(v) >= 2 else math.nan


def _half_width(v: np.ndarray, level: float) -> float:
    return t_quantile(0.5 + level / 2, len(v) - 1) * float(v.std(ddof=1)) / math.sqrt(len(v))
