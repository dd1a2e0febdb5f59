"""Authorization-matrix cases of the scoring routes (see tests/matrix_cases.py)."""
