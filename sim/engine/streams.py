"""Named random streams per replication, for common random numbers.

Each stream comes from ``SeedSequence(seed, spawn_key=(replication, i, *key))`` where ``i`` is
the stream's place in a fixed, sorted list and ``key`` names the traveller source and stage
(crossing, direction, flow...). Nothing depends on the scenario's hash or on the order in
which the model asks, so the same traveller gets the same luck in every regime compared, and
the same seed gives the same results whatever the executor.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS: tuple[str, ...] = tuple(sorted(("arrivals", "occupancy", "secondary", "selection", "service")))


def _key(part: str) -> int:
    return zlib.crc32(part.encode("utf-8"))


def stream(seed: int, replication: int, name: str, *key: str) -> np.random.Generator:
    """The generator for stream ``name`` of ``replication``, for the source named by ``key``."""
    index = STREAMS.index(name)
    spawn_key = (replication, index, *(_key(k) for k in key))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))
