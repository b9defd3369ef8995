"""The problems behind the first ones: checking what did validate when other parts did not.

Validation stops at its own layer: a scenario with one misspelt key would have its unknown
stage names and missing servers reported only after the key is fixed, one round trip per
layer. To report every problem at once, the parts that failed validation are pruned (the
value at fault, or the list item or mapping entry that cannot stand without it), the rest is
validated again, and the cross-reference checks run on it. Problems the pruning itself
causes (a demand entry naming a pruned crossing) are dropped, and list positions are
translated back, so each problem is reported where the author wrote it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

Loc = tuple[Any, ...]

ROUNDS = 6
"""Prune-and-validate rounds at most: each round removes what the previous one exposed."""

NAMED_TABLES = {
    ("flows",),
    ("stages",),
    ("regimes",),
    ("profiles", "hourly"),
    ("profiles", "weekly"),
    ("crossing_templates",),
}
"""Mappings whose keys other parts refer to by name."""


class Pruned:
    """A working copy of a scenario dict with parts removed, remembering where they were."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = copy.deepcopy(data)
        self.names: set[str] = set()
        """Names of the pruned flows, stages, regimes, profiles, templates and crossings."""
        self.locs: list[Loc] = []
        """Where the pruned parts were, in the author's terms."""
        self._kept: dict[int, tuple[list[Any], list[int]]] = {}  # id(list) -> (list, original indices kept)

    def remove(self, loc: Loc) -> bool:
        """Remove the value at ``loc`` (in the current copy); False when ``loc`` is the whole scenario."""
        if not loc:
            return False
        parent: Any = self.data
        for part in loc[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                return True  # already gone with an enclosing part
        last = loc[-1]
        self.locs.append(self.original(loc))
        if isinstance(parent, dict) and last in parent:
            if loc[:-1] in NAMED_TABLES:
                self.names.add(str(last))
            del parent[last]
        elif isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
            item = parent[last]
            if loc[:-1] == ("crossings",) and isinstance(item, dict) and isinstance(item.get("id"), str):
                self.names.add(item["id"])
            kept = self._kept.setdefault(id(parent), (parent, list(range(len(parent)))))[1]
            del parent[last]
            del kept[last]
        return True

    def original(self, loc: Loc) -> Loc:
        """``loc`` in the current copy, as it was in the scenario the author wrote."""
        out: list[Any] = []
        node: Any = self.data
        for part in loc:
            if isinstance(node, list) and isinstance(part, int):
                entry = self._kept.get(id(node))
                out.append(entry[1][part] if entry is not None and part < len(entry[1]) else part)
            else:
                out.append(part)
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
        return tuple(out)

    def echoes(self, loc: Loc, message: str) -> bool:
        """Whether a problem (``loc`` in the author's terms) is only an echo of the pruning.

        It is when it lies at or inside a pruned part, or names something pruned (a demand
        entry naming a pruned crossing).
        """
        return any(loc[: len(p)] == p for p in self.locs) or any(f"'{name}'" in message for name in self.names)


def salvage(
    data: dict[str, Any],
    error: ValidationError,
    validate: Callable[[dict[str, Any]], Any],
    loc_of: Callable[[dict[str, Any], Any], Loc],
) -> tuple[Any, Pruned] | None:
    """The scenario validated from what is left after pruning the parts at fault, or None.

    ``loc_of(data, error_entry)`` maps a validation error to the location in ``data`` of the
    value at fault; a missing required field condemns the part that lacks it.
    """
    pruned = Pruned(data)
    for _ in range(ROUNDS):
        targets = set()
        for entry in error.errors():
            loc = loc_of(pruned.data, entry)
            if entry["type"] == "missing":
                loc = loc[:-1]
            targets.add(loc)
        # deepest first, and later list items before earlier ones, so positions stay valid
        for loc in sorted(targets, key=lambda t: (-len(t), [(-p if isinstance(p, int) else 0) for p in t])):
            if not pruned.remove(loc):
                return None
        try:
            return validate(pruned.data), pruned
        except ValidationError as again:
            error = again
    return None
