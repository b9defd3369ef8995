"""bordersim: a discrete-event simulator of people and goods crossing a land border.

The public API, for notebooks and scripts: ``load_scenario``, ``scenario_from_dict`` and
``run``. Submodules load on first use, so the command line starts quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sim.experiments.run import RunResult, run
    from sim.scenario.errors import Problem, ScenarioError
    from sim.scenario.loader import load_scenario, scenario_from_dict
    from sim.scenario.schema import Scenario

_EXPORTS = {
    "Problem": "sim.scenario.errors",
    "ScenarioError": "sim.scenario.errors",
    "RunResult": "sim.experiments.run",
    "run": "sim.experiments.run",
    "load_scenario": "sim.scenario.loader",
    "scenario_from_dict": "sim.scenario.loader",
    "Scenario": "sim.scenario.schema",
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
    if name in ("scenario", "model", "engine", "analysis", "outputs", "experiments", "validation"):
        import importlib

        return importlib.import_module(f"sim.{name}")
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
