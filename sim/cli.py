"""The ``bordersim`` command line: run, validate and schema.

Bad input is reported as ``file:line: field: what is expected`` with exit status 2, never a
traceback. Ctrl-C or SIGTERM ends a command within a second or two, with one line saying what
was kept and exit status 130.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import warnings
import weakref

_MAIN_PID = os.getpid()


class _Interrupt(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, watched until the command has reported it."""


# while a command runs: a token for it, and the interrupt under way (None once said again) with its signal
_running: object | None = None
_pending: tuple[weakref.ref[_Interrupt] | None, int] | None = None


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM stop a run cleanly in the main process, keeping what is finished.

    A worker process forked before it set its own handlers ends quietly instead of printing
    a traceback: the main process is the one that reports.
    """
    if os.getpid() != _MAIN_PID:
        os._exit(128 + signum)
    if _running is None:
        raise KeyboardInterrupt
    _quiet_from_now()
    raise _watched(signum)


def _quiet_from_now() -> None:
    """After an interrupt, the one line the command says is the last word.

    Whatever is being stopped may log or warn about it (a library whose callback the interrupt
    cut short warns that it fell back to something else, say): none of that is for the user.
    """
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")


def _watched(signum: int) -> _Interrupt:
    """The interrupt to raise, watched until the command has reported it."""
    global _pending
    interrupt = _Interrupt()
    _pending = (weakref.ref(interrupt), signum)
    return interrupt


def _say_again_if_lost(command: object) -> None:
    """While a command runs, send a signal again if its exception vanished before the command reported it.

    Compiled code calling back into Python (a warning issued from it, say) may drop an exception
    raised there, and the run would go on as if never interrupted. An exception on its way up
    stays alive, so only a lost one is said again.
    """
    global _pending
    while _running is command:
        pending = _pending
        if pending is not None and pending[0] is not None and pending[0]() is None:
            _pending = (None, pending[1])
            signal.pthread_kill(threading.main_thread().ident or 0, pending[1])
        time.sleep(0.1)


def _catch_signals() -> None:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


_show_unraisable = sys.unraisablehook


def _unraisable(info: sys.UnraisableHookArgs) -> None:
    """An interrupt lost in a finalizer is said again, not printed as a traceback; anything else is shown."""
    if not isinstance(info.exc_value, _Interrupt):
        _show_unraisable(info)


# first of all, before the slower imports: a signal in the first instants must not kill the
# process unannounced (SIGTERM) or end it with a traceback
_catch_signals()
sys.unraisablehook = _unraisable

import json  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import click  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from sim import __version__  # noqa: E402
from sim.scenario.errors import Problem, ScenarioError  # noqa: E402

if TYPE_CHECKING:
    from sim.experiments.run import ReplicationError
    from sim.outputs.files import ResultsFolder

EXIT_BAD_INPUT = 2
err_console = Console(stderr=True)


def _report_problems(problems: list[Problem]) -> None:
    for p in problems:
        click.echo(f"error: {p}", err=True)
    n = len(problems)
    click.echo(f"{n} problem{'s' if n != 1 else ''} found", err=True)


EXIT_MODEL_ERROR = 1
EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """Turns bad input, model failures and interrupts into clear messages, anywhere in a command."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        global _running, _pending
        _catch_signals()  # again: something run in this process since the import may have replaced them
        _running = command = object()
        # started here, never in the signal handler, which may run while this thread holds a lock threads need
        threading.Thread(target=_say_again_if_lost, args=(command,), name="watch-interrupt", daemon=True).start()
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            kept = ctx.meta.get("on_interrupt", "Nothing was written.")
            click.echo(f"interrupted. {kept() if callable(kept) else kept}", err=True)
            _quiet_from_now()
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as err:  # noqa: BLE001 - the last word: no traceback for a user
            ctx.exit(_report_error(ctx, err))
        finally:
            _running, _pending = None, None  # reported, or the command ended anyway: nothing more to say again


