"""Replications, comparisons and sweeps on local processes or Dask."""
