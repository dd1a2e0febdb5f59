"""The company profile: the undertaking an applicant applies for, described once.

Applicants describe their company (save_profile); managers find companies and correct
their details (correct_organisation), each correction kept as a ChangeRecord with its
reason, written in the same transaction as the change.

The registry and VAT numbers are checked per country (vouchers/identifiers.py) when they
are given or edited. A number stored before the checks, given again unchanged, is kept as
it is: existing companies keep working until someone edits the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload

from workflows import lifecycle

from .. import identifiers, policy
from ..countries import COUNTRY_ALIASES, VALID_COUNTRIES
from ..extensions import db
from ..models import COMPANY_SIZES, SECTORS, Application, ChangeRecord, Organisation, User
from ..text import clean_line
from . import aid, deadlines, partners
from .errors import InvalidInput
from .transaction import atomic
from .wording import N_

# English here, translated where the profile form shows them (applicant/forms.py).
SIZE_LABELS = {
    "micro": N_("Micro (fewer than 10 staff, turnover up to €2 million)"),
    "small": N_("Small (fewer than 50 staff, turnover up to €10 million)"),
    "medium": N_("Medium (fewer than 250 staff, turnover up to €50 million)"),
    "large": N_("Large (250 staff or more, or turnover above €50 million)"),
}
_SECTOR_NAMES = {
    "biotech": N_("Biotech"), "medtech": N_("Medtech"), "digital_health": N_("Digital health"),
    "nutrition": N_("Nutrition"), "pharma": N_("Pharma"), "diagnostics": N_("Diagnostics"),
}
# In the models' order; a sector added there without a name here fails at import.
SECTOR_LABELS = {s: _SECTOR_NAMES[s] for s in SECTORS}
MAX_REASON = 2000
REGISTRY_NUMBER_UNIQUE = "uq_organisations_registry_number"
# How a correction is filed among the change records.
ORGANISATION, CORRECT = "organisation", "correct"
COMPANIES_PER_PAGE = 50
FIELD_LABELS = {
    "legal_name": N_("legal name"), "registry_number": N_("registry number"),
    "vat_number": N_("VAT number"), "country": N_("country"), "region": N_("region"),
    "size": N_("size"), "sector": N_("sector"),
}
# Corrections made before de minimis aid was declared aid by aid, with its date, changed
# one undated figure; the history still shows them.
HISTORY_LABELS = {**FIELD_LABELS,
                  "de_minimis_declared": N_("de minimis aid received (undated)")}
# What an applicant may no longer change once the company has submitted an application.
FROZEN_FIELDS = {name: FIELD_LABELS[name] for name in (
    "legal_name", "registry_number", "country", "region")}
# The VAT number (the de minimis register records it) freezes too once it is given: a
# company that submitted before the field existed may still add it.
FROZEN_ONCE_GIVEN = {"vat_number": FIELD_LABELS["vat_number"]}


def normalise_registry_number(value: str) -> str:
    """Letters and digits only, upper case: "nl 8520.91.234.b01" is "NL852091234B01"."""
    return re.sub(r"[^0-9A-Za-z]", "", value or "").upper()


def normalise_country(value: str) -> str:
    code = (value or "").strip().upper()
    return COUNTRY_ALIASES.get(code, code)


def registry_number_taken(number: str, *, except_id: int | None = None) -> bool:
    query = select(func.count()).select_from(Organisation).where(
        Organisation.registry_number == number
    )
    if except_id is not None:
        query = query.where(Organisation.id != except_id)
    return bool(db.session.scalar(query))


def has_submitted(organisation: Organisation) -> bool:
    return bool(db.session.scalar(
        select(func.count()).select_from(Application).where(
            Application.organisation_id == organisation.id,
            Application.submitted_at.is_not(None))
    ))


def frozen_fields(organisation: Organisation | None) -> dict[str, str]:
    """Field -> label of what the company's applicants may no longer change."""
    if organisation is None or not has_submitted(organisation):
        return {}
    return {**FROZEN_FIELDS, **{name: label for name, label in FROZEN_ONCE_GIVEN.items()
                                if getattr(organisation, name)}}


