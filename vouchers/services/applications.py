"""Writing an application: the applicant edits a draft until it is submitted.

State changes (submit, withdraw, ...) live in transitions.py and reporting.py; this
module only changes the content of an application the lifecycle still lets its owner
edit. A draft may be saved incomplete (transitions.completeness_problems says what is
missing and the submit
guard refuses it), but never with a value that is wrong in itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from workflows import lifecycle
from workflows.lifecycle import STATE_LABELS

from .. import policy
from .. import voucher_types as types
from ..extensions import db
from ..models import (
    Application,
    AuditRecord,
    CallVoucherType,
    CostLine,
    ServiceProvider,
    User,
)
from ..money import MAX_MONEY, parse_amount
from ..text import clean_title
from . import eligibility, ranking, reporting
from .attachments import attachments_of
from .errors import InvalidInput, TransitionNotAllowed
from .transaction import atomic
from .transitions import completeness_problems, create_draft
from .voucher_money import voucher_money
from .wording import in_sentence, number

# Besides these, an application holds its voucher type's own questions (the registry's
# detail fields) in Application.details.
COMMON_FIELDS = frozenset({"title", "summary", "requested_amount", "provider_id"})

MAX_TEXT = 10_000
MAX_DETAIL = 2_000
MAX_COST_LINES = 50


def _check_editable(application: Application, user: User) -> None:
    policy.ensure(policy.is_owner(user, application),
                  "Only the applicant who owns the application may change it.")
    if not policy.can_edit_application(user, application):
        state = in_sentence(STATE_LABELS.get(application.state, application.state))
        raise TransitionNotAllowed(
            _("The application is %(state)s and can no longer be changed.", state=state))


def _text(value: Any, label: str, limit: int) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise InvalidInput(_("%(field)s is too long: at most %(limit)s characters.",
                             field=label, limit=number(limit)))
    return text


def _amount(value: Any, label: str) -> Decimal:
    try:
        amount = parse_amount(value)
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}") from exc
    if amount > MAX_MONEY:
        raise InvalidInput(_("%(field)s is too large.", field=label))
    return amount


def _date(value: Any, label: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError as exc:
        raise InvalidInput(_("%(field)s: write the date as YYYY-MM-DD.", field=label)) from exc


def _provider_id(value: Any, voucher_type: str, current: int | None = None) -> int | None:
    """The chosen provider: one in the catalogue, or the one the draft already names
    (kept even if it has left the catalogue since; submitting then asks for another)."""
    if value in (None, "", 0):
        return None
    if not types.get(voucher_type).needs_provider:
        raise InvalidInput(_("Only validation vouchers buy from a service provider."))
    try:
        provider = db.session.get(ServiceProvider, int(value))
    except (TypeError, ValueError):
        provider = None
    if provider is None or not (provider.active or provider.id == current):
        raise InvalidInput(_("Choose a service provider from the catalogue."))
    return provider.id


def _cost_lines(lines: Iterable[Any]) -> list[CostLine]:
    result = []
    for position, line in enumerate(lines):
        if isinstance(line, Mapping):
            description, amount = line.get("description"), line.get("amount")
        else:
            description, amount = line
        n = position + 1
        description = _text(description, _("Cost line %(n)s", n=n), 200)
        if not description:
            raise InvalidInput(_("Cost line %(n)s: say what the cost is for.", n=n))
        value = _amount(amount, _("Cost line %(n)s", n=n))
        if value <= 0:
            raise InvalidInput(_("Cost line %(n)s: give an amount greater than zero.", n=n))
        result.append(CostLine(description=description, amount=value, position=position))
    if len(result) > MAX_COST_LINES:
        raise InvalidInput(_("At most %(count)s cost lines; group smaller costs.",
                             count=MAX_COST_LINES))
    return result


def update_draft(application: Application, user: User, fields: Mapping[str, Any],
                 cost_lines: Iterable[Any] | None = None) -> Application:
    """Change the content of an editable application; raise and change nothing if refused.

    ``fields`` holds any of title, summary, requested_amount, provider_id and the voucher
    type's own fields (the registry's detail fields); keys left out stay as they are.
    ``cost_lines`` (pairs or mappings of description and amount) replaces every cost line
    when given.
    """
    _check_editable(application, user)
    voucher_type = application.voucher_type
    kind = types.get(voucher_type)
    own_fields = kind.detail_keys
    unknown = set(fields) - COMMON_FIELDS - set(own_fields)
    if unknown:
        raise ValueError(f"unknown fields for a {voucher_type} application: {sorted(unknown)}")

    changes: dict[str, Any] = {}
    if "title" in fields:
        changes["title"] = clean_title(fields["title"])
    if "summary" in fields:
        changes["summary"] = _text(fields["summary"], _("The summary"), MAX_TEXT)
    if "requested_amount" in fields:
        value = fields["requested_amount"]
        amount = (Decimal("0.00") if value in (None, "")
                  else _amount(value, _("Amount requested")))
        if amount < 0:
            raise InvalidInput(_("The amount requested cannot be negative."))
        changes["requested_amount"] = amount
    if "provider_id" in fields:
        changes["provider_id"] = _provider_id(fields["provider_id"], voucher_type,
                                              application.provider_id)

    details = {k: v for k, v in (application.details or {}).items() if k in own_fields}
    for field in kind.details:
        if field.key not in fields:
            continue
        value = fields[field.key]
        details[field.key] = (_date(value, _(field.label)) if field.is_date
                              else _text(value, _(field.label), MAX_DETAIL))
    problem = types.period_problem(voucher_type, details)
    if problem:
        raise InvalidInput(_(problem))

    new_lines = _cost_lines(cost_lines) if cost_lines is not None else None

    with atomic():
        _check_editable(application, user)  # again, under the lock
        for name, value in changes.items():
            setattr(application, name, value)
        application.details = details
        # Always write the row, so its version check catches a concurrent state change
        # (say, a submit in another tab) even when only the cost lines changed.
        flag_modified(application, "details")
        if new_lines is not None:
            application.cost_lines = new_lines
    return application


def start_application(user: User, cvt: CallVoucherType, fields: Mapping[str, Any],
                      cost_lines: Iterable[Any] | None = None) -> Application:
    """A new draft with its first content: both or neither (the request rolls back)."""
    title = clean_title(fields.get("title"))
    with atomic():
        application = create_draft(user, cvt, title=title)
        update_draft(application, user, fields, cost_lines)
    return application


def providers_for(application: Application | None) -> list[ServiceProvider]:
    """The providers a validation form offers: the catalogue, plus the one a draft names
    after it left the catalogue, so saving the draft does not silently drop it (submitting
    asks for another)."""
    providers = active_providers()
    current = application.provider if application is not None else None
    if current is not None and not current.active:
        providers.append(current)
    return providers


def applications_of(user: User) -> list[Application]:
    """The applications of the user's organisation, newest first."""
    if user.organisation_id is None:
        return []
    return list(db.session.scalars(
        select(Application)
        .where(Application.organisation_id == user.organisation_id)
        .options(selectinload(Application.call))
        .order_by(Application.created_at.desc(), Application.id.desc())
    ))


