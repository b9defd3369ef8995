"""bordersim: a discrete-event simulator of people and goods crossing a land border."""

from __future__ import annotations

__version__ = "0.1.0"

from sim.errors import Problem, ScenarioError  # noqa: E402
from sim.experiment import RunResult, run  # noqa: E402
from sim.loader import load_scenario, scenario_from_dict  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

__all__ = ["Problem", "RunResult", "Scenario", "ScenarioError", "__version__", "load_scenario", "run", "scenario_from_dict"]
