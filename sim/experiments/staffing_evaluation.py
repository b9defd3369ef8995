"""Judging a staffing plan by simulation: whether the target holds on every row, with the stated confidence.

Every plan is run with the same seed and replications (common random numbers): replication r
of one plan sees the same travellers, arriving at the same times with the same luck, as
replication r of any other, so the difference between two plans is the plans' and not the
dice's. Only the crossings being planned are simulated (a piece of the model: crossings no
route links are separate systems, and a piece gives each of them what the whole run gives,
to the last digit), and a crossing's result is kept per plan of its own pools, so a plan met
again is not run again.

A row (crossing x direction of the flow) holds when the one-sided upper confidence bound
of its metric's mean over replications, mean + t(confidence, R - 1) s / sqrt(R), is within
the target, and its queue does not grow without bound (``sim.analysis.overload``: under
overload the mean over finished travellers leaves the queue out).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.day_profile import waiting_by_hour_of_day
from sim.analysis.intervals import t_interval
from sim.analysis.overload import STABLE
from sim.analysis.staffing_theory import Target
from sim.experiments.executors import run_tasks
from sim.experiments.replicate import Task, combine, simulate_piece
from sim.experiments.run import summarise
from sim.experiments.spool import Spool
from sim.experiments.staffing_plan import Plan, Staffing, with_plan
from sim.model.compile import Model
from sim.outputs.records import read_records
from sim.scenario.schema import Scenario

POOL_KEYS = ["crossing", "direction", "side", "role", "stage", "pool", "secondary"]
"""Columns naming one of the model's pools in the stages table and the visit records."""


@dataclass(frozen=True)
class RowResult:
    """The target's metric on one crossing x direction row of the flow, over the replications."""

    crossing: str
    direction: str
    values: tuple[float, ...]  # the metric in each replication
    mean: float
    low: float  # the two-sided interval at level 2 x confidence - 1, whose upper end is the one-sided bound
    high: float
    verdict: str  # stable, overloaded or capped upstream
    limit: float

    @property
    def overloaded(self) -> bool:
        return self.verdict != STABLE

    @property
    def holds(self) -> bool:
        return math.isfinite(self.high) and self.high <= self.limit and not self.overloaded

    @property
    def severity(self) -> float:
        """How far the row is from the target: overloaded or undefined rows first, then by bound over target."""
        if self.overloaded or not math.isfinite(self.high):
            return math.inf
        return self.high / self.limit


@dataclass(frozen=True)
class Evaluation:
    """One crossing under one plan: its rows, and where its travellers queued."""

    crossing: str
    rows: tuple[RowResult, ...]
    queue: dict[int, float]  # model pool: mean number waiting over the window (mean over replications)
    utilization: dict[int, float]
    queue_by_hour: dict[int, np.ndarray]  # model pool: mean number waiting at each hour of the day (shift plans)
    evaluation: int  # which simulation run gave it

    @property
    def holds(self) -> bool:
        return all(r.holds for r in self.rows)


PlanKey = tuple
"""A crossing's plan as a key: its pools and counts, sorted."""


def plan_key(plan: Plan) -> PlanKey:
    return tuple(sorted(plan.items()))


