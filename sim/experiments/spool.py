"""A private folder where replications write their record files until the results are written.

It lives in the system's temporary folder and is removed when the result that owns it is
garbage-collected or the process exits, so an abandoned or interrupted run leaves nothing.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path


class Spool:
    """A temporary folder for record files, removed with its last owner."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="bordersim-records-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.path, True)

    def folder(self, name: str) -> Path:
        """A subfolder (made if need be): one per scenario, so that their replications' files never meet."""
        path = self.path / name
        path.mkdir(exist_ok=True)
        return path

    def remove(self) -> None:
        self._cleanup()