def _identifier(organisation: Organisation | None, name: str, value: str | None,
                country: str, check) -> str | None:
    """``check(value, country)``'s compact form, or the stored value when it is given again
    unchanged (as the form shows it): numbers from before the checks keep working."""
    stored = getattr(organisation, name) if organisation is not None else None
    if stored and normalise_registry_number(value or "") == normalise_registry_number(stored):
        return stored
    try:
        return check(value, country)
    except identifiers.IdentifierError as exc:
        raise InvalidInput(str(exc)) from exc


def _clean_profile(organisation: Organisation | None, *, legal_name: str,
                   registry_number: str, country: str, region: str, size: str, sector: str,
                   vat_number: str | None = None) -> dict[str, Any]:
    """The profile's fields normalised and checked; InvalidInput names the first problem."""
    legal_name = clean_line(legal_name, N_("the company's legal name"), 200)
    country = normalise_country(country)
    if country not in VALID_COUNTRIES:
        raise InvalidInput(_("Give the country as its two-letter ISO code, such as NL or DE."))
    number = _identifier(organisation, "registry_number", registry_number, country,
                         identifiers.registry_number)
    # None: not given (a caller that predates the field), the stored one stays; "": none.
    vat = (getattr(organisation, "vat_number", None) if vat_number is None else
           _identifier(organisation, "vat_number", vat_number, country, identifiers.vat_number))
    if not (region or "").strip():
        raise InvalidInput(_("Give the region the company is based in."))
    region = clean_line(region, N_("the region"), 200)
    if size not in COMPANY_SIZES:
        raise InvalidInput(_("Choose the company size: %(sizes)s.",
                             sizes=", ".join(COMPANY_SIZES)))
    if sector not in SECTORS:
        raise InvalidInput(_("Choose the company's sector."))
    return {"legal_name": legal_name, "registry_number": number, "vat_number": vat,
            "country": country, "region": region, "size": size, "sector": sector}


