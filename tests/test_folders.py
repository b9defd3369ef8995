"""Results folders: checked before any work, never two writers, nothing replaced that bordersim did not write."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from tests.commands import Command

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "scenarios" / "tutorial_single_crossing.yaml"
QUICK = ["-r", "1", "-d", "0.5", "--no-report", "-q"]


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def listing(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its content (None for folders): to show nothing changed."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


def joint_variant(folder: Path) -> Path:
    """The tutorial under joint control: a second scenario to compare with it."""
    folder.mkdir(exist_ok=True)
    path = folder / "joint.yaml"
    path.write_text(f"extends: {TUTORIAL}\nname: joint\nregime: joint_control\n")
    return path


# --- found at the start --------------------------------------------------------------------------


def test_a_second_run_into_the_same_folder_is_refused_at_once(tmp_path):
    out = tmp_path / "res"
    # long enough (a minute or more) to be still running when the second one starts; interrupted below
    with Command("run", TUTORIAL, "--out", out, "-r", "3", "-d", "300", cwd=tmp_path) as first:
        first.wait_for("simulating 3 replications")
        code, output = run("run", TUTORIAL, "--out", out, *QUICK)
        assert code == 2
        assert f"error: {out} is being written by another bordersim command" in output
        assert "simulating" not in output
        first.send(signal.SIGINT)
        assert first.finish() == 130, first.stderr
    assert list(tmp_path.iterdir()) == []  # the lock went with the first run


def test_a_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    for command in (["run", TUTORIAL], ["compare", TUTORIAL, joint_variant(tmp_path / "input")]):
        code, output = run(*command, "--out", tmp_path / "notes.txt" / "res", *QUICK[2:], "-r", "2")
        assert code == 2
        assert f"error: cannot write to {tmp_path / 'notes.txt' / 'res'}: {tmp_path / 'notes.txt'} is a file" in output
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_path_that_is_a_file_is_refused(tmp_path, overwrite):
    (tmp_path / "res").write_text("mine\n")
    code, output = run("run", TUTORIAL, "--out", tmp_path / "res", *QUICK, *overwrite)
    assert code == 2
    assert f"error: {tmp_path / 'res'} is a file, not a results folder" in output
    assert listing(tmp_path) == {"res": b"mine\n"}


def _unprivileged() -> list[str]:
    """A command prefix under which folder permissions apply (root passes them unless in a user namespace)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-U", "true"]).returncode != 0:
        pytest.skip("running as root, and no user namespace to run as an ordinary user")
    return ["unshare", "-U"]


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_read_only_parent_is_refused(tmp_path, command):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    target = ["run", TUTORIAL] if command == "run" else ["sweep", ROOT / "sweeps" / "tutorial_truck_booths.yaml"]
    try:
        proc = subprocess.run(
            [*_unprivileged(), sys.executable, "-m", "sim", *map(str, target), "--out", "ro/res", "-q"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        assert list((tmp_path / "ro").iterdir()) == []
    finally:
        (tmp_path / "ro").chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert f"error: cannot write to ro/res: the folder {tmp_path / 'ro'} is not writable" in proc.stderr
    assert "simulating" not in proc.stderr


# --- --overwrite replaces only bordersim's folders -----------------------------------------------


@pytest.mark.parametrize(
    "content",
    [{"main.py": "print('my work')\n"}, {"manifest.json": json.dumps({"scenario": "x", "seed": 1}), "a.csv": "1\n"}],
    ids=["source-file", "foreign-manifest"],
)
def test_overwrite_refuses_a_folder_bordersim_did_not_write(tmp_path, content):
    mine = tmp_path / "mine"
    mine.mkdir()
    for name, text in content.items():
        (mine / name).write_text(text)
    before = listing(tmp_path)
    code, output = run("run", TUTORIAL, "--out", mine, "--overwrite", *QUICK)
    assert code == 2
    assert f"error: {mine} exists and is not a bordersim results folder" in output
    assert listing(tmp_path) == before


def test_overwrite_replaces_a_comparison_folder(tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", TUTORIAL, joint_variant(tmp_path / "input"), "--out", out, "-r", "2", "-d", "0.5"]
    assert run(*args, "--no-report", "-q")[0] == 0
    code, output = run(*args, "--no-report", "-q", "--seed", "5")
    assert code == 2
    assert "already exists; pass --overwrite" in output
    code, output = run(*args, "--no-report", "-q", "--seed", "5", "--overwrite")
    assert code == 0, output
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp", "input"]


@pytest.mark.parametrize("out", [".", "..", "input"])
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_never_the_folder_one_works_in_or_holding_the_inputs(tmp_path, monkeypatch, out, overwrite):
    work = tmp_path / "work"
    scenario = work / "input" / "s.yaml"
    scenario.parent.mkdir(parents=True)
    scenario.write_text(f"extends: {TUTORIAL}\nname: s\n")
    monkeypatch.chdir(work)
    before = listing(tmp_path)
    code, output = run("run", "input/s.yaml", "--out", out, *QUICK, *overwrite)
    assert code == 2
    holds = "the input file" if out == "input" else "the current folder"
    assert f"error: refusing to write results to {out}: it holds {holds}" in output
    assert listing(tmp_path) == before  # no lock, no temporary folder, nothing


# --- what killed runs leave behind ---------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_folders_are_removed(tmp_path):
    dead = _dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep\n")
    for name in (f".res.partial-{dead}", f".res.old-{dead}"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.csv").write_text("half\n")
        (tmp_path / name / "link").symlink_to(outside)  # removing the folder removes the link, not its target
    kept = [
        f".res.partial-{live.pid}",  # a run still under way
        f".other.partial-{dead}",  # another folder's
        f".res.partial-{dead}.x",  # not the exact pattern
        f".res.partial-x{dead}",
    ]
    for name in kept:
        (tmp_path / name).mkdir()
    (tmp_path / f".res.old-{dead}0").write_text("a file, not a folder\n")
    (tmp_path / f".res.partial-{dead}0").symlink_to(outside)
    kept += [f".res.old-{dead}0", f".res.partial-{dead}0", "outside"]
    try:
        code, output = run("run", TUTORIAL, "--out", tmp_path / "res", *QUICK)
    finally:
        live.communicate(timeout=60)
    assert code == 0, output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "res"])
    assert (outside / "keep.txt").read_text() == "keep\n"


# --- sweeps --------------------------------------------------------------------------------------


def _tiny_sweep(tmp_path: Path) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: tiny\nbase: {TUTORIAL}\nreplications: 1\ndays: 0.5\nfactors:\n  demand[1].daily: [150, 250]\n"
    )
    return path


def test_sweep_folder_checks(tmp_path):
    sweep = _tiny_sweep(tmp_path)
    (tmp_path / "notes.txt").write_text("mine\n")
    code, output = run("sweep", sweep, "--out", tmp_path / "notes.txt" / "sw", "-q")
    assert code == 2
    assert f"cannot write to {tmp_path / 'notes.txt' / 'sw'}: {tmp_path / 'notes.txt'} is a file" in output
    code, output = run("sweep", sweep, "--out", tmp_path / "notes.txt", "-q")
    assert code == 2
    assert f"{tmp_path / 'notes.txt'} is a file, not a sweep folder" in output
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.py").write_text("print('my work')\n")
    code, output = run("sweep", sweep, "--out", other, "-q")
    assert code == 2
    assert f"{other} holds files but is not a sweep folder (it has no sweep.json)" in output
    assert listing(other) == {"main.py": b"print('my work')\n"}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run("sweep", sweep, "--out", empty, "-q")[0] == 0
    code, output = run("sweep", sweep, "--out", empty, "-q")  # an existing sweep folder resumes
    assert code == 0, output
    assert "0 runs done, 2 already there" in output
