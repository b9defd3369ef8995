"""A sweep's table as its report reads it: one row per run or per design point, and the bad runs.

``sweep.parquet`` holds a row per run x crossing x direction x flow x KPI. Which inputs
matter is asked of one row of the KPI tables at a time (the whole border, or the row the bad
outcome names), so the report first turns that row into one line per run, with the factor
values beside its KPIs.

Two choices are made here, once:

- sensitivity is fitted to each design point's mean over its replications. The question is
  how the inputs move the expected outcome; fitted run by run, the replications' own noise
  would count as variance the inputs fail to explain, and a low R² would blame the linear
  summary for what is only chance;
- scenario discovery takes every run as a case. A bad outcome is something that happens in a
  run (this week the trucks' 95th-percentile wait passed two hours), so a box's density reads
  as the share of runs that go bad there, a chance a policy modeler can use, and the search
  has replications times more cases than design points to peel from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.kpis import means_with_intervals
from sim.analysis.prim import PrimResult, prim
from sim.analysis.sensitivity import SensitivityResult, standardised_regression

if TYPE_CHECKING:
    from sim.experiments.bad_outcome import BadOutcome

RUN = ["point", "replication"]
"""The columns that name one run of a sweep."""

Row = tuple[str, str, str]

DENSITY_THRESHOLD = 0.8
"""A box PRIM reports must have at least this share of bad runs inside, to read as "usually goes
bad there"; of those that do, the one with the best balance of coverage and density (their
harmonic mean) is reported, so a sharp edge a few peels further on is not stopped short of."""


def factor_values(table: pd.DataFrame, factors: list[str]) -> pd.DataFrame:
    """One line per run: its point, replication and factor values (lists and mappings as text)."""
    runs = table.drop_duplicates(RUN).sort_values(RUN, kind="stable")[RUN + factors].reset_index(drop=True)
    for f in factors:
        if runs[f].dtype == object:
            runs[f] = runs[f].map(lambda v: v if v is None or isinstance(v, (str, int, float, bool)) else str(v))
    return runs


def run_table(table: pd.DataFrame, factors: list[str], row: Row, kpis: list[str]) -> pd.DataFrame:
    """One line per finished run: point, replication, factors, and each KPI on ``row`` (NaN where it has none)."""
    runs = factor_values(table, factors)
    crossing, direction, flow = row
    hit = table[
        (table["crossing"] == crossing)
        & (table["direction"] == direction)
        & (table["flow"] == flow)
        & table["metric"].isin(kpis)
    ]
    wide = hit.drop_duplicates([*RUN, "metric"]).pivot(index=RUN, columns="metric", values="value")
    wide = wide.reindex(columns=kpis).reset_index()
    wide.columns.name = None
    if wide.empty:
        wide = pd.DataFrame(columns=[*RUN, *kpis])
    return runs.merge(wide.astype({k: float for k in kpis}), on=RUN, how="left")


def point_table(runs: pd.DataFrame, factors: list[str], kpis: list[str]) -> pd.DataFrame:
    """One line per design point: factors, runs, and each KPI's mean and 95% half-width over its runs."""
    out = runs.groupby("point", sort=True)[factors].first().reset_index()
    stats = means_with_intervals(runs, ["point"], tuple(kpis)).rename(columns={"replications": "runs"})
    return out.merge(stats, on="point", how="left")


def sensitivity(
    points: pd.DataFrame, factors: list[str], kpis: list[str], bootstrap: int = 1000, seed: int = 0
) -> dict[str, SensitivityResult | str]:
    """Standardised regression of each KPI's point means on the factors, or why it could not be fitted."""
    out: dict[str, SensitivityResult | str] = {}
    for k in kpis:
        try:
            out[k] = standardised_regression(points[factors], points[k].to_numpy(dtype=float), bootstrap, seed)
        except ValueError as err:
            out[k] = str(err)
    return out


@dataclass
class Discovery:
    """Scenario discovery over the runs: the PRIM result, the runs used, and those left out and why."""

    result: PrimResult | None
    cases: int
    bad: int
    left_out: int
    reason: str | None = None


def discover(runs: pd.DataFrame, factors: list[str], bad: BadOutcome) -> Discovery:
    """PRIM over the runs, a run being bad by ``bad``; runs without a value of its KPI are left out (counted)."""
    values = runs[bad.kpi].to_numpy(dtype=float)
    known = ~np.isnan(values)
    if factors:
        known &= runs[factors].notna().all(axis=1).to_numpy()
    left_out = int((~known).sum())
    if not known.any():
        return Discovery(None, 0, 0, left_out, f"no run has a value of {bad.kpi} on the row the bad outcome reads")
    flags = bad.is_bad(values[known])
    X = runs.loc[known, factors].reset_index(drop=True)
    result = prim(X, flags, threshold=DENSITY_THRESHOLD, choose="balance")
    return Discovery(result, int(known.sum()), int(flags.sum()), left_out, result.reason)
