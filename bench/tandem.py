"""Benchmark: bordersim against a plain SimPy model of the same 3-stage tandem queue.

The system (``bench/tandem.yaml``): Poisson arrivals at 1 per minute, then three FIFO stages
in series with 4, 2 and 3 servers and exponential service times of mean 3.2, 1.6 and 2.4
minutes, so the load is 0.8 at every stage. Nothing blocks, nothing closes.

What is measured, for each implementation, is simulated customers per second of wall time:

* bordersim: ``sim.run(scenario, replications=1, days=travellers / 1440)``, timed around the
  whole call. That includes drawing the random numbers, simulating, and building the
  records and the summary tables: the cost a user pays for one run. Customers are the
  travellers in ``result.records``.
* plain SimPy: the canonical textbook model. One process per customer, each stage a
  ``simpy.Resource`` used as ``with res.request() as req: yield req; yield env.timeout(s)``,
  a source process drawing exponential inter-arrival times with ``random.expovariate``,
  over the same horizon. Each customer's total wait is appended to a list (a model that
  records nothing would be an unfair comparison). Customers are those that finished.

Absolute times depend on the machine, its load and the Python build; shared machines are
noisy. The ratio bordersim / plain SimPy, measured in the same process with the two
alternated, is what carries over from one machine to another, so that is the figure to
watch: above 1, bordersim's engine and bookkeeping cost less per customer than the
straightforward SimPy model does on its own. Medians over ``--repeats`` damp the noise.

The mean waits are a sanity check that both simulate the same system: they should agree
with each other and with Jackson-network theory (independent M/M/c stages) within a few
percent. Each repeat uses a different seed, for both implementations.

Run: ``python bench/tandem.py [--travellers 200000] [--repeats 3] [--profile]``.
``--profile`` runs bordersim once under cProfile and prints the top 25 functions by
cumulative time instead of the comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import math
import os
import platform
import pstats
import random
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import simpy

import sim

SCENARIO = Path(__file__).with_name("tandem.yaml")
ARRIVAL_RATE = 1.0  # per minute
SERVERS = (4, 2, 3)
SERVICE_MEANS = (3.2, 1.6, 2.4)  # minutes


# -- theory ----------------------------------------------------------------------------------
def mmc_wait(servers: int, rate: float, mean_service: float) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C), in minutes."""
    a = rate * mean_service  # offered load in erlangs
    rho = a / servers
    top = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return p_wait * mean_service / (servers - a)


def theory_wait() -> float:
    """Mean total wait over the three stages: a Jackson network, each stage M/M/c."""
    return sum(mmc_wait(c, ARRIVAL_RATE, m) for c, m in zip(SERVERS, SERVICE_MEANS, strict=True))


# -- bordersim -------------------------------------------------------------------------------
def run_bordersim(scenario: sim.Scenario, travellers: int, seed: int) -> tuple[int, float, float]:
    """(customers simulated, seconds, mean wait of those completed) for one bordersim run."""
    gc.collect()
    t0 = time.perf_counter()
    result = sim.run(scenario, replications=1, seed=seed, days=travellers / 1440.0)
    seconds = time.perf_counter() - t0
    records = result.records
    wait = records.loc[records["release_min"].notna(), "wait_min"].mean()
    return len(records), seconds, float(wait)


# -- plain SimPy -----------------------------------------------------------------------------
def customer(env: simpy.Environment, stages: list[simpy.Resource], services: list[float], waits: list[float]):
    arrived = env.now
    in_service = 0.0
    for res, service in zip(stages, services, strict=True):
        with res.request() as req:
            yield req
            yield env.timeout(service)
        in_service += service
    waits.append(env.now - arrived - in_service)


def source(env: simpy.Environment, stages: list[simpy.Resource], rng: random.Random, waits: list[float]):
    expovariate = rng.expovariate
    rates = [1.0 / m for m in SERVICE_MEANS]
    while True:
        yield env.timeout(expovariate(ARRIVAL_RATE))
        services = [expovariate(r) for r in rates]
        env.process(customer(env, stages, services, waits))


def run_plain_simpy(travellers: int, seed: int) -> tuple[int, float, float]:
    """(customers completed, seconds, their mean wait) for the plain SimPy model."""
    gc.collect()
    t0 = time.perf_counter()
    rng = random.Random(seed)
    env = simpy.Environment()
    stages = [simpy.Resource(env, capacity=c) for c in SERVERS]
    waits: list[float] = []
    env.process(source(env, stages, rng, waits))
    env.run(until=travellers / ARRIVAL_RATE)  # same horizon as bordersim: travellers minutes
    seconds = time.perf_counter() - t0
    return len(waits), seconds, statistics.fmean(waits)