def _apply(organisation: Organisation, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(organisation, name, value)


def _check_frozen(organisation: Organisation | None, fields: dict[str, Any]) -> None:
    changed = [label for name, label in frozen_fields(organisation).items()
               if getattr(organisation, name) != fields[name]]
    if changed:
        # Evaluations, awards, the de minimis check and the funder's workbook stand on
        # these details; they may not shift under a submitted application.
        raise InvalidInput(_(
            "Your company has submitted applications, so its %(fields)s can no longer be "
            "changed here; ask the programme managers to correct them.",
            fields=", ".join(_(label) for label in changed)))


def save_profile(user: User, *, legal_name: str, registry_number: str, country: str,
                 region: str, size: str, sector: str,
                 vat_number: str | None = None) -> Organisation:
    """Create the user's company profile, or update it; link the user to the company."""
    policy.ensure(policy.can_apply(user), "Only applicants describe a company.")
    fields = _clean_profile(user.organisation, legal_name=legal_name,
                            registry_number=registry_number, vat_number=vat_number,
                            country=country, region=region, size=size, sector=sector)
    number = fields["registry_number"]

    taken_message = _("A company with registry number %(number)s is already registered. If "
                      "it is yours, ask its applicant to let you apply from their account.",
                      number=number)
    # Two people registering the same number at the same moment: the unique index
    # refuses the second, with the same message. The checks run under the write lock, so
    # an application submitted a moment ago freezes the details for this save too.
    with atomic(clashes={REGISTRY_NUMBER_UNIQUE: taken_message}):
        organisation = user.organisation
        _check_frozen(organisation, fields)
        if registry_number_taken(number, except_id=organisation.id if organisation else None):
            raise InvalidInput(taken_message)
        moved = organisation is not None and _moves(organisation, fields)
        if organisation is None:
            organisation = Organisation(registry_number=number)
            db.session.add(organisation)
        _apply(organisation, fields)
        db.session.flush()
        user.organisation = organisation
        if moved:  # its drafts go to the partner of the new region
            partners.refresh_organisation(organisation)
    return organisation


def correct_organisation(organisation: Organisation, by: User, *, legal_name: str,
                         registry_number: str, country: str, region: str, size: str,
                         sector: str, reason: str, vat_number: str | None = None) -> list[str]:
    """A manager corrects a company's details, even those frozen by a submitted application.

    The change and its reason are kept as a ChangeRecord (old and new value per field),
    written with the change, and go to the log. Returns the labels of the fields that
    changed.
    """
    policy.ensure(policy.can_manage(by, organisation),
                  "Only programme managers correct a company's details.")
    fields = _clean_profile(organisation, legal_name=legal_name,
                            registry_number=registry_number, vat_number=vat_number,
                            country=country, region=region, size=size, sector=sector)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the correction."))
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("Keep the reason to at most %(count)s characters.",
                             count=MAX_REASON))
    changes = {name: (getattr(organisation, name), value) for name, value in fields.items()
               if getattr(organisation, name) != value}
    if not changes:
        raise InvalidInput(_("Nothing to correct: the details given are the company's "
                             "current ones."))
    number = fields["registry_number"]
    taken = _("Another company is already registered with registry number %(number)s.",
              number=number)
    if "registry_number" in changes and registry_number_taken(number, except_id=organisation.id):
        raise InvalidInput(taken)
    with atomic(clashes={REGISTRY_NUMBER_UNIQUE: taken}):
        _apply(organisation, fields)
        if "country" in changes or "region" in changes:
            # Its applications follow the partner of the new region.
            db.session.flush()
            partners.refresh_organisation(organisation)
        db.session.add(ChangeRecord(
            subject_type=ORGANISATION, subject_id=organisation.id, action=CORRECT,
            actor_id=by.id, reason=reason,
            changes={name: [_as_text(old), _as_text(new)]
                     for name, (old, new) in changes.items()}))
    current_app.logger.info(
        "organisation %s corrected by %s (%s): %s; reason: %r", organisation.id, by.email,
        by.id, "; ".join(f"{FIELD_LABELS[name]} {_as_text(old)!r} -> {_as_text(new)!r}"
                         for name, (old, new) in changes.items()), reason,
    )
    return [FIELD_LABELS[name] for name in changes]


def _moves(organisation: Organisation, fields: dict[str, Any]) -> bool:
    """Whether saving ``fields`` changes the company's country or region."""
    return any(getattr(organisation, name) != fields[name] for name in ("country", "region"))


def _as_text(value: Any) -> str:
    """A field's value in the history: an empty VAT number is "", not "None"."""
    return "" if value is None else str(value)


# Reading, for the managers' pages ---------------------------------------------------


# The fields whose history keeps a code ("small"): the page shows its label instead.
_CODED = {"size": SIZE_LABELS, "sector": SECTOR_LABELS}


def _shown(name: str, value: str) -> str:
    """A value of the history as the page shows it: a size's or sector's label in the
    reader's language (the record keeps the code), anything else as it was recorded."""
    label = _CODED.get(name, {}).get(value)
    return _(label) if label is not None else value


def _is_sme():
    """Organisations an applicant applies for (an evaluator's employer is not one)."""
    return or_(
        exists().where(User.organisation_id == Organisation.id,
                       User.role == lifecycle.APPLICANT),
        exists().where(Application.organisation_id == Organisation.id),
    )


def sme_by_id(organisation_id: int) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(Organisation.id == organisation_id, _is_sme())
    )


