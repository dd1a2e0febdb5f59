"""The demo programme: a cross-border health and life-sciences voucher scheme.

Shaped like the real programme of the brief: EUR 1.24 million, one call with 12
travel, 6 market-validation, 5 product-validation and 3 impact vouchers, partner
agencies in ten regions, a catalogue of service providers, forty SMEs, and
applications in every state of the lifecycle. Every state is reached through the
service layer, so each application has a real audit trail.

The history is dated as it would have happened: each application gets a timeline over
the months since the call opened (drafted, submitted, reviewed, decided, the trip or the
service, the report, the payment), ending at a different day before today. The services
are given that time where they take ``now=``; what they date by the clock is dated
as it is written (story.Dated), before anything is committed.

The money (issue 9): the call pays an advance of 40% after the award; money.py tells four
vouchers whose close-out shows a release, a returned transfer reversed and paid again, a
recovery recorded and one still due, and a closure on zero costs; batches.py a SEPA batch
executed and one awaiting execution. Every company has valid VAT and registry numbers and
a bank account (banking.py), the programme an account to pay from.

The consortium (issue 11): consortium.py sets up the partner agencies with their regions,
NUTS codes and currencies after the story, gives each a manager, imports the InforEuro
rates and tells two vouchers paid in GBP and DKK, and the UK partner's reports.

catalogue.py holds the programme's partners, providers and events; story.py the timelines
and the steps; texts.py what the people write; deciding.py the scenes of the decisions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..clock import local_date
from ..extensions import db
from ..models import (
    Call,
    CallVoucherType,
    Criterion,
    Organisation,
    Programme,
    ServiceProvider,
    User,
)
from ..models.base import utcnow
from . import banking, batches, consortium, deciding, follow_up, money
from .aid import date_declarations, declarations
from .catalogue import (
    CRITERIA,
    DEMO_PASSWORDS,
    LEGAL_SUFFIX,
    PARTNERS,
    PEOPLE,
    PROVIDERS,
    TYPES,
)
from .story import Dated, Story, date_people
from .texts import SMES, Writer

__all__ = ["DEMO_PASSWORDS", "PARTNERS", "DemoSummary", "load_demo"]


@dataclass
class DemoSummary:
    created: bool
    applications: int


def load_demo(seed: int = 2026) -> DemoSummary:
    """Load the demo programme unless a programme already exists (idempotent)."""
    if db.session.scalar(select(func.count()).select_from(Programme)):
        return DemoSummary(False, 0)
    rng = random.Random(seed)
    now = utcnow()
    opens = now - timedelta(days=230)
    starts = local_date(opens - timedelta(days=90)).replace(day=1)
    programme = Programme(
        name="Health & Life Sciences Cross-border Vouchers", funder="Interreg North-West Europe",
        currency="EUR", total_budget=Decimal("1240000.00"),
        starts_on=starts, ends_on=starts.replace(year=starts.year + 3) - timedelta(days=1),
    )
    db.session.add(programme)
    call = Call(
        code="HLS1", title="Cross-border innovation vouchers, call 1",
        description="Vouchers for life-science SMEs to buy market and product validation "
                    "services from providers in another partner region, travel to partnering "
                    "events, and measure their impact.",
        opens_at=opens, closes_at=now + timedelta(days=120), created_at=opens - timedelta(days=21),
        advance_share=money.ADVANCE_SHARE,
        # Reviews of this round are due in three days: `send-reminders` reminds the
        # evaluators still scoring; final reports are due 21 days after the activity.
        review_deadline=local_date(now) + timedelta(days=3), report_due_days=21,
    )
    programme.calls.append(call)
    for position, (vt, quota, max_amount, rate, envelope) in enumerate(TYPES):
        cvt = CallVoucherType(
            voucher_type=vt, position=position, quota=quota,
            max_amount=Decimal(max_amount), funding_rate=Decimal(rate),
            envelope=Decimal(envelope), score_scale=5,
        )
        cvt.criteria = [Criterion(name=n, weight=Decimal(w), position=i)
                        for i, (n, w) in enumerate(CRITERIA[vt])]
        call.voucher_types.append(cvt)
    deciding.set_rules(call)
    providers = [ServiceProvider(name=n, country=c, region=r, services=s,
                                 website=f"https://www.{n.split()[0].lower()}.example",
                                 email=f"vouchers@{n.split()[0].lower()}.example")
                 for n, c, r, s in PROVIDERS]
    db.session.add_all(providers)

    hashes = {role: generate_password_hash(pw) for role, pw in DEMO_PASSWORDS.items()}
    managers = [
        User(email="manager@demo.example", name="Marta Puig (Biocat)", role="manager",
             password_hash=hashes["manager"]),
        User(email="manager2@demo.example", name="Jeroen de Vries (BOM)", role="manager",
             password_hash=hashes["manager"]),
    ]
    evaluators = [
        User(email=f"evaluator{i}@demo.example", name=name, role="evaluator",
             password_hash=hashes["evaluator"])
        for i, name in enumerate(["Anne Sørensen", "Thomas Keller", "Claire Dubois",
                                  "Siobhan Murphy", "Pieter Janssens", "Laura Giménez"], 1)
    ]
    db.session.add_all(managers + evaluators)

    regions = PARTNERS + [("", "DE", "North Rhine-Westphalia"), ("", "IE", "Southern Region")]
    applicants = []
    aid_rng, bank_rng = random.Random(seed + 1), random.Random(seed + 2)
    for i, base_name in enumerate(SMES, 1):
        _, country, region = regions[(i - 1) % len(regions)]
        # Valid numbers and an account (banking.py); the de minimis register copies the
        # VAT number at each award, and the payment batches pay to the account.
        identity = banking.identity(bank_rng, country, region)
        rng.randrange(10**8, 10**9)  # the draw the old registry number took
        org = Organisation(
            legal_name=f"{base_name} {LEGAL_SUFFIX[country]}", **identity.fields(),
            country=country, region=region,
            size=rng.choice(["micro", "micro", "small", "small", "medium"]),
            sector=SMES[base_name][0],
            aid_declarations=declarations(aid_rng, country, local_date(now)),
        )
        org.account_holder = org.legal_name
        rng.randrange(5)  # the draw the undated aid figure took: the later draws stay put
        first, last = PEOPLE[country]
        user = User(email=f"applicant{i}@demo.example",
                    name=f"{rng.choice(first)} {rng.choice(last)}",
                    role="applicant", password_hash=hashes["applicant"], organisation=org)
        applicants.append(user)
    db.session.add_all(applicants)
    for user in managers + evaluators + applicants:  # dated properly by date_people below
        user.email_verified_at = opens
    # One applicant reads the non-urgent mail once a day, in a digest.
    applicants[1].mail_digest = True
    banking.give_programme_account(bank_rng, programme)
    db.session.flush()

    dated = Dated(now)
    story = Story(rng, Writer(rng), now, opens, dated)
    count = story.tell(call, applicants, providers, managers[0], evaluators)
    count += deciding.tell(story, call, applicants, providers, managers[0], evaluators, now)
    count += money.MoneyScenes(story, call, managers[0], seed).tell(applicants)
    batches.tell(call, managers[0], dated, now, rng)
    # The consortium after the story (consortium.py): partners, their managers, vouchers
    # in GBP and DKK, the UK partner's reports.
    partner_managers = consortium.tell(story, call, managers, evaluators, applicants,
                                        hashes["manager"], now)
    count += len(consortium.SCENES)
    # Follow-up surveys of the paid vouchers, two of them answered (follow_up.py).
    follow_up.tell(call, now)
    date_people(rng, managers + evaluators + applicants + partner_managers, now, opens)
    date_declarations(applicants)
    return DemoSummary(True, count)
