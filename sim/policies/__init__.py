"""Behaviours plugged into the engine's hooks: one module per behaviour (see ``sim.engine.hooks``)."""
