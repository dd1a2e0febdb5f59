"""Setting up programmes and calls, and keeping the service provider catalogue.

A call offers some voucher types, each with its quota, maximum amount, funding rate,
budget envelope and scoring criteria. Editing a call that already has awards may not
take its envelope below the money committed nor its quota below the vouchers awarded;
the check and the write are one conditional UPDATE, so an award landing at the same
moment cannot slip between them (the CHECK constraints on call_voucher_types are the
last line). Like every service, these functions flush but never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from workflows import lifecycle

from ..extensions import db
from ..models import (
    VOUCHER_TYPE_LABELS,
    VOUCHER_TYPES,
    Application,
    Call,
    CallVoucherType,
    Criterion,
    Programme,
    Review,
    ServiceProvider,
    User,
)
from ..money import MAX_MONEY
from .errors import InvalidInput, NotAllowed
from .transaction import atomic

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]*")
CODE_MAX = 20  # references are CODE-TT-NNNNN in a 30-character column
MAX_SCORE_SCALE = 100
MAX_WEIGHT = Decimal("9999.99")  # Numeric(6, 2)
RATE_STEP = Decimal("0.0001")  # Numeric(5, 4)
WEIGHT_STEP = Decimal("0.01")


class SetupRefused(InvalidInput):
    """One or more set-up rules broken; ``problems`` lists each as a sentence."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class CriterionSpec:
    name: str
    weight: Decimal
    description: str = ""
    # The existing criterion this row edits; None adds a new one.
    id: int | None = None


@dataclass
class VoucherTypeSpec:
    voucher_type: str
    quota: int
    max_amount: Decimal
    # The share of eligible costs the voucher pays: 0.75 for 75%.
    funding_rate: Decimal
    envelope: Decimal
    score_scale: int = 5
    criteria: list[CriterionSpec] = field(default_factory=list)


@dataclass
class CallSpec:
    code: str
    title: str
    opens_at: datetime
    closes_at: datetime
    types: list[VoucherTypeSpec]
    description: str = ""


@dataclass
class ProviderSpec:
    name: str
    country: str
    region: str
    services: str = ""
    website: str = ""
    email: str = ""


def _require_manager(user: User) -> None:
    if user.role != lifecycle.MANAGER or not user.enabled:
        raise NotAllowed("Only a programme manager sets up calls and the provider catalogue.")


def _refuse_if(problems: list[str]) -> None:
    if problems:
        raise SetupRefused(problems)


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()


# Programmes ---------------------------------------------------------------------------


def create_programme(by: User, *, name: str, funder: str, total_budget: Decimal,
                     starts_on: date, ends_on: date) -> Programme:
    _require_manager(by)
    problems = []
    if not (name or "").strip():
        problems.append("Give the programme a name.")
    if not (funder or "").strip():
        problems.append("Name the programme's funder.")
    if total_budget is None or total_budget < 0:
        problems.append("The total budget cannot be negative.")
    elif total_budget > MAX_MONEY:
        problems.append("The total budget is too large.")
    if starts_on and ends_on and ends_on <= starts_on:
        problems.append("The programme must end after it starts.")
    _refuse_if(problems)
    with atomic():
        programme = Programme(name=name.strip(), funder=funder.strip(), currency="EUR",
                              total_budget=total_budget, starts_on=starts_on, ends_on=ends_on)
        db.session.add(programme)
    return programme


# Calls --------------------------------------------------------------------------------


def call_problems(spec: CallSpec) -> list[str]:
    """The rules a call must meet whatever the database holds, one sentence each."""
    problems = []
    code = normalise_code(spec.code)
    if not code:
        problems.append("Give the call a code.")
    elif len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        problems.append(f"The call code may hold up to {CODE_MAX} letters, digits, dashes "
                        "and underscores.")
    if not (spec.title or "").strip():
        problems.append("Give the call a title.")
    if spec.opens_at is None or spec.closes_at is None:
        problems.append("Say when the call opens and closes.")
    elif spec.opens_at.tzinfo is None or spec.closes_at.tzinfo is None:
        raise ValueError("naive datetime given; the call window is kept in UTC")
    elif spec.closes_at <= spec.opens_at:
        problems.append("The call must close after it opens.")
    seen = set()
    for t in spec.types:
        if t.voucher_type not in VOUCHER_TYPES:
            problems.append(f"There is no {t.voucher_type!r} voucher type.")
            continue
        if t.voucher_type in seen:
            problems.append(f"{VOUCHER_TYPE_LABELS[t.voucher_type]} vouchers appear twice.")
            continue
        seen.add(t.voucher_type)
        problems.extend(_type_problems(t))
    if not spec.types:
        problems.append("Offer at least one voucher type.")
    return problems


