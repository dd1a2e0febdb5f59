"""The messages of each event, delivered through a real SMTP server (tests/mail_server.py).

Every event sends exactly one message to the person it concerns, with what they need to
know; a refused action sends nothing; a disabled account gets nothing; HTML parts escape
what users typed. The daily digests: tests/test_mail_digests.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.event_mail_support import (
    act,
    html_of,
    last_id,
    queued_after,
    settle,
    text_of,
)
from tests.helpers import login
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Assignment
from vouchers.services import notifications, ranking, reporting, transitions

# --- the applicant's messages -------------------------------------------------------------


def test_submission_receipt(app, client, make, deliver):
    application = make.application("draft")
    mark = settle(deliver)
    login(client, application.applicant)
    assert client.post(f"/apply/applications/{application.id}/submit").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id, row.application_id) == (
        "submitted", application.applicant_id, application.id)
    [message] = deliver()
    assert message["To"] == application.applicant.email
    assert message["Subject"] == f"Received: {application.reference}"
    text = text_of(message)
    for expected in (application.reference, application.title, "Market validation",
                     "€60,000.00", "What we will do.", "What happens next",
                     f"http://127.0.0.1:5000/apply/applications/{application.id}"):
        assert expected in text
    assert "€60,000.00" in html_of(message)
    # The footer says why and where to change it.
    assert "http://127.0.0.1:5000/account/mail" in text
    assert "/account/mail" in html_of(message)


def test_returned_for_changes_carries_the_comment(app, client, make, deliver):
    application = make.application("submitted")
    manager = make.manager()
    mark = settle(deliver)
    response = act(client, manager, application, "return_for_changes",
                   comment="Attach the provider's quote, please.")
    assert response.status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("returned", application.applicant_id)
    [message] = deliver()
    assert message["To"] == application.applicant.email
    assert "Attach the provider's quote, please." in text_of(message)
    # The application's page, which shows the comment next to the Edit button.
    assert f"/apply/applications/{application.id}\n" in text_of(message)


def test_award_tells_amount_conditions_deadline_and_advance(app, client, make,
                                                             deliver):
    call = make.call()
    call.advance_share = Decimal("0.30")
    db.session.commit()
    application = make.application("under_review", call.voucher_type("market_validation"))
    manager = make.manager()
    mark = settle(deliver)
    assert act(client, manager, application, "award", amount="50000.00").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("awarded", application.applicant_id)
    [message] = deliver()
    text = text_of(message)
    due = application.report_due_on
    assert due is not None
    for expected in ("€50,000.00", "75%", due.strftime("%d %b %Y"), "€15,000.00", "30%",
                     "final report", "evidence"):
        assert expected in text, expected
    assert "€15,000.00" in html_of(message)


def test_a_refused_award_sends_nothing(app, client, make, deliver):
    call = make.call()
    cvt = call.voucher_type("market_validation")
    cvt.envelope = Decimal("10000")
    db.session.commit()
    application = make.application("under_review", cvt, requested="8000")
    mark = settle(deliver)
    # Over the request, then over the envelope: both refused.
    assert act(client, make.manager(), application, "award",
               amount="9000.00").status_code == 422
    application.requested_amount = Decimal("20000")
    db.session.commit()
    mark = last_id()
    response = act(client, make.manager(), application, "award", amount="20000.00")
    assert response.status_code in (409, 422)
    assert application.state == "under_review"
    assert queued_after(mark) == []


def test_rejection_gives_the_reason_and_the_scores_the_applicant_may_see(
        app, client, make, deliver):
    cvt = make.call().voucher_type("market_validation")
    cvt.threshold = Decimal("3.50")
    db.session.commit()
    application = make.application("submitted", cvt)
    evaluator = make.review(application, score=2)
    manager = make.manager()
    mark = settle(deliver)
    # Without a reason the rejection is refused and tells nobody.
    assert act(client, manager, application, "reject", comment="").status_code in (400, 422)
    assert queued_after(mark) == []
    assert act(client, manager, application, "reject",
               comment="Below the call's threshold.").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("rejected", application.applicant_id)
    [message] = deliver()
    text = text_of(message)
    for expected in ("Below the call's threshold.", "2.00 of 5", "threshold: 3.50 of 5",
                     "Criterion 1: 2.00", "the call asks at least 3.50"):
        assert expected in text, expected
    # Who scored and what they wrote stay with the programme.
    assert evaluator.name not in text and "Good." not in text
    assert evaluator.name not in html_of(message)


def test_waitlisted_gives_the_reserve_position(app, client, make, deliver):
    cvt = make.call().voucher_type("market_validation")
    manager = make.manager()
    first = make.application("submitted", cvt, manager=manager)
    make.review(first, manager=manager, score=5)
    second = make.application("submitted", cvt, manager=manager)
    make.review(second, manager=manager, score=3)
    transitions.waitlist(first, manager)
    mark = settle(deliver)
    assert act(client, manager, second, "waitlist", comment="").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("waitlisted", second.applicant_id)
    [message] = deliver()
    assert "You are number 2 on the reserve list of market validation" in text_of(message)
    assert "number 2" in html_of(message)


def test_report_returned_carries_the_comment(app, client, make, deliver):
    application = make.application("report_submitted")
    mark = settle(deliver)
    assert act(client, make.manager(), application, "return_report",
               comment="Attach the invoices.").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("report_returned", application.applicant_id)
    [message] = deliver()
    assert "Attach the invoices." in text_of(message)
    assert f"/apply/applications/{application.id}/report" in text_of(message)


def test_report_approved_gives_the_payable_amount(app, client, make, deliver):
    application = make.application("reporting")
    # 40,000 of actual costs at 75%: 30,000 payable of the 60,000 awarded.
    reporting.save_final_report(application, application.applicant, summary="Done.",
                                actual_costs="40000")
    reporting.submit_final_report(application, application.applicant)
    mark = settle(deliver)
    assert act(client, make.manager(), application, "approve_report",
               comment="").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("report_approved", application.applicant_id)
    [message] = deliver()
    assert "Payable:       €30,000.00" in text_of(message)
    assert "€30,000.00" in html_of(message)


def test_payment_made_masks_the_iban(app, client, make, deliver):
    application = make.application("completed")
    application.organisation.iban = "NL14INGB1707536455"
    mark = settle(deliver)
    response = act(client, make.manager(), application, "record_payment", amount="60000.00",
                   paid_on=today().isoformat(), reference="BANK-77", kind="payment")
    assert response.status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("payment_made", application.applicant_id)
    [message] = deliver()
    text = text_of(message)
    for expected in ("€60,000.00", "Payment", "BANK-77", today().strftime("%d %b %Y"),
                     "•••• 6455"):
        assert expected in text, expected
    assert "NL14INGB1707536455" not in text and "NL14INGB1707536455" not in html_of(message)


# --- evaluators ---------------------------------------------------------------------------


def test_auto_assignment_of_three_applications_is_one_message(app, client, make,
                                                               deliver):
    call = make.call()
    call.review_deadline = today() + timedelta(days=20)
    db.session.commit()
    cvt = call.voucher_type("market_validation")
    applications = [make.application("submitted", cvt) for _ in range(3)]
    evaluator = make.evaluator()
    manager = make.manager()
    mark = settle(deliver)
    login(client, manager)
    response = client.post(f"/manage/calls/{call.id}/auto-assign",
                           data={"per_application": "1", "return_to": "dashboard"})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 3
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("assigned", evaluator.id)
    [message] = deliver()
    assert message["To"] == evaluator.email
    text = text_of(message)
    assert "3 applications" in text
    for a in applications:
        assert a.reference in text
        assert f"/evaluate/applications/{a.id}" in text
    assert call.review_deadline.strftime("%d %b %Y") in text


def test_hand_assignment_tells_the_evaluator(app, client, make, deliver):
    application = make.application("submitted")
    evaluator = make.evaluator()
    mark = settle(deliver)
    login(client, make.manager())
    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": str(evaluator.id)})
    assert response.status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id, row.application_id) == ("assigned", evaluator.id,
                                                           application.id)
    [message] = deliver()
    assert message["Subject"] == f"New assignment: {application.reference}"
    assert application.reference in text_of(message)


# --- who gets nothing -----------------------------------------------------------------------


def test_a_disabled_applicant_gets_nothing(app, make, deliver):
    application = make.application("under_review")
    application.applicant.enabled = False
    mark = settle(deliver)
    transitions.reject(application, make.manager(), "Not selected.")
    assert queued_after(mark) == []


def test_a_disabled_evaluator_gets_nothing(app, make, deliver):
    application = make.application("submitted")
    evaluator = make.evaluator()
    evaluator.enabled = False
    mark = settle(deliver)
    notifications.assigned([(application.id, evaluator.id)])
    assert queued_after(mark) == []


# --- escaping ----------------------------------------------------------------------------------


def test_html_parts_escape_what_users_typed(app, client, make, deliver):
    application = make.application("draft")
    application.title = "<script>alert(1)</script> & co"
    db.session.commit()
    transitions.submit(application, application.applicant)
    transitions.return_for_changes(application, make.manager(), "<b>Bold</b> request")
    db.session.commit()
    received = deliver()
    assert [m["Subject"].split(":")[0] for m in received] == ["Received", "Changes needed"]
    for message in received:
        html = html_of(message)
        assert "<script>" not in html and "&lt;script&gt;" in html
        # Plain text is not escaped.
        assert "<script>alert(1)</script> & co" in text_of(message)
    assert "&lt;b&gt;Bold&lt;/b&gt; request" in html_of(received[1])
    assert "<b>Bold</b> request" in text_of(received[1])


def test_assignments_in_two_calls_are_two_messages(app, make, deliver):
    """Each call has its own review deadline: one message per evaluator and call."""
    evaluator = make.evaluator()
    a = make.application("submitted")
    b = make.application("submitted")
    assert a.call_id != b.call_id
    mark = settle(deliver)
    notifications.assigned([(a.id, evaluator.id), (b.id, evaluator.id)])
    db.session.commit()
    rows = queued_after(mark)
    assert [(r.kind, r.application_id) for r in rows] == [("assigned", a.id),
                                                          ("assigned", b.id)]


def test_reserve_places_follow_the_ranking_within_one_transaction(app, make):
    """A funding line waitlists many in one transaction: each message has the place the
    application's page shows at that moment."""
    cvt = make.call().voucher_type("market_validation")
    manager = make.manager()
    by_score = {}
    for score in (5, 4, 3):
        application = make.application("submitted", cvt, manager=manager)
        make.review(application, manager=manager, score=score)
        by_score[score] = application
    mark = last_id()
    places = []
    for score in (4, 5, 3):  # one transaction: no commit in between
        transitions.waitlist(by_score[score], manager)
        places.append(ranking.position_of(by_score[score]).reserve)
    db.session.commit()
    assert places == [1, 1, 3]
    texts = [r.body_text for r in queued_after(mark)]
    assert [f"You are number {n} on the reserve list" in t
            for n, t in zip(places, texts, strict=True)] == [True, True, True]
