"""The engine's extension points: each a small protocol with today's behaviour as its default.

A new behaviour (route choice, an electronic queue, priority lanes, weather closures, an
event log) is a module in ``sim.policies`` implementing one of these, handed to ``Engine``;
the engine itself does not change. The defaults reproduce bordersim's standard model:

- ``ChoicePolicy``: which crossing a corridor's traveller sets off for. Default ``RouteChoice``
  with the scenario's rule (fixed shares, least cost, logit).
- ``DiversionPolicy``: whether a corridor's traveller on its way or in the queue switches
  crossing. Default: none unless the scenario has a ``diversion`` block (``Diversion``).
- ``RoutePolicy``: where a traveller goes. Default ``FixedRoute``: the crossing's controls in
  the regime's order, skipping those it is not selected for, with secondary inspections.
- ``Admission``: whether an arriving traveller may go on now. Default ``AdmitAll``. Opening
  hours are *not* an admission rule: a shut crossing is a crossing whose first controls have
  no servers (``CapacitySource``), so travellers who arrive while it is shut wait at the
  gate in the order they came, as they do at a real post. Booked slots (an electronic
  queue) are an admission rule: the traveller is held elsewhere until its slot.
- ``QueueDiscipline``: the order a pool's line is served in. Default FIFO.
- ``CapacitySource``: how many servers each pool has, and when that changes (shifts, opening
  hours, closures; later weather). Default ``ScheduledCapacity``, from the compiled model.
- ``EventSink``: what is recorded. Default ``Recorder``: visit and traveller rows, flushed
  once a simulated day as columns to the statistics and the record files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sim.engine.entities import Traveller
    from sim.engine.luck import WeekDraws
    from sim.model.compile import Model, Piece, PoolInfo, Source
    from sim.model.network import CorridorPlan


class Stations(Protocol):
    """What a route policy can send travellers to: the engine's pools and neutral zones (and its model)."""

    pools: list[Any]
    zones: list[Any]
    model: Model


class RoutePolicy(Protocol):
    """Chooses a traveller's steps: a list of (pool or zone, service minutes)."""

    def bind(self, stations: Stations) -> None:
        """Called once, before the first arrival, with the places travellers can be sent to."""

    def route(self, source: Source, draws: WeekDraws, row: int) -> list[tuple[Any, float]]:
        """The steps of the ``row``-th traveller of ``draws`` (its arrival, persons and luck)."""


class ChoicePolicy(Protocol):
    """Picks the crossing a corridor's traveller sets off for."""

    def bind(self, engine: Any) -> None:
        """Called once, before the first departure: the engine (pools, capacity, clock)."""

    def choose(self, corridor: CorridorPlan, u: float, now: float) -> int:
        """The index of the option taken by a traveller departing at ``now`` with choice uniform ``u``."""


class DiversionPolicy(Protocol):
    """Decides whether a corridor's traveller on its way, or queueing, switches crossing."""

    def bind(self, engine: Any) -> None: ...

    def reconsider(self, tr: Traveller, ahead: int, now: float) -> int | None:
        """The option to switch to, or None to stay.

        Asked at (or on the way to) its crossing, with ``ahead`` travellers before it at the first control.
        """


class Admission(Protocol):
    """Decides whether an arriving traveller goes on at once."""

    def bind(self, engine: Any) -> None:
        """Called once, before the first arrival: the engine (its ``env`` and ``release``)."""

    def admit(self, traveller: Traveller, now: float) -> bool:
        """True: it goes on now. False: the admission holds it and later calls ``release(traveller, time)``.

        An admission may also have ``holds(source) -> bool``, saying whether it may hold the
        travellers of a source (the engine then asks only about those);
        ``finished(traveller, now)``, called when a traveller it held leaves its last control;
        and ``close(horizon)``, called at the end before those still inside are logged (it may
        take out of ``engine.alive`` travellers that never arrived).
        """


class WaitingLine(Protocol):
    """A pool's line of waiting travellers."""

    def append(self, traveller: Traveller) -> None: ...
    def popleft(self) -> Traveller: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Traveller]: ...


class QueueDiscipline(Protocol):
    """Makes each pool's waiting line."""

    def line(self, pool: PoolInfo) -> WaitingLine: ...


class CapacitySource(Protocol):
    """The servers on duty: each pool's capacity at the start, and every later change in time order."""

    def initial(self, pool: PoolInfo) -> int: ...

    def changes(self, model: Model, piece: Piece) -> Iterable[tuple[float, list[tuple[int, int]]]]:
        """(time, [(pool index, new capacity), ...]) for each instant something changes, in time order."""


class VisitLog(Protocol):
    """Where a pool appends each finished visit: (pool index, traveller id, enter, start, end, leave)."""

    def append(self, visit: tuple[int, int, float, float, float, float]) -> None: ...


class TravellerLog(Protocol):
    """Where the engine appends each traveller that leaves: (id, source, persons, arrival, release, service)."""

    def append(self, traveller: tuple[int, int, int, float, float, float]) -> None: ...


class EventSink(Protocol):
    """Receives what happens, for records, statistics or an event log."""

    def visit_log(self, pool: int) -> VisitLog:
        """The log pool ``pool`` appends its visits to."""

    def traveller_log(self) -> TravellerLog:
        """The log the engine appends each traveller that leaves the system to."""

    def flush(self, now: float) -> None:
        """A simulated day has passed: hand on what has been collected (bounded memory)."""

    def close(self, now: float, pools: list[Any]) -> Any:
        """The horizon is reached (those still inside are logged, release NaN): return the result.

        ``pools`` are the engine's pools, for what they track themselves (the longest line).
        """
