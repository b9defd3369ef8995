"""Route choice against an independent implementation: least-cost choice as join-the-shortest-queue.

With two identical crossings, one pool of c exponential servers each, zero drive times and
``route_choice: {rule: least_cost, information: now}``, a departing traveller's cost at a
crossing is (travellers waiting there, not in service) x (mean service) / c: the cheaper
crossing is the one with fewer waiting, ties broken at random. That is join-the-shortest-queue
by waiting count, which has no closed form, so it is checked against a second, unrelated
simulator: Ciw, where a dispatcher node with unlimited servers and no service time routes
each arrival with ``ciw.routing.JoinShortestQueue`` (which counts waiting customers only and
breaks ties at random) to two M/M/c nodes.

The two are run for the same horizon, warm-up and number of replications, each with its own
random streams, so their replications are independent samples: the difference of their mean
waits gets a Welch interval (unequal variances). Theory bounds the answer from both sides:
routing at random in equal halves, which ignores the queues, makes two independent M/M/c
queues at the same load, and JSQ, which looks at them, must do better; one shared line for
all 2c servers (M/M/2c) never leaves a server idle while someone waits, which separate
lines sometimes do, so no routing at arrival beats it. Both simulators must lie between
those two Erlang C values.

Every open system here has one arrival a minute, so a crossing's mean service in minutes is
2c x load.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.analysis.intervals import t_interval, t_quantile
from sim.analysis.theory import mmc_wait
from sim.validation.checks import LEVEL, CheckResult
from sim.validation.scenarios import RunSize

ARRIVALS_PER_MINUTE = 1.0
"""Total arrival rate of every comparison: minutes are then customer units, as elsewhere in the validation."""

DAY = 1440.0


def mean_service(load: float, servers: int) -> float:
    """Mean service minutes that give each crossing ``load`` = (arrivals / 2) x E[S] / c."""
    return 2 * servers * load / ARRIVALS_PER_MINUTE


def bounds(load: float, servers: int) -> tuple[float, float]:
    """(shared line M/M/2c, two independent M/M/c with half the arrivals each): JSQ lies between.

    The lower bound is a single queue for all 2c servers; the upper is random routing.
    """
    mean = mean_service(load, servers)
    shared = mmc_wait(ARRIVALS_PER_MINUTE, mean, 2 * servers)
    separate = mmc_wait(ARRIVALS_PER_MINUTE / 2, mean, servers)
    return shared, separate


def scenario(
    load: float, servers: int, replications: int, days: float, warmup_days: float, seed: int, rule: str = "least_cost"
) -> dict[str, Any]:
    """The bordersim scenario: one corridor, two identical crossings, one exponential control each.

    ``joint_control`` puts one control per crossing on the entry side (side b for a_to_b),
    so the servers are given there; zero drives make the cost the expected wait alone.
    """
    crossing = {
        "category": "multilateral",
        "hours": "24h",
        "sides": {"a": {"servers": {"border_control": servers}}, "b": {"servers": {"border_control": servers}}},
    }
    drive = {"drive_to": 0, "drive_on": 0}
    return {
        "name": f"jsq_c{servers}_load{load:g}".replace(".", "_"),
        "horizon": f"{days:g} d",
        "warmup": f"{warmup_days:g} d",
        "replications": replications,
        "seed": seed,
        "flows": {"vehicle": {"occupancy": 1}},
        "stages": {"border_control": {"per_vehicle": {"dist": "exponential", "mean": mean_service(load, servers)}}},
        "regime": "joint_control",
        "crossings": [{"id": "x", **crossing}, {"id": "y", **crossing}],
        "corridors": [
            {
                "id": "c1",
                "flow": "vehicle",
                "direction": "a_to_b",
                "daily": ARRIVALS_PER_MINUTE * DAY,
                "crossings": {"x": dict(drive), "y": dict(drive)},
            }
        ],
        "route_choice": {"rule": rule, "information": "now"},
    }


def bordersim_waits(
    load: float,
    servers: int,
    replications: int,
    days: float,
    warmup_days: float,
    seed: int,
    rule: str = "least_cost",
    jobs: int = 1,
) -> np.ndarray:
    """Per replication, bordersim's mean wait of the travellers arriving after the warm-up (both crossings)."""
    from sim.experiments.run import run
    from sim.scenario.loader import scenario_from_dict

    data = scenario(load, servers, replications, days, warmup_days, seed, rule)
    result = run(scenario_from_dict(data), jobs=jobs, records="none")
    reps = result.replications
    total = reps[(reps["crossing"] == "ALL") & (reps["direction"] == "ALL") & (reps["flow"] == "ALL")]
    return total.set_index("replication")["wait_mean_min"].reindex(range(replications)).to_numpy(dtype=float)


