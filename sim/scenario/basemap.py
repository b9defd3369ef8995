"""The map under the report's crossings: the Kazakhstan–Russia border, the two countries, approximate places.

The data file (``scenarios/data/kz_ru_map.geojson``, made by ``scenarios/tools/kz_ru_map.py``
from Natural Earth) is a GeoJSON FeatureCollection whose features each say their ``kind``:
``border`` (the land border as lines), ``country`` (an outline, ``name`` in its properties) or
``place`` (an approximate point on the border for a crossing the catalogue has no coordinates
for, ``crossing`` naming it). The report draws it offline, so nothing here fetches anything.

The file is checked as strictly as a user's scenario: a map that is silently wrong (a swapped
lon/lat, a place for no crossing, two places for one) would be drawn without anyone noticing.
Every problem raises ``BasemapError`` naming the file and the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.scenario.reading import MiB, ReadError, read_bytes

MAX_BYTES = 5 * MiB  # the shipped file is about 40 KB; a map 100 times as large is not a basemap
KINDS = ("border", "country", "place")


class BasemapError(ValueError):
    """The basemap file cannot be read or is not what ``kz_ru_map.py`` writes; the message says where."""


@dataclass(frozen=True)
class Place:
    """An approximate point for a crossing without published coordinates, and how it was chosen."""

    lat: float
    lon: float
    how: str


@dataclass(frozen=True, eq=False)
class Basemap:
    """A checked basemap: arrays of (lon, lat) rows, read-only, in GeoJSON's axis order.

    ``eq=False``: fields holding arrays have no single truth value to compare by; compare
    ``to_geojson()`` instead. Country rings are kept clockwise, the orientation d3-geo (under
    Vega-Lite) takes for an outer ring; a counter-clockwise one would be filled as the rest of
    the globe.
    """

    border: tuple[np.ndarray, ...]
    countries: dict[str, tuple[np.ndarray, ...]]
    places: dict[str, Place]
    attribution: str
    source: str

    def bounds(self) -> tuple[float, float, float, float]:
        """(lon_min, lat_min, lon_max, lat_max) of the border, the extent a map of the crossings needs."""
        points = np.vstack(self.border)
        lo, hi = points.min(axis=0), points.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    def to_geojson(self) -> dict[str, Any]:
        """The same content as a GeoJSON FeatureCollection, ready to embed in a Vega-Lite spec."""
        lines = [line.tolist() for line in self.border]
        if len(lines) == 1:
            border = {"type": "LineString", "coordinates": lines[0]}
        else:
            border = {"type": "MultiLineString", "coordinates": lines}
        features = [_feature("border", border)]
        for name, rings in self.countries.items():
            polygons = [[ring.tolist()] for ring in rings]
            if len(polygons) == 1:
                shape = {"type": "Polygon", "coordinates": polygons[0]}
            else:
                shape = {"type": "MultiPolygon", "coordinates": polygons}
            features.append(_feature("country", shape, name=name))
        for crossing, place in self.places.items():
            point = {"type": "Point", "coordinates": [place.lon, place.lat]}
            features.append(_feature("place", point, crossing=crossing, approximate=True, how=place.how))
        return {
            "type": "FeatureCollection",
            "attribution": self.attribution,
            "source": self.source,
            "features": features,
        }


def _feature(kind: str, geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"kind": kind, **properties}, "geometry": geometry}


def read_basemap(path: Path) -> Basemap:
    """Read and check a basemap file; ``BasemapError`` names the file and the field at fault."""
    path = Path(path)
    where = path.name or str(path)
    try:
        data = read_bytes(path, MAX_BYTES)
    except ReadError as exc:
        raise BasemapError(f"{where}: {exc}") from None
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BasemapError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BasemapError(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise BasemapError(f"{where}: not valid JSON (nested too deeply)") from None
    return parse_basemap(doc, where)


def parse_basemap(doc: Any, where: str) -> Basemap:
    """Check an already parsed basemap document (a scenario's ``map``); ``where`` names it in messages."""
    return _Checker(where).basemap(doc)


class _Checker:
    """Walks the document once; each method raises ``BasemapError`` with the JSON path of what is wrong."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, field: str, problem: str) -> BasemapError:
        return BasemapError(f"{self.where}: {field}: {problem}")

    def text(self, value: Any, field: str, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self.fail(field, "expected a string" if empty else "expected a non-empty string")
        return value

    def basemap(self, doc: Any) -> Basemap:
        if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
            raise self.fail("type", 'expected a GeoJSON object with "type": "FeatureCollection"')
        attribution = self.text(doc.get("attribution"), "attribution")
        source = self.text(doc.get("source"), "source")
        features = doc.get("features")
        if not isinstance(features, list):
            raise self.fail("features", "expected a list of features")
        border: list[np.ndarray] = []
        countries: dict[str, list[np.ndarray]] = {}
        places: dict[str, Place] = {}
        for i, item in enumerate(features):
            field = f"features[{i}]"
            if not isinstance(item, dict) or item.get("type") != "Feature":
                raise self.fail(field, 'expected an object with "type": "Feature"')
            props = item.get("properties")
            if not isinstance(props, dict):
                raise self.fail(f"{field}.properties", "expected an object")
            kind = props.get("kind")
            if kind not in KINDS:
                raise self.fail(f"{field}.properties.kind", f"must be one of {', '.join(KINDS)}")
            geometry = item.get("geometry")
            if not isinstance(geometry, dict):
                raise self.fail(f"{field}.geometry", "expected an object")
            gtype, coords = geometry.get("type"), geometry.get("coordinates")
            field += ".geometry"
            if kind == "border":
                if gtype not in ("LineString", "MultiLineString"):
                    raise self.fail(f"{field}.type", "a border must be a LineString or MultiLineString")
                lines = [coords] if gtype == "LineString" else self.items(coords, f"{field}.coordinates")
                prefix = f"{field}.coordinates" + ("" if gtype == "LineString" else "[{}]")
                border += [self.line(line, prefix.format(j), 2) for j, line in enumerate(lines)]
            elif kind == "country":
                name = self.text(props.get("name"), f"features[{i}].properties.name")
                if gtype not in ("Polygon", "MultiPolygon"):
                    raise self.fail(f"{field}.type", "a country must be a Polygon or MultiPolygon")
                polygons = [coords] if gtype == "Polygon" else self.items(coords, f"{field}.coordinates")
                prefix = f"{field}.coordinates" + ("" if gtype == "Polygon" else "[{}]")
                for j, rings in enumerate(polygons):
                    outer = self.items(rings, prefix.format(j))[:1]
                    ring = self.line(outer[0] if outer else None, f"{prefix.format(j)}[0]", 4)
                    if not np.array_equal(ring[0], ring[-1]):
                        raise self.fail(f"{prefix.format(j)}[0]", "a ring must end where it starts")
                    countries.setdefault(name, []).append(ring if _area(ring) <= 0 else ring[::-1].copy())
            else:
                crossing = self.text(props.get("crossing"), f"features[{i}].properties.crossing")
                if crossing in places:
                    raise self.fail(f"features[{i}].properties.crossing", f"{crossing!r} already has a place")
                if gtype != "Point":
                    raise self.fail(f"{field}.type", "a place must be a Point")
                lon, lat = self.position(coords, f"{field}.coordinates")
                how = self.text(props.get("how", ""), f"features[{i}].properties.how", empty=True)
                places[crossing] = Place(lat=lat, lon=lon, how=how)
        if not border:
            raise self.fail("features", 'no feature of kind "border"; a basemap needs the border line')
        for array in [*border, *(ring for rings in countries.values() for ring in rings)]:
            array.setflags(write=False)
        frozen = {name: tuple(rings) for name, rings in countries.items()}
        return Basemap(tuple(border), frozen, places, attribution, source)

    def items(self, value: Any, field: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(field, "expected a list")
        return value

    def line(self, value: Any, field: str, least: int) -> np.ndarray:
        """A list of at least ``least`` positions as an (n, 2) float array."""
        points = self.items(value, field)
        if len(points) < least:
            raise self.fail(field, f"expected at least {least} [lon, lat] positions")
        return np.array([self.position(p, f"{field}[{k}]") for k, p in enumerate(points)], dtype=float)

    def position(self, value: Any, field: str) -> tuple[float, float]:
        """A [lon, lat] pair (an altitude after them is allowed by GeoJSON and ignored), finite and in range."""
        ok = isinstance(value, list) and len(value) in (2, 3)
        if not ok or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value):
            raise self.fail(field, "expected [lon, lat] numbers")
        lon, lat = float(value[0]), float(value[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise self.fail(field, "expected finite numbers")
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            raise self.fail(field, f"[{lon:g}, {lat:g}] is out of range (lon -180..180, lat -90..90; lon comes first)")
        return lon, lat


def _area(ring: np.ndarray) -> float:
    """Shoelace area in square degrees, positive for a counter-clockwise ring."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))
