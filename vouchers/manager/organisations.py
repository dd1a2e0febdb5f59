"""Companies: the manager finds an SME and corrects its details.

An applicant can no longer change the legal name, registry number, country, region or
declared de minimis aid once the company has submitted an application; the managers
correct them here, giving a reason that goes to the log with the change.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import exists, func, or_, select

from workflows import lifecycle

from ..extensions import db
from ..models import Application, Organisation, User
from ..navigation import nav_item
from ..services.errors import DomainError
from ..services.organisations import correct_organisation, normalise_registry_number
from .blueprint import bp
from .forms import CorrectionForm, OrganisationSearchForm

ORGANISATIONS_PER_PAGE = 50
REFUSED = 422

nav_item("manager", "Companies", "manager.organisations", order=45)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _is_sme():
    """Organisations an applicant applies for (an evaluator's employer is not one)."""
    return or_(
        exists().where(User.organisation_id == Organisation.id,
                       User.role == lifecycle.APPLICANT),
        exists().where(Application.organisation_id == Organisation.id),
    )


def _application_counts(organisation_ids: list[int]) -> dict[int, int]:
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        select(Application.organisation_id, func.count())
        .where(Application.organisation_id.in_(organisation_ids))
        .group_by(Application.organisation_id)
    )
    return {organisation_id: count for organisation_id, count in rows}


@bp.get("/organisations")
def organisations():
    form = OrganisationSearchForm(request.args)
    query = select(Organisation).where(_is_sme()).order_by(Organisation.legal_name,
                                                          Organisation.id)
    text = ""
    if form.validate():
        text = (form.q.data or "").strip()
    if text:
        conditions = [func.lower(Organisation.legal_name).like(
            f"%{_escape_like(text.lower())}%", escape="\\")]
        number = normalise_registry_number(text)
        if number:
            conditions.append(Organisation.registry_number.contains(number, autoescape=True))
        query = query.where(or_(*conditions))
    page = db.paginate(query, per_page=ORGANISATIONS_PER_PAGE,
                       max_per_page=ORGANISATIONS_PER_PAGE, error_out=False, count=True)
    counts = _application_counts([o.id for o in page.items])
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("manager/organisations.html", form=form, page=page,
                           page_args=args, counts=counts, searched=bool(text))


def _organisation_or_404(organisation_id: int) -> Organisation:
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.id == organisation_id, _is_sme())
    )
    if organisation is None:
        abort(404)
    return organisation


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    organisation = _organisation_or_404(organisation_id)
    form = CorrectionForm(organisation=organisation)
    error = None
    if form.validate_on_submit():
        try:
            changed = correct_organisation(
                organisation, current_user, legal_name=form.legal_name.data,
                registry_number=form.registry_number.data, country=form.country.data,
                region=form.region.data, size=form.size.data, sector=form.sector.data,
                de_minimis_declared=form.de_minimis_declared.data, reason=form.reason.data,
            )
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash(f"The details of {organisation.legal_name} are corrected "
                  f"({', '.join(changed)}).", "success")
            return redirect(url_for("manager.organisations", q=organisation.registry_number),
                            code=303)
    applications = db.session.scalars(
        select(Application).where(Application.organisation_id == organisation.id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    ).all()
    applicants = db.session.scalars(
        select(User).where(User.organisation_id == organisation.id,
                           User.role == lifecycle.APPLICANT).order_by(User.name, User.id)
    ).all()
    status = REFUSED if request.method == "POST" else 200
    return render_template("manager/organisation_form.html", form=form, error=error,
                           organisation=organisation, applications=applications,
                           applicants=applicants), status
