"""Each kind of bad input is rejected with its file, line, field path and what is expected."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import sim
from sim.scenario.errors import ScenarioError

TUTORIAL = Path("scenarios/tutorial_single_crossing.yaml")


def raw() -> dict[str, Any]:
    return YAML(typ="safe").load(TUTORIAL.read_text())


def write(tmp_path: Path, data: Any, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    yaml = YAML()
    with path.open("w") as fh:
        yaml.dump(data, fh)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(path)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def _set(d: dict, path: str, value: Any) -> dict:
    d = copy.deepcopy(d)
    keys = path.split(".")
    target = d
    for k in keys[:-1]:
        target = target[int(k)] if isinstance(target, list) else target[k]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return d


CASES = [
    ("unknown top-level key", "replicatoins", 5, "replicatoins: unknown key; did you mean 'replications'"),
    ("unknown nested key", "crossings.0.sides.a.servres", {}, "crossings[0].sides.a.servres: unknown key"),
    (
        "negative servers",
        "crossings.0.sides.b.servers.customs",
        -1,
        "crossings[0].sides.b.servers.customs: must be >= 0",
    ),
    ("wrong type", "replications", "many", "replications: expected a valid integer"),
    ("zero replications", "replications", 0, "replications: must be >= 1"),
    ("NaN volume", "demand.0.daily", float("nan"), "demand[0].daily: must be a finite number"),
    ("infinite volume", "demand.0.daily", float("inf"), "demand[0].daily"),
    ("absurd volume", "demand.0.daily", 1e12, "demand[0].daily: must be <= 10000000"),
    (
        "short hour profile",
        "profiles.hourly.daytime",
        [1, 2, 3],
        "profiles.hourly.daytime: list should have at least 24",
    ),
    ("zero hour profile", "profiles.hourly.daytime", [0] * 24, "profiles.hourly.daytime: weights must not all be 0"),
    (
        "unknown distribution",
        "stages.customs.per_vehicle",
        {"dist": "weibull", "mean": 2},
        "stages.customs.per_vehicle: unknown distribution 'weibull'",
    ),
    (
        "missing parameter",
        "stages.customs.per_vehicle",
        {"dist": "exponential"},
        "stages.customs.per_vehicle.mean: required field is missing",
    ),
    (
        "lognormal cv 0",
        "stages.customs.per_vehicle",
        {"dist": "lognormal", "mean": 2, "cv": 0},
        "stages.customs.per_vehicle.cv: must be > 0",
    ),
    ("bad duration", "horizon", "8 fortnights", "horizon: unknown time unit 'fortnights'"),
    ("unknown regime", "regime", "no_control", "regime.default: unknown regime 'no_control'"),
    ("unknown crossing in demand", "demand.0.crossing", "nowhere", "demand[0].crossing: no crossing with id 'nowhere'"),
    ("unknown flow in demand", "demand.0.flow", "bicycle", "demand[0].flow: unknown flow 'bicycle'"),
    ("unknown profile", "demand.0.hourly", "nightly", "demand[0].hourly: unknown hourly profile 'nightly'"),
    ("bad opening hours", "crossings.0.hours", "9 to 5", "crossings[0].hours: cannot read '9 to 5' as opening hours"),
    ("warm-up too long", "warmup", "9 d", "warmup: must be shorter than the horizon"),
    ("share above 1", "stages.customs.select", 1.5, "stages.customs.select: must be <= 1"),
    (
        "bad category",
        "crossings.0.category",
        "trilateral",
        "crossings[0].category: expected 'multilateral', 'bilateral' or 'simplified'",
    ),
]


@pytest.mark.parametrize(("what", "path", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_value_is_reported_with_its_path(tmp_path, what, path, value, expected):
    found = problems_of(write(tmp_path, _set(raw(), path, value)))
    assert any(expected in p for p in found), found


def test_regime_naming_an_unknown_stage(tmp_path):
    data = raw()
    data["regimes"] = {"mine": {"exit": ["border_control", "x_ray"]}}
    data["regime"] = "mine"
    found = problems_of(write(tmp_path, data))
    assert any("regimes.mine.exit[1]: regime 'mine' names unknown stage 'x_ray'" in p for p in found), found


def test_duplicate_crossing_ids(tmp_path):
    data = raw()
    data["crossings"].append(copy.deepcopy(data["crossings"][0]))
    found = problems_of(write(tmp_path, data))
    assert any("crossings[1].id: duplicate crossing id 'tutorial_road'" in p for p in found), found


def test_missing_servers_for_a_visited_stage(tmp_path):
    data = raw()
    del data["crossings"][0]["sides"]["b"]["servers"]["border_control"]
    found = problems_of(write(tmp_path, data))
    assert any("crossings[0].sides.b.servers: no servers for stage 'border_control'" in p for p in found), found


def test_all_problems_reported_at_once_with_lines(tmp_path):
    data = _set(_set(raw(), "replications", 0), "seed", -4)
    path = write(tmp_path, data)
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(path)
    problems = info.value.problems
    assert {p.path for p in problems} == {"replications", "seed"}
    lines = path.read_text().splitlines()
    for p in problems:
        assert p.file.endswith("s.yaml")
        assert lines[p.line - 1].startswith(p.path + ":")


def test_extends_missing_and_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nseed: 1\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    assert any("extends forms a cycle" in p for p in problems_of(tmp_path / "a.yaml"))
    (tmp_path / "c.yaml").write_text("extends: nowhere.yaml\n")
    assert any("extends: file 'nowhere.yaml' not found" in p for p in problems_of(tmp_path / "c.yaml"))


def test_extends_overrides_a_few_lines(tmp_path):
    base = write(tmp_path, raw(), "base.yaml")
    (tmp_path / "variant.yaml").write_text(f"extends: {base.name}\nname: variant\nregime: double_control\n")
    s = sim.load_scenario(tmp_path / "variant.yaml")
    assert s.name == "variant"
    assert s.regime.default == "double_control"
    assert s.crossings[0].id == "tutorial_road"
    # an error in the variant points at the variant's line
    (tmp_path / "bad.yaml").write_text(f"extends: {base.name}\nname: bad\n\nseed: -1\n")
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(tmp_path / "bad.yaml")
    (p,) = info.value.problems
    assert (Path(p.file).name, p.line, p.path) == ("bad.yaml", 4, "seed")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"name: [unclosed\n", "YAML syntax error"),
        (b"- a\n- b\n", "the top level must be a mapping"),
        (b"42\n", "the top level must be a mapping"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        (b"name: caf\xe9\n", "not UTF-8"),
        (b"a: 1\na: 2\n", "duplicate"),
    ],
)
def test_unreadable_files(tmp_path, content, expected):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    found = problems_of(path)
    assert any(expected in p for p in found), found


def test_catalogue_csv_problems(tmp_path):
    data = raw()
    crossing = data.pop("crossings")[0]
    data["crossings_csv"] = "cat.csv"
    data["crossing_templates"] = {"road": {"sides": crossing["sides"], "neutral_zone": 60}}
    write(tmp_path, data)
    (tmp_path / "cat.csv").write_text(
        "id,category,mode,template,name_a,lanes_a\ntutorial_road,multilateral,road,road,Alpha,3\n"
    )
    s = sim.load_scenario(tmp_path / "s.yaml")
    assert s.crossings[0].sides["a"].name == "Alpha"
    assert s.crossings[0].sides["a"].lanes == 3
    assert s.crossings[0].neutral_zone == 60

    (tmp_path / "cat.csv").write_text("id,mode\ntutorial_road,road\n")
    assert any("missing column 'category'" in p for p in problems_of(tmp_path / "s.yaml"))
    (tmp_path / "cat.csv").write_text("id,category,template\ntutorial_road,multilateral,road\nb,weird,road\n")
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(tmp_path / "s.yaml")
    (p,) = [p for p in info.value.problems if "category" in p.path]
    assert (Path(p.file).name, p.line, p.path) == ("cat.csv", 3, "crossings[1].category")
    (tmp_path / "cat.csv").unlink()
    assert any("crossings_csv: CSV file not found" in p for p in problems_of(tmp_path / "s.yaml"))


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_validate_exit_codes(tmp_path):
    ok = _cli("validate", str(TUTORIAL))
    assert ok.returncode == 0, ok.stderr
    bad = write(tmp_path, _set(raw(), "replications", 0))
    out = _cli("validate", str(TUTORIAL), str(bad))
    assert out.returncode == 2
    assert "s.yaml:" in out.stderr
    assert "replications: must be >= 1" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_run_refuses_bad_input_without_writing(tmp_path):
    bad = write(tmp_path, _set(raw(), "demand.0.flow", "bicycle"))
    out = _cli("run", str(bad), "--out", str(tmp_path / "res"))
    assert out.returncode == 2
    assert "unknown flow 'bicycle'" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "res").exists()
    missing = _cli("run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2
    assert "not found" in missing.stderr
    assert "Traceback" not in missing.stderr
