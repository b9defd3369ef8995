"""A sweep's findings in sentences: which inputs matter most, and in which ranges runs go bad.

The tables of coefficients and limits are for the analyst; the sentence above each is for
the reader who stops there. It names the input, the direction and the size of its effect
with its interval, says whether the linear summary can be trusted (R²), and gives the box
of input ranges where bad runs concentrate with its coverage and density. Factor names are
the sweep file's own dotted paths: nothing here guesses what they mean.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.analysis.kpis import ALL
from sim.analysis.prim import PrimResult
from sim.analysis.sensitivity import SensitivityResult
from sim.analysis.sweep_tables import DENSITY_THRESHOLD, Discovery, Row
from sim.experiments.bad_outcome import BadOutcome
from sim.outputs.readable import amount, direction_label, kpi_name, plural_flow

ADEQUATE_R2 = 0.7
"""R² from which the linear summary is called adequate: below it, the inputs' effects are far
from straight lines (or interact), and the SRCs leave out much of what happens."""

POOR_R2 = 0.4
"""R² below which the linear summary is said to miss much of the change."""

SIGNIFICANT_P = 0.05
"""Quasi-p-values above this are flagged: the restriction may be an accident of the sample."""


def kpi_words(kpi: str) -> str:
    """A KPI's name in a sentence ("95th-percentile wait")."""
    return kpi_name(kpi)


def row_words(row: Row, countries: tuple[str, str]) -> str:
    """A row of the KPI tables in words: "trucks, Kazakhstan → Russia, over the whole border"."""
    crossing, direction, flow = row
    who = "all travellers" if flow == ALL else plural_flow(flow)
    way = "" if direction == ALL else f", {direction_label(direction, countries)}"
    return f"{who}{way}, " + ("over the whole border" if crossing == ALL else f"at {crossing}")


def bad_words(bad: BadOutcome, countries: tuple[str, str]) -> str:
    """The bad outcome in words: "the 95th-percentile wait of trucks, A → B, over the whole border is above 2.0 h"."""
    side = "above" if bad.above is not None else "below"
    return f"the {kpi_words(bad.kpi)} of {row_words(bad.row, countries)} is {side} {amount(bad.threshold, bad.kpi)}"


def value(v: float) -> str:
    """A factor's value as a limit: whole numbers as such, others to three significant digits."""
    v = float(v)
    if v.is_integer():
        return f"{v:,.0f}"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def coefficient(v: float) -> str:
    """A standardised coefficient, signed, two decimals (a dash when there is none)."""
    return "–" if pd.isna(v) else f"{v:+.2f}"


def src_interval(low: float, high: float) -> str:
    """A coefficient's bootstrap interval ("+0.75 to +0.88")."""
    return "–" if pd.isna(low) or pd.isna(high) else f"{low:+.2f} to {high:+.2f}"


def _holds_zero(low: float, high: float) -> bool:
    return pd.isna(low) or pd.isna(high) or low <= 0 <= high


def sensitivity_sentences(kpi: str, row: Row, result: SensitivityResult | str, countries: tuple[str, str]) -> list[str]:
    """What the coefficients of one KPI say, in a few sentences (or why there are none)."""
    what = f"{kpi_words(kpi)} of {row_words(row, countries)}"
    reason = result if isinstance(result, str) else result.reason
    if reason is not None or isinstance(result, str):
        return [f"No summary for the {what}: {reason}."]
    t = result.table[result.table["src"].notna()]
    top = t.iloc[0]
    if _holds_zero(top["src_low"], top["src_high"]):
        first = (
            f"No input moves the {what} by an amount this design can tell from none (every 95% interval holds 0); "
            f"the largest coefficient is {top['factor']}'s (SRC {coefficient(top['src'])}, 95% interval "
            f"{src_interval(top['src_low'], top['src_high'])})."
        )
    else:
        verb = "explains most of the change in" if top["src"] ** 2 > 0.5 else "matters most for"
        first = (
            f"{top['factor']} {verb} the {what} (SRC {coefficient(top['src'])}, 95% interval "
            f"{src_interval(top['src_low'], top['src_high'])}): raising it {'raises' if top['src'] > 0 else 'lowers'} "
            "the outcome."
        )
    out = [first]
    rest = t.iloc[1:]
    clear = rest[[not _holds_zero(lo, hi) for lo, hi in zip(rest["src_low"], rest["src_high"], strict=True)]]
    if len(clear):
        named = [f"{r.factor} (SRC {coefficient(r.src)})" for r in clear.head(3).itertuples()]
        out.append("Next: " + ", ".join(named) + (f" and {len(clear) - 3} more" if len(clear) > 3 else "") + ".")
    unclear = [
        str(f)
        for f, lo, hi in zip(rest["factor"], rest["src_low"], rest["src_high"], strict=True)
        if _holds_zero(lo, hi)
    ]
    if unclear:
        out.append(f"The design cannot tell the effect of {', '.join(unclear)} from none (their intervals hold 0).")
    out.append(_fit_sentence(result))
    if result.notes or result.skipped:
        left = [f"{f} ({why})" for f, why in {**result.notes, **result.skipped}.items()]
        out.append("Left out: " + "; ".join(left) + ".")
    return out


