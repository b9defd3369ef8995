"""List files: episodes and e-queues kept in files of their own and added to a scenario's list.

A reported episode (the autumn-2025 checks, a closure) or an e-queue's rules are written
once and reused by every scenario that needs them: ``episode_files: [episodes/autumn_2025.yaml]``,
``equeue_files: [equeues/kz_ru_cargoruqsat.yaml]``. Each file is a mapping with one list
(``episodes``, ``equeues``); its items come after those of the files before it and before
the ones written in the scenario itself, each keeping the file and line it was written at,
so a problem in such a file is reported there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.user_files import Unreadable, display
from sim.scenario.yaml_files import Positions, read_mapping, shift_list

MAX_EPISODE_FILES = 64
"""Episode files one scenario may name: more is a mistake, not a design."""


def fold_episode_files(data: dict[str, Any], positions: Positions, where: Any) -> list[Problem]:
    """Read ``episode_files`` and put their episodes before the scenario's own ``episodes``."""
    return fold_list_files(data, positions, where, "episode_files", "episodes", "episode")


def fold_equeue_files(data: dict[str, Any], positions: Positions, where: Any) -> list[Problem]:
    """Read ``equeue_files`` and put their e-queues before the scenario's own ``equeues``."""
    return fold_list_files(data, positions, where, "equeue_files", "equeues", "e-queue")


def fold_list_files(
    data: dict[str, Any], positions: Positions, where: Any, files_key: str, list_key: str, what: str
) -> list[Problem]:
    """Read the files named by ``files_key`` and put their ``list_key`` items before the scenario's own."""
    files = data.get(files_key)
    if files is None or files == []:
        return []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return [Problem(*where((files_key,)), files_key, "must be a list of YAML file paths")]
    if len(files) > MAX_EPISODE_FILES:
        return [Problem(*where((files_key,)), files_key, f"at most {MAX_EPISODE_FILES} files")]
    problems: list[Problem] = []
    folded: list[Any] = []
    folded_positions: Positions = {}
    for k, name in enumerate(files):
        path = Path(name)
        own: Positions = {}
        try:
            part = read_mapping(path, own)
        except Unreadable as err:
            problem = f"{what} file {display(path)!r} {err.reason}"
            problems.append(Problem(*where((files_key, k)), f"{files_key}[{k}]", problem))
            continue
        except ScenarioError as err:
            problems += err.problems
            continue
        shown = display(path)
        unknown = sorted(set(part) - {list_key})
        if unknown:
            problems.append(
                Problem(
                    *own.get((unknown[0],), (shown, None)),
                    unknown[0],
                    f"an {what} file holds only an {list_key} list",
                )
            )
            continue
        items = part.get(list_key)
        if not isinstance(items, list):
            problems.append(Problem(*own.get((list_key,), (shown, None)), list_key, f"must be a list of {list_key}"))
            continue
        for j, item in enumerate(items):
            at = len(folded)
            folded.append(item)
            for loc, pos in own.items():
                if len(loc) >= 2 and loc[0] == list_key and loc[1] == j:
                    folded_positions[(list_key, at, *loc[2:])] = pos
        data.setdefault("resolved_from", []).append(shown)
    existing = data.get(list_key) or []
    if not isinstance(existing, list):
        return problems  # reported by validation
    shift_list(positions, list_key, len(folded))
    positions.update(folded_positions)
    data[list_key] = folded + existing
    data[files_key] = []  # folded in: a resolved scenario carries the items, not the paths
    return problems
