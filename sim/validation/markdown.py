"""The validation report, ``docs/validation.md``: method, verdict, one row per check, the runs.

The report is the evidence a reader checks the model against, so it states how it was made
(command and versions), explains the test before showing results, lists every check (not
only the failures) with as many decimals as its interval justifies, and gives the t
statistic of each check outside its interval so that a near miss can be told from a bug.
"""

from __future__ import annotations

import math
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.outputs.files import atomic_write
from sim.validation.checks import LEVEL, CheckResult, chance_of_failures, verdict
from sim.validation.recursion import ExactCheck
from sim.validation.recursion import markdown as recursion_markdown
from sim.validation.route_choice import markdown as route_choice_markdown


def _decimals(r: CheckResult) -> int:
    """Decimals that show the interval's half-width to two significant digits (at least 4 digits overall)."""
    half = (r.ci_high - r.ci_low) / 2
    size = max(abs(r.expected), abs(r.simulated))
    digits = 3 - math.floor(math.log10(size)) if size > 0 else 4
    if half > 0 and math.isfinite(half):
        digits = max(digits, 1 - math.floor(math.log10(half)))
    return min(max(digits, 0), 9)


def _fmt(x: float, decimals: int) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{decimals}f}"


def _versions() -> str:
    import scipy
    import simpy

    import sim

    return (
        f"bordersim {sim.__version__}, Python {platform.python_version()}, SimPy {simpy.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, scipy {scipy.__version__}, {platform.platform()}"
    )


METHOD = """\
Each check builds an ordinary bordersim scenario (one crossing, arrivals at 1 per minute
unless said otherwise), runs it with `sim.run`, discards the scenario's warm-up, and reads
one statistic per replication. A check passes when the theoretical value lies in the
**99% Student-t interval** of the mean over the replications
(mean ± t(0.995, R − 1) · s / √R). The interval is a test at the 1% level, not a tolerance:
about 1 check in 100 fails by chance even for an exact model, so the verdict asks whether the
failures are more than chance explains (binomial tail below 1%). Seeds are fixed per run, so
the table is reproducible. Run sizes (replications × (warm-up + observed window)) are listed
under *Runs*: 20 replications each in the full set, longest at heavy loads as their waits decorrelate
slowly. A replication's mean wait is skewed to the right (skewness about 1 at these run
sizes: a rare congested spell weighs heavily), so the t-interval misses *below* the theory
somewhat more often than its level says: a wait check failing narrowly on the low side is
the expected kind of chance failure (checks outside their interval are listed with their
t statistic after the table).

Checks: M/M/c mean wait in queue against Erlang C (c ∈ {1, 2, 4, 8, 16}, ρ ∈ {0.5, 0.8,
0.9, 0.95}); M/D/1 and M/G/1 against Pollaczek–Khinchine, Wq = λE[S²] / (2(1 − ρ)), with
E[S²] from the distribution's analytic mean and variance; a 3-stage tandem and a whole
crossing (exit and entry sides, risk-based selection, a 2-place secondary inspection) against
Jackson's theorem (each station an independent M/M/c; the mean total wait is the sum of the
stations' waits weighted by the share of travellers visiting them); a finite neutral zone
against the exactly matching birth–death chains (below); and Little's law at every pool of
every run: L (time-average number in the pool over the window) against λW (visits ending
in the window per minute, the arrival rate in steady state, × their mean time in the pool).
L − λW is a difference of boundary terms with mean 0 in steady state; the interval shown is
L ± the 99% half-width of the replications' L − λW. Route choice by least cost, which no
formula solves, is compared with an independent simulator, Ciw (*Route choice against Ciw*,
below): there the expected value is Ciw's mean wait and the interval is bordersim's mean ±
the 99% Welch half-width of the difference.

**Neutral zone.** bordersim never turns a traveller away: when the zone is full the exit
booth keeps its finished vehicle (blocking after service). No configuration is therefore an
M/M/1/K *loss* system for arriving travellers; two are exactly solvable:

1. *Poisson arrivals, an instant exit stage with ample booths, a zone of Z places, one
   exponential entry booth.* Blocked vehicles wait in order, each in its own exit booth, so
   the vehicles past the exit queue form an M/M/1 queue of which the zone and entry booth
   hold min(N, Z + 1): the zone is full with probability ρ^(Z+1), some exit booth is
   blocked with probability ρ^(Z+2), and the mean wait (queue plus blocking) is the M/M/1
   value. This is M/M/1 seen through a window, not M/M/1/K.
2. *One exponential exit booth (rate λ) that always has a vehicle waiting (all travellers
   arrive at time 0), a zone of Z places, one exponential entry booth (rate μ).* Let M =
   vehicles in the zone + in the entry booth + 1 if the exit booth holds a blocked vehicle.
   M rises at rate λ while M < Z + 2 (the exit booth is serving; after a block it restarts a
   fresh exponential time, which memorylessness makes equivalent), falls at rate μ while M >
   0, and cannot rise at M = Z + 2 (the booth is blocked). That is exactly the M/M/1/K chain
   with K = Z + 2: M's time-average distribution is π_n ∝ ρ^n, the exit booth is blocked a
   share π_K of the time, and the throughput is λ(1 − π_K). The saturated exit booth's
   backlog only drains, so Little's law is applied there to the booth alone.
"""


