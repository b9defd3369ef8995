"""Build the Kazakhstan–Russia corridor tables from the crossing catalogue and the demand table.

Run from the repository's root, after ``kz_ru_demand.py``:
``python scenarios/tools/kz_ru_corridors.py``

A corridor is demand between two hinterlands that may cross at any of several crossings. A
per-crossing demand row fixes the crossing; a corridor lets a route-choice rule or a closure
move the same travellers elsewhere, paying the extra drive. This script writes, beside the
catalogue, two corridor tables (one row per corridor and crossing) and the per-crossing
demand each leaves over:

- ``data/kz_ru_corridors.csv``: the road flows (truck, car, bus) of every multilateral and
  bilateral road crossing, by the *catchment rule* below, and the residents' cars of each
  simplified point, with the point itself first (the network scenarios in ``network/``);
  ``data/kz_ru_demand_beside_corridors.csv``: the demand rows they do not carry (rail,
  river, residents on foot);
- ``data/kz_ru_resident_corridors.csv``: the residents of the 5 simplified points, for the
  counterfactual in which those points do not exist; ``data/kz_ru_demand_beside_residents.csv``:
  every other demand row.

Catchment rule: the traffic that uses road crossing X today travels between X's hinterlands
(X's region on the Kazakh side and on the Russian side). Its options are X itself, a drive of
``INLAND_KM`` from the hinterland's centre to the crossing and as much on from it, and the
nearest other multilateral or bilateral road crossings Y within ``MAX_DETOUR_KM``, reached by
the lateral drive from X's area to Y and back on the other side. Share 1 goes to X and 0 to
the others, so a run with fixed shares reproduces today's per-crossing volumes; the other
options only matter under least-cost or logit choice, or when X closes.

The corridors carry the same travellers as the demand rows they come from. A scenario that
reads them must drop those rows from its per-crossing demand, or it counts the traffic twice.
A one-way corridor (``b_to_a``) starts on the Russian side, so its origin is the Russian
hinterland.

Every figure below is either cited or marked as an assumption. The volumes are not set
here: they are read from ``data/kz_ru_demand.csv``, whose sources that file states row by row.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
DATA = TOOLS.parent / "data"
BASE = TOOLS.parent / "common" / "kz_ru_base.yaml"

sys.path.insert(0, str(TOOLS))
# The residents' share-1 crossing must be the one kz_ru_demand.py moved them to, so that a
# fixed-shares run of the counterfactual reproduces data/kz_ru_demand_no_simplified.csv.
from kz_ru_demand import nearest_alternative  # noqa: E402

# -- Catchment rule for the road flows (all assumed) ---------------------------------------
INLAND_KM = 30.0  # assumed: from a hinterland's centre to its own crossing, each side
MAX_DETOUR_KM = 250.0  # assumed: great-circle km from X beyond which Y is no alternative
MAX_OPTIONS = 3  # assumed: alternatives to X at most (the nearest), and residents' options at most
CIRCUITY = 1.3  # assumed: road km per great-circle km (the default of diversion.circuity)

# -- Residents without simplified points ---------------------------------------------------
RESIDENT_MAX_KM = 400.0  # assumed: great-circle km beyond which a resident would not travel
BORDER_KM = 7500.0  # length of the Kazakhstan–Russia border (seed documents: about 7,500 km)
OPEN_ROAD_POINTS = 18 + 28  # multilateral + bilateral road points (seed documents)
# assumed: a simplified point without coordinates lies midway between two neighbouring open
# road crossings, i.e. half the mean spacing 7,500 / 46 km = 81.5 great-circle km from either
FALLBACK_RESIDENT_GC_KM = BORDER_KM / OPEN_ROAD_POINTS / 2
# Residents on foot cannot walk to a crossing 100 km away: without their point they travel as
# resident_car trips. Persons per car is the mean of flows.resident_car.occupancy in
# common/kz_ru_base.yaml (1-4 persons, weights 40/30/20/10, itself assumed there): 2.0.
PERSONS_PER_RESIDENT_CAR = (1 * 40 + 2 * 30 + 3 * 20 + 4 * 10) / 100

ROAD_FLOWS = ("truck", "car", "bus")
RESIDENT_FLOWS = ("resident_car", "resident_pedestrian")
OPEN_CATEGORIES = ("multilateral", "bilateral")  # simplified points serve residents only
EARTH_RADIUS_KM = 6371.0  # mean radius, as sim/model/network.py

HEADER = [
    "corridor",
    "origin",
    "destination",
    "flow",
    "direction",
    "daily",
    "hourly",
    "crossing",
    "km_to",
    "km_on",
    "share",
    "source",
]
RULE = "catchment rule (scenarios/tools/kz_ru_corridors.py; km and alternatives assumed)"
RESIDENT_RULE = "residents' detour rule (scenarios/tools/kz_ru_corridors.py; km and options assumed)"

Row = dict[str, str]


def read_csv(name: str) -> list[Row]:
    """Rows of a data CSV, skipping the generator's comment line."""
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def flow_categories(path: Path = BASE) -> dict[str, tuple[str, ...] | None]:
    """``flows.<flow>.categories`` of the base scenario; None where a flow may use every category.

    Read with a few patterns rather than a YAML library so the script needs only the standard
    library. It understands the flow style the base uses (``categories: [a, b]``) and stops with
    an error on anything else, rather than guess which crossings a flow may use.
    """
    out: dict[str, tuple[str, ...] | None] = {}
    in_flows, flow = False, None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        if not line.startswith(" "):
            in_flows = line.startswith("flows:")
            continue
        if not in_flows:
            continue
        head = re.fullmatch(r"  ([A-Za-z_][\w-]*):.*", line)
        if head:
            flow = head.group(1)
            out[flow] = None
            continue
        cats = re.fullmatch(r"    categories:\s*(.*)", line)
        if cats and flow is not None:
            listed = re.fullmatch(r"\[([^\]]*)\]", cats.group(1).strip())
            if not listed:
                raise ValueError(f"{path}: cannot read flows.{flow}.categories: {cats.group(1)!r}")
            out[flow] = tuple(c.strip() for c in listed.group(1).split(",") if c.strip())
    return out


