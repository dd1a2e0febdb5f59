"""The demo's consortium (issue 11): the partner agencies of the real programme with their
regions (NUTS codes) and currencies, a manager per partner, the InforEuro rates, vouchers
paid in GBP and DKK, and the partner reports of the UK partner.

The partners are set up after the main story, dated a few days before the two scenes
told here begin, through services/partner_setup.py: it places every application not yet
awarded under the partner of its company's region, in that partner's currency, and
place_vouchers does so for the vouchers the story had awarded, whose payments and reports
so far stay as they were recorded, in EUR. The two scenes (consortium_cast.py) are
planned and awarded in EUR, as the envelopes are, and reported and paid in GBP and DKK by
the partner's own manager, at the InforEuro rates of the sample files. GM Business
Support's advance is declared in its submitted period 1; the bank returns it after the
submission, and the reversal shows as a correction in its draft period 2.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, update

from ..clock import local_date
from ..extensions import db
from ..models import Application, Assignment, Call, Partner, Payment, User
from ..models.base import CENT
from ..models.ledger import ADVANCE
from ..models.partners import ExchangeRate
from ..money import to_money
from ..policy_partners import region_key_of
from ..services import (
    partner_reports,
    partner_setup,
    partners,
    payments,
    rate_import,
    reporting,
    settlement,
    transitions,
)
from ..services.partner_regions import RegionSpec
from ..services.partner_setup import PartnerSpec
from ..services.rates import from_eur, rate_on, to_eur
from .consortium_cast import MEMBERS, SCENES
from .story import Story
from .texts import _capitalised

LEAD = "Biocat"
# The partner whose reports the demo shows: period 1 submitted, period 2 a draft.
UK_REPORTING = "GM Business Support"
# Evaluators who work at a partner agency (see evaluators_of_partners).
EVALUATOR_PARTNERS = {"evaluator6@demo.example": "Biocat",
                      "evaluator4@demo.example": "Enterprise Ireland"}

# The Commission's monthly rates files the demo imports (services/rate_import.py).
SAMPLE_RATES = Path(__file__).resolve().parent.parent / "data" / "inforeuro"


def set_up_partners(programme, lead: User) -> dict[str, Partner]:
    """The partners and their regions (services/partner_setup), which places every
    application under its partner, in that partner's currency."""
    made = {}
    for member in MEMBERS:
        spec = PartnerSpec(name=member.name, country=member.regions[0][0],
                           currency=member.currency, is_lead=member.name == LEAD,
                           regions=[RegionSpec(*region) for region in member.regions])
        made[member.name] = partner_setup.save_partner(programme, spec, lead)
    return made


def place_vouchers(programme) -> None:
    """The vouchers the story awarded: services/partners.py moves only applications not
    yet awarded, so each is given here the partner of its company's region, as if the
    consortium had run the call from the start. They stay in EUR, the currency they were
    awarded, reported and paid in (a SEPA batch of the story holds some of them); only
    vouchers started under the consortium are in the partner's currency. Most of their
    applicants agreed to the public list of operations; every fourth did not, so the list
    shows its rule."""
    for n, application in enumerate(db.session.scalars(
            select(Application).join(Call).where(
                Call.programme_id == programme.id, Application.partner_id.is_(None))
            .order_by(Application.id))):
        organisation = application.organisation
        partner = partners.partner_of(programme.id, organisation.country,
                                      organisation.region)
        if partner is not None:
            application.partner_id = partner.id
        application.publication_consent = n % 4 != 3
    db.session.flush()


def partner_managers(made: dict[str, Partner], managers: list[User],
                     password_hash: str) -> list[User]:
    """Each partner's manager: the two the demo had (Biocat's, the lead's, and Brabant's),
    and one new account for each other partner. Returns the new accounts."""
    existing = {user.email: user for user in managers}
    new = [User(email=m.email, name=m.manager, role="manager", password_hash=password_hash)
           for m in MEMBERS if m.email not in existing]
    db.session.add_all(new)
    db.session.flush()
    accounts = existing | {user.email: user for user in new}
    for member in MEMBERS:
        partner_setup.set_user_partner(accounts[member.email], made[member.name].id,
                                       managers[0])
    return new


