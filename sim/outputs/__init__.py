"""Files, charts and the report."""
