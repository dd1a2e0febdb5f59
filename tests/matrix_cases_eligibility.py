"""Authorization-matrix cases of the eligibility routes (see tests/matrix_cases.py)."""
