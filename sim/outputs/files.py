"""Writing results: files and folders appear under their final names only when complete.

A crash never leaves a half-written file or folder under its final name, and a results folder
is claimed, with every check on its place, before any work.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
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


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a text cell as a formula (OWASP's list for CSV injection)."""
INERT = "'"
"""Put before such a cell's text, as spreadsheets themselves mark text; also before text that
starts with it, so that reading the file back (``inert_text`` undone) gives exactly what was written."""


def inert_text(value: object) -> object:
    """A text cell no spreadsheet runs as a formula: ``=cmd|' /C calc'!A0`` is written ``'=cmd|...``."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, INERT)):
        return INERT + value
    return value


def live_text(value: object) -> object:
    """The text ``inert_text`` was given (for reading a table bordersim wrote)."""
    if isinstance(value, str) and value.startswith(INERT):
        return value[len(INERT) :]
    return value


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """A table as CSV, numbers at 6 significant digits; text cells never read as spreadsheet formulas."""
    text = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
    if text:
        df = df.assign(**{c: df[c].map(inert_text) for c in text})
    atomic_write(path, lambda p: df.to_csv(p, index=False, float_format="%.6g"))


_ROWS_PER_GROUP = 1_000_000


def write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a table as Parquet, a row group at a time: an interrupt is honoured between groups, however large."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(p: Path) -> None:
        table = pa.Table.from_pandas(df, preserve_index=False)
        with pq.ParquetWriter(p, table.schema) as writer:
            for start in range(0, max(table.num_rows, 1), _ROWS_PER_GROUP):
                writer.write_table(table.slice(start, _ROWS_PER_GROUP))

    atomic_write(path, write)


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8"))


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


class OutputError(Exception):
    """The results cannot be written where asked; found before any work, and the message names the path."""


class OutputExists(OutputError):
    """The results folder exists and the user did not ask to overwrite it."""


# the keys bordersim always writes in a run's and in a comparison's manifest.json
MANIFEST_KEYS = (
    frozenset({"scenario", "scenario_sha256", "seed", "replications", "horizon_min", "warmup_min", "versions"}),
    frozenset(
        {"baseline", "scenarios", "scenario_sha256", "seed", "replications", "common_random_numbers", "versions"}
    ),
)


def is_results_folder(path: Path) -> bool:
    """Whether ``path`` holds the manifest.json of a bordersim run or comparison: the only folders replaced."""
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(manifest, dict)
        and isinstance(manifest.get("versions"), dict)
        and "bordersim" in manifest["versions"]
        and any(keys <= manifest.keys() for keys in MANIFEST_KEYS)
    )


def reason(err: OSError) -> str:
    """An OS error in a user's words: what went wrong, and with which path."""
    what = err.strerror or str(err)
    return f"{what}: {err.filename}" if err.filename else what


def check_place(path: Path, shown: str) -> None:
    """Refuse a folder under a file, or one whose nearest existing folder cannot be written."""
    try:
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise OutputError(f"cannot write to {shown}: {parent} is a file, not a folder")
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise OutputError(f"cannot write to {shown}: the folder {parent} is not writable")
                return
    except OSError as err:
        raise OutputError(f"cannot write to {shown}: {reason(err)}") from None


