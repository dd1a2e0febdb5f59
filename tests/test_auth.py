"""Registering, logging in and out, passwords, invitations, throttling and sessions."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.account_links_support import outbox_link
from tests.factories import PASSWORD
from vouchers.auth import throttle
from vouchers.auth.views import home_url_for, safe_next
from vouchers.demo import DEMO_PASSWORDS, load_demo
from vouchers.extensions import db
from vouchers.models import FailedLogin, KnownAddress, OutboxMessage, User
from vouchers.models.base import utcnow
from vouchers.services import accounts, logins

NEW = "tulip-lantern-orbit-42"
PROTECTED = "/account/password"  # any page that needs a login


def login(client, email, password=PASSWORD, **kwargs):
    return client.post("/account/login", data={"email": email, "password": password}, **kwargs)


def logged_in(client) -> bool:
    # Not PROTECTED: a manager signed in without the second factor the role requires
    # reaches only the two-factor pages until it is set up.
    return client.get("/account/second-factor").status_code == 200


def text(response) -> str:
    return response.get_data(as_text=True)


# --- registration ------------------------------------------------------------------------

def test_applicant_registers_confirms_by_mail_and_lands_on_the_company_profile(client):
    page = client.get("/account/register")
    assert page.status_code == 200 and 'name="password"' in text(page)
    response = client.post("/account/register", data={
        "name": "Anna Kowalski", "email": "Anna@Sme.example", "password": NEW, "confirm": NEW,
        "privacy_notice": "y"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/register/sent"
    assert "We sent a link to <strong>Anna@Sme.example</strong>" in text(
        client.get("/account/register/sent"))
    user = accounts.find_by_email("anna@sme.example")
    assert user.role == "applicant" and user.name == "Anna Kowalski"
    assert NEW not in user.password_hash and accounts.verify_password(user, NEW)
    # Nobody is logged in before the mailed link is followed, not even with the password.
    assert not logged_in(client)
    assert login(client, "anna@sme.example", NEW).status_code == 422
    response = client.post(outbox_link("Anna@Sme.example", "verify_email", "/account/verify/"))
    assert response.status_code == 303 and response.headers["Location"] == "/apply/profile"
    assert logged_in(client)


@pytest.mark.parametrize("password, message", [
    ("too-short", "at least 12 characters"),
    ("password1234", "most common"),
    ("zyxwvutsrqpo", "easy pattern"),
])
def test_registration_refuses_weak_passwords_next_to_the_field(client, password, message):
    response = client.post("/account/register", data={
        "name": "Anna", "email": "anna@sme.example", "password": password, "confirm": password})
    assert response.status_code == 400
    assert message in text(response)
    assert 'id="password-errors"' in text(response)
    assert accounts.find_by_email("anna@sme.example") is None
    assert not logged_in(client)


def _register(client, email, address="127.0.0.1", name="Anna", password=NEW):
    return client.post("/account/register", data={
        "name": name, "email": email, "password": password, "confirm": password,
        "privacy_notice": "y"}, environ_base={"REMOTE_ADDR": address})


def test_a_taken_address_gets_the_same_answer_and_its_owner_is_mailed(app, client, make):
    user = make.applicant()
    taken = _register(client, user.email.upper())
    taken_page = text(client.get(taken.headers["Location"]))
    fresh = app.test_client()
    free = _register(fresh, "new@sme.example")
    assert (taken.status_code, taken.headers["Location"]) == (
        free.status_code, free.headers["Location"]) == (303, "/account/register/sent")
    assert taken_page.replace(user.email.upper(), "X") == text(
        fresh.get(free.headers["Location"])).replace("new@sme.example", "X")
    assert not logged_in(client) and not logged_in(fresh)
    # The owner hears of it; the account is as it was.
    [notice] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "already_registered")).all()
    assert notice.to_address == user.email and notice.subject == "You already have an account"
    assert "/account/login" in notice.body_text and "/account/reset" in notice.body_text
    db.session.expire_all()
    assert accounts.verify_password(user, PASSWORD) and user.name != "Anna"
    assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_a_taken_address_is_checked_and_hashed_like_a_free_one(client, make, monkeypatch):
    user = make.applicant()
    # A weak password is refused alike, whether or not the address has an account.
    for email in (user.email, "new@sme.example"):
        response = _register(client, email, password="password1234")
        assert response.status_code == 400 and "most common" in text(response)
    hashed = []
    monkeypatch.setattr(accounts, "generate_password_hash",
                        lambda password: hashed.append(password) or "x")
    _register(client, user.email)
    _register(client, "new@sme.example")
    assert hashed == [NEW, NEW]


def test_the_owner_gets_at_most_three_notices_an_hour(client, make):
    user = make.applicant()
    for i in range(5):
        assert _register(client, user.email, address=f"192.0.2.{i}").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "already_registered")) == 3


def test_mismatched_passwords_are_refused(client):
    response = client.post("/account/register", data={
        "name": "Anna", "email": "new@sme.example", "password": NEW, "confirm": NEW + "x"})
    assert response.status_code == 400 and "The two passwords differ" in text(response)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_registering_is_throttled_per_address(client, make):
    users = [make.applicant() for _ in range(2)]
    db.session.add_all([FailedLogin(email=f"guess{i}@sme.example", address="203.0.113.7",
                                    attempted_at=utcnow()) for i in range(17)])
    db.session.commit()
    # Each registration counts, whether or not the address has an account: 20 failures.
    for email in [u.email for u in users] + ["first@sme.example"]:
        assert _register(client, email, address="203.0.113.7").status_code == 303
    response = _register(client, "anna@sme.example", address="203.0.113.7")
    assert response.status_code == 429
    assert "Too many requests from your network; try again in" in text(response)
    assert accounts.find_by_email("anna@sme.example") is None
    # Another address registers as usual.
    assert _register(client, "anna@sme.example", address="198.51.100.1").status_code == 303
    assert accounts.find_by_email("anna@sme.example") is not None


# --- logging in --------------------------------------------------------------------------

@pytest.mark.parametrize("role, prefix", [
    ("applicant", "/apply"), ("evaluator", "/evaluate"), ("manager", "/manage")])
def test_login_sends_each_role_home_and_is_logged(app, client, make, caplog, role, prefix):
    user = make.user(role)
    with caplog.at_level(logging.INFO, logger="vouchers"):
        response = login(client, user.email.upper())
    assert response.status_code == 303
    with app.test_request_context():
        expected = home_url_for(user)
    assert response.headers["Location"] == expected and expected.startswith(prefix)
    assert any("login:" in r.getMessage() and user.email in r.getMessage()
               for r in caplog.records)
    assert logged_in(client)


def test_home_falls_back_to_the_front_page(app):
    with app.test_request_context():
        assert home_url_for(User(role="nonsense")) == "/"


def test_wrong_password_is_refused_and_logged(client, make, caplog):
    user = make.applicant()
    with caplog.at_level(logging.INFO, logger="vouchers"):
        response = login(client, user.email, "not-the-password")
    assert response.status_code == 422
    assert "The e-mail address or the password is wrong." in text(response)
    assert any(r.levelno == logging.WARNING and "failed login" in r.getMessage()
               and user.email in r.getMessage() for r in caplog.records)
    assert not logged_in(client)


def test_unknown_address_gets_the_same_answer(client):
    response = login(client, "nobody@nowhere.example")
    assert "The e-mail address or the password is wrong." in text(response)


def test_disabled_account_cannot_log_in(client, make):
    user = make.evaluator()
    user.enabled = False
    db.session.commit()
    response = login(client, user.email)
    assert "This account is disabled" in text(response)
    assert not logged_in(client)


def test_demo_users_can_log_in(app, client):
    load_demo()
    db.session.commit()
    for email, role in [("manager@demo.example", "manager"),
                        ("evaluator1@demo.example", "evaluator"),
                        ("applicant1@demo.example", "applicant")]:
        response = login(client, email, DEMO_PASSWORDS[role])
        assert response.status_code == 303, email
        assert logged_in(client)
        client.post("/account/logout")


def test_anonymous_visitor_is_sent_to_login_and_back(client, make):
    manager = make.manager()
    response = client.get("/manage/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")
    page = client.get(response.headers["Location"])
    assert "Please log in to see this page." in text(page)
    response = login(client, manager.email, query_string={"next": "/manage/users"})
    assert response.headers["Location"] == "/manage/users"


@pytest.mark.parametrize("target", [
    "//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "evil.example", "/\t/evil.example", ""])
def test_next_only_accepts_paths_on_this_site(client, make, target):
    assert safe_next(target) is None
    user = make.applicant()
    response = login(client, user.email, query_string={"next": target})
    assert response.headers["Location"] == "/apply/"


def test_logged_in_user_visiting_login_goes_home(client, make):
    user = make.manager()
    login(client, user.email)
    assert client.get("/account/login").headers["Location"] == "/manage/"


# --- throttling --------------------------------------------------------------------------

HOME, STRANGER = "192.0.2.10", "203.0.113.66"


def _fail(client, email, times, address="127.0.0.1"):
    for _ in range(times):
        response = login(client, email, "not-the-password",
                         environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 422


def _seed_failures(count, address=None, email=None, at=None):
    # Recorded directly: each refused login hashes on purpose slowly.
    at = at or utcnow()
    db.session.add_all([FailedLogin(email=email or f"guess{i}@sme.example",
                                    address=address or f"198.51.100.{i % 250}",
                                    attempted_at=at) for i in range(count)])
    db.session.commit()


def test_failures_from_one_address_make_that_pair_wait(client, make, caplog):
    user = make.applicant()
    _fail(client, user.email, 3, address=STRANGER)
    with caplog.at_level(logging.INFO, logger="vouchers"):
        # Even the right password: this pair now waits 2 seconds.
        response = login(client, user.email.upper(), environ_base={"REMOTE_ADDR": STRANGER})
    assert response.status_code == 429
    assert "Too many failed attempts to log in" in text(response)
    # Two seconds after the third failure (less the time the request took).
    assert 1 <= int(response.headers["Retry-After"]) <= 2
    assert f"try again in {response.headers['Retry-After']} second" in text(response)
    assert any("throttled" in r.getMessage() for r in caplog.records)
    assert not logged_in(client)
    # A throttled attempt is not counted as a failure.
    assert db.session.scalar(select(func.count()).select_from(FailedLogin)) == 3
    # The owner, from anywhere else, is not affected.
    assert login(client, user.email, environ_base={"REMOTE_ADDR": HOME}).status_code == 303


@pytest.mark.parametrize("failures, wait", [
    (1, 0), (2, 0), (3, 2), (4, 4), (5, 8), (8, 64), (12, 900), (40, 900)])
def test_the_pairs_wait_grows_with_its_failures_and_is_capped(app, failures, wait):
    assert logins.pair_delay(failures) == wait


def test_the_pair_may_try_again_once_its_wait_is_over(app, make):
    user = make.applicant()
    start = utcnow() - timedelta(minutes=5)
    _seed_failures(5, address=STRANGER, email=user.email, at=start)
    with pytest.raises(logins.LoginThrottled) as refused:
        logins.check(user.email, STRANGER, now=start + timedelta(seconds=3))
    assert refused.value.retry_after == 5 and refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "5"}
    logins.check(user.email, STRANGER, now=start + timedelta(seconds=8))
    logins.check(user.email, HOME, now=start + timedelta(seconds=3))


def test_twenty_failures_from_one_address_pause_logins_from_it(client, make):
    _seed_failures(19, "203.0.113.5")
    _fail(client, "one-more@sme.example", 1, address="203.0.113.5")
    user = make.applicant()
    response = login(client, user.email, environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert response.status_code == 429
    assert 840 < int(response.headers["Retry-After"]) <= 900
    assert "try again in 15 minutes" in text(response)
    assert login(client, user.email, environ_base={"REMOTE_ADDR": "203.0.113.6"}
                 ).status_code == 303


def test_ipv6_addresses_are_counted_per_network(client, make):
    _seed_failures(19, throttle.address_key("2001:db8:1:2::1"))
    _fail(client, "one-more@sme.example", 1, address="2001:db8:1:2::abcd")
    user = make.applicant()
    assert login(client, user.email, environ_base={"REMOTE_ADDR": "2001:db8:1:2::ffff"}
                 ).status_code == 429
    assert login(client, user.email, environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"}
                 ).status_code == 303


def test_strangers_guessing_from_many_addresses_never_lock_out_the_owner_at_home(
        app, client, make):
    user = make.manager()
    assert login(client, user.email, environ_base={"REMOTE_ADDR": HOME}).status_code == 303
    client.post("/account/logout")
    known = db.session.scalars(select(KnownAddress.address)
                               .where(KnownAddress.user_id == user.id)).all()
    assert known == [HOME]
    # A distributed attack: 150 wrong guesses at the manager from 150 other addresses,
    # more than the account-wide limit; and the stranger's own pair is waiting.
    _fail(client, user.email, 3, address=STRANGER)
    assert login(client, user.email, environ_base={"REMOTE_ADDR": STRANGER}
                 ).status_code == 429
    _seed_failures(150, email=user.email)
    # From a new address the account-wide limit holds the guessing back...
    elsewhere = login(client, user.email, environ_base={"REMOTE_ADDR": "198.51.100.251"})
    assert elsewhere.status_code == 429 and not logged_in(client)
    # ... but the right password from the owner's usual address goes through.
    assert login(client, user.email, environ_base={"REMOTE_ADDR": HOME}).status_code == 303
    assert logged_in(client)


def test_a_manager_unlocks_an_account_that_distributed_guessing_paused(app, client, make):
    user, manager = make.applicant(), make.manager()
    _seed_failures(100, email=user.email)
    assert login(client, user.email).status_code == 429
    assert logins.unlock_account(user, manager) == 100
    db.session.commit()
    assert login(client, user.email).status_code == 303


def test_failures_older_than_the_window_do_not_count(client, make):
    user = make.applicant()
    _seed_failures(150, address="127.0.0.1", email=user.email,
                   at=utcnow() - timedelta(minutes=16))
    assert login(client, user.email).status_code == 303


def test_a_successful_login_clears_that_pairs_failures_only(client, make):
    user = make.applicant()
    _fail(client, user.email, 2, address=HOME)
    _fail(client, user.email, 2, address=STRANGER)
    response = login(client, user.email, environ_base={"REMOTE_ADDR": HOME})
    assert response.status_code == 303
    left = db.session.scalars(select(FailedLogin.address)).all()
    assert left == [STRANGER, STRANGER]
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None


# --- sessions end on the server ----------------------------------------------------------

def test_logout_ends_the_session_and_an_old_cookie_stops_working(app, client, make, caplog):
    user = make.applicant()
    login(client, user.email)
    stolen = client.get_cookie("session").value
    with caplog.at_level(logging.INFO, logger="vouchers"):
        response = client.post("/account/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert any("logout:" in r.getMessage() for r in caplog.records)
    assert "You are logged out." in text(client.get("/"))
    assert not logged_in(client)
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not logged_in(replay)


def test_logout_ends_the_users_other_sessions_too(app, make):
    user = make.manager()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user.email)
    login(phone, user.email)
    assert logged_in(phone)
    laptop.post("/account/logout")
    assert not logged_in(phone)


def test_logout_is_post_only(client, make):
    user = make.applicant()
    login(client, user.email)
    assert client.get("/account/logout").status_code == 405
    assert logged_in(client)


# --- changing the password ---------------------------------------------------------------

def test_change_password_keeps_this_session_and_ends_the_others(app, client, make):
    user = make.evaluator()
    other = app.test_client()
    login(client, user.email)
    login(other, user.email)
    response = client.post(PROTECTED, data={"current_password": PASSWORD,
                                            "new_password": NEW, "confirm": NEW})
    assert response.status_code == 303
    assert "Your password is changed" in text(client.get("/"))
    assert logged_in(client)
    assert not logged_in(other)
    client.post("/account/logout")
    assert login(client, user.email, PASSWORD).status_code == 422
    assert login(client, user.email, NEW).status_code == 303


def test_change_password_refusals(client, make):
    user = make.applicant()
    login(client, user.email)
    response = client.post(PROTECTED, data={"current_password": "wrong-one-entirely",
                                            "new_password": NEW, "confirm": NEW})
    assert response.status_code == 422 and "Your current password is wrong." in text(response)
    assert 'id="current_password-errors"' in text(response)  # next to its field
    assert db.session.scalar(select(func.count()).select_from(FailedLogin)) == 1
    response = client.post(PROTECTED, data={"current_password": PASSWORD,
                                            "new_password": "password1234",
                                            "confirm": "password1234"})
    assert response.status_code == 400 and "most common" in text(response)
    db.session.expire_all()
    assert accounts.verify_password(db.session.get(User, user.id), PASSWORD)
    assert logged_in(client)


def test_guessing_the_current_password_is_throttled(client, make):
    user = make.applicant()
    login(client, user.email)
    for _ in range(5):
        client.post(PROTECTED, data={"current_password": "wrong-one-entirely",
                                     "new_password": NEW, "confirm": NEW})
    response = client.post(PROTECTED, data={"current_password": PASSWORD,
                                            "new_password": NEW, "confirm": NEW})
    assert response.status_code == 429
    db.session.expire_all()
    assert accounts.verify_password(db.session.get(User, user.id), PASSWORD)


# --- invitations -------------------------------------------------------------------------

def _invite(make, role="evaluator", **kwargs):
    invitation, token = accounts.create_invitation(by=make.manager(), email="eva@agency.example",
                                                   name="Eva Lund", role=role, **kwargs)
    db.session.commit()
    return invitation, f"/account/invitation/{token}"


def test_invitation_link_sets_the_password_once(client, make, caplog):
    _, link = _invite(make, role="manager")
    page = client.get(link)
    assert page.status_code == 200 and "eva@agency.example" in text(page)
    with caplog.at_level(logging.INFO, logger="vouchers"):
        response = client.post(link, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 303 and response.headers["Location"].startswith("/manage")
    assert accounts.find_by_email("eva@agency.example").role == "manager"
    assert logged_in(client)
    assert any("invitation accepted" in r.getMessage() for r in caplog.records)
    client.post("/account/logout")
    again = client.get(link)
    assert again.status_code == 410 and "already been used" in text(again)
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 410


def test_invitation_refuses_a_weak_password(client, make):
    _, link = _invite(make)
    response = client.post(link, data={"password": "password1234", "confirm": "password1234"})
    assert response.status_code == 400 and "most common" in text(response)
    assert accounts.find_by_email("eva@agency.example") is None


def test_expired_and_unknown_invitation_links(client, make):
    _, link = _invite(make, now=utcnow() - timedelta(days=8))
    response = client.get(link)
    assert response.status_code == 410 and "expired" in text(response)
    assert client.get("/account/invitation/not-a-real-token").status_code == 404


# --- the page header ---------------------------------------------------------------------

def test_header_shows_account_links(client, make):
    page = text(client.get("/"))
    assert 'href="/account/login"' in page and 'href="/account/register"' in page
    user = make.applicant()
    login(client, user.email)
    page = text(client.get("/"))
    assert user.name in page and 'href="/account/password"' in page
    assert 'action="/account/logout"' in page and 'name="csrf_token"' in page
    assert 'href="/account/login"' not in page


# --- hashing never holds SQLite's write lock ---------------------------------------------

def test_password_hashing_happens_before_the_write_lock(app, client, make, monkeypatch):
    """Hashing takes 100-250 ms on purpose; under the write lock it would stall every
    other writer (an award) behind a stream of logins."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    from vouchers.database import _WRITER

    hashed_under_lock = []

    def watch(real):
        def wrapper(*args, **kwargs):
            session = db.session()
            transaction = session.get_transaction()
            hashed_under_lock.append(transaction is not None
                                     and session.info.get(_WRITER) is transaction)
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(accounts, "check_password_hash", watch(accounts.check_password_hash))
    monkeypatch.setattr(accounts, "generate_password_hash",
                        watch(accounts.generate_password_hash))
    client.post("/account/register", data={"name": "Anna", "email": "anna@sme.example",
                                           "password": NEW, "confirm": NEW,
                                           "privacy_notice": "y"})
    # A taken address hashes too (and thrown away), also before any write.
    client.post("/account/register", data={"name": "Anna", "email": "anna@sme.example",
                                           "password": NEW, "confirm": NEW,
                                           "privacy_notice": "y"})
    client.post(outbox_link("anna@sme.example", "verify_email", "/account/verify/"))
    client.post(PROTECTED, data={"current_password": "wrong-one-entirely",
                                 "new_password": NEW + "x", "confirm": NEW + "x"})
    client.post(PROTECTED, data={"current_password": NEW, "new_password": NEW + "x",
                                 "confirm": NEW + "x"})
    client.post("/account/logout")
    login(client, "anna@sme.example", "not-the-password")
    login(client, "anna@sme.example", NEW + "x")
    client.post("/account/logout")
    _, link = _invite(make)
    client.post(link, data={"password": NEW, "confirm": NEW})
    assert len(hashed_under_lock) >= 8 and not any(hashed_under_lock)
