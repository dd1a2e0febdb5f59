"""Setting up programmes: the funded scheme, its budget, dates and partner regions.

The partner regions are the default eligible regions of every call that does not name
its own (Call.regions), so changing them re-checks the eligibility of those calls'
applications. Like every service, these functions check who asks, flush, never commit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, update

from .. import policy
from ..clock import local_date
from ..extensions import db
from ..models import Call, CallVoucherType, Programme, User
from ..money import MAX_MONEY
from . import eligibility
from .call_specs import SetupRefused, checked_line, clean_regions, refuse_if
from .transaction import atomic

NOT_ALLOWED = "Only a programme manager sets up programmes and calls."


def _problems(name: str, funder: str, total_budget: Decimal | None, starts_on: date | None,
              ends_on: date | None, regions: list[list[str]]) -> tuple[list[str], list]:
    problems: list[str] = []
    checked_line(name, "the programme's name", problems, "Give the programme a name.")
    checked_line(funder, "the funder's name", problems, "Name the programme's funder.")
    if total_budget is None or total_budget < 0:
        problems.append("The total budget cannot be negative.")
    elif total_budget > MAX_MONEY:
        problems.append("The total budget is too large.")
    if starts_on is None or ends_on is None:
        problems.append("Say when the programme starts and ends.")
    elif ends_on <= starts_on:
        problems.append("The programme must end after it starts.")
    return problems, clean_regions(regions or [], problems)


def create_programme(by: User, *, name: str, funder: str, total_budget: Decimal,
                     starts_on: date, ends_on: date,
                     regions: list[list[str]] | None = None) -> Programme:
    policy.ensure(policy.can_manage(by), NOT_ALLOWED)
    problems, regions = _problems(name, funder, total_budget, starts_on, ends_on, regions)
    refuse_if(problems)
    with atomic():
        programme = Programme(name=name.strip(), funder=funder.strip(), currency="EUR",
                              total_budget=total_budget, starts_on=starts_on, ends_on=ends_on,
                              regions=regions)
        db.session.add(programme)
    return programme


def update_programme(programme: Programme, by: User, *, name: str, funder: str,
                     total_budget: Decimal, starts_on: date, ends_on: date,
                     regions: list[list[str]] | None = None) -> Programme:
    """Change a programme. Refused, changing nothing: a budget below the calls'
    envelopes, an end before a call closes or before a call's implementation period ends."""
    policy.ensure(policy.can_manage(by), NOT_ALLOWED)
    problems, regions = _problems(name, funder, total_budget, starts_on, ends_on, regions)
    refuse_if(problems)
    with atomic():
        # Locked first, then the calls read as committed: a call being created or edited
        # at this moment waits for this change (or this one for it) and checks against it.
        lock_programme(programme)
        calls = list(db.session.scalars(
            select(Call).where(Call.programme_id == programme.id)
            .execution_options(populate_existing=True)))
        for call in calls:
            if ends_on < local_date(call.closes_at):
                problems.append(f"Call {call.code} closes on {local_date(call.closes_at):%d %B %Y}"
                                "; the programme cannot end before that.")
            elif call.implementation_ends_on and ends_on < call.implementation_ends_on:
                problems.append(f"The activities of call {call.code} may run until "
                                f"{call.implementation_ends_on:%d %B %Y}; the programme cannot "
                                "end before that.")
        refuse_if(problems)
        # Only the calls that read them: a call naming its own regions is not affected.
        regions_changed = [list(r) for r in programme.regions or []] != regions
        ends_changed = programme.ends_on != ends_on
        programme.name, programme.funder = name.strip(), funder.strip()
        programme.total_budget = total_budget
        programme.starts_on, programme.ends_on = starts_on, ends_on
        programme.regions = regions
        db.session.flush()
        check_programme_budget(programme)
        for call in calls:
            if ((regions_changed and call.eligible_regions is None)
                    or (ends_changed and call.implementation_ends_on is None)):
                refresh_eligibility(call)
    return programme


def lock_programme(programme: Programme) -> None:
    """Take the programme's row lock (PostgreSQL; SQLite serialises writers anyway)."""
    db.session.execute(update(Programme).where(Programme.id == programme.id)
                       .values(total_budget=Programme.total_budget))


def last_day(programme: Programme) -> date:
    """The programme's last day as committed (read after lock_programme)."""
    return db.session.scalar(select(Programme.ends_on).where(Programme.id == programme.id))


def check_programme_budget(programme: Programme) -> None:
    """Refuse envelopes that together promise more than the programme's budget.

    Runs inside the change's savepoint, after its writes: the update takes the
    programme's row lock on PostgreSQL (SQLite serialises writers anyway), so two
    managers editing calls of one programme at once cannot both squeeze in.
    """
    lock_programme(programme)
    promised = db.session.scalar(
        select(func.coalesce(func.sum(CallVoucherType.envelope), 0))
        .join(Call, Call.id == CallVoucherType.call_id)
        .where(Call.programme_id == programme.id)
    )
    if promised > programme.total_budget:
        raise SetupRefused([
            f"The envelopes of the calls of {programme.name} would add up to "
            f"€{promised:,.2f}, more than its budget of €{programme.total_budget:,.2f}."
        ])


def refresh_eligibility(call: Call) -> None:
    """Re-check the applications of ``call`` against its rules as they now stand."""
    eligibility.refresh_call(call)