def _type_problems(t: VoucherTypeSpec) -> list[str]:
    label = VOUCHER_TYPE_LABELS[t.voucher_type]
    problems = []
    if t.quota is None or t.quota < 0:
        problems.append(f"{label}: the quota cannot be negative.")
    if t.max_amount is None or t.max_amount <= 0:
        problems.append(f"{label}: the maximum amount must be more than zero.")
    elif t.max_amount > MAX_MONEY:
        problems.append(f"{label}: the maximum amount is too large.")
    if t.funding_rate is None or not 0 < t.funding_rate <= 1:
        problems.append(f"{label}: the funding rate must be more than 0% and at most 100%.")
    if t.envelope is None or t.envelope < 0:
        problems.append(f"{label}: the envelope cannot be negative.")
    elif t.envelope > MAX_MONEY:
        problems.append(f"{label}: the envelope is too large.")
    if t.score_scale is None or not 1 <= t.score_scale <= MAX_SCORE_SCALE:
        problems.append(f"{label}: scores run from 0 to a maximum between 1 and "
                        f"{MAX_SCORE_SCALE}.")
    if not t.criteria:
        problems.append(f"{label}: give at least one scoring criterion.")
    names = set()
    for c in t.criteria:
        name = (c.name or "").strip()
        if not name:
            problems.append(f"{label}: every criterion needs a name.")
        elif name.lower() in names:
            problems.append(f"{label}: the criterion {name!r} appears twice.")
        names.add(name.lower())
        if c.weight is None or _weight(c.weight) <= 0:
            problems.append(f"{label}: the weight of {name or 'a criterion'!r} must be more "
                            "than zero.")
        elif c.weight > MAX_WEIGHT:
            problems.append(f"{label}: the weight of {name!r} is too large.")
    return problems


def _rate(value: Decimal) -> Decimal:
    return value.quantize(RATE_STEP, rounding=ROUND_HALF_UP)


def _weight(value: Decimal) -> Decimal:
    return value.quantize(WEIGHT_STEP, rounding=ROUND_HALF_UP)


def _code_taken(code: str, except_call: Call | None = None) -> bool:
    query = select(Call.id).where(func.upper(Call.code) == code)
    if except_call is not None:
        query = query.where(Call.id != except_call.id)
    return db.session.scalar(query.limit(1)) is not None


def _flush_or_code_taken(code: str) -> None:
    try:
        db.session.flush()
    except IntegrityError as exc:
        # Two managers chose the same code at the same moment: the unique index decides.
        raise SetupRefused([f"Another call already uses the code {code}."]) from exc


def create_call(programme: Programme, spec: CallSpec, by: User) -> Call:
    """A new call of ``programme`` offering the voucher types of ``spec``."""
    _require_manager(by)
    problems = call_problems(spec)
    code = normalise_code(spec.code)
    if code and _code_taken(code):
        problems.append(f"Another call already uses the code {code}.")
    if any(c.id is not None for t in spec.types for c in t.criteria):
        problems.append("A new call cannot reuse another call's criteria.")
    _refuse_if(problems)
    with atomic():
        call = Call(code=code, title=spec.title.strip(), description=spec.description.strip(),
                    opens_at=spec.opens_at, closes_at=spec.closes_at)
        programme.calls.append(call)
        for t in spec.types:
            call.voucher_types.append(_new_voucher_type(t))
        _flush_or_code_taken(code)
        _check_programme_budget(programme)
    return call


def _check_programme_budget(programme: Programme) -> None:
    """Refuse envelopes that together promise more than the programme's budget.

    Runs inside the change's savepoint, after its writes: the update takes the
    programme's row lock on PostgreSQL (SQLite serialises writers anyway), so two
    managers editing calls of one programme at once cannot both squeeze in.
    """
    db.session.execute(update(Programme).where(Programme.id == programme.id)
                       .values(total_budget=Programme.total_budget))
    promised = db.session.scalar(
        select(func.coalesce(func.sum(CallVoucherType.envelope), 0))
        .join(Call, Call.id == CallVoucherType.call_id)
        .where(Call.programme_id == programme.id)
    )
    if promised > programme.total_budget:
        raise SetupRefused([
            f"The envelopes of {programme.name}'s calls would add up to €{promised:,.2f}, "
            f"more than its budget of €{programme.total_budget:,.2f}."
        ])


