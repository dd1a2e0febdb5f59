"""The evaluator's API (being built)."""

BLUEPRINTS: list = []