def evaluators_of_partners(call: Call, made: dict[str, Partner], evaluators: list[User],
                           lead: User) -> None:
    """Two evaluators work at a partner, and the call keeps them off its SMEs. One is
    given a partner only if the story assigned them none of its applications: the
    story's assignments then keep the rule too."""
    by_email = {user.email: user for user in evaluators}
    for email, name in EVALUATOR_PARTNERS.items():
        partner = made[name]
        own = db.session.scalar(select(func.count()).select_from(Assignment).join(
            Application, Application.id == Assignment.application_id).where(
            Assignment.evaluator_id == by_email[email].id,
            Application.partner_id == partner.id))
        if not own:
            partner_setup.set_user_partner(by_email[email], partner.id, lead)
    call.evaluators_from_other_partners = True


def months_of(first: date, last: date) -> list[tuple[int, int]]:
    """Each (year, month) from ``first``'s to ``last``'s."""
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def rates(programme, now: datetime) -> None:
    """The InforEuro rates of every month of the programme until today's, imported as
    `flask import-rates` does from the sample files shipped in vouchers/data/inforeuro/:
    each month from the file of that month of the year (a demo loaded in another year
    than the samples' reuses them), dated as published, in the days before the month."""
    samples = {int(path.stem[-2:]): path for path in sorted(SAMPLE_RATES.glob("*-*.json"))}
    for year, month in months_of(programme.starts_on, local_date(now)):
        parsed = rate_import.read_file(samples[month].read_text(encoding="utf-8"))
        rate_import.import_rates(parsed, year, month)
        published = datetime(year, month, 1, 10, tzinfo=UTC) - timedelta(days=3)
        db.session.execute(update(ExchangeRate).where(
            ExchangeRate.year == year, ExchangeRate.month == month).values(
            imported_at=published))


