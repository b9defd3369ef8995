"""Naming the best of the compared scenarios: procedure KN on one KPI of one row of the tables.

The comparison's replications are KN's first stage (n0 = ``--replications``); after them KN asks
for replication n0, n0 + 1, ... of the scenarios still in contention only, each run exactly as the
comparison would have run it (same seed, same replication index: common random numbers). Those
extra replications keep no records and serve the selection alone: ``comparison.csv`` and every
scenario's tables stay those of the first n0, so selecting never changes the comparison.

KN is fully sequential: it screens after every replication index. With several workers a batch of
indices is run at once for every survivor, and then fed to KN one index at a time, in order,
stopping where KN stops: KN sees the same data in the same order as when run one at a time, so its
decisions and guarantee are the same; replications computed past its end are simply not used.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.comparison import METRICS
from sim.analysis.kpis import ALL
from sim.analysis.selection import KimNelson, Selection, better_is_lower
from sim.experiments.compare import ComparisonResult
from sim.experiments.run import execute
from sim.outputs.selection_sections import statement
from sim.scenario.schema import Scenario

DIRECTIONS = (ALL, "a_to_b", "b_to_a")
SELECTION_COLUMNS = [
    "scenario",
    "crossing",
    "direction",
    "flow",
    "metric",
    "replications",
    "mean",
    "eliminated_at",
    "eliminated_by",
    "identical",
    "is_best",
]
"""``selection.csv``: a row per scenario; ``eliminated_at`` is the replications it had when it was
eliminated (empty if never), ``eliminated_by`` the scenario that was better by more than KN allows, or,
with ``identical``, the one it duplicated: the same value in every replication (``sim.analysis.selection``)."""


DELTA_RANGE = (1e-9, 1e12)
"""The indifference zone's bounds: any KPI's meaningful difference lies inside, and its square stays a float."""


def _rate(s: Scenario, flow: str, *names: str) -> bool:
    """Whether the scenario's costs give ``flow`` any of the rates ``names``."""
    rates = s.costs.flows.get(flow) if s.costs is not None else None
    return rates is not None and any(getattr(rates, n) is not None for n in names)


NEEDS: dict[str, tuple[str, Callable[[Scenario, str], bool]]] = {
    "wagons_per_day": ("a flow counting wagons (occupants: wagons)", lambda s, f: s.flows[f].occupants == "wagons"),
    "persons_per_day": ("a flow counting persons", lambda s, f: s.flows[f].occupants == "persons"),
    "delay_value_per_day": (
        "a value of time (costs.flows.<flow>.value_per_vehicle_hour or value_per_person_hour)",
        lambda s, f: _rate(s, f, "value_per_vehicle_hour", "value_per_person_hour"),
    ),
    "co2_kg_per_day": (
        "idling rates (costs.flows.<flow>: idling_share, idle_fuel_l_per_h and co2_kg_per_l)",
        lambda s, f: _rate(s, f, "co2_kg_per_l"),
    ),
}
"""KPIs that only some scenarios can have, and what a scenario needs for them on the chosen flow."""


class SelectionError(ValueError):
    """The selection cannot be made as asked: a value is missing for the chosen row and KPI."""


