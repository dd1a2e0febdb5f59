"""The consensus score: who may record it, what it must hold, and that it replaces itself.

Managers reach the page under /manage, the call's lead evaluator under /evaluate; the
factories' calls score two criteria on a scale of 5, weighted 1 and 2.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import login, logout
from tests.scoring_support import score, set_rules
from vouchers.extensions import db
from vouchers.models import AuditRecord, Consensus
from vouchers.services import consensus, reviews, transitions
from vouchers.services.errors import InvalidInput, NotAllowed, TransitionNotAllowed


@pytest.fixture
def reviewed(make):
    """An application under review with two reviews, its manager and the call's lead."""
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    e1, e2 = make.evaluator(), make.evaluator()
    score(application, e1, manager, 4, 2)
    score(application, e2, manager, 2, None)
    lead = make.evaluator()
    set_rules(application, lead_evaluator_id=lead.id)
    return application, manager, lead, (e1, e2)


def form_data(application, first="3", second="na", comment="We agreed on the market.") -> dict:
    c1, c2 = application.call_voucher_type.criteria
    return {f"score_{c1.id}": first, f"score_{c2.id}": second,
            f"note_{c1.id}": "Market smaller than claimed.", "comment": comment}


def recorded(application) -> list[Consensus]:
    return list(db.session.scalars(
        select(Consensus).where(Consensus.application_id == application.id)))


def consensus_records(application) -> list[AuditRecord]:
    return list(db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id, AuditRecord.trigger == "consensus")))


def test_a_manager_records_the_consensus_on_the_page(client, reviewed):
    application, manager, _, (e1, e2) = reviewed
    login(client, manager)
    url = f"/manage/applications/{application.id}/consensus"
    html = client.get(url).get_data(as_text=True)
    # Each evaluator's scores side by side, named for the manager, with the mean.
    assert e1.name in html and e2.name in html
    assert "Scored for the test." in html
    assert "3.00" in html  # the mean of 4 and 2 on the first criterion
    response = client.post(url, data=form_data(application))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/manage/applications/{application.id}#scoring-heading")
    db.session.expire_all()
    [c] = recorded(application)
    assert c.version == application.submission_number
    assert c.weighted_score == Decimal("3.00")  # the second criterion not applicable
    assert application.consensus_score == Decimal("3.00")
    assert c.recorded_by_id == manager.id
    c1 = application.call_voucher_type.criteria[0]
    assert {s.criterion_id: (s.score, s.comment) for s in c.scores}[c1.id] == (
        3, "Market smaller than claimed.")
    [record] = consensus_records(application)
    assert record.actor_id == manager.id
    assert record.comment == "Consensus score recorded: 3.00 of 5."
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "recorded by " + manager.name in page
    assert "We agreed on the market." in page


