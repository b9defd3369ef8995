"""Benchmark: bordersim against a plain SimPy model of the same 3-stage tandem queue.

The system (``bench/tandem.yaml``): Poisson arrivals at 1 per minute, then three FIFO stages
in series with 4, 2 and 3 servers and exponential service times of mean 3.2, 1.6 and 2.4
minutes, so the load is 0.8 at every stage. Nothing blocks, nothing closes.

What is measured, for each implementation, is simulated customers per CPU-second:

* bordersim: ``sim.run(scenario, replications=1, seed=seed, days=travellers / 1440,
  records=...)``, timed around the whole call. With the default ``--records full`` that
  includes drawing the random numbers, simulating, writing every traveller's and every
  visit's record and building the summary tables: the cost a user pays for one run.
  Customers are the travellers it simulated (``result.manifest["entities"]``).
* plain SimPy: the canonical textbook model. One process per customer, each stage a
  ``simpy.Resource`` used as ``with res.request() as req: yield req; yield env.timeout(s)``,
  a source process drawing exponential inter-arrival times with ``random.expovariate``,
  over the same horizon. Each customer's total wait is appended to a list (a model that
  records nothing would be an unfair comparison). Customers are those that arrived.

Each measurement runs in a fresh process (``common.measure``): imports and loading the
scenario happen there before the clock starts, and the peak RSS is that run's alone. CPU
time is the primary figure, because wall time on a shared machine measures the neighbours
too; wall time is shown next to it. The two implementations alternate (which one goes first
swaps every repeat), so drift in the machine's speed hits both alike.

The ratio (bordersim travellers per CPU-second) / (plain SimPy customers per CPU-second),
taken within each repeat, is what carries over from one machine to another: above 1,
bordersim's engine and bookkeeping cost less per customer than the straightforward SimPy
model does on its own. The script prints its median and range over ``--repeats``.

The mean waits are a sanity check that both simulate the same system: they should agree
with each other and with Jackson-network theory (independent M/M/c stages) within a few
percent. Repeat r uses seed r for both implementations.

Run: ``python bench/tandem.py [--travellers 200000] [--repeats 5] [--records full|travellers|none]``;
``python bench/tandem.py --profile [--travellers N]`` profiles one bordersim run instead (cProfile,
top 25 by total time in each function and by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import statistics
from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy
from common import (
    MIB,
    Measurement,
    Spread,
    Task,
    check_consistent,
    freeze_sources,
    measure,
    print_versions,
    spread,
    table,
    warm_imports,
)

SCENARIO = Path(__file__).with_name("tandem.yaml")
ARRIVAL_RATE = 1.0  # per minute
SERVERS = (4, 2, 3)
SERVICE_MEANS = (3.2, 1.6, 2.4)  # minutes
RECORDS = ("full", "travellers", "none")


# -- theory ----------------------------------------------------------------------------------
def theory_wait() -> float:
    """Mean total wait over the three stages: a Jackson network, each stage M/M/c (Erlang C)."""
    # imported here, not at the top: this process imports sim only once its sources are frozen
    from sim.analysis.theory import jackson_wait

    stations = [(ARRIVAL_RATE, m, c) for c, m in zip(SERVERS, SERVICE_MEANS, strict=True)]
    return jackson_wait(ARRIVAL_RATE, stations)


# -- bordersim -------------------------------------------------------------------------------
def bordersim_task(travellers: int, seed: int, records: str) -> Task:
    """Set up one bordersim run in the measurement process: the timed work is the ``sim.run`` call."""
    import sim

    warm_imports()
    scenario = sim.load_scenario(SCENARIO)
    days = travellers / 1440.0

    def work() -> Any:
        return sim.run(scenario, replications=1, seed=seed, days=days, records=records)

    def finish(result: Any) -> tuple[int, float]:
        # the mean wait from the summary, as a user reads it; the records may not have been kept
        s = result.summary
        row = s[(s["crossing"] == "ALL") & (s["direction"] == "ALL") & (s["flow"] == "ALL")]
        entities = int(result.manifest["entities"])
        if result.spool is not None:  # a process that ends through os._exit runs no clean-up
            result.spool.remove()
        return entities, float(row["wait_mean_min"].iloc[0])

    return Task(work, finish)


# -- plain SimPy -----------------------------------------------------------------------------
def customer(
    env: simpy.Environment, stages: list[simpy.Resource], services: list[float], waits: list[float]
) -> Generator[simpy.Event, Any, None]:
    """One customer through the three stages in turn, the textbook way: request, hold for the service, release."""
    arrived = env.now
    in_service = 0.0
    for res, service in zip(stages, services, strict=True):
        with res.request() as req:
            yield req
            yield env.timeout(service)
        in_service += service
    waits.append(env.now - arrived - in_service)


def source(
    env: simpy.Environment, stages: list[simpy.Resource], rng: random.Random, waits: list[float]
) -> Generator[simpy.Event, Any, None]:
    """Poisson arrivals; each customer's three service times are drawn when it arrives."""
    expovariate = rng.expovariate
    rates = [1.0 / m for m in SERVICE_MEANS]
    while True:
        yield env.timeout(expovariate(ARRIVAL_RATE))
        services = [expovariate(r) for r in rates]
        env.process(customer(env, stages, services, waits))


