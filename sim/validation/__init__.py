"""Checks of the model against queueing theory and an independent recursion.

The pieces, in the order a validation run uses them: ``scenarios`` (the scenario dicts with
a known answer), ``observations`` (one statistic per replication read from a run),
``experiments`` (scenario + theoretical values + run sizes), ``checks`` (intervals, Little's
law, the verdict), ``recursion`` (replayed traces against an exact recursion), ``markdown``
(``docs/validation.md``) and ``cli`` (``python -m sim.validation``). The formulas themselves
are in ``sim.analysis.theory``.
"""
