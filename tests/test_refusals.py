"""What bordersim refuses, class by class: inputs that hang, exhaust memory, give silently wrong
numbers, crash inside, or are silently ignored. Static cases live in ``tests/bad_scenarios``;
these are the ones a file cannot hold (pipes, devices, symbolic link loops, sizes), the
command-line ones, and a fuzz of every number of a scenario.
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ruamel.yaml import YAML

import sim
import sim.engine.core
import sim.experiments.run
from sim.scenario.errors import ScenarioError
from sim.scenario.loader import MAX_CSV_BYTES, MAX_YAML_BYTES, read_raw
from sim.scenario.units import parse_duration

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "bad_scenarios" / "helpers" / "small.yaml"
HANG_GUARD = 120  # seconds; only a hang reaches it


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the command line to completion (the timeout only catches a hang)."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=HANG_GUARD
    )


def refused(proc: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Assert exit status 2 with each expected text, and no traceback; return stderr."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    for text in expected:
        assert text in proc.stderr, (text, proc.stderr)
    return proc.stderr


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    with path.open("w") as fh:
        YAML().dump(data, fh)
    return path


def small_with(tmp_path: Path, **changes: Any) -> Path:
    """A copy of the small valid scenario beside ``tmp_path`` files, with top-level changes."""
    text = SMALL.read_text()
    extra = "".join(f"{k}: {v}\n" for k, v in changes.items())
    path = tmp_path / "scenario.yaml"
    path.write_text(text + extra)
    return path


# -- class 2: small inputs that hang or exhaust memory -----------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_only_regular_files_are_read(tmp_path, fifo, special):
    target = str(fifo) if special == "fifo" else special
    # as the scenario itself, as the file it extends, as its catalogue, its demand table and a trace
    write_yaml(tmp_path / "extends.yaml", {"extends": target})
    (tmp_path / "catalogue.yaml").write_text(f"extends: {SMALL}\ncrossings_csv: {target}\n")
    (tmp_path / "demand.yaml").write_text(f"extends: {SMALL}\ndemand_csv: {target}\n")
    (tmp_path / "trace.yaml").write_text(
        f"extends: {SMALL}\ndemand:\n  - {{crossing: north, flow: car, trace: {target}}}\n"
    )
    for name in ("extends.yaml", "catalogue.yaml", "demand.yaml", "trace.yaml"):
        refused(cli("validate", str(tmp_path / name)), "not a regular file")
    refused(cli("validate", target), "not a regular file")
    sweep = write_yaml(tmp_path / "sweep.yaml", {"name": "s", "base": target, "factors": {"seed": [1]}})
    refused(cli("sweep", str(sweep), "--out", str(tmp_path / "out")), "not a regular file")


def test_reading_is_bounded_in_bytes(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:  # sparse: no disk is used
        fh.truncate(MAX_YAML_BYTES + 1)
    with pytest.raises(ScenarioError, match="larger than 2 MiB"):
        sim.load_scenario(big)
    csv = tmp_path / "big.csv"
    with csv.open("wb") as fh:
        fh.truncate(MAX_CSV_BYTES + 1)
    (tmp_path / "s.yaml").write_text(f"extends: {SMALL}\ncrossings_csv: big.csv\n")
    with pytest.raises(ScenarioError, match="larger than 64 MiB"):
        sim.load_scenario(tmp_path / "s.yaml")


def test_an_alias_of_a_long_string_is_counted_by_its_size(tmp_path):
    # 100 KB of text named once and repeated 20,000 times: 2 GB of text from a 180 KB file
    long = "x" * 100_000
    text = f"name: bomb\ndescription: &s {long}\nassumptions: [{', '.join(['*s'] * 20_000)}]\n"
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        read_raw(path)
    assert "expand the file to more than" in str(info.value)


def test_a_huge_factorial_design_is_refused_before_it_is_built(tmp_path):
    values = list(range(1, 301))
    sweep = write_yaml(
        tmp_path / "sweep.yaml",
        {"name": "huge", "base": str(SMALL), "factors": {"seed": values, "replications": values, "warmup": values}},
    )
    refused(cli("sweep", str(sweep), "--out", str(tmp_path / "out")), "27,000,000 points")


# -- class 3: silently wrong numbers ------------------------------------------------------------

EXTREMES = (-1, 0, 5e-324, 1e-300, 3e9, 1e308, 2**63, 2**64)


def numeric_leaves(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a scenario dict that holds a number (booleans aside)."""
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in numeric_leaves(v, (*loc, k))]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in numeric_leaves(v, (*loc, i))]
    return [loc] if isinstance(data, (int, float)) and not isinstance(data, bool) else []


