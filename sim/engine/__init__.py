"""One replication on a SimPy environment, with policies plugged in at its hooks."""
