"""What needs the manager's action, defined once for the applications table and the home.

Each need is an SQL condition on one call's applications. The table filters on it
(``?needs=<key>``) and the dashboards count it, so a count and the list it links to can
never disagree. The conditions read columns the application row keeps up to date
(state, divergent, fails_rules, review_count, submission_number) and, where they must look
at another table, a subquery the (application_id, ...) unique indexes of assignments and
consensus answer: no new index. "Short of evaluators" is the dearest (no column counts the
standing assignments): on 100,000 applications it costs two to three times a plain state
filter; a counter kept on the application, as review_count is, would make it free.

The counts of every call come from one grouped query (per call and voucher type); the
reserve list's offers come from services/reserve.py, asked once per call shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import and_, case, exists, func, not_, select
from sqlalchemy.sql.elements import ColumnElement

from workflows.lifecycle import (
    APPLICANT,
    DRAFT,
    FINAL_STATES,
    REPORT_SUBMITTED,
    STATES,
    SUBMITTED,
    UNDER_REVIEW,
    WAITLISTED,
)

from .. import voucher_types
from ..extensions import db
from ..models import Application, ApplicationMessage, Assignment, Call, Consensus, User
from ..policy_partners import application_scope, partner_scope
from . import deadlines, money_due, reserve
from .assignment import wanted_per_application

_A = Application
REVIEWING = (SUBMITTED, UNDER_REVIEW)
# Every need concerns an application that was submitted and is not settled for good.
ACTIVE_STATES = tuple(s for s in STATES if s not in FINAL_STATES and s != DRAFT)


def _short_of_evaluators() -> ColumnElement[bool]:
    wanted = wanted_per_application()
    standing = Assignment.conflict_declared_at.is_(None)
    if db.session.get_bind().dialect.name == "sqlite":
        # SQLite answers the count from the (application_id, evaluator_id) index for each
        # row the state leaves, faster than reading every assignment into a list first.
        count = (select(func.count()).select_from(Assignment)
                 .where(Assignment.application_id == _A.id, standing)
                 .correlate(_A).scalar_subquery())
        enough = count < wanted
    else:
        # PostgreSQL runs a correlated count once per row (three times slower on 100,000
        # rows); the applications that have enough are one grouped pass, hashed once.
        enough = _A.id.not_in(select(Assignment.application_id).where(standing)
                              .group_by(Assignment.application_id)
                              .having(func.count() >= wanted))
    return and_(_A.state.in_(REVIEWING), enough)


def _conflicts() -> ColumnElement[bool]:
    # "IN" rather than a correlated EXISTS: both databases read the few declared conflicts
    # once and look the applications up, instead of probing per application.
    declared = select(Assignment.application_id).where(
        Assignment.conflict_declared_at.is_not(None))
    return and_(_A.state.in_(REVIEWING), _A.id.in_(declared))


def _consensus_missing() -> ColumnElement[bool]:
    # Only a divergent application asks for a consensus here: with close scores the mean
    # of the evaluators stands, and a consensus is the manager's choice, not a task.
    recorded = exists().where(Consensus.application_id == _A.id,
                              Consensus.version == _A.submission_number).correlate(_A)
    return and_(_A.state == UNDER_REVIEW, _A.divergent.is_(True), not_(recorded))


def _unanswered() -> ColumnElement[bool]:
    # The thread's last message (internal notes aside) is the applicant's: the programme
    # owes an answer. One grouped pass over the messages, then the applications looked up.
    last = (select(ApplicationMessage.application_id, func.max(ApplicationMessage.id).label("id"))
            .where(ApplicationMessage.internal.is_(False))
            .group_by(ApplicationMessage.application_id).subquery())
    from_applicant = (select(last.c.application_id)
                      .join(ApplicationMessage, ApplicationMessage.id == last.c.id)
                      .join(User, User.id == ApplicationMessage.author_id)
                      .where(User.role == APPLICANT))
    return _A.id.in_(from_applicant)


def _proposals() -> ColumnElement[bool]:
    # Reviewed (on the current version: review_count counts only that) and not decided:
    # what a funding line for the type would now propose and the manager confirm.
    return and_(_A.state == UNDER_REVIEW, _A.review_count > 0)


@dataclass(frozen=True)
class Need:
    key: str
    # Both translated where they are shown (lazy_gettext): the filter's option, and the
    # dashboard's line and the managers' digest, each in its reader's language.
    label: str  # the applications table's filter
    heading: str  # the dashboard's line
    where: Callable[[], ColumnElement[bool]]


# In the order the dashboard lists them: evaluation first, then decisions, then vouchers.
NEEDS: dict[str, Need] = {n.key: n for n in (
    Need("short_of_evaluators", lazy_gettext("Short of evaluators"),
         lazy_gettext("Applications short of evaluators"), _short_of_evaluators),
    Need("conflicts", lazy_gettext("Declared conflict of interest"),
         lazy_gettext("Applications with a declared conflict of interest"), _conflicts),
    Need("divergent", lazy_gettext("Divergent scores"), lazy_gettext("Divergent scores"),
         lambda: and_(_A.divergent.is_(True), _A.state.in_((UNDER_REVIEW, WAITLISTED)))),
    Need("consensus_missing", lazy_gettext("Divergent scores, no consensus yet"),
         lazy_gettext("Divergent scores without a consensus"), _consensus_missing),
    Need("fails_rules", lazy_gettext("Fails an eligibility rule"),
         lazy_gettext("Applications failing an eligibility rule"),
         lambda: and_(_A.fails_rules.is_(True), _A.state.not_in(sorted(FINAL_STATES)))),
    Need("reports", lazy_gettext("Final report to check"), lazy_gettext("Final reports to check"),
         lambda: _A.state == REPORT_SUBMITTED),
    # The same condition as the dashboard's count: an advance or a final payment due.
    Need("payments_due", lazy_gettext("Payment due"), lazy_gettext("Payments due"),
         money_due.payment_due),
    # Overdue (services/deadlines.py): listed on the dashboard only when there are some.
    Need("reviews_overdue", lazy_gettext("Review overdue"),
         lazy_gettext("Applications with a review overdue"), deadlines.review_overdue),
    Need("reports_overdue", lazy_gettext("Final report overdue"),
         lazy_gettext("Final reports overdue"), deadlines.report_overdue),
    # The applicant wrote last in the application's thread (services/messages.py).
    Need("messages", lazy_gettext("Message awaiting an answer"),
         lazy_gettext("Messages from applicants awaiting an answer"), _unanswered),
)}
# Listed first on the dashboard, and only when there are some.
OVERDUE = ("messages", "reviews_overdue", "reports_overdue")
# Where the dashboard puts the per-type lines (funding line, reserve list) among the needs.
_BEFORE_PER_TYPE = ("short_of_evaluators", "conflicts", "divergent", "consensus_missing",
                    "fails_rules")
PROPOSALS_HEADING = lazy_gettext("Funding line to propose and confirm")
RESERVE_HEADING = lazy_gettext("Money returned, reserve list waiting")
RESERVE_ANCHOR = "reserve-offers"


def condition(key: str) -> ColumnElement[bool]:
    """The need ``key`` (one of NEEDS) as a condition on Application."""
    return NEEDS[key].where()


@dataclass(frozen=True)
class ActionItem:
    key: str  # a key of NEEDS, "proposals" or "reserve"
    # Lazy: written in the language of the page or e-mail that shows it (the managers'
    # digest is gathered once and rendered for each manager in their own language).
    heading: str
    count: int
    # Where the count links to: a URL endpoint and its arguments (the page draws the link).
    endpoint: str
    args: dict[str, Any] = field(default_factory=dict)
    voucher_type: str | None = None


@dataclass
class CallActions:
    call: Call
    status: str
    items: list[ActionItem]
    # Headings with nothing to do, shown in one line rather than as zero links.
    idle: list[str]
    # Live vouchers and undecided applications: a closed call with these still needs
    # watching.
    in_progress: int = 0

    @property
    def to_do(self) -> list[ActionItem]:
        return [i for i in self.items if i.count]


def _counts(call_ids: list[int], viewer: Any = None) -> dict[tuple[int, str], dict[str, int]]:
    """{(call id, voucher type): {need key, "proposals", "waitlisted", "in_progress": count}}
    over the applications ``viewer`` reaches (None: all): one query."""
    if not call_ids:
        return {}
    columns = {key: need.where() for key, need in NEEDS.items()}
    columns["proposals"] = _proposals()
    columns["waitlisted"] = _A.state == WAITLISTED
    labels = list(columns)
    rows = db.session.execute(
        select(_A.call_id, _A.voucher_type, func.count(),
               *(func.sum(case((c, 1), else_=0)) for c in columns.values()))
        .where(_A.call_id.in_(call_ids), _A.state.in_(ACTIVE_STATES), application_scope(viewer))
        .group_by(_A.call_id, _A.voucher_type)
    )
    return {(call_id, vt): {"in_progress": n,
                            **{k: int(v or 0) for k, v in zip(labels, sums, strict=True)}}
            for call_id, vt, n, *sums in rows}


def _offered(call: Call, now: datetime, offers: list | None) -> dict[str, int]:
    """Per voucher type, how many waitlisted applications the reserve list now offers."""
    found: dict[str, int] = {}
    for offer in reserve.offers(call, now) if offers is None else offers:
        found[offer.voucher_type] = found.get(offer.voucher_type, 0) + len(offer.applications)
    return found


def _table(call: Call, key: str, count: int) -> ActionItem:
    return ActionItem(key, NEEDS[key].heading, count, "manager.applications",
                      {"call": call.id, "needs": key})


def _per_type(key: str, heading: str, counts: dict[str, int], endpoint: str,
              args: Callable[[str], dict[str, Any]]) -> list[ActionItem]:
    """One line per voucher type that has something, in the registry's order of types."""
    return [ActionItem(key, LazyString(_type_heading, heading, vt), counts[vt], endpoint,
                       args(vt), vt)
            for vt in sorted(counts, key=_type_order) if counts[vt]]


