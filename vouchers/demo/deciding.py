"""What the demo shows of deciding well: the call's rules, and a few applications told
after the main story so that each part of the decision is on screen.

The rules are set before the story (the story's awards meet them); the scenes below are
dated on the working days before today, each step a few minutes after the one before:
- a market-validation application whose two evaluators disagree, with the extra evaluator
  the call asks for and the consensus the manager recorded;
- a second waitlisted market-validation application, so the reserve list has positions;
- one whose provider is in the SME's own region: flagged as failing a rule;
- one returned for changes and resubmitted: two versions, reviewed again.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from ..clock import local_date
from ..extensions import db
from ..models import Call, CostLine
from ..services import consensus, messages, reviews, transitions
from .catalogue import PARTNERS
from .story import Story, _Timeline

# A later phase of the real programme added these two regions.
LATER_REGIONS = [["DE", "North Rhine-Westphalia"], ["IE", "Southern Region"]]
# This programme's own ceiling per SME, above its largest voucher plus a trip.
SUPPORT_CAP = Decimal("120000.00")
THRESHOLD = Decimal("2.50")


def set_rules(call: Call) -> None:
    """The seed programme's rules: its partner regions, SMEs only, validation services from
    another region, a threshold of 2.5 of 5 for every type."""
    call.programme.regions = [[c, r] for _, c, r in PARTNERS] + LATER_REGIONS
    call.support_cap = SUPPORT_CAP
    call.lead_evaluator_id = None
    for cvt in call.voucher_types:
        cvt.provider_other_region = cvt.voucher_type in ("market_validation",
                                                         "product_validation")
        cvt.threshold = THRESHOLD


class _Steps:
    """Successive moments on the working days before today, office hours, UTC."""

    def __init__(self, now: datetime):
        day = local_date(now) - timedelta(days=4)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        self.at = datetime.combine(day, time(8, 0), UTC)

    def next(self) -> datetime:
        self.at += timedelta(minutes=7)
        return self.at


def tell(story: Story, call: Call, applicants, providers, manager, evaluators,
         now: datetime) -> int:
    """The four scenes; returns how many applications they added."""
    call.extra_evaluator_on_divergence = True
    call.lead_evaluator_id = evaluators[0].id
    mv = call.voucher_type("market_validation")
    # SMEs without a market-validation application yet (the story gave those to 17..28).
    free = [a for a in applicants[28:] if a.organisation is not None]
    steps = _Steps(now)
    scenes = _Scenes(story, mv, manager, evaluators, steps)
    scenes.divergent(free[0])
    scenes.waitlisted(free[1])
    scenes.same_region(next(a for a in free[2:] if any(
        p.region == a.organisation.region for p in providers)), providers)
    scenes.resubmitted(free[-1])
    return 4


class _Scenes:
    def __init__(self, story: Story, cvt, manager, evaluators, steps: _Steps):
        self.story, self.cvt, self.manager = story, cvt, manager
        self.evaluators, self.steps = evaluators, steps

    def _draft(self, applicant, summary: str):
        created = self.steps.next()
        with self.story.dated(created):
            application = self.story.draft(self.cvt, applicant, _Timeline({"create": created}))
            # Each scene's own words: the writer's stock phrases are spent by the story.
            application.summary = summary.format(
                company=applicant.organisation.legal_name.rsplit(" ", 1)[0],
                provider=application.provider.name if application.provider else "the provider")
            return application

    def _submit(self, application, applicant):
        at = self.steps.next()
        with self.story.dated(at):
            transitions.submit(application, applicant, now=at)

    def _assign(self, application, evaluators):
        with self.story.dated(self.steps.next()):
            for evaluator in evaluators:
                reviews.assign(application, evaluator, self.manager)
                reviews.confirm_no_conflict(application, evaluator)

    def _review(self, application, evaluator, score: int, recommendation: str, comment: str):
        criteria = application.call_voucher_type.criteria
        with self.story.dated(self.steps.next()):
            reviews.submit_review(application, evaluator, recommendation=recommendation,
                                  scores={c.id: score for c in criteria}, comment=comment)

    def divergent(self, applicant) -> None:
        application = self._draft(
            applicant, "{company} wants to know whether mid-sized private clinics, which the "
            "incumbents' sales teams skip, would pay for a faster workflow; {provider} will "
            "interview their purchasing heads in three countries.")
        self._submit(application, applicant)
        first, second = self.evaluators[1], self.evaluators[2]
        self._assign(application, [first, second])
        self._review(application, first, 1, "reject",
                     "The market is already served by two incumbents; the study would "
                     "confirm what the company should already know.")
        # The second review diverges: the call assigns one more evaluator.
        self._review(application, second, 5, "award",
                     "A well-argued study with a provider who knows these buyers; the "
                     "incumbents' products do not reach the segment named.")
        criteria = application.call_voucher_type.criteria
        with self.story.dated(self.steps.next()):
            consensus.record(application, self.manager, {c.id: 4 for c in criteria},
                             "Panel call: the segment is real and the provider is the right "
                             "one; the study scope is narrowed to two countries.")
        with self.story.dated(self.steps.next()):
            messages.post_internal_note(
                application, self.manager,
                "For the award letter: the narrowed scope (two countries) is a condition; "
                "check the final report against it.")

    def waitlisted(self, applicant) -> None:
        application = self._draft(
            applicant, "Before a distributor agreement is signed, {provider} tests the "
            "distributor's sales forecast for {company} against what pharmacies reorder.")
        self._submit(application, applicant)
        pair = self.evaluators[3:5]
        self._assign(application, pair)
        for evaluator, score, comment in zip(pair, (3, 4), (
                "Sound but less urgent than the best of this round.",
                "A careful check of the forecast; fund it if money comes back."), strict=True):
            self._review(application, evaluator, score, "waitlist", comment)
        with self.story.dated(self.steps.next()):
            transitions.waitlist(application, self.manager,
                                 "Above the threshold; on the reserve list for this round.")

    def same_region(self, applicant, providers) -> None:
        application = self._draft(
            applicant, "{company} asks a consultancy around the corner to size the home-care "
            "market of the region for its product.")
        region = applicant.organisation.region
        # The relationship, not the id: the draft's provider is loaded already, and the
        # rules read the relationship at submission.
        provider = next(p for p in providers if p.region == region)
        application.provider = provider
        application.cost_lines[-1].description = f"{provider.name}: travel and reporting"
        db.session.flush()
        self._submit(application, applicant)

    def resubmitted(self, applicant) -> None:
        application = self._draft(
            applicant, "{provider} runs a price-sensitivity study with hospital buyers and a "
            "workshop where {company} hears their objections first-hand.")
        self._submit(application, applicant)
        pair = self.evaluators[4:6]
        self._assign(application, pair)
        self._review(application, pair[0], 3, "waitlist",
                     "The cost lines do not show what the provider delivers for the fee.")
        with self.story.dated(self.steps.next()):
            transitions.return_for_changes(
                application, self.manager,
                "Split the provider's fee into the study and the workshop, as in the quote.")
        # The applicant asks about the comment in the application's thread; the answer
        # comes back there (and by e-mail).
        with self.story.dated(self.steps.next()):
            messages.post_message(
                application, applicant,
                "The provider invoices the study and the workshop together. Should the two "
                "lines still add up to the quote's total, or do we need a new quote?")
        with self.story.dated(self.steps.next()):
            messages.post_message(
                application, self.manager,
                "The same quote is fine: split its total into the two parts it names, so "
                "the evaluators see what each costs. No new quote is needed.")
        fee = application.cost_lines[0]
        with self.story.dated(self.steps.next()):
            application.summary += (" The study and the buyer workshop are priced "
                                    "separately, as in the provider's quote.")
            application.cost_lines = [
                CostLine(description=f"{fee.description} (study)",
                         amount=(fee.amount * Decimal("0.7")).quantize(Decimal("0.01")),
                         position=0),
                CostLine(description="Buyer workshop",
                         amount=(fee.amount * Decimal("0.3")).quantize(Decimal("0.01")),
                         position=1),
                *[CostLine(description=line.description, amount=line.amount, position=i + 2)
                  for i, line in enumerate(application.cost_lines[1:])],
            ]
            db.session.flush()
        # Version 2: its evaluators are asked again; the first review no longer counts.
        self._submit(application, applicant)
        self._review(application, pair[1], 4, "award",
                     "The split makes the deliverables clear; a useful study.")
