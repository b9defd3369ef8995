"""Which inputs of a sweep matter: standardised regression and rank regression coefficients.

A sweep varies many inputs at once (demand, booth counts, service times ...). A policy
modeler reading its report first wants to know which of them move the outcome (say, the
mean truck p95 wait per design point) and in which direction, before looking at any one of
them in detail. This module answers with one number per input, on a common scale:

- ``src``, the standardised regression coefficient: the slope of an ordinary least-squares
  fit of the standardised outcome on the standardised inputs. A value of 0.5 says that
  moving this input by one standard deviation (of its range in the design) moves the outcome
  by half a standard deviation, the other inputs held fixed. Its sign is the direction;
- ``src_low``, ``src_high``: a 95% percentile bootstrap interval of ``src`` (rows resampled
  with replacement, from a fixed seed, so the same call gives the same interval). An
  interval that holds 0 says the design cannot tell the effect from none;
- ``srrc``, the standardised rank regression coefficient: the same fit on the ranks of the
  inputs and of the outcome. It measures monotone effects that need not be straight lines
  (a wait that explodes as a booth count falls);
- ``r2`` and ``r2_rank``: the share of the outcome's variance the linear and the rank fits
  explain. When ``r2`` is low the ``src`` values summarise little of what happens; when
  ``r2_rank`` is much higher than ``r2`` the effects are monotone but not linear, and
  ``srrc`` is the better guide. When the inputs are uncorrelated (a Latin hypercube or a full
  factorial) the squared ``src`` values sum to about ``r2`` and each is the share of the
  variance due to that input; with correlated inputs that reading does not hold.

Inputs without variation are reported with NaN coefficients and the note "not varied".
Text inputs are used through their category codes when they take exactly two values and are
otherwise skipped (listed in ``skipped`` with the reason). Rows whose outcome or an input is
missing are dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import rankdata

COLUMNS = ["factor", "src", "src_low", "src_high", "srrc", "importance_rank"]
"""The columns of :attr:`SensitivityResult.table`, in order."""

NOT_VARIED = "not varied"
"""The note given to a factor that takes one value over the rows used."""


@dataclass
class SensitivityResult:
    """Standardised (rank) regression coefficients of an outcome on the factors of a design.

    ``table`` has one row per factor used or not varied, sorted by ``|src|`` descending (factors
    without a coefficient last); ``importance_rank`` is 1 for the largest ``|src|``. ``notes``
    maps factors without a coefficient to why ("not varied"); ``skipped`` maps factors left out
    of the fit to why. ``reason`` is set when no coefficient could be computed at all.
    """

    table: pd.DataFrame
    r2: float
    r2_rank: float
    n: int
    n_dropped: int
    bootstrap: int
    seed: int
    notes: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


def standardised_regression(
    X: pd.DataFrame, y: np.ndarray | pd.Series, bootstrap: int = 1000, seed: int = 0
) -> SensitivityResult:
    """Fit standardised y on standardised factors (and on ranks); bootstrap intervals of the SRCs.

    Raises ``ValueError`` when ``y`` and ``X`` differ in length, when ``bootstrap`` is negative,
    or when fewer rows than varied factors + 2 remain (the fit would have no residual degrees
    of freedom to speak of).
    """
    if not isinstance(X, pd.DataFrame):
        raise ValueError("X must be a pandas DataFrame with one column per factor")
    yv = np.asarray(y, dtype=float).ravel()
    if len(yv) != len(X):
        raise ValueError(f"y has {len(yv)} values but X has {len(X)} rows: they must describe the same runs")
    if bootstrap < 0:
        raise ValueError(f"bootstrap must be 0 or more, got {bootstrap}")

    columns, skipped = _numeric_columns(X)
    frame = pd.DataFrame(columns, index=X.index)
    keep = ~np.isnan(yv)
    if len(frame.columns):
        keep &= frame.notna().all(axis=1).to_numpy()
    n_dropped = int((~keep).sum())
    frame, yv = frame[keep], yv[keep]
    n = len(yv)

    notes = {c: NOT_VARIED for c in frame.columns if frame[c].nunique() < 2}
    used = [c for c in frame.columns if c not in notes]
    if n < len(used) + 2:
        raise ValueError(
            f"{n} usable rows for {len(used)} varied factors: a regression needs at least factors + 2 rows "
            f"({len(used) + 2}); run more design points or vary fewer factors"
        )

    def result(table: pd.DataFrame, r2: float, r2_rank: float, reason: str | None) -> SensitivityResult:
        return SensitivityResult(table, r2, r2_rank, n, n_dropped, bootstrap, seed, notes, skipped, reason)

    empty = _table(list(frame.columns), {}, {}, {}, {})
    if not used:
        return result(empty, np.nan, np.nan, "no factor varies over the rows used")
    if np.ptp(yv) == 0:
        return result(empty, np.nan, np.nan, "the outcome takes one value over the rows used: nothing to explain")
    x = frame[used].to_numpy(dtype=float)
    if np.linalg.matrix_rank(_standardise(x)) < len(used):
        return result(empty, np.nan, np.nan, "some factors are exact linear combinations of others (collinear design)")

    src, r2 = _fit(x, yv)
    xr = np.column_stack([rankdata(x[:, j]) for j in range(x.shape[1])])
    srrc, r2_rank = _fit(xr, rankdata(yv))
    low, high = _bootstrap(x, yv, bootstrap, seed)
    table = _table(
        list(frame.columns),
        dict(zip(used, src, strict=True)),
        dict(zip(used, low, strict=True)),
        dict(zip(used, high, strict=True)),
        dict(zip(used, srrc, strict=True)),
    )
    return result(table, r2, r2_rank, None)


def _numeric_columns(X: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Factor columns as floats (two-level text columns as 0/1 codes) and the columns skipped."""
    columns: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}
    for name in X.columns:
        s = X[name]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            columns[str(name)] = s.to_numpy(dtype=float)
            continue
        levels = sorted(s.dropna().astype(str).unique())
        if len(levels) > 2:
            skipped[str(name)] = f"not numeric, with {len(levels)} levels (only two-level text factors are coded)"
            continue
        codes = {level: float(i) for i, level in enumerate(levels)}
        columns[str(name)] = np.array([np.nan if pd.isna(v) else codes[str(v)] for v in s], dtype=float)
    return columns, skipped


