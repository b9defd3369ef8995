"""``run`` and ``compare``: simulate scenarios, write their results, and say the headline.

Pandas, the engine and the report are imported inside the commands, so that ``bordersim
--help`` and ``bordersim validate`` start quickly.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from sim.cli.folders import reserve_folder
from sim.cli.progress import announcer, phase, plural, where_run
from sim.cli.selection import run_selection, select_options, selection_spec


def run_options(default_out: str, min_replications: int = 1):
    """The options ``run`` and ``compare`` share, in one place."""

    def apply(f):  # noqa: ANN001, ANN202 - a click command function
        options = [
            click.option(
                "--replications",
                "-r",
                type=click.IntRange(min_replications, 100_000),
                help="Replications of every scenario [the scenario's].",
            ),
            click.option("--seed", "-s", type=click.IntRange(0, 2**63 - 1), help="Root seed [the scenario's]."),
            click.option(
                "--days", "-d", type=click.FloatRange(0, 3660, min_open=True), help="Override the horizon, in days."
            ),
            click.option("--out", "-o", type=click.Path(path_type=Path), help=f"Results folder [{default_out}]."),
            click.option(
                "--jobs",
                "-j",
                type=click.IntRange(1, 512),
                default=1,
                show_default=True,
                help="Worker processes (or Dask workers).",
            ),
            click.option("--quiet", "-q", is_flag=True, help="No progress bar and no line as each phase begins."),
            click.option(
                "--no-report", is_flag=True, help="Skip the charts and report.html (bordersim report makes them later)."
            ),
            click.option(
                "--overwrite",
                is_flag=True,
                help="Replace an existing results folder (only once the new one is complete).",
            ),
            click.option(
                "--backend",
                type=click.Choice(["local", "dask"]),
                default="local",
                show_default=True,
                help="Worker processes here, or a Dask cluster.",
            ),
            click.option(
                "--scheduler", help="Address of a running Dask scheduler (with --backend dask); else a local cluster."
            ),
            click.option(
                "--records",
                type=click.Choice(["full", "travellers", "none"]),
                default="full",
                show_default=True,
                help="Record files kept: per traveller and per visit, per traveller only, or none (tables only).",
            ),
            click.option(
                "--pieces",
                type=click.IntRange(1, 1000),
                default=1,
                show_default=True,
                help="Split each replication into this many groups of crossings, run on separate workers "
                "(same results to the last digit).",
            ),
            click.option(
                "--event-log",
                is_flag=True,
                help="Also write event_log.parquet (one row per traveller event, in vidigi's columns) into each "
                "scenario's results; needs --records full.",
            ),
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return apply


@click.command("run")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@run_options("results/<scenario name>")
@click.option(
    "--precision",
    type=click.FloatRange(0, 1, min_open=True),
    help="Add replications until the 95% half-width of the KPI is within this share of its mean.",
)
@click.option(
    "--precision-kpi",
    default="time_in_system_mean_min",
    show_default=True,
    type=click.Choice(["time_in_system_mean_min", "wait_mean_min", "throughput_per_day"]),
)
@click.option("--min-replications", type=click.IntRange(2, 100_000), default=3, show_default=True)
@click.option("--max-replications", type=click.IntRange(2, 100_000), default=100, show_default=True)
def run_cmd(
    scenario_file: Path,
    replications: int | None,
    seed: int | None,
    days: float | None,
    out: Path | None,
    jobs: int,
    quiet: bool,
    no_report: bool,
    overwrite: bool,
    backend: str,
    scheduler: str | None,
    records: str,
    pieces: int,
    event_log: bool,
    precision: float | None,
    precision_kpi: str,
    min_replications: int,
    max_replications: int,
) -> None:
    """Run a scenario's replications and write summary, stages, records, manifest and report."""
    import sim
    from sim.experiments.run import Precision

    say = announcer(quiet)
    _needs_visits(event_log, records)
    scenario = sim.load_scenario(scenario_file)
    folder = out or Path("results") / scenario.name
    target = reserve_folder(folder, overwrite, [scenario_file, *scenario.resolved_from], report=not no_report)
    total = replications or scenario.replications
    top = max(min_replications, max_replications)
    where = where_run(jobs, backend, scheduler, total)
    if precision is None:
        say(f"simulating {plural(total, 'replication')} of {scenario.name} {where}")
    else:
        say(f"simulating {min_replications} to {top} replications of {scenario.name} {where}, until precise enough")
    with phase("replications", quiet) as tick:
        result = sim.run(
            scenario,
            replications=replications,
            seed=seed,
            days=days,
            jobs=jobs,
            progress=lambda done, total: tick(done, total, scenario.name),
            backend=backend,
            scheduler=scheduler,
            precision=None if precision is None else Precision(precision, precision_kpi, min_replications, top),
            records=records,
            pieces=pieces,
        )
    say(f"writing results to {folder}")
    with phase("files", quiet) as tick:
        result.write(target, report=False, progress=tick)
    if event_log:
        say("writing the event log")
        _event_logs([folder], quiet)
    if not no_report:
        say("drawing charts and report")
        with phase("charts and report", quiet) as tick:
            result.draw_report(folder, progress=tick)
    m = result.manifest
    _warn_overloads(result)
    if "precision" in m:
        p = m["precision"]
        verdict = "reached" if p["reached"] else "NOT reached (maximum replications hit)"
        click.echo(
            f"precision {verdict}: {p['kpi']} = {p['mean']:.3f} ± {p['half_width']:.3f} after {p['replications']} "
            f"replications (target ± {100 * p['relative_target']:g}%)",
            err=not p["reached"],
        )
    click.echo(
        f"{m['scenario']}: {m['replications']} replications of {m['horizon_min'] / 1440:g} days, "
        f"{m['entities']:,} travellers; wall time {m['wall_time_s']:.1f} s (simulation, as the report says) "
        f"-> {folder}/"
    )


