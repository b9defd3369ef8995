"""Calibration: a scenario fragment fitted to observed crossing times.

A modeler rarely has service-time distributions; they have timestamps (a WCO Time Release
Study, an electronic-queue export). This package turns those into what a scenario needs:
arrival profiles and daily volumes (``demand``), fitted service-time distributions
(``fitting``), selection shares (``shares``), written as a YAML fragment for ``extends``
(``fragment``) with a markdown report of every fit and why it was chosen (``report``).
The observations file is read like every user file (``observations``): bounded, regular
files only, every problem named by file, row and column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.calibration.study import Calibration, calibrate

__all__ = ["Calibration", "calibrate"]


def __getattr__(name: str) -> Any:
    """``calibrate`` and ``Calibration`` load on first use: scipy is slow to import and ``--help`` needs neither."""
    if name in __all__:
        from sim.calibration import study

        return getattr(study, name)
    raise AttributeError(f"module 'sim.calibration' has no attribute {name!r}")
