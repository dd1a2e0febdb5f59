"""register (issue 9: being built)."""
