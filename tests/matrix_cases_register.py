"""Authorization-matrix cases of issue 9 (register); see tests/matrix_cases.py."""
