"""Naming the best scenario with a guarantee, and correcting many comparisons with one baseline.

Why: ``bordersim compare`` pairs replication r of every scenario (common random numbers, CRN). With
several scenarios against one baseline, some per-scenario "significant" differences are flukes unless
the family of tests is corrected; and "which scenario is best?" needs a procedure that spends
replications only on scenarios still in contention and says how sure its answer is.

What is computed:

* ``paired_p_value``: two-sided paired-t p-value of mean difference 0 (NaN pairs left out; NaN with
  fewer than 2 pairs; with zero variance 0 if the mean is not 0, else 1).
* ``holm``: Holm (1979) step-down adjusted p-values: the m non-NaN p-values sorted ascending, the i-th
  smallest (i = 0, 1, ...) multiplied by m - i, running maximum, capped at 1; NaN stays NaN and is not
  counted in m. ``holm_significant`` rejects where the adjusted value is below alpha (strictly, as a
  95% interval must exclude 0, not touch it), which keeps the family-wise error rate at most alpha
  under any dependence between the tests.
* ``KimNelson`` / ``select_best``: procedure KN of Kim and Nelson (2001), "A fully sequential procedure
  for indifference-zone selection in simulation", ACM TOMACS 11(3), with c = 1. From n0 paired
  replications of all k systems: eta = ((2 alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1) / 2,
  h2 = 2 eta (n0 - 1), and S2_il = sample variance of the n0 differences X_i - X_l. At every stage
  r = n0, n0 + 1, ... system i is eliminated when a system l in contention at the start of the stage
  is better by more than W_il(r) = max(0, delta / (2 r) * (h2 S2_il / delta**2 - r)) (minimising: mean_i
  > mean_l + W_il); then every survivor gets replication r + 1, until one is left. If the observations
  are normal and independent across replications (any dependence across systems within a replication,
  as CRN gives, is allowed) and the best mean is at least delta better than every other, the best is
  named with probability at least 1 - alpha. S2_il is the variance of the *differences*, so CRN
  shrinks it and the procedure stops sooner. Past r = h2 S2_il / delta**2 the allowance W_il is 0, so the
  procedure needs at most ``most_stages`` = max(n0, ceil(h2 max S2_il / delta**2)) stages unless two
  survivors' sample means tie exactly. KN++ (Kim and Nelson 2006), which re-estimates the variances at
  every stage, is left out: its guarantee is only asymptotic (as delta shrinks), while KN's is exact for
  normal data.
* ``better_is_lower``: which way is better for a KPI (waits, times and costs down; throughput up).

Edge cases: k = 1 is trivially best (guarantee holds; eta = h2 = 0). Where W_il = 0 (zero variance of
the differences, or r past h2 S2_il / delta**2) a strictly worse mean is eliminated at once. Two systems
whose first-stage differences have zero variance and which have given exactly the same value in every
replication so far are duplicates (a change that does not touch the KPI's row, under common random
numbers): KN's rule could never separate them, and would run to the cap. The later of the two is
eliminated as ``identical`` to the earlier one. This keeps the guarantee: under KN's normal model a zero
sample variance of the differences means a zero true variance, so the two means are equal and neither
can be the one best by delta; the value the duplicate stood for stays in contention. Exactly equal
sample means of systems that are not duplicates eliminate neither, until ``max_replications`` (no
guarantee). A non-finite observation raises ValueError.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import stdtr

ENDINGS = ("single system", "one survivor", "cap")
"""How a selection ended; only the first two carry the probability guarantee."""

LOWER_IS_BETTER = ("wait", "time", "delay", "cost", "co2", "pm25", "fuel", "emission", "hours")
"""Words of KPIs a border wants down: waits, times, delay and what it costs, in money or emissions."""
HIGHER_IS_BETTER = ("throughput", "persons_per_day", "wagons_per_day")
"""Words of KPIs a border wants up: travellers, persons and wagons let through per day."""


def better_is_lower(metric: str) -> bool:
    """Whether a lower value of ``metric`` is better; ValueError where the direction is not known.

    Decided by words in the KPI's name, costs before counts: a "delay_hours_per_day" is a cost to
    minimise even though it is counted per day. A KPI matching neither list is refused rather than
    guessed, since naming the worst scenario best would be worse than no answer.
    """
    name = metric.lower()
    if any(word in name for word in LOWER_IS_BETTER):
        return True
    if any(word in name for word in HIGHER_IS_BETTER):
        return False
    raise ValueError(f"it is not known whether a higher or a lower {metric} is better")


def paired_p_value(diffs: np.ndarray) -> float:
    """Two-sided paired-t p-value that the mean of ``diffs`` (other - baseline per replication) is 0."""
    v = np.asarray(diffs, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n < 2:
        return math.nan
    mean = float(v.mean())
    if np.ptp(v) == 0:
        return 0.0 if mean != 0 else 1.0
    t = mean / (float(v.std(ddof=1)) / math.sqrt(n))
    return float(min(1.0, 2.0 * stdtr(n - 1, -abs(t))))


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values, in the input order; NaN kept and not counted."""
    p = np.asarray(p_values, dtype=float).ravel()
    ok = ~np.isnan(p)
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}")
    out = np.full(p.shape, math.nan)
    idx = np.flatnonzero(ok)
    m = len(idx)
    order = idx[np.argsort(p[idx], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def holm_significant(p_values: Sequence[float] | np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Which hypotheses Holm's procedure rejects at family-wise level ``alpha``."""
    return rejected(holm(p_values), alpha)


def rejected(adjusted: Sequence[float] | np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Where adjusted p-values reject at level ``alpha``: p < alpha, NaN never (no test, no claim)."""
    a = np.asarray(adjusted, dtype=float)
    return np.where(np.isnan(a), False, a < alpha)


def kn_constants(k: int, n0: int, alpha: float) -> tuple[float, float]:
    """(eta, h2) of procedure KN with c = 1 for k >= 2 systems and n0 >= 2 first replications."""
    if k < 2 or n0 < 2:
        raise ValueError(f"KN needs k >= 2 systems and n0 >= 2 replications, got k={k}, n0={n0}")
    base = 2.0 * alpha / (k - 1)
    if not 0 < base < 1:
        raise ValueError(f"alpha={alpha} is outside (0, (k - 1) / 2) for k={k}")
    eta = 0.5 * (base ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


@dataclass(frozen=True)
class SystemOutcome:
    """One system's share of a selection.

    Replications it got, its sample mean (metric units) at elimination or at the end, the stage r
    (replications it had) at which it was eliminated and the system that did it (None if never);
    ``identical``: eliminated as an exact duplicate of ``eliminated_by``, not as worse than it.
    """

    index: int
    replications: int
    mean: float
    eliminated_at: int | None
    eliminated_by: int | None
    identical: bool = False


@dataclass(frozen=True)
class Selection:
    """Which system is best, how sure, and what each system cost.

    ``guarantee`` holds only if the procedure ended with one system left (``ended_by``, one of ``ENDINGS``);
    ``stages`` is the last stage r, ``most_stages`` the bound on it known after the first stage,
    ``survivors`` the systems in contention at the end, ``systems`` one per index.
    """

    best: int
    guarantee: bool
    ended_by: str
    pcs: float
    alpha: float
    delta: float
    n0: int
    eta: float
    h2: float
    minimise: bool
    stages: int
    most_stages: int
    total_replications: int
    survivors: tuple[int, ...]
    systems: tuple[SystemOutcome, ...]


class KimNelson:
    """Procedure KN as a state machine driven by the caller.

    Call ``start`` with the first n0 paired replications, then while not ``done`` pass one more
    replication of every system in ``survivors`` to ``add``; finally read ``result()``.
    """

    def __init__(
        self,
        k: int,
        n0: int,
        alpha: float,
        delta: float,
        minimise: bool = True,
        max_replications: int | None = None,
    ) -> None:
        """Check the settings; eta and h2 are fixed here, from k, n0 and alpha alone."""
        if k < 1 or n0 < 2:
            raise ValueError(f"need k >= 1 systems and n0 >= 2 first replications, got k={k}, n0={n0}")
        if not 0 < alpha < 1 or not (math.isfinite(delta) and delta > 0):
            raise ValueError(f"need 0 < alpha < 1 and a finite delta > 0, got alpha={alpha}, delta={delta}")
        if max_replications is not None and max_replications < n0:
            raise ValueError(f"max_replications={max_replications} is below n0={n0}")
        self.k, self.n0, self.alpha, self.delta = k, n0, alpha, delta
        self.minimise, self.max_replications = minimise, max_replications
        self.eta, self.h2 = (0.0, 0.0) if k == 1 else kn_constants(k, n0, alpha)
        self._rows: list[np.ndarray] = []
        self._alive = np.ones(k, dtype=bool)
        self._at: list[int | None] = [None] * k
        self._by: list[int | None] = [None] * k
        self._identical = np.zeros(k, dtype=bool)
        self._means = np.full(k, math.nan)
        self._sums = np.zeros(k)
        self._s2 = np.zeros((k, k))
        self._ended: str | None = None

    @property
    def survivors(self) -> list[int]:
        """Indices of the systems still in contention, ascending."""
        return np.flatnonzero(self._alive).tolist()

    @property
    def replications(self) -> int:
        """Replications given so far to every survivor (the stage r)."""
        return len(self._rows)

    @property
    def most_stages(self) -> int:
        """Stages the procedure can need at most, known once ``start`` has the first-stage variances.

        From r = h2 S2_il / delta**2 on, W_il is 0 and the worse of i and l goes (barring an exact tie).
        """
        worst = float(self._s2.max()) if self.k > 1 else 0.0
        return max(self.n0, math.ceil(self.h2 * worst / self.delta**2))

    @property
    def done(self) -> bool:
        """Whether the procedure has ended (``result`` may be read)."""
        return self._ended is not None

    def start(self, first: np.ndarray) -> None:
        """Take the first n0 replications, an (n0 x k) array whose row r is replication r, and screen."""
        x = np.asarray(first, dtype=float)
        if self._rows:
            raise RuntimeError("start() was already called")
        if x.shape != (self.n0, self.k):
            raise ValueError(f"first must be n0 x k = {self.n0} x {self.k}, got shape {x.shape}")
        for r, row in enumerate(x):
            self._append(row, r)
        if self.k == 1:
            self._ended = "single system"
            return
        d = x[:, :, None] - x[:, None, :]
        self._s2 = d.var(axis=0, ddof=1)
        self._stage()

    def add(self, row: Mapping[int, float] | Sequence[float] | np.ndarray) -> None:
        """Add the next replication of every survivor: {index: value}, or values for survivors (or all k)."""
        if not self._rows or self.done:
            raise RuntimeError("add() needs start() first and is not allowed once done")
        alive = self.survivors
        full = np.full(self.k, math.nan)
        if isinstance(row, Mapping):
            missing = [i for i in alive if i not in row]
            if missing:
                raise ValueError(f"no value for surviving system(s) {missing} in replication {self.replications}")
            full[alive] = [row[i] for i in alive]
        else:
            values = np.asarray(row, dtype=float).ravel()
            if len(values) not in (len(alive), self.k):
                raise ValueError(f"expected {len(alive)} survivor values (or {self.k}), got {len(values)}")
            full[alive] = values if len(values) == len(alive) else values[alive]
        self._append(full, self.replications)
        self._stage()

    def _append(self, row: np.ndarray, r: int) -> None:
        """Store one replication after checking every survivor's value is finite."""
        bad = [i for i in self.survivors if not math.isfinite(row[i])]
        if bad:
            raise ValueError(f"system {bad[0]} has a non-finite observation ({row[bad[0]]}) in replication {r}")
        self._rows.append(np.where(self._alive, row, math.nan))
        self._sums[self._alive] += row[self._alive]

    def _stage(self) -> None:
        """Screening at stage r, then the stopping rules."""
        r = self.replications
        alive = np.flatnonzero(self._alive)
        self._means[alive] = self._sums[alive] / r
        y = self._means[alive] * (-1.0 if self.minimise else 1.0)  # larger is better from here on
        w = np.maximum(0.0, self.delta / (2 * r) * (self.h2 * self._s2[np.ix_(alive, alive)] / self.delta**2 - r))
        margin = (y[None, :] - w) - y[:, None]  # [i, l] > 0: l beats i by more than W_il
        np.fill_diagonal(margin, -np.inf)
        for a in np.flatnonzero((margin > 0).any(axis=1)):
            i = int(alive[a])
            self._alive[i], self._at[i], self._by[i] = False, r, int(alive[int(np.argmax(margin[a]))])
        self._drop_duplicates(r)
        left = np.flatnonzero(self._alive)
        if len(left) == 1:
            self._ended = "one survivor"
        elif self.max_replications is not None and r >= self.max_replications:
            self._ended = "cap"

    def _drop_duplicates(self, r: int) -> None:
        """Eliminate each survivor that has given exactly an earlier survivor's values (see the module's notes)."""
        alive = np.flatnonzero(self._alive)
        if len(alive) < 2:
            return
        x = np.vstack(self._rows)[:, alive]
        for b in range(1, len(alive)):
            for a in range(b):
                i, j = int(alive[a]), int(alive[b])
                if self._alive[i] and self._s2[i, j] == 0 and np.array_equal(x[:, a], x[:, b]):
                    self._alive[j], self._at[j], self._by[j], self._identical[j] = False, r, i, True
                    break

    def result(self) -> Selection:
        """The selection once ``done``: the best survivor by sample mean (lowest index on a tie)."""
        if self._ended is None:
            raise RuntimeError("the procedure has not ended yet")
        alive = self.survivors
        sign = -1.0 if self.minimise else 1.0
        best = max(alive, key=lambda i: (sign * self._means[i], -i))
        n = [self.replications if self._at[i] is None else self._at[i] for i in range(self.k)]
        systems = tuple(
            SystemOutcome(i, n[i], float(self._means[i]), self._at[i], self._by[i], bool(self._identical[i]))
            for i in range(self.k)
        )
        return Selection(
            best=best,
            guarantee=self._ended in ENDINGS[:2],
            ended_by=self._ended,
            pcs=1.0 - self.alpha,
            alpha=self.alpha,
            delta=self.delta,
            n0=self.n0,
            eta=self.eta,
            h2=self.h2,
            minimise=self.minimise,
            stages=self.replications,
            most_stages=self.most_stages,
            total_replications=sum(n),
            survivors=tuple(alive),
            systems=systems,
        )


def select_best(
    sample: Callable[[list[int], int], Mapping[int, float]],
    k: int,
    n0: int,
    alpha: float,
    delta: float,
    minimise: bool = True,
    max_replications: int | None = None,
    first: np.ndarray | None = None,
) -> Selection:
    """Run KN to the end; ``sample(systems, r)`` returns {system: metric of replication r} (r from 0).

    ``first`` (n0 x k, row r = replication r) supplies replications already run; otherwise they are
    asked for one replication at a time for all k systems. Afterwards only survivors are asked for.
    """
    kn = KimNelson(k, n0, alpha, delta, minimise, max_replications)
    if first is None:
        everyone = list(range(k))
        rows = [sample(everyone, r) for r in range(n0)]
        missing = [(r, i) for r, row in enumerate(rows) for i in everyone if i not in row]
        if missing:
            raise ValueError(f"no value for system {missing[0][1]} in replication {missing[0][0]}")
        first = np.array([[row[i] for i in everyone] for row in rows], dtype=float)
    kn.start(first)
    while not kn.done:
        kn.add(sample(kn.survivors, kn.replications))
    return kn.result()
