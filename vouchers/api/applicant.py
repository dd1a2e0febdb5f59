"""The applicant's API (being built)."""

BLUEPRINTS: list = []
