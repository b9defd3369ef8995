"""The costs of delay in the author's format: value of time, idle fuel and emissions per flow.

A policy question is rarely "how many minutes" alone: it is what those minutes cost the
carriers and the travellers, and what the engines idling in the queues burn and emit. Every
rate a figure rests on must say where it comes from, so each one is a value with either a
``source`` (a citation) or an ``assumption`` (the reason for a figure nobody published); a
report then shows the reader which figures are cited and which are guesses.

Rates are optional per flow; a flow without a rate has no figure of that kind (it is not
counted as free). ``sim.model.costs`` compiles this block into plain numbers and
``sim.analysis.costs`` turns waits into hours, money, fuel and emissions (``docs/costs.md``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from sim.scenario.schema_base import Identifier, Share, Strict

Loc = tuple[Any, ...]

MAX_RATE = 1e12
"""Largest rate accepted: far above any value of time in any currency, far below a float's overflow."""
Text = Annotated[str, Field(max_length=2_000)]


class CostRate(Strict):
    """One rate: a value, and either the source it is cited from or the assumption behind it."""

    value: Annotated[float, Field(ge=0, le=MAX_RATE, allow_inf_nan=False)]
    source: Text | None = Field(default=None, description="Where the figure is published (citation).")
    assumption: Text | None = Field(default=None, description="Why this figure was chosen when none is published.")

    @model_validator(mode="after")
    def _one_basis(self) -> CostRate:
        """Exactly one basis: a figure both cited and assumed, or neither, cannot be read by a reviewer.

        A scenario that ``extends`` another and changes a cited rate into an assumed one (or
        back) writes ``source: null`` (or ``assumption: null``) beside its new text, because
        files are merged key by key.
        """
        given = [name for name in ("source", "assumption") if (getattr(self, name) or "").strip()]
        if len(given) != 1:
            found = "both" if len(given) == 2 else "neither"
            raise ValueError(f"give exactly one of source (a citation) or assumption (the reason), not {found}")
        return self

    @property
    def basis(self) -> tuple[str, str]:
        """``("source", text)`` or ``("assumption", text)``."""
        if (self.source or "").strip():
            return "source", str(self.source).strip()
        return "assumption", str(self.assumption).strip()


class ShareRate(CostRate):
    """A rate that is a share of time, between 0 and 1."""

    value: Share


class FlowCosts(Strict):
    """The rates of one flow; each optional (no rate: no figure of that kind for the flow)."""

    value_per_vehicle_hour: CostRate | None = Field(
        default=None,
        description="Value of one hour of delay of one traveller of the flow (vehicle, train, vessel or "
        "pedestrian): the operator's cost of the vehicle, its cargo and crew, in the currency.",
    )
    value_per_person_hour: CostRate | None = Field(
        default=None,
        description="Value of one hour of delay of one person counted in the flow's occupancy, in the currency.",
    )
    idling_share: ShareRate | None = Field(
        default=None, description="Share of the time in queues with the engine running (0 to 1)."
    )
    idle_fuel_l_per_h: CostRate | None = Field(
        default=None, description="Litres of fuel an idling engine burns per hour."
    )
    co2_kg_per_l: CostRate | None = Field(default=None, description="Kilograms of CO2 per litre of that fuel burnt.")
    idle_pm25_g_per_h: CostRate | None = Field(
        default=None, description="Grams of PM2.5 an idling engine emits per hour."
    )

    @model_validator(mode="after")
    def _complete_chains(self) -> FlowCosts:
        """Fuel and emissions multiply rates along a chain; a missing link would silently give no figure."""
        if (self.idle_fuel_l_per_h is not None or self.idle_pm25_g_per_h is not None) and self.idling_share is None:
            raise ValueError("idle_fuel_l_per_h and idle_pm25_g_per_h need idling_share (share of queue time idling)")
        if self.co2_kg_per_l is not None and self.idle_fuel_l_per_h is None:
            raise ValueError("co2_kg_per_l needs idle_fuel_l_per_h (CO2 is computed from the fuel burnt)")
        return self

    def rates(self) -> dict[str, CostRate]:
        """The rates given, by name, in the order of the format."""
        return {name: rate for name in RATE_NAMES if (rate := getattr(self, name)) is not None}


RATE_NAMES: tuple[str, ...] = tuple(FlowCosts.model_fields)
RATE_UNITS = {
    "value_per_vehicle_hour": "{currency} per vehicle-hour",
    "value_per_person_hour": "{currency} per person-hour",
    "idling_share": "share of queue time",
    "idle_fuel_l_per_h": "litres per hour idling",
    "co2_kg_per_l": "kg CO2 per litre",
    "idle_pm25_g_per_h": "g PM2.5 per hour idling",
}
"""How each rate reads, for tables and reports."""
VALUE_RATES = ("value_per_vehicle_hour", "value_per_person_hour")


class Costs(Strict):
    """The costs block of a scenario: the currency of values of time, and the rates per flow."""

    currency: Annotated[str, Field(min_length=1, max_length=12)] | None = Field(
        default=None, description="Currency of the values of time, e.g. RUB or KZT; needed when a value is given."
    )
    flows: dict[Identifier, FlowCosts] = Field(default_factory=dict, description="Rates per flow of the scenario.")

    @model_validator(mode="after")
    def _currency_of_values(self) -> Costs:
        """A money figure without its currency cannot be read: a rouble is not a tenge."""
        if self.currency is None and any(
            getattr(f, name) is not None for f in self.flows.values() for name in VALUE_RATES
        ):
            raise ValueError("currency is needed when a flow has value_per_vehicle_hour or value_per_person_hour")
        return self


def check_costs(flows: dict[str, Any], costs: Costs | None) -> list[tuple[Loc, str]]:
    """Flow names the costs block uses that the scenario lacks, and person values of wagon flows.

    Called by ``sim.scenario.checks.check_scenario`` with the scenario's flows.
    """
    from sim.scenario.checks import _known

    if costs is None:
        return []
    problems: list[tuple[Loc, str]] = []
    for name, rates in costs.flows.items():
        loc: Loc = ("costs", "flows", name)
        if name not in flows:
            problems.append((loc, f"unknown flow {name!r} (known: {_known(flows, name)})"))
        elif rates.value_per_person_hour is not None and flows[name].occupants == "wagons":
            problems.append(
                (
                    (*loc, "value_per_person_hour"),
                    f"flow {name!r} counts wagons, not persons (flows.{name}.occupants): it has no person-hours",
                )
            )
    return problems
