"""The report's section on the costs of delay, in a run's report and in a comparison's.

A reader needs the hours lost in queues, what they cost and what idling engines emit, and
which rates those figures rest on, cited or assumed. The section reads only ``costs.csv``,
``cost_rates.csv`` (``sim.outputs.cost_files``) and ``comparison.csv``, so ``bordersim report``
redraws it. Flow names, currencies and the rates' citations are free text: every cell goes
through ``data_table`` and every sentence through ``el``, which escape them.
"""

from __future__ import annotations

import pandas as pd

from sim.analysis.kpis import ALL
from sim.outputs.cost_files import COSTS_FILE, RATES_FILE
from sim.outputs.html import Html, data_table, el, fmt, join
from sim.outputs.readable import UNIT_WORDS, flow_label
from sim.outputs.results import RunFolder, read_optional_csv
from sim.outputs.sections import _order
from sim.outputs.table_columns import COST_RATES_COLUMNS, COSTS_COLUMNS

COMPARED = ("delay_vehicle_hours_per_day", "delay_value_per_day", "co2_kg_per_day")
"""The cost KPIs a comparison's section shows (those in ``sim.analysis.comparison.METRICS``)."""

RATE_LABELS = {
    "value_per_vehicle_hour": "value of an hour of delay, per vehicle",
    "value_per_person_hour": "value of an hour of delay, per person",
    "idling_share": "share of queue time with the engine running",
    "idle_fuel_l_per_h": "fuel an idling engine burns",
    "co2_kg_per_l": "CO2 per litre of fuel burnt",
    "idle_pm25_g_per_h": "PM2.5 an idling engine emits",
}
MEASURES = {
    "delay_vehicle_hours_per_day": ("hours waited", "h"),
    "delay_value_per_day": ("value of the time lost", "{currency}"),
    "co2_kg_per_day": ("CO2 from idling engines", "kg"),
}
"""How the comparison's section names each compared KPI, and the unit its amounts carry."""
OVERLOADED_IN = {
    "baseline": "lower bound in the baseline: a queue grows without bound",
    "scenario": "lower bound in this scenario: a queue grows without bound",
    "both": "lower bounds: a queue grows without bound in both",
}

EXPLAINED = (
    "Hours waited: the waits in queues of the travellers who completed their crossing in the observation window "
    "(queueing, blocking at a full neutral zone, waiting for a shut crossing), summed, per day; one hour per "
    "vehicle, train, vessel or pedestrian. Person-hours weight each wait by the persons aboard (freight trains "
    "carry wagons: none). Value: hours x value per vehicle-hour + person-hours x value per person-hour, where "
    "given. Fuel: hours x share of queue time idling x litres per hour idling; CO2 from that fuel; PM2.5 from "
    "the same idling hours. A dash: no rate for it. Every total is the sum of its rows. Travellers still "
    "queueing at the end are not counted, so where a queue grows without bound the figures are lower bounds. "
    "costs.csv has every crossing and direction; docs/costs.md gives the rules."
)


def read_costs(r: RunFolder) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """A folder's ``costs.csv`` and ``cost_rates.csv``; None for a file it lacks (older folder, no rates)."""
    return read_optional_csv(r.path / COSTS_FILE, COSTS_COLUMNS), read_optional_csv(
        r.path / RATES_FILE, COST_RATES_COLUMNS
    )


# -- numbers as words ----------------------------------------------------------------------------
def _digits(value: float) -> int:
    """Whole numbers from 100 up, one decimal from 1, two below: as precise as a reader can use."""
    size = abs(value) if not pd.isna(value) else 0.0
    return 0 if size >= 100 else 1 if size >= 1 else 2


def _pm(mean: float, half: float) -> str:
    if pd.isna(mean):
        return "–"
    digits = _digits(mean)
    return fmt(mean, digits) if pd.isna(half) else f"{fmt(mean, digits)} ± {fmt(half, digits)}"


