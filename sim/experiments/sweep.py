"""Parameter sweeps: a base scenario, factors set at dotted paths, replications; resumable.

A sweep file names a base scenario and the factors to vary, as dotted paths into the
scenario (``crossing_overrides.x.sides.b.lanes``, ``demand[1].daily``) with lists of values
(full factorial) or ranges (Latin hypercube sampling). Every run (design point x
replication) writes its own small Parquet file, keyed by the resolved scenario's hash, the
seed and the replication, the moment it finishes: rerunning the sweep skips runs already
there, a sweep killed half-way loses nothing finished, and a run that fails is recorded with
its error while the others go on. The combined table has a row per run x KPI, with the
factor values as columns, so pandas or DuckDB read all runs at once.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from sim.analysis.kpis import KEYS, KPIS
from sim.experiments.bad_outcome import BadOutcome, bad_problems
from sim.experiments.executors import run_tasks
from sim.experiments.memory import check_memory, demand_volume
from sim.experiments.replicate import ReplicationError, ReplicationOutput, Task, model_of, replicate
from sim.experiments.run import with_overrides
from sim.outputs.files import atomic_write, write_csv, write_json
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.loader import _validation_problems, read_raw, scenario_hash, validate_data
from sim.scenario.schema import Identifier, Scenario, Strict

DEFAULT_KPIS = ["throughput_per_day", "wait_mean_min", "wait_p95_min", "time_in_system_mean_min"]
MAX_DESIGN_POINTS = 10_000
"""Design points a sweep may have: each is a validated scenario held in memory, and a larger
design (300 x 300 x 300 values is 27 million) is a typo or a job for ``lhs`` with ``samples``."""
MAX_RUNS = 1_000_000
"""Runs (design points x replications) a sweep may have."""
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class Range(Strict):
    """A factor's range for Latin hypercube sampling."""

    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low < self.high:
            raise ValueError("needs low < high")
        return self


class SweepSpec(Strict):
    """A sweep file, validated."""

    name: Identifier
    base: str
    replications: Annotated[int, Field(ge=1, le=10_000)] = 3
    seed: Seed | None = None
    days: Annotated[float, Field(gt=0, le=3660)] | None = None
    design: Literal["factorial", "lhs"] = "factorial"
    factors: dict[str, Annotated[list[Any], Field(min_length=1, max_length=10_000)]] = Field(default_factory=dict)
    ranges: dict[str, Range] = Field(default_factory=dict)
    samples: Annotated[int, Field(ge=1, le=MAX_DESIGN_POINTS)] = 10
    sample_seed: Seed = 0
    kpis: list[Literal[KPIS]] = Field(default_factory=lambda: list(DEFAULT_KPIS), min_length=1)  # type: ignore[valid-type]
    bad: BadOutcome | None = Field(default=None, description="What counts as a bad run, for the report.")

    @field_validator("ranges", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        """``[low, high]`` is short for ``{low: .., high: ..}``, checked the same way."""
        if not isinstance(value, dict):
            return value
        return {k: {"low": v[0], "high": v[1]} if isinstance(v, list) and len(v) == 2 else v for k, v in value.items()}

    @model_validator(mode="after")
    def _design(self) -> SweepSpec:
        if self.design == "factorial" and not self.factors:
            raise ValueError("a factorial design needs factors: {path: [values...]}")
        if self.design == "lhs" and not self.ranges:
            raise ValueError("a Latin hypercube design needs ranges: {path: [low, high]}")
        points = self.samples if self.design == "lhs" else math.prod(len(v) for v in self.factors.values())
        if points > MAX_DESIGN_POINTS:
            raise ValueError(
                f"the design has {points:,} points, more than {MAX_DESIGN_POINTS:,}; vary fewer values at once "
                "or use design: lhs with samples"
            )
        if points * self.replications > MAX_RUNS:
            raise ValueError(f"{points:,} points x {self.replications} replications is more than {MAX_RUNS:,} runs")
        return self


def parse_path(path: str) -> list[str | int]:
    """``demand[1].daily`` -> ``['demand', 1, 'daily']``."""
    steps: list[str | int] = []
    pos = 0
    for match in _STEP.finditer(path):
        if match.start() != pos and path[pos] != ".":
            raise ValueError(f"cannot read path {path!r}")
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if not steps or pos != len(path):
        raise ValueError(f"cannot read path {path!r}; write e.g. demand[1].daily or crossing_overrides.x.sides.b.lanes")
    return steps


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set a value deep inside a scenario dict; missing mappings are created, list items must exist."""
    steps = parse_path(path)
    target: Any = data
    for step, following in zip(steps, steps[1:], strict=False):
        if isinstance(step, int):
            if not isinstance(target, list) or step >= len(target):
                raise ValueError(f"{path}: no item [{step}] there")
            target = target[step]
        else:
            if not isinstance(target, dict):
                raise ValueError(f"{path}: {step!r} is not inside a mapping")
            if step not in target:
                target[step] = [] if isinstance(following, int) else {}
            target = target[step]
    last = steps[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last >= len(target):
            raise ValueError(f"{path}: no item [{last}] there")
        target[last] = value
    else:
        if not isinstance(target, dict):
            raise ValueError(f"{path}: {last!r} is not inside a mapping")
        target[last] = value


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The factor values of every design point."""
    if spec.design == "factorial":
        names = list(spec.factors)
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*spec.factors.values())]
    rng = np.random.default_rng(spec.sample_seed)
    n = spec.samples
    points: list[dict[str, Any]] = [{} for _ in range(n)]
    for name, r in spec.ranges.items():
        u = (rng.permutation(n) + rng.random(n)) / n  # one value in each of n equal strata
        values = r.low + u * (r.high - r.low)
        for point, v in zip(points, values, strict=True):
            point[name] = int(round(v)) if r.integer else float(v)
    return points


