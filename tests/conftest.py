from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import sim

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _at_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests name files relative to the repository's root, wherever pytest was started."""
    monkeypatch.chdir(ROOT)


def one_crossing(
    stages: dict[str, Any],
    regime: dict[str, Any] | str,
    servers_a: dict[str, Any],
    servers_b: dict[str, Any] | None = None,
    demand: list[dict[str, Any]] | None = None,
    **crossing: Any,
) -> dict[str, Any]:
    """A one-crossing scenario dict with a custom regime named ``r`` (or a built-in name)."""
    data: dict[str, Any] = {
        "name": "t",
        "horizon": "3 d",
        "warmup": 0,
        "replications": 1,
        "seed": 1,
        "flows": {"truck": {}, "car": {"occupancy": 2}},
        "stages": stages,
        "crossings": [
            {
                "id": "x",
                "category": "multilateral",
                "sides": {"a": {"servers": servers_a}, "b": {"servers": servers_b or {}}},
                **crossing,
            }
        ],
        "demand": demand or [],
    }
    if isinstance(regime, str):
        data["regime"] = regime
    else:
        data["regimes"] = {"r": regime}
        data["regime"] = "r"
    return data


class KeepChunks:
    """An engine's chunk consumer that keeps every chunk, for figures recomputed from the raw rows."""

    def __init__(self) -> None:
        self.chunks: list[Any] = []

    def add(self, chunk: Any) -> None:
        self.chunks.append(chunk)

    def finish(self, pools: Any) -> list[Any]:
        return self.chunks


def chunk_table(chunks: list[Any], name: str, columns: tuple[str, ...]) -> Any:
    """One kind of rows (``bookings``, ``slots``, ``area``...) of every chunk, as a DataFrame."""
    import numpy as np
    import pandas as pd

    parts = [getattr(ch, name) for ch in chunks if getattr(ch, name) is not None]
    rows = np.concatenate(parts) if parts else np.empty((0, len(columns)))
    return pd.DataFrame(rows, columns=list(columns))


def run_dict(data: dict[str, Any], **kw: Any) -> sim.RunResult:
    return sim.run(sim.scenario_from_dict(copy.deepcopy(data)), **kw)


@pytest.fixture
def tutorial() -> sim.Scenario:
    return sim.load_scenario("scenarios/tutorial_single_crossing.yaml")


def our_scripts() -> set[str]:
    """The bodies of the only executable scripts a report may hold: the bundled chart libraries and loader."""
    import re

    from sim.outputs.interactive import scripts

    return set(re.findall(r"<script>(.*?)</script>", str(scripts()), flags=re.DOTALL))


def only_our_scripts(page: str) -> None:
    """Every script of ``page`` is one of ``our_scripts()`` or inert JSON data with every ``<`` escaped.

    Reports embed the chart libraries; a user's text may only ever be data, never code.
    """
    import re

    ours = our_scripts()
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.DOTALL | re.IGNORECASE):
        if 'type="application/json"' in attrs:
            assert "<" not in body
            assert ">" not in body
            continue
        assert attrs.strip() == "", attrs
        assert body in ours, body[:200]


BROWSER_OUR_SCRIPTS = (
    "return Array.from(document.scripts).filter(s => s.type !== 'application/json').map(s => s.text.length)"
)
"""In a browser: the lengths of a page's executable scripts, to compare with ``our_scripts()``."""


def without_scripts(page: str) -> str:
    """``page`` without its script elements: the markup a name could have got into."""
    import re

    return re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.DOTALL | re.IGNORECASE)