def may_use(categories: dict[str, tuple[str, ...] | None], flow: str, crossing: Row) -> bool:
    """Whether the base scenario lets ``flow`` use ``crossing`` (None: every category)."""
    if flow not in categories:
        raise ValueError(f"flow {flow!r} is not in {BASE.name}")
    allowed = categories[flow]
    return allowed is None or crossing["category"] in allowed


def located(row: Row) -> bool:
    return bool(row["lat"] and row["lon"])


def great_circle(a: Row, b: Row) -> float:
    """Haversine km between two catalogue rows (both located)."""
    p1, p2 = math.radians(float(a["lat"])), math.radians(float(b["lat"]))
    dl = math.radians(float(b["lon"]) - float(a["lon"]))
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def short_name(row: Row, side: str) -> str:
    """A side's name for a label: the id for placeholders, without a bracketed alias."""
    name = row[f"name_{side}"]
    if name.startswith("(placeholder)"):
        return row["id"]
    name = re.sub(r"\s*\([^)]*\)", "", name).strip()
    return re.sub(r"\s+area$", "", name)


def hinterland(row: Row, side: str) -> str:
    """The region a crossing serves on one side, e.g. 'Saratov (Ozinki area)'."""
    return f"{row[f'region_{side}']} ({short_name(row, side)} area)"


def villages(row: Row, side: str) -> str:
    """The villages a simplified point serves on one side."""
    return f"{row[f'region_{side}']} (villages near {short_name(row, side)})"


def ends(direction: str, side_a: str, side_b: str) -> tuple[str, str]:
    """Origin and destination: trips start on side b when the corridor runs b_to_a."""
    return (side_b, side_a) if direction == "b_to_a" else (side_a, side_b)


def open_road(rows: list[Row]) -> list[Row]:
    """Crossings a road corridor may use: multilateral and bilateral road points."""
    return [r for r in rows if r["mode"] == "road" and r["category"] in OPEN_CATEGORIES]


def nearest(origin: Row, candidates: list[Row], limit_km: float, count: int) -> list[tuple[Row, float]]:
    """The ``count`` located candidates nearest to ``origin`` within ``limit_km``, with their km."""
    found = [(c, great_circle(origin, c)) for c in candidates if c["id"] != origin["id"] and located(c)]
    found = [(c, d) for c, d in found if d <= limit_km]
    found.sort(key=lambda cd: (cd[1], cd[0]["id"]))
    return found[:count]