def _report_error(ctx: click.Context, err: Exception) -> int:
    """Say what went wrong in the user's words; return the exit status."""
    if isinstance(err, ScenarioError):
        _report_problems(err.problems)
        return EXIT_BAD_INPUT
    from sim.experiments.run import ReplicationError, ReportFailed
    from sim.outputs.files import OutputError

    if isinstance(err, OutputError):
        click.echo(f"error: {err}", err=True)
        return EXIT_BAD_INPUT
    if isinstance(err, ReplicationError):
        _report_failure(ctx, err)
        return EXIT_MODEL_ERROR
    if isinstance(err, ReportFailed):
        click.echo(f"error: {err} (details in {_keep_traceback(err.cause)})", err=True)
        return EXIT_MODEL_ERROR
    _report_internal(err)
    return EXIT_MODEL_ERROR


def _keep_traceback(err: BaseException) -> str:
    """Keep an error's traceback in a file for a bug report; return the file's name."""
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="bordersim-error-", suffix=".log", delete=False) as fh:
        fh.write("".join(traceback.format_exception(err)))
    return fh.name


def _report_internal(err: Exception) -> None:
    """An unexpected error: one line for the user, the traceback kept in a file for a bug report."""
    click.echo(f"error: internal error: {type(err).__name__}: {err} (details in {_keep_traceback(err)})", err=True)


