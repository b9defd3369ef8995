"""Ctrl-C and SIGTERM in every phase of a command, and a main process killed outright.

Each test waits for the line a command prints as the phase begins, then signals the main
process only. Whatever the timing, the command must end with status 130, one ``interrupted.``
line saying truthfully what was kept, no traceback, and no worker left behind.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.commands import Command, kill_all, only_phases_and_interrupted, wait_until_gone

ROOT = Path(__file__).resolve().parent.parent
KZ_RU = ROOT / "scenarios" / "kz_ru_2009_double_control.yaml"
TUTORIAL = ROOT / "scenarios" / "tutorial_single_crossing.yaml"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


def test_workers_die_with_the_main_process(tmp_path):
    with Command("run", KZ_RU, "--jobs", "2", "--replications", "6", "--out", tmp_path / "res", cwd=tmp_path) as cmd:
        cmd.wait_for("simulating 6 replications of kz_ru_2009_double_control on 2 worker processes")
        workers = cmd.worker_pids(2)
        cmd.send(signal.SIGKILL)
        try:
            alive = wait_until_gone(workers)
            assert alive == [], "workers outlived the main process"
            assert cmd.reached_eof(), "something still holds the command's output open"
        finally:
            kill_all(list(workers))
        assert cmd.proc.wait(60) == -signal.SIGKILL


def test_a_killed_runs_folder_is_cleaned_by_the_next_run(tmp_path):
    out = tmp_path / "res"
    with Command("run", TUTORIAL, "-r", "3", "-d", "300", "--out", out, cwd=tmp_path) as cmd:
        cmd.wait_for("simulating 3 replications")
        cmd.send(signal.SIGKILL)
        cmd.finish()
    assert f".res.partial-{cmd.pid}" in [p.name for p in tmp_path.iterdir()]
    with Command("run", TUTORIAL, "-r", "1", "-d", "0.5", "--no-report", "--out", out, cwd=tmp_path) as again:
        assert again.finish() == 0, again.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_while_writing(tmp_path, sig):
    out = tmp_path / "res"
    with Command("run", KZ_RU, "--jobs", "2", "-r", "4", "-d", "4", "--out", out, cwd=tmp_path) as cmd:
        cmd.wait_for("writing results to")
        cmd.send(sig)
        assert cmd.finish() == 130, cmd.stderr
    assert only_phases_and_interrupted(cmd.stderr), cmd.stderr
    # the signal fell before or after the folder was complete: what the command says matches what is there
    if out.exists():
        assert f"interrupted. The results are in {out}; `bordersim report {out}` draws" in cmd.stderr
        assert (out / "manifest.json").exists()
    else:
        assert f"interrupted. Nothing was written to {out}" in cmd.stderr
    assert [p.name for p in tmp_path.iterdir()] in ([], ["res"])  # no temporary folder, no lock


def test_interrupted_while_drawing_the_report(tmp_path):
    out = tmp_path / "res"
    with Command("run", KZ_RU, "-r", "2", "-d", "3", "--out", out, cwd=tmp_path) as cmd:
        cmd.wait_for("drawing charts and report")
        cmd.send(signal.SIGTERM)
        assert cmd.finish() == 130, cmd.stderr
    assert f"interrupted. The results are in {out}; `bordersim report {out}` draws their charts" in cmd.stderr
    assert only_phases_and_interrupted(cmd.stderr), cmd.stderr
    assert (out / "records.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_a_comparison_is_interrupted_while_its_workers_draw_reports(tmp_path):
    out = tmp_path / "cmp"
    other = ROOT / "scenarios" / "kz_ru_2011_customs_union.yaml"
    with Command("compare", KZ_RU, other, "--jobs", "2", "-r", "2", "-d", "2", "--out", out, cwd=tmp_path) as cmd:
        cmd.wait_for("drawing charts and report")
        cmd.send(signal.SIGINT)
        # ends only when every report worker is gone: they hold the command's output open
        assert cmd.finish() == 130, cmd.stderr
    assert f"interrupted. The results are in {out}" in cmd.stderr
    assert only_phases_and_interrupted(cmd.stderr), cmd.stderr
    assert (out / "comparison.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]


def test_dask_start_up_is_interrupted_quietly(tmp_path):
    pytest.importorskip("distributed")
    # the signal lands at different moments of the start-up; every assertion holds wherever it lands
    for i, delay in enumerate((0.0, 0.05, 0.15, 0.3, 0.6)):
        out = tmp_path / f"res{i}"
        args = ("run", TUTORIAL, "--backend", "dask", "--jobs", "2", "-r", "4", "-d", "3", "--out", out)
        with Command(*args, cwd=tmp_path) as cmd:
            cmd.wait_for("starting a local Dask cluster of 2 workers")
            time.sleep(delay)  # not a wait for anything: it moves the interrupt along the start-up
            cmd.send(signal.SIGINT if i % 2 == 0 else signal.SIGTERM)
            assert cmd.finish() == 130, cmd.stderr
        assert "Traceback" not in cmd.stderr
        assert only_phases_and_interrupted(cmd.stderr), cmd.stderr
        assert f"interrupted. Nothing was written to {out}" in cmd.stderr
    assert list(tmp_path.iterdir()) == []


LOST_IN_A_FINALIZER = """
import os
import threading

import sim.cli


@sim.cli.main.command("hold")
def hold() -> None:
    class Finalized:
        def __del__(self) -> None:
            os.write(2, b"finalizing\\n")
            while True:  # until the interrupt raised here, which Python then drops
                pass

    Finalized()
    threading.Event().wait()  # only an interrupt said again ends this


sim.cli.main()
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_lost_in_a_finalizer_is_said_again(tmp_path, sig):
    script = tmp_path / "hold.py"
    script.write_text(LOST_IN_A_FINALIZER)
    with Command("hold", script=script, cwd=tmp_path) as cmd:
        cmd.wait_for("finalizing")
        cmd.send(sig)
        assert cmd.finish() == 130, cmd.stderr
    assert cmd.stderr == "finalizing\ninterrupted. Nothing was written.\n"
