"""The scenarios the validation runs: ordinary bordersim scenario dicts whose answer is known.

Each check builds a plain scenario dict and runs it through the public API
(``sim.scenario_from_dict`` and ``sim.run``), exactly as a user's scenario would be run, so
what is validated is the model users get, not a special test harness. Every open system has
Poisson arrivals at one vehicle a minute, which makes minutes the natural customer unit:
a station's mean service time in minutes is then its offered load.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ARRIVALS_PER_DAY = 1440.0
"""One arrival per minute on average in every open system: minutes are then customer units."""


@dataclass(frozen=True)
class RunSize:
    """How long and how often a check's scenario is run."""

    replications: int
    warmup_days: float
    window_days: float

    @property
    def horizon_days(self) -> float:
        return self.warmup_days + self.window_days

    def describe(self) -> str:
        return f"{self.replications} x ({_num(self.warmup_days)} d warm-up + {_num(self.window_days)} d)"


Builder = Callable[[RunSize, int], dict[str, Any]]
"""Makes a check's scenario dict from a run size and a seed (the seed is fixed per experiment)."""


def _num(x: float) -> str:
    return f"{x:g}"


def _base(name: str, size: RunSize, seed: int) -> dict[str, Any]:
    return {
        "name": name,
        "horizon": f"{_num(size.horizon_days)} d",
        "warmup": f"{_num(size.warmup_days)} d",
        "replications": size.replications,
        "seed": seed,
        "flows": {"vehicle": {"occupancy": 1}},
    }


def _crossing(servers_a: dict[str, Any], servers_b: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "x",
        "category": "multilateral",
        "hours": "24h",
        "sides": {"a": {"servers": servers_a, **extra.pop("side_a", {})}, "b": {"servers": servers_b}},
        **extra,
    }


def _poisson(rate_per_min: float = 1.0) -> list[dict[str, Any]]:
    return [{"crossing": "x", "flow": "vehicle", "direction": "a_to_b", "daily": rate_per_min * ARRIVALS_PER_DAY}]


def single_stage(per_vehicle: dict[str, Any], servers: int) -> Builder:
    """One stage on the exit side, Poisson arrivals at 1 per minute: an M/G/c queue."""

    def build(size: RunSize, seed: int) -> dict[str, Any]:
        return {
            **_base("single_stage", size, seed),
            "stages": {"check": {"per_vehicle": per_vehicle, "per_person": 0}},
            "regimes": {"queue": {"exit": ["check"]}},
            "regime": "queue",
            "crossings": [_crossing({"check": servers}, {})],
            "demand": _poisson(),
        }

    return build


TANDEM = (("stage_1", 4, 3.2), ("stage_2", 2, 1.6), ("stage_3", 3, 2.4))
"""(stage, servers, mean service in minutes): load 0.8 at each stage with 1 arrival a minute."""


def tandem(size: RunSize, seed: int) -> dict[str, Any]:
    """Three exponential stages one after the other on the exit side: a Jackson tandem."""
    return {
        **_base("tandem", size, seed),
        "stages": {s: {"per_vehicle": {"dist": "exponential", "mean": m}} for s, _, m in TANDEM},
        "regimes": {"tandem": {"exit": [s for s, _, _ in TANDEM]}},
        "regime": "tandem",
        "crossings": [_crossing({s: c for s, c, _ in TANDEM}, {})],
        "demand": _poisson(),
    }


CROSSING_NODES = (
    # (label, side, stage, secondary, servers, arrival rate per min, mean service)
    ("exit border control", "a", "border_control", False, 2, 1.0, 1.6),
    ("exit customs (half selected)", "a", "customs", False, 2, 0.5, 2.4),
    ("exit secondary inspection", "a", "customs", True, 2, 0.15, 10.0),
    ("entry border control", "b", "border_control", False, 3, 1.0, 1.6),
    ("entry customs", "b", "customs", False, 3, 1.0, 2.4),
)
"""The crossing's stations: exit side a (customs checks half, 30% of them go to a 2-place
secondary inspection), entry side b (checks everyone). Loads 0.8, 0.6, 0.75, 0.53, 0.8."""


def crossing(size: RunSize, seed: int) -> dict[str, Any]:
    """Double control at one crossing, every time exponential, no limit on the neutral zone."""
    return {
        **_base("crossing", size, seed),
        "stages": {
            "border_control": {"per_vehicle": {"dist": "exponential", "mean": 1.6}},
            "customs": {
                "per_vehicle": {"dist": "exponential", "mean": 2.4},
                "sides": {
                    "a": {
                        "select": 0.5,
                        "secondary": {"share": 0.3, "time": {"dist": "exponential", "mean": 10.0}},
                    }
                },
            },
        },
        "regime": "double_control",
        "crossings": [
            _crossing(
                {"border_control": 2, "customs": 2},
                {"border_control": 3, "customs": 3},
                side_a={"secondary_servers": {"customs": 2}},
            )
        ],
        "demand": _poisson(),
    }


def zone_poisson(zone: int, rho: float) -> Builder:
    """Configuration 1: Poisson arrivals, instant exit stage with ample booths, finite zone, M/M/1 entry."""

    def build(size: RunSize, seed: int) -> dict[str, Any]:
        return {
            **_base("zone_poisson", size, seed),
            "stages": {
                "release": {"per_vehicle": 0},
                "entry": {"per_vehicle": {"dist": "exponential", "mean": rho}},
            },
            "regimes": {"zone": {"exit": ["release"], "entry": ["entry"]}},
            "regime": "zone",
            "crossings": [_crossing({"release": 10_000}, {"entry": 1}, neutral_zone=zone)],
            "demand": _poisson(),
        }

    return build


def zone_saturated(zone: int, rho: float) -> Builder:
    """Configuration 2: a backlogged exponential exit booth (rate 1), finite zone, exponential entry (rate 1/rho)."""

    def build(size: RunSize, seed: int) -> dict[str, Any]:
        horizon = size.horizon_days * 1440.0
        backlog = int(horizon + 10 * math.sqrt(horizon) + 100)  # more than the exit booth can serve
        return {
            **_base("zone_saturated", size, seed),
            "stages": {
                "release": {"per_vehicle": {"dist": "exponential", "mean": 1.0}},
                "entry": {"per_vehicle": {"dist": "exponential", "mean": rho}},
            },
            "regimes": {"zone": {"exit": ["release"], "entry": ["entry"]}},
            "regime": "zone",
            "crossings": [_crossing({"release": 1}, {"entry": 1}, neutral_zone=zone)],
            "demand": [{"crossing": "x", "flow": "vehicle", "direction": "a_to_b", "times": [0.0] * backlog}],
        }

    return build
