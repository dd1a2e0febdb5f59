"""Setting up calls (programmes: services/programme_setup.py; the provider catalogue:
services/providers.py).

A call offers some voucher types, each with its quota, maximum amount, funding rate,
budget envelope, scoring criteria and rules (call_specs says what each may hold), and the
call has its money settings (an advance share; whether a report of no costs gives its
quota place back); a
change to the rules an application's eligibility depends on re-checks the call's
applications (services/eligibility.refresh_call). Editing a call that already has awards may not
take its envelope below the money committed or the partners' shares of it, nor its
quota below the vouchers awarded;
the check and the write are one conditional UPDATE, so an award landing at the same
moment cannot slip between them (the CHECK constraints on call_voucher_types are the
last line). Like every service, these functions check who asks (policy), flush and never
commit.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from .. import policy, voucher_types
from ..extensions import db
from ..models import (
    VOUCHER_TYPE_LABELS,
    VOUCHER_TYPES,
    Application,
    Call,
    CallVoucherType,
    Criterion,
    Partner,
    PartnerShare,
    Programme,
    Review,
    User,
)
from ..money import CENT, ZERO
from . import scoring
from .call_follow_up import CallSpec, follow_up_problems, set_follow_up
from .call_leads import lead_problems
from .call_money import advance_problems, money_problems, set_money
from .call_specs import (  # noqa: F401 - the specs and limits are the set-up's API too
    CODE_MAX,
    MAX_SCORE_SCALE,
    CriterionSpec,
    VoucherTypeSpec,
    call_problems,
    clean_regions,
    end_problems,
    normalise_code,
    rate,
    sizes_in_order,
    weight,
    write_given,
)
from .deadlines import deadline_problems, set_deadlines
from .errors import InvalidInput
from .programme_setup import (  # noqa: F401 - programmes are set up here too
    NOT_ALLOWED,
    check_programme_budget,
    create_programme,
    last_day,
    refresh_eligibility,
    update_programme,
)
from .setup_checks import SetupRefused, refuse_if
from .transaction import atomic
from .wording import eur


def _code_clash(code: str) -> dict[str, str]:
    # Two managers chose the same code at the same moment: the unique index decides.
    return {"uq_calls_code": _("Another call already uses the code %(code)s.", code=code)}


# Calls --------------------------------------------------------------------------------


def _code_taken(code: str, except_call: Call | None = None) -> bool:
    query = select(Call.id).where(func.upper(Call.code) == code)
    if except_call is not None:
        query = query.where(Call.id != except_call.id)
    return db.session.scalar(query.limit(1)) is not None


def create_call(programme: Programme | int, spec: CallSpec, by: User) -> Call:
    """A new call of ``programme`` (or the programme of that id) offering ``spec``'s types."""
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    if not isinstance(programme, Programme):
        programme = db.session.get(Programme, programme)
        if programme is None:
            raise InvalidInput(_("That programme does not exist (any more); choose "
                                 "another."))
    problems = (call_problems(spec) + money_problems(spec)
                + deadline_problems(spec, programme) + follow_up_problems(spec))
    code = normalise_code(spec.code)
    if code and _code_taken(code):
        problems.append(_("Another call already uses the code %(code)s.", code=code))
    if any(c.id is not None for t in spec.types for c in t.criteria):
        problems.append(_("A new call cannot reuse another call's criteria."))
    refuse_if(problems)
    with atomic(clashes=_code_clash(code)):
        refuse_if(lead_problems(spec.lead_evaluator_id, None))
        call = Call(code=code, title=spec.title.strip(), description=spec.description.strip(),
                    opens_at=spec.opens_at, closes_at=spec.closes_at)
        _set_rules(call, spec)
        set_money(call, spec)
        set_deadlines(call, spec)
        set_follow_up(call, spec)
        programme.calls.append(call)
        for t in spec.types:
            call.voucher_types.append(_new_voucher_type(t))
        db.session.flush()
        check_programme_budget(programme)
        # After the programme's lock: a change of its end made meanwhile counts.
        refuse_if(end_problems(spec, last_day(programme)))
    return call


def _set_rules(call: Call, spec: CallSpec) -> None:
    regions = spec.eligible_regions
    call.eligible_regions = None if regions is None else clean_regions(regions, [])
    call.allowed_sizes = sizes_in_order(spec.allowed_sizes)
    call.max_applications_per_type = spec.max_applications_per_type
    call.max_vouchers_per_sme = spec.max_vouchers_per_sme
    call.support_cap = spec.support_cap
    call.implementation_ends_on = spec.implementation_ends_on
    call.divergence_share = rate(spec.divergence_share)
    call.extra_evaluator_on_divergence = bool(spec.extra_evaluator_on_divergence)
    call.lead_evaluator_id = spec.lead_evaluator_id
    write_given(call, spec, ("evaluators_from_other_partners",))


