"""The demo programme and the command line."""

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from tests.ledger_checks import assert_books_balance
from vouchers.clock import local_date
from vouchers.demo import PARTNERS, load_demo
from vouchers.demo.texts import SMES
from vouchers.extensions import db
from vouchers.models import (
    Application,
    Assignment,
    AuditRecord,
    BatchItem,
    CallVoucherType,
    FinalReport,
    Organisation,
    Payment,
    PaymentBatch,
    Programme,
    Review,
    ServiceProvider,
    User,
)
from vouchers.models.base import utcnow
from workflows import lifecycle as lc

README = Path(__file__).resolve().parent.parent / "README.md"


def test_demo_programme_is_shaped_like_the_real_one_and_loads_once(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "manager@demo.example / demo-manager-pass" in result.output
    programme = db.session.scalar(select(Programme))
    assert programme.total_budget == Decimal("1240000.00")
    (call,) = programme.calls
    quotas = {t.voucher_type: t.quota for t in call.voucher_types}
    assert quotas == {"travel": 12, "market_validation": 6, "product_validation": 5, "impact": 3}
    assert sum(t.envelope for t in call.voucher_types) == programme.total_budget
    for t in call.voucher_types:
        assert t.quota * t.max_amount >= t.envelope or t.voucher_type == "travel"
        assert t.committed <= t.envelope and t.awarded_count <= t.quota
    states = set(db.session.scalars(select(Application.state)))
    assert states == set(lc.STATES)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 40
    assert db.session.scalar(select(func.count()).select_from(ServiceProvider)) == 20
    regions = set(db.session.scalars(select(Organisation.region)))
    assert {region for _, _, region in PARTNERS} <= regions

    again = runner.invoke(args=["demo"])
    assert "already exists" in again.output
    assert db.session.scalar(select(func.count()).select_from(Programme)) == 1


def test_demo_committed_matches_its_vouchers(app):
    load_demo()
    db.session.commit()
    assert_books_balance()
    for cvt in db.session.scalars(select(CallVoucherType)):
        total = db.session.scalar(
            select(func.coalesce(func.sum(Application.awarded_amount
                                          - Application.released_amount), 0))
            .where(Application.call_voucher_type_id == cvt.id,
                   Application.awarded_amount.is_not(None)))
        assert cvt.committed == total


def _loaded():
    load_demo()
    db.session.commit()
    return db.session.scalars(select(Application).order_by(Application.id)).all()


def _first(records, trigger):
    return next(r.at for r in records if r.trigger == trigger)


def test_demo_history_is_spread_over_the_weeks_before_today(app):
    applications = _loaded()
    now = utcnow()
    submitted = [a.submitted_at for a in applications if a.submitted_at]
    awarded = [a.awarded_at for a in applications if a.awarded_at]
    reviewed = list(db.session.scalars(select(Review.submitted_at)))
    for times, days_apart, distinct_days in ((submitted, 60, 25), (awarded, 45, 12),
                                             (reviewed, 60, 25)):
        assert max(times) < now
        assert max(times) - min(times) >= timedelta(days=days_apart)
        assert len({t.date() for t in times}) >= distinct_days
    # Nothing in the database is dated in the future or at the moment of loading.
    stamps = [*db.session.scalars(select(AuditRecord.at)),
              *db.session.scalars(select(Assignment.assigned_at)),
              *db.session.scalars(select(Payment.recorded_at)),
              *db.session.scalars(select(User.created_at)),
              *db.session.scalars(select(User.last_login_at)),
              *(a.created_at for a in applications)]
    assert max(stamps) < now - timedelta(hours=12)
    assert max(db.session.scalars(select(Payment.paid_on))) < local_date(now)
    # Managers decide on working days.
    decisions = db.session.scalars(select(AuditRecord.at).where(
        AuditRecord.trigger.in_(["award", "reject", "waitlist", "approve_report", "pay"])))
    assert {local_date(at).weekday() for at in decisions} <= {0, 1, 2, 3, 4}


# What follows from a person's action at the same moment, by the same person: the money an
# approval or a cancellation releases, the voucher a payment pays in full (or an approval
# closes), the voucher a reversal reopens.
CONSEQUENCES = {"release", "pay", "reverse_payment"}


def test_demo_history_happens_in_order_and_the_audit_trail_has_the_same_dates(app):
    applications = _loaded()
    checked = Counter()
    for a in applications:
        records = db.session.scalars(select(AuditRecord).where(
            AuditRecord.application_id == a.id).order_by(AuditRecord.id)).all()
        ats = [r.at for r in records]
        assert ats == sorted(ats), a.reference
        # Each action of a person has a moment of its own. What the system does in answer
        # (a resubmission going back under review, an extra evaluator for divergent
        # scores) and what the action books (CONSEQUENCES) happen at that moment.
        actions = [r.at for r in records if r.actor_id is not None
                   and r.trigger not in CONSEQUENCES]
        assert len(set(actions)) == len(actions), a.reference
        assert {r.at for r in records if r.trigger in CONSEQUENCES} <= set(actions)
        assert records[0].trigger == "create" and records[0].at == a.created_at
        if a.submitted_at:
            # submitted_at is the current version's submission (the last one).
            assert a.submitted_at == [r.at for r in records if r.trigger == "submit"][-1]
        reviews = db.session.scalars(select(Review.submitted_at).where(
            Review.application_id == a.id)).all()
        assigned = db.session.scalars(select(Assignment.assigned_at).where(
            Assignment.application_id == a.id)).all()
        if reviews:
            assert _first(records, "submit") < min(assigned) < min(reviews)
        if a.decided_at:
            assert max(reviews) < a.decided_at == records[3].at
        if a.awarded_at:
            assert a.awarded_at == _first(records, "award")
            checked["awarded"] += 1
        report = db.session.scalar(select(FinalReport).where(
            FinalReport.application_id == a.id))
        if report is not None:
            started = _first(records, "start_reporting")
            assert a.awarded_at < started
            if a.voucher_type == "travel":
                trip_ends = date.fromisoformat(a.details["end_date"])
                assert date.fromisoformat(a.details["start_date"]) > local_date(a.awarded_at)
                assert local_date(started) > trip_ends
                checked["travel report"] += 1
            if report.submitted_at:
                assert report.submitted_at == _first(records, "submit_report") > started
                checked["report submitted"] += 1
            if report.decided_at:
                assert report.decided_at == _first(records, "approve_report")
                assert report.decided_at > report.submitted_at
        payments = db.session.scalars(select(Payment).where(
            Payment.application_id == a.id)).all()
        for payment in payments:
            # Each payment has its ledger's record, at the moment it was recorded.
            assert payment.recorded_at in {r.at for r in records if r.trigger == payment.kind}
            # Paid on the day recorded by hand; by a batch, on the day the bank executed it
            # (recorded once its statement was read).
            executed_on = db.session.scalar(select(PaymentBatch.executed_on).join(
                BatchItem).where(BatchItem.id == payment.batch_item_id))
            assert payment.paid_on == (executed_on or local_date(payment.recorded_at))
            assert payment.paid_on <= local_date(payment.recorded_at)
            if payment.kind == "advance":  # after the award, before the report's approval
                assert a.awarded_at < payment.recorded_at
                assert report is None or report.decided_at is None or (
                    payment.recorded_at < report.decided_at)
                checked["advance"] += 1
            else:
                assert report.decided_at < payment.recorded_at
                if payment.invoice_date:
                    assert local_date(report.submitted_at) > payment.invoice_date
                checked["paid"] += 1
        if a.state == "paid":  # the last "pay" closed it, after any reversal
            assert records[-1].trigger in {"pay", "recovery", "release"}
        if a.voucher_type == "travel" and report is None:
            # Not reported on yet: the trip is still to come.
            assert date.fromisoformat(a.details["start_date"]) > local_date(utcnow())
    assert checked["travel report"] >= 5 and checked["paid"] >= 3 and checked["advance"] >= 5
    assert checked["report submitted"] >= 6 and checked["awarded"] >= 15


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?]) ", text) if len(s) > 40]


