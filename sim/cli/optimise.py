"""``optimise``: the fewest servers such that a flow's target holds at each crossing, with a stated confidence.

The simulation and search are imported inside the command, so ``bordersim --help`` stays quick.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sim.cli.folders import reserve_folder
from sim.cli.progress import announcer, plural, where_run

METRICS = ("wait_p95_min", "wait_p90_min", "wait_p50_min", "wait_mean_min", "time_in_system_mean_min")
"""The targets ``sim.analysis.staffing_theory.METRICS`` knows, named here so that ``--help`` need not load numpy."""
EXIT_NOT_MET = 3
"""Exit status when the target is not met at some crossing (the files are written all the same)."""


@click.command("optimise")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--flow", required=True, help="The flow the target is for (e.g. truck).")
@click.option(
    "--metric", type=click.Choice(METRICS), default="wait_p95_min", show_default=True, help="What is bounded."
)
@click.option(
    "--max",
    "limit",
    type=click.FloatRange(0, 1e7, min_open=True),
    required=True,
    help="The target: the metric at most this many minutes, in each direction at each crossing.",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence of the one-sided bound the target is judged on.",
)
@click.option("--crossing", "crossings", multiple=True, help="A crossing to plan (repeat) [every one with the flow].")
@click.option("--replications", "-r", type=click.IntRange(2, 100_000), help="Replications per plan [the scenario's].")
@click.option("--days", "-d", type=click.FloatRange(0, 3660, min_open=True), help="Override the horizon, in days.")
@click.option("--seed", "-s", type=click.IntRange(0, 2**63 - 1), help="Root seed [the scenario's].")
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--start",
    type=click.Choice(["theory", "scenario"]),
    default="theory",
    show_default=True,
    help="Start the search from theory's plan (SIPP, Erlang C) or from the scenario's servers.",
)
@click.option("--by-hour", is_flag=True, help="Plan every pool hour by hour, also where the scenario gives one count.")
@click.option(
    "--max-evaluations",
    type=click.IntRange(1, 100_000),
    default=200,
    show_default=True,
    help="Bound on the simulation runs of the search (each runs every replication of one plan per crossing).",
)
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Results folder [results/<scenario>_optimise].")
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing results folder (only once the new one is complete)."
)
@click.option("--quiet", "-q", is_flag=True, help="No line per simulation run.")
def optimise_cmd(
    scenario_file: Path,
    flow: str,
    metric: str,
    limit: float,
    confidence: float,
    crossings: tuple[str, ...],
    replications: int | None,
    days: float | None,
    seed: int | None,
    jobs: int,
    start: str,
    by_hour: bool,
    max_evaluations: int,
    out: Path | None,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Find the fewest servers per crossing, side, stage (and hour) such that a target holds; write the plan."""
    import sim
    from sim.analysis.staffing_theory import Target
    from sim.experiments.optimise import optimise, prepare
    from sim.experiments.staffing_files import summary_lines, write
    from sim.experiments.staffing_plan import PlanError

    say = announcer(quiet)
    scenario = sim.load_scenario(scenario_file)
    try:
        problem = prepare(
            scenario, flow, Target(metric, limit, confidence), crossings, replications, days, seed, by_hour
        )
    except PlanError as err:
        raise click.BadParameter(str(err), param_hint=f"'{err.option}'") from None
    folder = out or Path("results") / f"{scenario.name}_optimise"
    target = reserve_folder(folder, overwrite, [scenario_file, *scenario.resolved_from], report=False)
    s = problem.scenario
    chosen = problem.staff.crossings
    say(
        f"optimising {flow} servers at {plural(len(chosen), 'crossing')} of {s.name}: "
        f"{plural(s.replications, 'replication')} of {s.horizon / 1440:g} days per plan, "
        f"{where_run(jobs, 'local', None, s.replications)}"
    )
    result = optimise(
        problem,
        start,
        max_evaluations,
        jobs,
        on_run=lambda k: say(f"simulating plan {k} (of at most {max_evaluations + 1})"),
    )
    say(f"writing results to {folder}")
    write(result, target, scenario_file)
    for line in summary_lines(result):
        click.echo(line)
    click.echo(f"{result.runs} simulation runs in {result.wall_s:.1f} s -> {folder}/")
    if not result.met:
        click.echo("warning: the target is not met at every crossing; see target.csv and search.csv", err=True)
        sys.exit(EXIT_NOT_MET)
