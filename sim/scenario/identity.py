"""A scenario's identity: the canonical JSON and hash a manifest records.

The hash is taken over the resolved, validated scenario (without the list of files it was
read from), so it follows what is simulated rather than how the files are laid out.
"""

from __future__ import annotations

import hashlib
import json

from sim.scenario.schema import Scenario


def canonical_json(scenario: Scenario) -> str:
    """The resolved scenario as canonical JSON: what the hash in a manifest is taken over."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"resolved_from"})
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def scenario_hash(scenario: Scenario) -> str:
    """The SHA-256 of ``canonical_json``: one short string to tell whether two runs simulated the same."""
    return hashlib.sha256(canonical_json(scenario).encode()).hexdigest()