@dataclass
class Sweep:
    """A loaded sweep: its spec and one validated scenario per design point."""

    spec: SweepSpec
    path: Path
    points: list[dict[str, Any]]
    scenarios: list[Scenario]


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file and every design point's scenario."""
    path = Path(path)
    raw, positions = read_raw(path)
    shown = str(path)
    if "base" in raw and isinstance(raw["base"], str):
        raw["base"] = str(path.parent / raw["base"])
    raw.pop("resolved_from", None)
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as err:
        raise ScenarioError(_validation_problems(err, raw, positions, shown)) from None
    base_raw, base_positions = read_raw(spec.base)
    base_raw.setdefault("name", Path(spec.base).stem)
    points = design_points(spec)
    scenarios, problems = [], []
    for k, point in enumerate(points):
        data = copy.deepcopy(base_raw)
        try:
            for factor, value in point.items():
                set_path(data, factor, value)
        except ValueError as exc:
            problems.append(Problem(shown, None, "factors", str(exc)))
            break
        try:
            scenario = validate_data(data, dict(base_positions), f"{shown} (design point {k}: {point})")
        except ScenarioError as err:
            problems += err.problems
            continue
        scenarios.append(with_overrides(scenario, spec.replications, spec.seed, spec.days))
    if spec.bad is not None and scenarios and not problems:
        line = positions.get(("bad",), (shown, None))
        problems += bad_problems(
            spec.bad, spec.kpis, scenarios[0], lambda key: positions.get(("bad", key), line), "bad."
        )
    if problems:
        raise ScenarioError(problems[:50])
    return Sweep(spec, path, points, scenarios)


def run_key(scenario: Scenario, replication: int) -> str:
    """The name a run's results are kept under: same scenario, seed and replication, same key."""
    return f"{scenario_hash(scenario)[:20]}-s{scenario.seed}-r{replication}"


def sweep_task(
    scenario: Scenario, replication: int, point: int, factors: dict[str, Any], kpis: list[str], runs_dir: str
) -> dict[str, Any]:
    """Simulate one run and write its KPI rows (in the worker); return a small summary."""
    key = run_key(scenario, replication)
    target = Path(runs_dir) / f"{key}.parquet"
    t0 = time.perf_counter()
    try:
        output = replicate(Task(scenario, replication))
        k = output.kpis
    except Exception as err:  # noqa: BLE001 - a failed run is recorded and the sweep goes on
        if isinstance(err, ReplicationError):  # the model's own error, as it was raised
            error = f"RunawayError: {err.message}" if err.unstable else err.message
            details = err.details or traceback.format_exc()
        else:
            error, details = f"{type(err).__name__}: {err}", traceback.format_exc()
        record = {
            "key": key,
            "point": point,
            "replication": replication,
            "seed": scenario.seed,
            "factors": factors,
            "error": error,
            "traceback": details,
        }
        write_json(Path(runs_dir) / f"{key}.error.json", record)
        return {"key": key, "ok": False, "error": record["error"]}
    long = k.melt(id_vars=KEYS, value_vars=[c for c in kpis if c in k.columns], var_name="metric", value_name="value")
    long = long.merge(run_verdicts(scenario, output), on=KEYS, how="left")
    long.insert(0, "replication", replication)
    long.insert(0, "seed", scenario.seed)
    long.insert(0, "scenario_sha256", scenario_hash(scenario))
    long.insert(0, "point", point)
    for i, (name, value) in enumerate(factors.items()):
        long.insert(1 + i, name, value)
    atomic_write(target, lambda p: long.to_parquet(p, index=False))
    (Path(runs_dir) / f"{key}.error.json").unlink(missing_ok=True)
    return {"key": key, "ok": True, "seconds": time.perf_counter() - t0, "travellers": output.entities}


