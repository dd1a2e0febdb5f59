"""The money rules, one story at a time: close-out, zero reports, corrections, advances,
cancellations and recoveries, an append-only history, and the ledger booked for the past.

Each test drives the services as the pages do and then holds the books to the ledger
(tests/ledger_checks.assert_books_balance).
"""

from __future__ import annotations

import os
import warnings
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from tests.conftest import POSTGRES_DEFAULT, postgres_database, postgres_reachable
from tests.helpers import snapshot
from tests.ledger_checks import assert_books_balance
from vouchers import create_app
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import (
    Application,
    AuditRecord,
    CallVoucherType,
    DeMinimisGrant,
    LedgerEntry,
    Payment,
)
from vouchers.models.ledger import ADVANCE, COMMITMENT, PAYMENT, RECOVERY, RELEASE, REVERSAL
from vouchers.services import ledger, payments, reporting, settlement, transitions
from vouchers.services.errors import DomainError, PaymentRefused

TRAVEL = {"travel": (12, "5000", "1.00", "60000")}


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def cvt(make) -> CallVoucherType:
    return make.call(TRAVEL).voucher_type("travel")


def awarded(make, cvt, manager, amount: str) -> Application:
    return make.application("awarded", cvt, manager=manager, requested=amount, costs=amount)


def report(application: Application, costs: str) -> None:
    """The applicant reports ``costs`` of actual eligible costs and submits."""
    if application.state == "awarded":
        reporting.start_reporting(application, application.applicant)
    reporting.save_final_report(application, application.applicant, summary="Trip made.",
                                actual_costs=costs)
    reporting.submit_final_report(application, application.applicant)
    db.session.commit()


def pay(application, manager, amount, kind=PAYMENT, reference="BANK-1") -> Payment:
    payment = payments.record_payment(application, manager, Decimal(amount), paid_on=today(),
                                      reference=reference, kind=kind)
    db.session.commit()
    return payment


def kinds(application) -> list[tuple[str, Decimal, Decimal, int]]:
    return [(e.kind, e.committed, e.paid, e.quota) for e in ledger.entries_of(application)]


def trail(application) -> list[tuple[str, str, Decimal | None]]:
    """The audit records after the award: (trigger, to state, amount)."""
    db.session.expire_all()
    records = db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id).order_by(AuditRecord.id)).all()
    triggers = [r.trigger for r in records]
    return [(r.trigger, r.to_state, r.amount) for r in records[triggers.index("award") + 1:]]


def refused(action, match: str, error=DomainError) -> str:
    """``action`` is refused with a message containing ``match``, and changes nothing."""
    before = snapshot()
    with pytest.raises(error) as caught:
        action()
    db.session.rollback()
    assert match in caught.value.message
    assert snapshot() == before
    return caught.value.message


# --- close-out: what was not spent goes back at once --------------------------------------


def test_the_issues_story_the_unspent_70_10_is_released_when_the_report_is_approved(
        make, cvt, manager):
    voucher = awarded(make, cvt, manager, "2960.50")
    assert (cvt.committed, cvt.remaining_envelope) == (Decimal("2960.50"), Decimal("57039.50"))
    report(voucher, "2890.40")

    reporting.approve_report(voucher, manager)
    db.session.commit()

    # At once, before any payment: the envelope has the 70.10 back.
    assert voucher.state == "completed"
    assert settlement.payable(voucher) == Decimal("2890.40")
    assert (voucher.released_amount, voucher.committed_amount) == (Decimal("70.10"),
                                                                   Decimal("2890.40"))
    assert (cvt.committed, cvt.remaining_envelope) == (Decimal("2890.40"), Decimal("57109.60"))
    release = ledger.entries_of(voucher)[-1]
    assert (release.kind, release.committed, release.quota) == (RELEASE, Decimal("-70.10"), 0)
    assert release.actor_id == manager.id
    assert "payable €2,890.40 of the €2,960.50 awarded" in release.reason
    assert trail(voucher)[-2:] == [("approve_report", "completed", None),
                                   ("release", "completed", Decimal("70.10"))]

    pay(voucher, manager, "2890.40")

    assert voucher.state == "paid"
    assert (voucher.paid_amount, voucher.outstanding) == (Decimal("2890.40"), Decimal("0.00"))
    assert (cvt.committed, cvt.paid, cvt.awarded_count) == (Decimal("2890.40"),
                                                            Decimal("2890.40"), 1)
    assert kinds(voucher) == [(COMMITMENT, Decimal("2960.50"), Decimal("0.00"), 1),
                              (RELEASE, Decimal("-70.10"), Decimal("0.00"), 0),
                              (PAYMENT, Decimal("0.00"), Decimal("2890.40"), 0)]
    assert [(t.committed, t.paid, t.quota_used) for t in ledger.totals(cvt.call_id)
            if t.cvt.id == cvt.id] == [(Decimal("2890.40"), Decimal("2890.40"), 1)]
    assert_books_balance()