def _new_voucher_type(t: VoucherTypeSpec) -> CallVoucherType:
    cvt = CallVoucherType(
        voucher_type=t.voucher_type, position=VOUCHER_TYPES.index(t.voucher_type),
        quota=t.quota, max_amount=t.max_amount, funding_rate=_rate(t.funding_rate),
        envelope=t.envelope, score_scale=t.score_scale,
    )
    cvt.criteria = [
        Criterion(name=c.name.strip(), description=(c.description or "").strip(),
                  weight=_weight(c.weight), position=i)
        for i, c in enumerate(t.criteria)
    ]
    return cvt


def _application_count(cvt: CallVoucherType) -> int:
    return db.session.scalar(
        select(func.count(Application.id)).where(Application.call_voucher_type_id == cvt.id)
    )


def _review_count(cvt: CallVoucherType) -> int:
    return db.session.scalar(
        select(func.count(Review.id)).join(Application, Review.application_id == Application.id)
        .where(Application.call_voucher_type_id == cvt.id)
    )


def update_call(call: Call, spec: CallSpec, by: User) -> Call:
    """Change a call's window, voucher types, budgets and criteria.

    Refused, changing nothing: taking an envelope below what is committed or a quota
    below the vouchers awarded; dropping a voucher type that has applications; changing
    the criteria, weights or scale a submitted review was scored against (renaming a
    criterion is fine); changing the code once references were issued with it.
    """
    _require_manager(by)
    # The rules of the form first: the checks against the database assume them.
    _refuse_if(call_problems(spec))
    problems = []
    code = normalise_code(spec.code)
    if code != normalise_code(call.code):
        if _code_taken(code, except_call=call):
            problems.append(f"Another call already uses the code {code}.")
        elif db.session.scalar(select(func.count(Application.id))
                               .where(Application.call_id == call.id)):
            problems.append(f"Applications to this call already carry references starting "
                            f"with {call.code}; the code cannot change.")
    wanted = {t.voucher_type: t for t in spec.types}
    for cvt in call.voucher_types:
        t = wanted.get(cvt.voucher_type)
        if t is None:
            if _application_count(cvt):
                problems.append(f"{cvt.label} vouchers already have applications; they "
                                "cannot be taken out of the call.")
            continue
        problems.extend(_budget_problems(cvt, t))
        problems.extend(_criteria_problems(cvt, t))
    for t in spec.types:
        if call.voucher_type(t.voucher_type) is None and any(c.id for c in t.criteria):
            problems.append(f"{VOUCHER_TYPE_LABELS[t.voucher_type]}: a new voucher type "
                            "cannot reuse another type's criteria.")
    _refuse_if(problems)

    with atomic():
        call.code = code
        call.title = spec.title.strip()
        call.description = (spec.description or "").strip()
        call.opens_at = spec.opens_at
        call.closes_at = spec.closes_at
        for cvt in list(call.voucher_types):
            t = wanted.get(cvt.voucher_type)
            if t is None:
                call.voucher_types.remove(cvt)
                continue
            _set_envelope_and_quota(cvt, t)
            cvt.max_amount = t.max_amount
            cvt.funding_rate = _rate(t.funding_rate)
            cvt.score_scale = t.score_scale
            _set_criteria(cvt, t.criteria)
        for t in spec.types:
            if call.voucher_type(t.voucher_type) is None:
                call.voucher_types.append(_new_voucher_type(t))
        call.voucher_types.sort(key=lambda v: v.position)
        _flush_or_code_taken(code)
        _check_programme_budget(call.programme)
    return call


def _budget_problems(cvt: CallVoucherType, t: VoucherTypeSpec) -> list[str]:
    problems = []
    if t.envelope is not None and t.envelope < cvt.committed:
        problems.append(f"{cvt.label}: €{cvt.committed:,.2f} is already committed to awarded "
                        f"vouchers; the envelope cannot be lower than that.")
    if t.quota is not None and t.quota < cvt.awarded_count:
        problems.append(f"{cvt.label}: {cvt.awarded_count} vouchers are already awarded; the "
                        f"quota cannot be lower than {cvt.awarded_count}.")
    # The final payment of every voucher is its actual costs times this rate: changing it
    # after an award would change what is owed on vouchers already granted, even paid.
    if (t.funding_rate is not None and _rate(t.funding_rate) != cvt.funding_rate
            and _voucher_count(cvt)):
        problems.append(f"{cvt.label}: vouchers were already awarded at "
                        f"{cvt.funding_rate * 100:.0f}%; the funding rate cannot change.")
    return problems


def _voucher_count(cvt: CallVoucherType) -> int:
    """Awarded vouchers of the type, cancelled ones included (they may have been paid)."""
    return db.session.scalar(
        select(func.count(Application.id)).where(
            Application.call_voucher_type_id == cvt.id,
            Application.awarded_amount.is_not(None))
    )


