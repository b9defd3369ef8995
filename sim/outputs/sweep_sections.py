"""The sections of a sweep's report: what was swept, which inputs matter, when runs go bad, the points.

Each section takes the analysis already done (``sim.analysis.sweep_tables``) and returns
escaped markup; sentences come from ``sim.outputs.sweep_words`` and charts are drawn through
the page's ``Embed``, so that every chart lands in ``charts/`` like a run report's.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.analysis.sensitivity import SensitivityResult
from sim.analysis.sweep_tables import DENSITY_THRESHOLD, Discovery, Row
from sim.experiments.bad_outcome import BadOutcome
from sim.outputs import sweep_charts
from sim.outputs.html import Html, data_table, el, fmt, join, pm
from sim.outputs.network_sections import Embed
from sim.outputs.sweep_words import (
    coefficient,
    discovery_sentences,
    kpi_words,
    row_words,
    sensitivity_sentences,
    src_interval,
    value,
)

MAX_POINT_ROWS = 200
"""Design points a table shows; the rest are in ``sweep.csv``."""

MAX_LISTED = 12
"""Values of a factorial factor listed before "and n more"."""


def _shown(v: Any) -> str:
    """A factor's value in a table: numbers compact, anything else as text."""
    if isinstance(v, bool) or v is None or (isinstance(v, float) and pd.isna(v)):
        return str(v)
    return value(v) if isinstance(v, int | float) else str(v)


def what_was_swept(spec: dict[str, Any], points: int, finished: int, failed: int, bad: BadOutcome | None) -> Html:
    """The design in a few lines and a table of its factors with their levels or ranges."""
    reps = int(spec.get("replications", 0))
    design = "full factorial"
    if spec.get("design") == "lhs":
        design = f"Latin hypercube ({spec.get('samples')} samples, seed {spec.get('sample_seed')})"
    facts = [
        ("base scenario", spec.get("base", "")),
        ("design", design),
        (
            "runs",
            f"{points} design points x {reps} replications = {points * reps} runs; {finished} finished, "
            f"{failed} failed (see failures.csv)",
        ),
        ("days per run", "the base scenario's" if spec.get("days") is None else f"{spec['days']:g}"),
        ("seed", "the base scenario's" if spec.get("seed") is None else str(spec["seed"])),
        ("KPIs kept", ", ".join(spec.get("kpis", []))),
        ("bad run", bad.text() if bad is not None else "not defined (add bad: to the sweep file, or give --bad)"),
    ]
    kv = el("table", join(el("tr", join([el("th", k), el("td", v)])) for k, v in facts), class_="kv")
    rows = []
    for name, levels in (spec.get("factors") or {}).items():
        listed = ", ".join(_shown(v) for v in levels[:MAX_LISTED])
        more = f" and {len(levels) - MAX_LISTED} more" if len(levels) > MAX_LISTED else ""
        rows.append({"factor": name, "levels or range": listed + more, "values": len(levels)})
    for name, r in (spec.get("ranges") or {}).items():
        kind = "whole numbers " if r.get("integer") else ""
        rows.append(
            {
                "factor": name,
                "levels or range": f"{kind}{_shown(r['low'])} to {_shown(r['high'])}",
                "values": int(spec.get("samples", 0)),
            }
        )
    factors = pd.DataFrame(rows, columns=["factor", "levels or range", "values"]).astype({"values": str})
    return join([kv, data_table(factors, "factors", "Factors: dotted paths into the base scenario")])


def points_table(
    points: pd.DataFrame, factors: list[str], kpis: list[str], extra: dict[str, pd.Series], caption: str, table_id: str
) -> Html:
    """Design points with their factor values and each KPI's mean ± 95% half-width over replications."""
    shown = points.head(MAX_POINT_ROWS)
    out = pd.DataFrame({"point": shown["point"].astype(str)})
    for f in factors:
        out[f] = shown[f].map(_shown)
    out["runs"] = shown["runs"].astype(str)
    for k in kpis:
        out[f"{kpi_words(k)} (mean ± 95%)"] = [pm(m, h) for m, h in zip(shown[k], shown[f"{k}_ci95"], strict=True)]
    for name, counts in extra.items():
        n = counts.reindex(shown["point"]).fillna(0).astype(int).to_numpy()
        out[name] = [f"{c} of {r}" for c, r in zip(n, shown["runs"], strict=True)]
    more = (
        f" (the first {MAX_POINT_ROWS} of {len(points)}; all are in sweep.csv)" if len(points) > MAX_POINT_ROWS else ""
    )
    return el("div", data_table(out, table_id, caption + more), class_="wide")


def src_table(kpi: str, result: SensitivityResult, table_id: str) -> Html:
    """The coefficients of one KPI: SRC with its interval, SRRC, rank."""
    t = result.table
    df = pd.DataFrame(
        {
            "input": t["factor"].astype(str),
            "SRC": t["src"].map(coefficient),
            "95% interval": [src_interval(lo, hi) for lo, hi in zip(t["src_low"], t["src_high"], strict=True)],
            "SRRC (ranks)": t["srrc"].map(coefficient),
            "rank": t["importance_rank"].map(lambda r: "–" if pd.isna(r) else str(int(r))),
        }
    )
    name = kpi_words(kpi)
    caption = (
        f"{name[0].upper()}{name[1:]}: R² = {fmt(result.r2, 2)} (ranks: {fmt(result.r2_rank, 2)}); "
        f"{result.n} design points"
        + (f", {result.n_dropped} without a value left out" if result.n_dropped else "")
        + f"; intervals from {result.bootstrap} bootstrap resamples"
    )
    return data_table(df, table_id, caption)


