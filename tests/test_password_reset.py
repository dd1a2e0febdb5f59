"""A forgotten password: the link comes by e-mail (a real SMTP server, tests/mail_server.py),
works once, for an hour, and the answer never tells whether an address has an account."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.account_links_support import GOOD_NEW, body, link_in, login, text, token_of
from tests.helpers import at_once
from tests.helpers import login as session_login
from vouchers.extensions import db
from vouchers.models import AccountToken, ChangeRecord, FailedLogin, OutboxMessage
from vouchers.models.base import utcnow
from vouchers.services import account_links, account_tokens, accounts, logins

ASKED = "If an account exists for that address, we sent a link to it; it works for 1 hour."
STRANGER = "203.0.113.66"


def ask(client, email, address="127.0.0.1"):
    return client.post("/account/reset", data={"email": email},
                       environ_base={"REMOTE_ADDR": address})


def reset_link(deliver, user) -> str:
    [message] = deliver()
    assert message["To"] == user.email and message["Subject"] == "Reset your password"
    return link_in(message, "/account/reset/")


def test_the_login_page_links_to_the_reset_page(client):
    page = text(client.get("/account/login"))
    assert "Forgot your password?" in page and 'href="/account/reset"' in page
    assert "E-mail address" in text(client.get("/account/reset"))


def test_the_whole_reset_flow(app, client, make, deliver):
    user = make.applicant()
    elsewhere = app.test_client()  # another browser, logged in before the reset
    session_login(elsewhere, user)
    assert elsewhere.get("/account/password").status_code == 200

    response = ask(client, user.email.upper())
    assert response.status_code == 303 and response.headers["Location"] == "/account/reset/sent"
    assert ASKED in text(client.get("/account/reset/sent"))
    path = reset_link(deliver, user)
    assert path.startswith("/account/reset/")

    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in text(page)
    response = client.post(path, data={"password": GOOD_NEW, "confirm": GOOD_NEW})
    assert response.status_code == 303
    assert "Log in with the new password" in text(client.get(response.headers["Location"]))

    # The new password works, the old one no longer, and the other browser is logged out.
    assert login(client, user.email, "correct-horse-battery").status_code == 422
    assert login(client, user.email, GOOD_NEW).status_code == 303
    assert elsewhere.get("/account/password").status_code == 302
    # The owner hears of it, and the account's record says who changed it.
    [notice] = deliver()
    assert notice["To"] == user.email and notice["Subject"] == "Your password was changed"
    record = db.session.scalars(select(ChangeRecord).where(
        ChangeRecord.subject_id == user.id, ChangeRecord.action == "password_reset")).one()
    assert record.actor_id == user.id


def test_a_weak_new_password_is_refused_and_the_link_still_works(client, make, deliver):
    user = make.applicant()
    ask(client, user.email)
    path = reset_link(deliver, user)
    response = client.post(path, data={"password": "password1234", "confirm": "password1234"})
    assert response.status_code == 400 and "most common" in text(response)
    assert client.post(path, data={"password": GOOD_NEW, "confirm": GOOD_NEW}
                       ).status_code == 303


def test_a_link_works_once(client, make, deliver):
    user = make.applicant()
    ask(client, user.email)
    path = reset_link(deliver, user)
    assert client.post(path, data={"password": GOOD_NEW, "confirm": GOOD_NEW}).status_code == 303
    for response in (client.get(path),
                     client.post(path, data={"password": GOOD_NEW + "x",
                                             "confirm": GOOD_NEW + "x"})):
        assert response.status_code == 410
        assert "no longer works" in text(response)
        assert 'href="/account/reset"' in text(response)  # ask for a new one
    db.session.expire_all()
    assert accounts.verify_password(user, GOOD_NEW)


def test_an_expired_link_is_refused(client, make, deliver):
    user = make.applicant()
    ask(client, user.email)
    path = reset_link(deliver, user)
    row = db.session.scalars(select(AccountToken)).one()
    assert row.expires_at - row.created_at == timedelta(hours=1)
    # The service's clock, an hour and a second later.
    link = account_links.reset_link(token_of(path))
    with pytest.raises(account_tokens.LinkGone, match="expired"):
        account_links.reset_password(link, GOOD_NEW, now=row.expires_at + timedelta(seconds=1))
    # The page, once the row says so.
    row.created_at, row.expires_at = row.created_at - timedelta(hours=2), utcnow()
    db.session.commit()
    response = client.post(path, data={"password": GOOD_NEW, "confirm": GOOD_NEW})
    assert response.status_code == 410 and "expired" in text(response)
    db.session.expire_all()
    assert not accounts.verify_password(user, GOOD_NEW)


def test_unknown_links_answer_the_gone_page_and_broken_ones_are_not_found(client):
    response = client.get("/account/reset/not-a-token")
    assert response.status_code == 410 and "not valid" in text(response)
    assert 'href="/account/reset"' in text(response)
    for path in ("/account/reset/" + "x" * 300, "/account/reset/bad%00", "/account/reset/a.b"):
        assert client.get(path).status_code == 404


def test_an_unknown_or_disabled_address_gets_the_same_answer_and_a_notice(
        client, make, deliver, monkeypatch):
    known, disabled = make.applicant(), make.evaluator()
    disabled.enabled = False
    db.session.commit()
    # No branch hashes a password: the answer takes the same time for all.
    hashed = []
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: hashed.append(a))
    monkeypatch.setattr(account_links, "generate_password_hash", lambda *a: hashed.append(a))
    answers = []
    for email in (known.email, "Nobody@Nowhere.example", disabled.email):
        response = ask(client, email)
        answers.append((response.status_code, response.headers["Location"],
                        text(client.get(response.headers["Location"]))))
    assert answers[0] == answers[1] == answers[2]
    assert hashed == []
    sent = {m["To"]: m for m in deliver()}
    assert sent.keys() == {known.email, "nobody@nowhere.example", disabled.email}
    assert sent[known.email]["Subject"] == "Reset your password"
    # Whoever reads the mailbox may learn that it has no account, and where to register.
    nobody = sent["nobody@nowhere.example"]
    assert nobody["Subject"] == "Password reset: no account for this address"
    assert "/account/register" in body(nobody) and "/account/reset/" not in body(nobody)
    gone = sent[disabled.email]
    assert gone["Subject"] == "Password reset: your account is disabled"
    assert "Ask a programme manager" in " ".join(body(gone).split())
    assert "/account/reset/" not in body(gone)
    assert db.session.scalar(select(func.count()).select_from(AccountToken)) == 1


def _rows() -> dict[str, int]:
    return {table: db.session.scalar(select(func.count()).select_from(model))
            for table, model in (("outbox", OutboxMessage), ("probes", FailedLogin))}


@pytest.mark.parametrize("disabled", [False, True])
def test_both_branches_write_the_same_rows(client, make, disabled):
    """Their timing cannot tell an account apart: each queues one message and counts one
    probe (the account's branch also stores its link's hash)."""
    known = make.applicant()
    other = make.evaluator()
    other.enabled = not disabled
    db.session.commit()
    ask(client, known.email)
    after_known = _rows()
    ask(client, other.email if disabled else "nobody@nowhere.example")
    after_unknown = _rows()
    assert after_known == {"outbox": 1, "probes": 1}
    assert after_unknown == {"outbox": 2, "probes": 2}


def test_a_token_is_stored_only_as_a_hash_and_the_sent_mail_is_blanked(client, make, deliver):
    user = make.applicant()
    ask(client, user.email)
    token = token_of(reset_link(deliver, user))
    row = db.session.scalars(select(AccountToken)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr([getattr(row, c.key) for c in AccountToken.__table__.columns])
    sent = db.session.scalars(select(OutboxMessage)).one()
    assert sent.status == "sent" and token not in sent.body_text + sent.body_html


def test_a_throttled_account_is_unlocked_by_the_reset(client, make, deliver):
    user = make.applicant()
    # Wrong passwords until logging in from here is paused...
    while (response := login(client, user.email, "not-the-password",
                             environ_base={"REMOTE_ADDR": STRANGER})).status_code == 422:
        pass
    assert response.status_code == 429
    # ...and guesses from many addresses pause it everywhere else too.
    db.session.add_all([FailedLogin(email=user.email, address=f"198.51.100.{i}",
                                    attempted_at=utcnow()) for i in range(100)])
    db.session.commit()
    with pytest.raises(logins.LoginThrottled):
        logins.check(user.email, "192.0.2.99")
    # Asking for a reset is not paused (it counts against the address, which has room).
    ask(client, user.email, address=STRANGER)
    path = reset_link(deliver, user)
    client.post(path, data={"password": GOOD_NEW, "confirm": GOOD_NEW})
    assert db.session.scalar(select(func.count()).select_from(FailedLogin)
                             .where(FailedLogin.email == user.email)) == 0
    assert login(client, user.email, GOOD_NEW,
                 environ_base={"REMOTE_ADDR": STRANGER}).status_code == 303


def an_hour_passes() -> None:
    for model in (AccountToken, OutboxMessage):
        db.session.execute(model.__table__.update().values(
            created_at=utcnow() - timedelta(hours=1, seconds=1)))
    db.session.commit()


@pytest.mark.parametrize("has_account", [True, False])
def test_an_address_gets_at_most_three_reset_mails_an_hour(client, make, deliver,
                                                           has_account):
    email = make.applicant().email if has_account else "nobody@nowhere.example"
    answers = {ask(client, email, address=f"192.0.2.{i}").headers["Location"]
               for i in range(5)}
    assert answers == {"/account/reset/sent"}
    assert len(deliver()) == 3
    # An hour later it may ask again.
    an_hour_passes()
    ask(client, email)
    assert len(deliver()) == 1


def test_asking_counts_against_the_address_like_failed_logins(client, make, deliver):
    user = make.applicant()
    for i in range(logins.DEFAULTS["LOGIN_MAX_FAILURES_PER_ADDRESS"]):
        assert ask(client, f"probe{i}@nowhere.example", address=STRANGER).status_code == 303
    for email in (user.email, "another@nowhere.example"):
        response = ask(client, email, address=STRANGER)
        assert response.status_code == 429
        assert "Too many requests from your network; try again in 15 minutes" in text(
            response)
        assert "attempts to log in" not in text(response)
    assert {m["To"] for m in deliver()} == {
        f"probe{i}@nowhere.example" for i in range(logins.DEFAULTS[
            "LOGIN_MAX_FAILURES_PER_ADDRESS"])}
    assert ask(client, user.email, address="192.0.2.1").status_code == 303


def test_each_link_works_until_one_is_used_then_all_stop(client, make, deliver):
    user = make.applicant()
    ask(client, user.email)
    ask(client, user.email)
    first, second = (link_in(m, "/account/reset/") for m in deliver())
    # The second request did not stop the first link (mail may arrive out of order).
    assert client.get(first).status_code == 200
    assert client.post(second, data={"password": GOOD_NEW, "confirm": GOOD_NEW}
                       ).status_code == 303
    assert client.get(first).status_code == 410


def test_a_reset_of_a_disabled_account_is_refused(client, make, deliver):
    user = make.applicant()
    ask(client, user.email)
    path = reset_link(deliver, user)
    user.enabled = False
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 410 and "disabled" in text(response)


def test_changing_the_password_tells_the_owner(client, make, deliver):
    user = make.evaluator()
    session_login(client, user)
    response = client.post("/account/password", data={
        "current_password": "correct-horse-battery", "new_password": GOOD_NEW,
        "confirm": GOOD_NEW})
    assert response.status_code == 303
    [notice] = deliver()
    assert notice["To"] == user.email and notice["Subject"] == "Your password was changed"


def test_two_uses_of_one_link_at_the_same_moment_set_one_password(app, client, make,
                                                                  deliver):
    user = make.applicant()
    ask(client, user.email)
    token = token_of(reset_link(deliver, user))
    passwords = [GOOD_NEW, GOOD_NEW + "-two"]
    outcomes = at_once(app, [
        (lambda: account_links.reset_link(token),
         lambda link, pw=pw: account_links.reset_password(link, pw).email)
        for pw in passwords])
    assert sorted(outcomes) == [user.email, (
        "refused: This link no longer works: it was used already, or a newer link replaced "
        "it. Ask for a new link on the “Forgot your password?” page.")]
    winner = passwords[outcomes.index(user.email)]
    db.session.rollback()  # a fresh read, past the snapshot SQLite kept for this session
    assert accounts.verify_password(user, winner)
    assert len(deliver()) == 1  # one notice of the change


def test_pages_with_a_token_in_their_address_send_no_referrer(client, make):
    """The token must not leave in a Referer header (to the site's own files, or to any
    site a page links to)."""
    user = make.applicant()
    unverified = make.applicant()
    unverified.email_verified_at = None
    db.session.commit()
    tokens = {purpose: account_tokens.issue(owner, purpose, **kw)[1]
              for purpose, owner, kw in (
                  (account_tokens.RESET, user, {}), (account_tokens.VERIFY, unverified, {}),
                  (account_tokens.EMAIL_CHANGE, user, {"new_email": "moved@x.example"}))}
    _, invitation = accounts.create_invitation(by=make.manager(), email="eva@x.example",
                                               name="Eva Luator", role="evaluator")
    db.session.commit()
    pages = [f"/account/reset/{tokens['reset']}", f"/account/verify/{tokens['verify']}",
             f"/account/email/{tokens['email_change']}", f"/account/invitation/{invitation}",
             "/account/reset/not-a-token"]  # the 410 page of an unknown link too
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 410), path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
    assert client.get("/account/reset").headers["Referrer-Policy"] == "same-origin"
