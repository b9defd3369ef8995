"""Episode files: dated episodes kept in files of their own and added to a scenario's list.

A reported episode (the autumn-2025 checks, a closure) is written once and reused by every
scenario that needs it: ``episode_files: [episodes/autumn_2025.yaml]``. Each file is a
mapping with an ``episodes`` list; its episodes come after those of the files before it
and before the ones written in the scenario itself, each keeping the file and line it was
written at, so a problem in an episode file is reported there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.scenario.calendar import EPISODE_FILE_KEYS
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.user_files import Unreadable, display
from sim.scenario.yaml_files import Positions, read_mapping, shift_list

MAX_EPISODE_FILES = 64
"""Episode files one scenario may name: more is a mistake, not a design."""


def fold_episode_files(data: dict[str, Any], positions: Positions, where: Any) -> list[Problem]:
    """Read ``episode_files`` and put their episodes before the scenario's own ``episodes``."""
    files = data.get("episode_files")
    if files is None or files == []:
        return []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return [Problem(*where(("episode_files",)), "episode_files", "must be a list of YAML file paths")]
    if len(files) > MAX_EPISODE_FILES:
        return [Problem(*where(("episode_files",)), "episode_files", f"at most {MAX_EPISODE_FILES} files")]
    problems: list[Problem] = []
    folded: list[Any] = []
    folded_positions: Positions = {}
    for k, name in enumerate(files):
        path = Path(name)
        own: Positions = {}
        try:
            part = read_mapping(path, own)
        except Unreadable as err:
            what = f"episode file {display(path)!r} {err.reason}"
            problems.append(Problem(*where(("episode_files", k)), f"episode_files[{k}]", what))
            continue
        except ScenarioError as err:
            problems += err.problems
            continue
        shown = display(path)
        unknown = sorted(set(part) - set(EPISODE_FILE_KEYS))
        if unknown:
            problems.append(
                Problem(
                    *own.get((unknown[0],), (shown, None)),
                    unknown[0],
                    "an episode file holds only an episodes list",
                )
            )
            continue
        episodes = part.get("episodes")
        if not isinstance(episodes, list):
            problems.append(Problem(*own.get(("episodes",), (shown, None)), "episodes", "must be a list of episodes"))
            continue
        for j, item in enumerate(episodes):
            at = len(folded)
            folded.append(item)
            for loc, pos in own.items():
                if len(loc) >= 2 and loc[0] == "episodes" and loc[1] == j:
                    folded_positions[("episodes", at, *loc[2:])] = pos
        data.setdefault("resolved_from", []).append(shown)
    existing = data.get("episodes") or []
    if not isinstance(existing, list):
        return problems  # reported by validation
    shift_list(positions, "episodes", len(folded))
    positions.update(folded_positions)
    data["episodes"] = folded + existing
    data["episode_files"] = []  # folded in: a resolved scenario carries the episodes, not the paths
    return problems