def test_the_lead_evaluator_records_it_from_their_own_area(client, reviewed):
    application, _, lead, (e1, _) = reviewed
    login(client, lead)
    url = f"/evaluate/applications/{application.id}/consensus"
    html = client.get(url).get_data(as_text=True)
    # Evaluators see each other anonymously, the lead included.
    assert "Evaluator 1" in html and e1.name not in html
    response = client.post(url, data=form_data(application, "4", "4"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url)
    db.session.expire_all()
    assert application.consensus_score == Decimal("4.00")
    assert recorded(application)[0].recorded_by_id == lead.id
    # The manager's door stays closed to an evaluator.
    assert client.get(f"/manage/applications/{application.id}/consensus").status_code == 404


@pytest.mark.parametrize("who", ["assigned_evaluator", "applicant", "other_lead"])
def test_anyone_else_gets_404_and_nothing_changes(make, client, reviewed, who):
    application, _, _, (e1, _) = reviewed
    user = {"assigned_evaluator": e1, "applicant": application.applicant,
            "other_lead": make.evaluator()}[who]
    if who == "other_lead":
        other_call = make.call()
        other_call.lead_evaluator_id = user.id
        db.session.commit()
    login(client, user)
    for area in ("evaluate", "manage", "apply"):
        url = f"/{area}/applications/{application.id}/consensus"
        assert client.get(url).status_code == 404, url
        assert client.post(url, data=form_data(application)).status_code == 404, url
    assert recorded(application) == []
    with pytest.raises(NotAllowed):
        consensus.record(application, user, {}, "x")


def test_anonymous_visitors_are_sent_to_log_in(client, reviewed):
    application, *_ = reviewed
    logout(client)
    response = client.post(f"/manage/applications/{application.id}/consensus",
                           data=form_data(application))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert recorded(application) == []


def test_a_lead_who_declared_a_conflict_may_not(make, client):
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    score(application, make.evaluator(), manager, 3, 3)
    lead = make.evaluator()
    set_rules(application, lead_evaluator_id=lead.id)
    reviews.assign(application, lead, manager)
    reviews.declare_conflict(application, lead, "I own shares.")
    db.session.commit()
    login(client, lead)
    url = f"/evaluate/applications/{application.id}/consensus"
    assert client.get(url).status_code == 404


def test_a_lead_also_assigned_reviews_first_blind(make, client):
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    other = make.evaluator()
    score(application, other, manager, 3, 3)
    lead = make.evaluator()
    set_rules(application, lead_evaluator_id=lead.id)
    reviews.assign(application, lead, manager)
    db.session.commit()
    login(client, lead)
    url = f"/evaluate/applications/{application.id}/consensus"
    html = client.get(url).get_data(as_text=True)
    assert "submit your own review" in html
    assert "Scored for the test." not in html
    response = client.post(url, data=form_data(application))
    assert response.status_code == 422
    assert "Submit your own review" in response.get_data(as_text=True)
    score(application, lead, manager, 4, 4)
    assert client.post(url, data=form_data(application)).status_code == 303


def test_recording_again_replaces_it_and_the_trail_keeps_both(reviewed):
    application, manager, lead, _ = reviewed
    c1, c2 = application.call_voucher_type.criteria
    consensus.record(application, manager, {c1.id: 2, c2.id: 2}, "First view.")
    db.session.commit()
    consensus.record(application, lead, {c1.id: 5, c2.id: None}, "Second view.",
                     {c1.id: "Convincing pilot."})
    db.session.commit()
    [c] = recorded(application)
    assert (c.comment, c.recorded_by_id, c.weighted_score) == ("Second view.", lead.id,
                                                               Decimal("5.00"))
    assert {s.criterion_id: s.score for s in c.scores} == {c1.id: 5, c2.id: None}
    assert application.consensus_score == Decimal("5.00")
    assert [r.comment for r in consensus_records(application)] == [
        "Consensus score recorded: 2.00 of 5.", "Consensus score recorded: 5.00 of 5."]


@pytest.mark.parametrize(("scores", "comment", "message"), [
    ({0: 6, 1: 3}, "Agreed.", "Criterion 1 must be between 0 and 5"),
    ({0: -1, 1: 3}, "Agreed.", "Criterion 1 must be between 0 and 5"),
    ({0: 3}, "Agreed.", "score Criterion 2"),
    ({0: None, 1: None}, "Agreed.", "score at least one criterion"),
    ({0: 3, 1: 3}, "   ", "write a comment"),
])
def test_the_service_refuses_an_incomplete_consensus(reviewed, scores, comment, message):
    application, manager, *_ = reviewed
    criteria = application.call_voucher_type.criteria
    with pytest.raises(InvalidInput, match=message):
        consensus.record(application, manager,
                         {criteria[i].id: v for i, v in scores.items()}, comment)
    db.session.rollback()
    assert recorded(application) == [] and application.consensus_score is None


def test_the_form_refuses_bad_input_with_400(client, reviewed):
    application, manager, *_ = reviewed
    login(client, manager)
    url = f"/manage/applications/{application.id}/consensus"
    for data in (form_data(application, first="9"), form_data(application, comment=""),
                 {"comment": "Agreed."}):
        response = client.post(url, data=data)
        assert response.status_code == 400, data
    assert recorded(application) == []


def test_nothing_to_agree_on_before_a_review_of_the_current_version(make, client):
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    reviews.assign(application, make.evaluator(), manager)
    db.session.commit()
    c1, c2 = application.call_voucher_type.criteria
    with pytest.raises(TransitionNotAllowed, match="once an evaluator has reviewed"):
        consensus.record(application, manager, {c1.id: 3, c2.id: 3}, "Agreed.")
    db.session.rollback()
    login(client, manager)
    url = f"/manage/applications/{application.id}/consensus"
    assert "No evaluator has reviewed the current version" in client.get(url).get_data(
        as_text=True)
    assert client.post(url, data=form_data(application)).status_code == 422


def test_only_while_under_review_or_waitlisted(make, client, reviewed):
    application, manager, lead, _ = reviewed
    transitions.waitlist(application, manager)
    db.session.commit()
    c1, c2 = application.call_voucher_type.criteria
    consensus.record(application, lead, {c1.id: 3, c2.id: 3}, "On the waitlist.")
    db.session.commit()
    transitions.reject(application, manager, "Not selected.")
    db.session.commit()
    with pytest.raises(NotAllowed):
        consensus.record(application, manager, {c1.id: 3, c2.id: 3}, "Too late.")
    login(client, manager)
    assert client.get(f"/manage/applications/{application.id}/consensus").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Consensus)) == 1


def test_the_lead_evaluators_queue_lists_what_they_may_record(make, app, reviewed):
    from flask import render_template

    application, manager, lead, _ = reviewed
    cvt = application.call_voucher_type
    unreviewed = make.application("submitted", cvt, manager=manager)
    reviews.assign(unreviewed, make.evaluator(), manager)
    conflicted = make.application("submitted", cvt, manager=manager)
    score(conflicted, make.evaluator(), manager, 3, 3)
    reviews.assign(conflicted, lead, manager)
    reviews.declare_conflict(conflicted, lead, "A friend's company.")
    elsewhere = make.application("submitted", manager=manager)  # another call, no lead
    score(elsewhere, make.evaluator(), manager, 3, 3)
    db.session.commit()
    rows = consensus.lead_queue(lead)
    assert [(r.application.id, r.recorded) for r in rows] == [(application.id, False)]
    assert consensus.lead_queue(manager) == []
    c1, c2 = cvt.criteria
    consensus.record(application, lead, {c1.id: 3, c2.id: 3}, "Agreed.")
    db.session.commit()
    [row] = consensus.lead_queue(lead)
    assert row.recorded
    with app.test_request_context():
        html = render_template("evaluator/_consensus_queue.html", consensus_queue=[row])
    assert f"/evaluate/applications/{application.id}/consensus" in html