# -- reporting -------------------------------------------------------------------------------
def source_fingerprint() -> str:
    """Short hash of the sim package's sources, to tie results to a version of the code."""
    digest = hashlib.sha256()
    for path in sorted(Path(sim.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def print_versions(fingerprint: str) -> None:
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), SimPy {simpy.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, bordersim {sim.__version__}"
    )
    print(f"{platform.platform()}, {os.cpu_count()} CPUs; sim/*.py sha256 {fingerprint}")


def compare(travellers: int, repeats: int, fingerprint: str) -> None:
    scenario = sim.load_scenario(SCENARIO)
    print_versions(fingerprint)
    print(f"tandem queue M/M/4 -> M/M/2 -> M/M/3, load 0.8 per stage; {travellers} travellers, {repeats} repeats")
    print()
    print(f"{'repeat':>6}  {'bordersim /s':>13}  {'plain SimPy /s':>14}  {'ratio':>6}  ", end="")
    print(f"{'wait bs':>8}  {'wait plain':>10}   (customers in seconds: bordersim; plain SimPy)")
    rows = []
    for r in range(repeats):
        seed = r + 1
        # alternate which goes first, so drift in the machine's speed hits both alike
        if r % 2 == 0:
            bs = run_bordersim(scenario, travellers, seed)
            pl = run_plain_simpy(travellers, seed)
        else:
            pl = run_plain_simpy(travellers, seed)
            bs = run_bordersim(scenario, travellers, seed)
        bs_rate, pl_rate = bs[0] / bs[1], pl[0] / pl[1]
        rows.append((bs_rate, pl_rate, bs_rate / pl_rate, bs[2], pl[2], bs[0], pl[0], bs[1], pl[1]))
        print(f"{r + 1:>6}  {bs_rate:>13,.0f}  {pl_rate:>14,.0f}  {bs_rate / pl_rate:>6.2f}  ", end="")
        print(f"{bs[2]:>8.3f}  {pl[2]:>10.3f}   ({bs[0]} in {bs[1]:.2f} s; {pl[0]} in {pl[1]:.2f} s)")
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    print(f"{'median':>6}  {med[0]:>13,.0f}  {med[1]:>14,.0f}  {med[2]:>6.2f}")
    print()
    bs_wait = statistics.fmean(row[3] for row in rows)
    pl_wait = statistics.fmean(row[4] for row in rows)
    theory = theory_wait()
    print("mean total wait (min), averaged over repeats:")
    print(f"  bordersim   {bs_wait:.3f}  ({100 * (bs_wait / theory - 1):+.1f}% vs theory)")
    print(f"  plain SimPy {pl_wait:.3f}  ({100 * (pl_wait / theory - 1):+.1f}% vs theory)")
    print(f"  theory      {theory:.3f}  (Jackson network: sum of M/M/c waits)")
    print(f"  bordersim vs plain SimPy: {100 * (bs_wait / pl_wait - 1):+.1f}%")
    print()
    print(f"ratio bordersim / plain SimPy (median of repeats): {med[2]:.2f}")


def profile(travellers: int, fingerprint: str, top: int = 25) -> None:
    scenario = sim.load_scenario(SCENARIO)
    print_versions(fingerprint)
    print(f"cProfile of one bordersim run, {travellers} travellers; top {top} by cumulative time")
    profiler = cProfile.Profile()
    profiler.enable()
    sim.run(scenario, replications=1, days=travellers / 1440.0)
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats("cumulative").print_stats(top)


def main() -> None:
    fingerprint = source_fingerprint()  # now, right after the import: the code that runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--travellers", type=int, default=200_000, help="customers per run (default 200000)")
    parser.add_argument("--repeats", type=int, default=3, help="alternations of the two models (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile one bordersim run instead")
    args = parser.parse_args()
    if args.travellers < 1 or args.repeats < 1:
        parser.error("--travellers and --repeats must be at least 1")
    if args.profile:
        profile(args.travellers, fingerprint)
    else:
        compare(args.travellers, args.repeats, fingerprint)


if __name__ == "__main__":
    main()
