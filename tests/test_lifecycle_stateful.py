"""Random sequences of actions on the applications of one call never break the rules.

After every step: committed <= envelope and awarded count <= quota per type (and they
equal what the vouchers hold: their awards less what close-out or cancellation released,
a place for every voucher not cancelled nor closed on a report of no costs), the books
balance (tests/ledger_checks), paid <= awarded and equals the ledger's payments, paid <=
payable except for an advance beyond it (then due back: a recovery), the de minimis cap
holds for every undertaking, and each application's audit trail replays, through the
lifecycle's own transitions, to its current state (money movements keep the state).
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from tests.conftest import _empty_all_tables
from tests.factories import Factories
from tests.ledger_checks import assert_books_balance
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.figures import LIVE_VOUCHER_STATES
from vouchers.models import Application, AuditRecord, CallVoucherType, LedgerEntry, Organisation
from vouchers.models.ledger import ADVANCE, LEDGER_KINDS
from vouchers.money import to_money
from vouchers.services import payments, reporting, reviews, settlement, transitions
from vouchers.services.budget import de_minimis_cap
from vouchers.services.errors import DomainError
from workflows import lifecycle as lc

APPLICATIONS = 8
TYPES = {"travel": (2, "5000", "1.00", "8000"), "impact": (2, "100000", "0.50", "150000")}
VALID = {(s, t.trigger, t.dest) for t in lc.TRANSITIONS for s in t.sources}

indexes = st.integers(min_value=0, max_value=APPLICATIONS - 1)


REACHED: set[str] = set()


class VoucherLife(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        db.session.rollback()
        _empty_all_tables()
        make = Factories()
        self.call = make.call(TYPES)
        # Half of each award is paid in advance: a cancellation may then leave money due
        # back, and a report may pay less than the advance.
        self.call.advance_share = Decimal("0.5")
        db.session.commit()
        self.manager = make.manager()
        self.evaluator = make.evaluator()
        # Three undertakings, one already close to the de minimis cap.
        self.applicants = [make.applicant(declared="0"), make.applicant(declared="0"),
                           make.applicant(declared="280000")]
        self.ids = []
        for i in range(APPLICATIONS):
            cvt = self.call.voucher_type("travel" if i % 2 else "impact")
            application = make.draft(cvt, self.applicants[i % 3])
            self.ids.append(application.id)

    def app_(self, i) -> Application:
        return db.session.get(Application, self.ids[i])

    def attempt(self, i, action):
        """Run an action; a refusal must leave the application's state as it was."""
        application = self.app_(i)
        before = application.state
        try:
            action(application)
            db.session.commit()
            # A rule that forwards a voucher several steps passes states the invariants
            # never see (completed on its way to paid): count them as explored too.
            REACHED.add(self.app_(i).state)
        except DomainError:
            db.session.rollback()
            assert self.app_(i).state == before

    FORWARD = {lc.DRAFT: "submit", lc.RETURNED: "submit", lc.SUBMITTED: "review",
               lc.UNDER_REVIEW: "award", lc.WAITLISTED: "award", lc.AWARDED: "advance_and_report",
               lc.REPORTING: "report", lc.REPORT_SUBMITTED: "decide_report",
               lc.COMPLETED: "pay"}

    def forward(self, i):
        """The next step of a voucher's normal life, so runs reach the late states."""
        step = self.FORWARD.get(self.app_(i).state)
        if step == "review":
            self.review(i, 4)
            self.forward(i)
        elif step == "award":
            self.award(i, "0.5")
        elif step == "advance_and_report":
            if settlement.advance_due(self.app_(i)) > 0:
                self.pay_advance(i, "1")
            self.start_reporting(i)
        elif step == "report":
            # Travel: costs the award covers in full, so a final payment is due; impact:
            # 3,000 of costs, less than the advance, so some of it is due back.
            a = self.app_(i)
            full = to_money(a.awarded_amount / a.call_voucher_type.funding_rate)
            self.report(i, str(full) if a.voucher_type == "travel" else "3000")
        elif step == "decide_report":
            self.decide_report(i, True)
        elif step == "pay":
            self.pay(i, "1")
        elif step:
            getattr(self, step)(i)

    @rule(i=indexes)
    def advance(self, i):
        self.forward(i)

    @rule(i=indexes)
    def advance_again(self, i):
        self.forward(i)

    LIFE = (lc.DRAFT, lc.RETURNED, lc.SUBMITTED, lc.UNDER_REVIEW, lc.WAITLISTED, lc.AWARDED,
            lc.REPORTING, lc.REPORT_SUBMITTED, lc.COMPLETED)

    @rule(i=indexes, voucher_type=st.sampled_from(list(TYPES)),
          steps=st.integers(min_value=1, max_value=3))
    def advance_the_furthest(self, i, voucher_type, steps):
        """Forward the application of the type furthest along (from i on) a few steps:
        runs reach close-out."""
        order = [*range(i, APPLICATIONS), *range(i)]
        live = [j for j in order if self.app_(j).state in self.LIFE
                and self.app_(j).voucher_type == voucher_type]
        if live:
            furthest = max(live, key=lambda j: self.LIFE.index(self.app_(j).state))
            for _ in range(steps):
                self.forward(furthest)

    @rule(i=indexes)
    def submit(self, i):
        self.attempt(i, lambda a: transitions.submit(a, a.applicant))

    @rule(i=indexes)
    def withdraw(self, i):
        self.attempt(i, lambda a: transitions.withdraw(a, a.applicant))

    @rule(i=indexes)
    def return_for_changes(self, i):
        self.attempt(i, lambda a: transitions.return_for_changes(a, self.manager, "More detail."))

    @rule(i=indexes, score=st.integers(min_value=0, max_value=5))
    def review(self, i, score):
        def act(a):
            if reviews.assignment_of(a, self.evaluator) is None:
                reviews.assign(a, self.evaluator, self.manager)
                reviews.confirm_no_conflict(a, self.evaluator)
            criteria = a.call_voucher_type.criteria
            reviews.submit_review(a, self.evaluator, scores={c.id: score for c in criteria},
                                  recommendation="award", comment="Scored.")
        self.attempt(i, act)

    @rule(i=indexes, share=st.sampled_from(["0.2", "0.5", "1", "1.5"]))
    def award(self, i, share):
        self.attempt(i, lambda a: transitions.award(
            a, self.manager, to_money(a.requested_amount * Decimal(share))))

    @rule(i=indexes)
    def reject(self, i):
        self.attempt(i, lambda a: transitions.reject(a, self.manager, "Not selected."))

    @rule(i=indexes)
    def reject_an_application(self, i):
        """Reject the first application from i on that awaits a decision."""
        for j in [*range(i, APPLICATIONS), *range(i)]:
            if self.app_(j).state in (lc.SUBMITTED, lc.UNDER_REVIEW, lc.WAITLISTED):
                self.reject(j)
                return

    @rule(i=indexes)
    def waitlist(self, i):
        self.attempt(i, lambda a: transitions.waitlist(a, self.manager))

    @rule(i=indexes)
    def cancel(self, i):
        self.attempt(i, lambda a: transitions.cancel(a, self.manager, "Given up."))

    @rule(i=indexes, advance_first=st.booleans())
    def cancel_a_voucher(self, i, advance_first):
        """Cancel the first voucher from i on: cancelling at random rarely meets one."""
        for j in [*range(i, APPLICATIONS), *range(i)]:
            if self.app_(j).state in (lc.AWARDED, lc.REPORTING):
                if advance_first and settlement.advance_due(self.app_(j)) > 0:
                    self.pay_advance(j, "0.5")
                self.cancel(j)
                return

    @rule(i=indexes)
    def start_reporting(self, i):
        self.attempt(i, lambda a: reporting.start_reporting(a, a.applicant))

    @rule(i=indexes, costs=st.sampled_from(["0", "100", "3000", "250000"]))
    def report(self, i, costs):
        def act(a):
            reporting.save_final_report(a, a.applicant, summary="Done.", actual_costs=costs)
            reporting.submit_final_report(a, a.applicant)
        self.attempt(i, act)

    @rule(i=indexes, approve=st.booleans())
    def decide_report(self, i, approve):
        if approve:
            self.attempt(i, lambda a: reporting.approve_report(a, self.manager))
        else:
            self.attempt(i, lambda a: reporting.return_report(a, self.manager, "Add invoices."))

    @rule(i=indexes, share=st.sampled_from(["0.3", "0.5", "1", "1.2"]))
    def pay(self, i, share):
        self.attempt(i, lambda a: payments.record_payment(
            a, self.manager, max(Decimal("0.01"), to_money(
                (settlement.payable(a) - a.paid_amount) * Decimal(share))),
            paid_on=today(), reference=f"P{i}"))

    @rule(i=indexes, share=st.sampled_from(["0.5", "1", "1.2"]))
    def pay_advance(self, i, share):
        self.attempt(i, lambda a: payments.record_payment(
            a, self.manager, max(Decimal("0.01"), to_money(
                settlement.advance_due(a) * Decimal(share))),
            paid_on=today(), reference=f"A{i}", kind=ADVANCE))

    @invariant()
    def budget_holds(self):
        db.session.expire_all()
        REACHED.update(db.session.scalars(select(Application.state)))
        for cvt in db.session.scalars(select(CallVoucherType)):
            held = [a for a in db.session.scalars(select(Application).where(
                Application.call_voucher_type_id == cvt.id,
                Application.awarded_amount.is_not(None)))]
            # Committed: what the vouchers still hold (a cancelled one its advance).
            assert cvt.committed == sum(a.committed_amount for a in held) <= cvt.envelope
            # A quota place for every voucher not cancelled, unless it closed on a report
            # of no eligible costs (the call's default gives that place back).
            places = [a for a in held if a.state in lc.VOUCHER_STATES
                      and not (a.state in settlement.CLOSED_STATES
                               and settlement.payable(a) == 0)]
            assert cvt.awarded_count == len(places) <= cvt.quota
        assert_books_balance()

    @invariant()
    def paid_never_exceeds_payable_but_for_an_advance_due_back(self):
        for a in db.session.scalars(select(Application)):
            paid = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.paid), 0))
                                     .where(LedgerEntry.application_id == a.id))
            assert a.paid_amount == paid
            assert a.paid_amount <= (a.awarded_amount or 0)
            if a.state in settlement.ADVANCE_STATES:
                assert a.paid_amount <= settlement.advance_cap(a)
            elif a.state in settlement.CLOSED_STATES:
                payable = settlement.payable(a)
                assert a.paid_amount <= payable + settlement.recovery_due(a)
                if a.paid_amount > payable:
                    # Only an advance passes the payable amount; the rest is due back.
                    assert a.paid_amount <= settlement.advance_cap(a)
                    assert settlement.recovery_due(a) == a.paid_amount - payable
                    REACHED.add("an advance beyond the payable amount")
            elif a.state == lc.CANCELLED:
                # Cancelling after an advance is allowed: the advance is due back.
                assert settlement.recovery_due(a) == a.paid_amount
                if a.paid_amount:
                    REACHED.add("cancelled after an advance")
            else:
                assert a.paid_amount == 0

    @invariant()
    def de_minimis_respected(self):
        for org in db.session.scalars(select(Organisation)):
            # The aid a voucher gives is what it still holds after close-out.
            awarded = db.session.scalar(
                select(func.coalesce(func.sum(Application.awarded_amount
                                              - Application.released_amount), 0))
                .where(Application.organisation_id == org.id,
                       Application.state.in_(LIVE_VOUCHER_STATES)))
            declared = sum((d.amount for d in org.aid_declarations), Decimal("0"))
            assert declared + awarded <= de_minimis_cap()

    @invariant()
    def audit_trail_replays_to_the_current_state(self):
        records = db.session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        trails: dict[int, list[AuditRecord]] = {}
        for r in records:
            trails.setdefault(r.application_id, []).append(r)
        for a in db.session.scalars(select(Application)):
            trail = trails[a.id]
            assert (trail[0].from_state, trail[0].to_state) == (None, lc.DRAFT)
            state = lc.DRAFT
            for r in trail[1:]:
                assert r.from_state == state
                if r.trigger in LEDGER_KINDS:
                    # A movement of money (a release, an advance) keeps the state.
                    assert r.to_state == state
                    continue
                assert (r.from_state, r.trigger, r.to_state) in VALID
                state = r.to_state
            assert state == a.state


def test_random_actions_never_break_the_budget_rules(app):
    REACHED.clear()
    run_state_machine_as_test(VoucherLife, settings=settings(
        max_examples=10, stateful_step_count=30, deadline=None, database=None,
        derandomize=True, suppress_health_check=[HealthCheck.too_slow]))
    # The run explored the lifecycle, not only refusals.
    assert {"awarded", "rejected", "reporting", "completed", "paid", "cancelled",
            "an advance beyond the payable amount", "cancelled after an advance"} <= REACHED
