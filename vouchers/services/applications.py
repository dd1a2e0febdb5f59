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

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from workflows import lifecycle
from workflows.lifecycle import EDITABLE_STATES, STATE_LABELS

from ..extensions import db
from ..models import (
    PROVIDER_TYPES,
    Application,
    AuditRecord,
    CostLine,
    Payment,
    ServiceProvider,
    User,
)
from ..money import MAX_MONEY, parse_amount
from ..policy import is_owner
from .errors import InvalidInput, NotAllowed, TransitionNotAllowed
from .transaction import atomic

# The voucher type's own questions, kept in Application.details.
DETAIL_FIELDS: dict[str, tuple[str, ...]] = {
    "travel": ("event", "destination", "start_date", "end_date"),
    "market_validation": ("service",),
    "product_validation": ("service",),
    "impact": ("outcome", "indicators"),
}
DATE_FIELDS = frozenset({"start_date", "end_date"})
COMMON_FIELDS = frozenset({"title", "summary", "requested_amount", "provider_id"})

MAX_TITLE = 200
MAX_TEXT = 10_000
MAX_DETAIL = 2_000
MAX_COST_LINES = 50


def can_edit(application: Application, user: User) -> bool:
    return is_owner(user, application) and application.state in EDITABLE_STATES


def _check_editable(application: Application, user: User) -> None:
    if not is_owner(user, application):
        raise NotAllowed("Only the applicant who owns the application may change it.")
    if application.state not in EDITABLE_STATES:
        state = STATE_LABELS.get(application.state, application.state).lower()
        raise TransitionNotAllowed(
            f"The application is {state} and can no longer be changed."
        )


def _text(value: Any, label: str, limit: int) -> str:
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        raise InvalidInput(f"{label} is too long: at most {limit:,} characters.")
    return text


def _amount(value: Any, label: str) -> Decimal:
    try:
        amount = parse_amount(value)
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}") from exc
    if amount > MAX_MONEY:
        raise InvalidInput(f"{label} is too large.")
    return amount


def _date(value: Any, label: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError as exc:
        raise InvalidInput(f"{label}: write the date as YYYY-MM-DD.") from exc


def _provider_id(value: Any, voucher_type: str, current: int | None = None) -> int | None:
    """The chosen provider: one in the catalogue, or the one the draft already names
    (kept even if it has left the catalogue since; submitting then asks for another)."""
    if value in (None, "", 0):
        return None
    if voucher_type not in PROVIDER_TYPES:
        raise InvalidInput("Only validation vouchers buy from a service provider.")
    try:
        provider = db.session.get(ServiceProvider, int(value))
    except (TypeError, ValueError):
        provider = None
    if provider is None or not (provider.active or provider.id == current):
        raise InvalidInput("Choose a service provider from the catalogue.")
    return provider.id


def _cost_lines(lines: Iterable[Any]) -> list[CostLine]:
    result = []
    for position, line in enumerate(lines):
        if isinstance(line, Mapping):
            description, amount = line.get("description"), line.get("amount")
        else:
            description, amount = line
        n = position + 1
        description = _text(description, f"Cost line {n}", 200)
        if not description:
            raise InvalidInput(f"Cost line {n}: say what the cost is for.")
        value = _amount(amount, f"Cost line {n}")
        if value <= 0:
            raise InvalidInput(f"Cost line {n}: give an amount greater than zero.")
        result.append(CostLine(description=description, amount=value, position=position))
    if len(result) > MAX_COST_LINES:
        raise InvalidInput(f"At most {MAX_COST_LINES} cost lines; group smaller costs.")
    return result


def update_draft(application: Application, user: User, fields: Mapping[str, Any],
                 cost_lines: Iterable[Any] | None = None) -> Application:
    """Change the content of an editable application; raise and change nothing if refused.

    ``fields`` holds any of title, summary, requested_amount, provider_id and the voucher
    type's own fields (DETAIL_FIELDS); keys left out stay as they are. ``cost_lines``
    (pairs or mappings of description and amount) replaces every cost line when given.
    """
    _check_editable(application, user)
    voucher_type = application.voucher_type
    own_fields = DETAIL_FIELDS[voucher_type]
    unknown = set(fields) - COMMON_FIELDS - set(own_fields)
    if unknown:
        raise ValueError(f"unknown fields for a {voucher_type} application: {sorted(unknown)}")

    changes: dict[str, Any] = {}
    if "title" in fields:
        changes["title"] = _text(fields["title"], "The title", MAX_TITLE)
        if not changes["title"]:
            raise InvalidInput("Give the application a title.")
    if "summary" in fields:
        changes["summary"] = _text(fields["summary"], "The summary", MAX_TEXT)
    if "requested_amount" in fields:
        value = fields["requested_amount"]
        amount = Decimal("0.00") if value in (None, "") else _amount(value, "Amount requested")
        if amount < 0:
            raise InvalidInput("The amount requested cannot be negative.")
        changes["requested_amount"] = amount
    if "provider_id" in fields:
        changes["provider_id"] = _provider_id(fields["provider_id"], voucher_type,
                                              application.provider_id)

    details = {k: v for k, v in (application.details or {}).items() if k in own_fields}
    for key in own_fields:
        if key not in fields:
            continue
        label = key.replace("_", " ").capitalize()
        details[key] = (_date(fields[key], label) if key in DATE_FIELDS
                        else _text(fields[key], label, MAX_DETAIL))
    if details.get("start_date") and details.get("end_date") and (
        details["end_date"] < details["start_date"]
    ):
        raise InvalidInput("The trip cannot end before it starts.")

    new_lines = _cost_lines(cost_lines) if cost_lines is not None else None

    with atomic():
        for name, value in changes.items():
            setattr(application, name, value)
        application.details = details
        # Always write the row, so its version check catches a concurrent state change
        # (say, a submit in another tab) even when only the cost lines changed.
        flag_modified(application, "details")
        if new_lines is not None:
            application.cost_lines = new_lines
    return application


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


def payments_of(application: Application) -> list[Payment]:
    return list(db.session.scalars(
        select(Payment).where(Payment.application_id == application.id)
        .order_by(Payment.paid_on, Payment.id)
    ))


def is_voucher(application: Application) -> bool:
    return application.awarded_amount is not None and (
        application.state in lifecycle.VOUCHER_STATES or application.state == lifecycle.CANCELLED
    )
