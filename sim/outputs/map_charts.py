"""The map of the crossings along the border, drawn from the results' crossings and a base map.

With a base map (the scenario's ``map_file``, copied into the results as ``map.geojson``) the
crossings sit on the real border between the two countries' outlines; a crossing the
catalogue has no coordinates for is drawn hollow at the approximate place the base map gives
it, so a reader never takes a guess for a surveyed point. Without one, the crossings are drawn
on bare longitude and latitude, as before. Everything is drawn offline.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.outputs.charts import _label, _placeholder
from sim.scenario.basemap import Basemap

MARKERS = {"road": "o", "rail": "s", "river": "^"}
LABELLED = 14
"""Crossings named on the static map (the busiest and the longest waits); the interactive map names all."""
COUNTRY_FILLS = ("#eef2e6", "#f3ece4")


def _wait_rows(summary: pd.DataFrame, crossings: pd.DataFrame) -> pd.DataFrame:
    """Each crossing with coordinates and its whole-crossing row of the summary."""
    rows = summary[(summary["crossing"] != "ALL") & (summary["direction"] == "ALL") & (summary["flow"] == "ALL")]
    located = crossings.dropna(subset=["lat", "lon"]).merge(rows, left_on="id", right_on="crossing", how="left")
    placed = located["placed"] if "placed" in located else pd.Series("given", index=located.index)
    return located.assign(approximate=[isinstance(p, str) and p.startswith("approximate") for p in placed])


def _draw_basemap(ax: plt.Axes, basemap: Basemap) -> None:
    for (name, rings), fill in zip(basemap.countries.items(), COUNTRY_FILLS * 4, strict=False):
        for ring in rings:
            ax.fill(ring[:, 0], ring[:, 1], color=fill, zorder=0, linewidth=0)
        lon, lat = _centroid(max(rings, key=len))
        ax.text(lon, lat, _label(name, 30), color="#8a8a8a", fontsize=13, weight="bold", ha="center", zorder=1)
    for line in basemap.border:
        ax.plot(line[:, 0], line[:, 1], color="#333333", linewidth=1.3, zorder=2)


def _centroid(ring: np.ndarray) -> tuple[float, float]:
    """The area centroid of a ring (the vertex mean drifts toward wherever the outline is detailed)."""
    x, y = ring[:, 0], ring[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    area = cross.sum() / 2
    if abs(area) < 1e-12:
        return float(x.mean()), float(y.mean())
    cx = ((x[:-1] + x[1:]) * cross).sum() / (6 * area)
    cy = ((y[:-1] + y[1:]) * cross).sum() / (6 * area)
    return float(cx), float(cy)


def border_map(
    summary: pd.DataFrame,
    crossings: pd.DataFrame,
    countries: tuple[str, str] = ("A", "B"),
    basemap: Basemap | None = None,
) -> Figure:
    """Crossings on the border, coloured by mean wait and sized by throughput; approximate places hollow."""
    located = _wait_rows(summary, crossings)
    fig, ax = plt.subplots(figsize=(12, 5.6))
    notes = []
    if basemap is not None:
        _draw_basemap(ax, basemap)
        lon0, lat0, lon1, lat1 = basemap.bounds()
        ax.set_xlim(lon0 - 1.5, lon1 + 1.5)
        ax.set_ylim(lat0 - 1.5, lat1 + 1.5)
        ax.set_aspect(1 / np.cos(np.radians((lat0 + lat1) / 2)))
    if located.empty:
        _placeholder(ax, "no crossing has coordinates")
    else:
        wait = located["wait_mean_min"]
        size = 25 + 220 * np.sqrt(
            located["throughput_per_day"].fillna(0.0) / max(1.0, located["throughput_per_day"].max())
        )
        # a crossing where no traveller completed has no mean wait: drawn grey, not as a wait of 0
        cmap = plt.get_cmap("plasma").with_extremes(bad="lightgrey")
        norm = matplotlib.colors.Normalize(vmin=0, vmax=max(1.0, float(wait.fillna(0.0).max())))
        for mode, marker in MARKERS.items():
            for approximate in (False, True):
                sel = (located["mode"] == mode) & (located["approximate"] == approximate)
                if not sel.any():
                    continue
                colours = cmap(norm(wait[sel].to_numpy(dtype=float)))
                ax.scatter(
                    located.loc[sel, "lon"],
                    located.loc[sel, "lat"],
                    s=size[sel],
                    marker=marker,
                    facecolors="none" if approximate else colours,
                    edgecolors=colours if approximate else "black",
                    linewidths=1.6 if approximate else 0.4,
                    zorder=3,
                )
        fig.colorbar(
            matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap),
            ax=ax,
            label="mean wait, all flows (minutes)",
            shrink=0.8,
        )
        _name_some(ax, located)
        handles = [
            Line2D([], [], marker=m, linestyle="", markerfacecolor="#999", markeredgecolor="black", label=mode)
            for mode, m in MARKERS.items()
            if (located["mode"] == mode).any()
        ]
        if located["approximate"].any():
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markerfacecolor="none",
                    markeredgecolor="#555",
                    label="approximate place",
                )
            )
        ax.legend(handles=handles, frameon=False, fontsize=8, loc="lower right", title="mode")
        if wait.isna().any():
            notes.append("grey: no traveller completed")
    ax.set_xlabel("longitude (degrees east)")
    ax.set_ylabel("latitude (degrees north)")
    ax.grid(alpha=0.15)
    missing = len(crossings) - len(located)
    if missing:
        notes.append(f"{missing} crossings without coordinates not shown")
    if basemap is not None:
        notes.append("border: Natural Earth")
    ax.set_title(
        f"Crossings on the {_label(countries[0], 20)}–{_label(countries[1], 20)} border: mean wait (colour) and "
        f"throughput (size); hollow: approximate place" + (f"\n{'; '.join(notes)}" if notes else ""),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def _name_some(ax: plt.Axes, located: pd.DataFrame) -> None:
    """Name the busiest crossings and those with the longest waits, so the static map can be read alone."""
    named = located[~located["approximate"]]  # approximate places are mostly unnamed placeholders
    busiest = named.sort_values("throughput_per_day", ascending=False, na_position="last").head(LABELLED // 2)
    slowest = named.sort_values("wait_mean_min", ascending=False, na_position="last").head(LABELLED // 2)
    chosen = pd.concat([busiest, slowest]).drop_duplicates("id")
    for k, row in enumerate(chosen.itertuples(index=False)):
        name = row.name if isinstance(row.name, str) and row.name else row.id
        ax.annotate(
            _label(name, 24),
            (row.lon, row.lat),
            xytext=(6, 8 if k % 2 == 0 else -12),
            textcoords="offset points",
            fontsize=7,
            color="#222222",
            zorder=4,
        )