class Evaluator:
    """Runs plans, crossing by crossing, and remembers what each crossing's plan gave."""

    def __init__(self, scenario: Scenario, staff: Staffing, target: Target, model: Model, jobs: int = 1) -> None:
        self.scenario = scenario
        self.staff = staff
        self.target = target
        self.model = model
        self.jobs = jobs
        self.runs = 0
        self.cache: dict[tuple[str, PlanKey], Evaluation] = {}
        self.shifts = any(s.shifts for s in staff.pools.values())
        self.pool_index = {
            (p.crossing, p.direction, p.side, p.role, p.stage, p.pool, p.secondary): p.index for p in model.pools
        }

    def known(self, crossing: str, plan: Plan) -> bool:
        return (crossing, plan_key(plan)) in self.cache

    def evaluate(
        self, plans: dict[str, Plan], on_run: Callable[[int], None] | None = None, hours: bool = True
    ) -> dict[str, Evaluation]:
        """Each crossing's result under its plan; the crossings not met before are simulated together, once.

        With ``hours``, and where a pool works in shifts, the line at each hour of the day is
        measured too, from the visit records (kept only then: they cost time to write).
        """
        todo = {c: p for c, p in plans.items() if not self.known(c, p)}
        if todo:
            self.runs += 1
            if on_run is not None:
                on_run(self.runs)
            merged = {k: v for p in todo.values() for k, v in p.items()}
            records = "full" if hours and self.shifts else "none"
            for crossing, result in self._simulate(merged, tuple(sorted(todo)), records).items():
                self.cache[(crossing, plan_key(todo[crossing]))] = result
        return {c: self.cache[(c, plan_key(p))] for c, p in plans.items()}

    def _simulate(self, plan: Plan, crossings: tuple[str, ...], records: str) -> dict[str, Evaluation]:
        scenario = with_plan(self.scenario, self.staff, plan)
        spool = Spool() if records != "none" else None
        folder = None if spool is None else str(spool.folder("plan"))
        tasks = [(Task(scenario, r, crossings, records, folder),) for r in range(scenario.replications)]
        outputs = [combine(scenario, [part]) for part in run_tasks(simulate_piece, tasks, self.jobs)]
        result = summarise(scenario, outputs, self.jobs, 0.0, records, spool)
        by_hour: dict[int, np.ndarray] = {}
        if spool is not None:
            files = [f for o in outputs for f in o.files.get("visits", [])]
            by_hour = waiting_by_hour(read_records(files), self.pool_index, scenario.warmup, scenario.horizon)
            spool.remove()
        stages = result.stages.assign(secondary=result.stages["secondary"].astype(bool))
        queue, utilization = {}, {}
        for row in stages.itertuples(index=False):
            index = self.pool_index.get(tuple(getattr(row, k) for k in POOL_KEYS))
            if index is not None:
                queue[index], utilization[index] = float(row.queue_mean), float(row.utilization)
        rows = self._rows(result.replications, result.overload)
        return {
            c: Evaluation(
                c,
                tuple(r for r in rows if r.crossing == c),
                {p: q for p, q in queue.items() if self.model.pools[p].crossing == c},
                {p: u for p, u in utilization.items() if self.model.pools[p].crossing == c},
                {p: h for p, h in by_hour.items() if self.model.pools[p].crossing == c},
                self.runs,
            )
            for c in crossings
        }

    def _rows(self, reps: pd.DataFrame, overload: pd.DataFrame | None) -> list[RowResult]:
        flow, metric = self.staff.flow, self.target.metric
        level = 2.0 * self.target.confidence - 1.0
        mine = reps[reps["flow"] == flow]
        verdicts = {}
        if overload is not None:
            for row in overload[overload["flow"] == flow].itertuples(index=False):
                verdicts[(row.crossing, row.direction)] = row.verdict
        rows = []
        for crossing, direction in self.staff.routes:
            part = mine[(mine["crossing"] == crossing) & (mine["direction"] == direction)]
            if part.empty:
                continue  # not simulated in this run
            values = part.sort_values("replication")[metric].to_numpy(dtype=float)
            mean, low, high = t_interval(values, level=level, drop_nan=False)
            verdict = verdicts.get((crossing, direction), STABLE)
            rows.append(RowResult(crossing, direction, tuple(values), mean, low, high, verdict, self.target.limit))
        return rows


def waiting_by_hour(
    visits: pd.DataFrame, pool_index: dict[tuple, int], warmup: float, horizon: float
) -> dict[int, np.ndarray]:
    """Mean number waiting in each pool at each hour of the day over [warmup, horizon), averaged over replications.

    The report's day profile, per pool (``sim.analysis.day_profile``); an hour never observed counts 0.
    """
    if visits.empty:
        return {}
    reps = visits["replication"].nunique()
    out: dict[int, np.ndarray] = {}
    for key, group in visits.groupby(POOL_KEYS, observed=True, sort=False):
        index = pool_index.get(tuple(key[:-1]) + (bool(key[-1]),))
        if index is not None:
            line = waiting_by_hour_of_day(group["enter_min"], group["start_min"], warmup, horizon, reps)
            out[index] = np.nan_to_num(line, nan=0.0)
    return out
