"""Named random streams with stable identities, and each traveller's own luck.

A stream is ``SeedSequence(seed, spawn_key=(replication, h(name), h(part), ...))`` where ``h``
is a CRC-32 of the text: its identity is its name and the source (and stage, and calendar
week) it serves, never its place in a list. Adding a stream for a new feature, a new source
or a new stage therefore changes no existing draw, and nothing depends on the order in which
the model asks.

Draws are made per calendar week of a source (``week`` in the key), so a replication holds
one week of draws per source at a time, whatever the horizon, and the draws of week 40 are
the same in a 41-week and a 52-week run.

A traveller's *luck* is a set of uniforms drawn for it when it arrives, one per control
stage it may meet (keyed by stage and role, not by the crossing's pools): the service time
it gets is the inverse distribution function of wherever it is served, evaluated at its
own uniform. A policy that sends it to another crossing, or a regime with another service
distribution, changes what the uniform becomes, not which uniform it gets: comparisons stay
paired traveller by traveller (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

WEEK_MIN = 7 * 1440.0
"""Length of a draw block: a calendar week of the run, in minutes."""


def _h(part: str) -> int:
    return zlib.crc32(part.encode("utf-8"))


def stream(seed: int, replication: int, name: str, *key: str) -> np.random.Generator:
    """The generator for stream ``name`` of ``replication``, for what ``key`` names."""
    spawn_key = (replication, _h(name), *(_h(k) for k in key))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))


def identity(name: str, *key: str) -> tuple[int, ...]:
    """The spawn key parts of a stream, for tests that show identities never collide."""
    return (_h(name), *(_h(k) for k in key))
