"""The seam between bordersim's engine and SimPy: the only module that touches SimPy's internals.

The engine runs on a SimPy ``Environment``: SimPy owns the clock, the event heap and the
loop (``Environment.run``/``step``). What the engine adds is cheaper events. A traveller's
service completion is most of a run's events, and a ``Timeout`` per completion (with its
``Event.__init__``, ``schedule`` and callback list) costs more than the rest of the step.
So the engine puts its own objects on SimPy's heap, in the entry format ``step`` pops:

    (time, priority, event id, event)

and ``step`` needs only two things of the event: a ``callbacks`` list it may set to None,
and an ``_ok`` flag. These are SimPy internals (``env._queue``, ``env._eid``, the entry
layout and the attributes ``step`` reads); if a SimPy release changes them, ``check_kernel``
fails loudly (it is called by every engine and tested on its own), instead of the engine
quietly losing or reordering events. Tested with the SimPy versions in ``TESTED_SIMPY``.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.core import NORMAL, URGENT
from simpy.events import Event

TESTED_SIMPY = ("4.1.1", "4.1.2")
"""SimPy releases the engine is tested with: the golden tables and the kernel checks pass on both
(pyproject.toml pins ``simpy>=4.1.1,<4.2``)."""


class KernelMismatch(RuntimeError):
    """The installed SimPy no longer has the internals the engine relies on."""


class CheapEvent:
    """The least SimPy's ``step`` needs of an event: a callback list and a success flag.

    Subclasses (a traveller, an arrival) add their own slots; setting ``callbacks`` to a
    list shared by many events is safe because ``step`` only reads it.
    """

    __slots__ = ("callbacks",)
    _ok = True


Push = Callable[[float, CheapEvent], None]


def pusher(env: simpy.Environment) -> Push:
    """A function that schedules ``event`` at absolute time ``at`` with normal priority."""
    heap = env._queue
    eid = env._eid

    def push(at: float, event: CheapEvent) -> None:
        heappush(heap, (at, NORMAL, next(eid), event))

    return push


def call_at(env: simpy.Environment, at: float, callback: Callable[[Any], None], urgent: bool = False) -> None:
    """Call ``callback`` at time ``at``; ``urgent`` runs it before normal events of that instant."""
    event = Event(env)
    event._ok = True
    event._value = None
    event.callbacks.append(callback)
    env.schedule(event, URGENT if urgent else NORMAL, at - env.now)


def check_kernel(env: simpy.Environment | None = None) -> None:
    """Raise ``KernelMismatch`` unless SimPy still processes a ``CheapEvent`` pushed by ``pusher``.

    Checks the private attributes exist with the expected types, then runs a three-event
    micro-timeline (two cheap events and a normal ``Timeout``) and compares the order and
    clock values with what the engine assumes: time first, then priority, then push order.
    """
    probe = simpy.Environment() if env is None else env
    if not isinstance(getattr(probe, "_queue", None), list) or not hasattr(getattr(probe, "_eid", None), "__next__"):
        raise KernelMismatch(
            f"SimPy {simpy.__version__}: Environment has no _queue list or _eid counter; "
            f"bordersim's engine is tested with SimPy {', '.join(TESTED_SIMPY)}"
        )
    if env is not None:
        return
    seen: list[tuple[str, float]] = []

    def mark(name: str) -> Callable[[Any], None]:
        return lambda _event: seen.append((name, probe.now))

    push = pusher(probe)
    first, second = CheapEvent(), CheapEvent()
    first.callbacks = [mark("first")]
    second.callbacks = [mark("second")]
    push(2.0, second)
    probe.timeout(1.0).callbacks.append(mark("timeout"))
    push(1.0, first)
    call_at(probe, 1.0, mark("urgent"), urgent=True)
    probe.run(until=5.0)
    want = [("urgent", 1.0), ("timeout", 1.0), ("first", 1.0), ("second", 2.0)]
    if seen != want or first.callbacks is not None:
        raise KernelMismatch(
            f"SimPy {simpy.__version__} processed the engine's events as {seen}, expected {want}; "
            f"bordersim's engine is tested with SimPy {', '.join(TESTED_SIMPY)}"
        )
