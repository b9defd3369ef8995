"""The author's format: YAML files read, validated and explained (pydantic lives here)."""
