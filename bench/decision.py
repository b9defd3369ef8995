"""Benchmark: what the decision-support features cost, beside the simulations they are made of.

Four parts, each measurement in a fresh process (``common.measure``); every repeat measures each
part's items once, in the reverse order on odd repeats, so that drift in the machine's speed hits
all alike and each pair of items goes first as often as the other. Plain SimPy's customers per
CPU-second on the tandem queue of ``bench/tandem.py``, measured once per repeat, are the machine's
yardstick; every item's CPU time is also given as **plain-SimPy customers**: how many customers
the plain model simulates in the same CPU time on the same machine, in the same repeat (a
machine-independent size of the work, like tandem.py's ratio).

* ``optimise``: ``sim.experiments.optimise.prepare`` and ``optimise`` on
  ``scenarios/kz_ru_2011_customs_union.yaml``, flow truck, target "p95 wait of trucks at most
  120 min at 95% confidence", at Kairak–Bugristoe and Kurmangazy–Karaozek, 5 replications of
  4 days, one job (the command of ``docs/optimise.md``). The yardstick is one evaluation alone:
  the same two crossings simulated once with the scenario's servers, 5 replications of 4 days,
  exactly the first of the runs ``optimise`` makes. "CPU / one evaluation" against the number
  of evaluations says what the search costs beyond its simulations. ``--by-hour`` adds the same
  search planning every hour (shift plans, with visit records kept): minutes a run.
* ``selection``: ``sim.experiments.compare.compare`` of four Kazakhstan–Russia regimes (the
  customs union of 2011, joint control everywhere, no simplified crossings, the customs checks
  of 2025), 10 replications of 2 days, records none, then
  ``sim.experiments.selection_run.select_best_scenario`` (KN on trucks' p95 wait over the whole
  border, indifference 0.1 min, 95%, at most 200 replications each), as ``bordersim compare
  --select-best`` does. The two phases are timed inside one process, one after the other: the
  selection's cost is the difference between two runs of over a minute, which separate
  processes on a shared machine could not resolve. With the documented indifference of 5 min on
  the mean wait KN ends at the first stage and adds nothing; 0.1 min on the p95 wait makes it
  add replications, which is what it costs. Then KN's bookkeeping alone
  (``sim.analysis.selection.select_best``): 200 selections among k = 10 normal systems of unit
  variance, the best better than the nine others by delta = 0.5 (the slippage configuration),
  n0 = 10, 95%, values drawn before the clock starts: microseconds per replication and per stage.
* ``sweep``: ``sim.analysis.sensitivity.standardised_regression`` (1,000 bootstrap draws) on the
  point means of a synthetic sweep of 400 Latin hypercube points x 5 replications with 6
  factors, and ``sim.analysis.prim.prim`` (as the report calls it) on its 2,000 runs; then the
  whole report of a sweep folder (``sim.outputs.sweep_report.sweep_report``: sensitivity of
  every KPI for two rows, PRIM, charts, ``report.html``) for ``sweeps/tutorial_truck_booths.yaml``
  (9 points x 3 replications of 4 days), run once before the measurements, with a bad run
  defined as trucks' p95 wait from A to B over 60 min.
* ``costs``: one replication of the whole border (8 days, records none) as it is, with its
  costs of delay, and with ``costs`` removed: the ratio of their CPU times, taken within each
  repeat, is what pricing the delay adds to a run. The cost columns themselves (hours of delay,
  then value, fuel, CO2, PM2.5) are made with or without rates, so their whole cost is clocked
  inside the run too: the CPU time spent in ``sim.analysis.costs.cost_columns``.

Printed per part: CPU and wall seconds, peak RSS and set-up RSS (before the work), medians with
the range over ``--repeats`` in parentheses, and the part's own figures.

Run: ``python bench/decision.py [--repeats 3] [--only optimise|selection|sweep|costs] [--by-hour]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common import (
    MIB,
    WARM_MODULES,
    Measurement,
    Spread,
    Task,
    check_consistent,
    freeze_sources,
    measure,
    one_replication,
    per_cpu,
    print_versions,
    source_hash,
    table,
    warm_imports,
)

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
SWEEPS = REPO / "sweeps"
BORDER = "kz_ru_2011_customs_union.yaml"
REGIMES = (BORDER, "kz_ru_joint_control_all.yaml", "kz_ru_no_simplified.yaml", "kz_ru_2025_customs_checks.yaml")
SWEEP = "tutorial_truck_booths.yaml"
SWEEP_BAD = "wait_p95_min > 60 where direction=a_to_b flow=truck"

OPTIMISE_CROSSINGS = ("kairak_bugristoe_road", "kurmangazy_karauzek_road")
OPTIMISE_RUNS = {"replications": 5, "days": 4.0}
COMPARE_RUNS = {"replications": 10, "days": 2.0}
SELECT = {"metric": "wait_p95_min", "delta": 0.1, "pcs": 0.95, "flow": "truck", "max_replications": 200}
COSTS_DAYS = 8.0
KN_SYSTEMS, KN_FIRST, KN_DELTA, KN_SELECTIONS = 10, 10, 0.5, 200
KN_STAGES = 1024  # values drawn per selection before the clock; a longer selection draws the rest as it goes
SWEEP_POINTS, SWEEP_REPLICATIONS, SWEEP_FACTORS = 400, 5, 6

PARTS = ("optimise", "selection", "sweep", "costs")
ITEMS: dict[str, tuple[str, ...]] = {
    "optimise": ("optimise", "one evaluation"),
    "selection": ("compare + select-best", "KN bookkeeping"),
    "sweep": ("standardised regression", "PRIM", "sweep report"),
    "costs": ("with costs", "without costs"),
}
BY_HOUR = "optimise, by hour"
PLAIN = "plain SimPy (tandem)"

# modules each part imports on first use, loaded before the clock starts (as common.WARM_MODULES)
RUN_MODULES = (
    *WARM_MODULES,
    "sim.policies.diversion",
    "sim.policies.route_choice",
    "sim.policies.wait_board",
    "sim.policies.weather",
)
OPTIMISE_MODULES = (
    "sim.experiments.optimise",
    "sim.experiments.staffing_evaluation",
    "sim.experiments.staffing_search",
    "sim.experiments.staffing_plan",
    "sim.analysis.staffing_theory",
    "sim.outputs.records",
)
SHIFT_MODULES = ("pyarrow.dataset", "pyarrow.substrait")  # the visit records a shift plan reads (--by-hour)
COMPARE_MODULES = (
    "sim.experiments.compare",
    "sim.experiments.selection_run",
    "sim.analysis.comparison",
    "sim.analysis.selection",
    "sim.outputs.selection_sections",
)
REPORT_MODULES = (
    "sim.outputs.sweep_report",
    "sim.outputs.report",
    "sim.outputs.sweep_charts",
    "sim.outputs.sweep_sections",
    "sim.experiments.bad_outcome",
    "matplotlib.pyplot",
    "matplotlib.backends.backend_agg",
    "matplotlib.backends.backend_svg",
    "PIL.PngImagePlugin",
    "PIL.BmpImagePlugin",
    "PIL.GifImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PpmImagePlugin",
    "pandas.core.reshape.reshape",
    "pandas.core.arrays.arrow.extension_types",
    "pyarrow.dataset",
    "pyarrow.substrait",
)


# -- optimise ------------------------------------------------------------------------------------
def optimise_task(scenarios: str, by_hour: bool) -> Task:
    """The timed work: ``prepare`` (checks, theory's plan) and the whole search, one job."""
    import sim
    from sim.analysis.staffing_theory import Target
    from sim.experiments.optimise import optimise, prepare

    warm_imports((*RUN_MODULES, *OPTIMISE_MODULES, *(SHIFT_MODULES if by_hour else ())))
    scenario = sim.load_scenario(Path(scenarios) / BORDER)
    target = Target("wait_p95_min", 120, 0.95)

    def work() -> Any:
        problem = prepare(scenario, "truck", target, OPTIMISE_CROSSINGS, by_hour=by_hour, **OPTIMISE_RUNS)
        return optimise(problem)

    def finish(result: Any) -> dict[str, Any]:
        return {"evaluations": result.runs, "trials": len(result.trials), "met": result.met}

    return Task(work, finish)


def evaluation_task(scenarios: str) -> Task:
    """The yardstick: one evaluation of the scenario's own servers, the first run ``optimise`` makes."""
    import sim
    from sim.analysis.staffing_theory import Target
    from sim.experiments.optimise import prepare
    from sim.experiments.staffing_evaluation import Evaluator

    warm_imports((*RUN_MODULES, *OPTIMISE_MODULES))
    scenario = sim.load_scenario(Path(scenarios) / BORDER)
    problem = prepare(scenario, "truck", Target("wait_p95_min", 120, 0.95), OPTIMISE_CROSSINGS, **OPTIMISE_RUNS)
    plans = {c: problem.of_crossing(problem.original, c) for c in problem.staff.crossings}

    def work() -> Any:
        evaluator = Evaluator(problem.scenario, problem.staff, problem.target, problem.model, 1)
        evaluator.evaluate(plans)
        return evaluator

    def finish(evaluator: Any) -> dict[str, Any]:
        return {"evaluations": evaluator.runs}

    return Task(work, finish)


# -- ranking and selection -----------------------------------------------------------------------
def selection_task(scenarios: str) -> Task:
    """The timed work: the comparison, then KN on its result; the split between them is timed inside."""
    import resource

    import sim
    from sim.experiments.compare import compare
    from sim.experiments.selection_run import SelectBest, select_best_scenario

    warm_imports((*RUN_MODULES, *COMPARE_MODULES))
    loaded = [sim.load_scenario(Path(scenarios) / name) for name in REGIMES]
    spec = SelectBest(**SELECT)

    def work() -> Any:
        c0, t0 = time.process_time(), time.perf_counter()
        result = compare(loaded[0], loaded[1:], records="none", **COMPARE_RUNS)
        c1, t1 = time.process_time(), time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
        select_best_scenario(result, spec)
        c2, t2 = time.process_time(), time.perf_counter()
        return result, {
            "compare_cpu": c1 - c0,
            "compare_wall": t1 - t0,
            "compare_rss_kib": rss,
            "select_cpu": c2 - c1,
            "select_wall": t2 - t1,
        }

    def finish(out: Any) -> dict[str, Any]:
        result, phases = out
        entry = result.manifest["selection"]
        keep = ("best", "ended_by", "stages", "most_stages", "replications_used", "replications_run", "first_stage")
        return {**phases, **{k: entry[k] for k in keep}, "scenarios": len(REGIMES)}

    return Task(work, finish)


def kn_task(selections: int) -> Task:
    """The timed work: ``selections`` runs of ``select_best`` to the end, on values drawn beforehand."""
    import numpy as np

    from sim.analysis.selection import select_best

    means = np.full(KN_SYSTEMS, KN_DELTA)
    means[0] = 0.0  # lower is better: system 0 is the best, by exactly delta
    rng = np.random.default_rng(2026)
    tables = [means + rng.standard_normal((KN_STAGES, KN_SYSTEMS)) for _ in range(selections)]

    def sampler(values: Any) -> Callable[[list[int], int], dict[int, float]]:
        def sample(systems: list[int], r: int) -> dict[int, float]:
            row = values[r] if r < len(values) else means + rng.standard_normal(KN_SYSTEMS)
            return {i: float(row[i]) for i in systems}

        return sample

    def work() -> list[Any]:
        return [select_best(sampler(values), KN_SYSTEMS, KN_FIRST, 0.05, KN_DELTA, minimise=True) for values in tables]

    def finish(found: list[Any]) -> dict[str, Any]:
        return {
            "selections": len(found),
            "replications": sum(s.total_replications for s in found),
            "stages": sum(s.stages for s in found),
            "correct": sum(s.best == 0 for s in found),
        }

    return Task(work, finish)


# -- sweep analysis ------------------------------------------------------------------------------
def synthetic_sweep(seed: int = 7) -> tuple[Any, Any, Any]:
    """A sweep's tables as the report reads them: factors per point, each point's mean, every run.

    Six factors of the kind ``sweeps/kz_ru_truck_checks.yaml`` varies (demand multipliers, shares,
    booth counts as integers, so that PRIM meets ties), a Latin hypercube, and a truck p95 wait
    that rises steeply with demand and checks and falls with booths, with noise between
    replications; a run is bad above 240 min, about a fifth of them.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = SWEEP_POINTS
    u = (np.argsort(rng.random((SWEEP_FACTORS, n)), axis=1).T + rng.random((n, SWEEP_FACTORS))) / n
    design = pd.DataFrame(
        {
            "truck_demand": 0.8 + 0.8 * u[:, 0],
            "checked_share": 0.05 + 0.45 * u[:, 1],
            "unloaded_share": 0.05 + 0.45 * u[:, 2],
            "customs_booths": np.floor(1 + 6 * u[:, 3]),
            "car_demand": 0.8 + 0.4 * u[:, 4],
            "border_booths": np.floor(2 + 7 * u[:, 5]),
        }
    )
    load = design.truck_demand * (1 + 2 * design.checked_share * (1 + design.unloaded_share))
    mean = 20 + 60 * load**2 / np.sqrt(design.customs_booths) - 4 * design.border_booths + 10 * design.car_demand
    runs = design.loc[np.repeat(np.arange(n), SWEEP_REPLICATIONS)].reset_index(drop=True)
    waits = np.repeat(mean.to_numpy(), SWEEP_REPLICATIONS) * rng.lognormal(0, 0.25, len(runs))
    point_means = waits.reshape(n, SWEEP_REPLICATIONS).mean(axis=1)
    return design, point_means, (runs, waits > 240)


def regression_task() -> Task:
    """The timed work: SRCs with 1,000 bootstrap draws, on the point means (as the report fits them)."""
    from sim.analysis.sensitivity import standardised_regression

    design, point_means, _ = synthetic_sweep()

    def work() -> Any:
        return standardised_regression(design, point_means, bootstrap=1000, seed=0)

    def finish(result: Any) -> dict[str, Any]:
        return {"r2": result.r2, "rows": result.n}

    return Task(work, finish)


def prim_task() -> Task:
    """The timed work: PRIM on every run, with the report's settings (80% density, balanced choice)."""
    from sim.analysis.prim import prim
    from sim.analysis.sweep_tables import DENSITY_THRESHOLD

    _, _, (runs, bad) = synthetic_sweep()

    def work() -> Any:
        return prim(runs, bad, threshold=DENSITY_THRESHOLD, choose="balance")

    def finish(result: Any) -> dict[str, Any]:
        return {"runs": result.n, "bad": result.n_bad, "peels": len(result.trajectory), "box": len(result.box)}

    return Task(work, finish)


def sweep_prepare_task(sweeps: str, folder: str) -> Task:
    """Not a measurement: run the tutorial sweep once into ``folder`` (its figures are only reported)."""
    from sim.experiments.sweep import load_sweep, run_sweep

    sweep = load_sweep(Path(sweeps) / SWEEP)

    def work() -> Any:
        return run_sweep(sweep, Path(folder), jobs=1)

    def finish(result: Any) -> dict[str, Any]:
        return {"runs": result.ran, "points": len(sweep.points), "rows": len(result.table)}

    return Task(work, finish)


def sweep_report_task(sweeps: str, prepared: str, scratch: str) -> Task:
    """The timed work: the whole report of a fresh copy (under ``scratch``) of the prepared sweep folder."""
    from sim.experiments.bad_outcome import bad_from_option
    from sim.experiments.sweep import load_sweep
    from sim.outputs.sweep_report import sweep_report

    warm_imports((*WARM_MODULES, *REPORT_MODULES))
    sweep = load_sweep(Path(sweeps) / SWEEP)
    bad = bad_from_option(SWEEP_BAD, sweep.spec.kpis, sweep.scenarios[0])
    countries = (sweep.scenarios[0].countries.a, sweep.scenarios[0].countries.b)
    target = Path(tempfile.mkdtemp(dir=scratch)) / "sweep"
    shutil.copytree(prepared, target)  # every measurement draws into a folder of its own, without charts

    def work() -> Path:
        return sweep_report(target, bad, countries)

    def finish(page: Path) -> dict[str, Any]:
        written = sum(p.stat().st_size for p in [page, *(target / "charts").iterdir()])
        shutil.rmtree(target.parent, ignore_errors=True)
        return {"written": written}

    return Task(work, finish)


# -- costs ---------------------------------------------------------------------------------------
def costs_task(scenarios: str, with_costs: bool) -> Task:
    """The timed work: one replication of the whole border, with or without its costs of delay.

    The cost KPIs' columns are computed whether the scenario gives rates or not (without rates
    they are hours of delay and NaN), so removing ``costs`` removes only the pricing. What the
    columns cost in all is therefore also clocked where they are made: ``cost_columns`` is
    wrapped, in this process only, by a timer that adds its own CPU time up (a few calls per
    replication, so the timer itself costs nothing measurable).
    """
    import sim
    import sim.analysis.kpis as kpis

    warm_imports(RUN_MODULES)
    scenario = sim.load_scenario(Path(scenarios) / BORDER)
    if not with_costs:
        scenario = scenario.model_copy(update={"costs": None})
    task = one_replication(scenario, COSTS_DAYS)
    inside = [0.0]
    columns = kpis.cost_columns

    def timed_columns(*args: Any, **kwargs: Any) -> Any:
        c0 = time.process_time()
        try:
            return columns(*args, **kwargs)
        finally:
            inside[0] += time.process_time() - c0

    kpis.cost_columns = timed_columns

    def finish(result: Any) -> tuple[int, int, float]:
        # travellers, the rows that have a value of delay (a check that costs were, or were not,
        # priced) and the CPU seconds spent making the cost columns
        valued = int(result.replications["delay_value_per_day"].notna().sum())
        return int(result.manifest["entities"]), valued, inside[0]

    return Task(task.work, finish)


# -- the yardstick ---------------------------------------------------------------------------------
def plain_task(travellers: int, seed: int) -> Task:
    """The plain SimPy tandem of ``bench/tandem.py``, the machine's yardstick."""
    from tandem import plain_simpy_task

    return plain_simpy_task(travellers, seed)


# -- running and reporting -----------------------------------------------------------------------
def plan(args: argparse.Namespace, where: dict[str, str]) -> dict[str, tuple[Callable[..., Task], tuple[Any, ...]]]:
    """Every item to measure in a repeat: its set-up function and that function's arguments."""
    scen, sweeps, tmp = where["scenarios"], where["sweeps"], where["tmp"]
    items: dict[str, tuple[Callable[..., Task], tuple[Any, ...]]] = {
        "optimise": (optimise_task, (scen, False)),
        "one evaluation": (evaluation_task, (scen,)),
        "compare + select-best": (selection_task, (scen,)),
        "KN bookkeeping": (kn_task, (KN_SELECTIONS,)),
        "standardised regression": (regression_task, ()),
        "PRIM": (prim_task, ()),
        "sweep report": (sweep_report_task, (sweeps, str(Path(tmp) / "sweep"), tmp)),
        "with costs": (costs_task, (scen, True)),
        "without costs": (costs_task, (scen, False)),
    }
    chosen = {name: items[name] for part in args.only for name in ITEMS[part]}
    if args.by_hour and "optimise" in args.only:
        chosen[BY_HOUR] = (optimise_task, (scen, True))
    return chosen


def plain_equivalent(ms: Sequence[Measurement], plain: Sequence[Measurement]) -> str:
    """The CPU time of each measurement as the customers plain SimPy simulates in it, same repeat."""
    return Spread.of(m.cpu_s * per_cpu(p) for m, p in zip(ms, plain, strict=True)).format(",.0f")


def common_cells(ms: Sequence[Measurement], plain: Sequence[Measurement], cpu_spec: str = ".1f") -> list[str]:
    """CPU s, wall s, peak RSS, set-up RSS and the plain-SimPy equivalent of one item's measurements."""
    return [
        Spread.of(m.cpu_s for m in ms).format(cpu_spec),
        Spread.of(m.wall_s for m in ms).format(cpu_spec),
        Spread.of(m.peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
        Spread.of(m.setup_peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
        plain_equivalent(ms, plain),
    ]


COMMON = ["CPU s", "wall s", "peak RSS MiB", "set-up RSS MiB", "plain-SimPy customers"]


def report_optimise(runs: dict[str, list[Measurement]], plain: list[Measurement]) -> None:
    """The search against one evaluation alone: how many runs it made and what it cost beyond them."""
    one = runs["one evaluation"]
    rows = []
    for name in ("optimise", BY_HOUR):
        if name not in runs:
            continue
        ms = runs[name]
        evaluations = ms[0].value["evaluations"]
        rows.append(
            [
                f"{name} (prepare + search)",
                *common_cells(ms, plain),
                str(evaluations),
                Spread.of(m.cpu_s / evaluations for m in ms).format(".2f"),
                Spread.of(m.cpu_s / o.cpu_s for m, o in zip(ms, one, strict=True)).format(".1f"),
            ]
        )
    rows.append(["one evaluation alone (yardstick)", *common_cells(one, plain), "1", "", "1.0"])
    print(table(["optimise", *COMMON, "evaluations", "CPU s per evaluation", "CPU / one evaluation"], rows))
    for name in ("optimise", BY_HOUR):
        if name in runs:
            v = runs[name][0].value
            met = "met" if v["met"] else "NOT met"
            print(f"  {name}: {v['evaluations']} simulation runs, {v['trials']} plans tried, target {met}")


def report_selection(runs: dict[str, list[Measurement]], plain: list[Measurement]) -> None:
    """The comparison and the selection's added replications side by side, then KN's bookkeeping alone."""
    ms = runs["compare + select-best"]
    v = [m.value for m in ms]
    first = v[0]["first_stage"] * v[0]["scenarios"]
    extra = v[0]["replications_run"] - first
    total = first + extra

    def cells(cpu: list[float], wall: list[float], rss: list[float], reps: int) -> list[str]:
        return [
            Spread.of(cpu).format(".1f"),
            Spread.of(wall).format(".1f"),
            Spread.of(rss).format(",.0f", MIB),
            Spread.of(c * per_cpu(p) for c, p in zip(cpu, plain, strict=True)).format(",.0f"),
            str(reps),
            Spread.of(c / reps for c in cpu).format(".2f") if reps else "",
            Spread.of(c / x["compare_cpu"] for c, x in zip(cpu, v, strict=True)).format(".3f"),
        ]

    compare_cpu = [x["compare_cpu"] for x in v]
    select_cpu = [x["select_cpu"] for x in v]
    rows = [
        [
            "compare (first stage)",
            *cells(compare_cpu, [x["compare_wall"] for x in v], [x["compare_rss_kib"] * 1024 for x in v], first),
        ],
        [
            "select-best (KN, added replications)",
            *cells(select_cpu, [x["select_wall"] for x in v], [m.peak_rss_kib * 1024 for m in ms], extra),
        ],
        [
            "compare + select-best",
            *cells([m.cpu_s for m in ms], [m.wall_s for m in ms], [m.peak_rss_kib * 1024 for m in ms], total),
        ],
    ]
    header = [
        "selection",
        "CPU s",
        "wall s",
        "peak RSS MiB",
        "plain-SimPy customers",
        "replications",
        "CPU s per replication",
        "CPU / compare",
    ]
    print(table(header, rows))
    cap = SELECT["max_replications"] * v[0]["scenarios"]
    print(
        f"  KN: best {v[0]['best']}, ended by {v[0]['ended_by']} at stage {v[0]['stages']} (bound "
        f"{v[0]['most_stages']}); {v[0]['replications_used']} replications used of at most {cap:,} "
        f"({SELECT['max_replications']} per scenario), {v[0]['replications_run']} run; set-up RSS "
        f"{Spread.of(m.setup_peak_rss_kib * 1024 for m in ms).format(',.0f', MIB)} MiB"
    )
    kn = runs["KN bookkeeping"]
    k = kn[0].value
    print(
        table(
            ["KN bookkeeping (synthetic)", *COMMON, "replications", "us per replication", "us per stage"],
            [
                [
                    f"{k['selections']} selections, k = {KN_SYSTEMS}",
                    *common_cells(kn, plain, ".2f"),
                    f"{k['replications']:,}",
                    Spread.of(m.cpu_s / k["replications"] * 1e6 for m in kn).format(".1f"),
                    Spread.of(m.cpu_s / k["stages"] * 1e6 for m in kn).format(".1f"),
                ]
            ],
        )
    )
    print(
        f"  {k['correct']} of {k['selections']} selections named the best (KN promises at least 95%); "
        f"{k['replications'] / k['selections']:.0f} replications and {k['stages'] / k['selections']:.0f} stages "
        "a selection on average"
    )


def report_sweep(runs: dict[str, list[Measurement]], plain: list[Measurement], prepared: Measurement) -> None:
    """The two analyses on the synthetic sweep, and the whole report of the tutorial sweep."""
    src, box, page = runs["standardised regression"], runs["PRIM"], runs["sweep report"]
    p, s, r = prepared.value, src[0].value, box[0].value
    rows = [
        [
            f"standardised regression ({SWEEP_POINTS} points, {SWEEP_FACTORS} factors, 1,000 bootstrap)",
            *common_cells(src, plain, ".2f"),
            "",
        ],
        [f"PRIM ({r['runs']:,} runs, {r['bad']} bad)", *common_cells(box, plain, ".2f"), ""],
        [
            f"sweep report ({p['points']} points x {p['runs'] // p['points']} replications)",
            *common_cells(page, plain, ".2f"),
            Spread.of(m.value["written"] for m in page).format(".2f", MIB),
        ],
    ]
    print(table(["sweep analysis", *COMMON, "written MiB"], rows))
    print(
        f"  synthetic sweep: SRC fit R2 {s['r2']:.2f}; PRIM peeled {r['peels'] - 1} times, box of {r['box']} "
        f"limit(s). The tutorial sweep ({p['runs']} runs, {p['rows']:,} table rows) was run once beforehand in "
        f"{prepared.cpu_s:.1f} CPU-s; bad run: {SWEEP_BAD!r}"
    )


def report_costs(runs: dict[str, list[Measurement]], plain: list[Measurement]) -> None:
    """The run with and without rates, and the CPU time of the cost columns inside each."""
    base = runs["without costs"]
    rows = []
    for name in ITEMS["costs"]:
        ms = runs[name]
        rows.append(
            [
                name,
                f"{ms[0].value[0]:,}",
                *common_cells(ms, plain),
                Spread.of(m.cpu_s / b.cpu_s for m, b in zip(ms, base, strict=True)).format(".3f"),
                Spread.of(m.value[2] for m in ms).format(".3f"),
                Spread.of(100 * m.value[2] / m.cpu_s for m in ms).format(".1f"),
                str(ms[0].value[1]),
            ]
        )
    header = [f"costs (1 replication, {COSTS_DAYS:g} days)", "travellers", *COMMON, "CPU / without"]
    header += ["CPU s in cost_columns", "% of CPU", "valued rows"]
    print(table(header, rows))


def main() -> None:
    """Parse the command line, freeze the sources, prepare the sweep, measure every repeat, then report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=PARTS, action="append", help="measure this part only (repeatable)")
    parser.add_argument("--by-hour", action="store_true", help="also optimise hour by hour (several minutes each)")
    parser.add_argument("--plain", type=int, default=200_000, help="customers of the plain SimPy yardstick")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.only = [p for p in PARTS if p in (args.only or PARTS)]
    # every measurement imports this copy of sim/ and reads these copies of scenarios/ and sweeps/
    sources, copies = freeze_sources(SCENARIOS, SWEEPS)
    print_versions(sources)
    print(
        f"scenarios/** sha256 {source_hash(copies[SCENARIOS], '*')}, sweeps/** sha256 "
        f"{source_hash(copies[SWEEPS], '*')}; parts: {', '.join(args.only)}; {args.repeats} repeats, fresh processes"
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-decision-"))
    try:
        where = {"scenarios": str(copies[SCENARIOS]), "sweeps": str(copies[SWEEPS]), "tmp": str(tmp)}
        prepared = None
        if "sweep" in args.only:
            prepared = measure(sweep_prepare_task, where["sweeps"], str(tmp / "sweep"))
        items = plan(args, where)
        names = list(items)
        runs: dict[str, list[Measurement]] = {n: [] for n in [*names, PLAIN]}
        for r in range(args.repeats):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                setup, setup_args = items[name]
                runs[name].append(measure(setup, *setup_args))
            runs[PLAIN].append(measure(plain_task, args.plain, r))
            print(f"  repeat {r + 1}: " + ", ".join(f"{n} {runs[n][-1].cpu_s:.1f} s" for n in names), flush=True)
        plain = runs[PLAIN]
        print()
        if "optimise" in args.only:
            report_optimise(runs, plain)
            print()
        if "selection" in args.only:
            report_selection(runs, plain)
            print()
        if "sweep" in args.only and prepared is not None:
            report_sweep(runs, plain, prepared)
            print()
        if "costs" in args.only:
            report_costs(runs, plain)
            print()
        print(f"plain SimPy yardstick: {Spread.of(per_cpu(m) for m in plain).format(',.0f')} customers per CPU-second")
        for note in check_consistent([m for ms in runs.values() for m in ms]):
            print(note)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