def _needs_visits(event_log: bool, records: str) -> None:
    """Refuse ``--event-log`` before any simulation when the per-visit records it is made of will not be kept."""
    if event_log and records != "full":
        raise click.UsageError(f"--event-log needs the per-visit records: use --records full, not {records}")


def _event_logs(folders: list[Path], quiet: bool) -> None:
    """Each scenario's event log into its results folder, with progress."""
    from sim.cli.events import write_event_logs

    with phase("event logs", quiet) as tick:
        for k, folder in enumerate(folders, 1):
            write_event_logs([folder])
            tick(k, len(folders), folder.name)


def _warn_overloads(result) -> None:  # noqa: ANN001 - a RunResult, imported late
    """Tell the user, not only the files, when a queue grows without bound: one line per scenario.

    The line names the worst row (fastest growing backlog) and the lower bound of its wait,
    since the mean over finished travellers understates it. A run that is not overloaded by
    that test but has a stage pool at load >= 1 still gets a line, naming that pool.
    """
    from sim.analysis.overload import warning_line

    line = warning_line(result.scenario.name, result.overload)
    if line is not None:
        click.echo(line, err=True)
        return
    over = result.stages[result.stages["overloaded"]]
    if over.empty:
        return
    worst = over.sort_values("load", ascending=False).iloc[0]
    click.echo(
        f"warning: {result.scenario.name}: {len(over)} stage pool(s) overloaded (load >= 1, queue still growing at "
        f"the end), worst {worst['crossing']} {worst['direction']} side {worst['side']} {worst['stage']} "
        f"({worst['pool']}): load {worst['load']:.2f}, {worst['queue_end']:.0f} waiting at the end; see stages.csv",
        err=True,
    )


