"""schemathesis against the served document (/api/openapi.json), with a token per role.

Every operation the document holds, as each role (and anonymously): requests generated
from the document, half of them naming the objects of the authorization matrix's world
(tests/test_authorization_matrix.py) so real answers are checked too, the other half
with generated ids. No answer may be a server error, and each must match the document:
a documented status, its content type, its body's schema, its headers. The routes are
read from the document, so a route added later is covered without being listed here.
"""

from __future__ import annotations

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup

from tests.api_support import bearer
from tests.test_authorization_matrix import world  # noqa: F401  (the fixture)
from vouchers.extensions import db

ROLES = ("anonymous", "applicant", "evaluator", "manager", "partner_manager")
EXAMPLES = 10  # per operation and role: the suite's time, not a search for rare bugs
# Valid data is refused all the same when the role may not use the route (404): that is
# the matrix's business (tests/test_api_matrix.py), not a mismatch with the document.
EXCLUDED = ("positive_data_acceptance",)


def _isolated(call, **kwargs):
    """One request in its own app context, as tests/conftest.py's client does: the test's
    own transaction ends first, and the request does not share its session."""
    db.session.commit()
    return contextvars.Context().run(call, **kwargs)


def buffered(wsgi_app):
    """The app's answers read whole and closed before schemathesis sees them: a file
    download otherwise stays open (the suite turns a ResourceWarning into an error)."""
    def app(environ, start_response):
        body = wsgi_app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return app


def _check(operation, headers: dict, known: dict, statuses: set[int]) -> list[str]:
    excluded = [getattr(schemathesis.checks, name, None) for name in EXCLUDED]
    fixed = {p.name: known[p.name] for p in operation.path_parameters if p.name in known}
    strategy = operation.as_strategy()
    if fixed:
        strategy = st.one_of(operation.as_strategy(path_parameters=fixed), strategy)
    found: list[str] = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        try:
            response = _isolated(case.call_and_validate, headers=headers,
                                 excluded_checks=[c for c in excluded if c is not None])
        except (Exception, FailureGroup) as exc:  # noqa: BLE001 - each operation's first is listed
            if not found:
                found.append(f"{operation.label}: {type(exc).__name__}: "
                             f"{str(exc).strip()[:1500]}")
            return
        statuses.add(response.status_code)

    run()
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented(app, world, role, monkeypatch):  # noqa: F811
    users, args = world
    # The shared limit (600 a minute per token) would answer 429s and hide the rest.
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "1000000/minute")
    headers = {} if role == "anonymous" else bearer(users[role], "write")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", buffered(app.wsgi_app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert any(op.path == "/api/v1/calls" for op in operations)
    mismatches, statuses = [], set()
    for operation in operations:
        mismatches += _check(operation, headers, args, statuses)
    assert not mismatches, "\n\n".join(mismatches)
    # The role's token worked: some answers were successes, not only refusals.
    assert any(200 <= status < 300 for status in statuses), statuses
