"""Authorization-matrix cases of issue 9 (payments); see tests/matrix_cases.py."""
