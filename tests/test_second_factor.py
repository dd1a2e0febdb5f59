"""Two-factor sign-in, the service (services/totp.py): the secret encrypted at rest, codes
of the current step and its neighbours, no replay, single-use recovery codes (also when two
uses race), wrong codes throttled like passwords, a manager's audited reset, who must have
a second factor."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from tests.helpers import at_once
from tests.matrix_cases_second_factor import ADDRESS, SECRET, code_at, code_now, enrol
from vouchers import policy
from vouchers.extensions import db
from vouchers.models import ChangeRecord, FailedLogin, RecoveryCode, User
from vouchers.services import logins, totp
from vouchers.services.errors import InvalidInput, NotAllowed


def _reload(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_secret_is_stored_encrypted_and_only_confirmed_by_a_code(make):
    user = make.applicant()
    secret = totp.begin_enrolment(user)
    db.session.commit()
    assert len(secret) == 32 and secret not in user.totp_secret
    assert totp.pending_secret(user) == secret and not totp.is_enabled(user)
    with pytest.raises(totp.WrongCode, match="not right"):
        totp.confirm_enrolment(user, "000000" if code_now(secret) != "000000" else "111111",
                               ADDRESS)
    assert not totp.is_enabled(_reload(user))
    codes = totp.confirm_enrolment(user, code_now(secret), ADDRESS)
    assert totp.is_enabled(user) and totp.pending_secret(user) is None
    assert len(codes) == len(set(codes)) == 10


def test_the_qr_code_is_an_inline_svg_of_the_otpauth_uri(app, make):
    user = make.manager()
    uri = totp.provisioning_uri(user, SECRET)
    assert uri.startswith("otpauth://totp/") and f"secret={SECRET}" in uri
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg") and "<script" not in svg


def test_recovery_codes_are_kept_as_sha256_only(make):
    user = make.evaluator()
    codes = enrol(user)
    stored = set(db.session.scalars(select(RecoveryCode.code_hash)
                                    .where(RecoveryCode.user_id == user.id)))
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}


def test_a_code_of_the_step_before_or_after_is_accepted_two_steps_off_is_not(make):
    user = make.applicant()
    enrol(user)  # with the code of the step before now
    now = datetime.now(UTC)
    with pytest.raises(totp.WrongCode):
        totp.verify(user, pyotp.TOTP(SECRET).at(now - timedelta(seconds=60)), ADDRESS, now)
    with pytest.raises(totp.WrongCode):
        totp.verify(user, pyotp.TOTP(SECRET).at(now + timedelta(seconds=60)), ADDRESS, now)
    assert totp.verify(user, pyotp.TOTP(SECRET).at(now + timedelta(seconds=30)), ADDRESS,
                       now) == "code"


def test_a_used_code_is_refused_and_so_is_an_earlier_one(make):
    user = make.manager()
    enrol(user)
    code = code_now()
    assert totp.verify(user, f" {code[:3]} {code[3:]} ", ADDRESS) == "code"  # spaces ignored
    db.session.commit()
    with pytest.raises(totp.WrongCode, match="used already"):
        totp.verify(user, code, ADDRESS)
    assert totp.verify(user, code_at(1), ADDRESS) == "code"
    with pytest.raises(totp.WrongCode, match="used already"):
        totp.verify(user, code, ADDRESS)  # the step before the last accepted one


def test_the_same_code_twice_at_once_wins_once(app, make):
    user = make.manager()
    enrol(user)
    code, user_id = code_now(), user.id
    outcomes = at_once(app, [lambda: totp.verify(db.session.get(User, user_id), code,
                                                 ADDRESS)] * 2)
    assert sorted(outcomes) == ["code", f"refused: {totp.USED_CODE}"]


def test_a_recovery_code_works_once(make):
    user = make.manager()
    first, *_ = enrol(user)
    assert totp.verify(user, first.upper(), ADDRESS) == "recovery"
    assert totp.recovery_codes_left(user) == 9
    with pytest.raises(totp.WrongCode, match="not right"):
        totp.verify(user, first, ADDRESS)


def test_one_recovery_code_used_twice_at_once_wins_once(app, make):
    user = make.manager()
    first, *_ = enrol(user)
    user_id = user.id
    outcomes = at_once(app, [lambda: totp.verify(db.session.get(User, user_id), first,
                                                 ADDRESS)] * 2)
    assert sorted(outcomes) == ["recovery", f"refused: {totp.WRONG_CODE}"]


def test_new_recovery_codes_replace_the_old_ones(make):
    user = make.applicant()
    old = enrol(user)
    new = totp.replace_recovery_codes(user, code_now(), ADDRESS)
    assert not set(old) & set(new)
    with pytest.raises(totp.WrongCode):
        totp.verify(user, old[0], ADDRESS)
    assert totp.verify(user, new[0], ADDRESS) == "recovery"


def test_wrong_codes_are_throttled_like_passwords_and_a_password_does_not_clear_them(
        app, make):
    user = make.manager()
    enrol(user)
    wrong = "123456" if code_now() != "123456" else "654321"
    for _ in range(logins.DEFAULTS["LOGIN_FREE_FAILURES_PER_PAIR"]):
        with pytest.raises(totp.WrongCode):
            totp.verify(user, wrong, ADDRESS)
    assert db.session.scalar(select(func.count()).select_from(FailedLogin).where(
        FailedLogin.email == totp.probe(user))) == 3
    # The right password clears the pair's password failures only.
    from tests.factories import PASSWORD

    logins.log_in(user.email, PASSWORD, ADDRESS)
    with pytest.raises(logins.LoginThrottled):
        totp.verify(user, code_now(), ADDRESS)
    # Elsewhere the code still works, and a success clears that pair's failures.
    assert totp.verify(user, code_now(), "198.51.100.7") == "code"


def test_a_changed_secret_key_leaves_the_recovery_codes(app, make):
    user = make.evaluator()
    codes = enrol(user)
    app.config["SECRET_KEY"] = "another-key-after-rotation"
    with pytest.raises(totp.WrongCode, match="key has changed"):
        totp.verify(user, code_now(), ADDRESS)
    assert totp.verify(user, codes[0], ADDRESS) == "recovery"


def test_a_manager_resets_another_users_second_factor_with_a_record(make):
    manager, evaluator = make.manager(), make.evaluator()
    enrol(evaluator)
    generation = evaluator.session_generation
    totp.reset(evaluator, manager, reason="Lost phone")
    db.session.commit()
    evaluator = _reload(evaluator)
    assert evaluator.totp_secret is None and not totp.is_enabled(evaluator)
    assert evaluator.session_generation == generation + 1
    assert totp.recovery_codes_left(evaluator) == 0
    record = db.session.scalar(select(ChangeRecord).where(ChangeRecord.subject_id == evaluator.id,
                                                          ChangeRecord.subject_type == "user"))
    assert (record.action, record.actor_id, record.reason) == ("second factor reset",
                                                               manager.id, "Lost phone")
    assert record.changes == {"second_factor": ["on", "off"]}
    with pytest.raises(InvalidInput, match="no two-factor sign-in"):
        totp.reset(evaluator, manager)


def test_nobody_resets_their_own_and_only_programme_managers_reset(make):
    manager, other = make.manager(), make.manager()
    enrol(manager)
    with pytest.raises(NotAllowed):
        totp.reset(manager, manager)
    partner_manager = make.manager(partner=make.partner(make.call().programme))
    with pytest.raises(NotAllowed):
        totp.reset(manager, partner_manager)
    with pytest.raises(NotAllowed):
        totp.reset(manager, make.evaluator())
    totp.reset(manager, other)


def test_who_must_use_a_second_factor(make):
    programme = make.call().programme
    manager, evaluator, applicant = make.manager(), make.evaluator(), make.applicant()
    assert policy.must_use_second_factor(manager)
    assert not policy.must_use_second_factor(evaluator)
    assert not policy.must_use_second_factor(applicant)
    assert totp.require_for_evaluators(programme, True, manager)
    assert not totp.require_for_evaluators(programme, True, manager)  # nothing changed
    assert policy.must_use_second_factor(evaluator)
    assert not policy.must_use_second_factor(applicant)
    record = db.session.scalar(select(ChangeRecord).where(
        ChangeRecord.subject_type == "programme"))
    assert record.changes == {"evaluators_need_second_factor": ["no", "yes"]}
    with pytest.raises(NotAllowed):
        totp.require_for_evaluators(programme, False, evaluator)


def test_turning_off_needs_a_code_and_is_refused_where_required(make):
    applicant, manager = make.applicant(), make.manager()
    enrol(applicant)
    enrol(manager)
    with pytest.raises(NotAllowed):
        totp.turn_off(manager, code_now(), ADDRESS)
    with pytest.raises(totp.WrongCode):
        totp.turn_off(applicant, "not-a-code", ADDRESS)
    assert totp.is_enabled(applicant)
    totp.turn_off(applicant, code_now(), ADDRESS)
    assert not totp.is_enabled(applicant) and applicant.totp_secret is None
    assert totp.recovery_codes_left(applicant) == 0


def test_enrolling_twice_is_refused_and_odd_input_is_just_wrong(make):
    user = make.applicant()
    enrol(user)
    with pytest.raises(InvalidInput, match="already on"):
        totp.begin_enrolment(user)
    for odd in ("", None, "٣٣٣٣٣٣", "x" * 10_000, "\x00\x00", "12345", "1234567"):
        with pytest.raises(totp.WrongCode):
            totp.verify(user, odd, f"198.51.100.{len(odd or '') % 200}")


def test_a_code_is_never_accepted_for_a_step_past_the_last(make):
    """The last accepted step only moves forward: an old code cannot come back later."""
    user = make.manager()
    enrol(user)
    later = datetime.now(UTC) + timedelta(seconds=90)
    assert totp.verify(user, pyotp.TOTP(SECRET).at(later), ADDRESS, later) == "code"
    assert user.totp_last_step == int(later.timestamp()) // 30
    with pytest.raises(totp.WrongCode, match="used already"):
        totp.verify(user, pyotp.TOTP(SECRET).at(later - timedelta(seconds=30)), ADDRESS, later)
    assert time.time() < later.timestamp()
