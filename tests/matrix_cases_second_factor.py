"""Authorization-matrix cases of issue 13's two-factor sign-in; see tests/matrix_cases.py.

Also the helpers the second-factor tests share: ``enrol`` turns a user's second factor on
through the service with a known secret, confirmed with the previous step's code, so the
current step's code is still unused (``code_now``).
"""

from __future__ import annotations

import time

import pyotp
from sqlalchemy import select

from tests.matrix_cases import Post, case, url
from vouchers.auth.second_factor import pending_state
from vouchers.extensions import db
from vouchers.models import RecoveryCode
from vouchers.services import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ADDRESS = "192.0.2.1"


def code_at(offset_steps: int = 0, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(time.time() + offset_steps * totp.STEP_SECONDS)


def code_now(secret: str = SECRET) -> str:
    return code_at(0, secret)


def enrol(user, secret: str = SECRET) -> list[str]:
    """Turn the second factor on (committed); returns the recovery codes."""
    totp.begin_enrolment(user, secret)
    codes = totp.confirm_enrolment(user, code_at(-1, secret), ADDRESS)
    db.session.commit()
    return codes


def _hashes(user) -> set[str]:
    return set(db.session.scalars(select(RecoveryCode.code_hash)
                                  .where(RecoveryCode.user_id == user.id)))


@case("auth.second_factor_code")
def _(make):
    user = make.manager()
    enrol(user)
    step = user.totp_last_step
    return Post("anonymous", None, url("auth.second_factor_code"), data={"code": code_now()},
                session={"second_factor_pending": pending_state(user)},
                done=lambda: user.totp_last_step > step)


@case("auth.start_second_factor")
def _(make):
    user = make.applicant()
    return Post("applicant", user, url("auth.start_second_factor"),
                done=lambda: user.totp_secret is not None)


@case("auth.confirm_second_factor")
def _(make):
    user = make.evaluator()
    totp.begin_enrolment(user, SECRET)
    db.session.commit()
    return Post("evaluator", user, url("auth.confirm_second_factor"),
                data={"code": code_now()}, status=200,
                done=lambda: user.totp_enabled_at is not None)


@case("auth.new_recovery_codes")
def _(make):
    user = make.applicant()
    enrol(user)
    old = _hashes(user)
    return Post("applicant", user, url("auth.new_recovery_codes"),
                data={"renew-code": code_now()}, status=200,
                done=lambda: len(_hashes(user)) == 10 and not _hashes(user) & old)


@case("auth.turn_off_second_factor")
def _(make):
    user = make.applicant()
    enrol(user)
    return Post("applicant", user, url("auth.turn_off_second_factor"),
                data={"off-code": code_now()}, done=lambda: user.totp_enabled_at is None)


@case("manager.reset_second_factor")
def _(make):
    target = make.evaluator()
    enrol(target)
    return Post("manager", make.manager(), url("manager.reset_second_factor",
                                               user_id=target.id),
                data={"reason": "Lost phone"}, done=lambda: target.totp_secret is None)


@case("manager.evaluators_second_factor")
def _(make):
    programme = make.call().programme
    return Post("manager", make.manager(), url("manager.evaluators_second_factor",
                                               programme_id=programme.id),
                data={"required": "y"},
                done=lambda: programme.evaluators_need_second_factor)
