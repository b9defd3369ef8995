"""Build the Kazakhstan–Russia demand tables from the crossing catalogue.

Run from the repository's root:  python scenarios/tools/kz_ru_demand.py

It writes two CSV files beside the catalogue:
- ``data/kz_ru_demand.csv``: demand at all 75 crossings;
- ``data/kz_ru_demand_no_simplified.csv``: the same, with the residents' traffic of the 5
  simplified points moved to the nearest multilateral or bilateral road crossing.

Every figure below is either cited (the source named beside it, see ../README.md) or marked as
an assumption. The split rule is deliberately simple and stated, so a modeler can change it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "data"

# -- Border-wide road volumes, 2023 (seanews.ru, 2024-07-04) ------------------------------
VEHICLES_PER_YEAR = 5_500_000  # all vehicles crossing the Kazakhstan–Russia border in 2023
TRUCKS_PER_YEAR = 2_200_000  # of which trucks
BUS_SHARE_OF_NON_TRUCKS = 0.03  # assumed: buses among the vehicles that are not trucks

# -- Named crossings with published volumes -----------------------------------------------
# Kairak–Bugristoe: 310–320 trucks a day inbound, 300–310 outbound (ng.kz, Dec 2025)
KAIRAK = "kairak_bugristoe_road"
KAIRAK_TRUCKS = {"b_to_a": 315.0, "a_to_b": 305.0}  # b_to_a: into Kazakhstan (side a)
# Karaozek: about 1,000 vehicles a day, over 350 of them trucks (tks.ru 2019)
KARAOZEK = "kurmangazy_karauzek_road"
KARAOZEK_VEHICLES, KARAOZEK_TRUCKS = 1000.0, 350.0

# -- Split rule for every other road crossing (assumed) -----------------------------------
WEIGHT = {"multilateral": 4.0, "bilateral": 1.0}  # share of the remaining traffic per crossing
SIMPLIFIED_CARS_PER_DAY = 40.0  # assumed: residents' cars per simplified point, each direction
SIMPLIFIED_PEDESTRIANS_PER_DAY = 30.0  # assumed: residents on foot, each direction

# -- Rail and river (no public per-crossing figures: all assumed) -------------------------
FREIGHT_TRAINS_PER_DAY = {"multilateral": 6.0, "bilateral": 2.0}  # each direction
PASSENGER_TRAINS_PER_DAY = {"multilateral": 1.0, "bilateral": 0.0}  # each direction
VESSELS_PER_DAY = 3.0  # each direction, at the one river point


def read_catalogue() -> list[dict[str, str]]:
    with (HERE / "kz_ru_crossings.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def road_demand(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    per_day = 365.0
    trucks_total = TRUCKS_PER_YEAR / per_day
    others_total = (VEHICLES_PER_YEAR - TRUCKS_PER_YEAR) / per_day
    cars_total = others_total * (1 - BUS_SHARE_OF_NON_TRUCKS)
    buses_total = others_total * BUS_SHARE_OF_NON_TRUCKS

    road = [r for r in rows if r["mode"] == "road" and r["category"] in WEIGHT]
    # published figures first
    trucks_fixed = sum(KAIRAK_TRUCKS.values()) + KARAOZEK_TRUCKS
    cars_fixed = KARAOZEK_VEHICLES - KARAOZEK_TRUCKS
    weights_trucks = {r["id"]: WEIGHT[r["category"]] for r in road if r["id"] not in (KAIRAK, KARAOZEK)}
    weights_cars = {r["id"]: WEIGHT[r["category"]] for r in road if r["id"] != KARAOZEK}
    truck_unit = (trucks_total - trucks_fixed) / sum(weights_trucks.values())
    car_unit = (cars_total - cars_fixed) / sum(weights_cars.values())
    bus_unit = buses_total / sum(WEIGHT[r["category"]] for r in road)

    out: list[dict[str, object]] = []

    def add(cid: str, flow: str, direction: str, daily: float, hourly: str, source: str) -> None:
        out.append({"crossing": cid, "flow": flow, "direction": direction, "daily": round(daily, 2),
                    "hourly": hourly, "source": source})

    rule = "seanews.ru 2023 totals split by the stated rule (weights assumed)"
    for r in road:
        cid = r["id"]
        if cid == KAIRAK:
            for direction, n in KAIRAK_TRUCKS.items():
                add(cid, "truck", direction, n, "trucks", "ng.kz Dec 2025 (Kairak daily trucks)")
        elif cid == KARAOZEK:
            add(cid, "truck", "both", KARAOZEK_TRUCKS / 2, "trucks", "tks.ru 2019 (Karaozek), halved per direction")
        else:
            add(cid, "truck", "both", truck_unit * weights_trucks[cid] / 2, "trucks", rule)
        if cid == KARAOZEK:
            add(cid, "car", "both", cars_fixed / 2, "cars", "tks.ru 2019 (Karaozek vehicles less trucks), halved")
        else:
            add(cid, "car", "both", car_unit * weights_cars[cid] / 2, "cars", rule)
        add(cid, "bus", "both", bus_unit * WEIGHT[r["category"]] / 2, "cars", rule + "; bus share assumed")
    for r in rows:
        if r["category"] == "simplified":
            add(r["id"], "resident_car", "both", SIMPLIFIED_CARS_PER_DAY, "cars", "assumed")
            add(r["id"], "resident_pedestrian", "both", SIMPLIFIED_PEDESTRIANS_PER_DAY, "cars", "assumed")
        elif r["mode"] == "rail":
            add(r["id"], "freight_train", "both", FREIGHT_TRAINS_PER_DAY[r["category"]], "", "assumed")
            if PASSENGER_TRAINS_PER_DAY[r["category"]] > 0:
                add(r["id"], "passenger_train", "both", PASSENGER_TRAINS_PER_DAY[r["category"]], "", "assumed")
        elif r["mode"] == "river":
            add(r["id"], "vessel", "both", VESSELS_PER_DAY, "cars", "assumed")
    return out


def _distance(a: dict[str, str], b: dict[str, str]) -> float:
    lat1, lon1, lat2, lon2 = (math.radians(float(x)) for x in (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def nearest_alternative(simplified: dict[str, str], rows: list[dict[str, str]]) -> dict[str, str]:
    """The crossing residents would use instead: the nearest open-to-all road crossing.

    Nearest by great-circle distance where both have coordinates; otherwise (a placeholder
    point has none) the first road crossing of the same Kazakh region in the catalogue, and
    failing that the first one of the same Russian region.
    """
    candidates = [r for r in rows if r["mode"] == "road" and r["category"] in WEIGHT]
    if simplified["lat"] and simplified["lon"]:
        located = [r for r in candidates if r["lat"] and r["lon"]]
        return min(located, key=lambda r: _distance(simplified, r))
    for key in ("region_a", "region_b"):
        same = [r for r in candidates if r[key] == simplified[key]]
        if same:
            return same[0]
    raise ValueError(f"no alternative crossing for {simplified['id']}")


def without_simplified(demand: list[dict[str, object]], rows: list[dict[str, str]]) -> list[dict[str, object]]:
    by_id = {r["id"]: r for r in rows}
    out = []
    for d in demand:
        row = by_id[str(d["crossing"])]
        if row["category"] == "simplified":
            alt = nearest_alternative(row, rows)
            d = {**d, "crossing": alt["id"], "source": f"{d['source']}; moved from {row['id']} (nearest crossing rule)"}
        out.append(d)
    return out


def write(path: Path, demand: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write("# generated by scenarios/tools/kz_ru_demand.py: edit the script, not this file\n")
        w = csv.DictWriter(fh, fieldnames=["crossing", "flow", "direction", "daily", "hourly", "source"])
        w.writeheader()
        w.writerows(demand)


def main() -> None:
    rows = read_catalogue()
    demand = road_demand(rows)
    write(HERE / "kz_ru_demand.csv", demand)
    write(HERE / "kz_ru_demand_no_simplified.csv", without_simplified(demand, rows))
    road = [d for d in demand if d["flow"] in ("car", "truck", "bus")]
    total = sum(float(d["daily"]) * (2 if d["direction"] == "both" else 1) for d in road)
    trucks = sum(float(d["daily"]) * (2 if d["direction"] == "both" else 1) for d in road if d["flow"] == "truck")
    print(f"road vehicles per day {total:,.0f} (trucks {trucks:,.0f}); {len(demand)} demand rows")


if __name__ == "__main__":
    main()
