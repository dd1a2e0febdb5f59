"""The budget rules funders audit: envelope, quota and the de minimis cap.

Each rule is enforced by a conditional UPDATE whose WHERE clause is the rule itself,
so the check and the write are one statement: correct on SQLite and PostgreSQL alike
when two managers award at the same moment. The CHECK constraints on
call_voucher_types are the last line: the database refuses an over-commitment even if
this code is bypassed.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import func, select, update

from workflows.lifecycle import CANCELLED, VOUCHER_STATES

from ..extensions import db
from ..models import Application, CallVoucherType, Organisation
from .errors import BudgetExceeded, DeMinimisExceeded, QuotaExceeded

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
        raise QuotaExceeded(
            f"The quota of {quota} {cvt.label.lower()} vouchers is used up "
            f"({count} awarded)."
        )
    raise BudgetExceeded(
        f"Awarding €{amount:,.2f} would exceed the {cvt.label.lower()} envelope: "
        f"€{envelope - committed:,.2f} of €{envelope:,.2f} remains."
    )


def release(cvt: CallVoucherType, amount: Decimal) -> None:
    """Give a cancelled voucher's amount and quota place back to the envelope."""
    t = CallVoucherType.__table__
    db.session.execute(
        update(t)
        .where(t.c.id == cvt.id)
        .values(committed=t.c.committed - amount, awarded_count=t.c.awarded_count - 1)
    )
    db.session.expire(cvt, ["committed", "awarded_count"])


def de_minimis_cap() -> Decimal:
    return Decimal(str(current_app.config.get("DE_MINIMIS_CAP", DE_MINIMIS_CAP)))


def de_minimis_received(organisation_id: int, at: datetime,
                        excluding: int | None = None) -> Decimal:
    """Aid awarded through this system to the undertaking over the rolling period."""
    since = at - timedelta(days=365 * DE_MINIMIS_YEARS + 1)
    a = Application
    total = db.session.scalar(
        select(func.coalesce(func.sum(a.awarded_amount), 0)).where(
            a.organisation_id == organisation_id,
            a.state.in_(VOUCHER_STATES),
            a.state != CANCELLED,
            a.awarded_at >= since,
            a.id != excluding if excluding is not None else True,
        )
    )
    return Decimal(total).quantize(Decimal("0.01"))


def check_de_minimis(application: Application, amount: Decimal, at: datetime) -> None:
    """Refuse awarding ``amount`` if it takes the undertaking over the de minimis cap.

    The update on the organisation row serialises concurrent awards to one
    undertaking (a row lock on PostgreSQL; SQLite serialises every writer anyway),
    so the sum below cannot be stale by the time the award is written.
    """
    organisation = application.organisation
    db.session.execute(
        update(Organisation)
        .where(Organisation.id == organisation.id)
        .values(award_lock=Organisation.award_lock + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(organisation, ["award_lock", "de_minimis_declared"])
    declared = organisation.de_minimis_declared
    received = de_minimis_received(organisation.id, at, excluding=application.id)
    cap = de_minimis_cap()
    if declared + received + amount > cap:
        raise DeMinimisExceeded(
            f"{organisation.legal_name} would receive €{declared + received + amount:,.2f} of "
            f"de minimis aid over {DE_MINIMIS_YEARS} years (declared €{declared:,.2f}, "
            f"awarded here €{received:,.2f}); the cap is €{cap:,.2f}."
        )
