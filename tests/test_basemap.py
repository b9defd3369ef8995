from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.scenario import basemap
from sim.scenario.basemap import BasemapError, read_basemap

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "scenarios" / "data" / "kz_ru_map.geojson"
CATALOGUE = ROOT / "scenarios" / "data" / "kz_ru_crossings.csv"

# Where the stretch of each Kazakh region lies, in longitude (generous: Natural Earth Admin 1 extents).
LON_RANGE = {
    "Atyrau": (46.5, 52.0),
    "West Kazakhstan": (46.4, 55.0),
    "Aktobe": (53.5, 62.0),
    "Kostanay": (60.0, 68.5),
    "North Kazakhstan": (65.8, 74.2),
    "Pavlodar": (73.2, 79.5),
    "East Kazakhstan": (78.0, 87.5),
}


@pytest.fixture(scope="module")
def shipped() -> basemap.Basemap:
    return read_basemap(MAP)


@pytest.fixture(scope="module")
def unlocated() -> dict[str, tuple[str, str]]:
    with CATALOGUE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {r["id"]: (r["region_a"], r["region_b"]) for r in rows if not (r["lat"] and r["lon"])}


def segment_distance(point: np.ndarray, line: np.ndarray) -> float:
    """Degrees from a point to the nearest segment of a polyline (planar, fine at this scale)."""
    a, b = line[:-1], line[1:]
    ab, ap = b - a, point - a
    t = np.clip(np.sum(ap * ab, axis=1) / np.maximum(np.sum(ab * ab, axis=1), 1e-18), 0.0, 1.0)
    return float(np.min(np.hypot(*(ap - ab * t[:, None]).T)))


def test_shipped_file_is_small_and_attributed(shipped: basemap.Basemap) -> None:
    assert MAP.stat().st_size < 200_000
    assert "Made with Natural Earth" in shipped.attribution
    assert "naturalearthdata.com" in shipped.attribution
    assert "world-atlas" in shipped.source


def test_border_runs_from_the_caspian_to_the_altai(shipped: basemap.Basemap) -> None:
    points = np.vstack(shipped.border)
    west, east = points[np.argmin(points[:, 0])], points[np.argmax(points[:, 0])]
    ends = sorted([line[i] for line in shipped.border for i in (0, -1)], key=lambda p: p[0])
    assert 47.0 <= ends[0][0] <= 50.0
    assert ends[0][1] < 47.0
    assert 85.0 <= east[0] <= 88.0
    assert 48.5 <= east[1] <= 50.0
    assert 46.0 <= west[0] <= 47.5
    lon_min, lat_min, lon_max, lat_max = shipped.bounds()
    assert (lon_min, lon_max) == (west[0], east[0])
    assert 46.0 <= lat_min <= 47.0
    assert 55.0 <= lat_max <= 56.0


def test_countries_are_closed_clockwise_and_near_the_border(shipped: basemap.Basemap) -> None:
    assert set(shipped.countries) == {"Kazakhstan", "Russia"}
    for rings in shipped.countries.values():
        for ring in rings:
            assert np.array_equal(ring[0], ring[-1])
            assert basemap._area(ring) < 0
    russia = np.vstack(shipped.countries["Russia"])
    assert russia[:, 0].min() >= 43.9
    assert russia[:, 0].max() <= 92.1
    assert russia[:, 1].min() >= 37.9
    assert russia[:, 1].max() <= 62.1


def test_every_crossing_without_coordinates_has_one_place(
    shipped: basemap.Basemap, unlocated: dict[str, tuple[str, str]]
) -> None:
    assert len(unlocated) == 34
    assert set(shipped.places) == set(unlocated)
    doc = json.loads(MAP.read_text(encoding="utf-8"))
    ids = [f["properties"]["crossing"] for f in doc["features"] if f["properties"]["kind"] == "place"]
    assert sorted(ids) == sorted(unlocated)
    assert all(f["properties"]["approximate"] is True for f in doc["features"] if f["properties"]["kind"] == "place")
    assert all(place.how for place in shipped.places.values())


def test_places_lie_on_the_border_apart_from_each_other(shipped: basemap.Basemap) -> None:
    points = np.array([[p.lon, p.lat] for p in shipped.places.values()])
    for point in points:
        assert min(segment_distance(point, line) for line in shipped.border) < 0.05
    gaps = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() > 0.02


def test_places_fall_where_their_regions_meet(shipped: basemap.Basemap, unlocated: dict[str, tuple[str, str]]) -> None:
    for crossing, (kz, ru) in unlocated.items():
        place = shipped.places[crossing]
        lo, hi = LON_RANGE[kz]
        assert lo <= place.lon <= hi, (crossing, kz, place)
        if (kz, ru) == ("Atyrau", "Astrakhan"):
            assert place.lon < 52.0
            assert place.lat < 48.5
        if kz == "East Kazakhstan":
            assert place.lon > 78.0
        if ru == "Altai Republic":
            assert place.lon > 84.0


def test_to_geojson_reads_back_the_same(shipped: basemap.Basemap, tmp_path: Path) -> None:
    path = tmp_path / "again.geojson"
    path.write_text(json.dumps(shipped.to_geojson()), encoding="utf-8")
    again = read_basemap(path)
    assert again.to_geojson() == shipped.to_geojson()
    assert again.places == shipped.places
    with pytest.raises(ValueError, match="read-only"):
        again.border[0][0, 0] = 0.0