def _criteria_problems(cvt: CallVoucherType, t: VoucherTypeSpec) -> list[str]:
    existing = {c.id: c for c in cvt.criteria}
    problems = []
    unknown = [c for c in t.criteria if c.id is not None and c.id not in existing]
    if unknown:
        problems.append(f"{cvt.label}: a criterion was not found; reload the page.")
        return problems
    if not _review_count(cvt):
        return problems
    kept = {c.id: _weight(c.weight) for c in t.criteria if c.id is not None}
    changed = (
        t.score_scale != cvt.score_scale
        or len(kept) != len(t.criteria)
        or set(kept) != set(existing)
        or any(existing[i].weight != w for i, w in kept.items())
    )
    if changed:
        problems.append(f"{cvt.label}: reviews were scored against these criteria; their "
                        "weights, their number and the scale can no longer change.")
    return problems


def _set_envelope_and_quota(cvt: CallVoucherType, t: VoucherTypeSpec) -> None:
    """Write both only if the awards standing at this instant still fit."""
    table = CallVoucherType.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == cvt.id)
        .where(table.c.committed <= t.envelope)
        .where(table.c.awarded_count <= t.quota)
        .values(envelope=t.envelope, quota=t.quota)
    )
    db.session.expire(cvt, ["envelope", "quota", "committed", "awarded_count"])
    if result.rowcount != 1:
        # An award landed after the checks above; explain with the figures it left.
        raise SetupRefused(_budget_problems(cvt, t) or [
            f"{cvt.label}: the awards changed while you edited; reload and try again."
        ])


def _set_criteria(cvt: CallVoucherType, specs: list[CriterionSpec]) -> None:
    existing = {c.id: c for c in cvt.criteria}
    kept = []
    for position, spec in enumerate(specs):
        criterion = existing.pop(spec.id, None) if spec.id is not None else None
        if criterion is None:
            criterion = Criterion()
        criterion.name = spec.name.strip()
        criterion.description = (spec.description or "").strip()
        criterion.weight = _weight(spec.weight)
        criterion.position = position
        kept.append(criterion)
    # Replacing the collection deletes the rows left out (delete-orphan).
    cvt.criteria = kept


# The service provider catalogue -------------------------------------------------------

COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def provider_problems(spec: ProviderSpec, except_provider: ServiceProvider | None = None
                      ) -> list[str]:
    problems = []
    name = (spec.name or "").strip()
    country = (spec.country or "").strip().upper()
    if not name:
        problems.append("Give the provider's name.")
    if not COUNTRY_PATTERN.fullmatch(country):
        problems.append("Give the country as a two-letter code, such as DE or NL.")
    if not (spec.region or "").strip():
        problems.append("Give the provider's region.")
    website = (spec.website or "").strip()
    # Shown as a link: only web addresses, never javascript: or data: URLs.
    if website and not re.match(r"https?://[^\s/]+\.[^\s]+$", website, re.IGNORECASE):
        problems.append("The website must be a full address starting with https://.")
    email = (spec.email or "").strip()
    if email and not EMAIL_PATTERN.fullmatch(email):
        problems.append(f"{email!r} is not an e-mail address.")
    if name and COUNTRY_PATTERN.fullmatch(country):
        query = select(ServiceProvider.name).where(
            func.lower(ServiceProvider.name) == name.lower(), ServiceProvider.country == country
        )
        if except_provider is not None:
            query = query.where(ServiceProvider.id != except_provider.id)
        existing = db.session.scalar(query.limit(1))
        if existing is not None:
            problems.append(f"{existing} ({country}) is already in the catalogue.")
    return problems


def _apply_provider(provider: ServiceProvider, spec: ProviderSpec) -> None:
    provider.name = spec.name.strip()
    provider.country = spec.country.strip().upper()
    provider.region = spec.region.strip()
    provider.services = (spec.services or "").strip()
    provider.website = (spec.website or "").strip()
    provider.email = (spec.email or "").strip()


def add_provider(spec: ProviderSpec, by: User) -> ServiceProvider:
    _require_manager(by)
    _refuse_if(provider_problems(spec))
    with atomic():
        provider = ServiceProvider(active=True)
        _apply_provider(provider, spec)
        db.session.add(provider)
    return provider


def update_provider(provider: ServiceProvider, spec: ProviderSpec, by: User) -> None:
    _require_manager(by)
    _refuse_if(provider_problems(spec, except_provider=provider))
    with atomic():
        _apply_provider(provider, spec)


def set_provider_active(provider: ServiceProvider, active: bool, by: User) -> None:
    """Deactivated providers leave applicants' choices but stay on existing applications."""
    _require_manager(by)
    with atomic():
        provider.active = active
