"""The commands that replay a run traveller by traveller: ``events`` (the event log) and ``animate``.

Both read a scenario's results folder written with ``--records full``; both refuse anything
else with exit status 2 and a message naming the folder, the file or the option at fault.
``run`` and ``compare`` write the event log themselves with ``--event-log``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sim.cli.errors import EXIT_BAD_INPUT

EVENT_LOG = "event_log.parquet"
"""The event log ``--event-log`` writes into each scenario's results folder."""


def _minutes(option: str, value: str | None) -> float | None:
    """An option's moment (``2 d``, ``36 h``, ``90``: minutes) in minutes from the start of the run."""
    if value is None:
        return None
    from sim.scenario.units import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _fail(err: Exception) -> None:
    click.echo(f"error: {err}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def write_event_logs(folders: list[Path]) -> list[tuple[Path, int]]:
    """Write ``event_log.parquet`` into each scenario's results folder (``--event-log``); (file, rows) each."""
    from sim.outputs.eventlog import write_event_log

    return [(f / EVENT_LOG, write_event_log(f, f / EVENT_LOG)) for f in folders]


WINDOW = [
    click.option("--from", "start", metavar="WHEN", help="Start of the window, from the run's start: '2 d', '36 h'."),
    click.option("--to", "end", metavar="WHEN", help="End of the window, from the run's start: '3 d'."),
]


def _window(command: click.Command) -> click.Command:
    for option in reversed(WINDOW):
        command = option(command)
    return command


@click.command("events")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--out", "-o", type=click.Path(path_type=Path), help="A .parquet or .csv file [FOLDER/event_log.parquet]."
)
@click.option("--crossing", "crossings", multiple=True, metavar="ID", help="Only this crossing (repeatable).")
@click.option(
    "--replication", "replications", multiple=True, type=int, help="Only this replication, from 0 (repeatable)."
)
@_window
def events_cmd(
    folder: Path,
    out: Path | None,
    crossings: tuple[str, ...],
    replications: tuple[int, ...],
    start: str | None,
    end: str | None,
) -> None:
    """Write the event log of a run: one row per traveller event, in vidigi's columns.

    The columns are entity_id, event_type, event, time, resource_id, run_number and pathway,
    then crossing, travel_direction, flow, side and stage.
    """
    from sim.outputs.eventlog import write_event_log
    from sim.outputs.results import ReportError

    target = out or folder / EVENT_LOG
    try:
        rows = write_event_log(
            folder,
            target,
            crossings=list(crossings) or None,
            replications=list(replications) or None,
            start_min=_minutes("--from", start),
            end_min=_minutes("--to", end),
        )
    except (ReportError, ValueError) as err:
        _fail(err)
    click.echo(f"event log: {rows:,} events -> {target}")


@click.command("animate")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), help="The page to write [FOLDER/animation.html].")
@click.option("--crossing", metavar="ID", help="One crossing, both directions (default: the whole border).")
@click.option("--replication", type=int, help="The replication to replay, from 0 [the first].")
@click.option("--step", metavar="DURATION", help="Time between frames: '5 min' [at most 600 frames].")
@_window
def animate_cmd(
    folder: Path,
    out: Path | None,
    crossing: str | None,
    replication: int | None,
    step: str | None,
    start: str | None,
    end: str | None,
) -> None:
    """Write an offline HTML animation of a run: one crossing's lines and neutral zone, or the whole border."""
    from sim.outputs.animation import write_animation
    from sim.outputs.results import ReportError

    target = out or folder / "animation.html"
    try:
        page = write_animation(
            folder,
            target,
            crossing=crossing,
            start_min=_minutes("--from", start),
            end_min=_minutes("--to", end),
            replication=replication,
            step_min=_minutes("--step", step),
        )
    except (ReportError, ValueError) as err:
        _fail(err)
    click.echo(f"animation: {page}")
