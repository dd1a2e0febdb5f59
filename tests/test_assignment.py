"""Automatic evaluator assignment: balance, conflicts, own organisation, and the web form."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest
from sqlalchemy import event, func, select

from tests.helpers import login, snapshot
from vouchers.extensions import db
from vouchers.models import Application, Assignment, AuditRecord
from vouchers.services import reviews
from vouchers.services.assignment import auto_assign
from vouchers.services.errors import (
    ConstraintClash,
    InvalidInput,
    NotAllowed,
    TransitionNotAllowed,
)
from workflows import lifecycle as lc


@pytest.fixture
def manager(make):
    return make.manager()


def standing(application) -> set[int]:
    return set(db.session.scalars(
        select(Assignment.evaluator_id).where(Assignment.application_id == application.id,
                                              Assignment.conflict_declared_at.is_(None))
    ))


def test_load_is_balanced_with_a_deterministic_tie_break(make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    apps = [make.application("submitted", mv) for _ in range(6)]
    evaluators = [make.evaluator() for _ in range(4)]

    result = auto_assign(call, 2, manager)
    db.session.commit()

    assert result.made == 12 and result.applications == 6 and result.short == []
    load = Counter(db.session.scalars(select(Assignment.evaluator_id)))
    assert sorted(load.values()) == [3, 3, 3, 3]
    # The first application goes to the two evaluators with the lowest ids.
    assert standing(apps[0]) == {evaluators[0].id, evaluators[1].id}
    for application in apps:
        assert len(standing(application)) == 2


def test_evaluators_with_the_fewest_assignments_go_first(make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    busy, idle = make.evaluator(), make.evaluator()
    for _ in range(2):
        reviews.assign(make.application("submitted", mv), busy, manager)
    newcomer = make.application("submitted", mv)
    db.session.commit()

    auto_assign(call, 1, manager)
    db.session.commit()

    assert standing(newcomer) == {idle.id}


def test_declared_conflicts_and_the_applicants_own_organisation_are_skipped(make, manager):
    call = make.call()
    application = make.application("submitted", call.voucher_type("market_validation"))
    conflicted = make.evaluator()
    colleague = make.evaluator(organisation=application.organisation)
    outsider = make.evaluator()
    reviews.assign(application, conflicted, manager)
    reviews.declare_conflict(application, conflicted, "Shareholder.")
    db.session.commit()

    result = auto_assign(call, 2, manager)
    db.session.commit()

    assert standing(application) == {outsider.id}
    assert colleague.id not in standing(application)
    assert result.made == 1
    assert result.short == [(application.reference, 1)]


def test_a_conflict_is_replaced_and_full_applications_are_left_alone(make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    full = make.application("submitted", mv)
    short = make.application("submitted", mv)
    first, second, third = make.evaluator(), make.evaluator(), make.evaluator()
    for evaluator in (first, second):
        reviews.assign(full, evaluator, manager)
        reviews.assign(short, evaluator, manager)
    reviews.declare_conflict(short, second, "Competitor.")
    db.session.commit()

    result = auto_assign(call, 2, manager)
    db.session.commit()

    assert result.made == 1
    assert standing(full) == {first.id, second.id}
    assert standing(short) == {first.id, third.id}
    # Running again finds nothing to do.
    assert auto_assign(call, 2, manager).made == 0


def test_submitted_applications_move_under_review_with_an_audit_record(make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    application = make.application("submitted", mv)
    rejected = make.application("rejected", mv, manager=manager)
    draft = make.application("draft", mv)
    make.evaluator()
    rejected_before = standing(rejected)

    auto_assign(call, 1, manager)
    db.session.commit()

    assert application.state == "under_review"
    record = db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id).order_by(AuditRecord.id.desc())).first()
    assert (record.from_state, record.to_state, record.trigger, record.actor_id) == (
        "submitted", "under_review", "start_review", manager.id)
    assert standing(rejected) == rejected_before
    assert standing(draft) == set()


def test_only_the_calls_applications_and_active_evaluators(make, manager):
    call = make.call()
    other = make.application("submitted", make.call().voucher_type("travel"))
    mine = make.application("submitted", call.voucher_type("travel"))
    disabled = make.evaluator()
    disabled.enabled = False
    db.session.commit()
    active = make.evaluator()

    auto_assign(call, 1, manager)
    db.session.commit()

    assert standing(mine) == {active.id}
    assert standing(other) == set()


def test_a_bad_number_is_refused(make, manager):
    call = make.call()
    with pytest.raises(InvalidInput):
        auto_assign(call, 0, manager)


def test_a_fixed_number_of_queries_whatever_the_number_of_applications(make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    for _ in range(3):
        make.evaluator()

    def queries_for(n_apps: int) -> int:
        for _ in range(n_apps):
            make.application("submitted", mv)
        db.session.commit()
        # Reload what the commit expired, so only the service's own statements are counted.
        assert manager.role and call.code
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            auto_assign(call, 2, manager)
            db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    assert queries_for(2) == queries_for(8)


def test_the_form_reports_what_was_made_and_who_is_short(client, make, manager):
    login(client, manager)
    call = make.call()
    mv = call.voucher_type("market_validation")
    application = make.application("submitted", mv)
    make.evaluator()

    response = client.post(f"/manage/calls/{call.id}/auto-assign",
                           data={"per_application": "2"}, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Made 1 assignment to 1 application." in html
    assert "1 application could not get 2 evaluators" in html
    assert application.reference in html
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1

    bad = client.post(f"/manage/calls/{call.id}/auto-assign",
                      data={"per_application": "99", "return_to": "applications"})
    assert bad.status_code == 303
    assert f"/manage/applications?call={call.id}" in bad.headers["Location"]
    assert "Between 1 and 10." in client.get(bad.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 1
    assert db.session.get(Application, application.id).state == "under_review"


def test_a_guard_added_to_start_review_applies_to_automatic_assignment(make, manager,
                                                                        monkeypatch):
    call = make.call()
    mv = call.voucher_type("market_validation")
    complete = make.application("submitted", mv)
    incomplete = make.application("submitted", mv)
    incomplete.summary = ""
    db.session.commit()
    make.evaluator()
    # Say the programme decides that only complete applications go under review.
    start_review = lc.TRANSITIONS_BY_TRIGGER["start_review"]
    monkeypatch.setitem(lc.TRANSITIONS_BY_TRIGGER, "start_review", dataclasses.replace(
        start_review, guards=(*start_review.guards, lc._complete)))
    before = snapshot()

    with pytest.raises(TransitionNotAllowed,
                       match="^The application is incomplete: describe the project.$"):
        auto_assign(call, 1, manager)
    db.session.commit()

    # One application refused refuses the run: not even the complete one was assigned.
    assert snapshot() == before
    assert standing(complete) == set()
    assert db.session.get(Application, complete.id).state == "submitted"


def test_every_application_moved_gets_its_guards_run(make, manager, monkeypatch):
    call = make.call()
    mv = call.voucher_type("market_validation")
    apps = [make.application("submitted", mv) for _ in range(3)]
    make.evaluator()
    start_review = lc.TRANSITIONS_BY_TRIGGER["start_review"]
    seen = []

    def record(subject):
        seen.append(subject.state)
        return None

    monkeypatch.setitem(lc.TRANSITIONS_BY_TRIGGER, "start_review", dataclasses.replace(
        start_review, guards=(record,)))

    assert auto_assign(call, 1, manager).made == 3
    db.session.commit()

    assert seen == ["submitted"] * 3
    assert {db.session.get(Application, a.id).state for a in apps} == {"under_review"}


def test_only_a_manager_assigns_automatically(make):
    call = make.call()
    make.application("submitted", call.voucher_type("market_validation"))
    make.evaluator()
    evaluator = make.evaluator()
    before = snapshot()
    with pytest.raises(NotAllowed,
                       match="Only a lead partner's manager assigns a whole call's evaluators."):
        auto_assign(call, 1, evaluator)
    db.session.commit()
    assert snapshot() == before


def test_the_eligibility_rule_is_the_policys(make, manager, monkeypatch):
    """auto_assign asks policy.may_be_assigned, so a change to the rule applies to it."""
    from vouchers import policy

    call = make.call()
    application = make.application("submitted", call.voucher_type("market_validation"))
    refused_one, accepted = make.evaluator(), make.evaluator()
    rule = policy.may_be_assigned
    monkeypatch.setattr(policy, "may_be_assigned", lambda evaluator, app: (
        "Not this one." if evaluator.id == refused_one.id else rule(evaluator, app)))

    result = auto_assign(call, 2, manager)
    db.session.commit()

    assert standing(application) == {accepted.id}
    assert result.short == [(application.reference, 1)]


def test_a_pair_assigned_at_the_same_moment_is_a_named_clash(make, manager, monkeypatch):
    """What PostgreSQL's unique index says when another manager got there first."""
    from vouchers.services import assignment

    call = make.call()
    application = make.application("submitted", call.voucher_type("market_validation"))
    evaluator = make.evaluator()
    plan = assignment._plan

    def plan_then_someone_else_assigns(call, needs):
        planned = plan(call, needs)
        db.session.add(Assignment(application_id=application.id, evaluator_id=evaluator.id,
                                  assigned_by_id=manager.id))
        return planned

    monkeypatch.setattr(assignment, "_plan", plan_then_someone_else_assigns)
    before = snapshot()
    with pytest.raises(ConstraintClash) as exc:
        auto_assign(call, 1, manager)
    db.session.commit()
    assert exc.value.constraint == "uq_assignments_app_evaluator"
    assert exc.value.message.startswith("Another manager assigned evaluators at the same moment")
    assert snapshot() == before
