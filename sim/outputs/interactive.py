"""Interactive charts in the report: Vega-Lite specs, drawn in the page by the libraries it carries.

A report must open anywhere, offline, from a file or an archive: so the specs hold their data
inline (never a URL) and ``scripts()`` puts vega, vega-lite and vega-embed into the page itself
(``sim/outputs/js``, see its README). The static PNG charts stay as the fallback: shown when
scripts are off or a chart fails to draw, and always on paper.

Names in the data are free text from the scenario. A spec sits in the page as a JSON script
whose ``<``, ``>`` and ``&`` are escaped, so no name can end the script or become markup; the
charts draw names as text and vega-embed's tooltip escapes them too.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_hex

from sim.outputs.html import Html, attr, el, fmt, join, script_json

LIBRARIES = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
CONFIG = {"font": FONT, "axis": {"labelFontSize": 11, "titleFontSize": 11}, "legend": {"labelLimit": 220}}
# colours for values the caller gave none: matplotlib's tab10, the static charts' palette
SPARE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
MISSING = "#bdbdbd"
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")

# Hides the static fallback once scripts run, shows it again if a chart fails, and prints it.
_STYLE = """
.vega-chart{max-width:100%;overflow-x:auto}.vega-js .vega-fallback{display:none}
.vega-js .vega-failed .vega-fallback{display:block}.vega-failed .vega-chart{display:none}
@media print{.vega-js .vega-has-fallback .vega-chart{display:none}
.vega-js .vega-has-fallback .vega-fallback{display:block}.vega-bindings{display:none}}
"""

# Draws every spec on the page, wherever this script stands (head or body).
_LOADER = """
(function () {
  "use strict";
  document.documentElement.classList.add("vega-js");
  function fail(figure, chart, error) {
    figure.classList.add("vega-failed");
    if (!figure.querySelector(".vega-fallback")) {
      chart.textContent = "The interactive chart could not be drawn: " + error;
      chart.style.display = "block";
    }
    console.error("chart " + chart.id + " could not be drawn:", error);
  }
  function draw() {
    var specs = document.querySelectorAll('script[type="application/json"][data-vega-chart]');
    Array.prototype.forEach.call(specs, function (el) {
      var chart = document.getElementById(el.getAttribute("data-vega-chart"));
      if (!chart || chart.getAttribute("data-drawn")) return;
      chart.setAttribute("data-drawn", "1");
      var figure = chart.closest("figure") || chart.parentNode;
      try {
        if (typeof vegaEmbed !== "function") throw new Error("the chart libraries did not load");
        // compiled here so that Vega-Lite's notes to the author stay out of the reader's console
        var compiled = vegaLite.compile(JSON.parse(el.textContent), {logger: vega.logger(vega.Error)}).spec;
        vegaEmbed(chart, compiled, {actions: false, renderer: "svg", mode: "vega", logLevel: vega.Error})
          .then(function () { figure.classList.add("vega-drawn"); })
          .catch(function (error) { fail(figure, chart, error); });
      } catch (error) {
        fail(figure, chart, error);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
"""


@functools.cache
def scripts() -> Html:
    """The three libraries and the loader as inline scripts, read once: a page needs them once, in any place."""
    folder = resources.files("sim.outputs").joinpath("js")
    parts = [Html(f"<style>{_STYLE}</style>")]
    for name in LIBRARIES:
        code = folder.joinpath(name).read_text(encoding="utf-8")
        # the HTML parser ends a script at "</script" whatever the JavaScript means by it
        if re.search(r"</script|<!--", code, re.IGNORECASE):
            raise ValueError(f"{name} cannot be inlined: it contains '</script' or '<!--'")
        parts.append(Html(f"<script>{code}</script>"))
    parts.append(Html(f"<script>{_LOADER}</script>"))
    return join(parts)


def _plain(value: Any) -> Any:
    """A value JSON can hold as Vega reads it: NaN, infinities and NaT become null, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):  # one line: Vega's expression parser refuses U+2028 in a string
        return "".join(c if c.isprintable() else " " for c in value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    return None if pd.isna(value) else str(value)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (column name → value) for a spec's inline ``values``."""
    return [_plain(dict(zip(map(str, df.columns), row, strict=True))) for row in df.itertuples(index=False)]


def spec_json(spec: dict) -> str:
    """The spec as JSON safe inside a ``<script>`` (``script_json``), its values made plain for Vega."""
    return script_json(_plain(spec))


def vega_figure(spec: dict, chart_id: str, caption: str, *, fallback: Html | None = None) -> Html:
    """A figure the loader in ``scripts()`` draws ``spec`` into; ``fallback`` shows without scripts and in print."""
    if not _ID.match(chart_id):
        raise ValueError(f"chart id {chart_id!r} must be a letter then letters, digits, '-' or '_'")
    payload = spec_json(spec)
    source = f'<script type="application/json" id="{attr(chart_id)}-spec" data-vega-chart="{attr(chart_id)}">'
    parts = [Html(f'<div class="vega-chart" id="{attr(chart_id)}"></div>')]
    if fallback is not None:
        parts.append(el("div", fallback, class_="vega-fallback"))
    parts += [Html(f"{source}{payload}</script>"), el("figcaption", caption)]
    classes = "vega-figure vega-has-fallback" if fallback is not None else "vega-figure"
    return el("figure", join(parts), class_=classes)


def _colour_scale(values: list[str], colours: dict[str, Any]) -> dict[str, list[str]]:
    """Fixed colours for the values present, in the mapping's order: a name keeps its colour across charts."""
    domain = [name for name in colours if name in values] + [v for v in values if v not in colours]
    used = {to_hex(c) for c in colours.values()}
    spare = iter([c for c in SPARE if c not in used] or SPARE)
    extra = {v: next(spare, MISSING) for v in values if v not in colours}
    return {"domain": domain, "range": [to_hex(colours[v]) if v in colours else extra[v] for v in domain]}


def _rank(d: pd.DataFrame, column: str, order: list[str]) -> dict:
    """Sort ``column`` by a rank field: Vega-Lite writes a sort list into an expression, and names stay data."""
    d[f"{column}_rank"] = d[column].map({v: i for i, v in enumerate(order)})
    return {"field": f"{column}_rank", "op": "min"}


def _f(field: str, kind: str = "nominal", **more: Any) -> dict:
    """An encoding of ``field``, to keep the specs below short."""
    return {"field": field, "type": kind, **more}


def _tips(*fields: str | tuple[str, str]) -> list[dict]:
    """Tooltip entries: a field, or (field, title)."""
    return [{"field": f} if isinstance(f, str) else {"field": f[0], "title": f[1]} for f in fields]


def _message(text: str) -> dict:
    """A chart with nothing to draw says so, instead of showing blank axes."""
    mark = dict(type="text", fontSize=13, color="#555")
    return {"data": {"values": [{"text": text}]}, "mark": mark, "encoding": {"text": _f("text")}, "config": CONFIG}


def forest_spec(rows: pd.DataFrame, colours: dict[str, str]) -> dict:
    """Differences from the baseline with 95% intervals: one panel per metric and unit, since units don't mix.

    ``rows`` has ``scenario, flow, unit, metric_label, diff, low, high``. Each panel has its own
    x axis (a minute and a traveller a day share no scale); a difference that cannot be computed
    (nobody completed in one scenario) is marked "n/a" at zero, as in the static chart.
    """
    if rows.empty:
        return _message("no difference from the baseline to show")
    d = rows.copy()
    d["scenario"], d["flow"] = d["scenario"].astype(str), d["flow"].astype(str)
    labels, units = d["metric_label"].astype(str), d["unit"].fillna("").astype(str)
    d["panel"] = [m if not u or f"({u})" in m else f"{m} ({u})" for m, u in zip(labels, units, strict=True)]
    d["difference"] = [fmt(v, 2) if pd.notna(v) else "n/a" for v in d["diff"]]
    bounds = zip(d["low"], d["high"], strict=True)
    d["interval"] = [f"{fmt(lo, 2)} to {fmt(hi, 2)}" if pd.notna(lo) and pd.notna(hi) else "–" for lo, hi in bounds]
    scale = _colour_scale(list(dict.fromkeys(d["scenario"])), colours)
    sort_flow, sort_scenario = _rank(d, "flow", list(dict.fromkeys(d["flow"]))), _rank(d, "scenario", scale["domain"])
    sort_panel = _rank(d, "panel", list(dict.fromkeys(d["panel"])))
    common = {
        "y": _f("flow", sort=sort_flow, title="flow", axis={"labelLimit": 200}),
        "yOffset": _f("scenario", sort=sort_scenario),
        "color": _f("scenario", scale=scale, legend={"title": "scenario", "orient": "top"}),
        "tooltip": _tips("scenario", "flow", ("panel", "metric"), "difference", ("interval", "95% interval")),
    }
    # a symmetric log axis, as in the static chart: a scenario hours off does not flatten changes of a minute
    x = {"type": "quantitative", "title": "difference from baseline (log beyond ±1)", "scale": {"type": "symlog"}}
    header = dict(labelAngle=0, labelOrient="top", labelAnchor="start", labelFontSize=12, labelFontWeight="bold")
    layers = [
        {"mark": {"type": "rule", "color": "#333"}, "encoding": {"x": {**x, "datum": 0}}},
        {
            "mark": {"type": "rule", "strokeWidth": 2},
            "encoding": common | {"x": {**x, "field": "low"}, "x2": {"field": "high"}},
        },
        {
            "mark": dict(type="point", filled=True, size=55, opacity=1),
            "encoding": common | {"x": {**x, "field": "diff"}},
        },
        {
            "transform": [{"filter": "datum.diff === null"}],
            "mark": {"type": "text", "align": "left", "dx": 4},
            "encoding": common | {"x": {**x, "datum": 0}, "text": {"value": "n/a"}},
        },
    ]
    return {
        "data": {"values": _records(d.drop(columns=["metric_label", "unit"]))},
        "facet": {"row": _f("panel", sort=sort_panel, title=None, header=header | {"labelLimit": 600})},
        "spec": {"width": 560, "height": {"step": 14}, "layer": layers},
        # each panel lists only its own flows (a trains-per-day panel has no cars) on its own axis
        "resolve": {"scale": {"x": "independent", "y": "independent"}, "axis": {"x": "independent"}},
        "config": CONFIG,
    }


def lines_spec(
    rows: pd.DataFrame,
    x: str,
    y: str,
    colour: str,
    colours: dict[str, str],
    facet: str | None,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    *,
    interpolate: str = "linear",
) -> dict:
    """Lines of ``y`` against ``x`` per ``colour``, a panel per ``facet`` value each with its own y scale.

    Hovering shows the nearest point's values. Every row goes into the page, so thin a long
    series (an ECDF of many waits) first; ``interpolate="step-after"`` draws an ECDF as steps.
    """
    if rows.empty:
        return _message("nothing to draw")
    d, x_enc = rows.copy(), _f(x, title=x_title)
    d[colour] = d[colour].astype(str)
    values = d[x]
    if pd.api.types.is_object_dtype(values) and pd.to_datetime(values, errors="coerce").notna().all():
        values = pd.to_datetime(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        d[x] = [v.isoformat() if pd.notna(v) else None for v in values]
        midnight = (values.dropna() == values.dropna().dt.normalize()).all()
        x_enc |= {"type": "temporal", "timeUnit": "utcyearmonthdate" if midnight else "utcyearmonthdatehoursminutes"}
    elif pd.api.types.is_numeric_dtype(values):
        x_enc["type"] = "quantitative"
    else:
        d[x] = values.astype(str)
        x_enc |= {"type": "ordinal", "sort": _rank(d, x, list(dict.fromkeys(d[x])))}
    positive = (pd.to_numeric(d[y], errors="coerce").dropna() > 0).all()
    y_scale = {"type": "log" if positive else "symlog"} if log_y else {"zero": True}
    y_enc = _f(y, "quantitative", title=y_title, axis={"format": "~g" if log_y else ",~r"}, scale=y_scale)
    colour_enc = _f(colour, title=colour, scale=_colour_scale(list(dict.fromkeys(d[colour])), colours))
    tooltip = [_f(colour), *([_f(facet)] if facet else []), x_enc, _f(y, "quantitative", title=y_title, format=",.2f")]
    hover = {"name": "hover", "select": dict(type="point", on="pointerover", nearest=True, clear="pointerout")}
    shown = {"condition": {"param": "hover", "empty": False, "value": 1}, "value": 0}
    layer = [
        {"mark": dict(type="line", interpolate=interpolate, strokeWidth=1.8), "encoding": {"x": x_enc, "y": y_enc}},
        {
            "params": [hover],
            "mark": dict(type="point", filled=True, size=45),
            "encoding": {"x": x_enc, "y": y_enc, "tooltip": tooltip, "opacity": shown},
        },
    ]
    spec: dict[str, Any] = {"encoding": {"color": colour_enc}, "config": CONFIG}
    if facet:
        d[facet] = d[facet].astype(str)
        header = dict(labelFontSize=12, labelFontWeight="bold", labelLimit=400)
        spec |= {
            "facet": _f(facet, title=None, sort=_rank(d, facet, list(dict.fromkeys(d[facet]))), header=header),
            "columns": 2,
            "spec": {"width": 400, "height": 220, "layer": layer, "encoding": spec.pop("encoding")},
            "resolve": {"scale": {"y": "independent"}},
        }
    else:
        spec |= {"width": 820, "height": 300, "layer": layer}
    keep = [x, y, colour, *([facet] if facet else []), *[c for c in d.columns if c.endswith("_rank")]]
    return {"data": {"values": _records(d[list(dict.fromkeys(keep))])}} | spec
