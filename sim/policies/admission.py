"""The default admission: every arriving traveller goes on at once.

Opening hours and closures act through capacity (a shut crossing has no servers at its
first controls), not here; see ``sim.engine.hooks``.
"""

from __future__ import annotations

from sim.engine.entities import Traveller


class AdmitAll:
    """Admits everyone on arrival."""

    def bind(self, engine: object) -> None:
        """Nothing to remember: no traveller is ever held."""

    def admit(self, traveller: Traveller, now: float) -> bool:
        return True
