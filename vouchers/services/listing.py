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
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import any_, func, select, union

from .. import search
from ..extensions import db
from ..models import Application, Call, Organisation
from ..policy_partners import application_scope, organisation_scope
from ..search import search_key
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


@dataclass(frozen=True, slots=True)
class TableRow:
    """One line of the table: what it shows, and what deadlines.overdue_marks reads.

    Plain values rather than Application objects: building 25 applications and their
    companies (every column converted, the ORM's bookkeeping) took longer than the
    page's own queries.
    """

    id: int
    reference: str
    call_id: int
    voucher_type: str
    title: str
    state: str
    requested_amount: Decimal
    weighted_score: Decimal | None
    review_count: int
    submitted_at: datetime
    report_due_on: date | None
    legal_name: str
    country: str
    call: Call


# TableRow's fields, in its order.
_ROW_COLUMNS = (Application.id, Application.reference, Application.call_id,
                Application.voucher_type, Application.title, Application.state,
                Application.requested_amount, Application.weighted_score,
                Application.review_count, Application.submitted_at, Application.report_due_on,
                Organisation.legal_name, Organisation.country)


@dataclass(frozen=True)
class TablePage:
    items: list[TableRow]
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


def _text_condition(text: str, call_id: int, dialect: str, matches_drive: bool):
    """Applications whose reference or title, or whose company's name, holds ``text``.

    Both sides are search keys (vouchers/search.py), so the match ignores case and accents
    the same way on each database. Each half is read through its own index (an FTS5
    trigram table on SQLite, a pg_trgm GIN index on PostgreSQL; a query shorter than a
    trigram reads the key columns). Where the matches drive the plan, the page's queries
    take the union of the ids. Otherwise PostgreSQL gets the condition on the row itself,
    the companies' ids as an array, which it answers as one bitmap of the two indexes (a
    count) or tests while walking the date index (the page of a frequent word): at
    1,000,000 rows a count of 68,000 matches in 200 ms instead of 330, their first page
    in 3 ms instead of 400. A rare word's page walks the whole index that way, hence
    the union for it (see applications_page).
    """
    key = search_key(text)
    companies = search.matching_ids(Organisation.search_name, search.ORGANISATIONS_FTS, key,
                                    dialect)
    if dialect == "postgresql" and not matches_drive:
        return (search.matches(Application.search_text, key)
                | (Application.organisation_id == any_(func.array(companies.scalar_subquery()))))
    in_applications = search.matching_ids(Application.search_text, search.APPLICATIONS_FTS, key,
                                          dialect)
    of_companies = select(Application.id).where(Application.organisation_id.in_(companies),
                                                Application.call_id == call_id)
    return Application.id.in_(union(in_applications, of_companies))


# A text search whose matches are at least this many times the rows up to the end of the
# page finds its page sooner walking the call's index in order (see _filters).
_DENSE_MATCHES = 50


def _filters(q: TableQuery, viewer: Any, *, matches_drive: bool = True) -> list:
    dialect = db.session.get_bind().dialect.name
    searching = bool(search_key(q.text))
    in_call = Application.call_id == q.call_id
    if searching and matches_drive and dialect == "sqlite":
        # SQLite without statistics takes call_id = ? for selective and walks the call's
        # whole index probing each entry against the matches; "+ 0" keeps that index out
        # of the plan, so the matched ids drive it (rowid look-ups), as many as they are:
        # at 1,000,000 rows a reference's count and page take 0.3 ms instead of 180, the
        # count of a word in 7% of the rows 210 ms instead of 520. Only the page of such a
        # word is found sooner by the walk, which meets a match every 15 entries:
        # applications_page asks for it then. PostgreSQL weighs the plans with statistics.
        in_call = (Application.call_id + 0) == q.call_id
    # A partner manager's table holds the SMEs of its partner's regions only.
    conditions = [in_call, application_scope(viewer)]
    if q.voucher_type:
        conditions.append(Application.voucher_type == q.voucher_type)
    if q.state:
        conditions.append(Application.state == q.state)
    if q.needs:
        conditions.append(need_condition(q.needs))
    if q.country:
        # The country's companies from ix_organisations_country, their applications to the
        # call from ix_applications_organisation_call (or, with a type and a state, from
        # ix_applications_call_type_state, which carries the organisation).
        conditions.append(Application.organisation_id.in_(
            select(Organisation.id).where(Organisation.country == q.country)
        ))
    if searching:
        conditions.append(_text_condition(q.text, q.call_id, dialect, matches_drive))
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


def _rows(ids: list[int], call_id: int) -> list[TableRow]:
    """The rows of ``ids``, in that order, with their company."""
    if not ids:
        return []
    call = db.session.get(Call, call_id)
    found = {row.id: row for row in db.session.execute(
        select(*_ROW_COLUMNS).join(Application.organisation).where(Application.id.in_(ids)))}
    return [TableRow(*found[i], call=call) for i in ids if i in found]


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
    # PostgreSQL counts a search's matches fastest from both indexes at once (_text_condition).
    counted = filters
    if search_key(q.text) and db.session.get_bind().dialect.name == "postgresql":
        counted = _filters(q, viewer, matches_drive=False)
    score = Application.weighted_score
    scored_total = 0
    if q.sort == "score" and (q.text.strip() or q.needs):
        # A text search, and a need (whose condition no index answers), read every row
        # they match anyway: count the scored ones in the same pass rather than a second.
        total, scored_total = db.session.execute(
            select(func.count(), func.count(score)).where(*counted, _LISTED)
        ).one()
    else:
        total = _count([*counted, _LISTED])
        if q.sort == "score":
            # Only applications under review or past it carry a score, and those were all
            # submitted: no submitted_at test, so the count reads the score index alone.
            scored_total = _count([*counted, score.is_not(None)])
    page = min(max(1, q.page), max(1, -(-total // q.per_page)))
    offset = (page - 1) * q.per_page
    if search_key(q.text) and total >= _DENSE_MATCHES * (offset + q.per_page):
        filters = _filters(q, viewer, matches_drive=False)
    if q.sort == "score":
        ids = _score_page(filters, q, offset, scored_total)
    else:
        ids = _ids([*filters, _LISTED], _date_order(q.direction == "desc"), q.per_page, offset)
    items = _rows(ids, q.call_id)
    return TablePage(items=items, total=total, page=page, per_page=q.per_page,
                     overdue=deadlines.overdue_marks(items))


def countries(viewer: Any = None) -> list[str]:
    """The countries of the applicants ``viewer`` reaches, for the country filter."""
    return list(db.session.scalars(
        select(Organisation.country).where(organisation_scope(viewer)).distinct()
        .order_by(Organisation.country)
    ))
