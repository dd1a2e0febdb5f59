"""The API's rate limit (API_RATE_LIMIT): counted per token, else per signed-in user, else
per address, across all of the API's blueprints; past it a 429 problem with Retry-After."""

from __future__ import annotations

import pytest

from tests.api_support import bearer, is_problem, token_of
from tests.conftest import migrated_app
from tests.factories import Factories
from tests.helpers import login
from vouchers.api import limiter
from vouchers.extensions import db

LIMIT = 5
CALLS = "/api/v1/calls"


@pytest.fixture(scope="module")
def limited_app(database_url, tmp_path_factory):
    app = migrated_app(database_url, str(tmp_path_factory.mktemp("limited")),
                       API_RATE_LIMIT=f"{LIMIT}/minute", RATELIMIT_STORAGE_URI="memory://")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def limited(limited_app, app):
    """The limited app on the test database (emptied by ``app``), its counts at zero."""
    with limited_app.app_context():
        limiter.reset()
        yield limited_app
        db.session.remove()


def _spend(client, headers=None, n=LIMIT):
    return [client.get(CALLS, headers=headers or {}).status_code for _ in range(n)]


def test_the_call_past_the_limit_is_a_429_problem_with_retry_after(limited):
    make = Factories()
    headers = bearer(make.applicant(), "read")
    client = limited.test_client()
    assert _spend(client, headers) == [200] * LIMIT
    response = client.get(CALLS, headers=headers)
    assert is_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Limit"] == str(LIMIT)


def test_each_token_has_its_own_count_even_from_one_address_and_one_user(limited):
    make = Factories()
    user = make.evaluator()
    first, second = bearer(user, "read"), bearer(user, "write")
    client = limited.test_client()
    _spend(client, first)
    assert client.get(CALLS, headers=first).status_code == 429
    assert _spend(client, second) == [200] * LIMIT
    # Anonymous callers from the same address have a count of their own too.
    assert client.get(CALLS).status_code == 200


def test_signed_in_users_and_anonymous_addresses_are_counted_apart(limited):
    make = Factories()
    browser, stranger = limited.test_client(), limited.test_client()
    login(browser, make.applicant())
    assert _spend(browser) == [200] * LIMIT
    assert is_problem(browser.get(CALLS), 429)
    assert _spend(stranger) == [200] * LIMIT
    assert is_problem(stranger.get(CALLS), 429)


def test_a_bad_token_is_a_401_and_does_not_spend_the_addresses_count(limited):
    client = limited.test_client()
    for _ in range(LIMIT + 2):
        assert is_problem(client.get(CALLS, headers={"Authorization": "Bearer vt_nope"}), 401)
    assert _spend(client) == [200] * LIMIT


def test_the_limit_is_shared_by_all_of_the_apis_blueprints(limited):
    make = Factories()
    secret = token_of(make.applicant(), "read")
    headers = {"Authorization": f"Bearer {secret}"}
    rules = sorted({r.rule for r in limited.url_map.iter_rules()
                    if r.rule.startswith("/api/v1/") and not r.arguments
                    and "GET" in r.methods and r.rule != CALLS})
    client = limited.test_client()
    _spend(client, headers)
    # Another blueprint's route (whatever the applicant may or may not see there) is
    # refused by the same count; without one, the calls route again.
    other = rules[0] if rules else CALLS
    assert is_problem(client.get(other, headers=headers), 429)
