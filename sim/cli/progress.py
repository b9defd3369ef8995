"""What a command says while it works: a line on stderr as each phase begins, and a progress bar.

The phase lines ("simulating ...", "writing results to ...", "drawing charts and report")
let a program watching the command know what it is doing; the bar is drawn on a terminal only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err_console = Console(stderr=True)


def progress_bar(quiet: bool) -> Progress:
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
