"""Test factories: build calls, users and applications in any lifecycle state.

Applications reach their state through the service layer, as in real use, so every
one has a genuine audit trail.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from werkzeug.security import generate_password_hash

from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import (
    AidDeclaration,
    Application,
    Call,
    CallVoucherType,
    CostLine,
    Criterion,
    Organisation,
    Partner,
    PartnerRegion,
    Programme,
    ServiceProvider,
    User,
)
from vouchers.models.base import utcnow
from vouchers.money import to_money
from vouchers.policy_partners import region_key_of
from vouchers.services import payments, reporting, reviews, settlement, transitions

PASSWORD = "correct-horse-battery"
# Hashing is deliberately slow; tests share one hash of the one password.
_HASH: list[str] = []

PATHS = {
    "draft": [],
    "submitted": ["submit"],
    "withdrawn": ["submit", "withdraw"],
    "returned": ["submit", "return_for_changes"],
    "under_review": ["submit", "review"],
    "rejected": ["submit", "review", "reject"],
    "waitlisted": ["submit", "review", "waitlist"],
    "awarded": ["submit", "review", "award"],
    "cancelled": ["submit", "review", "award", "cancel"],
    "reporting": ["submit", "review", "award", "start_reporting", "save_report"],
    "report_submitted": ["submit", "review", "award", "start_reporting", "save_report",
                         "submit_report"],
    "completed": ["submit", "review", "award", "start_reporting", "save_report",
                  "submit_report", "approve_report"],
    "paid": ["submit", "review", "award", "start_reporting", "save_report", "submit_report",
             "approve_report", "pay"],
}

# The test programme's partner regions: the factories' SMEs (North Brabant) and providers
# (Bavaria) are in two of them.
REGIONS = (("NL", "North Brabant"), ("DE", "Bavaria"), ("ES", "Catalonia"),
           ("DK", "Capital Region"))

DEFAULT_TYPES = {
    # type: quota, max amount, rate, envelope
    "travel": (12, "5000", "1.00", "60000"),
    "market_validation": (6, "60000", "0.75", "360000"),
    "product_validation": (5, "100000", "0.75", "500000"),
    "impact": (3, "100000", "0.50", "300000"),
}


def password_hash() -> str:
    if not _HASH:
        _HASH.append(generate_password_hash(PASSWORD))
    return _HASH[0]


class Factories:
    def __init__(self):
        self._seq = itertools.count(1)

    def _n(self) -> int:
        return next(self._seq)

    def call(self, types: dict | None = None, *, open_now: bool = True, code: str | None = None,
             criteria: int = 2, support_cap: Decimal | None = None) -> Call:
        n = self._n()
        now = utcnow()
        programme = Programme(name=f"Programme {n}", funder="Interreg Test", currency="EUR",
                              total_budget=Decimal("1240000"), starts_on=date(2026, 1, 1),
                              ends_on=date(2028, 12, 31),
                              regions=[list(r) for r in REGIONS])
        opens, closes = ((now - timedelta(days=10), now + timedelta(days=30)) if open_now
                         else (now - timedelta(days=60), now - timedelta(days=1)))
        call = Call(code=code or f"C{n}", title=f"Call {n}", opens_at=opens, closes_at=closes)
        programme.calls.append(call)
        for position, (vt, spec) in enumerate((types or DEFAULT_TYPES).items()):
            quota, max_amount, rate, envelope = spec
            cvt = CallVoucherType(voucher_type=vt, position=position, quota=quota,
                                  max_amount=Decimal(max_amount), funding_rate=Decimal(rate),
                                  envelope=Decimal(envelope), score_scale=5)
            cvt.criteria = [Criterion(name=f"Criterion {i + 1}", weight=Decimal(i + 1),
                                      position=i) for i in range(criteria)]
            call.voucher_types.append(cvt)
        db.session.add(programme)
        db.session.flush()
        # No support cap per SME unless a test sets one: the test types' maxima (up to
        # 100,000) are above the default cap of 60,000. (Set after the insert: the column
        # default would replace a None given to the constructor.)
        call.support_cap = support_cap
        db.session.commit()
        return call

    def organisation(self, *, country: str = "NL", region: str = "North Brabant",
                     declared: str = "0", size: str = "small") -> Organisation:
        """An SME; ``declared`` de minimis aid is one declaration granted today."""
        n = self._n()
        org = Organisation(legal_name=f"SME {n} B.V.", registry_number=f"NL{n:09d}",
                           country=country, region=region, size=size, sector="biotech")
        if Decimal(declared) > 0:
            org.aid_declarations.append(AidDeclaration(
                granting_body="Regional development fund", granted_on=today(),
                amount=Decimal(declared)))
        db.session.add(org)
        db.session.commit()
        return org

    def user(self, role: str, *, organisation: Organisation | None = None,
             email: str | None = None, partner: Partner | None = None) -> User:
        n = self._n()
        user = User(email=email or f"{role}{n}@test.example", name=f"{role.title()} {n}",
                    role=role, password_hash=password_hash(),
                    organisation_id=organisation.id if organisation else None,
                    partner_id=partner.id if partner else None,
                    email_verified_at=utcnow())
        db.session.add(user)
        db.session.commit()
        return user

    def applicant(self, organisation: Organisation | None = None, **org_kwargs) -> User:
        return self.user("applicant", organisation=organisation or self.organisation(**org_kwargs))

    def manager(self, *, partner: Partner | None = None) -> User:
        return self.user("manager", partner=partner)

    def evaluator(self, organisation: Organisation | None = None, *,
                  partner: Partner | None = None) -> User:
        return self.user("evaluator", organisation=organisation, partner=partner)

    def partner(self, programme: Programme, name: str | None = None, country: str = "NL",
                currency: str = "EUR", *, regions: list[tuple[str, str, str]] | None = None,
                is_lead: bool = False) -> Partner:
        """A partner agency of ``programme`` covering ``regions`` [(country, region,
        NUTS code)]. Applications already in those regions are not moved: call
        services.partners.place (or refresh_programme) and commit for that."""
        n = self._n()
        partner = Partner(programme_id=programme.id, name=name or f"Partner {n}",
                          country=country, currency=currency, is_lead=is_lead)
        for r_country, region, nuts in regions or ():
            partner.regions.append(PartnerRegion(
                programme_id=programme.id, country=r_country, region=region,
                region_key=region_key_of(region), nuts_code=nuts))
        db.session.add(partner)
        db.session.commit()
        return partner

    def provider(self, *, country: str = "DE", region: str = "Bavaria") -> ServiceProvider:
        n = self._n()
        provider = ServiceProvider(name=f"Provider {n}", country=country, region=region,
                                   services="Testing")
        db.session.add(provider)
        db.session.commit()
        return provider

    def draft(self, cvt: CallVoucherType, applicant: User | None = None, *,
              requested: str | None = None, costs: str | None = None) -> Application:
        """A complete draft (ready to submit) of ``cvt``'s type."""
        applicant = applicant or self.applicant()
        vt = cvt.voucher_type
        details = {
            "travel": {"event": "BIO-Europe", "destination": "Copenhagen",
                       "start_date": "2027-03-01", "end_date": "2027-03-03"},
            "market_validation": {"service": "Market study", "delivery_date": "2027-06-30"},
            "product_validation": {"service": "Bench testing", "delivery_date": "2027-06-30"},
            "impact": {"outcome": "Reimbursement", "indicators": "Two payer meetings"},
        }[vt]
        provider = self.provider() if vt in ("market_validation", "product_validation") else None
        cost = Decimal(costs) if costs else cvt.max_amount / cvt.funding_rate
        amount = Decimal(requested) if requested else min(cvt.max_amount,
                                                          to_money(cost * cvt.funding_rate))
        application = transitions.create_draft(
            applicant, cvt, title=f"Project of {applicant.name}", summary="What we will do.",
            details=details, provider_id=provider.id if provider else None,
            requested_amount=amount,
        )
        application.cost_lines = [CostLine(description="Service", amount=to_money(cost))]
        db.session.commit()
        return application

    def application(self, state: str = "draft", cvt: CallVoucherType | None = None, *,
                    applicant: User | None = None, manager: User | None = None,
                    evaluator: User | None = None, amount: str | None = None,
                    requested: str | None = None, costs: str | None = None) -> Application:
        """An application driven through the services to ``state``."""
        if cvt is None:
            cvt = self.call().voucher_type("market_validation")
        applicant = applicant or self.applicant()
        application = self.draft(cvt, applicant, requested=requested, costs=costs)
        manager = manager or (self.manager() if len(PATHS[state]) > 1 else None)
        for step in PATHS[state]:
            self.step(application, step, applicant=applicant, manager=manager,
                      evaluator=evaluator, amount=amount)
        db.session.commit()
        assert application.state == state
        return application

    def step(self, application, step, *, applicant, manager, evaluator=None, amount=None):
        if step == "submit":
            transitions.submit(application, applicant)
        elif step == "withdraw":
            transitions.withdraw(application, applicant)
        elif step == "return_for_changes":
            transitions.return_for_changes(application, manager, "Add the quote.")
        elif step == "review":
            self.review(application, manager=manager, evaluator=evaluator)
        elif step == "reject":
            transitions.reject(application, manager, "Not selected.")
        elif step == "waitlist":
            transitions.waitlist(application, manager)
        elif step == "award":
            transitions.award(application, manager, amount or application.requested_amount)
        elif step == "cancel":
            transitions.cancel(application, manager, "Given up.")
        elif step == "start_reporting":
            reporting.start_reporting(application, applicant)
        elif step == "save_report":
            reporting.save_final_report(application, applicant, summary="Done.",
                                  actual_costs=application.total_costs)
        elif step == "submit_report":
            reporting.submit_final_report(application, applicant)
        elif step == "approve_report":
            reporting.approve_report(application, manager)
        elif step == "pay":
            payments.record_payment(application, manager, settlement.payable(application),
                               paid_on=today(), reference=f"PAY-{application.id}")
        else:
            raise ValueError(step)
        db.session.commit()

    def review(self, application, *, manager=None, evaluator=None, score: int = 4):
        manager = manager or self.manager()
        evaluator = evaluator or self.evaluator()
        if reviews.assignment_of(application, evaluator) is None:
            reviews.assign(application, evaluator, manager)
        reviews.confirm_no_conflict(application, evaluator)
        criteria = application.call_voucher_type.criteria
        reviews.submit_review(application, evaluator, scores={c.id: score for c in criteria},
                              recommendation="award", comment="Good.")
        db.session.commit()
        return evaluator
