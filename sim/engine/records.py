"""What one replication leaves behind: flat columns, one row per traveller and per visit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ReplicationRecords:
    """Columns of one replication. Times in minutes from the start; NaN where not reached.

    A *visit* is one traveller at one server pool: it entered the queue, started service,
    ended service, and left (later than the end when the neutral zone blocked it).
    """

    replication: int
    arrival: np.ndarray
    release: np.ndarray
    source: np.ndarray
    persons: np.ndarray
    visit_pool: np.ndarray
    visit_tid: np.ndarray
    visit_enter: np.ndarray
    visit_start: np.ndarray
    visit_end: np.ndarray
    visit_leave: np.ndarray
    arrived: int = 0
    released: int = 0
    inside: int = 0

    def check_conservation(self) -> None:
        """Nothing is lost: every arrival was released or is still inside (three separate counts)."""
        if not (self.arrived == self.released + self.inside == len(self.arrival)):
            raise AssertionError(
                f"replication {self.replication}: {self.arrived} arrived, {self.released} released, "
                f"{self.inside} inside, {len(self.arrival)} drawn"
            )

    @property
    def travellers(self) -> int:
        return len(self.arrival)

    def service_per_traveller(self) -> np.ndarray:
        """Total service time of each traveller (minutes), finished visits only."""
        done = ~np.isnan(self.visit_end)
        service = self.visit_end[done] - self.visit_start[done]
        return np.bincount(self.visit_tid[done], weights=service, minlength=self.travellers)