class CurrencyScenes:
    """Tells each scene on its timeline (story.Story), by the partner's own manager."""

    def __init__(self, story: Story, call: Call):
        self.story, self.call = story, call
        # Planned first: the consortium is set up just before the first of them begins.
        self.timelines = [story.timeline(scene.path, scene.voucher_type == "travel",
                                         ends_within=scene.ends_within) for scene in SCENES]

    def first_draft(self) -> datetime:
        return min(timeline.at["create"] for timeline in self.timelines)

    def tell(self, applicants, made: dict[str, Partner], managers: dict[str, User]) -> None:
        self.made, self.managers, lead = made, managers, self.story.manager
        for scene, timeline in zip(SCENES, self.timelines, strict=True):
            cvt = self.call.voucher_type(scene.voucher_type)
            applicant = self._free(applicants, cvt, made[scene.partner])
            application = self.story.draft(cvt, applicant, timeline)
            self.scene = scene
            facts = self.story.facts
            application.summary = _capitalised(scene.summary.format(**facts))
            # The partner follows its SMEs: its manager assigns, awards, approves and pays.
            self.story.manager = managers[scene.partner]
            try:
                self.story.follow(
                    application, applicant, timeline, scene.path, own=self._step,
                    own_steps=frozenset(OWN_STEPS),
                    comments=[_capitalised(r.format(**facts)) for r in scene.reviews])
            finally:
                self.story.manager = lead

    def _free(self, applicants, cvt, partner: Partner):
        """The partner's first SME with no application of this type."""
        taken = set(db.session.scalars(select(Application.organisation_id).where(
            Application.call_voucher_type_id == cvt.id)))
        regions = {(r.country, r.region_key) for r in partner.regions}
        return next(a for a in applicants if a.organisation_id not in taken and (
            a.organisation.country, region_key_of(a.organisation.region)) in regions)

    def _step(self, step: str, application: Application, applicant, timeline) -> None:
        at, manager, scene = timeline.at[step], self.story.manager, self.scene
        day = local_date(at)
        if step == "submit":
            # These two agreed to appear in the public list of operations (Art. 49).
            transitions.submit(application, applicant, now=at, publication_consent=True)
        elif step == "advance":
            self._pay(application, manager, settlement.advance_due(application), at,
                      reference=f"ADV-{application.reference}", kind=ADVANCE)
        elif step == "reverse":
            # GM Business Support had declared the advance in its first period: the
            # return is a correction its next period shows (partner_reports).
            self.first_period(self.made[scene.partner], manager, timeline)
            payment = db.session.scalars(select(Payment).where(
                Payment.application_id == application.id).order_by(Payment.id.desc())).first()
            payments.reverse_payment(payment, manager, scene.returned, now=at)
        elif step == "repay":
            self._pay(application, manager, settlement.advance_due(application), at,
                      reference=f"ADV-{application.reference}-2", kind=ADVANCE)
        elif step == "save_report":
            planned = sum(line.amount for line in application.cost_lines)
            rate = rates_of(application.currency, at)
            self._report(application, applicant, to_money(planned * rate * scene.spent), at)
        elif step == "submit_report":  # at the rate of its month (reporting._convert)
            reporting.submit_final_report(application, applicant, now=at)
        elif step == "approve_report":
            reporting.approve_report(application, manager, scene.approval, now=at)
        elif step == "pay":
            invoiced = local_date(timeline.at["submit_report"]) - timedelta(days=3)
            self._pay(application, manager, settlement.final_due(application), at,
                      reference=f"PAY-{application.reference}",
                      invoice_number=f"INV-{day.year}-{application.id:03d}",
                      invoice_date=invoiced)
        else:  # pragma: no cover - a typo in SCENES
            raise ValueError(step)

    def first_period(self, partner: Partner, manager: User, timeline) -> None:
        """The partner's period 1, from the programme's start to the end of the month of
        the advance (or its day, if the bank's return came that month), submitted before
        the return: a moment halfway between."""
        advance, returned = timeline.at["advance"], timeline.at["reverse"]
        for end in (_month_end(local_date(advance)), local_date(advance)):
            after = max(advance, datetime.combine(end + timedelta(days=1), time(8), UTC))
            if after < returned - timedelta(minutes=30):
                break
        submitted = (after + (returned - after) / 2).replace(second=0, microsecond=0)
        report = partner_reports.open_next_period(partner, manager, end)
        report.created_at = after
        partner_reports.submit(report, manager, now=submitted)
        self.period_opened = submitted + timedelta(minutes=5)

    def second_period(self, partner: Partner, manager: User, now: datetime) -> None:
        """Period 2, open until the end of this month: a draft, whose lines hold the
        correction of period 1 (the returned advance), the advance paid again and the
        final payment."""
        report = partner_reports.open_next_period(partner, manager,
                                                  _month_end(local_date(now)))
        report.created_at = self.period_opened

    def _report(self, application: Application, applicant, costs: Decimal, at) -> None:
        """The final report's costs, in the partner's currency (converted at submission)."""
        summary = _capitalised(self.scene.report.format(**self.story.facts))
        reporting.save_final_report(application, applicant, summary=summary,
                                    actual_costs=costs)

    def _pay(self, application: Application, manager: User, due: Decimal, at, **details):
        """``due`` (EUR) transferred in the partner's currency at the rate of the month:
        the most that does not exceed it (a coin short of it settles it)."""
        rate = rates_of(application.currency, at)
        amount = from_eur(due, rate)
        while to_eur(amount, rate) > due:
            amount -= CENT
        payments.record_payment(application, manager, paid_on=local_date(at), now=at,
                                amount_in_currency=amount, **details)


OWN_STEPS = {"submit", "advance", "reverse", "repay", "save_report", "submit_report",
             "approve_report", "pay"}


def _working_morning(at: datetime) -> datetime:
    """9:30 UTC on ``at``'s day, or on the working day before it."""
    day = local_date(at)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, time(9, 30), UTC)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def rates_of(currency: str, at: datetime) -> Decimal:
    return rate_on(currency, local_date(at)).units_per_eur


def tell(story: Story, call: Call, managers: list[User], evaluators: list[User],
         applicants: list[User], password_hash: str, now: datetime) -> list[User]:
    """The consortium of ``call``'s programme; returns the accounts it added."""
    lead = managers[0]
    scenes = CurrencyScenes(story, call)
    set_up_at = _working_morning(scenes.first_draft() - timedelta(days=3))
    with story.dated(set_up_at):
        made = set_up_partners(call.programme, lead)
        place_vouchers(call.programme)
        new = partner_managers(made, managers, password_hash)
        evaluators_of_partners(call, made, evaluators, lead)
        for partner in made.values():
            partner.created_at = set_up_at
    rates(call.programme, now)
    by_partner = {u.partner_id: u for u in managers + new}
    partner_managers_of = {name: by_partner[p.id] for name, p in made.items()}
    scenes.tell(applicants, made, partner_managers_of)
    scenes.second_period(made[UK_REPORTING], partner_managers_of[UK_REPORTING], now)
    return new

