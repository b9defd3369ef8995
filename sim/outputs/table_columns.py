"""The columns the report uses of each table a run writes, by kind.

Kept apart from the reading and writing (``sim.outputs.results``) because these lists grow
with every new table and say only what a table must hold, not how it is read: a table is
checked for them when it is read, so a file edited by hand fails with its name.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.analysis.costs import COST_KPIS
from sim.analysis.trips import CORRIDOR_MEANS


@dataclass(frozen=True)
class Columns:
    """The columns the report uses of a table: text, numbers and True/False flags."""

    text: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


SUMMARY_COLUMNS = Columns(
    text=("crossing", "direction", "flow"),
    numbers=(
        "arrivals",
        "completed",
        "in_system_at_end",
        "throughput_per_day",
        "throughput_per_day_ci95",
        "wait_mean_min",
        "wait_mean_min_ci95",
        "wait_p95_min",
        "wait_max_min",
        "time_in_system_mean_min",
        "time_in_system_mean_min_ci95",
    ),
)
STAGES_COLUMNS = Columns(text=("crossing", "side", "role", "stage"), numbers=("utilization",), flags=("secondary",))
CROSSINGS_COLUMNS = Columns(text=("id", "name", "category", "mode", "regime"), numbers=("lat", "lon"))
RECORDS_COLUMNS = Columns(text=("flow",), numbers=("arrival_min", "release_min", "wait_min"))
VISITS_COLUMNS = Columns(numbers=("replication", "enter_min", "start_min"))
CORRIDORS_COLUMNS = Columns(
    text=("corridor", "direction", "flow", "origin", "destination"),
    numbers=(
        "departures",
        "completed",
        "unfinished",
        "diverted",
        *(name for k in CORRIDOR_MEANS for name in (k, f"{k}_ci95")),
    ),
)
NETWORK_COUNTS = ("set_off_for", "used", "diverted_out", "diverted_in")
NETWORK_COLUMNS = Columns(
    text=("crossing",),
    numbers=(*NETWORK_COUNTS, *(name for k in NETWORK_COUNTS for name in (f"{k}_per_day", f"{k}_per_day_ci95"))),
)
WEATHER_COLUMNS = Columns(text=("weather", "crossing"), numbers=("replication", "start_min", "end_min"))
DAILY_COLUMNS = Columns(
    text=("crossing", "direction", "flow"),
    numbers=("day", "arrivals", "released", "backlog_end", "backlog_end_ci95", "wait_mean_min", "wait_p95_min"),
)
WEEKLY_COLUMNS = Columns(
    text=("crossing", "direction", "flow", "week"),
    numbers=("first_day", "days", "arrivals", "released", "backlog_end", "wait_mean_min", "wait_p95_min"),
)
OVERLOAD_COLUMNS = Columns(
    text=("crossing", "direction", "flow", "verdict", "note"),
    numbers=(
        "backlog_end",
        "growth_per_day",
        "growth_per_day_ci95",
        "wait_mean_min",
        "wait_mean_lb_min",
        "wait_p95_lb_min",
        "blocked_share",
    ),
)
EQUEUE_COLUMNS = Columns(
    text=("scenario", "equeue", "crossing", "direction", "flows", "class"),
    numbers=(
        "replications",
        *(
            name
            for k in (
                "booked",
                "finished",
                "inside_at_end",
                "booked_beyond",
                "virtual_mean_min",
                "road_mean_min",
                "area_mean_min",
                "call_up_mean_min",
                "physical_mean_min",
                "service_mean_min",
                "wait_mean_min",
                "wait_p95_min",
                "late_share",
                "lost_share",
                "refused_share",
                "priority_served",
                "reserved_slots",
            )
            for name in (k, f"{k}_ci95")
        ),
        "quota_slots",
    ),
)
EQUEUE_SLOTS_COLUMNS = Columns(
    text=("scenario", "equeue", "crossing", "direction", "flows"),
    numbers=(
        "replications",
        "area_capacity",
        *(
            name
            for k in ("offered", "used_by_holder", "used_by_others", "unused", "utilisation", "no_show", "no_show_rate")
            for name in (k, f"{k}_ci95")
        ),
        "area_mean",
        "area_max",
        "road_mean",
        "road_max",
    ),
)
EQUEUE_AREA_COLUMNS = Columns(
    text=("scenario", "equeue", "crossing", "direction", "flows"),
    numbers=("hour", "area_mean", "area_max", "road_mean", "road_max"),
)
COMPARISON_COLUMNS = Columns(
    text=("scenario", "baseline", "crossing", "direction", "flow", "metric"),
    numbers=("baseline_value", "value", "diff", "diff_ci95_low", "diff_ci95_high", "pct_change"),
)
SELECTION_COLUMNS = Columns(
    text=("scenario", "eliminated_by"),
    numbers=("replications", "mean", "eliminated_at"),
    flags=("identical", "is_best"),
)
COSTS_COLUMNS = Columns(
    text=("crossing", "direction", "flow", "currency"),
    numbers=tuple(name for k in COST_KPIS for name in (k, f"{k}_ci95")),
    flags=("overloaded",),
)
COST_RATES_COLUMNS = Columns(text=("flow", "rate", "unit", "basis", "text"), numbers=("value",))
