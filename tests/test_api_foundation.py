"""The API's boundary: who may call, with what, and how refusals read."""

from __future__ import annotations

from datetime import timedelta

from tests.api_support import bearer, is_problem, token_of
from tests.helpers import login
from vouchers.extensions import db
from vouchers.models import ApiToken
from vouchers.models.base import utcnow


def test_open_calls_are_public_with_their_offers_and_what_is_left(client, make):
    call = make.call()
    make.call(open_now=False)
    response = client.get("/api/v1/calls")
    assert response.status_code == 200
    [listed] = response.json
    assert listed["code"] == call.code
    offers = {o["voucher_type"]: o for o in listed["voucher_types"]}
    cvt = call.voucher_type("market_validation")
    offer = offers["market_validation"]
    assert offer["quota"] == cvt.quota
    # Money to the cent, as text: no float on the way.
    assert offer["max_amount"] == f"{cvt.max_amount:.2f}"
    assert offer["remaining_envelope"] == f"{cvt.envelope:.2f}"
    assert offer["vouchers_available"] == cvt.quota


def test_a_token_signs_the_request_in_as_its_owner(client, make):
    applicant = make.applicant()
    token = token_of(applicant, "read")
    assert client.get("/api/v1/calls", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    row = db.session.scalars(db.select(ApiToken)).one()
    db.session.refresh(row)
    assert row.last_used_at is not None
    # Only its hash is stored.
    assert token not in {row.token_hash, row.prefix}


def test_an_unknown_revoked_or_expired_token_is_401_and_never_falls_back_to_the_session(
        client, make):
    applicant = make.applicant()
    login(client, applicant)
    revoked, expired = token_of(applicant), token_of(applicant)
    rows = db.session.scalars(db.select(ApiToken).order_by(ApiToken.id)).all()
    rows[0].revoked_at = utcnow()
    rows[1].expires_at = rows[1].created_at + timedelta(seconds=1)
    rows[1].created_at -= timedelta(days=2)
    rows[1].expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    for secret in ("vt_unknown", revoked, expired, "garbage"):
        response = client.get("/api/v1/calls", headers={"Authorization": f"Bearer {secret}"})
        assert is_problem(response, 401), secret
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.get("/api/v1/calls", headers={"Authorization": "Basic abc"})
    assert is_problem(response, 401)


def test_unknown_routes_and_methods_are_problem_documents(client, make):
    headers = bearer(make.manager())
    assert is_problem(client.get("/api/v1/nothing-here", headers=headers), 404)
    assert is_problem(client.delete("/api/v1/calls", headers=headers), 405)


def test_the_document_and_its_pages_are_served_from_the_app(client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/calls" in document["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "https://" not in html.replace("https://www.w3.org", "")
    script = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    script.close()
    assert client.get("/api/docs/assets/index.html").status_code == 404