def corridor_rows(
    cid: str,
    origin: str,
    destination: str,
    demand: Row,
    flow: str,
    daily: str,
    source: str,
    options: list[tuple[Row, float, float]],
) -> list[Row]:
    """One row per option; options are (crossing, km each way, share)."""
    return [
        {
            "corridor": cid,
            "origin": origin,
            "destination": destination,
            "flow": flow,
            "direction": demand["direction"],
            "daily": daily,
            "hourly": demand["hourly"],
            "crossing": row["id"],
            "km_to": f"{km:.1f}",
            "km_on": f"{km:.1f}",
            "share": f"{share:g}",
            "source": source,
        }
        for row, km, share in options
    ]


def road_corridors(rows: list[Row], demand: list[Row], categories: dict[str, tuple[str, ...] | None]) -> list[Row]:
    """Catchment-rule corridors: one per road-flow demand row at a multilateral or bilateral road crossing."""
    by_id = {r["id"]: r for r in rows}
    candidates = open_road(rows)
    out: list[Row] = []
    for d in demand:
        x = by_id[d["crossing"]]
        if d["flow"] not in ROAD_FLOWS or x not in candidates:
            continue
        flow = d["flow"]
        if not may_use(categories, flow, x):
            raise ValueError(f"{flow} demand at {x['id']}, which flows.{flow}.categories forbids")
        cid = f"{x['id']}_{flow}" + ("" if d["direction"] == "both" else f"_{d['direction']}")
        origin, destination = ends(d["direction"], hinterland(x, "a"), hinterland(x, "b"))
        options = [(x, INLAND_KM, 1.0)]
        if located(x):
            usable = [c for c in candidates if may_use(categories, flow, c)]
            options += [(y, INLAND_KM + km * CIRCUITY, 0.0) for y, km in nearest(x, usable, MAX_DETOUR_KM, MAX_OPTIONS)]
        source = f"{RULE}; volume: kz_ru_demand.csv {x['id']} {flow} {d['direction']} ({d['source']})"
        out += corridor_rows(cid, origin, destination, d, flow, d["daily"], source, options)
    return out


def resident_corridors(
    rows: list[Row], demand: list[Row], categories: dict[str, tuple[str, ...] | None], with_point: bool = False
) -> list[Row]:
    """Corridors of the simplified points' residents when those points do not exist.

    ``with_point``: the points do exist (the network scenarios): each resident-car corridor
    has its own point first, at 0 km and share 1, and the crossings below as alternatives
    for when the point is shut (weather); residents on foot stay per-crossing demand.

    Options: the nearest ``MAX_OPTIONS`` multilateral or bilateral road crossings within
    ``RESIDENT_MAX_KM`` great-circle km, driven there and back along the other side
    (great-circle km times ``CIRCUITY`` each way); share 1 for the nearest. A point without
    coordinates takes kz_ru_demand.py's regional choice as its nearest crossing, at
    ``FALLBACK_RESIDENT_GC_KM``, and that crossing's located neighbours at that distance
    plus the lateral drive between them (an upper bound by the triangle inequality).
    """
    by_id = {r["id"]: r for r in rows}
    out: list[Row] = []
    for d in demand:
        p = by_id[d["crossing"]]
        if p["category"] != "simplified" or d["flow"] not in RESIDENT_FLOWS:
            continue
        flow, daily, note = d["flow"], d["daily"], ""
        if with_point and flow == "resident_pedestrian":
            continue  # on foot, the point or nothing
        if flow == "resident_pedestrian":
            flow = "resident_car"
            daily = str(round(float(d["daily"]) / PERSONS_PER_RESIDENT_CAR, 2))  # as kz_ru_demand.py rounds
            note = (
                f"; residents on foot travel by car: {d['daily']} persons / "
                f"{PERSONS_PER_RESIDENT_CAR:g} persons per resident_car (mean occupancy in the base)"
            )
        usable = [c for c in open_road(rows) if may_use(categories, flow, c)]
        first = nearest_alternative(p, rows)
        if located(p):
            found = nearest(p, usable, RESIDENT_MAX_KM, MAX_OPTIONS)
            if not found or found[0][0]["id"] != first["id"]:
                raise ValueError(f"{p['id']}: nearest crossing differs from kz_ru_demand.py's choice {first['id']}")
            options = [(y, km * CIRCUITY, 1.0 if i == 0 else 0.0) for i, (y, km) in enumerate(found)]
            how = "great-circle km x circuity"
        else:
            options = [(first, FALLBACK_RESIDENT_GC_KM * CIRCUITY, 1.0)]
            if located(first):
                room = RESIDENT_MAX_KM - FALLBACK_RESIDENT_GC_KM
                options += [
                    (y, (FALLBACK_RESIDENT_GC_KM + km) * CIRCUITY, 0.0)
                    for y, km in nearest(first, usable, room, MAX_OPTIONS - 1)
                ]
            how = (
                f"no coordinates: nearest by region as kz_ru_demand.py, at {FALLBACK_RESIDENT_GC_KM:.1f} "
                f"great-circle km (half the mean spacing {BORDER_KM:g} km / {OPEN_ROAD_POINTS} points)"
            )
        if with_point:
            options = [(p, 0.0, 1.0)] + [(y, km, 0.0) for y, km, _ in options]
            how += "; the point itself first, at 0 km"
        cid = f"{p['id']}_{d['flow']}" + ("" if d["direction"] == "both" else f"_{d['direction']}")
        origin, destination = ends(d["direction"], villages(p, "a"), villages(p, "b"))
        source = f"{RESIDENT_RULE}, {how}; volume: kz_ru_demand.csv {p['id']} {d['flow']} ({d['source']}){note}"
        out += corridor_rows(cid, origin, destination, d, flow, daily, source, options)
    return out