def tiny() -> dict[str, Any]:
    """A small valid basemap: feature 0 border, 1 country, 2 and 3 places."""
    place = {"kind": "place", "crossing": "a", "approximate": True, "how": "by hand"}
    return {
        "type": "FeatureCollection",
        "attribution": "Made with Natural Earth.",
        "source": "test",
        "features": [
            {
                "type": "Feature",
                "properties": {"kind": "border"},
                "geometry": {"type": "LineString", "coordinates": [[50, 50], [51, 51]]},
            },
            {
                "type": "Feature",
                "properties": {"kind": "country", "name": "K"},
                "geometry": {"type": "Polygon", "coordinates": [[[50, 50], [51, 50], [51, 49], [50, 50]]]},
            },
            {"type": "Feature", "properties": place, "geometry": {"type": "Point", "coordinates": [50.5, 50.5]}},
            {
                "type": "Feature",
                "properties": {**place, "crossing": "b"},
                "geometry": {"type": "Point", "coordinates": [50.7, 50.7]},
            },
        ],
    }


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "map.geojson"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_a_small_valid_file_reads(tmp_path: Path) -> None:
    doc = tiny()
    doc["features"][1]["geometry"]["coordinates"][0].reverse()  # counter-clockwise: turned round on reading
    got = read_basemap(write(tmp_path, doc))
    assert got.places["a"] == basemap.Place(lat=50.5, lon=50.5, how="by hand")
    assert basemap._area(got.countries["K"][0]) < 0
    assert got.bounds() == (50.0, 50.0, 51.0, 51.0)


def _set(path: str, value: Any) -> Any:
    """A change to ``tiny()``: set the item at a dotted path (numbers index lists); ``...`` deletes it."""

    def change(doc: dict[str, Any]) -> None:
        *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        target: Any = doc
        for key in parents:
            target = target[key]
        if value is ...:
            del target[last]
        else:
            target[last] = value

    return change


BAD = [
    (_set("features.0.geometry.coordinates.0", ["50", 50]), "features[0].geometry.coordinates[0]: expected [lon, lat]"),
    (_set("features.0.geometry.coordinates.1", [50]), "features[0].geometry.coordinates[1]: expected [lon, lat]"),
    (_set("features.2.geometry.coordinates", [200, 50]), "features[2].geometry.coordinates: [200, 50] is out of range"),
    (_set("features.2.geometry.coordinates", [50, True]), "features[2].geometry.coordinates: expected [lon, lat]"),
    (_set("features.1.geometry.coordinates.0.2", [50, 91]), "features[1].geometry.coordinates[0][2]: [50, 91] is out"),
    (_set("features.1.geometry.coordinates.0.3", [50, 49]), "features[1].geometry.coordinates[0]: a ring must end"),
    (_set("features.1.properties.kind", "river"), "features[1].properties.kind: must be one of border, country, place"),
    (_set("features.1.properties.kind", ...), "features[1].properties.kind: must be one of"),
    (_set("features.1.properties.name", ""), "features[1].properties.name: expected a non-empty string"),
    (_set("features.2.properties.crossing", ...), "features[2].properties.crossing: expected a non-empty string"),
    (_set("features.3.properties.crossing", "a"), "features[3].properties.crossing: 'a' already has a place"),
    (_set("features.3.geometry.type", "LineString"), "features[3].geometry.type: a place must be a Point"),
    (_set("features.0.geometry.type", "Point"), "features[0].geometry.type: a border must be"),
    (
        _set(
            "features.0",
            {
                "type": "Feature",
                "properties": {"kind": "place", "crossing": "z"},
                "geometry": {"type": "Point", "coordinates": [1, 2]},
            },
        ),
        'features: no feature of kind "border"',
    ),
    (_set("attribution", ""), "attribution: expected a non-empty string"),
    (_set("type", "Feature"), "type: expected a GeoJSON object"),
    (_set("features", {}), "features: expected a list"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[message for _, message in BAD])
def test_bad_content_names_file_and_field(tmp_path: Path, change: Any, message: str) -> None:
    doc = tiny()
    change(doc)
    with pytest.raises(BasemapError, match="^map.geojson: " + re.escape(message)):
        read_basemap(write(tmp_path, doc))


def test_non_finite_numbers_are_refused(tmp_path: Path) -> None:
    text = json.dumps(tiny()).replace("[50.5, 50.5]", "[NaN, 50.5]")
    with pytest.raises(BasemapError, match=re.escape("map.geojson: features[2].geometry.coordinates: expected finite")):
        read_basemap(write(tmp_path, text))


def test_bad_json_and_bad_text(tmp_path: Path) -> None:
    with pytest.raises(BasemapError, match=r"^map\.geojson: not valid JSON \(line 1"):
        read_basemap(write(tmp_path, '{"type": "FeatureCollection",'))
    path = tmp_path / "map.geojson"
    path.write_bytes(b'{"type": "\xff"}')
    with pytest.raises(BasemapError, match=r"^map\.geojson: not UTF-8"):
        read_basemap(path)


def test_a_directory_or_fifo_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "map.geojson"
    folder.mkdir()
    with pytest.raises(BasemapError, match=r"^map\.geojson: is a folder"):
        read_basemap(folder)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.geojson"
        os.mkfifo(fifo)
        with pytest.raises(BasemapError, match=r"^pipe\.geojson: is not a regular file"):
            read_basemap(fifo)
    with pytest.raises(BasemapError, match=r"^missing\.geojson: not found"):
        read_basemap(tmp_path / "missing.geojson")


def test_an_oversize_file_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, tiny())
    monkeypatch.setattr(basemap, "MAX_BYTES", 100)
    with pytest.raises(BasemapError, match=r"^map\.geojson: is larger than 100 bytes"):
        read_basemap(path)
