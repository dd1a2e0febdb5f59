"""bank_changes (issue 9: being built)."""
