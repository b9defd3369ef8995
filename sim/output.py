"""Writing results so that a crash never leaves a half-written file under its final name."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_csv(path: Path, df: pd.DataFrame) -> None:
    atomic_write(path, lambda p: df.to_csv(p, index=False, float_format="%.6g"))


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    atomic_write(path, lambda p: df.to_parquet(p, index=False))


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n"))


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text))


class OutputExists(Exception):
    """The results folder exists and the user did not ask to overwrite it."""


def check_output(path: Path, overwrite: bool) -> None:
    """Refuse, before any work, to replace an existing results folder unless asked to."""
    if path.exists() and not overwrite:
        raise OutputExists(f"{path} already exists; pass --overwrite to replace it, or --out to write elsewhere")


class ResultsFolder:
    """Build a results folder under a temporary name and rename it into place when complete.

    A crash or an interrupt leaves the previous folder (if any) untouched and no half-made
    folder under the final name; ``--overwrite`` replaces the old folder only at the end.
    """

    def __init__(self, final: Path, overwrite: bool):
        self.final = final
        self.overwrite = overwrite
        self.tmp = final.parent / f".{final.name}.partial-{os.getpid()}"

    def __enter__(self) -> Path:
        check_output(self.final, self.overwrite)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()
        return self.tmp

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = None
        if self.final.exists():
            check_output(self.final, self.overwrite)
            old = self.final.parent / f".{self.final.name}.old-{os.getpid()}"
            os.replace(self.final, old)
        os.replace(self.tmp, self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
