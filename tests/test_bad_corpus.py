"""A corpus of bad scenarios (tests/bad_scenarios/): each is rejected clearly, never with a traceback.

Every file directly in the corpus folder is a bad scenario that starts with ``# expect: <text>``
(a part of the expected message) and optionally ``# path: <text>`` (a part of the field path);
files that cannot hold a comment (empty, binary, not UTF-8) have their expectation in
``NO_COMMENT`` below. Valid files the bad ones use (a base to extend, CSV catalogues) live in
``tests/bad_scenarios/helpers/``.
"""

from __future__ import annotations

import copy
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import sim
from sim.scenario.errors import Problem, ScenarioError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "bad_scenarios"
FILES = sorted(p for p in CORPUS.iterdir() if p.is_file())
TUTORIAL = ROOT / "scenarios" / "tutorial_single_crossing.yaml"

JARGON = ("Input should", "instance of", "[key]", "function-", "tagged-union", "should match pattern")
"""Words of the validation library that mean nothing to a scenario author."""

NO_COMMENT = {
    "05_empty_file.yaml": "the file is empty",
    "07_binary_nul_bytes.yaml": "is a binary file",
    "08_latin1_not_utf8.yaml": "is not UTF-8 text",
    "09_utf16_text.yaml": "is UTF-16 text; save it as UTF-8",
}


def expectation(path: Path) -> tuple[str, str | None]:
    """The expected message part and field path part of a corpus file."""
    if path.name in NO_COMMENT:
        return NO_COMMENT[path.name], None
    lines = path.read_text(encoding="utf-8").splitlines()
    first = re.fullmatch(r"# expect: (.+)", lines[0]) if lines else None
    assert first, f"{path.name}: the first line must be '# expect: <part of the message>'"
    header = [line for line in lines if line.startswith("#")]
    paths = [m.group(1) for line in header if (m := re.fullmatch(r"# path: (.+)", line))]
    return first.group(1), paths[0] if paths else None


def parsed_mapping(path: Path) -> bool:
    """Whether the file is YAML text that reads as a mapping (so its problems can have lines)."""
    try:
        data = YAML(typ="safe").load(path.read_bytes().decode("utf-8"))
    except Exception:
        return False
    return isinstance(data, dict)


def test_corpus_is_large_and_complete():
    assert len(FILES) >= 40, len(FILES)
    assert set(NO_COMMENT) <= {p.name for p in FILES}
    for path in FILES:
        expectation(path)  # every file states what it expects


def test_helpers_are_valid():
    """Each bad file changes one thing in a helper, so the helpers themselves must load."""
    helpers = sorted((CORPUS / "helpers").glob("*.yaml"))
    assert helpers
    for path in helpers:
        assert isinstance(sim.load_scenario(path), sim.Scenario)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_bad_scenario_is_rejected_clearly(path: Path):
    expected, field = expectation(path)
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(path)
    problems = info.value.problems
    assert problems
    shown = "\n".join(str(p) for p in problems)
    for p in problems:
        assert p.message.strip(), shown
        assert not any(word in str(p) for word in JARGON), shown
        assert Path(p.file).is_file(), f"{p.file!r} is not a file:\n{shown}"
        if p.line is not None:
            lines = Path(p.file).read_bytes().count(b"\n") + 1
            assert 1 <= p.line <= lines, shown
    assert any(expected in p.message for p in problems), f"expected {expected!r} in:\n{shown}"
    if field is not None:
        assert any(expected in p.message and field in p.path for p in problems), f"expected {field!r} in:\n{shown}"
    if parsed_mapping(path):
        # the YAML was read, so every problem can say where it is
        assert all(p.line for p in problems), shown


def _cli(*args: str) -> subprocess.Popen:
    """Start the command line; the callers start all their commands before waiting for any."""
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )


RUN_SAMPLE = [
    "01_yaml_unclosed_bracket.yaml",
    "07_binary_nul_bytes.yaml",
    "27_boolean_for_count.yaml",
    "40_horizon_1000_years.yaml",
    "56_extends_cycle_first.yaml",
    "61_crossings_csv_unknown_category.yaml",
    "67_stage_without_servers.yaml",
    "69_yaml_alias_bomb.yaml",
]


