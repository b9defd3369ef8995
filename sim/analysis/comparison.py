"""Paired comparison of scenarios run with common random numbers.

Replication r of every scenario uses the same random streams, so the difference between two
scenarios in replication r is mostly the effect of the change, not noise. The interval
here is the paired-t interval over replications of those differences; ``p_value`` is the
paired-t test of the same differences, and ``p_holm`` corrects it for the several scenarios
compared with one baseline (``holm_across_scenarios``), which ``significant`` then uses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.analysis.intervals import t_interval, t_quantile
from sim.analysis.kpis import KEYS
from sim.analysis.selection import holm, paired_p_value, rejected

FAMILY_LEVEL = 0.05
"""Family-wise error rate of ``significant``: over all scenarios compared with the baseline, per row and metric."""

METRICS = (
    "throughput_per_day",
    "wait_mean_min",
    "wait_p95_min",
    "time_in_system_mean_min",
    "persons_per_day",
    "wagons_per_day",
    "delay_vehicle_hours_per_day",
    "delay_value_per_day",
    "co2_kg_per_day",
)

COMPARISON_COLUMNS = [
    "scenario",
    "baseline",
    *KEYS,
    "metric",
    "replications",
    "baseline_value",
    "value",
    "diff",
    "diff_ci95_low",
    "diff_ci95_high",
    "pct_change",
    "significant",
    "p_value",
    "p_holm",
]


def paired_interval(diffs: np.ndarray) -> tuple[float, float, float]:
    """(mean difference, low, high) of the 95% paired-t interval; NaN bounds with < 2 pairs.

    A pair missing on either side (NaN difference: a group seen in one scenario only) is left out.
    """
    return t_interval(diffs, 0.95, drop_nan=True)


def compare_replications(
    baseline: pd.DataFrame, other: pd.DataFrame, metrics: tuple[str, ...] = METRICS
) -> pd.DataFrame:
    """One row per (crossing, direction, flow, metric): paired differences of ``other`` - ``baseline``.

    Both frames are ``replications.csv`` tables. Groups present in only one scenario get a
    row with the other side's value missing.
    """
    base_name = str(baseline["scenario"].iloc[0])
    name = str(other["scenario"].iloc[0])
    cols = ["replication", *KEYS, *metrics]
    merged = baseline[cols].merge(other[cols], on=["replication", *KEYS], how="outer", suffixes=("_base", "_other"))
    rows = []
    for key, g in merged.groupby(KEYS, sort=False):
        for metric in metrics:
            b = g[f"{metric}_base"].to_numpy(dtype=float)
            o = g[f"{metric}_other"].to_numpy(dtype=float)
            diff, low, high = paired_interval(o - b)
            p = paired_p_value(o - b)
            base_value = float(np.nanmean(b)) if not np.isnan(b).all() else math.nan
            value = float(np.nanmean(o)) if not np.isnan(o).all() else math.nan
            pct = 100.0 * diff / base_value if base_value and not math.isnan(base_value) else math.nan
            rows.append(
                {
                    "scenario": name,
                    "baseline": base_name,
                    **dict(zip(KEYS, key, strict=True)),
                    "metric": metric,
                    "replications": int((~np.isnan(o - b)).sum()),
                    "baseline_value": base_value,
                    "value": value,
                    "diff": diff,
                    "diff_ci95_low": low,
                    "diff_ci95_high": high,
                    "pct_change": pct,
                    "significant": bool(rejected([p], FAMILY_LEVEL)[0]),  # as the interval excluding 0; see Holm
                    "p_value": p,
                    "p_holm": p,
                }
            )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def holm_across_scenarios(table: pd.DataFrame, alpha: float = FAMILY_LEVEL) -> pd.DataFrame:
    """``table`` (every scenario's rows against one baseline) with ``p_holm`` and ``significant`` corrected.

    Holm's adjustment runs over the scenarios that share a row (crossing, direction, flow) and a
    metric: with five regimes against a baseline, one of four "significant" changes at 5% each is
    otherwise a fluke more often than one time in twenty. With a single scenario nothing changes.
    """
    family = table.groupby([*KEYS, "metric"], sort=False, dropna=False)["p_value"]
    adjusted = family.transform(lambda p: pd.Series(holm(p.to_numpy(dtype=float)), index=p.index))
    return table.assign(p_holm=adjusted, significant=rejected(adjusted.to_numpy(dtype=float), alpha))


def mark_overloaded(table: pd.DataFrame, baseline: pd.DataFrame | None, other: pd.DataFrame | None) -> pd.DataFrame:
    """``table`` with ``overloaded`` (either side's queue grows without bound) and ``overloaded_in``.

    ``baseline`` and ``other`` are the two runs' overload tables. On such a row a mean over
    finished travellers leaves out the ones still queueing, so a "significant improvement" in
    it may only mean that more of the queue got through; ``overloaded_in`` says on which
    side (``baseline``, ``scenario`` or ``both``), empty when neither.
    """
    from sim.analysis.overload import overloaded_keys

    bad_base = overloaded_keys(baseline) if baseline is not None else set()
    bad_other = overloaded_keys(other) if other is not None else set()
    keys = list(
        zip(table["crossing"].astype(str), table["direction"].astype(str), table["flow"].astype(str), strict=True)
    )
    where = [
        "both"
        if k in bad_base and k in bad_other
        else "baseline"
        if k in bad_base
        else "scenario"
        if k in bad_other
        else ""
        for k in keys
    ]
    return table.assign(overloaded=[bool(w) for w in where], overloaded_in=where)


def unpaired_halfwidth(a: np.ndarray, b: np.ndarray) -> float:
    """Half-width of the 95% Welch interval for mean(b) - mean(a), ignoring the pairing."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb > 0 else len(a) + len(b) - 2
    return t_quantile(0.975, int(max(1, math.floor(df)))) * se
