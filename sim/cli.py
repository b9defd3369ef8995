"""The ``bordersim`` command line: run, validate and schema.

Bad input is reported as ``file:line: field: what is expected`` with exit status 2, never a
traceback.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sim import __version__
from sim.errors import Problem, ScenarioError

EXIT_BAD_INPUT = 2
err_console = Console(stderr=True)


def _report_problems(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(f"error: {p}", err=True)
    n = len(problems)
    click.echo(f"{n} problem{'s' if n != 1 else ''} found", err=True)


EXIT_MODEL_ERROR = 1
EXIT_INTERRUPTED = 130


_MAIN_PID = os.getpid()


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM stop a run cleanly in the main process, keeping what is finished.

    A worker process forked before it set its own handlers ends quietly instead of printing
    a traceback: the main process is the one that reports.
    """
    if os.getpid() != _MAIN_PID:
        os._exit(128 + signum)
    raise KeyboardInterrupt


class _Group(click.Group):
    """Turns bad input, model failures and interrupts into clear messages, anywhere in a command."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        from sim.output import OutputExists

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        try:
            return super().invoke(ctx)
        except ScenarioError as err:
            _report_problems(err.problems)
            ctx.exit(EXIT_BAD_INPUT)
        except OutputExists as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(EXIT_BAD_INPUT)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo(f"interrupted. {ctx.meta.get('on_interrupt', 'Nothing was written.')}", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as err:  # noqa: BLE001 - the last word: no traceback for a user
            from sim.experiment import ReplicationError

            if isinstance(err, ReplicationError):
                _report_failure(ctx, err)
                ctx.exit(EXIT_MODEL_ERROR)
            _report_internal(err)
            ctx.exit(EXIT_MODEL_ERROR)


def _report_internal(err: Exception) -> None:
    """An unexpected error: one line for the user, the traceback kept in a file for a bug report."""
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="bordersim-error-", suffix=".log", delete=False) as fh:
        fh.write("".join(traceback.format_exception(err)))
    click.echo(f"error: internal error: {type(err).__name__}: {err} (details in {fh.name})", err=True)


def _report_failure(ctx: click.Context, err: object) -> None:
    """Say which replication failed, with the seed to reproduce it, and keep its record."""
    from sim.experiment import ReplicationError
    from sim.output import write_json

    assert isinstance(err, ReplicationError)
    what = "the run is unstable" if err.unstable else "the model failed"
    click.echo(f"error: {what}: {err}", err=True)
    record = Path("results") / f"{err.scenario}.failure.json"
    if ctx.meta.get("failure_dir"):
        record = Path(ctx.meta["failure_dir"]) / f"{err.scenario}.failure.json"
    write_json(record, err.record())
    click.echo(
        f"reproduce it with --seed {err.seed} --replications {err.replication + 1} (replication "
        f"{err.replication}); details kept in {record}",
        err=True,
    )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bordersim")
def main() -> None:
    """bordersim: simulate people and goods crossing a land border and compare control regimes."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check scenario files; exit 0 when all are valid, 2 otherwise."""
    from sim.loader import load_scenario

    problems: list[Problem] = []
    for f in files:
        try:
            s = load_scenario(f)
        except ScenarioError as err:
            problems += err.problems
        else:
            click.echo(f"{f}: valid ({len(s.crossings)} crossings, {len(s.demand)} demand entries)")
    if problems:
        _report_problems(problems)
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), help="Write the schema here instead of printing it.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of scenario files."""
    from sim.scenario import Scenario

    text = json.dumps(Scenario.model_json_schema(mode="validation"), indent=2)
    if out is None:
        click.echo(text)
    else:
        from sim.output import write_text

        write_text(out, text + "\n")


def _run_options(default_out: str, min_replications: int = 1):
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
            click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
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
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return apply


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    )


@main.command("run")
@click.argument("scenario_file", type=click.Path(path_type=Path))
@_run_options("results/<scenario name>")
@click.option(
    "--precision",
    type=click.FloatRange(0, 1, min_open=True),
    help="Add replications until the 95%% half-width of the KPI is within this share of its mean.",
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
    precision: float | None,
    precision_kpi: str,
    min_replications: int,
    max_replications: int,
) -> None:
    """Run a scenario's replications and write summary, stages, records, manifest and report."""
    import sim
    from sim.output import check_output

    scenario = sim.load_scenario(scenario_file)
    folder = out or Path("results") / scenario.name
    check_output(folder, overwrite)
    ctx = click.get_current_context()
    ctx.meta["failure_dir"] = str(folder.parent)
    ctx.meta["on_interrupt"] = f"Nothing was written to {folder}; run the same command again to start afresh."
    total = replications or scenario.replications
    from sim.experiment import Precision

    with _progress(quiet) as progress:
        task = progress.add_task(f"{scenario.name}: replications", total=total)
        result = sim.run(
            scenario,
            replications=replications,
            seed=seed,
            days=days,
            jobs=jobs,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
            backend=backend,
            scheduler=scheduler,
            precision=None
            if precision is None
            else Precision(precision, precision_kpi, min_replications, max(min_replications, max_replications)),
        )
    folder = result.write(folder, report=not no_report, overwrite=overwrite)
    m = result.manifest
    _warn_overloads(result.stages, result.scenario.name)
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
        f"{m['entities']:,} travellers in {m['wall_time_s']:.1f} s -> {folder}/"
    )


