"""Commands on files alone, without simulating: check scenario files, print their schema, redraw a report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sim.cli.errors import EXIT_BAD_INPUT, report_problems
from sim.scenario.errors import Problem, ScenarioError


@click.command()
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
        report_problems(problems)
        sys.exit(EXIT_BAD_INPUT)


@click.command()
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


@click.command("report")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--jobs", "-j", type=click.IntRange(1, 512), default=1, show_default=True, help="Worker processes.")
def report_cmd(folder: Path, jobs: int) -> None:
    """Rebuild the charts and report.html of a results folder from its files."""
    from sim.cli.progress import phase
    from sim.outputs.report import ReportError, build_report

    try:
        with phase("charts and report", False) as tick:
            out = build_report(folder, jobs, tick)
    except ReportError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    click.echo(f"report: {out}")
