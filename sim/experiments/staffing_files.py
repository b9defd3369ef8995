"""What ``optimise`` writes: the plan as a scenario fragment, its tables, a manifest and a short report.

The folder is built under a temporary name and appears under its own only when complete
(``sim.outputs.files.ResultsFolder``), so a plan is never half-written.

- ``plan.yaml``: ``extends`` the scenario, with ``crossing_overrides`` giving the planned
  servers; ``bordersim run plan.yaml`` with the same replications, days and seed gives
  ``target.csv``'s numbers again;
- ``plan.csv``: per crossing, side, stage, pool and hour, the scenario's, theory's and the
  plan's servers;
- ``theory.csv``: per pool of the model (one direction) and hour, the arrival rate, mean
  service, offered load and servers theory asks for;
- ``target.csv``: per crossing x direction, the metric's mean, its interval, the upper bound
  the target is judged on, under the plan and under the scenario's servers;
- ``search.csv``: every plan tried, with its rows;
- ``manifest.json`` and ``report.html``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from sim.analysis.intervals import t_interval
from sim.analysis.staffing_theory import HOURS
from sim.calibration.fragment import number
from sim.experiments.optimise import Optimisation
from sim.experiments.provenance import versions
from sim.experiments.staffing_plan import fragment_text
from sim.outputs.files import ResultsFolder, write_csv, write_json, write_text
from sim.outputs.html import data_table, el, join, page
from sim.scenario.loader import scenario_hash


def guarantee(result: Optimisation) -> str:
    """The guarantee in one sentence (the module docstring of ``sim.experiments.optimise`` explains it)."""
    p = result.problem
    t = p.target
    # a percentile is each replication's own: what is bounded is the mean of those
    what = (
        f"the {t.quantity}" if t.quantile is None else f"the mean over replications of the per-replication {t.quantity}"
    )
    return (
        f"For {p.staff.flow} at each crossing and in each direction, {what} is at most {t.limit:g} min with "
        f"{100 * t.confidence:g}% confidence (one-sided Student t bound over {p.scenario.replications} "
        "replications), and no queue grows without bound."
    )


def run_flags(result: Optimisation) -> str:
    s = result.problem.scenario
    return f"--replications {s.replications} --days {number(s.horizon / 1440, 17)} --seed {s.seed}"


def plan_table(result: Optimisation) -> pd.DataFrame:
    p, plan = result.problem, result.plan
    rows = []
    for key, spec in p.staff.pools.items():
        for hour in range(HOURS):
            rows.append(
                {
                    "crossing": key.crossing,
                    "side": key.side,
                    "stage": key.stage,
                    "pool": key.pool,
                    "shift_plan": spec.shifts,
                    "hour": hour,
                    "scenario_servers": spec.scenario[hour],
                    "theory_servers": p.theory[key][hour],
                    "servers": plan[key][hour],
                }
            )
    return pd.DataFrame(rows)


def theory_table(result: Optimisation) -> pd.DataFrame:
    rows = []
    for need in result.problem.needs:
        pool = result.problem.model.pools[need.pool]
        for hour in range(HOURS):
            rows.append(
                {
                    "crossing": pool.crossing,
                    "direction": pool.direction,
                    "side": pool.side,
                    "role": pool.role,
                    "stage": pool.stage,
                    "pool": pool.pool,
                    "hour": hour,
                    "arrivals_per_hour": 60.0 * need.arrivals[hour],
                    "mean_service_min": need.mean_service[hour],
                    "offered_load": need.arrivals[hour] * need.mean_service[hour],
                    "servers_needed": int(need.servers[hour]),
                }
            )
    return pd.DataFrame(rows)


def target_table(result: Optimisation) -> pd.DataFrame:
    p = result.problem
    rows = []
    for crossing, outcome in result.outcomes.items():
        evaluated = result.before.get(crossing)  # none if the scenario's servers ran away
        before = {r.direction: r for r in evaluated.rows} if evaluated is not None else {}
        for row in outcome.evaluation.rows:
            _, low, high = t_interval(row.values, level=p.target.confidence, drop_nan=False)
            was = before.get(row.direction)
            rows.append(
                {
                    "crossing": crossing,
                    "direction": row.direction,
                    "flow": p.staff.flow,
                    "metric": p.target.metric,
                    "target_min": p.target.limit,
                    "confidence": p.target.confidence,
                    "replications": len(row.values),
                    "mean": row.mean,
                    "ci_low": low,
                    "ci_high": high,
                    "upper_bound": row.high,
                    "holds": row.holds,
                    "verdict": row.verdict,
                    "scenario_mean": was.mean if was else float("nan"),
                    "scenario_upper_bound": was.high if was else float("nan"),
                    "scenario_holds": was.holds if was else False,
                    "search": outcome.status,
                }
            )
    return pd.DataFrame(rows)


def search_table(result: Optimisation) -> pd.DataFrame:
    staff = result.problem.staff
    rows = []
    for k, trial in enumerate(result.trials):
        for row in trial.evaluation.rows:
            rows.append(
                {
                    "trial": k,
                    "evaluation": trial.evaluation.evaluation,
                    "cached": trial.cached,
                    "crossing": trial.crossing,
                    "phase": trial.phase,
                    "change": trial.change,
                    "booth_hours_per_day": staff.booth_hours(trial.plan, trial.crossing),
                    "direction": row.direction,
                    "mean": row.mean,
                    "upper_bound": row.high,
                    "verdict": row.verdict,
                    "row_holds": row.holds,
                    "holds": trial.evaluation.holds,
                    "kept": trial.accepted,
                }
            )
    return pd.DataFrame(rows)


def header_lines(result: Optimisation) -> list[str]:
    """The comments at the top of ``plan.yaml``: what holds, how it was found, how to check it."""
    p = result.problem
    lines = [
        f"Staffing plan by bordersim optimise for {p.staff.flow}: target {p.target.describe()}.",
        guarantee(result),
        f"Evaluated with {run_flags(result)} (common random numbers: every plan saw the same travellers);",
        f"bordersim run plan.yaml {run_flags(result)} gives target.csv's numbers again.",
        f"Started from {'theory (SIPP, Erlang C)' if result.start == 'theory' else 'the scenario'}; "
        f"{result.runs} simulation runs. Servers apply in both directions of travel.",
    ]
    for crossing, o in result.outcomes.items():
        hours = (p.staff.booth_hours(result.problem.original, crossing), p.staff.booth_hours(o.plan, crossing))
        lines.append(f"{crossing}: {o.status}; booth-hours per day {hours[0]:g} in the scenario, {hours[1]:g} planned.")
    return lines


def summary_lines(result: Optimisation) -> list[str]:
    """What the command prints: per crossing, its end, booth-hours and rows against the target."""
    p = result.problem
    staff = p.staff
    total = (staff.booth_hours(p.original), staff.booth_hours(p.theory), staff.booth_hours(result.plan))
    lines = [
        guarantee(result),
        f"booth-hours per day, both directions: scenario {total[0]:g}, theory {total[1]:g}, plan {total[2]:g}",
    ]
    if result.before_failed:
        lines.append(f"not evaluated: {result.before_failed}")
    for crossing, o in result.outcomes.items():
        lines.append(f"{crossing}: {o.status}")
        for row in o.evaluation.rows:
            mark = "holds" if row.holds else ("FAILS" if row.verdict == "stable" else f"FAILS ({row.verdict})")
            lines.append(
                f"  {row.direction}: {p.target.metric} mean {row.mean:.3g}, upper bound {row.high:.3g} "
                f"vs {p.target.limit:g}: {mark}"
            )
    return lines


def report_page(result: Optimisation, tables: dict[str, pd.DataFrame]) -> str:
    p = result.problem
    plan = tables["plan"]
    compact = plan.groupby(["crossing", "side", "stage", "pool"], sort=False).agg(
        scenario=("scenario_servers", _counts), theory=("theory_servers", _counts), plan=("servers", _counts)
    )
    sections = [
        el("p", guarantee(result)),
        el("ul", join(el("li", line) for line in summary_lines(result)[1:])),
        el("h2", "Against the target"),
        data_table(tables["target"].drop(columns=["flow", "metric", "confidence"])),
        el("h2", "Servers per direction (a count, or one per hour from 00:00)"),
        data_table(compact.reset_index()),
        el("p", f"Search: {result.runs} simulation runs (bound {result.max_runs}); every trial is in search.csv."),
    ]
    return page(f"Staffing plan: {p.scenario.name}, {p.staff.flow}", sections)


def _counts(values: pd.Series) -> str:
    v = [int(x) for x in values]
    return str(v[0]) if len(set(v)) == 1 else " ".join(map(str, v))


def manifest(result: Optimisation, scenario_file: Path) -> dict:
    p = result.problem
    s = p.scenario
    return {
        "scenario": s.name,
        "scenario_file": str(scenario_file),
        "scenario_sha256": scenario_hash(s),
        "seed": s.seed,
        "replications": s.replications,
        "horizon_min": s.horizon,
        "warmup_min": s.warmup,
        "versions": versions(),
        "optimise": {
            "flow": p.staff.flow,
            "metric": p.target.metric,
            "target_min": p.target.limit,
            "confidence": p.target.confidence,
            "crossings": list(p.staff.crossings),
            "start": result.start,
            "simulation_runs": result.runs,
            "max_evaluations": result.max_runs,
            "met": result.met,
            "status": {c: o.status for c, o in result.outcomes.items()},
            "scenario_not_evaluated": result.before_failed,
            "wall_time_s": round(result.wall_s, 3),
        },
    }


def write(result: Optimisation, folder: ResultsFolder, scenario_file: Path) -> Path:
    """Every file into the reserved folder, then the folder into place; returns its path."""
    tables = {
        "plan": plan_table(result),
        "theory": theory_table(result),
        "target": target_table(result),
        "search": search_table(result),
    }
    extends = os.path.relpath(scenario_file.resolve(), folder.final)
    name = f"{result.problem.scenario.name[:110]}_plan"
    fragment = fragment_text(
        result.problem.staff, result.plan, result.problem.theory, header_lines(result), extends, name
    )
    write_text(folder.tmp / "plan.yaml", fragment)
    for key, table in tables.items():
        write_csv(folder.tmp / f"{key}.csv", table)
    write_json(folder.tmp / "manifest.json", manifest(result, scenario_file))
    write_text(folder.tmp / "report.html", report_page(result, tables))
    return folder.place()