def ciw_seed(seed: int, replication: int) -> int:
    """Ciw's seed for one replication: distinct per replication, unrelated to bordersim's streams."""
    return int(np.random.SeedSequence([seed, replication]).generate_state(1)[0])


def ciw_replication(load: float, servers: int, days: float, warmup_days: float, seed: int) -> float:
    """One Ciw replication: mean wait in queue of the customers arriving after the warm-up and served by the end.

    Node 1 is the dispatcher (unlimited servers, no service time), so a customer's arrival at
    node 2 or 3 is its arrival in the system; bordersim's KPI also counts only those that
    finished by the horizon.
    """
    import ciw

    rate = 1.0 / mean_service(load, servers)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(ARRIVALS_PER_MINUTE), None, None],
        service_distributions=[ciw.dists.Deterministic(0.0), ciw.dists.Exponential(rate), ciw.dists.Exponential(rate)],
        number_of_servers=[float("inf"), servers, servers],
        routing=ciw.routing.NetworkRouting(
            [ciw.routing.JoinShortestQueue([2, 3], tie_break="random"), ciw.routing.Leave(), ciw.routing.Leave()]
        ),
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(days * DAY)
    warmup = warmup_days * DAY
    waits = [r.waiting_time for r in simulation.get_all_records() if r.node != 1 and r.arrival_date >= warmup]
    return float(np.mean(waits)) if waits else math.nan


def _ciw_task(args: tuple[float, int, float, float, int]) -> float:
    return ciw_replication(*args)


def ciw_waits(
    load: float, servers: int, replications: int, days: float, warmup_days: float, seed: int, jobs: int = 1
) -> np.ndarray:
    """Per replication, Ciw's mean wait; ``jobs`` > 1 runs replications in worker processes (same numbers)."""
    tasks = [(load, servers, days, warmup_days, ciw_seed(seed, r)) for r in range(replications)]
    if jobs > 1 and replications > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, replications)) as pool:
            return np.array(list(pool.map(_ciw_task, tasks)))
    return np.array([_ciw_task(t) for t in tasks])


def welch_interval(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float, float]:
    """(mean(a) - mean(b), low, high, degrees of freedom): Welch's interval for two independent samples.

    The two simulators' replications have different variances in general, so the pooled
    two-sample t would be wrong; Welch-Satterthwaite degrees of freedom are fractional.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if not se > 0:
        return diff, diff, diff, math.inf
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t_quantile(0.5 + level / 2, df) * se  # type: ignore[arg-type]  # scipy takes fractional df
    return diff, diff - half, diff + half, float(df)


def _estimate(values: np.ndarray, level: float) -> dict[str, Any]:
    mean, low, high = t_interval(values, level, drop_nan=False)
    return {"mean": mean, "low": low, "high": high, "values": [float(v) for v in values]}


def _inside(low: float, high: float, value: float) -> bool:
    return bool(low <= value <= high)


def _reaches(estimate: dict[str, Any], low: float, high: float) -> bool:
    """Whether the estimate's interval meets [low, high]: it is not significantly outside the bounds."""
    return bool(estimate["high"] >= low and estimate["low"] <= high)


def default_seed(load: float, servers: int) -> int:
    """A fixed seed per case, so the comparison is reproducible and cases are independent."""
    return zlib.crc32(f"jsq_c{servers}_load{load:g}".encode()) % 1_000_000_007


