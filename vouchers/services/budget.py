"""The budget rules funders audit: envelope, quota, and the de minimis cap and period.

The envelope and the quota are enforced by a conditional UPDATE whose WHERE clause is
the rule itself, so the check and the write are one statement: correct on SQLite and
PostgreSQL alike when two managers award at the same moment. The CHECK constraints on
call_voucher_types are the last line: the database refuses an over-commitment even if
this code is bypassed. The limits per undertaking (support, vouchers, de minimis) are
checked under the undertaking's own lock, in services/undertaking.py.
"""

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..extensions import db
from ..models import CallVoucherType
from .errors import BudgetExceeded, QuotaExceeded
from .wording import eur, in_sentence

DE_MINIMIS_CAP = Decimal("300000.00")
DE_MINIMIS_YEARS = 3


def reserve(cvt: CallVoucherType, amount: Decimal) -> None:
    """Commit ``amount`` and one voucher of the quota, or raise and change nothing."""
    t = CallVoucherType.__table__
    result = db.session.execute(
        update(t)
        .where(t.c.id == cvt.id)
        .where(t.c.committed + amount <= t.c.envelope)
        .where(t.c.awarded_count + 1 <= t.c.quota)
        .values(committed=t.c.committed + amount, awarded_count=t.c.awarded_count + 1)
    )
    if result.rowcount == 1:
        db.session.expire(cvt, ["committed", "awarded_count"])
        return
    committed, count, envelope, quota = db.session.execute(
        select(t.c.committed, t.c.awarded_count, t.c.envelope, t.c.quota).where(t.c.id == cvt.id)
    ).one()
    db.session.expire(cvt, ["committed", "awarded_count"])
    if count + 1 > quota:
        raise QuotaExceeded(_("The quota of %(quota)s %(type)s vouchers is used up "
                              "(%(count)s awarded).", quota=quota, type=in_sentence(cvt.label),
                              count=count))
    raise BudgetExceeded(_("Awarding %(amount)s would exceed the %(type)s envelope: "
                           "%(left)s of %(envelope)s remains.", amount=eur(amount),
                           type=in_sentence(cvt.label), left=eur(envelope - committed),
                           envelope=eur(envelope)))


def de_minimis_cap() -> Decimal:
    return Decimal(str(current_app.config.get("DE_MINIMIS_CAP", DE_MINIMIS_CAP)))


# The rolling period, decided here once: the award check (services/undertaking.py), the
# pages that say until when a declaration counts, and the funder's workbook all read it.


def de_minimis_period_start(day: date) -> date:
    """The last day before the rolling three years that end on ``day``.

    Aid counts on ``day`` if granted after this date: aid granted three calendar years
    and one day before no longer counts, aid three years less a day old still does. From
    29 February the period reaches back to the 28th (a year without 29 February has no
    same day), so aid of 1 March three years before, three years less a day old, counts.
    """
    try:
        return day.replace(year=day.year - DE_MINIMIS_YEARS)
    except ValueError:  # 29 February, three years back
        return day.replace(year=day.year - DE_MINIMIS_YEARS, day=28)


def counts_on(granted_on: date, day: date) -> bool:
    """Whether aid granted on ``granted_on`` counts towards the cap on ``day``."""
    return de_minimis_period_start(day) < granted_on <= day


def last_day_counted(granted_on: date) -> date:
    """The last day on which aid granted on ``granted_on`` still counts (the day before its
    third anniversary; aid of 29 February stops counting on 1 March)."""
    try:
        anniversary = granted_on.replace(year=granted_on.year + DE_MINIMIS_YEARS)
    except ValueError:
        anniversary = date(granted_on.year + DE_MINIMIS_YEARS, 3, 1)
    return anniversary - timedelta(days=1)


def de_minimis_period_opens(day: date, zone: tzinfo) -> datetime:
    """The first instant of the rolling period ending on ``day``, for comparing award
    times: an award counts if its local date is after de_minimis_period_start(day)."""
    first = de_minimis_period_start(day) + timedelta(days=1)
    return datetime.combine(first, time.min, tzinfo=zone).astimezone(UTC)