SENSITIVITY_METHOD = (
    "Each design point's mean over its replications is regressed on the inputs, all standardised: the "
    "standardised regression coefficient (SRC) says by how many standard deviations the outcome moves when an "
    "input moves by one standard deviation of its range in the design, the others fixed; its sign is the "
    "direction. With uncorrelated inputs (a full factorial or a Latin hypercube) SRC² is roughly the share of the "
    "outcome's variance due to that input. R² says how much of the variance the straight-line summary explains; "
    "below 0.7 read the rank version (SRRC), which also catches effects that are monotone but not straight. "
    "Intervals: 95% percentile bootstrap over the design points."
)


def sensitivity_section(
    rows: list[tuple[Row, dict[str, SensitivityResult | str]]], countries: tuple[str, str], embed: Embed
) -> Html:
    """For each row of the KPI tables asked about: the sentences, the |SRC| chart and the tables."""
    parts: list[object] = [el("h2", "Which inputs matter", id="sensitivity"), el("p", SENSITIVITY_METHOD)]
    for i, (row, results) in enumerate(rows):
        where = row_words(row, countries)
        parts.append(el("h3", where[0].upper() + where[1:]))
        parts.append(
            el(
                "ul",
                join(el("li", s) for k, r in results.items() for s in sensitivity_sentences(k, row, r, countries)),
                class_="summary",
            )
        )
        titles = {k: kpi_words(k) for k in results}
        heading = f"How much each input moves the outcome: {where}"
        key = "sensitivity_border" if i == 0 else f"sensitivity_row{i}"
        parts.append(
            embed(
                key,
                sweep_charts.importance_bars(results, titles, heading),
                f"Importance of the inputs, {where}",
                "Bars: |SRC| per input and KPI, red where raising the input raises the outcome, blue where it "
                "lowers it; whiskers: the 95% bootstrap interval of |SRC|.",
            )
        )
        tables = [
            src_table(k, r, f"src-{i}-{k}")
            for k, r in results.items()
            if isinstance(r, SensitivityResult) and r.reason is None
        ]
        if tables:
            parts.append(el("details", join([el("summary", "Coefficients, per KPI"), *tables])))
    return join(parts)


DISCOVERY_METHOD = (
    "Scenario discovery with PRIM (the Patient Rule Induction Method of Friedman and Fisher, 1999, as Bryant and "
    "Lempert use it): every run is a case, bad or not. PRIM peels thin slices off the range of one input at a time, "
    "keeping the peel that leaves the highest share of bad runs, and records each box: its coverage (the share of all "
    "bad runs inside) and its density (the share of the runs inside that are bad). Of the boxes in which at least "
    f"{DENSITY_THRESHOLD:.0%} of the runs are bad, the one with the best balance of coverage and density (their "
    "harmonic mean) is reported, widened where that costs no density and stripped of restrictions that do not "
    "matter. A restriction's quasi-p-value tests whether the bad runs inside would be as many without it."
)


def discovery_section(d: Discovery | None, bad: BadOutcome | None, countries: tuple[str, str], embed: Embed) -> Html:
    """PRIM's box in words, its trajectory chart, its limits and the whole trajectory."""
    parts: list[object] = [el("h2", "When runs go bad", id="discovery"), el("p", DISCOVERY_METHOD)]
    if bad is None or d is None:
        parts.append(
            el(
                "p",
                'No bad outcome is defined: add bad: to the sweep file, e.g. bad: "wait_p95_min > 120 '
                'where direction=a_to_b flow=truck", or give --bad, then run the sweep again (finished '
                "runs are not run again).",
                class_="note",
            )
        )
        return join(parts)
    parts.append(el("ul", join(el("li", s) for s in discovery_sentences(d, bad, countries)), class_="summary"))
    r = d.result
    if r is None or d.reason is not None or r.box.empty:
        return join(parts)
    parts.append(
        embed(
            "prim_trajectory",
            sweep_charts.prim_trajectory(r, "PRIM peeling trajectory"),
            "PRIM peeling trajectory",
            "Each dot is a box on the way from all runs to the densest; the ring marks the box chosen, the star "
            "the box reported after pasting and pruning; dashed: the share of bad runs overall.",
        )
    )
    box = pd.DataFrame(
        {
            "input": r.box["factor"].astype(str),
            "low": [
                ("–" if e else _shown(v)) if k == "numeric" else "–"
                for v, e, k in zip(r.box["low"], r.box["low_at_edge"], r.box["kind"], strict=True)
            ],
            "high": [
                ("–" if e else _shown(v)) if k == "numeric" else "–"
                for v, e, k in zip(r.box["high"], r.box["high_at_edge"], r.box["kind"], strict=True)
            ],
            "levels": [", ".join(map(str, c)) if isinstance(c, tuple) else "–" for c in r.box["categories"]],
            "quasi-p": [f"{p:.2g}" for p in r.box["quasi_p"]],
        }
    )
    parts.append(data_table(box, "prim-box", "The box: limits of the inputs it restricts (– where a side is open)"))
    traj = r.trajectory.assign(
        coverage=r.trajectory["coverage"].map(lambda v: f"{v:.0%}"),
        density=r.trajectory["density"].map(lambda v: f"{v:.0%}"),
        mass=r.trajectory["mass"].map(lambda v: f"{v:.0%}"),
        restricted=r.trajectory["restricted"].astype(str),
        box=r.trajectory["box"].astype(str),
    )
    parts.append(
        el(
            "details",
            join([el("summary", f"The whole trajectory ({len(traj)} boxes)"), data_table(traj, "prim-trajectory")]),
        )
    )
    return join(parts)