@dataclass(frozen=True)
class SelectBest:
    """What to select on: a KPI of one whole-border row, the indifference zone and the confidence.

    ``delta`` is in the KPI's own unit (minutes for waits and times, travellers per day for
    throughput): the smallest difference worth acting on, which only the analyst can say.
    ``max_replications`` caps the replications of each scenario; hitting it voids the guarantee.
    """

    metric: str
    delta: float
    pcs: float = 0.95
    flow: str = ALL
    direction: str = ALL
    max_replications: int = 200

    @property
    def key(self) -> tuple[str, str, str]:
        """The row of the tables: (crossing, direction, flow), always the whole border."""
        return ALL, self.direction, self.flow

    @property
    def minimise(self) -> bool:
        return better_is_lower(self.metric)

    def problems(self, scenarios: list[Scenario], n0: int) -> list[tuple[str, str]]:
        """(option, what is wrong) for everything wrong with this request, found before any simulation."""
        found: list[tuple[str, str]] = []
        if self.metric not in METRICS:
            found.append(
                ("--select-best", f"{self.metric!r} is not a compared KPI; choose one of {', '.join(METRICS)}")
            )
        else:
            try:
                better_is_lower(self.metric)
            except ValueError as err:
                found.append(("--select-best", f"{err}, so no best can be named by it"))
        if not (math.isfinite(self.delta) and DELTA_RANGE[0] <= self.delta <= DELTA_RANGE[1]):
            found.append(
                (
                    "--indifference",
                    f"must be a number from {DELTA_RANGE[0]:g} to {DELTA_RANGE[1]:g} in the KPI's unit, "
                    f"not {self.delta:g}",
                )
            )
        k = len(scenarios)
        if not (1 / k < self.pcs < 1 and round(1.0 - self.pcs, 12) > 0):
            found.append(
                ("--pcs", f"must lie between 1/{k} (a guess among {k} scenarios) and 1 - 1e-12, not {self.pcs:g}")
            )
        if n0 < 2:
            found.append(
                ("--replications", f"the first stage of the selection needs at least 2 replications, not {n0}")
            )
        if self.max_replications < n0:
            found.append(
                ("--max-replications", f"{self.max_replications} is below the first stage's {n0} replications")
            )
        if self.direction not in DIRECTIONS:
            found.append(("--select-direction", f"must be one of {', '.join(DIRECTIONS)}, not {self.direction!r}"))
        lacking = [s.name for s in scenarios if self.flow != ALL and self.flow not in s.flows]
        if lacking:
            flows = sorted({f for s in scenarios for f in s.flows})
            found.append(
                (
                    "--select-flow",
                    f"{self.flow!r} is not a flow of {', '.join(lacking)}; choose ALL or one of {', '.join(flows)}",
                )
            )
        elif self.metric in METRICS:
            found += self._kpi_problems(scenarios)
        return found

    def _kpi_problems(self, scenarios: list[Scenario]) -> list[tuple[str, str]]:
        """A KPI some scenario cannot have on the chosen row: wagons without freight trains, money without rates.

        Found here, before any simulation, rather than as an empty row after the first stage.
        """
        need = NEEDS.get(self.metric)
        if need is None:
            return []
        what, has = need
        lacking = []
        for s in scenarios:
            flows = list(s.flows) if self.flow == ALL else [self.flow]
            if not any(has(s, f) for f in flows):
                lacking.append(s.name)
        found = []
        if lacking:
            where = "any flow" if self.flow == ALL else f"flow {self.flow!r}"
            found.append(("--select-best", f"{self.metric} needs {what} for {where} in {', '.join(lacking)}"))
        if self.metric == "delay_value_per_day":
            currencies = sorted({str(s.costs.currency) for s in scenarios if s.costs is not None})
            if len(currencies) > 1:
                found.append(
                    (
                        "--select-best",
                        f"delay_value_per_day is in {', '.join(currencies)} in different scenarios; "
                        "values in different currencies cannot be ranked",
                    )
                )
        return found


def metric_values(kpis: pd.DataFrame, spec: SelectBest, scenario: str) -> pd.Series:
    """The KPI of the chosen row per replication (indexed by replication), from a KPI table; missing ones refused."""
    crossing, direction, flow = spec.key
    rows = kpis[(kpis["crossing"] == crossing) & (kpis["direction"] == direction) & (kpis["flow"] == flow)]
    values = rows.set_index("replication")[spec.metric].astype(float).sort_index()
    bad = values[~np.isfinite(values.to_numpy())]
    if len(values) == 0 or len(bad):
        where = f"replication {bad.index[0]}" if len(bad) else "any replication"
        raise SelectionError(
            f"{scenario} has no {spec.metric} for crossing {crossing}, direction {direction}, flow {flow} in {where} "
            "(no traveller of that row finished in the observation window); choose another row or KPI"
        )
    return values


