"""Fresh reviews after changes: numbered versions, what changed, and only current reviews count."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF, login
from vouchers.extensions import db
from vouchers.models import ApplicationVersion, AuditRecord
from vouchers.services import applications, attachments, review_pages, reviews, transitions
from vouchers.services import versions as versions_service
from vouchers.services.errors import InvalidInput, TransitionNotAllowed
from workflows import lifecycle as lc


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def impact(make):
    """A voucher type with no provider and no required document: only reviews decide."""
    return make.call().voucher_type("impact")


def page(response) -> str:
    return response.get_data(as_text=True)


def returned_and_changed(make, manager, cvt, *, evaluator=None):
    """Submitted, reviewed by ``evaluator``, returned, changed and resubmitted."""
    application = make.application("submitted", cvt, manager=manager)
    evaluator = make.review(application, manager=manager, evaluator=evaluator, score=4)
    transitions.return_for_changes(application, manager, "Say how you measure it.")
    db.session.commit()
    applications.update_draft(
        application, application.applicant,
        {"title": "Reimbursement, measured", "requested_amount": "40000",
         "indicators": "Two payer meetings and one signed pilot"},
        cost_lines=[("Service", "80000"), ("Payer workshop", "4000")])
    db.session.commit()
    transitions.submit(application, application.applicant)
    db.session.commit()
    return application, evaluator


def version_rows(application):
    return db.session.scalars(
        select(ApplicationVersion).where(ApplicationVersion.application_id == application.id)
        .order_by(ApplicationVersion.number)).all()


# --- numbering and snapshot ---------------------------------------------------------------


def test_each_submission_is_a_numbered_version_with_what_was_sent(make, manager):
    cvt = make.call().voucher_type("market_validation")
    application = make.draft(cvt)
    upload = FileStorage(io.BytesIO(PDF), "quote.pdf", content_type="application/pdf")
    attachments.add_attachment(application, application.applicant, upload, "application",
                               kind="quote")
    db.session.commit()

    transitions.submit(application, application.applicant)
    db.session.commit()

    assert application.submission_number == 1
    (version,) = version_rows(application)
    assert version.number == 1 and version.submitted_by_id == application.applicant_id
    snap = version.snapshot
    assert snap["title"] == application.title and snap["summary"] == application.summary
    assert snap["requested_amount"] == str(application.requested_amount)
    assert isinstance(snap["requested_amount"], str)
    provider = application.provider
    assert snap["provider"] == {"id": provider.id, "name": provider.name,
                                "region": provider.region}
    assert snap["details"] == application.details
    assert snap["cost_lines"] == [{"description": line.description, "amount": str(line.amount)}
                                  for line in application.cost_lines]
    assert snap["attachments"] == [{"name": "quote.pdf", "kind": "quote"}]
    rows = versions_service.versions_of(application)
    assert [(r.number, r.submitted_by) for r in rows] == [(1, application.applicant.name)]


def test_a_resubmission_is_version_two_and_keeps_version_one_as_it_was(make, manager, impact):
    application, _ = returned_and_changed(make, manager, impact)

    assert application.submission_number == 2
    first, second = version_rows(application)
    assert (first.number, second.number) == (1, 2)
    assert first.snapshot["title"] != second.snapshot["title"] == "Reimbursement, measured"
    assert len(first.snapshot["cost_lines"]) == 1 and len(second.snapshot["cost_lines"]) == 2


# --- what changed -------------------------------------------------------------------------


def test_the_diff_shows_changed_fields_and_cost_lines_side_by_side(make, manager, impact):
    application, _ = returned_and_changed(make, manager, impact)
    # Version 1's one line was "Service" at 200,000.00 (the type's max / 50 %).
    diff = versions_service.diff(application, 1, 2)

    fields = {f.label: (f.old, f.new) for f in diff.fields}
    assert fields["Title"][1] == "Reimbursement, measured"
    assert fields["Requested"] == ("€100,000.00", "€40,000.00")
    assert fields["Indicators"] == ("Two payer meetings", "Two payer meetings and one signed pilot")
    assert "Summary" not in fields and "Expected outcome" not in fields
    lines = [(line.kind, line.description, line.old_amount, line.new_amount)
             for line in diff.lines]
    assert lines == [("changed", "Service", Decimal("200000.00"), Decimal("80000.00")),
                     ("added", "Payer workshop", None, Decimal("4000.00"))]
    assert not diff.unchanged


def test_lines_kept_removed_and_renamed_and_files_added(make, manager):
    cvt = make.call().voucher_type("impact")
    application = make.draft(cvt, costs="100000")
    applications.update_draft(application, application.applicant, {},
                              cost_lines=[("Study", "60000"), ("Travel", "5000"),
                                          ("Report", "35000")])
    db.session.commit()
    transitions.submit(application, application.applicant)
    transitions.return_for_changes(application, manager, "Drop the travel.")
    db.session.commit()
    applications.update_draft(application, application.applicant, {},
                              cost_lines=[("Study", "60000"), ("Final report", "40000")])
    upload = FileStorage(io.BytesIO(PDF), "cv.pdf", content_type="application/pdf")
    attachments.add_attachment(application, application.applicant, upload, "application",
                               kind="cv")
    db.session.commit()
    transitions.submit(application, application.applicant)
    db.session.commit()

    diff = versions_service.diff(application, 1, 2)

    assert [(line.kind, line.description) for line in diff.lines] == [
        ("same", "Study"), ("removed", "Travel"), ("removed", "Report"),
        ("added", "Final report")]
    assert [line.kind for line in diff.changed_lines] == ["removed", "removed", "added"]
    assert [(a.kind, a.name) for a in diff.attachments] == [("added", "cv.pdf")]
    assert diff.fields == []


def test_comparing_a_version_with_itself_changes_nothing_and_a_missing_one_is_none(
        make, manager, impact):
    application = make.application("submitted", impact)
    assert versions_service.diff(application, 1, 1).unchanged
    assert versions_service.diff(application, 1, 2) is None


# --- a resubmission is judged afresh ----------------------------------------------------------


def test_a_resubmission_resets_the_figures_and_goes_back_to_its_evaluators(
        make, manager, impact):
    application, evaluator = returned_and_changed(make, manager, impact)

    assert application.state == lc.UNDER_REVIEW
    assert application.review_count == 0
    assert application.weighted_score is None and application.consensus_score is None
    assert application.divergent is False
    last = db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id).order_by(AuditRecord.id.desc())).first()
    assert (last.from_state, last.to_state, last.trigger) == (lc.SUBMITTED, lc.UNDER_REVIEW,
                                                              "start_review")
    assert last.actor_id is None and "Version 2" in last.comment
    # The old review stays, on version 1, and no longer counts.
    (old,) = reviews.reviews_of(application)
    assert old.version == 1 and not reviews.counts(old, application)
    assert reviews.review_of(application, evaluator) is None
    assert reviews.review_of(application, evaluator, version=1) == old
    # The evaluator's list asks for a review again.
    (row,) = review_pages.assignments_page(evaluator).items
    assert row.review_status == review_pages.TO_REVIEW


def test_a_resubmission_without_evaluators_waits_as_submitted(make, manager, impact):
    application = make.application("returned", impact, manager=manager)
    transitions.submit(application, application.applicant)
    db.session.commit()

    assert application.state == lc.SUBMITTED and application.submission_number == 2


def test_a_resubmitted_application_is_not_awarded_on_reviews_of_an_earlier_version(
        make, manager, impact):
    application, evaluator = returned_and_changed(make, manager, impact)

    with pytest.raises(TransitionNotAllowed, match="must have submitted a review"):
        transitions.award(application, manager, "30000")
    db.session.rollback()
    assert application.state == lc.UNDER_REVIEW

    # The same evaluator (confirmed before) reviews the new version: now it counts.
    make.review(application, manager=manager, evaluator=evaluator, score=3)
    assert application.review_count == 1
    assert application.weighted_score == Decimal("3.00")
    assert {(r.version, r.weighted_score) for r in reviews.reviews_of(application)} == {
        (1, Decimal("4.00")), (2, Decimal("3.00"))}
    transitions.award(application, manager, "30000")
    db.session.commit()
    assert application.state == lc.AWARDED


def test_the_award_action_on_the_page_is_refused_until_the_new_version_is_reviewed(
        client, make, manager, impact):
    application, evaluator = returned_and_changed(make, manager, impact)
    login(client, manager)
    url = f"/manage/applications/{application.id}/actions/award"

    refused = client.post(url, data={"award-amount": "30000"})
    assert refused.status_code == 422
    assert "At least one evaluator must have submitted a review" in page(refused)

    make.review(application, manager=manager, evaluator=evaluator)
    assert client.post(url, data={"award-amount": "30000"}).status_code == 303
    db.session.expire_all()
    assert application.state == lc.AWARDED


def test_an_evaluator_reviews_each_version_once(make, manager, impact):
    application, evaluator = returned_and_changed(make, manager, impact)
    make.review(application, manager=manager, evaluator=evaluator)

    with pytest.raises(InvalidInput, match="already submitted your review"):
        make.review(application, manager=manager, evaluator=evaluator)


# --- the pages ----------------------------------------------------------------------------


def test_the_manager_sees_versions_earlier_reviews_greyed_and_what_changed(
        client, make, manager, impact):
    application, evaluator = returned_and_changed(make, manager, impact)
    login(client, manager)

    html = page(client.get(f"/manage/applications/{application.id}"))

    assert 'id="versions-heading"' in html
    link = f"/manage/applications/{application.id}/versions/1/2"
    assert f'href="{link}"' in html
    assert "on version 1 — does not count" in html
    assert "No review of version 2 has been submitted yet." in html
    assert "Weighted average" not in html
    assert "Awaiting review of version 2 (reviewed an earlier version)" in html

    diff = page(client.get(link))
    assert "what changed from version 1 to 2" in diff
    assert "Reimbursement, measured" in diff and "Payer workshop" in diff
    assert "€40,000.00" in diff and "Added" in diff and "Amount changed" in diff
    assert client.get(f"/manage/applications/{application.id}/versions/1/3").status_code == 404


def test_the_evaluator_sees_the_versions_and_their_earlier_review_apart(
        client, make, manager, impact):
    application, evaluator = returned_and_changed(make, manager, impact)
    login(client, evaluator)

    html = page(client.get(f"/evaluate/applications/{application.id}"))

    assert "Reviews on version 1 — do not count" in html
    assert "Submit review" in html and "You review version 2" in html
    link = f"/evaluate/applications/{application.id}/versions/1/2"
    assert f'href="{link}"' in html
    diff = client.get(link)
    assert diff.status_code == 200 and "Payer workshop" in page(diff)


def test_the_evaluator_page_of_a_single_version_lists_no_versions(client, make, manager, impact):
    application = make.application("submitted", impact)
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, manager)
    reviews.confirm_no_conflict(application, evaluator)
    db.session.commit()
    login(client, evaluator)

    assert 'id="versions-heading"' not in page(
        client.get(f"/evaluate/applications/{application.id}"))


def test_others_cannot_compare_versions(client, make, manager, impact):
    application, _ = returned_and_changed(make, manager, impact)
    path = f"/applications/{application.id}/versions/1/2"
    for user, url in ((make.evaluator(), f"/evaluate{path}"),
                      (application.applicant, f"/manage{path}"),
                      (make.applicant(), f"/evaluate{path}")):
        login(client, user)
        assert client.get(url).status_code == 404


# --- the lifecycle: the system may start a review, and nothing else ----------------------------


def test_the_system_may_start_a_review_and_do_nothing_else():
    for t in lc.TRANSITIONS:
        allowed = t.allows(lc.SYSTEM, False)
        assert allowed == (t.trigger == "start_review"), t.trigger
    assert lc.SYSTEM not in lc.ROLES
    assert lc.who_may(lc.TRANSITIONS_BY_TRIGGER["start_review"].roles, True) == "a manager"


def test_no_human_role_gains_a_transition():
    humans = {t.trigger: {r for r in t.roles if r in lc.ROLES} for t in lc.TRANSITIONS}
    assert humans["start_review"] == {lc.MANAGER}


def test_while_returned_the_evaluator_is_told_a_new_version_will_come(
        client, make, manager, impact):
    application = make.application("submitted", impact, manager=manager)
    evaluator = make.review(application, manager=manager)
    transitions.return_for_changes(application, manager, "More detail.")
    db.session.commit()
    login(client, evaluator)

    html = page(client.get(f"/evaluate/applications/{application.id}"))

    assert "Being changed: you review the next version" in html
    assert "you are asked to review the new version" in html
    assert "its review is closed" not in html