NETWORK_EXACT = """## Corridors and diversion: exact properties

Checked to the last digit by `tests/test_network.py` on every test run (not re-run here):

- **Fixed shares reproduce the single-crossing results exactly**: a corridor with one crossing
  and no drive is that crossing's demand (the same random streams), and the summary and
  stage tables equal those of the per-crossing scenario to the last digit; with several
  crossings, fixed shares thin the departures in the stated shares (binomial check).
- **Drive time is added exactly once**: every trip's time is its time at the crossing plus the
  drive to it and on from it (to 1e-9 minutes), each traveller reaches the crossing exactly
  its drive after departing, and a trip's drive is the corridor's (no detour) or the first
  drive plus the detour (diverted).
- **A closed crossing sends every would-be traveller elsewhere**: announced (least cost), no
  one sets off for it; unannounced (fixed shares with diversion), every traveller who set off
  for it is diverted out of it and into the other crossing, once.
- **Nobody is lost or counted twice**: departures = completed + still on their way, per
  corridor; trips diverted out = trips diverted in over the network; each traveller is
  logged once; travellers who leave a line at a closure leave it at that instant, and no one
  is served at a shut crossing.
- **Pieces**: crossings a corridor links stay in one piece, and a split run gives the same
  tables to the last digit.
"""


def write_markdown(
    results: list[CheckResult],
    path: str | Path,
    command: str = "python -m sim.validation",
    exact: list[ExactCheck] | None = None,
) -> Path:
    """Write the validation report: method, verdict, one table row per check, the exact checks, the runs.

    ``command`` is how the file was made, printed so that a reader can regenerate it.
    """
    path = Path(path)
    n = len(results)
    failed = [r for r in results if not r.passed]
    ok = verdict(results)
    lines = [
        "# Model validation",
        "",
        f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `{command}`; {_versions()}.",
        "",
        f"**{n - len(failed)} of {n} checks pass** (theory inside the 99% interval). "
        + (
            f"{len(failed)} outside; with {n} checks at the 1% level, {n * (1 - LEVEL):.1f} are expected by "
            f"chance and P(≥ {len(failed)}) = {chance_of_failures(results):.2f}: "
            + ("consistent with an exact model." if ok else "more than chance explains.")
            if failed
            else "No failure."
        ),
        "",
        "## Method",
        "",
        METHOD,
        "## Results",
        "",
        "| check | expected | simulated | interval | pass |",
        "| --- | ---: | ---: | --- | :---: |",
    ]
    for r in results:
        d = _decimals(r)
        interval = f"[{_fmt(r.ci_low, d)}, {_fmt(r.ci_high, d)}]"
        verdict_cell = "yes" if r.passed else "**no**"
        lines.append(f"| {r.name} | {_fmt(r.expected, d)} | {_fmt(r.simulated, d)} | {interval} | {verdict_cell} |")
    if failed:
        from scipy import stats

        lines += ["", "## Outside their interval", ""]
        for r in failed:
            t = r.t_statistic()
            if math.isfinite(t):
                p = 2 * stats.t.sf(abs(t), r.replications - 1)
                lines.append(f"- {r.name}: t = {t:.2f} over {r.replications} replications, two-sided p = {p:.4f}")
            else:
                lines.append(f"- {r.name}")
    route_choice = route_choice_markdown(results)
    if route_choice:
        lines += ["", *route_choice]
        lines += ["", *NETWORK_EXACT.rstrip("\n").split("\n")]
    if exact:
        lines += ["", *recursion_markdown(exact)]
    runs = list(dict.fromkeys(r.run for r in results if r.run))
    if runs:
        lines += [
            "",
            "## Runs",
            "",
            "replications × (warm-up + observed window), seed, travellers simulated, wall time",
            "",
        ]
        lines += [f"- {run}" for run in runs]
    text = "\n".join(lines) + "\n"
    # through the one atomic write: an interrupted run never leaves half a report where the old one was
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    return path
