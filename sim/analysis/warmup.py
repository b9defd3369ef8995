"""How long a warm-up: the MSER-5 truncation point of the wait series.

MSER (White's marginal standard error rule) picks the truncation d that minimises the
standard error of the mean of what is left, on the series averaged over replications and
grouped in batches of 5. A minimum in the second half of the series means the run does not
settle: the queue is still growing (or the run is too short to tell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BATCH = 5


@dataclass(frozen=True)
class WarmupResult:
    truncation_min: float
    batches: int
    truncated_batches: int
    settles: bool
    bin_min: float
    series: np.ndarray  # mean wait per time bin, averaged over replications


def mser(series: np.ndarray, batch: int = BATCH) -> tuple[int, np.ndarray]:
    """Index of the MSER-optimal truncation (in batches) and the MSER statistic per truncation."""
    y = np.asarray(series, dtype=float)
    y = y[: len(y) // batch * batch].reshape(-1, batch).mean(axis=1)
    m = len(y)
    stats = np.full(m, np.inf)
    for d in range(m - 1):
        rest = y[d:]
        stats[d] = rest.var() * len(rest) / (len(rest) ** 2)
    return int(np.argmin(stats)), stats


def wait_series(records: pd.DataFrame, horizon: float, bin_min: float) -> np.ndarray:
    """Mean wait of the travellers arriving in each time bin, averaged over replications.

    Travellers still inside at the end count with their wait so far, so a growing queue shows.
    """
    r = records
    wait = r["wait_min"].to_numpy(copy=True)
    open_ = np.isnan(r["release_min"].to_numpy())
    wait[open_] = horizon - r["arrival_min"].to_numpy()[open_]
    bins = (r["arrival_min"].to_numpy() // bin_min).astype(int)
    n_bins = int(np.ceil(horizon / bin_min))
    frame = pd.DataFrame({"rep": r["replication"].to_numpy(), "bin": bins, "wait": wait})
    per = frame.groupby(["rep", "bin"])["wait"].mean().unstack("bin").reindex(columns=range(n_bins))
    return per.mean(axis=0, skipna=True).to_numpy()


def mser5(records: pd.DataFrame, horizon: float, bin_min: float = 60.0) -> WarmupResult:
    series = wait_series(records, horizon, bin_min)
    series = pd.Series(series).ffill().fillna(0.0).to_numpy()
    d, _ = mser(series)
    batches = len(series) // BATCH
    settles = d < batches / 2
    return WarmupResult(d * BATCH * bin_min, batches, d, bool(settles), bin_min, series)
