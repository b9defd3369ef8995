"""From records to KPIs, intervals and comparisons."""
