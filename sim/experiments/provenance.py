"""What a manifest records about the software a result came from."""

from __future__ import annotations

import os
import platform


def versions() -> dict[str, str]:
    """Versions of bordersim, Python and the libraries that shape the numbers."""
    import numpy as np
    import pandas as pd
    import simpy

    from sim import __version__

    return {
        "bordersim": __version__,
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
    }
