"""The eligibility rules of a call, checked for one application or for a whole call.

The rules themselves are in eligibility_rules.py; this module gathers the facts they read,
attaches the manager's exceptions and acts on the outcome. The rules are shown, not
enforced, at submission: ``refresh_flag`` keeps ``Application.fails_rules`` (the table's
filter) up to date, and the award refuses an application that fails a rule without an
exception (``ensure_awardable``). A manager accepts an exception with a written reason
(``accept_exception``), except to the legal ceilings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from workflows.lifecycle import DRAFT, STATE_LABELS, WITHDRAWN

from .. import policy, text
from ..clock import local_date
from ..extensions import db
from ..models import Application, Attachment, AuditRecord, Call, EligibilityOverride, User
from ..models.base import utcnow
from ..money import ZERO
from . import undertaking
from .eligibility_rules import RULES, Facts
from .errors import IneligibleApplication, InvalidInput, TransitionNotAllowed
from .transaction import atomic
from .wording import N_, in_sentence

# Drafts are not applications yet and a withdrawn one is given up: neither counts
# towards the applications an SME may have per call and type.
NOT_COUNTED = (DRAFT, WITHDRAWN)
# Quotes and CVs; the final report's evidence does not meet a required attachment.
APPLICATION_FILES = "application"
MAX_REASON = 2000
TRIGGER = "accept_exception"
OVERRIDE_UNIQUE = "uq_eligibility_overrides_rule"
ALREADY_ACCEPTED = N_("An exception to this rule was already accepted (perhaps by a "
                      "colleague at the same moment); reload the page to see it.")
# Bind parameters per statement stay well under SQLite's limit of 32,766.
_CHUNK = 5000


@dataclass(frozen=True)
class RuleResult:
    code: str
    label: str
    passed: bool
    reason: str
    # The legal ceilings (support cap, de minimis) admit no exception.
    overridable: bool = True
    # The outcome depends on the undertaking's other awards (vouchers held, support
    # received, de minimis counted): the funding line re-checks these as it walks.
    depends_on_awards: bool = False
    override: EligibilityOverride | None = None

    @property
    def blocks(self) -> bool:
        return not self.passed and self.override is None


def evaluate(application: Application, now: datetime | None = None,
             standing: undertaking.Standing | None = None) -> list[RuleResult]:
    """Every rule's result for ``application``, in the order the pages show them.

    ``standing``: the undertaking's standing at ``now`` (excluding this application),
    when the caller has just read it.
    """
    return results(_facts(application, now or utcnow(), standing))


def results(facts: Facts) -> list[RuleResult]:
    out = []
    for rule in RULES.values():
        passed, reason = rule.check(facts)
        override = facts.overrides.get(rule.code) if rule.overridable else None
        out.append(RuleResult(rule.code, _(rule.label), passed, reason, rule.overridable,
                              rule.depends_on_awards, override))
    return out


def blocking(application: Application, now: datetime | None = None,
             standing: undertaking.Standing | None = None) -> list[RuleResult]:
    return [r for r in evaluate(application, now, standing) if r.blocks]


def refresh_flag(application: Application, now: datetime | None = None) -> None:
    fails = bool(blocking(application, now))
    # Written only when it changes: the write bumps the application's version.
    if application.fails_rules != fails:
        application.fails_rules = fails


def ensure_awardable(application: Application, now: datetime | None = None,
                     standing: undertaking.Standing | None = None) -> None:
    """Refuse the award while a rule fails without an exception.

    The rules that read the undertaking's other awards are left to undertaking.check_award,
    which decides them under the undertaking's lock (and hands over the ``standing`` it
    read there, so it is not queried twice in the award's transaction).
    """
    failing = [r for r in blocking(application, now, standing) if not r.depends_on_awards]
    if failing:
        rules = " ".join(f"{r.label}: {r.reason}" for r in failing)
        raise IneligibleApplication(
            _("The application cannot be awarded while it fails this rule without an "
              "accepted exception: %(rules)s A manager may accept an exception, with a "
              "reason, on the application's page.", rules=rules) if len(failing) == 1 else
            _("The application cannot be awarded while it fails these rules without an "
              "accepted exception: %(rules)s A manager may accept an exception, with a "
              "reason, on the application's page.", rules=rules))


def accept_exception(application: Application, rule_code: str, reason: str, by: User,
                     now: datetime | None = None) -> EligibilityOverride:
    """Accept ``application`` although it fails ``rule_code``, for the reason given.

    Writes the exception and an audit record (the state stays as it is) and refreshes the
    application's flag.
    """
    now = now or utcnow()
    with atomic({OVERRIDE_UNIQUE: _(ALREADY_ACCEPTED)}):
        if not policy.can_accept_exception(by, application):
            policy.ensure(policy.can_manage(by, application),
                          "Only programme managers accept exceptions.")
            raise TransitionNotAllowed(
                _("An exception is accepted while the application awaits a decision; this "
                  "one is %(state)s.", state=in_sentence(STATE_LABELS[application.state])))
        rule = RULES.get(rule_code)
        if rule is None:
            raise InvalidInput(_("There is no such eligibility rule."))
        if not rule.overridable:
            raise IneligibleApplication(_("%(rule)s is a legal ceiling: no exception to it "
                                          "can be accepted.", rule=_(rule.label)))
        reason = clean_reason(reason)
        result = next(r for r in evaluate(application, now) if r.code == rule.code)
        if result.passed:
            raise InvalidInput(_("%(rule)s: the rule passes, there is no exception to "
                                 "accept.", rule=_(rule.label)))
        if result.override is not None:
            raise InvalidInput(_(ALREADY_ACCEPTED))
        override = EligibilityOverride(application_id=application.id, rule=rule.code,
                                       reason=reason, by_id=by.id, at=now)
        db.session.add(override)
        db.session.add(AuditRecord(
            application_id=application.id, from_state=application.state,
            to_state=application.state, trigger=TRIGGER, actor_id=by.id, at=now,
            comment=f"{rule.label}: {reason}",
        ))
        db.session.flush()
        refresh_flag(application, now)
    return override


def clean_reason(reason: object) -> str:
    return text.clean_reason(reason, _("Give the reason for accepting the exception; it is "
                                       "kept in the application's history."), MAX_REASON)


def refresh_call(call: Call, now: datetime | None = None) -> int:
    """Refresh the flag of every application of ``call`` awaiting a decision (after the
    call's rules changed); returns how many flags changed.

    The facts are read with a handful of queries for the whole call (and one standing per
    company), and the changed flags are written with one UPDATE per value and chunk.
    """
    now = now or utcnow()
    with atomic():
        applications = list(db.session.scalars(
            select(Application)
            .where(Application.call_id == call.id,
                   Application.state.in_(sorted(policy.EXCEPTION_STATES)))
            .options(joinedload(Application.organisation), joinedload(Application.provider),
                     joinedload(Application.call_voucher_type))
            .order_by(Application.id)
        ))
        ids = [a.id for a in applications]
        kinds, overrides, counted = _kinds_of(ids), _overrides_of(ids), _counted_in(call)
        standings: dict[int, undertaking.Standing] = {}
        changed: dict[bool, list[int]] = {True: [], False: []}
        for application in applications:
            org_id = application.organisation_id
            # None of these applications is an award yet, so leaving each one out of its
            # company's standing changes nothing: one standing per company serves all.
            if org_id not in standings:
                standings[org_id] = undertaking.standing_of(org_id, call, now)
            same_type = _place(counted.get((org_id, application.voucher_type), []),
                               application)
            facts = _build(application, now, kinds=kinds.get(application.id, ()),
                           same_type=same_type, overrides=overrides.get(application.id, {}),
                           standing=standings[org_id])
            fails = any(r.blocks for r in results(facts))
            if fails != application.fails_rules:
                changed[fails].append(application.id)
        return _write_flags(applications, changed)


def refresh_company(organisation_id: int, now: datetime | None = None) -> int:
    """Refresh the flag of the company's applications awaiting a decision, in every call:
    its awards, cancellations, withdrawals and aid declarations change what the others
    may still get (inside the caller's atomic())."""
    now = now or utcnow()
    applications = list(db.session.scalars(
        select(Application).where(Application.organisation_id == organisation_id,
                                  Application.state.in_(sorted(policy.EXCEPTION_STATES)))
    ))
    changed: dict[bool, list[int]] = {True: [], False: []}
    for application in applications:
        fails = bool(blocking(application, now))
        if fails != application.fails_rules:
            changed[fails].append(application.id)
    return _write_flags(applications, changed)


def _write_flags(applications: list[Application], changed: dict[bool, list[int]]) -> int:
    """Write the flags that changed; returns how many."""
    t = Application.__table__
    # A derived flag, not the applicant's content: written without bumping the version,
    # so an edit or a decision in flight is not refused because of it. A row another
    # transaction holds right now (an award of the same company's other application,
    # waiting for the company's lock this one holds) is skipped, never waited for: waiting
    # would deadlock, and that transaction refreshes what it decides itself.
    lockable = db.session.get_bind().dialect.name == "postgresql"
    for flag, app_ids in changed.items():
        for chunk in _chunks(app_ids):
            ids = (select(t.c.id).where(t.c.id.in_(chunk)).with_for_update(skip_locked=True)
                   .scalar_subquery() if lockable else chunk)
            db.session.execute(update(t).where(t.c.id.in_(ids)).values(fails_rules=flag))
    moved = set(changed[True]) | set(changed[False])
    for application in applications:
        if application.id in moved:
            db.session.expire(application, ["fails_rules"])
    return len(moved)


# --- the facts ------------------------------------------------------------------------


def _facts(application: Application, now: datetime,
           standing: undertaking.Standing | None = None) -> Facts:
    a = Application
    counted = [(submitted_at, app_id) for submitted_at, app_id in db.session.execute(
        select(a.submitted_at, a.id).where(
            a.call_id == application.call_id, a.voucher_type == application.voucher_type,
            a.organisation_id == application.organisation_id, a.state.not_in(NOT_COUNTED)))]
    kinds = [x.kind for x in application.attachments if x.purpose == APPLICATION_FILES]
    if standing is None:
        standing = undertaking.standing_of(application.organisation_id, application.call,
                                           now, excluding=application.id)
    return _build(application, now, kinds=kinds, same_type=_place(counted, application),
                  overrides=_overrides_of([application.id]).get(application.id, {}),
                  standing=standing)


def _build(application: Application, now: datetime, *, kinds: Iterable[str],
           same_type: int, overrides: dict[str, EligibilityOverride],
           standing: undertaking.Standing) -> Facts:
    amount = application.awarded_amount or application.requested_amount or ZERO
    limits = dict(undertaking.limit_problems(application.call, standing, amount))
    earliest, submitted = _earliest(application, now)
    return Facts(application=application, organisation=application.organisation,
                 provider=application.provider, kinds=frozenset(kinds), same_type=same_type,
                 earliest=earliest, submitted=submitted, standing=standing, amount=amount,
                 limits=limits, overrides=overrides)


def _earliest(application: Application, now: datetime) -> tuple[date, bool]:
    """The first day activities may take place (the day of the last submission; for a
    draft, today), and whether that is a submission's day."""
    if application.submitted_at is None:
        return local_date(now), False
    return local_date(application.submitted_at), True


def _chunks(items: list[int]):
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _kinds_of(ids: list[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(
            select(Attachment.application_id, Attachment.kind).distinct()
            .where(Attachment.application_id.in_(chunk),
                   Attachment.purpose == APPLICATION_FILES))
        for app_id, kind in rows:
            found.setdefault(app_id, set()).add(kind)
    return found


def _overrides_of(ids: list[int]) -> dict[int, dict[str, EligibilityOverride]]:
    found: dict[int, dict[str, EligibilityOverride]] = {}
    for chunk in _chunks(ids):
        for o in db.session.scalars(
            select(EligibilityOverride).where(EligibilityOverride.application_id.in_(chunk))
            .options(joinedload(EligibilityOverride.by))
        ):
            found.setdefault(o.application_id, {})[o.rule] = o
    return found


def _counted_in(call: Call) -> dict[tuple[int, str], list[tuple[datetime, int]]]:
    """(company, voucher type) -> (submitted at, id) of its applications in ``call`` that
    count."""
    a = Application
    counted: dict[tuple[int, str], list[tuple[datetime, int]]] = {}
    for org_id, vt, submitted_at, app_id in db.session.execute(
            select(a.organisation_id, a.voucher_type, a.submitted_at, a.id)
            .where(a.call_id == call.id, a.state.not_in(NOT_COUNTED))):
        counted.setdefault((org_id, vt), []).append((submitted_at, app_id))
    return counted


def _place(counted: list[tuple[datetime, int]], application: Application) -> int:
    """The application's number among its company's applications of the call and type:
    the ones submitted before it, and itself. The first N submitted keep their place when
    a later one goes over the limit; a draft would come after all that count."""
    if application.state in NOT_COUNTED or application.submitted_at is None:
        return len(counted) + 1
    mine = (application.submitted_at, application.id)
    return sum(1 for entry in counted if entry[0] is not None and entry <= mine)
