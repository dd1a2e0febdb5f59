"""What the demo shows of money: four vouchers whose close-out is on screen, told after the
main story on timelines of their own (story.Story.timeline), then the payment batches
(batches.py).

The call pays an advance of 40% of the award (ADVANCE_SHARE, set with the call), so:
- RETURNED: a product-validation voucher closed below its award. It got its advance; its
  report's eligible costs x the funding rate are below the award, so approving it released
  the rest; the final transfer came back from the bank (account closed), was reversed, and
  was paid again to the account the company gave instead, once a manager confirmed it.
- RECOVERED: a travel voucher whose advance exceeded the costs of a shortened trip: the
  SME paid the difference back, recorded as a recovery with its transfer's reference.
- RECOVERY_DUE: a market-validation voucher approved a few days ago whose advance exceeds
  what it may keep: the recovery is still due (the dashboard shows it).
- ZERO: a travel voucher closed on zero eligible costs: nothing paid, its money and quota
  place back in the envelope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from ..clock import local_date
from ..extensions import db
from ..models import Application, Call, Payment
from ..models.ledger import ADVANCE
from ..money import to_money
from ..services import bank_details, payments, reporting, settlement
from .banking import bic_of, new_account
from .story import _AWARDED, Story
from .texts import _capitalised

ADVANCE_SHARE = Decimal("0.40")
RETURNED_REASON = ("Returned by the bank: account closed (SEPA return reason AC04). The "
                   "company has moved its account to another bank.")
_REPORT = ["start_reporting", "save_report", "submit_report", "approve_report"]


@dataclass(frozen=True)
class Scene:
    name: str
    voucher_type: str
    path: list[str]
    ends_within: tuple[int, int]  # days before today the last step falls on
    costs: Callable[[Application], Decimal]  # the report's actual eligible costs
    # The plan and the report, as the SME writes them ({product}, {provider}, {event}...):
    # the scenes' own words, as the writer's stock phrases are spent by the story.
    summary: str
    reviews: tuple[str, str]  # both recommend the award
    report: str
    approval: str  # the manager's comment on approving it


def _planned(application: Application) -> Decimal:
    return sum((line.amount for line in application.cost_lines), Decimal(0))


def _keeping(share: str) -> Callable[[Application], Decimal]:
    """Costs whose payable amount is ``share`` of the advance the SME received."""
    def costs(application: Application) -> Decimal:
        rate = application.call_voucher_type.funding_rate
        return to_money(application.paid_amount * Decimal(share) / rate)
    return costs


SCENES = [
    Scene("RETURNED", "product_validation",
          _AWARDED + ["advance", *_REPORT, "pay", "reverse", "new_bank_details",
                      "confirm_bank_details", "repay"], (10, 24),
          lambda a: to_money(_planned(a) * Decimal("0.78")),
          "{company} needs independent test data on {product} before the design freeze. "
          "{provider} quoted two rounds of tests, the second only if the first one fails; "
          "we ask for both, so that a failed first round does not stop the project.",
          ("{provider} is accredited for these tests, and paying for a second round only "
           "if needed is a careful way to budget. Recommended.",
           "The test plan answers what a notified body will ask about {product}. I support "
           "funding the full quote."),
          "{provider} finished the tests in seven weeks. {product} passed the first round, so "
          "the repeat round in the quote was not needed and the invoice is lower than the "
          "quote: we claim what we paid, as the attached invoice shows.",
          "Invoice checked against the quote; the repeat round was not needed. The rest of "
          "the award is released."),
    Scene("RECOVERED", "travel",
          _AWARDED + ["advance", *_REPORT, "recover"], (6, 30), _keeping("0.70"),
          "Two of us will show {product} on a shared stand at {event} and meet {buyers} "
          "through its partnering system; the stand and the partnering tickets are booked.",
          ("{event} is where the buyers of {product} meet; the stand is shared, which keeps "
           "the cost down. Fundable as proposed.",
           "A concrete plan with booked meetings; {company} knows whom it wants to meet. "
           "Recommended."),
          "The exhibition part of {event} was cancelled at short notice and the organiser "
          "refunded the stand fee. Only one of us travelled, for the partnering day, and the "
          "costs are below the advance we received: we will transfer the difference back.",
          "One traveller and the partnering day only; the difference to the advance is due "
          "back from the company."),
    Scene("RECOVERY_DUE", "market_validation",
          _AWARDED + ["advance", *_REPORT], (2, 8), _keeping("0.85"),
          "{provider} will interview buyers in the three countries where {company} has a "
          "distributor lined up, so the study tests real offers for {product}, not guesses.",
          ("Interviews tied to real distributor offers make this study more useful than a "
           "desk review; {provider} has done this before. Recommended.",
           "{company} has the distributors; the study tells it what to offer them. The "
           "budget is in line with the work. A good use of the voucher."),
          "{provider} ran the buyer interviews in one country only: the other two were "
          "dropped when our distributor there withdrew. We claim the first phase, which "
          "costs less than the advance we were paid.",
          "First phase of the study only; the advance exceeds the payable amount and the "
          "difference is due back."),
    Scene("ZERO", "travel", [*_AWARDED, *_REPORT], (4, 30), lambda a: Decimal("0.00"),
          "{company} will present {product} to {buyers} in the partnering programme of "
          "{event}; a first round of meetings in {destination} is already requested.",
          ("The partnering programme of {event} suits {product}; the meetings requested are "
           "with the right buyers. I support funding.",
           "A small, well-aimed trip for {company}; the costs are modest. Recommended."),
          "{event} moved online two weeks before it began and the organiser waived the fee "
          "for online participants. Nobody travelled, so we have no costs to claim.",
          "No eligible costs: the voucher closes with nothing to pay."),
]


class MoneyScenes:
    """Tells each scene, on its timeline, through the services."""

    def __init__(self, story: Story, call: Call, manager, seed: int):
        self.story, self.call, self.manager, self.seed = story, call, manager, seed

    def tell(self, applicants) -> int:
        for scene in SCENES:
            cvt = self.call.voucher_type(scene.voucher_type)
            applicant = self._free(applicants, cvt)
            timeline = self.story.timeline(scene.path, scene.voucher_type == "travel",
                                           ends_within=scene.ends_within)
            application = self.story.draft(cvt, applicant, timeline)
            application.summary = _capitalised(scene.summary.format(**self.story.facts))
            self.scene = scene
            facts = self.story.facts
            self.story.follow(application, applicant, timeline, scene.path, own=self._step,
                              own_steps=frozenset(MONEY_STEPS),
                              comments=[_capitalised(r.format(**facts)) for r in scene.reviews])
        return len(SCENES)

    def _free(self, applicants, cvt):
        """The first SME, from the middle of the list, with no application of this type."""
        taken = set(db.session.scalars(select(Application.organisation_id).where(
            Application.call_voucher_type_id == cvt.id)))
        order = applicants[len(applicants) // 2:] + applicants[:len(applicants) // 2]
        return next(a for a in order if a.organisation_id not in taken)

    def _step(self, step: str, application: Application, applicant, timeline) -> None:
        at, manager, scene = timeline.at[step], self.manager, self.scene
        day = local_date(at)
        if step == "advance":
            payments.record_payment(
                application, manager, settlement.advance_due(application), paid_on=day,
                reference=f"ADV-{application.reference}", kind=ADVANCE, now=at)
        elif step == "save_report":
            reporting.save_final_report(application, applicant,
                                        actual_costs=scene.costs(application),
                                        summary=_capitalised(
                                            scene.report.format(**self.story.facts)))
        elif step == "approve_report":
            reporting.approve_report(application, manager, scene.approval, now=at)
        elif step == "reverse":
            payment = db.session.scalars(select(Payment).where(
                Payment.application_id == application.id).order_by(Payment.id.desc())).first()
            payments.reverse_payment(payment, manager, RETURNED_REASON, now=at)
        elif step == "new_bank_details":
            self._new_bank_details(application, applicant, at)
        elif step == "confirm_bank_details":
            self._confirm_bank_details(application, at)
        elif step == "repay":
            invoiced = local_date(timeline.at["submit_report"]) - timedelta(days=2)
            payments.record_payment(
                application, manager, settlement.final_due(application), paid_on=day,
                reference=f"PAY-{application.reference}-2", invoice_date=invoiced,
                invoice_number=f"INV-{at.year}-{application.id:03d}", now=at)
        elif step == "recover":
            payments.record_recovery(
                application, manager, settlement.recovery_due(application), received_on=day,
                reference=f"RCV-{application.reference}", now=at)
        else:  # pragma: no cover - a typo in SCENES
            raise ValueError(step)

    def _new_bank_details(self, application: Application, applicant, at) -> None:
        """The company gives its new account; after an award a manager must confirm it."""
        org = application.organisation
        account = new_account(self.seed, org)
        outcome = bank_details.set_bank_details(org, applicant, account.compact,
                                                bic_of(account), org.legal_name)
        assert outcome == bank_details.REQUESTED, outcome

    def _confirm_bank_details(self, application: Application, at) -> None:
        change = bank_details.pending_change(application.organisation)
        bank_details.confirm_change(change, self.manager)
        # confirm_change dates its decision by the clock, in an UPDATE the flush does not
        # see: date it as it happened.
        change.decided_at = at


MONEY_STEPS = {"advance", "save_report", "approve_report", "reverse", "new_bank_details",
               "confirm_bank_details", "repay", "recover"}
