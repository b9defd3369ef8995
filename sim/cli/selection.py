"""``compare --select-best``: the options, their checks before any simulation, and the selection phase.

Kept apart from ``runs`` so that ``compare`` reads as before with one decorator and two calls more.
Every bad value that can be seen in the scenarios is refused before the first replication runs (exit
status 2, the option named), since a mistake found after an hour of simulation costs the hour. What
only the runs can show (a chosen row where no traveller finished) ends the selection, not the
comparison: its results are written all the same, and the command then exits with status 2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from sim.cli.progress import phase

if TYPE_CHECKING:
    from sim.experiments.compare import ComparisonResult
    from sim.experiments.selection_run import SelectBest
    from sim.scenario.schema import Scenario

DEFAULT_CAP = 200
"""Replications of each scenario at most: past it KN's guarantee is void and the best is by sample mean."""


def select_options(f):  # noqa: ANN001, ANN201 - a click command function
    """The options of ``compare`` that ask for the best scenario."""
    options = [
        click.option(
            "--select-best",
            metavar="KPI",
            help="Also name the best scenario by this KPI (e.g. wait_mean_min, throughput_per_day) with Kim and "
            "Nelson's procedure, adding replications only where needed; needs --indifference.",
        ),
        click.option(
            "--select-flow",
            default="ALL",
            show_default=True,
            metavar="FLOW",
            help="The flow whose KPI is compared (whole border); ALL: every flow together.",
        ),
        click.option(
            "--select-direction",
            type=click.Choice(["ALL", "a_to_b", "b_to_a"]),
            default="ALL",
            show_default=True,
            help="The direction whose KPI is compared.",
        ),
        click.option(
            "--indifference",
            type=float,
            metavar="DELTA",
            help="The smallest difference in the KPI worth acting on, in its unit (minutes for waits and times, "
            "travellers per day for throughput); required with --select-best.",
        ),
        click.option(
            "--pcs",
            type=float,
            default=0.95,
            show_default=True,
            help="Probability of naming the best when it is better than every other by at least --indifference.",
        ),
        click.option(
            "--max-replications",
            type=click.IntRange(2, 100_000),
            default=DEFAULT_CAP,
            show_default=True,
            help="Replications of each scenario at most in the selection; reaching it voids the guarantee.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def selection_spec(
    metric: str | None,
    delta: float | None,
    pcs: float,
    flow: str,
    direction: str,
    cap: int,
    scenarios: list[Scenario],
    n0: int,
) -> SelectBest | None:
    """The selection asked for, checked against the loaded scenarios; None without ``--select-best``."""
    given = [
        name
        for name, on in (
            ("--indifference", delta is not None),
            ("--select-flow", flow != "ALL"),
            ("--select-direction", direction != "ALL"),
            ("--pcs", pcs != 0.95),
            ("--max-replications", cap != DEFAULT_CAP),
        )
        if on
    ]
    if metric is None:
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise click.UsageError(f"{' and '.join(given)} only {verb} with --select-best KPI")
        return None
    if delta is None:
        raise click.UsageError(
            "--select-best needs --indifference DELTA: the smallest difference in the KPI that matters, in its "
            "unit (e.g. --indifference 5 for five minutes of wait); only you can say what difference is worth acting on"
        )
    from sim.experiments.selection_run import SelectBest

    spec = SelectBest(metric, delta, pcs, flow, direction, cap)
    problems = spec.problems(scenarios, n0)
    if problems:
        raise click.UsageError("; ".join(f"{option}: {message}" for option, message in problems))
    if n0 < 10:
        click.echo(
            f"note: a first stage of {n0} replications makes Kim and Nelson's allowance wide (more replications in "
            "all); 10 or more is usual",
            err=True,
        )
    return spec


def run_selection(
    result: ComparisonResult,
    spec: SelectBest,
    say: Callable[[str], None],
    quiet: bool,
    jobs: int,
    backend: str,
    scheduler: str | None,
    pieces: int,
) -> str | None:
    """The selection after the comparison's replications: more of them for the scenarios still in contention.

    Returns why the selection could not be made (the comparison is then written without it), or None.
    """
    from sim.experiments.selection_run import SelectionError, select_best_scenario

    say(
        f"selecting the best scenario by {spec.metric} (Kim and Nelson's procedure): more replications only for "
        "the scenarios still in contention"
    )
    with phase("selection", quiet) as bar:
        try:
            select_best_scenario(result, spec, jobs, backend, scheduler, pieces, bar)
        except SelectionError as err:
            return f"--select-best: {err}"
    return None