def demand_beside(demand: list[Row], corridors: list[Row]) -> list[Row]:
    """The per-crossing demand rows that no corridor carries (so that nothing is counted twice)."""
    carried = {r["source"].split("volume: kz_ru_demand.csv ", 1)[1].split(" (", 1)[0] for r in corridors}
    return [
        d
        for d in demand
        if f"{d['crossing']} {d['flow']} {d['direction']}" not in carried
        and f"{d['crossing']} {d['flow']}" not in carried
    ]


def write_demand(path: Path, rows: list[Row], fields: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(
            "# generated by scenarios/tools/kz_ru_corridors.py: the rows of kz_ru_demand.csv no corridor carries\n"
        )
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write(path: Path, rows: list[Row]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write("# generated by scenarios/tools/kz_ru_corridors.py: edit the script, not this file\n")
        w = csv.DictWriter(fh, fieldnames=HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def summary(name: str, rows: list[Row]) -> str:
    """Corridors, options per corridor and the km range, so a rerun's effect is plain to see."""
    per: dict[str, int] = {}
    for r in rows:
        per[r["corridor"]] = per.get(r["corridor"], 0) + 1
    counts = {n: sum(1 for v in per.values() if v == n) for n in sorted(set(per.values()))}
    spread = ", ".join(f"{k} option{'s' if k > 1 else ''}: {v}" for k, v in counts.items())
    km = [float(r["km_to"]) for r in rows]
    return f"{name}: {len(per)} corridors, {len(rows)} options ({spread}); km each way {min(km):.1f}-{max(km):.1f}"


def main() -> None:
    rows = read_csv("kz_ru_crossings.csv")
    demand = read_csv("kz_ru_demand.csv")
    categories = flow_categories()
    network = road_corridors(rows, demand, categories) + resident_corridors(rows, demand, categories, True)
    residents = resident_corridors(rows, demand, categories)
    write(DATA / "kz_ru_corridors.csv", network)
    write(DATA / "kz_ru_resident_corridors.csv", residents)
    fields = list(demand[0])
    beside_road = demand_beside(demand, network)
    beside_residents = demand_beside(demand, residents)
    for table, beside in ((network, beside_road), (residents, beside_residents)):
        if len(beside) + len({r["corridor"] for r in table}) != len(demand):
            raise ValueError("corridors and the demand beside them do not add up to the demand table")
    write_demand(DATA / "kz_ru_demand_beside_corridors.csv", beside_road, fields)
    write_demand(DATA / "kz_ru_demand_beside_residents.csv", beside_residents, fields)
    print(
        f"kz_ru_demand_beside_corridors.csv: {len(beside_road)} rows; "
        f"kz_ru_demand_beside_residents.csv: {len(beside_residents)} rows (of {len(demand)})"
    )
    print(summary("kz_ru_corridors.csv", network))
    print(summary("kz_ru_resident_corridors.csv", residents))


if __name__ == "__main__":
    main()
