"""Authorization-matrix cases of issue 9 (bank); see tests/matrix_cases.py."""