def plain_simpy_task(travellers: int, seed: int) -> Task:
    """Set up the plain SimPy model in the measurement process: the timed work builds and runs it."""

    def work() -> tuple[list[simpy.Resource], list[float]]:
        rng = random.Random(seed)
        env = simpy.Environment()
        stages = [simpy.Resource(env, capacity=c) for c in SERVERS]
        waits: list[float] = []
        env.process(source(env, stages, rng, waits))
        env.run(until=travellers / ARRIVAL_RATE)  # same horizon as bordersim: travellers minutes
        return stages, waits

    def finish(out: tuple[list[simpy.Resource], list[float]]) -> tuple[int, float]:
        stages, waits = out
        # arrivals = finished + those still queueing or in service (a customer always holds or awaits a stage)
        inside = sum(res.count + len(res.queue) for res in stages)
        return len(waits) + inside, statistics.fmean(waits)

    return Task(work, finish)


# -- reporting -------------------------------------------------------------------------------
def per_cpu(m: Measurement) -> float:
    """Customers per CPU-second of the measured work."""
    return m.value[0] / m.cpu_s


def per_wall(m: Measurement) -> float:
    """Customers per wall-second of the measured work."""
    return m.value[0] / m.wall_s


def repeat_row(r: int, name: str, m: Measurement) -> list[str]:
    """One measurement as a row of the per-repeat table."""
    return [
        str(r),
        name,
        f"{m.value[0]:,}",
        f"{m.cpu_s:.2f}",
        f"{m.wall_s:.2f}",
        f"{per_cpu(m):,.0f}",
        f"{per_wall(m):,.0f}",
        f"{m.peak_rss_kib * 1024 / MIB:,.0f}",
        f"{m.value[1]:.3f}",
    ]