def _type_heading(heading: str, voucher_type: str) -> str:
    """"Funding line to propose and confirm · Travel", in the reader's language."""
    return f"{heading} · {gettext(voucher_types.label(voucher_type))}"


def _type_order(voucher_type: str) -> tuple[int, str]:
    codes = voucher_types.CODES
    return (codes.index(voucher_type) if voucher_type in codes else len(codes), voucher_type)


def call_actions(call: Call, now: datetime, *,
                 counts: dict[tuple[int, str], dict[str, int]] | None = None,
                 offers: list | None = None, viewer: Any = None) -> CallActions:
    """What needs action in ``call``: a count per need, each linking to its list.

    ``counts`` is :func:`_counts` of several calls at once (the home); without it, this
    call's are read. ``offers`` is ``reserve.offers(call, now)`` where the caller has it
    already (the call's dashboard draws them too); without it, they are asked for.
    ``viewer``: a partner manager counts its partner's applications, and is not given the
    funding line and the reserve list, which are the whole programme's (can_run_programme).
    """
    if counts is None:
        counts = _counts([call.id], viewer)
    whole = partner_scope(viewer) is None
    per_type = {vt: c for (call_id, vt), c in counts.items() if call_id == call.id}

    def total(key: str) -> int:
        return sum(c[key] for c in per_type.values())

    first = [_table(call, key, total(key)) for key in _BEFORE_PER_TYPE]
    proposals = _per_type("proposals", PROPOSALS_HEADING,
                          {vt: c["proposals"] for vt, c in per_type.items()}, "manager.ranking",
                          lambda vt: {"call_id": call.id, "voucher_type": vt}) if whole else []
    # The offers are drawn on the call's dashboard (templates/manager/_reserve_offers.html).
    # Only a waitlist can be offered money: a call without one is not walked at all.
    if offers is None and not (whole and total("waitlisted")):
        offers = []
    offered = _per_type("reserve", RESERVE_HEADING, _offered(call, now, offers),
                        "manager.dashboard",
                        lambda vt: {"call_id": call.id, "_anchor": RESERVE_ANCHOR})
    last = [_table(call, key, total(key)) for key in ("reports", "payments_due")]
    late = [i for i in (_table(call, key, total(key)) for key in OVERDUE) if i.count]
    idle = [i.heading for i in first if not i.count]
    idle += [heading for heading, lines in ((PROPOSALS_HEADING, proposals),
                                            (RESERVE_HEADING, offered)) if whole and not lines]
    idle += [i.heading for i in last if not i.count]
    return CallActions(call=call, status=call.status(now),
                       items=[*late, *first, *proposals, *offered, *last], idle=idle,
                       in_progress=total("in_progress"))


def calls_needing_action(calls: Iterable[Call], now: datetime,
                         viewer: Any = None) -> list[CallActions]:
    """The home's list: every open call, and every other call with work still in progress
    (live vouchers, or applications not yet decided), as ``viewer`` reaches them."""
    calls = list(calls)
    counts = _counts([c.id for c in calls], viewer)
    busy = {call_id for (call_id, _), c in counts.items() if c["in_progress"]}
    return [call_actions(call, now, counts=counts, viewer=viewer) for call in calls
            if call.is_open(now) or call.id in busy]
