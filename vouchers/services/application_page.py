"""Everything the manager's page of one application shows, read in a handful of queries.

The view draws the page from an ApplicationPage; what the manager may do there is asked of
vouchers/policy.py by the template, not decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows.lifecycle import UNDER_REVIEW

from .. import policy
from ..extensions import db
from ..models import Application, Assignment, AuditRecord, FinalReport, Payment, Review, User
from ..models.base import MAX_ID
from . import deadlines, eligibility, ranking, reporting, reviews, scoring, versions
from .assignment import Candidate, eligible_evaluators, wanted_per_application
from .errors import InvalidInput
from .voucher_money import VoucherMoney, voucher_money
from .wording import N_

CHOOSE_EVALUATOR = N_("Choose an evaluator from the list.")


@dataclass(frozen=True)
class ApplicationPage:
    application: Application
    reviews: list[Review]
    assignments: list[Assignment]
    records: list[AuditRecord]
    report: FinalReport | None
    payments: list[Payment]
    # actual costs x funding rate, at most the award; None until there is a report.
    payable: Decimal | None
    # Who may still be assigned, with their load in the call (empty past the review).
    evaluators: list[Candidate]
    wanted: int
    # Each eligibility rule's result (services/eligibility.py).
    rules: list[eligibility.RuleResult]
    # The submitted versions, oldest first (services/versions.py).
    versions: list
    # Thresholds, divergence and consensus (services/scoring.py).
    scoring: object
    # The application's place in its ranking or on the reserve list (services/ranking.py).
    rank: object
    # The voucher's figures, ledger and payments (services/voucher_money.py).
    money: VoucherMoney

    @property
    def scores_of(self) -> dict[int, dict[int, int | None]]:
        """review id -> criterion id -> score (None: "not applicable")."""
        return {r.id: {s.criterion_id: s.score for s in r.scores} for r in self.reviews}

    @property
    def standing(self) -> int:
        return sum(1 for a in self.assignments if not a.has_conflict)

    @property
    def needs_another(self) -> bool:
        """A declared conflict left fewer standing evaluators than wanted."""
        conflicts = len(self.assignments) - self.standing
        return conflicts > 0 and self.standing < self.wanted

    @property
    def review_deadlines(self) -> dict[int, deadlines.Deadline]:
        """{assignment id: the call's review deadline} for each standing assignment whose
        review of the current version is still to come (deadlines.review_pending's twin,
        read from the rows the page already holds: no query)."""
        application = self.application
        if application.state != UNDER_REVIEW:
            return {}
        reviewed = {r.evaluator_id for r in self.reviews
                    if r.version == application.submission_number}
        found = {}
        for a in self.assignments:
            deadline = deadlines.review_deadline(
                application.call, not a.has_conflict and a.evaluator_id not in reviewed)
            if deadline is not None:
                found[a.id] = deadline
        return found

    @property
    def due_now(self) -> Decimal | None:
        """What a payment recorded now should be: the advance or final payment due."""
        return self.money.due[1] if self.money.due else None


def application_page(application: Application) -> ApplicationPage:
    reviews_ = reviews.reviews_of(application)
    assignments = list(db.session.scalars(
        select(Assignment).where(Assignment.application_id == application.id)
        .options(joinedload(Assignment.evaluator))
        .order_by(Assignment.assigned_at, Assignment.id)
    ))
    records = list(db.session.scalars(
        select(AuditRecord).where(AuditRecord.application_id == application.id)
        .options(joinedload(AuditRecord.actor)).order_by(AuditRecord.id)
    ))
    money = voucher_money(application)
    report = reporting.final_report_of(application)
    reviewable = application.state in policy.REVIEWABLE_STATES
    return ApplicationPage(
        application=application, reviews=reviews_, assignments=assignments, records=records,
        report=report, payments=[row.payment for row in money.payments],
        payable=money.payable if report is not None else None,
        evaluators=eligible_evaluators(application) if reviewable else [],
        wanted=wanted_per_application(),
        rules=eligibility.evaluate(application), versions=versions.versions_of(application),
        scoring=scoring.summary(application, [
            r for r in reviews_ if r.version == application.submission_number]),
        rank=ranking.position_of(application), money=money,
    )


def assign_evaluator(application: Application, evaluator_id: int, by: User) -> User:
    """Assign the evaluator chosen by id on the page; reviews.assign decides who may be."""
    evaluator = db.session.get(User, evaluator_id) if 0 < evaluator_id <= MAX_ID else None
    if evaluator is None:
        raise InvalidInput(_(CHOOSE_EVALUATOR))
    reviews.assign(application, evaluator, by)
    return evaluator
