"""Watching a bordersim command in a subprocess: the lines it prints as each phase begins, its workers, its end.

Tests wait for these signs, never for a fixed time; ``HANG_GUARD_S`` only stops a test that
would otherwise hang, and is no measure of speed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

HANG_GUARD_S = 300.0
"""Long enough for a whole-border run under a loaded machine (six test workers on two cores took
over 60 s to reach a phase); a command that hangs still fails the test, only later."""

# the lines a command prints as a phase begins; after an interrupt, nothing but these and one "interrupted." line
PHASES = (
    "simulating ",
    "writing results to ",
    "writing the event log",
    "drawing charts and report",
    "running sweep ",
    "starting a local Dask",
)
PROGRESS = re.compile(r"^  [^:]+: \d+ of \d+( \(.*\))?$")
"""A phase's plain progress line, printed when the output is not a terminal."""


class Command:
    """``python -m sim ARGS`` (or ``python SCRIPT ARGS``) with its output read in the background, line by line."""

    def __init__(self, *args: object, cwd: Path, script: Path | None = None, **popen: object) -> None:
        program = [str(script)] if script else ["-m", "sim"]
        self.proc = subprocess.Popen(
            [sys.executable, *program, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            **popen,  # type: ignore[call-overload]
        )
        self._err: list[str] = []
        self._out: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stderr, self._err, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stdout, self._out, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def __enter__(self) -> Command:
        return self

    def __exit__(self, *exc: object) -> None:
        """Never leave a command running after its test, whatever happened."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self, stream: IO[str], into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line)
            if announce:
                self._lines.put(line)
        if announce:
            self._lines.put(None)

    def wait_for(self, text: str) -> str:
        """Wait until a line on stderr contains ``text``: the phase it announces has begun."""
        deadline = time.monotonic() + HANG_GUARD_S
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line with {text!r} within {HANG_GUARD_S:g} s; stderr so far:\n{self.stderr}")
            if line is None:
                self.proc.wait(HANG_GUARD_S)
                pytest.fail(f"the command ended ({self.proc.returncode}) before {text!r}; stderr:\n{self.stderr}")
            if text in line:
                return line

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def finish(self) -> int:
        """Wait for the command to end and for its output to close; return its exit status."""
        returncode = self.proc.wait(HANG_GUARD_S)
        assert self.reached_eof(), "something still holds the command's output open"
        return returncode

    def reached_eof(self) -> bool:
        """Whether stdout and stderr have both been closed by every process that held them."""
        deadline = time.monotonic() + HANG_GUARD_S
        for reader in self._readers:
            reader.join(max(0.0, deadline - time.monotonic()))
        return not any(reader.is_alive() for reader in self._readers)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    @property
    def stdout(self) -> str:
        return "".join(self._out)

    def worker_pids(self, count: int) -> dict[int, int]:
        """Wait until the command has ``count`` child processes; return their pids and start times."""
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            found = children(self.pid)
            if len(found) >= count:
                return found
            time.sleep(0.05)  # polling for the workers to appear, within the hang guard
        pytest.fail(f"the command did not start {count} worker processes; stderr:\n{self.stderr}")


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ...), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()


def children(parent: int) -> dict[int, int]:
    """The child processes of ``parent``, as pid -> start time (so that a reused pid is not mistaken for one)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is not None and int(fields[1]) == parent and fields[0] not in "ZX":
            found[int(entry.name)] = int(fields[19])
    return found


def gone(pid: int, started: int) -> bool:
    """Whether the process ``pid`` that started at ``started`` has ended (a zombie waiting to be reaped has)."""
    fields = _stat(pid)
    return fields is None or fields[0] in "ZX" or int(fields[19]) != started


def wait_until_gone(processes: dict[int, int]) -> list[int]:
    """Wait, within the hang guard, for every process to end; return those still alive."""
    deadline = time.monotonic() + HANG_GUARD_S
    alive = list(processes)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if not gone(pid, processes[pid])]
        if alive:
            time.sleep(0.05)  # polling for the processes to end, within the hang guard
    return alive


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def only_phases_and_interrupted(stderr: str) -> bool:
    """Whether the command said nothing but its phase lines and exactly one ``interrupted.`` line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    interrupted = [line for line in lines if line.startswith("interrupted. ")]
    return len(interrupted) == 1 and all(
        line.startswith(PHASES) or PROGRESS.match(line) or line in interrupted for line in lines
    )
