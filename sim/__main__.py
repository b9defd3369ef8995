"""``python -m sim`` is the same as the ``bordersim`` command."""

import sys

try:
    from sim.cli import main
except KeyboardInterrupt:  # stopped while starting up: nothing was done
    sys.exit(130)

main()
