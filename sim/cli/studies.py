"""Commands that study the model rather than report one scenario: a parameter sweep, a warm-up, its validation."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli.errors import EXIT_BAD_INPUT
from sim.cli.folders import check_sweep_folder
from sim.cli.progress import announcer, phase, plural, where_run

if TYPE_CHECKING:
    from sim.experiments.sweep import Sweep


@click.command("sweep")
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Sweep folder [results/sweep-<name>].")
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", help="Address of a running Dask scheduler (with --backend dask); else a local cluster.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no line as each phase begins.")
@click.option(
    "--bad",
    "bad_text",
    help="What counts as a bad run in the report, replacing the sweep file's bad, "
    'e.g. "wait_p95_min > 120 where direction=a_to_b flow=truck".',
)
@click.option("--report-only", is_flag=True, help="Draw report.html again from the runs already in the folder.")
def sweep_cmd(
    sweep_file: Path,
    out: Path | None,
    jobs: int,
    backend: str,
    scheduler: str | None,
    quiet: bool,
    bad_text: str | None,
    report_only: bool,
) -> None:
    """Run a parameter sweep and draw its report; rerunning it resumes, skipping runs already finished."""
    from sim.experiments.bad_outcome import bad_from_option
    from sim.experiments.sweep import load_sweep, overloaded_points, run_sweep

    say = announcer(quiet)
    sweep = load_sweep(sweep_file)
    if bad_text is not None:
        bad = bad_from_option(bad_text, sweep.spec.kpis, sweep.scenarios[0])
        sweep.spec = sweep.spec.model_copy(update={"bad": bad})
    folder = out or Path("results") / f"sweep-{sweep.spec.name}"
    if report_only:
        _sweep_report(sweep, folder, quiet, say)
        return
    check_sweep_folder(folder)
    ctx = click.get_current_context()
    ctx.meta["on_interrupt"] = (
        f"Finished runs are kept in {folder}/runs; run the same command again to resume with the rest."
    )
    runs = len(sweep.points) * sweep.spec.replications
    say(
        f"running sweep {sweep.spec.name}: {plural(runs, 'run')}, finished ones skipped, "
        f"{where_run(jobs, backend, scheduler, runs)}"
    )
    with phase("runs", quiet) as tick:
        result = run_sweep(sweep, folder, jobs, backend, scheduler, lambda done, total: tick(done, total))
    click.echo(
        f"sweep {sweep.spec.name}: {len(sweep.points)} design points x {sweep.spec.replications} replications; "
        f"{result.ran} runs done, {result.skipped} already there, {result.failed} failed, in {result.wall:.1f} s "
        f"-> {folder}/sweep.parquet"
    )
    for line in overloaded_points(result.table, list(sweep.points[0]) if sweep.points else []):
        click.echo(f"warning: sweep {sweep.spec.name}: {line}", err=True)
    if result.failed:
        click.echo(f"warning: {result.failed} run(s) failed; see {folder}/failures.csv (rerun to retry them)", err=True)
    _sweep_report(sweep, folder, quiet, say)


def _sweep_report(sweep: Sweep, folder: Path, quiet: bool, say: Callable[[str], None]) -> None:
    """Draw the sweep's report.html from its folder (exit status 2 when the folder holds no finished sweep)."""
    from sim.outputs.results import ReportError
    from sim.outputs.sweep_report import draw_sweep_report

    scenario = sweep.scenarios[0]
    countries = (scenario.countries.a, scenario.countries.b)
    say(f"drawing the sweep's report in {folder}")
    try:
        with phase("report", quiet) as tick:
            report = draw_sweep_report(folder, str(sweep.path), sweep.spec.bad, countries, tick)
    except ReportError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"report: {report}")


@click.command("warmup")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--replications", "-r", type=click.IntRange(1, 10_000), help="Replications [the scenario's].")
@click.option("--days", "-d", type=click.FloatRange(0, 3660, min_open=True), help="Run length, in days.")
@click.option(
    "--bin",
    "bin_min",
    type=click.FloatRange(1, 10_000),
    default=60,
    show_default=True,
    help="Minutes per point of the wait series.",
)
@click.option("--seed", "-s", type=click.IntRange(0, 2**63 - 1))
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True)
def warmup_cmd(
    scenario_file: Path, replications: int | None, days: float | None, bin_min: float, seed: int | None, jobs: int
) -> None:
    """Suggest a warm-up: the MSER-5 truncation point of the wait series (run from empty)."""
    import sim
    from sim.analysis.warmup import mser5

    scenario = sim.load_scenario(scenario_file)
    scenario = scenario.model_copy(update={"warmup": 0.0})
    result = sim.run(scenario, replications=replications, seed=seed, days=days, jobs=jobs)
    w = mser5(result.records, result.scenario.horizon, bin_min)
    hours = w.truncation_min / 60
    click.echo(
        f"{scenario.name}: MSER-5 truncation point {w.truncation_min:.0f} min ({hours:.1f} h) over "
        f"{result.scenario.horizon / 1440:g} days x {result.scenario.replications} replications "
        f"(a series of {len(w.series)} means of waits, one per {bin_min:g} minutes of arrivals)"
    )
    if w.settles:
        click.echo(f"suggested warm-up: at least {max(hours, bin_min / 60):.1f} h")
    else:
        click.echo(
            "warning: the wait series does not settle: its best truncation point is in the second half of the "
            "run. The system may be overloaded (see the stages' load) or the run too short; try more --days.",
            err=True,
        )
        sys.exit(3)


@click.command("validate-model")
@click.option("--full", is_flag=True, help="Every check with long runs (several minutes); default: the fast subset.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/validation.md"), show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
def validate_model_cmd(full: bool, out: Path, jobs: int) -> None:
    """Check the model against queueing theory and write the evidence as a markdown table."""
    from sim.validation.checks import main as validation_main

    args = ["--out", str(out), "--jobs", str(jobs)] + (["--full"] if full else [])
    sys.exit(validation_main(args))
