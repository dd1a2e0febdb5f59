"""The account services: password policy, registration, sessions, invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD
from vouchers.extensions import db
from vouchers.models import ChangeRecord, Invitation, User
from vouchers.models.base import utcnow
from vouchers.services import accounts, passwords
from vouchers.services.errors import InvalidInput, NotAllowed

GOOD = "tulip-lantern-orbit-42"


@pytest.mark.parametrize("password", [
    "short-pass",                   # under 12 characters
    "password1234",                 # common word + digits
    "Password2024!",                # capitalised, decorated
    "P@ssw0rd2024",                 # l33t spelling
    "qwertyuiop12",                 # keyboard row
    "1qaz2wsx3edc",                 # keyboard columns
    "123456789012",                 # run of digits
    "abcdefghijklm",                # run of letters
    "abcabcabcabc",                 # repetition
    "dragondragon",                 # repeated common word
    "iloveyou1234!",                # common phrase + digits
    "vouchers2024!",                # this site's own word
    "aaaaaaaaaaaab",                # too few different characters
    "trustno1trustno1",             # repeated common password
])
def test_weak_passwords_are_refused_with_a_reason(app, password):
    problem = passwords.password_problem(password)
    assert problem is not None and problem.endswith(".")


def test_passwords_built_from_the_users_identity_are_refused(app):
    assert "e-mail" in passwords.password_problem("jdoe-at-work-2024", email="jdoe@sme.example")
    assert "name" in passwords.password_problem("AnnaKowalski1980", name="Anna Kowalski")


@pytest.mark.parametrize("password", [
    GOOD, PASSWORD, "correct horse battery", "Gr8 tide pools at dawn", "839104-225817-66",
    "demo-manager-pass",
])
def test_reasonable_passwords_are_accepted(app, password):
    assert passwords.password_problem(password, email="anna@sme.example",
                                      name="Anna Kowalski") is None


def test_common_password_list_is_shipped_and_large(app):
    common = passwords.common_passwords()
    assert len(common) > 3000
    assert {"password", "123456", "qwerty", "iloveyou", "sunshine"} <= common


def test_register_applicant_hashes_the_password_and_finds_by_email_case_insensitively(app):
    user = accounts.register_applicant(email="Anna@SME.example", name="Anna", password=GOOD)
    db.session.commit()
    assert user.role == "applicant"
    assert GOOD not in user.password_hash
    assert accounts.find_by_email("  anna@sme.EXAMPLE ") == user
    with pytest.raises(InvalidInput, match="already exists"):
        accounts.register_applicant(email="ANNA@sme.example", name="Other", password=GOOD)


@pytest.mark.parametrize("email", ["no-at-sign", "two@@x.example", "a@nodot", "sp ace@x.example"])
def test_register_refuses_an_invalid_email(app, email):
    with pytest.raises(InvalidInput, match="valid e-mail"):
        accounts.register_applicant(email=email, name="Anna", password=GOOD)
    assert db.session.scalar(select(User)) is None


def test_authenticate(app, make):
    user = make.applicant()
    assert accounts.authenticate(user.email.upper(), PASSWORD) == user
    with pytest.raises(accounts.LoginRefused, match="wrong"):
        accounts.authenticate(user.email, "not-the-password")
    with pytest.raises(accounts.LoginRefused, match="wrong"):
        accounts.authenticate("nobody@test.example", PASSWORD)
    user.enabled = False
    db.session.commit()
    with pytest.raises(accounts.AccountDisabled):
        accounts.authenticate(user.email, PASSWORD)


def test_change_password_needs_the_current_one_and_ends_sessions(app, make):
    user = make.applicant()
    generation = user.session_generation
    with pytest.raises(accounts.WrongPassword):
        accounts.change_password(user, "not-the-password", GOOD)
    with pytest.raises(InvalidInput, match="common"):
        accounts.change_password(user, PASSWORD, "password12345")
    assert user.session_generation == generation
    accounts.change_password(user, PASSWORD, GOOD)
    db.session.commit()
    assert user.session_generation == generation + 1
    assert accounts.verify_password(user, GOOD) and not accounts.verify_password(user, PASSWORD)


def test_disable_and_enable(app, make):
    manager, evaluator = make.manager(), make.evaluator()
    generation = evaluator.session_generation
    accounts.disable_account(evaluator, manager)
    db.session.commit()
    assert not evaluator.enabled and evaluator.session_generation == generation + 1
    with pytest.raises(InvalidInput, match="already disabled"):
        accounts.disable_account(evaluator, manager)
    accounts.enable_account(evaluator, manager)
    assert evaluator.enabled
    with pytest.raises(NotAllowed, match="your own"):
        accounts.disable_account(manager, manager)
    db.session.commit()
    records = db.session.scalars(select(ChangeRecord).order_by(ChangeRecord.id)).all()
    assert [(r.subject_type, r.subject_id, r.action, r.actor_id) for r in records] == [
        ("user", evaluator.id, "disabled", manager.id),
        ("user", evaluator.id, "enabled", manager.id)]


def test_account_services_check_who_asks(app, make):
    """A CLI command or a future API cannot skip the policy: the services check."""
    manager, evaluator, applicant = make.manager(), make.evaluator(), make.applicant()
    invitation, _ = accounts.create_invitation(by=manager, email="eva@agency.example",
                                               name="Eva", role="evaluator")
    db.session.commit()
    with pytest.raises(NotAllowed):
        accounts.create_invitation(by=evaluator, email="x@agency.example", name="X",
                                   role="manager")
    with pytest.raises(NotAllowed):
        accounts.disable_account(applicant, evaluator)
    with pytest.raises(NotAllowed):
        accounts.revoke_invitation(invitation, applicant)
    accounts.disable_account(applicant, manager)
    db.session.commit()
    with pytest.raises(NotAllowed):
        accounts.enable_account(applicant, evaluator)
    db.session.expire_all()
    assert not db.session.get(User, applicant.id).enabled
    assert db.session.get(Invitation, invitation.id).revoked_at is None
    assert len(accounts.pending_invitations()) == 1


@pytest.mark.parametrize("name", ["Eva\u200bLund", "Eva \u202eLund", "   ", "E" * 201])
def test_names_are_checked_as_one_visible_line(app, make, name):
    with pytest.raises(InvalidInput):
        accounts.create_invitation(by=make.manager(), email="eva@agency.example", name=name,
                                   role="evaluator")
    with pytest.raises(InvalidInput):
        accounts.register_applicant(email="anna@sme.example", name=name, password=GOOD)
    assert db.session.scalar(select(Invitation)) is None
    assert accounts.find_by_email("anna@sme.example") is None


def test_disabling_a_manager_withdraws_the_invitations_they_handed_out(app, make):
    manager, colleague = make.manager(), make.manager()
    invitation, token = accounts.create_invitation(by=manager, email="sock@x.example",
                                                   name="Sock Puppet", role="manager")
    db.session.commit()
    accounts.disable_account(manager, colleague)
    db.session.commit()
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None
    with pytest.raises(InvalidInput, match="withdrawn"):
        accounts.accept_invitation(accounts.find_invitation(token), GOOD)
    assert accounts.find_by_email("sock@x.example") is None


def test_invitation_stores_only_a_hash_and_works_once(app, make):
    manager = make.manager()
    invitation, token = accounts.create_invitation(by=manager, email="eva@agency.example",
                                                   name="Eva Lund", role="evaluator")
    db.session.commit()
    stored = db.session.execute(select(Invitation.__table__)).one()
    assert token not in [str(v) for v in stored]
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    assert accounts.find_invitation(token) == invitation
    assert accounts.find_invitation(token + "x") is None

    user = accounts.accept_invitation(invitation, GOOD)
    db.session.commit()
    assert (user.role, user.name, user.email) == ("evaluator", "Eva Lund", "eva@agency.example")
    assert invitation.used_at is not None and invitation.user_id == user.id
    with pytest.raises(InvalidInput, match="already been used"):
        accounts.accept_invitation(invitation, GOOD)


def test_invitation_refusals(app, make):
    manager = make.manager()
    existing = make.evaluator()
    with pytest.raises(InvalidInput, match="already exists"):
        accounts.create_invitation(by=manager, email=existing.email.upper(), name="X",
                                   role="evaluator")
    with pytest.raises(InvalidInput, match="applicants register"):
        accounts.create_invitation(by=manager, email="a@b.example", name="X", role="applicant")

    past = utcnow() - timedelta(days=8)
    expired, _ = accounts.create_invitation(by=manager, email="old@agency.example", name="Old",
                                            role="manager", now=past)
    with pytest.raises(InvalidInput, match="expired"):
        accounts.accept_invitation(expired, GOOD)

    invitation, _ = accounts.create_invitation(by=manager, email="eva@agency.example",
                                               name="Eva", role="evaluator")
    with pytest.raises(InvalidInput, match="common"):
        accounts.accept_invitation(invitation, "password12345")
    assert invitation.used_at is None
    assert db.session.scalar(select(User).where(User.email == "eva@agency.example")) is None


def test_a_new_invitation_withdraws_the_earlier_one(app, make):
    manager = make.manager()
    first, _ = accounts.create_invitation(by=manager, email="eva@agency.example", name="Eva",
                                          role="evaluator")
    second, _ = accounts.create_invitation(by=manager, email="EVA@agency.example", name="Eva",
                                           role="manager")
    db.session.commit()
    assert first.revoked_at is not None
    assert accounts.pending_invitations() == [second]
    with pytest.raises(InvalidInput, match="withdrawn"):
        accounts.accept_invitation(first, GOOD)


def test_cli_create_user_applies_the_password_policy(app, runner):
    result = runner.invoke(args=["create-user", "--role", "manager", "--email", "m@x.example",
                                 "--name", "Mia"], input="password1234\npassword1234\n")
    assert result.exit_code != 0 and "common" in result.output
    assert accounts.find_by_email("m@x.example") is None
    result = runner.invoke(args=["create-user", "--role", "manager", "--email", "m@x.example",
                                 "--name", "Mia"], input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert accounts.find_by_email("m@x.example").role == "manager"
