"""What a command says while it works: a line on stderr as each phase begins, and its progress.

The phase lines ("simulating ...", "writing results to ...", "drawing charts and report")
let a program watching the command know what it is doing. Each long phase (replications,
tables, charts) then shows its progress: a bar on a terminal, and elsewhere (a log file, a
CI job) plain lines at every tenth of the way, so that a long run is never silent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err_console = Console(stderr=True)


class Phase:
    """Progress of one phase, called as ``phase(done, total, what)``: a bar on a terminal, lines elsewhere.

    Lines go out at each tenth of the way (and at the end), so a phase of thousands of steps
    writes about ten; ``what`` names the step just done (a scenario, a chart).
    """

    def __init__(self, label: str, quiet: bool, bar: Progress | None = None) -> None:
        self.label, self.quiet, self.bar = label, quiet, bar
        self.task = bar.add_task(label, total=None) if bar is not None else None
        self.said = -1

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if self.quiet:
            return
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, completed=done, total=total, description=f"{self.label} {what}".strip())
            return
        tenth = (10 * done) // max(total, 1)
        if tenth > self.said or done == total:
            if done == total and self.said == 10:
                return
            self.said = 10 if done >= total else tenth
            tail = f" ({what})" if what else ""
            err_console.print(
                f"  {self.label}: {done} of {total}{tail}", markup=False, highlight=False, emoji=False, soft_wrap=True
            )


class phase:  # noqa: N801 - used as a context manager, like open()
    """``with phase("replications", quiet) as tick:``: a ``Phase`` whose bar is closed on leaving."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.quiet = label, quiet
        self.bar: Progress | None = None

    def __enter__(self) -> Phase:
        if not self.quiet and err_console.is_terminal:
            self.bar = progress_bar(False)
            self.bar.__enter__()
        return Phase(self.label, self.quiet, self.bar)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def progress_bar(quiet: bool) -> Progress:
    """A progress bar on a terminal (elsewhere ``Phase`` prints lines)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet or not err_console.is_terminal,
        transient=True,
    )


def announcer(quiet: bool) -> Callable[[str], None]:
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


def plural(n: int, thing: str) -> str:
    """``1 run``, ``2 runs``: the phase lines read as sentences."""
    return f"{n} {thing}{'' if n == 1 else 's'}"


def where_run(jobs: int, backend: str, scheduler: str | None, tasks: int) -> str:
    """Where the simulations run, in words."""
    if backend == "dask":
        return f"on the Dask cluster at {scheduler}" if scheduler else f"on a local Dask cluster of {jobs} workers"
    if jobs > 1 and tasks > 1:
        return f"on {min(jobs, tasks)} worker processes"
    return "in this process"