class ResultsFolder:
    """A results folder, reserved before any work and built under a temporary name beside its place.

    Reserving checks the place (every error names the path), takes a lock beside it so that a
    second command cannot write the same folder, and removes what killed runs left there. The
    folder appears under its final name only when complete (``place``); an interrupt or a crash
    leaves the previous folder, if any, untouched. ``overwrite`` replaces only a folder that
    bordersim wrote, never the folder one works in or one holding the input files.
    """

    def __init__(self, final: str | Path, overwrite: bool = False, inputs: Iterable[str | Path] = ()) -> None:
        self.shown = str(final)
        self.final = Path(final).resolve()
        self.overwrite = overwrite
        self.inputs = [Path(p).resolve() for p in inputs]
        self.tmp = self.final.parent / f".{self.final.name}.partial-{os.getpid()}"
        self.placed = False
        self._lock: _Lock | None = None
        self._made: list[Path] = []
        self._building = False

    def __enter__(self) -> ResultsFolder:
        self.reserve()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        self.release()

    def reserve(self) -> None:
        """Check the place and claim it, before any work; ``OutputError`` says why it cannot be used."""
        self._refuse_enclosing()
        check_place(self.final, self.shown)
        try:
            self._made = _make_folders(self.final.parent)
            self._lock = _Lock.take(self.final.parent / f".{self.final.name}.lock", self.shown)
            self._check_existing()
            _remove_stale(self.final.parent, self.final.name)
            self.tmp.mkdir()
            self._building = True
        except BaseException as err:
            self.release()
            if isinstance(err, OSError):
                raise OutputError(f"cannot write to {self.shown}: {reason(err)}") from None
            raise

    def place(self) -> Path:
        """Rename the finished folder into place, replacing the earlier one if allowed; return its path."""
        old = self.final.parent / f".{self.final.name}.old-{os.getpid()}"
        with _signals_deferred():
            self._check_existing()
            replacing = os.path.lexists(self.final)
            if replacing:
                os.replace(self.final, old)
            os.replace(self.tmp, self.final)
            self.placed = True
            self._building = False
        if replacing:
            shutil.rmtree(old, ignore_errors=True)
        return self.final

    def release(self) -> None:
        """Remove what an unfinished folder left (its temporary folder, parents made for it) and the lock."""
        if self._building:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self._building = False
        if not self.placed:
            for folder in reversed(self._made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
        self._made = []
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _refuse_enclosing(self) -> None:
        """Never write over the folder one works in, or a folder holding the input files."""
        holds = [(Path.cwd().resolve(), "the current folder")]
        holds += [(p, f"the input file {p}") for p in self.inputs]
        for inner, what in holds:
            if inner == self.final or self.final in inner.parents:
                raise OutputError(f"refusing to write results to {self.shown}: it holds {what}; choose a new folder")

    def _check_existing(self) -> None:
        if not os.path.lexists(self.final):
            return
        if not self.final.is_dir():
            raise OutputError(f"{self.shown} is a file, not a results folder; choose another --out")
        if not self.overwrite:
            raise OutputExists(
                f"{self.shown} already exists; pass --overwrite to replace it, or --out to write elsewhere"
            )
        if not is_results_folder(self.final):
            raise OutputError(
                f"{self.shown} exists and is not a bordersim results folder (it has no manifest.json of a run or a "
                "comparison), so it is left as it is; choose another --out"
            )


@contextlib.contextmanager
def results_folder(out: str | Path | ResultsFolder, overwrite: bool = False) -> Iterator[ResultsFolder]:
    """``out`` if it is already reserved (its owner releases it), else a new folder reserved for this block."""
    if isinstance(out, ResultsFolder):
        yield out
        return
    with ResultsFolder(out, overwrite) as folder:
        yield folder


class _Lock:
    """An exclusive lock on a file beside a results folder, held while one command writes the folder."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def take(cls, path: Path, shown: str) -> _Lock:
        if os.name != "posix":  # no flock: two commands writing one folder are not detected there
            return cls(path, None)
        import fcntl

        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise OutputError(
                    f"{shown} is being written by another bordersim command; wait for it to end or choose another --out"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            if _same_file(fd, path):
                return cls(path, fd)
            os.close(fd)  # its last holder removed it while this one opened it: lock the file there now

    def release(self) -> None:
        if self.fd is None:
            return
        import fcntl

        # removed while still locked, so that nobody locks this file in the meantime
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def _same_file(fd: int, path: Path) -> bool:
    held = os.fstat(fd)
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _make_folders(path: Path) -> list[Path]:
    """Create ``path`` and its missing parents; return those this call created, outermost first."""
    made = []
    for folder in reversed([path, *path.parents]):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        made.append(folder)
    return made


def _remove_stale(parent: Path, name: str) -> None:
    """Remove the temporary folders of ``name`` that killed runs left beside it.

    Only directories named exactly as this module names them go, and only when their process
    is gone (or is this one: its number was used before); links are never followed.
    """
    pattern = re.compile(rf"\.{re.escape(name)}\.(?:partial|old)-([0-9]+)")
    with os.scandir(parent) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None or not entry.is_dir(follow_symlinks=False):
                continue
            pid = int(match.group(1))
            if pid == os.getpid() or not _alive(pid):
                shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if os.name != "posix":  # no harmless way to ask there: keep the folder
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):  # no process can have such a number
        return False
    return True


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, so that an interrupt never falls between two renames.

    Python runs signal handlers in the main thread only, so that is the only place to hold them
    (and only handlers set from Python can be put back).
    """
    if threading.current_thread() is not threading.main_thread() or None in map(signal.getsignal, _STOP_SIGNALS):
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: caught.append(signum)) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in caught:
            signal.raise_signal(sig)