def compare_jsq(
    load: float,
    servers: int,
    replications: int,
    days: float,
    warmup_days: float,
    *,
    seed: int | None = None,
    rule: str = "least_cost",
    level: float = 0.95,
    jobs: int = 1,
) -> dict[str, Any]:
    """Compare bordersim's route choice with Ciw's join-the-shortest-queue and the theoretical bounds.

    ``load`` is each crossing's utilisation, ``servers`` its number of servers (c), ``days``
    the horizon including ``warmup_days``. Returns each implementation's mean wait (minutes)
    with its ``level`` t-interval over replications, the difference bordersim - Ciw with a
    Welch interval and whether that contains 0, the bounds (``shared_mm2c`` below,
    ``separate_mmc`` above) and whether both lie between them. ``rule`` changes bordersim's
    rule only (``fixed_shares`` must disagree: it is random routing).

    "Between the bounds" is judged at the same level as the rest (``within_bounds``: each
    interval meets [M/M/2c, 2 x M/M/c]), because in heavy traffic JSQ comes within a few
    percent of the shared line (at c = 2 and load 0.9 it is about 3% above M/M/2c), where a
    point estimate falls below the bound by chance alone; ``means_within_bounds`` says
    whether the two point estimates themselves lie between them.
    """
    if seed is None:
        seed = default_seed(load, servers)
    ours = bordersim_waits(load, servers, replications, days, warmup_days, seed, rule, jobs)
    theirs = ciw_waits(load, servers, replications, days, warmup_days, seed, jobs)
    diff, low, high, df = welch_interval(ours, theirs, level)
    shared, separate = bounds(load, servers)
    b, c = _estimate(ours, level), _estimate(theirs, level)
    within = _reaches(b, shared, separate) and _reaches(c, shared, separate)
    means_within = _inside(shared, separate, b["mean"]) and _inside(shared, separate, c["mean"])
    agree = _inside(low, high, 0.0)
    return {
        "load": load,
        "servers": servers,
        "replications": replications,
        "days": days,
        "warmup_days": warmup_days,
        "seed": seed,
        "rule": rule,
        "level": level,
        "mean_service_min": mean_service(load, servers),
        "bordersim": b,
        "ciw": c,
        "difference": {"mean": diff, "low": low, "high": high, "df": df},
        "difference_contains_zero": agree,
        "shared_mm2c": shared,
        "separate_mmc": separate,
        "within_bounds": within,
        "means_within_bounds": means_within,
        "passed": agree and within,
    }


# -- the validation report -------------------------------------------------------------------


@dataclass(frozen=True)
class JsqCase:
    """One comparison in the validation report: the system, and how long both simulators run it."""

    servers: int
    load: float
    full: RunSize
    fast: RunSize | None = None

    @property
    def title(self) -> str:
        return f"JSQ 2 × M/M/{self.servers}, ρ = {self.load:g}"

    @property
    def seed(self) -> int:
        return default_seed(self.load, self.servers)


CASES = (
    JsqCase(1, 0.8, full=RunSize(20, 1, 10), fast=RunSize(8, 1, 5)),
    JsqCase(2, 0.8, full=RunSize(20, 1, 10)),
    JsqCase(2, 0.9, full=RunSize(20, 2, 20), fast=RunSize(8, 1, 5)),
)
"""Run sizes as for the Erlang C grid (heavier loads decorrelate slowly). Short runs are enough
for the fast subset: both simulators start empty and run the same time, so their difference
needs no steady state; only the bounds do, and they are judged with the intervals."""


@dataclass(frozen=True)
class JsqCheck(CheckResult):
    """A route-choice row of the report: Ciw's mean wait as the expected value, bordersim's as simulated.

    The interval is bordersim's mean +- the half-width of the Welch interval of the
    difference, so it contains Ciw's mean exactly when the difference interval contains 0
    (as Little's law rows show L +- the half-width of L - lambda W). ``comparison`` is what
    ``compare_jsq`` returned, for the section with both intervals and the bounds.
    """

    comparison: dict[str, Any] = field(default_factory=dict)

    def t_statistic(self) -> float:
        """The Welch t of the difference (its own degrees of freedom, not R - 1)."""
        d = self.comparison.get("difference")
        if not d or not d["high"] > d["low"]:
            return math.nan
        level = self.comparison["level"]
        se = (d["high"] - d["low"]) / 2 / t_quantile(0.5 + level / 2, d["df"])  # type: ignore[arg-type]
        return float(d["mean"] / se)


