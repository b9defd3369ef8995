"""The search for the fewest servers: add where the line is longest until the target holds, then trim.

Each crossing is searched on its own (crossings no route links are separate systems), but
all crossings still searching are simulated together, one plan each, in one run per step;
what one crossing's plan gives never depends on another's.

1. **Start** from theory's plan (or the scenario's servers).
2. **Add** while a row fails: take the worst row (overloaded first, then by its upper bound
   over the target), the pool on its route with the longest mean line, and give it one more
   server: at every hour if it has one count for the day, else at the hour where it takes
   the most off the line (``best_hour``).
3. **Trim**: try taking one server away from each pool (at one hour, for a shift plan),
   those with the most servers first, and keep the removal when the target still holds;
   the same runs and seeds (common random numbers) make "still holds" a fair comparison. A
   removal refused is not tried again while the plan only shrinks (fewer servers never
   shorten lines, on average), except in the last round, which tries every one refused at
   an earlier plan once more at the final plan: the search stops only when no single
   server can be removed, tested at the final plan itself.

The number of simulation runs is bounded; a search stopped by the bound says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.experiments.staffing_evaluation import Evaluation, Evaluator, plan_key
from sim.experiments.staffing_plan import Plan, ScenarioPool, Staffing
from sim.model.routing import MAX_BOOTHS

QUEUED = 1e-9
"""A pool whose mean line is shorter than this has nobody waiting: adding servers there does not help."""

Block = tuple[ScenarioPool, int | None]
"""What one step changes: a pool at every hour (None), or at one hour of a shift plan."""

LOCAL_MINIMUM = "local minimum: no single server can be removed"
NOT_MET = "target not met"
BUDGET = "stopped: the bound on simulation runs was reached"


@dataclass
class Trial:
    """One plan tried for one crossing: a row of ``search.csv``."""

    crossing: str
    phase: str  # scenario, start, add, trim
    change: str
    plan: Plan
    evaluation: Evaluation
    accepted: bool
    cached: bool


@dataclass
class Outcome:
    """Where a crossing's search ended."""

    crossing: str
    plan: Plan
    evaluation: Evaluation
    status: str
    met: bool
    minimal: bool


def _changed(plan: Plan, block: Block, by: int) -> Plan:
    pool, hour = block
    counts = list(plan[pool])
    for h in range(len(counts)) if hour is None else (hour,):
        counts[h] += by
    return {**plan, pool: tuple(counts)}


def _words(block: Block, by: int) -> str:
    pool, hour = block
    when = "" if hour is None else f" at {hour:02d}:00"
    return f"{'one more' if by > 0 else 'one fewer'}: {pool.describe()}{when}"