@click.command("compare")
@click.argument("baseline_file", type=click.Path(path_type=Path))
@click.argument("other_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@run_options("results/compare-<baseline name>", min_replications=2)
@select_options
def compare_cmd(
    baseline_file: Path,
    other_files: tuple[Path, ...],
    replications: int | None,
    seed: int | None,
    days: float | None,
    out: Path | None,
    jobs: int,
    quiet: bool,
    no_report: bool,
    overwrite: bool,
    backend: str,
    scheduler: str | None,
    records: str,
    pieces: int,
    event_log: bool,
    select_best: str | None,
    select_flow: str,
    select_direction: str,
    indifference: float | None,
    pcs: float,
    max_replications: int,
) -> None:
    """Compare scenarios against a baseline with common random numbers and paired 95% intervals.

    With --select-best, also name the best scenario by a KPI with Kim and Nelson's procedure,
    adding replications only to the scenarios still in contention.
    """
    from sim.experiments.run import compare
    from sim.scenario.errors import ScenarioError
    from sim.scenario.loader import load_scenario

    say = announcer(quiet)
    _needs_visits(event_log, records)
    scenarios, problems = [], []
    # a glob such as scenarios/kz_ru_*.yaml may name the baseline again: run it once
    others = [f for f in other_files if f.resolve() != baseline_file.resolve()]
    if not others:
        raise click.UsageError("name at least one scenario besides the baseline")
    for f in (baseline_file, *others):
        try:
            scenarios.append(load_scenario(f))
        except ScenarioError as err:
            problems += err.problems
    if problems:
        raise ScenarioError(problems)
    reps = replications or scenarios[0].replications
    spec = selection_spec(
        select_best, indifference, pcs, select_flow, select_direction, max_replications, scenarios, reps
    )
    folder = out or Path("results") / f"compare-{scenarios[0].name}"
    inputs = [baseline_file, *others, *(f for s in scenarios for f in s.resolved_from)]
    target = reserve_folder(folder, overwrite, inputs, report=not no_report)
    say(
        f"simulating {len(scenarios)} scenarios x {plural(reps, 'replication')} "
        f"{where_run(jobs, backend, scheduler, reps * len(scenarios))}"
    )
    with phase("replications", quiet) as bar:
        finished: dict[str, int] = {}

        def tick(name: str, done: int, _total: int) -> None:
            finished[name] = done
            bar(sum(finished.values()), reps * len(scenarios), name)

        result = compare(
            scenarios[0],
            scenarios[1:],
            replications=replications,
            seed=seed,
            days=days,
            jobs=jobs,
            progress=tick,
            backend=backend,
            scheduler=scheduler,
            records=records,
            pieces=pieces,
        )
    failed = run_selection(result, spec, say, quiet, jobs, backend, scheduler, pieces) if spec is not None else None
    say(f"writing results to {folder}")
    with phase("files", quiet) as bar:
        result.write(target, report=False, progress=bar)
    if event_log:
        say("writing the event logs")
        _event_logs([folder / s.name for s in scenarios], quiet)
    if not no_report:
        say("drawing charts and report")
        with phase("charts and report", quiet) as bar:
            result.draw_report(folder, progress=bar)
    for r in result.runs:
        _warn_overloads(r)
    _print_comparison(result)
    m = result.manifest
    if "selection" in m:
        click.echo(m["selection"]["statement"])
    click.echo(
        f"{len(scenarios)} scenarios x {m['replications']} replications; wall time {m['wall_time_s']:.1f} s "
        f"(simulation, as the report says) -> {folder}/"
    )
    if failed is not None:
        import sys

        from sim.cli.errors import EXIT_BAD_INPUT

        click.echo(f"error: {failed}; the comparison is written without a selection", err=True)
        sys.exit(EXIT_BAD_INPUT)


def _print_comparison(result) -> None:  # noqa: ANN001 - ComparisonResult, imported late
    """The border-wide headline: each scenario against the baseline, per flow, grouped by unit."""
    from rich.table import Table

    from sim.outputs.sections import comparison_headline

    t = result.comparison
    units = {name: f.unit for name, f in result.baseline.scenario.flows.items()}
    head = comparison_headline(t, units)
    table = Table(title=f"Border-wide mean time at the border: each scenario against {result.manifest['baseline']}")
    for col in head.columns:
        # names are never cut: a reader must see which scenario a row is
        table.add_column(
            col,
            justify="right" if col in ("baseline", "scenario value", "change") else "left",
            no_wrap=col in ("scenario", "flow", "difference", "95% interval"),
        )
    for row in head.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    Console(width=max(Console().width, 170)).print(table)
    if "overloaded" in t and t["overloaded"].any():
        click.echo(
            "note: rows marked overloaded have a queue growing without bound on that side: their means over "
            "finished travellers leave the queue out, so a difference there is not what it seems (overload.csv)"
        )
