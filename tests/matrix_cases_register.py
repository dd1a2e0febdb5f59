"""Authorization-matrix cases of issue 9 (register); see tests/matrix_cases.py.

The register's routes are downloads (GET only): the call's CSV
(``manager.call_register_csv``, the world's ``call_id``) and the programme's
(``manager.programme_register_csv``, its ``programme_id``). The GET matrix of
tests/test_authorization_matrix.py requests every GET route as every persona with the
world's arguments, so they need no POST case here; they need ALLOWED_BY to say whom
``can_export_register`` lets through: ``"can_export_register": {"manager"}``.
"""
