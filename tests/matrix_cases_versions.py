"""Authorization-matrix cases of the versions routes (see tests/matrix_cases.py)."""
