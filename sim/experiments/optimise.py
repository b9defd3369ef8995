"""``optimise``: the fewest servers such that a flow's target holds at each crossing, with a stated confidence.

The guarantee, for a target "metric <= X" at confidence 1 - alpha: for every crossing and
direction of the flow, the one-sided Student-t upper bound at level 1 - alpha of the metric's
mean over the replications is at most X, and the queue does not grow without bound. For a
percentile target the metric is each replication's own percentile (of the waits of the
travellers it finished), so what is bounded is the mean over replications of the
per-replication 95th percentile wait, not a percentile of all waits together. Each row is
bounded on its own (no correction for testing several rows), and the bound is that of the
plan's own runs: with common random numbers every plan tried sees the same travellers.

How: theory's hour-by-hour Erlang C plan (``sim.analysis.staffing_theory``), then a search by
simulation (``sim.experiments.staffing_search``) that adds servers where the line is longest
until the target holds and trims them while it still does, to a local minimum. The plan is
written in the scenario's own terms (``sim.experiments.staffing_plan``); the files by
``sim.experiments.staffing_files``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sim.analysis.staffing_theory import PoolNeed, Target, TheoryError, pool_needs
from sim.experiments.replicate import ReplicationError, model_of
from sim.experiments.run import with_overrides
from sim.experiments.staffing_evaluation import Evaluation, Evaluator
from sim.experiments.staffing_plan import (
    Plan,
    PlanError,
    Staffing,
    choose_crossings,
    scenario_plan,
    staffing,
    theory_plan,
)
from sim.experiments.staffing_search import CrossingSearch, Outcome, Trial, search
from sim.model.compile import Model
from sim.scenario.schema import Scenario

STARTS = ("theory", "scenario")
"""Where the search may start: theory's plan, or the scenario's own servers."""


@dataclass(frozen=True)
class Problem:
    """What is asked, checked: the scenario as run (overrides applied), its pools, theory's plan."""

    scenario: Scenario
    model: Model
    staff: Staffing
    target: Target
    needs: list[PoolNeed]
    theory: Plan

    @property
    def original(self) -> Plan:
        return scenario_plan(self.staff)

    def of_crossing(self, plan: Plan, crossing: str) -> Plan:
        return {k: plan[k] for k in self.staff.of_crossing(crossing)}


def prepare(
    scenario: Scenario,
    flow: str,
    target: Target,
    crossings: Iterable[str] = (),
    replications: int | None = None,
    days: float | None = None,
    seed: int | None = None,
    by_hour: bool = False,
) -> Problem:
    """Check the request and work out theory's plan, before any simulation; ``PlanError`` names what to change."""
    if not target.limit > 0:
        raise PlanError("--max", f"the target must be more than 0 minutes, not {target.limit:g}")
    if not 0.5 < target.confidence < 1:
        raise PlanError("--confidence", f"must be between 0.5 and 1 (both excluded), not {target.confidence:g}")
    scenario = with_overrides(scenario, replications, seed, days)
    if scenario.replications < 2:
        raise PlanError("--replications", "a confidence bound needs at least 2 replications")
    model = model_of(scenario)
    chosen = choose_crossings(model, scenario, flow, crossings)
    staff = staffing(model, scenario, flow, chosen, by_hour)
    try:
        needs = pool_needs(model, flow, chosen, target)
    except TheoryError as err:
        raise PlanError("--max", str(err)) from None
    return Problem(scenario, model, staff, target, needs, theory_plan(staff, needs))


@dataclass
class Optimisation:
    """What ``optimise`` found: each crossing's plan and its evaluation, the scenario's, every trial."""

    problem: Problem
    outcomes: dict[str, Outcome]
    before: dict[str, Evaluation]  # the scenario's own servers (empty if they ran away)
    trials: list[Trial]
    runs: int
    max_runs: int
    start: str
    wall_s: float
    before_failed: str = ""
    """Why the scenario's own servers have no evaluation: a replication ran away (``limits.max_in_system``)."""

    @property
    def plan(self) -> Plan:
        return {k: v for o in self.outcomes.values() for k, v in o.plan.items()}

    @property
    def met(self) -> bool:
        return all(o.met for o in self.outcomes.values())


def optimise(
    problem: Problem,
    start: str = "theory",
    max_runs: int = 200,
    jobs: int = 1,
    on_run: Callable[[int], None] | None = None,
) -> Optimisation:
    """Evaluate the scenario's servers, then search from ``start`` at every crossing (see the module's docstring)."""
    if start not in STARTS:
        raise PlanError("--start", f"must be one of {', '.join(STARTS)}, not {start!r}")
    t0 = time.perf_counter()
    staff = problem.staff
    evaluator = Evaluator(problem.scenario, staff, problem.target, problem.model, jobs)
    original = problem.original
    plans = {c: problem.of_crossing(original, c) for c in staff.crossings}
    # the scenario's servers are only the "before" columns: a queue so long that a replication
    # stops (limits.max_in_system) is the very case a plan is wanted for, so the search goes on
    failed = ""
    try:
        before = evaluator.evaluate(plans, on_run)
    except ReplicationError as err:
        if not err.unstable:
            raise
        before, failed = {}, f"the scenario's own servers: {err.message}"
    trials = [Trial(c, "scenario", "the scenario's servers", plans[c], before[c], False, False) for c in before]
    first, words = (problem.theory, "theory (SIPP, Erlang C)") if start == "theory" else (original, "the scenario's")
    searches = [CrossingSearch(c, staff, problem.of_crossing(first, c), words) for c in staff.crossings]
    outcomes, more = search(evaluator, searches, max_runs, on_run)
    return Optimisation(
        problem, outcomes, before, trials + more, evaluator.runs, max_runs, start, time.perf_counter() - t0, failed
    )
