"""The service layer: lifecycle through the database, budget rules, audit trail."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.helpers import snapshot
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, AuditRecord, CallVoucherType, Payment
from vouchers.services import payments, reporting, settlement, transitions
from vouchers.services.errors import (
    BudgetExceeded,
    DeMinimisExceeded,
    InvalidInput,
    PaymentRefused,
    QuotaExceeded,
    TransitionNotAllowed,
)
from workflows import lifecycle as lc


def refused(action, error, message_part=None):
    """Run ``action``; it must raise ``error`` and change nothing in the database."""
    before = snapshot()
    with pytest.raises(error) as exc:
        action()
    db.session.commit()  # what the request boundary would do next: nothing must be pending
    assert snapshot() == before
    if message_part:
        assert message_part in str(exc.value)
    return str(exc.value)


SMALL_TYPES = {"travel": (2, "5000", "1.00", "7000"), "impact": (3, "100000", "0.50", "300000")}


def test_the_full_life_of_a_voucher_writes_an_audit_record_per_step(make):
    manager = make.manager()
    application = make.application("paid", manager=manager)
    trail = db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id).order_by(AuditRecord.id)).all()
    assert [(r.from_state, r.to_state, r.trigger) for r in trail] == [
        (None, "draft", "create"),
        ("draft", "submitted", "submit"),
        ("submitted", "under_review", "start_review"),
        ("under_review", "awarded", "award"),
        ("awarded", "reporting", "start_reporting"),
        ("reporting", "report_submitted", "submit_report"),
        ("report_submitted", "completed", "approve_report"),
        # Money moves with a record of its own; the payment reaching the payable amount
        # closes the voucher.
        ("completed", "completed", "payment"),
        ("completed", "paid", "pay"),
    ]
    assert all(r.at is not None and r.at.tzinfo is not None for r in trail)
    assert trail[3].actor_id == manager.id and trail[3].amount == application.awarded_amount
    assert application.paid_amount == application.awarded_amount


def test_award_commits_budget_and_cancel_returns_it(make):
    call = make.call(SMALL_TYPES)
    cvt = call.voucher_type("travel")
    manager = make.manager()
    application = make.application("under_review", cvt, manager=manager)
    transitions.award(application, manager, "4000.00")
    db.session.commit()
    assert (cvt.committed, cvt.awarded_count) == (Decimal("4000.00"), 1)
    transitions.cancel(application, manager, "Event cancelled.")
    db.session.commit()
    assert (cvt.committed, cvt.awarded_count) == (Decimal("0.00"), 0)
    assert application.state == lc.CANCELLED


def test_award_beyond_the_envelope_is_refused_and_changes_nothing(make):
    cvt = make.call(SMALL_TYPES).voucher_type("travel")
    manager = make.manager()
    make.application("awarded", cvt, manager=manager, amount="4000")
    second = make.application("under_review", cvt, manager=manager)
    message = refused(lambda: transitions.award(second, manager, "3500"), BudgetExceeded)
    assert message == ("Awarding €3,500.00 would exceed the travel envelope: €3,000.00 of "
                       "€7,000.00 remains.")
    assert db.session.get(Application, second.id).state == lc.UNDER_REVIEW


def test_award_beyond_the_quota_is_refused(make):
    cvt = make.call({"travel": (1, "5000", "1.00", "50000")}).voucher_type("travel")
    manager = make.manager()
    make.application("awarded", cvt, manager=manager, amount="100")
    second = make.application("under_review", cvt, manager=manager)
    refused(lambda: transitions.award(second, manager, "100"), QuotaExceeded,
            "The quota of 1 travel vouchers is used up (1 awarded).")


@pytest.mark.parametrize(("amount", "error", "message"), [
    ("abc", InvalidInput, "'abc' is not an amount: write digits with a dot for the cents"),
    ("1,000", InvalidInput, "with a dot for cents"),
    ("1e3", InvalidInput, "'1e3' is not an amount"),
    ("100.005", InvalidInput, "has more than two decimals"),
    ("-5", InvalidInput, "The amount cannot be negative."),
    # A well-formed zero is the lifecycle's to refuse: the award guard wants a positive amount.
    ("0", TransitionNotAllowed, "Give an amount greater than zero."),
    ("999999", InvalidInput, "cannot exceed the amount requested"),
])
def test_award_amount_is_validated(make, amount, error, message):
    manager = make.manager()
    application = make.application("under_review", manager=manager)
    refused(lambda: transitions.award(application, manager, amount), error, message)


def test_award_above_the_type_maximum_is_refused(make):
    cvt = make.call({"travel": (5, "1000", "1.00", "50000")}).voucher_type("travel")
    manager = make.manager()
    application = make.application("under_review", cvt, manager=manager, requested="1000")
    cvt.max_amount = Decimal("500")
    db.session.commit()
    refused(lambda: transitions.award(application, manager, "800"), InvalidInput,
            "exceeds the travel maximum of €500.00")


def test_de_minimis_cap_counts_declared_aid_and_earlier_awards(make):
    cvt = make.call(SMALL_TYPES).voucher_type("impact")
    cvt.call.max_applications_per_type = None  # one SME applies twice in this call
    manager = make.manager()
    applicant = make.applicant(declared="150000")
    make.application("awarded", cvt, applicant=applicant, manager=manager, amount="100000")
    second = make.application("under_review", cvt, applicant=applicant, manager=manager)
    message = refused(lambda: transitions.award(second, manager, "60000"), DeMinimisExceeded)
    assert "would receive €310,000.00 of de minimis aid" in message
    assert "the cap is €300,000.00" in message
    transitions.award(second, manager, "50000")  # exactly at the cap is allowed
    db.session.commit()
    assert second.state == lc.AWARDED


def test_cancelled_awards_do_not_count_towards_de_minimis(make):
    cvt = make.call(SMALL_TYPES).voucher_type("impact")
    cvt.call.max_applications_per_type = None  # one SME applies twice in this call
    manager = make.manager()
    applicant = make.applicant(declared="200000")
    make.application("cancelled", cvt, applicant=applicant, manager=manager, amount="100000")
    second = make.application("under_review", cvt, applicant=applicant, manager=manager)
    transitions.award(second, manager, "100000")
    db.session.commit()
    assert second.awarded_amount == Decimal("100000.00")


def test_submission_outside_the_call_window_is_refused(make):
    call = make.call()
    application = make.draft(call.voucher_type("travel"))
    call.closes_at = call.opens_at + timedelta(seconds=1)
    db.session.commit()
    refused(lambda: transitions.submit(application, application.applicant), TransitionNotAllowed,
            "The call is not open for submissions.")


def test_incomplete_application_cannot_be_submitted(make):
    application = make.draft(make.call().voucher_type("market_validation"))
    application.provider_id = None
    application.summary = ""
    db.session.commit()
    message = refused(lambda: transitions.submit(application, application.applicant),
                      TransitionNotAllowed)
    assert message == ("The application is incomplete: describe the project; "
                       "choose a service provider.")


def test_requested_amount_must_respect_funding_rate(make):
    cvt = make.call().voucher_type("impact")  # 50 % funding rate
    application = make.draft(cvt, requested="600", costs="1000")
    refused(lambda: transitions.submit(application, application.applicant), TransitionNotAllowed,
            "the amount requested exceeds 50% of the costs (€500.00)")


def test_another_applicant_cannot_act_on_an_application(make):
    application = make.draft(make.call().voucher_type("travel"))
    stranger = make.applicant()
    refused(lambda: transitions.submit(application, stranger), TransitionNotAllowed,
            "Only the applicant who owns it may do this.")
    refused(lambda: transitions.withdraw(application, stranger), TransitionNotAllowed)


def test_final_payment_follows_actual_costs_times_rate(make):
    cvt = make.call().voucher_type("impact")  # 50 %, requested 100,000 on 200,000 costs
    manager = make.manager()
    application = make.application("report_submitted", cvt, manager=manager)
    report = reporting.final_report_of(application)
    report.actual_costs = Decimal("150000.01")
    reporting.approve_report(application, manager)
    db.session.commit()
    assert settlement.payable(application) == Decimal("75000.01")  # half a cent rounds up
    refused(lambda: payments.record_payment(application, manager, "75000.02", paid_on=today(),
                                       reference="X1"),
            PaymentRefused, "still payable")
    payments.record_payment(application, manager, "25000", paid_on=today(), reference="P1")
    db.session.commit()
    assert application.state == lc.COMPLETED  # a first instalment
    payments.record_payment(application, manager, "50000.01", paid_on=today(), reference="P2")
    db.session.commit()
    assert application.state == lc.PAID
    assert application.paid_amount == Decimal("75000.01")
    assert db.session.scalar(select(db.func.count()).select_from(Payment)) == 2


def test_payable_is_capped_at_the_award(make):
    cvt = make.call().voucher_type("travel")
    manager = make.manager()
    application = make.application("report_submitted", cvt, manager=manager, amount="3000")
    reporting.final_report_of(application).actual_costs = Decimal("9000")
    reporting.approve_report(application, manager)
    db.session.commit()
    assert settlement.payable(application) == Decimal("3000.00")


@pytest.mark.parametrize("state", ["awarded", "reporting", "report_submitted"])
def test_payments_wait_for_the_approved_report(make, state):
    manager = make.manager()
    application = make.application(state, manager=manager)
    refused(lambda: payments.record_payment(application, manager, "10", paid_on=today(),
                                       reference="P"),
            PaymentRefused, "once the final report is approved")


def test_database_refuses_an_over_commitment_even_without_the_service(make):
    cvt = make.call(SMALL_TYPES).voucher_type("travel")
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE call_voucher_types SET committed = envelope + 1 "
                                "WHERE id = :id"), {"id": cvt.id})
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE call_voucher_types SET awarded_count = quota + 1 "
                                "WHERE id = :id"), {"id": cvt.id})
    db.session.rollback()
    assert db.session.get(CallVoucherType, cvt.id).committed == Decimal("0.00")


def test_database_refuses_paid_above_awarded(make):
    application = make.application("awarded")
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE applications SET paid_amount = awarded_amount + 1 "
                                "WHERE id = :id"), {"id": application.id})
    db.session.rollback()


def test_audit_records_are_append_only(make):
    application = make.application("submitted")
    record = application.audit_records[0]
    record.comment = "rewritten history"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_review_scores_leave_not_applicable_out_of_the_average(make):
    from vouchers.services import reviews

    manager = make.manager()
    application = make.application("submitted", manager=manager)
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, manager)
    reviews.confirm_no_conflict(application, evaluator)
    c1, c2 = application.call_voucher_type.criteria  # weights 1 and 2
    review = reviews.submit_review(application, evaluator, scores={c1.id: 4, c2.id: None},
                                   recommendation="award", comment="ok")
    db.session.commit()
    assert review.weighted_score == Decimal("4.00")
    other = make.evaluator()
    reviews.assign(application, other, manager)
    reviews.confirm_no_conflict(application, other)
    reviews.submit_review(application, other, scores={c1.id: 1, c2.id: 4},
                          recommendation="award", comment="ok")
    db.session.commit()
    assert application.review_count == 2
    assert application.weighted_score == Decimal("3.50")  # mean of 4.00 and 3.00


@pytest.mark.parametrize(("days", "invoice_days", "message"), [
    (1, None, "A payment cannot be dated in the future."),
    (-400, None, "A payment cannot be dated before the award"),
    (0, 1, "An invoice cannot be dated in the future."),
])
def test_payment_dates_are_checked(make, days, invoice_days, message):
    from vouchers.clock import today

    manager = make.manager()
    application = make.application("completed", manager=manager)
    invoice = today() + timedelta(days=invoice_days) if invoice_days is not None else None
    refused(lambda: payments.record_payment(application, manager, "10",
                                       paid_on=today() + timedelta(days=days), reference="P",
                                       invoice_date=invoice),
            InvalidInput, message)


def test_amounts_beyond_what_the_database_holds_are_refused(make):
    application = make.application("reporting")
    refused(lambda: reporting.save_final_report(application, application.applicant, summary="x",
                                          actual_costs="99999999999"),
            InvalidInput, "more than the largest amount this system holds")


def test_a_draft_needs_a_title(make):
    from vouchers.services.applications import update_draft

    cvt = make.call().voucher_type("travel")
    applicant = make.applicant()
    refused(lambda: transitions.create_draft(applicant, cvt, title="   "), InvalidInput,
            "Give the title.")
    draft = make.draft(cvt, applicant)
    refused(lambda: update_draft(draft, applicant, {"title": "  "}, None), InvalidInput,
            "Give the title.")