def _warn_overloads(stages, name: str) -> None:  # noqa: ANN001 - a DataFrame, imported late
    """Tell the user, not only the files, when demand exceeds what some stage can serve."""
    over = stages[stages["overloaded"]]
    if over.empty:
        return
    click.echo(
        f"warning: {name}: {len(over)} stage pool(s) overloaded (load >= 1, queue still growing at the end); "
        "their waits grow with the run's length:",
        err=True,
    )
    for row in over.sort_values("load", ascending=False).head(8).itertuples():
        click.echo(
            f"  {row.crossing} {row.direction} side {row.side} {row.stage} ({row.pool}): load {row.load:.2f}, "
            f"{row.queue_end:.0f} waiting at the end",
            err=True,
        )


@main.command("compare")
@click.argument("baseline_file", type=click.Path(path_type=Path))
@click.argument("other_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_run_options("results/compare-<baseline name>", min_replications=2)
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
) -> None:
    """Compare scenarios against a baseline with common random numbers and paired 95% intervals."""
    from sim.errors import ScenarioError
    from sim.experiment import compare
    from sim.loader import load_scenario

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
    from sim.output import check_output

    folder = out or Path("results") / f"compare-{scenarios[0].name}"
    check_output(folder, overwrite)
    ctx = click.get_current_context()
    ctx.meta["failure_dir"] = str(folder.parent)
    ctx.meta["on_interrupt"] = f"Nothing was written to {folder}; run the same command again to start afresh."
    reps = replications or scenarios[0].replications
    with _progress(quiet) as progress:
        task = progress.add_task("replications", total=reps * len(scenarios))
        finished: dict[str, int] = {}

        def tick(name: str, done: int, _total: int) -> None:
            finished[name] = done
            progress.update(task, completed=sum(finished.values()), description=name)

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
        )
    folder = result.write(folder, report=not no_report, overwrite=overwrite)
    for r in result.runs:
        _warn_overloads(r.stages, r.scenario.name)
    _print_comparison(result)
    m = result.manifest
    click.echo(
        f"{len(scenarios)} scenarios x {m['replications']} replications in {m['wall_time_s']:.1f} s -> {folder}/"
    )


def _print_comparison(result) -> None:  # noqa: ANN001 - ComparisonResult, imported late
    """The border-wide headline: each scenario against the baseline, per flow."""
    from rich.table import Table

    t = result.comparison
    t = t[(t["crossing"] == "ALL") & (t["direction"] == "ALL") & (t["metric"] == "time_in_system_mean_min")]
    table = Table(title=f"Border-wide mean time in system (min): each scenario against {result.manifest['baseline']}")
    for col in ("scenario", "flow", "baseline", "scenario", "difference", "95% CI (paired)"):
        table.add_column(col, justify="left" if col in ("scenario", "flow") else "right")
    for row in t.itertuples():
        table.add_row(
            row.scenario,
            row.flow,
            f"{row.baseline_value:.1f}",
            f"{row.value:.1f}",
            f"{row.diff:+.1f}",
            f"[{row.diff_ci95_low:+.1f}, {row.diff_ci95_high:+.1f}]",
        )
    Console(width=max(Console().width, 130)).print(table)


@main.command("report")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
def report_cmd(folder: Path, jobs: int) -> None:
    """Rebuild the charts and report.html of a results folder from its files."""
    from sim.report import ReportError, build_report

    try:
        out = build_report(folder, jobs)
    except ReportError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"report: {out}")


@main.command("sweep")
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Sweep folder [results/sweep-<name>].")
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True)
@click.option("--scheduler", help="Address of a running Dask scheduler (with --backend dask); else a local cluster.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def sweep_cmd(sweep_file: Path, out: Path | None, jobs: int, backend: str, scheduler: str | None, quiet: bool) -> None:
    """Run a parameter sweep; rerunning it resumes, skipping runs already finished."""
    from sim.sweep import load_sweep, run_sweep

    sweep = load_sweep(sweep_file)
    folder = out or Path("results") / f"sweep-{sweep.spec.name}"
    ctx = click.get_current_context()
    ctx.meta["on_interrupt"] = (
        f"Finished runs are kept in {folder}/runs; run the same command again to resume with the rest."
    )
    with _progress(quiet) as progress:
        task = progress.add_task(f"sweep {sweep.spec.name}: runs", total=None)
        result = run_sweep(
            sweep,
            folder,
            jobs,
            backend,
            scheduler,
            lambda done, total: progress.update(task, completed=done, total=total),
        )
    click.echo(
        f"sweep {sweep.spec.name}: {len(sweep.points)} design points x {sweep.spec.replications} replications; "
        f"{result.ran} runs done, {result.skipped} already there, {result.failed} failed, in {result.wall:.1f} s "
        f"-> {folder}/sweep.parquet"
    )
    if result.failed:
        click.echo(f"warning: {result.failed} run(s) failed; see {folder}/failures.csv (rerun to retry them)", err=True)


@main.command("warmup")
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
    from sim.warmup import mser5

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


@main.command("validate-model")
@click.option("--full", is_flag=True, help="Every check with long runs (several minutes); default: the fast subset.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/validation.md"), show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
def validate_model_cmd(full: bool, out: Path, jobs: int) -> None:
    """Check the model against queueing theory and write the evidence as a markdown table."""
    from sim.validation import main as validation_main

    args = ["--out", str(out), "--jobs", str(jobs)] + (["--full"] if full else [])
    sys.exit(validation_main(args))