def test_costs_above_the_award_pay_the_award_and_release_nothing(make, cvt, manager):
    voucher = awarded(make, cvt, manager, "2960.50")
    report(voucher, "3500.00")
    reporting.approve_report(voucher, manager)
    db.session.commit()
    assert settlement.payable(voucher) == Decimal("2960.50")
    assert [k for k, *_ in kinds(voucher)] == [COMMITMENT]
    refused(lambda: payments.record_payment(voucher, manager, Decimal("2960.51"),
                                            paid_on=today(), reference="B"),
            "more than the €2,960.50 still payable", PaymentRefused)
    pay(voucher, manager, "2960.50")
    assert voucher.state == "paid" and voucher.outstanding == 0
    assert_books_balance()


@pytest.mark.parametrize("returns_quota", [True, False])
def test_a_report_of_no_eligible_costs_closes_the_voucher_and_releases_all_of_it(
        make, cvt, manager, returns_quota):
    cvt.call.zero_report_returns_quota = returns_quota
    db.session.commit()
    voucher = awarded(make, cvt, manager, "2960.50")
    report(voucher, "0")

    reporting.approve_report(voucher, manager)
    db.session.commit()

    # Closed with nothing to pay: no payment, nothing held.
    assert voucher.state == "paid"
    assert (voucher.paid_amount, voucher.committed_amount, voucher.outstanding) == (
        Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert db.session.scalars(select(Payment)).all() == []
    assert cvt.committed == Decimal("0.00")
    # The quota place comes back unless the call says otherwise.
    assert cvt.awarded_count == (0 if returns_quota else 1)
    assert kinds(voucher)[-1] == (RELEASE, Decimal("-2960.50"), Decimal("0.00"),
                                  -1 if returns_quota else 0)
    assert trail(voucher)[-3:] == [("approve_report", "completed", None),
                                   ("release", "completed", Decimal("2960.50")),
                                   ("pay", "paid", Decimal("0.00"))]
    assert "Closed: nothing to pay." in voucher.audit_records[-1].comment
    refused(lambda: payments.record_payment(voucher, manager, Decimal("1"), paid_on=today(),
                                            reference="B"), "already paid in full")
    assert_books_balance()


# --- corrections: reverse, then record the right payment ----------------------------------


def test_a_reversed_payment_reopens_the_paid_voucher_and_the_right_one_closes_it(
        make, cvt, manager):
    voucher = awarded(make, cvt, manager, "2960.50")
    report(voucher, "2960.50")
    reporting.approve_report(voucher, manager)
    wrong = pay(voucher, manager, "2960.50", reference="BANK-WRONG")
    assert voucher.state == "paid"

    refused(lambda: payments.reverse_payment(wrong, manager, "  "),
            "Give the reason for the reversal.")
    payments.reverse_payment(wrong, manager, "Paid to the wrong account.")
    db.session.commit()

    assert voucher.state == "completed"
    assert (voucher.paid_amount, settlement.final_due(voucher)) == (Decimal("0.00"),
                                                                    Decimal("2960.50"))
    # Still committed: the money is owed again.
    assert voucher.committed_amount == Decimal("2960.50") == cvt.committed
    assert cvt.paid == Decimal("0.00")
    assert payments.reversed_payment_ids(voucher) == {wrong.id}
    refused(lambda: payments.reverse_payment(wrong, manager, "Again."), "already reversed")

    right = pay(voucher, manager, "2960.50", reference="BANK-RIGHT")

    assert voucher.state == "paid" and cvt.paid == Decimal("2960.50")
    # The payment row was never edited or deleted: both stand, the ledger tells both.
    assert [(p.id, p.amount, p.reference) for p in payments.payments_of(voucher)] == [
        (wrong.id, Decimal("2960.50"), "BANK-WRONG"), (right.id, Decimal("2960.50"),
                                                       "BANK-RIGHT")]
    entries = ledger.entries_of(voucher)
    assert [(e.kind, e.paid, e.payment_id) for e in entries[1:]] == [
        (PAYMENT, Decimal("2960.50"), wrong.id), (REVERSAL, Decimal("-2960.50"), wrong.id),
        (PAYMENT, Decimal("2960.50"), right.id)]
    assert entries[2].reason == "Paid to the wrong account."
    assert [(t, s) for t, s, _ in trail(voucher)][-6:] == [
        ("payment", "completed"), ("pay", "paid"), ("reversal", "paid"),
        ("reverse_payment", "completed"), ("payment", "completed"), ("pay", "paid")]
    assert_books_balance()


# --- advances --------------------------------------------------------------------------


@pytest.fixture
def advance_call(cvt):
    cvt.call.advance_share = Decimal("0.5")
    db.session.commit()
    return cvt


def test_an_advance_beyond_the_payable_amount_is_due_back_until_recovered(
        make, advance_call, manager):
    cvt = advance_call
    voucher = awarded(make, cvt, manager, "2000.00")
    assert settlement.due(voucher) == ("advance", Decimal("1000.00"))
    refused(lambda: payments.record_payment(voucher, manager, Decimal("1000.01"),
                                            paid_on=today(), reference="A", kind=ADVANCE),
            "more than the €1,000.00 advance still due", PaymentRefused)
    refused(lambda: payments.record_payment(voucher, manager, Decimal("10"), paid_on=today(),
                                            reference="A"),
            "once the final report is approved", PaymentRefused)
    pay(voucher, manager, "1000.00", kind=ADVANCE, reference="ADV-1")
    # The advance is paid, the award stays committed in full until the report.
    assert (voucher.state, voucher.paid_amount, voucher.committed_amount) == (
        "awarded", Decimal("1000.00"), Decimal("2000.00"))
    assert settlement.due(voucher) is None and settlement.recovery_due(voucher) == 0

    report(voucher, "600.00")
    reporting.approve_report(voucher, manager)
    db.session.commit()

    # The advance covers the 600 payable: closed, and 400 is due back from the SME.
    assert voucher.state == "paid"
    assert settlement.payable(voucher) == Decimal("600.00")
    assert settlement.recovery_due(voucher) == Decimal("400.00")
    assert settlement.due(voucher) is None
    # What was not paid is released; what the SME holds stays committed until recovered.
    assert voucher.committed_amount == Decimal("1000.00") == cvt.committed
    assert "€400.00 is due back from the SME" in voucher.audit_records[-1].comment
    assert_books_balance()

    refused(lambda: payments.record_recovery(voucher, manager, Decimal("400.01"),
                                             received_on=today(), reference="BACK"),
            "more than the €400.00 due back", PaymentRefused)
    payments.record_recovery(voucher, manager, Decimal("400.00"), received_on=today(),
                             reference="BACK-1")
    db.session.commit()

    assert settlement.recovery_due(voucher) == 0
    assert (voucher.paid_amount, voucher.committed_amount) == (Decimal("600.00"),
                                                               Decimal("600.00"))
    assert (cvt.committed, cvt.paid) == (Decimal("600.00"), Decimal("600.00"))
    assert cvt.remaining_envelope == Decimal("59400.00")
    assert [k for k, *_ in kinds(voucher)] == [COMMITMENT, ADVANCE, RELEASE, RECOVERY, RELEASE]
    assert [(t, a) for t, _, a in trail(voucher)][-2:] == [
        ("recovery", Decimal("400.00")), ("release", Decimal("400.00"))]
    refused(lambda: payments.record_recovery(voucher, manager, Decimal("1"),
                                             received_on=today(), reference="BACK-2"),
            "Nothing is due back")
    assert_books_balance()


def test_the_final_payment_is_the_payable_amount_less_the_advance(make, advance_call, manager):
    cvt = advance_call
    voucher = awarded(make, cvt, manager, "2000.00")
    pay(voucher, manager, "1000.00", kind=ADVANCE, reference="ADV-1")
    report(voucher, "1500.00")
    reporting.approve_report(voucher, manager)
    db.session.commit()
    assert voucher.state == "completed"
    assert settlement.due(voucher) == ("payment", Decimal("500.00"))
    assert voucher.committed_amount == Decimal("1500.00")
    pay(voucher, manager, "500.00", reference="FINAL")
    assert voucher.state == "paid" and voucher.outstanding == 0
    assert settlement.recovery_due(voucher) == 0
    assert_books_balance()


def test_cancelling_after_an_advance_leaves_the_advance_due_back(make, advance_call, manager):
    cvt = advance_call
    voucher = awarded(make, cvt, manager, "2000.00")
    pay(voucher, manager, "1000.00", kind=ADVANCE, reference="ADV-1")

    transitions.cancel(voucher, manager, "The trade mission was called off.")
    db.session.commit()

    assert voucher.state == "cancelled"
    assert settlement.recovery_due(voucher) == Decimal("1000.00")
    # The quota place and the unpaid half return at once; the advance when recovered.
    assert (cvt.committed, cvt.awarded_count) == (Decimal("1000.00"), 0)
    assert voucher.committed_amount == Decimal("1000.00")
    assert kinds(voucher)[-1] == (RELEASE, Decimal("-1000.00"), Decimal("0.00"), -1)
    assert_books_balance()

    payments.record_recovery(voucher, manager, Decimal("1000.00"), received_on=today(),
                             reference="BACK-1")
    db.session.commit()

    assert settlement.recovery_due(voucher) == 0
    assert (cvt.committed, cvt.paid, voucher.committed_amount) == (
        Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert_books_balance()


def test_an_advance_is_refused_where_the_call_pays_none(make, cvt, manager):
    voucher = awarded(make, cvt, manager, "2000.00")
    refused(lambda: payments.record_payment(voucher, manager, Decimal("10"), paid_on=today(),
                                            reference="A", kind=ADVANCE),
            "This call pays no advances.", PaymentRefused)


def test_reversing_an_advance_already_partly_recovered_says_why_it_is_refused(
        make, advance_call, manager):
    voucher = awarded(make, advance_call, manager, "2000.00")
    advance = pay(voucher, manager, "1000.00", kind=ADVANCE, reference="ADV-1")
    report(voucher, "600.00")
    reporting.approve_report(voucher, manager)
    payments.record_recovery(voucher, manager, Decimal("400.00"), received_on=today(),
                             reference="BACK-1")
    db.session.commit()
    message = refused(lambda: payments.reverse_payment(advance, manager, "Bank returned it."),
                      "", PaymentRefused)
    assert "same moment" not in message
    assert "recovered" in message


# --- history is never edited -------------------------------------------------------------


@pytest.mark.parametrize("model", [LedgerEntry, AuditRecord])
@pytest.mark.parametrize("how", ["update", "delete"])
def test_ledger_entries_and_audit_records_cannot_be_edited_or_deleted(make, cvt, manager,
                                                                      model, how):
    voucher = awarded(make, cvt, manager, "2960.50")
    row = db.session.scalars(select(model).where(model.application_id == voucher.id)
                             .order_by(model.id.desc())).first()
    before = snapshot()
    row = db.session.get(model, row.id)
    if how == "update":
        if model is LedgerEntry:
            row.committed = Decimal("1.00")
        else:
            row.comment = "Rewritten."
    else:
        db.session.delete(row)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert snapshot() == before


# --- migration 0007 books the past -------------------------------------------------------




def _backends():
    yield pytest.param("sqlite", id="sqlite")
    reason = postgres_reachable()
    skip = bool(reason) and os.environ.get("REQUIRE_POSTGRES") != "1"
    yield pytest.param("postgresql", id="postgresql",
                       marks=pytest.mark.skipif(skip, reason=reason or ""))


@pytest.fixture(params=list(_backends()))
def app_at_0006(request, tmp_path):
    """An app whose database is migrated to 0006 only (before the ledger)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = "sqlite:///" + str(tmp_path / "at0006.db")
        else:
            url = stack.enter_context(postgres_database(POSTGRES_DEFAULT, "backfill"))
        os.environ["INSTANCE_PATH"] = str(tmp_path / "instance")
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                          "SECRET_KEY": "test-secret-key"})
        with app.app_context():
            upgrade(revision="0006")
            yield app
            db.session.remove()
            db.engine.dispose()


class Rows:
    """Rows written as the code of 0006 wrote them (raw SQL: the models are at head)."""

    def __init__(self, conn):
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.meta = sa.MetaData()

    def money(self, amount: str):
        # Money is whole cents inside SQLite (models/base.Money).
        return int(Decimal(amount) * 100) if self.sqlite else Decimal(amount)

    def at(self, moment: datetime):
        return moment.replace(tzinfo=None) if self.sqlite else moment

    def add(self, table: str, **values) -> int:
        with warnings.catch_warnings():
            # SQLite's reflection skips the users' expression index; it is not written to.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection")
            t = sa.Table(table, self.meta, autoload_with=self.conn)
        return self.conn.execute(t.insert().values(**values).returning(t.c.id)).scalar_one()


def _populate_0006(conn) -> dict[str, int]:
    """Four travel vouchers as 0006 left them: paid 2,890.40 of 2,960.50 (70.10 committed
    for ever), cancelled (released by the old cancel), completed on a report of no costs
    (stuck), and awarded."""
    r = Rows(conn)
    now = datetime.now(UTC).replace(microsecond=0)
    awarded_at, decided_at = now - timedelta(days=40), now - timedelta(days=5)
    programme = r.add("programmes", name="Health vouchers", funder="Interreg NWE",
                      currency="EUR", total_budget=r.money("1240000"),
                      starts_on=date(2026, 1, 1), ends_on=date(2028, 12, 31), regions=[])
    call = r.add("calls", programme_id=programme, code="HLS1", title="Call one",
                 description="", opens_at=r.at(now - timedelta(days=90)),
                 closes_at=r.at(now - timedelta(days=60)), created_at=r.at(now),
                 allowed_sizes=["micro", "small", "medium"], divergence_share=Decimal("0.3"),
                 extra_evaluator_on_divergence=False)
    # Committed: the paid, the completed and the awarded voucher (the cancelled one was
    # released by 0006's cancel).
    cvt = r.add("call_voucher_types", call_id=call, voucher_type="travel", position=0,
                quota=12, max_amount=r.money("5000"), funding_rate=Decimal("1.0000"),
                envelope=r.money("60000"), committed=r.money("4960.50"), awarded_count=3,
                score_scale=5, references_issued=4, provider_other_region=False,
                required_attachments=[])
    org = r.add("organisations", legal_name="Nordic Biotech ApS", registry_number="DK12345678",
                country="DK", region="Capital Region", size="small", sector="biotech",
                award_lock=0, created_at=r.at(now))
    applicant = r.add("users", email="sme@test.example", name="Applicant", role="applicant",
                      enabled=True, session_generation=0, created_at=r.at(now),
                      organisation_id=org)
    manager = r.add("users", email="manager@test.example", name="Manager", role="manager",
                    enabled=True, session_generation=0, created_at=r.at(now))
    ids = {}
    for n, (name, state, amount) in enumerate((
            ("paid", "paid", "2960.50"), ("cancelled", "cancelled", "1000.00"),
            ("zero", "completed", "500.00"), ("open", "awarded", "1500.00")), 1):
        ids[name] = r.add(
            "applications", reference=f"HLS1-TR-{n:05d}", call_id=call,
            call_voucher_type_id=cvt, voucher_type="travel", organisation_id=org,
            applicant_id=applicant, title=f"Trip {n}", summary="BIO-Europe.", details={},
            requested_amount=r.money(amount), awarded_amount=r.money(amount),
            paid_amount=r.money("2890.40" if name == "paid" else "0"), state=state,
            review_count=1, decision_reason="", created_at=r.at(awarded_at),
            awarded_at=r.at(awarded_at), decided_at=r.at(decided_at if name == "cancelled"
                                                         else awarded_at),
            submitted_at=r.at(awarded_at), version=5)
    for name, costs in (("paid", "2890.40"), ("zero", "0")):
        r.add("final_reports", application_id=ids[name], summary="Done.",
              actual_costs=r.money(costs), submitted_at=r.at(decided_at),
              decided_at=r.at(decided_at), decision_comment="")
    r.add("payments", application_id=ids["paid"], amount=r.money("2890.40"),
          paid_on=decided_at.date(), reference="BANK-7", invoice_number="",
          recorded_by_id=manager, recorded_at=r.at(decided_at))
    ids["cvt"] = cvt
    return ids


def test_migration_0007_books_the_past_and_releases_what_close_out_left_committed(
        app_at_0006):
    with db.engine.begin() as conn:
        ids = _populate_0006(conn)

    upgrade()

    cvt = db.session.get(CallVoucherType, ids["cvt"])
    # The counters equal the ledger, and the 70.10 and the zero report's 500 are back.
    assert_books_balance()
    assert (cvt.committed, cvt.paid) == (Decimal("4390.40"), Decimal("2890.40"))
    assert cvt.remaining_envelope == Decimal("55609.60")
    # The zero report's quota place came back too (the call's default).
    assert cvt.awarded_count == 2
    paid, cancelled, zero, open_ = (db.session.get(Application, ids[k])
                                    for k in ("paid", "cancelled", "zero", "open"))
    assert (paid.released_amount, paid.outstanding) == (Decimal("70.10"), Decimal("0.00"))
    assert kinds(paid) == [(COMMITMENT, Decimal("2960.50"), Decimal("0.00"), 1),
                           (PAYMENT, Decimal("0.00"), Decimal("2890.40"), 0),
                           (RELEASE, Decimal("-70.10"), Decimal("0.00"), 0)]
    payment_entry = ledger.entries_of(paid)[1]
    assert payment_entry.payment_id == payments.payments_of(paid)[0].id
    assert kinds(cancelled) == [(COMMITMENT, Decimal("1000.00"), Decimal("0.00"), 1),
                                (RELEASE, Decimal("-1000.00"), Decimal("0.00"), -1)]
    assert cancelled.committed_amount == Decimal("0.00")
    assert kinds(zero) == [(COMMITMENT, Decimal("500.00"), Decimal("0.00"), 1),
                           (RELEASE, Decimal("-500.00"), Decimal("0.00"), -1)]
    assert kinds(open_) == [(COMMITMENT, Decimal("1500.00"), Decimal("0.00"), 1)]
    # Every award is in the de minimis register as granted.
    assert {g.application_id: g.amount for g in db.session.scalars(
        select(DeMinimisGrant))} == {ids["paid"]: Decimal("2960.50"),
                                     ids["cancelled"]: Decimal("1000.00"),
                                     ids["zero"]: Decimal("500.00"),
                                     ids["open"]: Decimal("1500.00")}
    # The ledger's own check agrees (what `flask ledger` prints).
    assert all(t.matches for t in ledger.totals(cvt.call_id))
    assert ledger.voucher_differences(cvt.call_id) == []


def test_migration_0007_closes_a_voucher_left_completed_on_a_report_of_no_costs(app_at_0006):
    with db.engine.begin() as conn:
        ids = _populate_0006(conn)
    upgrade()
    zero = db.session.get(Application, ids["zero"])
    assert zero.state == "paid"
    assert zero.audit_records[-1].trigger == "pay"