def _standardise(a: np.ndarray) -> np.ndarray:
    """Columns (or a vector) centred and divided by their sample standard deviation."""
    return (a - a.mean(axis=0)) / a.std(axis=0, ddof=1)


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares coefficients of standardised y on standardised x, and the fit's R²."""
    zx, zy = _standardise(x), _standardise(y)
    coef, *_ = np.linalg.lstsq(zx, zy, rcond=None)
    resid = zy - zx @ coef
    return coef, float(1.0 - resid @ resid / (zy @ zy))


def _bootstrap(x: np.ndarray, y: np.ndarray, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """2.5% and 97.5% percentiles of the SRCs over bootstrap resamples of the rows (NaN with none).

    A resample in which a factor or the outcome is constant, or the factors are collinear,
    gives no coefficients and is left out.
    """
    k = x.shape[1]
    if draws == 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    rng = np.random.default_rng(seed)
    n = len(y)
    out = np.full((draws, k), np.nan)
    for b in range(draws):
        idx = rng.integers(0, n, n)
        xb, yb = x[idx], y[idx]
        if np.ptp(yb) == 0 or (np.ptp(xb, axis=0) == 0).any():
            continue
        zx = _standardise(xb)
        if np.linalg.matrix_rank(zx) < k:
            continue
        out[b], _ = _fit(xb, yb)
    if np.isnan(out[:, 0]).all():
        return np.full(k, np.nan), np.full(k, np.nan)
    low, high = np.nanpercentile(out, [2.5, 97.5], axis=0)
    return low, high


def _table(
    factors: list[str],
    src: dict[str, float],
    low: dict[str, float],
    high: dict[str, float],
    srrc: dict[str, float],
) -> pd.DataFrame:
    """The result table, sorted by |src| descending, factors without a coefficient last."""
    rows = [
        {
            "factor": f,
            "src": float(src.get(f, np.nan)),
            "src_low": float(low.get(f, np.nan)),
            "src_high": float(high.get(f, np.nan)),
            "srrc": float(srrc.get(f, np.nan)),
        }
        for f in factors
    ]
    table = pd.DataFrame(rows, columns=COLUMNS[:-1])
    order = table["src"].abs().sort_values(ascending=False, na_position="last", kind="stable").index
    table = table.loc[order].reset_index(drop=True)
    rank = pd.Series(pd.NA, index=table.index, dtype="Int64")
    has = table["src"].notna()
    rank[has] = np.arange(1, int(has.sum()) + 1)
    table["importance_rank"] = rank
    return table[COLUMNS]
