"""Authorization-matrix cases of the ranking routes (see tests/matrix_cases.py)."""
