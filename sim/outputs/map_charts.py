"""The map of the crossings along the border, drawn from the results' crossings and a base map."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.charts import _label, _placeholder


def border_map(summary: pd.DataFrame, crossings: pd.DataFrame, countries: tuple[str, str] = ("A", "B")) -> Figure:
    """Crossings placed by coordinates, coloured by mean wait and sized by throughput."""
    rows = summary[(summary["crossing"] != "ALL") & (summary["direction"] == "ALL") & (summary["flow"] == "ALL")]
    located = crossings.dropna(subset=["lat", "lon"]).merge(rows, left_on="id", right_on="crossing", how="left")
    fig, ax = plt.subplots(figsize=(11, 4.6))
    note = ""
    if located.empty:
        _placeholder(ax, "no crossing has coordinates")
    else:
        wait = located["wait_mean_min"]
        size = 20 + 200 * np.sqrt(
            located["throughput_per_day"].fillna(0.0) / max(1.0, located["throughput_per_day"].max())
        )
        markers = {"road": "o", "rail": "s", "river": "^"}
        # a crossing where no traveller completed has no mean wait: drawn grey, not as a wait of 0
        cmap = plt.get_cmap("plasma").with_extremes(bad="lightgrey")
        norm = matplotlib.colors.Normalize(vmin=0, vmax=max(1.0, float(wait.fillna(0.0).max())))
        for mode, marker in markers.items():
            sel = located["mode"] == mode
            if sel.any():
                ax.scatter(
                    located.loc[sel, "lon"],
                    located.loc[sel, "lat"],
                    c=wait[sel],
                    s=size[sel],
                    cmap=cmap,
                    norm=norm,
                    plotnonfinite=True,
                    marker=marker,
                    edgecolors="black",
                    linewidths=0.4,
                    label=mode,
                )
        fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="mean wait, all flows (minutes)")
        if ax.get_legend_handles_labels()[1]:
            ax.legend(frameon=False, fontsize=8, title="mode", loc="lower left")
        if wait.isna().any():
            note = "; grey: no traveller completed"
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    missing = len(crossings) - len(located)
    if missing:
        note += f"; {missing} crossings without coordinates not shown"
    ax.set_title(
        f"Crossings along the border ({_label(countries[0], 20)} / {_label(countries[1], 20)}): "
        f"mean wait and throughput{note}"
    )
    fig.tight_layout()
    return fig