def run_verdicts(scenario: Scenario, output: ReplicationOutput) -> pd.DataFrame:
    """Per row of one run: ``overloaded`` (its queue grows without bound, by the run's own backlog trend).

    One replication has no interval over replications: a growing backlog is judged by its
    size alone (``sim.analysis.overload``), so a point near the edge may flip between runs.
    """
    from sim.analysis.overload import STABLE, overload_table

    if output.daily is None:
        return pd.DataFrame(columns=[*KEYS, "overloaded"])
    model = model_of(scenario)
    table = overload_table(
        model,
        [output.daily],
        [output.travellers],
        [output.pools],
        output.kpis,
        scenario.name,
    )
    return table[KEYS].assign(overloaded=(table["verdict"] != STABLE).to_numpy())


def group_rows(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run x crossing x direction x flow (no totals): where a run's overload verdicts are."""
    if table.empty or "overloaded" not in table:
        return table.iloc[0:0]
    rows = table[(table["crossing"] != "ALL") & (table["direction"] != "ALL") & (table["flow"] != "ALL")]
    return rows.drop_duplicates(["point", "replication", *KEYS])


def overloaded_points(table: pd.DataFrame, factors: list[str]) -> list[str]:
    """One line per design point where some run's queue grows without bound, worst first."""
    rows = group_rows(table)
    if rows.empty:
        return []
    bad = rows[rows["overloaded"].fillna(False).astype(bool)]
    lines = []
    for point, g in bad.groupby("point", sort=True):
        first = g.iloc[0]
        values = ", ".join(f"{f}={first[f]}" for f in factors if f in g)
        runs = g["replication"].nunique()
        total = rows[rows["point"] == point]["replication"].nunique()
        named = [f"{c} {d} {f}" for c, d, f in g[KEYS].drop_duplicates().itertuples(index=False, name=None)]
        where = "; ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        lines.append(
            f"design point {point} ({values}): overloaded in {runs} of {total} runs: a queue grows without bound at "
            f"{where}; its mean waits over finished travellers understate the wait"
        )
    return lines


@dataclass
class SweepResult:
    folder: Path
    table: pd.DataFrame
    failures: pd.DataFrame
    ran: int
    skipped: int
    failed: int
    wall: float


def run_sweep(
    sweep: Sweep, out: Path, jobs: int = 1, backend: str = "local", scheduler: str | None = None, progress: Any = None
) -> SweepResult:
    """Run every missing run of the sweep, then write the combined tables."""
    wall0 = time.perf_counter()
    # runs keep no records: the largest design point, once per worker, is what must fit
    biggest = max(sweep.scenarios, key=demand_volume)
    check_memory([(biggest, max(1, jobs), 0)], jobs)
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    tasks, skipped = [], 0
    keys = []
    for k, (scenario, point) in enumerate(zip(sweep.scenarios, sweep.points, strict=True)):
        for r in range(scenario.replications):
            key = run_key(scenario, r)
            keys.append(key)
            if (runs_dir / f"{key}.parquet").exists():
                skipped += 1
                continue
            tasks.append((scenario, r, k, point, sweep.spec.kpis, str(runs_dir)))
    write_json(
        out / "sweep.json",
        {"spec": sweep.spec.model_dump(mode="json"), "points": sweep.points, "runs": keys, "status": "running"},
    )
    done = [0]

    def tick(_i: int, _r: dict[str, Any]) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], len(tasks))

    try:
        results = run_tasks(sweep_task, tasks, jobs, backend, scheduler, tick, chunk=1)
    except BaseException:
        # the workers are stopped by now; one ended in the middle of writing its run leaves
        # that file's temporary part, which the next attempt would never use
        for part in runs_dir.glob(".*.part"):
            part.unlink(missing_ok=True)
        raise
    failed = sum(1 for r in results if not r["ok"])
    table = collect(runs_dir, keys)
    failures = pd.DataFrame(
        [
            json.loads(p.read_text())
            for p in sorted(runs_dir.glob("*.error.json"))
            if p.name[: -len(".error.json")] in set(keys)
        ]
    )
    atomic_write(out / "sweep.parquet", lambda p: table.to_parquet(p, index=False))
    write_csv(out / "sweep.csv", table)
    write_csv(
        out / "failures.csv",
        failures
        if len(failures)
        else pd.DataFrame(columns=["key", "point", "replication", "seed", "factors", "error"]),
    )
    write_json(
        out / "sweep.json",
        {
            "spec": sweep.spec.model_dump(mode="json"),
            "points": sweep.points,
            "runs": keys,
            "status": "complete" if not failed else "complete with failures",
            "failed": failed,
        },
    )
    return SweepResult(out, table, failures, len(tasks) - failed, skipped, failed, time.perf_counter() - wall0)


def collect(runs_dir: Path, keys: list[str]) -> pd.DataFrame:
    """All finished runs of the sweep as one table (a row per run x KPI)."""
    parts = [pd.read_parquet(runs_dir / f"{k}.parquet") for k in keys if (runs_dir / f"{k}.parquet").exists()]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