@dataclass(frozen=True)
class CompanyList:
    page: Any  # a Flask-SQLAlchemy Pagination of Organisation
    # Organisation id -> its applications, drafts included.
    counts: dict[int, int]
    searched: bool


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_companies(text: str, page: int = 1, viewer: Any = None) -> CompanyList:
    """SMEs by part of their legal name (any case) or registry number (as typed), of
    those ``viewer`` reaches (a partner manager: its regions'; None: all)."""
    text = (text or "").strip()
    query = select(Organisation).where(_is_sme(), policy.organisation_scope(viewer)).order_by(
        Organisation.legal_name, Organisation.id)
    if text:
        conditions = [func.lower(Organisation.legal_name).like(
            f"%{_escape_like(text.lower())}%", escape="\\")]
        number = normalise_registry_number(text)
        if number:
            conditions += [Organisation.registry_number.contains(number, autoescape=True),
                           Organisation.vat_number.contains(number, autoescape=True)]
        # Numbers stored with spaces, as stdnum writes them ("München HRB 12345").
        conditions.append(func.lower(Organisation.registry_number).like(
            f"%{_escape_like(text.lower())}%", escape="\\"))
        query = query.where(or_(*conditions))
    found = db.paginate(query, page=page, per_page=COMPANIES_PER_PAGE,
                        max_per_page=COMPANIES_PER_PAGE, error_out=False, count=True)
    ids = [o.id for o in found.items]
    counts = dict(db.session.execute(
        select(Application.organisation_id, func.count())
        .where(Application.organisation_id.in_(ids), policy.application_scope(viewer))
        .group_by(Application.organisation_id)
    ).all()) if ids else {}
    return CompanyList(page=found, counts=counts, searched=bool(text))


@dataclass(frozen=True)
class Correction:
    at: datetime
    by: str
    reason: str
    # (field label, old value, new value), in the order of the profile's fields.
    changes: list[tuple[str, str, str]]


@dataclass(frozen=True)
class AidChange:
    at: datetime
    by: str
    withdrawn: bool
    granting_body: str
    granted_on: str
    amount: Decimal | None
    reason: str


@dataclass(frozen=True)
class CompanyRecord:
    applications: list[Application]
    applicants: list[User]
    corrections: list[Correction]
    # Declarations of de minimis aid made and withdrawn, newest first.
    aid_changes: list[AidChange]
    # {application id: what is overdue, "review" and/or "report"} (services/deadlines.py).
    overdue: dict[int, tuple[str, ...]] = field(default_factory=dict)


def company_record(organisation: Organisation) -> CompanyRecord:
    """What the manager's company page shows besides the form: its applications, its
    applicant accounts and the corrections made so far, newest first."""
    applications = db.session.scalars(
        select(Application).where(Application.organisation_id == organisation.id)
        .options(joinedload(Application.call))
        .order_by(Application.created_at.desc(), Application.id.desc())
    ).all()
    applicants = db.session.scalars(
        select(User).where(User.organisation_id == organisation.id,
                           User.role == lifecycle.APPLICANT).order_by(User.name, User.id)
    ).all()
    records = db.session.scalars(
        select(ChangeRecord).options(joinedload(ChangeRecord.actor))
        .where(ChangeRecord.subject_type == ORGANISATION,
               ChangeRecord.subject_id == organisation.id,
               ChangeRecord.action.in_((CORRECT, aid.DECLARE, aid.WITHDRAW)))
        .order_by(ChangeRecord.id.desc())
    ).all()
    corrections, aid_changes = [], []
    for r in records:
        # The page's words in its reader's language; the records keep theirs.
        by = r.actor.name if r.actor else _("(a deleted account)")
        if r.action == CORRECT:
            corrections.append(Correction(
                at=r.at, by=by, reason=r.reason,
                changes=[(_(label), *(_shown(name, value) for value in r.changes[name]))
                         for name, label in HISTORY_LABELS.items() if name in r.changes]))
            continue
        withdrawn = r.action == aid.WITHDRAW
        values = {name: pair[0 if withdrawn else 1] for name, pair in r.changes.items()}
        aid_changes.append(AidChange(
            at=r.at, by=by, withdrawn=withdrawn, reason=r.reason,
            granting_body=values.get("granting_body", ""),
            granted_on=values.get("granted_on", ""),
            amount=Decimal(values["amount"]) if values.get("amount") else None))
    return CompanyRecord(list(applications), list(applicants), corrections, aid_changes,
                         overdue=deadlines.overdue_marks(list(applications)))
