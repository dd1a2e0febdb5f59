"""The manager's applications table: filter, sort and page through one call's applications.

Built to stay fast with 100,000 applications in a call. A page costs the same few queries
whatever its size: a count, the ids of the page, and the rows of those ids with their
organisation (the score order adds a count and an id query, see _score_page). The id
queries read the (call_id, submitted_at) and (call_id, weighted_score) indexes, so even a
deep page skips index entries instead of whole joined rows (a "deferred join"); that is
why this does not use ``db.paginate``, which would page over the joined rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Application, Organisation
from ..policy_partners import application_scope, organisation_scope
from . import deadlines
from .needs import condition as need_condition

SORTS = ("date", "score")
DIRECTIONS = ("desc", "asc")
PER_PAGE_CHOICES = (10, 25, 50, 100)
DEFAULT_PER_PAGE = 25


@dataclass(frozen=True)
class TableQuery:
    call_id: int
    voucher_type: str | None = None
    state: str | None = None
    country: str | None = None
    # One of needs.NEEDS: what the manager has to act on (the dashboard's counts link here).
    needs: str | None = None
    text: str = ""
    sort: str = "date"
    direction: str = "desc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


@dataclass(frozen=True)
class TablePage:
    items: list[Application]
    total: int
    page: int
    per_page: int
    # {application id: what is overdue, "review" and/or "report"} (services/deadlines.py).
    overdue: dict[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


# Only applications that were ever submitted are listed: a draft is the applicant's own work
# in progress. Every listed row has submitted_at set, so sorting by date needs no NULL
# handling and walks the (call_id, submitted_at) index as it stands.
_LISTED = Application.submitted_at.is_not(None)


def _on_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _contains(column, text: str, sqlite: bool):
    """Case-insensitive substring match, with the user's % and _ taken literally."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if sqlite:
        # SQLite's LIKE already ignores case (for ASCII, as its lower() does): lower() on
        # both sides would only slow the scan down.
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _row_condition(condition, sqlite: bool):
    """A condition no index answers (country, text), shaped for each database's planner.

    Written plainly, SQLite without ANALYZE statistics walks the (call_id, submitted_at)
    index and fetches every row out of storage order to test it: four to five times
    slower on 100,000 rows than testing the rows once in storage order inside
    "id IN (subquery)" while the outer query keeps to its covering index. PostgreSQL
    plans the plain condition well (a hashed subplan on a sequential scan) and the
    subquery badly (a second scan and a hash join), so it gets the plain form.
    """
    if sqlite:
        return Application.id.in_(select(Application.id).where(condition))
    return condition


def _filters(q: TableQuery, viewer: Any) -> list:
    sqlite = _on_sqlite()
    # A partner manager's table holds the SMEs of its partner's regions only.
    conditions = [Application.call_id == q.call_id, application_scope(viewer)]
    if q.voucher_type:
        conditions.append(Application.voucher_type == q.voucher_type)
    if q.state:
        conditions.append(Application.state == q.state)
    if q.needs:
        conditions.append(need_condition(q.needs))
    if q.country:
        conditions.append(_row_condition(Application.organisation_id.in_(
            select(Organisation.id).where(Organisation.country == q.country)
        ), sqlite))
    text = q.text.strip()
    if text:
        conditions.append(_row_condition(
            _contains(Application.reference, text, sqlite)
            | _contains(Application.title, text, sqlite)
            | Application.organisation_id.in_(
                select(Organisation.id).where(_contains(Organisation.legal_name, text, sqlite))
            ),
            sqlite,
        ))
    return conditions


def _ids(conditions: list, order_by: list, limit: int, offset: int) -> list[int]:
    return list(db.session.scalars(
        select(Application.id).where(*conditions).order_by(*order_by).limit(limit).offset(offset)
    ))


def _date_order(descending: bool) -> list:
    if descending:
        return [Application.submitted_at.desc(), Application.id.desc()]
    return [Application.submitted_at, Application.id]


def _score_page(filters: list, q: TableQuery, offset: int, scored_total: int) -> list[int]:
    """A page of the score order: scored applications first, then the unscored ones.

    Both databases sort NULLs differently and neither can walk an index for "DESC NULLS
    LAST" on both, so the scored and the unscored rows are read apart, each in index
    order; ties (and the unscored) go by id, the order the applications were created in.
    Both id queries always run (one maybe with LIMIT 0) so that a page costs the same
    number of queries wherever it falls.
    """
    score = Application.weighted_score
    descending = q.direction == "desc"
    scored_here = max(0, min(q.per_page, scored_total - offset))
    scored = _ids(
        [*filters, score.is_not(None)],
        [score.desc(), Application.id.desc()] if descending else [score, Application.id],
        scored_here, min(offset, scored_total),
    )
    unscored = _ids([*filters, _LISTED, score.is_(None)],
                    [Application.id.desc() if descending else Application.id],
                    q.per_page - scored_here, max(0, offset - scored_total))
    return scored + unscored


def _count(conditions: list) -> int:
    return db.session.scalar(select(func.count()).select_from(Application).where(*conditions))


def applications_page(q: TableQuery, viewer: Any = None) -> TablePage:
    """One page of the table as ``viewer`` reaches it (policy.application_scope; None, as
    for a command or a test: the whole programme); a page past the end shows the last page.

    The form offers only PER_PAGE_CHOICES; a caller that asks for more (or less) gets the
    nearest size this can serve, so no input makes an unbounded LIMIT or OFFSET.
    """
    q = replace(q, per_page=min(max(1, q.per_page), PER_PAGE_CHOICES[-1]))
    filters = _filters(q, viewer)
    score = Application.weighted_score
    scored_total = 0
    if q.sort == "score" and (q.text.strip() or q.needs):
        # A text search, and a need (whose condition no index answers), read every row
        # they match anyway: count the scored ones in the same pass rather than a second.
        total, scored_total = db.session.execute(
            select(func.count(), func.count(score)).where(*filters, _LISTED)
        ).one()
    else:
        total = _count([*filters, _LISTED])
        if q.sort == "score":
            # Only applications under review or past it carry a score, and those were all
            # submitted: no submitted_at test, so the count reads the score index alone.
            scored_total = _count([*filters, score.is_not(None)])
    page = min(max(1, q.page), max(1, -(-total // q.per_page)))
    offset = (page - 1) * q.per_page
    if q.sort == "score":
        ids = _score_page(filters, q, offset, scored_total)
    else:
        ids = _ids([*filters, _LISTED], _date_order(q.direction == "desc"), q.per_page, offset)
    rows = {}
    if ids:
        rows = {a.id: a for a in db.session.scalars(
            select(Application).where(Application.id.in_(ids))
            .options(joinedload(Application.organisation))
        )}
    items = [rows[i] for i in ids if i in rows]
    return TablePage(items=items, total=total, page=page, per_page=q.per_page,
                     overdue=deadlines.overdue_marks(items))


def countries(viewer: Any = None) -> list[str]:
    """The countries of the applicants ``viewer`` reaches, for the country filter."""
    return list(db.session.scalars(
        select(Organisation.country).where(organisation_scope(viewer)).distinct()
        .order_by(Organisation.country)
    ))