def put(data: dict[str, Any], loc: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    target: Any = out
    for part in loc[:-1]:
        target = target[part]
    target[loc[-1]] = value
    return out


def sane(result: sim.RunResult) -> None:
    """Numbers a reader can trust: counts add up and are not negative, nothing infinite."""
    s = result.summary
    for col in ("arrivals", "completed", "in_system_at_end", "throughput_per_day", "persons_per_day"):
        assert (s[col] >= 0).all(), col
    assert (s["arrivals"] == s["completed"] + s["in_system_at_end"]).all()
    for col in s.select_dtypes("number").columns:
        assert not np.isinf(s[col].to_numpy(dtype=float)).any(), col
    assert (result.records["persons"] >= 1).all()


def test_every_number_at_an_extreme_is_refused_at_load_or_runs_sanely():
    """Each numeric field of a scenario, set to an extreme, is either refused when the scenario
    loads (a clear problem naming it) or gives a run whose numbers are sane: never a failure
    inside the model, never a negative or infinite count."""
    base, _ = read_raw(SMALL)
    base["name"] = "extreme"
    base["horizon"], base["warmup"] = "1 d", "2 h"
    base["replications"] = 1
    outcomes = {"refused": 0, "stopped": 0, "ran": 0}
    for loc in numeric_leaves(base):
        for value in EXTREMES:
            outcome = try_extreme(put(base, loc, value))
            assert outcome in outcomes, (loc, value, outcome)
            outcomes[outcome] += 1
    assert outcomes["ran"] > 20, outcomes
    assert outcomes["refused"] > 100, outcomes


def try_extreme(data: dict[str, Any]) -> str:
    """'refused' at load, 'stopped' by a runaway guard, 'ran' with sane numbers; else what went wrong."""
    try:
        scenario = sim.scenario_from_dict(data)
    except ScenarioError as err:
        return "refused" if err.problems else "refused without a problem"
    try:
        result = sim.run(scenario)
    except sim.experiments.run.ReplicationError as err:
        return "stopped" if err.unstable else f"model failure: {err}"
    sane(result)
    return "ran"


def test_a_long_tailed_occupancy_never_overflows_a_count():
    data, _ = read_raw(SMALL)
    data.update(name="tail", horizon="1 d", warmup=0, replications=1)
    data["flows"]["car"]["occupancy"] = {"dist": "lognormal", "mean": 9000, "cv": 100}
    result = sim.run(sim.scenario_from_dict(data))
    sane(result)
    assert result.records["persons"].max() <= 100 * 10_000


# -- class 7: internal errors instead of exit status 2 -----------------------------------------


def test_symbolic_link_loops_are_refused(tmp_path):
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    refused(cli("validate", str(loop)), "loop of symbolic links")
    write_yaml(tmp_path / "child.yaml", {"extends": "loop.yaml"})
    refused(cli("validate", str(tmp_path / "child.yaml")), "extends", "loop of symbolic links")
    refused(cli("run", str(loop), "--out", str(tmp_path / "out")), "loop of symbolic links")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"seed": 2**64, "factors": {"replications": [1]}}, "seed: must be <= 9223372036854775807"),
        ({"design": "lhs", "ranges": {"demand[0].daily": [100, 100]}}, "needs low < high"),
        ({"factors": {"seed": [1]}, "kpis": ["wait_mean_minutes"]}, "kpis[0]: expected 'arrivals'"),
    ],
)
def test_bad_sweep_files_are_refused_in_plain_words(tmp_path, spec, expected):
    sweep = write_yaml(tmp_path / "sweep.yaml", {"name": "s", "base": str(SMALL), **spec})
    err = refused(cli("sweep", str(sweep), "--out", str(tmp_path / "out")), expected)
    assert "pydantic" not in err
    assert not (tmp_path / "out" / "sweep.csv").exists()


# -- class 8: silently ignored input, messages that echo or forge ------------------------------

SECRET = "s3cr3t-p4ssw0rd-line"


