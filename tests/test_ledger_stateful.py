"""Random money on a few vouchers of one call never breaks the books, on SQLite and PostgreSQL.

A hypothesis state machine awards, pays advances, reports (actual costs below, at and
above what the award covers, and zero), approves or returns reports, pays part or all of
what is due, reverses payments, cancels and records recoveries, on four vouchers of one
voucher type whose envelope and quota are too small for all of them (released money is
awarded again). After every step: the counters equal the ledger's sums per type and per
voucher, committed = awarded - released, nothing is negative, paid <= payable except for
an advance beyond the payable amount (then a recovery due), the quota places in use are
the commitments less the places returned, history is never edited, and a refused action
changed nothing at all.
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from tests import test_concurrency
from tests.conftest import _empty_all_tables
from tests.factories import Factories
from tests.helpers import snapshot
from tests.ledger_checks import assert_books_balance
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, AuditRecord, Call, CallVoucherType, LedgerEntry, Payment
from vouchers.models.ledger import (
    ADVANCE,
    COMMITMENT,
    LEDGER_KINDS,
    PAYMENT,
    RECOVERY,
    RELEASE,
    REVERSAL,
)
from vouchers.money import CENT, ZERO, to_money
from vouchers.services import payments, reporting, settlement, transitions
from vouchers.services.errors import DomainError
from workflows import lifecycle as lc

# The fixture of tests/test_concurrency.py: a migrated app per backend (PostgreSQL is
# skipped when no server answers, except in CI).
concurrent_app = test_concurrency.concurrent_app

RATE = Decimal("0.80")
# Quota 3 and an envelope of 7,000 for four requests of 8,695.05 in all: not every award
# fits until money or a quota place comes back.
TYPES = {"travel": (3, "3000", str(RATE), "7000")}
REQUESTS = ("2960.50", "1999.99", "2500.00", "1234.56")
VOUCHERS = len(REQUESTS)
indexes = st.integers(min_value=0, max_value=VOUCHERS - 1)
# What is paid or recovered, as a part of what is due ("over": a cent more, refused).
parts = st.sampled_from(["all", "half", "cent", "over"])
# Actual costs as a share of what the award covers: zero, below, at, above.
cost_shares = st.sampled_from(["0", "0.3", "0.5", "0.62", "1", "1.4"])

REACHED: dict[str, set[str]] = {"states": set(), "kinds": set(), "refused": set(),
                                "cases": set()}


def amount_of(part: str, due: Decimal) -> Decimal:
    if part == "all":
        return max(due, CENT)
    if part == "half":
        return max(to_money(due / 2), CENT)
    if part == "cent":
        return CENT
    return due + CENT


def net(entries, kind: str, paying: str | None = None, kinds: dict | None = None) -> Decimal:
    """The paid sum of ``kind``'s entries (a reversal's only of payments of ``paying``)."""
    return sum((e.paid for e in entries if e.kind == kind
                and (paying is None or kinds[e.payment_id] == paying)), ZERO)


class Books(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        db.session.rollback()
        _empty_all_tables()
        make = Factories()
        self.call = make.call(TYPES)
        self.cvt_id = self.call.voucher_type("travel").id
        self.manager = make.manager()
        evaluator = make.evaluator()
        self.ids = []
        for requested in REQUESTS:
            costs = (Decimal(requested) / RATE).quantize(CENT, rounding=ROUND_UP)
            self.ids.append(make.application("under_review", self.call.voucher_type("travel"),
                                             manager=self.manager, evaluator=evaluator,
                                             requested=requested, costs=str(costs)).id)
        self.returns_quota = True
        # Every ledger entry as first seen: history is never edited or deleted.
        self.seen: dict[int, tuple] = {}
        self.payment_ids: set[int] = set()
        self.note_facts()

    # --- helpers ----------------------------------------------------------------------

    def voucher(self, i: int) -> Application:
        return db.session.get(Application, self.ids[i])

    def pick(self, i: int, states) -> Application:
        """The first voucher from ``i`` on in one of ``states``; else voucher ``i`` (whose
        refusal the step then checks): acting at random rarely meets the right state."""
        for j in [*range(i, VOUCHERS), *range(i)]:
            if self.voucher(j).state in states:
                return self.voucher(j)
        return self.voucher(i)

    def note_facts(self) -> None:
        """What the rules' preconditions ask, read once after each change."""
        vouchers = db.session.scalars(select(Application).where(Application.id.in_(self.ids)))
        self.facts = [(a.state, settlement.advance_due(a) > 0, settlement.recovery_due(a) > 0)
                      for a in vouchers]

    def some(self, states, owing: str | None = None) -> bool:
        """Whether a voucher is in one of ``states`` (and, with ``owing``, an "advance" is
        due to it or a "recovery" from it)."""
        return any(state in states and (owing is None or (advance, recovery)[
            owing == "recovery"]) for state, advance, recovery in self.facts)

    def attempt(self, what: str, action) -> None:
        """Run ``action``; a refusal must leave every row of every table as it was."""
        before = snapshot()
        try:
            action()
            db.session.commit()
            self.note_facts()
        except DomainError as exc:
            db.session.rollback()
            REACHED["refused"].add(what)
            assert snapshot() == before, f"{what} was refused ({exc.message}) but changed rows"

    # --- the call's money settings ------------------------------------------------------

    @initialize(share=st.sampled_from(["0.5", "0.3"]), returns_quota=st.booleans())
    def set_up_the_call(self, share, returns_quota):
        call = db.session.get(Call, self.call.id)
        call.advance_share = Decimal(share)
        call.zero_report_returns_quota = returns_quota
        self.returns_quota = returns_quota
        db.session.commit()
        self.note_facts()

    # --- the rules ------------------------------------------------------------------

    # Each rule acts where it can (its precondition); "stray" tries any action anywhere.

    @precondition(lambda self: self.some((lc.UNDER_REVIEW, lc.WAITLISTED)))
    @rule(i=indexes, share=st.sampled_from(["1", "0.6"]))
    def award(self, i, share):
        a = self.pick(i, (lc.UNDER_REVIEW, lc.WAITLISTED))
        amount = to_money(a.requested_amount * Decimal(share))
        self.attempt("award", lambda: transitions.award(a, self.manager, amount))

    def _advance(self, a: Application, part: str) -> None:
        amount = amount_of(part, settlement.advance_due(a))
        self.attempt("advance", lambda: payments.record_payment(
            a, self.manager, amount, paid_on=today(), reference=f"ADV-{a.id}", kind=ADVANCE))

    @precondition(lambda self: self.some(settlement.ADVANCE_STATES, "advance"))
    @rule(i=indexes, part=parts)
    def advance(self, i, part):
        self._advance(self.pick(i, settlement.ADVANCE_STATES), part)

    @precondition(lambda self: self.some((lc.AWARDED, lc.REPORTING)))
    @rule(i=indexes, share=cost_shares, cents=st.integers(min_value=-2, max_value=2))
    def report(self, i, share, cents):
        a = self.pick(i, (lc.AWARDED, lc.REPORTING))
        covered = (a.awarded_amount or a.requested_amount) / RATE
        costs = max(ZERO, to_money(covered * Decimal(share)) + cents * CENT)
        if share == "0":
            costs = ZERO

        def act():
            if a.state == lc.AWARDED:
                reporting.start_reporting(a, a.applicant)
            reporting.save_final_report(a, a.applicant, summary="Done.", actual_costs=costs)
            reporting.submit_final_report(a, a.applicant)
        self.attempt("report", act)

    @precondition(lambda self: self.some((lc.REPORT_SUBMITTED,)))
    @rule(i=indexes, approve=st.booleans())
    def decide_report(self, i, approve):
        a = self.pick(i, (lc.REPORT_SUBMITTED,))
        if approve:
            self.attempt("approve", lambda: reporting.approve_report(a, self.manager))
        else:
            self.attempt("return", lambda: reporting.return_report(a, self.manager,
                                                                   "Add the invoices."))

    def _pay(self, a: Application, part: str) -> None:
        amount = amount_of(part, settlement.final_due(a))
        self.attempt("pay", lambda: payments.record_payment(
            a, self.manager, amount, paid_on=today(), reference=f"PAY-{a.id}"))

    @precondition(lambda self: self.some((lc.COMPLETED,)))
    @rule(i=indexes, part=parts)
    def pay(self, i, part):
        self._pay(self.pick(i, (lc.COMPLETED,)), part)

    @rule(k=st.integers(min_value=0, max_value=20), again=st.booleans())
    def reverse(self, k, again):
        """Reverse a payment not reversed yet (or, with ``again``, one already reversed:
        refused)."""
        reversed_ids = set(db.session.scalars(
            select(LedgerEntry.payment_id).where(LedgerEntry.kind == REVERSAL)))
        candidates = [p for p in db.session.scalars(select(Payment).order_by(Payment.id))
                      if (p.id in reversed_ids) == again]
        if not candidates:
            return
        payment = candidates[k % len(candidates)]
        self.attempt("reverse", lambda: payments.reverse_payment(
            payment, self.manager, "Returned by the bank: wrong account."))

    @precondition(lambda self: self.some((lc.AWARDED, lc.REPORTING)))
    @rule(i=indexes, really=st.sampled_from([True, False, False]))
    def cancel(self, i, really):
        """Cancel now and then (every time would end most vouchers before their report)."""
        if not really:
            return
        a = self.pick(i, (lc.AWARDED, lc.REPORTING))
        self.attempt("cancel", lambda: transitions.cancel(a, self.manager, "Trip called off."))

    def _recover(self, a: Application, part: str) -> None:
        amount = amount_of(part, settlement.recovery_due(a))
        self.attempt("recover", lambda: payments.record_recovery(
            a, self.manager, amount, received_on=today(), reference=f"BACK-{a.id}"))

    @precondition(lambda self: self.some(lc.STATES, "recovery"))
    @rule(i=indexes, part=parts)
    def recover(self, i, part):
        for j in [*range(i, VOUCHERS), *range(i)]:
            if settlement.recovery_due(self.voucher(j)) > 0:
                self._recover(self.voucher(j), part)
                return
        self._recover(self.voucher(i), part)

    @rule(i=indexes, share=cost_shares, part=parts)
    def forward(self, i, share, part):
        """The next step of voucher ``i``'s normal life, so runs reach the late ones."""
        a = self.voucher(i)
        if a.state in (lc.UNDER_REVIEW, lc.WAITLISTED):
            self.award(i, "1")
        elif a.state == lc.AWARDED and settlement.advance_due(a) > 0:
            self._advance(a, "all")
        elif a.state in (lc.AWARDED, lc.REPORTING):
            self.report(i, share, 0)
        elif a.state == lc.REPORT_SUBMITTED:
            self.decide_report(i, True)
        elif a.state == lc.COMPLETED:
            self._pay(a, part)
        elif settlement.recovery_due(a) > 0:
            self._recover(a, part)

    @rule(i=indexes, share=cost_shares, part=parts)
    def forward_again(self, i, share, part):
        self.forward(i, share, part)

    @rule(i=indexes, action=st.sampled_from(["advance", "pay", "recover", "cancel"]),
          part=parts)
    def stray(self, i, action, part):
        """Any money action on voucher ``i`` whatever its state: most are refused."""
        a = self.voucher(i)
        if action == "cancel":
            self.attempt("cancel", lambda: transitions.cancel(a, self.manager, "Gave up."))
        else:
            getattr(self, "_" + action)(a, part)

    # --- after every step -----------------------------------------------------------

    @invariant()
    def books_balance(self):
        db.session.expire_all()
        assert_books_balance()

    @invariant()
    def each_voucher_keeps_the_money_rules(self):
        for a in db.session.scalars(select(Application).where(Application.id.in_(self.ids))):
            REACHED["states"].add(a.state)
            entries = [e for e in db.session.scalars(
                select(LedgerEntry).where(LedgerEntry.application_id == a.id))]
            REACHED["kinds"].update(e.kind for e in entries)
            if a.awarded_amount is None:
                assert entries == [] and a.paid_amount == ZERO == a.released_amount
                continue
            assert [e.kind for e in entries].count(COMMITMENT) == 1
            kinds = dict(db.session.execute(select(Payment.id, Payment.kind)
                                            .where(Payment.application_id == a.id)).all())
            advances = net(entries, ADVANCE) + net(entries, REVERSAL, ADVANCE, kinds)
            finals = net(entries, PAYMENT) + net(entries, REVERSAL, PAYMENT, kinds)
            recovered = -net(entries, RECOVERY)
            assert advances >= 0 and finals >= 0 and recovered >= 0
            assert a.paid_amount == advances + finals - recovered
            assert advances <= settlement.advance_cap(a)
            payable, due_back = settlement.payable(a), settlement.recovery_due(a)
            assert due_back >= 0
            if a.state in settlement.ADVANCE_STATES:
                # Before the report is approved only advances are paid, and all is held.
                assert finals == 0 and due_back == 0
                assert a.committed_amount == a.awarded_amount
            elif a.state in settlement.CLOSED_STATES:
                # Payments never pass the payable amount; only advances may, and what
                # they paid beyond it is due back until recovered.
                assert finals <= payable
                assert a.paid_amount <= payable + due_back
                assert due_back == max(a.paid_amount - payable, ZERO)
                REACHED["cases"].update(case for case, met in (
                    ("nothing payable", payable == 0), ("recovery due", due_back > 0),
                    ("payable below the award", 0 < payable < a.awarded_amount),
                    ("payable is the award", payable == a.awarded_amount)) if met)
                if a.paid_amount > payable:
                    assert finals == 0 and due_back <= advances - recovered
                if a.state == lc.PAID:
                    assert a.paid_amount >= payable and a.outstanding == 0
                else:
                    assert a.paid_amount < payable
            else:
                assert a.state == lc.CANCELLED
                # Cancelled before any report: what was advanced is due back, and held
                # (committed) until it is recovered.
                assert finals == 0 and due_back == a.paid_amount
                assert a.committed_amount == a.paid_amount

    @invariant()
    def quota_places_are_commitments_less_places_returned(self):
        cvt = db.session.get(CallVoucherType, self.cvt_id)
        commitments, returned = db.session.execute(
            select(func.count().filter(LedgerEntry.kind == COMMITMENT),
                   func.count().filter(LedgerEntry.kind == RELEASE, LedgerEntry.quota == -1))
            .where(LedgerEntry.call_voucher_type_id == cvt.id)).one()
        assert cvt.awarded_count == commitments - returned
        # The same from the vouchers: a place is held by every voucher not cancelled,
        # unless it closed on a report of no eligible costs in a call that gives it back.
        holding = 0
        for a in db.session.scalars(select(Application).where(
                Application.awarded_amount.is_not(None))):
            gave_back = a.state == lc.CANCELLED or (
                self.returns_quota and a.state in settlement.CLOSED_STATES
                and settlement.payable(a) == 0)
            holding += not gave_back
        assert cvt.awarded_count == holding <= cvt.quota

    @invariant()
    def history_is_never_edited(self):
        entries = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        now = {e.id: (e.application_id, e.kind, e.committed, e.paid, e.quota, e.payment_id)
               for e in entries}
        assert all(now.get(i) == row for i, row in self.seen.items()), "a ledger entry changed"
        self.seen = now
        payment_ids = set(db.session.scalars(select(Payment.id)))
        assert payment_ids >= self.payment_ids, "a payment was deleted"
        self.payment_ids = payment_ids
        # Every movement after the commitment has its audit record (the award's own
        # record tells the commitment).
        audits = db.session.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.trigger.in_([k for k in LEDGER_KINDS if k != COMMITMENT])))
        assert audits == sum(1 for e in entries if e.kind != COMMITMENT)

    def teardown(self):
        db.session.rollback()


def test_random_money_never_breaks_the_books(concurrent_app):
    for seen in REACHED.values():
        seen.clear()
    with concurrent_app.app_context():
        run_state_machine_as_test(Books, settings=settings(
            max_examples=12, stateful_step_count=40, deadline=None, database=None,
            derandomize=True, suppress_health_check=[HealthCheck.too_slow],
            # A failure is reported as found: shrinking a 40-step run against a database
            # can take longer than the whole suite.
            phases=[Phase.explicit, Phase.reuse, Phase.generate]))
        db.session.remove()
    # The runs went through the money's whole life, not only its refusals.
    assert {lc.AWARDED, lc.REPORTING, lc.COMPLETED, lc.PAID, lc.CANCELLED} <= REACHED["states"]
    assert set(LEDGER_KINDS) <= REACHED["kinds"]
    assert {"advance", "pay", "recover", "cancel", "reverse"} <= REACHED["refused"]
    assert REACHED["cases"] == {"nothing payable", "recovery due", "payable below the award",
                                "payable is the award"}
