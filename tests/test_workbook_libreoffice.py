"""A workbook exported from the database, recalculated by LibreOffice, adds up to the cent.

openpyxl stores formulas without results, so only a real spreadsheet proves the Summary's
totals row sums the right ranges. LibreOffice converts the exported file headless, which
computes every formula, and the values it stored are compared with the database's totals.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, CallVoucherType
from vouchers.services import payments
from vouchers.services.workbook import COMMAND_LINE, budget_export
from workflows.lifecycle import VOUCHER_STATES

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
CENT = Decimal("0.01")

pytestmark = pytest.mark.libreoffice


@pytest.fixture
def soffice() -> str:
    if SOFFICE is None:
        reason = "LibreOffice (soffice) not installed"
        if os.environ.get("REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"{reason}, and REQUIRE_LIBREOFFICE=1 says this test must run")
        pytest.skip(reason)
    return SOFFICE


def recalculate(soffice: str, source, tmp_path):
    out = tmp_path / "recalculated"
    # A private profile per run: parallel runs sharing the default one block each other.
    profile = (tmp_path / "profile").as_uri()
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
         "--convert-to", "xlsx", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=180,
    )
    converted = out / source.name
    assert result.returncode == 0 and converted.exists(), result.stdout + result.stderr
    return converted


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_libreoffice_totals_equal_the_database(make, soffice, tmp_path):
    call = make.call()
    manager = make.manager()
    mv = call.voucher_type("market_validation")
    tr = call.voucher_type("travel")
    # Cents that binary floating point cannot hold exactly.
    make.application("paid", mv, manager=manager, amount="30000.01")
    make.application("awarded", mv, manager=manager, amount="12345.67")
    partly = make.application("completed", mv, manager=manager, amount="40000.99")
    payments.record_payment(partly, manager, "1234.56", paid_on=today(), reference="P-1")
    db.session.commit()
    make.application("cancelled", mv, manager=manager, amount="10000.10")
    make.application("paid", tr, manager=manager, amount="2500.13", costs="2500.13")
    make.application("awarded", tr, manager=manager, amount="0.07")
    for state in ("rejected", "submitted", "draft"):
        make.application(state, mv)

    source = tmp_path / "book.xlsx"
    with budget_export(call) as export:
        export.write(str(source), generated_by=COMMAND_LINE)
    converted = recalculate(soffice, source, tmp_path)

    ws = load_workbook(converted, data_only=True)["Summary"]
    total_row = len(call.voucher_types) + 2
    assert ws[f"A{total_row}"].value == "Total"
    computed = {ws.cell(1, col).value: ws.cell(total_row, col).value for col in range(2, 11)}
    # openpyxl writes no cached results, so every value here was computed by LibreOffice.
    assert None not in computed.values(), computed

    a, t = Application, CallVoucherType
    live = a.state.in_(VOUCHER_STATES)
    committed, paid, awarded = db.session.execute(
        select(func.coalesce(func.sum(a.awarded_amount), 0), func.coalesce(
            func.sum(a.paid_amount), 0), func.count())
        .where(a.call_id == call.id, live)
    ).one()
    received = db.session.scalar(
        select(func.count()).where(a.call_id == call.id, a.submitted_at.is_not(None),
                                   a.state != "draft"))
    drafts = db.session.scalar(select(func.count()).where(a.call_id == call.id,
                                                          a.state == "draft"))
    quota, envelope = db.session.execute(
        select(func.sum(t.quota), func.sum(t.envelope)).where(t.call_id == call.id)
    ).one()
    assert (committed, paid, awarded) == (Decimal("84846.87"), Decimal("33734.70"), 5)

    assert cents(computed["Committed"]) == committed
    assert cents(computed["Paid"]) == paid
    assert cents(computed["Outstanding"]) == committed - paid
    assert cents(computed["Remaining envelope"]) == envelope - committed
    assert computed["Quota"] == quota
    assert (received, drafts) == (8, 1)
    assert computed["Applications received"] == received
    assert computed["Drafts (not received)"] == drafts
    assert computed["Awarded"] == awarded
    assert computed["Remaining quota"] == quota - awarded
