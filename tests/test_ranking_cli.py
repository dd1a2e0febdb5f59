"""`flask --app vouchers ranking` and `funding-line`: the proposal printed, applied only
with --confirm by a named manager account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.test_funding_line import Team, _mv, _states
from vouchers.extensions import db
from vouchers.services import funding_line


@pytest.fixture
def world(app, make):
    team = Team(make, make.manager(), make.evaluator())
    cvt = _mv(make, envelope=Decimal("60000"), threshold=Decimal("2.00"))
    applications = [team.ranked(cvt, scores=(5, 5), requested="60000"),
                    team.ranked(cvt, scores=(4, 4), requested="60000"),
                    team.ranked(cvt, scores=(1, 1), requested="10000")]
    return team, cvt, applications


def _args(cvt, *more):
    return ["--call", str(cvt.call_id), "--type", cvt.voucher_type, *more]


def test_ranking_prints_the_list_with_the_proposed_line_and_commits_nothing(runner, world):
    _, cvt, applications = world
    result = runner.invoke(args=["ranking", *_args(cvt)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Ties: higher score on the first criterion" in out
    rows = [line for line in out.splitlines() if any(a.reference in line
                                                     for a in applications)]
    assert [r.split()[1] for r in rows] == [a.reference for a in applications]
    assert "Award" in rows[0] and "€60,000.00" in rows[0]
    assert "Waitlist" in rows[1] and "Does not fit" in rows[1]
    assert "Reject" in rows[2] and "Below the call's threshold" in rows[2]
    assert "Nothing was committed" in out and "--confirm --manager EMAIL" in out
    assert _states(applications) == [("under_review", None)] * 3


def test_funding_line_without_confirm_only_prints(runner, world):
    team, cvt, applications = world
    result = runner.invoke(args=["funding-line", *_args(cvt, "--manager",
                                                        team.manager.email)])
    assert result.exit_code == 0, result.output
    assert "To apply this funding line" in result.output
    assert _states(applications) == [("under_review", None)] * 3


def test_funding_line_confirm_applies_it_as_the_manager(runner, world):
    team, cvt, applications = world
    result = runner.invoke(args=["funding-line", *_args(cvt, "--confirm", "--manager",
                                                        team.manager.email.upper())])
    assert result.exit_code == 0, result.output
    assert "Applied: 1 awarded (€60,000.00), 1 waitlisted, 1 rejected." in result.output
    assert _states(applications) == [("awarded", Decimal("60000.00")), ("waitlisted", None),
                                     ("rejected", None)]
    assert {r.actor_id for a in applications for r in a.audit_records[-1:]} == {
        team.manager.id}
    again = runner.invoke(args=["funding-line", *_args(cvt, "--confirm", "--manager",
                                                       team.manager.email)])
    assert again.exit_code == 0 and "nothing to apply" in again.output


def test_confirm_needs_a_manager_account(runner, world, make):
    team, cvt, applications = world
    missing = runner.invoke(args=["funding-line", *_args(cvt, "--confirm")])
    assert missing.exit_code == 2 and "--confirm needs --manager EMAIL" in missing.output
    evaluator = runner.invoke(args=["funding-line", *_args(cvt, "--confirm", "--manager",
                                                           team.evaluator.email)])
    assert evaluator.exit_code == 1
    assert f"{team.evaluator.email} is not an enabled manager account" in evaluator.output
    nobody = runner.invoke(args=["funding-line", *_args(cvt, "--confirm", "--manager",
                                                        "nobody@x.example")])
    assert nobody.exit_code == 1 and "not an enabled manager account" in nobody.output
    assert _states(applications) == [("under_review", None)] * 3


def test_unknown_call_or_type_is_a_clear_error(runner, world, make):
    _, cvt, _ = world
    result = runner.invoke(args=["ranking", "--call", "999999", "--type", "travel"])
    assert result.exit_code == 1 and "There is no call with id 999999." in result.output
    unknown = runner.invoke(args=["ranking", "--call", str(cvt.call_id), "--type", "space"])
    assert unknown.exit_code == 2 and "Invalid value for '--type'" in unknown.output
    call = make.call({"travel": (12, "5000", "1.00", "60000")})
    not_offered = runner.invoke(args=["ranking", "--call", str(call.id), "--type",
                                      "impact"])
    assert not_offered.exit_code == 1
    assert f"Call {call.code} offers no impact vouchers (it offers: travel)." in (
        not_offered.output)


def test_a_refused_confirmation_is_reported_and_nothing_applied(runner, world, monkeypatch):
    team, cvt, applications = world
    real = funding_line.propose
    calls = []

    def changed_meanwhile(cvt_, now=None):
        # The CLI's own reading, then a colleague's award before it confirms.
        proposal = real(cvt_, now)
        if not calls:
            from vouchers.services import transitions

            transitions.award(applications[1], team.manager, "100")
            db.session.flush()
        calls.append(1)
        return proposal

    monkeypatch.setattr(funding_line, "propose", changed_meanwhile)
    result = runner.invoke(args=["funding-line", *_args(cvt, "--confirm", "--manager",
                                                        team.manager.email)])
    assert result.exit_code == 1
    assert "The ranking changed since the proposal was made" in result.output
    db.session.rollback()
    assert _states(applications) == [("under_review", None)] * 3
