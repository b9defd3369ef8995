"""``python -m sim`` is the same as the ``bordersim`` command."""

from sim.cli import main

main()
