"""payments (issue 9: being built)."""
