"""A registered applicant confirms the address through the mailed link before applying;
invited users are confirmed by accepting the invitation, which now comes by e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.account_links_support import GOOD_NEW, body, link_in, login, text
from tests.helpers import login as session_login
from vouchers.extensions import db
from vouchers.models import AccountToken, Application
from vouchers.models.base import utcnow
from vouchers.services import account_tokens, accounts, transitions
from vouchers.services.errors import InvalidInput

EMAIL = "ada@lumen-bio.example"
APPLY = {"title": "Payer meetings", "summary": "Two meetings.", "requested_amount": "20000",
         "cost_lines-0-description": "Consultant", "cost_lines-0-amount": "40000",
         "outcome": "Reimbursement", "indicators": "Two payer meetings"}


def register(client):
    return client.post("/account/register", data={"name": "Ada Founder", "email": EMAIL,
                                                  "password": GOOD_NEW, "confirm": GOOD_NEW,
                                                  "privacy_notice": "y"})


def verify_link(deliver) -> str:
    [message] = deliver()
    assert message["To"] == EMAIL and message["Subject"] == "Confirm your e-mail address"
    return link_in(message, "/account/verify/")


def six_minutes_pass() -> None:
    """The links were asked for six minutes earlier than they were."""
    for row in db.session.scalars(select(AccountToken)):
        row.created_at -= timedelta(minutes=6)
        row.expires_at -= timedelta(minutes=6)
    db.session.commit()


def _tokens(user) -> int:
    return db.session.scalar(select(func.count()).select_from(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == "verify"))


def test_a_registered_applicant_confirms_the_address_and_is_logged_in(client, make, deliver):
    cvt = make.call().voucher_type("impact")
    response = register(client)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "Check your e-mail" in page and f"We sent a link to <strong>{EMAIL}" in page
    user = accounts.find_by_email(EMAIL)
    assert user.email_verified_at is None
    path = verify_link(deliver)
    # Until the link is followed, the account cannot be used: not even with its password.
    assert client.get("/apply/").status_code == 302
    assert login(client, EMAIL, GOOD_NEW).status_code == 422

    # Opening the link shows a button; pressing it confirms the address and logs in.
    page = client.get(path)
    assert page.status_code == 200 and "Confirm my address" in text(page)
    confirmed = client.post(path)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == "/apply/profile"
    assert "Now tell us about your company" in text(client.get("/apply/profile"))
    db.session.expire_all()
    assert user.email_verified_at is not None
    user.organisation = make.organisation()
    db.session.commit()
    assert "Confirm your address" not in text(client.get("/apply/"))
    assert client.post(f"/apply/new/{cvt.id}", data=APPLY).status_code == 303
    # The link is used up; the password works from now on.
    assert client.get(path).status_code == 410
    client.post("/account/logout")
    assert login(client, EMAIL, GOOD_NEW).status_code == 303


def test_a_session_of_an_unconfirmed_account_is_reminded_and_cannot_apply(client, make):
    """Accounts registered before the link logged people in may still have sessions."""
    user = make.applicant()
    user.email_verified_at = None
    user.organisation = make.organisation()
    db.session.commit()
    cvt = make.call().voucher_type("impact")
    session_login(client, user)
    home = text(client.get("/apply/"))
    assert "Confirm your address" in home and f"We sent a link to <strong>{user.email}" in home
    assert "Send the link again" in home
    refused = client.post(f"/apply/new/{cvt.id}", data=APPLY)
    assert refused.status_code == 422
    assert "Confirm your e-mail address first" in text(refused) and user.email in text(refused)
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_the_service_refuses_a_draft_while_the_address_is_unconfirmed(app, make):
    user = make.applicant()
    user.email_verified_at = None
    cvt = make.call().voucher_type("travel")
    with pytest.raises(InvalidInput, match="Confirm your e-mail address first"):
        transitions.create_draft(user, cvt, title="Trade mission")


def test_a_link_followed_in_another_browser_confirms_and_logs_that_one_in(app, client,
                                                                         deliver):
    register(client)
    path = verify_link(deliver)
    other = app.test_client()
    response = other.post(path)
    assert response.status_code == 303
    assert "is confirmed, and you are logged in" in text(other.get(response.headers["Location"]))
    db.session.expire_all()
    assert accounts.find_by_email(EMAIL).email_verified_at is not None
    assert other.get("/account/password").status_code == 200


def test_send_the_link_again_at_most_every_five_minutes_and_five_times_a_day(
        client, deliver):
    register(client)
    first = verify_link(deliver)
    user = accounts.find_by_email(EMAIL)
    session_login(client, user)  # a session from before the link logged people in
    response = client.post("/account/verify-again")
    assert response.status_code == 303
    assert "less than 5 minutes ago" in text(client.get(response.headers["Location"]))
    assert deliver() == []
    for _ in range(4):
        six_minutes_pass()
        assert "We sent a new link" in text(client.post("/account/verify-again",
                                                        follow_redirects=True))
    assert len(deliver()) == 4 and _tokens(user) == 5
    six_minutes_pass()
    assert "5 links today" in text(client.post("/account/verify-again", follow_redirects=True))
    # Any of the links confirms; then the others stop working.
    assert client.post(first).status_code == 303
    response = client.post("/account/verify-again", follow_redirects=True)
    assert "already confirmed" in text(response)


def test_an_expired_verification_link_says_how_to_get_a_new_one(client, deliver):
    register(client)
    path = verify_link(deliver)
    row = db.session.scalars(select(AccountToken)).one()
    assert row.expires_at - row.created_at == timedelta(days=7)
    row.created_at, row.expires_at = row.created_at - timedelta(days=8), utcnow()
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "expired" in text(response) and "Forgot your password?" in text(response)
    assert 'href="/account/reset"' in text(response)


def test_a_lost_link_is_replaced_by_a_reset_which_confirms_the_address(client, deliver):
    register(client)
    verify_link(deliver)
    # Registering again with the address mails a notice saying how to go on.
    register(client)
    [notice] = deliver()
    assert notice["To"] == EMAIL and notice["Subject"] == "You already have an account"
    assert "not confirmed yet" in body(notice)
    reset_path = link_in(notice, "/account/reset")
    client.post(reset_path, data={"email": EMAIL})
    [reset] = deliver()
    path = link_in(reset, "/account/reset/")
    assert client.post(path, data={"password": GOOD_NEW + "-2", "confirm": GOOD_NEW + "-2"}
                       ).status_code == 303
    db.session.expire_all()
    assert accounts.find_by_email(EMAIL).email_verified_at is not None
    assert login(client, EMAIL, GOOD_NEW + "-2").status_code == 303


def test_invited_and_cli_accounts_are_confirmed_at_creation(app, make, runner):
    manager = make.manager()
    invitation, token = accounts.create_invitation(by=manager, email="eva@x.example",
                                                   name="Eva Luator", role="evaluator")
    user = accounts.accept_invitation(invitation, GOOD_NEW)
    assert user.email_verified_at is not None
    result = runner.invoke(args=["create-user", "--role", "manager", "--email",
                                 "ops@x.example", "--name", "Ops"], input=f"{GOOD_NEW}\n" * 2)
    assert result.exit_code == 0, result.output
    assert accounts.find_by_email("ops@x.example").email_verified_at is not None


def test_an_invitation_is_mailed_and_the_manager_may_still_copy_the_link(app, client, make,
                                                                         deliver):
    manager = make.manager()
    session_login(client, manager)
    page = client.post("/manage/users/invite", data={
        "name": "Eva Luator", "email": "eva@x.example", "role": "evaluator"},
        follow_redirects=True)
    assert page.status_code == 200
    assert "We sent the link by e-mail to" in text(page)
    [message] = deliver()
    assert message["To"] == "eva@x.example"
    path = link_in(message, "/account/invitation/")
    assert f'value="{app.config["BASE_URL"]}{path}"' in text(page)  # the same, to copy
    client.post("/account/logout")
    response = client.post(path, data={"password": GOOD_NEW, "confirm": GOOD_NEW})
    assert response.status_code == 303
    assert accounts.find_by_email("eva@x.example").role == "evaluator"


def test_a_verification_token_is_stored_only_as_a_hash(client, deliver):
    register(client)
    token = verify_link(deliver).rsplit("/", 1)[1]
    row = db.session.scalars(select(AccountToken)).one()
    assert row.token_hash == accounts.token_hash(token) and token not in repr(
        [getattr(row, c.key) for c in AccountToken.__table__.columns])
    assert account_tokens.find(token, "reset").row is None  # a link has one purpose
