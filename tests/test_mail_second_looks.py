"""Second looks at issue 10's mail: a resubmission asks its evaluators again, subjects are
plain text, a receipt names only a review deadline still to come, account mails name the
programme."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import select

from tests.event_mail_support import queued_after, settle, text_of
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Programme
from vouchers.models.base import utcnow
from vouchers.services import applications, outbox, reviews, transitions


def test_a_resubmission_asks_the_standing_evaluators_again(app, make, deliver):
    manager = make.manager()
    cvt = make.call().voucher_type("impact")
    application = make.application("submitted", cvt, manager=manager)
    evaluator = make.review(application, manager=manager, score=4)
    conflicted = make.evaluator()
    reviews.assign(application, conflicted, manager)
    reviews.declare_conflict(application, conflicted, "My former employer.")
    transitions.return_for_changes(application, manager, "Say how you measure it.")
    db.session.commit()
    applications.update_draft(application, application.applicant,
                              {"title": "Reimbursement, measured"})
    db.session.commit()
    mark = settle(deliver)

    transitions.submit(application, application.applicant)
    db.session.commit()

    rows = queued_after(mark)
    assert sorted((r.kind, r.user_id) for r in rows) == sorted([
        ("submitted", application.applicant_id), ("review_again", evaluator.id)])
    received = {m["To"]: m for m in deliver()}
    message = received[evaluator.email]
    assert message["Subject"] == f"New version to review: {application.reference}"
    assert "version 2" in text_of(message)
    assert f"/evaluate/applications/{application.id}" in text_of(message)
    assert conflicted.email not in received


def test_a_first_submission_asks_nobody_to_review_again(app, make, deliver):
    application = make.application("draft")
    mark = settle(deliver)
    transitions.submit(application, application.applicant)
    db.session.commit()
    assert [r.kind for r in queued_after(mark)] == ["submitted"]


def test_a_subject_is_plain_text_not_html(app, make):
    """The subject header is not HTML: an ampersand or a bracket stays as typed."""
    invitation = SimpleNamespace(name="Ada", role="evaluator",
                                 expires_at=utcnow() + timedelta(days=7))
    app.config["PROGRAMME_NAME"], saved = "R&D <Vouchers>", app.config["PROGRAMME_NAME"]
    try:
        subject, text, html = outbox.render("invitation", {
            "invitation": invitation, "inviter": SimpleNamespace(name="Marta"),
            "token": "t0ken", "recipient": None, "recipient_address": "ada@x.example"})
    finally:
        app.config["PROGRAMME_NAME"] = saved
    assert subject == "You are invited to R&D <Vouchers>"
    assert "R&D <Vouchers>" in text and "R&amp;D &lt;Vouchers&gt;" in html


def test_a_receipt_names_a_review_deadline_only_while_it_is_to_come(app, make, deliver):
    call = make.call()
    call.review_deadline = today() - timedelta(days=1)
    late = make.application("draft", call.voucher_type("impact"))
    settle(deliver)
    transitions.submit(late, late.applicant)
    db.session.commit()
    [receipt] = deliver()
    assert "reviews are due" not in text_of(receipt)

    call.review_deadline = today() + timedelta(days=9)
    soon = make.application("draft", call.voucher_type("travel"))
    settle(deliver)
    transitions.submit(soon, soon.applicant)
    db.session.commit()
    [receipt] = deliver()
    assert f"reviews are due by {call.review_deadline:%d %b %Y}" in text_of(receipt)


def test_account_mails_name_the_programme(app, make):
    make.call()  # its programme is the newest
    invitation = SimpleNamespace(name="Ada", role="evaluator",
                                 expires_at=utcnow() + timedelta(days=7))
    subject, _, html = outbox.render("invitation", {
        "invitation": invitation, "inviter": SimpleNamespace(name="Marta"),
        "token": "t0ken", "recipient": None, "recipient_address": "ada@x.example"})
    name = db.session.scalar(select(Programme.name).order_by(Programme.id.desc()))
    assert subject == f"You are invited to {name}"