@dataclass
class CrossingSearch:
    """One crossing's search, a step at a time: ``propose`` a plan, ``observe`` what it gave."""

    crossing: str
    staff: Staffing
    start: Plan
    start_words: str
    minimum: int = 1
    plan: Plan = field(init=False)
    result: Evaluation | None = field(default=None, init=False)
    phase: str = field(default="start", init=False)
    trial: Plan | None = field(default=None, init=False)
    block: Block | None = field(default=None, init=False)
    words: str = field(default="", init=False)
    status: str | None = field(default=None, init=False)
    refused: dict[Block, tuple] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.plan = self.start

    def propose(self) -> Plan | None:
        """The next plan to try, or None when the search is over (``status`` says why)."""
        if self.status is not None:
            return None
        if self.result is None:
            self.trial, self.words = self.start, self.start_words
            return self.trial
        if self.phase == "add":
            self.block = self._addition(self.result)
            if self.block is None:
                self.status = f"{NOT_MET}: no line on the failing routes that another server would shorten"
                return None
            self.trial, self.words = _changed(self.plan, self.block, +1), _words(self.block, +1)
            return self.trial
        self.block = self._removal()
        if self.block is None:
            self.status = LOCAL_MINIMUM
            return None
        self.trial, self.words = _changed(self.plan, self.block, -1), _words(self.block, -1)
        return self.trial

    def observe(self, result: Evaluation) -> bool:
        """Take the result of the proposed plan; return whether the plan was kept."""
        assert self.trial is not None
        if self.phase in ("start", "add"):
            self.plan, self.result = self.trial, result
            self.phase = "trim" if result.holds else "add"
            return True
        assert self.block is not None
        if result.holds:
            self.plan, self.result = self.trial, result
            return True
        self.refused[self.block] = plan_key(self.plan)
        return False

    @property
    def outcome(self) -> Outcome:
        assert self.result is not None
        met = self.result.holds
        status = self.status or (BUDGET if met else f"{NOT_MET} ({BUDGET})")
        return Outcome(self.crossing, self.plan, self.result, status, met, status == LOCAL_MINIMUM)

    def _addition(self, result: Evaluation) -> Block | None:
        """One more server where the worst failing row's line is longest (see the module's docstring)."""
        owner = self.staff.owner()
        for row in sorted((r for r in result.rows if not r.holds), key=lambda r: -r.severity):
            route = self.staff.routes[(row.crossing, row.direction)]
            queued = [p for p in route if result.queue.get(p, 0.0) > QUEUED and max(self.plan[owner[p]]) < MAX_BOOTHS]
            if not queued:
                continue
            pool = max(queued, key=lambda p: (result.queue[p], result.utilization.get(p, 0.0), -p))
            key = owner[pool]
            if not self.staff.pools[key].shifts:
                return key, None
            by_hour = result.queue_by_hour.get(pool, np.zeros(len(self.plan[key])))
            return key, best_hour(by_hour)
        return None

    def _removal(self) -> Block | None:
        """The next server to try taking away: most servers first; refused ones only in the last round."""
        blocks: list[tuple[int, Block]] = []
        for key in self.staff.of_crossing(self.crossing):
            counts = self.plan[key]
            hours: list[int | None] = list(range(len(counts))) if self.staff.pools[key].shifts else [None]
            for hour in hours:
                least = min(counts) if hour is None else counts[hour]
                if least > self.minimum:
                    blocks.append((least, (key, hour)))
        blocks.sort(key=lambda b: (-b[0], b[1][0], -1 if b[1][1] is None else b[1][1]))
        current = plan_key(self.plan)
        for _, block in blocks:
            if block not in self.refused:
                return block
        for _, block in blocks:  # the last round: refused at an earlier, larger plan
            if self.refused[block] != current:
                return block
        return None


def best_hour(line: np.ndarray) -> int:
    """The hour of the day where one more server would take the most off the line, by its mean length per hour.

    A server added at hour h serves travellers only while there is a line, and what it takes
    off the line then stays off until the line runs out: at a later hour at most the
    shortest line since h. So hour h is scored by the sum, over h and the hours after it
    (past midnight too) until the line runs out, of the shortest line since h; the first
    hour of a long congested stretch can then beat the hour the line peaks at.
    """
    n = len(line)
    best, where = -1.0, int(np.argmax(line))
    for h in range(n):
        shortest, total = float("inf"), 0.0
        for k in range(n):
            shortest = min(shortest, float(line[(h + k) % n]))
            if shortest <= QUEUED:
                break
            total += shortest
        if total > best + 1e-12:
            best, where = total, h
    return where


def search(
    evaluator: Evaluator,
    searches: list[CrossingSearch],
    max_runs: int,
    on_run: Callable[[int], None] | None = None,
) -> tuple[dict[str, Outcome], list[Trial]]:
    """Run every crossing's search to its end, or until it has made ``max_runs`` simulation runs."""
    trials: list[Trial] = []
    first = evaluator.runs
    active = {s.crossing: s for s in searches}
    proposals = {c: s.propose() for c, s in active.items()}
    while True:
        proposals = {c: p for c, p in proposals.items() if p is not None}
        if not proposals:
            break
        fresh = any(not evaluator.known(c, p) for c, p in proposals.items())
        started = all(active[c].result is not None for c in proposals)  # a start is always run
        if fresh and started and evaluator.runs - first >= max_runs:
            break
        # the line by hour guides additions only: trimming needs none of it
        adding = any(active[c].phase in ("start", "add") for c in proposals)
        results = evaluator.evaluate(proposals, on_run, hours=adding)
        for crossing, plan in proposals.items():
            s = active[crossing]
            phase, words = s.phase, s.words
            kept = s.observe(results[crossing])
            cached = results[crossing].evaluation != evaluator.runs or not fresh
            trials.append(Trial(crossing, phase, words, plan, results[crossing], kept, cached))
        proposals = {c: active[c].propose() for c in proposals}
    return {c: s.outcome for c, s in active.items()}, trials
