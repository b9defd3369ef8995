"""What a sweep counts as a bad run: one KPI, on one row of the KPI tables, beyond a threshold.

Scenario discovery answers "which input ranges lead to a bad outcome", so the sweep has to
say what bad is. A sweep keeps every KPI per crossing x direction x flow and their totals,
so a bad outcome names its row as well as its KPI: "trucks entering Russia wait more than two
hours at the 95th percentile, border-wide" is ``wait_p95_min > 120 where direction=a_to_b
flow=truck``. The same text is read in the sweep file (``bad:``) and on the command line
(``--bad``, which replaces the file's); the file also takes the mapping ``{kpi: wait_p95_min,
above: 120, direction: a_to_b, flow: truck}``. A key left out means the total (``ALL``), and
the threshold is in the KPI's own unit (minutes, or a count per day).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from sim.analysis.kpis import ALL, KEYS, KPIS, groups_table
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.messages import validation_problems
from sim.scenario.schema import Scenario, Strict

EXAMPLE = "wait_p95_min > 120 where direction=a_to_b flow=truck"
"""How a bad outcome is written; every message about one shows it."""

_TEXT = re.compile(r"\s*(?P<kpi>[A-Za-z0-9_]+)\s*(?P<op>[<>])\s*(?P<value>[^\s<>]+)\s*(?:where\s+(?P<where>.*\S))?\s*")


def parse_bad(text: str) -> dict[str, Any]:
    """``"wait_p95_min > 120 where flow=truck"`` as the mapping form; ``ValueError`` saying how to write it."""
    m = _TEXT.fullmatch(text)
    if m is None:
        raise ValueError(f"cannot read {text!r}: write KPI > number or KPI < number, e.g. '{EXAMPLE}'")
    out: dict[str, Any] = {"kpi": m["kpi"], "above" if m["op"] == ">" else "below": m["value"]}
    for part in (m["where"] or "").split():
        key, sep, value = part.partition("=")
        if not sep or key not in KEYS or not value:
            raise ValueError(
                f"cannot read {part!r} after 'where': write crossing=..., direction=... or flow=..., e.g. '{EXAMPLE}'"
            )
        if key in out:
            raise ValueError(f"{key} is given twice")
        out[key] = value
    return out


class BadOutcome(Strict):
    """A run is bad when ``kpi`` on the row (crossing, direction, flow) is above ``above`` or below ``below``."""

    kpi: Literal[KPIS]  # type: ignore[valid-type]
    above: float | None = Field(default=None, allow_inf_nan=False)
    below: float | None = Field(default=None, allow_inf_nan=False)
    crossing: str = Field(default=ALL, min_length=1)
    direction: Literal["a_to_b", "b_to_a", "ALL"] = ALL
    flow: str = Field(default=ALL, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return parse_bad(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_threshold(self) -> BadOutcome:
        if (self.above is None) == (self.below is None):
            example = "{kpi: wait_p95_min, above: 120}"
            raise ValueError(f"give above or below, one of them (e.g. {example} or '{EXAMPLE}')")
        return self

    @property
    def row(self) -> tuple[str, str, str]:
        """The (crossing, direction, flow) row of the KPI tables it reads."""
        return (self.crossing, self.direction, self.flow)

    @property
    def threshold(self) -> float:
        return float(self.above if self.above is not None else self.below)  # type: ignore[arg-type]

    def text(self) -> str:
        """The definition as it is written on the command line."""
        where = " ".join(f"{k}={v}" for k, v in zip(KEYS, self.row, strict=True) if v != ALL)
        op = ">" if self.above is not None else "<"
        return f"{self.kpi} {op} {self.threshold:g}" + (f" where {where}" if where else "")

    def is_bad(self, values: np.ndarray) -> np.ndarray:
        """Which values are bad (a missing value is not: the caller leaves those runs out and says so)."""
        v = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            return v > self.above if self.above is not None else v < self.threshold


def bad_problems(
    bad: BadOutcome, kpis: list[str], scenario: Scenario, at: Callable[[str], tuple[str, int | None]], prefix: str
) -> list[Problem]:
    """Every way ``bad`` does not fit the sweep: a KPI it does not keep, a row its KPI tables do not have.

    Checked before any run, on the first design point's compiled model (its rows are the
    crossings, directions and flows it has), so a typo costs nothing. ``at(key)`` is the file
    and line a key was written at.
    """
    from sim.experiments.replicate import model_of

    problems = []
    if bad.kpi not in kpis:
        kept = ", ".join(kpis)
        message = f"{bad.kpi} is not among the sweep's kpis ({kept}): add it to kpis, so that every run keeps it"
        problems.append(Problem(*at("kpi"), f"{prefix}kpi", message))
    rows, _ = groups_table(model_of(scenario))
    for key in ("crossing", "flow"):
        known = sorted(set(rows[key]) - {ALL})
        value = getattr(bad, key)
        if value not in (*known, ALL):
            shown = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
            message = f"no {key} {value!r} in the scenario; write ALL or one of {shown}"
            problems.append(Problem(*at(key), f"{prefix}{key}", message))
    if not problems and bad.row not in set(rows[KEYS].itertuples(index=False, name=None)):
        message = (
            f"the KPI tables have no row for crossing {bad.crossing}, direction {bad.direction}, flow {bad.flow}: "
            "for one crossing give both direction and flow, or neither, and a flow that uses that crossing"
        )
        problems.append(Problem(*at(""), prefix.rstrip(".") or "where", message))
    return problems


def bad_from_option(text: str, kpis: list[str], scenario: Scenario) -> BadOutcome:
    """The ``--bad`` option read and checked against the sweep; ``ScenarioError`` naming ``--bad`` otherwise."""
    try:
        data = parse_bad(text)
        bad = BadOutcome.model_validate(data)
    except ValueError as err:  # pydantic's ValidationError is a ValueError too
        if isinstance(err, ValidationError):
            raise ScenarioError(validation_problems(err, data, {}, "--bad")) from None
        raise ScenarioError([Problem("--bad", None, "", str(err))]) from None
    problems = bad_problems(bad, kpis, scenario, lambda _key: ("--bad", None), "")
    if problems:
        raise ScenarioError(problems)
    return bad
