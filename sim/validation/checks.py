"""Runs judged against theory: each measure's interval, Little's law at every pool, the verdict.

**The interval.** A replication's statistic (say its mean wait) is one observation; the
replications are independent (each has its own random streams). A check passes when the
theoretical value lies in the 99% Student-t interval of the mean of the replications'
statistics: mean +- t(0.995, R - 1) s / sqrt(R). This is a test at the 1% level, not a
tolerance: about one check in a hundred fails by chance even if the model is exact, so the
overall verdict asks whether the number of failures is more than chance explains (a
binomial tail below 1%). The seeds are fixed (derived from each run's name), so a given
version of the model always gives the same table. A replication's mean wait is skewed to
the right (a rare congested spell weighs heavily), so the t-interval misses below the
theory somewhat more often than its level says; 20 replications keep that excess small.
The interval is ``sim.analysis.intervals.t_interval`` without dropping NaNs: a replication
that measured nothing makes the interval undefined and the check fail.

**Little's law.** For each pool and replication, over the window [warm-up, horizon): L is
the time-average number of travellers in the pool (queue, service and blocked), lambda the
rate of visits ending in the window (in steady state, the arrival rate), and W the mean
time in the pool of those visits. L - lambda W is then a difference of two boundary terms:
the time spent in the window by the visits still open at its end, less the time spent
before the window by the visits that were open at its start. In steady state both have the
same expectation (lambda E[W^2] / 2), so the check is that 0 lies in the 99% interval of
the replications' L - lambda W. Counting visits *entering* the window for lambda instead
adds (change in the number present) x W / T, whose two factors are correlated (a queue that
grew has just served its long waits): a bias of the same order, 1 / T, as the boundary
terms, which the interval would eventually detect. The saturated exit booth of
configuration 2 is not in steady state (its backlog only drains), so there the law is
applied to its booth alone (from service start to leaving).

The experiments themselves are in ``sim.validation.experiments``; route choice, which has no
formula, is compared with a second simulator (Ciw) in ``sim.validation.route_choice``; the
report is written by ``sim.validation.markdown``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.analysis.intervals import t_interval, t_quantile
from sim.validation.experiments import Experiment, experiments
from sim.validation.observations import by_replication, window

if TYPE_CHECKING:
    from sim.experiments.run import RunResult

LEVEL = 0.99
"""Confidence level of every interval (two-sided Student t over replications)."""

FAMILY_ALPHA = 0.01
"""The overall verdict fails when an exact model would fail this many checks (or more) less often than this."""


@dataclass(frozen=True)
class CheckResult:
    """One comparison: the theoretical value, the simulated mean, its interval and the verdict."""

    name: str
    expected: float
    simulated: float
    ci_low: float
    ci_high: float
    passed: bool
    detail: str = ""
    run: str = ""
    replications: int = 0

    def t_statistic(self) -> float:
        """How many standard errors the simulated mean lies from the expected value (NaN if unknown)."""
        half = (self.ci_high - self.ci_low) / 2
        if self.replications < 2 or not half > 0:
            return math.nan
        return (self.simulated - self.expected) / (half / t_quantile(0.5 + LEVEL / 2, self.replications - 1))


def _contains(low: float, high: float, value: float) -> bool:
    """Inside the interval, with room for rounding when the interval has no width (an exact result)."""
    slack = 1e-9 * max(1.0, abs(value))
    return bool(low - slack <= value <= high + slack)


def little(result: RunResult, booth_only: Iterable[str] = ()) -> list[tuple[str, float, float, float, float]]:
    """Little's law at every pool: (pool label, mean lambda W, mean L, interval of L from L - lambda W)."""
    warmup, horizon = window(result)
    span = horizon - warmup
    keys = ["side", "role", "stage", "pool", "secondary"]
    booth_only = set(booth_only)
    rows = []
    for key, pool in result.visits.groupby(keys, observed=True, sort=True):
        side, role, stage, name, secondary = key
        begin_col = "start_min" if stage in booth_only else "enter_min"
        l_vals, lw_vals = [], []
        for v in by_replication(pool, result):
            begin = v[begin_col].to_numpy()
            leave = v["leave_min"].to_numpy()
            present = ~np.isnan(begin)
            begin, leave = begin[present], leave[present]
            stay = np.clip(np.where(np.isnan(leave), horizon, leave), warmup, horizon) - np.clip(begin, warmup, horizon)
            l_vals.append(stay.sum() / span)
            left = ~np.isnan(leave) & (leave >= warmup) & (leave < horizon)
            lam = np.count_nonzero(left) / span
            w = float((leave[left] - begin[left]).mean()) if left.any() else 0.0
            lw_vals.append(lam * w)
        l_arr, lw_arr = np.array(l_vals), np.array(lw_vals)
        d_mean, d_low, d_high = t_interval(l_arr - lw_arr, LEVEL, drop_nan=False)
        label = f"{stage}{' secondary' if secondary else ''} ({role}, side {side}" + (
            ", booth only)" if stage in booth_only else ")"
        )
        if name != "all":
            label += f" [{name}]"
        rows.append((label, float(lw_arr.mean()), float(l_arr.mean()), d_low - d_mean, d_high - d_mean))
    return rows


