"""The manager's API (being built)."""

BLUEPRINTS: list = []
