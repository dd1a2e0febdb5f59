"""Authorization-matrix cases of issue 9 (money); see tests/matrix_cases.py."""
