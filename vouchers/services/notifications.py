"""Who hears of what: one function per event, called by the service that makes it happen.

Each runs inside the caller's atomic() and queues its messages through outbox.queue, so
the e-mail is part of the change: a refused or rolled-back action tells nobody. The
templates are templates/mail/<kind>.txt and .html; vouchers/mail_kinds.py says which kinds
are urgent. The applicant's messages go to the application's applicant, the evaluators'
to each evaluator once per call; a disabled account is told nothing.

What a message shows of the evaluation is what the applicant may see: the scores (the
consensus's where one was recorded, else the evaluators' mean) against the call's
thresholds, never who scored or what they wrote.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows.lifecycle import WAITLISTED

from ..clock import today
from ..extensions import db
from ..models import (
    Application,
    Assignment,
    BatchItem,
    Call,
    CallVoucherType,
    Payment,
    User,
)
from ..models.ledger import KIND_LABELS
from ..money import ZERO
from . import outbox, ranking, scoring, settlement, transitions


def _tell_applicant(kind: str, application: Application, **context) -> None:
    user = application.applicant
    if user is None or not user.enabled:
        return
    outbox.queue(kind, to=user, context=context, application=application)


def submitted(application: Application) -> None:
    """The submission receipt, to the applicant."""
    # A deadline already past says nothing about when this application is reviewed.
    deadline = application.call.review_deadline
    _tell_applicant("submitted", application, cvt=application.call_voucher_type,
                    resubmitted=application.submission_number > 1,
                    review_due=deadline if deadline and deadline >= today() else None)


def returned(application: Application, comment: str) -> None:
    """Returned for changes, with the manager's comment."""
    _tell_applicant("returned", application, comment=comment.strip())


def awarded(application: Application) -> None:
    """Awarded: the amount, the conditions and the report deadline."""
    _tell_applicant("awarded", application, cvt=application.call_voucher_type,
                    advance=settlement.advance_due(application),
                    note=application.decision_reason)


@dataclass(frozen=True)
class CriterionLine:
    name: str
    score: Decimal | None  # None: not applicable
    minimum: Decimal | None


@dataclass(frozen=True)
class ScoreSummary:
    """The evaluation as the applicant may see it."""

    score: Decimal | None  # the weighted total (consensus, else the evaluators' mean)
    scale: int
    threshold: Decimal | None
    consensus: bool
    criteria: list[CriterionLine]
    problems: list[str]  # why it is below the thresholds, one sentence each


def score_summary(application: Application) -> ScoreSummary | None:
    """The current version's scores against the thresholds; None if it was not scored."""
    reviews = scoring.current_reviews(application)
    if not reviews:
        return None
    consensus = scoring.current_consensus(application)
    criteria = scoring.criterion_scores(application, reviews, consensus)
    cvt = application.call_voucher_type
    return ScoreSummary(
        score=scoring.ranking_score(application), scale=cvt.score_scale,
        threshold=cvt.threshold, consensus=consensus is not None,
        criteria=[CriterionLine(c.criterion.name, c.score, c.criterion.minimum)
                  for c in criteria],
        problems=scoring.threshold_problems(application))


def rejected(application: Application, reason: str) -> None:
    """Rejected: the reason and the score summary."""
    _tell_applicant("rejected", application, reason=reason.strip(),
                    scores=score_summary(application))


def waitlisted(application: Application) -> None:
    """On the reserve list, with its position (as the application's page shows it)."""
    _tell_applicant("waitlisted", application, position=reserve_place(application))


@dataclass(frozen=True)
class ReservePlace:
    cvt: CallVoucherType
    reserve: int | None  # 1-based among the type's waitlisted, in rank order
    reserve_size: int


def reserve_place(application: Application) -> ReservePlace | None:
    """The application's place on its type's reserve list, counted as
    ranking.position_of counts it for the application's page.

    The ranking's order follows each application's own scores and dates, so waitlisting,
    awarding or rejecting others leaves it as it is: it is read once per transaction and
    type, and a funding line that waitlists hundreds does not read it hundreds of times.
    An application ranked since (not in the order read) has it read again.
    """
    cvt = application.call_voucher_type
    waitlisted = set(db.session.scalars(select(Application.id).where(
        Application.call_voucher_type_id == cvt.id, Application.state == WAITLISTED)))
    order = _ranking_order(cvt)
    if not waitlisted <= set(order):
        order = _ranking_order(cvt, fresh=True)
    if application.id not in order:
        return None
    queue = [app_id for app_id in order if app_id in waitlisted]
    return ReservePlace(cvt, queue.index(application.id) + 1 if application.id in waitlisted
                        else None, len(queue))


