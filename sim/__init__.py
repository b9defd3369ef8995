"""bordersim: a discrete-event simulator of people and goods crossing a land border.

The public API, for notebooks and scripts: ``load_scenario``, ``scenario_from_dict`` and
``run``. Submodules load on first use, so the command line starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sim.errors import Problem, ScenarioError
    from sim.experiment import RunResult, run
    from sim.loader import load_scenario, scenario_from_dict
    from sim.scenario import Scenario

_EXPORTS = {
    "Problem": "sim.errors",
    "ScenarioError": "sim.errors",
    "RunResult": "sim.experiment",
    "run": "sim.experiment",
    "load_scenario": "sim.loader",
    "scenario_from_dict": "sim.loader",
    "Scenario": "sim.scenario",
}

__all__ = [
    "Problem",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "run",
    "scenario_from_dict",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in ("experiment", "loader", "scenario", "engine", "analysis", "network"):
        import importlib

        return importlib.import_module(f"sim.{name}")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