def run_experiment(exp: Experiment, full: bool, jobs: int = 1) -> list[CheckResult]:
    """Run one experiment and compare each of its measures, then Little's law at each pool."""
    import sim

    size = exp.full if full or exp.fast is None else exp.fast
    data = exp.build(size, exp.seed)
    data["name"] = exp.name.replace(".", "_")
    t0 = time.perf_counter()
    result = sim.run(sim.scenario_from_dict(data), jobs=jobs)
    wall = time.perf_counter() - t0
    run = f"{exp.title}: {size.describe()}, seed {exp.seed}, {len(result.records):,} travellers, {wall:.1f} s"
    out = []
    for m in exp.measures:
        values = m.per_replication(result)
        mean, low, high = t_interval(values, LEVEL, drop_nan=False)
        out.append(
            CheckResult(
                name=f"{exp.title}: {m.name}",
                expected=float(m.expected),
                simulated=mean,
                ci_low=low,
                ci_high=high,
                passed=_contains(low, high, m.expected),
                detail=f"{len(values)} replications; relative half-width {_rel(mean, low, high)}",
                run=run,
                replications=len(values),
            )
        )
    for label, lw, big_l, lo, hi in little(result, exp.booth_only):
        low, high = big_l + lo, big_l + hi
        out.append(
            CheckResult(
                name=f"{exp.title}: Little's law at {label}",
                expected=lw,
                simulated=big_l,
                ci_low=low,
                ci_high=high,
                passed=_contains(low, high, lw),
                detail="expected = λW, simulated = L; interval from the replications' L - λW",
                run=run,
                replications=size.replications,
            )
        )
    return out


def _rel(mean: float, low: float, high: float) -> str:
    if not mean or math.isnan(low):
        return "n/a"
    return f"{(high - low) / 2 / abs(mean):.1%}"


def run_checks(full: bool = False, jobs: int = 1, progress: Callable[[str], None] | None = None) -> list[CheckResult]:
    """Run every check (``full``) or the fast subset, each experiment in turn.

    ``jobs`` runs each experiment's replications in that many processes (same results).
    """
    from sim.validation.route_choice import run_cases  # late: it builds on this module's CheckResult

    out: list[CheckResult] = []
    for exp in experiments(full):
        results = run_experiment(exp, full, jobs)
        out.extend(results)
        if progress is not None:
            failed = sum(not r.passed for r in results)
            progress(f"{exp.title}: {len(results)} checks, {failed} outside their interval ({results[0].run})")
    out.extend(run_cases(full, jobs, progress))  # route choice against Ciw: no formula, a second simulator
    return out


def chance_of_failures(results: list[CheckResult], level: float = LEVEL) -> float:
    """P(at least this many failures) if each check failed independently with probability 1 - level."""
    from scipy import stats

    n = len(results)
    k = sum(not r.passed for r in results)
    return float(stats.binom.sf(k - 1, n, 1 - level)) if k else 1.0


def verdict(results: list[CheckResult]) -> bool:
    """True when the failures (if any) are as few as chance alone explains at the 1% level."""
    return bool(results) and chance_of_failures(results) >= FAMILY_ALPHA


def main(argv: list[str] | None = None) -> int:
    """Run the checks and write the report: ``sim.validation.cli.main``, importable from here as before.

    ``bordersim validate-model`` imports ``main`` from this module; the command line itself
    lives in ``sim.validation.cli`` (imported late, as it imports this module).
    """
    from sim.validation.cli import main as cli_main

    return cli_main(argv)