def select_best_scenario(
    result: ComparisonResult,
    spec: SelectBest,
    jobs: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    pieces: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> Selection:
    """Run KN from the comparison's replications, adding replications to survivors; record it in ``result``.

    ``result`` gains ``selection`` (the rows of ``selection.csv``) and the manifest's ``selection``
    entry. ``progress(stage - n0, most stages - n0, what)`` is told after each batch.
    """
    wall0 = time.perf_counter()
    runs = result.runs
    names = [r.scenario.name for r in runs]
    n0 = int(result.manifest["replications"])
    first = np.column_stack([metric_values(r.replications, spec, r.scenario.name).to_numpy() for r in runs])
    if first.shape[0] != n0:
        raise SelectionError(f"the first stage has {first.shape[0]} replications of the chosen row, not {n0}")
    alpha = round(1.0 - spec.pcs, 12)  # 0.05, not 0.050000000000000044, in the manifest
    kn = KimNelson(len(runs), n0, alpha, spec.delta, spec.minimise, spec.max_replications)
    kn.start(first)
    bound = min(kn.most_stages, spec.max_replications)
    run_extra = 0
    while not kn.done:
        alive, r = kn.survivors, kn.replications
        # one replication index per free worker and survivor, never past the cap
        batch = min(max(1, -(-jobs // len(alive))), spec.max_replications - r)
        indices = list(range(r, r + batch))
        outputs = execute(
            [runs[i].scenario for i in alive], indices, jobs, None, backend, scheduler, "none", None, pieces
        )
        run_extra += len(outputs)
        values = {
            i: metric_values(pd.concat([o.kpis for o in outputs[a * batch : (a + 1) * batch]]), spec, names[i])
            for a, i in enumerate(alive)
        }
        for index in indices:
            if kn.done:
                break  # computed in the same batch, after KN had ended: not used
            kn.add({i: float(values[i][index]) for i in kn.survivors})
        if progress is not None:
            progress(kn.replications - n0, max(bound - n0, 1), f"{len(kn.survivors)} in contention")
    selection = kn.result()
    result.selection = selection_table(selection, spec, names)
    scenario = result.baseline.scenario
    units = {name: f.unit for name, f in scenario.flows.items()}
    entry = selection_entry(selection, spec, names, run_extra, time.perf_counter() - wall0)
    if spec.metric == "delay_value_per_day" and scenario.costs is not None and scenario.costs.currency:
        entry["currency"] = scenario.costs.currency  # one currency: problems() refuses a mix
    entry["statement"] = statement(entry, (scenario.countries.a, scenario.countries.b), units)
    result.manifest["selection"] = entry
    return selection


def selection_table(selection: Selection, spec: SelectBest, names: list[str]) -> pd.DataFrame:
    """The rows of ``selection.csv``: what each scenario cost and how it fared."""
    crossing, direction, flow = spec.key
    rows = [
        {
            "scenario": names[s.index],
            "crossing": crossing,
            "direction": direction,
            "flow": flow,
            "metric": spec.metric,
            "replications": s.replications,
            "mean": s.mean,
            "eliminated_at": s.eliminated_at,
            "eliminated_by": "" if s.eliminated_by is None else names[s.eliminated_by],
            "identical": s.identical,
            "is_best": s.index == selection.best,
        }
        for s in selection.systems
    ]
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS).astype({"eliminated_at": "Int64"})


def selection_entry(
    selection: Selection, spec: SelectBest, names: list[str], run_extra: int, wall: float
) -> dict[str, Any]:
    """The manifest's account of the selection: settings, KN's constants, how it ended and what it cost."""
    crossing, direction, flow = spec.key
    return {
        "procedure": "KN (Kim and Nelson 2001), c = 1, with common random numbers",
        "metric": spec.metric,
        "crossing": crossing,
        "direction": direction,
        "flow": flow,
        "better": "lower" if selection.minimise else "higher",
        "indifference": spec.delta,
        "pcs": spec.pcs,
        "alpha": selection.alpha,
        "first_stage": selection.n0,
        "eta": selection.eta,
        "h2": selection.h2,
        "max_replications": spec.max_replications,
        "most_stages": selection.most_stages,
        "stages": selection.stages,
        "replications_used": selection.total_replications,
        "replications_run": selection.n0 * len(names) + run_extra,
        "scenarios": len(names),
        "ended_by": selection.ended_by,
        "guarantee": selection.guarantee,
        "best": names[selection.best],
        "in_contention": [names[i] for i in selection.survivors],
        "wall_time_s": round(wall, 3),
    }
