"""Checks of the model against queueing theory and an independent recursion."""
