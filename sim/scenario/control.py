"""Controls and regimes in the author's format: what each stage takes, and which run where.

A stage's times and shares resolve from the most specific setting (one country's variant
for one flow) to the stage itself; a regime lists the stages each post runs, with joint
stages done once by both countries. The built-in regimes are the three of the reference
case: double control, the customs union, and one joint control.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from sim.scenario.distributions import Constant, Distribution
from sim.scenario.schema_base import Category, Identifier, Share, SideName, Strict


class Secondary(Strict):
    """A share of travellers sent aside for a longer inspection after the stage."""

    share: Share
    time: Distribution


class StageTimes(Strict):
    """Per-flow overrides of a control stage's times and shares."""

    per_vehicle: Distribution | None = None
    per_person: Distribution | None = None
    select: Share | None = None
    secondary: Secondary | None = None


class SideStageTimes(StageTimes):
    """One country's variant of a stage, with its own per-flow overrides."""

    flows: dict[Identifier, StageTimes] = Field(default_factory=dict)


class ControlStage(Strict):
    """One control (border, customs, sanitary...): service time = per vehicle + per person.

    Values resolve from the most specific: ``sides.<side>.flows.<flow>``, then
    ``sides.<side>``, then ``flows.<flow>``, then the stage itself; so one country's customs
    can check a share of trucks while the other's checks none.
    """

    description: str = ""
    per_vehicle: Distribution = Field(default_factory=lambda: Constant(value=0))
    per_person: Distribution = Field(default_factory=lambda: Constant(value=0))
    select: Share = Field(default=1.0, description="Share of travellers checked (risk-based selection).")
    secondary: Secondary | None = None
    flows: dict[Identifier, StageTimes] = Field(default_factory=dict)
    sides: dict[SideName, SideStageTimes] = Field(default_factory=dict)

    def for_flow(self, flow: str, side: str | None = None) -> tuple[Any, Any, float, Secondary | None]:
        """Return (per_vehicle, per_person, select, secondary) as they apply to ``flow`` at ``side``."""
        layers: list[StageTimes] = []
        side_def = self.sides.get(side) if side is not None else None
        if side_def is not None:
            if flow in side_def.flows:
                layers.append(side_def.flows[flow])
            layers.append(side_def)
        if flow in self.flows:
            layers.append(self.flows[flow])
        values = []
        for field in ("per_vehicle", "per_person", "select", "secondary"):
            value = getattr(self, field)
            for layer in layers:
                if getattr(layer, field) is not None:
                    value = getattr(layer, field)
                    break
            values.append(value)
        return values[0], values[1], values[2], values[3]


class StageList(Strict):
    """Which stages run where.

    ``joint`` stages are done once, by both countries together, at the post named by
    ``joint_at``, with that side's servers.
    """

    exit: list[Identifier] = Field(default_factory=list)
    entry: list[Identifier] = Field(default_factory=list)
    joint: list[Identifier] = Field(default_factory=list)
    joint_at: Literal["exit", "entry"] = "entry"


class Regime(StageList):
    """A control regime: the stage lists, with optional per-flow variants."""

    description: str = ""
    flows: dict[Identifier, StageList] = Field(default_factory=dict)

    def for_flow(self, flow: str) -> StageList:
        return self.flows.get(flow, self)


BUILTIN_REGIMES: dict[str, Regime] = {
    "double_control": Regime(
        description="Before the customs union: exit border control and customs, then entry border "
        "control and customs, each side with its own queues.",
        exit=["border_control", "customs"],
        entry=["border_control", "customs"],
    ),
    "customs_union": Regime(
        description="Internal border of a customs union: no customs, border control on both sides.",
        exit=["border_control"],
        entry=["border_control"],
    ),
    "joint_control": Regime(
        description="Border control done once, by both countries together (one-stop post).",
        joint=["border_control"],
    ),
}


class RegimeChoice(Strict):
    """Which regime each crossing runs: by category, overridden per crossing."""

    default: Identifier = "customs_union"
    by_category: dict[Category, Identifier] = Field(default_factory=dict)
    by_crossing: dict[str, Identifier] = Field(default_factory=dict)


__all__ = [
    "BUILTIN_REGIMES",
    "ControlStage",
    "Regime",
    "RegimeChoice",
    "Secondary",
    "SideStageTimes",
    "StageList",
    "StageTimes",
]