def _amount(value: float, unit: str, signed: bool = False) -> str:
    """An amount with its unit ("1,234 RUB", "+0.70 h"); a dash when there is none."""
    if pd.isna(value):
        return "–"
    sign = ("+" if value > 0 else "−" if value < 0 else "±") if signed else ("−" if value < 0 else "")
    return f"{sign}{fmt(abs(value), _digits(value))} {unit}".rstrip()


def _currency(costs: pd.DataFrame) -> str:
    found = sorted({str(c) for c in costs["currency"] if str(c)})
    return " / ".join(found)


# -- a run's section -----------------------------------------------------------------------------
def border_table(costs: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """Whole border, per flow (grouped by unit), all flows last: each cost figure ± its 95% half-width."""
    rows = costs[(costs["crossing"] == ALL) & (costs["direction"] == ALL)]
    rows = rows.iloc[_order(rows["flow"], units)]
    currency = _currency(costs) or "currency"

    def column(name: str, mixed: pd.Series | None = None) -> list[str]:
        values = zip(rows[name], rows[f"{name}_ci95"], strict=True)
        if mixed is None:
            return [_pm(m, h) for m, h in values]
        return ["–" if mx else _pm(m, h) for (m, h), mx in zip(values, mixed, strict=True)]

    flows = rows["flow"].astype(str)
    mixed = (flows == ALL) & (len({units.get(f, "vehicle") for f in flows if f != ALL}) > 1)
    return pd.DataFrame(
        {
            "flow": [flow_label(f) for f in flows],
            "counted in": [
                "mixed units" if f == ALL else UNIT_WORDS.get(units.get(f, "vehicle"), ("", "?"))[1] for f in flows
            ],
            "hours waited per day": column("delay_vehicle_hours_per_day", mixed),
            "person-hours per day": column("delay_person_hours_per_day"),
            f"value of the time lost ({currency} per day)": column("delay_value_per_day"),
            "fuel burnt idling (litres per day)": column("idle_fuel_l_per_day"),
            "CO2 (kg per day)": column("co2_kg_per_day"),
            "PM2.5 (g per day)": column("pm25_g_per_day"),
            "note": ["lower bound: a queue grows without bound" if bad else "" for bad in rows["overloaded"]],
        }
    )


def rates_table(rates: pd.DataFrame) -> pd.DataFrame:
    """The rates a run used, in words, each with its source or its assumption."""
    return pd.DataFrame(
        {
            "flow": [flow_label(str(f)) for f in rates["flow"]],
            "rate": [RATE_LABELS.get(str(n), str(n)) for n in rates["rate"]],
            "value": [fmt(v, 2 if float(v) < 100 else 0) for v in rates["value"]],
            "unit": rates["unit"].astype(str),
            "source or assumption": [f"{b}: {t}" for b, t in zip(rates["basis"], rates["text"], strict=True)],
        }
    )


def _rates_part(rates: pd.DataFrame | None, table_id: str, caption: str) -> Html:
    if rates is None or rates.empty:
        return el(
            "p",
            "No rates: the scenario has no costs block, so only the hours are given (docs/costs.md says how "
            "to add values of time, idle fuel and emission rates, each cited or marked as an assumption).",
            class_="note",
        )
    return el("div", data_table(rates_table(rates), table_id, caption), class_="wide")


def run_costs_section(r: RunFolder) -> Html:
    """The costs section of a run's report: whole-border figures per flow, then the rates used."""
    costs, rates = read_costs(r)
    if costs is None:
        return Html("")
    return join(
        [
            el("h2", "Costs of delay"),
            el(
                "div",
                data_table(
                    border_table(costs, r.units),
                    "costs",
                    "Whole border, per flow, per day of the observation window: mean ± 95% half-width over "
                    "replications",
                ),
                class_="wide",
            ),
            el("p", EXPLAINED, class_="note"),
            _rates_part(rates, "cost-rates", "Rates used, each cited or marked as an assumption"),
        ]
    )


# -- a comparison's section ----------------------------------------------------------------------
def cost_differences(comparison: pd.DataFrame, units: dict[str, str], currency: str) -> pd.DataFrame:
    """Whole border, per flow: each compared cost against the baseline, with its 95% paired interval.

    Hours are per flow only (the all-flows row would add vehicles to pedestrians); money and
    CO2 add up, so they have an all-flows row. Rows with no figure on either side are left out.
    """
    c = comparison[
        (comparison["crossing"] == ALL) & (comparison["direction"] == ALL) & comparison["metric"].isin(COMPARED)
    ]
    c = c[~((c["metric"] == "delay_vehicle_hours_per_day") & (c["flow"] == ALL))]
    c = c[~(c["baseline_value"].isna() & c["value"].isna())]
    c = c.iloc[_order(c["flow"], units)]
    rows = []
    for scenario in dict.fromkeys(c["scenario"].astype(str)):
        for metric in COMPARED:
            for r in c[(c["scenario"].astype(str) == scenario) & (c["metric"] == metric)].itertuples(index=False):
                what, unit = MEASURES[metric]
                unit = unit.format(currency=currency)
                low, high = r.diff_ci95_low, r.diff_ci95_high
                if r.diff == 0 and low == 0 and high == 0:
                    change, span = "no change", "–"
                elif pd.isna(low) or pd.isna(high):
                    change, span = _amount(r.diff, unit, signed=True), "–"
                else:
                    change = _amount(r.diff, unit, signed=True)
                    span = f"[{_amount(low, unit, signed=True)}, {_amount(high, unit, signed=True)}]"
                overloaded = getattr(r, "overloaded_in", "")
                rows.append(
                    {
                        "scenario": scenario,
                        "flow": flow_label(str(r.flow)),
                        "per day": what,
                        "baseline": _amount(r.baseline_value, unit),
                        "scenario value": _amount(r.value, unit),
                        "difference": change,
                        "95% paired interval": span,
                        "note": OVERLOADED_IN.get(overloaded, "") if isinstance(overloaded, str) else "",
                    }
                )
    columns = ["scenario", "flow", "per day", "baseline", "scenario value", "difference", "95% paired interval", "note"]
    return pd.DataFrame(rows, columns=columns)


def comparison_costs_section(runs: list[RunFolder], comparison: pd.DataFrame) -> Html:
    """The costs section of a comparison's report: differences against the baseline, then the rates used."""
    read = [(r, *read_costs(r)) for r in runs]
    if any(costs is None for _, costs, _ in read) or not comparison["metric"].isin(COMPARED).any():
        return Html("")  # a folder written before costs existed: nothing to compare
    base = runs[0]
    currencies = {_currency(costs) for _, costs, _ in read if costs is not None} - {""}
    parts = [el("h2", "Costs of delay")]
    if len(currencies) > 1:
        parts.append(
            el(
                "p",
                f"The scenarios value time in different currencies ({', '.join(sorted(currencies))}): "
                "their values of time are not compared.",
                class_="notice",
            )
        )
    shown = comparison if len(currencies) <= 1 else comparison[comparison["metric"] != "delay_value_per_day"]
    table = cost_differences(shown, base.units, next(iter(currencies), ""))
    parts.append(
        el(
            "div",
            data_table(
                table,
                "cost-differences",
                "Whole border, per flow, per day: each scenario against the baseline (differences with their 95% "
                "paired interval over replications sharing random numbers)",
            ),
            class_="wide",
        )
        if len(table)
        else el("p", "No cost figures to compare.", class_="note")
    )
    parts.append(el("p", EXPLAINED, class_="note"))
    base_rates = read[0][2]
    parts.append(_rates_part(base_rates, "cost-rates", f"Rates used by the baseline, {base.name}"))
    for r, _, rates in read[1:]:
        same = (rates is None and base_rates is None) or (
            rates is not None and base_rates is not None and rates.equals(base_rates)
        )
        if not same:
            parts.append(
                el(
                    "details",
                    join([el("summary", f"{r.name}: other rates"), _rates_part(rates, f"cost-rates-{r.name}", "")]),
                )
            )
    return join(parts)
