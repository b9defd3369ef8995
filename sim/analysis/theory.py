"""Closed-form queueing results: the one implementation bordersim compares itself against.

The validation checks (``sim.validation``), the tests and the benchmark all measure the
simulator against these formulas, so there is exactly one Erlang C, one Pollaczek-Khinchine
and one M/M/1/K here: a mistake in one of them would show up everywhere at once instead of
hiding behind a second copy that happens to agree with the simulator.

Conventions: ``lam`` is the arrival rate, ``mean_service`` the mean service time E[S] (in the
same time unit), ``c`` the number of identical servers; waits are waits in queue (excluding
service), in that time unit. Every formula assumes a stable system (load below 1).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def erlang_c(c: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load ``offered`` = lambda E[S].

    Computed through the Erlang B recursion, which stays accurate where the textbook ratio of
    factorials overflows or cancels.
    """
    if offered >= c:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    rho = offered / c
    return b / (1.0 - rho + rho * b)


def mmc_wait(lam: float, mean_service: float, c: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C): C(c, a) E[S] / (c - a), with a = lambda E[S]."""
    offered = lam * mean_service
    return erlang_c(c, offered) * mean_service / (c - offered)


def jackson_wait(arrival_rate: float, stations: Iterable[tuple[float, float, int]]) -> float:
    """Mean total wait of a customer in an open Jackson network of M/M/c stations.

    ``stations`` holds (arrival rate at the station, mean service, servers). By Jackson's
    theorem every station behaves as an independent M/M/c queue, so the mean total wait is
    the sum over stations of (visits per customer = station rate / ``arrival_rate``) x (its wait).
    """
    return sum(rate / arrival_rate * mmc_wait(rate, mean, c) for rate, mean, c in stations)


def pk_wait(lam: float, mean_service: float, variance: float) -> float:
    """Mean wait in queue of M/G/1 (Pollaczek-Khinchine): lambda E[S^2] / (2 (1 - rho))."""
    rho = lam * mean_service
    return lam * (variance + mean_service**2) / (2.0 * (1.0 - rho))


def mm1_tail(rho: float, n: int) -> float:
    """P(N >= n) for the number N in an M/M/1 system at load ``rho``: rho^n (N is geometric)."""
    return rho**n


def mm1k_distribution(rho: float, k: int) -> np.ndarray:
    """Stationary distribution of the number in an M/M/1/K system: pi_n proportional to rho^n."""
    weights = rho ** np.arange(k + 1, dtype=float)
    return weights / weights.sum()
