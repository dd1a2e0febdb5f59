"""A manager takes off an evaluator who has not reviewed the current version."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers import login, snapshot
from vouchers import policy
from vouchers.extensions import db
from vouchers.models import Assignment, AuditRecord
from vouchers.services import applications, reviews, transitions
from vouchers.services.errors import InvalidInput, NotAllowed, TransitionNotAllowed


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def assigned(make, manager):
    application = make.application("submitted", manager=manager)
    evaluator = make.evaluator()
    assignment = reviews.assign(application, evaluator, manager)
    db.session.commit()
    return application, evaluator, assignment


def page(response) -> str:
    return response.get_data(as_text=True)


def assignments() -> int:
    return db.session.scalar(select(func.count(Assignment.id)))


def test_the_manager_unassigns_an_evaluator_who_has_not_reviewed(client, manager, assigned):
    application, evaluator, assignment = assigned
    row_version = application.version
    login(client, manager)
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert f"/manage/assignments/{assignment.id}/unassign" in html

    response = client.post(f"/manage/assignments/{assignment.id}/unassign",
                           data={"reason": "On leave until the call closes."})

    assert response.status_code == 303
    assert reviews.assignment_of(application, evaluator) is None
    record = db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id, AuditRecord.trigger == "unassign")).one()
    assert record.from_state == record.to_state == application.state == "under_review"
    assert record.actor_id == manager.id
    assert evaluator.name in record.comment and "On leave until the call closes." in record.comment
    # The application's row moved on: a review submitted at the same moment cannot land.
    assert application.version > row_version
    after = page(client.get(response.headers["Location"]))
    assert f"{evaluator.name} unassigned." in after
    # The evaluator no longer reaches it; they may be assigned again.
    login(client, evaluator)
    assert client.get(f"/evaluate/applications/{application.id}").status_code == 404
    reviews.assign(application, evaluator, manager)


def test_an_evaluator_who_reviewed_the_current_version_stays(client, make, manager):
    application = make.application("submitted", manager=manager)
    evaluator = make.review(application, manager=manager)
    assignment = reviews.assignment_of(application, evaluator)
    login(client, manager)
    html = page(client.get(f"/manage/applications/{application.id}"))
    assert f"/manage/assignments/{assignment.id}/unassign" not in html
    before = snapshot()

    response = client.post(f"/manage/assignments/{assignment.id}/unassign")

    assert response.status_code == 303
    refused = page(client.get(response.headers["Location"]))
    assert f"{evaluator.name} has already reviewed version 1" in refused
    assert snapshot() == before
    with pytest.raises(InvalidInput, match="already reviewed"):
        reviews.unassign(assignment, manager)


def test_an_evaluator_who_reviewed_only_an_earlier_version_may_be_unassigned(make, manager):
    application = make.application("submitted", make.call().voucher_type("impact"),
                                   manager=manager)
    evaluator = make.review(application, manager=manager)
    transitions.return_for_changes(application, manager, "More detail.")
    db.session.commit()
    applications.update_draft(application, application.applicant, {"summary": "More."})
    transitions.submit(application, application.applicant)
    db.session.commit()
    assignment = reviews.assignment_of(application, evaluator)
    assert policy.can_unassign(manager, assignment)

    reviews.unassign(assignment, manager)
    db.session.commit()

    assert reviews.assignment_of(application, evaluator) is None
    # Their review of version 1 stays on record.
    assert [r.version for r in reviews.reviews_of(application)] == [1]


def test_a_declared_conflict_stays_on_record(client, manager, assigned):
    application, evaluator, assignment = assigned
    reviews.declare_conflict(application, evaluator, "My cousin runs it.")
    db.session.commit()
    assert not policy.can_unassign(manager, assignment)
    login(client, manager)

    assert client.post(f"/manage/assignments/{assignment.id}/unassign").status_code == 404
    with pytest.raises(InvalidInput, match="conflict of interest"):
        reviews.unassign(assignment, manager)
    db.session.rollback()
    assert assignments() == 1


def test_once_decided_no_evaluator_is_unassigned(client, make, manager, assigned):
    application, evaluator, assignment = assigned
    make.review(application, manager=manager)
    transitions.reject(application, manager, "Not selected.")
    db.session.commit()
    assert not policy.can_unassign(manager, assignment)
    login(client, manager)

    assert client.post(f"/manage/assignments/{assignment.id}/unassign").status_code == 404
    with pytest.raises(TransitionNotAllowed):
        reviews.unassign(assignment, manager)
    db.session.rollback()
    assert reviews.assignment_of(application, evaluator) is not None


def test_only_a_manager_unassigns(client, make, assigned):
    application, evaluator, assignment = assigned
    for user in (evaluator, make.evaluator(), application.applicant):
        assert not policy.can_unassign(user, assignment)
        login(client, user)
        assert client.post(f"/manage/assignments/{assignment.id}/unassign").status_code == 404
    with pytest.raises(NotAllowed):
        reviews.unassign(assignment, evaluator)
    db.session.rollback()
    assert assignments() == 1


def test_the_applicant_history_leaves_out_who_evaluates(make, client):
    """Unassigning names the evaluator: the applicant's history does not show that line."""
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, manager)
    db.session.commit()
    assignment = db.session.scalar(select(Assignment).where(
        Assignment.application_id == application.id))
    reviews.unassign(assignment, manager, "Asked by mistake.")
    db.session.commit()
    login(client, application.applicant)
    page = client.get(f"/apply/applications/{application.id}").get_data(as_text=True)
    assert evaluator.name not in page and "Under review" in page
    login(client, manager)
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "Unassign" in page and evaluator.name in page
