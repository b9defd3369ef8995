"""One replication, or one piece of one: the path every command's simulation goes through.

A task names a scenario, a replication and optionally a piece (a set of crossings); it
compiles the scenario (once per process, cached by its hash), runs the engine with the
default policies, gathers the running statistics and, when records are kept, streams them
to Parquet files in a spool folder. What it returns is small: per-group counts, the
completed travellers' waits (for exact quantiles), per-pool sums, and the paths of its
record files. ``combine`` joins the pieces of a replication into what an unsplit run gives,
to the last digit.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.analysis.daily import DailyStats, DailyTotals
from sim.analysis.equeue import EQueueStats, EQueueTotals
from sim.analysis.kpis import pool_kpis, replication_kpis
from sim.analysis.running import PoolStats, PoolTotals, TravellerStats, TravellerTotals
from sim.analysis.trips import TripStats, TripTotals, corridor_kpis, crossing_flows
from sim.engine.core import Engine, RunawayError
from sim.engine.recorder import Recorder
from sim.model.compile import Model, Piece, compile_model
from sim.outputs.records import RecordFiles
from sim.scenario.loader import scenario_hash
from sim.scenario.schema import Scenario


class ReplicationError(Exception):
    """A replication failed inside the model: says which one and how to reproduce it."""

    def __init__(
        self, scenario: str, replication: int, seed: int, message: str, details: str = "", unstable: bool = False
    ):
        super().__init__(scenario, replication, seed, message, details, unstable)
        self.scenario = scenario
        self.replication = replication
        self.seed = seed
        self.message = message
        self.details = details
        self.unstable = unstable

    def __str__(self) -> str:
        return f"scenario {self.scenario!r}, replication {self.replication}, seed {self.seed}: {self.message}"

    def record(self) -> dict:
        from sim.experiments.provenance import versions

        return {
            "scenario": self.scenario,
            "replication": self.replication,
            "seed": self.seed,
            "error": self.message,
            "unstable": self.unstable,
            "traceback": self.details,
            "versions": versions(),
        }


@dataclass(frozen=True)
class Task:
    """What a worker is asked to simulate."""

    scenario: Scenario
    replication: int
    crossings: tuple[str, ...] | None = None  # a piece; None: the whole model
    records: str = "none"  # "full", "travellers" or "none"
    spool: str | None = None  # folder for record files


@dataclass
class PieceOutput:
    """What one replication (or piece) hands back: small, whatever the horizon."""

    scenario: str
    replication: int
    pools: tuple[int, ...]
    travellers: TravellerTotals
    pool_totals: PoolTotals
    trips: TripTotals | None = None
    daily: DailyTotals | None = None
    equeues: EQueueTotals | None = None
    closures: list[tuple[str, str, float, float]] = field(default_factory=list)  # weather and seasons
    files: dict[str, Path] = field(default_factory=dict)
    entities: int = 0
    sim_seconds: float = 0.0


@dataclass
class ReplicationOutput:
    """One whole replication: its KPI tables, the waits for pooled quantiles, its record files."""

    scenario: str
    replication: int
    kpis: pd.DataFrame
    pools: pd.DataFrame
    travellers: TravellerTotals
    files: dict[str, list[Path]]
    entities: int
    sim_seconds: float
    closures: list[tuple[str, str, float, float]] = field(default_factory=list)
    corridors: pd.DataFrame | None = None  # per corridor (scenarios with corridors)
    crossing_flows: pd.DataFrame | None = None  # corridor trips per crossing
    daily: DailyTotals | None = None  # day-by-day counts, backlog and lines
    equeues: EQueueTotals | None = None  # e-queue travellers, slots and waiting areas (scenarios with e-queues)


_MODELS: dict[str, Model] = {}


def model_of(scenario: Scenario) -> Model:
    """The compiled model of ``scenario``, compiled once per process."""
    key = scenario_hash(scenario)
    model = _MODELS.get(key)
    if model is None:
        _MODELS.clear()
        model = _MODELS[key] = compile_model(scenario)
    return model


def simulate_piece(task: Task) -> PieceOutput:
    """Run one replication (or one piece of it) and gather its statistics (runs in a worker)."""
    scenario = task.scenario
    model = model_of(scenario)
    piece = model.whole() if task.crossings is None else model.piece(frozenset(task.crossings))
    return _simulate(model, scenario, task, piece)


def _simulate(model: Model, scenario: Scenario, task: Task, piece: Piece) -> PieceOutput:
    consumers: list = [TravellerStats(model), PoolStats(model), DailyStats(model)]
    if model.corridors:
        consumers.append(TripStats(model))
    if model.equeues:
        consumers.append(EQueueStats(model))
    keeps_files = task.records != "none" and task.spool is not None
    if keeps_files:
        tag = "" if task.crossings is None else f"-{min(piece.sources, default=0):05d}"
        consumers.append(RecordFiles(model, task.replication, Path(task.spool), task.records, tag))
    t0 = time.perf_counter()
    try:
        engine = Engine(model, task.replication, Recorder(task.replication, consumers), piece=piece)
        results = engine.run()
    except RunawayError as err:
        raise ReplicationError(scenario.name, task.replication, scenario.seed, str(err), unstable=True) from None
    except Exception as err:  # noqa: BLE001 - any failure inside the model is reported with its seed
        raise ReplicationError(
            scenario.name, task.replication, scenario.seed, f"{type(err).__name__}: {err}", traceback.format_exc()
        ) from None
    if not engine.arrived == engine.released + len(engine.alive):
        raise ReplicationError(
            scenario.name,
            task.replication,
            scenario.seed,
            f"{engine.arrived} arrived, {engine.released} released, {len(engine.alive)} inside: a traveller was lost",
        )
    return PieceOutput(
        scenario=scenario.name,
        replication=task.replication,
        pools=piece.pools,
        travellers=results[0],
        pool_totals=results[1],
        daily=results[2],
        trips=results[3] if model.corridors else None,
        equeues=results[3 + bool(model.corridors)] if model.equeues else None,
        closures=list(getattr(engine.capacity, "episodes", [])),
        files=results[-1] if keeps_files else {},
        entities=engine.arrived,
        sim_seconds=time.perf_counter() - t0,
    )


def combine(scenario: Scenario, parts: list[PieceOutput]) -> ReplicationOutput:
    """The pieces of one replication joined: the same tables as an unsplit run, to the last digit."""
    model = model_of(scenario)
    replication = parts[0].replication
    travellers = TravellerTotals.merge([p.travellers for p in parts])
    pools = PoolTotals.merge([p.pool_totals for p in parts], [p.pools for p in parts])
    kpis = replication_kpis(model, travellers, replication)
    corridors = flows = None
    if model.corridors:
        trips = TripTotals.merge([p.trips for p in parts if p.trips is not None])
        corridors = corridor_kpis(model, trips, replication)
        flows = crossing_flows(model, trips, replication)
    files: dict[str, list[Path]] = {}
    for p in parts:
        for kind, path in p.files.items():
            files.setdefault(kind, []).append(path)
    return ReplicationOutput(
        scenario=scenario.name,
        replication=replication,
        kpis=kpis,
        pools=pool_kpis(model, pools, replication),
        travellers=travellers,
        closures=[c for p in parts for c in p.closures],
        corridors=corridors,
        crossing_flows=flows,
        daily=DailyTotals.merge([p.daily for p in parts if p.daily is not None]),
        equeues=EQueueTotals.merge([p.equeues for p in parts if p.equeues is not None]) if model.equeues else None,
        files=files,
        entities=sum(p.entities for p in parts),
        sim_seconds=sum(p.sim_seconds for p in parts),
    )


def replicate(task: Task) -> ReplicationOutput:
    """Run one whole replication and build its tables (runs in a worker)."""
    return combine(task.scenario, [simulate_piece(task)])
