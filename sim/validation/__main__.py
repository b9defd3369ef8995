"""``python -m sim.validation``: check the model against theory and write docs/validation.md."""

from sim.validation.cli import main

raise SystemExit(main())
