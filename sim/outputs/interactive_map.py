"""The interactive map of a report: crossings on the border, named on hover, coloured by wait, offline.

The base map's outlines and border line are embedded in the spec as GeoJSON, so the browser
fetches nothing. Split from ``sim.outputs.interactive`` (the embedding and the other charts)
because fitting the projection and placing the country names is most of the work.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from sim.outputs.html import fmt
from sim.outputs.interactive import CONFIG, MISSING, _f, _message, _records, _tips

SHAPES = {"road": "circle", "rail": "square", "river": "triangle-up"}
KINDS = ("country", "border", "place")


def _merc(lat: float) -> float:
    """Mercator's y of a latitude, in radians of the equator."""
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _coords(c: Any) -> list[list[float]]:
    """Every [lon, lat] in a GeoJSON ``coordinates`` array, to find the extent a map must show."""
    if isinstance(c, list | tuple) and len(c) >= 2 and all(isinstance(v, numbers.Real) for v in c[:2]):
        return [[float(c[0]), float(c[1])]]
    return [p for part in c for p in _coords(part)] if isinstance(c, list | tuple) else []


def _polygons(geometry: dict) -> list[list]:
    """The polygons (lists of rings) of a Polygon or MultiPolygon; none for other geometries."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    return [coords] if kind == "Polygon" else list(coords) if kind == "MultiPolygon" else []


def _d3_wound(geometry: dict) -> dict:
    """A polygon wound as d3-geo reads it (outer rings clockwise), whatever the GeoJSON's order.

    RFC 7946 winds outer rings anticlockwise; d3-geo takes such a ring as the whole globe
    except the polygon, which would paint the map over. Planar areas are enough for a country.
    """

    def wound(ring: list, outer: bool) -> list:
        xy = np.asarray(ring, dtype=float)[:, :2]
        anticlockwise = np.sum(xy[:, 0] * np.roll(xy[:, 1], -1) - np.roll(xy[:, 0], -1) * xy[:, 1]) > 0
        return list(ring)[::-1] if anticlockwise == outer else list(ring)

    polygons = [[wound(ring, i == 0) for i, ring in enumerate(polygon)] for polygon in _polygons(geometry)]
    if not polygons:
        return geometry
    return geometry | {"coordinates": polygons[0] if geometry["type"] == "Polygon" else polygons}


def _label_point(geometry: dict, lon: np.ndarray, lat: np.ndarray) -> tuple[float, float] | None:
    """Where a country's name goes: the grid point deepest inside it, away from its outline and the map's edges."""
    rings = [np.asarray(r, dtype=float)[:, :2] for p in _polygons(geometry) for r in p if len(r) > 2]
    if not rings:
        return None
    x0, y0 = np.concatenate([r[:, 0] for r in rings]), np.concatenate([r[:, 1] for r in rings])
    x1, y1 = (
        np.concatenate([np.roll(r[:, 0], -1) for r in rings]),
        np.concatenate([np.roll(r[:, 1], -1) for r in rings]),
    )
    inside = np.zeros(lon.shape, dtype=bool)
    for row in np.unique(lat):  # even-odd ray casting along each row of the grid, holes included
        at, edge = lat == row, (y0 > row) != (y1 > row)
        cut = x0[edge] + (row - y0[edge]) * (x1[edge] - x0[edge]) / (y1[edge] - y0[edge])
        inside[at] = (lon[at][:, None] < cut).sum(axis=1) % 2 == 1
    if not inside.any():
        return None
    x, y = lon * math.cos(math.radians(float(lat.mean()))), lat
    depth = np.minimum.reduce([x - x.min(), x.max() - x, y - y.min(), y.max() - y])
    if (~inside).any():
        gap = np.hypot(x[inside][:, None] - x[~inside], y[inside][:, None] - y[~inside]).min(axis=1)
        depth[inside] = np.minimum(depth[inside], gap)
    best = np.argmax(np.where(inside, depth, -1.0))
    return float(lon[best]), float(lat[best])


def _geo(mark: dict, encoding: dict | None = None, **layer: Any) -> dict:
    """A layer placed by its ``lon`` and ``lat`` fields, clipped to the map."""
    where = {"longitude": _f("lon", "quantitative"), "latitude": _f("lat", "quantitative")}
    return layer | {"mark": mark | {"clip": True}, "encoding": where | (encoding or {})}


def _extent(points: list[list[float]]) -> tuple[float, float, float, float]:
    """(lon0, lon1, lat0, lat1) around ``points``, with a margin so that nothing sits on the frame."""
    (lon0, lat0), (lon1, lat1) = np.min(points, axis=0), np.max(points, axis=0)
    pad_x, pad_y = max(0.6, 0.06 * (lon1 - lon0)), max(0.6, 0.1 * (lat1 - lat0))
    return lon0 - pad_x, lon1 + pad_x, max(-80.0, lat0 - pad_y), min(80.0, lat1 + pad_y)


def map_spec(crossings: pd.DataFrame, basemap: dict, colour_field: str, colour_title: str) -> dict:
    """The crossings on a map of the countries and their border, drawn from data the page carries.

    No tiles and no URL: ``basemap`` is a GeoJSON FeatureCollection (``properties.kind`` is
    country, border, or place: the approximate point of a crossing that has no coordinates). The
    view is fitted to the border and the crossings, not to whole countries; sliders zoom and move
    it. Points are coloured by ``colour_field`` (grey where it has no value), shaped by mode, sized
    by throughput, and dashed and paler where the place is approximate.
    """
    features = [f for f in basemap.get("features", []) if isinstance(f, dict) and f.get("geometry")]
    kind = {k: [f for f in features if (f.get("properties") or {}).get("kind") == k] for k in KINDS}
    d = crossings.copy()
    d["approximate"] = d["approximate"].astype("boolean").fillna(False).astype(bool)
    spots = {f["properties"].get("crossing"): f["geometry"]["coordinates"] for f in kind["place"]}
    gap = (d["lat"].isna() | d["lon"].isna()) & d["id"].isin([k for k, v in spots.items() if len(v) >= 2])
    for i, column in enumerate(["lon", "lat"]):  # the basemap's approximate point for a crossing without one
        d.loc[gap, column] = [float(spots[k][i]) for k in d.loc[gap, "id"]]
    d.loc[gap, "approximate"] = True
    d = d.dropna(subset=["lat", "lon"])
    pts = [[lo, la] for lo, la in zip(d["lon"], d["lat"], strict=True)]
    pts += [p for f in kind["border"] or features for p in _coords(f["geometry"].get("coordinates"))]
    if not pts:
        return _message("no crossing has coordinates")
    lon0, lon1, lat0, lat1 = _extent(pts)
    # Mercator fitted here, not by Vega, so that the sliders can scale and move it
    dx, dy, width = math.radians(lon1 - lon0), _merc(lat1) - _merc(lat0), 900
    height = int(min(560, max(260, width * dy / dx)))
    mid_lat = math.degrees(2 * math.atan(math.exp((_merc(lat0) + _merc(lat1)) / 2)) - math.pi / 2)
    fills = ["#f2efe4", "#e4ecf2", "#eef2e4", "#f2e4ec"]
    countries = [
        f | {"geometry": _d3_wound(f["geometry"]), "properties": f["properties"] | {"fill": fills[i % 4]}}
        for i, f in enumerate(kind["country"])
    ]
    gx, gy = (g.ravel() for g in np.meshgrid(np.linspace(lon0, lon1, 60), np.linspace(lat0, lat1, 30)))
    names = [
        {"name": f["properties"]["name"], "lon": at[0], "lat": at[1]}
        for f in kind["country"]
        if f["properties"].get("name") and (at := _label_point(f["geometry"], gx, gy))
    ]

    value = pd.to_numeric(d[colour_field], errors="coerce")
    d["has_value"], d["size_by"] = value.notna(), pd.to_numeric(d["throughput_per_day"], errors="coerce").fillna(0.0)
    d["place"] = np.where(d["approximate"], "approximate place", "as listed")
    d["mean_wait"] = [fmt(v, 1) if pd.notna(v) else "none completed" for v in d["wait_mean_min"]]
    d["throughput"], d["colour_text"] = [fmt(v, 1) for v in d["throughput_per_day"]], [fmt(v, 2) for v in value]
    d = d.sort_values("size_by", ascending=False, kind="stable")  # small points drawn over large ones
    modes = list(dict.fromkeys(d["mode"].astype(str)))
    shapes = [SHAPES.get(m, s) for m, s in zip(modes, ["diamond", "cross", "triangle-down", "wedge"] * 4, strict=False)]
    tips = ["name", "id", "mode", ("mean_wait", "mean wait (min)"), ("throughput", "throughput per day")]
    tips += [("colour_text", colour_title)] if colour_field != "wait_mean_min" else []
    placed = {"field": "place", "type": "ordinal", "title": "coordinates"}
    places = ["as listed", "approximate place"]
    encoding = {
        "shape": _f("mode", scale={"domain": modes, "range": shapes}),
        "size": _f("size_by", "quantitative", title="throughput per day", scale={"range": [30, 520], "zero": True}),
        "strokeDash": placed | {"scale": {"domain": places, "range": [[1, 0], [2, 2]]}},
        "fillOpacity": placed | {"legend": None, "scale": {"domain": places, "range": [0.95, 0.45]}},
        "tooltip": _tips(*tips, ("place", "coordinates")),
    }
    point = dict(type="point", filled=True, stroke="#222", strokeWidth=1)
    colour = _f(colour_field, "quantitative", title=colour_title, scale={"scheme": "plasma", "zero": True})
    notes = ["grey: no value"] if (~d["has_value"]).any() else []
    notes += [f"{len(crossings) - len(d)} crossings without coordinates not shown"] if len(d) < len(crossings) else []
    keep = ["id", "name", "lat", "lon", "mode", "place", "mean_wait", "throughput", "colour_text", "size_by"]
    keep = list(dict.fromkeys([*keep, "has_value", colour_field]))
    # a layer of grey points for the crossings with no value, one coloured by it for the others; none empty
    pairs = [({"value": MISSING}, "!datum.has_value", ~d["has_value"]), (colour, "datum.has_value", d["has_value"])]
    points = [_geo(point, encoding | {"color": c}, transform=[{"filter": f}]) for c, f, rows in pairs if rows.any()]
    title = dict(text="; ".join(notes), fontSize=11, fontWeight="normal", anchor="start")
    sliders = [("map_zoom", 1, 1, 8, "zoom "), ("map_lon", (lon0 + lon1) / 2, lon0, lon1, "centre longitude ")]
    sliders += [("map_lat", mid_lat, lat0, lat1, "centre latitude ")]
    return ({"title": title} if notes else {}) | {
        "width": width,
        "height": height,
        "params": [
            {
                "name": n,
                "value": round(v, 1),
                "bind": dict(input="range", step=0.1, min=round(lo, 1), max=round(hi, 1), name=label),
            }
            for n, v, lo, hi, label in sliders
        ],
        "projection": {
            "type": "mercator",
            "scale": {"expr": f"{min(width / dx, height / dy):.3f} * map_zoom"},
            "center": {"expr": "[map_lon, map_lat]"},
            "translate": [width / 2, height / 2],
        },
        "layer": [
            {
                "data": {"values": countries},
                "mark": dict(type="geoshape", stroke="#fff", strokeWidth=0.8, clip=True),
                "encoding": {"fill": _f("properties.fill", scale=None)},
            },
            _geo(
                dict(type="text", fontSize=15, fontWeight="bold", color="#999"),
                {"text": _f("name")},
                data={"values": names},
            ),
            {
                "data": {"values": kind["border"]},
                "mark": dict(type="geoshape", filled=False, stroke="#222", strokeWidth=1.6, clip=True),
            },
            *([{"data": {"values": _records(d[keep])}, "layer": points}] if points else []),
        ],
        "config": CONFIG | {"view": {"stroke": "#ddd", "fill": "#f7fbfd"}},
    }