def _report_failure(ctx: click.Context, err: ReplicationError) -> None:
    """Say which replication failed, with the seed to reproduce it, and keep its record if it can be kept."""
    from sim.outputs.files import reason, write_json

    what = "the run is unstable" if err.unstable else "the model failed"
    click.echo(f"error: {what}: {err}", err=True)
    record = Path(ctx.meta.get("failure_dir", "results")) / f"{err.scenario}.failure.json"
    try:
        write_json(record, err.record())
    except OSError as exc:
        kept = f"its record (with the traceback) could not be kept in {record}: {reason(exc)}"
    else:
        kept = f"details kept in {record}"
    click.echo(
        f"reproduce it with --seed {err.seed} --replications {err.replication + 1} (replication "
        f"{err.replication}); {kept}",
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
    from sim.scenario.loader import load_scenario

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
    from sim.scenario.schema import Scenario

    text = json.dumps(Scenario.model_json_schema(mode="validation"), indent=2)
    if out is None:
        click.echo(text)
    else:
        from sim.outputs.files import write_text

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
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return apply


def _progress(quiet: bool) -> Progress:
    """A progress bar on a terminal (elsewhere the phase lines say enough)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,
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
    from sim.experiments.run import Precision

    say = _announcer(quiet)
    scenario = sim.load_scenario(scenario_file)
    folder = out or Path("results") / scenario.name
    target = _reserve(folder, overwrite, [scenario_file, *scenario.resolved_from], report=not no_report)
    total = replications or scenario.replications
    top = max(min_replications, max_replications)
    where = _where(jobs, backend, scheduler, total)
    if precision is None:
        say(f"simulating {_count(total, 'replication')} of {scenario.name} {where}")
    else:
        say(f"simulating {min_replications} to {top} replications of {scenario.name} {where}, until precise enough")
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
            precision=None if precision is None else Precision(precision, precision_kpi, min_replications, top),
        )
    say(f"writing results to {folder}")
    result.write(target, report=False)
    if not no_report:
        say("drawing charts and report")
        result.draw_report(folder)
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


def _announcer(quiet: bool) -> Callable[[str], None]:
    """A function printing a short line on stderr as each phase of the command begins (none with --quiet).

    The lines go out whether or not stderr is a terminal, so that a program watching the
    command knows what it is doing. The library's own steps (a Dask cluster starting) are log
    lines of the ``sim`` logger, printed the same way.
    """
    if quiet:
        return lambda _text: None

    def say(text: str) -> None:
        err_console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)

    handler = _Say(say)
    logger = logging.getLogger("sim")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    click.get_current_context().call_on_close(lambda: logger.removeHandler(handler))
    return say


class _Say(logging.Handler):
    """Log lines of the library, said like the command's own phase lines."""

    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.say = say

    def emit(self, record: logging.LogRecord) -> None:
        self.say(record.getMessage())


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def _where(jobs: int, backend: str, scheduler: str | None, tasks: int) -> str:
    """Where the simulations run, in words."""
    if backend == "dask":
        return f"on the Dask cluster at {scheduler}" if scheduler else f"on a local Dask cluster of {jobs} workers"
    if jobs > 1 and tasks > 1:
        return f"on {min(jobs, tasks)} worker processes"
    return "in this process"


def _reserve(folder: Path, overwrite: bool, inputs: Iterable[str | Path], report: bool) -> ResultsFolder:
    """Claim the results folder before any work, hold it until the command ends, and say what an interrupt keeps."""
    from sim.outputs.files import ResultsFolder

    ctx = click.get_current_context()
    target = ctx.with_resource(ResultsFolder(folder, overwrite, inputs))
    ctx.meta["failure_dir"] = str(folder.parent)
    then = f"; `bordersim report {folder}` draws their charts and report" if report else ""

    def kept() -> str:
        if target.placed:
            return f"The results are in {folder}{then}."
        return f"Nothing was written to {folder}; run the same command again to start afresh."

    ctx.meta["on_interrupt"] = kept
    return target


def _check_sweep_folder(folder: Path) -> None:
    """Refuse at once a sweep folder that cannot be written, or an existing folder holding something else."""
    from sim.outputs.files import OutputError, check_place, reason

    place = folder.resolve()
    check_place(place, str(folder))
    try:
        if not os.path.lexists(place):
            return
        if not place.is_dir():
            raise OutputError(f"{folder} is a file, not a sweep folder; choose another --out")
        if not os.access(place, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write to {folder}: the folder is not writable")
        if not (place / "sweep.json").is_file() and any(place.iterdir()):
            raise OutputError(
                f"{folder} holds files but is not a sweep folder (it has no sweep.json); choose another --out"
            )
    except OSError as err:
        raise OutputError(f"cannot write to {folder}: {reason(err)}") from None


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
    from sim.experiments.run import compare
    from sim.scenario.errors import ScenarioError
    from sim.scenario.loader import load_scenario

    say = _announcer(quiet)
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
    folder = out or Path("results") / f"compare-{scenarios[0].name}"
    inputs = [baseline_file, *others, *(f for s in scenarios for f in s.resolved_from)]
    target = _reserve(folder, overwrite, inputs, report=not no_report)
    reps = replications or scenarios[0].replications
    say(
        f"simulating {len(scenarios)} scenarios x {_count(reps, 'replication')} "
        f"{_where(jobs, backend, scheduler, reps * len(scenarios))}"
    )
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
    say(f"writing results to {folder}")
    result.write(target, report=False)
    if not no_report:
        say("drawing charts and report")
        result.draw_report(folder)
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
    from sim.outputs.report import ReportError, build_report

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
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no line as each phase begins.")
def sweep_cmd(sweep_file: Path, out: Path | None, jobs: int, backend: str, scheduler: str | None, quiet: bool) -> None:
    """Run a parameter sweep; rerunning it resumes, skipping runs already finished."""
    from sim.experiments.sweep import load_sweep, run_sweep

    say = _announcer(quiet)
    sweep = load_sweep(sweep_file)
    folder = out or Path("results") / f"sweep-{sweep.spec.name}"
    _check_sweep_folder(folder)
    ctx = click.get_current_context()
    ctx.meta["on_interrupt"] = (
        f"Finished runs are kept in {folder}/runs; run the same command again to resume with the rest."
    )
    runs = len(sweep.points) * sweep.spec.replications
    say(
        f"running sweep {sweep.spec.name}: {_count(runs, 'run')}, finished ones skipped, "
        f"{_where(jobs, backend, scheduler, runs)}"
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


@main.command("validate-model")
@click.option("--full", is_flag=True, help="Every check with long runs (several minutes); default: the fast subset.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/validation.md"), show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
def validate_model_cmd(full: bool, out: Path, jobs: int) -> None:
    """Check the model against queueing theory and write the evidence as a markdown table."""
    from sim.validation.checks import main as validation_main

    args = ["--out", str(out), "--jobs", str(jobs)] + (["--full"] if full else [])
    sys.exit(validation_main(args))
