"""Scenario discovery: which input ranges of a sweep lead to a bad outcome (PRIM).

A sweep tells a policy modeler, point by point, whether an outcome was acceptable (say, the
truck p95 wait stayed under four hours). The question a report should answer next is *when*
it was not: a short description such as "daily trucks above 1,800 and fewer than 3 customs
booths" that holds most of the bad points and few good ones. The Patient Rule Induction
Method of Friedman and Fisher (1999), used for scenario discovery by Bryant and Lempert
(2010), finds such a box, one limit per input at most:

- peeling: starting from the box that holds every point, try removing ``peel_alpha`` of the
  points inside from the low or the high end of each numeric input (one level at a time for a
  categorical input) and keep the peel that leaves the highest density (share of bad points
  inside; ties: the larger box). Stop when a peel would leave fewer than ``mass_min`` of all
  points, or when no peel raises the density. Every box on the way is kept in the trajectory
  with its coverage (share of all bad points inside), density, mass (share of all points
  inside) and number of restricted inputs: the trade-off between a box that explains most
  bad cases and one that explains them precisely;
- choosing: with ``choose="first"``, the first box on the trajectory with density at least
  ``threshold``; with ``choose="balance"``, of the boxes that reach it, the one with the
  highest harmonic mean of coverage and density (the first dense-enough box often stops
  short of a sharp edge that the next few peels reach at almost no loss of coverage); in
  both, the densest box when none reaches it (``reached_threshold`` says which);
- pasting: widen each limit of that box by ``paste_alpha`` of its points at a time, keeping
  the widening that leaves the highest density as long as the density does not drop;
- pruning: restrictions whose removal does not lower the density are dropped, so the box
  names only inputs that matter;
- quasi-p-values: for each remaining restriction, a one-sided binomial test of the number of
  bad points in the box against the density of the box with that restriction removed. A small
  value says the restriction is unlikely to be an accident of the sample.

Limits are values of the inputs (a numeric box keeps ``low <= x <= high``); a limit at the
data's smallest or largest value restricts nothing on that side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binomtest

MAX_LEVELS = 12
"""Categorical factors with more levels than this are skipped: peeling one at a time would overfit."""

BOX_COLUMNS = ["factor", "kind", "low", "high", "low_at_edge", "high_at_edge", "categories", "quasi_p"]
"""The columns of :attr:`PrimResult.box`, in order."""


@dataclass
class PrimResult:
    """The peeling trajectory and the chosen box (after pasting and pruning).

    ``trajectory`` has one row per peeled box: ``box`` (index), ``coverage``, ``density``,
    ``mass``, ``restricted`` (number of restricted factors) and ``limits`` (readable text);
    ``limits`` holds the same boxes as tables (the columns of ``box`` but ``quasi_p``). ``box``
    describes the chosen box's restricted factors (``low``/``high`` NaN and ``categories`` the
    kept levels for a categorical factor; ``low_at_edge``/``high_at_edge`` True where a numeric
    limit is the data's own). ``chosen`` is the trajectory index the box was pasted from
    (-1 when there was nothing to search). ``reason`` is set when no box was searched.
    """

    trajectory: pd.DataFrame
    box: pd.DataFrame
    coverage: float
    density: float
    mass: float
    reached_threshold: bool
    n_bad: int
    n: int
    base_density: float
    chosen: int
    limits: list[pd.DataFrame] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


Limits = dict[str, tuple[float, float] | frozenset[int]]


def prim(
    X: pd.DataFrame,
    bad: np.ndarray,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    threshold: float = 0.8,
    choose: Literal["first", "balance"] = "first",
) -> PrimResult:
    """Find a box of factor ranges that holds many of the ``bad`` points and few of the others.

    Raises ``ValueError`` on inconsistent input: lengths that differ, missing factor values,
    parameters out of range.
    """
    bad = np.asarray(bad, dtype=bool).ravel()
    if len(bad) != len(X) or len(X) == 0:
        raise ValueError(f"bad has {len(bad)} values for {len(X)} rows of X: they must be the same, and not 0")
    if not (0 < peel_alpha < 1 and 0 <= paste_alpha < 1 and 0 < mass_min <= 1 and 0 < threshold <= 1):
        raise ValueError("need 0 < peel_alpha < 1, 0 <= paste_alpha < 1, 0 < mass_min <= 1 and 0 < threshold <= 1")
    if choose not in ("first", "balance"):
        raise ValueError(f"choose must be 'first' or 'balance', got {choose!r}")
    if X.isna().any().any():
        raise ValueError(f"missing values in factors {[str(c) for c in X.columns[X.isna().any()]]}")
    data = _Data(X, bad)
    n, n_bad = len(bad), int(bad.sum())
    full = data.full()
    reason = None
    if n_bad in (0, n):
        reason = "no point is bad: nothing to discover" if n_bad == 0 else "every point is bad: no range to single out"
    elif not data.levels and not data.numeric:
        reason = "no factor can be used"
    if reason is not None:
        traj = pd.DataFrame([data.row(0, full, np.ones(n, bool))])
        density = n_bad / n
        return PrimResult(
            trajectory=traj,
            box=_empty_box(),
            coverage=1.0 if n_bad else np.nan,
            density=density,
            mass=1.0,
            reached_threshold=density >= threshold,
            n_bad=n_bad,
            n=n,
            base_density=density,
            chosen=-1,
            limits=[data.table(full)],
            skipped=data.skipped,
            reason=reason,
        )

    boxes = [full]
    inside = np.ones(n, bool)
    while True:
        cands = [(lim, mask & inside) for lim, mask in data.peels(boxes[-1], inside, peel_alpha)]
        cands = [(lim, m) for lim, m in cands if m.sum() >= mass_min * n]
        if not cands:
            break
        best_lim, best_mask = cands[_best(cands, bad)]
        if _density(best_mask, bad) <= _density(inside, bad):
            break
        boxes.append(best_lim)
        inside = best_mask
    masks = [data.mask(b) for b in boxes]
    dens = [_density(m, bad) for m in masks]
    chosen = _choose(dens, [Fraction(int(bad[m].sum()), n_bad) for m in masks], threshold, choose)

    box, inside = boxes[chosen], masks[chosen]
    if paste_alpha > 0:
        box, inside = _widen(box, inside, bad, lambda b, m: data.pastes(b, m, paste_alpha))
    # prune restrictions whose removal does not lower the density
    box, inside = _widen(box, inside, bad, lambda b, _m: [data.without(b, f) for f in data.restricted(b)])

    rows = []
    for f in data.restricted(box):
        _, wide = data.without(box, f)
        p0 = float(_density(wide, bad))
        p = binomtest(int(bad[inside].sum()), int(inside.sum()), p0, alternative="greater").pvalue
        rows.append({**data.describe(box, f), "quasi_p": float(p)})
    density = float(_density(inside, bad))
    return PrimResult(
        trajectory=pd.DataFrame([data.row(i, b, m) for i, (b, m) in enumerate(zip(boxes, masks, strict=True))]),
        box=pd.DataFrame(rows, columns=BOX_COLUMNS) if rows else _empty_box(),
        coverage=float(bad[inside].sum() / n_bad),
        density=density,
        mass=float(inside.mean()),
        reached_threshold=bool(density >= threshold),
        n_bad=n_bad,
        n=n,
        base_density=n_bad / n,
        chosen=chosen,
        limits=[data.table(b) for b in boxes],
        skipped=data.skipped,
    )


def _choose(dens: list[Fraction], cover: list[Fraction], threshold: float, how: str) -> int:
    """The trajectory index to paste from (see the module's "choosing"); exact fractions, so ties are ties."""
    dense = [i for i, d in enumerate(dens) if d >= threshold]
    if not dense:
        return max(range(len(dens)), key=dens.__getitem__)
    if how == "first":
        return dense[0]
    return max(dense, key=lambda i: (2 * cover[i] * dens[i] / (cover[i] + dens[i]), -i))


def _density(mask: np.ndarray, bad: np.ndarray) -> Fraction:
    """Share of bad points among those in ``mask``, exact (so ties are ties)."""
    return Fraction(int(bad[mask].sum()), max(int(mask.sum()), 1))


def _best(cands: list[tuple[Limits, np.ndarray]], bad: np.ndarray) -> int:
    """Index of the candidate box with the highest density; ties: the larger, then the first."""
    keys = [(_density(m, bad), int(m.sum()), -i) for i, (_, m) in enumerate(cands)]
    return max(range(len(cands)), key=keys.__getitem__)


def _widen(
    box: Limits,
    inside: np.ndarray,
    bad: np.ndarray,
    moves: Callable[[Limits, np.ndarray], list[tuple[Limits, np.ndarray]]],
) -> tuple[Limits, np.ndarray]:
    """Take the densest of ``moves`` while one keeps the density: pasting and pruning share this rule.

    Both only widen the box, so each step holds more points and the loop ends at the full data.
    """
    while True:
        cands = moves(box, inside)
        if not cands:
            return box, inside
        i = _best(cands, bad)
        if _density(cands[i][1], bad) < _density(inside, bad):
            return box, inside
        box, inside = cands[i]


def _empty_box() -> pd.DataFrame:
    """A box table with no restricted factor."""
    return pd.DataFrame(columns=BOX_COLUMNS)


class _Data:
    """The factors as arrays (categorical ones as level codes), and operations on box limits."""

    def __init__(self, X: pd.DataFrame, bad: np.ndarray) -> None:
        self.bad = bad
        self.numeric: dict[str, np.ndarray] = {}
        self.codes: dict[str, np.ndarray] = {}
        self.levels: dict[str, list[object]] = {}
        self.skipped: dict[str, str] = {}
        for name in X.columns:
            s, key = X[name], str(name)
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                self.numeric[key] = s.to_numpy(dtype=float)
                continue
            levels = sorted(s.unique(), key=str)
            if len(levels) > MAX_LEVELS:
                self.skipped[key] = f"categorical with {len(levels)} levels (at most {MAX_LEVELS} are peeled)"
                continue
            self.levels[key] = levels
            self.codes[key] = s.map({v: i for i, v in enumerate(levels)}).to_numpy(dtype=int)

    def full(self) -> Limits:
        """The box holding every point."""
        box: Limits = {f: (float(v.min()), float(v.max())) for f, v in self.numeric.items()}
        box.update({f: frozenset(range(len(lv))) for f, lv in self.levels.items()})
        return box

    def dim_mask(self, f: str, lim: tuple[float, float] | frozenset[int]) -> np.ndarray:
        """Points within the limits on factor ``f``."""
        if isinstance(lim, frozenset):
            return np.isin(self.codes[f], sorted(lim))
        return (self.numeric[f] >= lim[0]) & (self.numeric[f] <= lim[1])

    def mask(self, box: Limits, skip: str | None = None) -> np.ndarray:
        """Points inside the box (ignoring factor ``skip``)."""
        m = np.ones(len(self.bad), bool)
        for f, lim in box.items():
            if f != skip:
                m &= self.dim_mask(f, lim)
        return m

    def peels(self, box: Limits, inside: np.ndarray, alpha: float) -> list[tuple[Limits, np.ndarray]]:
        """Boxes with ``alpha`` of the points inside removed from one end of one factor (or one level)."""
        out = []
        for f, lim in box.items():
            if isinstance(lim, frozenset):
                out += [({**box, f: lim - {c}}, self.dim_mask(f, lim - {c})) for c in sorted(lim) if len(lim) > 1]
                continue
            s = np.sort(self.numeric[f][inside])
            if s[0] == s[-1]:
                continue
            k = max(1, int(alpha * len(s)))
            low = s[k] if s[k] > s[0] else s[s > s[0]][0]
            high = s[-1 - k] if s[-1 - k] < s[-1] else s[s < s[-1]][-1]
            for new in ((float(low), lim[1]), (lim[0], float(high))):
                out.append(({**box, f: new}, self.dim_mask(f, new)))
        return out

    def pastes(self, box: Limits, inside: np.ndarray, alpha: float) -> list[tuple[Limits, np.ndarray]]:
        """Boxes widened by about ``alpha`` of the points inside on one side of one factor (or one level)."""
        m = max(1, int(alpha * inside.sum()))
        wider: list[tuple[str, tuple[float, float] | frozenset[int]]] = []
        for f, lim in box.items():
            if isinstance(lim, frozenset):
                wider += [(f, lim | {c}) for c in range(len(self.levels[f])) if c not in lim]
                continue
            v, other = self.numeric[f], self.mask(box, skip=f)
            below, above = np.sort(v[other & (v < lim[0])]), np.sort(v[other & (v > lim[1])])
            if len(below):
                wider.append((f, (float(below[-min(m, len(below))]), lim[1])))
            if len(above):
                wider.append((f, (lim[0], float(above[min(m, len(above)) - 1]))))
        return [({**box, f: lim}, self.mask({**box, f: lim})) for f, lim in wider]

    def restricted(self, box: Limits) -> list[str]:
        """Factors whose limits exclude some point of the data."""
        full = self.full()
        return [f for f, lim in box.items() if lim != full[f]]

    def without(self, box: Limits, f: str) -> tuple[Limits, np.ndarray]:
        """The box with the restriction on ``f`` removed, and its points."""
        wide = {**box, f: self.full()[f]}
        return wide, self.mask(wide)

    def describe(self, box: Limits, f: str) -> dict[str, object]:
        """One factor's limits as a row of the box table."""
        lim, full = box[f], self.full()[f]
        if isinstance(lim, frozenset):
            cats = tuple(self.levels[f][c] for c in sorted(lim))
            row = {"kind": "categorical", "low": np.nan, "high": np.nan, "categories": cats}
            return {"factor": f, **row, "low_at_edge": None, "high_at_edge": None}
        return {
            "factor": f, "kind": "numeric", "low": lim[0], "high": lim[1], "categories": None,
            "low_at_edge": lim[0] <= full[0], "high_at_edge": lim[1] >= full[1],
        }  # fmt: skip

    def table(self, box: Limits) -> pd.DataFrame:
        """The restricted limits of a box as a table."""
        rows = [self.describe(box, f) for f in self.restricted(box)]
        return pd.DataFrame(rows, columns=BOX_COLUMNS[:-1])

    def row(self, i: int, box: Limits, mask: np.ndarray) -> dict[str, object]:
        """One trajectory row."""
        n_bad = int(self.bad.sum())
        text = []
        for f in self.restricted(box):
            d = self.describe(box, f)
            if d["kind"] == "categorical":
                text.append(f"{f} in {{{', '.join(map(str, d['categories']))}}}")
            else:
                text.append(f"{d['low']:.6g} <= {f} <= {d['high']:.6g}")
        return {
            "box": i,
            "coverage": float(self.bad[mask].sum() / n_bad) if n_bad else np.nan,
            "density": float(self.bad[mask].mean()),
            "mass": float(mask.mean()),
            "restricted": len(text),
            "limits": "; ".join(text),
        }