def test_messages_never_echo_a_file_that_is_not_a_scenario(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(f"{SECRET}\nmore private text\n")
    write_yaml(tmp_path / "extends.yaml", {"extends": "secret"})
    (tmp_path / "catalogue.yaml").write_text(f"extends: {SMALL}\ncrossings_csv: secret\n")
    for args in (["validate", str(secret)], ["validate", str(tmp_path / "extends.yaml")]):
        err = refused(cli(*args), "the top level must be a mapping")
        assert SECRET not in err
    err = refused(cli("validate", str(tmp_path / "catalogue.yaml")), "the first row is not a header")
    assert SECRET not in err


def test_a_key_with_a_newline_cannot_forge_a_message(tmp_path):
    path = tmp_path / "forge.yaml"
    path.write_text(f'extends: {SMALL}\n"x\\nerror: everything is fine\\u001b[2J": 1\n')
    err = refused(cli("validate", str(path)), "unknown key")
    lines = err.strip().splitlines()
    assert all(line.startswith("error: ") for line in lines[:-1]), lines
    assert lines[-1].endswith("found")
    assert "\x1b" not in err
    assert "x\\nerror: everything is fine\\x1b[2J" in err


def test_csv_rows_after_a_quoted_newline_are_reported_at_their_line(tmp_path):
    (tmp_path / "c.csv").write_text('id,category,name\nnorth,multilateral,"Two-line\nname"\nsouth,nonsense,South\n')
    (tmp_path / "s.yaml").write_text(f"extends: {SMALL}\ncrossings: []\ncrossings_csv: c.csv\n")
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(tmp_path / "s.yaml")
    (problem,) = [p for p in info.value.problems if "category" in p.path]
    assert problem.file.endswith("c.csv")
    assert problem.line == 4  # the row of 'south' starts on line 4, after the two-line name


def test_every_layer_of_problems_is_reported_at_once(tmp_path):
    """A misspelt key, a bad value, an unknown stage, a typo in a template and a demand entry
    naming an unknown crossing: one run of validate names them all."""
    path = tmp_path / "s.yaml"
    path.write_text(
        f"extends: {SMALL}\n"
        "horizn: 3 d\n"
        "replications: -1\n"
        "crossing_templates:\n  spare:\n    sides: {a: {lanez: 3}}\n"
        "crossing_overrides:\n  north:\n    sides: {a: {servers: {custom: 2}}}\n"
        "demand:\n  - {crossing: nowhere, flow: car, daily: 5}\n"
    )
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(path)
    paths = {p.path for p in info.value.problems}
    assert {
        "horizn",
        "replications",
        "crossing_templates.spare.sides.a.lanez",
        "crossings[0].sides.a.servers.custom",
        "demand[0].crossing",
    } <= paths, paths
    assert all(p.line for p in info.value.problems)


def test_a_salvaged_check_does_not_echo_what_was_pruned(tmp_path):
    """A crossing refused for a bad value is not then reported missing by the demand that names it."""
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {SMALL}\ncrossing_overrides:\n  south: {{category: nonsense}}\n")
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(path)
    assert [p.path for p in info.value.problems] == ["crossings[1].category"], info.value.problems


def test_durations_with_units_bordersim_does_not_know_are_refused():
    for text in ("6 mins", "6 M", "6 m", "2 Hours", "1 hr"):
        with pytest.raises(ValueError, match="unknown time unit"):
            parse_duration(text)
    assert parse_duration("90 s") == 1.5
    assert math.isclose(parse_duration("1.5 h"), 90.0)


def test_a_run_that_would_not_fit_in_memory_is_refused_before_it_starts(monkeypatch, tmp_path):
    """Under limits.max_arrivals, but ten years of the whole border with 20 replications needs more
    memory than this machine (here: told it has 4 GiB) can give: refused with the estimate."""
    import sim.experiments.memory

    monkeypatch.setattr(sim.experiments.memory, "available_bytes", lambda: 4 * 2**30)
    scenario = sim.load_scenario(ROOT / "scenarios" / "kz_ru_2011_customs_union.yaml")
    scenario = scenario.model_copy(update={"limits": scenario.limits.model_copy(update={"max_arrivals": 10**9})})
    with pytest.raises(ScenarioError) as info:
        sim.run(scenario, replications=20, days=3650)
    (problem,) = info.value.problems
    assert problem.file.endswith("kz_ru_2011_customs_union.yaml")
    assert "needs about" in problem.message
    assert "GiB of memory" in problem.message
    assert "--days" in problem.message
    # a short run of the same scenario fits
    assert sim.experiments.memory.estimate(scenario, 1, 1).bytes < 4 * 2**30


def test_the_memory_estimate_counts_travellers_and_controls_as_a_run_does():
    """What the estimate multiplies its per-traveller and per-visit costs by: the expected travellers
    (the run's count within Poisson noise) and an upper count of controls per traveller."""
    import sim.experiments.memory

    scenario = sim.experiments.run.with_overrides(
        sim.load_scenario(ROOT / "scenarios" / "kz_ru_2011_customs_union.yaml"), 1, None, 4
    )
    travellers, visits = sim.experiments.memory.expected_travellers(scenario)
    result = sim.run(scenario)
    assert abs(len(result.records) - travellers) < 5 * travellers**0.5
    assert len(result.visits) <= visits * 1.01
    # the demand alone, without moving trips into opening hours week by week: close to it
    assert sim.experiments.memory.demand_volume(scenario) == pytest.approx(travellers, rel=0.02)
