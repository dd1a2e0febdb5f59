"""The database of the deadline-rush load test (bench/load_deadline_rush.py).

Two calls of one programme, written through the app's own services as the benchmarks'
other populate() functions do:

- RUSH, open until tomorrow, offering impact vouchers (a quote required): the simulated
  applicants register and apply to it over HTTP;
- DECIDE, closed yesterday, whose applications are under review, each reviewed by an
  evaluator: the simulated managers award them. Each manager works on the applications
  of one country (as partner managers do), so two managers never race for the same one.

At the deadline the applicants are not all at the start of their way: resume() gives
accounts that are part of the way through (confirmed; with a company profile; with a draft;
with a draft and its quote), so that the last minute sees submissions, not only
registrations. Each is written as the app writes it, through the same services.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

from sqlalchemy import update
from werkzeug.datastructures import FileStorage
from werkzeug.security import generate_password_hash

from bench._load_pages import PASSWORD, QUOTE_PDF
from vouchers.extensions import db
from vouchers.models import (
    Application,
    Call,
    CallVoucherType,
    CostLine,
    Criterion,
    Organisation,
    Programme,
    User,
)
from vouchers.models.base import utcnow
from vouchers.services import applications, attachments, organisations, reviews, transitions

MANAGER_PASSWORD = "rush-manager-passphrase"
# Where a returning applicant stands; "new" registers (bench/_load_users.py).
STAGES = ("new", "confirmed", "profile", "draft", "quote")
# One country per manager: the applications each one awards (the DECIDE call's SMEs).
MANAGER_COUNTRIES = ("NL", "BE", "FR", "IE", "AT", "LU", "PT", "SE", "FI", "DK")
REGIONS = {"NL": "North Brabant", "BE": "Wallonia", "FR": "Brittany", "IE": "Southern",
           "AT": "Vienna", "LU": "Luxembourg", "PT": "Norte", "SE": "Stockholm",
           "FI": "Uusimaa", "DK": "Capital Region"}


@dataclass(frozen=True)
class Seeded:
    rush_cvt_id: int
    decide_call_id: int
    # email, password, country, ids (of its applications to award), totp_secret
    managers: list[dict]
    applicants: list[dict]  # email, password, stage, application_id (the draft's)

    def as_dict(self) -> dict:
        return asdict(self)


def _call(programme: Programme, code: str, title: str, quota: int, now,
          required: list[str]) -> CallVoucherType:
    call = Call(code=code, title=title, opens_at=now - timedelta(days=30),
                closes_at=now + timedelta(days=1))
    programme.calls.append(call)
    cvt = CallVoucherType(voucher_type="impact", position=0, quota=quota,
                          max_amount=Decimal("50000"), funding_rate=Decimal("0.50"),
                          envelope=Decimal("50000") * quota, score_scale=5,
                          required_attachments=required)
    cvt.criteria = [Criterion(name="Expected outcome", weight=Decimal(1), position=0)]
    call.voucher_types.append(cvt)
    return cvt


def populate(managers: int, per_manager: int, applicants: int) -> Seeded:
    now = utcnow()
    programme = Programme(name="Deadline rush programme", funder="Bench funder",
                          currency="EUR", total_budget=Decimal("1000000000"),
                          starts_on=(now - timedelta(days=60)).date(),
                          ends_on=(now + timedelta(days=900)).date())
    rush = _call(programme, "RUSH", "Open call closing tomorrow", 100_000, now,
                 ["quote"])
    decide = _call(programme, "DECIDE", "Call being decided", managers * per_manager, now,
                   [])  # the seeded applications carry no files
    evaluator = User(email="evaluator@rush.example", name="Rush Evaluator", role="evaluator",
                     password_hash="!", email_verified_at=now)
    lead = User(email="lead@rush.example", name="Lead Manager", role="manager",
                password_hash="!", email_verified_at=now)
    hashed = generate_password_hash(MANAGER_PASSWORD)
    people = [User(email=f"manager{m + 1}@rush.example", name=f"Manager {m + 1}",
                   role="manager", password_hash=hashed, email_verified_at=now)
              for m in range(managers)]
    db.session.add_all([programme, evaluator, lead, *people])
    db.session.flush()
    listed = []
    for m, manager in enumerate(people):
        country = MANAGER_COUNTRIES[m % len(MANAGER_COUNTRIES)]
        ids = [_reviewed(decide, country, m * per_manager + i, evaluator, lead, now)
               for i in range(per_manager)]
        # Managers sign in with a second factor: each gets one through the service, and
        # the load test's manager computes its codes from the secret (bench/_load_users.py).
        from vouchers.services import totp

        secret = totp.begin_enrolment(manager)
        totp.confirm_enrolment(manager, totp.code_of(secret, now - timedelta(seconds=30)),
                               "seed")
        listed.append({"email": manager.email, "password": MANAGER_PASSWORD,
                       "country": country, "ids": ids, "totp_secret": secret})
    # The decided call closed yesterday: its applications were all in before.
    db.session.execute(update(Call).where(Call.id == decide.call_id)
                       .values(closes_at=now - timedelta(days=1)))
    db.session.commit()
    return Seeded(rush_cvt_id=rush.id, decide_call_id=decide.call_id, managers=listed,
                  applicants=resume(rush, applicants))


def resume(cvt: CallVoucherType, count: int) -> list[dict]:
    """``count`` applicants, the n-th at stage STAGES[n % len(STAGES)] of its way."""
    now = utcnow()
    hashed = generate_password_hash(PASSWORD)
    people = []
    for n in range(count):
        stage = STAGES[n % len(STAGES)]
        person = {"email": f"returning{n}@rush.example", "password": PASSWORD,
                  "stage": stage, "application_id": None}
        people.append(person)
        if stage == "new":
            continue
        user = User(email=person["email"], name=f"Returning Applicant {n}", role="applicant",
                    password_hash=hashed, email_verified_at=now)
        db.session.add(user)
        db.session.flush()
        if stage == "confirmed":
            continue
        organisations.save_profile(user, legal_name=f"Returning SME {n} Ltd",
                                   registry_number=f"BACK{n:06d}", country="IE",
                                   region="Southern", size="small", sector="biotech")
        if stage == "profile":
            continue
        application = applications.start_application(
            user, cvt, {"title": f"Payer study {n}", "requested_amount": Decimal("6000.00"),
                        "summary": "A health-economic model for the first payer meetings.",
                        "outcome": "Reimbursement talks with two payers",
                        "indicators": "Two payer meetings held"},
            # The second line is added by the applicant at the "draft" stage.
            [(f"Modelling work, part {k + 1}", Decimal("7000.00"))
             for k in range(2 if stage == "quote" else 1)])
        person["application_id"] = application.id
        if stage == "quote":
            upload = FileStorage(stream=BytesIO(QUOTE_PDF), filename="quote.pdf",
                                 content_type="application/pdf")
            attachments.add_attachment(application, user, upload, "application", "quote")
    db.session.commit()
    return people


def _reviewed(cvt: CallVoucherType, country: str, n: int, evaluator: User, lead: User,
              now) -> int:
    """One application of its own company, submitted, under review and reviewed."""
    # Written directly, as the other benchmarks' populate() do: the profile form's number
    # checks are not what is measured.
    org = Organisation(legal_name=f"Decide SME {n} Ltd", registry_number=f"DECIDE{n:06d}",
                       country=country, region=REGIONS[country])
    applicant = User(email=f"decide{n}@rush.example", name=f"Decide Applicant {n}",
                     role="applicant", password_hash="!", organisation=org,
                     email_verified_at=now)
    db.session.add(applicant)
    db.session.flush()
    application: Application = transitions.create_draft(
        applicant, cvt, title=f"Impact study {n}", summary="A health-economic model.",
        details={"outcome": "Reimbursement talks", "indicators": "Two payer meetings"},
        requested_amount=Decimal("5000.00"))
    application.cost_lines = [CostLine(description="Model", amount=Decimal("10000"),
                                       position=0)]
    transitions.submit(application, applicant)
    reviews.assign(application, evaluator, lead)
    reviews.confirm_no_conflict(application, evaluator)
    reviews.submit_review(application, evaluator, scores={cvt.criteria[0].id: 4},
                          recommendation="award", comment="Sound plan.")
    return application.id
