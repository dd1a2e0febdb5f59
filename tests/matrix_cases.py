"""One valid POST per state-changing route, in a world made for it.

Each case builds (through the factories and services) what its action needs, and says who
posts what and how the database shows that the action happened. The authorization matrix
(tests/test_authorization_matrix.py) posts it as an allowed persona and checks the status
and the change; its list of POST endpoints must match the URL map.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from tests.factories import DEFAULT_TYPES, PASSWORD
from tests.helpers import PDF
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import (
    Application,
    Assignment,
    Attachment,
    Call,
    FailedLogin,
    Invitation,
    Programme,
    Review,
    ServiceProvider,
    User,
)
from vouchers.models.base import utcnow
from vouchers.services import accounts, attachments, reporting, reviews


@dataclass
class Post:
    persona: str  # who posts, as the matrix names them (the role it plays in the world)
    user: User | None  # None: an anonymous visitor
    url: str
    done: Callable[[], bool]  # the database shows the action happened (read after it)
    data: dict = field(default_factory=dict)
    status: int = 303
    session: dict = field(default_factory=dict)  # put in the session before the POST


CASES: dict[str, Callable] = {}


def case(name: str):
    """Register a world-builder for ``name``: an endpoint, or "endpoint:action"."""
    def register(build):
        CASES[name] = build
        return build
    return register


def url(endpoint: str, **values) -> str:
    with current_app.test_request_context():
        return url_for(endpoint, **values)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assigned(make):
    """An application under review, assigned to an evaluator (who has not reviewed it)."""
    application = make.application("submitted")
    evaluator = make.evaluator()
    reviews.assign(application, evaluator, make.manager())
    db.session.commit()
    return application, evaluator


def profile_fields(org, **changes) -> dict:
    return {"legal_name": org.legal_name, "registry_number": org.registry_number,
            "country": org.country, "region": org.region, "size": org.size,
            "sector": org.sector, **changes}


# --- applicants ------------------------------------------------------------------------


@case("applicant.profile")
def _(make):
    owner = make.applicant()
    return Post("applicant", owner, url("applicant.profile"),
                data=profile_fields(owner.organisation, region="Limburg"),
                done=lambda: owner.organisation.region == "Limburg")


@case("applicant.new_application")
def _(make):
    owner, cvt = make.applicant(), make.call().voucher_type("impact")
    data = {"title": "Payer meetings", "summary": "Two meetings.", "requested_amount": "20000",
            "cost_lines-0-description": "Consultant", "cost_lines-0-amount": "40000",
            "outcome": "Reimbursement", "indicators": "Two payer meetings"}
    return Post("applicant", owner, url("applicant.new_application", cvt_id=cvt.id), data=data,
                done=lambda: count(Application, Application.title == "Payer meetings") == 1)


@case("applicant.edit")
def _(make):
    a = make.application("draft")
    data = {"title": "A sharper title", "summary": a.summary,
            "requested_amount": str(a.requested_amount), "provider_id": str(a.provider_id),
            "cost_lines-0-description": "Service", "cost_lines-0-amount": str(a.total_costs),
            "service": "Market study", "delivery_date": "2027-06-30"}
    return Post("applicant", a.applicant, url("applicant.edit", application_id=a.id),
                data=data, done=lambda: a.title == "A sharper title")


@case("applicant.submit")
def _(make):
    a = make.application("draft")
    return Post("applicant", a.applicant, url("applicant.submit", application_id=a.id),
                done=lambda: a.state == "submitted")


@case("applicant.withdraw")
def _(make):
    a = make.application("submitted")
    return Post("applicant", a.applicant, url("applicant.withdraw", application_id=a.id),
                data={"reason": "We found other funding."}, done=lambda: a.state == "withdrawn")


@case("applicant.cancel")
def _(make):
    a = make.application("awarded")
    return Post("applicant", a.applicant, url("applicant.cancel", application_id=a.id),
                data={"reason": "The trade fair was called off."},
                done=lambda: a.state == "cancelled")


@case("applicant.upload")
def _(make):
    a = make.application("draft")
    return Post("applicant", a.applicant, url("applicant.upload", application_id=a.id),
                data={"purpose": "application", "kind": "quote",
                      "file": (io.BytesIO(PDF), "quote.pdf")},
                done=lambda: [(f.original_name, f.kind) for f in a.attachments]
                == [("quote.pdf", "quote")])


@case("applicant.delete_attachment")
def _(make):
    a = make.application("draft")
    upload = FileStorage(io.BytesIO(PDF), "quote.pdf", content_type="application/pdf")
    attachment_id = attachments.add_attachment(a, a.applicant, upload, "application").id
    db.session.commit()
    return Post("applicant", a.applicant,
                url("applicant.delete_attachment", application_id=a.id,
                    attachment_id=attachment_id),
                done=lambda: db.session.get(Attachment, attachment_id) is None)


@case("applicant.start_report")
def _(make):
    a = make.application("awarded")
    return Post("applicant", a.applicant, url("applicant.start_report", application_id=a.id),
                done=lambda: a.state == "reporting"
                and reporting.final_report_of(a) is not None)


@case("applicant.report")
def _(make):
    a = make.application("reporting")
    data = {"summary": "We ran the study.", "actual_costs": str(a.total_costs),
            "submit_report": "Submit final report"}
    return Post("applicant", a.applicant, url("applicant.report", application_id=a.id),
                data=data, done=lambda: a.state == "report_submitted"
                and reporting.final_report_of(a).summary == "We ran the study.")


# --- accounts --------------------------------------------------------------------------


@case("auth.login")
def _(make):
    user = make.evaluator()
    return Post("anonymous", None, url("auth.login"),
                data={"email": user.email, "password": PASSWORD},
                done=lambda: user.last_login_at is not None)


@case("auth.logout")
def _(make):
    user = make.applicant()
    return Post("applicant", user, url("auth.logout"),
                done=lambda: user.session_generation == 1)


@case("auth.register")
def _(make):
    data = {"name": "Ada Founder", "email": "ada@startup.example",
            "password": "plum tractor velvet harbour", "confirm": "plum tractor velvet harbour",
            "privacy_notice": "y"}
    return Post("anonymous", None, url("auth.register"), data=data,
                done=lambda: count(User, User.email == "ada@startup.example",
                                   User.role == "applicant") == 1)


@case("auth.change_password")
def _(make):
    user = make.evaluator()
    before = user.password_hash
    data = {"current_password": PASSWORD, "new_password": "lantern orchard cobalt",
            "confirm": "lantern orchard cobalt"}
    return Post("evaluator", user, url("auth.change_password"), data=data,
                done=lambda: user.password_hash != before
                and accounts.verify_password(user, "lantern orchard cobalt"))


@case("auth.accept_invitation")
def _(make):
    invitation, token = accounts.create_invitation(by=make.manager(), email="eva@x.example",
                                                   name="Eva Luator", role="evaluator")
    db.session.commit()
    data = {"password": "marble pigeon saffron", "confirm": "marble pigeon saffron"}
    return Post("anonymous", None, url("auth.accept_invitation", token=token), data=data,
                done=lambda: invitation.used_at is not None
                and invitation.user.role == "evaluator")


# --- evaluators ------------------------------------------------------------------------


@case("evaluator.declare_conflict")
def _(make):
    a, evaluator = assigned(make)
    return Post("evaluator", evaluator, url("evaluator.declare_conflict", application_id=a.id),
                data={"reason": "I advise this company."},
                done=lambda: reviews.assignment_of(a, evaluator).has_conflict)


@case("evaluator.submit_review")
def _(make):
    a, evaluator = assigned(make)
    reviews.confirm_no_conflict(a, evaluator)
    db.session.commit()
    scores = {f"score_{c.id}": "4" for c in a.call_voucher_type.criteria}
    return Post("evaluator", evaluator, url("evaluator.submit_review", application_id=a.id),
                data={"comment": "A sound plan.", "recommendation": "award", **scores},
                done=lambda: count(Review, Review.application_id == a.id,
                                   Review.evaluator_id == evaluator.id) == 1)


# --- managers: an application's actions (the form's prefix is the action's name) -------


def action(make, state: str, name: str, to: str, **fields) -> Post:
    a = make.application(state)
    return Post("manager", make.manager(),
                url("manager.application_action", application_id=a.id, action=name),
                data={f"{name}-{key}": value for key, value in fields.items()},
                done=lambda: a.state == to)


CASES.update({
    "manager.application_action:start_review":
        lambda make: action(make, "submitted", "start_review", "under_review"),
    "manager.application_action:award":
        lambda make: action(make, "under_review", "award", "awarded", amount="50000.00"),
    "manager.application_action:reject":
        lambda make: action(make, "under_review", "reject", "rejected", comment="Too early."),
    "manager.application_action:waitlist":
        lambda make: action(make, "under_review", "waitlist", "waitlisted"),
    "manager.application_action:return_for_changes":
        lambda make: action(make, "submitted", "return_for_changes", "returned",
                            comment="Add the quote."),
    "manager.application_action:cancel":
        lambda make: action(make, "awarded", "cancel", "cancelled", comment="Company closed."),
    "manager.application_action:start_reporting":
        lambda make: action(make, "awarded", "start_reporting", "reporting"),
    "manager.application_action:approve_report":
        lambda make: action(make, "report_submitted", "approve_report", "completed"),
    "manager.application_action:return_report":
        lambda make: action(make, "report_submitted", "return_report", "reporting",
                            comment="Attach the invoices."),
    "manager.application_action:record_payment":
        # The factory's voucher: 60,000 awarded, costs x rate = 60,000 payable.
        lambda make: action(make, "completed", "record_payment", "paid", amount="60000.00",
                            paid_on=today().isoformat(), reference="BANK-1"),
})


@case("manager.assign_evaluator")
def _(make):
    a, evaluator = make.application("submitted"), make.evaluator()
    return Post("manager", make.manager(),
                url("manager.assign_evaluator", application_id=a.id),
                data={"assign-evaluator": str(evaluator.id)},
                done=lambda: reviews.assignment_of(a, evaluator) is not None)


@case("manager.auto_assign")
def _(make):
    a = make.application("submitted")
    make.evaluator()
    return Post("manager", make.manager(), url("manager.auto_assign", call_id=a.call_id),
                data={"per_application": "1", "return_to": "dashboard"},
                done=lambda: a.state == "under_review"
                and count(Assignment, Assignment.application_id == a.id) == 1)


# --- managers: set-up ------------------------------------------------------------------


def call_fields(code: str, title: str, criterion_id: int | None = None) -> dict:
    """A call offering travel vouchers only (the first voucher type), one criterion."""
    row = "types-0-"
    return {"code": code, "title": title, "opens_at": "2027-03-01T09:00",
            "closes_at": "2027-05-31T17:00", row + "offered": "y", row + "quota": "12",
            row + "max_amount": "5000", row + "funding_rate": "100", row + "envelope": "60000",
            row + "score_scale": "5", row + "criteria-0-name": "Relevance",
            row + "criteria-0-weight": "1",
            row + "criteria-0-criterion_id": "" if criterion_id is None else str(criterion_id)}


@case("manager.new_programme")
def _(make):
    data = {"name": "Cross-border health", "funder": "Interreg", "total_budget": "1000000",
            "starts_on": "2027-01-01", "ends_on": "2029-12-31"}
    return Post("manager", make.manager(), url("manager.new_programme"), data=data,
                done=lambda: count(Programme, Programme.name == "Cross-border health") == 1)


@case("manager.new_call")
def _(make):
    programme = Programme(name="Empty", funder="Interreg", total_budget=Decimal("1000000"),
                          starts_on=date(2026, 1, 1), ends_on=date(2029, 12, 31))
    db.session.add(programme)
    db.session.commit()
    data = {"programme_id": str(programme.id), **call_fields("HLS2", "Second call")}
    return Post("manager", make.manager(), url("manager.new_call"), data=data,
                done=lambda: count(Call, Call.code == "HLS2") == 1)


@case("manager.edit_call")
def _(make):
    call = make.call({"travel": DEFAULT_TYPES["travel"]}, criteria=1)
    criterion_id = call.voucher_type("travel").criteria[0].id
    return Post("manager", make.manager(), url("manager.edit_call", call_id=call.id),
                data=call_fields(call.code, "A clearer title", criterion_id),
                done=lambda: call.title == "A clearer title")


def provider_fields(name: str) -> dict:
    return {"name": name, "country": "DE", "region": "Bavaria", "services": "Testing"}


@case("manager.new_provider")
def _(make):
    return Post("manager", make.manager(), url("manager.new_provider"),
                data=provider_fields("Lab Nord"),
                done=lambda: count(ServiceProvider, ServiceProvider.name == "Lab Nord") == 1)


@case("manager.edit_provider")
def _(make):
    provider = make.provider()
    return Post("manager", make.manager(), url("manager.edit_provider", provider_id=provider.id),
                data=provider_fields("Lab Süd"), done=lambda: provider.name == "Lab Süd")


@case("manager.deactivate_provider")
def _(make):
    provider = make.provider()
    return Post("manager", make.manager(),
                url("manager.deactivate_provider", provider_id=provider.id),
                done=lambda: not provider.active)


@case("manager.reactivate_provider")
def _(make):
    provider = make.provider()
    provider.active = False
    db.session.commit()
    return Post("manager", make.manager(),
                url("manager.reactivate_provider", provider_id=provider.id),
                done=lambda: provider.active)


@case("manager.edit_organisation")
def _(make):
    org = make.applicant().organisation
    data = profile_fields(org, region="Limburg", reason="Register extract of 3 March.")
    return Post("manager", make.manager(),
                url("manager.edit_organisation", organisation_id=org.id), data=data,
                done=lambda: org.region == "Limburg")


# --- managers: users and invitations ---------------------------------------------------


@case("manager.invite_user")
def _(make):
    # Success is a redirect to the page with the link to pass on.
    data = {"name": "Eva Luator", "email": "eva@x.example", "role": "evaluator"}
    return Post("manager", make.manager(), url("manager.invite_user"), data=data,
                done=lambda: count(Invitation, Invitation.email == "eva@x.example",
                                   Invitation.used_at.is_(None),
                                   Invitation.revoked_at.is_(None)) == 1)


@case("manager.revoke_invitation")
def _(make):
    manager = make.manager()
    invitation, _token = accounts.create_invitation(by=manager, email="eva@x.example",
                                                    name="Eva Luator", role="evaluator")
    db.session.commit()
    return Post("manager", manager,
                url("manager.revoke_invitation", invitation_id=invitation.id),
                done=lambda: invitation.revoked_at is not None)


@case("manager.disable_user")
def _(make):
    target = make.evaluator()
    return Post("manager", make.manager(), url("manager.disable_user", user_id=target.id),
                data={"reason": "Left the panel."}, done=lambda: not target.enabled)


@case("manager.enable_user")
def _(make):
    manager, target = make.manager(), make.evaluator()
    accounts.disable_account(target, manager)
    db.session.commit()
    return Post("manager", manager, url("manager.enable_user", user_id=target.id),
                done=lambda: target.enabled)


@case("manager.unlock_user")
def _(make):
    target = make.evaluator()
    db.session.add_all([FailedLogin(email=target.email, address=f"198.51.100.{i}",
                                    attempted_at=utcnow()) for i in range(3)])
    db.session.commit()
    return Post("manager", make.manager(), url("manager.unlock_user", user_id=target.id),
                done=lambda: count(FailedLogin, FailedLogin.email == target.email) == 0)


# The cases of issue 8's, 9's and 10's parts live in their own modules; importing them
# registers them.
from tests import (  # noqa: E402, F401
    matrix_cases_accounts_mail,
    matrix_cases_aid,
    matrix_cases_bank,
    matrix_cases_call_rules,
    matrix_cases_deadlines,
    matrix_cases_eligibility,
    matrix_cases_events,
    matrix_cases_i18n,
    matrix_cases_jobs,
    matrix_cases_mail,
    matrix_cases_messages,
    matrix_cases_money,
    matrix_cases_partner_reports,
    matrix_cases_partners_admin,
    matrix_cases_payments,
    matrix_cases_privacy,
    matrix_cases_ranking,
    matrix_cases_register,
    matrix_cases_scoring,
    matrix_cases_second_factor,
    matrix_cases_surveys,
    matrix_cases_tokens,
    matrix_cases_versions,
)