def _fit_sentence(result: SensitivityResult) -> str:
    """Whether the linear summary can be trusted, and the rank version when it cannot."""
    if result.r2 >= ADEQUATE_R2:
        return f"R² = {result.r2:.2f}, so the linear summary is adequate."
    how = "misses much of the change" if result.r2 < POOR_R2 else "misses part of the change"
    ranked = result.table[result.table["srrc"].notna()]
    if ranked.empty or math.isnan(result.r2_rank):
        return f"R² = {result.r2:.2f}: the linear summary {how}."
    lead = ranked.loc[ranked["srrc"].abs().idxmax()]
    better = ", a better guide here" if result.r2_rank > result.r2 + 0.1 else ""
    return (
        f"R² = {result.r2:.2f}: the linear summary {how}. On ranks, which catch effects that are monotone but not "
        f"straight, R² = {result.r2_rank:.2f}{better}, and {lead['factor']} leads (SRRC {coefficient(lead['srrc'])})."
    )


def limits_words(box: pd.DataFrame) -> str:
    """A box's restrictions joined in words: "a is at least 0.7 and b is at most 5"."""
    parts = []
    for r in box.itertuples():
        if r.kind == "categorical":
            parts.append(f"{r.factor} is one of {', '.join(map(str, r.categories))}")
        elif r.low_at_edge:
            parts.append(f"{r.factor} is at most {value(r.high)}")
        elif r.high_at_edge:
            parts.append(f"{r.factor} is at least {value(r.low)}")
        else:
            parts.append(f"{r.factor} is between {value(r.low)} and {value(r.high)}")
    return " and ".join(parts)


def discovery_sentences(d: Discovery, bad: BadOutcome, countries: tuple[str, str]) -> list[str]:
    """The box PRIM found in words, with its coverage and density; or why there is none."""
    what = bad_words(bad, countries)
    left = f" ({d.left_out} runs without a value of {bad.kpi} on that row are left out)" if d.left_out else ""
    r: PrimResult | None = d.result
    if r is None or d.reason is not None:
        if d.cases and d.bad == 0:
            return [f"No run was bad ({what} in none of {d.cases} runs{left}): there is no range to single out."]
        if d.cases and d.bad == d.cases:
            return [f"Every run was bad ({what} in all {d.cases} runs{left}): no range of these inputs avoids it."]
        return [f"No scenario discovery: {d.reason}{left}."]
    out = [f"Bad runs ({what}): {d.bad} of {d.cases} ({r.base_density:.0%}){left}."]
    if r.box.empty:
        out.append("No range of the inputs holds bad runs more often than the design as a whole.")
        return out
    out.append(
        f"It happens in {r.density:.0%} of runs when {limits_words(r.box)}: this box holds {r.coverage:.0%} of the "
        f"bad runs (its coverage) and {r.mass:.0%} of all runs; {r.density:.0%} of the runs in it are bad (its "
        "density)."
    )
    if not r.reached_threshold:
        out.append(f"No box reached a density of {DENSITY_THRESHOLD:.0%}; this is the densest found.")
    weak = [str(f) for f, p in zip(r.box["factor"], r.box["quasi_p"], strict=True) if p > SIGNIFICANT_P]
    if weak:
        out.append(
            f"The restriction on {', '.join(weak)} has a quasi-p-value above {SIGNIFICANT_P:g}: it may be an "
            "accident of this sample of runs."
        )
    return out