def active_providers() -> list[ServiceProvider]:
    return list(db.session.scalars(
        select(ServiceProvider).where(ServiceProvider.active.is_(True))
        .order_by(ServiceProvider.name, ServiceProvider.id)
    ))


def last_comment(application: Application, to_state: str) -> str:
    """The comment of the latest change into ``to_state`` (say, the manager's request)."""
    comment = db.session.scalar(
        select(AuditRecord.comment)
        .where(AuditRecord.application_id == application.id, AuditRecord.to_state == to_state)
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    return comment or ""


def is_voucher(application: Application) -> bool:
    return application.awarded_amount is not None and (
        application.state in lifecycle.VOUCHER_STATES or application.state == lifecycle.CANCELLED
    )


def application_page(application: Application, user: User) -> dict[str, Any]:
    """What the applicant's page of one application shows besides the application itself.

    Which buttons it offers is asked of the policy by the template.
    """
    voucher = is_voucher(application)
    returned = application.state == lifecycle.RETURNED
    editable = policy.can_edit_application(user, application)
    return {
        "problems": completeness_problems(application) if editable else [],
        # "Before you submit" shows the rules; a waitlisted application its reserve place.
        "rules": eligibility.evaluate(application) if editable else [],
        "position": (ranking.position_of(application)
                     if application.state == lifecycle.WAITLISTED else None),
        "files": attachments_of(application, "application"),
        "report": reporting.final_report_of(application) if voucher else None,
        # What was paid and what is due back (templates/applicant/_payments.html).
        "money": voucher_money(application) if voucher else None,
        "returned_comment": last_comment(application, lifecycle.RETURNED) if returned else "",
    }


def report_page(application: Application) -> dict[str, Any]:
    """What the final report page shows: the report, its evidence and the money."""
    return {
        "report": reporting.final_report_of(application),
        "evidence": attachments_of(application, "report"),
        "money": voucher_money(application),
    }


def write_final_report(application: Application, user: User, *, summary: str,
                       actual_costs: Any, submit: bool) -> None:
    """Save the final report, and submit it when asked: a refused submit keeps nothing,
    not even the save (the request rolls back; the text stays in the form)."""
    with atomic():
        reporting.save_final_report(application, user, summary=summary or "",
                                    actual_costs="" if actual_costs is None
                                    else str(actual_costs))
        if submit:
            reporting.submit_final_report(application, user)
