"""Episodes compiled: windows that change a control step, or a pool's capacity.

An episode's demand factor is applied with the calendar's (``sim.model.calendar``). Its
stage changes become ``StepWindow``s on the control steps of the travellers it concerns:
the route policy gives a traveller who reaches the crossing inside the window the
episode's selection share, secondary share and service time (its own uniforms, so the
comparison with a run without the episode stays paired). Staffing changes and closures
become changes of the pools' capacity over time, laid over the shifts, opening hours and
closures the pools already have; everything that reads a pool's schedule (the engine,
route choice, the load in the stages table) then sees them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sim.model.calendar import episode_window
from sim.scenario.calendar import Episode


@dataclass(frozen=True)
class StepWindow:
    """A control step's shares and time in [start, end) minutes, where they differ from the step's own."""

    start: float
    end: float
    select: float | None
    secondary_share: float | None
    time_factor: float


@dataclass(frozen=True)
class CapacityWindow:
    """A pool's capacity in [start, end): shut, set to a number of servers, or multiplied."""

    start: float
    end: float
    kind: str  # "close", "set" or "factor"
    value: float = 0.0


def step_windows(
    episodes: Iterable[Episode],
    start_date: datetime.date | None,
    crossing: str,
    direction: str,
    flow: str,
    stage: str,
    side: str,
) -> tuple[StepWindow, ...]:
    """The windows of one step of one source's route, in the episodes' order (a later one wins)."""
    out = []
    for episode in episodes:
        if not episode.covers(crossing, direction, flow):
            continue
        for change in episode.stages:
            if change.stage != stage or (change.side is not None and change.side != side) or not change.changes_steps:
                continue
            a, b = episode_window(episode, start_date)
            out.append(StepWindow(a, b, change.select, change.secondary_share, change.time_factor or 1.0))
    return tuple(out)


def capacity_windows(
    episodes: Iterable[Episode],
    start_date: datetime.date | None,
    crossing: str,
    direction: str,
    side: str,
    stage: str,
    flows: Iterable[str],
) -> list[CapacityWindow]:
    """Closures and staffing changes of one pool (serving ``flows``), in the episodes' order."""
    served = set(flows)
    out = []
    for episode in episodes:
        if episode.crossings is not None and crossing not in episode.crossings:
            continue
        if episode.directions is not None and direction not in episode.directions:
            continue
        a, b = episode_window(episode, start_date)
        if episode.close:
            out.append(CapacityWindow(a, b, "close"))
        if episode.flows is not None and not served & set(episode.flows):
            continue
        for change in episode.stages:
            if change.stage != stage or (change.side is not None and change.side != side):
                continue
            if change.servers is not None:
                out.append(CapacityWindow(a, b, "set", float(change.servers)))
            elif change.servers_factor is not None:
                out.append(CapacityWindow(a, b, "factor", change.servers_factor))
    return out


def overlay(
    initial: int, times: list[float], caps: list[int], windows: list[CapacityWindow], horizon: float, unlimited: int
) -> tuple[int, list[float], list[int]]:
    """A pool's schedule (capacity at 0, change times, capacities) with the windows laid over it.

    Staffing applies where the pool is open (a shut night stays shut); a factor keeps at
    least one server on an open pool unless it is 0, and leaves an unlimited pool unlimited.
    """
    if not windows:
        return initial, times, caps
    base_t = np.concatenate(([0.0], np.asarray(times, dtype=float)))
    base_c = np.concatenate(([initial], np.asarray(caps, dtype=np.int64)))
    cuts = [w.start for w in windows] + [w.end for w in windows]
    points = np.unique(np.concatenate((base_t, np.clip(cuts, 0.0, horizon))))
    points = points[points < horizon]
    at = base_c[np.searchsorted(base_t, points, side="right") - 1].astype(np.int64)
    for w in windows:
        inside = (points >= w.start) & (points < w.end)
        if w.kind == "close":
            at = np.where(inside, 0, at)
        elif w.kind == "set":
            at = np.where(inside & (at > 0), int(w.value), at)
        else:
            scaled = np.maximum(1, np.rint(at * w.value)).astype(np.int64) if w.value > 0 else np.zeros_like(at)
            at = np.where(inside & (at > 0) & (at < unlimited), scaled, at)
    keep = np.concatenate(([True], at[1:] != at[:-1]))
    points, at = points[keep], at[keep]
    return int(at[0]), points[1:].tolist(), [int(c) for c in at[1:]]