def test_demo_texts_are_written_per_application_not_from_one_template(app):
    applications = _loaded()
    comments = list(db.session.scalars(select(Review.comment)))
    reports = [r.summary for r in db.session.scalars(select(FinalReport))]
    summaries = [a.summary for a in applications]
    for texts in (summaries, comments, reports, [a.title for a in applications]):
        assert len(set(texts)) == len(texts)
        # A sentence of any length may come back once (two people can think alike);
        # a stock sentence in every text is what a template writes.
        recurring = Counter(s for text in texts for s in set(_sentences(text)))
        assert max(recurring.values()) <= 2, recurring.most_common(3)
    for a in applications:
        company = a.organisation.legal_name.rsplit(" ", 1)[0]
        assert company in a.title or a.provider_id or a.voucher_type == "impact"
    # Every review names what it is about: the company, its product, provider or event.
    for review in db.session.scalars(select(Review)):
        a = review.application
        company = a.organisation.legal_name.rsplit(" ", 1)[0]
        own = {company, SMES[company][1], a.details.get("event", "").removeprefix("the "),
               a.provider.name if a.provider else company}
        assert any(name in review.comment for name in own), review.comment


def test_lifecycle_command_prints_the_diagram_the_readme_embeds(runner):
    result = runner.invoke(args=["lifecycle"])
    assert result.exit_code == 0
    assert result.output == lc.mermaid()
    assert result.output.strip() in README.read_text()


def test_create_user_command_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-user", "--role", "evaluator", "--email", "e@x.example",
                                 "--name", "Eva"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
