"""The comparison's own chart: each scenario's differences from the baseline with their intervals.

Kept apart from ``sim.outputs.charts`` (the charts a run and a comparison share) because it
reads ``comparison.csv`` only.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.charts import Palette, _label, _pick, _placeholder

FOREST_METRICS = {
    "time_in_system_mean_min": "time at the border, mean (min)",
    "wait_p95_min": "95th percentile wait (min)",
    "throughput_per_day": "throughput (per day, in the flow's unit)",
}


def forest(
    comparison: pd.DataFrame, colours: Palette | None = None, units: dict[str, str] | None = None
) -> Figure:
    """Border-wide differences from the baseline with their 95% paired intervals, per flow and metric.

    One row per flow (each labelled with its unit, so no axis adds trains to pedestrians) and
    a symmetric-log axis: a scenario hundreds of minutes off stays on the page beside changes
    of a minute, which keep their sign and interval near zero.
    """
    c = comparison[(comparison["crossing"] == "ALL") & (comparison["direction"] == "ALL")]
    c = c[c["flow"] != "ALL"]
    scenarios = list(dict.fromkeys(c["scenario"]))
    colours = _pick(colours, scenarios)
    units = units or {}
    flows = list(dict.fromkeys(c["flow"]))
    heading = "Differences from {}: mean and 95% paired interval, whole border (symmetric log axes)"
    if not scenarios:
        fig, ax = plt.subplots(figsize=(8.4, 3))
        _placeholder(ax, "no whole-border difference in the comparison")
        fig.suptitle(heading.format("the baseline"))
        fig.tight_layout()
        return fig
    fig, axes = plt.subplots(
        1,
        len(FOREST_METRICS),
        figsize=(4.3 * len(FOREST_METRICS), 0.3 * len(flows) * len(scenarios) + 2.2),
        sharey=True,
        squeeze=False,
    )
    labels = [f"{_label(flow.replace('_', ' '))} ({units.get(flow, 'vehicle')}s)" for flow in flows]
    for ax, (metric, title) in zip(axes.flat, FOREST_METRICS.items(), strict=True):
        m = c[c["metric"] == metric]
        for i, name in enumerate(scenarios):
            rows = m[m["scenario"] == name].set_index("flow").reindex(flows)
            y = np.arange(len(flows)) * (len(scenarios) + 1) + i
            diff = rows["diff"].to_numpy(dtype=float)
            lo = diff - rows["diff_ci95_low"].to_numpy(dtype=float)
            hi = rows["diff_ci95_high"].to_numpy(dtype=float) - diff
            ax.errorbar(
                diff,
                y,
                xerr=[np.nan_to_num(lo), np.nan_to_num(hi)],
                fmt="o",
                color=colours[name],
                markersize=4,
                capsize=2,
                label=_label(name),
            )
            # a flow missing in one of the two scenarios, or none completed: no difference to show
            for row in y[np.isnan(diff)]:
                ax.text(0, row, " n/a", va="center", fontsize=7, color=colours[name])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_title(title)
        ax.set_xlabel("difference from baseline (linear within ±1)")
    ax0 = axes.flat[0]
    ax0.set_yticks(np.arange(len(flows)) * (len(scenarios) + 1) + (len(scenarios) - 1) / 2, labels)
    ax0.invert_yaxis()
    ax0.set_ylabel("flow (unit)")
    handles, names = ax0.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=min(3, len(names)), frameon=False)
    fig.suptitle(heading.format(_label(c["baseline"].iloc[0])))
    fig.tight_layout(rect=(0, 0.07 if len(names) <= 3 else 0.12, 1, 0.95))
    return fig