def test_cli_rejects_the_corpus_without_traceback_or_output(tmp_path: Path):
    """``validate`` on every file at once names each of them; ``run`` on a sample writes nothing."""
    validate = _cli("validate", *(str(p.relative_to(ROOT)) for p in FILES))
    runs = {name: _cli("run", str(CORPUS / name), "--out", str(tmp_path / name), "--quiet") for name in RUN_SAMPLE}
    try:
        out, err = validate.communicate(timeout=120)
        assert validate.returncode == 2, err
        assert "Traceback" not in out + err
        missing = [p.name for p in FILES if p.name not in err]
        assert not missing, err

        for name, proc in runs.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 2, (name, err)
            assert "Traceback" not in out + err, name
            assert "error: " in err, (name, err)
            assert not (tmp_path / name).exists(), name
    finally:
        for proc in (validate, *runs.values()):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


# --- random mutations of the tutorial: a valid scenario or a ScenarioError, nothing else

BASE = YAML(typ="safe").load(TUTORIAL.read_text(encoding="utf-8"))

junk = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | st.integers(0, 3), inner, max_size=3)
    ),
    max_leaves=8,
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(10**9, 10**30),
    st.integers(-(10**6), -1),
    st.floats(-1e6, -1e-6),
    st.sampled_from([math.nan, math.inf, -math.inf, 0, 0.0, 1e308]),
    st.text(max_size=30),
    st.sampled_from(["5 fortnights", "-3 min", "lanes * -1", "24h", "25:00-26:00", "monday", "nan"]),
    st.just([]),
    st.just({}),
    junk,
)


def _containers(node: Any, loc: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every mapping and list in ``node`` with its location."""
    found = []
    if isinstance(node, (dict, list)):
        found.append((loc, node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            found += _containers(child, (*loc, key))
    return found


def _typo(key: str, i: int, how: int) -> str:
    if not key:
        return "x"
    i %= len(key)
    if how == 0:
        return key[:i] + key[i + 1 :] or "x"  # a letter left out
    if how == 1:
        return key[:i] + key[i] + key[i:]  # a letter doubled
    if how == 2 and len(key) > 1:
        j = min(i + 1, len(key) - 1)
        swapped = key[:i] + key[j] + key[i] + key[j + 1 :] if j != i else key + "s"
        return swapped if swapped != key else key + "s"  # neighbours swapped
    return key[:i] + "q" + key[i + 1 :] if key[i] != "q" else key + "_"  # a letter replaced


def mutate(data: dict, draw: Any) -> None:
    """Apply one random change to ``data`` in place."""
    targets = _containers(data)
    _loc, node = draw(st.sampled_from(targets))
    if not node:
        return
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    key = draw(st.sampled_from(keys))
    kind = draw(st.sampled_from(["delete", "replace", "rename", "duplicate", "truncate"]))
    if kind == "delete":
        del node[key]
    elif kind == "replace":
        node[key] = draw(values)
    elif kind == "rename" and isinstance(node, dict):
        new = _typo(key, draw(st.integers(0, 40)), draw(st.integers(0, 3)))
        node[new] = node.pop(key)
    elif kind == "duplicate" and isinstance(node, list):
        node.append(copy.deepcopy(node[key]))
    elif kind == "truncate" and isinstance(node, list):
        del node[key:]
    else:
        node[key] = draw(values)


def outcome(data: dict) -> sim.Scenario | list[Problem]:
    """The validated scenario, or the problems found in it."""
    try:
        return sim.scenario_from_dict(data)
    except ScenarioError as err:
        return err.problems


@settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_random_mutations_give_a_scenario_or_a_clear_error(data: st.DataObject):
    scenario = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        mutate(scenario, data.draw)
    result = outcome(scenario)
    if isinstance(result, list):
        assert result, "a ScenarioError without problems"
        for p in result:
            assert isinstance(p.message, str)
            assert p.message.strip(), result
            assert not any(word in str(p) for word in JARGON), result
    else:
        assert isinstance(result, sim.Scenario)
