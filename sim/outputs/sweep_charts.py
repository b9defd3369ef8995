"""The sweep report's charts: how much each input matters, and PRIM's peeling trajectory.

Kept apart from ``sim.outputs.charts`` (the charts of a run and a comparison) because they
read the sweep's analysis only. Factor names are the sweep file's dotted paths, often long:
a label keeps their end (``…servers.customs.truck``), where the part that differs is.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.analysis.prim import PrimResult
from sim.analysis.sensitivity import SensitivityResult
from sim.outputs.charts import COLOURS, _label, _placeholder

RAISES, LOWERS = COLOURS[3], COLOURS[0]
"""Bars of inputs that raise the outcome are red, those that lower it blue, in every panel."""


def factor_label(name: str, n: int = 36) -> str:
    """A factor's dotted path as a chart shows it: its end, where paths differ."""
    text = _label(name, 10_000)
    return text if len(text) <= n else "…" + text[-(n - 1) :]


def abs_interval(low: float, high: float) -> tuple[float, float]:
    """The interval of |SRC| that the interval of SRC gives (from 0 when it holds 0)."""
    if low > 0:
        return low, high
    if high < 0:
        return -high, -low
    return 0.0, max(-low, high)


def importance_bars(results: dict[str, SensitivityResult | str], titles: dict[str, str], heading: str) -> Figure:
    """|SRC| of every input per KPI, with its 95% bootstrap interval; colour gives the direction.

    One panel per KPI, inputs in the same order in each (most important overall first), so
    a reader compares one input across outcomes along a line.
    """
    fitted = {k: r for k, r in results.items() if isinstance(r, SensitivityResult) and r.reason is None}
    weight: dict[str, float] = {}
    for r in fitted.values():
        for f, s in zip(r.table["factor"], r.table["src"], strict=True):
            weight[f] = max(weight.get(f, 0.0), 0.0 if np.isnan(s) else abs(s))
    factors = sorted(weight, key=lambda f: -weight[f]) or ["(none)"]
    cols = min(2, len(results))
    rows = -(-len(results) // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(5.2 * cols, 0.38 * len(factors) * rows + 1.6 * rows + 0.6), sharey=True, squeeze=False
    )
    y = np.arange(len(factors))
    for ax, (kpi, r) in zip(axes.flat, results.items(), strict=False):
        ax.set_title(_label(titles.get(kpi, kpi), 60))
        if kpi not in fitted:
            why = r if isinstance(r, str) else r.reason
            _placeholder(ax, "no summary: " + _label(why or "", 50))
            continue
        t = r.table.set_index("factor").reindex(factors)
        src = t["src"].to_numpy(dtype=float)
        bounds = [
            abs_interval(lo, hi) if not np.isnan(lo + hi) else (np.nan, np.nan)
            for lo, hi in zip(t["src_low"], t["src_high"], strict=True)
        ]
        size = np.abs(src)
        lower = np.nan_to_num(size - np.array([b[0] for b in bounds]))
        upper = np.nan_to_num(np.array([b[1] for b in bounds]) - size)
        colours = [RAISES if s > 0 else LOWERS for s in np.nan_to_num(src)]
        ax.barh(y, np.nan_to_num(size), color=colours, alpha=0.85)
        ax.errorbar(
            np.nan_to_num(size),
            y,
            xerr=[np.clip(lower, 0, None), np.clip(upper, 0, None)],
            fmt="none",
            ecolor="black",
            capsize=3,
            linewidth=1,
        )
        for row in y[np.isnan(src)]:
            ax.text(0.01, row, " not varied", va="center", fontsize=8, color="#555555")
        ax.set_xlim(0, max(1.0, float(np.nanmax(np.append(size + upper, 0))) * 1.05))
        ax.set_xlabel(f"|SRC| with 95% interval (R² {r.r2:.2f})")
    for ax in list(axes.flat)[len(results) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_yticks(y, [factor_label(f) for f in factors])
    axes[0, 0].invert_yaxis()  # once: the panels share it; the most important input on top
    handles = [plt.Rectangle((0, 0), 1, 1, color=RAISES), plt.Rectangle((0, 0), 1, 1, color=LOWERS)]
    fig.legend(handles, ["raises the outcome", "lowers it"], loc="lower center", ncol=2, frameon=False)
    fig.suptitle(_label(heading, 110))
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


def prim_trajectory(result: PrimResult, heading: str) -> Figure:
    """Coverage against density of every box PRIM peeled, the box it chose marked.

    The trade-off a reader picks from: boxes to the right hold more of the bad runs, boxes
    higher up hold fewer good ones.
    """
    fig, ax = plt.subplots(figsize=(7.4, 5.0))
    t = result.trajectory
    most = max(1, int(t["restricted"].max()))
    colours = plt.get_cmap("viridis", most + 1)
    points = ax.scatter(
        t["coverage"], t["density"], c=t["restricted"], cmap=colours, vmin=-0.5, vmax=most + 0.5, s=28, zorder=3
    )
    fig.colorbar(points, ax=ax, label="inputs restricted", ticks=range(most + 1))
    if 0 <= result.chosen < len(t):
        c = t.iloc[result.chosen]
        ax.scatter(
            [c["coverage"]],
            [c["density"]],
            s=160,
            facecolors="none",
            edgecolors="black",
            linewidths=1.4,
            zorder=4,
            label="box chosen on the trajectory",
        )
        ax.scatter(
            [result.coverage],
            [result.density],
            marker="*",
            s=260,
            color=RAISES,
            zorder=5,
            label="after pasting and pruning (the box reported)",
        )
    ax.axhline(result.base_density, color="#555555", linestyle="--", linewidth=1, label="share of bad runs overall")
    ax.set_xlim(0, 1.04)
    ax.set_ylim(0, 1.04)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("coverage: share of all bad runs inside the box")
    ax.set_ylabel("density: share of the runs inside that are bad")
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title(_label(heading, 90))
    fig.tight_layout()
    return fig