def _ranking_order(cvt: CallVoucherType, *, fresh: bool = False) -> list[int]:
    session = db.session()
    memo = session.info.setdefault("notifications.ranking_order", {})
    transaction = session.get_transaction()
    known = memo.get(cvt.id)
    if fresh or known is None or known[0] is not transaction:
        known = (transaction, [r.application.id for r in ranking.order(cvt)])
        memo[cvt.id] = known
    return known[1]


def report_returned(application: Application, comment: str) -> None:
    """The final report was returned, with the manager's comment."""
    _tell_applicant("report_returned", application, comment=comment.strip())


def report_approved(application: Application, payable: Decimal) -> None:
    """The final report was approved: the payable amount."""
    report = settlement.final_report_of(application)
    paid = application.paid_amount
    _tell_applicant("report_approved", application, payable=payable, paid=paid,
                    still_due=max(payable - paid, ZERO), due_back=max(paid - payable, ZERO),
                    note=report.decision_comment if report is not None else "")


def masked_iban(iban: str | None) -> str | None:
    """``•••• 1234``: enough for the SME to recognise its account, no more."""
    compact = "".join((iban or "").split())
    return f"•••• {compact[-4:]}" if len(compact) >= 4 else None


def payment_made(payment: Payment) -> None:
    """A payment (advance or final) was recorded."""
    application = payment.application
    iban = None
    if payment.batch_item_id is not None:
        item = db.session.get(BatchItem, payment.batch_item_id)
        iban = item.iban if item is not None else None
    iban = iban or application.organisation.iban
    # The kind's label in the recipient's language: the mail is rendered in it.
    _tell_applicant("payment_made", application, payment=payment,
                    kind_label=lazy_gettext(KIND_LABELS.get(payment.kind, payment.kind)),
                    iban=masked_iban(iban))


def assigned(pairs: list[tuple[int, int]]) -> None:
    """Each evaluator hears once of their new assignments, given as (application id,
    evaluator id) pairs: an automatic assignment of thirty applications is one e-mail."""
    if not pairs:
        return
    app_ids = sorted({app_id for app_id, _ in pairs})
    applications: dict[int, Application] = {}
    for chunk in transitions.chunks(app_ids):
        applications.update((a.id, a) for a in db.session.scalars(
            select(Application).where(Application.id.in_(chunk))
            .options(joinedload(Application.call).joinedload(Call.programme))))
    evaluator_ids = sorted({uid for _, uid in pairs})
    evaluators: dict[int, User] = {}
    for chunk in transitions.chunks(evaluator_ids):
        evaluators.update((u.id, u) for u in db.session.scalars(
            select(User).where(User.id.in_(chunk), User.enabled.is_(True))))
    # One message per evaluator and call: a call has its own review deadline.
    groups: dict[tuple[int, int], list[Application]] = defaultdict(list)
    for app_id, uid in pairs:
        if uid in evaluators and app_id in applications:
            groups[(uid, applications[app_id].call_id)].append(applications[app_id])
    for (uid, _), assigned_to in sorted(groups.items()):
        assigned_to.sort(key=lambda a: a.reference)
        outbox.queue("assigned", to=evaluators[uid],
                     context={"applications": assigned_to, "call": assigned_to[0].call},
                     application=assigned_to[0] if len(assigned_to) == 1 else None)


def review_again(application: Application, number: int) -> None:
    """A returned application came back as version ``number``: the evaluators who stand
    assigned to it are asked to review it again."""
    evaluators = db.session.scalars(
        select(User).join(Assignment, Assignment.evaluator_id == User.id)
        .where(Assignment.application_id == application.id,
               Assignment.conflict_declared_at.is_(None), User.enabled.is_(True))
        .order_by(User.id))
    for evaluator in evaluators:
        outbox.queue("review_again", to=evaluator, application=application,
                     context={"number": number, "call": application.call})
