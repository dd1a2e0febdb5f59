"""The demo programme: a cross-border health and life-sciences voucher scheme.

Shaped like the real programme of the brief: EUR 1.24 million, one call with 12
travel, 6 market-validation, 5 product-validation and 3 impact vouchers, partner
agencies in ten regions, a catalogue of service providers, about forty SMEs, and
applications in every state of the lifecycle. Every state is reached through the
service layer, so each application has a real audit trail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from .clock import today
from .extensions import db
from .models import (
    Call,
    CallVoucherType,
    CostLine,
    Criterion,
    Organisation,
    Programme,
    ServiceProvider,
    User,
)
from .models.base import utcnow
from .services import reporting, reviews, transitions

DEMO_PASSWORDS = {
    "manager": "demo-manager-pass",
    "evaluator": "demo-evaluator-pass",
    "applicant": "demo-applicant-pass",
}

# The partner agencies, one per region (a later phase added NRW and Ireland).
PARTNERS = [
    ("Biocat", "ES", "Catalonia"),
    ("Brabant Development Agency", "NL", "North Brabant"),
    ("East Netherlands Development Agency", "NL", "Gelderland and Overijssel"),
    ("Biopeople", "DK", "Capital Region of Denmark"),
    ("BioRegio STERN Management", "DE", "Baden-Wuerttemberg"),
    ("GM Business Support", "UK", "Greater Manchester"),
    ("Kent County Council", "UK", "Kent"),
    ("Eurasante", "FR", "Hauts-de-France"),
    ("ID2Sante", "FR", "Brittany"),
    ("University of Liege", "BE", "Wallonia"),
]

PROVIDERS = [
    ("Leitat Technological Center", "ES", "Catalonia", "Product testing, biocompatibility"),
    ("Eurecat Health Unit", "ES", "Catalonia", "Clinical usability studies"),
    ("TNO Healthy Living", "NL", "North Brabant", "Market studies, health economics"),
    ("Maastricht Health Campus Services", "NL", "Limburg", "Clinical trial design"),
    ("Novo Labs Validation ApS", "DK", "Capital Region of Denmark", "Assay validation"),
    ("Medicon Valley Market Insight", "DK", "Capital Region of Denmark", "Market access"),
    ("NMI Reutlingen Testing", "DE", "Baden-Wuerttemberg", "Analytical testing, GMP audits"),
    ("Steinbeis MedTech Consulting", "DE", "Baden-Wuerttemberg", "MDR regulatory advice"),
    ("Manchester Health Economics Ltd", "UK", "Greater Manchester",
     "Health technology assessment"),
    ("Citylabs Validation Services", "UK", "Greater Manchester", "Diagnostics validation"),
    ("Discovery Park Analytics", "UK", "Kent", "Preclinical analytics"),
    ("Clinnov Lille", "FR", "Hauts-de-France", "Clinical investigation support"),
    ("Nutrition Testing Lab Lille", "FR", "Hauts-de-France", "Nutrition claims substantiation"),
    ("Biotrial Rennes Services", "FR", "Brittany", "Early-phase clinical services"),
    ("Silver Valley Market Lab", "FR", "Brittany", "Ageing-population market studies"),
    ("CER Groupe Marche", "BE", "Wallonia", "Food and feed testing"),
    ("GIGA Validation Platform", "BE", "Wallonia", "Genomics and imaging validation"),
    ("Life Science Regulatory Partners GmbH", "DE", "North Rhine-Westphalia",
     "Regulatory strategy, CE marking"),
    ("Cork Medtech Test House", "IE", "Southern Region", "Device bench testing"),
    ("Dublin Digital Health Evidence", "IE", "Eastern and Midland", "Real-world evidence"),
]

SME_NAMES = [
    "Aquilon Biotech", "Brightcell Diagnostics", "CardioSense Medical", "Dermagen Labs",
    "Enzymix", "Fluidosome Therapeutics", "GenoSight", "HeliMed Devices", "ImmunoTrace",
    "Juniper Nutrition", "Kinetiq Health", "Lumiscan Imaging", "MycoPure Foods", "NeuroPulse",
    "Oculara", "PeptiCure", "Quantibio", "RespiraTech", "SanaBiome", "Theralink Digital",
    "Uromed Solutions", "Vitacode", "WoundWise", "Xenolab", "Yeastwise Biotech",
    "Zenith Orthopaedics",
    "Allergo Diagnostics", "BoneBridge", "Cellora", "DiaSmart", "EpiGenix", "FemCare Tech",
    "Glycomics Nordic", "Hepatica", "InsuLoop", "Jointly Health", "KetoNova", "Lipotrack",
    "MicroFlu Devices", "Nanobody Works",
]
LEGAL_SUFFIX = {"ES": "S.L.", "NL": "B.V.", "DK": "ApS", "DE": "GmbH", "UK": "Ltd",
                "FR": "SAS", "BE": "SRL", "IE": "Ltd"}
REGISTRY_PREFIX = {"ES": "ESB", "NL": "NL", "DK": "DK", "DE": "DE", "UK": "GB", "FR": "FR",
                   "BE": "BE0", "IE": "IE"}

EVENTS = [
    ("BIO-Europe matchmaking", "Copenhagen, Denmark"),
    ("MEDICA trade fair", "Duesseldorf, Germany"),
    ("BIO International Convention", "San Diego, USA"),
    ("Vitafoods Europe", "Barcelona, Spain"),
    ("HLTH Europe", "Amsterdam, Netherlands"),
    ("Arab Health trade mission", "Dubai, UAE"),
]

CRITERIA = {
    "travel": [("Relevance of the event", "2"), ("Expected partnerships", "1")],
    "market_validation": [("Innovation", "1"), ("Market potential", "2"),
                          ("Quality of the provider's offer", "1")],
    "product_validation": [("Innovation", "1"), ("Technical feasibility", "2"),
                           ("Quality of the provider's offer", "1")],
    "impact": [("Expected outcome", "2"), ("Indicators and evidence", "1")],
}

# type: quota, max amount, funding rate, envelope (together the EUR 1.24 million).
TYPES = [
    ("travel", 12, "6000", "1.00", "80000"),
    ("market_validation", 6, "60000", "0.75", "360000"),
    ("product_validation", 5, "100000", "0.75", "500000"),
    ("impact", 3, "100000", "0.50", "300000"),
]


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
    programme = Programme(
        name="Health & Life Sciences Cross-border Vouchers", funder="Interreg North-West Europe",
        currency="EUR", total_budget=Decimal("1240000.00"),
        starts_on=date(now.year - 1, 9, 1), ends_on=date(now.year + 2, 8, 31),
    )
    db.session.add(programme)
    call = Call( code="HLS1", title="Cross-border innovation vouchers, call 1",
        description="Vouchers for life-science SMEs to buy market and product validation "
                    "services from providers in another partner region, travel to partnering "
                    "events, and measure their impact.",
        opens_at=now - timedelta(days=200), closes_at=now + timedelta(days=120),
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
    for i, base_name in enumerate(SME_NAMES, 1):
        _, country, region = regions[(i - 1) % len(regions)]
        org = Organisation(
            legal_name=f"{base_name} {LEGAL_SUFFIX[country]}",
            registry_number=f"{REGISTRY_PREFIX[country]}{rng.randrange(10**8, 10**9)}",
            country=country, region=region,
            size=rng.choice(["micro", "micro", "small", "small", "medium"]),
            sector=rng.choice(["biotech", "medtech", "digital_health", "nutrition",
                               "diagnostics"]),
            de_minimis_declared=Decimal(rng.choice([0, 0, 15000, 40000, 120000])),
        )
        user = User(email=f"applicant{i}@demo.example",
                    name=f"{rng.choice(['Ana', 'Lars', 'Sophie', 'Tom', 'Eva', 'Niels', 'Julie'])} "
                         f"{rng.choice(['Vidal', 'Hansen', 'Martin', 'Smith', 'Peeters'])}",
                    role="applicant", password_hash=hashes["applicant"], organisation=org)
        applicants.append(user)
    db.session.add_all(applicants)
    db.session.flush()

    count = _demo_applications(rng, call, applicants, providers, managers[0], evaluators)
    return DemoSummary(True, count)


# How many applications of each type end in each state; awarded-side counts stay within
# the quotas above (12 / 6 / 5 / 3).
PLAN = {
    "travel": {"paid": 2, "completed": 1, "report_submitted": 1, "reporting": 2, "awarded": 2,
               "cancelled": 1, "under_review": 2, "submitted": 2, "rejected": 1, "draft": 1,
               "withdrawn": 1},
    "market_validation": {"paid": 1, "reporting": 1, "awarded": 1, "report_submitted": 1,
                          "waitlisted": 1, "under_review": 2, "submitted": 1, "returned": 1,
                          "rejected": 1, "draft": 1},
    "product_validation": {"completed": 1, "awarded": 1, "reporting": 1, "under_review": 2,
                           "waitlisted": 1, "submitted": 1, "rejected": 1, "draft": 1,
                           "withdrawn": 1},
    "impact": {"paid": 1, "awarded": 1, "under_review": 1, "submitted": 1, "returned": 1,
               "draft": 1},
}

# The path of triggers to each end state (after the draft is created).
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


def _demo_applications(rng, call, applicants, providers, manager, evaluators) -> int:
    by_type = {t.voucher_type: t for t in call.voucher_types}
    sme_cycle = iter(applicants * 3)
    count = 0
    for vt, plan in PLAN.items():
        cvt = by_type[vt]
        for end_state, n in plan.items():
            for _ in range(n):
                applicant = next(sme_cycle)
                application = _draft(rng, cvt, applicant, providers)
                for step in PATHS[end_state]:
                    _step(rng, step, application, applicant, manager, evaluators)
                assert application.state == end_state, (application.state, end_state)
                count += 1
    return count


def _draft(rng, cvt, applicant, providers):
    vt = cvt.voucher_type
    org = applicant.organisation
    if vt == "travel":
        event, destination = rng.choice(EVENTS)
        start = today() + timedelta(days=rng.randrange(20, 200))
        details = {"event": event, "destination": destination,
                   "start_date": start.isoformat(),
                   "end_date": (start + timedelta(days=rng.randrange(2, 5))).isoformat()}
        title = f"{org.legal_name.split()[0]} at {event}"
        lines = [("Return flight", Decimal(rng.randrange(300, 1200))),
                 ("Hotel, 3 nights", Decimal(rng.randrange(400, 900))),
                 ("Partnering fee", Decimal(rng.randrange(900, 2500)))]
        provider = None
    elif vt == "impact":
        details = {"outcome": "Independent evidence of patient benefit to support "
                              "reimbursement talks",
                   "indicators": "Two payer meetings; one health-economic model; "
                                 "one peer-reviewed abstract"}
        title = f"Impact study for {org.legal_name.split()[0]}'s lead product"
        lines = [("Health-economic model", Decimal(rng.randrange(40000, 80000))),
                 ("Stakeholder interviews", Decimal(rng.randrange(20000, 60000)))]
        provider = None
    else:
        provider = rng.choice([p for p in providers if p.country != org.country])
        service = ("Market study in three EU markets" if vt == "market_validation"
                   else "Bench and usability testing against MDR requirements")
        details = {"service": service}
        title = f"{service} for {org.legal_name.split()[0]}"
        lines = [(service, Decimal(rng.randrange(30000, 90000))),
                 ("Provider's travel and reporting", Decimal(rng.randrange(2000, 8000)))]
    total = sum(amount for _, amount in lines)
    requested = min(cvt.max_amount, (total * cvt.funding_rate).quantize(Decimal("0.01")))
    application = transitions.create_draft(
        applicant, cvt, title=title, details=details, provider_id=provider.id if provider else None,
        summary=f"{org.legal_name} ({org.region}) will use the voucher for: {title.lower()}.",
        requested_amount=requested,
    )
    application.cost_lines = [CostLine(description=d, amount=a, position=i)
                              for i, (d, a) in enumerate(lines)]
    db.session.flush()
    return application


def _step(rng, step, application, applicant, manager, evaluators):
    if step == "submit":
        transitions.submit(application, applicant)
    elif step == "withdraw":
        transitions.withdraw(application, applicant, "We found another source of funding.")
    elif step == "return_for_changes":
        transitions.return_for_changes(application, manager,
                               "Please attach the provider's signed quote.")
    elif step == "review":
        pair = rng.sample(evaluators, 2)
        for evaluator in pair:
            reviews.assign(application, evaluator, manager)
        criteria = application.call_voucher_type.criteria
        reviews.submit_review(
            application, pair[0], scores={c.id: rng.randint(2, 5) for c in criteria},
            recommendation="award", comment="Clear plan and a credible provider.",
        )
    elif step == "reject":
        transitions.reject(application, manager, "Not eligible: the service is bought in the "
                                         "applicant's own region.")
    elif step == "waitlist":
        transitions.waitlist(application, manager, "Good proposal; waiting for budget.")
    elif step == "award":
        transitions.award(application, manager, application.requested_amount,
                          "Selected by the panel.")
    elif step == "cancel":
        transitions.cancel(application, manager, "The event was cancelled by its organiser.")
    elif step == "start_reporting":
        reporting.start_reporting(application, applicant)
    elif step == "save_report":
        spent = sum(line.amount for line in application.cost_lines)
        reporting.save_final_report(application, applicant,
                              summary="The service was delivered as planned; results attached.",
                              actual_costs=spent - Decimal(rng.randrange(0, 500)))
    elif step == "submit_report":
        reporting.submit_final_report(application, applicant)
    elif step == "approve_report":
        reporting.approve_report(application, manager, "Evidence complete.")
    elif step == "pay":
        reporting.record_payment(application, manager, reporting.payable_amount(application),
                           paid_on=today(), reference=f"PAY-{application.reference}",
                           invoice_number=f"INV-{application.id:04d}",
                           invoice_date=today() - timedelta(days=10))
    else:  # pragma: no cover - a typo in PATHS
        raise ValueError(step)
