"""The cost files of a run: ``costs.csv`` (every run) and ``cost_rates.csv`` (scenarios with rates).

``costs.csv`` gives per crossing x direction x flow the hours lost in queues per day, their
value, and the fuel, CO2 and PM2.5 of idling engines, each as a mean with its 95%
half-width over replications, with the currency and whether the row is overloaded (its
figures are then lower bounds). ``cost_rates.csv`` gives the rates used, each with its
source or the assumption behind it, so that a report redrawn from the folder can show them.
Kept apart from the report's section so that writing results never loads the chart libraries.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.costs import cost_table
from sim.analysis.overload import overloaded_keys
from sim.outputs.files import write_csv
from sim.scenario.costs import RATE_UNITS, Costs

COSTS_FILE = "costs.csv"
RATES_FILE = "cost_rates.csv"
RATES_COLUMNS = ["flow", "rate", "value", "unit", "basis", "text"]


def rates_frame(costs: Costs | None) -> pd.DataFrame:
    """``cost_rates.csv``: one row per flow and rate given, with its unit and its source or assumption."""
    rows = []
    currency = (costs.currency or "") if costs is not None else ""
    for flow, given in (costs.flows if costs is not None else {}).items():
        for name, rate in given.rates().items():
            basis, text = rate.basis
            unit = RATE_UNITS[name].format(currency=currency)
            rows.append({"flow": flow, "rate": name, "value": rate.value, "unit": unit, "basis": basis, "text": text})
    return pd.DataFrame(rows, columns=RATES_COLUMNS)


def costs_frame(result: Any) -> pd.DataFrame:
    """``costs.csv`` of a run's result (``sim.experiments.run.RunResult``)."""
    costs = result.scenario.costs
    overload = getattr(result, "overload", None)
    bad = overloaded_keys(overload) if overload is not None else set()
    currency = (costs.currency or "") if costs is not None else ""
    return cost_table(result.replications, result.scenario.name, currency, bad)


def cost_file_steps(out: Path, result: Any) -> list[tuple[str, Callable[[], None]]]:
    """The cost files of a run as (name, write) steps: ``costs.csv`` always, the rates when there are any."""
    steps: list[tuple[str, Callable[[], None]]] = [
        (COSTS_FILE, lambda: write_csv(out / COSTS_FILE, costs_frame(result)))
    ]
    if result.scenario.costs is not None:
        steps.append((RATES_FILE, lambda: write_csv(out / RATES_FILE, rates_frame(result.scenario.costs))))
    return steps
