"""Validation errors in a scenario author's words, at the file and line the value was written.

Pydantic names Python classes, union branches and regular expressions; here each error gets
the author's field path, a plain message, a "did you mean" for a near-miss key, and one
message for a field that matched no branch of a union.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from sim.scenario.distributions import DISTRIBUTIONS
from sim.scenario.errors import Problem, format_path
from sim.scenario.schema import LANES_PATTERN
from sim.scenario.yaml_files import Loc, Positions, kind_of


def position_of(loc: Loc, positions: Positions, default: str) -> tuple[str, int | None]:
    """Where ``loc`` was written, or else its nearest written parent (a missing field has no line of its own)."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in positions:
            return positions[loc[:n]]
    return default, None


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-branch labels, which mean nothing to a scenario author."""
    out = []
    for part in loc:
        if isinstance(part, str) and (
            part in DISTRIBUTIONS
            or part == "[key]"  # pydantic's marker for an error in a mapping's key rather than its value
            or part.startswith(("function-", "tagged-union", "literal[", "list[", "dict[", "union["))
            or part in ("int", "str", "float", "constrained-int", "constrained-str", "constrained-float")
        ):
            continue
        out.append(part)
    return tuple(out)


_REWRITES = (
    ("Input should be greater than or equal to ", "must be >= "),
    ("Input should be greater than ", "must be > "),
    ("Input should be less than or equal to ", "must be <= "),
    ("Input should be less than ", "must be < "),
    ("Input should be a finite number", "must be a finite number (not NaN or infinity)"),
    ("Input should be ", "expected "),
)
_TYPE_MISMATCH = (
    "int_type",
    "int_parsing",
    "float_type",
    "float_parsing",
    "string_type",
    "list_type",
    "dict_type",
    "literal_error",
    "model_type",
    "bool_type",
    "int_from_float",
    "model_attributes_type",
)


_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"  # sim.scenario.Identifier
_PATTERNS = {
    _NAME_PATTERN: "is not a valid name: use letters, digits, _ and -, starting with a letter or _",
    LANES_PATTERN: "expected a count, 24 hourly counts, 'lanes' or 'lanes * share' (e.g. 'lanes * 0.5')",
}


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    msg = str(error["msg"])
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required field is missing"
    # pydantic's own words name Python classes ("instance of Countries") or regular expressions
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value lines), got {kind_of(error.get('input'))}"
    if kind == "list_type":
        return f"expected a list, got {kind_of(error.get('input'))}"
    if kind == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern")
        if pattern == _NAME_PATTERN:
            return f"{error.get('input')!r:.60} {_PATTERNS[pattern]}"
        if pattern in _PATTERNS:
            return _PATTERNS[pattern]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    for old, new in _REWRITES:
        if msg.startswith(old):
            msg = new + msg[len(old) :]
            break
    return msg[0].lower() + msg[1:] if msg else msg


def _merge_union(messages: list[tuple[str, str]]) -> str:
    """One message for a field that matched no branch of a union (e.g. a count or 24 counts)."""
    specific = [m for kind, m in messages if kind not in _TYPE_MISMATCH]
    if len(specific) == 1:
        return specific[0]
    return "; or ".join(dict.fromkeys(m for _, m in messages))


def _get(data: Any, loc: Loc) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _suggest(loc: Loc, known: dict[Loc, Iterable[str]]) -> str:
    """A 'did you mean' hint for a near-miss key, from the fields valid at that place."""
    import difflib

    parent, key = loc[:-1], loc[-1]
    if not isinstance(key, str):
        return ""
    choices = known.get(tuple(p for p in parent if not isinstance(p, int)))
    if choices is None:
        choices = known[("*",)]
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _known_keys() -> dict[Loc, Iterable[str]]:
    """Field names per (index-free) location, and of every part (``*``) for other places."""
    from pydantic import BaseModel

    from sim.scenario import distributions as d
    from sim.scenario import schema as s

    def names(model: type[BaseModel]) -> list[str]:
        return [f.alias or n for n, f in model.model_fields.items()]

    everything: set[str] = set()
    for module in (s, d):
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
                everything.update(names(obj))
    return {
        ("*",): sorted(everything),
        (): names(s.Scenario),
        ("crossings",): names(s.Crossing),
        ("crossings", "sides", "a"): names(s.Side),
        ("crossings", "sides", "b"): names(s.Side),
        ("crossings", "closed"): names(s.Closure),
        ("demand",): names(s.Demand),
        ("regime",): names(s.RegimeChoice),
        ("profiles",): names(s.Profiles),
        ("countries",): names(s.Countries),
    }


def error_loc(data: dict[str, Any], error: Any) -> Loc:
    """Where in ``data`` a validation error lies, in the author's terms."""
    loc = _clean_loc(error["loc"])
    if loc and loc[-1] == "value" and not isinstance(_get(data, loc[:-1]), dict):
        loc = loc[:-1]  # a bare number standing for a constant distribution
    return loc


def validation_problems(err: ValidationError, data: dict[str, Any], positions: Positions, shown: str) -> list[Problem]:
    """Every error pydantic found, one problem per field, at the file and line it was written."""
    known = _known_keys()
    grouped: dict[Loc, list[tuple[str, str]]] = {}
    for error in err.errors():
        loc = error_loc(data, error)
        message = _describe(error)
        if error["type"] == "extra_forbidden":
            message += _suggest(loc, known)
        grouped.setdefault(loc, []).append((error["type"], message))
    problems = []
    inner = {other[:n] for other in grouped for n in range(len(other))}  # locations with errors inside
    for loc, messages in grouped.items():
        if loc in inner and all(kind in _TYPE_MISMATCH for kind, _ in messages):
            # a union's other branches: the value has the kind of the branch that erred inside it
            continue
        file, line = position_of(loc, positions, shown)
        problems.append(Problem(file, line, format_path(loc), _merge_union(messages)))
    return _without_template_echoes(problems)


def _without_template_echoes(problems: list[Problem]) -> list[Problem]:
    """A mistake in a crossing template once, not again at every crossing that uses it.

    A crossing's keys that came from its template carry the template's line, so the echo is
    the same message at the same line, under ``crossings[i].<sub>`` for ``crossing_templates.<name>.<sub>``.
    """
    in_templates = {
        (p.file, p.line, p.message, p.path.split(".", 2)[2])
        for p in problems
        if p.path.startswith("crossing_templates.") and p.path.count(".") >= 2
    }

    def echo(p: Problem) -> bool:
        head, _, sub = p.path.partition("].")
        return head.startswith("crossings[") and (p.file, p.line, p.message, sub) in in_templates

    return [p for p in problems if not echo(p)]
