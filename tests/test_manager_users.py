"""The manager's users and invitations pages."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD
from vouchers.extensions import db
from vouchers.models import ChangeRecord, FailedLogin, Invitation, User
from vouchers.models.base import utcnow
from vouchers.services import accounts

NEW = "tulip-lantern-orbit-42"


def login(client, user, password=PASSWORD):
    response = client.post("/account/login", data={"email": user.email, "password": password})
    assert response.status_code == 303
    from tests.helpers import second_factor_passed

    second_factor_passed(client, user)  # the manager has none: not what is tested here
    return response


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def manager_client(app, make):
    manager = make.manager()
    client = app.test_client()
    login(client, manager)
    client.manager = manager
    return client


def test_users_page_lists_accounts_with_role_and_status(manager_client, make):
    evaluator, applicant = make.evaluator(), make.applicant()
    applicant.enabled = False
    db.session.commit()
    page = text(manager_client.get("/manage/users"))
    assert evaluator.email in page and applicant.email in page
    assert applicant.organisation.legal_name in page
    row = re.search(rf"<tr>\s*<th scope=\"row\">{applicant.name}</th>.*?</tr>", page, re.S)
    assert "Disabled" in row.group(0) and "Enable" in row.group(0)
    assert '<a href="/manage/users">Users</a>' in page  # in the manager's menu


def test_users_page_filters_and_paginates(manager_client, make):
    evaluator = make.evaluator()
    for _ in range(55):
        make.applicant()
    page = text(manager_client.get("/manage/users", query_string={"role": "evaluator"}))
    assert evaluator.email in page and "applicant" not in page.split("<tbody>")[-1]
    page = text(manager_client.get("/manage/users", query_string={"q": evaluator.email.upper()}))
    assert "Accounts 1–1 of 1" in page
    page = text(manager_client.get("/manage/users", query_string={"role": "applicant"}))
    assert "Accounts 1–50 of 55" in page and "page=2" in page
    page = text(manager_client.get("/manage/users",
                                   query_string={"role": "applicant", "page": 2}))
    assert "Accounts 51–55 of 55" in page


def test_invite_an_evaluator_shows_a_working_single_use_link(app, manager_client, caplog):
    form = manager_client.get("/manage/users/invite")
    assert form.status_code == 200 and "7 days" in text(form)
    with caplog.at_level(logging.INFO, logger="vouchers"):
        response = manager_client.post("/manage/users/invite", data={
            "name": "Eva Lund", "email": "eva@agency.example", "role": "evaluator"})
    invitation = db.session.scalar(select(Invitation))
    # Post, redirect, get: reloading the page cannot invite again.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/users/invitations/{invitation.id}"
    page = manager_client.get(response.headers["Location"])
    assert page.headers["Cache-Control"] == "no-store"
    # Built from BASE_URL (links.external_url), never from the request's Host.
    base = app.config["BASE_URL"]
    link = re.search(rf'value="({re.escape(base)}/account/invitation/[\w-]+)"',
                     text(page)).group(1)
    # Shown once: drawn again, the page no longer holds it; no second invitation.
    again = text(manager_client.get(response.headers["Location"]))
    assert link not in again and "The link was shown once" in again
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1
    # The log records the invitation, never the link: the link sets a password.
    assert any(f"invitation {invitation.id} for eva@agency.example" in r.getMessage()
               for r in caplog.records)
    token = link.rsplit("/", 1)[1]
    assert not any(token in r.getMessage() for r in caplog.records)
    assert invitation.role == "evaluator" and invitation.invited_by_id == manager_client.manager.id
    assert "eva@agency.example" in text(manager_client.get("/manage/users"))  # pending

    invitee = app.test_client()
    path = link.removeprefix(base)
    response = invitee.post(path, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 303
    assert accounts.find_by_email("eva@agency.example").role == "evaluator"
    assert app.test_client().get(path).status_code == 410


def test_invitation_refusals_are_shown_next_to_the_form(manager_client, make):
    existing = make.evaluator()
    response = manager_client.post("/manage/users/invite", data={
        "name": "Again", "email": existing.email, "role": "manager"})
    assert response.status_code == 422 and "already exists" in text(response)
    response = manager_client.post("/manage/users/invite", data={
        "name": "Eva", "email": "not-an-address", "role": "evaluator"})
    assert response.status_code == 400 and "Give a valid e-mail address" in text(response)
    response = manager_client.post("/manage/users/invite", data={
        "name": "Eva", "email": "eva@agency.example", "role": "applicant"})
    assert response.status_code == 400 and "Not a valid choice" in text(response)
    # A name that reads differently from what it is (a right-to-left override) is refused.
    response = manager_client.post("/manage/users/invite", data={
        "name": "Eva \u202eLund", "email": "eva@agency.example", "role": "evaluator"})
    assert response.status_code == 422 and "direction-changing character" in text(response)
    assert db.session.scalar(select(Invitation)) is None


def test_withdrawing_an_invitation_kills_its_link(app, manager_client):
    invitation, token = accounts.create_invitation(
        by=manager_client.manager, email="eva@agency.example", name="Eva", role="evaluator")
    db.session.commit()
    response = manager_client.post(f"/manage/invitations/{invitation.id}/revoke")
    assert response.status_code == 303
    assert "is withdrawn" in text(manager_client.get("/manage/users"))
    assert app.test_client().get(f"/account/invitation/{token}").status_code == 410
    assert manager_client.post("/manage/invitations/999999/revoke").status_code == 404


def test_disabling_ends_the_users_sessions_and_login(app, manager_client, make, caplog):
    evaluator = make.evaluator()
    evaluator_client = app.test_client()
    login(evaluator_client, evaluator)
    assert evaluator_client.get("/account/password").status_code == 200

    # The list links to a confirmation page; only its form disables the account.
    page = text(manager_client.get("/manage/users"))
    assert f'href="/manage/users/{evaluator.id}/disable"' in page
    assert f'action="/manage/users/{evaluator.id}/disable"' not in page
    confirm = manager_client.get(f"/manage/users/{evaluator.id}/disable")
    assert confirm.status_code == 200 and "Disable the account of" in text(confirm)
    assert f'action="/manage/users/{evaluator.id}/disable"' in text(confirm)
    db.session.expire_all()
    assert db.session.get(User, evaluator.id).enabled  # looking at the page changed nothing

    with caplog.at_level(logging.INFO, logger="vouchers"):
        response = manager_client.post(f"/manage/users/{evaluator.id}/disable",
                                       data={"reason": "Left the agency."})
    assert response.status_code == 303
    assert "is disabled and its sessions have ended" in text(manager_client.get("/manage/users"))
    assert any("account disabled" in r.getMessage() for r in caplog.records)
    assert evaluator_client.get("/account/password").status_code == 302
    refused = evaluator_client.post("/account/login", data={"email": evaluator.email,
                                                            "password": PASSWORD})
    assert "This account is disabled" in text(refused)

    again = manager_client.post(f"/manage/users/{evaluator.id}/disable")
    assert again.status_code == 422 and "already disabled" in text(again)

    assert manager_client.post(f"/manage/users/{evaluator.id}/enable").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, evaluator.id).enabled
    login(evaluator_client, evaluator)
    records = db.session.scalars(select(ChangeRecord).where(
        ChangeRecord.subject_type == "user", ChangeRecord.subject_id == evaluator.id)
        .order_by(ChangeRecord.id)).all()
    assert [(r.action, r.actor_id) for r in records] == [
        ("disabled", manager_client.manager.id), ("enabled", manager_client.manager.id)]
    assert records[0].reason == "Left the agency."
    assert records[0].changes == {"enabled": ["yes", "no"]}


def test_a_manager_cannot_disable_their_own_account(manager_client):
    own = manager_client.manager.id
    assert manager_client.get(f"/manage/users/{own}/disable").status_code == 404
    assert manager_client.post(f"/manage/users/{own}/disable").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, own).enabled
    assert db.session.scalar(select(ChangeRecord)) is None


def test_users_page_shows_the_last_login(app, manager_client, make):
    evaluator = make.evaluator()
    page = text(manager_client.get("/manage/users"))
    assert "<th scope=\"col\">Last login</th>" in page
    row = re.search(rf"<tr>\s*<th scope=\"row\">{evaluator.name}</th>.*?</tr>", page, re.S)
    assert "Never" in row.group(0)
    login(app.test_client(), evaluator)
    db.session.expire_all()
    seen = db.session.get(User, evaluator.id).last_login_at
    assert seen is not None and (utcnow() - seen).total_seconds() < 60
    page = text(manager_client.get("/manage/users"))
    row = re.search(rf"<tr>\s*<th scope=\"row\">{evaluator.name}</th>.*?</tr>", page, re.S)
    assert "Never" not in row.group(0)


def test_a_manager_unlocks_an_account(manager_client, make):
    evaluator = make.evaluator()
    db.session.add_all([FailedLogin(email=evaluator.email, address=f"198.51.100.{i}",
                                    attempted_at=utcnow()) for i in range(7)])
    db.session.add(FailedLogin(email="someone-else@x.example", address="198.51.100.1",
                               attempted_at=utcnow()))
    db.session.commit()
    page = text(manager_client.get("/manage/users"))
    row = re.search(rf"<tr>\s*<th scope=\"row\">{evaluator.name}</th>.*?</tr>", page, re.S)
    assert "7 failed logins lately" in row.group(0) and "Unlock" in row.group(0)

    response = manager_client.post(f"/manage/users/{evaluator.id}/unlock")
    assert response.status_code == 303
    assert "failed logins of" in text(manager_client.get("/manage/users"))
    assert db.session.scalars(select(FailedLogin.email)).all() == ["someone-else@x.example"]
    record = db.session.scalar(select(ChangeRecord))
    assert (record.subject_type, record.subject_id, record.action, record.actor_id) == (
        "user", evaluator.id, "unlocked", manager_client.manager.id)
    assert record.changes == {"failed_logins": ["7", "0"]}
    # Nothing left to unlock: the refusal comes back to the list.
    response = manager_client.post(f"/manage/users/{evaluator.id}/unlock")
    assert response.status_code == 303
    assert "no failed logins to clear" in text(manager_client.get("/manage/users"))


def test_unknown_user_is_404(manager_client):
    assert manager_client.post("/manage/users/999999/disable").status_code == 404
    assert manager_client.post("/manage/users/999999/enable").status_code == 404
    assert manager_client.post("/manage/users/999999/unlock").status_code == 404
    assert manager_client.get("/manage/users/999999/disable").status_code == 404


@pytest.mark.parametrize("role", ["applicant", "evaluator"])
def test_other_roles_get_404_and_change_nothing(app, make, role):
    target = make.evaluator()
    client = app.test_client()
    login(client, make.user(role))
    assert client.get("/manage/users").status_code == 404
    assert client.get("/manage/users/invite").status_code == 404
    assert client.get(f"/manage/users/{target.id}/disable").status_code == 404
    assert client.post(f"/manage/users/{target.id}/disable").status_code == 404
    assert client.post(f"/manage/users/{target.id}/unlock").status_code == 404
    assert client.post("/manage/users/invite", data={
        "name": "X", "email": "x@agency.example", "role": "manager"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, target.id).enabled
    assert db.session.scalar(select(Invitation)) is None


def test_anonymous_is_sent_to_login(client, make):
    target = make.evaluator()
    response = client.get("/manage/users")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    client.post(f"/manage/users/{target.id}/disable")
    db.session.expire_all()
    assert db.session.get(User, target.id).enabled
