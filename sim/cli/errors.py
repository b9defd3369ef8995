"""How a failed command is reported: in the user's words, with an exit status, never a traceback.

Bad input exits with status 2 and every problem as ``file:line: field: what is expected``; a
model failure with 1 and the seed to reproduce it; an internal error with 1 and its traceback
kept in a file for a bug report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.scenario.errors import Problem, ScenarioError

if TYPE_CHECKING:
    from sim.experiments.run import ReplicationError

EXIT_BAD_INPUT = 2
EXIT_MODEL_ERROR = 1
EXIT_INTERRUPTED = 130


def report_problems(problems: list[Problem]) -> None:
    """Every problem on a line of its own, then how many: all are fixed in one round, not one a run."""
    for p in problems:
        click.echo(f"error: {p}", err=True)
    n = len(problems)
    click.echo(f"{n} problem{'s' if n != 1 else ''} found", err=True)


def report_error(ctx: click.Context, err: Exception) -> int:
    """Say what went wrong in the user's words; return the exit status."""
    if isinstance(err, ScenarioError):
        report_problems(err.problems)
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
