"""Building blocks every part of the scenario format shares: strict models, names, shares."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=120)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Category = Literal["multilateral", "bilateral", "simplified"]
SideName = Literal["a", "b"]


class Strict(BaseModel):
    """Base for scenario parts: unknown keys are errors, not silently ignored typos."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