def run_case(case: JsqCase, full: bool, jobs: int = 1) -> JsqCheck:
    """Compare bordersim and Ciw on one case at the report's level (99%)."""
    size = case.full if full or case.fast is None else case.fast
    t0 = time.perf_counter()
    out = compare_jsq(
        case.load,
        case.servers,
        size.replications,
        size.horizon_days,
        size.warmup_days,
        seed=case.seed,
        level=LEVEL,
        jobs=jobs,
    )
    wall = time.perf_counter() - t0
    b, d = out["bordersim"], out["difference"]
    half = (d["high"] - d["low"]) / 2
    return JsqCheck(
        name=f"{case.title}: least-cost route choice vs Ciw JoinShortestQueue, mean wait",
        expected=out["ciw"]["mean"],
        simulated=b["mean"],
        ci_low=b["mean"] - half,
        ci_high=b["mean"] + half,
        passed=out["passed"],
        detail=f"Welch interval of bordersim - Ciw; bounds M/M/{2 * case.servers} and 2 × M/M/{case.servers}",
        run=f"{case.title}: {size.describe()} in each simulator, seed {case.seed}, {wall:.1f} s for both",
        replications=size.replications,
        comparison=out,
    )


def run_cases(full: bool = False, jobs: int = 1, progress: Callable[[str], None] | None = None) -> list[JsqCheck]:
    """The route-choice comparisons of the report: every case (``full``) or the fast ones."""
    out = []
    for case in CASES:
        if not full and case.fast is None:
            continue
        check = run_case(case, full, jobs)
        out.append(check)
        if progress is not None:
            progress(f"{case.title}: {'agrees' if check.passed else 'DISAGREES'} with Ciw ({check.run})")
    return out


def _num(x: float, decimals: int) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{decimals}f}"


def _with_interval(e: dict[str, Any], decimals: int) -> str:
    return f"{_num(e['mean'], decimals)} [{_num(e['low'], decimals)}, {_num(e['high'], decimals)}]"


def markdown(checks: list[CheckResult]) -> list[str]:
    """The report's route-choice section: both simulators with their intervals, the difference, the bounds."""
    rows = [c for c in checks if isinstance(c, JsqCheck)]
    if not rows:
        return []
    level = rows[0].comparison["level"]
    lines = [
        "## Route choice against Ciw",
        "",
        "Two identical crossings, each one control with c exponential servers, one corridor with",
        "zero drive times and `route_choice: {rule: least_cost}`: the cost of a crossing is its",
        "waiting travellers × mean service / c, so each traveller joins the crossing with fewer",
        "waiting (ties at random), which is join-the-shortest-queue by waiting count. No formula",
        "gives its mean wait, so the same system is run in Ciw (a dispatcher node with no service",
        "time routing by `ciw.routing.JoinShortestQueue`, which counts waiting customers only and",
        "breaks ties at random, to two M/M/c nodes), with the same horizon, warm-up and",
        "replications and its own seeds. The replications of the two are independent samples, so",
        f"the difference of their mean waits gets a {level:.0%} Welch interval. A case passes when",
        "that interval contains 0 *and* both simulators lie between the theoretical bounds: one",
        "shared line for all 2c servers (M/M/2c) below, random routing in halves (two",
        'independent M/M/c) above. "Between" is judged at the same level (each interval meets',
        "the bounds), since in heavy traffic JSQ comes within a few percent of M/M/2c. In the",
        "results table these rows show Ciw's mean as expected and bordersim's mean ± the",
        "difference's half-width as the interval. Waits in minutes, one arrival a minute.",
        "",
        "| case | bordersim | Ciw | bordersim − Ciw | M/M/2c | 2 × M/M/c | pass |",
        "| --- | --- | --- | --- | ---: | ---: | :---: |",
    ]
    for c in rows:
        r = c.comparison
        dec = 3
        lines.append(
            f"| {c.name.split(':')[0]} | {_with_interval(r['bordersim'], dec)} | {_with_interval(r['ciw'], dec)} "
            f"| {_with_interval(r['difference'], dec)} | {r['shared_mm2c']:.{dec}f} | {r['separate_mmc']:.{dec}f} "
            f"| {'yes' if c.passed else '**no**'} |"
        )
    return lines
