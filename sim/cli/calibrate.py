"""``calibrate``: a scenario fragment and its report from observed timestamps.

The fitting libraries (scipy) are imported inside the command, so ``bordersim --help`` stays quick.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""The scenario format's weekdays, named here so that ``--help`` need not load the format (pydantic)."""


@click.command("calibrate")
@click.argument("observations", type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Write the fragment (YAML) here [printed].")
@click.option("--report", type=click.Path(path_type=Path), help="Write the report (markdown) here.")
@click.option(
    "--extends",
    "base",
    type=click.Path(path_type=Path),
    help="A scenario the fragment completes: written as its extends: line, relative to the fragment.",
)
@click.option(
    "--days",
    type=click.FloatRange(0, 3660, min_open=True),
    help="Days observed, when the file does not cover whole days from its first to its last arrival.",
)
@click.option(
    "--start-weekday",
    type=click.Choice(WEEKDAYS),
    default="monday",
    show_default=True,
    help="Weekday of minute 0, when times are minutes.",
)
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=2024, show_default=True, help="Bootstrap seed.")
def calibrate_cmd(
    observations: Path,
    out: Path | None,
    report: Path | None,
    base: Path | None,
    days: float | None,
    start_weekday: str,
    seed: int,
) -> None:
    """Fit demand, service times and selection shares to observed times; write a scenario fragment."""
    from sim.calibration import calibrate
    from sim.outputs.files import OutputError, check_place, reason, write_text
    from sim.scenario.user_files import display

    targets = [p for p in (out, report) if p is not None]
    for target in targets:
        shown = display(target)
        if target.is_dir():
            raise OutputError(f"cannot write to {shown}: it is a folder")
        if _same(target, observations):
            raise OutputError(f"cannot write to {shown}: it is the observations file")
        check_place(target, shown)
    if out is not None and report is not None and _same(out, report):
        raise OutputError(f"--out and --report name the same file ({display(out)})")
    cal = calibrate(observations, days=days, start_weekday=start_weekday, seed=seed)
    extends = None
    if base is not None:
        extends = os.path.relpath(base.absolute(), (out.absolute().parent if out is not None else Path.cwd()))
    fragment = cal.fragment(extends)
    for target, text in ((out, fragment), (report, cal.report() if report is not None else "")):
        if target is None:
            continue
        try:
            write_text(target, text)
        except OSError as err:
            raise OutputError(f"cannot write to {display(target)}: {reason(err)}") from None
    obs = cal.observations
    summary = (
        f"calibrated from {len(obs.vehicles)} vehicles over {obs.days} days: {len(cal.arrivals)} demand entries, "
        f"{len(cal.services)} service times fitted, {len(cal.shares)} selection shares"
    )
    if out is None:
        click.echo(fragment, nl=False)
        click.echo(summary, err=True)
    else:
        click.echo(f"{summary} -> {display(out)}" + (f", report {display(report)}" if report else ""))


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file (also through links); False when either does not exist."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
