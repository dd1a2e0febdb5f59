"""Authorization-matrix cases of issue 10 (deadlines and reminders); see tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py the URL arguments
this part's routes need (``users`` and ``args`` are the world's so far).
"""

from __future__ import annotations


def world_args(make, users: dict, args: dict) -> dict:
    return {}