def summary_row(name: str, ms: list[Measurement]) -> list[str]:
    """Median (min–max) of one model's measurements as a row of the summary table."""
    return [
        name,
        Spread.of(m.cpu_s for m in ms).format(".2f"),
        Spread.of(m.wall_s for m in ms).format(".2f"),
        Spread.of(per_cpu(m) for m in ms).format(",.0f"),
        Spread.of(per_wall(m) for m in ms).format(",.0f"),
        Spread.of(m.peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
        Spread.of(m.setup_peak_rss_kib * 1024 for m in ms).format(",.0f", MIB),
    ]


def compare(travellers: int, repeats: int, records: str, sources: str) -> None:
    """Alternate the two models ``repeats`` times, each run in a fresh process, and print the comparison."""
    print_versions(sources)
    print(
        f"tandem queue M/M/4 -> M/M/2 -> M/M/3, load 0.8 per stage; {travellers:,} travellers, "
        f"{repeats} repeats, bordersim records={records!r}; each run in a fresh process"
    )
    print()
    rows, bs, pl = [], [], []
    for r in range(1, repeats + 1):
        # alternate which goes first, so drift in the machine's speed hits both alike
        if r % 2 == 1:
            b = measure(bordersim_task, travellers, r, records)
            p = measure(plain_simpy_task, travellers, r)
        else:
            p = measure(plain_simpy_task, travellers, r)
            b = measure(bordersim_task, travellers, r, records)
        bs.append(b)
        pl.append(p)
        rows += [repeat_row(r, "bordersim", b), repeat_row(r, "plain SimPy", p)]
        print(f"  repeat {r}: bordersim {b.cpu_s:.2f} CPU-s, plain SimPy {p.cpu_s:.2f} CPU-s", flush=True)
    print()
    header = ["repeat", "model", "customers", "CPU s", "wall s", "per CPU-s", "per wall-s", "peak RSS MiB", "wait min"]
    print(table(header, rows, [True, False, *([True] * 7)]))
    print()
    print(f"median (min–max) over {repeats} repeats:")
    header = ["model", "CPU s", "wall s", "customers per CPU-s", "customers per wall-s", "peak RSS MiB"]
    header += ["set-up RSS MiB"]  # before the work: the interpreter and the libraries each imports
    print(table(header, [summary_row("bordersim", bs), summary_row("plain SimPy", pl)], [False, *([True] * 6)]))
    print()
    cpu_ratio = spread(per_cpu(b) / per_cpu(p) for b, p in zip(bs, pl, strict=True))
    wall_ratio = spread(per_wall(b) / per_wall(p) for b, p in zip(bs, pl, strict=True))
    bs_wait = statistics.fmean(m.value[1] for m in bs)
    pl_wait = statistics.fmean(m.value[1] for m in pl)
    theory = theory_wait()
    print("mean total wait (min), averaged over repeats:")
    print(f"  bordersim   {bs_wait:.3f}  ({100 * (bs_wait / theory - 1):+.1f}% vs theory)")
    print(f"  plain SimPy {pl_wait:.3f}  ({100 * (pl_wait / theory - 1):+.1f}% vs theory)")
    print(f"  theory      {theory:.3f}  (Jackson network: sum of M/M/c waits)")
    print(f"  bordersim vs plain SimPy: {100 * (bs_wait / pl_wait - 1):+.1f}%")
    print()
    print(f"ratio bordersim / plain SimPy, customers per CPU-second:  {cpu_ratio.format('.2f')}")
    print(f"ratio bordersim / plain SimPy, customers per wall-second: {wall_ratio.format('.2f')}")
    for note in check_consistent([*bs, *pl]):
        print(note)


def profile(travellers: int, records: str, sources: str, top: int = 25) -> None:
    """Profile one bordersim run in this process (imports first, so they stay out of the profile)."""
    import sim

    warm_imports()
    scenario = sim.load_scenario(SCENARIO)
    print_versions(sources)
    print(f"cProfile of one bordersim run, {travellers:,} travellers, records={records!r}")
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    result = sim.run(scenario, replications=1, days=travellers / 1440.0, records=records)
    profiler.disable()
    if result.spool is not None:
        result.spool.remove()
    stats = pstats.Stats(profiler).strip_dirs()
    print(f"\ntop {top} by total time in the function itself (tottime)")
    stats.sort_stats("tottime").print_stats(top)
    print(f"top {top} by cumulative time (cumtime)")
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    """Parse the command line, freeze the sources, then compare or profile."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--travellers", type=int, default=200_000, help="customers per run (default 200000)")
    parser.add_argument("--repeats", type=int, default=5, help="alternations of the two models (default 5)")
    parser.add_argument("--records", choices=RECORDS, default="full", help="records bordersim keeps (default full)")
    parser.add_argument("--profile", action="store_true", help="profile one bordersim run instead")
    args = parser.parse_args()
    if args.travellers < 1 or args.repeats < 1:
        parser.error("--travellers and --repeats must be at least 1")
    sources, _ = freeze_sources()  # every run imports this copy of sim/, whatever happens to the working tree
    if args.profile:
        profile(args.travellers, args.records, sources)
    else:
        compare(args.travellers, args.repeats, args.records, sources)


if __name__ == "__main__":
    main()
