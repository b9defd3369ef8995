"""Reading scenario files: YAML 1.2, ``extends:``, CSV catalogues, and error locations.

The loader turns files into one plain dictionary, remembering for every field the file and
line it came from, then validates it once. All problems are reported together, each as
``file:line: field.path: what is expected``.

These are the entry points; the work is done by ``yaml_files`` (YAML with positions, the
alias budget, ``extends``), ``assembly`` and ``tables`` (CSV catalogues and traces, crossing
templates and overrides), ``messages`` (validation errors in the author's words) and
``identity`` (the scenario hash). Names other modules have imported from here stay importable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario.assembly import assemble
from sim.scenario.checks import check_scenario
from sim.scenario.errors import Problem, ScenarioError, format_path
from sim.scenario.identity import canonical_json, scenario_hash
from sim.scenario.messages import error_loc, position_of, validation_problems
from sim.scenario.recovery import salvage
from sim.scenario.schema import Scenario
from sim.scenario.tables import MAX_CSV_BYTES
from sim.scenario.user_files import display
from sim.scenario.yaml_files import MAX_YAML_BYTES, Loc, Positions, resolve_extends

__all__ = [
    "MAX_CSV_BYTES",
    "MAX_YAML_BYTES",
    "Positions",
    "canonical_json",
    "load_scenario",
    "read_raw",
    "scenario_from_dict",
    "scenario_hash",
    "validate_data",
]

_validation_problems = validation_problems
"""Under its old name: ``sim.experiments.sweep`` imports it from here."""


def read_raw(path: str | Path) -> tuple[dict[str, Any], Positions]:
    """Read a scenario file and everything it extends into one dict (before validation)."""
    positions: Positions = {}
    files: list[str] = []
    data = resolve_extends(Path(path), positions, files=files)
    data["resolved_from"] = files
    return data, positions


def _field(value: Any, key: Any) -> Any:
    """The validated counterpart of ``raw[key]`` for the validated counterpart ``value`` of ``raw``."""
    if isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            if key in (name, info.alias):
                return getattr(value, name)
        return None
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, (list, tuple)) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    return None


def _coerced_booleans(raw: Any, value: Any, loc: Loc = ()) -> Iterable[tuple[Loc, bool]]:
    """Where a ``true`` or ``false`` was accepted as a number.

    Pydantic reads a boolean as 1 or 0 wherever a number is expected, so ``replications: true``
    would run one replication and ``daily: false`` no traffic, where the author surely meant
    something else. Walks the raw data beside the validated scenario, so only numeric fields
    are checked and booleans stay valid where the format has them (``during_hours``).
    """
    if isinstance(raw, bool):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            yield loc, raw
        return
    items: Iterable[tuple[Any, Any]]
    if isinstance(raw, dict):
        items = raw.items()
    elif isinstance(raw, list):
        items = enumerate(raw)
    else:
        return
    for key, item in items:
        if isinstance(item, (bool, dict, list)):  # long lists of plain numbers are skipped quickly
            yield from _coerced_booleans(item, _field(value, key), (*loc, key))


def validate_data(data: dict[str, Any], positions: Positions, shown: str) -> Scenario:
    """Validate an assembled scenario dict, raising ``ScenarioError`` with every problem."""
    problems = assemble(data, positions, shown)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        problems += validation_problems(err, data, positions, shown)
        # the checks below would wait for these to be fixed; run them on what did validate
        salvaged = salvage(data, err, Scenario.model_validate, error_loc)
        if salvaged is not None:
            partial, pruned = salvaged
            for loc, message in _later_checks(pruned.data, partial):
                where = pruned.original(loc)
                if not pruned.echoes(where, message):
                    file, line = position_of(where, positions, shown)
                    problems.append(Problem(file, line, format_path(where), message))
        raise ScenarioError(problems) from None
    for loc, message in _later_checks(data, scenario):
        file, line = position_of(loc, positions, shown)
        problems.append(Problem(file, line, format_path(loc), message))
    if problems:
        raise ScenarioError(problems)
    return scenario


def _later_checks(data: dict[str, Any], scenario: Scenario) -> list[tuple[Loc, str]]:
    """What only a validated scenario can be checked for: booleans read as numbers, cross-references."""
    found = [
        (loc, f"expected a number, got a boolean ({str(flag).lower()})")
        for loc, flag in _coerced_booleans(data, scenario)
    ]
    return found + check_scenario(scenario)


def load_scenario(path: str | Path) -> Scenario:
    """Load, resolve and validate a scenario file.

    Raises ``ScenarioError`` listing every problem with its file, line and field path.
    """
    path = Path(path)
    shown = display(path)
    try:
        data, positions = read_raw(path)
        data.setdefault("name", _default_name(path))
        return validate_data(data, positions, shown)
    except ScenarioError as err:
        raise ScenarioError([dataclasses.replace(p, scenario=p.scenario or shown) for p in err.problems]) from None


def _default_name(path: Path) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in path.stem)
    return stem if stem and not stem[0].isdigit() else f"s_{stem}"


def scenario_from_dict(data: dict[str, Any], origin: str = "<dict>") -> Scenario:
    """Validate a scenario given as a Python dict (notebooks, tests, sweeps).

    Relative CSV paths are taken from the current folder; errors name ``origin`` as the file.
    """
    import copy

    data = copy.deepcopy(data)
    data.setdefault("name", "scenario")
    return validate_data(data, {}, origin)
