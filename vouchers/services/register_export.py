"""The de minimis register's rows, for the workbook's sheet and the CSV download.

One row per award entered in the register (services/aid_register.record_grant): the
facts as granted (the undertaking's name, country, VAT and registry numbers, the granting
authority, the date and amount, the regulation) and the aid after close-out, read from
the voucher now: the award less what close-out or cancellation released. A cancelled
voucher stays listed, with what the undertaking kept (an advance not yet recovered), so
the register shows every grant and what became of it.

The rows are read as plain tuples (no ORM objects), one query whatever their number; the
CSV covers one call or a whole programme, the workbook's sheet its export's scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from werkzeug.utils import secure_filename

from exports import DeMinimisRow
from exports.de_minimis_csv import encode, register_csv

from ..extensions import db
from ..models import Application, Call, DeMinimisGrant, Programme
from ..models.base import utcnow


@dataclass(frozen=True)
class RegisterFile:
    filename: str
    data: bytes


def grants_select(*conditions: Any) -> Select:
    """The register's columns for the awards of applications matching ``conditions``,
    in the order granted (and, within a day, awarded)."""
    a, g = Application, DeMinimisGrant
    return (
        select(a.id, a.organisation_id, a.awarded_at, a.awarded_amount, a.released_amount,
               a.reference, g.undertaking, g.country, g.vat_number, g.registry_number,
               g.granting_authority, g.granted_on, g.amount, g.regulation)
        .join(g, g.application_id == a.id)
        .where(*conditions)
        .order_by(g.granted_on, a.awarded_at, a.id)
    )


def register_row(row: Any, **rolling: Any) -> DeMinimisRow:
    """A row of :func:`grants_select` as the register's row (``rolling``: the workbook's
    rolling figures)."""
    return DeMinimisRow(
        undertaking=row.undertaking,
        country=row.country,
        vat_number=row.vat_number,
        registry_number=row.registry_number,
        granting_authority=row.granting_authority,
        award_date=row.granted_on,
        aid_amount=row.amount,
        aid_after_close_out=row.awarded_amount - row.released_amount,
        regulation=row.regulation,
        voucher_reference=row.reference,
        **rolling,
    )


def register_rows(*conditions: Any) -> Iterator[DeMinimisRow]:
    for row in db.session.execute(grants_select(*conditions)):
        yield register_row(row)


def _file(name: str, rows: Iterator[DeMinimisRow], currency: str,
          now: datetime | None) -> RegisterFile:
    at = (now or utcnow()).astimezone(UTC)
    # Call codes and programme names are typed by managers: the name must stay plain.
    filename = secure_filename(f"{name}-de-minimis-register-{at:%Y%m%d}.csv")
    return RegisterFile(filename, encode(register_csv(rows, currency=currency)))


def call_register(call: Call, now: datetime | None = None) -> RegisterFile:
    """The register's CSV of one call's awards."""
    rows = register_rows(Application.call_id == call.id)
    name = secure_filename(call.code) or f"call-{call.id}"
    return _file(name, rows, call.programme.currency, now)


def programme_register(programme: Programme, now: datetime | None = None) -> RegisterFile:
    """The register's CSV of every award of the programme's calls."""
    calls = select(Call.id).where(Call.programme_id == programme.id)
    rows = register_rows(Application.call_id.in_(calls))
    name = secure_filename(programme.name) or f"programme-{programme.id}"
    return _file(name, rows, programme.currency, now)