def _set_type_rules(cvt: CallVoucherType, t: VoucherTypeSpec) -> None:
    cvt.provider_other_region = bool(t.provider_other_region)
    kinds = set(t.required_attachments or ())
    cvt.required_attachments = [k for k in voucher_types.ATTACHMENT_KINDS if k in kinds]
    cvt.threshold = None if t.threshold is None else t.threshold.quantize(CENT)


def eligibility_settings(call: Call) -> tuple:
    """What an application's eligibility depends on in a call's set-up."""
    return (call.eligible_regions, list(call.allowed_sizes or []),
            call.max_applications_per_type, call.max_vouchers_per_sme, call.support_cap,
            call.implementation_ends_on,
            [(t.voucher_type, t.provider_other_region, list(t.required_attachments or []))
             for t in call.voucher_types])


def _new_voucher_type(t: VoucherTypeSpec) -> CallVoucherType:
    cvt = CallVoucherType(
        voucher_type=t.voucher_type, position=VOUCHER_TYPES.index(t.voucher_type),
        quota=t.quota, max_amount=t.max_amount, funding_rate=rate(t.funding_rate),
        envelope=t.envelope, score_scale=t.score_scale,
    )
    _set_type_rules(cvt, t)
    cvt.criteria = [
        Criterion(name=c.name.strip(), description=(c.description or "").strip(),
                  weight=weight(c.weight), position=i, minimum=c.minimum)
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
    """Change a call's window, rules, voucher types, budgets and criteria.

    Refused, changing nothing: taking an envelope below what is committed or a quota
    below the vouchers awarded; dropping a voucher type that has applications; changing
    the criteria, weights or scale a submitted review was scored against (renaming a
    criterion is fine); changing the code once references were issued with it.
    """
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    # The rules of the form first: the checks against the database assume them.
    refuse_if(call_problems(spec) + money_problems(spec)
              + deadline_problems(spec, call.programme) + follow_up_problems(spec))
    code = normalise_code(spec.code)
    # Checked under the write lock: an award or a review landing a moment ago counts.
    with atomic(clashes=_code_clash(code)):
        problems = lead_problems(spec.lead_evaluator_id, call.lead_evaluator_id)
        problems.extend(advance_problems(call, spec))
        eligibility_before = eligibility_settings(call)
        share_before = call.divergence_share
        if code != normalise_code(call.code):
            if _code_taken(code, except_call=call):
                problems.append(_("Another call already uses the code %(code)s.", code=code))
            elif db.session.scalar(select(func.count(Application.id))
                                   .where(Application.call_id == call.id)):
                problems.append(_("Applications to this call already carry references "
                                  "starting with %(code)s; the code cannot change.",
                                  code=call.code))
        wanted = {t.voucher_type: t for t in spec.types}
        for cvt in call.voucher_types:
            t = wanted.get(cvt.voucher_type)
            if t is None:
                if _application_count(cvt):
                    problems.append(_("%(type)s vouchers already have applications; they "
                                      "cannot be taken out of the call.", type=_(cvt.label)))
                continue
            # The row locked first (as partner_setup does before summing the shares), so
            # no share can be saved between the sum read below and the write. (The
            # committed money is held by the conditional UPDATE in _set_envelope_and_quota.)
            _lock(cvt)
            problems.extend(_budget_problems(cvt, t))
            problems.extend(_criteria_problems(cvt, t))
        for t in spec.types:
            if call.voucher_type(t.voucher_type) is None and any(c.id for c in t.criteria):
                problems.append(_("%(type)s: a new voucher type cannot reuse another type's "
                                  "criteria.", type=_(VOUCHER_TYPE_LABELS[t.voucher_type])))
        refuse_if(problems)
        call.code = code
        call.title = spec.title.strip()
        call.description = (spec.description or "").strip()
        call.opens_at = spec.opens_at
        call.closes_at = spec.closes_at
        _set_rules(call, spec)
        set_money(call, spec)
        set_deadlines(call, spec)
        set_follow_up(call, spec)
        for cvt in list(call.voucher_types):
            t = wanted.get(cvt.voucher_type)
            if t is None:
                call.voucher_types.remove(cvt)
                continue
            _set_envelope_and_quota(cvt, t)
            cvt.max_amount = t.max_amount
            cvt.funding_rate = rate(t.funding_rate)
            cvt.score_scale = t.score_scale
            _set_type_rules(cvt, t)
            _set_criteria(cvt, t.criteria)
        for t in spec.types:
            if call.voucher_type(t.voucher_type) is None:
                call.voucher_types.append(_new_voucher_type(t))
        call.voucher_types.sort(key=lambda v: v.position)
        db.session.flush()
        check_programme_budget(call.programme)
        refuse_if(end_problems(spec, last_day(call.programme)))
        if eligibility_settings(call) != eligibility_before:
            refresh_eligibility(call)
        if call.divergence_share != share_before:
            scoring.refresh_divergence(call)
    return call


def _budget_problems(cvt: CallVoucherType, t: VoucherTypeSpec) -> list[str]:
    problems = []
    label = _(cvt.label)
    if t.envelope is not None and t.envelope < cvt.committed:
        problems.append(_("%(type)s: %(amount)s is already committed to awarded vouchers; "
                          "the envelope cannot be lower than that.", type=label,
                          amount=eur(cvt.committed)))
    problems.extend(_share_problems(cvt, t))
    if t.quota is not None and t.quota < cvt.awarded_count:
        # Both English forms are the sentence it always was ("1 vouchers"; pages and tests
        # read it); the catalogues give each language its own singular.
        problems.append(ngettext("%(type)s: %(num)s vouchers are already awarded; the quota "
                                 "cannot be lower than %(num)s.",
                                 "%(type)s: %(num)s vouchers are already awarded; the quota "
                                 "cannot be lower than %(num)s.",
                                 cvt.awarded_count, type=label))
    # The final payment of every voucher is its actual costs times this rate: changing it
    # after an award would change what is owed on vouchers already granted, even paid.
    if (t.funding_rate is not None and rate(t.funding_rate) != cvt.funding_rate
            and _voucher_count(cvt)):
        awarded_at = f"{cvt.funding_rate * 100:.0f}"
        problems.append(_("%(type)s: vouchers were already awarded at %(rate)s%%; the "
                          "funding rate cannot change.", type=label, rate=awarded_at))
    return problems


def _lock(cvt: CallVoucherType) -> None:
    """A row lock on PostgreSQL; on SQLite atomic() already holds the write lock and FOR
    UPDATE is left out (as in funding_line.lock_for_decision)."""
    t = CallVoucherType.__table__
    db.session.execute(select(t.c.id).where(t.c.id == cvt.id).with_for_update())


def _shares_of(cvt_id: int):
    s = PartnerShare.__table__
    return func.coalesce(select(func.sum(s.c.envelope))
                         .where(s.c.call_voucher_type_id == cvt_id).scalar_subquery(), 0)


def _share_problems(cvt: CallVoucherType, t: VoucherTypeSpec) -> list[str]:
    """The partners' shares are parts of the envelope (partner_setup keeps their total
    within it), so the envelope cannot go below their total."""
    rows = db.session.execute(
        select(Partner.name, PartnerShare.envelope)
        .join(Partner, Partner.id == PartnerShare.partner_id)
        .where(PartnerShare.call_voucher_type_id == cvt.id).order_by(Partner.name)).all()
    total = sum((envelope for _, envelope in rows), ZERO)
    if t.envelope is None or t.envelope >= total:
        return []
    each = ", ".join(f"{name} {eur(envelope)}" for name, envelope in rows)
    return [_("%(type)s: the partners' shares of the envelope total %(total)s (%(each)s); the "
              "envelope cannot be lower than that. Lower the shares first.",
              type=_(cvt.label), total=eur(total), each=each)]


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
        problems.append(_("%(type)s: a criterion was not found; reload the page.",
                          type=_(cvt.label)))
        return problems
    if not _review_count(cvt):
        return problems
    kept = {c.id: weight(c.weight) for c in t.criteria if c.id is not None}
    changed = (
        t.score_scale != cvt.score_scale
        or len(kept) != len(t.criteria)
        or set(kept) != set(existing)
        or any(existing[i].weight != w for i, w in kept.items())
    )
    if changed:
        problems.append(_("%(type)s: reviews were scored against these criteria; their "
                          "weights, their number and the scale can no longer change.",
                          type=_(cvt.label)))
    return problems


def _set_envelope_and_quota(cvt: CallVoucherType, t: VoucherTypeSpec) -> None:
    """Write both only if the awards standing at this instant still fit."""
    table = CallVoucherType.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == cvt.id)
        .where(table.c.committed <= t.envelope)
        .where(table.c.awarded_count <= t.quota)
        .where(_shares_of(cvt.id) <= t.envelope)
        .values(envelope=t.envelope, quota=t.quota)
    )
    db.session.expire(cvt, ["envelope", "quota", "committed", "awarded_count"])
    if result.rowcount != 1:
        # An award landed after the checks above; explain with the figures it left.
        raise SetupRefused(_budget_problems(cvt, t) or [
            _("%(type)s: the awards changed while you edited; reload and try again.",
              type=_(cvt.label))
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
        criterion.weight = weight(spec.weight)
        criterion.minimum = spec.minimum
        criterion.position = position
        kept.append(criterion)
    # Replacing the collection deletes the rows left out (delete-orphan).
    cvt.criteria = kept
