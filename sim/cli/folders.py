"""Results and sweep folders: claimed or checked before any work, so a bad ``--out`` is refused at once."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from sim.outputs.files import ResultsFolder


def reserve_folder(folder: Path, overwrite: bool, inputs: Iterable[str | Path], report: bool) -> ResultsFolder:
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


def check_sweep_folder(folder: Path) -> None:
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
