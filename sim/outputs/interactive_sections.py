"""The interactive charts of a report, built from the same files as the static ones they stand in front of.

On screen a reader hovers a point for its crossing's name, or a difference for its interval;
in print, or with scripts off, the static PNG of the same chart shows instead (it is the
fallback of each interactive figure). Which charts: the comparison's differences (where
panels per unit keep trains and pedestrians apart) and the run's map (where 75 crossings
cannot all be named on paper).
"""

from __future__ import annotations

import pandas as pd
from matplotlib.colors import to_hex

from sim.analysis.kpis import ALL
from sim.outputs.charts import Palette
from sim.outputs.html import Html
from sim.outputs.interactive import forest_spec, vega_figure
from sim.outputs.interactive_map import map_spec
from sim.outputs.readable import UNIT_WORDS, flow_label
from sim.outputs.results import RunFolder

METRICS = {
    "time_in_system_mean_min": ("time at the border, mean", "min"),
    "wait_p95_min": ("95th percentile wait", "min"),
    "throughput_per_day": ("throughput", None),
}
"""The differences shown, with their panel title and unit (None: the flow's own unit per day)."""


def forest_rows(comparison: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """The whole-border differences per flow, one row per scenario x flow x metric, each with its unit."""
    c = comparison[(comparison["crossing"] == ALL) & (comparison["direction"] == ALL) & (comparison["flow"] != ALL)]
    c = c[c["metric"].isin(list(METRICS))]
    unit = [
        METRICS[m][1] or f"{UNIT_WORDS.get(units.get(str(f), 'vehicle'), ('', '?'))[1]} per day"
        for m, f in zip(c["metric"], c["flow"], strict=True)
    ]
    return pd.DataFrame(
        {
            "scenario": c["scenario"].astype(str).to_numpy(),
            "flow": [flow_label(str(f)) for f in c["flow"]],
            "unit": unit,
            "metric_label": [METRICS[m][0] for m in c["metric"]],
            "diff": c["diff"].to_numpy(dtype=float),
            "low": c["diff_ci95_low"].to_numpy(dtype=float),
            "high": c["diff_ci95_high"].to_numpy(dtype=float),
        }
    )


def interactive_forest(comparison: pd.DataFrame, units: dict[str, str], colours: Palette, fallback: Html) -> Html:
    """The differences from the baseline, hoverable, one panel per metric and unit, the static chart behind."""
    spec = forest_spec(forest_rows(comparison, units), {k: to_hex(v) for k, v in colours.items()})
    return vega_figure(
        spec,
        "differences-interactive",
        "Each scenario minus the baseline, whole border, per flow, with the 95% paired interval; hover a point "
        "for its values. Each panel has its own axis: minutes, and each unit per day apart.",
        fallback=fallback,
    )


def interactive_map(r: RunFolder, fallback: Html) -> Html:
    """The crossings on the base map, named on hover and coloured by mean wait (the static map behind)."""
    if r.basemap is None:
        return fallback
    s = r.summary
    rows = s[(s["crossing"] != ALL) & (s["direction"] == ALL) & (s["flow"] == ALL)]
    crossings = r.crossings.merge(
        rows[["crossing", "wait_mean_min", "throughput_per_day"]], left_on="id", right_on="crossing", how="left"
    )
    placed = crossings["placed"] if "placed" in crossings else pd.Series("", index=crossings.index)
    crossings = crossings.assign(approximate=[isinstance(p, str) and p.startswith("approximate") for p in placed])
    spec = map_spec(crossings, r.basemap.to_geojson(), "wait_mean_min", "mean wait (min)")
    return vega_figure(
        spec,
        "map-interactive",
        "Every crossing on the border, coloured by mean wait (all flows) and sized by throughput; hover for its "
        f"name. Dashed and paler: an approximate place (no published coordinates). Base map: {r.basemap.attribution}",
        fallback=fallback,
    )
